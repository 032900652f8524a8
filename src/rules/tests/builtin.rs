//! The built-in pack: every rule loads, and each has a positive and a negative example.

use crate::model::Loc;
use crate::parse::Parser;
use crate::rules::{RuleKind, RuleSet};

fn builtin() -> RuleSet {
    RuleSet::builtin().unwrap_or_else(|e| panic!("{e}"))
}

/// A response entry with `request` members and more top-level members.
fn ev(request: &str, rest: &str) -> String {
    format!(
        r#"{{"time":"2024-05-01T10:00:00Z","type":"response","request":{{"id":"r1","remote_address":"10.0.0.9",{request}}}{rest}}}"#
    )
}

const USER: &str = r#","auth":{"client_token":"hmac-sha256:t","accessor":"hmac-sha256:a","policies":["default","app"],"entity_id":"e-1","token_type":"service"}"#;
const ROOT: &str = r#","auth":{"client_token":"hmac-sha256:t","accessor":"hmac-sha256:a","display_name":"root","policies":["root"],"token_type":"service"}"#;
const ANON: &str = r#","auth":{"token_type":"default"}"#;

fn matches(set: &RuleSet, file: &str, line: &str) -> bool {
    let id = set
        .rules()
        .iter()
        .position(|r| r.source == file)
        .unwrap_or_else(|| panic!("no rule from {file}"));
    let mut p = Parser::new();
    p.parse_one(line.as_bytes(), |r| {
        let e = r.unwrap_or_else(|e| panic!("{e}: {line}"));
        set.matches(crate::rules::RuleId(id as u32), &e)
    })
}

