//! The built-in rule pack, embedded at build time from `queries/rules/*.yml` (see `build.rs`),
//! so a bare binary needs no files on disk. Each file comes with its documents parsed by the
//! build ([`super::prebuilt`]); the YAML stays for the tests that compare the two.

use super::{RuleBody, RuleFile};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The embedded files, sorted by file name, their documents parsed at build time.
pub(super) fn files() -> Vec<RuleFile> {
    BUILTIN
        .iter()
        .map(|(name, _, tree)| RuleFile {
            name: (*name).to_string(),
            body: RuleBody::Prebuilt(tree),
        })
        .collect()
}

/// The embedded `(file name, YAML)` pairs, sorted by file name.
#[cfg(test)]
pub(crate) fn sources() -> Vec<(String, String)> {
    BUILTIN
        .iter()
        .map(|(name, text, _)| ((*name).to_string(), (*text).to_string()))
        .collect()
}
