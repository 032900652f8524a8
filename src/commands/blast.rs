//! `blastradius blast` and `blastradius rotation-list`: one pass with token lineage, then the
//! blast radius of the pivots and the rotation plan.

use super::incremental::Session;
use super::progress::{Progress, total_bytes};
use super::resolve::{self, AnalysisSettings, DefaultFormat, OutputPlan};
use super::{CommandError, Exit, Global};
use crate::blast::{
    self, BlastRadius, Descendants, Pivots, Reach, ReachOptions, RotationRules, RotationTarget,
};
use crate::cli::BlastArgs;
use crate::detect::{Caps, Detector};
use crate::lineage::{Devices, IpPivot, Lineage, LineageState, Sharing, canonicalize};
use crate::model::Timestamp;
use crate::report::blast::{
    BlastContext, BlastFormat, BlastReport, BlastSettings, ListFormat, render, render_list,
};
use crate::report::devices::{DeviceRecord, device_records};
use crate::rules::RuleSet;
use crate::scan::{self, Analysers, Incremental, Locator, ScanResult, ScanSettings, Scanned};
use crate::source::{DeviceMap, Input};

/// What to write.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// The full report (`blast`).
    Report(Option<BlastFormat>),
    /// The rotation plan only (`rotation-list`), read targets or also reachable ones.
    List(ListFormat, blast::Exposure),
}

/// The most address pivots one pass tracks.
pub const MAX_IP_PIVOTS: usize = 64;

