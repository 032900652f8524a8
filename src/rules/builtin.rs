//! The built-in rule pack, embedded at build time from `queries/rules/*.yml` (see `build.rs`),
//! so a bare binary needs no files on disk.

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The embedded `(file name, YAML)` pairs, sorted by file name.
pub(crate) fn sources() -> Vec<(String, String)> {
    BUILTIN
        .iter()
        .map(|(name, text)| ((*name).to_string(), (*text).to_string()))
        .collect()
}
