//! The merge step: line numbers, pairing across chunks (and runs), unanswered requests, gaps,
//! findings, and for incremental scans the carry to the next run.

use std::collections::HashMap;

use super::carry::{
    CarriedFile, CarriedMalformed, CarriedRequest, CarriedTimeline, Carry, FileProgress,
    abs_interval, abs_point, abs_regression,
};
use super::pairing::{Pairing, pair_across_chunks};
use super::result::{InputRecord, Locator, MalformedRecord, ScanResult};
use super::worker::{ChunkSummary, OpenDetail, OpenRequest, Worker, analyse};
use super::{Context, Extension, ScanError};
use crate::gaps::{
    self, GapInputs, GapSettings, MalformedRun, Point, Timeline, UnansweredRequest, merge_intervals,
};
use crate::model::{Loc, Timestamp};
use crate::parse::Parser;
use crate::scan::BadTime;
use crate::scope::SecretTable;
use crate::source::{Input, InputInfo, SourceError};

/// Where one input's entries start and end.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds {
    /// The first entry in file order.
    pub(super) first: Point,
    /// The last entry in file order.
    pub(super) last: Point,
    /// The earliest entry time.
    pub(super) earliest: Timestamp,
    /// The latest entry time.
    pub(super) latest: Timestamp,
}

pub(super) fn finish<E: Extension>(
    ctx: &Context<'_, E>,
    inputs: &[Input],
    infos: Vec<Option<InputInfo>>,
    errors: Vec<(u32, SourceError)>,
    mut worker: Worker<'_, E>,
    carry: Option<Carry>,
) -> Result<super::Scanned<E::State>, ScanError> {
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
    let mut bad_times = carry.bad_times;
    bad_times.extend(sums.iter_mut().flat_map(|s| {
        std::mem::take(&mut s.bad_times)
            .into_iter()
            .map(|b| BadTime {
                loc: abs(b.loc),
                ..b
            })
    }));
    bad_times.sort_by_key(|b| b.loc);
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
    let next = if !stateful {
        None
    } else {
        Some(Carry {
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
            detect: ctx.detector.snapshot(&worker.analysis.detect, &abs)?,
            ext: ctx.ext.save(&worker.ext, &abs)?,
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
            bad_times: bad_times.clone(),
            malformed: samples.clone(),
            notices: carry.notices.clone(),
            activity: {
                worker.analysis.activity.settle();
                worker.analysis.activity.clone()
            },
        })
    };

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
                    let ev = ctx.settings.plausible.blank(ev);
                    analyse(ctx, an, ext, &ev, r.loc);
                    ctx.ext.unanswered(ext, &ev, r.loc);
                }
            });
        }
    }
    unanswered.extend(in_flight_listed);

    let truncations = super::truncation::changed_inputs(inputs, &infos, &errors, &sums, |f| {
        bounds
            .get(f as usize)
            .copied()
            .flatten()
            .map(|b| b.last.time)
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
                .map(|b| b.map(|b| (b.first, b.last)))
                .collect(),
            notices: carry.notices,
            truncations,
            bad_times,
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
    let first_entry = bounds.iter().flatten().map(|b| b.earliest).min();
    let last_entry = bounds.iter().flatten().map(|b| b.latest).max();
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
        first_entry,
        last_entry,
        locator,
        progress,
        activity: analysis.activity,
    };
    Ok(super::Scanned {
        result,
        ext: worker.ext,
        carry: next,
    })
}

/// Merges the carried accumulators into this run's.
fn restore<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    carry: &Carry,
) -> Result<(), ScanError> {
    worker.analysis.stats.merge(&carry.stats);
    worker.analysis.activity.merge(&carry.activity);
    worker.analysis.secrets.merge(SecretTable::restore(
        carry.secrets.clone(),
        ctx.settings.readers,
    ));
    let detect = ctx.detector.restore(carry.detect.clone())?;
    worker.analysis.detect.merge(detect);
    let ext = ctx.ext.load(carry.ext.clone())?;
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
    Locator::new(starts, names)
}

fn file_bounds(
    n: usize,
    carried: &[CarriedTimeline],
    sums: &[ChunkSummary],
) -> Vec<Option<Bounds>> {
    let mut out: Vec<Option<Bounds>> = vec![None; n];
    let mut add = |file: usize, first: Point, last: Point, lo: Timestamp, hi: Timestamp| {
        out[file] = Some(match out[file] {
            None => Bounds {
                first,
                last,
                earliest: lo,
                latest: hi,
            },
            Some(b) => Bounds {
                first: b.first,
                last,
                earliest: b.earliest.min(lo),
                latest: b.latest.max(hi),
            },
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
    bounds: &[Option<Bounds>],
    ctx: &Context<'_, E>,
    abs: &dyn Fn(Loc) -> Loc,
) -> Vec<CarriedTimeline> {
    let mut out = Vec::new();
    for (file, b) in bounds.iter().enumerate() {
        let Some(b) = b else {
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
    bounds: &[Option<Bounds>],
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
                entries: 0,
                malformed: 0,
                first_entry: b.map(|b| b.earliest),
                last_entry: b.map(|b| b.latest),
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
        r.entries += s.entries;
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
