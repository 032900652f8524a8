//! The incident, played against a live server. Content is fixed (paths, callers, addresses,
//! order, pauses); only times, ids and HMACs differ between recordings.
//!
//! Provisioning by an operator (10.0.9.10): KV v2 with a `billing` secret for each of twelve
//! tenants and a `db` secret for four, AppRole role `billing-sync` and its one secret_id,
//! userpass account `dana`, a PKI mount whose role `acme` has `generate_lease=true`, and app
//! tokens for two tenants. Then, in order:
//!
//! 1. business as usual, spread over three seconds: the billing service logs in with the
//!    secret_id from 10.0.4.20 and reads four tenants' billing secrets; apps read their `db`;
//! 2. the attack: the same secret_id, leaked, logs in from 203.0.113.66 (token P), which reads
//!    five tenants' billing secrets, is denied three requests, and creates child C; C, used from
//!    198.51.100.23, reads three more tenants and creates grandchild G; G reads three more and
//!    issues a certificate (a lease); an app keeps working in between;
//! 3. password guessing from 203.0.113.66: six failed logins as `dana`, then the right password,
//!    and two reads of other tenants' `db` secrets with dana's token;
//! 4. three seconds of silence nothing explains;
//! 5. an app read, the operator seals the server, three seconds sealed, unseal, apps resume;
//! 6. the responder asks the audit device for the HMACs of the attacker's token and accessors.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::{Caller, Issued};
use super::server::{BaoServer, DEVICE};

/// Every tenant with secrets, sorted.
pub const TENANTS: [&str; 12] = [
    "acme",
    "cyberdyne",
    "globex",
    "hooli",
    "initech",
    "oscorp",
    "soylent",
    "stark",
    "tyrell",
    "umbrella",
    "wayne",
    "wonka",
];
/// Where the leaked secret_id was used and the human account was guessed.
pub const ATTACKER_IP: &str = "203.0.113.66";
/// Where the attacker used the child and grandchild tokens.
pub const RELAY_IP: &str = "198.51.100.23";
/// The operator's workstation.
pub const OPERATOR_IP: &str = "10.0.9.10";
/// The billing service, the legitimate user of the secret_id.
pub const BILLING_SERVICE_IP: &str = "10.0.4.20";
/// The AppRole role whose secret_id leaked.
pub const LEAKED_ROLE: &str = "billing-sync";
/// The human account that was guessed.
pub const HUMAN: &str = "dana";

/// Billing secrets read by the attacker's token P, its child C and grandchild G.
pub const P_READS: [&str; 5] = ["acme", "globex", "hooli", "initech", "umbrella"];
pub const C_READS: [&str; 3] = ["stark", "wayne", "wonka"];
pub const G_READS: [&str; 3] = ["tyrell", "cyberdyne", "soylent"];
/// The certificate G issued (tenant `acme`: the role is named after the tenant it serves).
pub const PKI_ISSUE: &str = "pki/issue/acme";
/// What P was refused.
pub const P_DENIED: [&str; 3] = ["kv/data/acme/db", "kv/data/globex/db", "sys/policies/acl"];
/// What the attacker read with dana's token.
pub const HUMAN_READS: [&str; 2] = ["kv/data/oscorp/db", "kv/data/umbrella/db"];
/// Failed logins before the right password.
pub const FAILED_LOGINS: usize = 6;
/// Tenants whose `db` secret exists; the first two have app tokens.
pub const DB_TENANTS: [&str; 4] = ["acme", "globex", "umbrella", "oscorp"];
/// App tokens: tenant and address.
const APPS: [(&str, &str); 2] = [("acme", "10.0.1.11"), ("globex", "10.0.1.12")];
/// Billing secrets the billing service reads in the morning.
const SERVICE_READS: [&str; 4] = ["acme", "globex", "hooli", "oscorp"];
/// Pauses longer than the `--gap 2s` the tests scan with.
const QUIET: Duration = Duration::from_millis(3000);
const SEALED: Duration = Duration::from_millis(3000);
/// Spacing of the morning traffic, so that cutting lines out of it leaves a hole of seconds.
const MORNING_STEP: Duration = Duration::from_millis(500);

