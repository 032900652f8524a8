//! Durable state for scheduled, incremental scans (`--state FILE`).
//!
//! A run reads the state, resumes every input it recognises after the last line it consumed,
//! merges what the analyses carried over, writes its outputs, and only then replaces the state:
//! a crash before the state is written replays the run instead of skipping data. The state is
//! replaced atomically under the rules for every output ([`crate::write_target`]: temporary
//! 0600 file in the same directory, fsync, rename, fsync of the directory; a symbolic link only
//! when the invoking user or root owns it) and a lock file keeps two runs from interleaving. A state file that does not parse,
//! or that another tool or version wrote, is an error and is left untouched.
//!
//! Rotation: a renamed input is recognised by the hash of its first bytes and finished; a new
//! `audit.log` starts at 0; an input truncated in place (logrotate `copytruncate`) is read again
//! from 0 and reported; a rotated `.gz` is matched to its plain predecessor through the hash of
//! its decompressed first bytes; a partial last line is left for the next run.

mod fingerprint;
mod plan;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub use fingerprint::{Fingerprint, HEAD_BYTES};
pub use plan::{Disposition, Planned, plan_inputs, record};

use crate::model::{Loc, Timestamp};
use crate::persist::{Foreign, PersistError, Persisted};
use crate::scan::Carry;

/// Marks a blastradius state file.
pub const FORMAT: &str = "blastradius-state";
/// The state layout this build reads and writes.
pub const VERSION: u32 = 1;

/// One input the state knows.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FileState {
    /// The input's id: the `file` of every location recorded from it.
    pub id: u32,
    /// Its path when last seen.
    pub path: String,
    /// Its family.
    pub family: String,
    /// `st_dev` when last seen.
    pub dev: u64,
    /// `st_ino` when last seen.
    pub ino: u64,
    /// Size on disk when last seen.
    pub size: u64,
    /// Modification time when last seen (ns).
    pub mtime_ns: i64,
    /// How many leading bytes `head_sha256` covers (up to 4096).
    pub head_len: usize,
    /// SHA-256 of those bytes (decompressed content for gzip).
    pub head_sha256: String,
    /// Offset after the last line consumed (in decompressed bytes for gzip).
    pub offset: u64,
    /// Lines before `offset`.
    pub lines: u64,
    /// The run that last saw it.
    pub last_run: u64,
}

/// What alerts have already been sent, so each run alerts only on what is new.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AlertMemory {
    /// Matches already alerted, per finding key (rule id and group).
    pub findings: std::collections::BTreeMap<String, u64>,
    /// Gaps already alerted, by key (kind, start, first evidence).
    pub gaps: std::collections::BTreeSet<String>,
}

/// The state file.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// Always [`FORMAT`].
    pub format: String,
    /// Layout version, [`VERSION`].
    pub version: u32,
    /// The blastradius version that wrote it.
    pub tool_version: String,
    /// `scan` or `blast`: a state belongs to one command.
    pub command: String,
    /// Secret seed for hash keys that must match across runs.
    pub seed: u64,
    /// First run.
    pub created: Timestamp,
    /// Last run.
    pub updated: Timestamp,
    /// Runs so far.
    pub runs: u64,
    /// Next input id.
    pub next_id: u32,
    /// Inputs known.
    pub files: Vec<FileState>,
    /// What the analyses carry to the next run.
    pub carry: Carry,
    /// Alerts already sent.
    pub alerted: AlertMemory,
}

/// Why a state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another run holds the lock.
    #[error("{0}: another blastradius run holds the lock (its lock file is {0}.lock)")]
    Locked(String),
    /// Reading, locking or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid state JSON (it was left untouched).
    #[error(
        "{path} is not a readable blastradius state file ({message}); it was left untouched: move it away to start afresh"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// What the parser said.
        message: String,
    },
    /// Another tool, another command or a newer version wrote it (it was left untouched).
    #[error("{path} {message}; it was left untouched")]
    Foreign {
        /// The file.
        path: String,
        /// What does not match.
        message: String,
    },
}

/// An open state: its content and the lock that keeps other runs out until it is dropped.
pub struct Locked {
    path: PathBuf,
    _lock: File,
    /// The state.
    pub state: State,
}

impl State {
    fn fresh(command: &str, now: Timestamp) -> State {
        use std::hash::BuildHasher;
        State {
            format: FORMAT.to_string(),
            version: VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            command: command.to_string(),
            seed: foldhash::quality::RandomState::default().hash_one((now, std::process::id())),
            created: now,
            updated: now,
            runs: 0,
            next_id: 0,
            files: Vec::new(),
            carry: Carry::default(),
            alerted: AlertMemory::default(),
        }
    }
}

/// Locks and reads the state at `path` (a fresh state if the file does not exist yet).
pub fn open(path: &Path, command: &str, now: Timestamp) -> Result<Locked, StateError> {
    let io = |source| StateError::Io {
        path: path.display().to_string(),
        source,
    };
    // The state, its lock and its replacement all follow the one rule for outputs: a link the
    // invoking user does not own is refused before anything is created.
    let path = crate::write_target::resolve(path).map_err(io)?;
    let display = path.display().to_string();
    let io = |source| StateError::Io {
        path: display.clone(),
        source,
    };
    let lock_path =
        crate::write_target::resolve(Path::new(&format!("{display}.lock"))).map_err(io)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(io)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(StateError::Locked(display)),
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    let state = match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::fresh(command, now),
        Err(e) => return Err(io(e)),
        Ok(bytes) => parse(&bytes, &display, command)?,
    };
    Ok(Locked {
        path,
        _lock: lock,
        state,
    })
}

