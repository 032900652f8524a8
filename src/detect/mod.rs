//! Turning rule hits into findings: counts, first/last seen, who, and where.
//!
//! The rules themselves (Sigma, in `queries/rules/`) are compiled by [`crate::rules`]; this
//! module runs them inside the parallel scan and keeps, per rule, an aggregate whose size does
//! not grow with the log: exact counts and times, a sample of actors and capped evidence.

pub mod actor;

use crate::collect::{Sample, SampleParts, Smallest};
use crate::model::{Entry, Loc, Location, Severity, Timestamp};
use crate::persist::{PersistError, Persisted};
use crate::rules::{RuleId, RuleKind, RuleSet, RuleState, SharedGroups};
pub use actor::{Actor, ActorRef};

/// Caps on what a finding keeps.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    /// Evidence locations per finding.
    pub evidence: usize,
    /// Actors listed per finding.
    pub actors: usize,
    /// Distinct actors counted exactly per finding.
    pub actor_count: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            evidence: 20,
            actors: 10,
            actor_count: 100_000,
        }
    }
}

/// Per-rule aggregate while scanning.
struct FindingAgg {
    count: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    actors: Sample<u64, Loc, Actor>,
    evidence: Smallest<Loc>,
}

impl FindingAgg {
    fn new(caps: Caps) -> Self {
        FindingAgg {
            count: 0,
            first: None,
            last: None,
            actors: Sample::new(caps.actors, caps.actor_count),
            evidence: Smallest::new(caps.evidence),
        }
    }

    fn merge(&mut self, o: FindingAgg) {
        self.count += o.count;
        self.first = min_opt(self.first, o.first);
        self.last = max_opt(self.last, o.last);
        self.actors.merge(o.actors);
        self.evidence.merge(o.evidence);
    }
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// One rule's aggregate as plain data, for saving between runs.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FindingSnapshot {
    /// The rule's id (stable across rule-set changes, unlike its index).
    pub rule_id: String,
    /// Matches.
    pub count: u64,
    /// First match.
    pub first: Option<Timestamp>,
    /// Last match.
    pub last: Option<Timestamp>,
    /// Actors.
    pub actors: SampleParts<u64, Loc, Actor>,
    /// Evidence.
    pub evidence: Vec<Loc>,
}

/// Detection state as plain data, for saving between runs.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DetectSnapshot {
    /// Per-rule aggregates.
    pub findings: Vec<FindingSnapshot>,
    /// The rule engine's own state (correlation windows), as the engine saves it.
    pub rules: serde_json::Value,
}

/// Per-thread detection state; a scan worker's records correlation inputs in the groups the
/// workers share ([`DetectState::share_groups`]).
pub struct DetectState {
    rules: RuleState,
    findings: Vec<Option<FindingAgg>>,
    hits: Vec<RuleId>,
}

impl DetectState {
    /// Records correlation events in the groups every worker of `detector` shares, until
    /// [`DetectState::take_shared_groups`].
    pub fn share_groups(&mut self, detector: &Detector<'_>) {
        self.rules.share(detector.groups.clone());
    }

    /// Takes over the correlation groups the workers recorded; from now on this state's own
    /// are written to. Called after the workers of a phase have stopped.
    pub fn take_shared_groups(&mut self, detector: &Detector<'_>) {
        self.rules.take_shared(&detector.groups);
    }

    /// Merges another thread's state into this one.
    pub fn merge(&mut self, other: DetectState) {
        self.rules.merge(other.rules);
        for (mine, theirs) in self.findings.iter_mut().zip(other.findings) {
            match (mine.as_mut(), theirs) {
                (Some(m), Some(t)) => m.merge(t),
                (None, Some(t)) => *mine = Some(t),
                _ => {}
            }
        }
    }
}

/// One rule's result over the whole scan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    /// The rule's id.
    pub rule_id: String,
    /// The rule's `name`, a stable slug (e.g. `plaintext-secrets-in-audit-log`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    /// The rule's title.
    pub title: String,
    /// P0..P3.
    pub severity: Severity,
    /// `event` for single-entry rules, `correlation` for bursts.
    pub kind: &'static str,
    /// Matching entries (for correlations: entries in the reported window).
    pub count: u64,
    /// Time of the first match.
    pub first_seen: Option<Timestamp>,
    /// Time of the last match.
    pub last_seen: Option<Timestamp>,
    /// A sample of who (first seen first).
    pub actors: Vec<Actor>,
    /// Number of distinct actors (a lower bound when `actors_saturated`).
    pub actors_total: usize,
    /// True when there were more distinct actors than were counted.
    pub actors_saturated: bool,
    /// For correlations, the group (e.g. `request.remote_address`) the burst belongs to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<(String, String)>,
    /// Where to look, capped (earliest first).
    pub evidence: Vec<Location>,
    /// The rule's description.
    pub description: String,
    /// Sources for the signal.
    pub references: Vec<String>,
}

/// Runs a rule set over entries.
pub struct Detector<'r> {
    rules: &'r RuleSet,
    caps: Caps,
    /// The correlation groups of the scan's workers (see [`DetectState::share_groups`]).
    groups: SharedGroups,
}

impl<'r> Detector<'r> {
    /// A detector for `rules`.
    pub fn new(rules: &'r RuleSet, caps: Caps) -> Self {
        Detector {
            rules,
            caps,
            groups: SharedGroups::default(),
        }
    }

