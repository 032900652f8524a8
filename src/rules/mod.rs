//! Detection rules: a Sigma-compatible engine and the built-in Vault/OpenBao rule pack.
//!
//! ```text
//! YAML (--rules DIR) --yaml--> nodes with positions --document--> metadata
//!   (the built-in pack's nodes were parsed by the same loader when the binary was built: prebuilt)
//!     --detection--> matcher tree (field accessors, literal matchers, regexes)
//!     --correlation--> event_count / value_count specs
//! scan threads: observe(event) -> on_hit(rule) + RuleState; merge; finish -> CorrelationHit
//! ```
//!
//! The supported Sigma subset and the field names are described in `queries/rules/README.md`.
//! Anything outside it (an unknown modifier, condition syntax, correlation type, detection
//! construct or field) is rejected when the rules are loaded, with file, line and column:
//! a rule that cannot be evaluated as written must never be silently skipped.

mod builtin;
mod cache;
mod cidr;
mod condition;
mod correlation;
mod detection;
mod document;
mod error;
mod field;
mod guard;
mod lint;
mod matcher;
mod modifier;
mod obs;
mod prebuilt;
mod program;
mod regexes;
mod state;
mod yaml;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use correlation::{MAX_EVENTS_PER_GROUP, MAX_EVIDENCE};
pub use error::{Diagnostic, DiagnosticLevel, Pos, RuleError};
pub use lint::lint;
pub(crate) use state::SharedGroups;
pub use state::{CorrelationHit, RuleState, SavedGroup};

use cache::{FieldCache, FieldIds};
use correlation::Correlation;
use document::{Body, Parsed};
use error::Sink;
use guard::{Guard, GuardIndex, Key};
use matcher::{RegexCaches, Regexes};
use program::Program;

use crate::model::{Entry, Loc, Severity};

/// Index of a rule in [`RuleSet::rules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RuleId(pub u32);

impl RuleId {
    /// The index into [`RuleSet::rules`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Whether a rule matches single events or counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    /// A `detection` rule, evaluated on each event.
    Entry,
    /// A `correlation` rule, evaluated over all events at the end of the scan.
    Correlation,
}

/// What a rule is, for listings and reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RuleMeta {
    /// `id` (a UUID in the built-in pack).
    pub id: String,
    /// `name`, by which correlation rules may refer to it.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `status` (`stable`, `test`, `experimental` ...).
    pub status: String,
    /// `description`.
    pub description: String,
    /// `level` as written (`informational` when missing).
    pub level: String,
    /// The response class of the level; `None` for informational.
    pub severity: Option<Severity>,
    /// `references`: where the signal is documented.
    pub references: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// Entry or correlation rule.
    pub kind: RuleKind,
    /// The file the rule came from, as named when loading.
    pub source: String,
    /// False for rules that only feed correlation rules (Sigma `generate: false`, the
    /// default): their matches are counted but not reported on their own.
    pub alerts: bool,
}

/// A compiled event rule.
#[derive(Clone, Debug)]
struct EventRule {
    id: RuleId,
    guard: Guard,
    /// The matcher tree, flattened.
    program: Program,
    alerts: bool,
    /// Correlations this rule feeds.
    feeds: Box<[usize]>,
}

/// A loaded, compiled set of rules.
#[derive(Clone, Debug)]
pub struct RuleSet {
    /// The files of each layer; later layers replace earlier rules with the same id.
    layers: Vec<Vec<RuleFile>>,
    metas: Vec<RuleMeta>,
    events: Vec<EventRule>,
    /// Which event rules an event's operation and path can admit.
    index: GuardIndex,
    correlations: Vec<Correlation>,
    warnings: Vec<Diagnostic>,
}

