//! The NDJSON renderer: one record per line, each tagged with `type`.
//!
//! Like ripgrep's `--json`, records come in an order a stream consumer can act on: findings,
//! gaps and secrets as they are, then one `summary` record with the scope, severity and counts.
//! A secret's readers are not a list inside its record but one `reader` record each, right
//! after it: `-f ndjson` lists every reader by default (`--max-readers 0`), and a secret read by
//! thousands of tokens must not make one line of megabytes.

use std::io::{self, Write};

use serde::Serialize;

use super::ScanReport;
use super::json::Chunked;
use crate::detect::Actor;
use crate::model::secret::SecretKind;
use crate::model::{Location, Timestamp};
use crate::scope::SecretRecord;

/// Writes `{"type": kind, ...fields of value}` on one line.
pub fn record<T: Serialize>(kind: &str, value: &T, w: &mut dyn Write) -> io::Result<()> {
    let mut scratch = Vec::new();
    write_record(kind, value, &mut scratch, w)
}

/// [`record`] with a buffer to serialise into, kept across records.
fn write_record<T: Serialize, W: Write + ?Sized>(
    kind: &str,
    value: &T,
    scratch: &mut Vec<u8>,
    w: &mut W,
) -> io::Result<()> {
    scratch.clear();
    serde_json::to_writer(&mut *scratch, value)?;
    w.write_all(b"{\"type\":")?;
    serde_json::to_writer(&mut *w, kind)?;
    match scratch.as_slice() {
        // An object: its fields follow the tag.
        [b'{', b'}'] => w.write_all(b"}")?,
        [b'{', rest @ ..] => {
            w.write_all(b",")?;
            w.write_all(rest)?;
        }
        other => {
            w.write_all(b",\"value\":")?;
            w.write_all(other)?;
            w.write_all(b"}")?;
        }
    }
    w.write_all(b"\n")
}

/// A `secret` record: the JSON report's `secrets[]` entry without `readers`.
#[derive(Serialize)]
struct SecretLine<'a> {
    path: &'a str,
    secret: &'a str,
    kind: SecretKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    tenant: Option<&'a str>,
    tenant_excluded: bool,
    reads: u64,
    first_read: Option<Timestamp>,
    last_read: Option<Timestamp>,
    readers_total: usize,
    readers_omitted: usize,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    readers_saturated: bool,
    evidence: &'a [Location],
}

impl<'a> SecretLine<'a> {
    fn of(s: &'a SecretRecord) -> SecretLine<'a> {
        SecretLine {
            path: &s.path,
            secret: &s.secret,
            kind: s.kind,
            namespace: s.namespace.as_deref(),
            tenant: s.tenant.as_deref(),
            tenant_excluded: s.tenant_excluded,
            reads: s.reads,
            first_read: s.first_read,
            last_read: s.last_read,
            readers_total: s.readers_total,
            readers_omitted: s.readers_omitted,
            readers_saturated: s.readers_saturated,
            evidence: &s.evidence,
        }
    }
}

/// A `reader` record: one reader of the secret at `path`, `order` counting from 1 in the order
/// readers were first seen.
#[derive(Serialize)]
struct ReaderLine<'a> {
    path: &'a str,
    order: usize,
    #[serde(flatten)]
    actor: &'a Actor,
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
pub fn write_scan(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    let mut out = Lines {
        out: Chunked::new(w),
        scratch: Vec::new(),
    };
    for s in &r.suspects {
        out.put("suspect", s)?;
    }
    for f in &r.findings {
        out.put("finding", f)?;
    }
    for g in &r.gaps {
        out.put("gap", g)?;
    }
    // The bulk of a busy log's records: rendered chunk by chunk on the current pool.
    super::parallel::ordered(
        &r.secrets,
        super::parallel::CHUNK_ITEMS,
        &secret_lines,
        &mut out.out,
    )?;
    for t in &r.tenants {
        out.put("tenant", t)?;
    }
    for m in &r.malformed {
        out.put("malformed", m)?;
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
    out.put("summary", &summary)?;
    out.out.finish()
}

/// The `secret` record of each secret in `chunk`, each followed by its `reader` records.
fn secret_lines(_start: usize, chunk: &[SecretRecord], buf: &mut Vec<u8>) -> io::Result<()> {
    let mut scratch = Vec::new();
    for s in chunk {
        write_record("secret", &SecretLine::of(s), &mut scratch, buf)?;
        for (i, actor) in s.readers.iter().enumerate() {
            let line = ReaderLine {
                path: &s.path,
                order: i + 1,
                actor,
            };
            write_record("reader", &line, &mut scratch, buf)?;
        }
    }
    Ok(())
}

/// Records going out through one buffer, each serialised into the same scratch space.
struct Lines<'w> {
    out: Chunked<'w>,
    scratch: Vec<u8>,
}

impl Lines<'_> {
    fn put<T: Serialize>(&mut self, kind: &str, value: &T) -> io::Result<()> {
        write_record(kind, value, &mut self.scratch, &mut self.out)
    }
}
