//! The merge step, after every chunk is read: [`finish`] merges the chunks and the carry into one
//! log, pairs requests across chunks, carries what the next incremental run needs
//! ([`super::carry::assemble`]), analyses what stays unanswered, finds the gaps and builds the
//! [`ScanResult`].

use std::collections::HashMap;

use super::analysis::Analysis;
use super::carry::{
    CarriedFile, CarriedMalformed, CarriedTimeline, Carry, FileProgress, abs_point,
};
use super::pairing::{Pairing, pair_across_chunks};
use super::result::{InputRecord, Locator, MalformedRecord, ScanResult};
use super::worker::{ChunkSummary, OpenDetail, OpenRequest, Worker, analyse};
use super::{Context, Extension, ScanError};
use crate::detect::DetectState;
use crate::gaps::{
    self, GapInputs, GapSettings, MalformedRun, Notice, OrphanResponse, Point, Timeline,
    UnansweredRequest,
};
use crate::model::{Loc, Timestamp};
use crate::parse::Parser;
use crate::persist::Persisted;
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

/// Turns the merged worker state (and, incremental, the earlier runs' carry) into the result,
/// and the carry for the next run when `carry` is given. The extension's state is final once
/// the in-flight requests are analysed: `then` takes it from there once the result is built
/// (on the current rayon pool).
pub(super) fn finish<E, R, F>(
    ctx: &Context<'_, E>,
    inputs: &[Input],
    infos: Vec<Option<InputInfo>>,
    errors: Vec<(u32, SourceError)>,
    mut worker: Worker<'_, E>,
    carry: Option<Carry>,
    then: F,
) -> Result<super::Scanned<R>, ScanError>
where
    E: Extension,
    F: FnOnce(E::State) -> R + Send,
    R: Send,
{
    let stateful = carry.is_some();
    let mut carry = carry.unwrap_or_default();
    let mut log = merge(ctx, inputs, &mut worker, &mut carry)?;
    let mut loose = pair(ctx, &mut worker, &mut log, carry);
    let next = if stateful {
        Some(super::carry::assemble(ctx, &mut worker, &log, &loose)?)
    } else {
        None
    };
    analyse_in_flight(ctx, &mut worker, &mut loose);
    let reads = Reads {
        inputs,
        infos,
        errors,
    };
    let gaps = analyse_gaps(ctx, &reads, &mut worker, &log, loose.gap_inputs());
    let (analysis, ext) = (worker.analysis, worker.ext);
    let samples = loose.samples;
    // One after the other, not side by side: building the result frees the detection state,
    // and `then` (a scan's ranking) allocates tables of its own. Side by side, and without the
    // trim, the process held both. On a 10 GB busy log, the order and the trim together took
    // 31 MiB off the two-thread peak of `scan` (docs/performance.md), for 0.16 s of a 15 s run.
    let result = result(ctx, reads, analysis, log, samples, gaps);
    super::trim::return_free_pages();
    let ext = then(ext);
    Ok(super::Scanned {
        result,
        ext,
        carry: next,
    })
}

/// What the producers reported about this run's inputs.
struct Reads<'i> {
    inputs: &'i [Input],
    /// By position in `inputs`; `None` when the input could not be opened.
    infos: Vec<Option<InputInfo>>,
    /// By input id.
    errors: Vec<(u32, SourceError)>,
}

/// This run's chunks and the carried state as one log: names, line numbers, bounds, timelines.
pub(super) struct MergedLog {
    /// Input names by id (empty for ids neither this run nor the carry knows).
    pub(super) names: Vec<String>,
    /// Input families by id.
    pub(super) families: Vec<String>,
    /// This run's chunk summaries, by input and chunk.
    pub(super) sums: Vec<ChunkSummary>,
    /// Resolves this run's locations.
    pub(super) locator: Locator,
    /// Where each input's entries start and end, by id.
    pub(super) bounds: Vec<Option<Bounds>>,
    /// Per input, the carried timeline first, then this run's chunks'.
    pub(super) timelines: Vec<(u32, Timeline)>,
}

impl MergedLog {
    /// The same place as an absolute location (valid in later runs).
    pub(super) fn abs(&self, loc: Loc) -> Loc {
        self.locator.absolute(loc)
    }
}

