//! Sigma v2 correlation rules: `event_count` and `value_count` over a sliding time window.
//!
//! During the scan every event matched by a base rule is recorded per (correlation, group) as
//! its timestamp, its [`Loc`] and, for `value_count`, a hash of the counted field's value.
//! Threads keep their own [`RuleState`]; merging concatenates. [`finish`] sorts each group by
//! (time, location) and slides the window.
//!
//! Choices, documented for rule authors:
//! - **One hit per group**: the window with the most events (or distinct values) is reported,
//!   the earliest such window on ties. The condition is tested on that maximum, so `gte`/`gt`
//!   fire when any window reaches the threshold and `lt`/`lte` fire when none exceeds it.
//! - **Windows** are half-open: `[t, t + timespan)` starting at each event.
//! - **Absent values**: an event whose `group-by` field (or counted `field`) is absent is not
//!   counted, so unauthenticated requests do not pile into one empty-accessor group. A field
//!   holding a list groups by its elements joined with `,`.
//! - **Events without a valid `time`** cannot be placed in a window and are not counted.
//! - **Memory bound**: each group keeps at most [`MAX_EVENTS_PER_GROUP`] events, the earliest by
//!   (time, location) — a choice that does not depend on thread interleaving. Later events
//!   still count in [`CorrelationHit::total`] but are not windowed. A group that large has
//!   almost surely crossed any burst threshold within its first events.
//! - **Evidence** keeps the [`MAX_EVIDENCE`] smallest locations of the reported window.

use std::collections::HashMap;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use super::RuleId;
use super::error::{Pos, Sink};
use super::field::Field;
use super::matcher::render;
use super::yaml::{Node, Yaml};
use crate::model::{Event, Loc, Span, Timestamp};

/// Events kept per (correlation, group); see the module documentation.
pub const MAX_EVENTS_PER_GROUP: usize = 1 << 16;

/// Locations kept as evidence per correlation hit.
pub const MAX_EVIDENCE: usize = 32;

/// Separates group values in the scratch key; never appears in a rendered value we compare.
const SEP: char = '\u{1f}';

/// A comparison in a correlation `condition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
}

impl Cmp {
    fn holds(self, x: u64, bound: u64) -> bool {
        match self {
            Cmp::Gt => x > bound,
            Cmp::Gte => x >= bound,
            Cmp::Lt => x < bound,
            Cmp::Lte => x <= bound,
            Cmp::Eq => x == bound,
        }
    }
}

/// What is counted in a window.
#[derive(Clone, Debug)]
pub(crate) enum Counted {
    /// `event_count`: events.
    Events,
    /// `value_count`: distinct values of a field.
    Values(Field),
}

/// A parsed `correlation:` section, with rule references not yet resolved.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub(crate) counted: Counted,
    pub(crate) rules: Vec<(String, Pos)>,
    pub(crate) group_by: Vec<Field>,
    pub(crate) timespan: Span,
    pub(crate) conds: Vec<(Cmp, u64)>,
}

/// A compiled correlation.
#[derive(Clone, Debug)]
pub(crate) struct Correlation {
    pub(crate) rule: RuleId,
    pub(crate) spec: Spec,
}

/// Parses a timespan such as `30s`, `5m`, `2h`, `1d`.
fn timespan(s: &str) -> Option<Span> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    (n > 0).then(|| n.checked_mul(secs).map(Span::from_secs))?
}

