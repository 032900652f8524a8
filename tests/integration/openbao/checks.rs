//! What a responder must see in the incident's audit log, checked from blastradius's JSON and
//! CSV output. Shared by the live tests and the committed-fixture tests.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::Truth;
use super::scenario::{
    ATTACKER_IP, BILLING_SERVICE_IP, DB_TENANTS, FAILED_LOGINS, HUMAN, HUMAN_READS, LEAKED_ROLE,
    P_DENIED, PKI_ISSUE, RELAY_IP, TENANTS, benign_only_reads, lineage_reads, lineage_tenants,
};
use crate::util::bin;

/// The `id` of a built-in rule, from its file in queries/rules/.
fn rule_id(name: &str) -> String {
    let path = crate::util::root().join(format!("queries/rules/{name}.yml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap_or_else(|| panic!("{path:?} has no id"))
        .trim()
        .to_string()
}

fn finding<'a>(r: &'a Value, rule: &str) -> &'a Value {
    let id = rule_id(rule);
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no {rule} finding in {:#}", r["findings"]))
}

fn gaps<'a>(r: &'a Value, kind: &str) -> Vec<&'a Value> {
    r["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter(|g| g["kind"] == kind)
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string"))
        .collect()
}

fn field<'a>(records: &'a Value, key: &str) -> Vec<&'a str> {
    records
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {records}"))
        .iter()
        .map(|r| r[key].as_str().unwrap_or_else(|| panic!("no {key} in {r}")))
        .collect()
}

