//! Holes in the audit trail, and the events that explain them.
//!
//! Chainsaw's `analyse gaps` looks for record-id holes and long quiet windows in Windows event
//! logs. Vault logs have no record ids, so blastradius uses what Vault writes instead:
//!
//! * **quiet periods** on the union timeline of all inputs, explained when a `sys/seal` (or
//!   `sys/step-down`) request is the last entry its device wrote before the quiet period;
//! * **rotation holes**: a quiet period between the end of one rotated file and the start of the
//!   next file of the same log;
//! * **missing responses** (a request whose response never appears) and **missing requests**
//!   (a response whose request is not in the log; explained when it enables an audit device,
//!   because that request is written before the device exists);
//! * **device restarts** (`sys/audit/test` probes: a device was (re)enabled and its HMAC salt may
//!   have changed) and **device disables** (`delete sys/audit/<path>`);
//! * **time going backwards** between consecutive lines of one file;
//! * **malformed regions**: runs of lines that are not audit entries.

mod timeline;

pub use timeline::{Interval, Point, Regression, Timeline, merge_intervals};

use crate::model::{Loc, Location, Span, Timestamp};

/// What kind of hole or discontinuity.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum GapKind {
    /// No entries for longer than the gap threshold.
    QuietPeriod,
    /// A quiet period between two rotated files of the same log.
    RotationHole,
    /// A request whose response never appears.
    MissingResponse,
    /// A response whose request is not in the log.
    MissingRequest,
    /// An audit device was (re)enabled (`sys/audit/test` probe): HMACs may change salt here.
    DeviceRestart,
    /// An audit device was disabled.
    DeviceDisabled,
    /// A line's time is earlier than the line before it.
    TimeBackwards,
    /// Consecutive lines that are not audit entries.
    MalformedRegion,
    /// An input shrank or was rewritten in place between incremental runs (logrotate
    /// `copytruncate`): entries written after the last run and before the copy may be lost.
    InputTruncated,
    /// An input shrank, or was replaced or renamed, while this scan read it: what lay beyond
    /// where reading ended was not read.
    TruncatedDuringScan,
    /// An entry whose time is impossible (before 2015 or more than a day after the wall
    /// clock) or not a time at all: kept off the timeline, shown here where it is.
    ImpossibleTime,
}

impl GapKind {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::QuietPeriod => "quiet-period",
            GapKind::RotationHole => "rotation-hole",
            GapKind::MissingResponse => "missing-response",
            GapKind::MissingRequest => "missing-request",
            GapKind::DeviceRestart => "device-restart",
            GapKind::DeviceDisabled => "device-disabled",
            GapKind::TimeBackwards => "time-backwards",
            GapKind::MalformedRegion => "malformed-region",
            GapKind::InputTruncated => "input-truncated",
            GapKind::TruncatedDuringScan => "truncated-during-scan",
            GapKind::ImpossibleTime => "impossible-time",
        }
    }
}

/// One hole or discontinuity, with what explains it, if anything.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Gap {
    /// What kind.
    pub kind: GapKind,
    /// When it starts (the last entry before it).
    pub start: Option<Timestamp>,
    /// When it ends (the first entry after it).
    pub end: Option<Timestamp>,
    /// Its length in seconds (negative for time going backwards).
    pub seconds: Option<f64>,
    /// What explains it (`seal`, `step-down`, `audit-device-enabled`, `log-start`), or labels it
    /// (`possibly-in-flight`), or null.
    pub explained_by: Option<&'static str>,
    /// A one-line description.
    pub detail: String,
    /// Lines bounding or showing it.
    pub evidence: Vec<Location>,
}

/// Something Vault logged that explains or marks a discontinuity.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum MarkerKind {
    /// `sys/seal`.
    Seal,
    /// `sys/step-down`.
    StepDown,
    /// `sys/audit/test`: a device was enabled.
    AuditProbe,
    /// `delete sys/audit/<path>`.
    AuditDisable,
}

/// A marker at a point.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Marker {
    /// When and where.
    pub at: Point,
    /// What.
    pub kind: MarkerKind,
}

/// The marker an entry's path and operation make, if any.
pub fn marker_of(path: &str, operation: crate::model::Operation) -> Option<MarkerKind> {
    match path {
        "sys/seal" => Some(MarkerKind::Seal),
        "sys/step-down" => Some(MarkerKind::StepDown),
        "sys/audit/test" => Some(MarkerKind::AuditProbe),
        p if p.starts_with("sys/audit/") && operation == crate::model::Operation::Delete => {
            Some(MarkerKind::AuditDisable)
        }
        _ => None,
    }
}

