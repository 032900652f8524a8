//! A directory of notices: one Markdown file per tenant and an index.
//!
//! Tenant names come from request paths a compromised client chose, so a file name is built,
//! never taken: only `[A-Za-z0-9._-]` survives, a leading dot is dropped (no `..`, no hidden
//! files), and a name that changed on the way, or that collides with another once case is
//! ignored (macOS and Windows file systems), gets a hash of the real name. Files are written to
//! a temporary file in the directory and renamed into place: a symbolic link planted at a
//! notice's name is replaced, never followed.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::NotifyError;

/// The index's name; notices are `notice-<tenant>.md`, so no tenant can take it.
pub const INDEX_FILE: &str = "index.md";
const MAX_STEM: usize = 64;

fn short_hash(s: &str) -> String {
    Sha256::digest(s.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file stem of a tenant: safe characters only, at most 64 bytes.
pub fn safe_stem(tenant: &str) -> String {
    let mapped: String = tenant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches('.');
    let mut stem: String = trimmed.chars().take(MAX_STEM).collect();
    if stem.is_empty() {
        stem.push_str("tenant");
    }
    stem
}

/// One file name per tenant, in order, distinct even ignoring case.
pub fn file_names(tenants: &[&str]) -> Vec<String> {
    let stems: Vec<String> = tenants.iter().map(|t| safe_stem(t)).collect();
    let mut seen_lower: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &stems {
        *seen_lower.entry(s.to_ascii_lowercase()).or_default() += 1;
    }
    let mut taken = BTreeSet::new();
    tenants
        .iter()
        .zip(&stems)
        .map(|(tenant, stem)| {
            let shared = seen_lower[&stem.to_ascii_lowercase()] > 1;
            let base = if stem != tenant || shared {
                format!("notice-{stem}-{}", short_hash(tenant))
            } else {
                format!("notice-{stem}")
            };
            // Hash prefixes can collide too; a counter settles it.
            let mut name = format!("{base}.md");
            let mut n = 2;
            while !taken.insert(name.to_ascii_lowercase()) {
                name = format!("{base}-{n}.md");
                n += 1;
            }
            name
        })
        .collect()
}

/// Creates `dir` if needed (mode 0700); refuses a symbolic link or a non-directory.
pub fn prepare_dir(dir: &Path) -> Result<(), NotifyError> {
    let err = |source| NotifyError::Io {
        path: dir.display().to_string(),
        source,
    };
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(NotifyError::Dir {
            path: dir.display().to_string(),
            why: "is a symbolic link (give the directory it names)",
        }),
        Ok(m) if !m.is_dir() => Err(NotifyError::Dir {
            path: dir.display().to_string(),
            why: "is not a directory",
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir).map_err(err)
        }
        Err(e) => Err(err(e)),
    }
}

/// Writes `text` to `dir/name` (mode 0600) by renaming a temporary file over it.
pub fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), NotifyError> {
    let target = dir.join(name);
    let err = |source| NotifyError::Io {
        path: target.display().to_string(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    if !text.ends_with('\n') {
        tmp.write_all(b"\n").map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(&target).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe() {
        for hostile in [
            "../../etc/passwd",
            "..",
            ".",
            "a/b",
            "a\\b",
            "\x1b[31mred",
            "x\0y",
            "",
        ] {
            let s = safe_stem(hostile);
            assert!(!s.is_empty());
            assert!(!s.starts_with('.'), "{s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
                "{s}"
            );
        }
        assert_eq!(safe_stem("acme-eu"), "acme-eu");
        assert_eq!(safe_stem(&"x".repeat(300)).len(), MAX_STEM);
    }

    #[test]
    fn names_are_distinct_ignoring_case() {
        let tenants = ["acme", "ACME", "a/b", "a_b", "acme2", "index"];
        let names = file_names(&tenants);
        let lower: BTreeSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(lower.len(), tenants.len(), "{names:?}");
        // A name that is already safe and unique is kept as it is.
        assert_eq!(names[4], "notice-acme2.md");
        assert_eq!(names[5], "notice-index.md");
        // `a/b` and `a_b` share a stem: both carry the hash of their real name.
        assert!(names[2].starts_with("notice-a_b-"), "{}", names[2]);
        assert!(names[3].starts_with("notice-a_b-"), "{}", names[3]);
        assert!(names[0].starts_with("notice-acme-") && names[1].starts_with("notice-ACME-"));
    }
}
