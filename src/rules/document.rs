//! One YAML document to one rule: metadata checks and the detection or correlation body.

use super::correlation::{self, Spec};
use super::detection::{self, Expr};
use super::error::{Pos, Sink};
use super::matcher::Regexes;
use super::yaml::{Node, Yaml};
use super::{RuleKind, RuleMeta};
use crate::model::Severity;

/// Sigma `level` values.
const LEVELS: &[&str] = &["informational", "low", "medium", "high", "critical"];

/// Sigma `status` values.
const STATUSES: &[&str] = &[
    "stable",
    "test",
    "experimental",
    "deprecated",
    "unsupported",
];

/// Top-level attributes Sigma defines that the engine accepts without using.
const PASSIVE: &[&str] = &[
    "author", "date", "modified", "license", "fields", "related", "taxonomy", "scope",
];

/// What a rule does.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    Detection(Expr),
    Correlation(Spec),
}

/// A rule read from one document.
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    pub(crate) meta: RuleMeta,
    /// Where `id` is, for duplicate-id errors.
    pub(crate) id_pos: Pos,
    /// Where `name` is, for duplicate-name errors.
    pub(crate) name_pos: Pos,
    pub(crate) body: Body,
    /// Correlations only: whether the referenced rules also report on their own.
    pub(crate) generate: bool,
}

fn text(node: &Node, what: &str, sink: &mut Sink<'_>) -> Option<String> {
    match node.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            sink.error(
                node.pos,
                format!("`{what}` must be a string, not {}", node.kind()),
            );
            None
        }
    }
}