/// A run of consecutive malformed lines within one chunk.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct MalformedRun {
    /// The first bad line.
    pub first: Loc,
    /// The last bad line.
    pub last: Loc,
    /// How many lines.
    pub lines: u32,
    /// The last good entry before the run, if in the same chunk.
    pub before: Option<Point>,
}

/// A request whose response was not found.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct UnansweredRequest {
    /// When and where.
    pub at: Option<Point>,
    /// Its location (also when it has no time).
    pub loc: Loc,
    /// `request.path`, unless beyond the number kept per chunk.
    pub path: Option<String>,
    /// `request.operation`.
    pub operation: crate::model::Operation,
}

/// A response whose request was not found.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct OrphanResponse {
    /// Hash of `request.id`.
    pub id: u64,
    /// When and where.
    pub at: Option<Point>,
    /// Its location.
    pub loc: Loc,
    /// `request.path`, unless beyond the number kept per chunk.
    pub path: Option<String>,
    /// `request.operation`.
    pub operation: crate::model::Operation,
}

/// Something noticed about an input itself (incremental scans).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Notice {
    /// The input.
    pub file: u32,
    /// When it was noticed.
    pub at: Timestamp,
    /// What.
    pub detail: String,
}

/// An input that changed under this scan (see `source::open`).
#[derive(Clone, Debug)]
pub struct ScanTruncation {
    /// The last entry read from it.
    pub last: Option<Timestamp>,
    /// Where reading ended (the first line not read).
    pub loc: Loc,
    /// What happened.
    pub detail: String,
}

/// Inputs for the final gap analysis.
pub struct GapInputs<'a> {
    /// Every chunk's timeline, sorted by (file, chunk).
    pub timelines: Vec<(u32, &'a Timeline)>,
    /// Malformed runs, sorted by location.
    pub malformed: Vec<MalformedRun>,
    /// Markers from everywhere.
    pub markers: Vec<Marker>,
    /// Requests without responses (excluding those Vault never answers: probes, seals).
    pub unanswered: Vec<UnansweredRequest>,
    /// Responses without requests.
    pub orphans: Vec<OrphanResponse>,
    /// Family of each input, by index.
    pub families: Vec<String>,
    /// First and last timed entry of each input, by index.
    pub file_bounds: Vec<Option<(Point, Point)>>,
    /// Inputs truncated between incremental runs.
    pub notices: Vec<Notice>,
    /// Inputs that changed while this scan read them.
    pub truncations: Vec<ScanTruncation>,
    /// Entries with an impossible or unparseable time, sorted by location.
    pub bad_times: Vec<crate::scan::BadTime>,
}

/// Settings for gap analysis.
#[derive(Clone, Copy, Debug)]
pub struct GapSettings {
    /// Quiet periods longer than this are reported.
    pub gap: Span,
    /// A seal up to this long before a quiet period explains it.
    pub seal_window: Span,
    /// Reordering tolerated between consecutive lines before time counts as going backwards.
    pub skew: Span,
    /// An unanswered request this close to its input's last entry is `possibly-in-flight`.
    pub in_flight: Span,
}

