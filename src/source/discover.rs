//! Turning command-line paths into the list of inputs that form one log.
//!
//! Arguments may be files, directories (their audit files, not recursive), quoted globs, or `-`
//! for standard input. Rotated siblings (`audit.log`, `audit.log.1`, `audit.log-20261101.gz`) and
//! logs of several devices or nodes are all inputs of the same scan; each input also gets a
//! *family* name (its path with rotation suffixes removed) so that holes between rotated files can
//! be told apart from quiet periods.

use std::path::{Path, PathBuf};

use super::SourceError;

/// Where an input's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputPath {
    /// A file on disk.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

/// One input of a scan.
#[derive(Clone, Debug)]
pub struct Input {
    /// Position in the scan's input list; evidence refers to inputs by this index.
    pub index: u32,
    /// The path as the user should see it (`-` for stdin).
    pub display: String,
    /// Where to read.
    pub path: InputPath,
    /// The log this file belongs to: its directory and name without rotation suffixes.
    pub family: String,
    /// Where to start reading (incremental scans resume after the last complete line).
    pub resume: Resume,
}

/// A starting point inside an input: byte offset (in the decompressed stream for gzip) and the
/// number of lines before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resume {
    /// Byte offset of the first byte to read.
    pub offset: u64,
    /// Lines before that offset.
    pub line: u64,
}

/// Expands arguments into inputs, in argument order, each file once.
pub fn discover(args: &[String]) -> Result<Vec<Input>, SourceError> {
    let mut files: Vec<InputPath> = Vec::new();
    for arg in args {
        if arg == "-" {
            if !files.contains(&InputPath::Stdin) {
                files.push(InputPath::Stdin);
            }
            continue;
        }
        let p = Path::new(arg);
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                files.extend(dir_audit_files(p)?.into_iter().map(InputPath::File))
            }
            Ok(_) => files.push(InputPath::File(p.to_path_buf())),
            Err(e) if has_glob_chars(arg) && e.kind() == std::io::ErrorKind::NotFound => {
                let matches = expand_glob(arg)?;
                if matches.is_empty() {
                    return Err(SourceError::NoMatch(arg.clone()));
                }
                files.extend(matches.into_iter().map(InputPath::File));
            }
            Err(e) => {
                return Err(SourceError::Open {
                    path: arg.clone(),
                    source: e,
                });
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| match f {
        InputPath::File(p) => seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        InputPath::Stdin => true,
    });
    Ok(files
        .into_iter()
        .enumerate()
        .map(|(i, path)| {
            let display = match &path {
                InputPath::File(p) => p.display().to_string(),
                InputPath::Stdin => "-".to_string(),
            };
            let family = family_of(&display);
            Input {
                index: i as u32,
                display,
                path,
                family,
                resume: Resume::default(),
            }
        })
        .collect())
}

fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>, SourceError> {
    let paths = glob::glob(pattern).map_err(|e| SourceError::BadGlob {
        pattern: pattern.to_string(),
        message: e.msg.to_string(),
    })?;
    let mut out: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// Regular, non-hidden files of a directory that look like audit logs, sorted by name.
fn dir_audit_files(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let rd = std::fs::read_dir(dir).map_err(|e| SourceError::Open {
        path: dir.display().to_string(),
        source: e,
    })?;
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        if looks_like_audit_file(name) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Names containing `audit`, or with a log-ish extension, possibly rotated and compressed.
fn looks_like_audit_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.contains("audit") {
        return true;
    }
    let base = strip_rotation(&lower);
    [".log", ".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|ext| base.ends_with(ext))
}

/// The family of a path: rotation suffixes removed (`.gz`, `.N`, `-YYYYMMDD`, `.YYYY-MM-DD`).
pub fn family_of(display: &str) -> String {
    if display == "-" {
        return "-".to_string();
    }
    let p = Path::new(display);
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or(display);
    let base = strip_rotation(name);
    match p.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => format!("{}/{}", dir.display(), base),
        None => base,
    }
}

fn strip_rotation(name: &str) -> String {
    let mut s = name.to_string();
    for ext in [".gz", ".gzip"] {
        if let Some(stripped) = s.strip_suffix(ext) {
            s = stripped.to_string();
        }
    }
    // Numeric rotation suffix: audit.log.1
    if let Some((head, tail)) = s.rsplit_once('.')
        && !tail.is_empty()
        && tail.len() <= 4
        && tail.bytes().all(|b| b.is_ascii_digit())
    {
        s = head.to_string();
    }
    remove_date(&s)
}

/// Removes a `-20261101`, `.2026-11-01` or `_2026-11-01` date (with an optional `-N`) anywhere.
fn remove_date(s: &str) -> String {
    let b = s.as_bytes();
    for i in 0..b.len() {
        if !matches!(b[i], b'-' | b'.' | b'_') {
            continue;
        }
        let rest = &b[i + 1..];
        let len = if rest.len() >= 10 && is_date_dashed(&rest[..10]) {
            10
        } else if rest.len() >= 8
            && rest[..8].iter().all(u8::is_ascii_digit)
            && (rest[0] == b'1' || rest[0] == b'2')
        {
            8
        } else {
            continue;
        };
        let mut end = i + 1 + len;
        // An optional counter or epoch suffix: audit.log-20261101-1700000000
        if b.get(end) == Some(&b'-') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end += 1;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
        }
        return format!("{}{}", &s[..i], &s[end..]);
    }
    s.to_string()
}

fn is_date_dashed(b: &[u8]) -> bool {
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[8..10].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_siblings_share_a_family() {
        for name in [
            "audit.log",
            "audit.log.1",
            "audit.log.12.gz",
            "audit.log-20261101.gz",
            "audit.log-20261101",
        ] {
            assert_eq!(
                family_of(&format!("/var/log/vault/{name}")),
                "/var/log/vault/audit.log",
                "{name}"
            );
        }
        assert_eq!(family_of("audit.2026-11-01.log"), "audit.log");
        assert_ne!(family_of("/a/audit.log"), family_of("/b/audit.log"));
    }

    #[test]
    fn directories_yield_their_audit_files() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "audit.log",
            "audit.log.1.gz",
            "vault_audit.json",
            "notes.txt",
            ".hidden.log",
        ] {
            std::fs::write(dir.path().join(n), "{}\n").unwrap();
        }
        let inputs = discover(&[dir.path().display().to_string()]).unwrap();
        let names: Vec<_> = inputs
            .iter()
            .map(|i| {
                Path::new(&i.display)
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            vec!["audit.log", "audit.log.1.gz", "vault_audit.json"]
        );
    }

    #[test]
    fn globs_expand_and_missing_paths_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.log"), "").unwrap();
        std::fs::write(dir.path().join("b.log"), "").unwrap();
        let pat = format!("{}/*.log", dir.path().display());
        assert_eq!(discover(&[pat]).unwrap().len(), 2);
        assert!(matches!(
            discover(&["/nonexistent/x.log".into()]),
            Err(SourceError::Open { .. })
        ));
        let none = format!("{}/*.gz", dir.path().display());
        assert!(matches!(discover(&[none]), Err(SourceError::NoMatch(_))));
    }

    #[test]
    fn the_same_file_twice_is_one_input() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("audit.log");
        std::fs::write(&f, "").unwrap();
        let a = f.display().to_string();
        assert_eq!(
            discover(&[a.clone(), a, "-".into(), "-".into()])
                .unwrap()
                .len(),
            2
        );
    }
}
