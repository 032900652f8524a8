//! `blastradius rules list` and `blastradius rules lint`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output::write_result;
use super::{CommandError, Exit};
use crate::report::sanitize::terminal as t;
use crate::rules::{DiagnosticLevel, RuleKind, RuleSet, lint};

/// `rules list`: the rules in force (built-in plus `--rules` directories).
pub fn list(dirs: &[PathBuf], json: bool) -> Result<Exit, CommandError> {
    let mut rules = RuleSet::builtin()?;
    for d in dirs {
        rules = rules.with_dir(d)?;
    }
    let mut out = std::io::stdout().lock();
    let written = if json {
        let items: Vec<serde_json::Value> = rules
            .rules()
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id, "title": m.title, "level": m.level, "severity": m.severity,
                    "kind": match m.kind { RuleKind::Entry => "event", RuleKind::Correlation => "correlation" },
                    "reports": m.alerts && m.severity.is_some(), "status": m.status, "source": m.source,
                    "references": m.references,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &items)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        rules.rules().iter().try_for_each(|m| {
            let sev = m.severity.map_or("-", |s| s.as_str());
            let kind = match m.kind {
                RuleKind::Entry => "event",
                RuleKind::Correlation => "correlation",
            };
            writeln!(
                out,
                "{sev:<3} {kind:<11} {} {} ({})",
                m.id,
                t(&m.title),
                t(&m.source)
            )
        })
    };
    write_result(written, "-")?;
    Ok(Exit::Clean)
}

/// `rules lint`: parses and compiles rule files; problems are printed as `file:line:col: level: message`.
/// Exit 1 when there are errors (or warnings with `deny_warnings`).
pub fn lint_paths(paths: &[PathBuf], deny_warnings: bool) -> Result<Exit, CommandError> {
    let mut srcs = Vec::new();
    for p in paths {
        collect(p, &mut srcs)?;
    }
    if srcs.is_empty() {
        return Err(CommandError::Arg {
            flag: "rules lint",
            message: "no .yml or .yaml rule files found".into(),
        });
    }
    let diags = lint(&srcs);
    let mut err = std::io::stderr().lock();
    for d in &diags {
        let _ = writeln!(err, "{}", t(&d.to_string()));
    }
    let errors = diags
        .iter()
        .filter(|d| d.level == DiagnosticLevel::Error)
        .count();
    let warnings = diags.len() - errors;
    let _ = writeln!(
        err,
        "{} file(s): {errors} error(s), {warnings} warning(s)",
        srcs.len()
    );
    Ok(if errors > 0 || (deny_warnings && warnings > 0) {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

fn collect(p: &Path, out: &mut Vec<(String, String)>) -> Result<(), CommandError> {
    // Reading a rule file is input, not output: a usage error (exit 2) like `--rules`.
    let io = |source| {
        CommandError::Rules(crate::rules::RuleError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(io)?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            let yaml = e.extension().is_some_and(|x| x == "yml" || x == "yaml");
            if e.is_dir() || yaml {
                collect(&e, out)?;
            }
        }
        return Ok(());
    }
    let text = std::fs::read_to_string(p).map_err(io)?;
    out.push((p.display().to_string(), text));
    Ok(())
}