/// Finds every gap, earliest first.
pub fn analyse(
    inp: GapInputs<'_>,
    cfg: GapSettings,
    resolve: &dyn Fn(Loc) -> Location,
) -> GapReport {
    let mut gaps = Vec::new();
    quiet_periods(&inp, cfg, resolve, &mut gaps);
    regressions(&inp, cfg.skew, resolve, &mut gaps);
    for m in &inp.markers {
        let (kind, detail) = match m.kind {
            MarkerKind::AuditProbe => (
                GapKind::DeviceRestart,
                "audit device enabled (sys/audit/test probe): HMACs before and after may use different salts",
            ),
            MarkerKind::AuditDisable => (
                GapKind::DeviceDisabled,
                "audit device disabled: later entries may be missing from this device",
            ),
            MarkerKind::Seal | MarkerKind::StepDown => continue,
        };
        // Every log a device writes begins with its probe; only a probe mid-file is a restart.
        let starts_file = inp
            .file_bounds
            .get(m.at.loc.file as usize)
            .copied()
            .flatten()
            .is_some_and(|(first, _)| first == m.at);
        let explained = (kind == GapKind::DeviceRestart && starts_file).then_some("log-start");
        gaps.push(point_gap(
            kind,
            m.at,
            explained,
            detail.to_string(),
            resolve,
        ));
    }
    for r in &inp.unanswered {
        gaps.push(missing_response(&inp, cfg, r, resolve));
    }
    for o in &inp.orphans {
        let enables_device = o
            .path
            .as_deref()
            .is_some_and(|p| p.starts_with("sys/audit/"))
            && o.operation.is_write();
        gaps.push(Gap {
            kind: GapKind::MissingRequest,
            start: o.at.map(|p| p.time),
            end: o.at.map(|p| p.time),
            seconds: None,
            explained_by: enables_device.then_some("audit-device-enabled"),
            detail: format!(
                "{} {}: response logged without its request",
                o.operation.as_str(),
                path_or_note(&o.path)
            ),
            evidence: vec![resolve(o.loc)],
        });
    }
    for n in &inp.notices {
        gaps.push(Gap {
            kind: GapKind::InputTruncated,
            start: Some(n.at),
            end: Some(n.at),
            seconds: None,
            explained_by: None,
            detail: n.detail.clone(),
            evidence: vec![resolve(Loc::absolute(n.file, 0, 0))],
        });
    }
    for t in &inp.truncations {
        gaps.push(Gap {
            kind: GapKind::TruncatedDuringScan,
            start: t.last,
            end: None,
            seconds: None,
            explained_by: None,
            detail: t.detail.clone(),
            evidence: vec![resolve(t.loc)],
        });
    }
    for b in &inp.bad_times {
        gaps.push(impossible_time(b, resolve));
    }
    for run in &inp.malformed {
        gaps.push(Gap {
            kind: GapKind::MalformedRegion,
            start: run.before.map(|p| p.time),
            end: None,
            seconds: None,
            explained_by: None,
            detail: format!("{} consecutive malformed line(s)", run.lines),
            evidence: vec![resolve(run.first), resolve(run.last)],
        });
    }
    gaps.sort_by(|a, b| (a.start, a.kind, &a.evidence).cmp(&(b.start, b.kind, &b.evidence)));
    cap(gaps)
}

fn impossible_time(b: &crate::scan::BadTime, resolve: &dyn Fn(Loc) -> Location) -> Gap {
    let detail = match b.fault {
        crate::scan::TimeFault::Impossible(None) => {
            "entry dated after 2262, beyond any clock: analysed as untimed".to_string()
        }
        crate::scan::TimeFault::Impossible(Some(t)) => format!(
            "entry dated {t}, before 2015 or more than a day after the wall clock: analysed as untimed"
        ),
        crate::scan::TimeFault::Unparseable => {
            "entry whose time is not an RFC 3339 time: analysed as untimed".to_string()
        }
    };
    Gap {
        kind: GapKind::ImpossibleTime,
        // Never the impossible time itself: it must not become a timeline endpoint. Not the
        // entry before either: which one that is depends on chunk boundaries.
        start: None,
        end: None,
        seconds: None,
        explained_by: None,
        detail,
        evidence: vec![resolve(b.loc)],
    }
}

fn missing_response(
    inp: &GapInputs<'_>,
    cfg: GapSettings,
    r: &UnansweredRequest,
    resolve: &dyn Fn(Loc) -> Location,
) -> Gap {
    let last = inp
        .file_bounds
        .get(r.loc.file as usize)
        .copied()
        .flatten()
        .map(|(_, last)| last.time);
    let near_end = matches!((r.at, last), (Some(at), Some(l)) if at.time >= l.minus(cfg.in_flight));
    let note = if near_end {
        "request logged, no response in any input (it may still have been in flight when the log was copied)"
    } else {
        "request logged, no response in any input"
    };
    Gap {
        kind: GapKind::MissingResponse,
        start: r.at.map(|p| p.time),
        end: r.at.map(|p| p.time),
        seconds: None,
        explained_by: near_end.then_some("possibly-in-flight"),
        detail: format!("{} {}: {note}", r.operation.as_str(), path_or_note(&r.path)),
        evidence: vec![resolve(r.loc)],
    }
}

fn path_or_note(p: &Option<String>) -> std::borrow::Cow<'_, str> {
    match p {
        Some(p) => crate::redact::path(p),
        None => std::borrow::Cow::Borrowed("(path not kept)"),
    }
}

/// Gaps of one kind listed in a report; the rest are counted in [`GapReport::omitted`].
pub const GAPS_PER_KIND: usize = 1000;

/// The gaps of a scan.
#[derive(Clone, Debug, Default)]
pub struct GapReport {
    /// Up to [`GAPS_PER_KIND`] of each kind, earliest first.
    pub gaps: Vec<Gap>,
    /// How many of each kind were not listed.
    pub omitted: std::collections::BTreeMap<GapKind, u64>,
    /// Gaps nothing explains, listed or not.
    pub unexplained: usize,
}