    /// The rules.
    pub fn rules(&self) -> &'r RuleSet {
        self.rules
    }

    /// Fresh per-thread state.
    pub fn new_state(&self) -> DetectState {
        DetectState {
            rules: self.rules.new_state(),
            findings: (0..self.rules.rules().len()).map(|_| None).collect(),
            hits: Vec::new(),
        }
    }

    /// Evaluates every rule against one logical request; true when a rule with a severity hit.
    pub fn observe(&self, ev: &Entry<'_>, loc: Loc, st: &mut DetectState) -> bool {
        st.hits.clear();
        let hits = &mut st.hits;
        self.rules
            .observe(ev, loc, &mut st.rules, &mut |id| hits.push(id));
        if st.hits.is_empty() {
            return false;
        }
        let mut suspicious = false;
        let actor = ActorRef::of(ev);
        let key = actor.key();
        for &id in &st.hits {
            let meta = self.rules.rule(id);
            if meta.severity.is_none() || !meta.alerts {
                continue; // informational and base-only rules feed correlations only
            }
            suspicious = true;
            let agg = st.findings[id.index()].get_or_insert_with(|| FindingAgg::new(self.caps));
            agg.count += 1;
            agg.first = min_opt(agg.first, ev.time);
            agg.last = max_opt(agg.last, ev.time);
            agg.actors.offer(key, loc, || actor.to_actor());
            agg.evidence.insert(loc);
        }
        suspicious
    }

    /// Finishes detection: event findings plus correlation bursts, most severe first.
    pub fn finish(&self, st: DetectState, resolve: &dyn Fn(Loc) -> Location) -> Vec<Finding> {
        let metas = self.rules.rules();
        let mut out = Vec::new();
        for (id, agg) in st.findings.into_iter().enumerate() {
            let Some(agg) = agg else { continue };
            let meta = &metas[id];
            let Some(severity) = meta.severity else {
                continue;
            };
            let actors_total = agg.actors.distinct();
            let actors_saturated = agg.actors.saturated();
            out.push(Finding {
                rule_id: meta.id.clone(),
                rule_name: meta.name.clone(),
                title: meta.title.clone(),
                severity,
                kind: "event",
                count: agg.count,
                first_seen: agg.first,
                last_seen: agg.last,
                actors: agg
                    .actors
                    .into_sorted()
                    .into_iter()
                    .map(|(_, a)| a)
                    .collect(),
                actors_total,
                actors_saturated,
                group: Vec::new(),
                evidence: agg
                    .evidence
                    .into_sorted()
                    .into_iter()
                    .map(resolve)
                    .collect(),
                description: meta.description.clone(),
                references: meta.references.clone(),
            });
        }
        for hit in self.rules.finish(st.rules) {
            let meta = &metas[hit.rule.index()];
            let Some(severity) = meta.severity else {
                continue;
            };
            debug_assert_eq!(meta.kind, RuleKind::Correlation);
            out.push(Finding {
                rule_id: meta.id.clone(),
                rule_name: meta.name.clone(),
                title: meta.title.clone(),
                severity,
                kind: "correlation",
                count: hit.count,
                first_seen: Some(hit.first),
                last_seen: Some(hit.last),
                actors: Vec::new(),
                actors_total: 0,
                actors_saturated: false,
                group: hit.group,
                evidence: hit.evidence.into_iter().map(resolve).collect(),
                description: meta.description.clone(),
                references: meta.references.clone(),
            });
        }
        out.sort_by(|a, b| {
            (a.severity, std::cmp::Reverse(a.count), &a.rule_id, &a.group).cmp(&(
                b.severity,
                std::cmp::Reverse(b.count),
                &b.rule_id,
                &b.group,
            ))
        });
        out
    }
}

/// Findings by rule id (findings of rules no longer loaded are dropped on restore) and the rule
/// engine's correlation state.
impl Persisted for DetectState {
    type Saved = DetectSnapshot;
    type With<'a> = &'a Detector<'a>;

    fn save(
        &self,
        detector: &Detector<'_>,
        absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<DetectSnapshot, PersistError> {
        let metas = detector.rules.rules();
        let findings = self
            .findings
            .iter()
            .enumerate()
            .filter_map(|(id, agg)| {
                let agg = agg.as_ref()?;
                let mut actors = agg.actors.to_parts();
                actors.entries.iter_mut().for_each(|e| e.1 = absolute(e.1));
                Some(FindingSnapshot {
                    rule_id: metas[id].id.clone(),
                    count: agg.count,
                    first: agg.first,
                    last: agg.last,
                    actors,
                    evidence: agg.evidence.iter().map(|l| absolute(*l)).collect(),
                })
            })
            .collect();
        let rules = self.rules.save(detector.rules, absolute)?;
        Ok(DetectSnapshot {
            findings,
            rules: crate::persist::to_json("correlation", &rules)?,
        })
    }

    fn restore(snap: DetectSnapshot, detector: &Detector<'_>) -> Result<DetectState, PersistError> {
        let mut st = detector.new_state();
        // Kept as JSON in the snapshot so that a bad correlation state is named as such; `null`
        // is what runs without correlation state wrote.
        let rules: Vec<crate::rules::SavedGroup> = match snap.rules {
            serde_json::Value::Null => Vec::new(),
            v => crate::persist::from_json("correlation", v)?,
        };
        st.rules = RuleState::restore(rules, detector.rules)?;
        let metas = detector.rules.rules();
        for f in snap.findings {
            let Some(id) = metas.iter().position(|m| m.id == f.rule_id) else {
                continue;
            };
            st.findings[id] = Some(FindingAgg {
                count: f.count,
                first: f.first,
                last: f.last,
                actors: Sample::from_parts(f.actors),
                evidence: Smallest::from_items(detector.caps.evidence, f.evidence),
            });
        }
        Ok(st)
    }
}
