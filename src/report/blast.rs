//! The `blast` and `rotation-list` reports.

use std::io::Write;

use comfy_table::{Cell, Color as TColor};
use serde::Serialize;

use super::ndjson::record;
use super::sanitize::{csv_cell, terminal as t};
use super::text::{Color, bytes_label, paint, table, time};
use super::{SCHEMA_VERSION, Tool, incident_id};
use crate::blast::{
    BlastRadius, DeniedRecord, LeaseRecord, PivotEcho, ReadOutcome, RotationTarget,
    SecretReadRecord, TokenRecord,
};
use crate::gaps::Gap;
use crate::model::secret::SecretKind;
use crate::model::{Interval, TimeWindow};
use crate::model::{Severity, Timestamp};
use crate::scan::result::{InputRecord, ScanResult};
use crate::scope::BreachScope;

/// Formats of `blast`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BlastFormat {
    /// Summary and tables for people.
    Text,
    /// The full report.
    Json,
    /// One tagged record per line.
    Ndjson,
    /// The rotation plan as CSV.
    Csv,
    /// An incident report in Markdown (for tickets, wikis, chat).
    Markdown,
    /// A self-contained HTML incident report with an activity chart.
    Html,
}

/// Formats of `rotation-list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// CSV with a header row (columns in docs/rotation-list.md).
    Csv,
    /// A JSON array of targets.
    Json,
    /// One target per line, tagged `rotation_target`.
    Ndjson,
}

/// Settings recorded in the report.
#[derive(Clone, Debug, Serialize)]
pub struct BlastSettings {
    /// `--widespread-threshold`.
    pub widespread_threshold: usize,
    /// `--tenant-pattern`s.
    pub tenant_patterns: Vec<String>,
    /// Patterns that reproduce the tenant layout inferred without `--tenant-pattern`.
    pub inferred_tenant_patterns: Vec<String>,
    /// `--exclude-tenant`s.
    pub excluded_tenants: Vec<String>,
}

/// The `blast` report.
#[derive(Clone, Debug, Serialize)]
pub struct BlastReport {
    /// Contract version.
    pub schema_version: &'static str,
    /// When.
    pub generated_at: Timestamp,
    /// `INC-YYYYMMDD-HHMMSS`.
    pub incident_id: String,
    /// Writer.
    pub tool: Tool,
    /// `blast`.
    pub command: &'static str,
    /// False when an input could not be read completely or had malformed lines.
    pub complete: bool,
    /// `--since`/`--until`.
    pub window: TimeWindow,
    /// Settings.
    pub settings: BlastSettings,
    /// Inputs.
    pub inputs: Vec<InputRecord>,
    /// The audit devices the inputs belong to, in name order.
    pub devices: Vec<super::devices::DeviceRecord>,
    /// What was pivoted on, and what matched nothing.
    pub pivots: PivotEcho,
    /// Tokens in the blast radius.
    pub tokens: Vec<TokenRecord>,
    /// Secrets read.
    pub secrets_read: Vec<SecretReadRecord>,
    /// Failed attempts.
    pub denied: Vec<DeniedRecord>,
    /// Tenants whose secrets were read (excluded tenants removed), sorted.
    pub affected_tenants: Vec<String>,
    /// Tenants whose secrets the tokens' policies let them read, none of which was read
    /// (excluded tenants removed); empty without `--policies`/`--vault-addr`.
    pub reachable_tenants: Vec<String>,
    /// Catalogue secrets the tokens hold a capability on, by path (`--policies`/`--vault-addr`).
    pub reachable_secrets: Vec<crate::blast::ReachableSecret>,
    /// What the policy analysis saw; null without `--policies`/`--vault-addr`.
    pub policy_coverage: Option<crate::blast::PolicyCoverage>,
    /// Secrets in scope (not listings) with no tenant; they keep the scope at least `limited`.
    pub unattributed_secrets: Vec<String>,
    /// Leases issued.
    pub leases: Vec<LeaseRecord>,
    /// The ordered rotation and revocation plan.
    pub rotation_targets: Vec<RotationTarget>,
    /// First to last activity in scope.
    #[serde(serialize_with = "crate::model::window::with_seconds")]
    pub exposure_window: Option<Interval>,
    /// `none`, `limited`, `widespread`.
    pub breach_scope: BreachScope,
    /// From the most critical tier of secrets exposed: tier 1 → P0 .. tier 4 → P3; P3 when
    /// tokens or attempts are in scope but nothing was read; null when nothing is in scope.
    pub severity: Option<Severity>,
    /// What the severity calls for.
    pub response_time: Option<&'static str>,
    /// Audit gaps that overlap the exposure window.
    pub gaps_in_window: Vec<Gap>,
    /// Activity over time, for the incident report's chart (not part of the JSON contract).
    #[serde(skip)]
    pub activity: crate::scan::result::Activity,
}

