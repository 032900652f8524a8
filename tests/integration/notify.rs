//! `notify`: one notice per affected tenant, holding exactly that tenant's exposed paths.
//!
//! Ground truth is the `blast` JSON report of the same pivot: each secret's `tenant` field. The
//! prefix fixture is the shipped incident with tenants renamed (`globex` → `acme-eu`, `hooli` →
//! `acme2`, `umbrella` → `ACME`) and hostile names (`..`, markup, Markdown punctuation, an
//! escape character), which leaves every HMAC as the server wrote it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{bin, fixture};

type PerTenant = BTreeMap<String, BTreeSet<String>>;

fn attacker() -> String {
    let t: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("incident/ground-truth.json")).unwrap(),
    )
    .unwrap();
    t["attacker_token_hmac"].as_str().unwrap().to_string()
}

fn incident() -> PathBuf {
    fixture("incident/audit.log")
}

/// The incident with tenants that are prefixes of each other, and hostile ones.
fn prefix_log(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(incident()).unwrap();
    let text = text
        .replace("globex", "acme-eu")
        .replace("hooli", "acme2")
        .replace("umbrella", "ACME")
        .replace("initech", "in*te_ch[x]")
        .replace("stark", "../st\\u001bark")
        .replace("wayne", "<b>wayne</b>");
    let p = dir.join("prefix.log");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(args: &[&str]) -> std::process::Output {
    let out = bin().arg("-q").args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Per tenant, the paths `blast` says it read (excluded tenants left out).
fn blast_truth(log: &Path, extra: &[&str]) -> PerTenant {
    let token = attacker();
    let mut args = vec!["blast", "--token", &token, "-f", "json"];
    args.extend(extra);
    let log = log.to_str().unwrap();
    args.push(log);
    let report: Value = serde_json::from_slice(&run(&args).stdout).unwrap();
    let excluded: Vec<&Value> = report["settings"]["excluded_tenants"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let mut out = PerTenant::new();
    for s in report["secrets_read"].as_array().unwrap() {
        if s["tenant_excluded"] == true || excluded.contains(&&s["tenant"]) {
            continue;
        }
        if let Some(t) = s["tenant"].as_str() {
            out.entry(t.to_string())
                .or_default()
                .insert(s["path"].as_str().unwrap().to_string());
        }
    }
    out
}

fn notices(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn per_tenant(notices: &[Value]) -> PerTenant {
    let mut out = PerTenant::new();
    for n in notices {
        let paths = n["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["path"].as_str().unwrap().to_string())
            .collect();
        let prev = out.insert(n["tenant"].as_str().unwrap().to_string(), paths);
        assert!(prev.is_none(), "one notice per tenant");
    }
    out
}

fn live_notices(log: &Path, extra: &[&str]) -> Vec<Value> {
    let token = attacker();
    let mut args = vec!["notify", "--token", &token, "-f", "ndjson"];
    args.extend(extra);
    let log = log.to_str().unwrap();
    args.push(log);
    notices(&run(&args).stdout)
}

#[test]
fn each_notice_holds_exactly_its_tenants_paths() {
    let dir = tempfile::tempdir().unwrap();
    let exclude = ["--exclude-tenant", "wonka"];
    for log in [incident(), prefix_log(dir.path())] {
        let truth = blast_truth(&log, &exclude);
        let got = per_tenant(&live_notices(&log, &exclude));
        assert_eq!(got, truth, "{}", log.display());
        assert!(
            !got.contains_key("wonka"),
            "the excluded tenant gets no notice"
        );
        assert!(truth.len() >= 10, "the attacker read 11 tenants less wonka");
    }
    let got = per_tenant(&live_notices(&prefix_log(dir.path()), &[]));
    for t in ["acme", "acme-eu", "acme2", "ACME", "wonka"] {
        assert!(got.contains_key(t), "{t} has a notice: {:?}", got.keys());
    }
    // `acme` is not `acme-eu`: its notice holds its billing secret and its certificate only.
    assert_eq!(
        got["acme"],
        BTreeSet::from(["kv/data/acme/billing".into(), "pki/issue/acme".into()])
    );
}

#[test]
fn a_report_gives_the_same_notices_as_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("blast.json");
    let token = attacker();
    let log = incident();
    let log = log.to_str().unwrap();
    run(&[
        "blast",
        "--token",
        &token,
        "-f",
        "json",
        "-o",
        report.to_str().unwrap(),
        log,
    ]);
    let live = run(&["notify", "--token", &token, log]).stdout;
    let from_report = run(&["notify", "--report", report.to_str().unwrap()]).stdout;
    assert_eq!(
        String::from_utf8_lossy(&live),
        String::from_utf8_lossy(&from_report)
    );
    let n = notices(&live);
    let id = n[0]["incident_id"].as_str().unwrap();
    assert!(id.starts_with("INC-20261127-"), "{id}");
    assert!(n.iter().all(|x| x["incident_id"] == id));
    // --exclude-tenant applies to a report too; --incident-id is taken as given.
    let out = run(&[
        "notify",
        "--report",
        report.to_str().unwrap(),
        "--exclude-tenant",
        "acme",
        "--incident-id",
        "INC-4711",
    ]);
    let n = notices(&out.stdout);
    assert!(
        n.iter()
            .all(|x| x["tenant"] != "acme" && x["incident_id"] == "INC-4711")
    );
    assert_eq!(n.len(), notices(&live).len() - 1);
}

#[test]
fn dir_names_are_safe_and_symlinks_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let log = prefix_log(dir.path());
    let out_dir = dir.path().join("notices");
    std::fs::create_dir(&out_dir).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("notice-acme-eu.md")).unwrap();
    let token = attacker();
    run(&[
        "notify",
        "--token",
        &token,
        "--dir",
        out_dir.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 12, "11 notices and the index: {names:?}");
    let lower: BTreeSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(
        lower.len(),
        names.len(),
        "distinct ignoring case: {names:?}"
    );
    for n in &names {
        assert!(
            !n.starts_with('.')
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "{n}"
        );
        let meta = std::fs::symlink_metadata(out_dir.join(n)).unwrap();
        assert!(meta.is_file(), "{n} is a regular file");
    }
    let eu = std::fs::read_to_string(out_dir.join("notice-acme-eu.md")).unwrap();
    assert!(eu.contains("`kv/data/acme-eu/billing`"), "{eu}");
    assert!(!eu.contains("kv/data/acme/"), "{eu}");
    // Hostile names reach the files only escaped: no raw markup, no escape character.
    for n in &names {
        let text = std::fs::read_to_string(out_dir.join(n)).unwrap();
        assert!(!text.contains('\x1b'), "{n}");
        for line in text.lines() {
            let outside_code: String = line.split('`').step_by(2).collect();
            assert!(!outside_code.contains("<b>"), "{n}: {line}");
        }
    }
    let index = std::fs::read_to_string(out_dir.join("index.md")).unwrap();
    for n in names.iter().filter(|n| *n != "index.md") {
        assert!(index.contains(&format!("({n})")), "index links {n}");
    }
}

#[test]
fn a_template_override_is_used_and_a_broken_one_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("t.md.j2");
    std::fs::write(&tpl, "CUSTOM {{ tenant }} {{ secrets | length }}\n").unwrap();
    let out_dir = dir.path().join("n");
    let token = attacker();
    let log = incident();
    run(&[
        "notify",
        "--token",
        &token,
        "--dir",
        out_dir.to_str().unwrap(),
        "--template",
        tpl.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    let acme = std::fs::read_to_string(out_dir.join("notice-acme.md")).unwrap();
    assert_eq!(acme, "CUSTOM acme 2\n");

    std::fs::write(&tpl, "line one\nline two\n{% for s in secrets %}\nno end\n").unwrap();
    let out = bin()
        .args(["-q", "notify", "--token", &token, "--dir"])
        .arg(dir.path().join("broken"))
        .arg("--template")
        .arg(&tpl)
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("t.md.j2 line 4"), "{err}");
    assert!(!dir.path().join("broken").exists(), "nothing written");
}

#[test]
fn golden_markdown_notice() {
    let dir = tempfile::tempdir().unwrap();
    let token = attacker();
    let out_dir = dir.path().join("n");
    run(&[
        "notify",
        "--token",
        &token,
        "--dir",
        out_dir.to_str().unwrap(),
        incident().to_str().unwrap(),
    ]);
    let acme = std::fs::read_to_string(out_dir.join("notice-acme.md")).unwrap();
    insta::assert_snapshot!("notify_acme_notice", acme);
}
