//! `export`: the scan's single pass, writing every entry as a row of the flat `events` table
//! (Arrow IPC or Parquet) for SQL engines.
//!
//! Workers build Arrow batches per chunk and hand them through a bounded channel to one writer
//! thread, so memory stays at a few batches per worker plus the open Parquet row groups,
//! whatever the size of the log. Row order follows the log within a chunk; chunks of a large
//! file may land in any order, so queries sort by `time` (or `source_file`, `source_offset`).

mod lineage;
mod rows;
mod schema;
mod sink;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use arrow::array::RecordBatch;

use crate::model::{Entry, Loc};
use crate::scan::Extension;
use crate::tenant::TenantMap;
pub use lineage::device_of;
use rows::Rows;
pub use schema::{SCHEMA_VERSION, SCHEMA_VERSION_KEY, schema};
pub use sink::{ExportFormat, Target};

/// Rows buffered per worker before a batch is handed over, within a chunk.
const BATCH_ROWS: usize = 8_192;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The partitioned output directory already holds files.
    #[error("{0}: directory is not empty (export writes into a new or empty directory)")]
    NotEmpty(PathBuf),
    /// Parquet encoding failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow encoding failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

impl ExportError {
    fn io(path: &Path, source: std::io::Error) -> ExportError {
        ExportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The export extension: turns entries into rows and sends full batches to the writer.
pub struct Exporter<'a> {
    files: Vec<String>,
    /// The audit device of each input (`source::DeviceMap`).
    devices: Vec<String>,
    tenants: &'a TenantMap,
    sender: SyncSender<RecordBatch>,
    failed: &'a AtomicBool,
}

/// Per-thread rows.
pub struct ExportState {
    rows: Rows,
    sender: SyncSender<RecordBatch>,
}

impl<'a> Exporter<'a> {
    /// An exporter naming inputs by `files` (indexed like the scan's inputs), and the receiving
    /// end for the writer. `failed` is set by the writer when it gives up, so workers stop
    /// building rows nobody will write.
    pub fn new(
        files: Vec<String>,
        devices: Vec<String>,
        tenants: &'a TenantMap,
        failed: &'a AtomicBool,
        capacity: usize,
    ) -> (Exporter<'a>, Receiver<RecordBatch>) {
        let (sender, receiver) = sync_channel(capacity.max(1));
        (
            Exporter {
                files,
                devices,
                tenants,
                sender,
                failed,
            },
            receiver,
        )
    }

    fn flush(&self, st: &mut ExportState) {
        if st.rows.len() == 0 {
            return;
        }
        match st.rows.take() {
            // A closed channel means the writer stopped on an error it reports itself.
            Ok(batch) => {
                if st.sender.send(batch).is_err() {
                    self.failed.store(true, Ordering::Relaxed);
                }
            }
            Err(_) => self.failed.store(true, Ordering::Relaxed),
        }
    }
}

impl Extension for Exporter<'_> {
    type State = ExportState;

    fn new_state(&self) -> ExportState {
        ExportState {
            rows: Rows::new(),
            sender: self.sender.clone(),
        }
    }

    fn entry(&self, st: &mut ExportState, ev: &Entry<'_>, loc: Loc) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        let file = self.files.get(loc.file as usize).map_or("", String::as_str);
        let device = self
            .devices
            .get(loc.file as usize)
            .map_or("", String::as_str);
        st.rows.push(ev, loc, file, device, self.tenants);
        if st.rows.len() >= BATCH_ROWS {
            self.flush(st);
        }
    }

    fn chunk_done(&self, st: &mut ExportState, _file: u32, _chunk: u32) {
        self.flush(st);
    }

    fn merge(&self, into: &mut ExportState, mut other: ExportState) {
        self.flush(&mut other);
        self.flush(into);
    }

    fn wants_requests(&self) -> bool {
        true
    }
}

/// What the writer thread produced.
#[derive(Debug)]
pub struct Written {
    /// Files written, sorted.
    pub files: Vec<PathBuf>,
    /// Rows written.
    pub rows: u64,
}

/// The writer thread's loop: writes every batch; after an error, keeps draining so the workers
/// never block on a full channel, and returns the first error.
pub fn write_all(
    receiver: Receiver<RecordBatch>,
    format: ExportFormat,
    target: Target,
    failed: &AtomicBool,
) -> Result<Written, ExportError> {
    let mut sink = match sink::Sink::new(format, target) {
        Ok(s) => s,
        Err(e) => {
            failed.store(true, Ordering::Relaxed);
            receiver.iter().for_each(drop);
            return Err(e);
        }
    };
    for batch in receiver.iter() {
        if let Err(e) = sink.write(&batch) {
            failed.store(true, Ordering::Relaxed);
            receiver.iter().for_each(drop);
            return Err(e);
        }
    }
    let (files, rows) = sink.finish()?;
    Ok(Written { files, rows })
}

/// Chooses the target from the `-o` path: a name ending in the format's extension (or `.ipc`,
/// `.feather`, `.pq`) is one file, anything else a partitioned directory.
pub fn target_for(path: &Path, format: ExportFormat) -> Target {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let single = ext.eq_ignore_ascii_case(format.extension())
        || match format {
            ExportFormat::Parquet => ext.eq_ignore_ascii_case("pq"),
            ExportFormat::Arrow => {
                ext.eq_ignore_ascii_case("ipc") || ext.eq_ignore_ascii_case("feather")
            }
        };
    if single && !path.is_dir() {
        Target::File(path.to_path_buf())
    } else {
        Target::Partitioned(path.to_path_buf())
    }
}