/// What goes into a blast report besides the scope.
pub struct BlastContext {
    /// When.
    pub generated_at: Timestamp,
    /// The window.
    pub window: TimeWindow,
    /// Settings.
    pub settings: BlastSettings,
    /// `--max-malformed`.
    pub max_malformed: u64,
    /// The audit devices of the inputs.
    pub devices: Vec<super::devices::DeviceRecord>,
    /// Policy-aware reach, with `--policies`/`--vault-addr`.
    pub reach: Option<crate::blast::Reach>,
}

impl BlastReport {
    /// Builds the report.
    pub fn build(
        scan: ScanResult,
        scope: BlastRadius,
        targets: Vec<RotationTarget>,
        ctx: BlastContext,
    ) -> BlastReport {
        // Exposed secrets set the severity by their tier; tokens without reads are still P3.
        let exposed_tier = targets
            .iter()
            .filter(|r| {
                // Precautionary targets were not read: they do not raise the severity.
                r.exposure == crate::blast::Exposure::Read
                    && matches!(
                        r.action,
                        crate::blast::Action::RotateSecret | crate::blast::Action::RevokeLease
                    )
            })
            .map(|r| r.tier)
            .min();
        let severity = match exposed_tier {
            Some(1) => Some(Severity::P0),
            Some(2) => Some(Severity::P1),
            Some(3) => Some(Severity::P2),
            Some(_) => Some(Severity::P3),
            None if !scope.tokens.is_empty() || !scope.denied.is_empty() => Some(Severity::P3),
            None => None,
        };
        let gaps_in_window = match scope.exposure_window {
            Some(w) => scan
                .gaps
                .iter()
                .filter(|g| overlaps(g, w.start, w.end))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let complete = !scan.input_incomplete() && scan.stats.malformed_lines <= ctx.max_malformed;
        let unattributed: Vec<String> = scope
            .secrets_read
            .iter()
            .filter(|s| s.tenant.is_none() && !s.kind.is_some_and(SecretKind::is_listing))
            .map(|s| s.secret.clone())
            .collect();
        BlastReport {
            schema_version: SCHEMA_VERSION,
            generated_at: ctx.generated_at,
            incident_id: incident_id(ctx.generated_at),
            tool: Tool::this(),
            command: "blast",
            complete,
            window: ctx.window,
            breach_scope: BreachScope::with_unattributed(
                scope.affected_tenants.len(),
                unattributed.len(),
                ctx.settings.widespread_threshold,
            ),
            unattributed_secrets: unattributed,
            settings: ctx.settings,
            inputs: scan.inputs,
            devices: ctx.devices,
            pivots: scope.pivots,
            tokens: scope.tokens,
            secrets_read: scope.secrets_read,
            denied: scope.denied,
            affected_tenants: scope.affected_tenants,
            reachable_tenants: ctx
                .reach
                .as_ref()
                .map(|r| r.reachable_tenants.clone())
                .unwrap_or_default(),
            reachable_secrets: ctx
                .reach
                .as_ref()
                .map(|r| r.secrets.clone())
                .unwrap_or_default(),
            policy_coverage: ctx.reach.map(|r| r.coverage),
            leases: scope.leases,
            rotation_targets: targets,
            exposure_window: scope.exposure_window,
            severity,
            response_time: severity.map(Severity::response_time),
            gaps_in_window,
            activity: scan.activity,
        }
    }
}

fn overlaps(g: &Gap, start: Timestamp, end: Timestamp) -> bool {
    match (g.start, g.end) {
        (Some(s), Some(e)) => s <= end && e >= start,
        (Some(s), None) | (None, Some(s)) => s >= start && s <= end,
        (None, None) => false,
    }
}

/// Writes a blast report.
pub fn render(
    r: &BlastReport,
    format: BlastFormat,
    color: Color,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        BlastFormat::Json => super::json_parallel::write_blast(r, w),
        BlastFormat::Csv => write_csv(&r.rotation_targets, w),
        BlastFormat::Text => write_text(r, color, w),
        BlastFormat::Markdown => {
            super::markdown::write(&super::incident::Incident::from_blast(r), w)
        }
        BlastFormat::Html => super::html::write(&super::incident::Incident::from_blast(r), w),
        BlastFormat::Ndjson => {
            for x in &r.tokens {
                record("token", x, w)?;
            }
            for x in &r.secrets_read {
                record("secret_read", x, w)?;
            }
            for x in &r.denied {
                record("denied", x, w)?;
            }
            for x in &r.leases {
                record("lease", x, w)?;
            }
            for x in &r.rotation_targets {
                record("rotation_target", x, w)?;
            }
            #[derive(Serialize)]
            struct Summary<'a> {
                schema_version: &'a str,
                incident_id: &'a str,
                pivots: &'a PivotEcho,
                affected_tenants: &'a [String],
                #[serde(serialize_with = "crate::model::window::with_seconds")]
                exposure_window: Option<Interval>,
                breach_scope: BreachScope,
                severity: Option<Severity>,
                complete: bool,
            }
            record(
                "summary",
                &Summary {
                    schema_version: r.schema_version,
                    incident_id: &r.incident_id,
                    pivots: &r.pivots,
                    affected_tenants: &r.affected_tenants,
                    exposure_window: r.exposure_window,
                    breach_scope: r.breach_scope,
                    severity: r.severity,
                    complete: r.complete,
                },
                w,
            )
        }
    }
}

