//! Hostile content in what blastradius writes: no clear token reaches any output, state file or
//! export (fixtures/hostile/tokens.log), and entries Vault cannot have written (duplicate keys,
//! wrong types) are counted and located as malformed on every path.

use std::fs::File;
use std::path::Path;

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use crate::util::{bin, fixture, scan_json};

/// The token bodies written into tokens.log (scripts/make-hostile-fixtures.py), without their
/// prefixes: none may appear in any output, whatever it is wrapped in.
const BODIES: [&str; 3] = [
    "CAESIJ3xkVd8JjQvbzMo",
    "AAAAAQJgxDgqsGNorpoO",
    "Hh3nJ6ZyB1Fq9ePn8dmx",
];

fn tokens_log() -> String {
    fixture("hostile/tokens.log").display().to_string()
}

/// Panics if `text` holds anything token-shaped.
fn assert_no_token(what: &str, text: &str) {
    let shape = regex::Regex::new(r"\b(hvs|hvb|hvr|s|b|r)\.[A-Za-z0-9_-]{20,}").unwrap();
    if let Some(m) = shape.find(text) {
        panic!("{what}: clear token {:?}", m.as_str());
    }
    for body in BODIES {
        assert!(!text.contains(body), "{what}: token body {body}");
    }
}

fn stdout_of(cmd: &str, args: &[&str]) -> String {
    let out = bin().arg(cmd).args(args).output().expect("runs");
    assert!(
        out.status.code().is_some_and(|c| c != 2),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn no_scan_format_carries_a_clear_token() {
    let log = tokens_log();
    for format in ["text", "json", "ndjson", "markdown", "html"] {
        let out = stdout_of("scan", &[&log, "-f", format, "--color", "never"]);
        assert!(out.len() > 200, "{format}: a report was written");
        assert_no_token(&format!("scan -f {format}"), &out);
    }
    let (_, r) = scan_json(&[&log]);
    let tenants: Vec<&str> = r["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["tenant"].as_str())
        .collect();
    assert!(
        tenants.contains(&"hvb.<redacted>"),
        "the token below the mount is the tenant, redacted: {tenants:?}"
    );
}

#[test]
fn no_blast_or_rotation_format_carries_a_clear_token() {
    let log = tokens_log();
    for format in ["text", "json", "ndjson", "csv", "markdown", "html"] {
        let out = stdout_of("blast", &[&log, "--ip", "127.0.0.1", "-f", format]);
        assert_no_token(&format!("blast -f {format}"), &out);
    }
    for format in ["csv", "json", "ndjson"] {
        let out = stdout_of("rotation-list", &[&log, "--ip", "127.0.0.1", "-f", format]);
        assert_no_token(&format!("rotation-list -f {format}"), &out);
    }
}

#[test]
fn no_alert_or_state_carries_a_clear_token() {
    let log = tokens_log();
    for format in ["ndjson", "ocsf", "ecs"] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let alerts = stdout_of(
            "scan",
            &[
                &log,
                "-f",
                "json",
                "-o",
                dir.path().join("r.json").to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
                "--alerts",
                "-",
                "--alert-format",
                format,
            ],
        );
        assert!(!alerts.is_empty(), "{format}: the log raises alerts");
        assert_no_token(&format!("alerts {format}"), &alerts);
        let state = std::fs::read_to_string(&state).expect("state written");
        assert_no_token("state file", &state);
    }
}

/// Every cell of every row, as text.
fn cells(batches: &[RecordBatch]) -> String {
    let opts = arrow::util::display::FormatOptions::default();
    let mut out = String::new();
    for b in batches {
        for c in b.columns() {
            let f = arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &opts).unwrap();
            for r in 0..b.num_rows() {
                out.push_str(&f.value(r).to_string());
                out.push('\n');
            }
        }
    }
    out
}

fn export_to(path: &Path, format: &str) {
    let out = bin()
        .args(["export", &tokens_log(), "-f", format, "-o"])
        .arg(path)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_exported_cell_carries_a_clear_token() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("events.parquet");
    export_to(&parquet, "parquet");
    let batches: Vec<RecordBatch> =
        ParquetRecordBatchReaderBuilder::try_new(File::open(&parquet).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let text = cells(&batches);
    assert!(text.contains("auth/token/lookup/s.<redacted>"), "{text}");
    assert!(text.contains("permission denied for hvb.<redacted>"));
    assert_no_token("parquet", &text);

    let arrow_file = dir.path().join("events.arrow");
    export_to(&arrow_file, "arrow");
    let batches: Vec<RecordBatch> =
        arrow::ipc::reader::FileReader::try_new(File::open(&arrow_file).unwrap(), None)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    assert_no_token("arrow", &cells(&batches));
    // Uncompressed: the bytes themselves, footers and dictionaries included.
    assert_no_token(
        "arrow bytes",
        &String::from_utf8_lossy(&std::fs::read(&arrow_file).unwrap()),
    );
}

/// An independent reader (DuckDB) sees no token in the Parquet file either.
#[test]
fn duckdb_reads_no_clear_token_from_the_parquet_export() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("events.parquet");
    export_to(&parquet, "parquet");
    let script = "import duckdb,sys,json\n\
        rows = duckdb.sql(f\"select * from read_parquet('{sys.argv[1]}')\").fetchall()\n\
        print(json.dumps([[str(c) for c in r] for r in rows]))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&parquet)
        .output()
        .expect("python3 with duckdb");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 27);
    assert_no_token("duckdb", &rows.to_string());
}

