//! The checks against a log recorded just now from a live server.

use std::sync::OnceLock;

use super::server::BaoServer;
use super::{Incident, Truth, checks, scenario, skipped};

/// Starts a server, plays the incident, and keeps the log once the server is gone.
fn record() -> Incident {
    let mut server = BaoServer::start();
    let recorded = scenario::play(&mut server);
    let audit_log = std::fs::read(server.audit_log()).unwrap_or_else(|e| {
        panic!(
            "read the audit log ({e}); server output:\n{}",
            server.output()
        )
    });
    drop(server);
    Incident {
        audit_log,
        truth: Truth {
            attacker_token: recorded.attacker_token,
            accessors: recorded.accessors,
            pki_lease: recorded.pki_lease,
        },
    }
}

/// The incident of this test run, recorded once.
pub fn incident() -> &'static Incident {
    static INCIDENT: OnceLock<Incident> = OnceLock::new();
    INCIDENT.get_or_init(record)
}

#[test]
fn live_scan_reports_tenants_findings_and_gaps() {
    if skipped() {
        return;
    }
    let (_dir, log) = incident().log();
    checks::scan_report(&log);
}

#[test]
fn live_scan_of_a_log_with_lines_cut_out_reports_the_hole() {
    if skipped() {
        return;
    }
    let (_dir, log) = incident().log();
    checks::cut(&log);
}

#[test]
fn live_blast_on_the_attacker_token_follows_its_lineage() {
    if skipped() {
        return;
    }
    let (_dir, log) = incident().log();
    checks::blast_token(&log, &incident().truth);
}

#[test]
fn live_blast_on_the_attacker_address_adds_the_guessed_account() {
    if skipped() {
        return;
    }
    let (_dir, log) = incident().log();
    checks::blast_ip(&log);
}

#[test]
fn live_rotation_list_revokes_the_lease_and_the_tokens() {
    if skipped() {
        return;
    }
    let (_dir, log) = incident().log();
    checks::rotation_list(&log, &incident().truth);
}

#[test]
fn live_seal_long_before_the_end_is_not_a_missing_response() {
    if skipped() {
        return;
    }
    let (_dir, log) = incident().log();
    checks::seal_long_before_the_end(&log);
}

/// Regenerates fixtures/incident/ (scripts/record-incident.sh runs it).
#[test]
#[ignore = "rewrites fixtures/incident/: run by scripts/record-incident.sh"]
fn record_incident_fixture() {
    let i = incident();
    let dir = crate::util::fixture("incident");
    std::fs::create_dir_all(&dir).expect("fixtures/incident");
    std::fs::write(dir.join("audit.log"), &i.audit_log).expect("write the log");
    let truth = serde_json::to_string_pretty(&i.truth.to_json()).expect("json") + "\n";
    std::fs::write(dir.join("ground-truth.json"), truth).expect("write ground-truth.json");
    // The recording must show the incident, or it is not worth committing.
    checks::scan_report(&dir.join("audit.log"));
}
