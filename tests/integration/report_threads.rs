//! The end of a `scan` on several threads: the suspects ranked beside the secret table's
//! building, the `secrets` of the JSON and NDJSON reports rendered in chunks on the pool
//! (src/report/parallel.rs). Every byte must be the one-thread report's.
//!
//! Ground truth for the layout is the JSON grammar itself, checked here: every line of the
//! pretty report is indented by two spaces per bracket open at its start, as serde_json's pretty
//! printer writes it, so a chunk rendered at the wrong depth fails even if every thread count
//! got it wrong the same way.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{bin, stdout_of_success};

/// A busy-shape log whose report lists more secrets than four threads render in one window of
/// chunks (64 secrets a chunk, 4 chunks a thread: 1,024).
fn log(dir: &Path) -> PathBuf {
    let p = dir.join("many-secrets.log");
    let mut cmd = bin();
    cmd.args(["-q", "generate", "--size", "8M", "--seed", "5"])
        .args(["--tokens", "2000", "--tenants", "200", "--secrets", "4000"])
        .args(["--rate", "1000/s", "-o"])
        .arg(&p);
    stdout_of_success(cmd);
    p
}

fn scan(log: &Path, format: &str, threads: &str) -> String {
    let mut cmd = bin();
    cmd.args(["-q", "scan", "-f", format, "-j", threads])
        .arg(log);
    stdout_of_success(cmd)
}

/// Where a line's indentation disagrees with the brackets open at its start (strings skipped).
fn misindented(doc: &str) -> Option<(usize, String)> {
    let mut depth: usize = 0;
    for (n, line) in doc.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        let closes = body.starts_with(['}', ']']);
        let want = 2 * (depth - usize::from(closes));
        if line.len() - body.len() != want {
            return Some((n + 1, line.chars().take(80).collect()));
        }
        let (mut in_str, mut escaped) = (false, false);
        for b in body.bytes() {
            match (in_str, escaped, b) {
                (true, true, _) => escaped = false,
                (true, false, b'\\') => escaped = true,
                (true, false, b'"') => in_str = false,
                (false, _, b'"') => in_str = true,
                (false, _, b'{' | b'[') => depth += 1,
                (false, _, b'}' | b']') => depth -= 1,
                _ => {}
            }
        }
    }
    None
}

#[test]
fn reports_on_several_threads_are_the_one_thread_reports() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path());
    let one = scan(&log, "json", "1");
    let report: Value = serde_json::from_str(&one).unwrap();
    let secrets = report["secrets"].as_array().unwrap();
    assert!(secrets.len() > 1_024, "{} secrets", secrets.len());
    assert_eq!(misindented(&one), None);
    let paths: Vec<&str> = secrets
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.windows(2).all(|w| w[0] < w[1]),
        "secrets sorted by path"
    );
    let ndjson = scan(&log, "ndjson", "1");
    let secret_lines: Vec<String> = ndjson
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["type"] == "secret")
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(secret_lines, paths);
    for threads in ["2", "3", "4"] {
        assert!(scan(&log, "json", threads) == one, "json, -j{threads}");
        assert!(
            scan(&log, "ndjson", threads) == ndjson,
            "ndjson, -j{threads}"
        );
    }
}
