//! The hot loop: one chunk at a time, one entry at a time.
//!
//! A request entry only records its time and id: the response repeats the request and adds the
//! outcome, so every analysis runs once per logical request, on the response. Requests whose
//! response is not in the same chunk are kept (their raw bytes) and either meet their response
//! in another chunk or are analysed on their own once the scan knows no response exists.

use std::collections::HashMap;
use std::hash::BuildHasher;

use super::analysis::{Analysis, SecretsTo, Stats};
use super::plausible::{BadTime, TimeFault, TimeRead};
use super::{Context, Extension};
use crate::gaps::{MalformedRun, Marker, OrphanResponse, Point, Timeline, marker_of};
use crate::model::secret::secret_access;
use crate::model::{Entry, EntryType, Loc};
use crate::parse::framing::{self, Framed, StreamItem};
use crate::parse::{ParseErrorKind, Parser};
use crate::scope::SecretTable;
use crate::source::{Chunk, ChunkData, Framing};

/// Malformed lines kept as samples per chunk.
const MALFORMED_SAMPLES_PER_CHUNK: usize = 64;
/// Entries with an impossible or unparseable time located per chunk; beyond this only counted.
const BAD_TIMES_PER_CHUNK: usize = 64;
/// Requests left open at a chunk's end whose raw entry is kept for later. A healthy log has a
/// handful (requests in flight at the boundary); beyond this, requests are analysed at once.
pub(crate) const OPEN_RAW_CAP: usize = 1024;
/// Unpaired entries per chunk tracked for pairing across chunks; beyond this only counted.
pub(crate) const TRACK_CAP: usize = 8192;
/// Unpaired entries per chunk whose path is kept for the report.
pub(crate) const PATH_CAP: usize = 128;

/// A request waiting for its response.
#[derive(Clone, Copy)]
struct Pending {
    start: usize,
    end: usize,
    loc: Loc,
}

/// A request with no response in its chunk.
pub(crate) struct OpenRequest {
    pub id: u64,
    pub loc: Loc,
    pub detail: OpenDetail,
}

/// What is kept of an open request.
pub(crate) enum OpenDetail {
    /// The raw entry, analysed at the end if no response turns up.
    Raw(Vec<u8>),
    /// Already analysed (the chunk had more open requests than are kept raw).
    Analysed {
        at: Option<Point>,
        path: Option<String>,
        operation: crate::model::Operation,
    },
}

/// What one chunk tells the merge step that depends on order.
pub(crate) struct ChunkSummary {
    pub file: u32,
    pub index: u32,
    pub lines: u32,
    /// The input's last chunk ended with an unterminated line that did not parse: a write in
    /// progress, left for the next incremental run.
    pub tail_pending: bool,
    pub bytes: u64,
    pub entries: u64,
    pub malformed: u64,
    pub timeline: Timeline,
    pub runs: Vec<MalformedRun>,
    open_run: Option<MalformedRun>,
    pub samples: Vec<(Loc, ParseErrorKind)>,
    /// Entries whose time was impossible or unparseable (the first [`BAD_TIMES_PER_CHUNK`]).
    pub bad_times: Vec<BadTime>,
    pub open_requests: Vec<OpenRequest>,
    pub orphans: Vec<OrphanResponse>,
}

/// Per-thread state.
pub(crate) struct Worker<'c, E: Extension> {
    ctx: &'c Context<'c, E>,
    parser: Parser,
    /// Re-parses entries from the original bytes (the main parser unescapes in place).
    reparser: Parser,
    pub analysis: Analysis,
    pub ext: E::State,
    pub summaries: Vec<ChunkSummary>,
    pending: HashMap<u64, Pending, foldhash::fast::FixedState>,
    /// The request fast path and its reused structural index.
    fast: crate::parse::fast::FastPath,
}

impl<'c, E: Extension> Worker<'c, E> {
    pub fn new(ctx: &'c Context<'c, E>) -> Self {
        Worker {
            ctx,
            parser: Parser::with_validation(ctx.settings.read.validation),
            reparser: Parser::with_validation(ctx.settings.read.validation),
            analysis: Analysis {
                stats: Stats::default(),
                secrets: SecretTable::with_readers(ctx.settings.readers),
                secrets_to: SecretsTo::Shared,
                detect: {
                    let mut d = ctx.detector.new_state();
                    d.share_groups(ctx.detector);
                    d
                },
                markers: Vec::new(),
                activity: Default::default(),
            },
            ext: ctx.ext.new_state(),
            summaries: Vec::new(),
            pending: HashMap::with_hasher(foldhash::fast::FixedState::with_seed(1)),
            fast: Default::default(),
        }
    }

