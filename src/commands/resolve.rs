//! The resolve phase: command-line arguments and the config file become narrow settings once,
//! the command line winning. Commands read these structs, never the config file.
//!
//! - [`AnalysisSettings`]: tenant setup, widespread threshold, the config file's gap, rule
//!   directories and rotation tiers (`AnalysisArgs`).
//! - [`TenantSetup`]: the tenant map and the patterns and exclusions it came from.
//! - [`scan_settings`]: reading options, threads, window, `--gap` and devices for one pass.
//! - [`inputs`]: the inputs a pass reads, in path order.
//! - [`OutputPlan`]: destination, format and colour of a report.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::CommandError;
use super::incremental::without_own_files;
use super::output::{Output, write_result};
use crate::cli::time::{parse_span, parse_time_arg};
use crate::cli::{AnalysisArgs, ColorChoice, InputArgs, OutputArgs, TenantArgs, TimeArgs};
use crate::config::Config;
use crate::model::{Span, TimeWindow, Timestamp};
use crate::parse::Validation;
use crate::report::Format;
use crate::report::text::Color;
use crate::rules::RuleSet;
use crate::scan::ScanSettings;
use crate::scope::ReaderCap;
use crate::source::{DeviceRule, Input, ReadOptions, discover};
use crate::tenant::{TenantFallback, TenantInference, TenantMap};

/// Default `--gap`.
pub const DEFAULT_GAP: Span = Span::from_secs(300);
/// Default `--widespread-threshold`.
pub const DEFAULT_WIDESPREAD: usize = 10;

/// The config file at `path`, or the defaults without one.
fn config(path: Option<&Path>) -> Result<Config, CommandError> {
    Ok(path.map(Config::load).transpose()?.unwrap_or_default())
}

/// The `AnalysisArgs` group resolved against the config file.
pub struct AnalysisSettings {
    /// Tenant mapping, patterns and exclusions.
    pub tenants: TenantSetup,
    /// Widespread threshold.
    pub widespread: usize,
    /// The config file's gap, if any (`--gap` wins, see [`AnalysisSettings::pass`]).
    config_gap: Option<String>,
    /// The config file's rotation tier rules.
    pub rotation: Vec<crate::blast::TierRuleConfig>,
    /// Rule directories, the config file's first; compiled only by commands that run rules.
    rule_dirs: Vec<PathBuf>,
}

impl AnalysisSettings {
    /// Resolves `AnalysisArgs` (command line wins; exclusions and rule directories combine).
    pub fn resolve(args: &AnalysisArgs) -> Result<AnalysisSettings, CommandError> {
        let cfg = config(args.config.as_deref())?;
        let TenantRules { patterns, fallback } =
            TenantRules::resolve(&cfg, &args.tenant_patterns, args.tenant_fallback);
        let mut excluded = cfg.exclude_tenants;
        excluded.extend(args.exclude_tenants.iter().cloned());
        excluded.sort();
        excluded.dedup();
        let inference = if args.no_tenant_inference || cfg.tenant_inference == Some(false) {
            TenantInference::Off
        } else {
            TenantInference::Infer
        };
        let map = TenantMap::new(&patterns, &excluded)?
            .with_fallback(fallback)
            .with_inference(inference);
        Ok(AnalysisSettings {
            tenants: TenantSetup {
                map,
                patterns,
                excluded,
            },
            widespread: args
                .widespread_threshold
                .or(cfg.widespread_threshold)
                .unwrap_or(DEFAULT_WIDESPREAD),
            config_gap: cfg.gap,
            rotation: cfg.rotation,
            rule_dirs: cfg.rules.into_iter().chain(args.rules.clone()).collect(),
        })
    }

