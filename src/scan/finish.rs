//! The merge step: line numbers, pairing across chunks, unanswered requests, gaps, findings.

use std::collections::HashMap;

use super::worker::{ChunkSummary, OpenDetail, OpenRequest, Worker, analyse};
use super::{Context, Extension, Stats};
use crate::detect::Finding;
use crate::gaps::{self, Gap, GapInputs, GapSettings, MalformedRun, Point, UnansweredRequest};
use crate::model::{Loc, Location, Operation, Timestamp};
use crate::parse::Parser;
use crate::scope::{SecretRecord, TenantRecord};
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
    /// Lines.
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
    pub kind: &'static str,
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
    /// The file, one-based line and byte offset of `loc`.
    pub fn resolve(&self, loc: Loc) -> Location {
        let base = self
            .starts
            .get(loc.file as usize)
            .and_then(|s| s.get(loc.chunk as usize))
            .copied()
            .unwrap_or(0);
        Location {
            file: self
                .names
                .get(loc.file as usize)
                .cloned()
                .unwrap_or_default(),
            line: base + u64::from(loc.line_in_chunk) + 1,
            offset: loc.offset,
        }
    }
}

pub(super) fn finish<E: Extension>(
    ctx: &Context<'_, E>,
    inputs: &[Input],
    infos: Vec<Option<InputInfo>>,
    errors: Vec<(u32, SourceError)>,
    mut worker: Worker<'_, E>,
) -> (ScanResult, E::State) {
    let mut sums = std::mem::take(&mut worker.summaries);
    sums.sort_by_key(|s| (s.file, s.index));
    let index = line_index(inputs, &sums);
    let resolve = |loc: Loc| index.resolve(loc);
    let bounds = file_bounds(inputs.len(), &sums);

    let unanswered = pair_across_chunks(ctx, &mut worker, &mut sums, &bounds);
    let orphans: Vec<_> = sums
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.orphans))
        .collect();
    worker.analysis.stats.orphan_responses = orphans.len() as u64;

    let gaps = gaps::analyse(
        GapInputs {
            timelines: sums.iter().map(|s| (s.file, &s.timeline)).collect(),
            malformed: merged_runs(&sums),
            markers: std::mem::take(&mut worker.analysis.markers),
            unanswered,
            orphans,
            families: inputs.iter().map(|i| i.family.clone()).collect(),
            file_bounds: bounds
                .iter()
                .map(|b| b.map(|(first, last, _, _)| (first, last)))
                .collect(),
        },
        GapSettings {
            gap: ctx.settings.gap,
            seal_window: ctx.settings.seal_window,
            skew: ctx.settings.skew,
        },
        &resolve,
    );

    let mut malformed: Vec<(Loc, crate::parse::ParseErrorKind)> = sums
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.samples))
        .collect();
    malformed.sort_by_key(|(l, _)| *l);
    malformed.truncate(ctx.settings.malformed_samples);
    let malformed = malformed
        .into_iter()
        .map(|(loc, kind)| MalformedRecord {
            location: resolve(loc),
            kind: kind.code(),
            message: kind.to_string(),
        })
        .collect();

    let analysis = worker.analysis;
    let findings = ctx.detector.finish(analysis.detect, &resolve);
    let (secrets, tenants) = analysis.secrets.finish(ctx.tenants, &resolve);
    let input_records = input_records(inputs, infos, errors, &sums, &bounds);
    let first_event = input_records.iter().filter_map(|i| i.first_event).min();
    let last_event = input_records.iter().filter_map(|i| i.last_event).max();
    let result = ScanResult {
        inputs: input_records,
        stats: analysis.stats,
        findings,
        secrets,
        tenants,
        gaps: gaps.gaps,
        gaps_omitted: gaps.omitted,
        unexplained_gaps: gaps.unexplained,
        malformed,
        first_event,
        last_event,
        locator: index,
    };
    (result, worker.ext)
}

fn line_index(inputs: &[Input], sums: &[ChunkSummary]) -> Locator {
    let mut starts: Vec<Vec<u64>> = vec![Vec::new(); inputs.len()];
    for s in sums {
        let v = &mut starts[s.file as usize];
        let next = v.last().copied().unwrap_or(0);
        // Chunks are dense and sorted, so `v[index]` is the number of lines before chunk `index`.
        if v.is_empty() {
            v.push(0);
        }
        v.push(next + u64::from(s.lines));
    }
    Locator {
        starts,
        names: inputs.iter().map(|i| i.display.clone()).collect(),
    }
}

/// Per input: first and last entry in file order, and earliest and latest time.
type Bounds = Option<(Point, Point, Timestamp, Timestamp)>;

