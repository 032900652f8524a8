//! The merge step: line numbers, pairing across chunks (and runs), unanswered requests, gaps,
//! findings, and for incremental scans the carry to the next run.

use std::collections::HashMap;

use super::carry::{
    CarriedFile, CarriedMalformed, CarriedRequest, CarriedTimeline, Carry, FileProgress,
    abs_interval, abs_point, abs_regression,
};
use super::worker::{ChunkSummary, OpenDetail, OpenRequest, Worker, analyse};
use super::{Context, Extension, ScanError, Stats};
use crate::detect::Finding;
use crate::gaps::{
    self, Gap, GapInputs, GapSettings, MalformedRun, Point, Timeline, UnansweredRequest,
    merge_intervals,
};
use crate::model::{Loc, Location, Operation, Timestamp};
use crate::parse::Parser;
use crate::scope::{SecretRecord, SecretTable, TenantRecord};
use crate::source::{Compression, Input, InputInfo, ReadPath, SourceError};

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
    pub stats: Stats,
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
    pub activity: super::activity::Activity,
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

/// Per input: first and last entry in file order, and earliest and latest time.
type Bounds = Option<(Point, Point, Timestamp, Timestamp)>;

pub(super) fn finish<E: Extension>(
    ctx: &Context<'_, E>,
    inputs: &[Input],
    infos: Vec<Option<InputInfo>>,
    errors: Vec<(u32, SourceError)>,
    mut worker: Worker<'_, E>,
    carry: Option<Carry>,
) -> Result<(ScanResult, E::State, Option<Carry>), ScanError> {
    let stateful = carry.is_some();
    let carry = carry.unwrap_or_default();
    let n = inputs
        .iter()
        .map(|i| i.index as usize + 1)
        .chain(carry.files.iter().map(|f| f.id as usize + 1))
        .max()
        .unwrap_or(0);
    let (names, families) = names_and_families(n, inputs, &carry.files);
    let mut sums = std::mem::take(&mut worker.summaries);
    sums.sort_by_key(|s| (s.file, s.index));
    let locator = line_index(n, inputs, &sums, names.clone());
    let resolve = |loc: Loc| locator.resolve(loc);
    let abs = |loc: Loc| locator.absolute(loc);

    restore(ctx, &mut worker, &carry)?;
    let bounds = file_bounds(n, &carry.timelines, &sums);
    let mut owned_tl: Vec<(u32, Timeline)> = carry
        .timelines
        .iter()
        .map(|t| (t.file, t.to_timeline(ctx.settings.gap, ctx.settings.skew)))
        .collect();
    let empty = Timeline::new(ctx.settings.gap, ctx.settings.skew);
    owned_tl.extend(
        sums.iter_mut()
            .map(|s| (s.file, std::mem::replace(&mut s.timeline, empty.clone()))),
    );
    // Stable: an input's carried timeline stays before this run's chunks of it.
    owned_tl.sort_by_key(|(f, _)| *f);
    let timelines: Vec<(u32, &Timeline)> = owned_tl.iter().map(|(f, t)| (*f, t)).collect();

    let carried_open = carry.open_requests.into_iter().map(|r| OpenRequest {
        id: r.id,
        loc: r.loc,
        detail: OpenDetail::Raw(r.raw.into_bytes()),
    });
    let Pairing {
        mut unanswered,
        in_flight,
        in_flight_listed,
    } = pair_across_chunks(ctx, &mut worker, &mut sums, carried_open.collect(), &bounds);
    unanswered.extend(carry.unanswered);
    let new_orphans: Vec<_> = sums
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.orphans))
        .collect();
    worker.analysis.stats.orphan_responses += new_orphans.len() as u64;
    let mut orphans = carry.orphans;
    orphans.extend(new_orphans);

    let runs = merged_runs(carry.runs, &sums, &locator);
    let mut samples: Vec<CarriedMalformed> = carry.malformed;
    samples.extend(
        sums.iter_mut()
            .flat_map(|s| std::mem::take(&mut s.samples))
            .map(|(loc, kind)| CarriedMalformed {
                loc: abs(loc),
                kind: kind.code().to_string(),
                message: kind.to_string(),
            }),
    );
    samples.sort_by_key(|m| m.loc);
    samples.truncate(ctx.settings.malformed_samples);

    // An unterminated last line left for the next run must not count in what is carried.
    let pending_tails = sums.iter().filter(|s| s.tail_pending).count() as u64;
    let mut carried_stats = worker.analysis.stats.clone();
    carried_stats.lines -= pending_tails;
    carried_stats.partial_last_lines -= pending_tails;
    let next = stateful.then(|| Carry {
        files: (0..n as u32)
            .filter(|id| !names[*id as usize].is_empty())
            .map(|id| CarriedFile {
                id,
                display: names[id as usize].clone(),
                family: families[id as usize].clone(),
            })
            .collect(),
        stats: carried_stats,
        secrets: worker.analysis.secrets.snapshot(&abs),
        detect: ctx.detector.snapshot(&worker.analysis.detect, &abs),
        ext: ctx.ext.save(&worker.ext, &abs),
        markers: worker
            .analysis
            .markers
            .iter()
            .map(|m| crate::gaps::Marker {
                at: abs_point(m.at, &abs),
                kind: m.kind,
            })
            .collect(),
        timelines: carry_timelines(&timelines, &bounds, ctx, &abs),
        open_requests: in_flight
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
        orphans: orphans
            .iter()
            .map(|o| crate::gaps::OrphanResponse {
                at: o.at.map(|p| abs_point(p, &abs)),
                loc: abs(o.loc),
                ..o.clone()
            })
            .collect(),
        unanswered: unanswered
            .iter()
            .map(|u| UnansweredRequest {
                at: u.at.map(|p| abs_point(p, &abs)),
                loc: abs(u.loc),
                ..u.clone()
            })
            .collect(),
        runs: runs.clone(),
        malformed: samples.clone(),
        notices: carry.notices.clone(),
        activity: {
            worker.analysis.activity.settle();
            worker.analysis.activity.clone()
        },
    });

    // Requests still in flight count in this report as if the log ended here; an incremental
    // run carries them (above) so the next run can still pair them.
    let mut parser = Parser::new();
    for r in in_flight {
        worker.analysis.stats.unanswered_requests += 1;
        worker.analysis.stats.in_flight_requests += 1;
        if let OpenDetail::Raw(raw) = r.detail {
            let (an, ext) = (&mut worker.analysis, &mut worker.ext);
            parser.parse_one(&raw, |res| {
                if let Ok(ev) = res {
                    analyse(ctx, an, ext, &ev, r.loc);
                    ctx.ext.unanswered(ext, &ev, r.loc);
                }
            });
        }
    }
    unanswered.extend(in_flight_listed);

    let truncations = super::truncation::changed_inputs(inputs, &infos, &errors, &sums, |f| {
        bounds.get(f as usize).copied().flatten().map(|b| b.1.time)
    });
    let gaps = gaps::analyse(
        GapInputs {
            timelines,
            malformed: runs,
            markers: std::mem::take(&mut worker.analysis.markers),
            unanswered,
            orphans,
            families,
            file_bounds: bounds
                .iter()
                .map(|b| b.map(|(first, last, _, _)| (first, last)))
                .collect(),
            notices: carry.notices,
            truncations,
        },
        GapSettings {
            gap: ctx.settings.gap,
            seal_window: ctx.settings.seal_window,
            skew: ctx.settings.skew,
            in_flight: ctx.settings.in_flight,
        },
        &resolve,
    );
    let malformed = samples
        .into_iter()
        .map(|m| MalformedRecord {
            location: resolve(m.loc),
            kind: m.kind,
            message: m.message,
        })
        .collect();

    let mut analysis = worker.analysis;
    analysis.activity.settle();
    let findings = ctx.detector.finish(analysis.detect, &resolve);
    let (secrets, tenants, tenant_layout) = analysis.secrets.finish(ctx.tenants, &resolve);
    let progress = progress(inputs, &infos, &sums);
    let input_records = input_records(inputs, infos, errors, &sums, &bounds);
    let first_event = bounds.iter().flatten().map(|b| b.2).min();
    let last_event = bounds.iter().flatten().map(|b| b.3).max();
    let result = ScanResult {
        inputs: input_records,
        stats: analysis.stats,
        findings,
        secrets,
        tenants,
        tenant_layout,
        gaps: gaps.gaps,
        gaps_omitted: gaps.omitted,
        unexplained_gaps: gaps.unexplained,
        malformed,
        first_event,
        last_event,
        locator,
        progress,
        activity: analysis.activity,
    };
    Ok((result, worker.ext, next))
}

