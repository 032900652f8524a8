//! Every built-in rule over the real corpus in `shared/corpus`, with hand-checked expectations.
//!
//! Each logical request is observed once, as the scan does: on its response entry, or on the
//! request entry when no response with the same `request.id` exists.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use crate::model::Loc;
use crate::parse::Parser;
use crate::parse::framing::{Framed, frame_line};
use crate::rules::RuleSet;

/// `shared/corpus`, found by walking up from the crate (worktrees sit at different depths).
fn corpus_dir() -> Option<PathBuf> {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let c = dir.join("shared").join("corpus");
        if c.is_dir() {
            return Some(c);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// A correlation hit in a corpus file: (corpus file, rule file, group, count).
type CorrelationRow = (String, String, Vec<(String, String)>, u64);

/// Per corpus file: hits per rule file, and correlation hits.
struct Outcome {
    hits: BTreeMap<(String, String), u64>,
    correlations: Vec<CorrelationRow>,
}

fn run_corpus(set: &RuleSet) -> Outcome {
    let dir = corpus_dir().expect("shared/corpus not found above the crate");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".log") || n.ends_with(".ndjson")
        })
        .collect();
    files.sort();
    let mut out = Outcome {
        hits: BTreeMap::new(),
        correlations: Vec::new(),
    };
    let mut p = Parser::new();
    for (fi, path) in files.iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(path).unwrap();
        let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        let json = |line: &[u8]| match frame_line(line) {
            Framed::Json { start, end, .. } => Some(line[start..end].to_vec()),
            _ => None,
        };
        let mut answered = HashSet::new();
        for line in &lines {
            let Some(j) = json(line) else { continue };
            p.parse_one(&j, |r| {
                if let Ok(e) = r
                    && e.is_response()
                    && let Some(id) = e.request.id
                {
                    answered.insert(id.to_string());
                }
            });
        }
        let mut state = set.new_state();
        let mut offset = 0u64;
        for (n, line) in lines.iter().enumerate() {
            let loc = Loc {
                file: fi as u32,
                offset,
                chunk: 0,
                line_in_chunk: n as u64,
            };
            offset += line.len() as u64 + 1;
            let Some(j) = json(line) else { continue };
            p.parse_one(&j, |r| {
                let Ok(e) = r else { return };
                let logical = e.is_response()
                    || (e.is_request() && e.request.id.is_none_or(|id| !answered.contains(id)));
                if !logical {
                    return;
                }
                let skipped = set.guard_violations(&e);
                assert!(skipped.is_empty(), "guards skip matching rules {skipped:?}");
                let differ = set.cache_mismatches(&e);
                assert!(differ.is_empty(), "cached field values differ: {differ:?}");
                set.observe(&e, loc, &mut state, &mut |id| {
                    *out.hits
                        .entry((name.clone(), set.rule(id).source.clone()))
                        .or_default() += 1;
                });
            });
        }
        for h in set.finish(state) {
            out.correlations.push((
                name.clone(),
                set.rule(h.rule).source.clone(),
                h.group,
                h.count,
            ));
        }
    }
    out
}

fn count(o: &Outcome, file: &str, rule: &str) -> u64 {
    o.hits
        .get(&(file.to_string(), rule.to_string()))
        .copied()
        .unwrap_or(0)
}

fn total(o: &Outcome, rule: &str) -> u64 {
    o.hits
        .iter()
        .filter(|((_, r), _)| r == rule)
        .map(|(_, n)| n)
        .sum()
}