fn pivots(args: &BlastArgs) -> Result<Pivots, CommandError> {
    let p = &args.pivots;
    if p.ips.len() > MAX_IP_PIVOTS {
        return Err(CommandError::Arg {
            flag: "--ip",
            message: format!("at most {MAX_IP_PIVOTS} addresses or blocks"),
        });
    }
    let ips = p
        .ips
        .iter()
        .map(|s| {
            IpPivot::parse(s).map_err(|e| CommandError::Arg {
                flag: "--ip",
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Pivots {
        tokens: p.tokens.clone(),
        accessors: p.accessors.clone(),
        entities: p.entities.clone(),
        ips,
        display_names: p.display_names.clone(),
    })
}

/// A seed nobody can predict from the log (hash keys must not be collidable by log content).
pub(crate) fn rand_seed() -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::RandomState::default().hash_one(std::time::SystemTime::now())
}

/// A blast report built, with the `--state` session to commit once every output is written.
pub(crate) struct Analysis {
    /// The report.
    pub report: BlastReport,
    /// The joined lineage the report was built from.
    lineage: LineageState,
    session: Session,
    next: Option<crate::scan::Carry>,
    file_progress: Vec<crate::scan::FileProgress>,
}

/// What an analysis leaves once its state is committed: dropping it frees the report and the
/// lineage; a command about to exit may forget it instead.
pub(crate) struct Spent {
    /// The report.
    pub report: BlastReport,
    _lineage: LineageState,
}

impl Analysis {
    /// Saves the `--state` file (a no-op without one).
    pub fn commit(self, now: Timestamp) -> Result<Spent, CommandError> {
        self.session
            .commit(self.next, &self.file_progress, Default::default(), now)?;
        Ok(Spent {
            report: self.report,
            _lineage: self.lineage,
        })
    }
}

/// Runs `blast` or `rotation-list`: analyse (one pass, then the pivots), write the report or the
/// rotation plan, then move the state past this run.
pub fn run(args: &BlastArgs, mode: Mode, global: Global) -> Result<Exit, CommandError> {
    let now = super::now();
    let no_policies = args.policy.policies.is_none() && args.policy.vault_addr.is_none();
    if no_policies && matches!(mode, Mode::List(_, blast::Exposure::Reachable)) {
        eprintln!(
            "blastradius: warning: --scope reachable without --policies or --vault-addr lists the read targets only"
        );
    }
    let analysis = analyse(args, global, now)?;
    let threads = crate::scan::worker_threads(args.input.threads);
    super::scan::on_pool(threads, || write(&analysis.report, args, mode, global))?;
    let spent = analysis.commit(now)?;
    for u in &spent.report.pivots.unmatched {
        eprintln!("blastradius: warning: {u} matched nothing in the log");
    }
    let exit = if spent.report.complete {
        Exit::Clean
    } else {
        Exit::Incomplete
    };
    // Every output is written and flushed, and the process exits next: freeing the lineage of
    // a busy log one allocation at a time would cost millions of instructions for memory the
    // exit returns anyway.
    std::mem::forget(spent);
    Ok(exit)
}

/// Writes the report (`blast`) or the rotation plan (`rotation-list`) to `--output`.
fn write(
    report: &BlastReport,
    args: &BlastArgs,
    mode: Mode,
    global: Global,
) -> Result<(), CommandError> {
    let out = OutputPlan::open(args.output.as_deref(), global.color)?;
    match mode {
        Mode::Report(format) => {
            let format = out.format(
                format,
                DefaultFormat {
                    terminal: BlastFormat::Text,
                    piped: BlastFormat::Json,
                },
            );
            let color = out.color;
            out.write(|w| render(report, format, color, w))
        }
        Mode::List(format, exposure) => {
            let targets: Vec<_> = report
                .rotation_targets
                .iter()
                .filter(|t| t.exposure <= exposure)
                .cloned()
                .collect();
            out.write(|w| render_list(&targets, format, w))
        }
    }
}

/// One pass with token lineage over the inputs of `args`, and the blast report of its pivots:
/// resolve the settings, open the inputs (and the `--state` session), trace the lineage, follow
/// the pivots through it, build the report.
pub(crate) fn analyse(
    args: &BlastArgs,
    global: Global,
    now: Timestamp,
) -> Result<Analysis, CommandError> {
    let resolved = Resolved::resolve(args, now)?;
    let own = [args.state.as_deref(), args.output.as_deref()];
    let inputs = resolve::inputs(&args.paths, &own)?;
    let (session, inputs, incremental) =
        Session::begin(args.state.as_deref(), "blast", now, inputs)?;
    let devices = DeviceMap::assign(&inputs, &args.devices);
    let lineage = lineage(&resolved, &devices, &session);
    let traced = trace(&resolved, &lineage, &inputs, incremental, global.quiet)?;
    let file_progress = traced.result.progress.clone();
    let mut radius = follow(&resolved, &lineage, traced.ext, &traced.result.locator)?;
    let devices = device_records(
        &devices,
        &inputs,
        &traced.result.inputs,
        Some(&radius.state),
    );
    // Kept for the caller to dispose of (see [`Spent`]); the report needs no more of it.
    let state = std::mem::take(&mut radius.state);
    let report = build_report(args, &resolved, traced.result, radius, devices, now);
    Ok(Analysis {
        report,
        lineage: state,
        session,
        next: traced.carry,
        file_progress,
    })
}

/// What `blast` resolved from its arguments and the config file.
struct Resolved {
    /// Tenants and threshold (`--config` and the scope group).
    analysis: AnalysisSettings,
    /// The rotation tiers, the config file's first.
    rotation: RotationRules,
    /// `--token`, `--accessor`, `--entity`, `--ip`, `--display-name`.
    pivots: Pivots,
    /// Whether to follow child tokens (`--no-descendants`).
    descendants: Descendants,
    /// Where policies come from, for what the tokens could reach (`--policies`, `--vault-addr`).
    reach: Option<ReachOptions>,
    /// The pass: reading options, window, gap, devices.
    pass: ScanSettings,
}

impl Resolved {
    fn resolve(args: &BlastArgs, now: Timestamp) -> Result<Resolved, CommandError> {
        reject_rules(args)?;
        let analysis = AnalysisSettings::resolve(&args.analysis)?;
        let rotation = RotationRules::new(&analysis.rotation).map_err(|e| CommandError::Arg {
            flag: "--config",
            message: e.to_string(),
        })?;
        let pivots = pivots(args)?;
        let p = &args.policy;
        let reach = blast::reach_options(
            p.policies.as_deref(),
            p.vault_addr.as_deref(),
            p.inventory.as_deref(),
            &|k| std::env::var(k).ok(),
        )?;
        // The blast report never shows the scan's table of every secret read: skip it.
        let pass = ScanSettings {
            secret_table: crate::scan::SecretTable::Skip,
            ..analysis.pass(&args.input, &args.time, &args.devices, now)?
        };
        Ok(Resolved {
            analysis,
            rotation,
            pivots,
            descendants: if args.no_descendants {
                Descendants::Ignore
            } else {
                Descendants::Follow
            },
            reach,
            pass,
        })
    }
}

/// The pass runs no detection rules (see [`trace`]): accepting `--rules` would ignore it.
fn reject_rules(args: &BlastArgs) -> Result<(), CommandError> {
    if args.analysis.rules.is_empty() {
        return Ok(());
    }
    Err(CommandError::Arg {
        flag: "--rules",
        message: "blast and rotation-list run no detection rules; the blast radius follows \
                  the pivots. Run `blastradius scan --rules DIR` for findings"
            .into(),
    })
}

/// The lineage extension for these inputs, seeded like the state's earlier runs.
fn lineage<'a>(resolved: &'a Resolved, devices: &DeviceMap, session: &Session) -> Lineage<'a> {
    Lineage::new(
        resolved.pivots.ips.clone(),
        &resolved.analysis.tenants.map,
        session.seed().unwrap_or_else(rand_seed),
    )
    // Rotated files of one device hold one form per token; only several devices need joining.
    .across(if devices.devices.len() > 1 {
        Devices::Several
    } else {
        Devices::One
    })
    .sharing(Sharing::Workers)
}

