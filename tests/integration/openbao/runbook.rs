//! The runbook runs: a scenario with a namespace (KV v2 in `acme/`, userpass in `acme/`), a KV v1
//! mount, transit, PKI with a lease and AppRole at the root, and secrets whose names start with
//! `-`; `rotation-list` on the log it wrote; every command, placeholders filled with values only
//! the server gave, run with the real `bao` (the commands name `vault`: same arguments), and the
//! server asked whether each did what it says. A canary listener checks that no secret name
//! became `-address=...`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Command;

use serde_json::Value;

use super::client::{Issued, string};
use super::server::{BaoServer, DEVICE};
use super::skipped;

/// Names that would be flags if they were not after `--`.
const HOSTILE: [&str; 2] = ["-output-curl-string", "--help"];

struct Bao<'a> {
    server: &'a BaoServer,
}

impl Bao<'_> {
    /// Runs `bao <args>` with `token`; returns (success, stdout, stderr).
    fn run(&self, token: &str, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("bao")
            .args(args)
            .env("BAO_ADDR", &self.server.addr)
            .env("BAO_TOKEN", token)
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_NAMESPACE")
            .output()
            .expect("bao runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `bao <args>` as root; panics unless it succeeds.
    fn root(&self, args: &[&str]) -> String {
        self.with(&self.server.root_token, args)
    }

    /// `bao <args> -format=json` with `token`, parsed; panics unless it succeeds.
    fn with(&self, token: &str, args: &[&str]) -> String {
        let (ok, out, err) = self.run(token, args);
        assert!(ok, "bao {args:?} failed: {err}");
        out
    }

    /// `bao <args>` with `-format=json` after the subcommand, parsed.
    fn json(&self, token: &str, args: &[&str]) -> Value {
        let words = if ["kv", "token", "lease"].contains(&args[0]) {
            2
        } else {
            1
        };
        let mut all: Vec<&str> = args.to_vec();
        all.insert(words, "-format=json");
        serde_json::from_str(&self.with(token, &all)).expect("JSON from bao")
    }
}

/// What the scenario learnt from the server.
struct Played {
    canary: TcpListener,
    hostile_address: String,
    secret_id: String,
    /// Clear accessor → the namespace it lives in.
    accessors: Vec<(String, Option<&'static str>)>,
    lease: String,
}

fn play(b: &Bao<'_>) -> Played {
    let canary = TcpListener::bind("127.0.0.1:0").expect("canary port");
    canary.set_nonblocking(true).expect("non-blocking");
    let hostile_address = format!(
        "-address=http://127.0.0.1:{}/x",
        canary.local_addr().unwrap().port()
    );
    let all = "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }";
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("all.hcl");
    std::fs::write(&policy, all).unwrap();
    let policy = policy.to_str().unwrap();
    b.root(&["namespace", "create", "acme"]);
    b.root(&["policy", "write", "all", policy]);
    b.root(&["policy", "write", "-namespace=acme", "all", policy]);
    b.root(&[
        "secrets",
        "enable",
        "-namespace=acme",
        "-path=secret",
        "kv-v2",
    ]);
    let mut names: Vec<&str> = vec!["db", hostile_address.as_str()];
    names.extend(HOSTILE);
    for n in &names {
        b.root(&[
            "kv",
            "put",
            "-namespace=acme",
            "-mount=secret",
            "--",
            n,
            "pw=old",
        ]);
    }
    b.root(&["secrets", "enable", "-path=kv1", "kv"]);
    b.root(&["write", "--", "kv1/app", "pw=old"]);
    b.root(&["write", "--", "kv1/-output-curl-string", "pw=old"]);
    b.root(&["secrets", "enable", "transit"]);
    b.root(&["write", "-f", "transit/keys/payments"]);
    let ct = b.json(
        &b.server.root_token,
        &["write", "transit/encrypt/payments", "plaintext=aGk="],
    );
    let ct = string(&ct["data"]["ciphertext"]);
    b.root(&["secrets", "enable", "pki"]);
    b.root(&[
        "write",
        "pki/root/generate/internal",
        "common_name=example.com",
        "ttl=24h",
    ]);
    b.root(&[
        "write",
        "pki/roles/web",
        "allowed_domains=example.com",
        "allow_subdomains=true",
        "generate_lease=true",
        "max_ttl=1h",
    ]);
    b.root(&["auth", "enable", "approle"]);
    b.root(&["write", "auth/approle/role/svc", "token_policies=all"]);
    let role_id = string(
        &b.json(
            &b.server.root_token,
            &["read", "auth/approle/role/svc/role-id"],
        )["data"]["role_id"],
    );
    let secret_id = string(
        &b.json(
            &b.server.root_token,
            &["write", "-f", "auth/approle/role/svc/secret-id"],
        )["data"]["secret_id"],
    );
    b.root(&["auth", "enable", "-namespace=acme", "userpass"]);
    b.root(&[
        "write",
        "-namespace=acme",
        "auth/userpass/users/alice",
        "password=old-pass",
        "token_policies=all",
    ]);
    // The attack: the AppRole credential and alice's password are used.
    let login = b.json(
        "",
        &[
            "write",
            "auth/approle/login",
            &format!("role_id={role_id}"),
            &format!("secret_id={secret_id}"),
        ],
    );
    let Issued {
        token: a_tok,
        accessor: a_acc,
    } = Issued::of(&login);
    b.with(&a_tok, &["read", "--", "kv1/app"]);
    b.with(&a_tok, &["read", "--", "kv1/-output-curl-string"]);
    b.with(
        &a_tok,
        &[
            "write",
            "transit/decrypt/payments",
            &format!("ciphertext={ct}"),
        ],
    );
    let cert = b.json(
        &a_tok,
        &["write", "pki/issue/web", "common_name=a.example.com"],
    );
    let lease = string(&cert["lease_id"]);
    let login = b.json(
        "",
        &[
            "write",
            "-namespace=acme",
            "auth/userpass/login/alice",
            "password=old-pass",
        ],
    );
    let Issued {
        token: u_tok,
        accessor: u_acc,
    } = Issued::of(&login);
    for n in &names {
        b.with(
            &u_tok,
            &["kv", "get", "-namespace=acme", "-mount=secret", "--", n],
        );
    }
    Played {
        canary,
        hostile_address,
        secret_id,
        accessors: vec![(a_acc, None), (u_acc, Some("acme"))],
        lease,
    }
}

/// The plan's commands with placeholders filled, `vault` → `bao`.
fn filled(plan: &Value, b: &Bao<'_>, p: &Played, new_secret: &str) -> Vec<String> {
    let op = b.server.root("127.0.0.1");
    let mut by_hmac: HashMap<String, String> = HashMap::new();
    for (acc, _) in &p.accessors {
        by_hmac.insert(op.audit_hash(DEVICE, acc), acc.clone());
    }
    plan.as_array()
        .expect("a JSON array")
        .iter()
        .map(|t| {
            let mut c = string(&t["command"]);
            assert!(!c.is_empty(), "a refused row: {t}");
            for (h, acc) in &by_hmac {
                c = c.replace(&format!("<CLEAR_ACCESSOR_OF {h}>"), acc);
            }
            c = c
                .replace("<NEW_SECRET.json>", new_secret)
                .replace("<LEAKED_SECRET_ID>", &p.secret_id)
                .replace("<NEW_PASSWORD>", "new-pass");
            assert!(!c.contains('<'), "a placeholder left: {c}");
            c.replace("vault ", "bao ")
        })
        .collect()
}

#[test]
fn live_rotation_list_commands_run_and_do_what_they_say() {
    if skipped() {
        return;
    }
    let server = BaoServer::start();
    let b = Bao { server: &server };
    let p = play(&b);
    let out = super::super::util::bin()
        .args([
            "rotation-list",
            "--display-name",
            "approle",
            "--display-name",
            "acme-auth-userpass-alice",
            "-f",
            "json",
        ])
        .arg(server.audit_log())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let dir = tempfile::tempdir().unwrap();
    let new_secret = dir.path().join("new.json");
    std::fs::write(&new_secret, r#"{"rotated":"yes"}"#).unwrap();
    let commands = filled(&plan, &b, &p, new_secret.to_str().unwrap());
    let joined = commands.join("\n");
    for want in [
        "bao kv put -namespace=acme -mount=secret -- db @",
        "bao kv put -mount=kv1 -- app @",
        "bao kv put -mount=kv1 -- -output-curl-string @",
        "bao write -f -- transit/keys/payments/rotate",
        "bao lease revoke -- pki/issue/web/",
        "bao write -- auth/approle/role/svc/secret-id/destroy secret_id=",
        "bao write -namespace=acme -- auth/userpass/users/alice/password password=new-pass",
        "bao token revoke -namespace=acme -accessor -- ",
    ] {
        assert!(joined.contains(want), "no `{want}` in:\n{joined}");
    }
    for c in &commands {
        let out = Command::new("sh")
            .args(["-c", c])
            .env("BAO_ADDR", &server.addr)
            .env("BAO_TOKEN", &server.root_token)
            .env_remove("VAULT_ADDR")
            .output()
            .expect("sh runs");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "`{c}` failed: {stderr}");
        assert!(
            !stdout.contains("curl ") && !stdout.contains("Usage:"),
            "a flag was honoured by `{c}`: {stdout}"
        );
    }
    // No name became `-address=...`: the canary was never contacted.
    assert!(
        p.canary
            .accept()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "the canary address was contacted"
    );
    let root = &server.root_token;
    let mut names = vec!["db".to_string(), p.hostile_address.replace("//", "/")];
    names.extend(HOSTILE.iter().map(|n| n.to_string()));
    for n in &names {
        let v = b.json(
            root,
            &["kv", "get", "-namespace=acme", "-mount=secret", "--", n],
        );
        assert_eq!(v["data"]["metadata"]["version"], 2, "{n}: {v}");
        assert_eq!(v["data"]["data"]["rotated"], "yes", "{n}: {v}");
    }
    for n in ["kv1/app", "kv1/-output-curl-string"] {
        let v = b.json(root, &["read", "--", n]);
        assert_eq!(v["data"], serde_json::json!({"rotated": "yes"}), "{n}");
    }
    let key = b.json(root, &["read", "transit/keys/payments"]);
    assert_eq!(key["data"]["latest_version"], 2);
    assert!(
        !b.run(root, &["lease", "lookup", &p.lease]).0,
        "the lease is gone"
    );
    for (acc, ns) in &p.accessors {
        let ns = ns
            .map(|n| format!("-namespace={n}"))
            .unwrap_or_else(|| "-namespace=".into());
        assert!(
            !b.run(root, &["token", "lookup", &ns, "-accessor", acc]).0,
            "token {acc} is gone"
        );
    }
    let lookup = b.run(
        root,
        &[
            "write",
            "auth/approle/role/svc/secret-id/lookup",
            &format!("secret_id={}", p.secret_id),
        ],
    );
    assert!(
        !lookup.1.contains("secret_id_accessor"),
        "the secret-id is gone: {lookup:?}"
    );
    assert!(
        b.run(
            "",
            &[
                "write",
                "-namespace=acme",
                "auth/userpass/login/alice",
                "password=new-pass"
            ]
        )
        .0
    );
    assert!(
        !b.run(
            "",
            &[
                "write",
                "-namespace=acme",
                "auth/userpass/login/alice",
                "password=old-pass"
            ]
        )
        .0
    );
}