/// The CSV columns, in order (a stable contract: docs/rotation-list.md).
pub const CSV_COLUMNS: [&str; 9] = [
    "order",
    "tier",
    "kind",
    "target",
    "action",
    "command",
    "reason",
    "tenant",
    "first_exposure",
];

/// Writes rotation targets as CSV; every cell is neutralised for spreadsheets.
pub fn write_csv(targets: &[RotationTarget], w: &mut dyn Write) -> std::io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(CSV_COLUMNS)?;
    for r in targets {
        let first = r.first_exposure.map(|t| t.to_rfc3339()).unwrap_or_default();
        c.write_record([
            r.order.to_string().as_str(),
            r.tier.to_string().as_str(),
            &csv_cell(&r.kind),
            &csv_cell(&r.target),
            r.action.as_str(),
            &csv_cell(&r.command),
            &csv_cell(&r.reason),
            &csv_cell(r.tenant.as_deref().unwrap_or("")),
            &first,
        ])?;
    }
    c.flush()?;
    Ok(())
}

/// Writes a rotation list.
pub fn render_list(
    targets: &[RotationTarget],
    format: ListFormat,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        ListFormat::Csv => write_csv(targets, w),
        ListFormat::Json => super::json_parallel::write_array(targets, w),
        ListFormat::Ndjson => targets
            .iter()
            .try_for_each(|x| record("rotation_target", x, w)),
    }
}

fn short(s: &str) -> String {
    let s = t(s);
    if s.chars().count() > 28 {
        format!("{}…", s.chars().take(27).collect::<String>())
    } else {
        s.into_owned()
    }
}

/// `Devices    primary.log (...); clear.log (...)`, when the inputs came from more than one
/// device.
fn devices_line(
    devices: &[super::devices::DeviceRecord],
    w: &mut dyn Write,
) -> std::io::Result<()> {
    if devices.len() < 2 {
        return Ok(());
    }
    let list: Vec<String> = devices
        .iter()
        .map(|d| t(&d.summary()).into_owned())
        .collect();
    writeln!(w, "Devices    {}", list.join("; "))
}

/// Every form of each token the devices logged, when a token has more than one: a pivot in
/// any of them matches, and `sys/audit-hash/<device>` gives the one to search for.
fn token_forms(r: &BlastReport, color: Color, w: &mut dyn Write) -> std::io::Result<()> {
    let several: Vec<&crate::blast::TokenRecord> =
        r.tokens.iter().filter(|x| x.forms.len() > 1).collect();
    if several.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "\n{}",
        paint(color, "TOKEN FORMS (one per audit device)", "1")
    )?;
    for x in several {
        writeln!(w, "{}", t(&x.accessor))?;
        for f in &x.forms {
            writeln!(w, "  {}", t(f))?;
        }
    }
    Ok(())
}

