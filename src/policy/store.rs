//! Where policy text comes from: a directory of `NAME.hcl` files, or a live Vault/OpenBao server
//! read with GET requests only.
//!
//! Directory layout: `DIR/NAME.hcl` for the root namespace (what `vault policy read NAME >
//! DIR/NAME.hcl` writes), `DIR/<namespace path>/NAME.hcl` for a namespace
//! (`DIR/team-a/app.hcl`). A policy that is not there is *missing*: reported by name, never
//! guessed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::parse::{Policy, PolicyError, namespace_prefix, parse_policy};

/// Why policies could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A policy file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A policy did not parse.
    #[error("{origin}: {source}")]
    Parse {
        /// The file or URL.
        origin: String,
        /// The error.
        source: PolicyError,
    },
    /// The server refused to show a policy to this token.
    #[error(
        "{url}: permission denied: the token in VAULT_TOKEN lacks `read` on sys/policies/acl/{name}{ns}; grant it read there or export the policies with `vault policy read` and use --policies",
        ns = if namespace.is_empty() { String::new() } else { format!(" in namespace {namespace}") }
    )]
    Forbidden {
        /// The request.
        url: String,
        /// The policy.
        name: String,
        /// Its namespace.
        namespace: String,
    },
    /// Any other failure talking to the server.
    #[error("{url}: {message}")]
    Http {
        /// The request.
        url: String,
        /// What happened.
        message: String,
    },
    /// A namespace outside the one `VAULT_NAMESPACE` names.
    #[error("policy {name} lives in namespace {namespace:?}, outside VAULT_NAMESPACE={base:?}")]
    OutsideNamespace {
        /// The policy.
        name: String,
        /// Its namespace.
        namespace: String,
        /// `VAULT_NAMESPACE`.
        base: String,
    },
}

/// A live server to read policies from.
#[derive(Clone, Debug)]
pub struct VaultServer {
    /// `https://vault.example:8200`.
    pub addr: String,
    /// `VAULT_TOKEN` (never printed).
    pub token: String,
    /// `VAULT_NAMESPACE`, the token's namespace (`""` for root).
    pub namespace: String,
}

/// Where to read policies from.
#[derive(Clone, Debug)]
pub enum PolicySource {
    /// `--policies DIR`.
    Dir(PathBuf),
    /// `--vault-addr URL`.
    Server(VaultServer),
}

/// A policy's name in its namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyId {
    /// Namespace with a trailing slash (`""` for root).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// The policies that were asked for: found, or missing.
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    /// Found and parsed.
    pub found: BTreeMap<PolicyId, Policy>,
    /// Not in the directory (or 404 on the server).
    pub missing: Vec<PolicyId>,
}

impl PolicySet {
    /// A policy by namespace and name.
    pub fn get(&self, namespace: &str, name: &str) -> Option<&Policy> {
        self.found.get(&PolicyId {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }
}

impl PolicySource {
    /// Loads every policy in `wanted` (`root` needs no text and is never loaded).
    pub fn load(&self, wanted: &[PolicyId]) -> Result<PolicySet, StoreError> {
        let mut set = PolicySet::default();
        let agent = http_agent();
        for id in wanted {
            if id.name == "root" {
                set.found.insert(id.clone(), root_policy(&id.namespace));
                continue;
            }
            let text = match self {
                PolicySource::Dir(dir) => from_dir(dir, id)?,
                PolicySource::Server(s) => from_server(&agent, s, id)?,
            };
            match text {
                Some((origin, text)) => {
                    let p = parse_policy(&id.name, &id.namespace, &text)
                        .map_err(|source| StoreError::Parse { origin, source })?;
                    set.found.insert(id.clone(), p);
                }
                None => set.missing.push(id.clone()),
            }
        }
        Ok(set)
    }
}

fn root_policy(namespace: &str) -> Policy {
    Policy {
        name: "root".to_string(),
        namespace: namespace.to_string(),
        rules: Vec::new(),
    }
}

fn from_dir(dir: &Path, id: &PolicyId) -> Result<Option<(String, String)>, StoreError> {
    // Names come from the log: keep them to one path component.
    if id.name.contains(['/', '\\']) || id.name.starts_with('.') {
        return Ok(None);
    }
    let mut path = dir.to_path_buf();
    for seg in id.namespace.split('/').filter(|s| !s.is_empty()) {
        if seg == ".." || seg == "." {
            return Ok(None);
        }
        path.push(seg);
    }
    path.push(format!("{}.hcl", id.name));
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(Some((path.display().to_string(), t))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io { path, source }),
    }
}

fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn from_server(
    agent: &ureq::Agent,
    s: &VaultServer,
    id: &PolicyId,
) -> Result<Option<(String, String)>, StoreError> {
    let base = namespace_prefix(&s.namespace);
    if !id.namespace.starts_with(&base) {
        return Err(StoreError::OutsideNamespace {
            name: id.name.clone(),
            namespace: id.namespace.clone(),
            base: s.namespace.clone(),
        });
    }
    let url = format!(
        "{}/v1/sys/policies/acl/{}",
        s.addr.trim_end_matches('/'),
        percent_encode(&id.name)
    );
    let http = |message: String| StoreError::Http {
        url: url.clone(),
        message,
    };
    let mut req = agent.get(&url).header("X-Vault-Token", &s.token);
    let ns = id.namespace.trim_end_matches('/');
    if !ns.is_empty() {
        req = req.header("X-Vault-Namespace", ns);
    }
    let mut resp = req.call().map_err(|e| http(e.to_string()))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| http(e.to_string()))?;
    match status {
        200 => {}
        404 => return Ok(None),
        403 => {
            return Err(StoreError::Forbidden {
                url,
                name: id.name.clone(),
                namespace: ns.to_string(),
            });
        }
        other => return Err(http(format!("HTTP {other}"))),
    }
    let v: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| http(format!("not JSON: {e}")))?;
    let text = v
        .pointer("/data/policy")
        .and_then(|p| p.as_str())
        .ok_or_else(|| http("no data.policy in the answer".to_string()))?;
    Ok(Some((url.clone(), text.to_string())))
}

/// Policy names are path segments: escape everything but unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_layout_and_missing_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("app.hcl"),
            r#"path "kv/*" { capabilities = ["read"] }"#,
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("team-a")).unwrap();
        std::fs::write(
            dir.path().join("team-a/app.hcl"),
            r#"path "secret/*" { capabilities = ["list"] }"#,
        )
        .unwrap();
        let id = |ns: &str, n: &str| PolicyId {
            namespace: ns.to_string(),
            name: n.to_string(),
        };
        let set = PolicySource::Dir(dir.path().to_path_buf())
            .load(&[
                id("", "app"),
                id("team-a/", "app"),
                id("", "gone"),
                id("", "../app"),
            ])
            .unwrap();
        assert_eq!(set.get("", "app").unwrap().rules[0].path, "kv/*");
        assert_eq!(set.get("team-a/", "app").unwrap().namespace, "team-a/");
        assert_eq!(set.missing, [id("", "gone"), id("", "../app")]);
    }
}