/// What the merge leaves outside the timelines, carried ones included: requests and responses
/// without partners, malformed lines and bad times, notices.
pub(super) struct Loose {
    /// Requests within the response grace of their input's end (kept raw for the next run).
    pub(super) in_flight: Vec<OpenRequest>,
    /// The same requests as listed in this report.
    pub(super) in_flight_listed: Vec<UnansweredRequest>,
    /// Requests without responses (already analysed).
    pub(super) unanswered: Vec<UnansweredRequest>,
    /// Responses without requests.
    pub(super) orphans: Vec<OrphanResponse>,
    /// Runs of malformed lines, absolute.
    pub(super) runs: Vec<MalformedRun>,
    /// Entries with an unusable time, absolute, in order.
    pub(super) bad_times: Vec<BadTime>,
    /// Malformed line samples, absolute, earliest first, capped.
    pub(super) samples: Vec<CarriedMalformed>,
    /// Inputs truncated between runs.
    pub(super) notices: Vec<Notice>,
}

/// The parts of [`Loose`] the gap analysis reads.
struct LooseGaps {
    unanswered: Vec<UnansweredRequest>,
    orphans: Vec<OrphanResponse>,
    runs: Vec<MalformedRun>,
    bad_times: Vec<BadTime>,
    notices: Vec<Notice>,
}

impl Loose {
    fn gap_inputs(&mut self) -> LooseGaps {
        LooseGaps {
            unanswered: std::mem::take(&mut self.unanswered),
            orphans: std::mem::take(&mut self.orphans),
            runs: std::mem::take(&mut self.runs),
            bad_times: std::mem::take(&mut self.bad_times),
            notices: std::mem::take(&mut self.notices),
        }
    }
}

/// Merges the carry's accumulators into the worker's and this run's chunks into one log.
fn merge<E: Extension>(
    ctx: &Context<'_, E>,
    inputs: &[Input],
    worker: &mut Worker<'_, E>,
    carry: &mut Carry,
) -> Result<MergedLog, ScanError> {
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
    restore(ctx, worker, carry)?;
    let bounds = file_bounds(n, &carry.timelines, &sums);
    let mut timelines: Vec<(u32, Timeline)> = carry
        .timelines
        .iter()
        .map(|t| (t.file, t.to_timeline(ctx.settings.gap, ctx.settings.skew)))
        .collect();
    let empty = Timeline::new(ctx.settings.gap, ctx.settings.skew);
    timelines.extend(
        sums.iter_mut()
            .map(|s| (s.file, std::mem::replace(&mut s.timeline, empty.clone()))),
    );
    // Stable: an input's carried timeline stays before this run's chunks of it.
    timelines.sort_by_key(|(f, _)| *f);
    Ok(MergedLog {
        names,
        families,
        sums,
        locator,
        bounds,
        timelines,
    })
}

/// Pairs requests and responses across chunks and runs, and gathers what stays loose.
fn pair<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    log: &mut MergedLog,
    carry: Carry,
) -> Loose {
    let carried_open = carry.open_requests.into_iter().map(|r| OpenRequest {
        id: r.id,
        loc: r.loc,
        detail: OpenDetail::Raw(r.raw.into_bytes()),
    });
    let Pairing {
        mut unanswered,
        in_flight,
        in_flight_listed,
    } = pair_across_chunks(
        ctx,
        worker,
        &mut log.sums,
        carried_open.collect(),
        &log.bounds,
    );
    unanswered.extend(carry.unanswered);
    let new_orphans: Vec<_> = log
        .sums
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.orphans))
        .collect();
    worker.analysis.stats.orphan_responses += new_orphans.len() as u64;
    let mut orphans = carry.orphans;
    orphans.extend(new_orphans);

    let runs = merged_runs(carry.runs, &log.sums, &log.locator);
    let locator = &log.locator;
    let mut bad_times = carry.bad_times;
    bad_times.extend(log.sums.iter_mut().flat_map(|s| {
        std::mem::take(&mut s.bad_times)
            .into_iter()
            .map(|b| BadTime {
                loc: locator.absolute(b.loc),
                ..b
            })
    }));
    bad_times.sort_by_key(|b| b.loc);
    let mut samples: Vec<CarriedMalformed> = carry.malformed;
    samples.extend(
        log.sums
            .iter_mut()
            .flat_map(|s| std::mem::take(&mut s.samples))
            .map(|(loc, kind)| CarriedMalformed {
                loc: locator.absolute(loc),
                kind: kind.code().to_string(),
                message: kind.to_string(),
            }),
    );
    samples.sort_by_key(|m| m.loc);
    samples.truncate(ctx.settings.malformed_samples);
    Loose {
        in_flight,
        in_flight_listed,
        unanswered,
        orphans,
        runs,
        bad_times,
        samples,
        notices: carry.notices,
    }
}

