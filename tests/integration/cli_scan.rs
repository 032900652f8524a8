use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::util::{bin, fixture, lines, scan_json, shift};

fn basic() -> String {
    fixture("openbao-2.7/basic.log").display().to_string()
}

fn write(dir: &std::path::Path, name: &str, lines: &[String]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p.display().to_string()
}

fn gaps_of(r: &Value, kind: &str) -> Vec<Value> {
    r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn reports_the_real_openbao_session() {
    let (code, r) = scan_json(&[&basic()]);
    assert_eq!(code, 0);
    assert_eq!(r["schema_version"], "1.0");
    assert_eq!(r["complete"], true);
    let s = &r["stats"];
    assert_eq!(
        (
            s["entries"].as_u64(),
            s["requests"].as_u64(),
            s["responses"].as_u64()
        ),
        (Some(27), Some(14), Some(13))
    );
    assert_eq!(s["paired_requests"], 13);
    assert_eq!(r["accessed_secrets"], 1);
    assert_eq!(r["secrets"][0]["path"], "kv/data/tenant-a/db");
    assert_eq!(r["secrets"][0]["secret"], "kv/tenant-a/db");
    assert_eq!(r["secrets"][0]["kind"], "kv-v2-read");
    assert_eq!(r["secrets"][0]["readers"][0]["display_name"], "root");
    assert_eq!(r["affected_tenants"], serde_json::json!(["tenant-a"]));
    assert_eq!(r["breach_scope"], "limited");
    let probe = gaps_of(&r, "device-restart");
    assert_eq!(probe.len(), 1);
    assert_eq!(probe[0]["explained_by"], "log-start");
    assert_eq!(probe[0]["evidence"][0]["line"], 1);
    assert_eq!(r["inputs"][0]["events"], 27);
    assert_eq!(r["incident_id"], "INC-20261122-120000");
}

#[test]
fn ndjson_streams_tagged_records_ending_with_the_summary() {
    let out = bin()
        .args(["scan", &basic(), "-f", "ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let recs: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(recs.iter().all(|r| r["type"].is_string()));
    assert!(
        recs.iter()
            .any(|r| r["type"] == "secret" && r["path"] == "kv/data/tenant-a/db")
    );
    let last = recs.last().unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(last["breach_scope"], "limited");
    assert_eq!(recs.iter().filter(|r| r["type"] == "summary").count(), 1);
}

#[test]
fn text_summary_names_scope_and_tenants() {
    let out = bin()
        .args(["scan", &basic(), "-f", "text", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Scope      LIMITED: 1 affected tenant(s)"),
        "{text}"
    );
    assert!(text.contains("tenant-a"));
    assert!(!text.contains('\x1b'), "no colour with --color never");
    let colored = bin()
        .args(["scan", &basic(), "-f", "text", "--color", "always"])
        .output()
        .unwrap();
    assert!(String::from_utf8(colored.stdout).unwrap().contains("\x1b["));
}

#[test]
fn window_filters_entries() {
    let (_, r) = scan_json(&[&basic(), "--since", "2026-11-22T08:10:00Z"]);
    assert_eq!(r["stats"]["outside_window"], 27);
    assert_eq!(r["accessed_secrets"], 0);
    assert_eq!(r["breach_scope"], "none");
    let (_, r) = scan_json(&[&basic(), "--until", "2026-11-22T08:09:14.66Z"]);
    assert_eq!(r["stats"]["outside_window"], 25);
    // Relative durations count back from now (BLASTRADIUS_NOW = 2026-11-22T12:00:00Z).
    let (_, r) = scan_json(&[&basic(), "--since", "4h"]);
    assert_eq!(r["window"]["since"], "2026-11-22T08:00:00Z");
    assert_eq!(r["stats"]["outside_window"], 0);
}

#[test]
fn excluded_tenants_leave_the_affected_list() {
    let (_, r) = scan_json(&[&basic(), "--exclude-tenant", "tenant-a"]);
    assert_eq!(r["affected_tenants"], serde_json::json!([]));
    assert_eq!(r["breach_scope"], "none");
    assert_eq!(r["tenants"][0]["excluded"], true);
}

#[test]
fn tenant_patterns_and_config_files() {
    let (_, r) = scan_json(&[
        &basic(),
        "--tenant-pattern",
        r"^kv/data/tenant-(?P<tenant>[a-z]+)/",
    ]);
    assert_eq!(r["affected_tenants"], serde_json::json!(["a"]));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("blastradius.toml");
    std::fs::write(
        &cfg,
        "tenant_patterns = ['^(?P<tenant>kv)/']\nwidespread_threshold = 0\ngap = '1s'\n",
    )
    .unwrap();
    let (_, r) = scan_json(&[&basic(), "--config", cfg.to_str().unwrap()]);
    assert_eq!(r["affected_tenants"], serde_json::json!(["kv"]));
    assert_eq!(r["breach_scope"], "widespread");
    assert_eq!(r["settings"]["gap_seconds"], 1.0);
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    for args in [
        vec!["scan", "/nonexistent/audit.log"],
        vec!["scan", "x", "--tenant-pattern", "^kv/"],
        vec!["scan", "x", "--tenant-pattern", "("],
        vec!["scan", "x", "--since", "yesterday-ish"],
        vec!["scan", "--bogus"],
        vec!["scan"],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} explains itself");
    }
    let out = bin()
        .args(["scan", &basic(), "--tenant-pattern", "^kv/"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("named group `tenant`"));
}

#[test]
fn malformed_lines_are_located_counted_and_make_the_input_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let mut ls = lines(&fixture("openbao-2.7/basic.log"));
    ls[5] = ls[5][..300].to_string(); // a truncated write
    ls.insert(10, "garbage \x1b[31m not json".to_string());
    let p = write(dir.path(), "audit.log", &ls);
    let (code, r) = scan_json(&[&p]);
    assert_eq!(code, 3);
    assert_eq!(r["complete"], false);
    assert_eq!(r["stats"]["malformed_lines"], 2);
    assert_eq!(r["stats"]["entries"], 26);
    let m = &r["malformed"];
    assert_eq!(
        (m[0]["line"].as_u64(), m[0]["kind"].as_str()),
        (Some(6), Some("invalid-json"))
    );
    let offset: usize = ls[..5].iter().map(|l| l.len() + 1).sum();
    assert_eq!(m[0]["offset"], offset);
    assert_eq!(
        (m[1]["line"].as_u64(), m[1]["kind"].as_str()),
        (Some(11), Some("not-json"))
    );
    assert!(gaps_of(&r, "malformed-region").len() == 2);
    let (code, _) = scan_json(&[&p, "--max-malformed", "2"]);
    assert_eq!(code, 0);
}

#[test]
fn prefixed_syslog_and_crlf_lines_parse() {
    let dir = tempfile::tempdir().unwrap();
    let ls: Vec<String> = lines(&fixture("openbao-2.7/basic.log"))
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if i % 2 == 0 {
                format!("<134>Nov 22 08:09:14 bao vault[1]: {l}\r")
            } else {
                format!("AUDIT: {l} ")
            }
        })
        .collect();
    let p = write(dir.path(), "audit.log", &ls);
    let (code, r) = scan_json(&[&p]);
    assert_eq!(code, 0);
    assert_eq!(r["stats"]["entries"], 27);
    assert_eq!(r["stats"]["prefixed_lines"], 27);
    assert_eq!(r["accessed_secrets"], 1);
}

#[test]
fn the_same_entries_in_two_devices_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let ls = lines(&fixture("openbao-2.7/basic.log"));
    let a = write(dir.path(), "device-a.log", &ls);
    let b = write(dir.path(), "device-b.log", &ls);
    let (_, r) = scan_json(&[&a, &b]);
    assert_eq!(r["stats"]["duplicates"], 27);
    assert_eq!(r["stats"]["requests"], 14);
    assert_eq!(r["secrets"][0]["reads"], 1);
}

