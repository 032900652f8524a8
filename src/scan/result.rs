//! What a scan established, as the reports read it: the only part of `scan` that `report`
//! imports. The accumulators that produce these (worker state, carry, pairing) stay private to
//! the scan.

pub use super::activity::{Activity, Bar};
use super::carry::FileProgress;
pub use super::counts::StatsRecord;
use crate::detect::Finding;
use crate::gaps::Gap;
use crate::model::{Loc, Location, Timestamp};
use crate::scope::{SecretRecord, TenantRecord};
use crate::source::{Compression, ReadPath};

/// One input in the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InputRecord {
    /// The path (`-` for stdin).
    pub path: String,
    /// The log it belongs to (path without rotation suffixes).
    pub family: String,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Bytes on disk, when known.
    pub stored_bytes: Option<u64>,
    /// Compression, recognised by magic bytes.
    pub compression: Option<Compression>,
    /// How it was read.
    pub read_path: Option<ReadPath>,
    /// True when framed as pretty-printed/concatenated JSON.
    pub pretty: bool,
    /// Where reading started (non-zero when an incremental scan resumed).
    pub resumed_at: u64,
    /// Lines read.
    pub lines: u64,
    /// Audit entries parsed.
    #[serde(rename = "events")]
    pub entries: u64,
    /// Lines that are not audit entries.
    pub malformed: u64,
    /// Earliest entry time.
    #[serde(rename = "first_event")]
    pub first_entry: Option<Timestamp>,
    /// Latest entry time.
    #[serde(rename = "last_event")]
    pub last_entry: Option<Timestamp>,
    /// Why reading stopped early, if it did (the input is incomplete).
    pub error: Option<String>,
}

/// A malformed line in the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MalformedRecord {
    /// Where.
    #[serde(flatten)]
    pub location: Location,
    /// Stable reason code (`invalid-json`, `not-json`, `line-too-long` ...).
    pub kind: String,
    /// The parser's message.
    pub message: String,
}

/// Everything one scan established.
pub struct ScanResult {
    /// Per input.
    pub inputs: Vec<InputRecord>,
    /// Counts.
    pub stats: StatsRecord,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Secrets read, by path.
    pub secrets: Vec<SecretRecord>,
    /// Tenants whose secrets were read.
    pub tenants: Vec<TenantRecord>,
    /// The tenant layout inferred without patterns (the tenants above follow it).
    pub tenant_layout: crate::tenant::TenantLayout,
    /// Gaps, earliest first (up to 1,000 per kind).
    pub gaps: Vec<Gap>,
    /// Gaps not listed, by kind.
    pub gaps_omitted: std::collections::BTreeMap<crate::gaps::GapKind, u64>,
    /// Gaps nothing explains, listed or not.
    pub unexplained_gaps: usize,
    /// Malformed lines (capped, earliest first).
    pub malformed: Vec<MalformedRecord>,
    /// Earliest entry time over all inputs.
    pub first_entry: Option<Timestamp>,
    /// Latest entry time over all inputs.
    pub last_entry: Option<Timestamp>,
    /// Resolves locations recorded during the scan (e.g. by extensions).
    pub locator: Locator,
    /// Where each input stands, for the next incremental run.
    pub progress: Vec<FileProgress>,
    /// Requests, secret reads and suspicious entries over time.
    pub activity: Activity,
}

impl ScanResult {
    /// True when some input could not be read completely.
    pub fn input_incomplete(&self) -> bool {
        self.inputs.iter().any(|i| i.error.is_some())
    }
}

/// Turns scan-time locations into file, line and byte offset.
#[derive(Clone, Debug)]
pub struct Locator {
    starts: Vec<Vec<u64>>,
    names: Vec<std::sync::Arc<str>>,
}

impl Locator {
    /// `starts[file][chunk]`: lines before each chunk of each file; `names[file]`: its name.
    pub(crate) fn new(starts: Vec<Vec<u64>>, names: Vec<String>) -> Locator {
        let names = names.into_iter().map(std::sync::Arc::from).collect();
        Locator { starts, names }
    }

    /// The zero-based line of `loc` in its file.
    pub fn line0(&self, loc: Loc) -> u64 {
        if loc.chunk == Loc::ABSOLUTE {
            return loc.line_in_chunk;
        }
        let base = self
            .starts
            .get(loc.file as usize)
            .and_then(|s| s.get(loc.chunk as usize))
            .copied()
            .unwrap_or(0);
        base + loc.line_in_chunk
    }

    /// The same place as an absolute location (valid in later runs).
    pub fn absolute(&self, loc: Loc) -> Loc {
        Loc::absolute(loc.file, self.line0(loc), loc.offset)
    }

    /// The file, one-based line and byte offset of `loc`.
    pub fn resolve(&self, loc: Loc) -> Location {
        Location {
            file: self
                .names
                .get(loc.file as usize)
                .cloned()
                .unwrap_or_else(|| "".into()),
            line: self.line0(loc) + 1,
            offset: loc.offset,
        }
    }
}
