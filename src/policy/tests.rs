//! The priority rules of the policy documentation ("Policy syntax"), each with its examples.

use super::*;

fn acl(text: &str) -> Acl {
    let p = parse_policy("p", "", text).unwrap();
    Acl::new(&[&p], &Identity::default(), None)
}

fn caps(a: &Acl, path: &str) -> Vec<&'static str> {
    a.capabilities(path).names()
}

fn matched(a: &Acl, path: &str) -> Option<String> {
    a.capabilities(path).matched
}

#[test]
fn exact_path_matches_only_itself() {
    // "Permit reading only secret/foo: cannot read secret/food or secret/foo/bar."
    let a = acl(r#"path "secret/foo" { capabilities = ["read"] }"#);
    assert_eq!(caps(&a, "secret/foo"), ["read"]);
    assert_eq!(caps(&a, "secret/food"), ["deny"]);
    assert_eq!(caps(&a, "secret/foo/bar"), ["deny"]);
}

#[test]
fn glob_is_a_prefix_match() {
    // secret/bar/* reads secret/bar/zip and secret/bar/zip/zap, not secret/bars/zip;
    // secret/zip-* reads secret/zip-zap and secret/zip-zap/zong, not secret/zip/zap.
    let a = acl(r#"
path "secret/bar/*" { capabilities = ["read"] }
path "secret/zip-*" { capabilities = ["read"] }
"#);
    for p in [
        "secret/bar/zip",
        "secret/bar/zip/zap",
        "secret/zip-zap",
        "secret/zip-zap/zong",
    ] {
        assert_eq!(caps(&a, p), ["read"], "{p}");
    }
    for p in ["secret/bars/zip", "secret/zip/zap"] {
        assert_eq!(caps(&a, p), ["deny"], "{p}");
    }
    // "If you define a policy for secret/foo*, the policy would also match secret/foobar."
    let foo = acl(r#"path "secret/foo*" { capabilities = ["read"] }"#);
    assert_eq!(caps(&foo, "secret/foobar"), ["read"]);
}

#[test]
fn plus_is_exactly_one_segment() {
    // secret/+/teamb: the teamb path under any top-level path; secret/+/+/teamb: two levels.
    let a = acl(r#"
path "secret/+/teamb" { capabilities = ["read"] }
path "secret/+/+/teamb" { capabilities = ["list"] }
"#);
    assert_eq!(caps(&a, "secret/foo/teamb"), ["read"]);
    assert_eq!(caps(&a, "secret/foo/bar/teamb"), ["list"]);
    assert_eq!(caps(&a, "secret/bar/foo/teamb"), ["list"]);
    assert_eq!(caps(&a, "secret/teamb"), ["deny"]);
    assert_eq!(caps(&a, "secret/foo/teamb/x"), ["deny"]);
}

#[test]
fn deny_on_an_exact_subpath_overrides_a_glob() {
    // The documented example: all access on secret/*, secret/super-secret denied.
    let a = acl(r#"
path "secret/*" { capabilities = ["create", "read", "update", "patch", "delete", "list", "scan"] }
path "secret/super-secret" { capabilities = ["deny"] }
"#);
    assert_eq!(
        caps(&a, "secret/other"),
        [
            "create", "delete", "list", "patch", "read", "scan", "update"
        ]
    );
    assert_eq!(caps(&a, "secret/super-secret"), ["deny"]);
}

#[test]
fn rule_1_later_first_wildcard_wins() {
    // foo/a* over foo/+ ; foo/bar/+/baz over foo/+/bar/baz.
    let a = acl(r#"
path "foo/a*" { capabilities = ["read"] }
path "foo/+" { capabilities = ["list"] }
path "foo/bar/+/baz" { capabilities = ["update"] }
path "foo/+/bar/baz" { capabilities = ["delete"] }
"#);
    assert_eq!(caps(&a, "foo/abc"), ["read"]);
    assert_eq!(matched(&a, "foo/abc").as_deref(), Some("foo/a*"));
    assert_eq!(caps(&a, "foo/xyz"), ["list"]);
    assert_eq!(caps(&a, "foo/bar/bar/baz"), ["update"]);
}

#[test]
fn rule_2_no_trailing_glob_wins() {
    // foo/+/bar over foo/+/ba* ; foo/+ over foo/*.
    let a = acl(r#"
path "foo/+/bar" { capabilities = ["read"] }
path "foo/+/ba*" { capabilities = ["list"] }
"#);
    assert_eq!(caps(&a, "foo/x/bar"), ["read"]);
    assert_eq!(caps(&a, "foo/x/bat"), ["list"]);
    let b = acl(r#"
path "foo/+" { capabilities = ["update"] }
path "foo/*" { capabilities = ["delete"] }
"#);
    assert_eq!(caps(&b, "foo/x"), ["update"]);
    assert_eq!(caps(&b, "foo/x/y/z"), ["delete"]);
    // With all four, foo/* beats foo/+/ba* on rule 3 (same first wildcard, both globs, fewer +).
    let c = acl(r#"
path "foo/+/ba*" { capabilities = ["list"] }
path "foo/*" { capabilities = ["delete"] }
"#);
    assert_eq!(caps(&c, "foo/x/bat"), ["delete"]);
}

#[test]
fn rule_3_fewer_plus_segments_win() {
    // The documented example: secret/* against secret/+/+/foo/*: the first wildcard is in the
    // same place, both end in *, the latter has two + segments: secret/* wins.
    let a = acl(r#"
path "secret/*" { capabilities = ["read"] }
path "secret/+/+/foo/*" { capabilities = ["list"] }
"#);
    assert_eq!(caps(&a, "secret/a/b/foo/c"), ["read"]);
    assert_eq!(matched(&a, "secret/a/b/foo/c").as_deref(), Some("secret/*"));
    // foo/bar/+/baz over foo/+/+/baz would be rule 1; same first position: foo/+/bar/+ vs foo/+/+/+.
    let b = acl(r#"
path "foo/+/bar/+" { capabilities = ["read"] }
path "foo/+/+/+" { capabilities = ["list"] }
"#);
    assert_eq!(caps(&b, "foo/a/bar/c"), ["read"]);
    assert_eq!(caps(&b, "foo/a/baz/c"), ["list"]);
}

#[test]
fn rule_4_longer_wins() {
    // foo/+/bar/ba* over foo/+/bar/b*.
    let a = acl(r#"
path "foo/+/bar/ba*" { capabilities = ["read"] }
path "foo/+/bar/b*" { capabilities = ["list"] }
"#);
    assert_eq!(caps(&a, "foo/x/bar/baz"), ["read"]);
    assert_eq!(caps(&a, "foo/x/bar/bz"), ["list"]);
    // Plain globs: the longest prefix.
    let g = acl(r#"
path "kv/*" { capabilities = ["read"] }
path "kv/app/*" { capabilities = ["list"] }
"#);
    assert_eq!(caps(&g, "kv/app/db"), ["list"]);
    assert_eq!(caps(&g, "kv/other"), ["read"]);
}

#[test]
fn rule_5_lexicographically_greater_wins() {
    // A tie on rules 1 to 4: first + at the same place, no glob, two + each, same length.
    // "a/+/+/y" sorts before "a/+/x/+" ('+' < 'x'), so it is the lower priority.
    let a = acl(r#"
path "a/+/+/y" { capabilities = ["read"] }
path "a/+/x/+" { capabilities = ["list"] }
"#);
    assert_eq!(caps(&a, "a/q/x/y"), ["list"]);
    assert_eq!(matched(&a, "a/q/x/y").as_deref(), Some("a/+/x/+"));
    assert_eq!(caps(&a, "a/q/z/y"), ["read"]);
}

#[test]
fn exact_beats_every_wildcard() {
    let a = acl(r#"
path "kv/data/app/db" { capabilities = ["read"] }
path "kv/data/+/db" { capabilities = ["deny"] }
path "kv/data/*" { capabilities = ["list"] }
"#);
    assert_eq!(caps(&a, "kv/data/app/db"), ["read"]);
    assert_eq!(caps(&a, "kv/data/web/db"), ["deny"]);
    assert_eq!(caps(&a, "kv/data/web/other"), ["list"]);
}

#[test]
fn same_path_in_several_policies_adds_up_and_deny_wins() {
    let r = parse_policy("r", "", r#"path "kv/*" { capabilities = ["read"] }"#).unwrap();
    let l = parse_policy("l", "", r#"path "kv/*" { capabilities = ["list"] }"#).unwrap();
    let d = parse_policy("d", "", r#"path "kv/*" { capabilities = ["deny"] }"#).unwrap();
    let id = Identity::default();
    let both = Acl::new(&[&r, &l], &id, None).capabilities("kv/x");
    assert_eq!(both.names(), ["list", "read"]);
    let read_by: Vec<&str> = both
        .granting(Capability::Read)
        .iter()
        .map(|g| g.policy.as_str())
        .collect();
    assert_eq!(read_by, ["r"]);
    assert_eq!(
        Acl::new(&[&r, &d, &l], &id, None)
            .capabilities("kv/x")
            .names(),
        ["deny"]
    );
    // A higher-priority stanza in another policy replaces, not adds to, a lower one.
    let narrow = parse_policy("n", "", r#"path "kv/app/*" { capabilities = ["list"] }"#).unwrap();
    assert_eq!(
        Acl::new(&[&r, &narrow], &id, None)
            .capabilities("kv/app/x")
            .names(),
        ["list"]
    );
}

#[test]
fn list_requests_match_the_stanza_without_trailing_slash() {
    let a = acl(r#"path "kv/metadata/app" { capabilities = ["list"] }"#);
    assert_eq!(caps(&a, "kv/metadata/app/"), ["list"]);
    let g = acl(r#"path "kv/metadata/app/+" { capabilities = ["list"] }"#);
    assert_eq!(caps(&g, "kv/metadata/app/x/"), ["list"]);
}

#[test]
fn kv_v2_data_and_metadata_are_separate_paths() {
    let a = acl(r#"
path "kv/data/app/*" { capabilities = ["read"] }
path "kv/metadata/app/*" { capabilities = ["list"] }
"#);
    assert!(a.capabilities("kv/data/app/db").grants(Capability::Read));
    assert!(
        !a.capabilities("kv/metadata/app/db")
            .grants(Capability::Read)
    );
    // The logical path kv/app/db is not what the API checks.
    assert_eq!(caps(&a, "kv/app/db"), ["deny"]);
}

#[test]
fn sudo_and_root() {
    let a = acl(r#"path "sys/audit/*" { capabilities = ["sudo", "read"] }"#);
    assert_eq!(caps(&a, "sys/audit/file"), ["read", "sudo"]);
    let root = parse_policy("root", "team-a", "").unwrap();
    let r = Acl::new(&[&root], &Identity::default(), None);
    assert_eq!(r.capabilities("team-a/kv/data/x").names(), ["root"]);
    // A root token of a namespace has nothing outside it.
    assert_eq!(r.capabilities("kv/data/x").names(), ["deny"]);
}

#[test]
fn namespaced_policies_only_cover_their_namespace() {
    let p = parse_policy(
        "app",
        "team-a",
        r#"path "kv/*" { capabilities = ["read"] }"#,
    )
    .unwrap();
    let a = Acl::new(&[&p], &Identity::default(), None);
    assert_eq!(a.capabilities("team-a/kv/x").names(), ["read"]);
    assert_eq!(a.capabilities("kv/x").names(), ["deny"]);
    assert_eq!(a.capabilities("team-a/child/kv/x").names(), ["deny"]);
}

#[test]
fn templated_paths_resolve_or_stay_unresolved() {
    let p = parse_policy(
        "self",
        "",
        r#"
path "kv/data/{{identity.entity.id}}/*" { capabilities = ["read"] }
path "kv/data/{{identity.entity.name}}/*" { capabilities = ["read", "update"] }
"#,
    )
    .unwrap();
    let id = Identity {
        entity_id: Some("e-1".into()),
        ..Identity::default()
    };
    let a = Acl::new(&[&p], &id, None);
    assert_eq!(a.capabilities("kv/data/e-1/x").names(), ["read"]);
    assert_eq!(a.capabilities("kv/data/alice/x").names(), ["deny"]);
    let u = a.unresolved_for("kv/data/alice/x");
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].placeholders, ["identity.entity.name"]);
    // Without an entity Vault leaves templated stanzas out entirely.
    let none = Acl::new(&[&p], &Identity::default(), None);
    assert_eq!(none.capabilities("kv/data/e-1/x").names(), ["deny"]);
    assert!(none.unresolved_for("kv/data/alice/x").is_empty());
}

#[test]
fn expired_stanzas_are_left_out() {
    let p = parse_policy(
        "t",
        "",
        "path \"kv/*\" {\n  capabilities = [\"read\"]\n  expiration = \"2026-01-01T00:00:00Z\"\n}",
    )
    .unwrap();
    let id = Identity::default();
    let before = crate::model::Timestamp::parse("2025-12-31T00:00:00Z");
    let after = crate::model::Timestamp::parse("2026-01-02T00:00:00Z");
    assert_eq!(
        Acl::new(&[&p], &id, before).capabilities("kv/x").names(),
        ["read"]
    );
    assert_eq!(
        Acl::new(&[&p], &id, after).capabilities("kv/x").names(),
        ["deny"]
    );
}