impl RuleSet {
    /// The built-in pack (`queries/rules/*.yml`, embedded at build time).
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::build(vec![builtin::files()])
    }

    /// Rules from `(file name, YAML)` pairs; a file may hold several `---` documents.
    pub fn from_sources(srcs: &[(String, String)]) -> Result<RuleSet, RuleError> {
        RuleSet::build(vec![srcs.iter().map(RuleFile::yaml).collect()])
    }

    /// Adds every `*.yml`/`*.yaml` under `dir` (recursively, in path order). A rule whose id is
    /// already loaded replaces it; correlation references resolve across the whole set.
    pub fn with_dir(self, dir: &Path) -> Result<RuleSet, RuleError> {
        let mut layers = self.layers;
        layers.push(read_dir(dir)?.iter().map(RuleFile::yaml).collect());
        RuleSet::build(layers)
    }

    /// Every rule; a [`RuleId`] indexes this slice.
    pub fn rules(&self) -> &[RuleMeta] {
        &self.metas
    }

    /// The rule with this id.
    pub fn rule(&self, id: RuleId) -> &RuleMeta {
        &self.metas[id.index()]
    }

    /// Warnings found while loading (the rules load, but may not do what was meant).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Fresh correlation state for one scan thread.
    pub fn new_state(&self) -> RuleState {
        RuleState::new(self.correlations.len())
    }

    /// Evaluates the event rules on one logical request: called on its response entry, or on
    /// the request entry when no response exists. `on_hit` receives each reporting rule that
    /// matched; correlation inputs are recorded in `state`. Events may come in any order.
    pub fn observe(
        &self,
        ev: &Entry<'_>,
        loc: Loc,
        state: &mut RuleState,
        on_hit: &mut dyn FnMut(RuleId),
    ) {
        let mut started = false;
        let key = Key::of(ev);
        let mut cache = FieldCache::new(ev);
        for w in 0..self.index.words() {
            let mut bits = self.index.candidates(&key, w);
            while bits != 0 {
                let rule = &self.events[w * 64 + bits.trailing_zeros() as usize];
                bits &= bits - 1;
                if !rule.guard.admits_path(&key)
                    || !rule.program.eval(&mut cache, state.regex_caches())
                {
                    continue;
                }
                if rule.alerts {
                    on_hit(rule.id);
                }
                if rule.feeds.is_empty() {
                    continue;
                }
                if !started {
                    state.next_event();
                    started = true;
                }
                for &c in &rule.feeds {
                    if state.first_visit(c) {
                        state.record(c, &self.correlations[c].spec, ev, loc);
                    }
                }
            }
        }
    }

    /// True when event rule `id` matches `ev`, whether or not it reports on its own (base
    /// rules of correlations); always false for correlation rules.
    pub fn matches(&self, id: RuleId, ev: &Entry<'_>) -> bool {
        self.events.iter().find(|r| r.id == id).is_some_and(|r| {
            r.guard.admits(&Key::of(ev))
                && r.program
                    .eval(&mut FieldCache::new(ev), &mut RegexCaches::default())
        })
    }

    /// Rules whose guard would skip an event their matcher tree matches (must be none).
    #[cfg(test)]
    fn guard_violations(&self, ev: &Entry<'_>) -> Vec<RuleId> {
        let key = Key::of(ev);
        self.events
            .iter()
            .filter(|r| {
                r.program
                    .eval(&mut FieldCache::new(ev), &mut RegexCaches::default())
                    && !r.guard.admits(&key)
            })
            .map(|r| r.id)
            .collect()
    }

    /// Field tests whose values read through a [`FieldCache`] differ from a direct lookup
    /// (must be none): each field is read twice, so the second read comes from the cache.
    #[cfg(test)]
    fn cache_mismatches(&self, ev: &Entry<'_>) -> Vec<String> {
        use crate::model::tape::Value;
        fn text(v: Value<'_>) -> String {
            match v {
                Value::Str(s) => format!("str {s}"),
                other => format!("{other:?}"),
            }
        }
        let mut cache = FieldCache::new(ev);
        let mut out = Vec::new();
        for rule in &self.events {
            rule.program.tests().for_each(|t| {
                let field = t.field();
                let mut direct = Vec::new();
                field.any(ev, &mut |v| {
                    direct.push(text(v));
                    false
                });
                for _ in 0..2 {
                    let mut cached = Vec::new();
                    cache.get(t.field_id(), field).any(field, ev, &mut |v| {
                        cached.push(text(v));
                        false
                    });
                    if cached != direct {
                        out.push(format!("{}: {direct:?} != {cached:?}", field.name()));
                    }
                }
            });
        }
        out
    }

    #[cfg(test)]
    fn guards(&self) -> Vec<&Guard> {
        self.events.iter().map(|r| &r.guard).collect()
    }

    #[cfg(test)]
    fn guard_of_first_rule(&self) -> Guard {
        self.events[0].guard.clone()
    }

    /// Evaluates the correlation rules over everything observed (merge thread states first).
    pub fn finish(&self, state: RuleState) -> Vec<CorrelationHit> {
        state::finish(&self.correlations, state)
    }

    fn build(layers: Vec<Vec<RuleFile>>) -> Result<RuleSet, RuleError> {
        let mut diags = Vec::new();
        let compiled = compile(&layers, &mut diags);
        let (errors, warnings): (Vec<_>, Vec<_>) = diags
            .into_iter()
            .partition(|d| d.level == DiagnosticLevel::Error);
        match compiled {
            Some(c) if errors.is_empty() => Ok(RuleSet {
                layers,
                metas: c.metas,
                index: GuardIndex::new(c.events.iter().map(|r| &r.guard)),
                events: c.events,
                correlations: c.correlations,
                warnings,
            }),
            _ => Err(RuleError::Invalid(errors)),
        }
    }
}

/// One rules file of a layer: its name, and its documents as YAML or as parsed when the
/// binary was built (the built-in pack, see [`prebuilt`]).
#[derive(Clone, Debug)]
struct RuleFile {
    name: String,
    body: RuleBody,
}

#[derive(Clone, Debug)]
enum RuleBody {
    Yaml(String),
    Prebuilt(&'static [u8]),
}

impl RuleFile {
    /// A file of YAML, from its `(name, text)`.
    fn yaml((name, text): &(String, String)) -> RuleFile {
        RuleFile {
            name: name.clone(),
            body: RuleBody::Yaml(text.clone()),
        }
    }

