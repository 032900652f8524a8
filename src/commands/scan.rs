//! `blastradius scan`: resolve options, run one pass, build and write the report.

use std::io::IsTerminal;
use std::path::Path;

use super::incremental::{Session, without_own_files};
use super::output::{Output, write_result};
use super::progress::Progress;
use super::{CommandError, Exit, Global};
use crate::cli::time::{parse_span, parse_time_arg};
use crate::cli::{ColorChoice, InputArgs, ScanArgs, ScopeArgs, TimeArgs};
use crate::config::Config;
use crate::detect::{Caps, Detector};
use crate::lineage::{Devices, Lineage};
use crate::model::{Span, Timestamp};
use crate::parse::Validation;
use crate::report::{
    self, Format, ReportContext, ScanReport, Settings, Window, alerts, text::Color,
};
use crate::rules::RuleSet;
use crate::scan::{self, Analyzers, ScanSettings, TimeWindow};
use crate::source::{Input, InputPath, ReadOptions, discover};
use crate::suspects::{self, BlastCommand, Watch};
use crate::tenant::{TenantFallback, TenantInference, TenantMap};

/// Default `--gap`.
pub const DEFAULT_GAP: Span = Span::from_secs(300);
/// Default `--widespread-threshold`.
pub const DEFAULT_WIDESPREAD: usize = 10;

/// Scope settings resolved from the command line and the config file.
pub struct Scope {
    /// Tenant mapping.
    pub tenants: TenantMap,
    /// The patterns, for the report.
    pub patterns: Vec<String>,
    /// The exclusions, for the report.
    pub excluded: Vec<String>,
    /// Widespread threshold.
    pub widespread: usize,
    /// The rules.
    pub rules: RuleSet,
    /// The config file's gap, if any.
    pub config_gap: Option<String>,
    /// The config file's rotation tier rules.
    pub rotation: Vec<crate::blast::TierRuleConfig>,
}

/// Tenant patterns and fallback, the command line winning over the config file; shared by every
/// command with a tenant column or scope.
pub(super) struct TenantRules {
    pub patterns: Vec<String>,
    pub fallback: TenantFallback,
}

