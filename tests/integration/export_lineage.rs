//! `export`'s lineage columns: what a lake engine needs to walk token lineage and name what to
//! rotate (creator and created accessors, role, user, wrapping token, logical secret, device).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::export::{read_parquet, rows};
use crate::util::{bin, corpus_dir, fixture};

fn export_rows(inputs: &[&str]) -> Vec<BTreeMap<String, String>> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.parquet");
    bin()
        .arg("export")
        .args(inputs)
        .args(["-o", out.to_str().unwrap()])
        .assert()
        .success();
    rows(&read_parquet(&out).0)
}

fn ground_truth() -> Value {
    let text = std::fs::read_to_string(fixture("incident/ground-truth.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn created<'a>(
    all: &'a [BTreeMap<String, String>],
    accessor: &str,
) -> &'a BTreeMap<String, String> {
    all.iter()
        .find(|r| r["type"] == "response" && r["created_accessor"] == accessor)
        .unwrap_or_else(|| panic!("no response created {accessor}"))
}

#[test]
fn token_creations_name_their_creator_role_and_user() {
    let log = fixture("incident/audit.log");
    let all = export_rows(&[log.to_str().unwrap()]);
    let truth = ground_truth();
    let acc = |k: &str| truth["accessor_hmacs"][k].as_str().unwrap().to_string();
    // P logged in (a login's caller is the new token itself: no creator), C was created by P,
    // G by C: the accessors the server's own sys/audit-hash returned.
    let p = created(&all, &acc("token"));
    assert_eq!(p["path"], "auth/approle/login");
    assert_eq!(p["creator_accessor"], "<null>");
    assert_eq!(p["created_role"], "billing-sync");
    assert_eq!(
        created(&all, &acc("child"))["creator_accessor"],
        acc("token")
    );
    assert_eq!(
        created(&all, &acc("grandchild"))["creator_accessor"],
        acc("child")
    );
    let dana = all
        .iter()
        .find(|r| {
            r["type"] == "response"
                && r["path"] == "auth/userpass/login/dana"
                && r["created_accessor"] != "<null>"
        })
        .expect("dana's successful login");
    assert_eq!(dana["created_user"], "dana");
    // Failed logins issue nothing and name no creator.
    assert!(
        all.iter()
            .filter(|r| r["error_kind"] == "login-failed")
            .all(|r| r["creator_accessor"] == "<null>" && r["created_user"] == "<null>")
    );
    // Requests never carry creation columns.
    assert!(
        all.iter()
            .filter(|r| r["type"] == "request")
            .all(|r| r["creator_accessor"] == "<null>" && r["created_role"] == "<null>")
    );
}

#[test]
fn secrets_are_named_as_responders_name_them_and_every_row_has_its_device() {
    let incident = fixture("incident/audit.log");
    let basic = fixture("openbao-2.7/basic.log");
    let all = export_rows(&[incident.to_str().unwrap(), basic.to_str().unwrap()]);
    let read = all
        .iter()
        .find(|r| r["path"] == "kv/data/acme/billing" && r["is_secret_read"] == "true")
        .expect("a read of acme's billing secret");
    assert_eq!(read["secret"], "kv/acme/billing");
    let cert = all
        .iter()
        .find(|r| r["path"] == "pki/issue/acme" && r["type"] == "response")
        .expect("the certificate");
    assert_eq!(cert["secret"], "pki/issue/acme");
    assert!(
        all.iter()
            .filter(|r| r["path"].starts_with("sys/"))
            .all(|r| r["secret"] == "<null>")
    );
    for r in &all {
        let want = if r["source_file"].ends_with("basic.log") {
            "basic.log"
        } else {
            "audit.log"
        };
        assert_eq!(r["device"], want, "{}", r["source_file"]);
    }
}

#[test]
fn wrapped_responses_carry_the_wrapping_token_and_the_wrapped_accessor() {
    // Vault's `auth/token/create` with `-wrap-ttl`: the new token's accessor is only in
    // `wrap_info.wrapped_accessor`; the wrapping token has its own token and accessor.
    let log = corpus_dir().join("elastic-hashicorp_vault.test-faked-all-fields.newer-version.log");
    let all = export_rows(&[log.to_str().unwrap()]);
    let wrapped: Vec<_> = all
        .iter()
        .filter(|r| r["wrapping_token"] != "<null>")
        .collect();
    assert_eq!(wrapped.len(), 1, "one wrapped response in the file");
    let w = wrapped[0];
    assert_eq!(
        w["wrapping_token"],
        "hmac-sha256:09dff0fdb8db56293383d7d0347afdf64ceb672cb9aea2c66edd802bcd714094"
    );
    assert_eq!(w["wrapping_accessor"], "xzW2I9CMqcALsllhYvqtlsvq");
    assert_eq!(w["wrapped_accessor"], "Bh57rT8zuhspG9APjXpGpiAJ");
}

#[test]
fn a_clear_wrapping_token_is_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("raw.log");
    let line = serde_json::json!({
        "time": "2026-11-22T10:00:00Z", "type": "response",
        "request": {"id": "r1", "operation": "update", "path": "auth/token/create"},
        "response": {"wrap_info": {"token": "hvs.CAESIJ3oDsxkJf0Zy4kZk2rKE7JvTtGKuC", "accessor": "a1", "wrapped_accessor": "a2"}}
    });
    std::fs::write(&log, format!("{line}\n")).unwrap();
    let all = export_rows(&[log.to_str().unwrap()]);
    assert_eq!(all.len(), 1);
    assert!(!all[0]["wrapping_token"].contains("CAESIJ3oDsxkJf0Zy4kZk2rKE7JvTtGKuC"));
    assert!(all[0]["wrapping_token"].starts_with("hvs."));
    assert_eq!(all[0]["wrapped_accessor"], "a2");
}

#[test]
fn device_rules_name_the_device_of_matching_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // Two devices' files copied under names that share no family: only a rule can tell.
    let devices = fixture("openbao-2.7/devices");
    let a = dir.path().join("node1-2026-12-01.json");
    let b = dir.path().join("node1-2026-12-02.json");
    let c = dir.path().join("other.log");
    std::fs::copy(devices.join("primary.log"), &a).unwrap();
    std::fs::copy(devices.join("primary.log"), &b).unwrap();
    std::fs::copy(devices.join("clear.log"), &c).unwrap();
    let out = dir.path().join("events.parquet");
    let rule = format!("node1={}/node1-*", dir.path().display());
    bin()
        .arg("export")
        .args([&a, &b, &c])
        .args(["--device", &rule, "-o", out.to_str().unwrap()])
        .assert()
        .success();
    let all = rows(&read_parquet(&out).0);
    assert!(!all.is_empty());
    for r in &all {
        let want = if r["source_file"].ends_with("other.log") {
            "other.log"
        } else {
            "node1"
        };
        assert_eq!(r["device"], want, "{}", r["source_file"]);
    }
    bin()
        .arg("export")
        .arg(&a)
        .args(["--device", "no-equals", "-o", out.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicates::str::contains("NAME=PATH_GLOB"));
}
