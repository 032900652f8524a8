//! Option groups shared by subcommands.

use std::path::PathBuf;

use clap::Args;

use crate::model::Severity;
use crate::report::Format;
use crate::source::mmap::MmapChoice;

/// `blastradius scan`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  blastradius scan /var/log/vault/                          # every audit file in the directory
  blastradius scan audit.log audit.log.1 audit.log-*.gz     # rotated files are one log
  blastradius scan --since 24h -f json -o report.json audit.log
  blastradius scan -f markdown -o incident.md audit.log     # incident report for a ticket
  blastradius scan -f html -o incident.html audit.log       # self-contained page with a chart
  zcat audit.log.gz | blastradius scan -                    # standard input
  blastradius scan --state /var/lib/blastradius/state.json --alerts - /var/log/vault/

Exit codes: 0 scan complete; 1 findings at or above --fail-on; 2 usage error;
            3 complete but input incomplete; 4 fatal.")]
pub struct ScanArgs {
    /// Audit logs: files, directories (their audit files), globs, or `-` for standard input.
    /// Several files are one log (rotated files, several devices or nodes).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// Tenants, scope and rules.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// The audit device of inputs whose path matches PATH_GLOB, where file names cannot tell
    /// (rotated siblings of one file are one device, other files other devices); repeatable,
    /// the first matching rule wins.
    #[arg(long = "device", value_name = "NAME=PATH_GLOB")]
    pub devices: Vec<crate::source::DeviceRule>,
    /// Time window and gaps.
    #[command(flatten)]
    pub time: TimeArgs,
    /// How inputs are read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Scheduled runs.
    #[command(flatten)]
    pub incremental: IncrementalArgs,
}

/// Scheduled runs: resume where the last run stopped, alert on what is new.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Scheduled runs")]
pub struct IncrementalArgs {
    /// Remember where each input was read up to (and what the analyses know) in FILE; the next
    /// run reads only what is new. Survives renames, copytruncate and compression of rotated files.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Write findings and gaps that are new since the last run to FILE (`-` for stdout), one
    /// JSON object per line.
    #[arg(long, value_name = "FILE|-")]
    pub alerts: Option<String>,
    /// Shape of alerts.
    #[arg(long, value_enum, default_value_t = crate::report::alerts::AlertFormat::Ndjson)]
    pub alert_format: crate::report::alerts::AlertFormat,
}