/// Parses a `correlation:` mapping.
pub(crate) fn parse(node: &Node, sink: &mut Sink<'_>) -> Option<Spec> {
    let Yaml::Map(entries) = &node.value else {
        sink.error(
            node.pos,
            format!("`correlation` must be a mapping, not {}", node.kind()),
        );
        return None;
    };
    let errors_before = sink.error_count();
    let mut kind: Option<(&str, Pos)> = None;
    let mut rules = Vec::new();
    let mut group_by = Vec::new();
    let mut span = None;
    let mut cond: Option<&Node> = None;
    for (key, value) in entries {
        match key.name.as_str() {
            "type" => match value.as_str() {
                Some(t) => kind = Some((t, value.pos)),
                None => sink.error(value.pos, "`type` must be a string"),
            },
            "rules" => rules = strings(value, "rules", sink),
            "group-by" => {
                for (name, pos) in strings(value, "group-by", sink) {
                    match Field::resolve(&name) {
                        Ok(f) => group_by.push(f),
                        Err(msg) => sink.error(pos, msg),
                    }
                }
            }
            "timespan" => match value.as_str().and_then(timespan) {
                Some(s) => span = Some(s),
                None => sink.error(
                    value.pos,
                    "`timespan` must be a positive number with s, m, h or d (e.g. `5m`)",
                ),
            },
            "condition" => cond = Some(value),
            "aliases" => sink.error(key.pos, "correlation `aliases` are not supported"),
            other => sink.error(key.pos, format!("unknown correlation attribute `{other}`")),
        }
    }
    let counted_field = match kind {
        None => {
            sink.error(node.pos, "correlation has no `type`");
            None
        }
        Some(("event_count", _)) => Some(false),
        Some(("value_count", _)) => Some(true),
        Some((t @ ("temporal" | "temporal_ordered"), pos)) => {
            sink.error(
                pos,
                format!(
                    "correlation type `{t}` is not supported (supported: event_count, value_count)"
                ),
            );
            None
        }
        Some((t, pos)) => {
            sink.error(
                pos,
                format!("unknown correlation type `{t}` (supported: event_count, value_count)"),
            );
            None
        }
    };
    if rules.is_empty() {
        sink.error(node.pos, "correlation has no `rules`");
    }
    if span.is_none() && !entries.iter().any(|(k, _)| k.name == "timespan") {
        sink.error(node.pos, "correlation has no `timespan`");
    }
    let (conds, field) = match cond {
        Some(c) => condition(c, counted_field == Some(true), sink),
        None => {
            sink.error(node.pos, "correlation has no `condition`");
            (Vec::new(), None)
        }
    };
    if sink.error_count() > errors_before {
        return None;
    }
    let counted = match field {
        Some(f) => Counted::Values(f),
        None => Counted::Events,
    };
    Some(Spec {
        counted,
        rules,
        group_by,
        timespan: span?,
        conds,
    })
}

fn strings(node: &Node, what: &str, sink: &mut Sink<'_>) -> Vec<(String, Pos)> {
    match &node.value {
        Yaml::Scalar(s, _) => vec![(s.clone(), node.pos)],
        Yaml::Seq(items) => items
            .iter()
            .filter_map(|i| match i.as_str() {
                Some(s) => Some((s.to_string(), i.pos)),
                None => {
                    sink.error(i.pos, format!("`{what}` entries must be strings"));
                    None
                }
            })
            .collect(),
        _ => {
            sink.error(node.pos, format!("`{what}` must be a list of strings"));
            Vec::new()
        }
    }
}

fn condition(
    node: &Node,
    wants_field: bool,
    sink: &mut Sink<'_>,
) -> (Vec<(Cmp, u64)>, Option<Field>) {
    let Yaml::Map(entries) = &node.value else {
        sink.error(
            node.pos,
            "correlation `condition` must be a mapping such as `gte: 10`",
        );
        return (Vec::new(), None);
    };
    let mut conds = Vec::new();
    let mut field = None;
    for (key, value) in entries {
        let cmp = match key.name.as_str() {
            "gt" => Cmp::Gt,
            "gte" => Cmp::Gte,
            "lt" => Cmp::Lt,
            "lte" => Cmp::Lte,
            "eq" => Cmp::Eq,
            "field" => {
                if !wants_field {
                    sink.error(key.pos, "`field` is only meaningful for `value_count`");
                    continue;
                }
                match value.as_str().map(Field::resolve) {
                    Some(Ok(f)) => field = Some(f),
                    Some(Err(msg)) => sink.error(value.pos, msg),
                    None => sink.error(value.pos, "`field` must be a field name"),
                }
                continue;
            }
            other => {
                sink.error(
                    key.pos,
                    format!("unknown condition `{other}` (supported: gt, gte, lt, lte, eq, field)"),
                );
                continue;
            }
        };
        match value.as_str().and_then(|s| s.parse::<u64>().ok()) {
            Some(n) => conds.push((cmp, n)),
            None => sink.error(
                value.pos,
                format!("`{}` needs a non-negative integer", key.name),
            ),
        }
    }
    if conds.is_empty() {
        sink.error(
            node.pos,
            "correlation `condition` has no comparison (gt, gte, lt, lte, eq)",
        );
    }
    if wants_field && field.is_none() {
        sink.error(node.pos, "`value_count` needs `field` in its condition");
    }
    (conds, field)
}