/// Merges the carried accumulators into this run's.
fn restore<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    carry: &Carry,
) -> Result<(), ScanError> {
    worker.analysis.stats.merge(&carry.stats);
    worker.analysis.activity.merge(&carry.activity);
    worker
        .analysis
        .secrets
        .merge(SecretTable::restore(carry.secrets.clone()));
    let detect = ctx
        .detector
        .restore(carry.detect.clone())
        .map_err(|e| ScanError::State(e.to_string()))?;
    worker.analysis.detect.merge(detect);
    let ext = ctx.ext.load(carry.ext.clone()).map_err(ScanError::State)?;
    ctx.ext.merge(&mut worker.ext, ext);
    worker
        .analysis
        .markers
        .extend(carry.markers.iter().copied());
    Ok(())
}

fn names_and_families(
    n: usize,
    inputs: &[Input],
    carried: &[CarriedFile],
) -> (Vec<String>, Vec<String>) {
    let mut names = vec![String::new(); n];
    let mut families = vec![String::new(); n];
    for f in carried {
        names[f.id as usize] = f.display.clone();
        families[f.id as usize] = f.family.clone();
    }
    for i in inputs {
        names[i.index as usize] = i.display.clone();
        families[i.index as usize] = i.family.clone();
    }
    (names, families)
}