/// (line, kind) of every entry of malformed-shapes.log that Vault cannot have written.
const BAD_SHAPES: [(u64, &str); 8] = [
    (3, "duplicate-key"),
    (6, "duplicate-key"),
    (11, "duplicate-key"),
    (14, "wrong-type"),
    (15, "wrong-type"),
    (17, "wrong-type"),
    (19, "wrong-type"),
    (21, "wrong-type"),
];

fn located(r: &Value) -> Vec<(u64, String)> {
    r["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert!(m["offset"].as_u64().unwrap() > 0 && m["file"].is_string());
            (
                m["line"].as_u64().unwrap(),
                m["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn duplicate_keys_and_wrong_types_are_malformed_on_every_read_path() {
    let log = fixture("hostile/malformed-shapes.log")
        .display()
        .to_string();
    let want: Vec<(u64, String)> = BAD_SHAPES
        .iter()
        .map(|(l, k)| (*l, k.to_string()))
        .collect();
    for mmap in ["always", "never"] {
        let (code, r) = scan_json(&[&log, "--mmap", mmap]);
        assert_eq!(
            code, 3,
            "--mmap {mmap}: malformed lines make the input incomplete"
        );
        assert_eq!(located(&r), want, "--mmap {mmap}");
        assert_eq!(r["stats"]["malformed_lines"], 8);
        assert_eq!(r["stats"]["entries"], 19);
        assert_eq!(r["stats"]["malformed_by_kind"]["duplicate-key"], 3);
        assert_eq!(r["stats"]["malformed_by_kind"]["wrong-type"], 5);
    }
    let out = bin()
        .args(["scan", "-", "-f", "json"])
        .write_stdin(std::fs::read(&log).unwrap())
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(located(&r), want, "standard input");
    // Neither a duplicate `type` nor a duplicate `path` is read as the other.
    let (_, r) = scan_json(&[&log]);
    assert!(!r.to_string().contains("sys/health"));
}

#[test]
fn export_skips_and_locates_the_same_entries() {
    let log = fixture("hostile/malformed-shapes.log");
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("export")
        .arg(&log)
        .arg("-o")
        .arg(dir.path().join("e.parquet"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (line, kind) in BAD_SHAPES {
        assert!(
            stderr.contains(&format!("malformed-shapes.log:{line} (byte "))
                && stderr.contains(kind),
            "line {line} {kind}: {stderr}"
        );
    }
    assert!(stderr.contains("19 rows from 27 lines"), "{stderr}");
}