    /// The settings of a pass of `scan`, `blast` or `rotation-list`: `--since`/`--until`,
    /// `--gap` (else the config file's), reading options, threads and devices.
    pub fn pass(
        &self,
        input: &InputArgs,
        time: &TimeArgs,
        devices: &[DeviceRule],
        now: Timestamp,
    ) -> Result<ScanSettings, CommandError> {
        scan_settings(
            input,
            window(time, now)?,
            gap(time, self.config_gap.as_ref())?,
            devices,
        )
    }

    /// The built-in rules and those of every rule directory.
    pub fn rules(&self) -> Result<RuleSet, CommandError> {
        let mut rules = RuleSet::builtin()?;
        for dir in &self.rule_dirs {
            rules = rules.with_dir(dir)?;
        }
        Ok(rules)
    }
}

/// The tenant map and what it was built from, for the report's settings.
pub struct TenantSetup {
    /// Tenant mapping.
    pub map: TenantMap,
    /// The patterns, for the report.
    pub patterns: Vec<String>,
    /// The exclusions, for the report.
    pub excluded: Vec<String>,
}

impl TenantSetup {
    /// The tenant map for a raw table's `tenant` column: no exclusions (the table is the raw
    /// record), and no inferred layout, since rows are written as they are read.
    pub fn raw(args: &TenantArgs) -> Result<TenantMap, CommandError> {
        let cfg = config(args.config.as_deref())?;
        let TenantRules { patterns, fallback } =
            TenantRules::resolve(&cfg, &args.tenant_patterns, args.tenant_fallback);
        Ok(TenantMap::new(&patterns, &[])?
            .with_fallback(fallback)
            .with_inference(TenantInference::Off))
    }
}

/// Tenant patterns and fallback, the command line winning over the config file; shared by every
/// command with a tenant column or scope.
struct TenantRules {
    patterns: Vec<String>,
    fallback: TenantFallback,
}

impl TenantRules {
    fn resolve(cfg: &Config, patterns: &[String], fallback: Option<TenantFallback>) -> TenantRules {
        TenantRules {
            patterns: if patterns.is_empty() {
                cfg.tenant_patterns.clone()
            } else {
                patterns.to_vec()
            },
            fallback: fallback.or(cfg.tenant_fallback).unwrap_or_default(),
        }
    }
}

/// Resolves `--since`/`--until`.
pub fn window(args: &TimeArgs, now: Timestamp) -> Result<TimeWindow, CommandError> {
    let parse = |flag, v: &Option<String>| {
        v.as_deref()
            .map(|s| parse_time_arg(s, now).map_err(|message| CommandError::Arg { flag, message }))
            .transpose()
    };
    let w = TimeWindow {
        since: parse("--since", &args.since)?,
        until: parse("--until", &args.until)?,
    };
    if let (Some(s), Some(u)) = (w.since, w.until)
        && s >= u
    {
        return Err(CommandError::Arg {
            flag: "--until",
            message: format!("{u} is not after --since {s}"),
        });
    }
    Ok(w)
}

/// Resolves `--gap`, falling back to the config file's and then to [`DEFAULT_GAP`].
pub fn gap(args: &TimeArgs, config_gap: Option<&String>) -> Result<Span, CommandError> {
    args.gap
        .as_ref()
        .or(config_gap)
        .map(|g| {
            parse_span(g).map_err(|message| CommandError::Arg {
                flag: "--gap",
                message,
            })
        })
        .transpose()
        .map(|g| g.unwrap_or(DEFAULT_GAP))
}

/// Reading options from `InputArgs`.
pub fn read_options(args: &InputArgs) -> Result<ReadOptions, CommandError> {
    let to_usize = |flag, v: u64| {
        usize::try_from(v).map_err(|_| CommandError::Arg {
            flag,
            message: format!("{v} is too large"),
        })
    };
    Ok(ReadOptions {
        chunk_size: to_usize("--chunk-size", args.chunk_size.max(1))?,
        max_line_bytes: to_usize("--max-line-bytes", args.max_line_bytes.max(1))?,
        mmap: args.mmap,
        max_decompressed_bytes: args.max_decompressed_bytes,
        max_gzip_ratio: args.max_gzip_ratio.max(1),
        validation: if args.strict {
            Validation::Full
        } else {
            Validation::Fast
        },
        ..ReadOptions::default()
    })
}

