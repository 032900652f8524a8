//! The scan's counters, listed once. Two types are made from the list: [`Stats`], what each
//! worker adds to and incremental state saves, and [`StatsRecord`], the `stats` object of the
//! JSON report (the contract: its field names are the JSON names). They convert explicitly, so
//! the report can change its contract without touching the state file's layout, and a counter
//! added to the list is merged, saved and reported (the generated code names every field).

use std::collections::BTreeMap;

/// How a counter adds another thread's (or run's) count.
trait Count {
    fn add(&mut self, other: &Self);
}

impl Count for u64 {
    fn add(&mut self, other: &u64) {
        *self += other;
    }
}

impl Count for BTreeMap<String, u64> {
    fn add(&mut self, other: &Self) {
        for (k, v) in other {
            *self.entry(k.clone()).or_default() += v;
        }
    }
}

macro_rules! counters {
    ($( $(#[$attr:meta])* $name:ident: $ty:ty, )*) => {
        /// Counts over the whole scan, as each worker accumulates them and incremental state
        /// saves them (the report writes them as [`StatsRecord`]).
        #[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
        pub struct Stats {
            $( $(#[$attr])* pub $name: $ty, )*
        }

        /// The counts of a scan as the reports write them (`stats` in the JSON report).
        #[derive(Clone, Debug, Default, serde::Serialize)]
        pub struct StatsRecord {
            $( $(#[$attr])* pub $name: $ty, )*
        }

        impl Stats {
            /// Adds another thread's counts.
            pub fn merge(&mut self, o: &Stats) {
                let Stats { $( $name, )* } = o;
                $( self.$name.add($name); )*
            }
        }

        impl From<Stats> for StatsRecord {
            fn from(s: Stats) -> StatsRecord {
                let Stats { $( $name, )* } = s;
                StatsRecord { $( $name, )* }
            }
        }
    };
}

counters! {
    /// Lines read (entries for pretty-printed input).
    lines: u64,
    /// Blank lines.
    blank_lines: u64,
    /// Audit entries parsed.
    entries: u64,
    /// Request entries.
    requests: u64,
    /// Response entries.
    responses: u64,
    /// Other entry types (e.g. `kmip-request`).
    other_entries: u64,
    /// Entries outside `--since`/`--until`, skipped.
    outside_window: u64,
    /// Entries without a usable `time` (missing, unparseable or impossible).
    untimed_entries: u64,
    /// Entries whose `time` parsed but is before 2015-01-01 or more than a day after the wall
    /// clock (also counted in `untimed_entries`).
    #[serde(default)]
    impossible_times: u64,
    /// Entries whose `time` is not an RFC 3339 time (also counted in `untimed_entries`).
    #[serde(default)]
    unparseable_times: u64,
    /// Entries seen in an earlier input (same `request.id` and `type`), counted once.
    duplicates: u64,
    /// Lines with a prefix or syslog header before the JSON.
    prefixed_lines: u64,
    /// Lines that are not audit entries.
    malformed_lines: u64,
    /// Malformed lines by reason.
    malformed_by_kind: BTreeMap<String, u64>,
    /// Final lines without a newline that did not parse (a write in progress).
    partial_last_lines: u64,
    /// Requests whose response was found.
    paired_requests: u64,
    /// Requests without a response, analysed on their own.
    unanswered_requests: u64,
    /// Unanswered requests close to the end of their input (still in flight when the log was read).
    in_flight_requests: u64,
    /// Responses without a request.
    orphan_responses: u64,
    /// Successful reads of secret material.
    secret_reads: u64,
    /// Entries evaluated by the detection rules.
    evaluated: u64,
    /// Entries that matched at least one rule with a severity.
    #[serde(rename = "suspicious_events")]
    suspicious_entries: u64,
    /// Open requests analysed at the end of their chunk because the chunk had more than 1,024
    /// (a log whose responses are missing wholesale).
    early_analysed_requests: u64,
    /// Unpaired entries beyond the per-chunk tracking limit (8,192): counted, not paired
    /// across chunks. Non-zero means pairing counts are approximate.
    pairing_overflow: u64,
}
