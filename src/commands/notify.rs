//! `blastradius notify`: one notice per affected tenant, from a blast analysis of audit logs or
//! from a `blast`/`scan` JSON report (docs/notify.md).

use super::resolve::OutputPlan;
use super::{CommandError, Exit, Global};
use crate::cli::NotifyArgs;
use crate::notify::{
    self, Exposure, Markdown, NoticeFormat, NoticeOptions, NoticeSet, NotifyError, TemplateSource,
};
use crate::report::sanitize::terminal;

/// Paths of unattributed secrets listed on standard error, at most.
const STDERR_PATHS: usize = 20;

fn template(args: &NotifyArgs) -> Result<Option<TemplateSource>, CommandError> {
    let Some(path) = &args.template else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| CommandError::Arg {
        flag: "--template",
        message: format!("{}: {e}", path.display()),
    })?;
    Ok(Some(TemplateSource {
        name: path.display().to_string(),
        text,
    }))
}

fn no_pivot(args: &NotifyArgs) -> bool {
    let p = &args.blast.pivots;
    p.tokens.is_empty()
        && p.accessors.is_empty()
        && p.entities.is_empty()
        && p.ips.is_empty()
        && p.display_names.is_empty()
}

/// The exposure, and the blast analysis when it was made here (its `--state` to commit).
fn exposure(
    args: &NotifyArgs,
    global: Global,
    now: crate::model::Timestamp,
) -> Result<(Exposure, Option<super::blast::Analysis>), CommandError> {
    if let Some(path) = &args.report {
        let text = std::fs::read_to_string(path)
            .map_err(|e| NotifyError::Report(format!("{}: {e}", path.display())))?;
        return Ok((Exposure::from_json(&text)?, None));
    }
    if args.blast.paths.is_empty() {
        return Err(CommandError::Arg {
            flag: "--report",
            message: "give audit logs and a pivot, or --report FILE".into(),
        });
    }
    if no_pivot(args) {
        // A scan's breach scope counts every reader, the expected ones too: notifying on it is
        // a deliberate choice, made by writing the scan report first.
        return Err(CommandError::Arg {
            flag: "--token",
            message: "notify needs a pivot (--token, --accessor, --entity, --ip, --display-name; \
                      `scan` lists suspects with theirs), or a report: `scan -f json -o scan.json` \
                      then `notify --report scan.json` notifies every tenant whose secrets anyone read"
                .into(),
        });
    }
    let analysis = super::blast::analyse(&args.blast, global, now)?;
    for u in &analysis.report.pivots.unmatched {
        eprintln!(
            "blastradius: warning: {} matched nothing in the log",
            terminal(u)
        );
    }
    let value =
        serde_json::to_value(&analysis.report).map_err(|e| NotifyError::Report(e.to_string()))?;
    Ok((Exposure::from_value(value)?, Some(analysis)))
}

fn write_dir(set: &NoticeSet, md: &Markdown, dir: &std::path::Path) -> Result<(), CommandError> {
    // Render everything first: a template error leaves the directory as it was.
    let tenants: Vec<&str> = set.notices.iter().map(|n| n.tenant.as_str()).collect();
    let names = notify::files::file_names(&tenants);
    let texts = set
        .notices
        .iter()
        .map(|n| md.notice(n))
        .collect::<Result<Vec<_>, _>>()?;
    let index = md.index(set, &names)?;
    notify::files::prepare_dir(dir)?;
    for (name, text) in names.iter().zip(&texts) {
        notify::files::write_file(dir, name, text)?;
    }
    notify::files::write_file(dir, notify::files::INDEX_FILE, &index)?;
    Ok(())
}

fn summary(set: &NoticeSet) {
    eprintln!(
        "blastradius: {} notice(s) for incident {}; {} excluded tenant(s) got none",
        set.notices.len(),
        terminal(&set.incident_id),
        set.excluded.len()
    );
    if set.unattributed.is_empty() {
        return;
    }
    eprintln!(
        "blastradius: {} exposed secret(s) have no tenant and were sent to nobody:",
        set.unattributed.len()
    );
    for s in set.unattributed.iter().take(STDERR_PATHS) {
        eprintln!(
            "  {} ({})",
            terminal(&s.path),
            terminal(s.kind.as_deref().unwrap_or("unknown"))
        );
    }
    if set.unattributed.len() > STDERR_PATHS {
        eprintln!("  ... and {} more", set.unattributed.len() - STDERR_PATHS);
    }
}

/// Runs `notify`.
pub fn run(args: &NotifyArgs, global: Global) -> Result<Exit, CommandError> {
    let now = super::now();
    // Compile the template before reading any log: a broken one fails at once.
    let md = match &args.dir {
        Some(_) => Some(Markdown::new(template(args)?)?),
        None => None,
    };
    let (exposure, analysis) = exposure(args, global, now)?;
    let exclude = if args.report.is_some() {
        args.blast.analysis.exclude_tenants.clone()
    } else {
        Vec::new() // the analysis applied them already
    };
    let set = notify::build(
        &exposure,
        &NoticeOptions {
            incident_id: args.incident_id.clone(),
            exclude,
            actions_taken: args.actions_taken.clone(),
        },
    );
    match (&args.dir, &md) {
        (Some(dir), Some(md)) => write_dir(&set, md, dir)?,
        _ => {
            let out = OutputPlan::open(args.blast.output.as_deref(), global.color)?;
            let format = args.format.unwrap_or(NoticeFormat::Ndjson);
            out.write(|w| notify::write_json(&set, format, w))?;
        }
    }
    summary(&set);
    if let Some(a) = analysis {
        a.commit(now)?;
    }
    Ok(if exposure.complete {
        Exit::Clean
    } else {
        Exit::Incomplete
    })
}
