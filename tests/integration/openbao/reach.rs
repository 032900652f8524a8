//! `blast --vault-addr`: the reach of a leaked credential by its policies, against the live
//! server's own `sys/capabilities`, token by token and path by path.
//!
//! Policies with globs, `+`, a denied subpath, list-only paths and a templated path in the root
//! namespace, another in namespace `team-a`; a userpass token (with an entity) and a `team-a`
//! token; secrets written by the operator; the attack reads some of them with both tokens. The
//! ground truth is what this script wrote and what the server answers.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::client::{Caller, string};
use super::server::{BaoServer, DEVICE};
use super::skipped;

const ROOT_POLICIES: &[(&str, &str)] = &[
    (
        "reach-app",
        r#"
path "kv/data/app/*" { capabilities = ["read", "list"] }
path "kv/data/app/admin" { capabilities = ["deny"] }
path "kv/data/+/shared" { capabilities = ["read"] }
path "kv/data/users/{{identity.entity.id}}/*" { capabilities = ["read", "update"] }
"#,
    ),
    (
        "reach-list",
        r#"path "kv/metadata/*" { capabilities = ["list"] }
path "kv/data/listed/*" { capabilities = ["list"] }"#,
    ),
];

/// Namespace `team-a`'s policy of the second token.
const NS_POLICY: &str = r#"
path "kv/data/web/*" { capabilities = ["read"] }
path "kv/data/web/secret" { capabilities = ["deny"] }
path "kv/data/+/pw" { capabilities = ["read", "create"] }
"#;

/// Written by the operator (ENTITY is the userpass entity), API paths.
const SECRETS: &[&str] = &[
    "kv/data/app/db",
    "kv/data/app/cache",
    "kv/data/app/admin",
    "kv/data/app/nested/key",
    "kv/data/red/shared",
    "kv/data/blue/shared",
    "kv/data/red/private",
    "kv/data/listed/one",
    "kv/data/users/ENTITY/key",
    "kv/data/users/someone-else/key",
    "team-a/kv/data/web/api",
    "team-a/kv/data/web/secret",
    "team-a/kv/data/web/extra",
    "team-a/kv/data/db/pw",
    "team-a/kv/data/other",
];

/// What the attack reads with the userpass token, then with the `team-a` token.
const READ_BY_USER: &[&str] = &["kv/data/app/db", "kv/data/red/shared"];
const READ_BY_NS: &[&str] = &["team-a/kv/data/web/api"];

fn server_caps(op: &Caller<'_>, token: &str, path: &str) -> Vec<String> {
    let v = op
        .write("sys/capabilities", json!({"token": token, "paths": [path]}))
        .ok();
    let mut c: Vec<String> = v[path]
        .as_array()
        .unwrap_or_else(|| panic!("capabilities of {path}: {v}"))
        .iter()
        .map(string)
        .collect();
    c.sort();
    c
}

struct Tokens {
    user: String,
    entity: String,
    ns: String,
}

fn provision(server: &BaoServer) -> Tokens {
    let op = server.root("10.0.9.10");
    op.mount_kv2("sys/mounts/kv");
    op.write("sys/namespaces/team-a", json!({})).ok();
    op.mount_kv2("team-a/sys/mounts/kv");
    for (name, text) in ROOT_POLICIES {
        op.put_policy(name, text);
    }
    op.write(
        "team-a/sys/policies/acl/reach-ns",
        json!({"policy": NS_POLICY}),
    )
    .ok();
    op.enable_auth("userpass");
    op.add_user("erin", "pw", &["reach-app", "reach-list"]);
    let login = server
        .http
        .caller(None, "203.0.113.7")
        .write("auth/userpass/login/erin", json!({"password": "pw"}))
        .ok();
    let ns = op
        .write(
            "team-a/auth/token/create",
            json!({"policies": ["reach-ns"], "no_default_policy": true}),
        )
        .ok();
    let entity = string(&login["auth"]["entity_id"]);
    for p in SECRETS {
        let p = p.replace("ENTITY", &entity);
        op.write(&p, json!({"data": {"value": "v-7f3a"}})).ok();
    }
    Tokens {
        user: string(&login["auth"]["client_token"]),
        entity,
        ns: string(&ns["auth"]["client_token"]),
    }
}

