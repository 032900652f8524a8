//! `blastradius rules lint`: every error and warning of a set of rule files.

use super::error::Diagnostic;

/// Loads `srcs` as one rule set and returns all diagnostics (errors and warnings), sorted by
/// file, line and column. An empty result means the rules load cleanly.
pub fn lint(srcs: &[(String, String)]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let _ = super::compile(
        &[srcs.iter().map(super::RuleFile::yaml).collect()],
        &mut diags,
    );
    diags.sort();
    diags.dedup();
    diags
}
