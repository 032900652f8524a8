//! `blastradius scan`: resolve options, run one pass, build and write the report.

use std::io::IsTerminal;
use std::path::Path;

use super::incremental::Session;
use super::progress::{Progress, total_bytes};
use super::resolve::{self, DefaultFormat, InputOrder, OutputPlan, ScopeSettings};
use super::{CommandError, Exit, Global};
use crate::cli::ScanArgs;
use crate::detect::Detector;
use crate::lineage::{Devices, Lineage};
use crate::report::{self, Format, ReportContext, ScanReport, Settings, Window, alerts};
use crate::scan::{self, Analyzers};
use crate::suspects::{self, BlastCommand, Watch};

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
    let scope = ScopeSettings::resolve(&args.scope)?;
    let rules = scope.rules()?;
    let window = resolve::window(&args.time, now)?;
    let gap = resolve::gap(&args.time, scope.config_gap.as_ref())?;
    let settings = resolve::scan_settings(&args.input, window, gap, &args.devices)?;
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
    let inputs = resolve::inputs(&args.paths, &own, InputOrder::ByPath)?;
    let (mut session, inputs, incremental) =
        Session::begin(args.incremental.state.as_deref(), "scan", now, inputs)?;
    let detector = Detector::new(&rules, settings.caps);
    let watch = Watch {
        lineage: Lineage::new(
            Vec::new(),
            &scope.tenants.map,
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
            tenants: &scope.tenants.map,
            ext: &watch,
            progress: Some(&progress.counter),
        },
        incremental,
    )?;
    drop(progress);
    let suspects = suspects::rank(watched, &scope.tenants.map, &blast_command(args));
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
                tenant_patterns: scope.tenants.patterns.clone(),
                inferred_tenant_patterns: Vec::new(), // the scan's, set by ScanReport::build
                excluded_tenants: scope.tenants.excluded.clone(),
                rules: rules.rules().len(),
            },
            max_malformed: args.input.max_malformed,
            incremental: session.info(),
            suspects,
        },
    );
    let out = OutputPlan::open(args.output.output.as_deref(), global.color)?;
    let format = out.format(
        args.output.format,
        DefaultFormat {
            terminal: Format::Text,
            piped: Format::Json,
        },
    );
    let color = out.color;
    out.write(|w| report::render_scan(&report, format, color, w))?;
    let mut memory = session.take_alert_memory();
    if let Some(dest) = &args.incremental.alerts {
        let alerts = alerts::new_alerts(&report, &mut memory);
        let out = OutputPlan::open(
            (dest != "-").then(|| Path::new(dest.as_str())),
            global.color,
        )?;
        out.write(|w| alerts::write(&alerts, args.incremental.alert_format, &report, w))?;
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
