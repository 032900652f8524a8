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
//! let options = blastradius::synth::Options { size: 1 << 20, seed: 1 };
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
    /// The seed: the same seed and size give the same bytes.
    pub seed: u64,
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