#[test]
fn holes_between_rotated_files_and_quiet_periods() {
    let dir = tempfile::tempdir().unwrap();
    let ls = shift(&lines(&fixture("openbao-2.7/basic.log")), 13, 3600);
    let older = write(dir.path(), "audit.log.1", &ls[..13]);
    let newer = write(dir.path(), "audit.log", &ls[13..]);
    let (_, r) = scan_json(&[&older, &newer]);
    let holes = gaps_of(&r, "rotation-hole");
    assert_eq!(holes.len(), 1, "{:#}", r["gaps"]);
    assert!(holes[0]["seconds"].as_f64().unwrap() > 3590.0);
    assert!(holes[0]["explained_by"].is_null());
    // The same content in one file is a quiet period, not a rotation hole.
    let one = write(dir.path(), "single.log", &ls);
    let (_, r) = scan_json(&[&one]);
    assert_eq!(gaps_of(&r, "quiet-period").len(), 1);
    assert_eq!(r["unexplained_gaps"], 1);
}

#[test]
fn a_removed_response_is_a_missing_response_and_a_removed_request_a_missing_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut ls = shift(&lines(&fixture("openbao-2.7/basic.log")), 20, 600);
    ls.remove(10); // the response of the root's secret read
    ls.remove(10); // the request of sys/auth/approle (was line 11)
    let p = write(dir.path(), "audit.log", &ls);
    let (_, r) = scan_json(&[&p]);
    let missing = gaps_of(&r, "missing-response");
    assert_eq!(missing.len(), 1, "{:#}", r["gaps"]);
    assert!(
        missing[0]["detail"]
            .as_str()
            .unwrap()
            .contains("kv/data/tenant-a/db")
    );
    let orphan = gaps_of(&r, "missing-request");
    assert_eq!(orphan.len(), 1);
    assert!(
        orphan[0]["detail"]
            .as_str()
            .unwrap()
            .contains("sys/auth/approle")
    );
    assert!(orphan[0]["explained_by"].is_null());
    // Without its response, the read is not a confirmed secret access.
    assert_eq!(r["accessed_secrets"], 0);
}

