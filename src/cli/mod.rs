//! Command-line definitions (clap derive). Kept in the library so that `docs/cli.md`, the man
//! page and shell completions are generated from the same definitions the binary parses.

mod args;
pub mod time;

pub use args::*;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  blastradius scan /var/log/vault/                        # every audit file in the directory
  blastradius scan audit.log audit.log.1 audit.log-*.gz   # rotated files are one log
  blastradius scan --since 24h --format json -o report.json /var/log/vault/audit.log
  zcat audit.log.gz | blastradius scan -                  # standard input
  blastradius scan --tenant-pattern '^kv/data/(?P<tenant>[^/]+)/' --exclude-tenant test audit.log

Exit codes: 0 scan complete; 1 findings at or above --fail-on; 2 usage error;
            3 complete but input incomplete (unreadable/truncated file, malformed lines); 4 fatal.";

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
    Blast {
        /// Pivots, inputs and options.
        #[command(flatten)]
        args: Box<BlastArgs>,
        /// Output format [default: text on a terminal, json otherwise].
        #[arg(long, short = 'f', value_enum, help_heading = "Output")]
        format: Option<crate::report::blast::BlastFormat>,
    },
    /// The ordered rotation and revocation plan only, for runbooks (CSV by default).
    RotationList {
        /// Pivots, inputs and options.
        #[command(flatten)]
        args: Box<BlastArgs>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = crate::report::blast::ListFormat::Csv, help_heading = "Output")]
        format: crate::report::blast::ListFormat,
    },
    /// List or check detection rules (Sigma, `queries/rules/`).
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Write a synthetic OpenBao audit log (deterministic for a seed and size), for
    /// benchmarks and tests.
    #[command(
        after_help = "Examples:\n  blastradius generate --size 100MiB --seed 1 -o bench.log\n  blastradius generate --size 20M --truth truth.json -o small.log"
    )]
    Generate(GenerateArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
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