/// One matched base event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Obs {
    ts: i64,
    loc: Loc,
    value: u64,
}

/// The events of one (correlation, group).
#[derive(Clone, Debug)]
struct Group {
    values: Box<[Box<str>]>,
    obs: Vec<Obs>,
    total: u64,
    /// Once the group has been cut to its earliest events, the latest one kept: anything later
    /// can never be among the earliest and is only counted.
    cutoff: Option<Obs>,
}

impl Group {
    /// Counts `o` and keeps it unless it is later than the kept earliest events.
    fn add(&mut self, o: Obs) {
        self.total += 1;
        if self.cutoff.is_some_and(|c| o > c) {
            return;
        }
        self.obs.push(o);
        self.bound();
    }

    /// Keeps the [`MAX_EVENTS_PER_GROUP`] earliest events once twice that many accumulated.
    fn bound(&mut self) {
        if self.obs.len() >= 2 * MAX_EVENTS_PER_GROUP {
            self.obs.sort_unstable();
            self.obs.truncate(MAX_EVENTS_PER_GROUP);
            self.cutoff = self.obs.last().copied();
        }
    }

    fn same_values(&self, key: &str) -> bool {
        let mut parts = key.split(SEP);
        self.values.iter().all(|v| parts.next() == Some(&**v)) && parts.next().is_none()
    }
}

/// Correlation state of one scan thread; see [`super::RuleSet::new_state`].
#[derive(Debug, Default)]
pub struct RuleState {
    groups: HashMap<(u32, u64), Vec<Group>>,
    /// Per correlation: the last event (by `epoch`) it recorded, so an event matched by several
    /// base rules of one correlation counts once.
    stamp: Vec<u64>,
    epoch: u64,
    key: String,
    value: String,
}

impl RuleState {
    pub(crate) fn new(correlations: usize) -> RuleState {
        RuleState {
            stamp: vec![0; correlations],
            ..RuleState::default()
        }
    }

    /// Starts a new event; returns its epoch.
    pub(crate) fn next_event(&mut self) -> u64 {
        self.epoch += 1;
        self.epoch
    }

    /// True the first time correlation `c` sees the current event.
    pub(crate) fn first_visit(&mut self, c: usize) -> bool {
        if self.stamp.len() <= c {
            self.stamp.resize(c + 1, 0);
        }
        let fresh = self.stamp[c] != self.epoch;
        self.stamp[c] = self.epoch;
        fresh
    }

    /// Merges another thread's state; the result does not depend on the order of merges.
    pub fn merge(&mut self, other: RuleState) {
        for (k, groups) in other.groups {
            let mine = self.groups.entry(k).or_default();
            for g in groups {
                match mine.iter_mut().find(|m| m.values == g.values) {
                    Some(m) => {
                        // Each side kept its earliest events; an event later than either
                        // side's cutoff has enough earlier events on that side to be dropped.
                        m.cutoff = match (m.cutoff, g.cutoff) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                        m.obs.extend(g.obs);
                        if let Some(c) = m.cutoff {
                            m.obs.retain(|o| *o <= c);
                        }
                        m.total += g.total;
                        m.bound();
                    }
                    None => mine.push(g),
                }
            }
        }
    }

