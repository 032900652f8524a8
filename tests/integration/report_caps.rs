//! `scan --max-readers`: the readers of each secret are capped in the JSON report, with the
//! count kept, and listed in full in NDJSON (issue 18, item 5).
//!
//! Ground truth is the log itself, read here with serde_json: a secret's readers are the
//! distinct (`display_name`, accessor, `remote_address`) of the successful `read` responses on
//! its (namespace-qualified) path, in the order of the lines that first show them. The log is
//! a generated busy-shape log with few secrets, so that many secrets have dozens of readers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::util::{bin, stdout_of_success};

/// A generated log where secrets have up to a few dozen readers.
fn log(dir: &Path) -> PathBuf {
    let p = dir.join("readers.log");
    let mut cmd = bin();
    cmd.args([
        "-q", "generate", "--size", "2M", "--seed", "3", "--tokens", "400",
    ])
    .args([
        "--tenants",
        "20",
        "--secrets",
        "40",
        "--rate",
        "1000/s",
        "-o",
    ])
    .arg(&p);
    stdout_of_success(cmd);
    p
}

/// Per secret path, its readers in first-seen order, read from the raw log.
fn truth(log: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut readers: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let req = &e["request"];
        if e["type"] != "response" || e.get("error").is_some() || req["operation"] != "read" {
            continue;
        }
        let Some(path) = req["path"].as_str() else {
            continue;
        };
        let path = match req["namespace"]["path"].as_str() {
            Some(ns) if !ns.is_empty() => format!("{ns}{path}"),
            _ => path.to_string(),
        };
        let auth = &e["auth"];
        let mut actor = Map::new();
        let accessor = auth.get("accessor").or(req.get("client_token_accessor"));
        for (k, v) in [
            ("display_name", auth.get("display_name")),
            ("accessor", accessor),
            ("remote_address", req.get("remote_address")),
        ] {
            if let Some(v) = v {
                actor.insert(k.into(), v.clone());
            }
        }
        let list = readers.entry(path).or_default();
        let actor = Value::Object(actor);
        if !list.contains(&actor) {
            list.push(actor);
        }
    }
    readers
}

fn scan(log: &Path, format: &str, extra: &[&str]) -> String {
    let mut cmd = bin();
    cmd.args(["-q", "scan", "-f", format]).args(extra).arg(log);
    stdout_of_success(cmd)
}

fn json(log: &Path, extra: &[&str]) -> Value {
    serde_json::from_str(&scan(log, "json", extra)).unwrap()
}

#[test]
fn readers_are_the_first_seen_up_to_the_cap_and_the_total_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path());
    let truth = truth(&log);
    assert!(
        truth.values().filter(|r| r.len() > 10).count() >= 5,
        "the log must have secrets with more readers than the default cap"
    );
    for (args, cap) in [
        (&[][..], 10),
        (&["--max-readers", "1"][..], 1),
        (&["--max-readers", "5"][..], 5),
        (&["--max-readers", "0"][..], usize::MAX),
    ] {
        let r = json(&log, args);
        let setting = if cap == usize::MAX { 0 } else { cap };
        assert_eq!(r["settings"]["max_readers"], setting, "{args:?}");
        let secrets = r["secrets"].as_array().unwrap();
        assert!(!secrets.is_empty());
        for s in secrets {
            let path = s["path"].as_str().unwrap();
            let all = &truth[path];
            let listed = s["readers"].as_array().unwrap();
            assert_eq!(listed[..], all[..all.len().min(cap)], "{path} {args:?}");
            assert_eq!(s["readers_total"], all.len(), "{path} {args:?}");
            assert_eq!(
                s["readers_omitted"],
                all.len() - listed.len(),
                "{path} {args:?}"
            );
            // Present only when the count saturated.
            assert!(s.get("readers_saturated").is_none(), "{path}");
        }
    }
}

/// The cap changes the readers listed and nothing else: scope, tenants, findings, suspects.
#[test]
fn the_cap_changes_nothing_but_the_readers_listed() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path());
    let strip = |mut r: Value| {
        r["settings"]["max_readers"] = Value::Null;
        for s in r["secrets"].as_array_mut().unwrap() {
            let s = s.as_object_mut().unwrap();
            s.remove("readers");
            s.remove("readers_omitted");
        }
        r
    };
    let one = json(&log, &["--max-readers", "1"]);
    assert!(
        one["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["readers_omitted"].as_u64() > Some(0))
    );
    let all = json(&log, &["--max-readers", "0"]);
    assert_eq!(strip(one), strip(all));
}

#[test]
fn ndjson_streams_every_reader_as_its_own_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path());
    let truth = truth(&log);
    for (args, cap) in [(&[][..], usize::MAX), (&["--max-readers", "2"][..], 2)] {
        let text = scan(&log, "ndjson", args);
        let mut readers: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut secrets = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            match v["type"].as_str().unwrap() {
                "secret" => {
                    assert!(v.get("readers").is_none(), "{line}");
                    let path = v["path"].as_str().unwrap().to_string();
                    current = Some(path.clone());
                    secrets.insert(path, v);
                }
                "reader" => {
                    let o = v.as_object_mut().unwrap();
                    let path = o.remove("path").unwrap();
                    // Each reader record follows its secret's.
                    assert_eq!(current.as_deref(), path.as_str(), "{line}");
                    let list = readers.entry(path.as_str().unwrap().into()).or_default();
                    assert_eq!(o.remove("order"), Some(Value::from(list.len() + 1)));
                    o.remove("type");
                    list.push(v);
                }
                _ => current = None,
            }
        }
        assert!(secrets.len() > 10, "{args:?}");
        assert!(readers.keys().all(|p| secrets.contains_key(p)));
        for path in secrets.keys() {
            let all = &truth[path];
            let got = readers.get(path).map_or(&[][..], |r| &r[..]);
            assert_eq!(got, &all[..all.len().min(cap)], "{path} {args:?}");
            assert_eq!(secrets[path]["readers_total"], all.len());
            assert_eq!(secrets[path]["readers_omitted"], all.len() - got.len());
        }
    }
}

/// `notify --report` reads the secrets, tenants and times of a report, never its readers: the
/// notices from a report capped at one reader are those from an uncapped one.
#[test]
fn notify_from_a_capped_report_is_the_same_as_from_an_uncapped_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path());
    let notices = |cap: &str| {
        let report = dir.path().join(format!("scan-{cap}.json"));
        std::fs::write(&report, scan(&log, "json", &["--max-readers", cap])).unwrap();
        let mut cmd = bin();
        cmd.args(["-q", "notify", "--report"]).arg(&report);
        stdout_of_success(cmd)
    };
    let capped = notices("1");
    assert!(capped.lines().count() > 1, "{capped}");
    assert_eq!(capped, notices("0"));
}
