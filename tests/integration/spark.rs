//! Apache Spark for real (local mode, one session): every hunt and the breach scope give DuckDB's
//! rows, a `dt` filter prunes partitions, and the PySpark blast job (queries/spark/) gives the
//! answer of `blastradius blast` on the same logs. Needs `pyspark` and a JRE (scripts/test.sh
//! installs them); BLASTRADIUS_SKIP_SPARK=1 skips it on a machine without them.

use std::process::Command;

use serde_json::{Value, json};

use crate::util::{bin, fixture, root};

const P: &str = "hmac-sha256:6f785e6fc2c813828e09769479cb4018abd1167482f28a21bf94b1d6e00a0613";

fn inputs() -> Vec<String> {
    ["openbao-2.7/basic.log", "incident/audit.log"]
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect()
}

fn blast(accessors: &[&str], since: Option<&str>, until: Option<&str>) -> Value {
    let mut c = bin();
    c.arg("blast").args(["-f", "json"]);
    for a in accessors {
        c.args(["--accessor", a]);
    }
    if let Some(s) = since {
        c.args(["--since", s]);
    }
    if let Some(u) = until {
        c.args(["--until", u]);
    }
    let out = c.args(inputs()).output().expect("blast runs");
    serde_json::from_slice(&out.stdout).expect("blast JSON")
}

/// RFC 3339 at microseconds (Spark's precision), `Z`; null stays null.
fn micros(v: &Value) -> Value {
    match v.as_str() {
        Some(s) => {
            let t = chrono::DateTime::parse_from_rfc3339(s).expect("a time");
            json!(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        }
        None => Value::Null,
    }
}

fn pick(rows: &Value, fields: &[&str], times: &[&str]) -> Vec<Value> {
    let mut out: Vec<Value> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            for f in fields {
                o.insert(f.to_string(), r.get(*f).cloned().unwrap_or(Value::Null));
            }
            for f in times {
                o.insert(f.to_string(), micros(r.get(*f).unwrap_or(&Value::Null)));
            }
            Value::Object(o)
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}

fn assert_same(case: &str, spark: &Value, ours: &Value) {
    let tables = [
        (
            "lineage",
            "tokens",
            &[
                "accessor",
                "relation",
                "depth",
                "parent",
                "created_by",
                "role",
                "user",
            ][..],
            &["created_at"][..],
        ),
        (
            "secrets",
            "secrets_read",
            &["path", "secret", "kind", "tenant", "reads", "tokens"],
            &["first_read", "last_read"],
        ),
        (
            "leases",
            "leases",
            &["lease_id", "path", "kind", "tenant", "token"],
            &["issued_at"],
        ),
        (
            "rotation",
            "rotation_targets",
            &["order", "tier", "kind", "target", "action", "tenant"],
            &["first_exposure"],
        ),
    ];
    for (sp, br, fields, times) in tables {
        assert_eq!(
            pick(&spark[sp], fields, times),
            pick(&ours[br], fields, times),
            "{case}: {sp} differs from blast's {br}"
        );
    }
    assert_eq!(
        spark["affected_tenants"], ours["affected_tenants"],
        "{case}"
    );
    assert_eq!(spark["unmatched"], ours["pivots"]["unmatched"], "{case}");
}

#[test]
fn spark_runs_the_hunts_and_the_blast_job_as_duckdb_and_blastradius_do() {
    if std::env::var("BLASTRADIUS_SKIP_SPARK").as_deref() == Ok("1") {
        eprintln!("skipping the Spark test: BLASTRADIUS_SKIP_SPARK=1");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events");
    bin()
        .arg("export")
        .args(inputs())
        .args(["-o", events.to_str().unwrap()])
        .assert()
        .success();
    let cases = [
        ("attacker", vec![P], None, None),
        // From P's first denial to before G exists: P's login and G are outside the window.
        (
            "window",
            vec![P, "hmac-sha256:no-such-accessor"],
            Some("2026-11-27T12:20:31.600Z"),
            Some("2026-11-27T12:20:31.615Z"),
        ),
    ];
    let spec = json!({
        "export": events,
        "hunts": root().join("queries/sql"),
        "breach_scope": root().join("queries/breach_scope.sql"),
        "day": "2026-11-27",
        "blast": cases.iter().map(|(name, acc, since, until)| json!({
            "name": name, "accessors": acc, "since": since, "until": until,
            "out": dir.path().join(name),
        })).collect::<Vec<_>>(),
    });
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, spec.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(root().join("tests/sql/spark.py"))
        .arg(&spec_file)
        .output()
        .expect("python3 runs (scripts/test.sh installs pyspark and a JRE)");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "spark.py failed (BLASTRADIUS_SKIP_SPARK=1 skips it): {summary}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(&summary).expect("summary JSON");
    assert_eq!(
        summary["queries"].as_object().unwrap().len(),
        7,
        "{summary}"
    );
    assert!(
        summary["pruning"]["partition_filters"]
            .as_str()
            .unwrap()
            .contains("dt")
    );
    for (name, acc, since, until) in &cases {
        let text = std::fs::read_to_string(dir.path().join(name).join("result.json")).unwrap();
        let spark: Value = serde_json::from_str(&text).unwrap();
        let ours = blast(acc, *since, *until);
        assert!(!ours["tokens"].as_array().unwrap().is_empty(), "{name}");
        assert_same(name, &spark, &ours);
    }
}
