//! SQL hunts (`queries/sql/`): portable (sqlglot parses them for Trino, Spark and DuckDB), useful
//! (DuckDB finds something with each on the shipped logs' export) and, with the `sql` feature,
//! answered identically by the embedded engine.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{bin, fixture, root};

fn hunts_script() -> PathBuf {
    root().join("tests/sql/hunts.py")
}

fn hunt_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("queries/sql"))
        .expect("queries/sql")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    files
}

/// Two shipped logs days apart: an incident, and a short session (a quiet period between).
fn inputs() -> Vec<String> {
    ["openbao-2.7/basic.log", "incident/audit.log"]
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect()
}

fn python(args: &[&str], stdin: Option<&[u8]>) -> Value {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg(hunts_script())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/test.sh installs duckdb and sqlglot)");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("python3 finishes");
    assert!(
        out.status.success(),
        "hunts.py {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn export_dir(dir: &Path) -> PathBuf {
    let out = dir.join("events");
    bin()
        .arg("export")
        .args(inputs())
        .args(["-o", out.to_str().unwrap()])
        .assert()
        .success();
    out
}

fn rows(result: &Value) -> &Vec<Value> {
    result["rows"].as_array().expect("rows")
}

#[test]
fn hunts_parse_for_trino_spark_and_duckdb() {
    let out = Command::new("python3")
        .arg(hunts_script())
        .args(["dialects", root().join("queries/sql").to_str().unwrap()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_hunt_finds_something_on_duckdb_over_the_parquet_export() {
    let dir = tempfile::tempdir().unwrap();
    let events = export_dir(dir.path());
    for file in hunt_files() {
        let result = python(
            &["duckdb", events.to_str().unwrap(), file.to_str().unwrap()],
            None,
        );
        assert!(
            !rows(&result).is_empty(),
            "{} found nothing",
            file.display()
        );
    }
    let q = |name: &str| {
        let f = root().join("queries/sql").join(format!("{name}.sql"));
        python(
            &["duckdb", events.to_str().unwrap(), f.to_str().unwrap()],
            None,
        )
    };
    // The denied read in basic.log came from 203.0.113.7.
    let denials = q("denials_by_address");
    let addr = denials["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == "remote_address")
        .unwrap();
    assert!(rows(&denials).iter().any(|r| r[addr] == "203.0.113.7"));
    // The logs were recorded days apart: one quiet period at least that long.
    let quiet = q("quiet_periods");
    assert!(
        rows(&quiet)
            .iter()
            .any(|r| r[2].as_i64().unwrap() > 86_400_000),
        "{quiet}"
    );
}

#[cfg(feature = "sql")]
#[test]
fn the_embedded_engine_agrees_with_duckdb_on_every_hunt() {
    let dir = tempfile::tempdir().unwrap();
    let events = export_dir(dir.path());
    for file in hunt_files() {
        let ours = bin()
            .arg("query")
            .args(["--file", file.to_str().unwrap(), "-f", "json"])
            .args(inputs())
            .output()
            .expect("runs");
        assert!(
            ours.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&ours.stderr)
        );
        let ours = python(&["normalise"], Some(&ours.stdout));
        let duck = python(
            &["duckdb", events.to_str().unwrap(), file.to_str().unwrap()],
            None,
        );
        assert_eq!(
            ours,
            duck,
            "{} differs between polars and DuckDB",
            file.display()
        );
    }
}

#[cfg(feature = "sql")]
#[test]
fn ad_hoc_sql_and_hunts_by_name_render_as_csv_and_text() {
    let csv = bin()
        .arg("query")
        .arg("SELECT path, COUNT(*) AS reads FROM events WHERE is_secret_read GROUP BY path ORDER BY path")
        .arg(fixture("openbao-2.7/basic.log"))
        .args(["-f", "csv"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&csv.get_output().stdout).into_owned();
    assert_eq!(text, "path,reads\nkv/data/tenant-a/db,1\n");
    let bad = bin()
        .arg("query")
        .arg("SELECT nope FROM events")
        .arg(fixture("openbao-2.7/basic.log"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&bad.get_output().stderr).into_owned();
    assert!(err.contains("query failed"), "{err}");
}

#[cfg(not(feature = "sql"))]
#[test]
fn without_the_sql_feature_query_explains_how_to_get_an_engine() {
    let out = bin()
        .arg("query")
        .args(["--hunt", "quiet_periods"])
        .arg(fixture("openbao-2.7/basic.log"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("--features sql") && err.contains("export"),
        "{err}"
    );
    // Before any input is read: a path that does not exist is not even looked at.
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("query")
        .args(["--hunt", "quiet_periods"])
        .arg(dir.path().join("missing.log"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("no SQL engine") && !err.contains("missing.log"),
        "{err}"
    );
}

#[test]
fn hunts_are_listed_and_unknown_names_are_usage_errors() {
    let out = bin().args(["query", "--list"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for file in hunt_files() {
        let name = file.file_stem().unwrap().to_str().unwrap();
        assert!(text.contains(name), "{name} missing from --list");
    }
    bin()
        .args(["query", "--hunt", "no_such_hunt"])
        .arg(fixture("openbao-2.7/basic.log"))
        .assert()
        .code(2);
}
