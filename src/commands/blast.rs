//! `blastradius blast` and `blastradius rotation-list`: one pass with token lineage, then the
//! blast radius of the pivots and the rotation plan.

use super::incremental::{Session, without_own_files};
use super::progress::{Progress, total_bytes};
use super::resolve::{self, DefaultFormat, OutputPlan, ScopeSettings};
use super::{CommandError, Exit, Global};
use crate::blast::{self, Descendants, Pivots, RotationRules};
use crate::cli::BlastArgs;
use crate::detect::{Caps, Detector};
use crate::lineage::{Devices, IpPivot, Lineage, canonicalize};
use crate::report::Window;
use crate::report::blast::{
    BlastContext, BlastFormat, BlastReport, BlastSettings, ListFormat, render, render_list,
};
use crate::report::devices::device_records;
use crate::rules::RuleSet;
use crate::scan::{self, Analyzers};
use crate::source::{DeviceMap, discover};

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
    session: Session,
    next: Option<crate::scan::Carry>,
    file_progress: Vec<crate::scan::FileProgress>,
}

impl Analysis {
    /// Saves the `--state` file (a no-op without one).
    pub fn commit(self, now: crate::model::Timestamp) -> Result<(), CommandError> {
        self.session
            .commit(self.next, &self.file_progress, Default::default(), now)
    }
}

/// Runs `blast` or `rotation-list`.
pub fn run(args: &BlastArgs, mode: Mode, global: Global) -> Result<Exit, CommandError> {
    let now = super::now();
    let no_policies = args.policy.policies.is_none() && args.policy.vault_addr.is_none();
    if no_policies && matches!(mode, Mode::List(_, blast::Exposure::Reachable)) {
        eprintln!(
            "blastradius: warning: --scope reachable without --policies or --vault-addr lists the read targets only"
        );
    }
    let Analysis {
        report,
        session,
        next,
        file_progress,
    } = analyse(args, global, now)?;
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
            out.write(|w| render(&report, format, color, w))?;
        }
        Mode::List(format, scope) => {
            let targets: Vec<_> = report
                .rotation_targets
                .iter()
                .filter(|t| t.exposure <= scope)
                .cloned()
                .collect();
            out.write(|w| render_list(&targets, format, w))?;
        }
    }
    session.commit(next, &file_progress, Default::default(), now)?;
    for u in &report.pivots.unmatched {
        eprintln!("blastradius: warning: {u} matched nothing in the log");
    }
    Ok(if report.complete {
        Exit::Clean
    } else {
        Exit::Incomplete
    })
}

/// One pass with token lineage over the inputs of `args`, and the blast report of its pivots.
pub(crate) fn analyse(
    args: &BlastArgs,
    global: Global,
    now: crate::model::Timestamp,
) -> Result<Analysis, CommandError> {
    if !args.scope.rules.is_empty() {
        // The pass runs no detection rules (see below): accepting `--rules` would ignore it.
        return Err(CommandError::Arg {
            flag: "--rules",
            message: "blast and rotation-list run no detection rules; the blast radius follows \
                      the pivots. Run `blastradius scan --rules DIR` for findings"
                .into(),
        });
    }
    let scope = ScopeSettings::resolve(&args.scope)?;
    let rotation = RotationRules::new(&scope.rotation).map_err(|e| CommandError::Arg {
        flag: "--config",
        message: e.to_string(),
    })?;
    let pivots = pivots(args)?;
    let p = &args.policy;
    let reach_options = blast::reach_options(
        p.policies.as_deref(),
        p.vault_addr.as_deref(),
        p.inventory.as_deref(),
        &|k| std::env::var(k).ok(),
    )?;
    let window = resolve::window(&args.time, now)?;
    let gap = resolve::gap(&args.time, scope.config_gap.as_ref())?;
    let settings = scan::ScanSettings {
        secret_table: scan::SecretTable::Skip,
        ..resolve::scan_settings(&args.input, window, gap, &args.devices)?
    };
    let mut inputs = without_own_files(
        discover(&args.paths)?,
        &[args.state.as_deref(), args.output.as_deref()],
    );
    // Inputs in path order: evidence is taken from the earliest copy of an event, and "earliest"
    // must not depend on the order the paths were given in.
    inputs.sort_by(|a, b| a.display.cmp(&b.display));
    for (i, input) in inputs.iter_mut().enumerate() {
        input.index = i as u32;
    }
    let (session, inputs, incremental) =
        Session::begin(args.state.as_deref(), "blast", now, inputs)?;
    // Detection rules do not shape the blast radius; an empty set keeps the pass lean.
    let no_rules = RuleSet::from_sources(&[])?;
    let detector = Detector::new(&no_rules, Caps::default());
    let device_map = DeviceMap::assign(&inputs, &args.devices);
    let lineage = Lineage::new(
        pivots.ips.clone(),
        &scope.tenants.map,
        session.seed().unwrap_or_else(rand_seed),
    )
    // Rotated files of one device hold one form per token; only several devices need joining.
    .across(if device_map.devices.len() > 1 {
        Devices::Several
    } else {
        Devices::One
    });
    let progress = Progress::start(total_bytes(&inputs), global.quiet);
    let scan::Scanned {
        result,
        ext: state,
        carry: next,
    } = scan::run(
        &inputs,
        &settings,
        Analyzers {
            detector: &detector,
            tenants: &scope.tenants.map,
            ext: &lineage,
            progress: Some(&progress.counter),
        },
        incremental,
    )?;
    drop(progress);
    let file_progress = result.progress.clone();
    let descendants = if args.no_descendants {
        Descendants::Ignore
    } else {
        Descendants::Follow
    };
    let locator = result.locator.clone();
    let (state, ids) = canonicalize(state);
    let bscope = blast::resolve(
        &state,
        &ids,
        &lineage,
        &pivots,
        descendants,
        &scope.tenants.map,
        &|l| locator.resolve(l),
    );
    let mut targets = blast::rotation_targets(&bscope, &rotation);
    let reach = reach_options
        .map(|o| blast::assess(&state, &bscope, &scope.tenants.map, &o))
        .transpose()?;
    if let Some(r) = &reach {
        blast::add_precautionary(&mut targets, r, &rotation);
    }
    let inferred_tenant_patterns = bscope.tenant_layout.patterns();
    let devices = device_records(&device_map, &inputs, &result.inputs, Some(&state));
    let report = BlastReport::build(
        result,
        bscope,
        targets,
        BlastContext {
            generated_at: now,
            window: Window {
                since: window.since,
                until: window.until,
            },
            settings: BlastSettings {
                widespread_threshold: scope.widespread,
                tenant_patterns: scope.tenants.patterns.clone(),
                inferred_tenant_patterns,
                excluded_tenants: scope.tenants.excluded.clone(),
            },
            max_malformed: args.input.max_malformed,
            devices,
            reach,
        },
    );
    Ok(Analysis {
        report,
        session,
        next,
        file_progress,
    })
}
