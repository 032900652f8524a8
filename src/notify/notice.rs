//! One notice per affected tenant, built from an [`Exposure`].
//!
//! A notice holds only its own tenant's rows: secrets and plan rows are matched on the tenant by
//! string equality (never by prefix: `acme` is not `acme-eu`), and rows with no tenant (the
//! tokens and auth credentials of the compromise) are only counted, never listed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::input::{Exposure, SecretIn, SourceCommand, TargetIn};
use crate::model::{Interval, Severity, Timestamp};
use crate::redact;

/// The notice contract's version (docs/notify.md).
pub const NOTICE_SCHEMA_VERSION: &str = "1.0";

/// A secret of the tenant that was exposed. Paths and kinds, never values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExposedSecret {
    /// The request path (`kv/data/acme/billing`).
    pub path: String,
    /// As responders name it (`kv/acme/billing`).
    pub secret: String,
    /// Its kind (`kv-v2-read` ...), when known.
    pub kind: Option<String>,
    /// `read` or `unknown-response-missing`.
    pub outcome: String,
    /// Successful reads.
    pub reads: u64,
    /// First read.
    pub first_read: Option<Timestamp>,
    /// Last read.
    pub last_read: Option<Timestamp>,
}

/// Who does what.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionBy {
    /// The platform's operators (revocations, or what `--action-taken` states).
    Operator,
    /// The tenant (rotating its secrets at their source).
    Tenant,
}

/// An action taken or required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoticeAction {
    /// `rotate-secret`, `revoke-lease`, `revoke-token`, `rotate-auth-credential`, `statement`.
    pub action: String,
    /// Who.
    pub by: ActionBy,
    /// The tenant's path or lease the action is on, when it is one.
    pub target: Option<String>,
    /// The runbook command, when the plan has one.
    pub command: Option<String>,
    /// In words.
    pub text: String,
}

/// The notice to one tenant.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    /// This contract.
    pub schema_version: &'static str,
    /// `--incident-id`, or derived from the exposure.
    pub incident_id: String,
    /// The tenant.
    pub tenant: String,
    /// From the tenant's own plan rows (tier 1 → P0 .. tier 4 → P3), else the incident's.
    pub severity: Option<Severity>,
    /// What the severity calls for.
    pub response_time: Option<&'static str>,
    /// The report's severity.
    pub incident_severity: Option<Severity>,
    /// `blast` (one credential's lineage) or `scan` (every read in the window).
    pub basis: SourceCommand,
    /// False when an input could not be read completely: the exposure may be larger.
    pub complete: bool,
    /// First to last read of this tenant's secrets.
    pub exposure_window: Option<Interval>,
    /// The tenant's secrets exposed, by path.
    pub secrets: Vec<ExposedSecret>,
    /// What the operators did.
    pub actions_taken: Vec<NoticeAction>,
    /// What the tenant must do.
    pub actions_required: Vec<NoticeAction>,
}

/// Everything one run writes.
#[derive(Clone, Debug, Serialize)]
pub struct NoticeSet {
    /// The incident id.
    pub incident_id: String,
    /// The report's severity.
    pub severity: Option<Severity>,
    /// One per affected tenant, by tenant.
    pub notices: Vec<Notice>,
    /// Tenants with exposed secrets that get no notice (`--exclude-tenant`), sorted.
    pub excluded: Vec<String>,
    /// Secrets exposed with no tenant: sent to nobody, for the operators to handle.
    pub unattributed: Vec<ExposedSecret>,
}

/// What the caller adds to the report.
#[derive(Clone, Debug, Default)]
pub struct NoticeOptions {
    /// `--incident-id`.
    pub incident_id: Option<String>,
    /// More tenants to leave out (`--exclude-tenant` with `--report`).
    pub exclude: Vec<String>,
    /// `--action-taken`: statements of the operators, in every notice.
    pub actions_taken: Vec<String>,
}

fn clean(s: &str) -> String {
    redact::text(s).into_owned()
}

fn exposed(s: &SecretIn) -> ExposedSecret {
    ExposedSecret {
        path: clean(&s.path),
        secret: clean(s.secret.as_deref().unwrap_or(&s.path)),
        kind: s.kind.as_deref().map(clean),
        outcome: s.outcome.clone().unwrap_or_else(|| "read".into()),
        reads: s.reads,
        first_read: s.first_read,
        last_read: s.last_read,
    }
}

