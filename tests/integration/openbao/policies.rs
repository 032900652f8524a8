//! Capabilities computed by `blastradius::policy` against the live server's own answer
//! (`sys/capabilities`), token by token and path by path, with the policies read back through
//! the `--vault-addr` reader (GET `sys/policies/acl/<name>`).

use serde_json::{Value, json};

use super::client::Issued;
use super::server::BaoServer;
use super::skipped;
use blastradius::policy::{Acl, Identity, PolicyId, PolicySource, StoreError, VaultServer};

const POLICIES: &[(&str, &str)] = &[
    (
        "app",
        r#"
path "kv/data/app/*" { capabilities = ["read", "list"] }
path "kv/data/app/admin" { capabilities = ["deny"] }
path "kv/metadata/app/*" { capabilities = ["list"] }
"#,
    ),
    (
        "teams",
        r#"
path "kv/data/+/shared" { capabilities = ["read"] }
path "kv/data/team-*" { capabilities = ["list"] }
path "kv/data/team-a/+/deep" { capabilities = ["update"] }
"#,
    ),
    (
        "lister",
        r#"path "kv/metadata/*" { capabilities = ["list"] }"#,
    ),
    (
        "self",
        r#"path "kv/data/users/{{identity.entity.id}}/*" { capabilities = ["read", "create"] }"#,
    ),
    (
        "ops",
        r#"path "sys/audit/*" { capabilities = ["sudo", "read"] }"#,
    ),
];

const PATHS: &[&str] = &[
    "kv/data/app/db",
    "kv/data/app/admin",
    "kv/data/app/nested/key",
    "kv/metadata/app/db",
    "kv/data/team-a/shared",
    "kv/data/team-b/shared",
    "kv/data/team-a/x/deep",
    "kv/data/team-b/x/deep",
    "kv/data/other/shared",
    "kv/metadata/team-a/shared",
    "kv/data/users/ENTITY/key",
    "kv/data/users/someone-else/key",
    "sys/audit/file",
    "kv/data/unrelated",
];

fn entity_token(server: &BaoServer, policies: &[&str]) -> (String, String) {
    let root = server.root("127.0.0.1");
    root.enable_auth("userpass");
    root.add_user("alice", "pw", policies);
    let login = server
        .http
        .caller(None, "127.0.0.1")
        .write("auth/userpass/login/alice", json!({"password": "pw"}))
        .ok();
    let auth = &login["auth"];
    (
        auth["client_token"].as_str().expect("token").to_string(),
        auth["entity_id"].as_str().expect("entity").to_string(),
    )
}

fn server_caps(server: &BaoServer, token: &str, path: &str) -> Vec<String> {
    let root = server.root("127.0.0.1");
    let v: Value = root
        .write("sys/capabilities", json!({"token": token, "paths": [path]}))
        .ok();
    let mut c: Vec<String> = v[path]
        .as_array()
        .unwrap_or_else(|| panic!("capabilities of {path}: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    c.sort();
    c
}

#[test]
fn live_policy_capabilities_equal_the_servers_path_by_path() {
    if skipped() {
        return;
    }
    let server = BaoServer::start();
    let root = server.root("127.0.0.1");
    root.mount_kv2("sys/mounts/kv");
    for (name, text) in POLICIES {
        root.put_policy(name, text);
    }
    let names: Vec<&str> = POLICIES.iter().map(|(n, _)| *n).collect();
    let (user_token, entity) = entity_token(&server, &names);
    let plain = root
        .write(
            "auth/token/create",
            json!({"policies": ["app", "lister"], "no_default_policy": true}),
        )
        .ok();
    let plain_token = Issued::of(&plain).token;

    let reader = PolicySource::Server(VaultServer {
        addr: server.http.base().to_string(),
        token: server.root_token.clone(),
        namespace: String::new(),
    });
    let mut wanted: Vec<PolicyId> = names
        .iter()
        .chain(["default"].iter())
        .map(|n| PolicyId {
            namespace: String::new(),
            name: n.to_string(),
        })
        .collect();
    wanted.push(PolicyId {
        namespace: String::new(),
        name: "never-written".into(),
    });
    let set = reader.load(&wanted).expect("read policies from the server");
    assert_eq!(set.missing.len(), 1, "only never-written is missing");
    assert_eq!(set.missing[0].name, "never-written");

    let cases: [(&str, Vec<&str>, Identity); 2] = [
        (
            &user_token,
            names.iter().copied().chain(["default"]).collect(),
            Identity {
                entity_id: Some(entity.clone()),
                ..Identity::default()
            },
        ),
        (&plain_token, vec!["app", "lister"], Identity::default()),
    ];
    let mut compared = 0;
    for (token, pols, id) in &cases {
        let policies: Vec<_> = pols.iter().map(|n| set.get("", n).expect(n)).collect();
        let acl = Acl::new(&policies, id, None);
        for p in PATHS {
            let path = p.replace("ENTITY", &entity);
            let ours: Vec<String> = acl
                .capabilities(&path)
                .names()
                .into_iter()
                .map(str::to_string)
                .collect();
            assert_eq!(
                ours,
                server_caps(&server, token, &path),
                "{path} for {pols:?}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 2 * PATHS.len());
    // Not every answer is deny: the comparison covers grants, denies and list-only paths.
    let user_acl = Acl::new(
        &cases[0]
            .1
            .iter()
            .map(|n| set.get("", n).unwrap())
            .collect::<Vec<_>>(),
        &cases[0].2,
        None,
    );
    assert_eq!(
        user_acl.capabilities("kv/data/app/db").names(),
        ["list", "read"]
    );
    assert_eq!(user_acl.capabilities("kv/data/app/admin").names(), ["deny"]);

    // The reader refuses clearly when the token may not read a policy.
    let limited = PolicySource::Server(VaultServer {
        addr: server.http.base().to_string(),
        token: plain_token.clone(),
        namespace: String::new(),
    });
    let err = limited
        .load(&wanted[..1])
        .expect_err("no read on sys/policies/acl");
    assert!(matches!(err, StoreError::Forbidden { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("lacks `read` on sys/policies/acl/app"),
        "{err}"
    );
}
