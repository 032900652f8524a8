//! `blast` and `rotation-list` on a small log whose lineage is known exactly.

use serde_json::{Value, json};

use crate::util::bin;

/// A request/response pair as OpenBao 2.7 writes it.
struct Entry {
    id: &'static str,
    secs: u32,
    accessor: Option<&'static str>,
    token: Option<&'static str>,
    path: &'static str,
    op: &'static str,
    addr: &'static str,
    response: Value,
    error: Option<&'static str>,
}

fn lines(e: &Entry) -> [String; 2] {
    let time = format!(
        "2026-11-20T10:{:02}:{:02}.000000001Z",
        e.secs / 60,
        e.secs % 60
    );
    let mut auth = json!({"token_type": if e.accessor.is_some() { "service" } else { "default" }});
    if let (Some(a), Some(t)) = (e.accessor, e.token) {
        auth = json!({"client_token": t, "accessor": a, "display_name": "token", "policies": ["default", "app"], "token_type": "service"});
    }
    let mut request = json!({"id": e.id, "operation": e.op, "namespace": {"id": "root"}, "path": e.path, "remote_address": e.addr});
    if let (Some(a), Some(t)) = (e.accessor, e.token) {
        request["client_token"] = json!(t);
        request["client_token_accessor"] = json!(a);
    }
    let mut req = json!({"time": time, "type": "request", "auth": auth, "request": request});
    let mut resp = json!({"time": time, "type": "response", "auth": auth, "request": request, "response": e.response});
    if let Some(err) = e.error {
        req["error"] = json!(err);
        resp["error"] = json!(err);
    }
    [req.to_string(), resp.to_string()]
}

fn created(accessor: &str, token: &str, name: &str, meta: Value) -> Value {
    json!({"auth": {"client_token": token, "accessor": accessor, "display_name": name, "policies": ["default", "app"], "token_type": "service", "metadata": meta}})
}

fn kv() -> Value {
    json!({"data": {"data": {"password": "hmac-sha256:11"}, "metadata": {"version": 1}}})
}

/// The log: an AppRole login from 203.0.113.66 (token P), P creates C, C creates G;
/// P reads acme, C reads globex, G reads initech and gets database creds; benign token B
/// (from 10.0.0.5) reads umbrella; a failed userpass login from the attacker address; token D
/// (also 10.0.0.5) reads an administrative password.
fn incident() -> Vec<String> {
    let es = [
        Entry {
            id: "r1",
            secs: 0,
            accessor: None,
            token: None,
            path: "auth/approle/login",
            op: "update",
            addr: "203.0.113.66",
            response: created(
                "acc-P",
                "hmac-sha256:tokP",
                "approle",
                json!({"role_name": "billing"}),
            ),
            error: None,
        },
        Entry {
            id: "r2",
            secs: 1,
            accessor: Some("acc-P"),
            token: Some("hmac-sha256:tokP"),
            path: "kv/data/acme/db",
            op: "read",
            addr: "203.0.113.66",
            response: kv(),
            error: None,
        },
        Entry {
            id: "r3",
            secs: 2,
            accessor: Some("acc-P"),
            token: Some("hmac-sha256:tokP"),
            path: "auth/token/create",
            op: "update",
            addr: "203.0.113.66",
            response: created("acc-C", "hmac-sha256:tokC", "token", json!({})),
            error: None,
        },
        Entry {
            id: "r4",
            secs: 3,
            accessor: Some("acc-C"),
            token: Some("hmac-sha256:tokC"),
            path: "kv/data/globex/api-key",
            op: "read",
            addr: "198.51.100.9",
            response: kv(),
            error: None,
        },
        Entry {
            id: "r5",
            secs: 4,
            accessor: Some("acc-C"),
            token: Some("hmac-sha256:tokC"),
            path: "auth/token/create",
            op: "update",
            addr: "198.51.100.9",
            response: created("acc-G", "hmac-sha256:tokG", "token", json!({})),
            error: None,
        },
        Entry {
            id: "r6",
            secs: 5,
            accessor: Some("acc-G"),
            token: Some("hmac-sha256:tokG"),
            path: "kv/data/initech/smtp",
            op: "read",
            addr: "198.51.100.9",
            response: kv(),
            error: None,
        },
        Entry {
            id: "r7",
            secs: 6,
            accessor: Some("acc-G"),
            token: Some("hmac-sha256:tokG"),
            path: "database/creds/app",
            op: "read",
            addr: "198.51.100.9",
            response: json!({"secret": {"lease_id": "database/creds/app/Xy12"}, "data": {"username": "hmac-sha256:u"}}),
            error: None,
        },
        Entry {
            id: "r8",
            secs: 7,
            accessor: Some("acc-P"),
            token: Some("hmac-sha256:tokP"),
            path: "sys/policies/acl/admin",
            op: "read",
            addr: "203.0.113.66",
            response: json!({"data": {"error": "hmac-sha256:e"}}),
            error: Some("1 error occurred:\n\t* permission denied\n\n"),
        },
        Entry {
            id: "r9",
            secs: 8,
            accessor: Some("acc-B"),
            token: Some("hmac-sha256:tokB"),
            path: "kv/data/umbrella/db",
            op: "read",
            addr: "10.0.0.5",
            response: kv(),
            error: None,
        },
        Entry {
            id: "r10",
            secs: 9,
            accessor: None,
            token: None,
            path: "auth/userpass/login/alice",
            op: "update",
            addr: "203.0.113.66",
            response: json!({"data": {"error": "hmac-sha256:e"}}),
            error: Some("invalid credentials"),
        },
        Entry {
            id: "r11",
            secs: 10,
            accessor: Some("acc-D"),
            token: Some("hmac-sha256:tokD"),
            path: "kv/data/platform/root-password",
            op: "read",
            addr: "10.0.0.5",
            response: kv(),
            error: None,
        },
    ];
    es.iter().flat_map(lines).collect()
}