/// The pass with token lineage.
fn trace(
    resolved: &Resolved,
    lineage: &Lineage<'_>,
    inputs: &[Input],
    incremental: Option<Incremental>,
    quiet: bool,
) -> Result<Scanned<LineageState>, CommandError> {
    // Detection rules do not shape the blast radius; an empty set keeps the pass lean.
    let no_rules = RuleSet::from_sources(&[])?;
    let detector = Detector::new(&no_rules, Caps::default());
    let progress = Progress::start(total_bytes(inputs), quiet);
    let scanned = scan::run(
        inputs,
        &resolved.pass,
        Analysers {
            detector: &detector,
            tenants: &resolved.analysis.tenants.map,
            ext: lineage,
            progress: Some(&progress.counter),
        },
        incremental,
    )?;
    drop(progress);
    Ok(scanned)
}

/// The blast radius of the pivots, what to rotate, and what its tokens could reach.
struct Radius {
    /// The lineage, identities joined.
    state: LineageState,
    radius: BlastRadius,
    targets: Vec<RotationTarget>,
    reach: Option<Reach>,
}

/// Follows the pivots through the traced lineage.
fn follow(
    resolved: &Resolved,
    lineage: &Lineage<'_>,
    traced: LineageState,
    locator: &Locator,
) -> Result<Radius, CommandError> {
    let tenants = &resolved.analysis.tenants.map;
    let (state, ids) = canonicalize(traced);
    let radius = blast::resolve(
        &state,
        &ids,
        lineage,
        &resolved.pivots,
        resolved.descendants,
        tenants,
        &|l| locator.resolve(l),
    );
    let mut targets = blast::rotation_targets(&radius, &resolved.rotation);
    let reach = resolved
        .reach
        .as_ref()
        .map(|o| blast::assess(&state, &radius, tenants, o))
        .transpose()?;
    if let Some(r) = &reach {
        blast::add_precautionary(&mut targets, r, &resolved.rotation);
    }
    Ok(Radius {
        state,
        radius,
        targets,
        reach,
    })
}

fn build_report(
    args: &BlastArgs,
    resolved: &Resolved,
    result: ScanResult,
    radius: Radius,
    devices: Vec<DeviceRecord>,
    now: Timestamp,
) -> BlastReport {
    let tenants = &resolved.analysis.tenants;
    let inferred_tenant_patterns = radius.radius.tenant_layout.patterns();
    BlastReport::build(
        result,
        radius.radius,
        radius.targets,
        BlastContext {
            generated_at: now,
            window: resolved.pass.window,
            settings: BlastSettings {
                widespread_threshold: resolved.analysis.widespread,
                tenant_patterns: tenants.patterns.clone(),
                inferred_tenant_patterns,
                excluded_tenants: tenants.excluded.clone(),
            },
            max_malformed: args.input.max_malformed,
            devices,
            reach: radius.reach,
        },
    )
}