fn tier_severity(tier: u8) -> Severity {
    match tier {
        1 => Severity::P0,
        2 => Severity::P1,
        3 => Severity::P2,
        _ => Severity::P3,
    }
}

/// The default incident id: `INC-<first exposure, YYYYMMDD-HHMMSS>-<8 hex>`, the hex from a
/// SHA-256 of what was exposed (command, pivots, every tenant and path): the same inputs give
/// the same id, run after run, live or from the report.
pub fn derived_incident_id(e: &Exposure) -> String {
    let mut h = Sha256::new();
    h.update(format!("{}\n", e.command.id_name()));
    h.update(e.pivots.to_string());
    let rows: BTreeSet<(Option<&str>, &str, Option<&str>)> = e
        .exposed()
        .iter()
        .map(|s| (s.tenant.as_deref(), s.path.as_str(), s.kind.as_deref()))
        .collect();
    for (tenant, path, kind) in rows {
        h.update(format!("\n{tenant:?}\t{path:?}\t{kind:?}"));
    }
    let digest = h.finalize();
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let start = e
        .exposure_window
        .map(|w| w.start)
        .or_else(|| e.exposed().iter().filter_map(|s| s.first_read).min());
    let stamp = start.map_or_else(
        || "00000000-000000".to_string(),
        |t| {
            crate::report::incident_id(t)
                .trim_start_matches("INC-")
                .to_string()
        },
    );
    format!("INC-{stamp}-{hex}")
}

/// The notices for every affected tenant of `e`.
pub fn build(e: &Exposure, opts: &NoticeOptions) -> NoticeSet {
    let incident_id = opts
        .incident_id
        .clone()
        .unwrap_or_else(|| derived_incident_id(e));
    let excluded_names: BTreeSet<&str> = e
        .settings
        .excluded_tenants
        .iter()
        .chain(&opts.exclude)
        .map(String::as_str)
        .collect();
    let mut by_tenant: BTreeMap<&str, Vec<&SecretIn>> = BTreeMap::new();
    let mut excluded = BTreeSet::new();
    let mut unattributed = Vec::new();
    for s in e.exposed() {
        match s.tenant.as_deref() {
            None => unattributed.push(exposed(s)),
            Some(t) if s.tenant_excluded || excluded_names.contains(t) => {
                excluded.insert(clean(t));
            }
            Some(t) => by_tenant.entry(t).or_default().push(s),
        }
    }
    unattributed.sort_by(|a, b| a.path.cmp(&b.path));
    let notices = by_tenant
        .into_iter()
        .map(|(tenant, secrets)| notice(e, opts, &incident_id, tenant, &secrets))
        .collect();
    NoticeSet {
        incident_id,
        severity: e.severity,
        notices,
        excluded: excluded.into_iter().collect(),
        unattributed,
    }
}

fn notice(
    e: &Exposure,
    opts: &NoticeOptions,
    incident_id: &str,
    tenant: &str,
    secrets: &[&SecretIn],
) -> Notice {
    let mut listed: Vec<ExposedSecret> = secrets.iter().map(|s| exposed(s)).collect();
    listed.sort_by(|a, b| a.path.cmp(&b.path).then(a.kind.cmp(&b.kind)));
    listed.dedup();
    let start = listed.iter().filter_map(|s| s.first_read).min();
    let end = listed
        .iter()
        .filter_map(|s| s.last_read.or(s.first_read))
        .max();
    let exposure_window = start.zip(end).map(|(start, end)| Interval { start, end });
    let own: Vec<&TargetIn> = e
        .rotation_targets
        .iter()
        .filter(|r| r.tenant.as_deref() == Some(tenant))
        .collect();
    let severity = own
        .iter()
        .filter(|r| matches!(r.action.as_str(), "rotate-secret" | "revoke-lease"))
        .map(|r| r.tier)
        .min()
        .map(tier_severity)
        .or(e.severity);
    let (actions_taken, actions_required) = super::actions::split(e, opts, &own, &listed);
    Notice {
        schema_version: NOTICE_SCHEMA_VERSION,
        incident_id: incident_id.to_string(),
        tenant: clean(tenant),
        severity,
        response_time: severity.map(Severity::response_time),
        incident_severity: e.severity,
        basis: e.command,
        complete: e.complete,
        exposure_window,
        secrets: listed,
        actions_taken,
        actions_required,
    }
}