/// `blastradius blast` and `blastradius rotation-list`.
#[derive(Debug, Args)]
pub struct BlastArgs {
    /// Audit logs: files, directories, globs, or `-` for standard input.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// What is known about the compromise.
    #[command(flatten)]
    pub pivots: PivotArgs,
    /// Only the pivot tokens, not the tokens created from them.
    #[arg(long)]
    pub no_descendants: bool,
    /// The audit device of inputs whose path matches PATH_GLOB, where file names cannot tell
    /// (rotated siblings of one file are one device, other files other devices); repeatable,
    /// the first matching rule wins.
    #[arg(long = "device", value_name = "NAME=PATH_GLOB")]
    pub devices: Vec<crate::source::DeviceRule>,
    /// Remember what was read (and the token lineage) in FILE; the next run reads only what is new.
    #[arg(long, value_name = "FILE", help_heading = "Scheduled runs")]
    pub state: Option<PathBuf>,
    /// Tenants, scope and rules.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Time window and gaps.
    #[command(flatten)]
    pub time: TimeArgs,
    /// How inputs are read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file.
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output: Option<std::path::PathBuf>,
    /// What the tokens could read by their policies.
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Policy-aware reach: the secrets the blast radius's tokens could read (docs/policy.md).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Policies (what the tokens could read)")]
pub struct PolicyArgs {
    /// ACL policies as files: DIR/NAME.hcl (as `vault policy read NAME > DIR/NAME.hcl` writes
    /// them), `DIR/<namespace>/NAME.hcl` for a namespace's.
    #[arg(long, value_name = "DIR", conflicts_with = "vault_addr")]
    pub policies: Option<PathBuf>,
    /// Read the policies from this server with GET `sys/policies/acl/<name>` only (never writes);
    /// token from VAULT_TOKEN, namespace from VAULT_NAMESPACE.
    #[arg(long, value_name = "URL")]
    pub vault_addr: Option<String>,
    /// More secret paths for the catalogue, one a line (API paths, namespace first:
    /// `team-a/kv/data/app/db`); needs --policies or --vault-addr.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
}

/// Pivots: at least one.
#[derive(Debug, Args, Default)]
#[group(required = true, multiple = true)]
#[command(next_help_heading = "Pivots (at least one; repeatable)")]
pub struct PivotArgs {
    /// HMAC of a leaked token, from `vault write sys/audit-hash/<device> input=<token>`.
    #[arg(long = "token", value_name = "HMAC")]
    pub tokens: Vec<String>,
    /// A token accessor: its HMAC, or in clear for devices with hmac_accessor=false.
    #[arg(long = "accessor", value_name = "HMAC|ACCESSOR")]
    pub accessors: Vec<String>,
    /// An identity entity id.
    #[arg(long = "entity", value_name = "ID")]
    pub entities: Vec<String>,
    /// A client address or CIDR block: tokens issued to logins from it, and requests made from it.
    #[arg(long = "ip", value_name = "ADDR")]
    pub ips: Vec<String>,
    /// A token display name (`approle`, `userpass-alice`).
    #[arg(long = "display-name", value_name = "NAME")]
    pub display_names: Vec<String>,
}

/// Tenants, scope and rules.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Scope")]
pub struct AnalysisArgs {
    /// TOML file with the same settings (command-line options win).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Regex with a named group `tenant`, matched against namespace + path
    /// (`blue/kv/data/app`). Repeatable; the first match wins.
    #[arg(long = "tenant-pattern", value_name = "REGEX")]
    pub tenant_patterns: Vec<String>,
    /// Tenant of a secret no pattern matches: the namespace when not root, then the first
    /// segment below the mount (`namespace`); always that segment (`segment`); none (`none`).
    #[arg(long = "tenant-fallback", value_name = "FROM", value_enum)]
    pub tenant_fallback: Option<crate::tenant::TenantFallback>,
    /// Without patterns, keep the first segment below the mount as the tenant even where the
    /// paths show a `tenants/<tenant>/` layout (see docs/configuration.md).
    #[arg(long)]
    pub no_tenant_inference: bool,
    /// Tenant to leave out of the affected list (test tenants). Repeatable.
    #[arg(long = "exclude-tenant", value_name = "ID")]
    pub exclude_tenants: Vec<String>,
    /// More affected tenants than this is a widespread breach [default: 10].
    #[arg(long, value_name = "N")]
    pub widespread_threshold: Option<usize>,
    /// Directory of Sigma rules to add (same id replaces a built-in rule). Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
}

/// Time window and gap detection.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Time")]
pub struct TimeArgs {
    /// Only entries at or after this time: RFC 3339 (`2026-11-01T00:00:00Z`), a date
    /// (`2026-11-01`), or a duration before now (`24h`, `7d`, `90m`).
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// Only entries before this time (same forms as --since).
    #[arg(long, value_name = "TIME|DURATION")]
    pub until: Option<String>,
    /// Report quiet periods longer than this [default: 5m].
    #[arg(long, value_name = "DURATION")]
    pub gap: Option<String>,
}

/// How inputs are read.
#[derive(Debug, Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Memory-map inputs: `auto` maps nothing and reads every input; `always` maps every plain
    /// file, named or found under a directory (a file truncated while mapped, e.g. by logrotate
    /// copytruncate, kills the process with SIGBUS); `never` always reads.
    #[arg(long, value_enum, default_value_t = MmapChoice::Auto)]
    pub mmap: MmapChoice,
    /// Worker threads, for the analysis and for rendering long report lists (0: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Lines longer than this are skipped and reported (suffixes K, M, G).
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_bytes)]
    pub max_line_bytes: u64,
    /// Malformed lines tolerated before the input counts as incomplete (exit code 3).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_malformed: u64,
    /// Stop decompressing an input (gzip, zstd, xz, bzip2) beyond this many bytes
    /// (decompression bombs). A compressed input also stops at its first line longer than
    /// --max-line-bytes.
    #[arg(long, value_name = "BYTES", default_value = "64G", value_parser = parse_bytes)]
    pub max_decompressed_bytes: u64,
    /// Stop decompressing when output exceeds input by more than this ratio (any compression;
    /// checked after the first 64 MiB; real audit logs compress 10 to 25 times).
    #[arg(long, value_name = "RATIO", default_value_t = crate::source::DEFAULT_MAX_RATIO)]
    pub max_gzip_ratio: u64,
    /// Parse every entry in full with simd-json, instead of the skimming reader (the fast path
    /// that validates request entries without building a tape, and the tapes of compact
    /// entries built from its structural pass): slower, the same report (docs/performance.md).
    #[arg(long)]
    pub strict: bool,
    /// Target chunk size for parallel parsing.
    #[arg(long, value_name = "BYTES", default_value = "4M", value_parser = parse_bytes, hide = true)]
    pub chunk_size: u64,
}