fn write_incident(dir: &std::path::Path) -> String {
    let p = dir.join("audit.log");
    std::fs::write(&p, incident().join("\n") + "\n").unwrap();
    p.display().to_string()
}

fn blast(args: &[&str]) -> Value {
    let out = bin()
        .arg("blast")
        .args(args)
        .args(["-f", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn paths(r: &Value) -> Vec<&str> {
    r["secrets_read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect()
}

#[test]
fn a_token_pivot_follows_children_and_grandchildren() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_incident(dir.path());
    let r = blast(&[&log, "--token", "hmac-sha256:tokP"]);
    let toks: Vec<(&str, &str, u64)> = r["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["accessor"].as_str().unwrap(),
                t["relation"].as_str().unwrap(),
                t["depth"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        toks,
        vec![
            ("acc-P", "pivot", 0),
            ("acc-C", "descendant", 1),
            ("acc-G", "descendant", 2)
        ]
    );
    assert_eq!(r["tokens"][1]["parent"], "acc-P");
    assert_eq!(r["tokens"][2]["parent"], "acc-C");
    assert_eq!(r["tokens"][0]["created_via"], "login");
    assert_eq!(r["tokens"][0]["role"], "billing");
    assert_eq!(
        paths(&r),
        vec![
            "kv/data/acme/db",
            "kv/data/globex/api-key",
            "kv/data/initech/smtp",
            "database/creds/app"
        ]
    );
    assert_eq!(
        r["affected_tenants"],
        json!(["acme", "app", "globex", "initech"])
    );
    assert_eq!(r["leases"][0]["lease_id"], "database/creds/app/Xy12");
    assert_eq!(r["leases"][0]["token"], "acc-G");
    assert_eq!(r["denied"][0]["path"], "sys/policies/acl/admin");
    assert_eq!(r["denied"][0]["reason"], "permission-denied");
    assert_eq!(
        r["exposure_window"]["start"],
        "2026-11-20T10:00:00.000000001Z"
    );
    assert_eq!(
        r["exposure_window"]["end"],
        "2026-11-20T10:00:07.000000001Z"
    );
    assert_eq!(r["severity"], "P1", "tier-2 service credentials exposed");
    // The benign token's read and the unrelated database config never appear.
    assert!(
        !paths(&r).contains(&"kv/data/umbrella/db")
            && !paths(&r).contains(&"kv/data/platform/root-password")
    );
}

#[test]
fn accessor_entity_and_display_name_pivots_and_no_descendants() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_incident(dir.path());
    let by_accessor = blast(&[&log, "--accessor", "acc-C"]);
    assert_eq!(
        paths(&by_accessor),
        vec![
            "kv/data/globex/api-key",
            "kv/data/initech/smtp",
            "database/creds/app"
        ]
    );
    let only = blast(&[&log, "--accessor", "acc-C", "--no-descendants"]);
    assert_eq!(paths(&only), vec!["kv/data/globex/api-key"]);
    assert!(only["leases"].as_array().unwrap().is_empty());
    let unmatched = blast(&[&log, "--accessor", "nope", "--display-name", "approle"]);
    assert_eq!(unmatched["pivots"]["unmatched"], json!(["--accessor nope"]));
    assert_eq!(
        paths(&unmatched).len(),
        4,
        "approle display name finds P and its lineage"
    );
}

#[test]
fn an_ip_pivot_adds_logins_and_requests_from_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_incident(dir.path());
    let r = blast(&[&log, "--ip", "203.0.113.0/24"]);
    assert_eq!(r["tokens"][0]["relation"], "login-from-pivot-ip");
    assert_eq!(paths(&r).len(), 4);
    let failed: Vec<&Value> = r["denied"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["reason"] == "login-failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["path"], "auth/userpass/login/alice");
    assert_eq!(failed[0]["tokens"], json!(["unauthenticated"]));
    let benign = blast(&[&log, "--ip", "10.0.0.5"]);
    assert_eq!(
        paths(&benign),
        vec!["kv/data/umbrella/db", "kv/data/platform/root-password"]
    );
    assert_eq!(benign["tokens"][0]["relation"], "used-from-pivot-ip");
    assert_eq!(
        benign["severity"], "P0",
        "an administrative password is tier 1"
    );
}

#[test]
fn rotation_plan_is_ordered_by_tier_then_first_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_incident(dir.path());
    let r = blast(&[&log, "--token", "hmac-sha256:tokP"]);
    let plan: Vec<(u64, &str, &str)> = r["rotation_targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tier"].as_u64().unwrap(),
                t["action"].as_str().unwrap(),
                t["target"].as_str().unwrap(),
            )
        })
        .collect();
    let tiers: Vec<u64> = plan.iter().map(|p| p.0).collect();
    assert!(tiers.windows(2).all(|w| w[0] <= w[1]), "{plan:?}");
    assert!(plan.contains(&(2, "revoke-lease", "database/creds/app/Xy12")));
    assert!(plan.contains(&(2, "rotate-secret", "kv/acme/db")));
    assert!(
        plan.contains(&(3, "rotate-secret", "kv/initech/smtp")),
        "{plan:?}"
    );
    assert!(plan.contains(&(2, "rotate-auth-credential", "auth/approle/role/billing")));
    assert_eq!(plan.iter().filter(|p| p.1 == "revoke-token").count(), 3);
    let lease = r["rotation_targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["action"] == "revoke-lease")
        .unwrap();
    assert_eq!(
        lease["command"],
        "vault lease revoke -- database/creds/app/Xy12"
    );
    let tok = r["rotation_targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "acc-G")
        .unwrap();
    assert_eq!(tok["command"], "vault token revoke -accessor -- acc-G");
    let orders: Vec<u64> = r["rotation_targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["order"].as_u64().unwrap())
        .collect();
    assert_eq!(orders, (1..=orders.len() as u64).collect::<Vec<_>>());
}

#[test]
fn rotation_list_csv_is_a_spreadsheet_safe_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut ls = incident();
    // A hostile path that would be a formula in a spreadsheet and a command injection in a shell.
    ls.extend(lines(&Entry {
        id: "r20",
        secs: 30,
        accessor: Some("acc-P"),
        token: Some("hmac-sha256:tokP"),
        path: "kv/=cmd|' /C calc'!A0; rm -rf ~",
        op: "read",
        addr: "203.0.113.66",
        response: json!({"data": {"x": "hmac-sha256:1"}}),
        error: None,
    }));
    let p = dir.path().join("audit.log");
    std::fs::write(&p, ls.join("\n") + "\n").unwrap();
    let out = bin()
        .args([
            "rotation-list",
            p.to_str().unwrap(),
            "--token",
            "hmac-sha256:tokP",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        vec![
            "order",
            "tier",
            "kind",
            "target",
            "action",
            "command",
            "reason",
            "tenant",
            "first_exposure"
        ]
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert!(rows.len() >= 8);
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula-leading cell: {cell:?}"
            );
        }
    }
    let hostile = rows
        .iter()
        .find(|r| r[3].contains("calc"))
        .expect("hostile secret listed");
    assert!(
        hostile[5].contains("'kv/=cmd|'\\''"),
        "command quotes the path: {}",
        &hostile[5]
    );
    let nd = bin()
        .args([
            "rotation-list",
            p.to_str().unwrap(),
            "--token",
            "hmac-sha256:tokP",
            "-f",
            "ndjson",
        ])
        .output()
        .unwrap();
    let recs: Vec<Value> = String::from_utf8(nd.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), rows.len());
    assert!(recs.iter().all(|r| r["type"] == "rotation_target"));
}

