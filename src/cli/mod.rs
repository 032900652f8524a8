//! Command-line definitions (clap derive). Kept in the library so that `docs/cli.md`, the man
//! page and shell completions are generated from the same definitions the binary parses.

mod args;
pub mod docs;
pub mod time;

pub use args::*;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  blastradius scan /var/log/vault/                        # every audit file in the directory
  blastradius scan audit.log audit.log.1 audit.log-*.gz   # rotated files are one log
  blastradius scan --since 24h --format json -o report.json /var/log/vault/audit.log
  blastradius scan -f html -o incident.html audit.log     # incident report with a chart
  zcat audit.log.gz | blastradius scan -                  # standard input
  blastradius scan --tenant-pattern '^kv/data/(?P<tenant>[^/]+)/' --exclude-tenant test audit.log
  blastradius blast --token hmac-sha256:5f1e... -f markdown audit.log

Exit codes: 0 scan complete; 1 findings at or above --fail-on; 2 usage error;
            3 complete but input incomplete (unreadable/truncated file, malformed lines); 4 fatal.";

const EXPORT_EXAMPLES: &str = "\
Examples:
  blastradius export /var/log/vault/ -o events/               # day partitions dt=YYYY-MM-DD/
  blastradius export audit.log -o events.parquet               # one file
  blastradius export audit.log -f arrow -o events.arrow        # Arrow IPC
  blastradius export --since 2026-11-01 --until 2026-11-02 audit.log* -o day/

Columns and their meaning: docs/export-schema.md. Exit codes as for scan (3: input incomplete).";

const QUERY_EXAMPLES: &str = "\
Examples:
  blastradius query --list                                     # the built-in hunts
  blastradius query --hunt denials_by_address /var/log/vault/audit.log
  blastradius query \"SELECT path, COUNT(*) AS n FROM events WHERE is_secret_read GROUP BY path\" audit.log
  blastradius query --file queries/sql/quiet_periods.sql -f json audit.log*

The SQL runs on polars over the same table `export` writes; the hunts in queries/sql/ also run
unchanged on DuckDB, Trino and Spark (docs/scale.md).";

const BLAST_EXAMPLES: &str = concat!(
    "Get a token's HMAC from the audit device that wrote the log:\n",
    "  vault write sys/audit-hash/<device-path> input=<leaked token>      # returns hmac-sha256:...\n",
    "Devices with hmac_accessor=false log accessors in clear: pass them to --accessor as they are.\n",
    "\n",
    "Examples:\n",
    "  blastradius blast --token hmac-sha256:5f1e... /var/log/vault/\n",
    "  blastradius blast --ip 203.0.113.66 --since 7d -f json -o blast.json audit.log*\n",
    "  blastradius blast --accessor hmac-sha256:9c2a... -f html -o incident.html audit.log\n",
    "  blastradius blast --display-name approle --no-descendants -f markdown audit.log"
);

const ROTATION_LIST_EXAMPLES: &str = concat!(
    "Get a token's HMAC from the audit device that wrote the log:\n",
    "  vault write sys/audit-hash/<device-path> input=<leaked token>      # returns hmac-sha256:...\n",
    "\n",
    "Examples:\n",
    "  blastradius rotation-list --accessor hmac-sha256:9c2a... -f csv -o rotate.csv audit.log\n",
    "  blastradius rotation-list --token hmac-sha256:5f1e... -f json /var/log/vault/"
);

const NOTIFY_EXAMPLES: &str = "\
Examples:
  blastradius notify --token hmac-sha256:5f1e... --dir notices/ audit.log   # Markdown + index.md
  blastradius notify --ip 203.0.113.66 -f ndjson -o notices.ndjson audit.log*
  blastradius notify --report blast.json --incident-id INC-4711 --dir notices/
  blastradius notify --report blast.json --dir notices/ --template my-notice.md.j2

Fields and template variables: docs/notify.md.";