    /// Merges another worker's results into this one.
    pub fn merge(&mut self, other: Worker<'c, E>) {
        self.take_shared();
        self.analysis.merge(other.analysis);
        self.ctx.ext.merge(&mut self.ext, other.ext);
        self.summaries.extend(other.summaries);
    }

    /// Takes over the secrets and correlation groups the workers recorded in the shared
    /// tables. Merges come after the workers of a phase have stopped; from now on this
    /// worker's own tables are written to.
    pub fn take_shared(&mut self) {
        self.analysis.detect.take_shared_groups(self.ctx.detector);
        self.analysis.secrets_to = SecretsTo::Own;
        let empty = SecretTable::with_readers(self.ctx.settings.readers);
        let shared = std::mem::replace(&mut *self.ctx.secrets(), empty);
        self.analysis.secrets.absorb(shared);
    }

    /// Processes one chunk.
    pub fn process(&mut self, chunk: Chunk<'_>) {
        let mut sum = ChunkSummary {
            file: chunk.file,
            index: chunk.index,
            lines: 0,
            tail_pending: false,
            bytes: chunk.data.bytes().len() as u64,
            entries: 0,
            malformed: 0,
            timeline: Timeline::new(self.ctx.settings.gap, self.ctx.settings.skew),
            runs: Vec::new(),
            open_run: None,
            samples: Vec::new(),
            bad_times: Vec::new(),
            open_requests: Vec::new(),
            orphans: Vec::new(),
        };
        let base = Loc {
            file: chunk.file,
            offset: chunk.offset,
            chunk: chunk.index,
            line_in_chunk: 0,
        };
        match &chunk.data {
            ChunkData::LongLine(len) => {
                sum.lines = 1;
                self.analysis.stats.lines += 1;
                sum.bytes = *len;
                self.malformed(&mut sum, base, ParseErrorKind::TooLong(*len as usize));
            }
            data => {
                let bytes = data.bytes();
                match chunk.framing {
                    Framing::Lines => self.lines(bytes, base, chunk.last, &mut sum),
                    Framing::Stream => self.stream(bytes, base, &mut sum),
                }
                self.close_open_requests(bytes, &mut sum);
            }
        }
        sum.timeline.finish();
        if let Some(run) = sum.open_run.take() {
            sum.runs.push(run);
        }
        self.ctx
            .ext
            .chunk_done(&mut self.ext, chunk.file, chunk.index);
        if let Some(p) = self.ctx.progress {
            p.fetch_add(sum.bytes, std::sync::atomic::Ordering::Relaxed);
        }
        self.summaries.push(sum);
        if let ChunkData::Owned(buf) = chunk.data {
            self.ctx.recycle(buf);
        }
    }

    /// Keeps the requests still waiting for a response: raw for the first few, analysed now
    /// beyond that (in a healthy log only requests in flight at the boundary are left).
    fn close_open_requests(&mut self, bytes: &[u8], sum: &mut ChunkSummary) {
        let mut open: Vec<(u64, Pending)> = self.pending.drain().collect();
        open.sort_by_key(|(_, p)| p.loc);
        for (i, (id, p)) in open.into_iter().enumerate() {
            if i < OPEN_RAW_CAP {
                sum.open_requests.push(OpenRequest {
                    id,
                    loc: p.loc,
                    detail: OpenDetail::Raw(bytes[p.start..p.end].to_vec()),
                });
                continue;
            }
            let Worker {
                ctx,
                reparser,
                analysis,
                ext,
                ..
            } = self;
            let detail = reparser.parse_one(&bytes[p.start..p.end], |res| {
                let ev = ctx.settings.plausible.blank(res.ok()?);
                analyse(ctx, analysis, ext, &ev, p.loc);
                Some(OpenDetail::Analysed {
                    at: ev.time.map(|time| Point { time, loc: p.loc }),
                    path: (i < OPEN_RAW_CAP + PATH_CAP).then(|| ev.request.path.to_string()),
                    operation: ev.request.operation,
                })
            });
            self.analysis.stats.early_analysed_requests += 1;
            match detail {
                Some(detail) if i < TRACK_CAP => sum.open_requests.push(OpenRequest {
                    id,
                    loc: p.loc,
                    detail,
                }),
                _ => self.analysis.stats.pairing_overflow += 1,
            }
        }
    }