#[test]
fn blast_needs_a_pivot_and_valid_addresses() {
    let out = bin().args(["blast", "x.log"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["blast", "x.log", "--ip", "not-an-ip"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an IP address"));
}

#[test]
fn rules_are_rejected_by_blast_and_rotation_list_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_incident(dir.path());
    for cmd in ["blast", "rotation-list"] {
        let out = bin()
            .args([cmd, &log, "--token", "hvs.anything", "--rules"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("invalid --rules: blast and rotation-list run no detection rules"),
            "{cmd}: {err}"
        );
        assert!(out.stdout.is_empty(), "{cmd}");
    }
}

/// `--exclude-tenant` keeps the excluded tenant's secrets in `secrets_read`, marked
/// `tenant_excluded` as in the scan report, and out of `affected_tenants` and the Markdown
/// "Affected tenants" table. The shipped incident: token C read `kv/data/wonka/billing`
/// (fixtures/incident/README.md).
#[test]
fn an_excluded_tenants_secrets_are_marked_excluded_in_blast() {
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::fixture("incident/ground-truth.json")).unwrap(),
    )
    .unwrap();
    let token = truth["attacker_token_hmac"].as_str().unwrap();
    let log = crate::util::fixture("incident/audit.log");
    let log = log.to_str().unwrap();
    let args = ["--token", token, "--exclude-tenant", "wonka", log];
    let r = blast(&args);
    let read = r["secrets_read"].as_array().unwrap();
    let wonka: Vec<&Value> = read
        .iter()
        .filter(|s| s["path"] == "kv/data/wonka/billing")
        .collect();
    assert_eq!(wonka.len(), 1, "{read:#?}");
    assert_eq!(wonka[0]["tenant"], "wonka");
    assert_eq!(wonka[0]["tenant_excluded"], true);
    for s in read.iter().filter(|s| s["tenant"] != "wonka") {
        assert_eq!(s["tenant_excluded"], false, "{}", s["path"]);
    }
    let affected = r["affected_tenants"].as_array().unwrap();
    assert!(!affected.contains(&json!("wonka")), "{affected:?}");
    assert!(affected.contains(&json!("stark")), "{affected:?}");
    let markdown = |extra: &[&str]| {
        let out = bin()
            .arg("blast")
            .args(extra)
            .args(["--token", token, "-f", "markdown", log])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    // The tenant's row of "Affected tenants" (the secrets table has the path first).
    let row = |md: String| md.lines().any(|l| l.starts_with("| `wonka` |"));
    assert!(row(markdown(&[])), "without the exclusion");
    assert!(!row(markdown(&["--exclude-tenant", "wonka"])));
}