fn line_index(n: usize, inputs: &[Input], sums: &[ChunkSummary], names: Vec<String>) -> Locator {
    let mut starts: Vec<Vec<u64>> = vec![Vec::new(); n];
    for i in inputs {
        starts[i.index as usize].push(i.resume.line);
    }
    for s in sums {
        // Chunks are dense and sorted, so `v[index]` is the number of lines before chunk `index`.
        let v = &mut starts[s.file as usize];
        let next = v.last().copied().unwrap_or(0);
        v.push(next + u64::from(s.lines));
    }
    Locator { starts, names }
}

fn file_bounds(n: usize, carried: &[CarriedTimeline], sums: &[ChunkSummary]) -> Vec<Bounds> {
    let mut out: Vec<Bounds> = vec![None; n];
    let mut add = |file: usize, first: Point, last: Point, lo: Timestamp, hi: Timestamp| {
        out[file] = Some(match out[file] {
            None => (first, last, lo, hi),
            Some((f, _, l, h)) => (f, last, l.min(lo), h.max(hi)),
        });
    };
    for t in carried {
        add(t.file as usize, t.first, t.last, t.lo, t.hi);
    }
    for s in sums {
        let t = &s.timeline;
        let (Some(first), Some(last)) = (t.first, t.last) else {
            continue;
        };
        let lo = t
            .intervals
            .iter()
            .map(|i| i.start.time)
            .min()
            .unwrap_or(first.time);
        let hi = t
            .intervals
            .iter()
            .map(|i| i.end.time)
            .max()
            .unwrap_or(last.time);
        add(s.file as usize, first, last, lo, hi);
    }
    out
}

/// Per input, everything the gap analysis needs next time, merged and absolute.
fn carry_timelines<E: Extension>(
    timelines: &[(u32, &Timeline)],
    bounds: &[Bounds],
    ctx: &Context<'_, E>,
    abs: &dyn Fn(Loc) -> Loc,
) -> Vec<CarriedTimeline> {
    let mut out = Vec::new();
    for (file, b) in bounds.iter().enumerate() {
        let Some((first, last, lo, hi)) = b else {
            continue;
        };
        let mine: Vec<(u32, &Timeline)> = timelines
            .iter()
            .filter(|(f, _)| *f as usize == file)
            .copied()
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
            first: abs_point(*first, abs),
            last: abs_point(*last, abs),
            lo: *lo,
            hi: *hi,
            intervals: merge_intervals(intervals, ctx.settings.gap),
            regressions,
            regression_count: count,
        });
    }
    out
}