    fn lines(&mut self, bytes: &[u8], base: Loc, last_chunk: bool, sum: &mut ChunkSummary) {
        let mut pos = 0usize;
        let mut line_no = 0u32;
        while pos < bytes.len() {
            let nl = memchr::memchr(b'\n', &bytes[pos..]).map(|i| pos + i);
            let end = nl.unwrap_or(bytes.len());
            let partial_tail = nl.is_none() && last_chunk;
            let loc = Loc {
                offset: base.offset + pos as u64,
                line_in_chunk: u64::from(line_no),
                ..base
            };
            let partial_before = self.analysis.stats.partial_last_lines;
            self.line(&bytes[pos..end], pos, loc, partial_tail, sum);
            sum.tail_pending =
                partial_tail && self.analysis.stats.partial_last_lines > partial_before;
            line_no += 1;
            pos = end + 1;
        }
        sum.lines = line_no;
    }

    fn line(
        &mut self,
        line: &[u8],
        at: usize,
        loc: Loc,
        partial_tail: bool,
        sum: &mut ChunkSummary,
    ) {
        self.analysis.stats.lines += 1;
        match framing::frame_line(line) {
            Framed::Blank => self.analysis.stats.blank_lines += 1,
            Framed::NotJson => {
                self.malformed_or_partial(sum, loc, ParseErrorKind::NotJson, partial_tail)
            }
            Framed::Jsonx => self.malformed(sum, loc, ParseErrorKind::Jsonx),
            Framed::Json {
                start,
                end,
                prefixed,
            } => {
                if end - start > self.ctx.settings.read.max_line_bytes {
                    self.malformed(sum, loc, ParseErrorKind::TooLong(end - start));
                    return;
                }
                if prefixed {
                    self.analysis.stats.prefixed_lines += 1;
                }
                self.parse(&line[start..end], at + start, loc, partial_tail, sum);
            }
        }
    }

    fn stream(&mut self, bytes: &[u8], base: Loc, sum: &mut ChunkSummary) {
        let mut pos = 0usize;
        let mut counted = 0usize;
        let mut line_no = 0u32;
        while let Some(item) = framing::next_object(bytes, pos) {
            let (start, end) = match item {
                StreamItem::Object { start, end } | StreamItem::Garbage { start, end } => {
                    (start, end)
                }
            };
            line_no += memchr::memchr_iter(b'\n', &bytes[counted..start]).count() as u32;
            counted = start;
            let loc = Loc {
                offset: base.offset + start as u64,
                line_in_chunk: u64::from(line_no),
                ..base
            };
            match item {
                StreamItem::Object { .. } => self.parse(&bytes[start..end], start, loc, false, sum),
                StreamItem::Garbage { .. } => {
                    self.malformed(
                        sum,
                        loc,
                        ParseErrorKind::InvalidJson("unbalanced braces or stray text".into()),
                    );
                }
            }
            pos = end;
        }
        let total = line_no + memchr::memchr_iter(b'\n', &bytes[counted..]).count() as u32;
        sum.lines = total + u32::from(!bytes.ends_with(b"\n") && !bytes.is_empty());
        self.analysis.stats.lines += u64::from(sum.lines);
    }

