//! Recordings for issue 15's evidence, each played against a fresh OpenBao server with one file
//! audit device and written to fixtures/openbao-2.7/evidence/<case>/ with a `truth.json` made
//! only of what this script did and what the server answered (request ids, accessors,
//! `sys/audit-hash` HMACs, and the lines it deleted from the file):
//!
//! * `seal-cut`: reads, a seal, 3 s sealed, unseal, 50 reads 100 ms apart, of which the script
//!   deletes reads 10..40 (request and response): a 3 s cut after traffic resumed.
//! * `missing-responses`: an attacker token reads six secrets, the operator works for 7 s, the
//!   attacker reads one more; the script deletes the response to the third read (mid-log) and to
//!   the last (the end of the log).
//! * `tenants-namespaces`: namespaces acme, globex, initech (KV v2 at `secret/` in each) and a
//!   KV v1 mount `tenants-v1/` with tenants hooli and umbrella; the attacker reads one secret of
//!   each of the five.
//! * `tenants-layout`: KV v2 `secret/data/tenants/<t>/db` for 14 tenants besides
//!   `secret/data/shared/ca` and `secret/data/web/tls`; the attacker reads all 14 tenants.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::client::{Caller, Issued};
use super::server::{BaoServer, DEVICE};

pub const OPERATOR_IP: &str = "10.0.9.10";
pub const ATTACKER_IP: &str = "203.0.113.66";
pub const APP_IP: &str = "10.0.4.20";
/// Sealed this long: more than the checks' `--gap 2s`.
const SEALED: Duration = Duration::from_secs(3);
/// Reads after the unseal, and the ones the script deletes.
const RESUMED_READS: usize = 50;
const CUT: std::ops::Range<usize> = 10..40;
/// The operator's work between the attacker's reads in `missing-responses`: longer than the
/// 5 s within which an unanswered request counts as possibly in flight.
const OPERATOR_WORK: Duration = Duration::from_secs(7);
pub const NAMESPACES: [&str; 3] = ["acme", "globex", "initech"];
pub const V1_TENANTS: [&str; 2] = ["hooli", "umbrella"];
pub const V1_PATTERN: &str = "^tenants-v1/(?P<tenant>[^/]+)/";
pub const LAYOUT_TENANTS: usize = 14;

/// A recording: the audit log as the script left it, and its truth.
pub struct Recording {
    pub case: &'static str,
    pub log: Vec<u8>,
    pub truth: Value,
}

/// The committed recording of a case.
pub fn fixture_dir(case: &str) -> PathBuf {
    crate::util::fixture(&format!("openbao-2.7/evidence/{case}"))
}

fn request_id(reply: &Value) -> String {
    reply["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no request_id in {reply}"))
        .to_string()
}

/// A child of the root token with `policies`; its accessor as the server returned it, and the
/// accessor's HMAC from the device.
fn attacker_token(op: &Caller<'_>, policies: &[&str]) -> (String, Value) {
    let Issued { token, accessor } = Issued::of(
        &op.write("auth/token/create", json!({"policies": policies}))
            .ok(),
    );
    let truth = json!({"accessor": accessor, "accessor_hmac": op.audit_hash(DEVICE, &accessor)});
    (token, truth)
}

/// The log's lines, with the lines for which `drop` is true removed; returns what was removed
/// as `{line, type, request_id, path}` (line: 1-based in the original file).
fn delete_lines(server: &BaoServer, drop: impl Fn(&Value) -> bool) -> (Vec<String>, Vec<Value>) {
    let text = std::fs::read_to_string(server.audit_log()).expect("audit log");
    let (mut kept, mut deleted) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        let e: Value = serde_json::from_str(line).expect("OpenBao writes JSON lines");
        if drop(&e) {
            deleted.push(json!({
                "original_line": i + 1,
                "type": e["type"],
                "request_id": e["request"]["id"],
                "path": e["request"]["path"],
                "time": e["time"],
            }));
        } else {
            kept.push(line.to_string());
        }
    }
    (kept, deleted)
}

/// 1-based line of the entry of `kind` for `id` in the kept lines, and its time.
fn locate(kept: &[String], id: &str, kind: &str) -> Value {
    kept.iter()
        .enumerate()
        .find_map(|(i, l)| {
            let e: Value = serde_json::from_str(l).ok()?;
            (e["request"]["id"] == id && e["type"] == kind)
                .then(|| json!({"line": i + 1, "time": e["time"]}))
        })
        .unwrap_or_else(|| panic!("no {kind} for {id} in the kept lines"))
}

