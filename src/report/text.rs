//! The terminal summary: scope, severity, findings, gaps and top secrets on one screen.

use std::io::Write;

use comfy_table::{Cell, Color as TColor, ContentArrangement, Table, presets};

use super::ScanReport;
use super::sanitize::terminal as t;
use crate::detect::Actor;
use crate::model::{Severity, Timestamp};
use crate::scope::BreachScope;

/// Whether to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// ANSI colours.
    On,
    /// Plain text.
    Off,
}

const MAX_FINDINGS: usize = 15;
const MAX_GAPS: usize = 10;
const MAX_SECRETS: usize = 10;
const MAX_TENANTS_INLINE: usize = 12;

/// Table width when the terminal's is unknown or 0 (output piped, `script`, some CI consoles):
/// without it comfy-table squeezes every column to one character.
pub const FALLBACK_WIDTH: u16 = 100;

pub(crate) fn table(color: Color) -> Table {
    let mut tb = Table::new();
    // Asked before `force_no_tty`, which hides the terminal's width.
    let width = tb.width().filter(|w| *w > 0).unwrap_or(FALLBACK_WIDTH);
    tb.load_style(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    match color {
        Color::On => tb.enforce_styling(),
        Color::Off => tb.force_no_tty(),
    };
    tb
}

fn sev_color(s: Severity) -> TColor {
    match s {
        Severity::P0 => TColor::Red,
        Severity::P1 => TColor::Magenta,
        Severity::P2 => TColor::Yellow,
        Severity::P3 => TColor::Cyan,
    }
}

pub(crate) fn paint(color: Color, s: &str, code: &str) -> String {
    match color {
        Color::On => format!("\x1b[{code}m{s}\x1b[0m"),
        Color::Off => s.to_string(),
    }
}

/// A time for a table cell: UTC to the millisecond, on one line (`2026-11-27 12:20:28.279Z`).
/// The JSON report keeps Vault's nanoseconds.
pub(crate) fn time(t: Option<Timestamp>) -> String {
    let Some(t) = t else {
        return "-".to_string();
    };
    let nanos = t.0.rem_euclid(1_000_000_000) as u32;
    match chrono::DateTime::from_timestamp(t.seconds(), nanos) {
        Some(dt) => dt.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string(),
        None => t.to_rfc3339(),
    }
}

/// Keeps the columns `cols` (times, paths, commands) on one line: their cells are never wrapped.
pub(crate) fn keep_whole(tb: &mut Table, cols: &[usize]) {
    for &i in cols {
        if let Some(c) = tb.column_mut(i) {
            c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
}

/// A correlation group for the WHO column: the value, not the field name.
fn group_who(group: &[(String, String)]) -> String {
    group
        .iter()
        .map(|(k, v)| match k.as_str() {
            "request.remote_address" => format!("from {}", t(v)),
            _ => t(v).into_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn actor(a: &Actor) -> String {
    let who = a
        .display_name
        .as_deref()
        .or(a.login_user.as_deref())
        .unwrap_or("unauthenticated");
    match &a.remote_address {
        Some(ip) => format!("{} @ {}", t(who), t(ip)),
        None => t(who).into_owned(),
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn bytes_label(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Writes the one-screen summary.
pub fn write_scan(r: &ScanReport, color: Color, w: &mut dyn Write) -> std::io::Result<()> {
    let bytes_read: u64 = r.inputs.iter().map(|i| i.bytes).sum();
    writeln!(
        w,
        "{} {} · scan · {}",
        paint(color, "blastradius", "1"),
        r.tool.version,
        r.incident_id
    )?;
    writeln!(
        w,
        "Inputs     {} file(s), {}, {} entries ({} → {})",
        r.inputs.len(),
        bytes_label(bytes_read),
        thousands(r.stats.entries),
        time(r.first_entry),
        time(r.last_entry)
    )?;
    match r.severity {
        Some(s) => {
            let label = format!("{s} {}", s.label());
            writeln!(
                w,
                "Severity   {} — respond within {}",
                paint(color, &label, "1;31"),
                s.response_time()
            )?
        }
        None => writeln!(w, "Severity   none — no finding")?,
    }
    let scope = r.breach_scope.as_str().to_uppercase();
    let scope = match r.breach_scope {
        BreachScope::None => scope,
        _ => paint(color, &scope, "1"),
    };
    writeln!(
        w,
        "Scope      {scope}: {} affected tenant(s) (widespread above {})",
        r.affected_tenants.len(),
        r.settings.widespread_threshold
    )?;
    writeln!(
        w,
        "Activity   {} suspicious entries · {} secret path(s) read · {} gap(s), {} unexplained · {} malformed line(s)",
        thousands(r.suspicious_entries),
        thousands(r.accessed_secrets as u64),
        r.gaps.len(),
        r.unexplained_gaps,
        thousands(r.stats.malformed_lines)
    )?;
    if !r.affected_tenants.is_empty() {
        let shown: Vec<_> = r
            .affected_tenants
            .iter()
            .take(MAX_TENANTS_INLINE)
            .map(|x| t(x).into_owned())
            .collect();
        let more = r.affected_tenants.len().saturating_sub(MAX_TENANTS_INLINE);
        let suffix = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        writeln!(w, "Tenants    {}{suffix}", shown.join(", "))?;
    }
    if !r.unattributed_secrets.is_empty() {
        writeln!(
            w,
            "No tenant  {} secret(s) read map to no tenant (see --tenant-pattern, --tenant-fallback): {}",
            r.unattributed_secrets.len(),
            r.unattributed_secrets
                .iter()
                .take(MAX_TENANTS_INLINE)
                .map(|x| t(x).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    inferred_layout(&r.settings.inferred_tenant_patterns, w)?;
    super::suspects::write_text(&r.suspects, color, w)?;
    findings(r, color, w)?;
    gaps(r, color, w)?;
    secrets(r, color, w)?;
    notes(r, w)
}

fn findings(r: &ScanReport, color: Color, w: &mut dyn Write) -> std::io::Result<()> {
    if r.findings.is_empty() {
        return Ok(());
    }
    writeln!(w, "\n{}", paint(color, "FINDINGS", "1"))?;
    let mut tb = table(color);
    tb.set_header(vec![
        "SEV",
        "FINDING",
        "COUNT",
        "FIRST SEEN",
        "LAST SEEN",
        "WHO",
    ]);
    for f in r.findings.iter().take(MAX_FINDINGS) {
        let who = if f.group.is_empty() {
            let mut s: Vec<String> = f.actors.iter().take(2).map(actor).collect();
            if f.actors_total > 2 {
                s.push(format!("+{} more", f.actors_total - 2));
            }
            s.join(", ")
        } else {
            group_who(&f.group)
        };
        tb.add_row(vec![
            Cell::new(f.severity.as_str()).fg(sev_color(f.severity)),
            Cell::new(t(&f.title)),
            Cell::new(thousands(f.count)),
            Cell::new(time(f.first_seen)),
            Cell::new(time(f.last_seen)),
            Cell::new(who),
        ]);
    }
    keep_whole(&mut tb, &[3, 4]);
    writeln!(w, "{tb}")?;
    if r.findings.len() > MAX_FINDINGS {
        writeln!(
            w,
            "… {} more finding(s): use --format json",
            r.findings.len() - MAX_FINDINGS
        )?;
    }
    Ok(())
}

fn gaps(r: &ScanReport, color: Color, w: &mut dyn Write) -> std::io::Result<()> {
    if r.gaps.is_empty() {
        return Ok(());
    }
    writeln!(w, "\n{}", paint(color, "AUDIT GAPS", "1"))?;
    let mut tb = table(color);
    tb.set_header(vec![
        "KIND",
        "START",
        "END",
        "LENGTH",
        "EXPLAINED BY",
        "WHERE",
    ]);
    let mut ordered: Vec<_> = r.gaps.iter().collect();
    ordered.sort_by_key(|g| (g.explained_by.is_some(), g.start));
    for g in ordered.iter().take(MAX_GAPS) {
        let len = g
            .seconds
            .map_or_else(|| "-".to_string(), |s| format!("{s:.0}s"));
        let explained = match g.explained_by {
            Some(e) => Cell::new(e),
            None => Cell::new("UNEXPLAINED").fg(TColor::Red),
        };
        let at = g.evidence.first().map_or_else(String::new, |l| {
            t(&format!("{}:{}", l.file, l.line)).into_owned()
        });
        tb.add_row(vec![
            Cell::new(g.kind.as_str()),
            Cell::new(time(g.start)),
            Cell::new(time(g.end)),
            Cell::new(len),
            explained,
            Cell::new(at),
        ]);
    }
    keep_whole(&mut tb, &[1, 2]);
    writeln!(w, "{tb}")?;
    if r.gaps.len() > MAX_GAPS {
        writeln!(
            w,
            "… {} more gap(s): use --format json",
            r.gaps.len() - MAX_GAPS
        )?;
    }
    Ok(())
}

fn secrets(r: &ScanReport, color: Color, w: &mut dyn Write) -> std::io::Result<()> {
    if r.secrets.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "\n{}",
        paint(color, "SECRETS READ (most read first)", "1")
    )?;
    let mut tb = table(color);
    tb.set_header(vec![
        "SECRET",
        "KIND",
        "TENANT",
        "READS",
        "READERS",
        "LAST READ",
    ]);
    let mut top: Vec<_> = r.secrets.iter().collect();
    top.sort_by(|a, b| b.reads.cmp(&a.reads).then_with(|| a.path.cmp(&b.path)));
    for s in top.iter().take(MAX_SECRETS) {
        tb.add_row(vec![
            t(&crate::redact::path(&s.secret)).into_owned(),
            s.kind.as_str().to_string(),
            s.tenant
                .as_deref()
                .map_or_else(|| "-".to_string(), |x| t(x).into_owned()),
            thousands(s.reads),
            thousands(s.readers_total as u64),
            time(s.last_read),
        ]);
    }
    // Paths whole: a wrapped path cannot be copied, and wrapping can split an escape.
    keep_whole(&mut tb, &[0, 5]);
    writeln!(w, "{tb}")?;
    if r.secrets.len() > MAX_SECRETS {
        writeln!(
            w,
            "… {} more secret path(s): use --format json",
            r.secrets.len() - MAX_SECRETS
        )?;
    }
    Ok(())
}

fn notes(r: &ScanReport, w: &mut dyn Write) -> std::io::Result<()> {
    let mut notes = Vec::new();
    for i in r.inputs.iter().filter(|i| i.error.is_some()) {
        notes.push(format!(
            "input incomplete: {}",
            t(i.error.as_deref().unwrap_or(""))
        ));
    }
    if r.stats.malformed_lines > 0 {
        let first = r.malformed.first().map_or_else(String::new, |m| {
            format!(
                " (first: {}:{} byte {}: {})",
                t(&m.location.file),
                m.location.line,
                m.location.offset,
                t(&m.message)
            )
        });
        notes.push(format!(
            "{} malformed line(s) skipped{first}",
            thousands(r.stats.malformed_lines)
        ));
    }
    if r.stats.duplicates > 0 {
        notes.push(format!(
            "{} entries seen in more than one input counted once",
            thousands(r.stats.duplicates)
        ));
    }
    if r.stats.outside_window > 0 {
        notes.push(format!(
            "{} entries outside --since/--until skipped",
            thousands(r.stats.outside_window)
        ));
    }
    if !r.complete {
        notes.push("results are partial: the input was incomplete (exit code 3)".to_string());
    }
    if !notes.is_empty() {
        writeln!(w)?;
        for n in notes {
            writeln!(w, "note: {n}")?;
        }
    }
    Ok(())
}

/// The `Layout` line: which tenant patterns were inferred, as the flags that give the same
/// tenants (mount names come from the log: shell-quoted, then escaped for the terminal).
pub(crate) fn inferred_layout(patterns: &[String], w: &mut dyn Write) -> std::io::Result<()> {
    if patterns.is_empty() {
        return Ok(());
    }
    let flags: Vec<String> = patterns
        .iter()
        .map(|p| format!("--tenant-pattern {}", crate::blast::sh(p)))
        .collect();
    writeln!(
        w,
        "Layout     tenants inferred below a constant segment, as with: {} (--no-tenant-inference keeps the first segment)",
        t(&flags.join(" "))
    )
}
