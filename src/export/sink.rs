//! Where export batches go: one file, or a directory partitioned by day (`dt=YYYY-MM-DD/`).
//!
//! Every file is written under a temporary name in its final directory and renamed into place
//! when complete, so readers never see a half-written file (Spark, Trino and DuckDB skip names
//! that start with `.`); links, modes and devices follow the rules for every output
//! ([`crate::write_target`]).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use arrow::array::{Array, RecordBatch, TimestampMicrosecondArray, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::ipc::writer::FileWriter;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::ExportError;
use super::schema::{SCHEMA_VERSION, SCHEMA_VERSION_KEY, schema};
use crate::write_target::{self, Commit, Parents};

/// File format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet, zstd-compressed (Spark, Trino/Athena, DuckDB, polars, pandas).
    Parquet,
    /// Arrow IPC file (`.arrow`), uncompressed: the fastest to write and to map.
    Arrow,
}

impl ExportFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Arrow => "arrow",
        }
    }
}

/// Where an export goes.
#[derive(Clone, Debug)]
pub enum Target {
    /// One file.
    File(PathBuf),
    /// A directory of day partitions; it must be empty or absent.
    Partitioned(PathBuf),
}

/// Rows per Parquet row group: small enough that a few open day partitions stay within tens of
/// megabytes, large enough for good compression and pruning.
const ROW_GROUP_ROWS: usize = 65_536;
/// Day partitions open at once; the least recently written is closed beyond this.
const OPEN_PARTITIONS: usize = 8;
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// The Hive convention for rows without a usable time.
const NO_DAY: &str = "__HIVE_DEFAULT_PARTITION__";

enum Encoder {
    Parquet(Box<ArrowWriter<BufWriter<File>>>),
    Arrow(Box<FileWriter<BufWriter<File>>>),
}

/// One file being written.
struct Part {
    encoder: Encoder,
    commit: Commit,
    path: PathBuf,
    last_write: u64,
}

impl Part {
    fn create(format: ExportFormat, path: PathBuf) -> Result<Part, ExportError> {
        let staged = write_target::open(&path, ".blastradius-", Parents::Create)
            .map_err(|e| ExportError::io(&path, e))?;
        let out = BufWriter::with_capacity(1 << 20, staged.file);
        let encoder = match format {
            ExportFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
                    .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                    .set_key_value_metadata(Some(vec![KeyValue::new(
                        SCHEMA_VERSION_KEY.to_string(),
                        SCHEMA_VERSION.to_string(),
                    )]))
                    .build();
                Encoder::Parquet(Box::new(ArrowWriter::try_new(out, schema(), Some(props))?))
            }
            ExportFormat::Arrow => Encoder::Arrow(Box::new(FileWriter::try_new(out, &schema())?)),
        };
        Ok(Part {
            encoder,
            commit: staged.commit,
            path,
            last_write: 0,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        match &mut self.encoder {
            Encoder::Parquet(w) => w.write(batch)?,
            Encoder::Arrow(w) => w.write(batch)?,
        }
        Ok(())
    }

    fn close(self) -> Result<PathBuf, ExportError> {
        let out = match self.encoder {
            Encoder::Parquet(w) => w.into_inner()?,
            Encoder::Arrow(w) => w.into_inner()?,
        };
        let file = out
            .into_inner()
            .map_err(|e| ExportError::io(&self.path, e.into_error()))?;
        self.commit
            .finish(file)
            .map_err(|e| ExportError::io(&self.path, e))?;
        Ok(self.path)
    }
}

/// Writes batches to the target; owned by one writer thread.
pub(crate) struct Sink {
    format: ExportFormat,
    target: Target,
    open: BTreeMap<Option<i64>, Part>,
    next_part: HashMap<Option<i64>, u32>,
    written: Vec<PathBuf>,
    rows: u64,
    clock: u64,
}

impl Sink {
    /// Checks the target and prepares to write.
    pub fn new(format: ExportFormat, target: Target) -> Result<Sink, ExportError> {
        if let Target::Partitioned(dir) = &target
            && dir.exists()
        {
            let mut entries = std::fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))?;
            if entries.next().is_some() {
                return Err(ExportError::NotEmpty(dir.clone()));
            }
        }
        Ok(Sink {
            format,
            target,
            open: BTreeMap::new(),
            next_part: HashMap::new(),
            written: Vec::new(),
            rows: 0,
            clock: 0,
        })
    }

    /// Writes one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.rows += batch.num_rows() as u64;
        match self.target.clone() {
            Target::File(path) => self.part(None, || path)?.write(batch),
            Target::Partitioned(dir) => {
                let ext = self.format.extension();
                for (day, rows) in split_by_day(batch)? {
                    let n = *self.next_part.entry(day).or_default();
                    let path = || dir.join(day_dir(day)).join(format!("part-{n:05}.{ext}"));
                    self.part(day, path)?.write(&rows)?;
                }
                Ok(())
            }
        }
    }

    fn part(
        &mut self,
        day: Option<i64>,
        path: impl FnOnce() -> PathBuf,
    ) -> Result<&mut Part, ExportError> {
        self.clock += 1;
        if !self.open.contains_key(&day) {
            if self.open.len() >= OPEN_PARTITIONS {
                let oldest = self
                    .open
                    .iter()
                    .min_by_key(|(_, p)| p.last_write)
                    .map(|(d, _)| *d);
                if let Some(d) = oldest.and_then(|d| self.open.remove(&d).map(|p| (d, p))) {
                    self.written.push(d.1.close()?);
                    *self.next_part.entry(d.0).or_default() += 1;
                }
            }
            self.open.insert(day, Part::create(self.format, path())?);
        }
        let part = self.open.get_mut(&day).expect("inserted above");
        part.last_write = self.clock;
        Ok(part)
    }

    /// Closes every file; returns the files written and the row count.
    pub fn finish(mut self) -> Result<(Vec<PathBuf>, u64), ExportError> {
        if self.open.is_empty()
            && let Target::File(path) = &self.target
        {
            // An empty export is still a valid, readable file with the schema.
            let path = path.clone();
            self.open.insert(None, Part::create(self.format, path)?);
        }
        for (_, part) in std::mem::take(&mut self.open) {
            self.written.push(part.close()?);
        }
        self.written.sort();
        Ok((self.written, self.rows))
    }
}

fn day_dir(day: Option<i64>) -> String {
    match day.and_then(|d| chrono::DateTime::from_timestamp(d * 86_400, 0)) {
        Some(t) => format!("dt={}", t.format("%Y-%m-%d")),
        None => format!("dt={NO_DAY}"),
    }
}

/// Splits a batch into per-day batches (most batches hold one day and are returned as they are).
fn split_by_day(batch: &RecordBatch) -> Result<Vec<(Option<i64>, RecordBatch)>, ExportError> {
    let times = batch
        .column(0)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .expect("column 0 is the time");
    let day = |i: usize| (!times.is_null(i)).then(|| times.value(i).div_euclid(MICROS_PER_DAY));
    let first = (batch.num_rows() > 0).then(|| day(0)).flatten();
    if (0..batch.num_rows()).all(|i| day(i) == first) {
        return Ok(vec![(first, batch.clone())]);
    }
    let mut groups: BTreeMap<Option<i64>, Vec<u32>> = BTreeMap::new();
    for i in 0..batch.num_rows() {
        groups.entry(day(i)).or_default().push(i as u32);
    }
    groups
        .into_iter()
        .map(|(d, idx)| Ok((d, take_record_batch(batch, &UInt32Array::from(idx))?)))
        .collect()
}
