//! What can go wrong carrying analysis state from one incremental run to the next.
//!
//! Every accumulator that outlives a run (secrets, findings, correlation groups, lineage,
//! suspects) and the state file itself implement [`Persisted`]: saved as plain data into the
//! carry and restored from it by the next run. Both directions fail with a [`PersistError`] that
//! names the state and keeps serde's error as its cause: a state that cannot be saved must fail
//! the run, not be written as `null` and silently forgotten.

use crate::model::Loc;

/// State that outlives a run: saved as plain data into the state file, restored by the next run.
///
/// One verb pair for every part (secret table, detection and correlation state, token lineage,
/// suspect signals) and for the state file built from them. `With` is what the conversion needs
/// besides the state: the rule set whose ids key the correlation groups, the lineage that
/// interns strings, the command a state file belongs to; `()` when nothing.
pub trait Persisted: Sized {
    /// The plain data written into the state file.
    type Saved: serde::Serialize + serde::de::DeserializeOwned;
    /// What saving and restoring need besides the state.
    type With<'a>: Copy;
    /// The state as plain data; `absolute` rewrites this run's locations into ones valid in
    /// later runs (state that is already absolute ignores it).
    fn save(
        &self,
        with: Self::With<'_>,
        absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<Self::Saved, PersistError>;
    /// The state back from what [`Persisted::save`] wrote (or an earlier version wrote).
    fn restore(saved: Self::Saved, with: Self::With<'_>) -> Result<Self, PersistError>;
}

/// Saving or restoring one part of the incremental state failed.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The state could not be turned into JSON.
    #[error("cannot save {what} state: {source}")]
    Save {
        /// Which state (`lineage`, `correlation` ...).
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The saved JSON is not a state of this kind.
    #[error("cannot restore {what} state: {source}")]
    Restore {
        /// Which state.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Well-formed, but written by another tool, another command or another layout version.
    #[error("{0}")]
    Foreign(#[from] Foreign),
}

/// Why saved state belongs to someone else.
#[derive(Debug, thiserror::Error)]
pub enum Foreign {
    /// Not marked as a blastradius state file.
    #[error("is not a blastradius state file")]
    NotOurs,
    /// Another layout version.
    #[error("has state version {found}; this blastradius reads version {reads}")]
    Version {
        /// The version in the file (0 when it has none).
        found: u64,
        /// The version this build reads.
        reads: u32,
    },
    /// Another command's state.
    #[error("belongs to `blastradius {written_by}`, not `{reader}`: use a state file per command")]
    Command {
        /// The command that wrote it.
        written_by: String,
        /// The command reading it.
        reader: String,
    },
}

/// Serialises `state` as the saved form of `what`.
pub fn to_json<T: serde::Serialize>(
    what: &'static str,
    state: &T,
) -> Result<serde_json::Value, PersistError> {
    serde_json::to_value(state).map_err(|source| PersistError::Save { what, source })
}

/// Deserialises the saved form of `what`.
pub fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    saved: serde_json::Value,
) -> Result<T, PersistError> {
    serde_json::from_value(saved).map_err(|source| PersistError::Restore { what, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_names_the_state_and_keeps_the_cause() {
        let err = from_json::<Vec<u32>>("lineage", serde_json::json!({"x": 1})).unwrap_err();
        assert!(matches!(
            err,
            PersistError::Restore {
                what: "lineage",
                ..
            }
        ));
        assert!(
            err.to_string()
                .starts_with("cannot restore lineage state: invalid type")
        );
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn save_fails_instead_of_writing_null() {
        // JSON object keys must be strings: a map keyed by a pair cannot be saved.
        let m: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let err = to_json("correlation", &m).unwrap_err();
        assert!(matches!(
            err,
            PersistError::Save {
                what: "correlation",
                ..
            }
        ));
    }
}
