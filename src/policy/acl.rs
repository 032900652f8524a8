//! A token's policies merged into one ACL, and the capabilities it has on a path.
//!
//! The rules are Vault's (`vault/acl.go` in Vault and OpenBao), as documented under "Policy
//! syntax": policy paths are qualified with their namespace, then
//! 1. an exact path wins over everything;
//! 2. otherwise the longest `*` prefix and every matching `+` path compete, and the most
//!    specific wins: the later first wildcard, then no trailing `*`, then fewer `+` segments,
//!    then the longer path, then the lexicographically greater one;
//! 3. stanzas for the same path in several policies are merged: capabilities add up, and `deny`
//!    in any of them leaves only `deny`.
//!
//! `sys/capabilities` asks as a `list` would, so a path with a trailing `/` also matches the
//! stanza without it.

use std::collections::BTreeMap;

use super::caps::{Capabilities, Capability};
use super::parse::Policy;
use super::template::{Filled, Identity, could_match, fill};
use crate::model::Timestamp;

/// Where a capability came from: one policy's stanza.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RuleRef {
    /// The policy's name.
    pub policy: String,
    /// The policy's namespace (`""` for root, `team-a/`).
    pub namespace: String,
    /// The stanza's path as written (templates filled).
    pub rule: String,
    /// The capabilities this stanza gives.
    #[serde(serialize_with = "ser_caps")]
    pub capabilities: Capabilities,
}

fn ser_caps<S: serde::Serializer>(c: &Capabilities, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(c.names())
}

#[derive(Clone, Debug, Default)]
struct Entry {
    caps: Capabilities,
    sources: Vec<RuleRef>,
}

impl Entry {
    fn merge(&mut self, r: RuleRef) {
        if self.caps.is_deny() {
            // Vault keeps nothing else once a path is denied.
        } else if r.capabilities.is_deny() {
            self.caps = Capabilities::deny();
            self.sources = vec![r];
        } else {
            self.caps = self.caps.union(r.capabilities);
            self.sources.push(r);
        }
    }
}

/// A templated stanza whose placeholders the log does not tell.
#[derive(Clone, Debug)]
pub struct Unresolved {
    /// The stanza.
    pub rule: RuleRef,
    /// The placeholders without a value.
    pub placeholders: Vec<String>,
    pattern: Option<regex::Regex>,
}

/// The merged ACL of one token.
#[derive(Clone, Debug, Default)]
pub struct Acl {
    /// The namespace of a `root` token (it can do anything there and below).
    root: Option<String>,
    exact: BTreeMap<String, Entry>,
    prefix: BTreeMap<String, Entry>,
    segment: BTreeMap<String, Entry>,
    unresolved: Vec<Unresolved>,
}

/// The answer for one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The capabilities (empty means denied).
    pub caps: Capabilities,
    /// True for a root token: every capability.
    pub root: bool,
    /// The stanza path that decided (namespace-qualified, `*` kept), if any.
    pub matched: Option<String>,
    /// The stanzas merged into it.
    pub sources: Vec<RuleRef>,
}

impl Decision {
    /// The names `sys/capabilities` answers with (`["root"]` for root tokens).
    pub fn names(&self) -> Vec<&'static str> {
        if self.root {
            vec!["root"]
        } else {
            self.caps.names()
        }
    }

    /// True when `c` is granted.
    pub fn grants(&self, c: Capability) -> bool {
        self.root || self.caps.grants(c)
    }

    /// The stanzas that grant `c`.
    pub fn granting(&self, c: Capability) -> Vec<&RuleRef> {
        if !self.grants(c) {
            return Vec::new();
        }
        self.sources
            .iter()
            .filter(|r| r.capabilities.has(c))
            .collect()
    }
}

/// A `+` (or `+` and `*`) path as the priority rules compare it.
struct Candidate<'a> {
    first_wildcard: usize,
    is_prefix: bool,
    wildcards: usize,
    path: &'a str,
    key: &'a str,
    entry: &'a Entry,
}

impl Candidate<'_> {
    /// Vault's priority, lowest first: see the module documentation.
    fn priority(&self) -> (usize, bool, std::cmp::Reverse<usize>, usize, &str) {
        (
            self.first_wildcard,
            !self.is_prefix,
            std::cmp::Reverse(self.wildcards),
            self.path.len(),
            self.path,
        )
    }
}

impl Acl {
    /// Merges `policies` for a token with identity `id`, as they stood at `at` (stanzas whose
    /// `expiration` is earlier are left out, as Vault leaves them out once expired).
    pub fn new(policies: &[&Policy], id: &Identity, at: Option<Timestamp>) -> Acl {
        let mut acl = Acl::default();
        for p in policies {
            if p.name == "root" {
                acl.root = Some(p.namespace.clone());
                continue;
            }
            for r in &p.rules {
                if r.expiration.zip(at).is_some_and(|(e, at)| e < at) {
                    continue;
                }
                let path = if r.is_templated() {
                    match fill(&r.path, id) {
                        Filled::Path(s) => s,
                        Filled::Skipped => continue,
                        Filled::Unresolved(placeholders) => {
                            let full = format!("{}{}", p.namespace, r.path);
                            acl.unresolved.push(Unresolved {
                                pattern: could_match(&full),
                                rule: rule_ref(p, &r.path, r.caps),
                                placeholders,
                            });
                            continue;
                        }
                    }
                } else {
                    r.path.clone()
                };
                acl.insert(p, path, r.caps);
            }
        }
        acl
    }