fn attack(server: &BaoServer, t: &Tokens) {
    let user = server.http.caller(Some(&t.user), "203.0.113.7");
    for p in READ_BY_USER {
        user.read(p).ok();
    }
    user.read("kv/data/app/admin").expect(403);
    let ns = server.http.caller(Some(&t.ns), "203.0.113.7");
    for p in READ_BY_NS {
        ns.read(p).ok();
    }
}

fn run(args: &[&str], token: &str, log: &std::path::Path) -> std::process::Output {
    super::super::util::bin()
        .arg("--quiet")
        .args(args)
        .arg(log)
        .env("VAULT_TOKEN", token)
        .env_remove("VAULT_NAMESPACE")
        .output()
        .expect("blastradius runs")
}

/// The report's reach fields match docs/schema/blast-reach.schema.json.
fn assert_matches_schema(report: &Value) {
    let path = super::super::util::root().join("docs/schema/blast-reach.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v = jsonschema::draft202012::new(&schema).expect("schema compiles");
    let errors: Vec<String> = v.iter_errors(report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The logical name the rotation plan gives a KV v2 API path (`kv/data/x` → `kv/x`).
fn logical(path: &str) -> String {
    path.replacen("kv/data/", "kv/", 1)
}

#[test]
fn live_reach_equals_the_servers_capabilities_path_by_path() {
    if skipped() {
        return;
    }
    let server = BaoServer::start();
    let t = provision(&server);
    attack(&server, &t);
    let op = server.root("10.0.9.10");
    let user_hmac = op.audit_hash(DEVICE, &t.user);
    let ns_hmac = op.audit_hash(DEVICE, &t.ns);
    let lookup = |tok: &str| {
        let v = op.write("auth/token/lookup", json!({"token": tok})).ok();
        op.audit_hash(DEVICE, &string(&v["data"]["accessor"]))
    };
    let accessors = [
        (lookup(&t.user), t.user.clone()),
        (lookup(&t.ns), t.ns.clone()),
    ];
    let catalogue: Vec<String> = SECRETS
        .iter()
        .map(|p| p.replace("ENTITY", &t.entity))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.txt");
    std::fs::write(&inventory, catalogue.join("\n") + "\n").unwrap();
    let log = server.audit_log();
    let inv = inventory.to_str().unwrap();
    let pivots = ["--token", &user_hmac, "--token", &ns_hmac];
    let addr = server.addr.as_str();
    let mut args = vec![
        "blast",
        "-f",
        "json",
        "--vault-addr",
        addr,
        "--inventory",
        inv,
    ];
    args.extend(pivots);
    let out = run(&args, &server.root_token, &log);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));

    assert_matches_schema(&report);
    let reach: BTreeMap<String, &Value> = report["reachable_secrets"]
        .as_array()
        .expect("reachable_secrets")
        .iter()
        .map(|r| (string(&r["path"]), r))
        .collect();
    let read: BTreeSet<&str> = READ_BY_USER.iter().chain(READ_BY_NS).copied().collect();
    let mut expected_precautionary = BTreeSet::new();
    let mut granted = 0;
    for path in &catalogue {
        let mut readable = false;
        for (accessor, token) in &accessors {
            let theirs = server_caps(&op, token, path);
            let ours: Vec<String> = reach
                .get(path)
                .and_then(|r| r["tokens"].as_array())
                .and_then(|ts| ts.iter().find(|x| string(&x["accessor"]) == *accessor))
                .map(|x| {
                    x["capabilities"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(string)
                        .collect()
                })
                .unwrap_or_else(|| vec!["deny".to_string()]);
            assert_eq!(ours, theirs, "{path} for token {accessor}");
            readable |= theirs.iter().any(|c| c == "read" || c == "root");
            granted += usize::from(theirs != ["deny"]);
        }
        if let Some(r) = reach.get(path) {
            assert_eq!(r["readable"], readable, "{path}");
            assert_eq!(r["read_in_window"], read.contains(path.as_str()), "{path}");
        }
        if readable && !read.contains(path.as_str()) {
            expected_precautionary.insert(logical(path));
        }
    }
    // The comparison covers grants, list-only paths, a deny and a templated path.
    assert!(granted >= 8, "{granted} grants");
    eprintln!(
        "compared {} paths x 2 tokens, {granted} grants",
        catalogue.len()
    );
    let templated = catalogue.iter().find(|p| p.contains(&t.entity)).unwrap();
    assert_eq!(reach[templated]["readable"], true);
    assert_eq!(
        string(&reach["kv/data/listed/one"]["capabilities"][0]),
        "list",
        "list-only"
    );
    assert!(!reach.contains_key("team-a/kv/data/web/secret"));
    // Tenants split: `red` was read, `blue` only reachable.
    let reachable_tenants: Vec<String> = report["reachable_tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(string)
        .collect();
    assert!(
        reachable_tenants.contains(&"blue".to_string()),
        "{reachable_tenants:?}"
    );
    assert!(!reachable_tenants.contains(&"red".to_string()));
    let affected: Vec<String> = report["affected_tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(string)
        .collect();
    assert!(affected.contains(&"red".to_string()), "{affected:?}");
    assert!(
        report["policy_coverage"]["missing_policies"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        report["policy_coverage"]
    );
    // Precautionary targets: exactly the readable, unread secrets, after every read target.
    let mut list_args = vec![
        "rotation-list",
        "-f",
        "json",
        "--scope",
        "reachable",
        "--vault-addr",
        addr,
        "--inventory",
        inv,
    ];
    list_args.extend(pivots);
    let out = run(&list_args, &server.root_token, &log);
    let plan: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let split = plan
        .iter()
        .position(|x| x["exposure"] == "reachable")
        .expect("precautionary targets");
    assert!(plan[..split].iter().all(|x| x["exposure"] == "read"));
    assert!(plan[split..].iter().all(|x| x["exposure"] == "reachable"));
    let got: BTreeSet<String> = plan[split..].iter().map(|x| string(&x["target"])).collect();
    assert_eq!(got, expected_precautionary);
    let read_targets: BTreeSet<String> = plan[..split]
        .iter()
        .filter(|x| x["action"] == "rotate-secret")
        .map(|x| string(&x["target"]))
        .collect();
    let read_logical: BTreeSet<String> = read.iter().map(|p| logical(p)).collect();
    assert_eq!(read_targets, read_logical);
    // The default scope leaves them out.
    let default_args: Vec<&str> = list_args
        .iter()
        .copied()
        .filter(|a| *a != "--scope" && *a != "reachable")
        .collect();
    let out = run(&default_args, &server.root_token, &log);
    let plan_read: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan_read.len(), split);

    // A token without read on sys/policies/acl is refused with a clear message, nothing printed.
    let out = run(&args, &t.ns, &log);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lacks `read` on sys/policies/acl/"), "{err}");
    assert!(out.stdout.is_empty());
}

/// The shipped recording with the leaked role's policy as a file: the attack's lineage read 11
/// tenants' `billing`; the policy (`kv/data/+/billing`) reaches all 12 that the operator wrote,
/// so the twelfth (oscorp, read only by the billing service) is the one precautionary target.
/// `default` is not in the directory: reported by name. Every renderer shows the section.
#[test]
fn fixture_policies_dir_reaches_the_unread_tenant_in_every_format() {
    use super::scenario::{C_READS, G_READS, LEAKED_ROLE, P_READS, TENANTS};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(format!("{LEAKED_ROLE}.hcl")),
        r#"path "kv/data/+/billing" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }
path "pki/issue/acme" { capabilities = ["update"] }"#,
    )
    .unwrap();
    let inventory = dir.path().join("inventory.txt");
    let written: Vec<String> = TENANTS.iter().map(|t| format!("kv/{t}/billing")).collect();
    std::fs::write(&inventory, written.join("\n")).unwrap();
    let log = super::super::util::fixture("incident/audit.log");
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(super::super::util::fixture("incident/ground-truth.json"))
            .unwrap(),
    )
    .unwrap();
    let token = string(&truth["attacker_token_hmac"]);
    let pol = dir.path().to_str().unwrap();
    let inv = inventory.to_str().unwrap();
    let common = ["--token", &token, "--policies", pol, "--inventory", inv];
    let render = |cmd: &[&str]| {
        let out = run(&[cmd, &common[..]].concat(), "", &log);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let read: BTreeSet<&str> = P_READS
        .iter()
        .chain(&C_READS)
        .chain(&G_READS)
        .copied()
        .collect();
    let unread: Vec<String> = TENANTS
        .iter()
        .filter(|t| !read.contains(*t))
        .map(|t| format!("kv/{t}/billing"))
        .collect();
    assert_eq!(unread, ["kv/oscorp/billing"]);
    let plan: Vec<Value> = serde_json::from_str(&render(&[
        "rotation-list",
        "-f",
        "json",
        "--scope",
        "reachable",
    ]))
    .unwrap();
    let precautionary: Vec<String> = plan
        .iter()
        .filter(|x| x["exposure"] == "reachable")
        .map(|x| string(&x["target"]))
        .collect();
    assert_eq!(precautionary, unread);
    let report: Value = serde_json::from_str(&render(&["blast", "-f", "json"])).unwrap();
    assert_matches_schema(&report);
    let readable = report["reachable_secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["readable"] == true && string(&r["path"]).ends_with("/billing"))
        .count();
    assert_eq!(readable, TENANTS.len());
    assert_eq!(report["reachable_tenants"], json!(["oscorp"]));
    let missing: Vec<String> = report["policy_coverage"]["missing_policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| string(&m["name"]))
        .collect();
    assert_eq!(missing, ["default"]);
    let text = render(&["blast", "-f", "text"]);
    assert!(text.contains("REACHABLE SECRETS (by policy)"), "{text}");
    assert!(text.contains("warning: policy default"), "{text}");
    let md = render(&["blast", "-f", "markdown"]);
    assert!(md.contains("Reachable secrets"), "{md}");
    assert!(md.contains("kv/data/oscorp/billing"));
    let html = render(&["blast", "-f", "html"]);
    assert!(html.contains("<h2>Reachable secrets</h2>"));
}

/// "Any operation, any actor": without `--inventory`, the catalogue still holds every secret
/// the operator only wrote and nobody read, from the write entries of the log. Every written
/// secret the server says the leaked userpass token can read, and the attack did not read, is a
/// reachable, unread secret and a precautionary rotation target.
#[test]
fn live_secrets_only_written_by_the_operator_are_reachable_without_inventory() {
    if skipped() {
        return;
    }
    let server = BaoServer::start();
    let t = provision(&server);
    attack(&server, &t);
    let op = server.root("10.0.9.10");
    let user_hmac = op.audit_hash(DEVICE, &t.user);
    let log = server.audit_log();
    let addr = server.addr.as_str();
    let pivot = ["--vault-addr", addr, "--token", user_hmac.as_str()];
    let blast: Vec<&str> = ["blast", "-f", "json"].into_iter().chain(pivot).collect();
    let out = run(&blast, &server.root_token, &log);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let reach: BTreeMap<String, &Value> = report["reachable_secrets"]
        .as_array()
        .expect("reachable_secrets")
        .iter()
        .map(|r| (string(&r["path"]), r))
        .collect();
    let mut written_only = BTreeSet::new();
    for path in SECRETS.iter().map(|p| p.replace("ENTITY", &t.entity)) {
        let caps = server_caps(&op, &t.user, &path);
        if caps.iter().any(|c| c == "read") && !READ_BY_USER.contains(&path.as_str()) {
            let r = reach
                .get(&path)
                .unwrap_or_else(|| panic!("{path}, only written, is not in the catalogue"));
            assert_eq!(r["readable"], true, "{path}");
            assert_eq!(r["read_in_window"], false, "{path}");
            written_only.insert(logical(&path));
        }
    }
    // app/cache, app/nested/key, blue/shared and the entity's own key.
    assert!(written_only.len() >= 4, "{written_only:?}");
    let list: Vec<&str> = ["rotation-list", "-f", "json", "--scope", "reachable"]
        .into_iter()
        .chain(pivot)
        .collect();
    let out = run(&list, &server.root_token, &log);
    let plan: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let precautionary: BTreeSet<String> = plan
        .iter()
        .filter(|x| x["exposure"] == "reachable")
        .map(|x| string(&x["target"]))
        .collect();
    assert_eq!(precautionary, written_only);

    // The leaked token's login is in the log: its namespace is known, nothing assumed. The
    // operator's root token was made before the audit device: flagged, not silently assumed.
    let assumed = |r: &Value| -> Vec<String> {
        r["policy_coverage"]["namespace_assumed_root"]
            .as_array()
            .expect("namespace_assumed_root")
            .iter()
            .map(string)
            .collect()
    };
    assert!(assumed(&report).is_empty(), "{}", report["policy_coverage"]);
    let root = op
        .write("auth/token/lookup", json!({"token": server.root_token}))
        .ok();
    let root_accessor = op.audit_hash(DEVICE, &string(&root["data"]["accessor"]));
    let root_hmac = op.audit_hash(DEVICE, &server.root_token);
    let args = [
        "blast",
        "-f",
        "json",
        "--vault-addr",
        addr,
        "--token",
        &root_hmac,
    ];
    let out = run(&args, &server.root_token, &log);
    let by_root: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        assumed(&by_root).contains(&root_accessor),
        "{}",
        by_root["policy_coverage"]
    );
    let text = run(
        &[
            "blast",
            "-f",
            "text",
            "--vault-addr",
            addr,
            "--token",
            &root_hmac,
        ],
        &server.root_token,
        &log,
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("taken from the root namespace"), "{text}");
}

/// `granted_by[].via` from the log's `token_policies`/`identity_policies`: a userpass user with
/// policy `own-pol` whose entity is in a group with policy `grp-pol` logs in; the group's policy
/// reaches `kv/data/grp/x` through the identity, the user's own `kv/data/own/y`. Ground truth:
/// what this script attached where, and the server's `sys/capabilities`.
#[test]
fn live_grants_say_whether_the_token_or_its_identity_holds_the_policy() {
    if skipped() {
        return;
    }
    let server = BaoServer::start();
    let op = server.root("10.0.9.10");
    op.mount_kv2("sys/mounts/kv");
    for (name, path) in [("own-pol", "kv/data/own/*"), ("grp-pol", "kv/data/grp/*")] {
        op.put_policy(
            name,
            &format!(r#"path "{path}" {{ capabilities = ["read"] }}"#),
        );
    }
    op.enable_auth("userpass");
    op.add_user("gil", "pw", &["own-pol"]);
    let anon = server.http.caller(None, "203.0.113.8");
    let first = anon
        .write("auth/userpass/login/gil", json!({"password": "pw"}))
        .ok();
    op.write(
        "identity/group",
        json!({"name": "ops", "policies": ["grp-pol"], "member_entity_ids": [string(&first["auth"]["entity_id"])]}),
    )
    .ok();
    let login = anon
        .write("auth/userpass/login/gil", json!({"password": "pw"}))
        .ok();
    let token = string(&login["auth"]["client_token"]);
    let identity: Vec<String> = login["auth"]["identity_policies"]
        .as_array()
        .expect("the server reports identity policies")
        .iter()
        .map(string)
        .collect();
    assert_eq!(identity, ["grp-pol"]);
    for p in ["kv/data/own/y", "kv/data/grp/x"] {
        op.write(p, json!({"data": {"value": "v-91c2"}})).ok();
        assert_eq!(server_caps(&op, &token, p), ["read"], "{p}");
    }
    let token_hmac = op.audit_hash(DEVICE, &token);
    let log = server.audit_log();
    let args = [
        "blast",
        "-f",
        "json",
        "--vault-addr",
        server.addr.as_str(),
        "--token",
        &token_hmac,
    ];
    let out = run(&args, &server.root_token, &log);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_matches_schema(&report);
    let via = |path: &str| -> Vec<(String, Value)> {
        report["reachable_secrets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"] == path)
            .flat_map(|r| r["granted_by"].as_array().unwrap().iter())
            .map(|g| (string(&g["policy"]), g["via"].clone()))
            .collect()
    };
    assert_eq!(
        via("kv/data/own/y"),
        [("own-pol".to_string(), json!("token-policies"))]
    );
    assert_eq!(
        via("kv/data/grp/x"),
        [("grp-pol".to_string(), json!("identity-policies"))]
    );
}
