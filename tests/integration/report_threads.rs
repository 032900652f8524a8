//! The end of a run on several threads: the suspects ranked beside the secret table's building,
//! the `secrets` of `scan`'s JSON and NDJSON reports, the lists of `blast -f json` and the
//! array of `rotation-list -f json` rendered in chunks on the pool (src/report/parallel.rs).
//! Every byte must be the one-thread report's.
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
    run(log, &["scan", "-f", format], threads)
}

fn run(log: &Path, args: &[&str], threads: &str) -> String {
    let mut cmd = bin();
    cmd.arg("-q").args(args).args(["-j", threads]).arg(log);
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

/// `blast` over every address of the log (its lists run to thousands) and its rotation list.
#[test]
fn blast_and_rotation_lists_on_several_threads_are_the_one_thread_ones() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path());
    let blast = ["blast", "--ip", "10.0.0.0/8", "-f", "json"];
    let list = ["rotation-list", "--ip", "10.0.0.0/8", "-f", "json"];
    let one = run(&log, &blast, "1");
    let report: Value = serde_json::from_str(&one).unwrap();
    let targets = report["rotation_targets"].as_array().unwrap().len();
    assert!(targets > 1_024, "{targets} rotation targets");
    assert_eq!(misindented(&one), None);
    let list_one = run(&log, &list, "1");
    assert_eq!(misindented(&list_one), None);
    let listed: Value = serde_json::from_str(&list_one).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), targets);
    for threads in ["2", "4"] {
        assert!(run(&log, &blast, threads) == one, "blast, -j{threads}");
        assert!(
            run(&log, &list, threads) == list_one,
            "rotation-list, -j{threads}"
        );
    }
}
