//! `scan` names the suspects: on the shipped incident the attacker's AppRole login is first, its
//! printed `blast` command reproduces the blast radius of the leaked token, and routine
//! administration (root on the admin address) ranks below it. Also the terminal polish and the
//! golden text and Markdown of the incident (re-bless with `INSTA_UPDATE=always cargo test
//! --test integration suspects`; review the `.snap` diff before committing).

use serde_json::Value;

use crate::util::{bin, fixture, root, scan_json};

const INCIDENT: &str = "fixtures/incident/audit.log";

fn truth() -> Value {
    let text = std::fs::read_to_string(fixture("incident/ground-truth.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn in_root(args: &[&str]) -> std::process::Output {
    bin().current_dir(root()).args(args).output().expect("runs")
}

fn stdout(args: &[&str]) -> String {
    let out = in_root(args);
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Runs a printed `blastradius ...` command line through the shell, with this build first on
/// PATH, and parses its JSON.
fn run_printed(command: &str) -> Value {
    let exe = assert_cmd::cargo::cargo_bin("blastradius");
    let dir = exe.parent().unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} -f json"))
        .current_dir(root())
        .env("PATH", path)
        .env("BLASTRADIUS_NOW", "2026-11-22T12:00:00Z")
        .output()
        .expect("sh runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{command}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn blast_essentials(r: &Value) -> (Vec<String>, Vec<String>, Vec<String>) {
    let list = |v: &Value, k: &str| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x[k].as_str().unwrap_or("").to_string())
            .collect()
    };
    let tenants = r["affected_tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    (
        list(&r["tokens"], "accessor"),
        list(&r["secrets_read"], "path"),
        tenants,
    )
}

#[test]
fn the_attacker_is_the_first_suspect_of_the_incident() {
    let (_, r) = scan_json(&[
        "--gap",
        "2s",
        fixture("incident/audit.log").to_str().unwrap(),
    ]);
    let truth = truth();
    let s = &r["suspects"];
    let first = &s[0];
    assert_eq!(first["rank"], 1);
    assert_eq!(
        first["accessor"], truth["accessor_hmacs"]["token"],
        "{first:#}"
    );
    assert_eq!(first["role"], "billing-sync");
    assert_eq!(first["login_address"], "203.0.113.66");
    assert_eq!(first["tokens"], 3);
    assert_eq!(first["tenants"].as_array().unwrap().len(), 11);
    let kinds: Vec<&str> = first["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for k in ["new-address", "new-tenants", "denials", "breadth"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    // The administrator's set-up traffic (root on 10.0.9.10) is far behind.
    let root_rank = s
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["root_policy"] == true)
        .expect("root is listed")["rank"]
        .as_u64()
        .unwrap();
    assert!(root_rank > 1);
    assert!(
        first["score"].as_u64().unwrap()
            >= 2 * s[root_rank as usize - 1]["score"].as_u64().unwrap()
    );
    // The legitimate billing service (same role, its usual address) scores least of the role.
    let service = s
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["login_address"] == "10.0.4.20")
        .expect("billing service listed");
    assert!(service["score"].as_u64() < first["score"].as_u64());
    assert_eq!(
        r["suspects_total"].as_u64().unwrap() as usize,
        s.as_array().unwrap().len()
    );
}

#[test]
fn the_first_suspects_blast_command_reproduces_the_known_blast_radius() {
    let (_, r) = scan_json(&["--gap", "2s", INCIDENT]);
    let command = r["suspects"][0]["blast_command"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        command.starts_with("blastradius blast --accessor hmac-sha256:"),
        "{command}"
    );
    let printed = run_printed(&command);
    // Ground truth: the leaked token's HMAC from the server's sys/audit-hash.
    let truth = truth();
    let known = in_root(&[
        "blast",
        "--token",
        truth["attacker_token_hmac"].as_str().unwrap(),
        INCIDENT,
        "-f",
        "json",
    ]);
    let known: Value = serde_json::from_slice(&known.stdout).unwrap();
    assert_eq!(blast_essentials(&printed), blast_essentials(&known));
    let (tokens, secrets, tenants) = blast_essentials(&printed);
    assert_eq!((tokens.len(), secrets.len(), tenants.len()), (3, 12, 11));
}

