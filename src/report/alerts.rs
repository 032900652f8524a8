//! Alerts for scheduled runs: only what is new since the last run, one JSON object per line.
//!
//! `ndjson` is blastradius' own record; `ocsf` is an OCSF 1.8 Detection Finding (class_uid 2004,
//! activity Create, type_uid 200401) and `ecs` an Elastic Common Schema alert
//! (`event.kind: alert`), so SIEMs ingest them as they are.

use std::io::Write;

use serde_json::{Value, json};

use super::ScanReport;
use crate::detect::Finding;
use crate::gaps::Gap;
use crate::model::{Severity, Timestamp};
use crate::state::AlertMemory;

/// `--alert-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AlertFormat {
    /// blastradius' own NDJSON records (`type: alert`).
    #[default]
    Ndjson,
    /// OCSF Detection Finding (class_uid 2004).
    Ocsf,
    /// ECS alert documents (`event.kind: alert`).
    Ecs,
}

/// Something new since the last run.
#[derive(Clone, Debug)]
pub enum Alert<'a> {
    /// A finding with new matches.
    Finding {
        /// The finding (cumulative).
        finding: &'a Finding,
        /// Matches since the last run.
        new_matches: u64,
    },
    /// An unexplained gap not alerted before.
    Gap(&'a Gap),
    /// More gaps of a kind than a report lists.
    GapsOmitted {
        /// The kind.
        kind: &'static str,
        /// How many more since the last run.
        new: u64,
    },
}

fn finding_key(f: &Finding) -> String {
    let group: Vec<String> = f.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}|{}", f.rule_id, group.join(","))
}

fn gap_key(g: &Gap) -> String {
    let at = g
        .evidence
        .first()
        .map_or_else(String::new, |l| format!("{}:{}", l.file, l.line));
    format!(
        "{}|{}|{at}",
        g.kind.as_str(),
        g.start.map(|t| t.to_rfc3339()).unwrap_or_default()
    )
}

/// What is new in `report` compared with `memory`, which is updated to include it.
pub fn new_alerts<'a>(report: &'a ScanReport, memory: &mut AlertMemory) -> Vec<Alert<'a>> {
    let mut out = Vec::new();
    for f in &report.findings {
        let seen = memory.findings.entry(finding_key(f)).or_insert(0);
        if f.count > *seen {
            out.push(Alert::Finding {
                finding: f,
                new_matches: f.count - *seen,
            });
            *seen = f.count;
        }
    }
    for g in report.gaps.iter().filter(|g| g.explained_by.is_none()) {
        if memory.gaps.insert(gap_key(g)) {
            out.push(Alert::Gap(g));
        }
    }
    for (kind, n) in &report.gaps_omitted {
        let seen = memory
            .findings
            .entry(format!("gaps-omitted|{}", kind.as_str()))
            .or_insert(0);
        if *n > *seen {
            out.push(Alert::GapsOmitted {
                kind: kind.as_str(),
                new: n - *seen,
            });
            *seen = *n;
        }
    }
    out
}

fn ms(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| json!(t.0 / 1_000_000))
}

fn ocsf_severity(s: Option<Severity>) -> (u8, &'static str) {
    match s {
        Some(Severity::P0) => (5, "Critical"),
        Some(Severity::P1) => (4, "High"),
        Some(Severity::P2) => (3, "Medium"),
        Some(Severity::P3) => (2, "Low"),
        None => (3, "Medium"),
    }
}

struct Parts {
    uid: String,
    title: String,
    desc: String,
    severity: Option<Severity>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    count: u64,
    rule_id: String,
    evidence: Value,
    detail: Value,
}

