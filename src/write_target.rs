//! Where a file blastradius writes lands: one rule for every output (`-o` reports, `--alerts`,
//! `--state` and its lock, `export -o`, `generate -o`/`--truth`).
//!
//! * **Symbolic links** on the way to an output, the file itself or any directory above it, are
//!   followed only when the invoking user (the effective uid) or root owns them. Any other link
//!   is refused and nothing is written: a link planted in a shared directory (`/tmp`, a team
//!   share) would otherwise let its owner choose which file a run as root replaces. This is
//!   stricter than the kernel's `protected_symlinks` (which trusts any link outside sticky
//!   world-writable directories) because group-writable shares are as exposed; root-owned
//!   links (`/var/run`, `/lib`) are trusted because only root can plant them.
//! * A **followed link stays**: the file it names is replaced. A regular file (or a path that
//!   does not exist yet) is written to a temporary file in the same directory, created mode
//!   0600 (reports, states and exports name secrets and tokens), synced, renamed over the
//!   target, and the directory synced, so readers see the old or the new file, never half.
//! * An existing **device, pipe or socket** (`/dev/stdout`, `/dev/null`, a FIFO a log shipper
//!   reads) is written in place: renaming over it would put a regular file where it was.
//!
//! The links are checked when the output is opened; the rename itself never follows a link.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Links followed on the way to one output before giving up (Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Why an output path is refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// A link owned by someone else.
    #[error(
        "refusing to write through symbolic link {link}: it is owned by uid {owner}, not by the invoking user (uid {euid}) or root"
    )]
    ForeignLink {
        /// The link.
        link: PathBuf,
        /// Its owner.
        owner: u32,
        /// Who runs blastradius.
        euid: u32,
    },
    /// A loop, or a very long chain.
    #[error("more than {MAX_LINKS} symbolic links on the way to the output")]
    TooManyLinks,
}

impl From<TargetError> for io::Error {
    fn from(e: TargetError) -> io::Error {
        let kind = match e {
            TargetError::ForeignLink { .. } => io::ErrorKind::PermissionDenied,
            TargetError::TooManyLinks => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}

/// The invoking user.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }
}

/// `path` with every symbolic link resolved, each one checked against the ownership rule.
/// Components that do not exist yet are kept as written.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let me = euid();
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut done = PathBuf::from("/");
    // Components still to walk, last first.
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    push_components(&absolute, &mut rest);
    let mut links = 0;
    while let Some(part) = rest.pop() {
        match part.to_str() {
            Some("/") => done = PathBuf::from("/"),
            Some(".") => {}
            Some("..") => {
                done.pop();
            }
            _ => {
                let next = done.join(&part);
                match std::fs::symlink_metadata(&next) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        if meta.uid() != me && meta.uid() != 0 {
                            return Err(TargetError::ForeignLink {
                                link: next,
                                owner: meta.uid(),
                                euid: me,
                            }
                            .into());
                        }
                        links += 1;
                        if links > MAX_LINKS {
                            return Err(TargetError::TooManyLinks.into());
                        }
                        // Relative targets are relative to the link's directory, `done`.
                        push_components(&std::fs::read_link(&next)?, &mut rest);
                    }
                    Ok(_) => done = next,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => done = next,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(done)
}

fn push_components(p: &Path, rest: &mut Vec<std::ffi::OsString>) {
    let parts: Vec<std::ffi::OsString> = p
        .components()
        .map(|c| match c {
            Component::RootDir | Component::Prefix(_) => "/".into(),
            Component::CurDir => ".".into(),
            Component::ParentDir => "..".into(),
            Component::Normal(n) => n.to_os_string(),
        })
        .collect();
    rest.extend(parts.into_iter().rev());
}

/// Whether the output's directory must exist already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parents {
    /// Fail when it does not (`-o` into a mistyped directory is an error).
    MustExist,
    /// Create it and its parents (export partitions).
    Create,
}

/// An output opened by [`open`]: write to `file`, then [`Staged::commit`].
pub struct Staged {
    /// Where to write.
    pub file: File,
    /// How it gets into place.
    pub commit: Commit,
}

/// How a written output gets into place.
pub enum Commit {
    /// Rename the temporary file over the target.
    Rename {
        /// The temporary file (removed if dropped uncommitted).
        tmp: tempfile::TempPath,
        /// The resolved target.
        path: PathBuf,
    },
    /// A device, pipe or socket, already written.
    InPlace {
        /// The resolved target.
        path: PathBuf,
    },
}

/// Opens `path` for writing under the rules in the module documentation. `prefix` names the
/// temporary file (it should start with `.`, which data tools skip).
pub fn open(path: &Path, prefix: &str, parents: Parents) -> io::Result<Staged> {
    let path = resolve(path)?;
    if let Ok(meta) = std::fs::metadata(&path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        let file = std::fs::OpenOptions::new().write(true).open(&path)?;
        return Ok(Staged {
            file,
            commit: Commit::InPlace { path },
        });
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    if parents == Parents::Create {
        std::fs::create_dir_all(dir)?;
    }
    // tempfile creates the file with mode 0600, which the rename keeps.
    let (file, tmp) = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(dir)?
        .into_parts();
    Ok(Staged {
        file,
        commit: Commit::Rename { tmp, path },
    })
}

impl Commit {
    /// The resolved target.
    pub fn path(&self) -> &Path {
        match self {
            Commit::Rename { path, .. } | Commit::InPlace { path } => path,
        }
    }

    /// Puts the written `file` (flushed by the caller) into place durably; returns the target.
    pub fn finish(self, file: File) -> io::Result<PathBuf> {
        match self {
            Commit::InPlace { path } => Ok(path),
            Commit::Rename { tmp, path } => {
                file.sync_all()?;
                drop(file);
                tmp.persist(&path).map_err(|e| e.error)?;
                // Without this, a crash could lose the rename itself (the new directory entry).
                let dir = path.parent().unwrap_or(Path::new("/"));
                File::open(dir)?.sync_all()?;
                Ok(path)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_links_resolve_through_directories_and_relative_targets() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("d")).unwrap();
        std::os::unix::fs::symlink("d", real.join("dl")).unwrap();
        std::os::unix::fs::symlink("../d/x.json", real.join("d/link")).unwrap();
        assert_eq!(
            resolve(&real.join("dl/link")).unwrap(),
            real.join("d/x.json")
        );
        assert_eq!(
            resolve(&real.join("dl/new/../y")).unwrap(),
            real.join("d/y")
        );
    }

    #[test]
    fn a_link_loop_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::os::unix::fs::symlink(&a, &a).unwrap();
        let err = resolve(&a).unwrap_err();
        assert!(err.to_string().contains("symbolic links"), "{err}");
    }
}
