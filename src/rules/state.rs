//! Correlation state during the scan, and the sliding-window evaluation at the end.
//!
//! See the [`super::correlation`] module documentation for the choices this implements.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError};

use foldhash::fast::FixedState;

use super::RuleId;
use super::RuleSet;
use super::correlation::{Cmp, Correlation, Counted, MAX_EVENTS_PER_GROUP, MAX_EVIDENCE, Spec};
use super::field::Field;
use super::matcher::{RegexCaches, render};
use super::obs::{Obs, ObsList, ValueIds};
use crate::model::{Entry, Loc, Span, Timestamp};
use crate::persist::{PersistError, Persisted};

/// Separates group values in the scratch key; never appears in a rendered value we compare.
const SEP: char = '\u{1f}';
/// [`SEP`] as a byte (it is ASCII).
const SEP_BYTE: u8 = 0x1f;

/// The events of one (correlation, group).
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// The group-by values joined by [`SEP`] (which none holds): one allocation per group, and
    /// an event finds its group by comparing one string.
    values: Box<str>,
    obs: ObsList,
    total: u64,
    /// Once the group has been cut to its earliest events, the latest one kept: anything later
    /// can never be among the earliest and is only counted. Boxed: few groups are ever cut,
    /// and inline it made every group 40 bytes larger (104 bytes, now 64).
    cutoff: Option<Box<Obs>>,
}

impl Group {
    /// Counts `o` and keeps it unless it is later than the kept earliest events.
    fn add(&mut self, o: Obs) {
        self.total += 1;
        if self.cutoff.as_deref().is_some_and(|c| o > *c) {
            return;
        }
        self.obs.push(o);
        self.bound();
    }

    /// Keeps the [`MAX_EVENTS_PER_GROUP`] earliest events once twice that many accumulated.
    fn bound(&mut self) {
        if self.obs.len() >= 2 * MAX_EVENTS_PER_GROUP {
            let mut obs = self.obs.to_vec();
            obs.sort_unstable();
            obs.truncate(MAX_EVENTS_PER_GROUP);
            self.cutoff = obs.last().copied().map(Box::new);
            self.obs = obs.into_iter().collect();
        }
    }

    /// True when `key` is this group's values joined by [`SEP`].
    fn same_values(&self, key: &str) -> bool {
        *self.values == *key
    }

    /// The group-by values, in rule order.
    fn values(&self) -> impl Iterator<Item = &str> {
        self.values.split(SEP)
    }

    /// Gives every kept event a new value (another table's ids translated into this one's).
    fn renumber(&mut self, mut to: impl FnMut(u64) -> u64) {
        let mut moved = |o: Obs| Obs {
            value: to(o.value),
            ..o
        };
        self.obs = self.obs.iter().map(&mut moved).collect();
        if let Some(c) = self.cutoff.as_deref_mut() {
            *c = moved(*c);
        }
    }
}

/// Correlation groups and the ids of their counted values.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    /// Keyed by (correlation, hash of the group values); SipHash here cost 2.6% of a scan.
    table: HashMap<(u32, u64), Vec<Group>, foldhash::fast::RandomState>,
    /// The ids the events' values are kept as.
    values: ValueIds,
}

impl Groups {
    /// True when no group is held (the workers' shared groups once taken over).
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

/// The correlation groups the workers of a scan share: every worker sees nearly every group
/// (one per token, user or address), and a table per worker held the group records twice with
/// two workers. Events go in under the lock in any order: a group keeps its earliest events
/// whatever the order.
pub(crate) type SharedGroups = Arc<Mutex<Groups>>;

/// Correlation state of one scan thread; see [`super::RuleSet::new_state`].
#[derive(Debug, Default)]
pub struct RuleState {
    groups: Groups,
    /// When set, events are recorded in the workers' shared groups instead of `groups`.
    shared: Option<SharedGroups>,
    /// Per correlation: the last event (by `epoch`) it recorded, so an event matched by several
    /// base rules of one correlation counts once.
    stamp: Vec<u64>,
    epoch: u64,
    key: String,
    value: String,
    /// This thread's lazy-DFA caches for the rule regexes; not part of the saved state.
    regexes: RegexCaches,
}

impl RuleState {
    pub(crate) fn new(correlations: usize) -> RuleState {
        RuleState {
            stamp: vec![0; correlations],
            ..RuleState::default()
        }
    }

