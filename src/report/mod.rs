//! One serializable report model per command, and thin renderers.
//!
//! The model is built once from the analyses; renderers only format it. JSON is the stable
//! machine contract (`schema_version`, documented in `docs/report-schema.md` with a JSON Schema),
//! NDJSON streams the same records one per line with a `type` tag, and text is the one-screen
//! summary for a terminal.

/// `fn $name(self, ...) -> Err($error())`, for the methods of a serde serializer that takes
/// only some kinds of value (`json_parallel`'s report writer, `pretty`'s map keys).
macro_rules! refuse {
    ($error:ident; $($name:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ok, serde_json::Error> {
            Err($error())
        })*
    };
}
pub(crate) use refuse;

pub mod alerts;
pub mod blast;
pub mod devices;
pub mod html;
pub mod incident;
pub mod json;
pub mod json_parallel;
pub mod markdown;
pub mod ndjson;
pub mod parallel;
mod pretty;
pub mod sanitize;
pub mod suspects;
pub mod table;
pub mod text;

use serde::Serialize;

use crate::detect::Finding;
use crate::gaps::Gap;
use crate::model::{Severity, TimeWindow, Timestamp};
use crate::scan::result::{InputRecord, MalformedRecord, ScanResult, StatsRecord};
use crate::scope::{BreachScope, SecretRecord, TenantRecord, affected_tenants};

/// Version of the JSON report contract. Bumped on any incompatible change.
pub const SCHEMA_VERSION: &str = "1.0";

/// Output formats of `scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One-screen summary for people.
    Text,
    /// The full report as one JSON document.
    Json,
    /// One tagged JSON record per line: findings, gaps, secrets, then a summary.
    Ndjson,
    /// An incident report in Markdown (for tickets, wikis, chat).
    Markdown,
    /// A self-contained HTML incident report with an activity chart.
    Html,
}

/// The tool that wrote a report.
#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    /// `blastradius`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl Tool {
    /// This build.
    pub fn this() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Settings that shaped the results, recorded for reproducibility.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// `--gap` in seconds.
    pub gap_seconds: f64,
    /// `--widespread-threshold`.
    pub widespread_threshold: usize,
    /// `--tenant-pattern`s.
    pub tenant_patterns: Vec<String>,
    /// Patterns that reproduce the tenant layout inferred without `--tenant-pattern` (empty when
    /// none was inferred or `--no-tenant-inference`).
    pub inferred_tenant_patterns: Vec<String>,
    /// `--exclude-tenant`s.
    pub excluded_tenants: Vec<String>,
    /// Number of detection rules loaded.
    pub rules: usize,
    /// `--max-readers`: readers listed per secret, 0 for every reader.
    pub max_readers: usize,
}

/// The `scan` report.
#[derive(Clone, Debug, Serialize)]
pub struct ScanReport {
    /// The contract version.
    pub schema_version: &'static str,
    /// When the report was made.
    pub generated_at: Timestamp,
    /// `INC-YYYYMMDD-HHMMSS`, from `generated_at`.
    pub incident_id: String,
    /// The writer.
    pub tool: Tool,
    /// `scan`.
    pub command: &'static str,
    /// False when some input could not be read completely or had malformed lines beyond the limit.
    pub complete: bool,
    /// `--since`/`--until`.
    pub window: TimeWindow,
    /// Settings.
    pub settings: Settings,
    /// Per input.
    pub inputs: Vec<InputRecord>,
    /// Counts.
    pub stats: StatsRecord,
    /// Earliest entry.
    #[serde(rename = "first_event")]
    pub first_entry: Option<Timestamp>,
    /// Latest entry.
    #[serde(rename = "last_event")]
    pub last_entry: Option<Timestamp>,
    /// Entries that matched at least one detection rule with a severity.
    #[serde(rename = "suspicious_events")]
    pub suspicious_entries: u64,
    /// Distinct secret paths read successfully.
    pub accessed_secrets: usize,
    /// Tenants whose secrets were read (excluded tenants removed), sorted.
    pub affected_tenants: Vec<String>,
    /// Secrets read (not listings) that no pattern or fallback gives a tenant, sorted; they keep
    /// the scope at least `limited`.
    pub unattributed_secrets: Vec<String>,
    /// `none`, `limited` or `widespread`.
    pub breach_scope: BreachScope,
    /// The most severe finding's class, or null.
    pub severity: Option<Severity>,
    /// The response time the severity calls for.
    pub response_time: Option<&'static str>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Secrets read, by path.
    pub secrets: Vec<SecretRecord>,
    /// Tenants, by name.
    pub tenants: Vec<TenantRecord>,
    /// Who to follow first: lineage roots ranked by the evidence against them (at most 20).
    pub suspects: Vec<crate::suspects::Suspect>,
    /// Scoring actors before capping.
    pub suspects_total: usize,
    /// Root-generation or rekey requests seen (unauthenticated ones included).
    pub root_generation_requests: u64,
    /// Gaps, earliest first.
    pub gaps: Vec<Gap>,
    /// Gaps nothing in the log explains (listed or not).
    pub unexplained_gaps: usize,
    /// Gaps beyond the 1,000 listed per kind, counted by kind.
    pub gaps_omitted: std::collections::BTreeMap<crate::gaps::GapKind, u64>,
    /// Malformed lines (capped), earliest first.
    pub malformed: Vec<MalformedRecord>,
    /// For runs with `--state`: which run this is, and what became of each input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental: Option<IncrementalInfo>,
    /// Activity over time, for the incident report's chart (not part of the JSON contract).
    #[serde(skip)]
    pub activity: crate::scan::result::Activity,
}

