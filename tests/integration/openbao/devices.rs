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
    let token = a["client_token"]
        .as_str()
        .expect("client_token")
        .to_string();
    let accessor = a["accessor"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    (token, accessor)
}

/// Plays the scenario; the devices' files then hold it.
pub fn play(server: &mut BaoServer) -> DevicesTruth {
    let http = &server.http;
    let op = server.root(OPERATOR_IP);
    op.mount_kv2("sys/mounts/kv");
    op.enable_auth("approle");
    op.put_policy(
        "deployer",
        r#"path "kv/data/team/*" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }
path "auth/token/create/runner" { capabilities = ["update"] }"#,
    );
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
    let login = op.approle_credentials("deploy");

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
        &pc.write(
            "auth/token/create/runner",
            json!({"policies": ["deployer"]}),
        )
        .ok(),
    );
    http.caller(Some(&orphan), RELAY_IP).read(ORPHAN_READS).ok();
    let (child, child_acc) = auth(
        &pc.write(
            "auth/token/create",
            json!({"policies": ["deployer"], "ttl": "1h"}),
        )
        .ok(),
    );
    http.caller(Some(&child), ATTACKER_IP)
        .read(CHILD_READS)
        .ok();
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
    let hash = |device: &str, input: &str| op.audit_hash(device, input);
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

