//! `blastradius export` and `blastradius query`: the scan pass writing the `events` table, and
//! SQL over it.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::progress::{Progress, total_bytes};
use super::resolve::{self, DefaultFormat, OutputPlan, TenantSetup};
use super::{CommandError, Exit, Global};
use crate::cli::{EventsArgs, ExportArgs, QueryArgs, TimeArgs};
use crate::detect::{Caps, Detector};
use crate::export::{self, ExportFormat, Exporter, Target, Written};
use crate::report::table::{self, TableFormat};
use crate::rules::RuleSet;
use crate::scan::{self, Analysers, ScanResult, ScanSettings};
use crate::source::{DeviceMap, Input};
use crate::tenant::TenantMap;

/// Batches in flight per worker thread between the scan and the writer.
const BATCHES_PER_THREAD: usize = 2;

/// What one export pass needs.
struct Pass<'a> {
    inputs: &'a [Input],
    /// The audit device of each input.
    devices: DeviceMap,
    settings: ScanSettings,
    tenants: TenantMap,
    quiet: bool,
}

impl Pass<'_> {
    /// Runs the scan with the exporter and the writer thread side by side.
    fn run(
        &self,
        format: ExportFormat,
        target: Target,
    ) -> Result<(ScanResult, Written), CommandError> {
        let rules = RuleSet::from_sources(&[])?;
        let detector = Detector::new(&rules, Caps::default());
        let failed = AtomicBool::new(false);
        let threads = self.settings.worker_threads();
        let files = self.inputs.iter().map(|i| i.display.clone()).collect();
        let devices = (0..self.inputs.len() as u32)
            .map(|i| {
                self.devices
                    .of(i)
                    .map_or_else(String::new, |d| d.name.clone())
            })
            .collect();
        let progress = Progress::start(total_bytes(self.inputs), self.quiet);
        std::thread::scope(|s| {
            let (exporter, receiver) = Exporter::new(
                files,
                devices,
                &self.tenants,
                &failed,
                threads * BATCHES_PER_THREAD,
            );
            let writer = s.spawn(|| export::write_all(receiver, format, target, &failed));
            let scanned = scan::run(
                self.inputs,
                &self.settings,
                Analysers {
                    detector: &detector,
                    tenants: &self.tenants,
                    ext: &exporter,
                    progress: Some(&progress.counter),
                },
                None,
            );
            // Every sender must be gone before the writer can see the end of the stream.
            let scanned = scanned.map(|scanned| {
                drop(scanned.ext);
                scanned.result
            });
            drop(exporter);
            let written = writer
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            Ok((scanned?, written?))
        })
    }
}

fn pass<'a>(inputs: &'a [Input], args: &EventsArgs, quiet: bool) -> Result<Pass<'a>, CommandError> {
    let time = TimeArgs {
        since: args.since.clone(),
        until: args.until.clone(),
        gap: None,
    };
    Ok(Pass {
        inputs,
        devices: DeviceMap::assign(inputs, &args.devices),
        settings: resolve::scan_settings(
            &args.input,
            resolve::window(&time, super::now())?,
            resolve::DEFAULT_GAP,
            &args.devices,
        )?,
        tenants: TenantSetup::raw(&args.tenants)?,
        quiet,
    })
}

/// Lists skipped lines on stderr (file:line, byte offset); the exit code says whether the input
/// was complete.
fn report_input(result: &ScanResult, max_malformed: u64) -> Exit {
    for m in result.malformed.iter().take(10) {
        eprintln!(
            "blastradius: skipped {}:{} (byte {}): {}",
            crate::report::sanitize::terminal(&m.location.file),
            m.location.line,
            m.location.offset,
            m.kind
        );
    }
    let skipped = result.stats.malformed_lines;
    if skipped as usize > result.malformed.len().min(10) {
        eprintln!("blastradius: {skipped} malformed lines skipped in all");
    }
    for i in &result.inputs {
        if let Some(e) = &i.error {
            eprintln!(
                "blastradius: {}: {e}",
                crate::report::sanitize::terminal(&i.path)
            );
        }
    }
    if !result.input_incomplete() && skipped <= max_malformed {
        Exit::Clean
    } else {
        Exit::Incomplete
    }
}

/// Runs `export`.
pub fn run_export(args: &ExportArgs, global: Global) -> Result<Exit, CommandError> {
    let inputs = resolve::found_inputs(&args.paths, &[Some(args.output.as_path())])?;
    let pass = pass(&inputs, &args.events, global.quiet)?;
    let target = export::target_for(&args.output, args.format);
    let (result, written) = pass.run(args.format, target)?;
    let exit = report_input(&result, args.events.input.max_malformed);
    if !global.quiet {
        eprintln!(
            "blastradius: {} rows from {} lines in {} file{} -> {} ({} file{})",
            written.rows,
            result.stats.lines,
            inputs.len(),
            if inputs.len() == 1 { "" } else { "s" },
            args.output.display(),
            written.files.len(),
            if written.files.len() == 1 { "" } else { "s" },
        );
    }
    Ok(exit)
}

/// Runs `query`.
pub fn run_query(args: &QueryArgs, global: Global) -> Result<Exit, CommandError> {
    if args.list {
        for h in crate::sql::hunts() {
            println!("{:<28} {}", h.name, h.summary);
        }
        return Ok(Exit::Clean);
    }
    let (sql, paths) = query_text(args)?;
    // Say so before reading and exporting every input for an engine that is not there.
    if !crate::sql::ENGINE {
        return Err(crate::sql::SqlError::NotBuilt.into());
    }
    if paths.is_empty() {
        return Err(CommandError::Arg {
            flag: "PATH",
            message: "no audit log given".into(),
        });
    }
    let inputs = resolve::found_inputs(paths, &[args.output.as_deref()])?;
    let pass = pass(&inputs, &args.events, global.quiet)?;
    let dir = tempfile::tempdir().map_err(|source| CommandError::Output {
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let table = dir.path().join("events.arrow");
    let (result, _) = pass.run(ExportFormat::Arrow, Target::File(table.clone()))?;
    let exit = report_input(&result, args.events.input.max_malformed);
    let batches = crate::sql::execute(&table, &sql)?;
    let out = OutputPlan::open(args.output.as_deref(), global.color)?;
    let format = out.format(
        args.format,
        DefaultFormat {
            terminal: TableFormat::Text,
            piped: TableFormat::Csv,
        },
    );
    let color = out.color;
    out.write(|w| table::write(&batches, format, color, w))?;
    if exit == Exit::Incomplete && !global.quiet && std::io::stderr().is_terminal() {
        eprintln!("blastradius: input incomplete; results cover the lines that parsed");
    }
    Ok(exit)
}

/// The SQL to run and the audit logs, from the positional arguments and --file/--hunt.
fn query_text(args: &QueryArgs) -> Result<(String, &[String]), CommandError> {
    let arg = |message: String| CommandError::Arg {
        flag: "query",
        message,
    };
    if let Some(name) = &args.hunt {
        let hunt = crate::sql::hunt(name)
            .ok_or_else(|| arg(format!("no built-in hunt {name:?} (see --list)")))?;
        return Ok((hunt.sql.to_string(), &args.args));
    }
    if let Some(file) = &args.file {
        let sql = std::fs::read_to_string(file)
            .map_err(|e| arg(format!("cannot read {}: {e}", Path::new(file).display())))?;
        return Ok((sql, &args.args));
    }
    match args.args.split_first() {
        Some((sql, paths)) => Ok((sql.clone(), paths)),
        None => Err(arg("give the SQL, --file or --hunt (see --help)".into())),
    }
}
