//! What an incremental scan carries from one run to the next.
//!
//! Splitting a log at any line and scanning it in two runs must give the same report as one
//! run, so the carry holds everything the analyses have accumulated: counts, secrets, rule
//! state, the timeline of each input, requests still waiting for a response (raw), responses
//! and requests without partners, malformed runs and extension state (token lineage). Every
//! location in it is absolute ([`Loc::ABSOLUTE`]), because chunk numbers mean nothing to the
//! next run. Its size grows with distinct secrets, tokens and gaps, not with the log.

use super::finish::{Bounds, Loose, MergedLog};
use super::worker::{OpenDetail, Worker};
use super::{Context, Extension, ScanError};
use crate::detect::DetectSnapshot;
use crate::gaps::{
    self, Interval, MalformedRun, Marker, Notice, OrphanResponse, Point, Regression, Timeline,
    UnansweredRequest, merge_intervals,
};
use crate::model::{Loc, Span, Timestamp};
use crate::persist::Persisted;
use crate::scan::Stats;
use crate::scope::SecretSnapshot;

/// The carry between incremental runs.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Carry {
    /// Every input seen so far: names for evidence in files not read this run.
    pub files: Vec<CarriedFile>,
    /// Counts.
    pub stats: Stats,
    /// Secrets read.
    pub secrets: Vec<SecretSnapshot>,
    /// Findings and rule state.
    pub detect: DetectSnapshot,
    /// Extension state (token lineage for `blast`).
    pub ext: serde_json::Value,
    /// Seals, probes, device disables.
    pub markers: Vec<Marker>,
    /// Per input: bounds, activity and regressions so far.
    pub timelines: Vec<CarriedTimeline>,
    /// Requests still waiting for their response.
    pub open_requests: Vec<CarriedRequest>,
    /// Responses without requests.
    pub orphans: Vec<OrphanResponse>,
    /// Requests without responses (already analysed).
    pub unanswered: Vec<UnansweredRequest>,
    /// Runs of malformed lines.
    pub runs: Vec<MalformedRun>,
    /// Entries with an impossible or unparseable time (located ones; absent in older state).
    #[serde(default)]
    pub bad_times: Vec<crate::scan::BadTime>,
    /// Malformed lines kept as samples.
    pub malformed: Vec<CarriedMalformed>,
    /// Inputs truncated between runs.
    pub notices: Vec<Notice>,
    /// Activity over time (absent in state files written before it was carried).
    #[serde(default)]
    pub activity: crate::scan::activity::Activity,
}

/// Builds the carry for the next run from the merged log, before the requests still in flight
/// are analysed for this report (the next run may yet pair them). Every location is made
/// absolute.
pub(super) fn assemble<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    log: &MergedLog,
    loose: &Loose,
) -> Result<Carry, ScanError> {
    let abs = |loc: Loc| log.abs(loc);
    let an = &mut worker.analysis;
    Ok(Carry {
        files: carried_files(log),
        stats: carried_stats(&an.stats, log),
        secrets: an.secrets.save(ctx.settings.readers, &abs)?,
        detect: an.detect.save(ctx.detector, &abs)?,
        ext: ctx.ext.save(&worker.ext, &abs)?,
        markers: an
            .markers
            .iter()
            .map(|m| Marker {
                at: abs_point(m.at, &abs),
                kind: m.kind,
            })
            .collect(),
        timelines: carry_timelines(log, ctx, &abs),
        open_requests: loose
            .in_flight
            .iter()
            .filter_map(|r| match &r.detail {
                OpenDetail::Raw(raw) => Some(CarriedRequest {
                    id: r.id,
                    loc: abs(r.loc),
                    raw: String::from_utf8_lossy(raw).into_owned(),
                }),
                OpenDetail::Analysed { .. } => None,
            })
            .collect(),
        orphans: loose
            .orphans
            .iter()
            .map(|o| OrphanResponse {
                at: o.at.map(|p| abs_point(p, &abs)),
                loc: abs(o.loc),
                ..o.clone()
            })
            .collect(),
        unanswered: loose
            .unanswered
            .iter()
            .map(|u| UnansweredRequest {
                at: u.at.map(|p| abs_point(p, &abs)),
                loc: abs(u.loc),
                ..u.clone()
            })
            .collect(),
        runs: loose.runs.clone(),
        bad_times: loose.bad_times.clone(),
        malformed: loose.samples.clone(),
        notices: loose.notices.clone(),
        activity: {
            an.activity.settle();
            an.activity.clone()
        },
    })
}

/// Every input this run or an earlier one knows, by id.
fn carried_files(log: &MergedLog) -> Vec<CarriedFile> {
    (0..log.names.len())
        .filter(|id| !log.names[*id].is_empty())
        .map(|id| CarriedFile {
            id: id as u32,
            display: log.names[id].clone(),
            family: log.families[id].clone(),
        })
        .collect()
}