fn parts(a: &Alert<'_>) -> serde_json::Result<Parts> {
    Ok(match a {
        Alert::Finding {
            finding: f,
            new_matches,
        } => Parts {
            uid: finding_key(f),
            title: f.title.clone(),
            desc: f.description.clone(),
            severity: Some(f.severity),
            first: f.first_seen,
            last: f.last_seen,
            count: *new_matches,
            rule_id: f.rule_id.clone(),
            evidence: json!(f.evidence),
            detail: serde_json::to_value(f)?,
        },
        Alert::Gap(g) => Parts {
            uid: gap_key(g),
            title: format!("Audit gap: {}", g.kind.as_str()),
            desc: g.detail.clone(),
            severity: Some(Severity::P2),
            first: g.start,
            last: g.end,
            count: 1,
            rule_id: format!("audit-gap/{}", g.kind.as_str()),
            evidence: json!(g.evidence),
            detail: serde_json::to_value(g)?,
        },
        Alert::GapsOmitted { kind, new } => Parts {
            uid: format!("gaps-omitted|{kind}"),
            title: format!("{new} more audit gaps of kind {kind}"),
            desc: "more gaps of this kind than a report lists; see gaps_omitted".into(),
            severity: Some(Severity::P2),
            first: None,
            last: None,
            count: *new,
            rule_id: format!("audit-gap/{kind}"),
            evidence: json!([]),
            detail: json!({"kind": kind, "new": new}),
        },
    })
}

/// Writes alerts, one per line.
pub fn write(
    alerts: &[Alert<'_>],
    format: AlertFormat,
    report: &ScanReport,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    for a in alerts {
        let p = parts(a)?;
        let v = match format {
            AlertFormat::Ndjson => json!({
                "type": "alert",
                "kind": match a { Alert::Finding { .. } => "finding", Alert::Gap(_) => "gap", Alert::GapsOmitted { .. } => "gaps-omitted" },
                "uid": p.uid,
                "rule_id": p.rule_id,
                "title": p.title,
                "severity": p.severity,
                "new_matches": p.count,
                "first_seen": p.first,
                "last_seen": p.last,
                "incident_id": report.incident_id,
                "generated_at": report.generated_at,
                "detail": p.detail,
            }),
            AlertFormat::Ocsf => {
                let (sev_id, sev) = ocsf_severity(p.severity);
                json!({
                    "class_uid": 2004, "class_name": "Detection Finding",
                    "category_uid": 2, "category_name": "Findings",
                    "activity_id": 1, "activity_name": "Create",
                    "type_uid": 200401, "type_name": "Detection Finding: Create",
                    "severity_id": sev_id, "severity": sev,
                    "status_id": 1, "status": "New",
                    "is_alert": true,
                    "time": ms(Some(report.generated_at)),
                    "message": p.title,
                    "count": p.count,
                    "metadata": {
                        "version": "1.8.0",
                        "product": {"name": "blastradius", "vendor_name": "blastradius", "version": report.tool.version},
                        "log_name": "vault-audit",
                        "original_time": report.generated_at,
                    },
                    "finding_info": {
                        "uid": p.uid,
                        "title": p.title,
                        "desc": p.desc,
                        "types": ["vault-audit"],
                        "first_seen_time": ms(p.first),
                        "last_seen_time": ms(p.last),
                        "analytic": {"type_id": 1, "type": "Rule", "uid": p.rule_id, "name": p.title},
                    },
                    "evidences": [{"data": p.evidence}],
                    "unmapped": {"incident_id": report.incident_id, "detail": p.detail},
                })
            }
            AlertFormat::Ecs => json!({
                "@timestamp": report.generated_at,
                "ecs": {"version": "8.16.0"},
                "event": {
                    "kind": "alert",
                    "category": ["intrusion_detection"],
                    "type": ["info"],
                    "severity": ocsf_severity(p.severity).0,
                    "start": p.first, "end": p.last,
                    "created": report.generated_at,
                    "dataset": "blastradius.alert",
                    "id": p.uid,
                },
                "rule": {"id": p.rule_id, "name": p.title, "description": p.desc, "ruleset": "blastradius"},
                "message": p.title,
                "observer": {"product": "blastradius", "vendor": "blastradius", "version": report.tool.version},
                "labels": {"incident_id": report.incident_id},
                "blastradius": {"new_matches": p.count, "detail": p.detail},
            }),
        };
        serde_json::to_writer(&mut *w, &v)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}