/// Requests still in flight count in this report as if the log ended here; an incremental run
/// has already carried them (raw) so the next run can still pair them.
fn analyse_in_flight<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    loose: &mut Loose,
) {
    let mut parser = Parser::with_validation(ctx.settings.read.validation);
    for r in std::mem::take(&mut loose.in_flight) {
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
    loose.unanswered.append(&mut loose.in_flight_listed);
}

/// Audit gaps over the merged timelines and everything loose.
fn analyse_gaps<E: Extension>(
    ctx: &Context<'_, E>,
    reads: &Reads<'_>,
    worker: &mut Worker<'_, E>,
    log: &MergedLog,
    loose: LooseGaps,
) -> gaps::GapReport {
    let bounds = &log.bounds;
    let Reads {
        inputs,
        infos,
        errors,
    } = reads;
    let truncations = super::truncation::changed_inputs(inputs, infos, errors, &log.sums, |f| {
        bounds
            .get(f as usize)
            .copied()
            .flatten()
            .map(|b| b.last.time)
    });
    gaps::analyse(
        GapInputs {
            timelines: log.timelines.iter().map(|(f, t)| (*f, t)).collect(),
            malformed: loose.runs,
            markers: std::mem::take(&mut worker.analysis.markers),
            unanswered: loose.unanswered,
            orphans: loose.orphans,
            families: log.families.clone(),
            file_bounds: bounds
                .iter()
                .map(|b| b.map(|b| (b.first, b.last)))
                .collect(),
            notices: loose.notices,
            truncations,
            bad_times: loose.bad_times,
        },
        GapSettings {
            gap: ctx.settings.gap,
            seal_window: ctx.settings.seal_window,
            skew: ctx.settings.skew,
            in_flight: ctx.settings.in_flight,
        },
        &|loc| log.locator.resolve(loc),
    )
}

/// What the reports read.
fn result<E: Extension>(
    ctx: &Context<'_, E>,
    reads: Reads<'_>,
    mut analysis: Analysis,
    log: MergedLog,
    samples: Vec<CarriedMalformed>,
    gaps: gaps::GapReport,
) -> ScanResult {
    let Reads {
        inputs,
        infos,
        errors,
    } = reads;
    let resolve = |loc: Loc| log.locator.resolve(loc);
    let malformed = samples
        .into_iter()
        .map(|m| MalformedRecord {
            location: resolve(m.loc),
            kind: m.kind,
            message: m.message,
        })
        .collect();
    analysis.activity.settle();
    let (detect, table) = (analysis.detect, analysis.secrets);
    let (findings, (secrets, tenants, tenant_layout)) = rayon::join(
        || ctx.detector.finish(detect, &resolve),
        || table.finish(ctx.tenants, &resolve),
    );
    let progress = progress(inputs, &infos, &log.sums);
    let input_records = input_records(inputs, infos, errors, &log.sums, &log.bounds);
    let first_entry = log.bounds.iter().flatten().map(|b| b.earliest).min();
    let last_entry = log.bounds.iter().flatten().map(|b| b.latest).max();
    ScanResult {
        inputs: input_records,
        stats: analysis.stats.into(),
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
        locator: log.locator,
        progress,
        activity: analysis.activity,
    }
}

/// Merges the carried accumulators into this run's.
fn restore<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    carry: &Carry,
) -> Result<(), ScanError> {
    // The last merge: every worker has stopped.
    worker.take_shared();
    worker.analysis.stats.merge(&carry.stats);
    worker.analysis.activity.merge(&carry.activity);
    worker.analysis.secrets.absorb(SecretTable::restore(
        carry.secrets.clone(),
        ctx.settings.readers,
    )?);
    let detect = DetectState::restore(carry.detect.clone(), ctx.detector)?;
    worker.analysis.detect.merge(detect);
    let ext = ctx.ext.restore(carry.ext.clone())?;
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