fn file_bounds(n: usize, sums: &[ChunkSummary]) -> Vec<Bounds> {
    let mut out: Vec<Bounds> = vec![None; n];
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
        out[s.file as usize] = Some(match out[s.file as usize] {
            None => (first, last, lo, hi),
            Some((f, _, l, h)) => (f, last, l.min(lo), h.max(hi)),
        });
    }
    out
}

/// Matches requests left open in one chunk with responses that were orphans in another, then
/// analyses requests that have no response anywhere. Returns the unanswered ones that are gaps.
fn pair_across_chunks<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    sums: &mut [ChunkSummary],
    bounds: &[Bounds],
) -> Vec<UnansweredRequest> {
    let mut open: HashMap<u64, Vec<OpenRequest>> = HashMap::new();
    for s in sums.iter_mut() {
        for r in std::mem::take(&mut s.open_requests) {
            open.entry(r.id).or_default().push(r);
        }
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
    let mut out = Vec::new();
    for r in rest {
        worker.analysis.stats.unanswered_requests += 1;
        let (time, path, operation) = match r.detail {
            OpenDetail::Raw(raw) => {
                let (an, ext) = (&mut worker.analysis, &mut worker.ext);
                let seen = parser.parse_one(&raw, |res| {
                    let ev = res.ok()?;
                    analyse(ctx, an, ext, &ev, r.loc);
                    Some((
                        ev.time,
                        Some(ev.request.path.to_string()),
                        ev.request.operation,
                    ))
                });
                let Some(seen) = seen else { continue };
                seen
            }
            OpenDetail::Analysed {
                at,
                path,
                operation,
            } => (at.map(|p| p.time), path, operation),
        };
        let last = bounds
            .get(r.loc.file as usize)
            .copied()
            .flatten()
            .map(|b| b.1.time);
        let in_flight =
            matches!((time, last), (Some(t), Some(l)) if t >= l.minus(ctx.settings.response_grace));
        let by_design = path
            .as_deref()
            .is_some_and(|p| p == "sys/audit/test" || is_request_only(p, operation));
        if in_flight {
            worker.analysis.stats.in_flight_requests += 1;
        } else if !by_design {
            out.push(UnansweredRequest {
                at: time.map(|time| Point { time, loc: r.loc }),
                loc: r.loc,
                path,
                operation,
            });
        }
    }
    out
}

/// Requests Vault logs without a response by design.
fn is_request_only(path: &str, op: Operation) -> bool {
    // Disabling a device deregisters it before the response would be written to it.
    path.starts_with("sys/audit/") && op == Operation::Delete
}

/// Runs of malformed lines, joined across chunk boundaries.
fn merged_runs(sums: &[ChunkSummary]) -> Vec<MalformedRun> {
    let mut out: Vec<MalformedRun> = Vec::new();
    for s in sums {
        for run in &s.runs {
            if let Some(prev) = out.last_mut()
                && prev.last.file == run.first.file
                && prev.last.chunk + 1 == run.first.chunk
                && run.first.line_in_chunk == 0
                && prev_run_ends_chunk(sums, prev)
            {
                prev.last = run.last;
                prev.lines += run.lines;
                continue;
            }
            out.push(*run);
        }
    }
    out
}

fn prev_run_ends_chunk(sums: &[ChunkSummary], run: &MalformedRun) -> bool {
    sums.iter()
        .find(|s| s.file == run.last.file && s.index == run.last.chunk)
        .is_some_and(|s| run.last.line_in_chunk + 1 >= s.lines)
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
        .map(|(i, input)| {
            let info = infos[i].take();
            InputRecord {
                path: input.display.clone(),
                family: input.family.clone(),
                bytes: info.as_ref().map_or(0, |x| x.bytes),
                stored_bytes: info.as_ref().and_then(|x| x.stored_bytes),
                compression: info.as_ref().map(|x| x.compression),
                read_path: info.as_ref().map(|x| x.read_path),
                pretty: info.as_ref().is_some_and(|x| x.pretty),
                lines: 0,
                events: 0,
                malformed: 0,
                first_event: bounds[i].map(|b| b.2),
                last_event: bounds[i].map(|b| b.3),
                error: None,
            }
        })
        .collect();
    for s in sums {
        let r = &mut recs[s.file as usize];
        r.lines += u64::from(s.lines);
        r.events += s.entries;
        r.malformed += s.malformed;
    }
    for (i, e) in errors {
        let r = &mut recs[i as usize];
        r.error = Some(match r.error.take() {
            Some(prev) => format!("{prev}; {e}"),
            None => e.to_string(),
        });
    }
    recs
}