fn cap(all: Vec<Gap>) -> GapReport {
    let mut per: std::collections::HashMap<GapKind, usize> = std::collections::HashMap::new();
    let mut r = GapReport {
        unexplained: all.iter().filter(|g| g.explained_by.is_none()).count(),
        ..GapReport::default()
    };
    for g in all {
        let n = per.entry(g.kind).or_default();
        *n += 1;
        if *n <= GAPS_PER_KIND {
            r.gaps.push(g);
        } else {
            *r.omitted.entry(g.kind).or_default() += 1;
        }
    }
    r
}

fn point_gap(
    kind: GapKind,
    at: Point,
    explained_by: Option<&'static str>,
    detail: String,
    resolve: &dyn Fn(Loc) -> Location,
) -> Gap {
    Gap {
        kind,
        start: Some(at.time),
        end: Some(at.time),
        seconds: None,
        explained_by,
        detail,
        evidence: vec![resolve(at.loc)],
    }
}

fn quiet_periods(
    inp: &GapInputs<'_>,
    cfg: GapSettings,
    resolve: &dyn Fn(Loc) -> Location,
    out: &mut Vec<Gap>,
) {
    let all: Vec<Interval> = inp
        .timelines
        .iter()
        .flat_map(|(_, t)| t.intervals.iter().copied())
        .collect();
    let merged = merge_intervals(all, cfg.gap);
    for pair in merged.windows(2) {
        let (before, after) = (pair[0].end, pair[1].start);
        let seconds = after.time.since(before.time);
        let explained_by = quiet_explanation(inp, cfg, before);
        let rotation = is_rotation_hole(inp, before, after);
        let (kind, detail) = if rotation {
            (
                GapKind::RotationHole,
                format!("no entries for {seconds} between two rotated files of the same log"),
            )
        } else {
            (
                GapKind::QuietPeriod,
                format!("no entries for {seconds} in any input"),
            )
        };
        out.push(Gap {
            kind,
            start: Some(before.time),
            end: Some(after.time),
            seconds: Some(seconds.as_secs_f64()),
            explained_by,
            detail,
            evidence: vec![resolve(before.loc), resolve(after.loc)],
        });
    }
}