/// What the checks read from a `blast` JSON report.
fn blast(logs: &[&std::path::Path], pivot: &[&str], threads: &str) -> Value {
    let out = blast_output(logs, pivot, &["--threads", threads, "--format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "blast {pivot:?}: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `blastradius blast <logs> <pivot> <options>` at a fixed time.
fn blast_output(
    logs: &[&std::path::Path],
    pivot: &[&str],
    options: &[&str],
) -> std::process::Output {
    assert_cmd::Command::cargo_bin("blastradius")
        .expect("binary")
        .env("BLASTRADIUS_NOW", "2026-12-02T12:00:00Z")
        .arg("--quiet")
        .arg("blast")
        .args(logs)
        .args(pivot)
        .args(options)
        .output()
        .expect("blastradius runs")
}

fn strs(r: &Value, list: &str, key: &str) -> Vec<String> {
    let mut v: Vec<String> = r[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x[key].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

fn addresses(r: &Value) -> Vec<String> {
    let mut v: Vec<String> = r["tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            t["client_addresses"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Everything the attacker's lineage did is there, nothing of the service token.
fn lineage_complete(r: &Value, truth: &DevicesTruth) {
    let paths = strs(r, "secrets_read", "path");
    let mut want: Vec<String> = lineage_reads().iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(paths, want, "secrets read");
    let wrapped = r["secrets_read"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == WRAPPED_READ)
        .unwrap();
    assert_eq!(wrapped["wrapped_reads"], 1, "{wrapped}");
    assert_eq!(
        addresses(r),
        [ATTACKER_IP, RELAY_IP, UNWRAP_IP]
            .map(str::to_string)
            .to_vec()
            .tap_sort()
    );
    let text = r.to_string();
    assert!(
        !text.contains(SERVICE_READS) && !text.contains(SERVICE_IP),
        "service token leaked in"
    );
    let service = truth.token("service");
    for v in service
        .token_hmac
        .values()
        .chain(service.accessor_hmac.values())
    {
        assert!(!text.contains(v.as_str()), "service form {v}");
    }
    let tokens = r["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 5, "P, batch, orphan, child, wrapping");
    let orphan = tokens
        .iter()
        .find(|t| t["orphan"] == "token-role")
        .expect("the runner token is an orphan");
    assert!(orphan["revoked_with"].is_null());
    let wrapping = tokens
        .iter()
        .find(|t| t["created_via"] == "response-wrapping")
        .expect("the wrapping token");
    assert_eq!(wrapping["client_addresses"], json!([UNWRAP_IP]));
}

trait TapSort {
    fn tap_sort(self) -> Self;
}
impl TapSort for Vec<String> {
    fn tap_sort(mut self) -> Self {
        self.sort();
        self
    }
}

/// The part of a report that must not depend on which device's copy was counted.
fn scope_of(r: &Value) -> Value {
    json!({
        "secrets": strs(r, "secrets_read", "path"),
        "reads": r["secrets_read"].as_array().unwrap().iter().map(|s| s["reads"].clone()).collect::<Vec<_>>(),
        "addresses": addresses(r),
        "tokens": r["tokens"].as_array().unwrap().len(),
        "relations": strs(r, "tokens", "relation"),
        "tenants": r["affected_tenants"],
    })
}

fn check_devices(dir: &std::path::Path, truth: &DevicesTruth) {
    let primary = dir.join("primary.log");
    let clear = dir.join("clear.log");
    let p = truth.token("attacker");
    let accessor = p.accessor.clone().expect("accessor");
    let both = blast(&[&primary, &clear], &["--accessor", &accessor], "2");
    lineage_complete(&both, truth);
    // Each device alone, with that device's form of the pivot, finds the same scope.
    let alone_clear = blast(&[&clear], &["--accessor", &accessor], "1");
    let alone_primary = blast(
        &[&primary],
        &["--accessor", &p.accessor_hmac["primary"]],
        "1",
    );
    let by_token = blast(
        &[&primary, &clear],
        &["--token", &p.token_hmac["primary"]],
        "1",
    );
    for other in [&alone_clear, &alone_primary, &by_token] {
        lineage_complete(other, truth);
        assert_eq!(scope_of(&both), scope_of(other));
    }
    // The pivot's forms: the clear accessor and the primary device's HMAC of it.
    let pivot = &both["tokens"][0];
    let forms: Vec<&str> = pivot["forms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(
        forms.contains(&accessor.as_str()) && forms.contains(&p.accessor_hmac["primary"].as_str()),
        "{forms:?}"
    );
    // Revoke commands use clear accessors: the pivot, the orphan, the child, the wrapping token.
    let commands = strs(&both, "rotation_targets", "command");
    for name in ["attacker", "orphan", "child", "wrapping"] {
        let acc = truth.token(name).accessor.clone().unwrap();
        assert!(
            commands
                .iter()
                .any(|c| c == &format!("vault token revoke -accessor -- {acc}")),
            "{name}: {commands:?}"
        );
    }
    assert!(
        !commands.iter().any(|c| c.contains("<CLEAR_ACCESSOR_OF")),
        "{commands:?}"
    );
    // Input order and thread count do not change the report.
    let reference = blast(&[&primary, &clear], &["--accessor", &accessor], "1");
    for (order, threads) in [(false, "2"), (true, "1"), (true, "2")] {
        let logs: [&std::path::Path; 2] = if order {
            [&clear, &primary]
        } else {
            [&primary, &clear]
        };
        assert_eq!(
            reference,
            blast(&logs, &["--accessor", &accessor], threads),
            "order {order}, threads {threads}"
        );
    }
}

#[test]
fn fixture_devices_blast_is_the_same_over_both_devices_and_each_alone() {
    let dir = crate::util::fixture("openbao-2.7/devices");
    let text = std::fs::read_to_string(dir.join("ground-truth.json")).expect("ground truth");
    let truth: DevicesTruth = serde_json::from_str(&text).expect("ground truth JSON");
    check_devices(&dir, &truth);
}

#[test]
fn live_devices_blast_is_the_same_over_both_devices_and_each_alone() {
    if super::skipped() {
        return;
    }
    let r = record();
    let dir = tempfile::tempdir().expect("temp dir");
    for (file, bytes) in &r.logs {
        std::fs::write(dir.path().join(file), bytes).expect("write");
    }
    check_devices(dir.path(), &r.truth);
}

/// Two devices' files named like rotated siblings of one file look like one device; a
/// `--device` rule per file says they are two, and the blast radius is whole again.
#[test]
fn device_rules_split_files_that_look_like_one_device() {
    let src = crate::util::fixture("openbao-2.7/devices");
    let text = std::fs::read_to_string(src.join("ground-truth.json")).expect("ground truth");
    let truth: DevicesTruth = serde_json::from_str(&text).expect("ground truth JSON");
    let dir = tempfile::tempdir().expect("temp dir");
    let primary = dir.path().join("audit.log.1");
    let clear = dir.path().join("audit.log");
    std::fs::copy(src.join("primary.log"), &primary).unwrap();
    std::fs::copy(src.join("clear.log"), &clear).unwrap();
    let accessor = truth.token("attacker").accessor.clone().expect("accessor");
    let pivot = ["--accessor", accessor.as_str()];
    let rules = [
        format!("primary={}", primary.display()),
        format!("clear={}", clear.display()),
    ];
    let mut split: Vec<&str> = pivot.to_vec();
    for r in &rules {
        split.extend(["--device", r.as_str()]);
    }
    let joined = blast(&[&primary, &clear], &split, "2");
    lineage_complete(&joined, &truth);
    // Without the rules the files are one device: the primary device's forms of the pivot
    // are not learnt, with them they are.
    let primary_form = truth.token("attacker").accessor_hmac["primary"].clone();
    let forms = |r: &Value| r["tokens"][0]["forms"].to_string();
    assert!(forms(&joined).contains(&primary_form), "{}", forms(&joined));
    let alone = blast(&[&primary, &clear], &pivot, "2");
    assert!(!forms(&alone).contains(&primary_form), "{}", forms(&alone));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 10, .. Default::default() })]
    /// The blast report over both devices is the same for any input order, thread count and
    /// chunk size (chunks as small as 300 bytes split the files at many places), and the same
    /// as each device alone with that device's form of the pivot.
    #[test]
    fn blast_over_two_devices_does_not_depend_on_order_threads_or_chunks(
        clear_first in proptest::bool::ANY,
        threads in 1usize..=2,
        chunk in proptest::sample::select(vec!["300", "2K", "4M"]),
        form in 0usize..3,
    ) {
        let dir = crate::util::fixture("openbao-2.7/devices");
        let text = std::fs::read_to_string(dir.join("ground-truth.json")).expect("ground truth");
        let truth: DevicesTruth = serde_json::from_str(&text).expect("ground truth JSON");
        let (primary, clear) = (dir.join("primary.log"), dir.join("clear.log"));
        let p = truth.token("attacker");
        let accessor = p.accessor.clone().expect("accessor");
        let reference = blast(&[&primary, &clear], &["--accessor", &accessor], "1");
        let logs: [&std::path::Path; 2] =
            if clear_first { [&clear, &primary] } else { [&primary, &clear] };
        let threads = threads.to_string();
        let pivot = ["--accessor", accessor.as_str(), "--chunk-size", chunk];
        let got = blast(&logs, &pivot, &threads);
        proptest::prop_assert_eq!(&reference, &got);
        // One device alone, pivot in its form: the same scope.
        let (log, pivot_form) = match form {
            0 => (&clear, accessor.clone()),
            1 => (&primary, p.accessor_hmac["primary"].clone()),
            _ => (&primary, p.token_hmac["primary"].clone()),
        };
        let flag = if form == 2 { "--token" } else { "--accessor" };
        let alone = blast(&[log], &[flag, &pivot_form, "--chunk-size", chunk], &threads);
        proptest::prop_assert_eq!(scope_of(&reference), scope_of(&alone));
    }
}

/// `scan` over both devices: the first device by name counts every shared event, so its
/// report (findings' actors and evidence included) is the same for any input order, thread
/// count and chunk size.
#[test]
fn scan_over_two_devices_is_the_same_for_any_order_threads_and_chunks() {
    let dir = crate::util::fixture("openbao-2.7/devices");
    let (primary, clear) = (dir.join("primary.log"), dir.join("clear.log"));
    let (primary, clear) = (primary.as_path(), clear.as_path());
    let scan = |logs: [&std::path::Path; 2], threads: &str, chunk: &str| -> Value {
        let out = assert_cmd::Command::cargo_bin("blastradius")
            .expect("binary")
            .env("BLASTRADIUS_NOW", "2026-12-02T12:00:00Z")
            .arg("--quiet")
            .arg("scan")
            .args(logs)
            .args([
                "--threads",
                threads,
                "--chunk-size",
                chunk,
                "--format",
                "json",
            ])
            .output()
            .expect("blastradius runs");
        serde_json::from_slice(&out.stdout).expect("scan JSON")
    };
    let reference = scan([primary, clear], "1", "4M");
    assert!(!reference["findings"].as_array().unwrap().is_empty());
    for _ in 0..3 {
        for (logs, threads, chunk) in [
            ([clear, primary], "2", "300"),
            ([primary, clear], "2", "300"),
            ([clear, primary], "1", "4M"),
        ] {
            let got = scan(logs, threads, chunk);
            assert_eq!(reference, got, "threads {threads}, chunk {chunk}");
        }
    }
}

/// The device first in name order counts the events both devices hold: `--device` names decide
/// which device's copies are the findings' evidence.
#[test]
fn scan_counts_shared_events_from_the_first_device_by_name() {
    let dir = crate::util::fixture("openbao-2.7/devices");
    let findings_in = |first: &str, second: &str| -> String {
        let out = assert_cmd::Command::cargo_bin("blastradius")
            .expect("binary")
            .env("BLASTRADIUS_NOW", "2026-12-02T12:00:00Z")
            .arg("--quiet")
            .arg("scan")
            .args([dir.join("primary.log"), dir.join("clear.log")])
            .args([
                "--device",
                &format!("a=*{first}"),
                "--device",
                &format!("b=*{second}"),
            ])
            .args(["--threads", "2", "--format", "json"])
            .output()
            .expect("blastradius runs");
        let r: Value = serde_json::from_slice(&out.stdout).expect("scan JSON");
        r["findings"].to_string()
    };
    let clear_first = findings_in("clear.log", "primary.log");
    assert!(clear_first.contains("devices/clear.log"), "{clear_first}");
    assert!(
        !clear_first.contains("devices/primary.log"),
        "{clear_first}"
    );
    let primary_first = findings_in("primary.log", "clear.log");
    assert!(
        primary_first.contains("devices/primary.log"),
        "{primary_first}"
    );
    assert!(
        !primary_first.contains("devices/clear.log"),
        "{primary_first}"
    );
}

/// `blast` over both devices lists them: each device's file, its entry count (the file's lines,
/// one entry each) and how it logs accessors, from the server configuration the recording used
/// (`hmac_accessor = "false"` on one device); text and Markdown name them and every form of
/// the pivot.
#[test]
fn blast_lists_the_devices_and_the_forms_of_each_token() {
    let dir = crate::util::fixture("openbao-2.7/devices");
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("ground-truth.json")).expect("ground truth"),
    )
    .expect("json");
    let (primary, clear) = (dir.join("primary.log"), dir.join("clear.log"));
    let logs = [primary.as_path(), clear.as_path()];
    let attacker = truth["tokens"]["attacker"]["accessor"].as_str().unwrap();
    let r = blast(&logs, &["--accessor", attacker], "2");
    let devices = r["devices"].as_array().expect("devices[]");
    assert_eq!(devices.len(), 2, "{devices:?}");
    for (name, d) in truth["devices"].as_object().unwrap() {
        let file = d["file"].as_str().unwrap();
        let got = devices
            .iter()
            .find(|x| x["inputs"][0].as_str().is_some_and(|p| p.ends_with(file)))
            .unwrap_or_else(|| panic!("device of {file} ({name}) not listed: {devices:?}"));
        let lines = std::fs::read_to_string(dir.join(file))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count() as u64;
        assert_eq!(got["entries"].as_u64(), Some(lines), "{file}");
        let expected = if d["options"]["hmac_accessor"] == "false" {
            "clear"
        } else {
            "hmac"
        };
        assert_eq!(got["accessors"], expected, "{file}");
    }
    let run = |format: &str| -> String {
        let out = blast_output(&logs, &["--accessor", attacker], &["--format", format]);
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let text = run("text");
    assert!(text.contains("Devices    clear.log"), "{text}");
    assert!(text.contains("accessors in clear"), "{text}");
    let primary_hmac = truth["tokens"]["attacker"]["accessor_hmac"]["primary"]
        .as_str()
        .unwrap();
    let forms = text
        .split("TOKEN FORMS")
        .nth(1)
        .expect("a TOKEN FORMS section");
    assert!(
        forms.contains(attacker) && forms.contains(primary_hmac),
        "{forms}"
    );
    let markdown = run("markdown");
    assert!(markdown.contains("Audit devices"), "{markdown}");
    assert!(markdown.contains("accessors in clear"), "{markdown}");
}

/// Two copies of one device's log put on one device by a rule hold every entry twice. The copy
/// in the lower-numbered input (path order) counts each entry, whatever the thread count, chunk
/// size or the order the paths were given in: the reports are identical, evidence locations
/// included, and every location is in the first copy.
#[test]
fn copies_on_one_device_are_counted_from_the_lower_numbered_input_whatever_the_schedule() {
    let src = crate::util::fixture("openbao-2.7/devices").join("primary.log");
    let dir = tempfile::tempdir().expect("temp dir");
    let (first, second) = (dir.path().join("a-copy.log"), dir.path().join("b-copy.log"));
    std::fs::copy(&src, &first).unwrap();
    std::fs::copy(&src, &second).unwrap();
    let (first, second) = (first.as_path(), second.as_path());
    let rule = format!("one={}/*", dir.path().display());
    let scan = |logs: [&std::path::Path; 2], threads: &str, chunk: &str| -> Value {
        let out = crate::util::bin()
            .arg("--quiet")
            .arg("scan")
            .args(logs)
            .args([
                "--device",
                &rule,
                "--threads",
                threads,
                "--chunk-size",
                chunk,
            ])
            .args(["--format", "json"])
            .output()
            .expect("blastradius runs");
        serde_json::from_slice(&out.stdout).expect("scan JSON")
    };
    let reference = scan([first, second], "1", "4M");
    let lines = crate::util::lines(&src).len() as u64;
    assert_eq!(reference["stats"]["duplicates"], lines, "every entry twice");
    let findings = reference["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    let first_name = first.display().to_string();
    for f in findings {
        for e in f["evidence"].as_array().expect("evidence") {
            assert_eq!(e["file"], first_name.as_str(), "{e}");
        }
    }
    for _ in 0..3 {
        for (logs, threads, chunk) in [
            ([second, first], "2", "300"),
            ([first, second], "2", "300"),
            ([second, first], "1", "4M"),
            ([first, second], "2", "2K"),
        ] {
            let got = scan(logs, threads, chunk);
            let diff = crate::util::json_diff(&reference, &got);
            assert!(
                diff.is_empty(),
                "threads {threads}, chunk {chunk}: {diff:?}"
            );
        }
    }
}