fn list(node: &Node, what: &str, sink: &mut Sink<'_>) -> Vec<String> {
    match &node.value {
        Yaml::Scalar(s, _) => vec![s.clone()],
        Yaml::Null => Vec::new(),
        Yaml::Seq(items) => items
            .iter()
            .filter_map(|i| {
                let s = i.as_str().map(str::to_string);
                if s.is_none() {
                    sink.error(i.pos, format!("`{what}` entries must be strings"));
                }
                s
            })
            .collect(),
        Yaml::Map(_) => {
            sink.error(node.pos, format!("`{what}` must be a list of strings"));
            Vec::new()
        }
    }
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn check_logsource(node: &Node, sink: &mut Sink<'_>) {
    let Yaml::Map(entries) = &node.value else {
        sink.error(
            node.pos,
            "`logsource` must be a mapping such as {product: vault, service: audit}",
        );
        return;
    };
    for (key, value) in entries {
        let v = value.as_str().unwrap_or("");
        match key.name.as_str() {
            "product" if !matches!(v, "vault" | "openbao") => sink.error(
                value.pos,
                format!("logsource product `{v}` is not supported (use `vault` or `openbao`)"),
            ),
            "service" if v != "audit" => sink.error(
                value.pos,
                format!("logsource service `{v}` is not supported (use `audit`)"),
            ),
            "product" | "service" | "definition" => {}
            "category" => sink.error(
                key.pos,
                "logsource `category` is not supported; Vault audit rules use product and service",
            ),
            other => sink.warning(key.pos, format!("unknown logsource attribute `{other}`")),
        }
    }
}

/// Reads one rule document.
pub(crate) fn parse(
    doc: &Node,
    source: &str,
    sink: &mut Sink<'_>,
    regexes: &mut Regexes,
) -> Option<Parsed> {
    let Yaml::Map(entries) = &doc.value else {
        sink.error(
            doc.pos,
            format!("a rule must be a mapping, not {}", doc.kind()),
        );
        return None;
    };
    let errors_before = sink.error_count();
    let mut meta = RuleMeta {
        id: String::new(),
        name: None,
        title: String::new(),
        status: String::new(),
        description: String::new(),
        level: "informational".into(),
        severity: None,
        references: Vec::new(),
        falsepositives: Vec::new(),
        tags: Vec::new(),
        kind: RuleKind::Entry,
        source: source.to_string(),
        alerts: true,
    };
    let (mut id_pos, mut name_pos) = (doc.pos, doc.pos);
    let mut seen_level = false;
    let mut logsource = None;
    let mut detection = None;
    let mut correlation = None;
    let mut generate = None;
    for (key, value) in entries {
        match key.name.as_str() {
            "title" => meta.title = text(value, "title", sink).unwrap_or_default(),
            "id" => {
                id_pos = value.pos;
                meta.id = text(value, "id", sink).unwrap_or_default();
                if !meta.id.is_empty() && !is_uuid(&meta.id) {
                    sink.warning(value.pos, format!("id `{}` is not a UUID", meta.id));
                }
            }
            "name" => {
                name_pos = value.pos;
                meta.name = text(value, "name", sink);
            }
            "status" => {
                meta.status = text(value, "status", sink).unwrap_or_default();
                if !STATUSES.contains(&meta.status.as_str()) {
                    sink.warning(value.pos, format!("unknown status `{}`", meta.status));
                } else if matches!(meta.status.as_str(), "deprecated" | "unsupported") {
                    sink.warning(value.pos, format!("rule is {}", meta.status));
                }
            }
            "description" => {
                meta.description = text(value, "description", sink).unwrap_or_default()
            }
            "level" => {
                seen_level = true;
                let level = text(value, "level", sink).unwrap_or_default();
                if LEVELS.contains(&level.as_str()) {
                    meta.severity = Severity::from_sigma_level(&level);
                    meta.level = level;
                } else {
                    sink.error(
                        value.pos,
                        format!("unknown level `{level}` (use {})", LEVELS.join(", ")),
                    );
                }
            }
            "references" => meta.references = list(value, "references", sink),
            "falsepositives" => meta.falsepositives = list(value, "falsepositives", sink),
            "tags" => meta.tags = list(value, "tags", sink),
            "logsource" => logsource = Some(value),
            "detection" => detection = Some((key.pos, value)),
            "correlation" => correlation = Some((key.pos, value)),
            "generate" => match value.as_str() {
                Some("true") => generate = Some((key.pos, true)),
                Some("false") => generate = Some((key.pos, false)),
                _ => sink.error(value.pos, "`generate` must be true or false"),
            },
            k if PASSIVE.contains(&k) => {}
            other => sink.warning(key.pos, format!("unknown attribute `{other}` is ignored")),
        }
    }
    if meta.title.is_empty() {
        sink.error(doc.pos, "rule has no `title`");
    }
    if meta.id.is_empty() {
        sink.error(doc.pos, "rule has no `id`");
    }
    if !seen_level {
        sink.warning(
            doc.pos,
            "rule has no `level`; it is treated as informational",
        );
    }
    if meta.description.is_empty() {
        sink.warning(doc.pos, "rule has no `description`");
    }
    if meta.references.is_empty() {
        sink.warning(doc.pos, "rule has no `references`");
    }
    let body = match (detection, correlation) {
        (Some(_), Some((pos, _))) => {
            sink.error(
                pos,
                "a rule has either `detection` or `correlation`, not both",
            );
            None
        }
        (None, None) => {
            sink.error(doc.pos, "rule has neither `detection` nor `correlation`");
            None
        }
        (Some((pos, node)), None) => {
            match logsource {
                Some(ls) => check_logsource(ls, sink),
                None => sink.error(
                    pos,
                    "rule has no `logsource` (use {product: vault, service: audit})",
                ),
            }
            if let Some((gpos, _)) = generate {
                sink.warning(gpos, "`generate` only applies to correlation rules");
            }
            detection::compile(node, sink, regexes).map(Body::Detection)
        }
        (None, Some((_, node))) => {
            meta.kind = RuleKind::Correlation;
            correlation::parse(node, sink).map(Body::Correlation)
        }
    };
    if sink.error_count() > errors_before {
        return None;
    }
    Some(Parsed {
        meta,
        id_pos,
        name_pos,
        body: body?,
        generate: generate.is_some_and(|(_, g)| g),
    })
}