/// `REACHABLE SECRETS`: what the tokens' policies let them read, with the granting stanza, and
/// what the policy analysis could not see.
fn reachable_section(r: &BlastReport, color: Color, w: &mut dyn Write) -> std::io::Result<()> {
    let Some(cov) = &r.policy_coverage else {
        return Ok(());
    };
    let readable: Vec<_> = r.reachable_secrets.iter().filter(|s| s.readable).collect();
    let not_read = readable.iter().filter(|s| !s.read_in_window).count();
    writeln!(
        w,
        "\n{}",
        paint(color, "REACHABLE SECRETS (by policy)", "1")
    )?;
    writeln!(
        w,
        "{} of {} catalogued secret(s) readable ({} not read in the log: precautionary rotation); policies from {} {}",
        readable.len(),
        cov.catalogue_from_log + cov.catalogue_from_inventory,
        not_read,
        cov.source,
        t(&cov.location)
    )?;
    if !r.reachable_tenants.is_empty() {
        let list: Vec<String> = r
            .reachable_tenants
            .iter()
            .map(|x| t(x).into_owned())
            .collect();
        writeln!(w, "Tenants reachable, none read: {}", list.join(", "))?;
    }
    if !r.reachable_secrets.is_empty() {
        let mut tb = table(color);
        tb.set_header(vec![
            "SECRET",
            "TENANT",
            "CAPABILITIES",
            "GRANTED BY",
            "READ",
        ]);
        for x in &r.reachable_secrets {
            let granted: std::collections::BTreeSet<String> = x
                .granted_by
                .iter()
                .map(|g| {
                    // Revoking the token leaves an identity's policy to the entity's other tokens.
                    let via = match g.via {
                        Some(crate::blast::PolicyVia::IdentityPolicies) => " (identity)",
                        Some(crate::blast::PolicyVia::Both) => " (token+identity)",
                        _ => "",
                    };
                    format!("{}{}: {}{via}", t(&g.namespace), t(&g.policy), t(&g.rule))
                })
                .collect();
            let granted: Vec<String> = granted.into_iter().collect();
            tb.add_row(vec![
                t(&x.place.path).into_owned(),
                x.place
                    .tenant
                    .as_deref()
                    .map_or("(none)".into(), |c| t(c).into_owned()),
                x.capabilities.join(","),
                if granted.is_empty() {
                    "-".to_string()
                } else {
                    granted.join("; ")
                },
                if x.read_in_window { "yes" } else { "no" }.to_string(),
            ]);
        }
        crate::report::text::keep_whole(&mut tb, &[0]);
        writeln!(w, "{tb}")?;
    }
    for m in &cov.missing_policies {
        let name = match &m.namespace {
            Some(ns) => format!("{}/{}", t(ns), t(&m.name)),
            None => t(&m.name).into_owned(),
        };
        writeln!(
            w,
            "warning: policy {name} (held by {} token(s)) not found: their reach is a lower bound",
            m.tokens.len()
        )?;
    }
    if !cov.namespace_assumed_root.is_empty() {
        writeln!(
            w,
            "warning: {} token(s) were created before the log (or in no input): their policies were taken from the root namespace, which is wrong for a token of another namespace (policy_coverage.namespace_assumed_root)",
            cov.namespace_assumed_root.len()
        )?;
    }
    let unresolved = r
        .reachable_secrets
        .iter()
        .filter(|s| !s.unresolved.is_empty())
        .count();
    if unresolved > 0 {
        writeln!(
            w,
            "note: {unresolved} secret(s) may also be granted by templated stanzas whose placeholders the log does not tell (unresolved in the JSON report)"
        )?;
    }
    Ok(())
}