fn parse(bytes: &[u8], path: &str, command: &str) -> Result<State, StateError> {
    let corrupt = |e: serde_json::Error| StateError::Corrupt {
        path: path.to_string(),
        message: e.to_string(),
    };
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(corrupt)?;
    State::restore(v, command).map_err(|e| match e {
        PersistError::Foreign(why) => StateError::Foreign {
            path: path.to_string(),
            message: why.to_string(),
        },
        PersistError::Save { source, .. } | PersistError::Restore { source, .. } => corrupt(source),
    })
}

/// The state file is JSON whose `format`, `version` and `command` are checked before anything
/// else is read: a file another tool, another layout version or another command wrote is
/// refused with what does not match ([`Foreign`]). Its carry is already absolute. [`Locked::save`]
/// streams the state itself, which serialises to the same JSON as `save` returns.
impl Persisted for State {
    type Saved = serde_json::Value;
    /// The command reading the state.
    type With<'a> = &'a str;

    fn save(&self, _: &str, _: &dyn Fn(Loc) -> Loc) -> Result<serde_json::Value, PersistError> {
        crate::persist::to_json("incremental", self)
    }

    fn restore(v: serde_json::Value, command: &str) -> Result<State, PersistError> {
        if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(Foreign::NotOurs.into());
        }
        let found = v
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if found != u64::from(VERSION) {
            return Err(Foreign::Version {
                found,
                reads: VERSION,
            }
            .into());
        }
        let written_by = v.get("command").and_then(|c| c.as_str()).unwrap_or("");
        if written_by != command {
            return Err(Foreign::Command {
                written_by: written_by.to_string(),
                reader: command.to_string(),
            }
            .into());
        }
        crate::persist::from_json("incremental", v)
    }
}

impl Locked {
    /// Replaces the state file atomically and durably; the lock is kept until `self` drops.
    pub fn save(&self) -> Result<(), StateError> {
        let display = self.path.display().to_string();
        let io = |source| StateError::Io {
            path: display.clone(),
            source,
        };
        let staged = crate::write_target::open(
            &self.path,
            ".blastradius-state-",
            crate::write_target::Parents::MustExist,
        )
        .map_err(io)?;
        // Streamed from the state itself rather than through `Persisted::save`'s JSON value: the
        // same JSON, but with `format` and `version` first (a `serde_json::Value` sorts its keys)
        // and without a second copy of the carry in memory.
        let mut out = std::io::BufWriter::new(staged.file);
        serde_json::to_writer(&mut out, &self.state).map_err(|e| io(e.into()))?;
        out.write_all(b"\n").map_err(io)?;
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        staged.commit.finish(file).map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-22T12:00:00Z").unwrap()
    }

    #[test]
    fn a_second_run_cannot_take_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        let first = open(&p, "scan", now()).unwrap();
        assert!(matches!(
            open(&p, "scan", now()),
            Err(StateError::Locked(_))
        ));
        drop(first);
        assert!(open(&p, "scan", now()).is_ok());
    }

    #[test]
    fn saves_round_trip_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        let mut s = open(&p, "scan", now()).unwrap();
        s.state.runs = 3;
        s.save().unwrap();
        drop(s);
        let again = open(&p, "scan", now()).unwrap();
        assert_eq!(again.state.runs, 3);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(".blastradius-state-")),
            "{names:?}"
        );
    }

    #[test]
    fn restore_says_which_of_format_version_and_command_does_not_match() {
        use crate::persist::{Foreign, PersistError, Persisted};
        let restore = |v: serde_json::Value| State::restore(v, "scan").map(|_| ());
        let err = restore(serde_json::json!({"format": "other"})).unwrap_err();
        assert!(
            matches!(err, PersistError::Foreign(Foreign::NotOurs)),
            "{err}"
        );
        let err = restore(serde_json::json!({"format": FORMAT, "version": 99})).unwrap_err();
        assert!(
            matches!(
                err,
                PersistError::Foreign(Foreign::Version {
                    found: 99,
                    reads: VERSION
                })
            ),
            "{err}"
        );
        let blast = serde_json::json!({"format": FORMAT, "version": VERSION, "command": "blast"});
        let err = restore(blast).unwrap_err();
        assert!(
            matches!(err, PersistError::Foreign(Foreign::Command { .. })),
            "{err}"
        );
        // What a fresh state saves, it restores; `save` is the JSON `Locked::save` streams.
        let fresh = State::fresh("scan", now());
        let saved = fresh.save("scan", &|l| l).unwrap();
        assert_eq!(saved, serde_json::to_value(&fresh).unwrap());
        let back = State::restore(saved, "scan").unwrap();
        assert_eq!(back.seed, fresh.seed);
        assert_eq!(back.command, "scan");
    }

    #[test]
    fn corrupt_foreign_and_other_command_states_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        for (content, want) in [
            ("{not json", "not a readable"),
            ("{\"format\":\"something-else\"}", "not a blastradius state"),
            (
                "{\"format\":\"blastradius-state\",\"version\":99}",
                "state version 99",
            ),
        ] {
            std::fs::write(&p, content).unwrap();
            let err = open(&p, "scan", now()).err().unwrap().to_string();
            assert!(err.contains(want), "{err}");
            assert_eq!(std::fs::read_to_string(&p).unwrap(), content);
        }
        let mut s = open(&dir.path().join("blast.json"), "blast", now()).unwrap();
        s.state.runs = 1;
        s.save().unwrap();
        drop(s);
        let err = open(&dir.path().join("blast.json"), "scan", now())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("belongs to `blastradius blast`"), "{err}");
    }
}
