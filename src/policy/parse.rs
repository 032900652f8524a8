//! ACL policy text (HCL, or the JSON form Vault also accepts) into [`Policy`].
//!
//! Only what decides capabilities is kept: each `path` stanza's capabilities (or the legacy
//! `policy = "read"` shorthand) and its `expiration`. Parameter constraints, wrapping TTLs and
//! control groups narrow a request further but never widen it, so ignoring them can only
//! over-report reach, which is the safe side for a rotation plan.

use super::caps::{Capabilities, Capability};
use crate::model::Timestamp;

/// One ACL policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Its name (`app-read`).
    pub name: String,
    /// The namespace it lives in, with a trailing slash (`""` for root, `team-a/`).
    pub namespace: String,
    /// The `path` stanzas, in file order.
    pub rules: Vec<PathRule>,
}

/// One `path "..." { ... }` stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRule {
    /// The path as written, without a leading `/` (`kv/data/+/db`, `secret/*`).
    pub path: String,
    /// Its capabilities (only `deny` when `deny` is among them).
    pub caps: Capabilities,
    /// `expiration`: the stanza stops applying after this time.
    pub expiration: Option<Timestamp>,
}

impl PathRule {
    /// True when the path holds an identity template (`{{identity.entity.id}}`).
    pub fn is_templated(&self) -> bool {
        self.path.contains("{{")
    }
}

