//! What a generated log contains, counted while it is written: the answers a scan must give.

use super::ops::Outcome;
use super::plan::Estate;

/// The ground truth of a generated log.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroundTruth {
    /// The seed.
    pub seed: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Lines written (two per request).
    pub lines: u64,
    /// Logical requests: each is a request entry and its response entry.
    pub requests: u64,
    /// Successful reads of secret material (KV reads and lists, dynamic credentials).
    pub secret_reads: u64,
    /// Distinct secret paths read (namespace-qualified).
    pub distinct_secrets: usize,
    /// Tenants whose secrets were read, sorted.
    pub tenants: Vec<String>,
    /// Requests refused by policy.
    pub denials: u64,
    /// Logins that issued no token.
    pub failed_logins: u64,
    /// Tokens issued by logins and `auth/token/create`.
    pub tokens_issued: u64,
    /// The widespread reader: one token reading every tenant's KV v2 secrets.
    pub widespread_reader: Attacker,
    /// The denial burst: failed logins, then reads refused by policy, from one address.
    pub denial_burst: Attacker,
}

/// An injected attack's actor.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attacker {
    /// The client address.
    pub remote_address: String,
    /// The HMAC of the token's accessor (`hmac-sha256:...`).
    pub accessor: String,
    /// Requests made with the token (reads for the reader, denials for the burst).
    pub requests: u64,
    /// Failed logins before the token was obtained.
    pub failed_logins: u64,
}

/// Counts outcomes as entries are written.
pub(crate) struct Tally {
    pub truth: GroundTruth,
    secrets_read: Vec<bool>,
    tenants_read: Vec<bool>,
}

impl Tally {
    pub(crate) fn new(seed: u64, estate: &Estate) -> Tally {
        Tally {
            truth: GroundTruth {
                seed,
                ..GroundTruth::default()
            },
            secrets_read: vec![false; estate.secrets.len()],
            tenants_read: vec![false; estate.tenants.len()],
        }
    }

    /// Counts one written entry pair of `bytes` bytes.
    pub(crate) fn record(&mut self, estate: &Estate, outcome: &Outcome, bytes: usize) {
        let t = &mut self.truth;
        t.bytes += bytes as u64;
        t.lines += 2;
        t.requests += 1;
        match outcome {
            Outcome::SecretRead(i) => {
                t.secret_reads += 1;
                self.secrets_read[*i] = true;
                self.tenants_read[estate.secrets[*i].tenant] = true;
            }
            Outcome::Denied => t.denials += 1,
            Outcome::FailedLogin => t.failed_logins += 1,
            Outcome::Issued(_) => t.tokens_issued += 1,
            Outcome::Other => {}
        }
    }

    /// The truth, with the distinct counts filled in.
    pub(crate) fn finish(mut self, estate: &Estate) -> GroundTruth {
        self.truth.distinct_secrets = self.secrets_read.iter().filter(|&&r| r).count();
        let mut tenants: Vec<String> = estate
            .tenants
            .iter()
            .zip(&self.tenants_read)
            .filter(|(_, read)| **read)
            .map(|(t, _)| t.name.clone())
            .collect();
        tenants.sort();
        self.truth.tenants = tenants;
        self.truth
    }
}
