//! End-to-end: a real OpenBao server, a scripted incident, and blastradius on the audit log it
//! wrote; the same checks on the committed recording in fixtures/incident/.
//!
//! One server per test run: the first live test starts it, plays the incident, asks the
//! device for HMACs, copies the log and stops the server; the others read the copy.

mod attacker_checks;
mod attackers;
mod checks;
mod client;
mod containment;
mod database;
mod devices;
mod evidence;
mod evidence_checks;
mod fixture;
mod live;
mod policies;
mod reach;
mod runbook;
mod scenario;
mod server;

use std::path::PathBuf;

use serde_json::{Value, json};

/// What the checks need to know beyond the scenario's constants: values only the server that
/// recorded the log can give (HMACs with its salt, the lease id it minted).
#[derive(Clone, Debug)]
pub struct Truth {
    /// HMAC of the attacker's AppRole token.
    pub attacker_token: String,
    /// HMACs of the accessors of the attacker's token, its child and its grandchild.
    pub accessors: [String; 3],
    /// The certificate's lease.
    pub pki_lease: String,
}

impl Truth {
    /// As written to fixtures/incident/ground-truth.json.
    pub fn to_json(&self) -> Value {
        json!({
            "attacker_token_hmac": self.attacker_token,
            "accessor_hmacs": {
                "token": self.accessors[0],
                "child": self.accessors[1],
                "grandchild": self.accessors[2],
            },
            "pki_lease_id": self.pki_lease,
        })
    }

    /// Reads what [`Truth::to_json`] wrote.
    pub fn from_json(v: &Value) -> Truth {
        let s = |v: &Value| {
            v.as_str()
                .expect("a string in ground-truth.json")
                .to_string()
        };
        let a = &v["accessor_hmacs"];
        Truth {
            attacker_token: s(&v["attacker_token_hmac"]),
            accessors: [s(&a["token"]), s(&a["child"]), s(&a["grandchild"])],
            pki_lease: s(&v["pki_lease_id"]),
        }
    }
}

/// A recorded incident: the log's bytes and its truth. Kept in memory: statics are never
/// dropped, so a file kept for the whole run would outlive it.
pub struct Incident {
    pub audit_log: Vec<u8>,
    pub truth: Truth,
}

impl Incident {
    /// Writes the log to a fresh directory, removed when the returned guard drops.
    pub fn log(&self) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("audit.log");
        std::fs::write(&path, &self.audit_log).expect("write the recorded log");
        (dir, path)
    }
}

/// True when the user chose to skip the live tests (`BLASTRADIUS_SKIP_E2E=1`); says so.
pub fn skipped() -> bool {
    let skip = std::env::var("BLASTRADIUS_SKIP_E2E").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("BLASTRADIUS_SKIP_E2E=1: live OpenBao test skipped");
    }
    skip
}