/// Why a policy could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The text is not valid HCL or JSON.
    #[error("{name}: not a valid policy: {message}")]
    Syntax {
        /// Policy name.
        name: String,
        /// The parser's message (with line and column for HCL).
        message: String,
    },
    /// A stanza Vault would refuse.
    #[error("{name}: path {path:?}: {message}")]
    Rule {
        /// Policy name.
        name: String,
        /// The stanza.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A stanza before its capabilities are checked.
struct RawRule {
    path: String,
    capabilities: Vec<String>,
    legacy: Option<String>,
    expiration: Option<String>,
}

/// Parses policy text (HCL, or JSON when it starts with `{`).
pub fn parse_policy(name: &str, namespace: &str, text: &str) -> Result<Policy, PolicyError> {
    let raw = if text.trim_start().starts_with('{') {
        raw_json(name, text)?
    } else {
        raw_hcl(name, text)?
    };
    let rules = raw
        .into_iter()
        .map(|r| rule(name, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Policy {
        name: name.to_string(),
        namespace: namespace_prefix(namespace),
        rules,
    })
}

/// `team-a` or `team-a/` into `team-a/`; empty stays empty (root).
pub fn namespace_prefix(ns: &str) -> String {
    let ns = ns.trim_matches('/');
    if ns.is_empty() {
        String::new()
    } else {
        format!("{ns}/")
    }
}

fn syntax(name: &str, message: impl ToString) -> PolicyError {
    PolicyError::Syntax {
        name: name.to_string(),
        message: message.to_string(),
    }
}

fn raw_hcl(name: &str, text: &str) -> Result<Vec<RawRule>, PolicyError> {
    let body = hcl::parse(text).map_err(|e| syntax(name, e))?;
    let mut out = Vec::new();
    for block in body.blocks().filter(|b| b.identifier() == "path") {
        let [label] = block.labels() else {
            return Err(syntax(name, "a path stanza needs exactly one path"));
        };
        let mut r = RawRule {
            path: label.as_str().to_string(),
            capabilities: Vec::new(),
            legacy: None,
            expiration: None,
        };
        for attr in block.body().attributes() {
            match attr.key() {
                "capabilities" => r.capabilities = hcl_strings(name, &r.path, attr.expr())?,
                "policy" => r.legacy = hcl_string(attr.expr()),
                "expiration" => r.expiration = hcl_string(attr.expr()),
                _ => {}
            }
        }
        out.push(r);
    }
    Ok(out)
}

fn hcl_string(e: &hcl::Expression) -> Option<String> {
    match e {
        hcl::Expression::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn hcl_strings(name: &str, path: &str, e: &hcl::Expression) -> Result<Vec<String>, PolicyError> {
    let bad = || PolicyError::Rule {
        name: name.to_string(),
        path: path.to_string(),
        message: "capabilities must be a list of strings".to_string(),
    };
    match e {
        hcl::Expression::Array(items) => items
            .iter()
            .map(|i| hcl_string(i).ok_or_else(bad))
            .collect(),
        _ => Err(bad()),
    }
}

fn raw_json(name: &str, text: &str) -> Result<Vec<RawRule>, PolicyError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| syntax(name, e))?;
    let Some(paths) = v.get("path").and_then(|p| p.as_object()) else {
        return Ok(Vec::new());
    };
    let str_of =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_string);
    Ok(paths
        .iter()
        .map(|(path, body)| RawRule {
            path: path.clone(),
            capabilities: body
                .get("capabilities")
                .and_then(|c| c.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            legacy: str_of(body, "policy"),
            expiration: str_of(body, "expiration"),
        })
        .collect())
}

fn rule(name: &str, r: RawRule) -> Result<PathRule, PolicyError> {
    let err = |message: String| PolicyError::Rule {
        name: name.to_string(),
        path: r.path.clone(),
        message,
    };
    let path = r.path.strip_prefix('/').unwrap_or(&r.path).to_string();
    if path.contains("+*") {
        return Err(err("invalid use of wildcards ('+*' is forbidden)".into()));
    }
    let mut names: Vec<&str> = r.capabilities.iter().map(String::as_str).collect();
    // The pre-0.5 shorthand, mapped as Vault maps it.
    match r.legacy.as_deref() {
        None => {}
        Some("deny") => names = vec!["deny"],
        Some("read") => names.extend(["read", "list"]),
        Some("write") => names.extend(["create", "read", "update", "delete", "list"]),
        Some("sudo") => names.extend(["create", "read", "update", "delete", "list", "sudo"]),
        Some(other) => return Err(err(format!("invalid policy {other:?}"))),
    }
    let mut caps = Capabilities::NONE;
    for n in names {
        let c = Capability::from_name(n).ok_or_else(|| err(format!("invalid capability {n:?}")))?;
        if c == Capability::Deny {
            caps = Capabilities::deny();
            break;
        }
        caps = caps.with(c);
    }
    let expiration = match r.expiration.as_deref() {
        None | Some("") => None,
        Some(s) => {
            Some(Timestamp::parse(s).ok_or_else(|| err(format!("invalid expiration time {s:?}")))?)
        }
    };
    Ok(PathRule {
        path,
        caps,
        expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_stanzas_capabilities_and_legacy_policy() {
        let text = r#"
# KV v2 app secrets
path "kv/data/app/*" {
  capabilities = ["read", "list"]
}
path "/secret/old" {
  policy = "write"
}
path "kv/data/app/admin" { capabilities = ["deny", "read"] }
path "sys/mounts" {
  capabilities = ["sudo", "read"]
  expiration = "2030-01-01T00:00:00Z"
}
"#;
        let p = parse_policy("app", "team-a", text).unwrap();
        assert_eq!(p.namespace, "team-a/");
        assert_eq!(p.rules.len(), 4);
        assert_eq!(p.rules[0].caps.names(), ["list", "read"]);
        assert_eq!(p.rules[1].path, "secret/old");
        assert_eq!(
            p.rules[1].caps.names(),
            ["create", "delete", "list", "read", "update"]
        );
        assert!(p.rules[2].caps.is_deny());
        assert_eq!(p.rules[2].caps.names(), ["deny"]);
        assert!(p.rules[3].expiration.is_some());
    }

    #[test]
    fn json_form_and_templates() {
        let text = r#"{"path":{"kv/data/{{identity.entity.id}}/*":{"capabilities":["read"]}}}"#;
        let p = parse_policy("self", "", text).unwrap();
        assert!(p.rules[0].is_templated());
        assert_eq!(p.rules[0].caps.names(), ["read"]);
    }

    #[test]
    fn refuses_what_vault_refuses() {
        let bad_cap = parse_policy("x", "", r#"path "a" { capabilities = ["reed"] }"#);
        assert!(
            bad_cap
                .unwrap_err()
                .to_string()
                .contains("invalid capability \"reed\"")
        );
        let plus_star = parse_policy("x", "", r#"path "a/+*" { capabilities = ["read"] }"#);
        assert!(plus_star.is_err());
        let syntax = parse_policy("x", "", "path \"a\" { capabilities = [\"read\" }");
        assert!(matches!(syntax, Err(PolicyError::Syntax { .. })));
    }
}