/// (rule file, event that must match, event that must not).
fn cases() -> Vec<(&'static str, String, String)> {
    let denied_err = r#","error":"1 error occurred:\n\t* permission denied\n\n""#;
    vec![
        (
            "vault_permission_denied.yml",
            ev(
                r#""operation":"read","path":"kv/data/a""#,
                &format!("{USER}{denied_err}"),
            ),
            ev(r#""operation":"read","path":"kv/data/a""#, USER),
        ),
        (
            "vault_permission_denied.yml",
            ev(
                r#""operation":"read","path":"kv/data/a""#,
                r#","auth":{"accessor":"hmac-sha256:a","policy_results":{"allowed":false}}"#,
            ),
            ev(
                r#""operation":"read","path":"kv/data/a""#,
                r#","auth":{"accessor":"hmac-sha256:a","policy_results":{"allowed":true}}"#,
            ),
        ),
        (
            "vault_invalid_token.yml",
            ev(
                r#""operation":"read","path":"kv/data/a""#,
                r#","error":"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n""#,
            ),
            ev(r#""operation":"read","path":"kv/data/a""#, denied_err),
        ),
        (
            "vault_missing_client_token.yml",
            ev(
                r#""operation":"update","path":"auth/nope/login""#,
                r#","error":"missing client token""#,
            ),
            ev(
                r#""operation":"update","path":"auth/nope/login""#,
                r#","error":"invalid request""#,
            ),
        ),
        (
            "vault_failed_login.yml",
            ev(
                r#""operation":"update","path":"auth/approle/login""#,
                &format!(r#"{ANON},"response":{{"data":{{"error":"hmac-sha256:e"}}}}"#),
            ),
            ev(
                r#""operation":"update","path":"auth/approle/login""#,
                &format!(
                    r#"{ANON},"response":{{"auth":{{"accessor":"hmac-sha256:n","policies":["default"]}}}}"#
                ),
            ),
        ),
        (
            "vault_failed_login.yml",
            ev(
                r#""operation":"update","path":"auth/userpass/login/alice""#,
                r#","error":"invalid credentials""#,
            ),
            ev(
                r#""operation":"update","path":"auth/userpass/users/alice""#,
                r#","error":"invalid request""#,
            ),
        ),
        (
            "vault_failed_login.yml",
            ev(
                r#""operation":"read","path":"auth/oidc/oidc/callback""#,
                r#","error":"1 error occurred:\n\t* expired\n\n""#,
            ),
            ev(
                r#""operation":"read","path":"auth/oidc/oidc/callback""#,
                r#","response":{"auth":{"accessor":"hmac-sha256:n"}}"#,
            ),
        ),
        (
            "vault_root_token_use.yml",
            ev(r#""operation":"read","path":"sys/mounts""#, ROOT),
            ev(r#""operation":"read","path":"sys/mounts""#, USER),
        ),
        (
            "vault_root_generation.yml",
            ev(
                r#""operation":"update","path":"sys/generate-root/attempt""#,
                r#","response":{"data":{"complete":false}}"#,
            ),
            ev(
                r#""operation":"update","path":"sys/generate-root/update""#,
                r#","response":{"data":{"complete":true}}"#,
            ),
        ),
        (
            "vault_root_generation_completed.yml",
            ev(
                r#""operation":"update","path":"sys/generate-root/update""#,
                r#","response":{"data":{"complete":true,"encoded_token":"hmac-sha256:x"}}"#,
            ),
            ev(
                r#""operation":"update","path":"sys/generate-root/update""#,
                r#","response":{"data":{"complete":false}}"#,
            ),
        ),
        (
            "vault_audit_device_disabled.yml",
            ev(r#""operation":"delete","path":"sys/audit/file""#, ROOT),
            ev(r#""operation":"delete","path":"sys/audit-hash/file""#, ROOT),
        ),
        (
            "vault_audit_device_enabled.yml",
            ev(
                r#""operation":"update","path":"sys/audit/file","data":{"type":"hmac-sha256:f"}"#,
                ROOT,
            ),
            ev(r#""operation":"update","path":"sys/audit/test""#, ANON),
        ),
        (
            "vault_audit_device_enabled.yml",
            ev(r#""operation":"update","path":"sys/audit/test""#, ROOT),
            ev(r#""operation":"read","path":"sys/audit""#, ROOT),
        ),
        (
            "vault_audit_test_probe.yml",
            ev(r#""operation":"update","path":"sys/audit/test""#, ""),
            ev(r#""operation":"update","path":"sys/audit/test""#, ROOT),
        ),
        (
            "vault_audit_device_file_write_options.yml",
            ev(
                r#""operation":"update","path":"sys/audit/f2","data":{"type":"hmac-sha256:f","options":{"file_path":"hmac-sha256:p","prefix":"hmac-sha256:x"}}"#,
                ROOT,
            ),
            ev(
                r#""operation":"update","path":"sys/audit/f2","data":{"type":"hmac-sha256:f","options":{"file_path":"hmac-sha256:p"}}"#,
                ROOT,
            ),
        ),
        (
            "vault_audit_request_headers_changed.yml",
            ev(
                r#""operation":"update","path":"sys/config/auditing/request-headers/x-forwarded-for""#,
                ROOT,
            ),
            ev(
                r#""operation":"read","path":"sys/config/auditing/request-headers""#,
                ROOT,
            ),
        ),
        (
            "vault_policy_changed.yml",
            ev(
                r#""operation":"update","path":"sys/policies/acl/admin""#,
                ROOT,
            ),
            ev(
                r#""operation":"read","path":"sys/policies/acl/admin""#,
                ROOT,
            ),
        ),
        (
            "vault_policy_changed.yml",
            ev(r#""operation":"delete","path":"sys/policy/old""#, ROOT),
            ev(
                r#""operation":"update","path":"sys/policies/password/p""#,
                ROOT,
            ),
        ),
        (
            "vault_auth_method_changed.yml",
            ev(r#""operation":"update","path":"sys/auth/userpass""#, ROOT),
            ev(r#""operation":"read","path":"sys/auth""#, ROOT),
        ),
        (
            "vault_auth_role_changed.yml",
            ev(
                r#""operation":"update","path":"auth/approle/role/ci""#,
                ROOT,
            ),
            ev(
                r#""operation":"update","path":"auth/approle/role/ci/secret-id""#,
                ROOT,
            ),
        ),
        (
            "vault_auth_role_changed.yml",
            ev(
                r#""operation":"create","path":"auth/userpass/users/mallory""#,
                ROOT,
            ),
            ev(
                r#""operation":"update","path":"auth/userpass/login/mallory""#,
                ANON,
            ),
        ),
        (
            "vault_identity_changed.yml",
            ev(
                r#""operation":"update","path":"identity/group/name/admins""#,
                ROOT,
            ),
            ev(
                r#""operation":"read","path":"identity/group/name/admins""#,
                ROOT,
            ),
        ),
        (
            "vault_mount_changed.yml",
            ev(r#""operation":"delete","path":"sys/mounts/kv""#, ROOT),
            ev(r#""operation":"read","path":"sys/mounts/kv/tune""#, ROOT),
        ),
        (
            "vault_mount_changed.yml",
            ev(r#""operation":"update","path":"sys/remount""#, ROOT),
            ev(r#""operation":"list","path":"sys/mounts""#, ROOT),
        ),
        (
            "vault_audit_hmac_exemption.yml",
            ev(
                r#""operation":"update","path":"sys/mounts/kv/tune","data":{"audit_non_hmac_request_keys":["hmac-sha256:k"]}"#,
                ROOT,
            ),
            ev(
                r#""operation":"update","path":"sys/mounts/kv/tune","data":{"default_lease_ttl":"hmac-sha256:k","audit_non_hmac_request_keys":[]}"#,
                ROOT,
            ),
        ),
        (
            "vault_audit_hmac_exemption.yml",
            ev(
                r#""operation":"update","path":"sys/auth/userpass","data":{"config":{"audit_non_hmac_response_keys":["hmac-sha256:k"]}}"#,
                ROOT,
            ),
            ev(
                r#""operation":"update","path":"kv/data/cfg","data":{"audit_non_hmac_request_keys":"hmac-sha256:k"}"#,
                ROOT,
            ),
        ),
        (
            "vault_raw_storage_access.yml",
            ev(r#""operation":"read","path":"sys/raw/core/keyring""#, ROOT),
            ev(r#""operation":"read","path":"sys/rawx""#, ROOT),
        ),
        (
            "vault_transit_key_deleted.yml",
            ev(
                r#""operation":"delete","path":"transit/keys/payments","mount_type":"transit""#,
                ROOT,
            ),
            ev(
                r#""operation":"delete","path":"secret/keys/payments","mount_type":"kv""#,
                ROOT,
            ),
        ),
        (
            "vault_transit_key_deleted.yml",
            ev(
                r#""operation":"delete","path":"encryption/keys/payments""#,
                ROOT,
            ),
            ev(
                r#""operation":"delete","path":"transit/keys/payments/trim""#,
                ROOT,
            ),
        ),
        (
            "vault_transit_key_config_weakened.yml",
            ev(
                r#""operation":"update","path":"transit/keys/k/config","data":{"deletion_allowed":true}"#,
                ROOT,
            ),
            ev(
                r#""operation":"update","path":"transit/keys/k/config","data":{"auto_rotate_period":"hmac-sha256:p"}"#,
                ROOT,
            ),
        ),
        (
            "vault_transit_key_exported.yml",
            ev(
                r#""operation":"read","path":"encryption/export/encryption-key/k""#,
                ROOT,
            ),
            ev(
                r#""operation":"read","path":"transit/export/public-key/k""#,
                ROOT,
            ),
        ),
        (
            "vault_transit_key_exported.yml",
            ev(
                r#""operation":"read","path":"transit/backup/k","mount_type":"transit""#,
                ROOT,
            ),
            ev(
                r#""operation":"read","path":"kv/backup/k","mount_type":"kv""#,
                ROOT,
            ),
        ),
        (
            "vault_token_created.yml",
            ev(
                r#""operation":"update","path":"auth/token/create""#,
                &format!(
                    r#"{USER},"response":{{"auth":{{"accessor":"hmac-sha256:n","policies":["default"]}}}}"#
                ),
            ),
            ev(
                r#""operation":"update","path":"auth/token/create-orphan""#,
                USER,
            ),
        ),
        (
            "vault_token_created.yml",
            ev(
                r#""operation":"update","path":"auth/token/create/ci-role""#,
                USER,
            ),
            ev(
                r#""operation":"update","path":"auth/token/create""#,
                &format!("{USER}{denied_err}"),
            ),
        ),
        (
            "vault_orphan_token_created.yml",
            ev(
                r#""operation":"update","path":"auth/token/create","data":{"no_parent":true}"#,
                USER,
            ),
            ev(
                r#""operation":"update","path":"auth/token/create","data":{"no_parent":false}"#,
                USER,
            ),
        ),
        (
            "vault_root_policy_token_issued.yml",
            ev(
                r#""operation":"update","path":"auth/token/create""#,
                &format!(
                    r#"{ROOT},"response":{{"auth":{{"accessor":"hmac-sha256:n","policies":["root"]}}}}"#
                ),
            ),
            ev(
                r#""operation":"update","path":"auth/token/create""#,
                &format!(
                    r#"{ROOT},"response":{{"auth":{{"accessor":"hmac-sha256:n","policies":["default"]}}}}"#
                ),
            ),
        ),
        (
            "vault_token_accessor_enumeration.yml",
            ev(r#""operation":"list","path":"auth/token/accessors/""#, ROOT),
            ev(
                r#""operation":"update","path":"auth/token/lookup-accessor""#,
                ROOT,
            ),
        ),
        (
            "vault_token_accessor_operation.yml",
            ev(
                r#""operation":"update","path":"auth/token/revoke-accessor""#,
                USER,
            ),
            ev(
                r#""operation":"read","path":"auth/token/lookup-self""#,
                USER,
            ),
        ),
        (
            "vault_secret_deleted.yml",
            ev(r#""operation":"delete","path":"kv/metadata/app""#, USER),
            ev(r#""operation":"delete","path":"sys/mounts/kv""#, ROOT),
        ),
        (
            "vault_secret_deleted.yml",
            ev(r#""operation":"update","path":"kv/destroy/app""#, USER),
            ev(
                r#""operation":"delete","path":"kv/data/app""#,
                &format!("{USER}{denied_err}"),
            ),
        ),
        (
            "vault_plaintext_token_in_log.yml",
            ev(
                r#""operation":"read","path":"kv/data/a","client_token":"hvs.CAESIJq0xxxxxxxxxxxxxxxxxxxxxx""#,
                USER,
            ),
            ev(
                r#""operation":"read","path":"kv/data/a","client_token":"hmac-sha256:abc""#,
                USER,
            ),
        ),
        (
            "vault_plaintext_token_in_log.yml",
            ev(
                r#""operation":"read","path":"auth/token/lookup/s.1AjRRLXPTkMgsb9cI6Pks1dB""#,
                USER,
            ),
            ev(
                r#""operation":"read","path":"kv/data/a""#,
                r#","auth":{"client_token":"****","accessor":"****"}"#,
            ),
        ),
        (
            "vault_plaintext_accessor_in_log.yml",
            ev(
                r#""operation":"read","path":"kv/data/a""#,
                r#","auth":{"client_token":"hmac-sha256:t","accessor":"Qzv0Hbyb0DOvvAbd2T5fbNEU"}"#,
            ),
            ev(r#""operation":"read","path":"kv/data/a""#, USER),
        ),
        (
            "vault_path_traversal.yml",
            ev(
                r#""operation":"read","path":"kv/data/../../sys/raw/x""#,
                USER,
            ),
            ev(r#""operation":"read","path":"kv/data/a..b/c""#, USER),
        ),
        (
            "vault_path_traversal.yml",
            ev(
                r#""operation":"read","path":"kv/data/a","request_uri":"/v1/kv/%2E%2E/x""#,
                USER,
            ),
            ev(r#""operation":"read","path":"kv/data/.hidden""#, USER),
        ),
        (
            "vault_entityless_operation.yml",
            ev(r#""operation":"read","path":"kv/data/a""#, ROOT),
            ev(r#""operation":"read","path":"kv/data/a""#, USER),
        ),
        (
            "vault_entityless_operation.yml",
            ev(
                r#""operation":"read","path":"kv/data/a""#,
                r#","auth":{"client_token":"hmac-sha256:t","entity_id":""}"#,
            ),
            ev(
                r#""operation":"update","path":"auth/userpass/login/a""#,
                ANON,
            ),
        ),
        (
            "vault_lease_mass_revocation.yml",
            ev(
                r#""operation":"update","path":"sys/leases/revoke-prefix/database/creds/""#,
                ROOT,
            ),
            ev(r#""operation":"update","path":"sys/leases/revoke""#, ROOT),
        ),
        (
            "vault_raft_snapshot.yml",
            ev(
                r#""operation":"read","path":"sys/storage/raft/snapshot""#,
                ROOT,
            ),
            ev(
                r#""operation":"read","path":"sys/storage/raft/snapshot-auto/config/daily""#,
                ROOT,
            ),
        ),
        (
            "vault_plugin_catalog_changed.yml",
            ev(
                r#""operation":"update","path":"sys/plugins/catalog/secret/evil""#,
                ROOT,
            ),
            ev(
                r#""operation":"list","path":"sys/plugins/catalog/secret""#,
                ROOT,
            ),
        ),
        (
            "vault_secret_read.yml",
            ev(r#""operation":"read","path":"kv/data/a""#, USER),
            ev(r#""operation":"read","path":"sys/mounts""#, USER),
        ),
    ]
}

#[test]
fn every_builtin_rule_loads_cleanly_with_complete_metadata() {
    let set = builtin();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/rules");
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yml")
        })
        .count();
    assert_eq!(set.rules().len(), files, "one rule per file, all embedded");
    assert!(set.warnings().is_empty(), "{:?}", set.warnings());
    for r in set.rules() {
        assert_eq!(r.id.len(), 36, "{}", r.source);
        assert!(
            !r.title.is_empty() && !r.description.is_empty(),
            "{}",
            r.source
        );
        assert!(
            !r.references.is_empty() && !r.falsepositives.is_empty(),
            "{}",
            r.source
        );
        assert!(
            r.tags.iter().any(|t| t.starts_with("attack.")),
            "{}",
            r.source
        );
        if r.level != "informational" {
            assert!(r.severity.is_some(), "{}", r.source);
        }
    }
    let sources: Vec<(String, String)> = super::super::builtin::sources();
    assert!(crate::rules::lint(&sources).is_empty());
}

#[test]
fn every_builtin_event_rule_has_a_positive_and_a_negative_example() {
    let set = builtin();
    let cases = cases();
    for r in set.rules().iter().filter(|r| r.kind == RuleKind::Entry) {
        assert!(
            cases.iter().any(|(f, _, _)| *f == r.source),
            "no example for {}",
            r.source
        );
    }
    for (file, pos, neg) in &cases {
        assert!(matches(&set, file, pos), "{file} should match {pos}");
        assert!(!matches(&set, file, neg), "{file} should not match {neg}");
    }
}

/// Feeds `n` copies of `line`, one second apart, with `edit(i, line)` applied; returns the titles
/// of correlation hits.
fn burst(set: &RuleSet, n: u32, line: &str, edit: impl Fn(u32, &str) -> String) -> Vec<String> {
    let mut state = set.new_state();
    let mut p = Parser::new();
    for i in 0..n {
        let l = edit(
            i,
            &line.replace("10:00:00Z", &format!("10:00:{:02}Z", i % 60)),
        );
        p.parse_one(l.as_bytes(), |r| {
            let e = r.unwrap_or_else(|e| panic!("{e}: {l}"));
            let loc = Loc {
                offset: u64::from(i),
                ..Loc::default()
            };
            set.observe(&e, loc, &mut state, &mut |_| {});
        });
    }
    set.finish(state)
        .into_iter()
        .map(|h| set.rule(h.rule).source.clone())
        .collect()
}

fn same(_: u32, l: &str) -> String {
    l.to_string()
}

#[test]
fn every_builtin_correlation_fires_at_its_threshold_and_not_below() {
    let set = builtin();
    let denied = ev(
        r#""operation":"read","path":"kv/data/a""#,
        &format!(r#"{USER},"error":"permission denied""#),
    );
    let both_denied = [
        "vault_denied_burst_by_address.yml",
        "vault_denied_burst_by_token.yml",
    ];
    assert_eq!(burst(&set, 10, &denied, same), both_denied);
    assert!(burst(&set, 9, &denied, same).is_empty());
    // Different addresses: only the per-token rule.
    let spread = |i: u32, l: &str| l.replace("10.0.0.9", &format!("10.0.1.{i}"));
    assert_eq!(
        burst(&set, 10, &denied, spread),
        ["vault_denied_burst_by_token.yml"]
    );

    let failed = ev(
        r#""operation":"update","path":"auth/userpass/login/alice""#,
        r#","auth":{"token_type":"default"},"error":"invalid credentials""#,
    );
    let both_failed = [
        "vault_failed_login_burst_by_account.yml",
        "vault_failed_login_burst_by_address.yml",
    ];
    assert_eq!(burst(&set, 5, &failed, same), both_failed);
    assert!(burst(&set, 4, &failed, same).is_empty());
    let users = |i: u32, l: &str| l.replace("alice", &format!("user{i}"));
    assert_eq!(
        burst(&set, 5, &failed, users),
        ["vault_failed_login_burst_by_address.yml"]
    );

    let lookup = ev(
        r#""operation":"update","path":"auth/token/lookup-accessor""#,
        USER,
    );
    assert_eq!(
        burst(&set, 20, &lookup, same),
        ["vault_token_accessor_fanout.yml"]
    );
    assert!(burst(&set, 19, &lookup, same).is_empty());

    let read = ev(r#""operation":"read","path":"kv/data/app""#, USER);
    let distinct = |i: u32, l: &str| l.replace("kv/data/app", &format!("kv/data/app{i}"));
    assert_eq!(
        burst(&set, 25, &read, distinct),
        ["vault_mass_secret_read.yml"]
    );
    assert!(burst(&set, 24, &read, distinct).is_empty());
    assert!(burst(&set, 60, &read, same).is_empty());
}

#[test]
fn base_rules_of_correlations_do_not_report_alone_unless_generated() {
    let set = builtin();
    let alerts = |file: &str| {
        set.rules()
            .iter()
            .find(|r| r.source == file)
            .unwrap()
            .alerts
    };
    assert!(!alerts("vault_secret_read.yml"));
    assert!(!alerts("vault_token_accessor_operation.yml"));
    assert!(alerts("vault_permission_denied.yml"));
    assert!(alerts("vault_failed_login.yml"));
}