#[test]
fn blast_commands_keep_the_scope_options_and_quote_them() {
    let (_, r) = scan_json(&["--gap", "2s", "--exclude-tenant", "it's a test", INCIDENT]);
    let command = r["suspects"][0]["blast_command"].as_str().unwrap();
    assert!(
        command.ends_with(r#"--exclude-tenant 'it'\''s a test' fixtures/incident/audit.log"#),
        "{command}"
    );
}

#[test]
fn text_lists_the_suspects_after_the_summary_and_markdown_has_a_section() {
    let text = stdout(&["scan", "--gap", "2s", "-f", "text", INCIDENT]);
    let at = text.find("SUSPECTS").expect("suspects section");
    assert!(at < text.find("FINDINGS").unwrap());
    let first = text[at..].lines().nth(1).unwrap();
    assert!(
        first.starts_with(" 1. ") && first.contains("203.0.113.66"),
        "{first}"
    );
    assert!(
        text[at..]
            .lines()
            .filter(|l| l.contains("next: blastradius blast"))
            .count()
            <= 5
    );
    let md = stdout(&["scan", "--gap", "2s", "-f", "markdown", INCIDENT]);
    assert!(md.contains("## Suspects"), "{md}");
    let ndjson = stdout(&["scan", "--gap", "2s", "-f", "ndjson", INCIDENT]);
    let first: Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "suspect");
    assert_eq!(first["rank"], 1);
}

#[test]
fn incident_actions_begin_with_containment_for_the_method_used() {
    let md = stdout(&["scan", "--gap", "2s", "-f", "markdown", INCIDENT]);
    let actions = md
        .split("## ")
        .find(|s| s.starts_with("Actions"))
        .expect("actions");
    let first = actions.lines().find(|l| l.starts_with("- [ ]")).unwrap();
    assert!(
        first.contains("vault token revoke -mode=path -- auth/approle/"),
        "{first}"
    );
    assert!(first.contains("Trade-off"), "{first}");
    // Neither root nor an audit device was touched by the suspects: no seal.
    assert!(!actions.contains("vault operator seal"), "{actions}");
    let blast = stdout(&["blast", "--ip", "203.0.113.66", "-f", "markdown", INCIDENT]);
    assert!(
        blast.contains("vault token revoke -mode=path -- auth/userpass/"),
        "{blast}"
    );
}

#[test]
fn terminal_tables_keep_times_on_one_line_and_names_readable() {
    let text = stdout(&["scan", "--gap", "2s", "-f", "text", INCIDENT]);
    assert!(text.contains("2026-11-27 12:20:28.279Z"), "{text}");
    assert!(!text.contains("2026-11-27T12:20:28.279803957Z"));
    // No field names in the WHO column of burst findings.
    assert!(!text.contains("request.remote_address="), "{text}");
    assert!(text.contains("from 203.0.113.66"));
    // Width unknown (not a terminal): 100 columns, not one character per column.
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100 || text.contains("next: "), "{widest}");
    for l in text.lines().filter(|l| l.starts_with('│')) {
        assert!(l.chars().count() <= 100, "{l}");
    }
    let blast = stdout(&["blast", "--ip", "203.0.113.66", "-f", "text", INCIDENT]);
    assert!(blast.contains("login-from-pivot-ip"), "{blast}");
    assert!(!blast.contains("loginfrompivotip"));
}

#[test]
fn generate_usage_does_not_mark_defaulted_options_required() {
    let out = in_root(&["generate"]);
    let err = String::from_utf8(out.stderr).unwrap();
    let usage = err
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .expect("usage line");
    assert!(
        usage.contains("[--size <BYTES>]") && usage.contains("[--seed <N>]"),
        "{usage}"
    );
}

#[test]
fn golden_text_and_markdown_of_the_incident() {
    let text = stdout(&[
        "scan", "--gap", "2s", "-f", "text", "--color", "never", INCIDENT,
    ]);
    insta::assert_snapshot!("incident_scan_text", text);
    let md = stdout(&["scan", "--gap", "2s", "-f", "markdown", INCIDENT]);
    insta::assert_snapshot!("incident_scan_markdown", md);
}
