//! One pass over all inputs: producers split inputs into chunks, a pool of workers parses and
//! analyses them, and a merge step puts order back where it matters.
//!
//! ```text
//! producer threads (mmap | read | gzip | stdin) --chunks--> rayon workers (per-thread state)
//!     --> merge: line numbers, request/response pairing across chunks, gaps, findings, scope
//! ```
//!
//! Inputs are analysed in phases, one after another (`read_order`); the producers of later
//! compressed phases run ahead of the analysis into bounded queues (`ahead`).
//!
//! Per-thread state is merged in any order; everything that depends on order (line numbers,
//! timelines, pairing across chunk boundaries) travels in small per-chunk summaries sorted at the
//! end. A single large file is split into chunks, so it uses every core. What every worker would
//! hold a copy of (the secrets table, the correlation groups, an extension's shared state such as
//! the lineage's) is one state written under a lock, which the first merge takes over
//! (`Worker::take_shared`).

pub mod activity;
mod ahead;
mod analysis;
pub mod carry;
mod counts;
mod dedup;
mod finish;
mod pairing;
mod plausible;
pub mod result;
mod trim;
mod truncation;
mod worker;

use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, PoisonError, mpsc};

pub use analysis::Stats;
pub use carry::{Carry, FileProgress};
pub use plausible::{BadTime, TimeBounds, TimeFault, TimeRead};
pub use result::{InputRecord, Locator, MalformedRecord, ScanResult};

use crate::detect::Detector;
use crate::model::{Entry, Loc, Span, TimeWindow};
use crate::persist::PersistError;
use crate::source::{Chunk, Input, MapSlot, ReadOptions, SourceError};
use crate::tenant::TenantMap;
use dedup::Dedup;
use worker::Worker;

/// Everything that shapes one scan.
#[derive(Clone, Debug)]
pub struct ScanSettings {
    /// How inputs are read.
    pub read: ReadOptions,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// `--since`/`--until`.
    pub window: TimeWindow,
    /// Entry times outside these bounds are impossible: counted, located, treated as untimed
    /// (default: 2015-01-01 to a day after the wall clock).
    pub plausible: TimeBounds,
    /// Quiet periods longer than this are gaps.
    pub gap: Span,
    /// Reordering tolerated between consecutive lines.
    pub skew: Span,
    /// A seal this long before a quiet period explains it.
    pub seal_window: Span,
    /// A request without response this close to the end of its input is carried to the next
    /// incremental run, which may still see the response.
    pub response_grace: Span,
    /// A request without response this close to its input's last entry is listed as
    /// `possibly-in-flight`.
    pub in_flight: Span,
    /// Caps on what findings keep.
    pub caps: crate::detect::Caps,
    /// Malformed lines listed in the report.
    pub malformed_samples: usize,
    /// Readers listed per secret (`--max-readers`).
    pub readers: crate::scope::ReaderCap,
    /// `--device` rules: which inputs are one audit device (see [`crate::source::device`]).
    pub device_rules: Vec<crate::source::DeviceRule>,
    /// Whether the pass keeps the breach-scope table of every secret read.
    pub secret_table: SecretTable,
}

/// Whether a pass keeps [`crate::scope::SecretTable`]: a record per distinct secret path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecretTable {
    /// `scan`: the report lists every secret read.
    #[default]
    Keep,
    /// `blast` and `rotation-list`: their reports follow the pivots' lineage, whose reads the
    /// lineage state holds; the table would be a second copy of every path, never shown.
    Skip,
}

impl ScanSettings {
    /// The worker threads to run: `threads`, or one per core when it is 0.
    pub fn worker_threads(&self) -> usize {
        worker_threads(self.threads)
    }
}

