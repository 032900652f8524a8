//! Recordings for issue 16's evidence: attack shapes the shipped incident does not have, each
//! played against a fresh OpenBao server and written to fixtures/openbao-2.7/attackers/<case>/
//! with a `truth.json` made only of what this script did and what the server answered (the
//! attacker's accessor from the login response and its `sys/audit-hash` HMAC, the paths the
//! attacker's tokens read, their tenants):
//!
//! * `quiet-reader`: a reporting service logs in through AppRole from its address three times
//!   and reads its four usual tenants; two app tokens read their own secret; the role's leaked
//!   secret_id logs in once from a new address and reads two other tenants' secrets, 1.5 s apart,
//!   without a single denial, child token or control-plane request.
//! * `noisy-admins`: root and two `admin` users (userpass, two logins each), all on the admin
//!   address, mount engines, write policies, write 48 secrets of 24 tenants, list the tenants and
//!   read back across all of them; a CI service logs in twice through AppRole and reads three
//!   tenants. The attacker guesses the CI role's secret_id three times from a new address, logs
//!   in with the leaked one, is denied a token-accessor listing and two reads, reads four
//!   tenants' secrets and mints a child token that reads two more from a relay address: a
//!   handful of requests against the admins' hundreds.
//! * `leaked-among-admins`: the same busy administrators, CI service and attacker, except that
//!   the attacker already holds the leaked secret_id and never fails a login: it logs in from the
//!   new address at once. Without the failed logins the attacker is quieter than before, while
//!   the admins' two sessions each still read tenants their other session did not.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::client::{Caller, Issued};
use super::server::{BaoServer, DEVICE};

pub const OPERATOR_IP: &str = "10.0.9.10";
pub const SERVICE_IP: &str = "10.0.4.20";
pub const CI_IP: &str = "10.0.5.30";
pub const QUIET_ATTACKER_IP: &str = "198.51.100.77";
pub const NOISY_ATTACKER_IP: &str = "203.0.113.99";
pub const RELAY_IP: &str = "192.0.2.45";
/// The quiet attacker's pause between reads.
const SLOW: Duration = Duration::from_millis(1500);

/// A recording: the audit log and its truth.
pub struct Recording {
    pub case: &'static str,
    pub log: Vec<u8>,
    pub truth: Value,
}

/// The committed recording of a case.
pub fn fixture_dir(case: &str) -> PathBuf {
    crate::util::fixture(&format!("openbao-2.7/attackers/{case}"))
}

/// The file a case's log is committed as: the busy admins' megabyte is shipped gzipped (52 KB;
/// blastradius reads gzip input as is).
pub fn log_file(case: &str) -> &'static str {
    match case {
        "noisy-admins" | "leaked-among-admins" => "audit.log.gz",
        _ => "audit.log",
    }
}

fn tenant(i: usize) -> String {
    format!("t{i:02}")
}

/// An AppRole role with `policies`; its role_id and one secret_id.
fn approle(op: &Caller<'_>, role: &str, policies: &[&str]) -> Value {
    op.write(
        &format!("auth/approle/role/{role}"),
        json!({"token_policies": policies, "token_ttl": "1h"}),
    )
    .ok();
    op.approle_credentials(role)
}

/// Logs in through AppRole from `from`; the caller of the new token.
fn approle_login<'h>(
    http: &'h super::client::Http,
    creds: &Value,
    from: &'static str,
) -> (Caller<'h>, String) {
    let reply = http
        .caller(None, from)
        .write("auth/approle/login", creds.clone())
        .ok();
    let Issued { token, accessor } = Issued::of(&reply);
    (http.caller(Some(&token), from), accessor)
}

/// What the attacker's lineage did, for truth.json.
fn attacker_truth(
    op: &Caller<'_>,
    accessor: &str,
    login_address: &str,
    role: &str,
    reads: &[String],
    tenants: &[String],
) -> Value {
    let mut tenants = tenants.to_vec();
    tenants.sort();
    tenants.dedup();
    json!({
        "attacker": {
            "accessor": accessor,
            "accessor_hmac": op.audit_hash(DEVICE, accessor),
            "auth_mount": "auth/approle/",
            "role": role,
            "login_address": login_address,
        },
        "secrets_read": reads,
        "tenants": tenants,
    })
}

