//! `blastradius generate`: the same seed and size give the same bytes, and a scan of the
//! generated log reports exactly the ground truth the generator counted (its correctness proof,
//! and a check of the scan on a log with every shape the generator writes).

use serde_json::Value;

use crate::util::{bin, scan_json};

const PERMISSION_DENIED: &str = "6f0d7c3e-2a51-4b8e-9d1f-0c2e7a9b4d11";
const FAILED_LOGIN: &str = "fe205cc0-fa50-4731-beaa-b6f5ceb9da37";
const MASS_SECRET_READ: &str = "6f7f5acd-d289-4b0d-83ae-4315cee2ff79";
const DENIED_BURST_BY_ADDRESS: &str = "a46f857b-65f8-46e3-9725-14ac4c60b213";

fn generate(dir: &std::path::Path, name: &str, size: &str, seed: &str) -> (Vec<u8>, Value) {
    let log = dir.join(name);
    let truth = dir.join(format!("{name}.truth.json"));
    bin()
        .args(["--quiet", "generate", "--size", size, "--seed", seed, "-o"])
        .arg(&log)
        .arg("--truth")
        .arg(&truth)
        .assert()
        .success();
    let truth: Value = serde_json::from_slice(&std::fs::read(&truth).unwrap()).unwrap();
    (std::fs::read(&log).unwrap(), truth)
}

#[test]
fn same_seed_and_size_give_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = generate(dir.path(), "a.log", "1M", "9");
    let (b, _) = generate(dir.path(), "b.log", "1M", "9");
    assert!(a.len() >= 1 << 20);
    assert!(a == b, "two runs with seed 9 differ");
    let (c, _) = generate(dir.path(), "c.log", "1M", "10");
    assert!(a != c, "seeds 9 and 10 gave the same log");
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect()
}

fn group_has(finding: &Value, value: &Value) -> bool {
    finding["group"]
        .as_array()
        .is_some_and(|g| g.iter().any(|pair| &pair[1] == value))
}

/// Small chunks on two threads, so requests and responses pair across chunk boundaries.
#[test]
fn scan_reports_the_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (_, truth) = generate(dir.path(), "truth.log", "6M", "1");
    let log = dir.path().join("truth.log");
    let (code, report) = scan_json(&[
        log.to_str().unwrap(),
        "--threads",
        "2",
        "--chunk-size",
        "256K",
    ]);
    assert_eq!(code, 0, "complete scan");
    let stats = &report["stats"];
    assert_eq!(stats["lines"], truth["lines"]);
    assert_eq!(stats["requests"], truth["requests"]);
    assert_eq!(stats["paired_requests"], truth["requests"]);
    assert_eq!(stats["malformed_lines"], 0);
    assert_eq!(stats["secret_reads"], truth["secret_reads"]);
    assert_eq!(report["accessed_secrets"], truth["distinct_secrets"]);
    assert_eq!(report["affected_tenants"], truth["tenants"]);
    assert_eq!(report["breach_scope"], "widespread");
    let count = |rule| -> u64 {
        findings(&report, rule)
            .iter()
            .map(|f| f["count"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(count(PERMISSION_DENIED), truth["denials"].as_u64().unwrap());
    assert_eq!(
        count(FAILED_LOGIN),
        truth["failed_logins"].as_u64().unwrap()
    );
    let reader = &truth["widespread_reader"]["accessor"];
    assert!(
        findings(&report, MASS_SECRET_READ)
            .iter()
            .any(|f| group_has(f, reader)),
        "the widespread reader is reported"
    );
    let burst = &truth["denial_burst"]["remote_address"];
    assert!(
        findings(&report, DENIED_BURST_BY_ADDRESS)
            .iter()
            .any(|f| group_has(f, burst)),
        "the denial burst is reported"
    );
}