    /// Records `ev` for correlation number `c`.
    pub(crate) fn record(&mut self, c: usize, spec: &Spec, ev: &Event<'_>, loc: Loc) {
        let Some(ts) = ev.time else {
            return;
        };
        self.key.clear();
        for (i, f) in spec.group_by.iter().enumerate() {
            if i > 0 {
                self.key.push(SEP);
            }
            if !render_field(f, ev, &mut self.key) {
                return;
            }
        }
        let value = match &spec.counted {
            Counted::Events => 0,
            Counted::Values(f) => {
                self.value.clear();
                if !render_field(f, ev, &mut self.value) {
                    return;
                }
                FixedState::default().hash_one(self.value.as_bytes())
            }
        };
        let hash = FixedState::default().hash_one(self.key.as_bytes());
        let c32 = u32::try_from(c).unwrap_or(u32::MAX);
        let bucket = self.groups.entry((c32, hash)).or_default();
        let obs = Obs {
            ts: ts.0,
            loc,
            value,
        };
        let key = &self.key;
        let group = match bucket.iter().position(|g| g.same_values(key)) {
            Some(i) => &mut bucket[i],
            None => {
                bucket.push(Group {
                    values: key.split(SEP).map(Box::from).collect(),
                    obs: Vec::new(),
                    total: 0,
                    cutoff: None,
                });
                let last = bucket.len() - 1;
                &mut bucket[last]
            }
        };
        group.add(obs);
    }
}

/// Appends the field's values joined by `,`; false when the field is absent.
fn render_field(f: &Field, ev: &Event<'_>, out: &mut String) -> bool {
    let start = out.len();
    let mut any = false;
    f.any(ev, &mut |v| {
        if out.len() > start {
            out.push(',');
        }
        any |= render(v, out);
        false
    });
    // A separator inside a value would split it into two group values when compared.
    if out[start..].contains(SEP) {
        let cleaned = out[start..].replace(SEP, " ");
        out.truncate(start);
        out.push_str(&cleaned);
    }
    any
}

/// A correlation rule that fired for one group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationHit {
    /// The correlation rule.
    pub rule: RuleId,
    /// The `group-by` fields and their values, in rule order.
    pub group: Vec<(String, String)>,
    /// Time of the first event of the reported window.
    pub first: Timestamp,
    /// Time of the last event of the reported window.
    pub last: Timestamp,
    /// Events (`event_count`) or distinct values (`value_count`) in the reported window.
    pub count: u64,
    /// Base events of the group over the whole input.
    pub total: u64,
    /// The smallest locations of the window's events, at most [`MAX_EVIDENCE`].
    pub evidence: Vec<Loc>,
}

/// The densest window of sorted events: (count, start, end exclusive).
fn best_window(obs: &[Obs], span: Span, counted: &Counted) -> (u64, usize, usize) {
    let mut best = (0u64, 0usize, 0usize);
    let mut j = 0;
    match counted {
        Counted::Events => {
            for i in 0..obs.len() {
                let limit = obs[i].ts.saturating_add(span.0);
                j = j.max(i);
                while j < obs.len() && obs[j].ts < limit {
                    j += 1;
                }
                let n = (j - i) as u64;
                if n > best.0 {
                    best = (n, i, j);
                }
            }
        }
        Counted::Values(_) => {
            let mut seen: HashMap<u64, u32> = HashMap::new();
            for i in 0..obs.len() {
                let limit = obs[i].ts.saturating_add(span.0);
                while j < obs.len() && obs[j].ts < limit {
                    *seen.entry(obs[j].value).or_default() += 1;
                    j += 1;
                }
                let n = seen.len() as u64;
                if n > best.0 {
                    best = (n, i, j);
                }
                if let Some(c) = seen.get_mut(&obs[i].value) {
                    *c -= 1;
                    if *c == 0 {
                        seen.remove(&obs[i].value);
                    }
                }
            }
        }
    }
    best
}