/// A time from the log or a report. Compared as instants: OpenBao drops trailing zeros of the
/// fraction (`.84416537Z`), reports keep nine digits (`.844165370Z`).
fn instant(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    let s = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The binary, with a deadline: a hung run fails the test instead of stalling the suite.
fn blastradius() -> assert_cmd::Command {
    let mut c = bin();
    c.timeout(std::time::Duration::from_secs(120));
    c
}

/// The log's entries, parsed.
fn entries(log: &Path) -> Vec<Value> {
    crate::util::lines(log)
        .iter()
        .map(|l| serde_json::from_str(l).expect("the recording is JSON lines"))
        .collect()
}

fn scan(log: &Path) -> Value {
    let out = blastradius()
        .args(["scan", "--gap", "2s", "-f", "json"])
        .arg(log)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "scan: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `scan`: tenants, scope, the attack's findings, and both pauses (one explained by the seal).
pub fn scan_report(log: &Path) {
    let r = scan(log);
    assert_eq!(r["complete"], true);
    assert_eq!(strings(&r["affected_tenants"]), TENANTS);
    assert_eq!(r["breach_scope"], "widespread");
    // Twelve billing secrets, the `db` secrets, and the certificate.
    assert_eq!(r["accessed_secrets"], TENANTS.len() + DB_TENANTS.len() + 1);

    let denied = finding(&r, "vault_permission_denied");
    assert_eq!(denied["count"], P_DENIED.len());
    assert_eq!(denied["actors"][0]["remote_address"], ATTACKER_IP);
    assert_eq!(finding(&r, "vault_failed_login")["count"], FAILED_LOGINS);
    let by_address = finding(&r, "vault_failed_login_burst_by_address");
    assert_eq!(
        by_address["group"],
        serde_json::json!([["request.remote_address", ATTACKER_IP]])
    );
    assert_eq!(by_address["severity"], "P1");
    let by_account = finding(&r, "vault_failed_login_burst_by_account");
    assert_eq!(
        by_account["group"][0][1],
        format!("auth/userpass/login/{HUMAN}")
    );

    // The seal's quiet period starts at the sys/seal request and is explained by it; the
    // silence before it is not explained by anything.
    let log_entries = entries(log);
    let seal_at = log_entries
        .iter()
        .find(|e| e["request"]["path"] == "sys/seal")
        .expect("sys/seal is logged")["time"]
        .clone();
    let quiet = gaps(&r, "quiet-period");
    assert_eq!(quiet.len(), 2, "{:#}", r["gaps"]);
    let (silence, sealed) = (quiet[0], quiet[1]);
    assert_eq!(sealed["explained_by"], "seal");
    assert_eq!(instant(&sealed["start"]), instant(&seal_at));
    assert!(silence["explained_by"].is_null());
    assert!(silence["seconds"].as_f64().expect("seconds") >= 3.0);
    let last_attack_read = log_entries
        .iter()
        .rfind(|e| e["request"]["path"] == HUMAN_READS[1])
        .expect("the attacker's last read")["time"]
        .clone();
    assert_eq!(instant(&silence["start"]), instant(&last_attack_read));
    assert_eq!(r["unexplained_gaps"], 1, "{:#}", r["gaps"]);
    assert!(gaps(&r, "missing-response").is_empty(), "{:#}", r["gaps"]);
    assert!(gaps(&r, "missing-request").is_empty(), "{:#}", r["gaps"]);
}

/// Lines removed from the middle (the billing service's morning) leave a hole the scan
/// reports: an unexplained quiet period exactly over the cut, and a response whose request
/// was cut.
pub fn cut(log: &Path) {
    let lines = crate::util::lines(log);
    let es = entries(log);
    let time = |i: usize| instant(&es[i]["time"]);
    // Keep the service's first billing read request; cut its response and what follows until
    // a response more than two seconds later, whose request is cut too.
    let first = es
        .iter()
        .position(|e| {
            e["type"] == "request"
                && e["request"]["remote_address"] == BILLING_SERVICE_IP
                && e["request"]["path"] == "kv/data/acme/billing"
        })
        .expect("the service's morning read");
    let resume = (first + 1..es.len())
        .find(|&j| {
            es[j]["type"] == "response"
                && (time(j) - time(first)).num_milliseconds() > 2200
                && es[j - 1]["request"]["id"] == es[j]["request"]["id"]
        })
        .expect("a response more than two seconds later");
    let kept: Vec<&String> = lines[..=first].iter().chain(&lines[resume..]).collect();
    assert!(
        kept.len() + 6 <= lines.len(),
        "several entries cut: {first}..{resume}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let cut_log = dir.path().join("audit.log");
    let text: String = kept.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&cut_log, text).expect("write the cut log");

    let whole = scan(log);
    let r = scan(&cut_log);
    let hole = gaps(&r, "quiet-period")
        .into_iter()
        .find(|g| instant(&g["start"]) == instant(&es[first]["time"]))
        .unwrap_or_else(|| panic!("no quiet period at the cut: {:#}", r["gaps"]));
    assert_eq!(instant(&hole["end"]), instant(&es[resume]["time"]));
    assert!(hole["explained_by"].is_null());
    assert_eq!(
        r["unexplained_gaps"].as_u64().expect("count"),
        whole["unexplained_gaps"].as_u64().expect("count") + 2,
        "the hole and the orphaned response: {:#}",
        r["gaps"]
    );
    let orphans = gaps(&r, "missing-request");
    assert_eq!(orphans.len(), 1, "{:#}", r["gaps"]);
    assert_eq!(instant(&orphans[0]["start"]), instant(&es[resume]["time"]));
    assert!(orphans[0]["explained_by"].is_null());
    // The cut response's request is unanswered; it is within a minute of the end of this short
    // recording, so it counts as possibly still in flight rather than as a gap.
    let stat = |r: &Value, k: &str| r["stats"][k].as_u64().expect("stat");
    assert_eq!(
        stat(&r, "unanswered_requests"),
        stat(&whole, "unanswered_requests") + 1
    );
    assert_eq!(stat(&r, "orphan_responses"), 1);
}

fn blast(log: &Path, pivot: &[&str]) -> Value {
    let out = blastradius()
        .arg("blast")
        .args(pivot)
        .args(["-f", "json"])
        .arg(log)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "blast {pivot:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Nothing only benign callers read is in the report, and every secret there was read by a
/// token in the report, once (the billing service read some of the same secrets).
fn no_benign_reads(r: &Value) {
    let paths: BTreeSet<&str> = field(&r["secrets_read"], "path").into_iter().collect();
    for benign in benign_only_reads() {
        assert!(!paths.contains(benign.as_str()), "{benign} in {paths:?}");
    }
    let tokens: BTreeSet<&str> = field(&r["tokens"], "accessor").into_iter().collect();
    for s in r["secrets_read"].as_array().expect("secrets_read") {
        assert_eq!(s["reads"], 1, "{s}");
        for t in strings(&s["tokens"]) {
            assert!(
                tokens.contains(t),
                "{t} read {} but is not in scope",
                s["path"]
            );
        }
    }
}

/// `blast --token <HMAC of P>`: P, its child and grandchild, exactly what they read, the
/// certificate's lease, P's denials; none of the benign reads.
pub fn blast_token(log: &Path, truth: &Truth) {
    let r = blast(log, &["--token", &truth.attacker_token]);
    let tokens: Vec<(&str, &str, u64)> = r["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| {
            (
                t["accessor"].as_str().expect("accessor"),
                t["relation"].as_str().expect("relation"),
                t["depth"].as_u64().expect("depth"),
            )
        })
        .collect();
    let [p, c, g] = &truth.accessors;
    assert_eq!(
        tokens,
        [
            (p.as_str(), "pivot", 0),
            (c.as_str(), "descendant", 1),
            (g.as_str(), "descendant", 2)
        ]
    );
    assert_eq!(r["tokens"][0]["role"], LEAKED_ROLE);
    assert_eq!(
        r["tokens"][0]["client_addresses"],
        serde_json::json!([ATTACKER_IP])
    );
    assert_eq!(r["tokens"][1]["parent"], p.as_str());
    assert_eq!(r["tokens"][2]["parent"], c.as_str());
    assert_eq!(
        r["tokens"][2]["client_addresses"],
        serde_json::json!([RELAY_IP])
    );
    assert_eq!(field(&r["secrets_read"], "path"), lineage_reads());
    assert_eq!(strings(&r["affected_tenants"]), lineage_tenants());
    assert_eq!(r["breach_scope"], "widespread");
    assert_eq!(field(&r["leases"], "lease_id"), [truth.pki_lease.as_str()]);
    assert_eq!(r["leases"][0]["path"], PKI_ISSUE);
    assert_eq!(r["leases"][0]["token"], g.as_str());
    let denied: Vec<&str> = field(&r["denied"], "path");
    let expected: Vec<String> = P_DENIED
        .iter()
        .map(|p| {
            if p.starts_with("sys/") {
                format!("{p}/")
            } else {
                p.to_string()
            }
        })
        .collect();
    assert_eq!(denied, expected);
    assert!(
        field(&r["denied"], "reason")
            .iter()
            .all(|r| *r == "permission-denied")
    );
    no_benign_reads(&r);
}

/// `blast --ip 203.0.113.66`: the same lineage (logged in from there), plus the guessed
/// account's login, failed attempts and reads; none of the benign reads.
pub fn blast_ip(log: &Path) {
    let r = blast(log, &["--ip", ATTACKER_IP]);
    let mut expected = lineage_reads();
    expected.extend(HUMAN_READS.iter().map(|p| p.to_string()));
    assert_eq!(field(&r["secrets_read"], "path"), expected);
    assert_eq!(strings(&r["affected_tenants"]), TENANTS);
    let logins: Vec<&Value> = r["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter(|t| t["relation"] == "login-from-pivot-ip")
        .collect();
    assert_eq!(logins.len(), 2, "{:#}", r["tokens"]);
    assert_eq!(logins[0]["role"], LEAKED_ROLE);
    assert_eq!(logins[1]["user"], HUMAN);
    assert_eq!(
        r["tokens"].as_array().expect("tokens").len(),
        4,
        "the two logins, the child and the grandchild"
    );
    let failed = r["denied"]
        .as_array()
        .expect("denied")
        .iter()
        .find(|d| d["reason"] == "login-failed")
        .expect("the failed logins");
    assert_eq!(failed["path"], format!("auth/userpass/login/{HUMAN}"));
    assert_eq!(failed["attempts"], FAILED_LOGINS);
    let rotate: Vec<&str> = field(&r["rotation_targets"], "target");
    assert!(
        rotate.contains(&format!("auth/userpass/users/{HUMAN}").as_str()),
        "{rotate:?}"
    );
    no_benign_reads(&r);
}

/// `rotation-list -f csv`: the certificate's lease and the three tokens, with commands.
pub fn rotation_list(log: &Path, truth: &Truth) {
    let out = blastradius()
        .args([
            "rotation-list",
            "--token",
            &truth.attacker_token,
            "-f",
            "csv",
        ])
        .arg(log)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut csv = csv::Reader::from_reader(out.stdout.as_slice());
    let header = csv.headers().expect("a header").clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {header:?}"))
    };
    let (action, target, command) = (col("action"), col("target"), col("command"));
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.expect("a CSV row")).collect();
    let of = |a: &str| -> Vec<(String, String)> {
        rows.iter()
            .filter(|r| &r[action] == a)
            .map(|r| (r[target].to_string(), r[command].to_string()))
            .collect()
    };
    assert_eq!(
        of("revoke-lease"),
        [(
            truth.pki_lease.clone(),
            format!("vault lease revoke -- {}", truth.pki_lease)
        )]
    );
    let tokens = of("revoke-token");
    assert_eq!(
        tokens.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        truth
            .accessors
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for (accessor, cmd) in &tokens {
        assert!(
            cmd.starts_with("vault token revoke -accessor -- ") && cmd.contains(accessor.as_str()),
            "{cmd}"
        );
    }
    let secret_ids = of("rotate-auth-credential");
    assert_eq!(secret_ids.len(), 1);
    assert_eq!(secret_ids[0].0, format!("auth/approle/role/{LEAKED_ROLE}"));
}

/// The recording with everything after the seal moved two minutes later: the seal is no
/// longer near the end of the log, yet its request (which never gets a response: sealing
/// tears the audit devices down first) is not a missing response, and the longer quiet
/// period is still explained by the seal.
pub fn seal_long_before_the_end(log: &Path) {
    let mut after_seal = false;
    let shifted: String = entries(log)
        .into_iter()
        .map(|mut e| {
            if after_seal {
                let t = instant(&e["time"]) + chrono::Duration::seconds(120);
                e["time"] = t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).into();
            }
            after_seal |= e["request"]["path"] == "sys/seal";
            format!("{e}\n")
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let moved = dir.path().join("audit.log");
    std::fs::write(&moved, shifted).expect("write");
    let r = scan(&moved);
    assert!(gaps(&r, "missing-response").is_empty(), "{:#}", r["gaps"]);
    let sealed = gaps(&r, "quiet-period")
        .into_iter()
        .find(|g| g["seconds"].as_f64().expect("seconds") > 120.0)
        .unwrap_or_else(|| panic!("no long quiet period: {:#}", r["gaps"]));
    assert_eq!(sealed["explained_by"], "seal");
    assert_eq!(
        r["unexplained_gaps"], 1,
        "only the silence: {:#}",
        r["gaps"]
    );
}