fn joined(kept: &[String]) -> Vec<u8> {
    (kept.join("\n") + "\n").into_bytes()
}

fn seal_cut() -> Recording {
    let mut server = BaoServer::start();
    let op_token = server.root_token.clone();
    {
        let op = server.http.caller(Some(&op_token), OPERATOR_IP);
        op.mount_kv2("sys/mounts/kv");
        op.write("kv/data/app/db", json!({"data": {"password": "p0"}}))
            .ok();
        op.read("kv/data/app/db").ok();
        op.write("sys/seal", json!({})).ok();
    }
    std::thread::sleep(SEALED);
    server.unseal();
    let op = server.http.caller(Some(&op_token), OPERATOR_IP);
    let ids: Vec<String> = (0..RESUMED_READS)
        .map(|_| {
            let id = request_id(&op.read("kv/data/app/db").ok());
            std::thread::sleep(Duration::from_millis(100));
            id
        })
        .collect();
    let cut: Vec<&String> = ids[CUT].iter().collect();
    let (kept, deleted) = delete_lines(&server, |e| {
        cut.iter().any(|id| e["request"]["id"] == id.as_str())
    });
    assert_eq!(
        deleted.len(),
        2 * cut.len(),
        "a request and a response per read"
    );
    let truth = json!({
        "sealed_seconds": SEALED.as_secs_f64(),
        "reads_after_unseal": RESUMED_READS,
        "deleted_reads": {"from": CUT.start, "to": CUT.end},
        "deleted_lines": deleted,
        "cut_starts_at": locate(&kept, &ids[CUT.start - 1], "response"),
        "cut_ends_at": locate(&kept, &ids[CUT.end], "request"),
    });
    Recording {
        case: "seal-cut",
        log: joined(&kept),
        truth,
    }
}

fn missing_responses() -> Recording {
    let server = BaoServer::start();
    let op = server.root(OPERATOR_IP);
    op.mount_kv2("sys/mounts/kv");
    op.put_policy(
        "reader",
        r#"path "kv/data/app/*" { capabilities = ["read"] }"#,
    );
    let names = ["a", "b", "c", "d", "e", "f", "last"];
    for n in names {
        op.write(&format!("kv/data/app/{n}"), json!({"data": {"v": n}}))
            .ok();
    }
    let (token, attacker) = attacker_token(&op, &["reader"]);
    let p = server.http.caller(Some(&token), ATTACKER_IP);
    let mut reads: Vec<(String, String)> = names[..6]
        .iter()
        .map(|n| {
            let path = format!("kv/data/app/{n}");
            (path.clone(), request_id(&p.read(&path).ok()))
        })
        .collect();
    let steps = OPERATOR_WORK.as_millis() / 200;
    for _ in 0..steps {
        op.read("auth/token/lookup-self").ok();
        std::thread::sleep(Duration::from_millis(200));
    }
    let last = "kv/data/app/last".to_string();
    reads.push((last.clone(), request_id(&p.read(&last).ok())));
    let unanswered = [reads[2].clone(), reads[6].clone()];
    let (kept, deleted) = delete_lines(&server, |e| {
        e["type"] == "response"
            && unanswered
                .iter()
                .any(|(_, id)| e["request"]["id"] == id.as_str())
    });
    assert_eq!(deleted.len(), 2);
    let listed: Vec<Value> = unanswered
        .iter()
        .map(|(path, id)| {
            let at = locate(&kept, id, "request");
            json!({"path": path, "request_id": id, "request_line": at["line"], "time": at["time"]})
        })
        .collect();
    let truth = json!({
        "attacker": attacker,
        "attacker_reads": reads.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        "deleted_lines": deleted,
        "unanswered": {"mid_log": listed[0], "at_end": listed[1]},
    });
    Recording {
        case: "missing-responses",
        log: joined(&kept),
        truth,
    }
}