/// The seal or step-down that explains a quiet period starting at `before`, if any.
///
/// A seal explains the silence only when it is the last entry its device logged before the
/// quiet period (and within the seal window of its start): anything the same device logged
/// after it (the cluster was unsealed and served requests) ends the explanation, and a later
/// cut is as unexplained as any other.
fn quiet_explanation(inp: &GapInputs<'_>, cfg: GapSettings, before: Point) -> Option<&'static str> {
    inp.markers
        .iter()
        .filter(|m| matches!(m.kind, MarkerKind::Seal | MarkerKind::StepDown))
        .filter(|m| m.at.time <= before.time && m.at.time >= before.time.minus(cfg.seal_window))
        .filter(|m| last_entry_before(inp, m.at.loc.file, before) == Some(m.at))
        .max_by_key(|m| m.at.time)
        .map(|m| match m.kind {
            MarkerKind::Seal => "seal",
            _ => "step-down",
        })
}

/// The latest entry of input `file` at or before `before` (a quiet period's start: no input
/// has entries between it and the quiet period's end).
fn last_entry_before(inp: &GapInputs<'_>, file: u32, before: Point) -> Option<Point> {
    inp.timelines
        .iter()
        .filter(|(f, _)| *f == file)
        .flat_map(|(_, t)| t.intervals.iter())
        .map(|i| i.end)
        .filter(|end| end.time <= before.time)
        .max_by_key(|end| (end.time, end.loc))
}

fn is_rotation_hole(inp: &GapInputs<'_>, before: Point, after: Point) -> bool {
    let (fa, fb) = (before.loc.file as usize, after.loc.file as usize);
    if fa == fb || inp.families.get(fa) != inp.families.get(fb) {
        return false;
    }
    let ends_file = inp
        .file_bounds
        .get(fa)
        .copied()
        .flatten()
        .is_some_and(|(_, last)| last == before);
    let starts_file = inp
        .file_bounds
        .get(fb)
        .copied()
        .flatten()
        .is_some_and(|(first, _)| first == after);
    ends_file && starts_file
}

fn regressions(
    inp: &GapInputs<'_>,
    skew: Span,
    resolve: &dyn Fn(Loc) -> Location,
    out: &mut Vec<Gap>,
) {
    let mut push = |r: &Regression| {
        let back = r.from.time.since(r.to.time);
        out.push(Gap {
            kind: GapKind::TimeBackwards,
            start: Some(r.from.time),
            end: Some(r.to.time),
            seconds: Some(-back.as_secs_f64()),
            explained_by: None,
            detail: format!("time goes back {back} from one line to the next"),
            evidence: vec![resolve(r.from.loc), resolve(r.to.loc)],
        });
    };
    for (_, t) in &inp.timelines {
        t.regressions.iter().for_each(&mut push);
    }
    boundary_regressions(&inp.timelines, skew)
        .iter()
        .for_each(&mut push);
}

/// Regressions between consecutive timelines (chunks, or runs) of the same input.
pub fn boundary_regressions(timelines: &[(u32, &Timeline)], skew: Span) -> Vec<Regression> {
    timelines
        .windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .filter_map(|pair| {
            let (last, first) = (pair[0].1.last?, pair[1].1.first?);
            (first.time.plus(skew) < last.time).then_some(Regression {
                from: last,
                to: first,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    fn pt(file: u32, secs: i64, line: u64) -> Point {
        Point {
            time: Timestamp(secs * 1_000_000_000),
            loc: Loc {
                file,
                line_in_chunk: line,
                ..Loc::default()
            },
        }
    }

    fn timeline(file: u32, secs: &[i64]) -> Timeline {
        let mut t = Timeline::new(Span::from_secs(10), Span::from_secs(1));
        for (i, s) in secs.iter().enumerate() {
            t.observe(pt(file, *s, i as u64));
        }
        t.finish();
        t
    }

    fn settings() -> GapSettings {
        GapSettings {
            gap: Span::from_secs(10),
            seal_window: Span::from_secs(60),
            skew: Span::from_secs(1),
            in_flight: Span::from_secs(5),
        }
    }

    fn run(
        t: &Timeline,
        seal_line: u64,
        seal_at: i64,
        unanswered: Vec<UnansweredRequest>,
    ) -> GapReport {
        let last = t.last.unwrap();
        analyse(
            GapInputs {
                timelines: vec![(0, t)],
                malformed: vec![],
                markers: vec![Marker {
                    at: pt(0, seal_at, seal_line),
                    kind: MarkerKind::Seal,
                }],
                unanswered,
                orphans: vec![],
                families: vec!["a".into()],
                file_bounds: vec![Some((t.first.unwrap(), last))],
                notices: vec![],
                truncations: vec![],
                bad_times: vec![],
            },
            settings(),
            &|l: Loc| Location {
                file: "a".into(),
                line: l.line_in_chunk + 1,
                offset: 0,
            },
        )
    }

    fn quiet_periods(r: &GapReport) -> Vec<&Gap> {
        r.gaps
            .iter()
            .filter(|g| g.kind == GapKind::QuietPeriod)
            .collect()
    }

    #[test]
    fn a_seal_explains_the_quiet_period_only_as_the_devices_last_entry_before_it() {
        // Seal at 100 (line 1), quiet until 200: explained.
        let t = timeline(0, &[99, 100, 200, 201]);
        let r = run(&t, 1, 100, vec![]);
        let q = quiet_periods(&r);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].explained_by, Some("seal"));
        // Seal at 100, sealed until 115, traffic at 115, then a cut until 150: the first quiet
        // period is the seal's, the cut after the traffic is not.
        let t = timeline(0, &[99, 100, 115, 115, 150, 151]);
        let r = run(&t, 1, 100, vec![]);
        let q = quiet_periods(&r);
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].explained_by, Some("seal"));
        assert_eq!(q[1].explained_by, None, "{:?}", q[1]);
        assert_eq!(r.unexplained, 1);
    }

    #[test]
    fn every_unanswered_request_is_listed_and_those_at_the_end_are_labelled() {
        let t = timeline(0, &[0, 1, 2, 3, 100, 101]);
        let req = |secs, line| UnansweredRequest {
            at: Some(pt(0, secs, line)),
            loc: pt(0, secs, line).loc,
            path: Some("kv/data/a".into()),
            operation: crate::model::Operation::Read,
        };
        let r = run(&t, 99, 0, vec![req(2, 2), req(100, 4)]);
        let m: Vec<_> = r
            .gaps
            .iter()
            .filter(|g| g.kind == GapKind::MissingResponse)
            .collect();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].explained_by, None);
        assert_eq!(m[0].evidence[0].line, 3);
        assert_eq!(m[1].explained_by, Some("possibly-in-flight"));
    }
}