fn quiet_reader() -> Recording {
    let server = BaoServer::start();
    let http = &server.http;
    let op = server.root(OPERATOR_IP);
    op.mount_kv2("sys/mounts/kv");
    op.enable_auth("approle");
    for i in 1..=12 {
        op.write(
            &format!("kv/data/{}/api", tenant(i)),
            json!({"data": {"key": format!("k-{i}")}}),
        )
        .ok();
    }
    op.put_policy(
        "reporting",
        r#"path "kv/data/+/api" { capabilities = ["read"] }"#,
    );
    op.put_policy("app", r#"path "kv/data/+/api" { capabilities = ["read"] }"#);
    let creds = approle(&op, "reporting", &["reporting"]);
    let apps: Vec<(String, &'static str, String)> = [(11, "10.0.1.11"), (12, "10.0.1.12")]
        .into_iter()
        .map(|(i, addr)| {
            let reply = op
                .write(
                    "auth/token/create",
                    json!({"policies": ["app"], "display_name": format!("app-{}", tenant(i))}),
                )
                .ok();
            (Issued::of(&reply).token, addr, tenant(i))
        })
        .collect();
    let app_reads = || {
        for (token, addr, t) in &apps {
            http.caller(Some(token), addr)
                .read(&format!("kv/data/{t}/api"))
                .ok();
        }
    };
    let usual = || {
        let (svc, _) = approle_login(http, &creds, SERVICE_IP);
        for i in 1..=4 {
            svc.read(&format!("kv/data/{}/api", tenant(i))).ok();
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    usual();
    app_reads();
    usual();
    // The leaked secret_id: one login from a new address, two reads, slowly.
    let (p, accessor) = approle_login(http, &creds, QUIET_ATTACKER_IP);
    let targets = [tenant(7), tenant(10)];
    let mut reads = Vec::new();
    for t in &targets {
        std::thread::sleep(SLOW);
        let path = format!("kv/data/{t}/api");
        p.read(&path).ok();
        reads.push(path);
        app_reads();
    }
    usual();
    app_reads();
    let truth = attacker_truth(
        &op,
        &accessor,
        QUIET_ATTACKER_IP,
        "reporting",
        &reads,
        &targets,
    );
    Recording {
        case: "quiet-reader",
        log: std::fs::read(server.audit_log()).expect("audit log"),
        truth,
    }
}

/// An admin user's login from the admin address.
fn admin_login<'h>(http: &'h super::client::Http, user: &str) -> Caller<'h> {
    let reply = http
        .caller(None, OPERATOR_IP)
        .write(
            &format!("auth/userpass/login/{user}"),
            json!({"password": format!("{user}-admin-pw")}),
        )
        .ok();
    http.caller(Some(&Issued::of(&reply).token), OPERATOR_IP)
}

/// Busy administration: policies written, tenants listed, secrets read back.
fn admin_work(admin: &Caller<'_>, name: &str, tenants: std::ops::RangeInclusive<usize>) {
    admin.put_policy(
        &format!("team-{name}"),
        r#"path "kv/data/team/*" { capabilities = ["read"] }"#,
    );
    admin.read("sys/mounts").ok();
    admin.list("kv/metadata").ok();
    for i in tenants {
        let t = tenant(i);
        admin.list(&format!("kv/metadata/{t}")).ok();
        for s in ["db", "api"] {
            admin.read(&format!("kv/data/{t}/{s}")).ok();
        }
    }
}

/// How the attacker among the admins comes by its login.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// Three wrong secret_ids from its address first, then the leaked one.
    GuessesFirst,
    /// The leaked secret_id at once: no failed login anywhere in the log.
    LeakedCredential,
}

fn busy_admins(case: &'static str, entry: Entry) -> Recording {
    let server = BaoServer::start();
    let http = &server.http;
    let op = server.root(OPERATOR_IP);
    op.mount_kv2("sys/mounts/kv");
    op.enable_auth("approle");
    op.enable_auth("userpass");
    op.put_policy(
        "admin",
        r#"path "kv/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "sys/policies/acl/*" { capabilities = ["create", "read", "update", "list"] }
path "sys/mounts" { capabilities = ["read"] }"#,
    );
    op.put_policy(
        "ci",
        r#"path "kv/data/+/api" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }"#,
    );
    for user in ["alice", "bob"] {
        op.add_user(user, &format!("{user}-admin-pw"), &["admin"]);
    }
    for i in 1..=24 {
        for s in ["db", "api"] {
            op.write(
                &format!("kv/data/{}/{s}", tenant(i)),
                json!({"data": {"v": format!("{s}-{i}")}}),
            )
            .ok();
        }
    }
    let creds = approle(&op, "ci-deploy", &["ci"]);
    // Root reads everything back.
    op.list("kv/metadata").ok();
    for i in 1..=24 {
        for s in ["db", "api"] {
            op.read(&format!("kv/data/{}/{s}", tenant(i))).ok();
        }
    }
    let ci = || {
        let (c, _) = approle_login(http, &creds, CI_IP);
        for i in 1..=3 {
            c.read(&format!("kv/data/{}/api", tenant(i))).ok();
        }
    };
    ci();
    admin_work(&admin_login(http, "alice"), "alice-1", 1..=24);
    admin_work(&admin_login(http, "bob"), "bob-1", 1..=16);
    ci();
    // The attacker: guesses, the leaked secret_id, denials, enumeration, reads, a child.
    let anon = http.caller(None, NOISY_ATTACKER_IP);
    let guesses = match entry {
        Entry::GuessesFirst => 0..3,
        Entry::LeakedCredential => 0..0,
    };
    for guess in guesses {
        let wrong = json!({"role_id": creds["role_id"], "secret_id": format!("00000000-0000-0000-0000-00000000000{guess}")});
        let status = anon.write("auth/approle/login", wrong).status;
        assert!(
            (400..500).contains(&status),
            "a wrong secret_id fails: {status}"
        );
    }
    let (p, accessor) = approle_login(http, &creds, NOISY_ATTACKER_IP);
    p.list("auth/token/accessors").expect(403);
    p.read(&format!("kv/data/{}/db", tenant(20))).expect(403);
    p.read(&format!("kv/data/{}/db", tenant(21))).expect(403);
    let mut reads = Vec::new();
    let mut tenants = Vec::new();
    for i in 15..=18 {
        let path = format!("kv/data/{}/api", tenant(i));
        p.read(&path).ok();
        reads.push(path);
        tenants.push(tenant(i));
    }
    let child = p
        .write(
            "auth/token/create",
            json!({"policies": ["ci"], "ttl": "1h"}),
        )
        .ok();
    let c = http.caller(Some(&Issued::of(&child).token), RELAY_IP);
    for i in 22..=23 {
        let path = format!("kv/data/{}/api", tenant(i));
        c.read(&path).ok();
        reads.push(path);
        tenants.push(tenant(i));
    }
    // The admins carry on.
    admin_work(&admin_login(http, "alice"), "alice-2", 1..=24);
    admin_work(&admin_login(http, "bob"), "bob-2", 9..=24);
    ci();
    let truth = attacker_truth(
        &op,
        &accessor,
        NOISY_ATTACKER_IP,
        "ci-deploy",
        &reads,
        &tenants,
    );
    Recording {
        case,
        log: std::fs::read(server.audit_log()).expect("audit log"),
        truth,
    }
}

/// Every case, recorded.
pub fn record_all() -> Vec<Recording> {
    CASES.into_iter().map(record).collect()
}

/// The recorded cases.
const CASES: [&str; 3] = ["quiet-reader", "noisy-admins", "leaked-among-admins"];

/// Records one case.
fn record(case: &str) -> Recording {
    match case {
        "quiet-reader" => quiet_reader(),
        "noisy-admins" => busy_admins("noisy-admins", Entry::GuessesFirst),
        "leaked-among-admins" => busy_admins("leaked-among-admins", Entry::LeakedCredential),
        other => panic!("no attacker case {other:?}; cases: {CASES:?}"),
    }
}

/// Regenerates fixtures/openbao-2.7/attackers/ (scripts/record-attackers.sh runs it): every case,
/// or only those named in `RECORD_ATTACKER_CASES` (comma-separated), so that adding a case does
/// not re-record the others (each recording has fresh accessors and times).
#[test]
#[ignore = "rewrites fixtures/openbao-2.7/attackers/: run by scripts/record-attackers.sh"]
fn record_attacker_fixtures() {
    let chosen = std::env::var("RECORD_ATTACKER_CASES").unwrap_or_default();
    let chosen: Vec<&str> = chosen.split(',').filter(|c| !c.is_empty()).collect();
    let cases = if chosen.is_empty() {
        CASES.to_vec()
    } else {
        chosen
    };
    for r in cases.into_iter().map(record) {
        let dir = fixture_dir(r.case);
        std::fs::create_dir_all(&dir).expect("fixture dir");
        let file = log_file(r.case);
        let bytes = if file.ends_with(".gz") {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(&r.log).expect("gzip");
            gz.finish().expect("gzip")
        } else {
            r.log.clone()
        };
        std::fs::write(dir.join(file), bytes).expect("write the log");
        let truth = serde_json::to_string_pretty(&r.truth).expect("json") + "\n";
        std::fs::write(dir.join("truth.json"), truth).expect("write truth.json");
    }
}

/// The same checks as on the committed recordings, on fresh ones.
#[test]
fn live_attacker_recordings_name_the_attacker_first() {
    if super::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for r in record_all() {
        let log = dir.path().join(format!("{}.log", r.case));
        std::fs::write(&log, &r.log).expect("write the recording");
        super::attacker_checks::first_suspect_is_the_attacker_and_its_blast_matches(&log, &r.truth);
    }
}
