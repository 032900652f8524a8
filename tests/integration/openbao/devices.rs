//! Identity across audit devices, played against a live server with two file devices:
//! `primary` (defaults: accessors HMAC'd) and `clear` (`hmac_accessor = "false"` and a `prefix`,
//! which OpenBao only accepts with `allow_audit_log_prefixing = true`). Each device has its own
//! HMAC salt, so every token has a different HMAC in each file.
//!
//! An operator (10.0.9.10) provisions KV v2 secrets `kv/data/team/<name>`, a policy `deployer`,
//! the AppRole role `deploy`, and a token role `runner` with `orphan = true`. Then:
//!
//! 1. the deploy service logs in with its secret_id from 10.0.4.20 and reads `omega`: an
//!    unrelated token with the same role and policies as the attacker's;
//! 2. the leaked secret_id logs in from 203.0.113.66 (token P), which reads `alpha` and creates:
//!    a batch token B (no accessor) that reads `beta` from 198.51.100.23; an orphan token O
//!    through the `runner` role that reads `gamma` from 198.51.100.23; a child C that reads
//!    `delta`; and a wrapped read of `epsilon` (`X-Vault-Wrap-TTL`) whose wrapping token W is
//!    unwrapped from 192.0.2.44;
//! 3. the responder asks each device for the HMACs of every token and accessor.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::server::{BaoServer, Device};

/// The devices: `primary` hashes accessors; `clear` logs them in clear, behind a prefix.
pub const DEVICES: [Device; 2] = [
    Device {
        name: "primary",
        file: "primary.log",
        options: &[],
    },
    Device {
        name: "clear",
        file: "clear.log",
        options: &[("hmac_accessor", "false"), ("prefix", "bao-audit: ")],
    },
];
pub const ATTACKER_IP: &str = "203.0.113.66";
pub const RELAY_IP: &str = "198.51.100.23";
pub const UNWRAP_IP: &str = "192.0.2.44";
pub const SERVICE_IP: &str = "10.0.4.20";
const OPERATOR_IP: &str = "10.0.9.10";
/// Secrets, and who reads them.
pub const P_READS: &str = "kv/data/team/alpha";
pub const BATCH_READS: &str = "kv/data/team/beta";
pub const ORPHAN_READS: &str = "kv/data/team/gamma";
pub const CHILD_READS: &str = "kv/data/team/delta";
pub const WRAPPED_READ: &str = "kv/data/team/epsilon";
pub const SERVICE_READS: &str = "kv/data/team/omega";
const SECRETS: [&str; 6] = ["alpha", "beta", "gamma", "delta", "epsilon", "omega"];

/// Every path the attacker's lineage read (the wrapped one included).
pub fn lineage_reads() -> Vec<&'static str> {
    vec![
        P_READS,
        BATCH_READS,
        ORPHAN_READS,
        CHILD_READS,
        WRAPPED_READ,
    ]
}

/// A token as the server handed it out, and its HMACs per device.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TokenTruth {
    /// The accessor the server returned (none for batch tokens).
    pub accessor: Option<String>,
    /// `sys/audit-hash/<device>` of the token, per device.
    pub token_hmac: BTreeMap<String, String>,
    /// `sys/audit-hash/<device>` of the accessor, per device (what a hashing device logs).
    pub accessor_hmac: BTreeMap<String, String>,
}

/// The recording's ground truth: the server's own answers.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DevicesTruth {
    /// `attacker` (P), `batch` (B), `orphan` (O), `child` (C), `wrapping` (W), `service`.
    pub tokens: BTreeMap<String, TokenTruth>,
    /// Per device: its file and options.
    pub devices: BTreeMap<String, Value>,
}

impl DevicesTruth {
    pub fn token(&self, name: &str) -> &TokenTruth {
        &self.tokens[name]
    }
}

