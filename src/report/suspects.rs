//! The suspects in the terminal summary and in the incident report.

use std::io::Write;

use super::incident::{Line, Table, num, time};
use super::sanitize::terminal as t;
use super::text::{Color, paint};
use crate::suspects::Suspect;

/// Suspects shown in the terminal summary.
pub const TEXT_SUSPECTS: usize = 5;
/// Reasons shown per suspect in the terminal summary.
const TEXT_REASONS: usize = 4;

/// Who the suspect is, in a few words: display name, role or user, login address.
pub fn who(s: &Suspect) -> String {
    let mut w = s
        .display_name
        .clone()
        .unwrap_or_else(|| "unknown token".into());
    if let Some(r) = &s.role {
        w.push_str(&format!(" (role {r})"));
    } else if let Some(u) = &s.user {
        w.push_str(&format!(" (user {u})"));
    }
    if let Some(a) = s.login_address.as_ref().or(s.addresses.first()) {
        w.push_str(&format!(" from {a}"));
    }
    w
}

/// The top suspects, each with its reasons and its `blast` command.
pub fn write_text(suspects: &[Suspect], color: Color, w: &mut dyn Write) -> std::io::Result<()> {
    if suspects.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "\n{}",
        paint(color, "SUSPECTS (lineage roots, most evidence first)", "1")
    )?;
    for s in suspects.iter().take(TEXT_SUSPECTS) {
        writeln!(
            w,
            "{:>2}. score {:<3} {} · {} token(s) · {} tenant(s) · {} secret(s) · {} denied",
            s.rank,
            s.score,
            paint(color, &t(&who(s)), "1"),
            s.tokens,
            s.tenants.len(),
            s.secrets,
            s.denied
        )?;
        for r in s.reasons.iter().take(TEXT_REASONS) {
            writeln!(w, "      +{:<3} {}", r.points, t(&r.text))?;
        }
        writeln!(w, "      next: {}", t(&s.blast_command))?;
    }
    Ok(())
}

/// The suspects table of the incident report.
pub fn table(suspects: &[Suspect], total: usize) -> Table {
    let rows = suspects
        .iter()
        .map(|s| {
            let reasons = s
                .reasons
                .iter()
                .map(|r| format!("+{} {}", r.points, r.text))
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                num(s.rank),
                num(s.score),
                Line::default().c(who(s)),
                Line::default().c(&s.accessor),
                num(s.tokens),
                num(s.tenants.len()),
                time(s.first_seen),
                Line::text(reasons),
                Line::default().c(&s.blast_command),
            ]
        })
        .collect();
    let mut tb = Table::new(
        "Suspects",
        vec![
            "Rank", "Score", "Actor", "Accessor", "Tokens", "Tenants", "First seen", "Why",
            "Next step",
        ],
        rows,
    )
    .caption(
        "Lineage roots (a login and every token created from it) ranked by the evidence against them; run the command of the first suspect for its blast radius and rotation plan.",
    );
    tb.total = total.max(tb.total);
    tb
}
