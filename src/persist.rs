//! What can go wrong carrying analysis state from one incremental run to the next.
//!
//! Every accumulator that outlives a run (correlation groups, findings, lineage, suspects) is
//! saved as JSON into the carry and restored from it by the next run. Both directions fail with
//! a [`PersistError`] that names the state and keeps serde's error as its cause: a state that
//! cannot be saved must fail the run, not be written as `null` and silently forgotten.

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
}

/// Serialises `state` as the saved form of `what`.
pub fn save<T: serde::Serialize>(
    what: &'static str,
    state: &T,
) -> Result<serde_json::Value, PersistError> {
    serde_json::to_value(state).map_err(|source| PersistError::Save { what, source })
}

/// Deserialises the saved form of `what`.
pub fn restore<T: serde::de::DeserializeOwned>(
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
        let err = restore::<Vec<u32>>("lineage", serde_json::json!({"x": 1})).unwrap_err();
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
        let err = save("correlation", &m).unwrap_err();
        assert!(matches!(
            err,
            PersistError::Save {
                what: "correlation",
                ..
            }
        ));
    }
}
