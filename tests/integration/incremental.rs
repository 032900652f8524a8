//! `--state`: scheduled runs read only what is new, survive rotation, and add up to one run.

use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;

use crate::util::{bin, corpus_dir, fixture, json_diff};

/// A log with logins, secret reads, denials, gaps and old formats: several corpus files.
fn log_lines() -> Vec<String> {
    let mut all = Vec::new();
    for f in ["nula-white_gitops.audit.log", "ppresto_hashi.audit.log"] {
        all.extend(
            std::fs::read_to_string(corpus_dir().join(f))
                .unwrap()
                .lines()
                .map(str::to_string),
        );
    }
    all.extend(
        std::fs::read_to_string(fixture("openbao-2.7/basic.log"))
            .unwrap()
            .lines()
            .map(str::to_string),
    );
    all
}

fn run(args: &[&str]) -> (i32, Value) {
    let out = bin()
        .arg("scan")
        .args(args)
        .args(["-f", "json"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

/// What must not depend on how the log was split into runs.
fn essence(mut r: Value) -> Value {
    let o = r.as_object_mut().unwrap();
    for k in ["generated_at", "incident_id", "inputs", "incremental"] {
        o.remove(k);
    }
    // Entry counts are of this run's reading, like `inputs[]`; the devices themselves are not.
    for d in o
        .get_mut("devices")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        d.as_object_mut().unwrap().remove("entries");
    }
    r
}

fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]
    #[test]
    fn two_runs_with_state_equal_one_run(split in 0usize..700, cut_mid_line in prop::bool::ANY, chunk in 500u64..100_000) {
        let lines = log_lines();
        let split = split.min(lines.len());
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let state = dir.path().join("state.json");
        let chunk = chunk.to_string();
        // The first run may even see half of a line being written.
        let mut first = lines[..split].join("\n");
        if !first.is_empty() { first.push('\n'); }
        let rest = lines[split..].join("\n") + "\n";
        let (head, tail) = if cut_mid_line && rest.len() > 40 { rest.split_at(37) } else { (rest.as_str(), "") };
        std::fs::write(&log, format!("{first}{}", if cut_mid_line { head } else { "" })).unwrap();
        let (c1, _) = run(&[&s(&log), "--state", &s(&state), "--chunk-size", &chunk]);
        prop_assert_eq!(c1, 0);
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(if cut_mid_line { tail.as_bytes() } else { rest.as_bytes() }).unwrap();
        drop(f);
        let (c2, two) = run(&[&s(&log), "--state", &s(&state), "--chunk-size", &chunk, "--threads", "2"]);
        prop_assert_eq!(c2, 0);
        let (_, one) = run(&[&s(&log)]);
        let diff = json_diff(&essence(two), &essence(one));
        prop_assert!(diff.is_empty(), "{:#?}", diff);
    }
}

#[test]
fn a_renamed_file_is_finished_and_a_new_one_read_from_the_start() {
    let lines = log_lines();
    let dir = tempfile::tempdir().unwrap();
    let (log, old, state) = (
        dir.path().join("audit.log"),
        dir.path().join("audit.log.1"),
        dir.path().join("state.json"),
    );
    append(&log, &lines[..100]);
    run(&[&s(dir.path()), "--state", &s(&state)]);
    append(&log, &lines[100..200]); // written before rotation
    std::fs::rename(&log, &old).unwrap(); // logrotate: rename, then the writer reopens
    append(&log, &lines[200..]);
    let (_, r) = run(&[&s(dir.path()), "--state", &s(&state)]);
    let inc = &r["incremental"]["inputs"];
    let disp: Vec<(&str, &str)> = inc
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap(),
                i["disposition"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(disp.contains(&(s(&old).as_str(), "resumed")), "{disp:?}");
    assert!(disp.contains(&(s(&log).as_str(), "new")), "{disp:?}");
    let old_input = inc
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == s(&old))
        .unwrap();
    assert_eq!(old_input["renamed_from"], s(&log));
    assert_eq!(
        r["stats"]["entries"],
        lines.len(),
        "every entry once, none twice"
    );
    assert_eq!(r["stats"]["duplicates"], 0);
}

#[test]
fn copytruncate_is_detected_and_nothing_is_read_twice() {
    let lines = log_lines();
    let dir = tempfile::tempdir().unwrap();
    let (log, copy, state) = (
        dir.path().join("audit.log"),
        dir.path().join("audit.log.1"),
        dir.path().join("state.json"),
    );
    append(&log, &lines[..150]);
    run(&[&s(dir.path()), "--state", &s(&state)]);
    append(&log, &lines[150..250]);
    std::fs::copy(&log, &copy).unwrap(); // logrotate copytruncate: copy, then truncate in place
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &lines[250..]);
    let (code, r) = run(&[&s(dir.path()), "--state", &s(&state)]);
    assert_eq!(code, 0);
    let inc = r["incremental"]["inputs"].as_array().unwrap().clone();
    let of = |p: &PathBuf| {
        inc.iter().find(|i| i["path"] == s(p)).unwrap()["disposition"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(of(&copy), "resumed");
    assert_eq!(of(&log), "truncated");
    assert_eq!(r["stats"]["entries"], lines.len());
    let truncated: Vec<&Value> = r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["kind"] == "input-truncated")
        .collect();
    assert_eq!(truncated.len(), 1);
    assert!(truncated[0]["explained_by"].is_null());
}

