//! Issue 15's questions asked of the committed recordings in fixtures/openbao-2.7/evidence/
//! (scripts/record-evidence.sh, tests/integration/openbao/evidence.rs). Every expected value
//! comes from the case's truth.json: what the recording script did and the server answered.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use super::evidence::{LAYOUT_TENANTS, fixture_dir};
use crate::util::bin;

/// A recording on disk and its truth.
pub struct Case {
    pub log: PathBuf,
    pub truth: Value,
}

/// The committed recording of a case.
fn case(name: &str) -> Case {
    let dir = fixture_dir(name);
    let text = std::fs::read_to_string(dir.join("truth.json"))
        .unwrap_or_else(|e| panic!("{name}/truth.json: {e}"));
    Case {
        log: dir.join("audit.log"),
        truth: serde_json::from_str(&text).expect("truth.json is JSON"),
    }
}

/// `blastradius <args> <log> -f json`, which must exit 0.
fn run(cmd: &str, args: &[&str], c: &Case) -> Value {
    let out = bin()
        .timeout(std::time::Duration::from_secs(120))
        .arg(cmd)
        .args(args)
        .args(["-f", "json"])
        .arg(&c.log)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn blast(args: &[&str], c: &Case) -> Value {
    let accessor = c.truth["attacker"]["accessor_hmac"]
        .as_str()
        .expect("accessor_hmac");
    let mut all = vec!["--accessor", accessor];
    all.extend_from_slice(args);
    run("blast", &all, c)
}

fn gaps<'a>(r: &'a Value, kind: &str) -> Vec<&'a Value> {
    r["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter(|g| g["kind"] == kind)
        .collect()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn instant(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("time")).expect("RFC 3339")
}

/// The evidence line of a gap (file name and line).
fn line_of(g: &Value) -> (String, u64) {
    let e = &g["evidence"][0];
    let file = e["file"].as_str().expect("file").to_string();
    (file, e["line"].as_u64().expect("line"))
}

fn seal_then_traffic_then_a_cut_reports_the_cut_unexplained(c: &Case) {
    let r = run("scan", &["--gap", "2s"], c);
    let quiet = gaps(&r, "quiet-period");
    let seal: Vec<_> = quiet
        .iter()
        .filter(|g| g["explained_by"] == "seal")
        .collect();
    assert_eq!(seal.len(), 1, "the sealed period: {quiet:#?}");
    let sealed = c.truth["sealed_seconds"].as_f64().expect("sealed_seconds");
    assert!(seal[0]["seconds"].as_f64().expect("seconds") >= sealed);
    // The cut: bounded by the last kept entry before the deleted reads and the first after.
    let (start, end) = (&c.truth["cut_starts_at"], &c.truth["cut_ends_at"]);
    let cut: Vec<_> = quiet
        .iter()
        .filter(|g| instant(&g["start"]) == instant(&start["time"]))
        .collect();
    assert_eq!(cut.len(), 1, "one gap at the cut: {quiet:#?}");
    assert_eq!(cut[0]["explained_by"], Value::Null, "{:#}", cut[0]);
    assert_eq!(instant(&cut[0]["end"]), instant(&end["time"]));
    assert_eq!(line_of(cut[0]).1, start["line"].as_u64().unwrap());
    assert!(r["unexplained_gaps"].as_u64().unwrap() >= 1);
}

fn every_deleted_response_has_its_request_listed_with_file_and_line(c: &Case) {
    let r = run("scan", &["--gap", "2s"], c);
    let missing = gaps(&r, "missing-response");
    let listed: BTreeSet<u64> = missing.iter().map(|g| line_of(g).1).collect();
    let u = &c.truth["unanswered"];
    let (mid, end) = (&u["mid_log"], &u["at_end"]);
    let wanted: BTreeSet<u64> = [mid, end]
        .iter()
        .map(|x| x["request_line"].as_u64().expect("request_line"))
        .collect();
    assert_eq!(listed, wanted, "{missing:#?}");
    assert_eq!(
        c.truth["deleted_lines"].as_array().unwrap().len(),
        missing.len()
    );
    let by_line = |l: &Value| {
        missing
            .iter()
            .find(|g| line_of(g).1 == l.as_u64().unwrap())
            .expect("listed")
    };
    let mid_gap = by_line(&mid["request_line"]);
    assert_eq!(mid_gap["explained_by"], Value::Null);
    assert_eq!(line_of(mid_gap).0, c.log.display().to_string());
    assert!(
        mid_gap["detail"]
            .as_str()
            .unwrap()
            .contains(mid["path"].as_str().unwrap())
    );
    assert_eq!(
        by_line(&end["request_line"])["explained_by"],
        "possibly-in-flight"
    );
}

