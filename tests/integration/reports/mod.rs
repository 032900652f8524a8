//! `--format markdown` and `--format html` incident reports on hostile input.

mod browser;
mod html;
mod markdown;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::{bin, fixture};

/// Tenants are the first path segment under `kv/data/`.
pub const TENANT_PATTERN: &str = "^kv/data/(?P<tenant>[^/]+)/";
/// The display name of the attacker's token: a Markdown link.
pub const LINK_NAME: &str = "[click me](http://evil.example/x)";

/// A request/response pair at `secs` after 10:00 UTC, made with token `acc` from 203.0.113.66.
fn pair(
    id: &str,
    secs: u32,
    acc: &str,
    name: &str,
    path: &str,
    op: &str,
    response: Value,
) -> [String; 2] {
    let time = format!("2026-11-20T10:{:02}:{:02}.000000001Z", secs / 60, secs % 60);
    let auth = json!({"client_token": format!("hmac-sha256:tok-{acc}"), "accessor": acc,
        "display_name": name, "policies": ["default", "app"], "token_type": "service"});
    let request = json!({"id": id, "operation": op, "namespace": {"id": "root"}, "path": path,
        "remote_address": "203.0.113.66", "client_token_accessor": acc,
        "client_token": format!("hmac-sha256:tok-{acc}")});
    [
        json!({"time": time, "type": "request", "auth": auth, "request": request}).to_string(),
        json!({"time": time, "type": "response", "auth": auth, "request": request, "response": response}).to_string(),
    ]
}

fn kv() -> Value {
    json!({"data": {"data": {"password": "hmac-sha256:11"}, "metadata": {"version": 1}}})
}

/// Crafted entries: a token named like a Markdown link creates a child token and reads secrets
/// whose paths carry `<script>`, an attribute break-out with `onerror`, ANSI escapes and a
/// tenant with a `|`; twenty minutes of silence make a gap.
fn crafted() -> Vec<String> {
    let created = json!({"auth": {"client_token": "hmac-sha256:tok-acc-child", "accessor": "acc-child",
        "display_name": "\"><img src=x onerror=alert(2)>", "policies": ["default"], "token_type": "service"}});
    let entries = [
        pair(
            "c1",
            0,
            "acc-evil",
            LINK_NAME,
            "kv/data/ten|ant/db",
            "read",
            kv(),
        ),
        pair(
            "c2",
            1,
            "acc-evil",
            LINK_NAME,
            "auth/token/create",
            "update",
            created,
        ),
        pair(
            "c3",
            2,
            "acc-child",
            "\"><img src=x onerror=alert(2)>",
            "kv/data/acme/<script>alert(3)</script>",
            "read",
            kv(),
        ),
        pair(
            "c4",
            3,
            "acc-child",
            "x",
            "kv/data/globex/\u{1b}[31mred\u{1b}]0;title\u{7}",
            "read",
            kv(),
        ),
        pair(
            "c5",
            4,
            "acc-evil",
            LINK_NAME,
            "database/creds/app",
            "read",
            json!({"secret": {"lease_id": "database/creds/app/<b>L1</b>"}, "data": {"username": "hmac-sha256:u"}}),
        ),
        pair(
            "c6",
            1300,
            "acc-evil",
            LINK_NAME,
            "kv/data/initech/`tick`",
            "read",
            kv(),
        ),
    ];
    entries.iter().flat_map(|e| e.iter().cloned()).collect()
}

/// Writes the hostile fixture and the crafted entries as two inputs; returns their paths.
pub fn hostile_inputs(dir: &Path) -> Vec<String> {
    let crafted_path: PathBuf = dir.join("crafted.log");
    std::fs::write(&crafted_path, crafted().join("\n") + "\n").unwrap();
    vec![
        fixture("hostile/hostile-strings.log").display().to_string(),
        crafted_path.display().to_string(),
    ]
}

/// `blastradius <command> <inputs> <extra> -f <format>`: (exit code, stdout).
pub fn run(command: &str, inputs: &[String], extra: &[&str], format: &str) -> (i32, String) {
    let out = bin()
        .arg(command)
        .args(inputs)
        .args(["--tenant-pattern", TENANT_PATTERN])
        .args(extra)
        .args(["-f", format])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 report");
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "{command} -f {format}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), stdout)
}

/// The blast pivot used by the tests: the link-named token.
pub const BLAST_PIVOT: [&str; 2] = ["--accessor", "acc-evil"];