/// What the recording's ground truth needs from the server (HMACs with the device's salt).
pub struct Recorded {
    /// HMAC of the attacker's AppRole token P.
    pub attacker_token: String,
    /// HMACs of the accessors of P, C and G.
    pub accessors: [String; 3],
    /// The lease of the certificate G issued.
    pub pki_lease: String,
}

/// All paths the attacker's token lineage read, in the order read.
pub fn lineage_reads() -> Vec<String> {
    let billing = |t: &&str| format!("kv/data/{t}/billing");
    let mut v: Vec<String> = P_READS.iter().map(billing).collect();
    v.extend(C_READS.iter().map(billing));
    v.extend(G_READS.iter().map(billing));
    v.push(PKI_ISSUE.to_string());
    v
}

/// Tenants the lineage read: every tenant but `oscorp`, sorted.
pub fn lineage_tenants() -> Vec<&'static str> {
    TENANTS.into_iter().filter(|t| *t != "oscorp").collect()
}

/// Secrets only benign callers read: they must never be in the attacker's blast radius.
pub fn benign_only_reads() -> Vec<String> {
    let mut v: Vec<String> = APPS
        .iter()
        .map(|(t, _)| format!("kv/data/{t}/db"))
        .collect();
    v.push("kv/data/oscorp/billing".to_string());
    v
}

fn read_ok(c: &Caller<'_>, path: &str) -> Value {
    c.read(path).ok()
}