fn auth(v: &Value) -> (String, Option<String>) {
    let a = &v["auth"];
    let token = a["client_token"].as_str().expect("client_token").to_string();
    let accessor = a["accessor"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    (token, accessor)
}

/// Plays the scenario; the devices' files then hold it.
pub fn play(server: &mut BaoServer) -> DevicesTruth {
    let http = &server.http;
    let op = http.caller(Some(&server.root_token), OPERATOR_IP);
    op.write(
        "sys/mounts/kv",
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .ok();
    op.write("sys/auth/approle", json!({"type": "approle"}))
        .ok();
    op.write(
        "sys/policies/acl/deployer",
        json!({"policy": r#"path "kv/data/team/*" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }
path "auth/token/create/runner" { capabilities = ["update"] }"#}),
    )
    .ok();
    for s in SECRETS {
        op.write(
            &format!("kv/data/team/{s}"),
            json!({"data": {"key": format!("{s}-value")}}),
        )
        .ok();
    }
    op.write(
        "auth/token/roles/runner",
        json!({"orphan": true, "allowed_policies": ["deployer"]}),
    )
    .ok();
    op.write(
        "auth/approle/role/deploy",
        json!({"token_policies": ["deployer"], "token_ttl": "1h"}),
    )
    .ok();
    let role_id = op.read("auth/approle/role/deploy/role-id").ok()["data"]["role_id"]
        .as_str()
        .expect("role_id")
        .to_string();
    let secret_id = op
        .write("auth/approle/role/deploy/secret-id", json!({}))
        .ok()["data"]["secret_id"]
        .as_str()
        .expect("secret_id")
        .to_string();
    let login = json!({"role_id": role_id, "secret_id": secret_id});

    // 1. The deploy service: same role, same policies, not compromised.
    let (service, service_acc) = auth(
        &http
            .caller(None, SERVICE_IP)
            .write("auth/approle/login", login.clone())
            .ok(),
    );
    http.caller(Some(&service), SERVICE_IP)
        .read(SERVICE_READS)
        .ok();

    // 2. The leak.
    let (p, p_acc) = auth(
        &http
            .caller(None, ATTACKER_IP)
            .write("auth/approle/login", login)
            .ok(),
    );
    let pc = http.caller(Some(&p), ATTACKER_IP);
    pc.read(P_READS).ok();
    let (batch, batch_acc) = auth(
        &pc.write(
            "auth/token/create",
            json!({"type": "batch", "policies": ["deployer"], "ttl": "1h"}),
        )
        .ok(),
    );
    assert!(batch_acc.is_none(), "batch tokens have no accessor");
    http.caller(Some(&batch), RELAY_IP).read(BATCH_READS).ok();
    let (orphan, orphan_acc) = auth(
        &pc.write("auth/token/create/runner", json!({"policies": ["deployer"]}))
            .ok(),
    );
    http.caller(Some(&orphan), RELAY_IP)
        .read(ORPHAN_READS)
        .ok();
    let (child, child_acc) = auth(
        &pc.write(
            "auth/token/create",
            json!({"policies": ["deployer"], "ttl": "1h"}),
        )
        .ok(),
    );
    http.caller(Some(&child), ATTACKER_IP).read(CHILD_READS).ok();
    let wrapped = pc.wrapping("5m").read(WRAPPED_READ).ok();
    let wrap_token = wrapped["wrap_info"]["token"]
        .as_str()
        .expect("wrap_info.token")
        .to_string();
    let wrap_acc = wrapped["wrap_info"]["accessor"]
        .as_str()
        .map(str::to_string);
    let unwrapped = http
        .caller(Some(&wrap_token), UNWRAP_IP)
        .write("sys/wrapping/unwrap", json!({}))
        .ok();
    assert!(unwrapped["data"]["data"]["key"].is_string(), "unwrapped");

    // 3. The responder's HMACs, from each device.
    let hash = |device: &str, input: &str| -> String {
        op.write(&format!("sys/audit-hash/{device}"), json!({"input": input}))
            .ok()["data"]["hash"]
            .as_str()
            .expect("hash")
            .to_string()
    };
    let truth = |token: &str, accessor: Option<String>| TokenTruth {
        token_hmac: DEVICES
            .iter()
            .map(|d| (d.name.to_string(), hash(d.name, token)))
            .collect(),
        accessor_hmac: accessor
            .iter()
            .flat_map(|a| {
                DEVICES
                    .iter()
                    .map(|d| (d.name.to_string(), hash(d.name, a)))
                    .collect::<Vec<_>>()
            })
            .collect(),
        accessor,
    };
    let tokens = [
        ("attacker", truth(&p, p_acc)),
        ("batch", truth(&batch, None)),
        ("orphan", truth(&orphan, orphan_acc)),
        ("child", truth(&child, child_acc)),
        ("wrapping", truth(&wrap_token, wrap_acc)),
        ("service", truth(&service, service_acc)),
    ];
    DevicesTruth {
        tokens: tokens
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        devices: DEVICES
            .iter()
            .map(|d| {
                let options: serde_json::Map<String, Value> = d
                    .options
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect();
                (
                    d.name.to_string(),
                    json!({"file": d.file, "options": options}),
                )
            })
            .collect(),
    }
}

/// A recording: each device's file and the truth.
pub struct Recording {
    pub logs: Vec<(String, Vec<u8>)>,
    pub truth: DevicesTruth,
}

/// Starts a server with both devices, plays the scenario, keeps the files.
pub fn record() -> Recording {
    let mut server = BaoServer::start_with(&DEVICES);
    let truth = play(&mut server);
    let logs = DEVICES
        .iter()
        .map(|d| {
            let bytes = std::fs::read(server.device_log(d)).unwrap_or_else(|e| {
                panic!("read {} ({e}); server output:\n{}", d.file, server.output())
            });
            (d.file.to_string(), bytes)
        })
        .collect();
    Recording { logs, truth }
}

/// Regenerates fixtures/openbao-2.7/devices/ (scripts/record-devices.sh runs it).
#[test]
#[ignore = "rewrites fixtures/openbao-2.7/devices/: run by scripts/record-devices.sh"]
fn record_devices_fixture() {
    let r = record();
    let dir = crate::util::fixture("openbao-2.7/devices");
    std::fs::create_dir_all(&dir).expect("fixtures/openbao-2.7/devices");
    for (file, bytes) in &r.logs {
        std::fs::write(dir.join(file), bytes).expect("write a device's log");
    }
    let truth = serde_json::to_string_pretty(&r.truth).expect("json") + "\n";
    std::fs::write(dir.join("ground-truth.json"), truth).expect("write ground-truth.json");
}