fn blast_of_the_pivot_counts_the_unanswered_reads_and_rotates_them(c: &Case) {
    let r = blast(&[], c);
    let reads = r["secrets_read"].as_array().expect("secrets_read");
    let read_paths: BTreeSet<String> = reads
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(read_paths, strings(&c.truth["attacker_reads"]));
    let targets: BTreeSet<String> = r["rotation_targets"]
        .as_array()
        .expect("rotation_targets")
        .iter()
        .map(|t| t["target"].as_str().unwrap().to_string())
        .collect();
    for which in ["mid_log", "at_end"] {
        let u = &c.truth["unanswered"][which];
        let path = u["path"].as_str().unwrap();
        let s = reads
            .iter()
            .find(|s| s["path"] == path)
            .unwrap_or_else(|| panic!("{path} not in the blast radius"));
        assert_eq!(s["outcome"], "unknown-response-missing", "{s:#}");
        assert_eq!(s["evidence"]["line"], u["request_line"], "{s:#}");
        let secret = s["secret"].as_str().unwrap();
        assert!(targets.contains(secret), "{secret} not in {targets:?}");
    }
    let answered = reads.iter().filter(|s| s["outcome"] == "read").count();
    assert_eq!(answered, reads.len() - 2);
}

fn namespaces_and_a_kv_v1_tenant_mount_with_a_pattern_attribute_all_five_tenants(c: &Case) {
    let pattern = c.truth["tenant_pattern"].as_str().unwrap();
    let tenants = strings(&c.truth["tenants"]);
    assert_eq!(tenants.len(), 5);
    let args = ["--tenant-pattern", pattern];
    let s = run("scan", &args, c);
    assert_eq!(strings(&s["affected_tenants"]), tenants);
    let b = blast(&args, c);
    assert_eq!(strings(&b["affected_tenants"]), tenants);
    assert_eq!(strings(&b["unattributed_secrets"]), BTreeSet::new());
    assert_eq!(b["breach_scope"], "limited");
    // Without the namespace fallback the namespaced secrets have no tenant: listed, not dropped.
    let none = blast(
        &["--tenant-pattern", pattern, "--tenant-fallback", "none"],
        c,
    );
    let namespaced: BTreeSet<String> = c.truth["secrets_read"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| !x["namespace"].is_null())
        .map(|x| format!("{}secret/db", x["namespace"].as_str().unwrap()))
        .collect();
    assert_eq!(strings(&none["unattributed_secrets"]), namespaced);
    assert_eq!(none["affected_tenants"].as_array().unwrap().len(), 2);
    assert_eq!(none["breach_scope"], "limited");
}

fn fourteen_tenants_below_a_constant_without_a_pattern(c: &Case) {
    let tenants = strings(&c.truth["attacker_tenants"]);
    assert_eq!(tenants.len(), LAYOUT_TENANTS);
    let inferred = "^secret/[^/]+/tenants/(?P<tenant>[^/]+)/";
    let b = blast(&[], c);
    assert_eq!(strings(&b["affected_tenants"]), tenants);
    assert_eq!(b["breach_scope"], "widespread");
    assert_eq!(
        strings(&b["settings"]["inferred_tenant_patterns"]),
        [inferred.to_string()].into()
    );
    let s = run("scan", &[], c);
    let affected = strings(&s["affected_tenants"]);
    assert!(affected.is_superset(&tenants), "{affected:?}");
    assert!(!affected.contains("tenants"));
    assert_eq!(s["breach_scope"], "widespread");
    // The printed pattern gives the same tenants; --no-tenant-inference the old answer.
    let again = blast(&["--tenant-pattern", inferred], c);
    assert_eq!(again["affected_tenants"], b["affected_tenants"]);
    let off = blast(&["--no-tenant-inference"], c);
    assert_eq!(
        strings(&off["affected_tenants"]),
        ["tenants".to_string()].into()
    );
    assert_eq!(
        off["settings"]["inferred_tenant_patterns"],
        serde_json::json!([])
    );
}

fn the_text_report_prints_the_inferred_pattern(c: &Case) {
    let out = bin()
        .args(["scan", "--color", "never", "-f", "text"])
        .arg(&c.log)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--tenant-pattern '^secret/[^/]+/tenants/(?P<tenant>[^/]+)/'"),
        "{text}"
    );
}

