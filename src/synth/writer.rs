//! The generation loop: background traffic, the two attacks at their place, and a buffered,
//! streamed output (memory does not grow with the size of the log).

use std::io::{BufWriter, Write};

use super::builders::Entry;
use super::format::TimeFormatter;
use super::ops::{Actors, LoginPlan, Outcome, build};
use super::plan::{
    Estate, LoginOutcome, Op, Origin, Token, TokenRef, client_address, login_origin, next_op,
};
use super::truth::{Attacker, GroundTruth, Tally};
use super::{Options, SynthError, pick, rng};

/// 2026-11-02T00:00:00Z, in nanoseconds since the epoch: the log's first entry.
const START: u64 = 1_793_577_600 * 1_000_000_000;
const MILLI: u64 = 1_000_000;
/// Tokens logged in before the first background request.
const BOOTSTRAP_LOGINS: usize = 16;
const READER_ADDRESS: &str = "198.51.100.23";
const BURST_ADDRESS: &str = "203.0.113.66";
/// Failed logins of the denial-burst attacker before it gets in.
const GUESSES: usize = 12;
/// Requests the denial-burst attacker makes after logging in.
const DENIED_READS: usize = 40;

/// Where a token issued by a login goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    /// The background pool: any later request may use it.
    Pool,
    /// The current attack's token, used only by the attack.
    Attacker,
}

struct Generator<W: Write> {
    rng: rand_pcg::Pcg64Mcg,
    estate: Estate,
    sink: BufWriter<W>,
    entry: Entry,
    line: Vec<u8>,
    clock: TimeFormatter,
    now: u64,
    tally: Tally,
    attacker: Option<Token>,
    /// Background requests per second, when the shape sets a pace.
    rate: Option<u32>,
}

/// The widespread reader reads at most this many KV v2 secrets (all of them in the default
/// shape), spread over the tenants: a minute of reads, not hours, in a big estate.
const MAX_READER_TARGETS: usize = 224;

/// Writes a log of at least `options.size` bytes to `out`; returns what it contains.
pub fn generate<W: Write>(options: &Options, out: W) -> Result<GroundTruth, SynthError> {
    let mut rng = rng(options.seed);
    let mut estate = Estate::new(&mut rng, &options.shape);
    if options.shape.tokens.is_some() {
        estate.prefill(&mut rng, START);
    }
    let tally = Tally::new(options.seed, &estate);
    let mut g = Generator {
        rng,
        estate,
        sink: BufWriter::with_capacity(1 << 20, out),
        entry: Entry::default(),
        line: Vec::with_capacity(16 << 10),
        clock: TimeFormatter::default(),
        now: START,
        tally,
        attacker: None,
        rate: options.shape.rate,
    };
    for _ in 0..BOOTSTRAP_LOGINS {
        if !g.estate.may_issue() {
            break;
        }
        let plan = LoginPlan {
            origin: login_origin(&mut g.rng),
            remote_address: client_address(&mut g.rng),
        };
        g.run(Op::Login(LoginOutcome::Issued), Some(plan), 40 * MILLI)?;
    }
    let reader_at = options.size / 10 * 3;
    let burst_at = options.size / 10 * 6;
    let mut reader = None;
    let mut burst = None;
    while g.tally.truth.bytes < options.size || reader.is_none() || burst.is_none() {
        let written = g.tally.truth.bytes;
        if reader.is_none() && written >= reader_at {
            reader = Some(g.widespread_reader()?);
        } else if burst.is_none() && written >= burst_at {
            burst = Some(g.denial_burst()?);
        } else {
            g.background()?;
        }
    }
    g.sink.flush()?;
    let mut truth = g.tally.finish(&g.estate);
    truth.widespread_reader = reader.unwrap_or_default();
    truth.denial_burst = burst.unwrap_or_default();
    Ok(truth)
}

impl<W: Write> Generator<W> {
    /// One background request, 0-40 ms after the previous one.
    fn background(&mut self) -> Result<(), SynthError> {
        let op = next_op(&mut self.rng, &self.estate);
        let plan = match op {
            Op::Login(LoginOutcome::Issued) => Some(LoginPlan {
                origin: login_origin(&mut self.rng),
                remote_address: client_address(&mut self.rng),
            }),
            // Mostly users mistyping passwords; now and then an AppRole with a stale secret id.
            Op::Login(LoginOutcome::Failed) => Some(LoginPlan {
                origin: if pick(&mut self.rng, 10) == 0 {
                    Origin::AppRole { role: "batch" }
                } else {
                    Origin::Userpass {
                        user: format!("user{:03}", pick(&mut self.rng, 200)),
                    }
                },
                remote_address: client_address(&mut self.rng),
            }),
            _ => None,
        };
        let gap = match self.rate {
            None => pick(&mut self.rng, 40) as u64 * MILLI,
            Some(rate) => pick(&mut self.rng, period(rate)) as u64,
        };
        self.run(op, plan, gap)
    }

