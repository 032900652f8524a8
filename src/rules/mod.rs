//! TEMPORARY stand-in with the API of the Sigma rule engine (being written on the `rules`
//! branch); replaced when that branch merges. It has no rules and matches nothing.
#![allow(missing_docs, clippy::missing_errors_doc)]

use crate::model::{Event, Loc, Severity, Timestamp};

pub type RuleId = usize;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Event,
    Correlation,
}

#[derive(Clone, Debug)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub level: String,
    pub severity: Option<Severity>,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub tags: Vec<String>,
    pub kind: RuleKind,
    pub source: String,
}

#[derive(Clone, Debug)]
pub struct CorrelationHit {
    pub rule: RuleId,
    pub group: Vec<(String, String)>,
    pub first: Timestamp,
    pub last: Timestamp,
    pub count: u64,
    pub evidence: Vec<Loc>,
}

#[derive(Default)]
pub struct RuleSet {
    rules: Vec<RuleMeta>,
}

#[derive(Default)]
pub struct RuleState;

impl RuleState {
    pub fn merge(&mut self, _other: RuleState) {}
}

impl RuleSet {
    pub fn builtin() -> Result<RuleSet, RuleError> {
        Ok(RuleSet::default())
    }
    pub fn from_sources(_srcs: &[(String, String)]) -> Result<RuleSet, RuleError> {
        Ok(RuleSet::default())
    }
    pub fn with_dir(self, _dir: &std::path::Path) -> Result<RuleSet, RuleError> {
        Ok(self)
    }
    pub fn rules(&self) -> &[RuleMeta] {
        &self.rules
    }
    pub fn new_state(&self) -> RuleState {
        RuleState
    }
    pub fn observe(
        &self,
        _ev: &Event<'_>,
        _loc: Loc,
        _state: &mut RuleState,
        _on_hit: &mut dyn FnMut(RuleId),
    ) {
    }
    pub fn save_state(
        &self,
        _state: &RuleState,
        _absolute: &dyn Fn(Loc) -> Loc,
    ) -> serde_json::Value {
        serde_json::Value::Null
    }
    pub fn load_state(&self, _v: serde_json::Value) -> Result<RuleState, RuleError> {
        Ok(RuleState)
    }
    pub fn finish(&self, _state: RuleState) -> Vec<CorrelationHit> {
        Vec::new()
    }
}