fn write_text(r: &BlastReport, color: Color, w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        w,
        "{} {} · blast · {}",
        paint(color, "blastradius", "1"),
        r.tool.version,
        r.incident_id
    )?;
    let p = &r.pivots;
    let mut piv: Vec<String> = Vec::new();
    for (flag, vals) in [
        ("--token", &p.tokens),
        ("--accessor", &p.accessors),
        ("--entity", &p.entities),
        ("--ip", &p.ips),
        ("--display-name", &p.display_names),
    ] {
        piv.extend(vals.iter().map(|v| format!("{flag} {}", short(v))));
    }
    let desc = if p.descendants {
        "descendants followed"
    } else {
        "no descendants"
    };
    writeln!(w, "Pivots     {} · {desc}", piv.join(" "))?;
    let bytes_read: u64 = r.inputs.iter().map(|i| i.bytes).sum();
    writeln!(
        w,
        "Inputs     {} file(s), {}",
        r.inputs.len(),
        bytes_label(bytes_read)
    )?;
    devices_line(&r.devices, w)?;
    match r.exposure_window {
        Some(x) => writeln!(
            w,
            "Window     {} → {} ({})",
            x.start,
            x.end,
            crate::model::Span((x.seconds() * 1e9) as i64)
        )?,
        None => writeln!(w, "Window     no activity in scope")?,
    }
    match r.severity {
        Some(s) => writeln!(
            w,
            "Severity   {} — respond within {}",
            paint(color, &format!("{s} {}", s.label()), "1;31"),
            s.response_time()
        )?,
        None => writeln!(w, "Severity   none")?,
    }
    writeln!(
        w,
        "Scope      {}: {} affected tenant(s)",
        paint(color, &r.breach_scope.as_str().to_uppercase(), "1"),
        r.affected_tenants.len()
    )?;
    super::text::inferred_layout(&r.settings.inferred_tenant_patterns, w)?;
    if !r.unattributed_secrets.is_empty() {
        writeln!(
            w,
            "No tenant  {} secret(s) in scope map to no tenant (see --tenant-pattern, --tenant-fallback): {}",
            r.unattributed_secrets.len(),
            r.unattributed_secrets
                .iter()
                .map(|x| t(x).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    if !r.affected_tenants.is_empty() {
        writeln!(
            w,
            "Tenants    {}",
            r.affected_tenants
                .iter()
                .map(|x| t(x).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(
        w,
        "Activity   {} token(s) · {} secret(s) read · {} lease(s) · {} denied path(s) · {} gap(s) in the window",
        r.tokens.len(),
        r.secrets_read.len(),
        r.leases.len(),
        r.denied.len(),
        r.gaps_in_window.len()
    )?;
    if !r.tokens.is_empty() {
        writeln!(w, "\n{}", paint(color, "TOKENS", "1"))?;
        let mut tb = table(color);
        tb.set_header(vec![
            "RELATION",
            "DEPTH",
            "ACCESSOR",
            "CREATED BY",
            "NAME",
            "FROM",
            "REQUESTS",
            "LAST USE",
        ]);
        for x in &r.tokens {
            tb.add_row(vec![
                x.relation.as_str().to_string(),
                x.depth.to_string(),
                short(&x.accessor),
                x.created_by
                    .as_deref()
                    .map_or("-".into(), |c| t(c).into_owned()),
                x.display_name
                    .as_deref()
                    .map_or("-".into(), |c| t(c).into_owned()),
                x.client_addresses
                    .iter()
                    .map(|a| t(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
                x.requests.to_string(),
                time(x.last_use),
            ]);
        }
        crate::report::text::keep_whole(&mut tb, &[0, 7]);
        writeln!(w, "{tb}")?;
        token_forms(r, color, w)?;
    }
    if !r.secrets_read.is_empty() {
        writeln!(w, "\n{}", paint(color, "SECRETS READ", "1"))?;
        let mut tb = table(color);
        tb.set_header(vec![
            "SECRET",
            "KIND",
            "TENANT",
            "OUTCOME",
            "READS",
            "FIRST READ",
        ]);
        for x in &r.secrets_read {
            tb.add_row(vec![
                t(&x.secret).into_owned(),
                x.kind.map_or("-", |k| k.as_str()).to_string(),
                x.tenant
                    .as_deref()
                    .map_or("(none)".into(), |c| t(c).into_owned()),
                x.outcome.as_str().to_string(),
                x.reads.to_string(),
                time(x.first_read),
            ]);
        }
        // Paths whole: a wrapped path cannot be copied, and wrapping can split an escape.
        crate::report::text::keep_whole(&mut tb, &[0, 5]);
        writeln!(w, "{tb}")?;
        let unknown = r
            .secrets_read
            .iter()
            .filter(|x| x.outcome == ReadOutcome::UnknownResponseMissing)
            .count();
        if unknown > 0 {
            writeln!(
                w,
                "{unknown} secret(s) requested by the lineage have no response in any input (deleted, or the log was cut): worst case they were returned, so they are in the rotation plan"
            )?;
        }
    }
    reachable_section(r, color, w)?;
    if !r.rotation_targets.is_empty() {
        writeln!(w, "\n{}", paint(color, "ROTATION PLAN (in order)", "1"))?;
        let mut tb = table(color);
        tb.set_header(vec!["#", "TIER", "ACTION", "TARGET", "COMMAND"]);
        for x in &r.rotation_targets {
            let tier = Cell::new(x.tier).fg(match x.tier {
                1 => TColor::Red,
                2 => TColor::Magenta,
                3 => TColor::Yellow,
                _ => TColor::Cyan,
            });
            tb.add_row(vec![
                Cell::new(x.order),
                tier,
                Cell::new(x.action.as_str()),
                Cell::new(short(&x.target)),
                Cell::new(t(&x.command)),
            ]);
        }
        // Commands whole, so they can be copied into a shell.
        crate::report::text::keep_whole(&mut tb, &[4]);
        writeln!(w, "{tb}")?;
    }
    for u in &r.pivots.unmatched {
        writeln!(
            w,
            "warning: {} matched nothing in the log (right device's audit-hash? time window?)",
            t(u)
        )?;
    }
    if !r.complete {
        writeln!(
            w,
            "note: the input was incomplete; results are partial (exit code 3)"
        )?;
    }
    Ok(())
}