fn inference_is_the_same_in_one_chunk_or_many(c: &Case) {
    let one = run("scan", &["--threads", "1"], c);
    // 4 KiB chunks: the 14 tenants' reads land in different chunks and threads.
    let many = run("scan", &["--threads", "4", "--chunk-size", "4K"], c);
    assert_eq!(one["affected_tenants"], many["affected_tenants"]);
    assert_eq!(
        one["settings"]["inferred_tenant_patterns"],
        many["settings"]["inferred_tenant_patterns"]
    );
}

/// `blastradius <args> -f markdown <log>`.
fn markdown(args: &[&str], c: &Case) -> String {
    let out = bin()
        .args(args)
        .args(["-f", "markdown"])
        .arg(&c.log)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn incident_report_lists_the_secrets_without_tenant(c: &Case) {
    let accessor = c.truth["attacker"]["accessor_hmac"].as_str().unwrap();
    let md = markdown(
        &["blast", "--accessor", accessor, "--tenant-fallback", "none"],
        c,
    );
    let row = md
        .lines()
        .find(|l| l.starts_with("| Without tenant |"))
        .unwrap_or_else(|| panic!("no Without tenant row:\n{md}"));
    for ns in c.truth["secrets_read"].as_array().unwrap() {
        if let Some(ns) = ns["namespace"].as_str() {
            assert!(row.contains(&format!("`{ns}secret/db`")), "{row}");
        }
    }
}

fn incident_report_shows_the_inferred_layout(c: &Case) {
    let md = markdown(&["scan"], c);
    assert!(
        md.contains("| Tenant layout | inferred, as `--tenant-pattern '^secret/[^/]+/tenants/(?P<tenant>[^/]+)/'`"),
        "{md}"
    );
}

/// A check of one recording.
pub type Check = fn(&Case);

/// The checks of each case, as `(case, check)`.
pub const CHECKS: &[(&str, Check)] = &[
    (
        "seal-cut",
        seal_then_traffic_then_a_cut_reports_the_cut_unexplained,
    ),
    (
        "missing-responses",
        every_deleted_response_has_its_request_listed_with_file_and_line,
    ),
    (
        "missing-responses",
        blast_of_the_pivot_counts_the_unanswered_reads_and_rotates_them,
    ),
    (
        "tenants-namespaces",
        namespaces_and_a_kv_v1_tenant_mount_with_a_pattern_attribute_all_five_tenants,
    ),
    (
        "tenants-layout",
        fourteen_tenants_below_a_constant_without_a_pattern,
    ),
    (
        "tenants-layout",
        the_text_report_prints_the_inferred_pattern,
    ),
    ("tenants-layout", inference_is_the_same_in_one_chunk_or_many),
    ("tenants-layout", incident_report_shows_the_inferred_layout),
    (
        "tenants-namespaces",
        incident_report_lists_the_secrets_without_tenant,
    ),
];

#[test]
fn fixture_incident_report_shows_the_inferred_layout() {
    incident_report_shows_the_inferred_layout(&case("tenants-layout"));
}

#[test]
fn fixture_incident_report_lists_the_secrets_without_tenant() {
    incident_report_lists_the_secrets_without_tenant(&case("tenants-namespaces"));
}

#[test]
fn fixture_seal_then_traffic_then_a_cut_reports_the_cut_unexplained() {
    seal_then_traffic_then_a_cut_reports_the_cut_unexplained(&case("seal-cut"));
}

#[test]
fn fixture_every_deleted_response_has_its_request_listed_with_file_and_line() {
    every_deleted_response_has_its_request_listed_with_file_and_line(&case("missing-responses"));
}

#[test]
fn fixture_blast_of_the_pivot_counts_the_unanswered_reads_and_rotates_them() {
    blast_of_the_pivot_counts_the_unanswered_reads_and_rotates_them(&case("missing-responses"));
}

#[test]
fn fixture_namespaces_and_a_kv_v1_tenant_mount_with_a_pattern_attribute_all_five_tenants() {
    namespaces_and_a_kv_v1_tenant_mount_with_a_pattern_attribute_all_five_tenants(&case(
        "tenants-namespaces",
    ));
}

#[test]
fn fixture_fourteen_tenants_below_a_constant_without_a_pattern() {
    fourteen_tenants_below_a_constant_without_a_pattern(&case("tenants-layout"));
}

#[test]
fn fixture_the_text_report_prints_the_inferred_pattern() {
    the_text_report_prints_the_inferred_pattern(&case("tenants-layout"));
}

#[test]
fn fixture_inference_is_the_same_in_one_chunk_or_many() {
    inference_is_the_same_in_one_chunk_or_many(&case("tenants-layout"));
}
