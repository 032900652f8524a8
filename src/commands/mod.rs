//! The subcommands, as library functions the thin binary calls.

pub mod blast;
pub mod export;
pub mod generate;
mod incremental;
pub mod notify;
mod output;
mod progress;
pub mod resolve;
pub mod rules;
pub mod scan;

use crate::cli::{Cli, ColorChoice, Command};

/// The exit-code contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The command completed (no finding at or above `--fail-on`).
    Clean = 0,
    /// Findings at or above `--fail-on`.
    Findings = 1,
    /// Usage error: bad option, missing input, invalid pattern, config or rule.
    Usage = 2,
    /// Completed, but the input was incomplete: unreadable or truncated files, malformed lines.
    Incomplete = 3,
    /// Fatal: no trustworthy result.
    Fatal = 4,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// An input path is missing or unusable.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    /// A tenant pattern is invalid.
    #[error(transparent)]
    Tenant(#[from] crate::tenant::TenantError),
    /// The config file is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A rule is invalid.
    #[error(transparent)]
    Rules(#[from] crate::rules::RuleError),
    /// An option value is invalid.
    #[error("invalid {flag}: {message}")]
    Arg {
        /// The option.
        flag: &'static str,
        /// Why.
        message: String,
    },
    /// The export could not be written.
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    /// The SQL query failed.
    #[error(transparent)]
    Sql(#[from] crate::sql::SqlError),
    /// The scan could not run.
    #[error(transparent)]
    Scan(#[from] crate::scan::ScanError),
    /// Policies or the inventory could not be read.
    #[error(transparent)]
    Reach(#[from] crate::blast::ReachError),
    /// The state file cannot be used.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// Notices could not be made.
    #[error(transparent)]
    Notify(#[from] crate::notify::NotifyError),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Output {
        /// Where.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl CommandError {
    /// The exit code for this error.
    pub fn exit(&self) -> Exit {
        use crate::state::StateError;
        match self {
            CommandError::Scan(_) | CommandError::Output { .. } => Exit::Fatal,
            CommandError::Notify(crate::notify::NotifyError::Io { .. }) => Exit::Fatal,
            CommandError::Export(crate::export::ExportError::NotEmpty(_)) => Exit::Usage,
            CommandError::Export(_) => Exit::Fatal,
            // Another run holding the lock, or a disk error: worth retrying.
            CommandError::State(StateError::Locked(_) | StateError::Io { .. }) => Exit::Fatal,
            _ => Exit::Usage,
        }
    }
}

/// Options every subcommand shares.
#[derive(Clone, Copy, Debug)]
pub struct Global {
    /// `--color`.
    pub color: ColorChoice,
    /// `--quiet`.
    pub quiet: bool,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Exit, CommandError> {
    let global = Global {
        color: cli.color,
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Scan(args) => scan::run(&args, global),
        Command::Blast { args, format } => blast::run(&args, blast::Mode::Report(format), global),
        Command::RotationList {
            args,
            format,
            scope,
        } => blast::run(&args, blast::Mode::List(format, scope), global),
        Command::Notify(args) => notify::run(&args, global),
        Command::Export(args) => export::run_export(&args, global),
        Command::Query(args) => export::run_query(&args, global),
        Command::Rules(crate::cli::RulesCommand::List { rules, json }) => rules::list(&rules, json),
        Command::Rules(crate::cli::RulesCommand::Lint {
            paths,
            deny_warnings,
        }) => rules::lint_paths(&paths, deny_warnings),
        Command::Generate(args) => generate::run(&args, global),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "blastradius", &mut std::io::stdout());
            Ok(Exit::Clean)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|source| CommandError::Output {
                    path: "-".into(),
                    source,
                })?;
            Ok(Exit::Clean)
        }
    }
}

/// The current time, or `BLASTRADIUS_NOW` (RFC 3339) for reproducible reports and tests.
pub fn now() -> crate::model::Timestamp {
    std::env::var("BLASTRADIUS_NOW")
        .ok()
        .and_then(|s| crate::model::Timestamp::parse(&s))
        .unwrap_or_else(crate::model::Timestamp::now)
}