/// The settings of one pass: how to read (`InputArgs`, threads included), the window, the gap
/// and the device rules; the rest are the scan's defaults.
pub fn scan_settings(
    input: &InputArgs,
    window: TimeWindow,
    gap: Span,
    devices: &[DeviceRule],
) -> Result<ScanSettings, CommandError> {
    Ok(ScanSettings {
        read: read_options(input)?,
        threads: input.threads,
        window,
        gap,
        device_rules: devices.to_vec(),
        ..ScanSettings::default()
    })
}

/// The inputs under `paths` but the command's `own` files (state, report, alerts), in path
/// order and numbered so: evidence is taken from the earliest copy of an entry, and the report
/// must not depend on the order the paths were given in.
pub fn inputs(paths: &[String], own: &[Option<&Path>]) -> Result<Vec<Input>, CommandError> {
    let mut inputs = found_inputs(paths, own)?;
    inputs.sort_by(|a, b| a.display.cmp(&b.display));
    for (i, input) in inputs.iter_mut().enumerate() {
        input.index = i as u32;
    }
    Ok(inputs)
}

/// Resolves `--max-readers`: as given (0 for every reader); otherwise every reader for
/// `-f ndjson`, which streams one `reader` record each, and the default cap for the rest.
pub fn reader_cap(output: &OutputArgs) -> ReaderCap {
    match (output.max_readers, output.format) {
        (Some(n), _) => ReaderCap::from_arg(n),
        (None, Some(Format::Ndjson)) => ReaderCap::All,
        (None, _) => ReaderCap::default(),
    }
}

/// The inputs under `paths` but the command's `own` files, in the order found and numbered so
/// (`export` and `query`, whose rows follow that order).
pub fn found_inputs(paths: &[String], own: &[Option<&Path>]) -> Result<Vec<Input>, CommandError> {
    Ok(without_own_files(discover(paths)?, own))
}

/// The format to use when none was asked for.
pub struct DefaultFormat<F> {
    /// On a terminal.
    pub terminal: F,
    /// Into a file or a pipe.
    pub piped: F,
}

/// Where a report goes and how it looks there: the destination (opened), its name for error
/// messages, and whether to colour.
pub struct OutputPlan {
    out: Output,
    /// The destination as messages name it (`-` for standard output).
    dest: String,
    /// Whether to colour, given `--color` and the destination.
    pub color: Color,
}

impl OutputPlan {
    /// Opens `path` (standard output when `None`) and decides the colour.
    pub fn open(path: Option<&Path>, choice: ColorChoice) -> Result<OutputPlan, CommandError> {
        let out = Output::open(path)?;
        let color = color(choice, &out);
        Ok(OutputPlan {
            out,
            dest: path.map_or_else(|| "-".to_string(), |p| p.display().to_string()),
            color,
        })
    }

    /// The format asked for, or the default for this destination.
    pub fn format<F>(&self, chosen: Option<F>, default: DefaultFormat<F>) -> F {
        chosen.unwrap_or(if self.out.is_terminal() {
            default.terminal
        } else {
            default.piped
        })
    }

    /// Writes the report with `render` and puts the output into place.
    pub fn write(
        mut self,
        render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), CommandError> {
        write_result(render(self.out.writer()), &self.dest)?;
        self.out.finish()
    }
}

/// Whether to colour, given where output goes.
fn color(choice: ColorChoice, out: &Output) -> Color {
    let env_off = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t == "dumb");
    match choice {
        ColorChoice::Always => Color::On,
        ColorChoice::Never => Color::Off,
        ColorChoice::Auto if out.is_terminal() && !env_off => Color::On,
        ColorChoice::Auto => Color::Off,
    }
}
