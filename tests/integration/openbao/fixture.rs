//! The same checks on the committed recording, fixtures/incident/: the README's first command
//! scans it, so it must show the incident.

use std::path::PathBuf;

use super::{Truth, checks};
use crate::util::fixture;

fn log() -> PathBuf {
    fixture("incident/audit.log")
}

fn truth() -> Truth {
    let path = fixture("incident/ground-truth.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    Truth::from_json(&serde_json::from_str(&text).expect("ground-truth.json is JSON"))
}

#[test]
fn fixture_is_small_enough_to_ship() {
    let bytes = std::fs::metadata(log())
        .expect("fixtures/incident/audit.log")
        .len();
    assert!(bytes < 200 * 1024, "{bytes} bytes");
}

#[test]
fn fixture_scan_reports_tenants_findings_and_gaps() {
    checks::scan_report(&log());
}

#[test]
fn fixture_scan_of_a_log_with_lines_cut_out_reports_the_hole() {
    checks::cut(&log());
}

#[test]
fn fixture_blast_on_the_attacker_token_follows_its_lineage() {
    checks::blast_token(&log(), &truth());
}

#[test]
fn fixture_blast_on_the_attacker_address_adds_the_guessed_account() {
    checks::blast_ip(&log());
}

#[test]
fn fixture_rotation_list_revokes_the_lease_and_the_tokens() {
    checks::rotation_list(&log(), &truth());
}

#[test]
fn fixture_seal_long_before_the_end_is_not_a_missing_response() {
    checks::seal_long_before_the_end(&log());
}