    /// The file's documents; `None` when an error was reported to `sink`.
    fn documents(&self, sink: &mut Sink<'_>) -> Option<Vec<yaml::Node>> {
        match &self.body {
            RuleBody::Yaml(text) => yaml::load(text, sink),
            RuleBody::Prebuilt(bytes) => {
                let docs = prebuilt::decode(bytes);
                if docs.is_none() {
                    sink.error(Pos::default(), "the binary's built-in rules are corrupt");
                }
                docs
            }
        }
    }
}

/// The compiled parts of a rule set.
struct Compiled {
    metas: Vec<RuleMeta>,
    events: Vec<EventRule>,
    correlations: Vec<Correlation>,
}

/// Parses every layer, applies id replacement, resolves correlation references.
/// Returns `None` when any error was recorded.
fn compile(layers: &[Vec<RuleFile>], diags: &mut Vec<Diagnostic>) -> Option<Compiled> {
    // (layer, file, rule) in load order.
    let mut parsed: Vec<(usize, &str, Parsed)> = Vec::new();
    let mut regexes = Regexes::default();
    for (layer, files) in layers.iter().enumerate() {
        for f in files {
            let file = f.name.as_str();
            let mut sink = Sink::new(file, diags);
            let Some(docs) = f.documents(&mut sink) else {
                continue;
            };
            if docs.is_empty() {
                sink.warning(Pos::default(), "file holds no rule");
            }
            for doc in &docs {
                if let Some(p) = document::parse(doc, file, &mut sink, &mut regexes) {
                    parsed.push((layer, file, p));
                }
            }
        }
    }
    // Later layers win; within one layer an id may appear once.
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, (layer, file, p)) in parsed.iter().enumerate() {
        match owner.get(p.meta.id.as_str()) {
            Some(&j) if parsed[j].0 == *layer => {
                let first = &parsed[j];
                Sink::new(file, diags).error(
                    p.id_pos,
                    format!(
                        "duplicate rule id `{}` (first in {} line {})",
                        p.meta.id, first.1, first.2.id_pos.line
                    ),
                );
            }
            _ => {
                owner.insert(&p.meta.id, i);
            }
        }
    }
    let kept: Vec<usize> = (0..parsed.len())
        .filter(|&i| owner.get(parsed[i].2.meta.id.as_str()) == Some(&i))
        .collect();

    let mut by_ref: HashMap<&str, usize> = HashMap::new();
    for (new, &old) in kept.iter().enumerate() {
        let p = &parsed[old].2;
        by_ref.insert(&p.meta.id, new);
        if let Some(name) = &p.meta.name {
            if let Some(&other) = by_ref.get(name.as_str())
                && other != new
            {
                Sink::new(parsed[old].1, diags)
                    .error(p.name_pos, format!("duplicate rule name `{name}`"));
            }
            by_ref.insert(name, new);
        }
    }

    let mut metas: Vec<RuleMeta> = kept.iter().map(|&i| parsed[i].2.meta.clone()).collect();
    let mut correlations = Vec::new();
    let mut feeds: Vec<Vec<usize>> = vec![Vec::new(); kept.len()];
    let mut generated: HashSet<usize> = HashSet::new();
    for (new, &old) in kept.iter().enumerate() {
        let (_, file, p) = &parsed[old];
        let Body::Correlation(spec) = &p.body else {
            continue;
        };
        let c = correlations.len();
        let mut ok = true;
        for (reference, pos) in &spec.rules {
            let Some(&target) = by_ref.get(reference.as_str()) else {
                Sink::new(file, diags)
                    .error(*pos, format!("no rule with id or name `{reference}`"));
                ok = false;
                continue;
            };
            if matches!(parsed[kept[target]].2.body, Body::Correlation(_)) {
                Sink::new(file, diags).error(
                    *pos,
                    format!("`{reference}` is a correlation rule; chaining correlations is not supported"),
                );
                ok = false;
                continue;
            }
            if !feeds[target].contains(&c) {
                feeds[target].push(c);
            }
            if p.generate {
                generated.insert(target);
            }
        }
        if ok {
            correlations.push(Correlation {
                rule: RuleId(new as u32),
                spec: spec.clone(),
            });
        }
    }
    let mut events = Vec::new();
    let mut field_ids = FieldIds::default();
    for (new, &old) in kept.iter().enumerate() {
        if let Body::Detection(expr) = &parsed[old].2.body {
            let alerts = feeds[new].is_empty() || generated.contains(&new);
            metas[new].alerts = alerts;
            let mut expr = expr.clone();
            expr.number_fields(&mut field_ids);
            events.push(EventRule {
                id: RuleId(new as u32),
                guard: Guard::of(&expr),
                program: Program::new(&expr),
                alerts,
                feeds: feeds[new].clone().into_boxed_slice(),
            });
        }
    }
    let has_errors = diags.iter().any(|d| d.level == DiagnosticLevel::Error);
    (!has_errors).then_some(Compiled {
        metas,
        events,
        correlations,
    })
}

/// Reads rule files below `dir`, sorted by path.
fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, RuleError> {
    let io = |path: &Path, source| RuleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
            let entry = entry.map_err(|e| io(&d, e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| io(&path, e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| io(&p, e))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests;