/// What provisioning set up for the scenario to use.
struct Provisioned {
    /// The leaked role's login body: its role_id and its one secret_id.
    approle_login: Value,
    /// The apps' tokens and the addresses they call from.
    apps: Vec<(String, &'static str)>,
}

/// Provisions the server.
fn provision(op: &Caller<'_>) -> Provisioned {
    op.mount_kv2("sys/mounts/kv");
    op.enable_auth("approle");
    op.enable_auth("userpass");
    // Lockout off: by default the fifth failure locks the account and every later attempt,
    // the right password included, is refused with 403 "permission denied".
    op.write(
        "sys/auth/userpass/tune",
        json!({"user_lockout_config": {"lockout_disable": true}}),
    )
    .ok();
    op.write(
        "sys/mounts/pki",
        json!({"type": "pki", "config": {"max_lease_ttl": "720h"}}),
    )
    .ok();
    op.write(
        "pki/root/generate/internal",
        json!({"common_name": "tenants.example.internal", "key_type": "ec", "ttl": "720h"}),
    )
    .ok();
    op.write(
        "pki/roles/acme",
        json!({"allowed_domains": "acme.example.internal", "allow_subdomains": true,
               "key_type": "ec", "ttl": "1h", "generate_lease": true}),
    )
    .ok();
    // A service that reads every tenant's billing secret and, misconfigured, may mint tokens
    // and certificates: the leak's blast radius.
    op.put_policy(
        LEAKED_ROLE,
        r#"path "kv/data/+/billing" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }
path "pki/issue/acme" { capabilities = ["update"] }"#,
    );
    op.put_policy("sre", r#"path "kv/data/+/db" { capabilities = ["read"] }"#);
    op.put_policy("apps", r#"path "kv/data/+/db" { capabilities = ["read"] }"#);
    for t in TENANTS {
        op.write(
            &format!("kv/data/{t}/billing"),
            json!({"data": {"api_key": format!("bk-{t}-7f3a")}}),
        )
        .ok();
    }
    for t in DB_TENANTS {
        op.write(
            &format!("kv/data/{t}/db"),
            json!({"data": {"password": format!("pw-{t}-91c2")}}),
        )
        .ok();
    }
    op.write(
        &format!("auth/approle/role/{LEAKED_ROLE}"),
        json!({"token_policies": [LEAKED_ROLE], "token_ttl": "1h"}),
    )
    .ok();
    let approle_login = op.approle_credentials(LEAKED_ROLE);
    op.add_user(HUMAN, "correct-horse-battery", &["sre"]);
    let apps = APPS
        .iter()
        .map(|(t, addr)| {
            let created = op
                .write(
                    "auth/token/create",
                    json!({"policies": ["apps"], "display_name": format!("app-{t}"), "ttl": "24h"}),
                )
                .ok();
            (Issued::of(&created).token, *addr)
        })
        .collect();
    Provisioned {
        approle_login,
        apps,
    }
}

/// Plays the incident; the server's audit log then holds it.
pub fn play(server: &mut BaoServer) -> Recorded {
    let http = &server.http;
    let op = server.root(OPERATOR_IP);
    let Provisioned {
        approle_login,
        apps,
    } = provision(&op);
    let app = |i: usize| http.caller(Some(&apps[i].0), apps[i].1);

    // 1. Business as usual.
    let service = http.caller(None, BILLING_SERVICE_IP);
    let Issued {
        token: service_token,
        ..
    } = Issued::of(
        &service
            .write("auth/approle/login", approle_login.clone())
            .ok(),
    );
    let service = http.caller(Some(&service_token), BILLING_SERVICE_IP);
    for (i, t) in SERVICE_READS.iter().enumerate() {
        std::thread::sleep(MORNING_STEP);
        read_ok(&service, &format!("kv/data/{t}/billing"));
        if let Some((tenant, _)) = APPS.get(i) {
            std::thread::sleep(MORNING_STEP);
            read_ok(&app(i), &format!("kv/data/{tenant}/db"));
        }
    }

    // 2. The leaked secret_id.
    let anon = http.caller(None, ATTACKER_IP);
    let Issued {
        token: p_token,
        accessor: p_accessor,
    } = Issued::of(&anon.write("auth/approle/login", approle_login).ok());
    let p = http.caller(Some(&p_token), ATTACKER_IP);
    for t in P_READS {
        read_ok(&p, &format!("kv/data/{t}/billing"));
    }
    p.read(P_DENIED[0]).expect(403);
    p.read(P_DENIED[1]).expect(403);
    p.list(P_DENIED[2]).expect(403);
    let child = json!({"policies": [LEAKED_ROLE], "ttl": "24h"});
    let Issued {
        token: c_token,
        accessor: c_accessor,
    } = Issued::of(&p.write("auth/token/create", child.clone()).ok());
    let c = http.caller(Some(&c_token), RELAY_IP);
    for t in C_READS {
        read_ok(&c, &format!("kv/data/{t}/billing"));
    }
    read_ok(&app(1), "kv/data/globex/db");
    let Issued {
        token: g_token,
        accessor: g_accessor,
    } = Issued::of(&c.write("auth/token/create", child).ok());
    let g = http.caller(Some(&g_token), RELAY_IP);
    for t in G_READS {
        read_ok(&g, &format!("kv/data/{t}/billing"));
    }
    let cert = g
        .write(
            PKI_ISSUE,
            json!({"common_name": "billing.acme.example.internal"}),
        )
        .ok();
    let pki_lease = cert["lease_id"].as_str().expect("lease_id").to_string();
    assert!(
        !pki_lease.is_empty(),
        "generate_lease gives the certificate a lease"
    );

    // 3. Password guessing.
    let login = format!("auth/userpass/login/{HUMAN}");
    for guess in [
        "dana2026",
        "Winter2026!",
        "password1",
        "dana123",
        "letmein",
        "Passw0rd!",
    ] {
        anon.write(&login, json!({"password": guess})).expect(400);
    }
    let Issued {
        token: human_token, ..
    } = Issued::of(
        &anon
            .write(&login, json!({"password": "correct-horse-battery"}))
            .ok(),
    );
    let human = http.caller(Some(&human_token), ATTACKER_IP);
    for path in HUMAN_READS {
        read_ok(&human, path);
    }

    // 4. Silence nothing explains.
    std::thread::sleep(QUIET);

    // 5. A seal.
    read_ok(&app(0), "kv/data/acme/db");
    op.write("sys/seal", json!({})).ok();
    std::thread::sleep(SEALED);
    server.unseal();
    let http = &server.http;
    let op = server.root(OPERATOR_IP);
    read_ok(
        &http.caller(Some(&apps[1].0), apps[1].1),
        "kv/data/globex/db",
    );

    // 6. The responder's HMACs.
    let hash = |input: &str| op.audit_hash(DEVICE, input);
    Recorded {
        attacker_token: hash(&p_token),
        accessors: [hash(&p_accessor), hash(&c_accessor), hash(&g_accessor)],
        pki_lease,
    }
}
