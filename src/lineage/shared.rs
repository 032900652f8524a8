//! One lineage state for all workers.
//!
//! The lineage keeps a record per distinct token, form, string and secret path, and every
//! worker of a scan sees nearly all of them: with a state per worker, two workers held two
//! copies of the log's distinct values until the end of the scan, and merging them held a
//! third for a moment while the merged tables grew (on the 10 GB busy-cluster log of
//! docs/performance.md, `scan -j2` peaked at 529–558 MiB with a state per worker and at
//! 479–482 MiB with this one).
//! With [`Sharing::Workers`], the workers' entries go into one state behind a lock instead
//! (held for one entry's observation), and the first merge after the workers stop takes that
//! state over whole.
//!
//! Counts, earliest places and times do not depend on the order in which workers take the
//! lock. What a token record keeps first (its display name, policies and first eight client
//! addresses) does, as it did with a state per worker, where it depended on which worker read
//! which chunk: Vault writes the same attributes on every request of one token, and with one
//! worker the order is the log's.

use std::sync::{Mutex, PoisonError};

use super::LineageState;

/// Where a state's observations go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// Into the state itself.
    #[default]
    Own,
    /// Into the state all workers share: the state itself stays empty until a merge.
    Shared,
}

/// Whether workers share one lineage state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// A state per worker, merged at the end (the library's default).
    PerWorker,
    /// One state for every worker of a scan.
    Workers,
}

/// The state the workers share.
#[derive(Default)]
pub struct SharedState(Mutex<LineageState>);

impl SharedState {
    /// Runs `f` on the shared state, holding its lock.
    pub fn with<R>(&self, f: impl FnOnce(&mut LineageState) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Takes out what the workers wrote so far, leaving an empty state.
    pub fn take(&self) -> LineageState {
        self.with(std::mem::take)
    }
}