/// The counts so far, without unterminated last lines: the next run reads them again.
fn carried_stats(stats: &Stats, log: &MergedLog) -> Stats {
    let pending_tails = log.sums.iter().filter(|s| s.tail_pending).count() as u64;
    let mut carried = stats.clone();
    carried.lines -= pending_tails;
    carried.partial_last_lines -= pending_tails;
    carried
}

/// Per input, everything the gap analysis needs next time, merged and absolute.
fn carry_timelines<E: Extension>(
    log: &MergedLog,
    ctx: &Context<'_, E>,
    abs: &dyn Fn(Loc) -> Loc,
) -> Vec<CarriedTimeline> {
    let mut out = Vec::new();
    let bounds: &[Option<Bounds>] = &log.bounds;
    for (file, b) in bounds.iter().enumerate() {
        let Some(b) = b else {
            continue;
        };
        let mine: Vec<(u32, &Timeline)> = log
            .timelines
            .iter()
            .filter(|(f, _)| *f as usize == file)
            .map(|(f, t)| (*f, t))
            .collect();
        let intervals: Vec<_> = mine
            .iter()
            .flat_map(|(_, t)| t.intervals.iter().map(|i| abs_interval(*i, abs)))
            .collect();
        let mut regressions: Vec<_> = mine
            .iter()
            .flat_map(|(_, t)| t.regressions.iter().map(|r| abs_regression(*r, abs)))
            .collect();
        let boundary = gaps::boundary_regressions(&mine, ctx.settings.skew);
        let count =
            mine.iter().map(|(_, t)| t.regression_count).sum::<u64>() + boundary.len() as u64;
        regressions.extend(boundary.into_iter().map(|r| abs_regression(r, abs)));
        regressions.truncate(gaps::GAPS_PER_KIND);
        out.push(CarriedTimeline {
            file: file as u32,
            first: abs_point(b.first, abs),
            last: abs_point(b.last, abs),
            lo: b.earliest,
            hi: b.latest,
            intervals: merge_intervals(intervals, ctx.settings.gap),
            regressions,
            regression_count: count,
        });
    }
    out
}

/// An input by id.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CarriedFile {
    /// Its id (the `file` of its locations).
    pub id: u32,
    /// Its path as last seen.
    pub display: String,
    /// Its family.
    pub family: String,
}

/// An input's timeline so far.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CarriedTimeline {
    /// The input.
    pub file: u32,
    /// First timed entry in file order.
    pub first: Point,
    /// Last timed entry in file order.
    pub last: Point,
    /// Earliest time.
    pub lo: Timestamp,
    /// Latest time.
    pub hi: Timestamp,
    /// Activity intervals, merged.
    pub intervals: Vec<Interval>,
    /// Time going backwards (capped).
    pub regressions: Vec<Regression>,
    /// All regressions.
    pub regression_count: u64,
}

impl CarriedTimeline {
    /// A timeline the gap analysis can use.
    pub fn to_timeline(&self, gap: Span, skew: Span) -> Timeline {
        let mut t = Timeline::new(gap, skew);
        t.first = Some(self.first);
        t.last = Some(self.last);
        t.intervals = self.intervals.clone();
        t.regressions = self.regressions.clone();
        t.regression_count = self.regression_count;
        t
    }
}

/// A request still waiting for its response.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CarriedRequest {
    /// Hash of `request.id` (seeded by the state file).
    pub id: u64,
    /// Where.
    pub loc: Loc,
    /// The raw entry (UTF-8 JSON: it parsed).
    pub raw: String,
}

/// A malformed line sample.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CarriedMalformed {
    /// Where.
    pub loc: Loc,
    /// Reason code.
    pub kind: String,
    /// Message.
    pub message: String,
}

/// Where an input stands after a run: what the next run resumes from.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct FileProgress {
    /// The input.
    pub file: u32,
    /// Offset after the last line consumed (an unterminated last line that did not parse is
    /// left for the next run).
    pub consumed_to: u64,
    /// Lines before `consumed_to`.
    pub lines: u64,
}

/// Rewrites a point's location.
pub fn abs_point(p: Point, abs: &dyn Fn(Loc) -> Loc) -> Point {
    Point {
        time: p.time,
        loc: abs(p.loc),
    }
}

/// Rewrites an interval's locations.
pub fn abs_interval(i: Interval, abs: &dyn Fn(Loc) -> Loc) -> Interval {
    Interval {
        start: abs_point(i.start, abs),
        end: abs_point(i.end, abs),
    }
}

/// Rewrites a regression's locations.
pub fn abs_regression(r: Regression, abs: &dyn Fn(Loc) -> Loc) -> Regression {
    Regression {
        from: abs_point(r.from, abs),
        to: abs_point(r.to, abs),
    }
}
