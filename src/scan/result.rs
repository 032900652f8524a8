//! What a scan established, as the reports read it: the only part of `scan` that `report`
//! imports. The accumulators that produce these (worker state, carry, pairing) stay private to
//! the scan.

pub use super::activity::{Activity, Bar};
use std::collections::BTreeMap;

use super::analysis::Stats;
use super::carry::FileProgress;
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
    pub events: u64,
    /// Lines that are not audit entries.
    pub malformed: u64,
    /// Earliest entry time.
    pub first_event: Option<Timestamp>,
    /// Latest entry time.
    pub last_event: Option<Timestamp>,
    /// Why reading stopped early, if it did (the input is incomplete).
    pub error: Option<String>,
}

/// The counts of a scan as the reports write them (`stats` in the JSON report): the contract,
/// apart from the accumulator [`super::analysis::Stats`] that workers add to and incremental
/// state saves. Field names are the JSON names.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StatsRecord {
    /// Lines read (entries for pretty-printed input).
    pub lines: u64,
    /// Blank lines.
    pub blank_lines: u64,
    /// Audit entries parsed.
    pub entries: u64,
    /// Request entries.
    pub requests: u64,
    /// Response entries.
    pub responses: u64,
    /// Other entry types (e.g. `kmip-request`).
    pub other_entries: u64,
    /// Entries outside `--since`/`--until`, skipped.
    pub outside_window: u64,
    /// Entries without a usable `time` (missing, unparseable or impossible).
    pub untimed_entries: u64,
    /// Entries whose `time` parsed but is before 2015-01-01 or more than a day after the wall
    /// clock (also counted in `untimed_entries`).
    pub impossible_times: u64,
    /// Entries whose `time` is not an RFC 3339 time (also counted in `untimed_entries`).
    pub unparseable_times: u64,
    /// Entries seen in an earlier input (same `request.id` and `type`), counted once.
    pub duplicates: u64,
    /// Lines with a prefix or syslog header before the JSON.
    pub prefixed_lines: u64,
    /// Lines that are not audit entries.
    pub malformed_lines: u64,
    /// Malformed lines by reason.
    pub malformed_by_kind: BTreeMap<String, u64>,
    /// Final lines without a newline that did not parse (a write in progress).
    pub partial_last_lines: u64,
    /// Requests whose response was found.
    pub paired_requests: u64,
    /// Requests without a response, analysed on their own.
    pub unanswered_requests: u64,
    /// Unanswered requests close to the end of their input (still in flight when the log was read).
    pub in_flight_requests: u64,
    /// Responses without a request.
    pub orphan_responses: u64,
    /// Successful reads of secret material.
    pub secret_reads: u64,
    /// Entries evaluated by the detection rules.
    pub evaluated: u64,
    /// Entries that matched at least one rule with a severity.
    pub suspicious_events: u64,
    /// Open requests analysed at the end of their chunk because the chunk had more than 1,024
    /// (a log whose responses are missing wholesale).
    pub early_analysed_requests: u64,
    /// Unpaired entries beyond the per-chunk tracking limit (8,192): counted, not paired
    /// across chunks. Non-zero means pairing counts are approximate.
    pub pairing_overflow: u64,
}

impl From<Stats> for StatsRecord {
    fn from(s: Stats) -> StatsRecord {
        // No `..`: a new counter must be placed in the report (or the compiler says so).
        let Stats {
            lines,
            blank_lines,
            entries,
            requests,
            responses,
            other_entries,
            outside_window,
            untimed_entries,
            impossible_times,
            unparseable_times,
            duplicates,
            prefixed_lines,
            malformed_lines,
            malformed_by_kind,
            partial_last_lines,
            paired_requests,
            unanswered_requests,
            in_flight_requests,
            orphan_responses,
            secret_reads,
            evaluated,
            suspicious_events,
            early_analysed_requests,
            pairing_overflow,
        } = s;
        StatsRecord {
            lines,
            blank_lines,
            entries,
            requests,
            responses,
            other_entries,
            outside_window,
            untimed_entries,
            impossible_times,
            unparseable_times,
            duplicates,
            prefixed_lines,
            malformed_lines,
            malformed_by_kind,
            partial_last_lines,
            paired_requests,
            unanswered_requests,
            in_flight_requests,
            orphan_responses,
            secret_reads,
            evaluated,
            suspicious_events,
            early_analysed_requests,
            pairing_overflow,
        }
    }
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
    pub first_event: Option<Timestamp>,
    /// Latest entry time over all inputs.
    pub last_event: Option<Timestamp>,
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
    names: Vec<String>,
}

impl Locator {
    /// `starts[file][chunk]`: lines before each chunk of each file; `names[file]`: its name.
    pub(super) fn new(starts: Vec<Vec<u64>>, names: Vec<String>) -> Locator {
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
                .unwrap_or_default(),
            line: self.line0(loc) + 1,
            offset: loc.offset,
        }
    }
}