/// What pairing across chunks leaves unanswered.
#[derive(Default)]
struct Pairing {
    /// Requests past the response grace with no response (already analysed), carried as such.
    unanswered: Vec<UnansweredRequest>,
    /// Requests within the response grace of their input's end, kept raw for the next run.
    in_flight: Vec<OpenRequest>,
    /// The same requests as listed in this report.
    in_flight_listed: Vec<UnansweredRequest>,
}

/// Matches requests left open (in a chunk, or by an earlier run) with responses that were
/// orphans in another chunk, then analyses the requests that have no response and are past
/// the response grace. Every unanswered request is listed, except those Vault never answers.
fn pair_across_chunks<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    sums: &mut [ChunkSummary],
    carried: Vec<OpenRequest>,
    bounds: &[Bounds],
) -> Pairing {
    let mut open: HashMap<u64, Vec<OpenRequest>> = HashMap::new();
    for r in carried.into_iter().chain(
        sums.iter_mut()
            .flat_map(|s| std::mem::take(&mut s.open_requests)),
    ) {
        open.entry(r.id).or_default().push(r);
    }
    let stats = &mut worker.analysis.stats;
    for s in sums.iter_mut() {
        s.orphans
            .retain(|o| match open.get_mut(&o.id).and_then(|v| v.pop()) {
                Some(_) => {
                    stats.paired_requests += 1;
                    false
                }
                None => true,
            });
    }
    let mut rest: Vec<OpenRequest> = open.into_values().flatten().collect();
    rest.sort_by_key(|r| r.loc);
    let mut parser = Parser::new();
    let mut out = Pairing::default();
    for r in rest {
        let last = bounds
            .get(r.loc.file as usize)
            .copied()
            .flatten()
            .map(|b| b.1.time);
        let (time, path, operation) = match &r.detail {
            OpenDetail::Raw(raw) => {
                let seen = parser.parse_one(raw, |res| {
                    res.ok().map(|ev| {
                        (
                            ev.time,
                            Some(ev.request.path.to_string()),
                            ev.request.operation,
                        )
                    })
                });
                let Some(seen) = seen else { continue };
                seen
            }
            OpenDetail::Analysed {
                at,
                path,
                operation,
            } => (at.map(|p| p.time), path.clone(), *operation),
        };
        let flying =
            matches!((time, last), (Some(t), Some(l)) if t >= l.minus(ctx.settings.response_grace));
        let by_design = path
            .as_deref()
            .is_some_and(|p| p == "sys/audit/test" || is_request_only(p, operation));
        let listed = (!by_design).then(|| UnansweredRequest {
            at: time.map(|time| Point { time, loc: r.loc }),
            loc: r.loc,
            path,
            operation,
        });
        if flying && matches!(r.detail, OpenDetail::Raw(_)) {
            // Carried (raw) to the next incremental run, which may still see its response;
            // this report lists it all the same.
            out.in_flight_listed.extend(listed);
            out.in_flight.push(r);
            continue;
        }
        worker.analysis.stats.unanswered_requests += 1;
        if let OpenDetail::Raw(raw) = &r.detail {
            let (an, ext) = (&mut worker.analysis, &mut worker.ext);
            parser.parse_one(raw, |res| {
                if let Ok(ev) = res {
                    analyse(ctx, an, ext, &ev, r.loc);
                    ctx.ext.unanswered(ext, &ev, r.loc);
                }
            });
        }
        if flying {
            worker.analysis.stats.in_flight_requests += 1;
        }
        out.unanswered.extend(listed);
    }
    out
}

/// Requests Vault logs without a response by design.
fn is_request_only(path: &str, op: Operation) -> bool {
    // Disabling a device deregisters it before the response would be written to it; sealing
    // tears down every device before the response (OpenBao 2.7 logs the `sys/seal` request
    // only; the quiet period that follows is explained by the seal).
    (path.starts_with("sys/audit/") && op == Operation::Delete) || path == "sys/seal"
}

