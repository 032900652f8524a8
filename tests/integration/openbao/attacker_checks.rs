//! Issue 16's evidence asked of the attacker recordings (tests/integration/openbao/attackers.rs,
//! committed in fixtures/openbao-2.7/attackers/): `scan` names the attacker's credential first,
//! and the `blast` command it prints, run as printed, gives the blast radius the recording
//! script knows (truth.json: what the attacker's tokens read, and those secrets' tenants).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::attackers::{fixture_dir, log_file};
use crate::util::bin;

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

/// Runs a printed `blastradius ...` command line through the shell, with this build first on
/// PATH, and parses its JSON.
fn run_printed(command: &str) -> Value {
    let exe = assert_cmd::cargo::cargo_bin("blastradius");
    let path = format!(
        "{}:{}",
        exe.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} -f json"))
        .env("PATH", path)
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `scan` names the attacker's login as the first suspect; its printed `blast` command
/// reproduces the truth's secrets and tenants.
pub fn first_suspect_is_the_attacker_and_its_blast_matches(log: &Path, truth: &Value) {
    let out = bin()
        .args(["scan", "-f", "json"])
        .arg(log)
        .output()
        .expect("runs");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "scan: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let attacker = &truth["attacker"];
    let suspects = r["suspects"].as_array().expect("suspects");
    let first = &suspects[0];
    let ranked: Vec<String> = suspects
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s["rank"], s["score"], s["accessor"], s["reasons"]
            )
        })
        .collect();
    assert_eq!(
        first["accessor"],
        attacker["accessor_hmac"],
        "{log:?}: suspects\n{}",
        ranked.join("\n")
    );
    assert_eq!(first["auth_mount"], attacker["auth_mount"]);
    assert_eq!(first["role"], attacker["role"]);
    assert_eq!(first["login_address"], attacker["login_address"]);
    let command = first["blast_command"].as_str().expect("blast_command");
    let b = run_printed(command);
    let read: BTreeSet<String> = b["secrets_read"]
        .as_array()
        .expect("secrets_read")
        .iter()
        .map(|s| s["path"].as_str().expect("path").to_string())
        .collect();
    assert_eq!(read, strings(&truth["secrets_read"]), "{command}");
    assert_eq!(strings(&b["affected_tenants"]), strings(&truth["tenants"]));
    assert_eq!(strings(&first["tenants"]), strings(&truth["tenants"]));
}

fn committed(case: &str) -> (PathBuf, Value) {
    let dir = fixture_dir(case);
    let text = std::fs::read_to_string(dir.join("truth.json"))
        .unwrap_or_else(|e| panic!("{case}/truth.json: {e}"));
    (
        dir.join(log_file(case)),
        serde_json::from_str(&text).expect("truth.json is JSON"),
    )
}

#[test]
fn fixture_quiet_reader_is_the_first_suspect_and_its_blast_matches() {
    let (log, truth) = committed("quiet-reader");
    first_suspect_is_the_attacker_and_its_blast_matches(&log, &truth);
}

#[test]
fn fixture_attacker_among_busy_admins_is_the_first_suspect_and_its_blast_matches() {
    let (log, truth) = committed("noisy-admins");
    first_suspect_is_the_attacker_and_its_blast_matches(&log, &truth);
}

#[test]
fn fixture_leaked_credential_among_busy_admins_is_the_first_suspect_and_its_blast_matches() {
    let (log, truth) = committed("leaked-among-admins");
    first_suspect_is_the_attacker_and_its_blast_matches(&log, &truth);
}