    /// Reads one framed entry, `json`, which starts at `start` in the chunk.
    fn parse(
        &mut self,
        json: &[u8],
        start: usize,
        loc: Loc,
        partial_tail: bool,
        sum: &mut ChunkSummary,
    ) {
        let Worker {
            ctx,
            parser,
            analysis,
            ext,
            pending,
            fast,
            ..
        } = self;
        let end = start + json.len();
        if !ctx.ext.wants_requests()
            && ctx.settings.read.validation == crate::parse::Validation::Fast
            && let Some(h) = fast.request_header(json)
        {
            let time = ctx
                .settings
                .plausible
                .judge(crate::model::Timestamp::parse(h.time), Some(h.time));
            let id = h.id.map(|id| ctx.id_hasher.hash_one(id));
            let seen = Seen {
                time,
                kind: EntryType::Request,
                id,
                loc,
            };
            if admit(ctx, analysis, sum, seen) == Admission::Fresh {
                request_seen(analysis, pending, id, (start, end), loc);
            }
            if let Some(run) = sum.open_run.take() {
                sum.runs.push(run);
            }
            return;
        }
        let mut tally = Tally {
            ctx,
            an: analysis,
            ext,
            pending,
            sum,
        };
        let outcome = parser.parse_one(json, |res| match res {
            Ok(ev) => {
                entry(&mut tally, &ev, loc, (start, end));
                None
            }
            Err(kind) => Some(kind),
        });
        if let Some(kind) = outcome {
            self.malformed_or_partial(sum, loc, kind, partial_tail);
        } else if let Some(run) = sum.open_run.take() {
            sum.runs.push(run);
        }
    }

    fn malformed_or_partial(
        &mut self,
        sum: &mut ChunkSummary,
        loc: Loc,
        kind: ParseErrorKind,
        partial_tail: bool,
    ) {
        if partial_tail {
            // The last line of an input without its newline: a write still in progress.
            self.analysis.stats.partial_last_lines += 1;
        } else {
            self.malformed(sum, loc, kind);
        }
    }

    fn malformed(&mut self, sum: &mut ChunkSummary, loc: Loc, kind: ParseErrorKind) {
        let stats = &mut self.analysis.stats;
        stats.malformed_lines += 1;
        *stats
            .malformed_by_kind
            .entry(kind.code().to_string())
            .or_default() += 1;
        sum.malformed += 1;
        match &mut sum.open_run {
            Some(run) if run.last.line_in_chunk + 1 == loc.line_in_chunk => {
                run.last = loc;
                run.lines += 1;
            }
            _ => {
                if let Some(run) = sum.open_run.take() {
                    sum.runs.push(run);
                }
                sum.open_run = Some(MalformedRun {
                    first: loc,
                    last: loc,
                    lines: 1,
                    before: sum.timeline.last,
                });
            }
        }
        if sum.samples.len() < MALFORMED_SAMPLES_PER_CHUNK {
            sum.samples.push((loc, kind));
        }
    }
}

/// What [`admit`] decided about an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admission {
    /// Analyse it.
    Fresh,
    /// Outside the time window: skipped.
    Outside,
    /// Already counted from another input: skipped, but extensions see the copy.
    Duplicate,
}

/// What [`admit`] needs to know of an entry.
#[derive(Clone, Copy)]
struct Seen {
    time: TimeRead,
    kind: EntryType,
    /// The request id, hashed.
    id: Option<u64>,
    loc: Loc,
}

/// The per-chunk state one parsed entry updates.
struct Tally<'t, 'c, E: Extension> {
    ctx: &'t Context<'c, E>,
    an: &'t mut Analysis,
    ext: &'t mut E::State,
    pending: &'t mut HashMap<u64, Pending, foldhash::fast::FixedState>,
    sum: &'t mut ChunkSummary,
}

/// Counts an entry and applies the window and de-duplication.
///
/// Every entry inside the window is on its own input's timeline, duplicates included: each
/// device's file has its own quiet periods, whichever copy of an event was counted.
fn admit<E: Extension>(
    ctx: &Context<'_, E>,
    an: &mut Analysis,
    sum: &mut ChunkSummary,
    seen: Seen,
) -> Admission {
    let Seen {
        time,
        kind,
        id,
        loc,
    } = seen;
    an.stats.entries += 1;
    sum.entries += 1;
    match time {
        TimeRead::Valid(t) if !ctx.settings.window.contains(t) => {
            an.stats.outside_window += 1;
            return Admission::Outside;
        }
        TimeRead::Valid(t) => sum.timeline.observe(Point { time: t, loc }),
        TimeRead::Missing => an.stats.untimed_entries += 1,
        TimeRead::Bad(fault) => bad_time(an, sum, fault, loc),
    }
    if let (Some(dedup), Some(id)) = (ctx.dedup.as_ref(), id)
        && dedup.seen_elsewhere(loc.file, kind, id)
    {
        an.stats.duplicates += 1;
        return Admission::Duplicate;
    }
    Admission::Fresh
}