#[test]
fn a_compressed_rotated_file_is_matched_to_its_plain_predecessor() {
    let lines = log_lines();
    let dir = tempfile::tempdir().unwrap();
    let (old, state) = (
        dir.path().join("audit.log.1"),
        dir.path().join("state.json"),
    );
    append(&old, &lines);
    let (_, first) = run(&[&s(dir.path()), "--state", &s(&state)]);
    let bytes = std::fs::read(&old).unwrap();
    let gz = dir.path().join("audit.log.1.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&bytes).unwrap();
    enc.finish().unwrap();
    std::fs::remove_file(&old).unwrap(); // delaycompress has run
    let (_, second) = run(&[&s(dir.path()), "--state", &s(&state)]);
    assert_eq!(second["incremental"]["inputs"][0]["disposition"], "resumed");
    assert_eq!(
        second["incremental"]["inputs"][0]["resumed_at"],
        bytes.len()
    );
    assert_eq!(second["inputs"][0]["bytes"], 0, "nothing new to read");
    // Evidence now names the compressed file: where the lines are today.
    let strip = |v: Value| {
        let text = v.to_string().replace(&format!("{}.gz", s(&old)), &s(&old));
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let diff = json_diff(&strip(essence(second)), &essence(first));
    assert!(diff.is_empty(), "{diff:#?}");
}

#[test]
fn a_crash_between_outputs_and_state_replays_the_run() {
    let lines = log_lines();
    let dir = tempfile::tempdir().unwrap();
    let (log, state) = (dir.path().join("audit.log"), dir.path().join("state.json"));
    append(&log, &lines[..300]);
    run(&[&s(&log), "--state", &s(&state)]);
    let saved = std::fs::read(&state).unwrap();
    append(&log, &lines[300..]);
    let out = bin()
        .args(["scan", &s(&log), "--state", &s(&state), "-f", "json", "-o"])
        .arg(dir.path().join("r.json"))
        .env("BLASTRADIUS_FAULT", "after-outputs")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the injected crash aborts");
    assert!(
        dir.path().join("r.json").exists(),
        "outputs were written before the crash"
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        saved,
        "the state did not move"
    );
    let (_, replay) = run(&[&s(&log), "--state", &s(&state)]);
    assert_eq!(
        replay["incremental"]["inputs"][0]["resumed_at"]
            .as_u64()
            .unwrap() as usize,
        lines[..300].iter().map(|l| l.len() + 1).sum::<usize>()
    );
    let (_, one) = run(&[&s(&log)]);
    let diff = json_diff(&essence(replay), &essence(one));
    assert!(diff.is_empty(), "{diff:#?}");
}

#[test]
fn locked_and_corrupt_states_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = fixture("openbao-2.7/basic.log");
    let state = dir.path().join("state.json");
    std::fs::write(&state, "{ this is not state").unwrap();
    let out = bin()
        .args(["scan", &s(&log), "--state", &s(&state), "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("left untouched"));
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        "{ this is not state"
    );
    let good = dir.path().join("good.json");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("good.json.lock"))
        .unwrap();
    lock.lock().unwrap();
    let out = bin()
        .args(["scan", &s(&log), "--state", &s(&good), "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds the lock"));
}

#[test]
fn alerts_report_only_what_is_new_in_every_shape() {
    let dir = tempfile::tempdir().unwrap();
    let (log, state) = (dir.path().join("audit.log"), dir.path().join("state.json"));
    let basic: Vec<String> = std::fs::read_to_string(fixture("openbao-2.7/basic.log"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    append(&log, &basic[..14]);
    let alerts = |fmt: &str| {
        let out = bin()
            .args([
                "scan",
                &s(&log),
                "--state",
                &s(&state),
                "-f",
                "json",
                "--gap",
                "1s",
                "--alerts",
                "-",
                "--alert-format",
                fmt,
                "-o",
            ])
            .arg(dir.path().join("r.json"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
        let alerts: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (alerts, report)
    };
    let root_uses = |r: &Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["title"] == "Root token used")
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    let (first, r1) = alerts("ndjson");
    assert!(!first.is_empty());
    assert!(
        first
            .iter()
            .all(|a| a["type"] == "alert" && a["kind"] == "finding"),
        "{first:#?}"
    );
    let root = first
        .iter()
        .find(|a| a["title"] == "Root token used")
        .unwrap();
    assert_eq!(root["new_matches"].as_u64(), Some(root_uses(&r1)));
    // The second half, ten minutes later: new root-token matches and a quiet period.
    let later: Vec<String> = basic[14..]
        .iter()
        .map(|l| l.replace("2026-11-22T08:09:1", "2026-11-22T08:19:1"))
        .collect();
    append(&log, &later);
    let (second, r2) = alerts("ocsf");
    assert!(second.iter().all(|a| a["class_uid"] == 2004
        && a["type_uid"] == 200401
        && a["metadata"]["product"]["name"] == "blastradius"));
    let gap = second
        .iter()
        .find(|a| a["finding_info"]["analytic"]["uid"] == "audit-gap/quiet-period")
        .expect("quiet period alerted");
    assert_eq!(gap["severity_id"], 3);
    let root = second
        .iter()
        .find(|a| a["finding_info"]["title"] == "Root token used")
        .expect("new root uses alerted");
    assert_eq!(
        root["count"].as_u64(),
        Some(root_uses(&r2) - root_uses(&r1))
    );
    assert_eq!(root["severity_id"], 4);
    let (third, _) = alerts("ecs");
    assert!(third.is_empty(), "nothing new: {third:#?}");
}

/// `blast --state`: a lineage that spans two runs (the attacker logs in before the split and
/// its child tokens read after it) gives the same blast radius as one run over the whole log.
#[test]
fn blast_with_state_follows_lineage_across_runs() {
    let lines = crate::util::lines(&crate::util::fixture("incident/audit.log"));
    let blast = |log: &Path, state: Option<&Path>| {
        let mut cmd = bin();
        cmd.args(["blast", "--ip", "203.0.113.66", "-f", "json"])
            .arg(log);
        if let Some(state) = state {
            cmd.arg("--state").arg(state);
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    // Split at several places, among them between the attacker's login and its reads.
    let login = lines
        .iter()
        .position(|l| l.contains("auth/approle/login") && l.contains("203.0.113.66"))
        .expect("the attacker's login");
    for split in [login + 2, lines.len() / 2, lines.len() - 5] {
        let log = dir.path().join(format!("split-{split}.log"));
        let state = dir.path().join(format!("split-{split}.state"));
        std::fs::write(&log, lines[..split].join("\n") + "\n").unwrap();
        blast(&log, Some(&state));
        append(&log, &lines[split..]);
        let two = blast(&log, Some(&state));
        let one = blast(&log, None);
        assert!(one["leases"].as_array().is_some_and(|l| !l.is_empty()));
        let diff = json_diff(&essence(two), &essence(one));
        assert!(diff.is_empty(), "split at line {split}: {diff:#?}");
    }
}

#[test]
fn carried_analysis_state_that_does_not_restore_is_fatal_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let log = fixture("openbao-2.7/basic.log");
    let state = dir.path().join("state.json");
    let (code, _) = run(&[&s(&log), "--state", &s(&state)]);
    assert_eq!(code, 0);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    // Correlation groups are saved as a list; a string is not one.
    v["carry"]["detect"]["rules"] = Value::from("not groups");
    std::fs::write(&state, serde_json::to_string(&v).unwrap()).unwrap();
    let out = bin()
        .args(["scan", &s(&log), "--state", &s(&state), "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("incremental state: cannot restore correlation state: invalid type"),
        "{err}"
    );
    assert!(!err.contains("<state>"), "{err}");
}

/// A state file written before the persistence trait (by commit 6097767, over the first 15
/// lines of `openbao-2.7/basic.log`, at another path) still loads: the input is recognised as
/// renamed, resumed after those lines, and the two runs add up to one run over the whole log.
#[test]
fn a_state_file_written_by_an_earlier_build_resumes_into_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let state = dir.path().join("state.json");
    std::fs::copy(fixture("openbao-2.7/basic.log"), &log).unwrap();
    std::fs::copy(fixture("state/written-by-6097767.json"), &state).unwrap();
    let first_15: usize = std::fs::read_to_string(&log)
        .unwrap()
        .split_inclusive('\n')
        .take(15)
        .map(str::len)
        .sum();
    let (code, resumed) = run(&[&s(&log), "--state", &s(&state)]);
    assert!(code == 0 || code == 1, "{resumed}");
    let input = &resumed["incremental"]["inputs"][0];
    assert_eq!(input["disposition"], "resumed", "{input}");
    assert_eq!(input["resumed_at"], first_15 as u64, "{input}");
    let (_, whole) = run(&[&s(&log)]);
    let diff = json_diff(&essence(whole), &essence(resumed));
    assert!(diff.is_empty(), "{diff:?}");
}