/// The threads `--threads n` runs: `n`, or one per core when it is 0.
pub fn worker_threads(n: usize) -> usize {
    match n {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            read: ReadOptions::default(),
            threads: 0,
            window: TimeWindow::default(),
            plausible: TimeBounds::default(),
            gap: Span::from_secs(300),
            skew: Span::from_secs(1),
            seal_window: Span::from_secs(60),
            response_grace: Span::from_secs(60),
            in_flight: Span::from_secs(5),
            caps: Default::default(),
            malformed_samples: 100,
            readers: Default::default(),
            device_rules: Vec::new(),
            secret_table: SecretTable::Keep,
        }
    }
}

/// Extra per-entry analysis that rides along the same pass (token lineage, export ...).
///
/// `entry` sees every entry in the window, requests and responses, after de-duplication; within a
/// chunk in file order, across chunks and threads in any order. `logical` sees each logical
/// request once: the response entry, other entry types, and requests that have no response.
pub trait Extension: Sync {
    /// Per-thread state (which may stand for a state the workers share, as the lineage's does).
    type State: Send;
    /// Fresh state for a thread.
    fn new_state(&self) -> Self::State;
    /// One entry.
    fn entry(&self, _state: &mut Self::State, _ev: &Entry<'_>, _loc: Loc) {}
    /// One logical request; `access` is its secret read ([`crate::model::secret::secret_access`]),
    /// found once for every analysis.
    fn logical(
        &self,
        _state: &mut Self::State,
        _ev: &Entry<'_>,
        _access: Option<&crate::model::secret::SecretAccess<'_>>,
        _loc: Loc,
    ) {
    }
    /// A request whose response is in no input (after [`Extension::logical`] saw it): worst
    /// case it succeeded.
    fn unanswered(&self, _state: &mut Self::State, _ev: &Entry<'_>, _loc: Loc) {}
    /// Another copy of a response entry already counted from another input (another audit
    /// device writes the same event with its own HMACs, or a copy of the same file). Lets an
    /// extension learn the other device's forms of the same identities, and take evidence from
    /// the earliest copy; it must not count the entry again.
    fn duplicate(&self, _state: &mut Self::State, _ev: &Entry<'_>, _loc: Loc) {}
    /// A chunk is done (e.g. flush buffered rows).
    fn chunk_done(&self, _state: &mut Self::State, _file: u32, _chunk: u32) {}
    /// Merges two threads' states.
    fn merge(&self, into: &mut Self::State, other: Self::State);
    /// Saves the merged state for the next incremental run; `absolute` rewrites locations.
    fn save(
        &self,
        _state: &Self::State,
        _absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<serde_json::Value, PersistError> {
        Ok(serde_json::Value::Null)
    }
    /// True when [`Extension::entry`] must see request entries fully parsed. Otherwise request
    /// entries take the fast path (time and id only) and `entry` sees responses and others.
    fn wants_requests(&self) -> bool {
        false
    }
    /// Restores state saved by [`Extension::save`] (its [`crate::persist::Persisted`] state
    /// as JSON, so that the carry need not know the extension's type).
    fn restore(&self, _saved: serde_json::Value) -> Result<Self::State, PersistError> {
        Ok(self.new_state())
    }
}

/// No extension.
impl Extension for () {
    type State = ();
    fn new_state(&self) {}
    fn merge(&self, _: &mut (), _: ()) {}
}

/// Shared, read-only context of the workers.
pub(crate) struct Context<'a, E: Extension> {
    pub settings: &'a ScanSettings,
    pub detector: &'a Detector<'a>,
    pub tenants: &'a TenantMap,
    pub ext: &'a E,
    pub dedup: Option<Dedup>,
    pub id_hasher: foldhash::quality::FixedState,
    pub progress: Option<&'a AtomicU64>,
    pool: Mutex<Vec<Vec<u8>>>,
    /// The secrets table the workers share (see [`analysis::SecretsTo`]).
    secrets: Mutex<crate::scope::SecretTable>,
}

impl<E: Extension> Context<'_, E> {
    /// The secrets table the workers share, locked.
    pub(crate) fn secrets(&self) -> std::sync::MutexGuard<'_, crate::scope::SecretTable> {
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Frees the chunk buffers kept for reuse, once no more chunks will be read: the end of a
    /// scan (merging, ranking, the report) would otherwise hold them on top of its own tables
    /// (4 MiB each; on a plain file, one per worker and one per producer).
    fn release_buffers(&self) {
        let kept = std::mem::take(&mut *self.pool.lock().unwrap_or_else(PoisonError::into_inner));
        drop(kept);
    }

    /// Returns a chunk buffer for reuse by the producers.
    pub fn recycle(&self, buf: Vec<u8>) {
        if let Ok(mut p) = self.pool.lock()
            && p.len() < 64
        {
            p.push(buf);
        }
    }
}

/// Why a scan could not run at all (per-input problems are reported, not returned).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The thread pool could not be built.
    #[error("cannot start worker threads: {0}")]
    Threads(#[from] rayon::ThreadPoolBuildError),
    /// The carried state of an incremental scan cannot be used.
    #[error("incremental state: {0}")]
    State(#[from] PersistError),
}

/// What an incremental scan brings from earlier runs.
pub struct Incremental {
    /// The carry of the previous run (empty for the first run).
    pub carry: Carry,
    /// The state's secret seed: request ids hash the same way in every run.
    pub seed: u64,
}

/// What a scan needs besides settings.
pub struct Analysers<'a, E: Extension> {
    /// The compiled rules.
    pub detector: &'a Detector<'a>,
    /// Tenant mapping.
    pub tenants: &'a TenantMap,
    /// Extra analysis in the same pass.
    pub ext: &'a E,
    /// Incremented by the bytes of each processed chunk (for progress bars).
    pub progress: Option<&'a AtomicU64>,
}

/// What one scan returns.
pub struct Scanned<S> {
    /// What the scan established.
    pub result: ScanResult,
    /// The extension's state, merged over all threads (and the earlier runs' state).
    pub ext: S,
    /// The carry for the next incremental run (`None` unless the scan is incremental).
    pub carry: Option<Carry>,
}

/// Scans `inputs` as one log. With `incremental`, the earlier runs' carry is merged in and the
/// carry for the next run is returned.
pub fn run<E: Extension>(
    inputs: &[Input],
    settings: &ScanSettings,
    az: Analysers<'_, E>,
    incremental: Option<Incremental>,
) -> Result<Scanned<E::State>, ScanError> {
    run_then(inputs, settings, az, incremental, |state| state)
}

/// [`run`], handing the extension's merged state to `then` once the result is built. `then`
/// runs on the scan's pool after the detection state is freed and its memory handed back
/// (`scan::trim`), so the tables of end-of-run work on the extension's state (ranking suspects)
/// do not come on top of it.
pub fn run_then<E, R, F>(
    inputs: &[Input],
    settings: &ScanSettings,
    az: Analysers<'_, E>,
    incremental: Option<Incremental>,
    then: F,
) -> Result<Scanned<R>, ScanError>
where
    E: Extension,
    F: FnOnce(E::State) -> R + Send,
    R: Send,
{
    use std::hash::BuildHasher;
    let seed = incremental.as_ref().map_or_else(
        || foldhash::quality::RandomState::default().hash_one(std::time::SystemTime::now()),
        |i| i.seed,
    );
    let threads = settings.worker_threads();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("blastradius-{i}"))
        .build()?;
    let ctx = Context {
        settings,
        detector: az.detector,
        tenants: az.tenants,
        ext: az.ext,
        dedup: (inputs.len() > 1).then(Dedup::new),
        id_hasher: foldhash::quality::FixedState::with_seed(seed),
        progress: az.progress,
        pool: Mutex::new(Vec::new()),
        secrets: Mutex::new(crate::scope::SecretTable::with_readers(settings.readers)),
    };
    // Inputs are opened lazily, one per producer at a time, and closed when read: opening all
    // of them up front ran out of file descriptors on years of rotated files (`ulimit -n`).
    // Maps stay here until the workers are done with their slices.
    let maps: Vec<MapSlot> = inputs.iter().map(|_| MapSlot::new()).collect();
    let mut read_infos: Vec<Option<crate::source::InputInfo>> = vec![None; inputs.len()];
    let mut source_errors: Vec<(u32, SourceError)> = Vec::new();

    let phases = read_order(inputs, &settings.device_rules);
    let sources = ahead::Sources {
        inputs,
        read: &settings.read,
        maps: &maps,
        pool: &ctx.pool,
        threads,
        ahead_bytes: ahead::READ_AHEAD_BYTES,
    };
    let worker = std::thread::scope(|scope| {
        let mut feeds = ahead::ReadAhead::new(scope, &sources, &phases);
        let mut worker: Option<Worker<'_, E>> = None;
        while let Some(ahead::Feed { chunks, producers }) = feeds.next_phase() {
            let w = analyse(&ctx, &pool, chunks);
            for (i, (info, err)) in producers.join() {
                read_infos[i] = info;
                if let Some(e) = err {
                    source_errors.push((inputs[i].index, e));
                }
            }
            match worker.as_mut() {
                Some(all) => all.merge(w),
                None => worker = Some(w),
            }
        }
        worker
    });
    let worker = worker.unwrap_or_else(|| Worker::new(&ctx));
    ctx.release_buffers();
    // On the pool: the independent parts of the building of the result go side by side.
    pool.install(|| {
        finish::finish(
            &ctx,
            inputs,
            read_infos,
            source_errors,
            worker,
            incremental.map(|i| i.carry),
            then,
        )
    })
}

/// The phases the inputs are read in, one after another; a phase's inputs are read in parallel.
///
/// De-duplication counts the copy of an entry that is read first, so the order is what makes
/// it deterministic: devices one after another in name order (the first device counts every
/// event it holds, later devices' copies are duplicates), and within a device one input after
/// another in input order (path order), so of two inputs of one device holding the same entry
/// (a log rotated with `copy`, a hand-made copy put on the device by a rule) the lower-numbered
/// input counts it. Chunks of one input are still analysed in parallel, and compressed inputs of
/// later phases are decompressed ahead into bounded queues (see [`ahead`]), so a rotated `.gz`
/// family is not bounded by one decompressing thread; what is lost is analysing several inputs
/// at once.
fn read_order(inputs: &[Input], rules: &[crate::source::DeviceRule]) -> Vec<Vec<usize>> {
    if inputs.len() < 2 {
        return vec![(0..inputs.len()).collect()];
    }
    let devices = crate::source::DeviceMap::assign(inputs, rules);
    let mut by_device: Vec<Vec<usize>> = vec![Vec::new(); devices.devices.len().max(1)];
    for (pos, input) in inputs.iter().enumerate() {
        let d = devices
            .of_input
            .get(input.index as usize)
            .copied()
            .unwrap_or(0);
        by_device[d as usize].push(pos);
    }
    by_device
        .into_iter()
        .flat_map(|mut positions| {
            positions.sort_by_key(|&pos| inputs[pos].index);
            positions.into_iter().map(|pos| vec![pos])
        })
        .collect()
}

/// Analyses the chunks of one phase on the pool, until its producers are done.
fn analyse<'c, E: Extension>(
    ctx: &'c Context<'c, E>,
    pool: &rayon::ThreadPool,
    chunks: mpsc::Receiver<Chunk<'_>>,
) -> Worker<'c, E> {
    // Exactly one worker state per thread. rayon's `par_bridge().fold()` made an accumulator
    // per split (24 for 50 chunks on two threads), each with its own copy of per-token
    // correlation state: memory that grew with the log.
    let rx = Mutex::new(chunks);
    let workers = pool.broadcast(|_| {
        let mut w = Worker::new(ctx);
        loop {
            let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
            let Ok(chunk) = next else { break };
            w.process(chunk);
        }
        w
    });
    workers
        .into_iter()
        .reduce(|mut a, b| {
            a.merge(b);
            a
        })
        .unwrap_or_else(|| Worker::new(ctx))
}