/// Evaluates every correlation over the merged state.
pub(crate) fn finish(correlations: &[Correlation], state: RuleState) -> Vec<CorrelationHit> {
    let mut hits = Vec::new();
    for ((c, _), groups) in state.groups {
        let Some(corr) = correlations.get(c as usize) else {
            continue;
        };
        let spec = &corr.spec;
        for mut g in groups {
            g.obs.sort_unstable();
            g.obs.truncate(MAX_EVENTS_PER_GROUP);
            let (count, start, end) = best_window(&g.obs, spec.timespan, &spec.counted);
            if count == 0 || !spec.conds.iter().all(|(cmp, n)| cmp.holds(count, *n)) {
                continue;
            }
            let window = &g.obs[start..end];
            let mut evidence: Vec<Loc> = window.iter().map(|o| o.loc).collect();
            evidence.sort_unstable();
            evidence.truncate(MAX_EVIDENCE);
            let group = spec
                .group_by
                .iter()
                .zip(g.values.iter())
                .map(|(f, v)| (f.name().to_string(), v.to_string()))
                .collect();
            hits.push(CorrelationHit {
                rule: corr.rule,
                group,
                first: Timestamp(window[0].ts),
                last: Timestamp(window[window.len() - 1].ts),
                count,
                total: g.total,
                evidence,
            });
        }
    }
    hits.sort_by(|a, b| (a.rule, &a.group, a.first).cmp(&(b.rule, &b.group, b.first)));
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(ts_secs: i64, value: u64) -> Obs {
        Obs {
            ts: ts_secs * 1_000_000_000,
            loc: Loc {
                offset: ts_secs as u64,
                ..Loc::default()
            },
            value,
        }
    }

    #[test]
    fn timespans_parse_units() {
        assert_eq!(timespan("30s"), Some(Span::from_secs(30)));
        assert_eq!(timespan("5m"), Some(Span::from_secs(300)));
        assert_eq!(timespan("2h"), Some(Span::from_secs(7200)));
        assert_eq!(timespan("1d"), Some(Span::from_secs(86_400)));
        assert_eq!(timespan("0m"), None);
        assert_eq!(timespan("5M"), None);
        assert_eq!(timespan("m"), None);
    }

    #[test]
    fn the_densest_window_wins_and_ties_keep_the_earliest() {
        let o = [
            obs(0, 0),
            obs(10, 0),
            obs(100, 0),
            obs(101, 0),
            obs(102, 0),
            obs(200, 0),
        ];
        let (n, s, e) = best_window(&o, Span::from_secs(60), &Counted::Events);
        assert_eq!((n, s, e), (3, 2, 5));
        let (n, s, _) = best_window(&o[..2], Span::from_secs(60), &Counted::Events);
        assert_eq!((n, s), (2, 0));
        // Half-open window: an event exactly one span later is outside.
        let (n, _, _) = best_window(
            &[obs(0, 0), obs(60, 0)],
            Span::from_secs(60),
            &Counted::Events,
        );
        assert_eq!(n, 1);
    }

    #[test]
    fn value_windows_count_distinct_values() {
        let f = Field::resolve("request.path").unwrap();
        let o = [
            obs(0, 1),
            obs(1, 1),
            obs(2, 2),
            obs(100, 3),
            obs(101, 4),
            obs(102, 5),
            obs(103, 5),
        ];
        let (n, s, e) = best_window(&o, Span::from_secs(60), &Counted::Values(f));
        assert_eq!((n, s, e), (3, 3, 7));
    }

    #[test]
    fn bounding_keeps_the_earliest_events_whatever_the_order() {
        let n = 3 * MAX_EVENTS_PER_GROUP as i64;
        let empty = || Group {
            values: Box::new([]),
            obs: Vec::new(),
            total: 0,
            cutoff: None,
        };
        // Two threads see the events in opposite orders, interleaved by parity.
        let (mut a, mut b) = (empty(), empty());
        for t in 0..n {
            if t % 2 == 0 {
                a.add(obs(t, 0));
            } else {
                b.add(obs(n - t, 0));
            }
        }
        let mut state = RuleState::default();
        state.groups.insert((0, 0), vec![b]);
        let mut other = RuleState::default();
        other.groups.insert((0, 0), vec![a]);
        state.merge(other);
        let mut a = state.groups.remove(&(0, 0)).unwrap().remove(0);
        assert_eq!(a.total, n as u64);
        a.obs.sort_unstable();
        a.obs.truncate(MAX_EVENTS_PER_GROUP);
        assert_eq!(a.obs.len(), MAX_EVENTS_PER_GROUP);
        assert!(
            a.obs
                .iter()
                .enumerate()
                .all(|(i, o)| o.ts == i as i64 * 1_000_000_000)
        );
    }
}