    fn insert(&mut self, p: &Policy, path: String, caps: Capabilities) {
        let full = format!("{}{}", p.namespace, path);
        let has_segments = full == "+" || full.contains("/+") || full.starts_with("+/");
        let source = rule_ref(p, &path, caps);
        let (tree, key) = match full.strip_suffix('*') {
            _ if has_segments => (&mut self.segment, full),
            Some(stem) => (&mut self.prefix, stem.to_string()),
            None => (&mut self.exact, full),
        };
        tree.entry(key).or_default().merge(source);
    }

    /// True when the token is a root token.
    pub fn is_root(&self) -> bool {
        self.root.is_some()
    }

    /// The capabilities on a namespace-qualified path, as `sys/capabilities` computes them.
    pub fn capabilities(&self, full_path: &str) -> Decision {
        let path = full_path.trim_start_matches('/');
        if let Some(ns) = &self.root {
            return Decision {
                caps: Capabilities::NONE,
                root: path.starts_with(ns.as_str()),
                matched: None,
                sources: Vec::new(),
            };
        }
        let trimmed = path.strip_suffix('/');
        let found = self
            .exact
            .get_key_value(path)
            .or_else(|| trimmed.and_then(|t| self.exact.get_key_value(t)))
            .map(|(k, e)| (k.clone(), e))
            .or_else(|| self.non_exact(path))
            .or_else(|| trimmed.and_then(|t| self.non_exact(t)));
        match found {
            Some((matched, e)) => Decision {
                caps: e.caps,
                root: false,
                matched: Some(matched),
                sources: e.sources.clone(),
            },
            None => Decision {
                caps: Capabilities::NONE,
                root: false,
                matched: None,
                sources: Vec::new(),
            },
        }
    }

    /// Templated stanzas the log cannot fill that could cover `full_path`.
    pub fn unresolved_for(&self, full_path: &str) -> Vec<&Unresolved> {
        self.unresolved
            .iter()
            .filter(|u| u.pattern.as_ref().is_none_or(|re| re.is_match(full_path)))
            .collect()
    }

    /// The longest `*` prefix and the `+` paths, most specific first.
    fn non_exact(&self, path: &str) -> Option<(String, &Entry)> {
        let longest = self
            .prefix
            .iter()
            .filter(|(k, _)| path.starts_with(k.as_str()))
            .max_by_key(|(k, _)| k.len());
        let mut best: Option<Candidate<'_>> = longest.map(|(k, e)| Candidate {
            first_wildcard: k.len(),
            is_prefix: true,
            wildcards: 0,
            path: k,
            key: k,
            entry: e,
        });
        let parts: Vec<&str> = path.split('/').collect();
        for (key, entry) in &self.segment {
            let Some(c) = segment_match(key, entry, &parts) else {
                continue;
            };
            if best.as_ref().is_none_or(|b| c.priority() > b.priority()) {
                best = Some(c);
            }
        }
        best.map(|b| {
            let shown = if b.is_prefix && !b.key.ends_with('*') {
                format!("{}*", b.key)
            } else {
                b.key.to_string()
            };
            (shown, b.entry)
        })
    }
}

fn rule_ref(p: &Policy, path: &str, caps: Capabilities) -> RuleRef {
    RuleRef {
        policy: p.name.clone(),
        namespace: p.namespace.clone(),
        rule: path.to_string(),
        capabilities: caps,
    }
}

/// Matches a `+` path against the request's segments.
fn segment_match<'a>(key: &'a str, entry: &'a Entry, parts: &[&str]) -> Option<Candidate<'a>> {
    let (stem, is_prefix) = match key.strip_suffix('*') {
        Some(s) => (s, true),
        None => (key, false),
    };
    let acl_parts: Vec<&str> = stem.split('/').collect();
    if parts.len() < acl_parts.len() || (!is_prefix && parts.len() != acl_parts.len()) {
        return None;
    }
    let mut wildcards = 0;
    let last = acl_parts.len() - 1;
    for (i, a) in acl_parts.iter().enumerate() {
        if *a == "+" {
            wildcards += 1;
        } else if *a != parts[i] && !(is_prefix && i == last && parts[i].starts_with(a)) {
            return None;
        }
    }
    Some(Candidate {
        first_wildcard: key.find('+').unwrap_or(key.len()),
        is_prefix,
        wildcards,
        path: stem,
        key,
        entry,
    })
}