/// Counts and locates an entry whose time is unusable; it stays off the timeline.
#[cold]
fn bad_time(an: &mut Analysis, sum: &mut ChunkSummary, fault: TimeFault, loc: Loc) {
    an.stats.untimed_entries += 1;
    match fault {
        TimeFault::Impossible(_) => an.stats.impossible_times += 1,
        TimeFault::Unparseable => an.stats.unparseable_times += 1,
    }
    if sum.bad_times.len() < BAD_TIMES_PER_CHUNK {
        sum.bad_times.push(BadTime { loc, fault });
    }
}

/// A request entry waits for its response.
fn request_seen(
    an: &mut Analysis,
    pending: &mut HashMap<u64, Pending, foldhash::fast::FixedState>,
    id: Option<u64>,
    range: (usize, usize),
    loc: Loc,
) {
    an.stats.requests += 1;
    match id {
        Some(id) => {
            pending.insert(
                id,
                Pending {
                    start: range.0,
                    end: range.1,
                    loc,
                },
            );
        }
        None => an.stats.paired_requests += 1, // cannot be paired; its response carries it
    }
}

/// Handles one fully parsed entry.
fn entry<E: Extension>(t: &mut Tally<'_, '_, E>, ev: &Entry<'_>, loc: Loc, range: (usize, usize)) {
    let Tally {
        ctx,
        an,
        ext,
        pending,
        sum,
    } = t;
    let ctx = *ctx;
    let id = ev.request.id.map(|id| ctx.id_hasher.hash_one(id));
    let time = ctx.settings.plausible.judge(ev.time, ev.time_text);
    // What no analysis may see: activity, markers, rules and extensions read `ev.time`.
    let blanked;
    let ev = match time {
        TimeRead::Bad(_) => {
            blanked = Entry { time: None, ..*ev };
            &blanked
        }
        _ => ev,
    };
    let seen = Seen {
        time,
        kind: ev.entry_type,
        id,
        loc,
    };
    match admit(ctx, an, sum, seen) {
        Admission::Fresh => {}
        Admission::Outside => return,
        Admission::Duplicate => {
            if ev.entry_type == EntryType::Response {
                ctx.ext.duplicate(ext, ev, loc);
            }
            return;
        }
    }
    ctx.ext.entry(ext, ev, loc);
    match ev.entry_type {
        EntryType::Request => request_seen(an, pending, id, range, loc),
        EntryType::Response => {
            an.stats.responses += 1;
            if let Some(id) = id {
                if pending.remove(&id).is_some() {
                    an.stats.paired_requests += 1;
                } else if sum.orphans.len() < TRACK_CAP {
                    sum.orphans.push(OrphanResponse {
                        id,
                        at: ev.time.map(|time| Point { time, loc }),
                        loc,
                        path: (sum.orphans.len() < PATH_CAP).then(|| ev.request.path.to_string()),
                        operation: ev.request.operation,
                    });
                } else {
                    an.stats.pairing_overflow += 1;
                }
            }
            analyse(ctx, an, ext, ev, loc);
        }
        EntryType::Other => {
            an.stats.other_entries += 1;
            analyse(ctx, an, ext, ev, loc);
        }
    }
}

/// Runs every analysis on one logical request.
pub(crate) fn analyse<E: Extension>(
    ctx: &Context<'_, E>,
    an: &mut Analysis,
    ext: &mut E::State,
    ev: &Entry<'_>,
    loc: Loc,
) {
    an.stats.evaluated += 1;
    let access = secret_access(ev);
    ctx.ext.logical(ext, ev, access.as_ref(), loc);
    if let Some(access) = &access {
        an.stats.secret_reads += 1;
        if ctx.settings.secret_table == super::SecretTable::Keep {
            match an.secrets_to {
                SecretsTo::Own => an.secrets.record(ev, access, loc, ctx.tenants),
                SecretsTo::Shared => ctx.secrets().record(ev, access, loc, ctx.tenants),
            }
        }
    }
    let suspicious = ctx.detector.observe(ev, loc, &mut an.detect);
    if suspicious {
        an.stats.suspicious_entries += 1;
    }
    an.activity.record(ev.time, access.is_some(), suspicious);
    if let (Some(kind), Some(time)) = (marker_of(ev.request.path, ev.request.operation), ev.time) {
        an.markers.push(Marker {
            at: Point { time, loc },
            kind,
        });
    }
}
