//! `rules list`, `rules lint`, `--rules` and `--fail-on` with the real rule pack.

use serde_json::Value;

use crate::util::{bin, fixture, scan_json};

fn basic() -> String {
    fixture("openbao-2.7/basic.log").display().to_string()
}

#[test]
fn the_built_in_pack_is_listed_and_lints_clean() {
    let out = bin().args(["rules", "list", "--json"]).output().unwrap();
    assert!(out.status.success());
    let rules: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rules.len() >= 40);
    assert!(
        rules
            .iter()
            .any(|r| r["title"] == "Root token used" && r["severity"] == "P1")
    );
    let out = bin()
        .args(["rules", "lint"])
        .arg(crate::util::root().join("queries/rules"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn lint_reports_file_line_and_column_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yml"),
        "title: bad\nid: 0f0e0d0c-0000-4000-8000-000000000001\nlogsource: {product: vault, service: audit}\ndetection:\n  sel:\n    request.path|bogus: a\n  condition: sel\nlevel: high\n",
    )
    .unwrap();
    let out = bin()
        .args(["rules", "lint"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yml:6:18: error: unsupported modifier `bogus`"),
        "{err}"
    );
}

#[test]
fn findings_drive_severity_and_fail_on() {
    let (code, r) = scan_json(&[&basic()]);
    assert_eq!(
        code, 0,
        "no --fail-on: findings do not change the exit code"
    );
    assert_eq!(r["severity"], "P1");
    assert_eq!(r["response_time"], "1 hour");
    let root = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == "Root token used")
        .unwrap();
    assert_eq!(root["count"], 9);
    assert_eq!(root["actors"][0]["display_name"], "root");
    assert!(!root["evidence"].as_array().unwrap().is_empty());
    let (code, _) = scan_json(&[&basic(), "--fail-on", "P1"]);
    assert_eq!(code, 1);
    let (code, _) = scan_json(&[&basic(), "--fail-on", "P0"]);
    assert_eq!(code, 0);
}

#[test]
fn user_rules_add_to_and_replace_the_built_in_pack() {
    let dir = tempfile::tempdir().unwrap();
    // Same id as the built-in "Root token used", re-levelled to critical.
    let builtin =
        std::fs::read_to_string(crate::util::root().join("queries/rules/vault_root_token_use.yml"))
            .unwrap();
    std::fs::write(
        dir.path().join("root.yml"),
        builtin.replace("level: high", "level: critical"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tenant_a.yml"),
        "title: Tenant A secret touched\nid: 0f0e0d0c-0000-4000-8000-000000000002\nstatus: test\ndescription: x\nreferences: [local]\nlogsource: {product: vault, service: audit}\ndetection:\n  sel:\n    request.path|contains: tenant-a\n  condition: sel\nlevel: low\n",
    )
    .unwrap();
    let (_, r) = scan_json(&[&basic(), "--rules", dir.path().to_str().unwrap()]);
    let titles: Vec<(&str, &str)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["title"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(titles.contains(&("Root token used", "P0")), "{titles:?}");
    assert!(
        titles.contains(&("Tenant A secret touched", "P3")),
        "{titles:?}"
    );
    assert_eq!(r["severity"], "P0");
    // A broken user rule is a usage error, not a silent skip.
    std::fs::write(dir.path().join("broken.yml"), "title: [unclosed\n").unwrap();
    let out = bin()
        .args([
            "scan",
            &basic(),
            "--rules",
            dir.path().to_str().unwrap(),
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.yml"));
}

#[test]
fn an_unreadable_rule_file_is_a_usage_error_not_a_write_failure() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yml");
    let out = bin()
        .args(["rules", "lint"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot read rules from {}", missing.display())),
        "{err}"
    );
    assert!(!err.contains("cannot write"), "{err}");
}
