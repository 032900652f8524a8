//! The compact entry model shared by every analysis: entries, timestamps, time windows and intervals, locations, severities.

pub mod cidr;
mod entry;
pub mod secret;
pub mod tape;
mod time;
pub mod window;

pub use entry::{CallerInfo, Entry, EntryType, Operation, RequestInfo, ResponseInfo, TokenInfo};
pub use time::{Span, TimeRange, Timestamp};
pub use window::{Interval, TimeWindow};

/// Where an entry sits while the scan runs: the chunk it came from and its line within it.
///
/// Line numbers are only known once every earlier chunk has been counted, so evidence is kept
/// in this form and resolved to a [`Location`] when the scan is merged. Locations carried over
/// from an earlier run (incremental scans) are already absolute: their chunk is
/// [`Loc::ABSOLUTE`] and `line_in_chunk` is the zero-based line number in the file.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Loc {
    /// Index of the input file.
    pub file: u32,
    /// Byte offset of the line in the (decompressed) input.
    pub offset: u64,
    /// Index of the chunk within the file, or [`Loc::ABSOLUTE`].
    pub chunk: u32,
    /// Zero-based line number within the chunk (within the file for absolute locations).
    pub line_in_chunk: u64,
}

impl Loc {
    /// The chunk value of a location whose line number is already absolute.
    pub const ABSOLUTE: u32 = u32::MAX;

    /// An absolute location: zero-based `line` in `file`.
    pub fn absolute(file: u32, line: u64, offset: u64) -> Loc {
        Loc {
            file,
            offset,
            chunk: Loc::ABSOLUTE,
            line_in_chunk: line,
        }
    }
}

/// A resolved place in an input: what an analyst opens to see the evidence.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Location {
    /// The input path (`-` for standard input), shared: a report holds up to five locations
    /// per secret, and one copy of the path each was a third of a busy scan's secrets.
    pub file: std::sync::Arc<str>,
    /// One-based line number.
    pub line: u64,
    /// Byte offset of the start of the line (in the decompressed stream for gzip input).
    pub offset: u64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} (byte {})", self.file, self.line, self.offset)
    }
}

/// Incident severity classes and the response time each calls for.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
pub enum Severity {
    /// Critical: respond within 15 minutes.
    #[value(name = "P0", alias = "p0")]
    P0,
    /// High: respond within 1 hour.
    #[value(name = "P1", alias = "p1")]
    P1,
    /// Medium: respond within 4 hours.
    #[value(name = "P2", alias = "p2")]
    P2,
    /// Low: respond within 24 hours.
    #[value(name = "P3", alias = "p3")]
    P3,
}

impl Severity {
    /// `P0` .. `P3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::P0 => "P0",
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
        }
    }

    /// The response time the class calls for.
    pub fn response_time(self) -> &'static str {
        match self {
            Severity::P0 => "15 minutes",
            Severity::P1 => "1 hour",
            Severity::P2 => "4 hours",
            Severity::P3 => "24 hours",
        }
    }

    /// The word used for the class: critical, high, medium, low.
    pub fn label(self) -> &'static str {
        match self {
            Severity::P0 => "critical",
            Severity::P1 => "high",
            Severity::P2 => "medium",
            Severity::P3 => "low",
        }
    }

    /// Maps a Sigma `level` to a class; `informational` maps to none.
    pub fn from_sigma_level(level: &str) -> Option<Severity> {
        match level {
            "critical" => Some(Severity::P0),
            "high" => Some(Severity::P1),
            "medium" => Some(Severity::P2),
            "low" => Some(Severity::P3),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
