//! Hostile input, round 2 (issue 21), input side: truncation while reading, long lines.

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// The binary as a plain `std` command, so the test can run it concurrently with a truncator.
fn bin() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin!("blastradius"));
    c.env("BLASTRADIUS_NOW", "2026-11-22T12:00:00Z");
    c
}

/// A log of `n` response entries, about 400 bytes each.
fn big_log(path: &std::path::Path, n: usize) {
    let mut s = String::with_capacity(n * 420);
    for i in 0..n {
        s.push_str(&format!(
            "{{\"time\":\"2026-11-01T00:{:02}:{:02}.{:06}Z\",\"type\":\"response\",\"auth\":{{\"client_token\":\"hmac-sha256:aa\",\"accessor\":\"hmac-sha256:bb\"}},\"request\":{{\"id\":\"req-{i}\",\"operation\":\"read\",\"path\":\"kv/data/app/{}\",\"remote_address\":\"10.0.0.1\"}},\"response\":{{\"data\":{{\"value\":\"hmac-sha256:cc\"}}}}}}\n",
            (i / 60_000) % 60,
            (i / 1000) % 60,
            i % 1000,
            i % 97
        ));
    }
    std::fs::write(path, s).unwrap();
}

/// Runs `scan` on `path` while a child process truncates it (logrotate `copytruncate`).
fn scan_while_truncated(path: &std::path::Path, extra: &[&str]) -> (Option<i32>, Value) {
    // Older than a minute: the case `--mmap auto` used to map (a quiet night, then rotation).
    let old = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let size = std::fs::metadata(path).unwrap().len();
    let mut scan = bin();
    scan.args(["scan", "-f", "json", "-j", "1", "--chunk-size", "64K"])
        .args(extra)
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let child = scan.spawn().unwrap();
    wait_until_open(child.id(), path);
    let truncator = Command::new("truncate")
        .args(["-s", "0"])
        .arg(path)
        .status()
        .unwrap();
    assert!(truncator.success());
    let out = child.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let read = report["inputs"][0]["bytes"].as_u64().unwrap_or(0);
    assert!(
        report.is_null() || read < size,
        "the truncation came after the scan read everything ({read} of {size}): make the log bigger"
    );
    (out.status.code(), report)
}

/// Waits until process `pid` has `path` open (so the truncation lands while it reads).
fn wait_until_open(pid: u32, path: &std::path::Path) {
    let path = std::fs::canonicalize(path).unwrap();
    for _ in 0..2000 {
        let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == path));
        if open {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("scan never opened {}", path.display());
}

fn assert_truncated(code: Option<i32>, report: &Value, mode: &str) {
    assert_eq!(code, Some(3), "{mode}: killed or wrong exit code: {code:?}");
    assert_eq!(report["complete"], false, "{mode}");
    let err = report["inputs"][0]["error"].as_str().unwrap_or_default();
    assert!(err.contains("truncated during scan"), "{mode}: {err:?}");
    let gaps: Vec<&Value> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["kind"] == "truncated-during-scan")
        .collect();
    assert_eq!(gaps.len(), 1, "{mode}: {}", report["gaps"]);
    let read_to = report["inputs"][0]["bytes"].as_u64().unwrap();
    assert!(
        gaps[0]["evidence"][0]["offset"].as_u64().unwrap() <= read_to,
        "{mode}: the gap is where reading ended"
    );
}

/// The path renamed over by another file while the scan reads it (logrotate `create`, or a
/// replaced log): the end-of-read inode check makes the input incomplete.
#[test]
fn a_file_replaced_during_the_scan_is_an_incomplete_input() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    big_log(&log, 150_000);
    let other = dir.path().join("new.log");
    std::fs::write(&other, "").unwrap();
    let mut scan = bin();
    scan.args(["scan", "-f", "json", "-j", "1", "--chunk-size", "64K"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let child = scan.spawn().unwrap();
    wait_until_open(child.id(), &log);
    std::fs::rename(&other, &log).unwrap();
    let out = child.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(report["complete"], false);
    let err = report["inputs"][0]["error"].as_str().unwrap_or_default();
    assert!(err.contains("replaced or renamed"), "{err:?}");
    assert!(
        report["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "truncated-during-scan")
    );
}

/// Default `--mmap auto` on a file quiet for an hour: a truncation used to kill the scan with
/// SIGBUS (no report). It must finish and say the input is incomplete.
#[test]
fn truncation_under_default_mmap_auto_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    big_log(&log, 150_000);
    let (code, report) = scan_while_truncated(&log, &[]);
    assert_truncated(code, &report, "auto");
}

/// The read path used to report such a scan as complete (exit 0).
#[test]
fn truncation_on_the_read_path_is_an_incomplete_input() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    big_log(&log, 150_000);
    let (code, report) = scan_while_truncated(&log, &["--mmap", "never"]);
    assert_truncated(code, &report, "never");
}