    /// The thread's regex caches, for evaluating rules.
    pub(crate) fn regex_caches(&mut self) -> &mut RegexCaches {
        &mut self.regexes
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

    /// Records events in `shared` from now on (a scan worker's state).
    pub(crate) fn share(&mut self, shared: SharedGroups) {
        self.shared = Some(shared);
    }

    /// Takes over the groups the workers recorded in `shared` and records in this state's own
    /// from now on. Called once the workers have stopped.
    pub(crate) fn take_shared(&mut self, shared: &SharedGroups) {
        self.shared = None;
        let taken = std::mem::take(&mut *shared.lock().unwrap_or_else(PoisonError::into_inner));
        merge_groups(&mut self.groups, taken);
    }

    /// Merges another thread's state; the result does not depend on the order of merges.
    pub fn merge(&mut self, other: RuleState) {
        merge_groups(&mut self.groups, other.groups);
    }

    /// Records `ev` for correlation number `c`.
    pub(crate) fn record(&mut self, c: usize, spec: &Spec, ev: &Entry<'_>, loc: Loc) {
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
        let obs = Obs {
            ts: ts.0,
            loc,
            value,
        };
        match &self.shared {
            None => add_event(&mut self.groups, (c32, hash), &self.key, obs),
            Some(shared) => {
                let mut groups = shared.lock().unwrap_or_else(PoisonError::into_inner);
                add_event(&mut groups, (c32, hash), &self.key, obs);
            }
        }
    }
}

/// Adds event `obs` to the group of `key` (the group-by values joined by [`SEP`]) in bucket
/// `at` of `groups`.
fn add_event(groups: &mut Groups, at: (u32, u64), key: &str, obs: Obs) {
    let obs = Obs {
        value: groups.values.id(obs.value),
        ..obs
    };
    let bucket = groups.table.entry(at).or_default();
    let group = match bucket.iter().position(|g| g.same_values(key)) {
        Some(i) => &mut bucket[i],
        None => {
            // Almost every bucket holds one group; `push` alone would make room for four.
            bucket.reserve_exact(1);
            bucket.push(Group {
                values: key.into(),
                obs: ObsList::default(),
                total: 0,
                cutoff: None,
            });
            let last = bucket.len() - 1;
            &mut bucket[last]
        }
    };
    group.add(obs);
}

/// Merges `other` into `into`, walking the smaller table (the result is the same either way:
/// taking over the workers' shared groups copies nothing).
fn merge_groups(into: &mut Groups, mut other: Groups) {
    if other.table.len() > into.table.len() {
        std::mem::swap(into, &mut other);
    }
    let Groups { table, values } = other;
    for (k, mut groups) in table {
        if !values.is_empty() {
            for g in &mut groups {
                g.renumber(|id| into.values.id(values.hash(id)));
            }
        }
        let mine = match into.table.entry(k) {
            // Moved as they are: no copy, no spare room.
            MapEntry::Vacant(v) => {
                v.insert(groups);
                continue;
            }
            MapEntry::Occupied(o) => o.into_mut(),
        };
        for g in groups {
            match mine.iter_mut().find(|m| m.values == g.values) {
                Some(m) => {
                    // Each side kept its earliest events; an event later than either
                    // side's cutoff has enough earlier events on that side to be dropped.
                    m.cutoff = match (m.cutoff.take(), g.cutoff) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    m.obs.extend(&g.obs);
                    if let Some(c) = m.cutoff.as_deref().copied() {
                        m.obs.retain(|o| *o <= c);
                    }
                    m.total += g.total;
                    m.bound();
                }
                None => {
                    mine.reserve_exact(1);
                    mine.push(g);
                }
            }
        }
    }
}

/// Appends the field's values joined by `,`; false when the field is absent.
fn render_field(f: &Field, ev: &Entry<'_>, out: &mut String) -> bool {
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
    if memchr::memchr(SEP_BYTE, &out.as_bytes()[start..]).is_some() {
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
    for ((c, _), groups) in state.groups.table {
        let Some(corr) = correlations.get(c as usize) else {
            continue;
        };
        let spec = &corr.spec;
        for g in groups {
            // Most groups (one per user, token or address) hold a few events: when even all of
            // them cannot meet the threshold, no window can, and decoding is wasted.
            let most = g.obs.len().min(MAX_EVENTS_PER_GROUP) as u64;
            if out_of_reach(&spec.conds, most) {
                continue;
            }
            let mut obs = g.obs.to_vec();
            obs.sort_unstable();
            obs.truncate(MAX_EVENTS_PER_GROUP);
            let (count, start, end) = best_window(&obs, spec.timespan, &spec.counted);
            if count == 0 || !spec.conds.iter().all(|(cmp, n)| cmp.holds(count, *n)) {
                continue;
            }
            let window = &obs[start..end];
            let mut evidence: Vec<Loc> = window.iter().map(|o| o.loc).collect();
            evidence.sort_unstable();
            evidence.truncate(MAX_EVIDENCE);
            let group = spec
                .group_by
                .iter()
                .zip(g.values())
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

/// True when no window of at most `n` observations meets `conds`: a window counts at most its
/// events, and at most as many distinct values, so a lower bound above `n` fails in every one.
fn out_of_reach(conds: &[(Cmp, u64)], n: u64) -> bool {
    conds.iter().any(|&(cmp, bound)| match cmp {
        Cmp::Gt => n <= bound,
        Cmp::Gte | Cmp::Eq => n < bound,
        Cmp::Lt | Cmp::Lte => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut skips a group only when no count it could reach meets the conditions, and
    /// it does skip groups short of a lower bound (so it is not a no-op).
    #[test]
    fn groups_out_of_reach_could_never_match() {
        let cmps = [Cmp::Gt, Cmp::Gte, Cmp::Lt, Cmp::Lte, Cmp::Eq];
        let mut skipped = 0;
        for a in cmps {
            for b in cmps {
                for (x, y) in (0..6).flat_map(|x| (0..6).map(move |y| (x, y))) {
                    let conds = [(a, x), (b, y)];
                    for n in 0..8 {
                        if out_of_reach(&conds, n) {
                            skipped += 1;
                            assert!(
                                (0..=n).all(|c| !conds.iter().all(|&(k, v)| k.holds(c, v))),
                                "{conds:?} with {n} observations"
                            );
                        }
                    }
                }
            }
        }
        assert!(skipped > 0);
        assert!(out_of_reach(&[(Cmp::Gte, 5)], 4));
        assert!(!out_of_reach(&[(Cmp::Gte, 5)], 5));
    }

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

    /// There is a group per (correlation, token or address): its record stays small, the
    /// rarely set cutoff out of line.
    #[test]
    fn a_group_record_is_64_bytes() {
        assert_eq!(std::mem::size_of::<Group>(), 64);
    }

    #[test]
    fn small_groups_hold_little_spare_room() {
        // One group per token is the bulk of a long scan's memory: a group of one event holds
        // room for one, and a growing group never keeps more than half again its events (or
        // room for one more event of the largest size).
        let mut g = Group {
            values: "".into(),
            obs: ObsList::default(),
            total: 0,
            cutoff: None,
        };
        for t in 0..1000 {
            g.add(obs(t, 0));
            let (used, cap) = g.obs.bytes_and_capacity();
            assert!(
                cap <= used + (used / 2).max(60),
                "{used} bytes, room for {cap}"
            );
            if t == 0 {
                assert_eq!(cap, used);
            }
        }
    }

    #[test]
    fn bounding_keeps_the_earliest_events_whatever_the_order() {
        let n = 3 * MAX_EVENTS_PER_GROUP as i64;
        let empty = || Group {
            values: "".into(),
            obs: ObsList::default(),
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
        state.groups.table.insert((0, 0), vec![b]);
        let mut other = RuleState::default();
        other.groups.table.insert((0, 0), vec![a]);
        state.merge(other);
        let a = state.groups.table.remove(&(0, 0)).unwrap().remove(0);
        assert_eq!(a.total, n as u64);
        let mut kept = a.obs.to_vec();
        kept.sort_unstable();
        kept.truncate(MAX_EVENTS_PER_GROUP);
        assert_eq!(kept.len(), MAX_EVENTS_PER_GROUP);
        assert!(
            kept.iter()
                .enumerate()
                .all(|(i, o)| o.ts == i as i64 * 1_000_000_000)
        );
    }
}

/// One group of a correlation rule, as plain data for incremental runs.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct SavedGroup {
    /// The correlation rule's id (indices change when rule directories change).
    rule: String,
    /// The group's values (`request.remote_address` ...).
    values: Vec<String>,
    /// Observations kept: time (ns), absolute location, value hash.
    obs: Vec<(i64, Loc, u64)>,
    /// Observations ever made.
    total: u64,
    /// The latest observation dropped from `obs`, if any.
    cutoff: Option<(i64, Loc, u64)>,
}

/// Keyed by rule id, so that groups survive rules added or removed between runs; groups of
/// correlations no longer loaded are dropped on restore.
impl Persisted for RuleState {
    type Saved = Vec<SavedGroup>;
    type With<'a> = &'a RuleSet;

    fn save(
        &self,
        rules: &RuleSet,
        absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<Vec<SavedGroup>, PersistError> {
        let mut saved: Vec<SavedGroup> = Vec::new();
        let values = &self.groups.values;
        for ((c, _), groups) in &self.groups.table {
            let Some(corr) = rules.correlations.get(*c as usize) else {
                continue;
            };
            for g in groups {
                let o = |x: &Obs| (x.ts, absolute(x.loc), values.hash(x.value));
                saved.push(SavedGroup {
                    rule: rules.rule(corr.rule).id.clone(),
                    values: g.values().map(str::to_string).collect(),
                    obs: g.obs.iter().map(|x| o(&x)).collect(),
                    total: g.total,
                    cutoff: g.cutoff.as_deref().map(o),
                });
            }
        }
        saved.sort_by(|a, b| (&a.rule, &a.values).cmp(&(&b.rule, &b.values)));
        Ok(saved)
    }

    fn restore(saved: Vec<SavedGroup>, rules: &RuleSet) -> Result<RuleState, PersistError> {
        let correlations = &rules.correlations;
        let mut st = RuleState::new(correlations.len());
        for g in saved {
            let Some(c) = correlations
                .iter()
                .position(|corr| rules.rule(corr.rule).id == g.rule)
            else {
                continue;
            };
            let key = g.values.join(&SEP.to_string());
            let hash = FixedState::default().hash_one(key.as_bytes());
            let ids = &mut st.groups.values;
            let mut obs = |(ts, loc, value): (i64, Loc, u64)| Obs {
                ts,
                loc,
                value: ids.id(value),
            };
            let group = Group {
                values: key.into_boxed_str(),
                obs: g.obs.into_iter().map(&mut obs).collect(),
                total: g.total,
                cutoff: g.cutoff.map(|c| Box::new(obs(c))),
            };
            st.groups
                .table
                .entry((c as u32, hash))
                .or_default()
                .push(group);
        }
        Ok(st)
    }
}