/// Breach scope, token lineage, rotation lists and audit-gap evidence from Vault and OpenBao
/// audit logs.
#[derive(Debug, Parser)]
#[command(name = "blastradius", version, about, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// When to colour terminal output (NO_COLOR is honoured in `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress bar.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Assess a breach: secrets read, affected tenants, suspicious events, audit gaps.
    Scan(Box<ScanArgs>),
    /// The blast radius of a compromised credential: tokens, secrets, leases, rotation plan.
    #[command(after_help = BLAST_EXAMPLES)]
    Blast {
        /// Pivots, inputs and options.
        #[command(flatten)]
        args: Box<BlastArgs>,
        /// Output format [default: text on a terminal, json otherwise].
        #[arg(long, short = 'f', value_enum, help_heading = "Output")]
        format: Option<crate::report::blast::BlastFormat>,
    },
    /// The ordered rotation and revocation plan only, for runbooks (CSV by default).
    #[command(after_help = ROTATION_LIST_EXAMPLES)]
    RotationList {
        /// Pivots, inputs and options.
        #[command(flatten)]
        args: Box<BlastArgs>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = crate::report::blast::ListFormat::Csv, help_heading = "Output")]
        format: crate::report::blast::ListFormat,
        /// `read`: what the log shows exposed; `reachable`: also the secrets the tokens' policies
        /// let them read (needs --policies or --vault-addr), after the read ones.
        #[arg(long, value_enum, default_value_t = crate::blast::Exposure::Read, help_heading = "Output")]
        scope: crate::blast::Exposure,
    },
    /// One notice per affected tenant: its exposed secrets, actions taken and required.
    #[command(after_help = NOTIFY_EXAMPLES)]
    Notify(Box<NotifyArgs>),
    /// Write every entry as a row of a flat `events` table (Parquet or Arrow) for SQL engines.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(Box<ExportArgs>),
    /// Run SQL over the `events` table of audit logs (built with the `sql` feature).
    #[command(after_help = QUERY_EXAMPLES)]
    Query(Box<QueryArgs>),
    /// List or check detection rules (Sigma, `queries/rules/`).
    #[command(
        subcommand,
        after_help = "Examples:\n  blastradius rules list\n  blastradius rules lint ./my-rules"
    )]
    Rules(RulesCommand),
    /// Write a synthetic OpenBao audit log (deterministic for a seed and size), for
    /// benchmarks and tests.
    #[command(
        override_usage = "blastradius generate [--size <BYTES>] [--seed <N>] [--truth <FILE>] --output <FILE|->",
        after_help = "Examples:\n  blastradius generate --size 100MiB --seed 1 -o bench.log\n  blastradius generate --size 20M --truth truth.json -o small.log"
    )]
    Generate(GenerateArgs),
    /// Print shell completions.
    #[command(after_help = "\
Examples:
  blastradius completions bash > /etc/bash_completion.d/blastradius
  blastradius completions zsh > \"${fpath[1]}/_blastradius\"
  blastradius completions fish > ~/.config/fish/completions/blastradius.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "\
Examples:
  blastradius man | man -l -
  blastradius man > /usr/local/share/man/man1/blastradius.1")]
    Man,
}

/// `blastradius rules ...`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// The rules in force: built-in, plus `--rules` directories (same id replaces a built-in).
    #[command(
        after_help = "Examples:\n  blastradius rules list\n  blastradius rules list --rules ./my-rules --json"
    )]
    List {
        /// Directories of extra rules.
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<std::path::PathBuf>,
        /// JSON instead of one line per rule.
        #[arg(long)]
        json: bool,
    },
    /// Parse and compile rule files; print problems as `file:line:col: level: message`.
    /// Exits 1 when there are errors.
    #[command(
        after_help = "Examples:\n  blastradius rules lint ./my-rules\n  blastradius rules lint --deny-warnings rule.yml"
    )]
    Lint {
        /// Rule files or directories (`.yml`, `.yaml`, searched recursively).
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}
