//! Sigma v2 correlation rules: `event_count` and `value_count` over a sliding time window.
//!
//! During the scan every event matched by a base rule is recorded per (correlation, group) as
//! its timestamp, its `Loc` and, for `value_count`, a hash of the counted field's value (kept as
//! a dense id, see `obs.rs`). A scan's workers record into one shared set of groups; states
//! kept apart are merged by concatenating. `finish` sorts each group by
//! (time, location) and slides the window.
//!
//! The state and the window evaluation live in `state.rs`.
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
//!   still count in `CorrelationHit::total` but are not windowed. A group that large has
//!   almost surely crossed any burst threshold within its first events.
//! - **Evidence** keeps the [`MAX_EVIDENCE`] smallest locations of the reported window.

use super::RuleId;
use super::error::{Pos, Sink};
use super::field::Field;
use super::yaml::{Node, Yaml};
use crate::model::Span;

/// Events kept per (correlation, group); see the module documentation.
pub const MAX_EVENTS_PER_GROUP: usize = 1 << 16;

/// Locations kept as evidence per correlation hit.
pub const MAX_EVIDENCE: usize = 32;

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
    pub(crate) fn holds(self, x: u64, bound: u64) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