    /// A stolen AppRole secret id: one login, then every tenant's KV v2 secrets, ~100 ms apart.
    fn widespread_reader(&mut self) -> Result<Attacker, SynthError> {
        let plan = LoginPlan {
            origin: Origin::AppRole { role: "ci" },
            remote_address: READER_ADDRESS.to_string(),
        };
        self.run_keeping(
            Op::Login(LoginOutcome::Issued),
            Some(plan),
            500 * MILLI,
            Keep::Attacker,
        )?;
        let all = self.estate.kv2_reads();
        let targets: Vec<usize> = if all.len() <= MAX_READER_TARGETS {
            all
        } else {
            (0..MAX_READER_TARGETS)
                .map(|i| all[i * all.len() / MAX_READER_TARGETS])
                .collect()
        };
        for &secret in &targets {
            let gap = (50 + pick(&mut self.rng, 100) as u64) * MILLI;
            let op = Op::Read {
                secret,
                token: TokenRef::Attacker,
            };
            self.run(op, None, gap)?;
        }
        Ok(self.finish_attack(READER_ADDRESS, targets.len() as u64, 0))
    }

    /// Password guessing against `admin`, a login as a real user, then reads refused by policy.
    fn denial_burst(&mut self) -> Result<Attacker, SynthError> {
        for _ in 0..GUESSES {
            let plan = LoginPlan {
                origin: Origin::Userpass {
                    user: "admin".to_string(),
                },
                remote_address: BURST_ADDRESS.to_string(),
            };
            let gap = (1000 + pick(&mut self.rng, 2000) as u64) * MILLI;
            self.run(Op::Login(LoginOutcome::Failed), Some(plan), gap)?;
        }
        let plan = LoginPlan {
            origin: Origin::Userpass {
                user: "user042".to_string(),
            },
            remote_address: BURST_ADDRESS.to_string(),
        };
        self.run_keeping(
            Op::Login(LoginOutcome::Issued),
            Some(plan),
            800 * MILLI,
            Keep::Attacker,
        )?;
        for _ in 0..DENIED_READS {
            let secret = pick(&mut self.rng, self.estate.secrets.len());
            let gap = (100 + pick(&mut self.rng, 300) as u64) * MILLI;
            let op = Op::Denied {
                secret,
                token: TokenRef::Attacker,
            };
            self.run(op, None, gap)?;
        }
        Ok(self.finish_attack(BURST_ADDRESS, DENIED_READS as u64, GUESSES as u64))
    }

    fn finish_attack(&mut self, address: &str, requests: u64, failed_logins: u64) -> Attacker {
        let token = self.attacker.take().expect("the attack logged in");
        Attacker {
            remote_address: address.to_string(),
            accessor: format!("hmac-sha256:{}", String::from_utf8_lossy(&token.accessor)),
            requests,
            failed_logins,
        }
    }

    /// Writes one entry pair, then moves the clock `gap` past the response.
    fn run(&mut self, op: Op, login: Option<LoginPlan>, gap: u64) -> Result<(), SynthError> {
        self.run_keeping(op, login, gap, Keep::Pool)
    }

    /// Like [`Generator::run`]; an issued token goes where `keep` says.
    fn run_keeping(
        &mut self,
        op: Op,
        login: Option<LoginPlan>,
        gap: u64,
        keep: Keep,
    ) -> Result<(), SynthError> {
        let actors = Actors {
            estate: &self.estate,
            attacker: self.attacker.as_ref(),
        };
        let outcome = build(&mut self.entry, &mut self.rng, &actors, op, login, self.now);
        let latency = match self.rate {
            None => (200 + pick(&mut self.rng, 2800) as u64) * 1000,
            // A quarter to three quarters of the mean period, to the nanosecond.
            Some(rate) => (period(rate) / 4 + pick(&mut self.rng, period(rate) / 2)) as u64,
        };
        let request_at = self.now;
        let response_at = request_at + latency;
        self.line.clear();
        self.entry
            .write_pair(&mut self.line, &mut self.clock, request_at, response_at);
        self.sink.write_all(&self.line)?;
        self.tally.record(&self.estate, &outcome, self.line.len());
        self.now = response_at + gap;
        if let Outcome::Issued(token) = outcome {
            match keep {
                Keep::Attacker => self.attacker = Some(*token),
                Keep::Pool => self.estate.admit(&mut self.rng, *token),
            }
        }
        Ok(())
    }
}

/// The mean time between requests at `rate` per second, in nanoseconds: the gap after a
/// response is drawn from `0..period` and the latency from a quarter to three quarters of it,
/// so a request starts every `period` on average.
fn period(rate: u32) -> usize {
    (1_000_000_000 / u64::from(rate)).max(4) as usize
}
