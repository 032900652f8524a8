//! What each worker accumulates, merged across threads in any order.

use std::collections::BTreeMap;

use super::activity::Activity;
use crate::detect::DetectState;
use crate::gaps::Marker;
use crate::scope::SecretTable;

/// Counts over the whole scan, as each worker accumulates them and incremental state saves them
/// (the report writes them as [`super::result::StatsRecord`]).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stats {
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
    #[serde(default)]
    pub impossible_times: u64,
    /// Entries whose `time` is not an RFC 3339 time (also counted in `untimed_entries`).
    #[serde(default)]
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

impl Stats {
    /// Adds another thread's counts.
    pub fn merge(&mut self, o: &Stats) {
        // No `..`: a new counter must be merged here (or the compiler says so).
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
        } = o;
        self.lines += lines;
        self.blank_lines += blank_lines;
        self.entries += entries;
        self.requests += requests;
        self.responses += responses;
        self.other_entries += other_entries;
        self.outside_window += outside_window;
        self.untimed_entries += untimed_entries;
        self.impossible_times += impossible_times;
        self.unparseable_times += unparseable_times;
        self.duplicates += duplicates;
        self.prefixed_lines += prefixed_lines;
        self.malformed_lines += malformed_lines;
        for (k, v) in malformed_by_kind {
            *self.malformed_by_kind.entry(k.clone()).or_default() += v;
        }
        self.partial_last_lines += partial_last_lines;
        self.paired_requests += paired_requests;
        self.unanswered_requests += unanswered_requests;
        self.in_flight_requests += in_flight_requests;
        self.orphan_responses += orphan_responses;
        self.secret_reads += secret_reads;
        self.evaluated += evaluated;
        self.suspicious_events += suspicious_events;
        self.early_analysed_requests += early_analysed_requests;
        self.pairing_overflow += pairing_overflow;
    }
}

/// Everything a worker accumulates that does not depend on entry order.
pub struct Analysis {
    /// Counts.
    pub stats: Stats,
    /// Secrets read.
    pub secrets: SecretTable,
    /// Rule state and findings.
    pub detect: DetectState,
    /// Seals, probes and device disables.
    pub markers: Vec<Marker>,
    /// Requests, secret reads and suspicious entries over time.
    pub activity: Activity,
}

impl Analysis {
    /// Merges another thread's analysis.
    pub fn merge(&mut self, o: Analysis) {
        self.stats.merge(&o.stats);
        self.secrets.merge(o.secrets);
        self.detect.merge(o.detect);
        self.markers.extend(o.markers);
        self.activity.merge(&o.activity);
    }
}
