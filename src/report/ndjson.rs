//! The NDJSON renderer: one record per line, each tagged with `type`.
//!
//! Like ripgrep's `--json`, records come in an order a stream consumer can act on: findings,
//! gaps and secrets as they are, then one `summary` record with the scope, severity and counts.

use serde::Serialize;
use serde_json::{Map, Value};

use super::ScanReport;

/// Writes `{"type": kind, ...fields of value}` on one line.
pub fn record<T: Serialize>(
    kind: &str,
    value: &T,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::String(kind.into()));
    match serde_json::to_value(value)? {
        Value::Object(fields) => obj.extend(fields),
        other => {
            obj.insert("value".into(), other);
        }
    }
    serde_json::to_writer(&mut *w, &Value::Object(obj))?;
    w.write_all(b"\n")
}

/// The summary record: everything but the lists streamed before it.
#[derive(Serialize)]
struct Summary<'a> {
    schema_version: &'a str,
    generated_at: crate::model::Timestamp,
    incident_id: &'a str,
    tool: &'a super::Tool,
    command: &'a str,
    complete: bool,
    window: &'a crate::model::TimeWindow,
    settings: &'a super::Settings,
    inputs: &'a [crate::scan::result::InputRecord],
    stats: &'a crate::scan::result::StatsRecord,
    #[serde(rename = "first_event")]
    first_entry: Option<crate::model::Timestamp>,
    #[serde(rename = "last_event")]
    last_entry: Option<crate::model::Timestamp>,
    #[serde(rename = "suspicious_events")]
    suspicious_entries: u64,
    accessed_secrets: usize,
    affected_tenants: &'a [String],
    breach_scope: crate::scope::BreachScope,
    severity: Option<crate::model::Severity>,
    response_time: Option<&'a str>,
    findings: usize,
    suspects_total: usize,
    root_generation_requests: u64,
    gaps: usize,
    unexplained_gaps: usize,
}

/// Writes a scan report as NDJSON.
pub fn write_scan(r: &ScanReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    for s in &r.suspects {
        record("suspect", s, w)?;
    }
    for f in &r.findings {
        record("finding", f, w)?;
    }
    for g in &r.gaps {
        record("gap", g, w)?;
    }
    for s in &r.secrets {
        record("secret", s, w)?;
    }
    for t in &r.tenants {
        record("tenant", t, w)?;
    }
    for m in &r.malformed {
        record("malformed", m, w)?;
    }
    let summary = Summary {
        schema_version: r.schema_version,
        generated_at: r.generated_at,
        incident_id: &r.incident_id,
        tool: &r.tool,
        command: r.command,
        complete: r.complete,
        window: &r.window,
        settings: &r.settings,
        inputs: &r.inputs,
        stats: &r.stats,
        first_entry: r.first_entry,
        last_entry: r.last_entry,
        suspicious_entries: r.suspicious_entries,
        accessed_secrets: r.accessed_secrets,
        affected_tenants: &r.affected_tenants,
        breach_scope: r.breach_scope,
        severity: r.severity,
        response_time: r.response_time,
        findings: r.findings.len(),
        suspects_total: r.suspects_total,
        root_generation_requests: r.root_generation_requests,
        gaps: r.gaps.len(),
        unexplained_gaps: r.unexplained_gaps,
    };
    record("summary", &summary, w)
}