/// Expected counts, each checked by hand against the files (jq and an independent Python pass
/// implementing the same request/response pairing).
#[test]
fn builtin_rules_over_the_real_corpus() {
    let set = RuleSet::builtin().unwrap();
    let o = run_corpus(&set);
    if std::env::var_os("BLASTRADIUS_PRINT_CORPUS_HITS").is_some() {
        for ((f, r), n) in &o.hits {
            println!("{n:6} {r:45} {f}");
        }
        for c in &o.correlations {
            println!("CORR {c:?}");
        }
    }
    let nula = "nula-white_gitops.audit.log";
    // 17 generate-root requests (attempt/update/cancel); 2 updates return complete:true.
    assert_eq!(count(&o, nula, "vault_root_generation.yml"), 15);
    assert_eq!(count(&o, nula, "vault_root_generation_completed.yml"), 2);
    // 5 approle logins with "invalid credentials" and 1 github login denied.
    assert_eq!(count(&o, nula, "vault_failed_login.yml"), 6);
    assert_eq!(count(&o, nula, "vault_permission_denied.yml"), 6);
    assert_eq!(count(&o, nula, "vault_invalid_token.yml"), 2);
    assert_eq!(count(&o, nula, "vault_root_token_use.yml"), 50);

    let edu = "hashicorp-education-learn-vault-monitoring.vault-audit.log";
    assert_eq!(count(&o, edu, "vault_permission_denied.yml"), 3);
    assert_eq!(count(&o, edu, "vault_root_token_use.yml"), 11);
    // Two approle logins that fail with only response.data.error (no top-level error).
    assert_eq!(count(&o, edu, "vault_failed_login.yml"), 2);

    let lasith = "lasith-kg_vault-terraform-sandbox.vault_audit.log";
    assert_eq!(count(&o, lasith, "vault_permission_denied.yml"), 8);
    assert_eq!(count(&o, lasith, "vault_root_token_use.yml"), 130);

    let kohbah = "kohbah_vault.audit.log";
    assert_eq!(count(&o, kohbah, "vault_failed_login.yml"), 50);

    // The only unhashed tokens are the two log_raw blog events; "****" and "hmac-sha256:x"
    // redactions elsewhere are not tokens.
    assert_eq!(
        count(
            &o,
            "blog-clients-lab-ent-namespaces-lograw.compacted.ndjson",
            "vault_plaintext_token_in_log.yml"
        ),
        2
    );
    assert_eq!(total(&o, "vault_plaintext_token_in_log.yml"), 2);

    // Nine sys/audit/test probes across the corpus, none counted as a device change.
    assert_eq!(total(&o, "vault_audit_test_probe.yml"), 9);
    assert_eq!(
        count(
            &o,
            "lopesma2github_docker-vault-consul.audit.log",
            "vault_audit_device_enabled.yml"
        ),
        1
    );

    // xfrarod's transit-like `encryption/` mount (no mount_type in Vault 1.0 logs).
    let xf = "xfrarod_vault_posgres_ldap.vault-audit.log";
    assert_eq!(count(&o, xf, "vault_transit_key_deleted.yml"), 3);
    assert_eq!(count(&o, xf, "vault_transit_key_exported.yml"), 1);
    assert_eq!(count(&o, xf, "vault_transit_key_config_weakened.yml"), 5);

    // Base rules never report on their own.
    assert_eq!(total(&o, "vault_secret_read.yml"), 0);

    // Correlations: only kohbah's password guessing (48 failed logins from one address, 20 of
    // them within 5 minutes).
    let files: HashSet<&str> = o.correlations.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(files, HashSet::from([kohbah]));
    let by_address: Vec<_> = o
        .correlations
        .iter()
        .filter(|c| c.1 == "vault_failed_login_burst_by_address.yml")
        .collect();
    assert_eq!(by_address.len(), 1);
    assert_eq!(
        by_address[0].2,
        [(
            "request.remote_address".to_string(),
            "98.218.113.64".to_string()
        )]
    );
    assert_eq!(by_address[0].3, 20);
    let mut by_account: Vec<(String, u64)> = o
        .correlations
        .iter()
        .filter(|c| c.1 == "vault_failed_login_burst_by_account.yml")
        .map(|c| (c.2[0].1.clone(), c.3))
        .collect();
    by_account.sort();
    let expected = [
        ("auth/auth/userpass/login/adminn", 9),
        ("auth/userpass/login/admin", 12),
        ("auth/userpass/login/administrator", 7),
        ("auth/userpass/login/marcel", 5),
    ];
    let expected: Vec<(String, u64)> = expected.iter().map(|(p, n)| (p.to_string(), *n)).collect();
    assert_eq!(by_account, expected);
}
