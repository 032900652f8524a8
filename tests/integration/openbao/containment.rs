//! The containment commands of an incident report run: `blast` on an AppRole login prints
//! `vault token revoke -mode=path -- auth/approle/` first among its actions; run with the real
//! `bao` against the server that wrote the log, it revokes every token issued through AppRole
//! and no other (a userpass login's token, a token created by root and root itself still work).
//! The next step, bound CIDRs on the role (placeholder filled), refuses the leaked secret_id from
//! the attacker's address and still lets the service in; the last disables the method.

use std::process::Command;

use serde_json::json;

use super::client::Issued;
use super::server::{BaoServer, DEVICE};
use super::skipped;
use crate::util::bin;

/// The first command in backticks on the first Markdown line that holds `needle`.
fn command_in(md: &str, needle: &str) -> String {
    let line = md
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{md}"));
    let at = line.find(needle).expect("found");
    let end = line[at..].find('`').expect("closing backtick");
    line[at..at + end].to_string()
}

#[test]
fn live_containment_revokes_the_approle_tokens_and_only_those() {
    if skipped() {
        return;
    }
    let server = BaoServer::start();
    let http = &server.http;
    let op = server.root("10.0.9.10");
    op.enable_auth("approle");
    op.enable_auth("userpass");
    op.write("auth/approle/role/svc", json!({"token_ttl": "1h"}))
        .ok();
    let creds = &op.approle_credentials("svc");
    op.add_user("erin", "erin-pw", &[]);
    let Issued { token: service, .. } = Issued::of(
        &http
            .caller(None, "10.0.4.20")
            .write("auth/approle/login", creds.clone())
            .ok(),
    );
    let Issued {
        token: attacker,
        accessor,
    } = Issued::of(
        &http
            .caller(None, "203.0.113.66")
            .write("auth/approle/login", creds.clone())
            .ok(),
    );
    let Issued { token: human, .. } = Issued::of(
        &http
            .caller(None, "10.0.9.20")
            .write("auth/userpass/login/erin", json!({"password": "erin-pw"}))
            .ok(),
    );
    let Issued { token: app, .. } =
        Issued::of(&op.write("auth/token/create", json!({"ttl": "1h"})).ok());
    for t in [&service, &attacker, &human, &app] {
        http.caller(Some(t), "10.0.1.1")
            .read("auth/token/lookup-self")
            .ok();
    }
    let accessor_hmac = op.audit_hash(DEVICE, &accessor);
    let out = bin()
        .args(["blast", "--accessor", &accessor_hmac, "-f", "markdown"])
        .arg(server.audit_log())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).expect("UTF-8");
    let command = command_in(&md, "vault token revoke -mode=path ");
    assert_eq!(command, "vault token revoke -mode=path -- auth/approle/");
    run_bao(&server, &command);
    // Both AppRole tokens are gone, the attacker's and the legitimate service's (the trade-off
    // the report states); every other token still works.
    for t in [&service, &attacker] {
        http.caller(Some(t), "10.0.1.1")
            .read("auth/token/lookup-self")
            .expect(403);
    }
    for t in [&human, &app, &server.root_token] {
        http.caller(Some(t), "10.0.1.1")
            .read("auth/token/lookup-self")
            .ok();
    }
    let bind = command_in(&md, "vault write -- auth/approle/role/");
    assert!(bind.contains("<TRUSTED_CIDRS>"), "{bind}");
    run_bao(&server, &bind.replace("<TRUSTED_CIDRS>", "10.0.4.20/32"));
    let login = |from: &'static str| {
        http.caller(None, from)
            .write("auth/approle/login", creds.clone())
            .status
    };
    assert!(
        (400..500).contains(&login("203.0.113.66")),
        "the leaked secret_id still logs in"
    );
    assert_eq!(login("10.0.4.20"), 200);
    let disable = command_in(&md, "vault auth disable ");
    assert_eq!(disable, "vault auth disable -- approle/");
    run_bao(&server, &disable);
    let methods = op.read("sys/auth").ok();
    assert!(methods["data"].get("approle/").is_none(), "{methods}");
    assert!(methods["data"].get("userpass/").is_some(), "{methods}");
}

/// Runs a printed `vault ...` command as `bao ...` against the server, as root; it must succeed.
fn run_bao(server: &BaoServer, command: &str) {
    let bao = command.replacen("vault ", "bao ", 1);
    let ran = Command::new("sh")
        .args(["-c", &bao])
        .env("BAO_ADDR", &server.addr)
        .env("BAO_TOKEN", &server.root_token)
        .env_remove("VAULT_ADDR")
        .output()
        .expect("sh runs");
    assert!(
        ran.status.success(),
        "{bao}: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
}
