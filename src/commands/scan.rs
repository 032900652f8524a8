//! `blastradius scan`: resolve options, run one pass, build and write the report.

use std::io::IsTerminal;
use std::path::Path;

use super::incremental::Session;
use super::progress::{Progress, total_bytes};
use super::resolve::{self, AnalysisSettings, DefaultFormat, OutputPlan};
use super::{CommandError, Exit, Global};
use crate::cli::ScanArgs;
use crate::detect::Detector;
use crate::lineage::{Devices, Leases, Lineage, Sharing};
use crate::model::Timestamp;
use crate::report::alerts;
use crate::report::{self, Format, ReportContext, ScanReport, Settings};
use crate::rules::RuleSet;
use crate::scan::{self, Analysers, Carry, Incremental, ScanResult, ScanSettings};
use crate::source::Input;
use crate::state::AlertMemory;
use crate::suspects::{self, BlastCommand, Suspects, Watch};

/// The options of a scan that shape a blast radius, for the suspects' `blast` commands.
fn blast_command(args: &ScanArgs) -> BlastCommand {
    let mut options = Vec::new();
    let group = &args.analysis;
    if let Some(c) = &group.config {
        options.extend(["--config".to_string(), c.display().to_string()]);
    }
    for p in &group.tenant_patterns {
        options.extend(["--tenant-pattern".to_string(), p.clone()]);
    }
    for e in &group.exclude_tenants {
        options.extend(["--exclude-tenant".to_string(), e.clone()]);
    }
    if let Some(n) = group.widespread_threshold {
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

/// Runs `scan`: resolve the settings, open the inputs (and the `--state` session), run the pass,
/// build the report, write it (and the `--alerts`), then move the state past this run.
pub fn run(args: &ScanArgs, global: Global) -> Result<Exit, CommandError> {
    let now = super::now();
    let resolved = Resolved::resolve(args, now)?;
    let inputs = resolve::inputs(&args.paths, &own_files(args))?;
    let (mut session, inputs, incremental) =
        Session::begin(args.incremental.state.as_deref(), "scan", now, inputs)?;
    let pass = run_pass(
        &resolved,
        &inputs,
        session.seed(),
        incremental,
        global.quiet,
    )?;
    let file_progress = pass.result.progress.clone();
    let report = build_report(args, &resolved, pass.result, pass.suspects, &session, now);
    let threads = resolved.pass.worker_threads();
    on_pool(threads, || write_report(&report, args, global))?;
    let memory = write_alerts(&report, args, global, session.take_alert_memory())?;
    // Outputs are written: only now may the state move past this run's input.
    session.commit(pass.next, &file_progress, memory, now)?;
    if !report.complete && !global.quiet && std::io::stderr().is_terminal() {
        eprintln!("blastradius: input incomplete; see the report's inputs and malformed sections");
    }
    let exit = exit_for(&report, args.output.fail_on);
    // Every output is written and flushed, and the process exits next: freeing the report (a
    // record per secret read), the ranked lineage and the compiled rules one allocation at a
    // time would cost millions of instructions on a busy log for memory the exit returns
    // anyway.
    std::mem::forget(report);
    std::mem::forget(pass.leftovers);
    std::mem::forget(resolved);
    Ok(exit)
}

/// What `scan` resolved from its arguments and the config file.
struct Resolved {
    /// Tenants, threshold, rule directories (`--config` and the scope group).
    analysis: AnalysisSettings,
    /// The built-in rules and `--rules`.
    rules: RuleSet,
    /// The pass: reading options, window, gap, devices.
    pass: ScanSettings,
    /// The options the suspects' `blast` commands repeat.
    blast_command: BlastCommand,
}

impl Resolved {
    fn resolve(args: &ScanArgs, now: Timestamp) -> Result<Resolved, CommandError> {
        let analysis = AnalysisSettings::resolve(&args.analysis)?;
        let rules = analysis.rules()?;
        let mut pass = analysis.pass(&args.input, &args.time, &args.devices, now)?;
        pass.readers = resolve::reader_cap(&args.output);
        Ok(Resolved {
            analysis,
            rules,
            pass,
            blast_command: blast_command(args),
        })
    }
}

/// The files this run writes (state, report, alerts), never read as input.
fn own_files(args: &ScanArgs) -> [Option<&Path>; 3] {
    let alerts = args.incremental.alerts.as_deref().filter(|a| *a != "-");
    [
        args.incremental.state.as_deref(),
        args.output.output.as_deref(),
        alerts.map(Path::new),
    ]
}

/// What the pass established.
struct Pass {
    result: ScanResult,
    /// The tokens worth a `blast`, ranked.
    suspects: Suspects,
    /// The lineage the suspects were ranked from, for [`run`] to dispose of.
    leftovers: suspects::Leftovers,
    /// The carry for the next `--state` run.
    next: Option<Carry>,
}

/// The pass: the detection rules, and the suspects' lineage watch beside them.
fn run_pass(
    resolved: &Resolved,
    inputs: &[Input],
    seed: Option<u64>,
    incremental: Option<Incremental>,
    quiet: bool,
) -> Result<Pass, CommandError> {
    let tenants = &resolved.analysis.tenants.map;
    let detector = Detector::new(&resolved.rules, resolved.pass.caps);
    let lineage = Lineage::new(
        Vec::new(),
        tenants,
        seed.unwrap_or_else(super::blast::rand_seed),
    );
    // The same identity joins as `blast`, so a suspect's blast command finds what it found.
    let watch = Watch {
        lineage: lineage
            .across(if inputs.len() > 1 {
                Devices::Several
            } else {
                Devices::One
            })
            .leases(Leases::Skip)
            .sharing(Sharing::Workers),
    };
    let progress = Progress::start(total_bytes(inputs), quiet);
    // The ranking needs only the watch's state: it runs once the result is built, on the
    // scan's pool.
    let scanned = scan::run_then(
        inputs,
        &resolved.pass,
        Analysers {
            detector: &detector,
            tenants,
            ext: &watch,
            progress: Some(&progress.counter),
        },
        incremental,
        |state| suspects::rank_keeping(state, tenants, &resolved.blast_command),
    )?;
    drop(progress);
    let (suspects, leftovers) = scanned.ext;
    Ok(Pass {
        result: scanned.result,
        suspects,
        leftovers,
        next: scanned.carry,
    })
}

fn build_report(
    args: &ScanArgs,
    resolved: &Resolved,
    result: ScanResult,
    suspects: Suspects,
    session: &Session,
    now: Timestamp,
) -> ScanReport {
    let tenants = &resolved.analysis.tenants;
    ScanReport::build(
        result,
        ReportContext {
            generated_at: now,
            window: resolved.pass.window,
            settings: Settings {
                gap_seconds: resolved.pass.gap.as_secs_f64(),
                widespread_threshold: resolved.analysis.widespread,
                tenant_patterns: tenants.patterns.clone(),
                inferred_tenant_patterns: Vec::new(), // the scan's, set by ScanReport::build
                excluded_tenants: tenants.excluded.clone(),
                rules: resolved.rules.rules().len(),
                max_readers: resolved.pass.readers.as_setting(),
            },
            max_malformed: args.input.max_malformed,
            incremental: session.info(),
            suspects,
        },
    )
}

/// Runs `f` on a pool of `threads` threads, where the renderers cut long lists into chunks
/// rendered side by side (`report::parallel`); with one thread, on this one.
pub(super) fn on_pool<R: Send>(
    threads: usize,
    f: impl FnOnce() -> Result<R, CommandError> + Send,
) -> Result<R, CommandError> {
    if threads < 2 {
        return f();
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("blastradius-report-{i}"))
        .build()
        .map_err(scan::ScanError::from)?;
    pool.install(f)
}

/// Writes the report to `--output` (standard output by default).
fn write_report(report: &ScanReport, args: &ScanArgs, global: Global) -> Result<(), CommandError> {
    let out = OutputPlan::open(args.output.output.as_deref(), global.color)?;
    let format = out.format(
        args.output.format,
        DefaultFormat {
            terminal: Format::Text,
            piped: Format::Json,
        },
    );
    let color = out.color;
    out.write(|w| report::render_scan(report, format, color, w))
}

/// Writes the findings not alerted on before to `--alerts`, if given; returns the memory of
/// what was alerted on, for the state.
fn write_alerts(
    report: &ScanReport,
    args: &ScanArgs,
    global: Global,
    mut memory: AlertMemory,
) -> Result<AlertMemory, CommandError> {
    if let Some(dest) = &args.incremental.alerts {
        let alerts = alerts::new_alerts(report, &mut memory);
        let out = OutputPlan::open(
            (dest != "-").then(|| Path::new(dest.as_str())),
            global.color,
        )?;
        out.write(|w| alerts::write(&alerts, args.incremental.alert_format, report, w))?;
    }
    Ok(memory)
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