impl TenantRules {
    pub(super) fn resolve(
        cfg: &Config,
        patterns: &[String],
        fallback: Option<TenantFallback>,
    ) -> TenantRules {
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

impl Scope {
    /// Resolves `ScopeArgs` (command line wins; exclusions and rule directories combine).
    pub fn resolve(args: &ScopeArgs) -> Result<Scope, CommandError> {
        let cfg = args
            .config
            .as_deref()
            .map(Config::load)
            .transpose()?
            .unwrap_or_default();
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
        let tenants = TenantMap::new(&patterns, &excluded)?
            .with_fallback(fallback)
            .with_inference(inference);
        let mut rules = RuleSet::builtin()?;
        for dir in cfg.rules.iter().chain(&args.rules) {
            rules = rules.with_dir(dir)?;
        }
        Ok(Scope {
            tenants,
            patterns,
            excluded,
            widespread: args
                .widespread_threshold
                .or(cfg.widespread_threshold)
                .unwrap_or(DEFAULT_WIDESPREAD),
            rules,
            config_gap: cfg.gap,
            rotation: cfg.rotation,
        })
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

/// Sum of input sizes on disk, for the progress bar.
pub fn total_bytes(inputs: &[Input]) -> u64 {
    inputs
        .iter()
        .filter_map(|i| match &i.path {
            InputPath::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            InputPath::Stdin => None,
        })
        .sum()
}

/// Whether to colour, given where output goes.
pub fn color(choice: ColorChoice, out: &Output) -> Color {
    let env_off = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t == "dumb");
    match choice {
        ColorChoice::Always => Color::On,
        ColorChoice::Never => Color::Off,
        ColorChoice::Auto if out.is_terminal() && !env_off => Color::On,
        ColorChoice::Auto => Color::Off,
    }
}

/// The options of a scan that shape a blast radius, for the suspects' `blast` commands.
fn blast_command(args: &ScanArgs) -> BlastCommand {
    let mut options = Vec::new();
    let scope = &args.scope;
    if let Some(c) = &scope.config {
        options.extend(["--config".to_string(), c.display().to_string()]);
    }
    for p in &scope.tenant_patterns {
        options.extend(["--tenant-pattern".to_string(), p.clone()]);
    }
    for e in &scope.exclude_tenants {
        options.extend(["--exclude-tenant".to_string(), e.clone()]);
    }
    if let Some(n) = scope.widespread_threshold {
        options.extend(["--widespread-threshold".to_string(), n.to_string()]);
    }
    for (flag, v) in [("--since", &args.time.since), ("--until", &args.time.until)] {
        if let Some(v) = v {
            options.extend([flag.to_string(), v.clone()]);
        }
    }
    for d in &args.devices {
        options.extend(["--device".to_string(), format!("{}={}", d.name, d.pattern)]);
    }
    // Sorted like the inputs: `blast` reads them in path order anyway, and the report must not
    // depend on the order they were given in.
    let mut paths = args.paths.clone();
    paths.sort();
    BlastCommand { options, paths }
}

/// Runs `scan`.
pub fn run(args: &ScanArgs, global: Global) -> Result<Exit, CommandError> {
    let now = super::now();
    let scope = Scope::resolve(&args.scope)?;
    let window = window(&args.time, now)?;
    let gap_arg = args.time.gap.as_ref().or(scope.config_gap.as_ref());
    let gap = gap_arg
        .map(|g| {
            parse_span(g).map_err(|message| CommandError::Arg {
                flag: "--gap",
                message,
            })
        })
        .transpose()?
        .unwrap_or(DEFAULT_GAP);
    let settings = ScanSettings {
        read: read_options(&args.input)?,
        threads: args.input.threads,
        window,
        gap,
        caps: Caps::default(),
        device_rules: args.devices.clone(),
        ..ScanSettings::default()
    };
    let alerts_path = args
        .incremental
        .alerts
        .as_deref()
        .filter(|a| *a != "-")
        .map(Path::new);
    let own = [
        args.incremental.state.as_deref(),
        args.output.output.as_deref(),
        alerts_path,
    ];
    let mut inputs = without_own_files(discover(&args.paths)?, &own);
    // Path order, as in `blast`: the report must not depend on the order paths were given in.
    inputs.sort_by(|a, b| a.display.cmp(&b.display));
    for (i, input) in inputs.iter_mut().enumerate() {
        input.index = i as u32;
    }
    let (mut session, inputs, incremental) =
        Session::begin(args.incremental.state.as_deref(), "scan", now, inputs)?;
    let detector = Detector::new(&scope.rules, settings.caps);
    let watch = Watch {
        lineage: Lineage::new(
            Vec::new(),
            &scope.tenants,
            session.seed().unwrap_or_else(super::blast::rand_seed),
        )
        // The same identity joins as `blast`, so a suspect's blast command finds what it found.
        .across(if inputs.len() > 1 {
            Devices::Several
        } else {
            Devices::One
        }),
    };
    let progress = Progress::start(total_bytes(&inputs), global.quiet);
    let scan::Scanned {
        result,
        ext: watched,
        carry: next,
    } = scan::run(
        &inputs,
        &settings,
        Analyzers {
            detector: &detector,
            tenants: &scope.tenants,
            ext: &watch,
            progress: Some(&progress.counter),
        },
        incremental,
    )?;
    drop(progress);
    let suspects = suspects::rank(watched, &scope.tenants, &blast_command(args));
    let file_progress = result.progress.clone();
    let report = ScanReport::build(
        result,
        ReportContext {
            generated_at: now,
            window: Window {
                since: window.since,
                until: window.until,
            },
            settings: Settings {
                gap_seconds: gap.as_secs_f64(),
                widespread_threshold: scope.widespread,
                tenant_patterns: scope.patterns.clone(),
                inferred_tenant_patterns: Vec::new(), // the scan's, set by ScanReport::build
                excluded_tenants: scope.excluded.clone(),
                rules: scope.rules.rules().len(),
            },
            max_malformed: args.input.max_malformed,
            incremental: session.info(),
            suspects,
        },
    );
    let mut out = Output::open(args.output.output.as_deref())?;
    let format = args.output.format.unwrap_or(if out.is_terminal() {
        Format::Text
    } else {
        Format::Json
    });
    let color = color(global.color, &out);
    let dest = args
        .output
        .output
        .as_ref()
        .map_or_else(|| "-".to_string(), |p| p.display().to_string());
    write_result(
        report::render_scan(&report, format, color, out.writer()),
        &dest,
    )?;
    out.finish()?;
    let mut memory = session.take_alert_memory();
    if let Some(dest) = &args.incremental.alerts {
        let alerts = alerts::new_alerts(&report, &mut memory);
        let mut out = Output::open((dest != "-").then(|| Path::new(dest.as_str())))?;
        write_result(
            alerts::write(
                &alerts,
                args.incremental.alert_format,
                &report,
                out.writer(),
            ),
            dest,
        )?;
        out.finish()?;
    }
    // Outputs are written: only now may the state move past this run's input.
    session.commit(next, &file_progress, memory, now)?;
    if !report.complete && !global.quiet && std::io::stderr().is_terminal() {
        eprintln!("blastradius: input incomplete; see the report's inputs and malformed sections");
    }
    Ok(exit_for(&report, args.output.fail_on))
}

/// Findings at or above `--fail-on` win over an incomplete input: they need a human now.
pub fn exit_for(report: &ScanReport, fail_on: Option<crate::model::Severity>) -> Exit {
    if fail_on.is_some_and(|t| report.has_findings_at(t)) {
        Exit::Findings
    } else if !report.complete {
        Exit::Incomplete
    } else {
        Exit::Clean
    }
}
