//! The per-event field cache reads the same values as a direct lookup, whatever the event's
//! shape: typed members, tape walks, arrays on the way and at the end, nulls and empty strings.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::parse::Parser;
use crate::rules::RuleSet;

/// One rule testing every kind of field: typed strings, typed lists and booleans, the entry
/// type, tape paths through objects and arrays, and free-form objects.
fn rule_set() -> RuleSet {
    let fields = [
        "type",
        "error",
        "auth.accessor",
        "auth.policies",
        "auth.policy_results.allowed",
        "auth.policy_results.granting_policies.name",
        "auth.metadata.role",
        "request.operation",
        "request.path",
        "request.remote_port",
        "request.data.a",
        "request.data.a.b",
        "request.data.list",
        "request.data.list.b",
        "response.auth",
        "response.auth.accessor",
        "response.auth.policies",
        "response.data.error",
    ];
    let mut detection = String::from("detection:\n");
    for (i, f) in fields.iter().enumerate() {
        // Every field twice, so a second test reads what the first one cached.
        detection.push_str(&format!("  e{i}:\n    {f}|exists: true\n"));
        detection.push_str(&format!("  m{i}:\n    {f}|contains: x\n"));
    }
    detection.push_str("  condition: 1 of e* or 1 of m*\n");
    let yaml = format!(
        "title: T\nid: 11111111-2222-3333-4444-555555555555\nlevel: low\n\
         logsource: {{product: vault, service: audit}}\n{detection}"
    );
    RuleSet::from_sources(&[("t.yml".into(), yaml)]).unwrap_or_else(|e| panic!("{e}"))
}

fn mismatches(set: &RuleSet, entry: &Value) -> Vec<String> {
    let line = entry.to_string();
    let mut p = Parser::new();
    let mut out = None;
    p.parse_one(line.as_bytes(), |r| match r {
        Ok(ev) => out = Some(set.cache_mismatches(&ev)),
        // Shapes Vault never writes are malformed, not events: nothing to compare.
        Err(crate::parse::ParseErrorKind::WrongType { .. }) => out = Some(Vec::new()),
        Err(e) => panic!("{e}: {line}"),
    });
    out.expect("one event")
}

#[test]
fn cached_values_equal_direct_lookups_on_hand_written_shapes() {
    let set = rule_set();
    let entries = [
        json!({"type":"response","auth":{"accessor":"a","policies":["default","root"],
            "policy_results":{"allowed":true,"granting_policies":[{"name":"root"},{"name":"x"}]},
            "metadata":{"role":"ci"}},
            "request":{"operation":"rollback","path":"kv/x","remote_port":5000,
                "data":{"a":{"b":[1,"x",null,""]},"list":[{"b":"x"},{"b":2}]}},
            "response":{"auth":{"accessor":"","policies":[]},"data":{"error":"x"}}}),
        json!({"type":"kmip-request","error":"","request":{"operation":"write","path":"",
            "data":{"a":null,"list":[]}}}),
        json!({"type":"request","request":{"data":{"a":[{"b":"x"},[{"b":"y"}]],"list":"x"}},
            "response":{"auth":null,"data":null}}),
    ];
    for e in &entries {
        assert_eq!(mismatches(&set, e), Vec::<String>::new(), "{e}");
    }
}

/// A JSON value up to three levels deep, with the keys the rule's paths use.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|i| json!(i)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        prop::sample::select(vec!["", "x", "root", "hmac-sha256:x", "read"]).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec!["a", "b", "list", "name", "error"]),
                    inner
                ),
                0..4
            )
            .prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// An entry whose members are random values (or missing) where rules look.
fn entry() -> impl Strategy<Value = Value> {
    let member = || prop::option::of(json_value());
    (
        prop::sample::select(vec!["request", "response", "other"]),
        prop::sample::select(vec!["read", "rollback", "write", "", "update"]),
        (member(), member(), member(), member()),
        (member(), member(), member()),
    )
        .prop_map(
            |(kind, op, (error, auth, policies, data), (response_auth, response_data, path))| {
                let mut e = Map::new();
                e.insert("type".into(), json!(kind));
                let mut request = Map::new();
                request.insert("operation".into(), json!(op));
                put(&mut request, "path", path);
                put(&mut request, "data", data);
                e.insert("request".into(), Value::Object(request));
                put(&mut e, "error", error);
                let mut a = match auth {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                put(&mut a, "policies", policies);
                e.insert("auth".into(), Value::Object(a));
                let mut response = Map::new();
                put(&mut response, "auth", response_auth);
                put(&mut response, "data", response_data);
                e.insert("response".into(), Value::Object(response));
                Value::Object(e)
            },
        )
}

fn put(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.into(), v);
    }
}

proptest! {
    #[test]
    fn cached_values_equal_direct_lookups(e in entry()) {
        let set = rule_set();
        prop_assert_eq!(mismatches(&set, &e), Vec::<String>::new());
    }
}