#[test]
fn time_going_backwards_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let ls = lines(&fixture("openbao-2.7/basic.log"));
    let mut back = shift(&ls, 0, 0);
    let late = shift(&ls, 0, 7200);
    back[20] = late[20].clone();
    let p = write(dir.path(), "audit.log", &back);
    let (_, r) = scan_json(&[&p]);
    let tb = gaps_of(&r, "time-backwards");
    assert_eq!(tb.len(), 1, "{:#}", r["gaps"]);
    assert_eq!(tb[0]["evidence"][1]["line"], 22);
}

#[test]
fn output_files_are_private_and_replace_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let res = bin()
        .args(["scan", &basic(), "-o", out.to_str().unwrap(), "-f", "json"])
        .output()
        .unwrap();
    assert!(res.status.success());
    assert!(res.stdout.is_empty());
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["command"], "scan");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );
}

#[test]
fn hostile_strings_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut ls = lines(&fixture("openbao-2.7/basic.log"));
    for l in ls.iter_mut() {
        *l = l.replace(
            "kv/data/tenant-a/db",
            "kv/data/tenant-a/\\u001b]0;pwned\\u0007\\u001b[2J",
        );
    }
    let p = write(dir.path(), "audit.log", &ls);
    let out = bin()
        .args(["scan", &p, "-f", "text", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
    assert!(text.contains("\\x1b]0;pwned\\x07"), "{text}");
}

#[test]
fn reads_stdin_and_gzip_by_magic_not_name() {
    let ls = std::fs::read(fixture("openbao-2.7/basic.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("audit.log.1"); // no .gz suffix on purpose
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&ls).unwrap();
    enc.finish().unwrap();
    let (_, r) = scan_json(&[gz.to_str().unwrap()]);
    assert_eq!(r["inputs"][0]["compression"], "gzip");
    assert_eq!(r["stats"]["entries"], 27);
    let out = bin()
        .args(["scan", "-", "-f", "json"])
        .write_stdin(ls)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"][0]["path"], "-");
    assert_eq!(v["stats"]["entries"], 27);
}

#[test]
fn truncated_gzip_keeps_what_was_read_and_exits_3() {
    let ls = std::fs::read(fixture("openbao-2.7/basic.log")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&ls).unwrap();
    let gz = enc.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.log.gz");
    std::fs::write(&p, &gz[..gz.len() * 2 / 3]).unwrap();
    let (code, r) = scan_json(&[p.to_str().unwrap()]);
    assert_eq!(code, 3);
    let err = r["inputs"][0]["error"].as_str().unwrap();
    assert!(err.contains("truncated"), "{err}");
    assert!(
        r["stats"]["entries"].as_u64().unwrap() > 5,
        "entries before the cut are kept"
    );
}

#[test]
fn completions_and_man_page_render() {
    for args in [vec!["completions", "bash"], vec!["man"]] {
        let out = bin().args(&args).output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("blastradius"));
    }
}

#[test]
fn every_line_is_accounted_for_including_long_and_partial_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut ls = lines(&fixture("openbao-2.7/basic.log"));
    ls.insert(3, String::new());
    ls.insert(
        7,
        format!("{{\"type\":\"request\",\"pad\":\"{}\"}}", "x".repeat(5000)),
    );
    let mut text = ls.join("\n") + "\n";
    text.push_str(&ls[20][..100]); // a write in progress: no newline, cut short
    let p = dir.path().join("audit.log");
    std::fs::write(&p, text).unwrap();
    for mmap in ["always", "never"] {
        let (code, r) = scan_json(&[
            p.to_str().unwrap(),
            "--max-line-bytes",
            "4K",
            "--mmap",
            mmap,
            "--chunk-size",
            "2K",
        ]);
        let s = &r["stats"];
        let n = |k: &str| s[k].as_u64().unwrap();
        assert_eq!(n("lines"), 30, "{mmap}");
        assert_eq!(
            n("lines"),
            n("blank_lines") + n("entries") + n("malformed_lines") + n("partial_last_lines"),
            "{mmap}: {s:#}"
        );
        assert_eq!(
            (
                n("blank_lines"),
                n("malformed_lines"),
                n("partial_last_lines")
            ),
            (1, 1, 1),
            "{mmap}"
        );
        assert_eq!(r["malformed"][0]["kind"], "line-too-long");
        assert_eq!(r["malformed"][0]["line"], 8);
        assert_eq!(code, 3);
    }
}