fn tenants_namespaces() -> Recording {
    let server = BaoServer::start();
    let op = server.root(OPERATOR_IP);
    let mut paths = Vec::new();
    for ns in NAMESPACES {
        op.write(&format!("sys/namespaces/{ns}"), json!({})).ok();
        op.mount_kv2(&format!("{ns}/sys/mounts/secret"));
        op.write(&format!("{ns}/secret/data/db"), json!({"data": {"v": ns}}))
            .ok();
        paths.push(json!({"tenant": ns, "namespace": format!("{ns}/"), "path": "secret/data/db"}));
    }
    op.write("sys/mounts/tenants-v1", json!({"type": "kv"}))
        .ok();
    for t in V1_TENANTS {
        op.write(&format!("tenants-v1/{t}/api"), json!({"v": t}))
            .ok();
        paths.push(json!({"tenant": t, "namespace": null, "path": format!("tenants-v1/{t}/api")}));
    }
    let (token, attacker) = attacker_token(&op, &["root"]);
    let p = server.http.caller(Some(&token), ATTACKER_IP);
    for ns in NAMESPACES {
        p.read(&format!("{ns}/secret/data/db")).ok();
    }
    for t in V1_TENANTS {
        p.read(&format!("tenants-v1/{t}/api")).ok();
    }
    let truth = json!({
        "attacker": attacker,
        "tenant_pattern": V1_PATTERN,
        "secrets_read": paths,
        "tenants": NAMESPACES.iter().chain(&V1_TENANTS).collect::<Vec<_>>(),
    });
    let log = std::fs::read(server.audit_log()).expect("audit log");
    Recording {
        case: "tenants-namespaces",
        log,
        truth,
    }
}

fn tenants_layout() -> Recording {
    let server = BaoServer::start();
    let op = server.root(OPERATOR_IP);
    op.mount_kv2("sys/mounts/secret");
    let tenants: Vec<String> = (1..=LAYOUT_TENANTS).map(|i| format!("t{i:02}")).collect();
    for t in &tenants {
        op.write(
            &format!("secret/data/tenants/{t}/db"),
            json!({"data": {"v": t}}),
        )
        .ok();
    }
    for shared in ["secret/data/shared/ca", "secret/data/web/tls"] {
        op.write(shared, json!({"data": {"v": "x"}})).ok();
    }
    let (app_token, _) = attacker_token(&op, &["root"]);
    let app = server.http.caller(Some(&app_token), APP_IP);
    app.read("secret/data/shared/ca").ok();
    app.read("secret/data/web/tls").ok();
    let (token, attacker) = attacker_token(&op, &["root"]);
    let p = server.http.caller(Some(&token), ATTACKER_IP);
    for t in &tenants {
        p.read(&format!("secret/data/tenants/{t}/db")).ok();
    }
    let truth = json!({
        "attacker": attacker,
        "attacker_tenants": tenants,
        "other_reads": ["secret/data/shared/ca", "secret/data/web/tls"],
    });
    let log = std::fs::read(server.audit_log()).expect("audit log");
    Recording {
        case: "tenants-layout",
        log,
        truth,
    }
}

/// Every case, recorded.
pub fn record_all() -> Vec<Recording> {
    vec![
        seal_cut(),
        missing_responses(),
        tenants_namespaces(),
        tenants_layout(),
    ]
}

/// Regenerates fixtures/openbao-2.7/evidence/ (scripts/record-evidence.sh runs it).
#[test]
#[ignore = "rewrites fixtures/openbao-2.7/evidence/: run by scripts/record-evidence.sh"]
fn record_evidence_fixtures() {
    for r in record_all() {
        let dir = fixture_dir(r.case);
        std::fs::create_dir_all(&dir).expect("fixture dir");
        std::fs::write(dir.join("audit.log"), &r.log).expect("write audit.log");
        let truth = serde_json::to_string_pretty(&r.truth).expect("json") + "\n";
        std::fs::write(dir.join("truth.json"), truth).expect("write truth.json");
    }
}

/// The same checks as on the committed recordings, on fresh ones.
#[test]
fn live_evidence_recordings_pass_every_check() {
    if super::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let recordings = record_all();
    for (name, check) in super::evidence_checks::CHECKS {
        let r = recordings
            .iter()
            .find(|r| r.case == *name)
            .expect("a recording per case");
        let log = dir.path().join(format!("{name}.log"));
        std::fs::write(&log, &r.log).expect("write the recording");
        check(&super::evidence_checks::Case {
            log,
            truth: r.truth.clone(),
        });
    }
}