/// Output.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format [default: text on a terminal, json otherwise].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (created with mode 0600) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with code 1 when a finding is at least this severe.
    #[arg(long, value_enum, value_name = "P0|P1|P2|P3")]
    pub fail_on: Option<Severity>,
    /// Readers listed per secret, those first seen earliest; `readers_total` counts them all.
    /// 0 lists every reader (up to 100,000 per secret) [default: 10; with `-f ndjson`: 0].
    #[arg(long, value_name = "N")]
    pub max_readers: Option<usize>,
}

/// `blastradius generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Bytes to write at least (suffixes K, M, G; the last request/response pair is completed).
    #[arg(long, value_name = "BYTES", default_value = "100M", value_parser = parse_bytes)]
    pub size: u64,
    /// The seed: the same seed and size give the same bytes.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Where to write the log (`-` for standard output).
    #[arg(long, short = 'o', value_name = "FILE|-")]
    pub output: String,
    /// Also write the ground truth (counts a scan must report) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Tokens in use at once (default 48; more were issued before the log starts).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub tokens: Option<usize>,
    /// Tenants (default 28: 24 path tenants and 4 namespaces).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub tenants: Option<usize>,
    /// Distinct secret paths, about (default 444).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub secrets: Option<usize>,
    /// Background requests per second, e.g. `1000/s`, with nanosecond times (default: 0-40 ms
    /// apart). A busy cluster: --tokens 20000 --tenants 2000 --secrets 16000 --rate 1000/s.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate: Option<u32>,
    /// Distinct tokens over the whole log, at most (default: no bound, logins keep minting
    /// tokens): once N are issued, logins and token creations become token lookups.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub distinct_tokens: Option<usize>,
}

/// Parses a count of at least one.
pub fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("not a count of at least 1: {s:?}")),
    }
}

/// Parses `1000/s` or `1000` (requests per second, at least 1).
pub fn parse_rate(s: &str) -> Result<u32, String> {
    let num = s.trim().strip_suffix("/s").unwrap_or(s.trim());
    match num.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("not a rate: {s:?} (use e.g. 1000/s)")),
    }
}

/// Parses `64M`, `1G`, `4096`, `2KiB`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("not a size: {s:?} (use e.g. 4096, 64K, 64M, 1G)"))?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return Err(format!("unknown size unit in {s:?} (use K, M, G or T)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("64M"), Ok(64 << 20));
        assert_eq!(parse_bytes("2KiB"), Ok(2048));
        assert!(parse_bytes("x").is_err());
        assert!(parse_bytes("5Q").is_err());
    }

    #[test]
    fn parses_rates() {
        assert_eq!(parse_rate("1000/s"), Ok(1000));
        assert_eq!(parse_rate("25"), Ok(25));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("fast").is_err());
    }
}

/// `blastradius export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Audit logs: files, directories, globs, or `-` for standard input (as for `scan`).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// A file ending in `.parquet` (or `.arrow`), or a directory, written as day partitions
    /// `dt=YYYY-MM-DD/part-NNNNN.<ext>`; a directory must be new or empty.
    #[arg(long, short = 'o', value_name = "FILE|DIR")]
    pub output: PathBuf,
    /// File format.
    #[arg(long, short = 'f', value_enum, default_value_t = crate::export::ExportFormat::Parquet)]
    pub format: crate::export::ExportFormat,
    /// Which entries, and how they are read.
    #[command(flatten)]
    pub events: EventsArgs,
}