#[test]
fn wholesale_missing_responses_stay_bounded_and_counted() {
    // 3,000 requests without responses and 3,000 responses without requests, two minutes apart.
    let dir = tempfile::tempdir().unwrap();
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
    let ls: Vec<String> = (0..3000i64)
        .map(|i| {
            let time = (base + chrono::Duration::minutes(2 * i)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let kind = if i % 2 == 0 { "request" } else { "response" };
            format!(r#"{{"time":"{time}","type":"{kind}","auth":{{"accessor":"hmac-sha256:a","policies":["default"]}},"request":{{"id":"id-{i}","operation":"read","path":"kv/data/t{i}/x"}}}}"#)
        })
        .collect();
    let p = dir.path().join("audit.log");
    std::fs::write(&p, ls.join("\n") + "\n").unwrap();
    let (_, r) = scan_json(&[p.to_str().unwrap(), "--chunk-size", "64M"]);
    let s = &r["stats"];
    assert_eq!(s["unanswered_requests"], 1500);
    assert_eq!(s["orphan_responses"], 1500);
    assert!(
        s["early_analysed_requests"].as_u64().unwrap() > 0,
        "more than 1,024 open requests in one chunk"
    );
    assert_eq!(gaps_of(&r, "missing-response").len(), 1000);
    assert_eq!(gaps_of(&r, "missing-request").len(), 1000);
    assert_eq!(r["gaps_omitted"]["missing-response"], 500);
    assert_eq!(r["gaps_omitted"]["missing-request"], 500);
    assert!(r["unexplained_gaps"].as_u64().unwrap() >= 3000);
    // Analysis of unanswered requests still ran for every one of them.
    assert_eq!(s["evaluated"], 3000);
}