/// Runs of malformed lines, joined across chunk (and run) boundaries, with absolute locations.
fn merged_runs(
    carried: Vec<MalformedRun>,
    sums: &[ChunkSummary],
    locator: &Locator,
) -> Vec<MalformedRun> {
    let mut all = carried;
    for s in sums {
        for r in &s.runs {
            all.push(MalformedRun {
                first: locator.absolute(r.first),
                last: locator.absolute(r.last),
                lines: r.lines,
                before: r.before.map(|p| abs_point(p, &|l| locator.absolute(l))),
            });
        }
    }
    all.sort_by_key(|r| r.first);
    let mut out: Vec<MalformedRun> = Vec::new();
    for run in all {
        if let Some(prev) = out.last_mut()
            && prev.last.file == run.first.file
            && prev.last.line_in_chunk + 1 == run.first.line_in_chunk
        {
            prev.last = run.last;
            prev.lines += run.lines;
            continue;
        }
        out.push(run);
    }
    out
}

fn progress(
    inputs: &[Input],
    infos: &[Option<InputInfo>],
    sums: &[ChunkSummary],
) -> Vec<FileProgress> {
    inputs
        .iter()
        .enumerate()
        .filter_map(|(pos, input)| {
            let info = infos[pos].as_ref()?;
            let mine = sums.iter().filter(|s| s.file == input.index);
            let lines: u64 = mine.clone().map(|s| u64::from(s.lines)).sum();
            let pending = mine.clone().any(|s| s.tail_pending);
            let read_to = info.start + info.bytes;
            Some(FileProgress {
                file: input.index,
                consumed_to: if pending { info.complete_end } else { read_to },
                lines: input.resume.line + lines - u64::from(pending),
            })
        })
        .collect()
}

fn input_records(
    inputs: &[Input],
    mut infos: Vec<Option<InputInfo>>,
    errors: Vec<(u32, SourceError)>,
    sums: &[ChunkSummary],
    bounds: &[Bounds],
) -> Vec<InputRecord> {
    let mut recs: Vec<InputRecord> = inputs
        .iter()
        .enumerate()
        .map(|(pos, input)| {
            let info = infos[pos].take();
            let b = bounds.get(input.index as usize).copied().flatten();
            InputRecord {
                path: input.display.clone(),
                family: input.family.clone(),
                bytes: info.as_ref().map_or(0, |x| x.bytes),
                stored_bytes: info.as_ref().and_then(|x| x.stored_bytes),
                compression: info.as_ref().map(|x| x.compression),
                read_path: info.as_ref().map(|x| x.read_path),
                pretty: info.as_ref().is_some_and(|x| x.pretty),
                resumed_at: input.resume.offset,
                lines: 0,
                events: 0,
                malformed: 0,
                first_event: b.map(|b| b.2),
                last_event: b.map(|b| b.3),
                error: None,
            }
        })
        .collect();
    let pos_of: HashMap<u32, usize> = inputs
        .iter()
        .enumerate()
        .map(|(p, i)| (i.index, p))
        .collect();
    for s in sums {
        let Some(&p) = pos_of.get(&s.file) else {
            continue;
        };
        let r = &mut recs[p];
        r.lines += u64::from(s.lines);
        r.events += s.entries;
        r.malformed += s.malformed;
    }
    for (i, e) in errors {
        let Some(&p) = pos_of.get(&i) else { continue };
        let r = &mut recs[p];
        r.error = Some(match r.error.take() {
            Some(prev) => format!("{prev}; {e}"),
            None => e.to_string(),
        });
    }
    recs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_device_disables_have_no_response_by_design() {
        assert!(is_request_only("sys/seal", Operation::Update));
        assert!(is_request_only("sys/audit/file", Operation::Delete));
        assert!(!is_request_only("sys/audit/file", Operation::Update));
        assert!(!is_request_only("sys/unseal", Operation::Update));
        assert!(!is_request_only("sys/seal-status", Operation::Read));
    }
}
