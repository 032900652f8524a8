//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A project fixture.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// The shared real-world corpus, found by walking up from the checkout (it sits beside it).
pub fn corpus_dir() -> PathBuf {
    let mut dir: Option<&Path> = Some(Path::new(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let c = d.join("shared/corpus");
        if c.is_dir() {
            return c;
        }
        dir = d.parent();
    }
    panic!("../shared/corpus not found beside the checkout: the corpus tests need it (see README)");
}

/// The binary, with a fixed clock so reports are reproducible.
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("blastradius").expect("binary built");
    c.env("BLASTRADIUS_NOW", "2026-11-22T12:00:00Z")
        .env_remove("NO_COLOR");
    c
}

/// The standard output of a run that must succeed; the assertion shows its standard error.
pub fn stdout_of_success(mut cmd: Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `blastradius scan <args> -f json` and parses the report; returns (exit code, report).
pub fn scan_json(args: &[&str]) -> (i32, Value) {
    let out = bin()
        .arg("scan")
        .args(args)
        .args(["-f", "json"])
        .output()
        .expect("runs");
    let code = out.status.code().expect("exit code");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

/// The lines of a fixture as strings.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("readable")
        .lines()
        .map(str::to_string)
        .collect()
}

/// The paths at which two JSON values differ (at most 20), for readable assertion messages.
pub fn json_diff(a: &Value, b: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
        if out.len() >= 20 {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    walk(
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        &format!("{path}.{k}"),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(p, q, &format!("{path}[{i}]"), out);
                }
            }
            _ if a != b => {
                let short = |v: &Value| v.to_string().chars().take(160).collect::<String>();
                out.push(format!("{path}: {} != {}", short(a), short(b)));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(a, b, "", &mut out);
    out
}

/// Rewrites `time` of every entry from index `from` on, `secs` later.
pub fn shift(lines: &[String], from: usize, secs: i64) -> Vec<String> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i < from {
                return l.clone();
            }
            let mut v: Value = serde_json::from_str(l).unwrap();
            let t = chrono::DateTime::parse_from_rfc3339(v["time"].as_str().unwrap()).unwrap();
            let t = t + chrono::Duration::seconds(secs);
            v["time"] = Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
            serde_json::to_string(&v).unwrap()
        })
        .collect()
}
