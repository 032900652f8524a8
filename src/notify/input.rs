//! What a notice is built from: the parts of a `blast` or `scan` JSON report (docs/report-schema.md)
//! that say which secrets were exposed, whose they are and what to do about them.
//!
//! Live runs and `--report FILE` go through the same model: a live `blast` report is turned into
//! its JSON form and read back, so a notice cannot depend on which way it was made.

use serde::Deserialize;

use super::NotifyError;
use crate::model::{Interval, Severity, Timestamp};

/// Which command wrote the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceCommand {
    /// The blast radius of known pivots: what one credential's lineage read.
    Blast,
    /// The scan's breach scope: every secret anyone read in the window.
    Scan,
}

impl SourceCommand {
    /// The name hashed into a derived incident id. Frozen (it was the `Debug` form): changing it
    /// would change every incident id derived from the same exposure.
    pub fn id_name(self) -> &'static str {
        match self {
            SourceCommand::Blast => "Blast",
            SourceCommand::Scan => "Scan",
        }
    }
}

/// A secret read, from `secrets_read[]` (blast) or `secrets[]` (scan).
#[derive(Clone, Debug, Deserialize)]
pub struct SecretIn {
    /// The request path.
    pub path: String,
    /// As responders name it (`kv/app`).
    #[serde(default)]
    pub secret: Option<String>,
    /// Its kind (`kv-v2-read` ...).
    #[serde(default)]
    pub kind: Option<String>,
    /// The tenant, if any.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The tenant is excluded (`--exclude-tenant`).
    #[serde(default)]
    pub tenant_excluded: bool,
    /// `read` or `unknown-response-missing` (blast only).
    #[serde(default)]
    pub outcome: Option<String>,
    /// Successful reads.
    #[serde(default)]
    pub reads: u64,
    /// First read.
    #[serde(default)]
    pub first_read: Option<Timestamp>,
    /// Last read.
    #[serde(default)]
    pub last_read: Option<Timestamp>,
}

/// A row of the rotation plan, from `rotation_targets[]` (blast only).
#[derive(Clone, Debug, Deserialize)]
pub struct TargetIn {
    /// Position in the plan.
    pub order: usize,
    /// 1 (infrastructure) .. 4 (human).
    pub tier: u8,
    /// What it is.
    pub kind: String,
    /// Path, lease id, accessor or role.
    pub target: String,
    /// `rotate-secret`, `revoke-lease`, `revoke-token`, `rotate-auth-credential`.
    pub action: String,
    /// The runbook command.
    #[serde(default)]
    pub command: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// The tenant, if any.
    #[serde(default)]
    pub tenant: Option<String>,
}

/// Settings the report was made with.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SettingsIn {
    /// `--exclude-tenant`s.
    #[serde(default)]
    pub excluded_tenants: Vec<String>,
}

/// The parts of a report a notice needs.
#[derive(Clone, Debug, Deserialize)]
pub struct Exposure {
    /// `blast` or `scan`.
    pub command: SourceCommand,
    /// The most severe finding (scan) or exposed tier (blast).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Blast: first to last activity in scope.
    #[serde(default)]
    pub exposure_window: Option<Interval>,
    /// Blast: the secrets the lineage read.
    #[serde(default)]
    pub secrets_read: Vec<SecretIn>,
    /// Scan: every secret read.
    #[serde(default)]
    pub secrets: Vec<SecretIn>,
    /// Blast: the rotation plan.
    #[serde(default)]
    pub rotation_targets: Vec<TargetIn>,
    /// Settings.
    #[serde(default)]
    pub settings: SettingsIn,
    /// Blast: what was pivoted on (hashed into the default incident id).
    #[serde(default)]
    pub pivots: serde_json::Value,
    /// False when an input could not be read completely.
    #[serde(default = "yes")]
    pub complete: bool,
}

fn yes() -> bool {
    true
}

impl Exposure {
    /// Reads a report written by `blast -f json` or `scan -f json`.
    pub fn from_json(text: &str) -> Result<Exposure, NotifyError> {
        serde_json::from_str(text).map_err(|e| NotifyError::Report(e.to_string()))
    }

    /// Reads a report already in JSON form.
    pub fn from_value(v: serde_json::Value) -> Result<Exposure, NotifyError> {
        serde_json::from_value(v).map_err(|e| NotifyError::Report(e.to_string()))
    }

    /// The secrets exposed: the blast radius's reads, or every read of a scan.
    pub fn exposed(&self) -> &[SecretIn] {
        match self.command {
            SourceCommand::Blast => &self.secrets_read,
            SourceCommand::Scan => &self.secrets,
        }
    }
}

#[cfg(test)]
mod id_name_tests {
    use super::SourceCommand;

    /// Incident ids already handed out were derived from these exact names.
    #[test]
    fn the_names_hashed_into_incident_ids_stay_what_they_were() {
        assert_eq!(SourceCommand::Blast.id_name(), "Blast");
        assert_eq!(SourceCommand::Scan.id_name(), "Scan");
    }
}
