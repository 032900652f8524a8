//! Synthetic audit logs: a deterministic generator of realistic OpenBao 2.7 file-device logs of
//! any size, with a ground truth to check analyses against, for benchmarks and tests.
//!
//! The log is a busy multi-tenant cluster: application tokens log in (AppRole, userpass) and
//! read their own tenant's secrets (KV v1 and v2 reads and lists, database and AWS credentials,
//! PKI certificates with leases), write KV secrets, look themselves up, renew leases and create
//! child tokens; some logins fail and some requests are denied. Tenants are path segments in the
//! root namespace (`kv/data/tenant-07/db`) or namespaces of their own (`blue/`). Two attacks are
//! injected, at 30% and 60% of the requested size: a *widespread reader* (a stolen AppRole
//! login from `198.51.100.23` that reads every tenant's KV v2 secrets within a minute) and a
//! *denial burst* (a password-guessing run from `203.0.113.66`, then a login and a burst of
//! reads refused by policy).
//!
//! Every entry pair is a request entry then its response entry; tokens, accessors and values are
//! `hmac-sha256:<64 hex>` strings; request ids are unique. The same seed and size give the same
//! bytes: the only source of variation is a PCG generator seeded from `seed`, and the output is
//! at least `size` bytes, ending with a whole entry pair.
//!
//! ```no_run
//! let options = blastradius::synth::Options::new(1 << 20, 1);
//! let file = std::fs::File::create("audit.log")?;
//! let truth = blastradius::synth::generate(&options, file)?;
//! println!("{} secret reads", truth.secret_reads);
//! # Ok::<(), blastradius::synth::SynthError>(())
//! ```

mod builders;
mod format;
mod ops;
mod plan;
mod truth;
mod writer;

pub use truth::{Attacker, GroundTruth};
pub use writer::generate;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Bytes to write at least (the last entry pair is completed).
    pub size: u64,
    /// The seed: the same seed, size and shape give the same bytes.
    pub seed: u64,
    /// Cardinalities and pace; the default is the original small cluster.
    pub shape: Shape,
}

impl Options {
    /// `size` bytes from `seed`, in the default shape.
    pub fn new(size: u64, seed: u64) -> Options {
        Options {
            size,
            seed,
            shape: Shape::default(),
        }
    }
}

/// The cardinalities and pace of the simulated cluster. `None` keeps the default shape's value
/// (and its exact bytes): 48 tokens in use, 28 tenants (24 path tenants, 4 namespaces), 444
/// secret paths, requests 0-40 ms apart with microsecond latencies.
///
/// A busy cluster, as issue 18 describes it: `tokens: Some(20_000), tenants: Some(2_000),
/// secrets: Some(16_000), rate: Some(1_000)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Tokens in use at once. Tokens beyond the default pool were issued before the log
    /// starts (no login line); logins still replace a random one.
    pub tokens: Option<usize>,
    /// Tenants in all: up to four are namespaces, the rest path segments in the root namespace.
    pub tenants: Option<usize>,
    /// Distinct secret paths, about (namespaces keep their nine; the rest is spread evenly
    /// over the path tenants, at least one each).
    pub secrets: Option<usize>,
    /// Background requests per second; times then have nanosecond fractions.
    pub rate: Option<u32>,
    /// Distinct tokens over the whole log, at most (the pool's included): once that many have
    /// been issued, logins and `auth/token/create` draws become token lookups, so the log keeps
    /// its pace and mix of reads but stops minting tokens. The two attackers' tokens are issued
    /// anyway. `None`: no bound, tokens churn for as long as the log runs.
    pub distinct_tokens: Option<usize>,
}

impl Shape {
    /// The busy cluster of issue 18: 20,000 tokens, 2,000 tenants, 16,000 secret paths,
    /// 1,000 requests per second.
    pub fn busy() -> Shape {
        Shape {
            tokens: Some(20_000),
            tenants: Some(2_000),
            secrets: Some(16_000),
            rate: Some(1_000),
            distinct_tokens: None,
        }
    }
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Writing the output failed.
    #[error("cannot write the generated log: {0}")]
    Write(#[from] std::io::Error),
}

/// The generator's only source of randomness. PCG's output for a seed is fixed by its
/// specification, so generated logs do not change with crate versions.
fn rng(seed: u64) -> rand_pcg::Pcg64Mcg {
    <rand_pcg::Pcg64Mcg as rand_core::SeedableRng>::seed_from_u64(seed)
}

/// A uniform draw from `0..n` (n > 0), by multiply-and-shift: the bias (below 2^-40 for the
/// small `n` used here) does not matter for synthetic data, and it needs no rejection loop.
fn pick(rng: &mut impl rand_core::Rng, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests;