/// What builds the `events` table (`export` and `query`).
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Tenant of each secret path: regexes and config as for `scan`.
    #[command(flatten)]
    pub tenants: TenantArgs,
    /// Only entries at or after this time (RFC 3339, a date, or a duration before now).
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// Only entries before this time (same forms as --since).
    #[arg(long, value_name = "TIME|DURATION")]
    pub until: Option<String>,
    /// The audit device of inputs whose path matches PATH_GLOB, where file names cannot tell
    /// (rotated siblings of one file are one device, other files other devices); repeatable,
    /// the first matching rule wins.
    #[arg(long = "device", value_name = "NAME=PATH_GLOB")]
    pub devices: Vec<crate::source::DeviceRule>,
    /// How inputs are read.
    #[command(flatten)]
    pub input: InputArgs,
}

/// How the `tenant` column is computed.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Tenants")]
pub struct TenantArgs {
    /// TOML file with tenant patterns (command-line patterns win).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Regex with a named group `tenant`, matched against namespace + path. Repeatable.
    /// Export streams rows and infers no layout: pass the `inferred_tenant_patterns` of a
    /// scan report here to get the same tenants.
    #[arg(long = "tenant-pattern", value_name = "REGEX")]
    pub tenant_patterns: Vec<String>,
    /// Tenant of a path no pattern matches (as for `scan`).
    #[arg(long = "tenant-fallback", value_name = "FROM", value_enum)]
    pub tenant_fallback: Option<crate::tenant::TenantFallback>,
}

/// `blastradius query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The SQL over the table `events` (columns: docs/export-schema.md), then the audit logs
    /// (as for `scan`). With --file or --hunt, every argument is an audit log.
    #[arg(value_name = "SQL|PATH")]
    pub args: Vec<String>,
    /// Read the SQL from a file.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Run a built-in hunt from `queries/sql/` by name (see --list).
    #[arg(long, value_name = "NAME", conflicts_with = "file")]
    pub hunt: Option<String>,
    /// List the built-in hunts and exit.
    #[arg(long, conflicts_with_all = ["file", "hunt"])]
    pub list: bool,
    /// Result format [default: text on a terminal, csv otherwise].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<crate::report::table::TableFormat>,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Which entries, and how they are read.
    #[command(flatten)]
    pub events: EventsArgs,
}

/// `blastradius notify`: the inputs and pivots of `blast`, or `--report`.
#[derive(Debug, Args)]
#[command(
    mut_arg("paths", |a| a.required(false)),
    mut_group("PivotArgs", |g| g.required(false)),
    mut_arg("output", |a| a.conflicts_with("dir"))
)]
pub struct NotifyArgs {
    /// A `blast` or `scan` JSON report written before (`-f json`), instead of audit logs and
    /// pivots. A scan report notifies every tenant whose secrets anyone read in its window.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["paths", "PivotArgs", "state"])]
    pub report: Option<PathBuf>,
    /// Audit logs and pivots, as for `blast`.
    #[command(flatten)]
    pub blast: BlastArgs,
    /// The incident id in every notice (default: `INC-<first exposure>-<hash of the exposure>`).
    #[arg(long, value_name = "ID", help_heading = "Notices")]
    pub incident_id: Option<String>,
    /// A statement of what the operators did, listed first under "actions taken" in every
    /// notice. Repeatable.
    #[arg(long = "action-taken", value_name = "TEXT", help_heading = "Notices")]
    pub actions_taken: Vec<String>,
    /// Notices as JSON objects, to -o or standard output [default: ndjson].
    #[arg(
        long,
        short = 'f',
        value_enum,
        help_heading = "Output",
        conflicts_with = "dir"
    )]
    pub format: Option<crate::notify::NoticeFormat>,
    /// Write one Markdown notice per tenant (`notice-<tenant>.md`) and `index.md` to DIR.
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub dir: Option<PathBuf>,
    /// A minijinja template for the Markdown notices instead of the built-in one
    /// (variables: docs/notify.md).
    #[arg(long, value_name = "FILE", help_heading = "Output", requires = "dir")]
    pub template: Option<PathBuf>,
}