/// What an incremental run did.
#[derive(Clone, Debug, Serialize)]
pub struct IncrementalInfo {
    /// The state file.
    pub state: String,
    /// This run's number (1 for the first).
    pub run: u64,
    /// Per input: `new`, `resumed`, `unchanged` or `truncated`, and where reading started.
    pub inputs: Vec<IncrementalInput>,
}

/// One input of an incremental run.
#[derive(Clone, Debug, Serialize)]
pub struct IncrementalInput {
    /// Its path now.
    pub path: String,
    /// What became of it.
    pub disposition: crate::state::Disposition,
    /// Its path in the last run, if renamed since.
    pub renamed_from: Option<String>,
    /// Where reading started.
    pub resumed_at: u64,
}

/// Everything besides the scan result that goes into a report.
pub struct ReportContext {
    /// When.
    pub generated_at: Timestamp,
    /// `--since`/`--until`.
    pub window: TimeWindow,
    /// Settings.
    pub settings: Settings,
    /// Malformed lines beyond which the input counts as incomplete (`--max-malformed`).
    pub max_malformed: u64,
    /// For `--state` runs.
    pub incremental: Option<IncrementalInfo>,
    /// The ranked suspects.
    pub suspects: crate::suspects::Suspects,
}

/// `INC-YYYYMMDD-HHMMSS` for a time.
pub fn incident_id(t: Timestamp) -> String {
    let secs = t.seconds();
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(dt) => dt.format("INC-%Y%m%d-%H%M%S").to_string(),
        None => "INC-00000000-000000".to_string(),
    }
}

impl ScanReport {
    /// Builds the report from a scan.
    pub fn build(r: ScanResult, mut ctx: ReportContext) -> ScanReport {
        ctx.settings.inferred_tenant_patterns = r.tenant_layout.patterns();
        let affected = affected_tenants(&r.tenants);
        let unattributed: Vec<String> = r
            .secrets
            .iter()
            .filter(|s| s.tenant.is_none() && !s.kind.is_listing())
            .map(|s| s.secret.to_string())
            .collect();
        let severity = r.findings.iter().map(|f| f.severity).min();
        let complete = !r.input_incomplete() && r.stats.malformed_lines <= ctx.max_malformed;
        ScanReport {
            schema_version: SCHEMA_VERSION,
            generated_at: ctx.generated_at,
            incident_id: incident_id(ctx.generated_at),
            tool: Tool::this(),
            command: "scan",
            complete,
            window: ctx.window,
            breach_scope: BreachScope::with_unattributed(
                affected.len(),
                unattributed.len(),
                ctx.settings.widespread_threshold,
            ),
            unattributed_secrets: unattributed,
            settings: ctx.settings,
            suspicious_entries: r.stats.suspicious_entries,
            accessed_secrets: r.secrets.len(),
            affected_tenants: affected,
            severity,
            response_time: severity.map(Severity::response_time),
            inputs: r.inputs,
            stats: r.stats,
            first_entry: r.first_entry,
            last_entry: r.last_entry,
            findings: r.findings,
            secrets: r.secrets,
            tenants: r.tenants,
            suspects: ctx.suspects.list,
            suspects_total: ctx.suspects.total,
            root_generation_requests: ctx.suspects.root_generation_requests,
            unexplained_gaps: r.unexplained_gaps,
            gaps_omitted: r.gaps_omitted,
            gaps: r.gaps,
            malformed: r.malformed,
            incremental: ctx.incremental,
            activity: r.activity,
        }
    }

    /// True when some finding is at least as severe as `threshold`.
    pub fn has_findings_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity <= threshold)
    }
}

/// Writes a scan report in `format`.
pub fn render_scan(
    report: &ScanReport,
    format: Format,
    color: text::Color,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json_parallel::write_scan(report, w),
        Format::Ndjson => ndjson::write_scan(report, w),
        Format::Text => text::write_scan(report, color, w),
        Format::Markdown => markdown::write(&incident::Incident::from_scan(report), w),
        Format::Html => html::write(&incident::Incident::from_scan(report), w),
    }
}
