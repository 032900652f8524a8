//! Policy-aware reach: every secret of the catalogue the blast radius's tokens could read by
//! their policies, not only those the log shows them reading.
//!
//! Each token brings the policies the log gives it (`auth.policies`: its token policies and the
//! identity policies of its namespace) in the namespace it was issued in. Their text comes from
//! `--policies DIR` or `--vault-addr`; a policy that is not there is reported by name and adds
//! nothing (the reach is then a lower bound for the tokens that hold it).

use std::collections::{BTreeMap, BTreeSet};

use super::catalogue::{self, CatalogueEntry, CatalogueSource, InventoryError, SecretPlace};
use super::command::Refusal;
use super::rotation::{Action, Exposure, RotationRules, RotationTarget};
use super::runbook::secret_command;
use super::scope::{BlastRadius, ReadOutcome, SecretReadRecord, TokenRecord};
use crate::lineage::LineageState;
use crate::model::secret::{MountSource, SecretKind};
use crate::policy::{
    Acl, Capabilities, Capability, Identity, Policy, PolicyId, PolicySet, PolicySource, StoreError,
    namespace_prefix,
};
use crate::redact;
use crate::tenant::TenantMap;

/// What `--policies`/`--vault-addr` and `--inventory` gave.
#[derive(Clone, Debug)]
pub struct ReachOptions {
    /// Where policy text comes from.
    pub source: PolicySource,
    /// Extra catalogue paths (`--inventory`).
    pub inventory: Vec<String>,
}

/// Why reach could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    /// Policies could not be loaded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The inventory could not be read.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// `--vault-addr` without a token.
    #[error("--vault-addr needs a token in VAULT_TOKEN (one with read on sys/policies/acl/*)")]
    NoToken,
    /// `--inventory` alone: without policies nothing tells what the tokens could read.
    #[error("--inventory needs --policies DIR or --vault-addr URL")]
    InventoryWithoutPolicies,
}

/// Where the options say policies come from, if anywhere: `--policies`, or `--vault-addr` with
/// `VAULT_TOKEN` and `VAULT_NAMESPACE` read through `env`.
pub fn options(
    policies: Option<&std::path::Path>,
    vault_addr: Option<&str>,
    inventory: Option<&std::path::Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ReachOptions>, ReachError> {
    let source = match (policies, vault_addr) {
        (Some(dir), _) => PolicySource::Dir(dir.to_path_buf()),
        (None, Some(addr)) => PolicySource::Server(crate::policy::VaultServer {
            addr: addr.to_string(),
            token: env("VAULT_TOKEN")
                .filter(|t| !t.is_empty())
                .ok_or(ReachError::NoToken)?,
            namespace: env("VAULT_NAMESPACE").unwrap_or_default(),
        }),
        (None, None) if inventory.is_some() => return Err(ReachError::InventoryWithoutPolicies),
        (None, None) => return Ok(None),
    };
    let inventory = match inventory {
        Some(p) => catalogue::read_inventory(p)?,
        None => Vec::new(),
    };
    Ok(Some(ReachOptions { source, inventory }))
}

/// A stanza that grants what the secret needs, and the token it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    /// The token's accessor.
    pub token: String,
    /// The policy's name (`root` for a root token).
    pub policy: String,
    /// The policy's namespace (`""` for root).
    pub namespace: String,
    /// The stanza's path as written (templates filled; `*` for a root token).
    pub rule: String,
    /// Whether the token holds the policy itself or through its entity and groups; `None` when
    /// the log gives only the union `policies`.
    pub via: Option<PolicyVia>,
}

/// How a token holds a policy (the `token_policies`/`identity_policies` split of the response
/// that issued it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyVia {
    /// In `token_policies` only.
    TokenPolicies,
    /// In `identity_policies` only: revoking the token does not stop the entity's other tokens.
    IdentityPolicies,
    /// In both.
    Both,
}

impl PolicyVia {
    /// How `t` holds `policy`, when its issuing response split the list.
    fn of(t: &TokenRecord, policy: &str) -> Option<PolicyVia> {
        let own = t.token_policies.iter().any(|p| p == policy);
        let identity = t.identity_policies.iter().any(|p| p == policy);
        match (own, identity) {
            (true, true) => Some(PolicyVia::Both),
            (true, false) => Some(PolicyVia::TokenPolicies),
            (false, true) => Some(PolicyVia::IdentityPolicies),
            (false, false) => None,
        }
    }
}

/// One token's capabilities on a secret.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenReach {
    /// The accessor.
    pub accessor: String,
    /// What `sys/capabilities` would answer for this token.
    pub capabilities: Vec<&'static str>,
}

/// A templated stanza the log cannot fill that could cover the secret.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UnresolvedGrant {
    /// The token.
    pub token: String,
    /// The policy.
    pub policy: String,
    /// Its namespace.
    pub namespace: String,
    /// The stanza as written.
    pub rule: String,
    /// The placeholders the log does not tell (`identity.entity.name`).
    pub placeholders: Vec<String>,
}

/// A catalogue secret the blast radius's tokens hold a capability on.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReachableSecret {
    /// Where it is (redacted like every path from the log).
    #[serde(flatten)]
    pub place: SecretPlace,
    /// The union of the tokens' capabilities, as `sys/capabilities` names them.
    pub capabilities: Vec<&'static str>,
    /// The capability that returns the secret (`read`; `update` for transit, PKI issue, SSH).
    pub needs: &'static str,
    /// True when a token holds `needs`: the secret could have been taken.
    pub readable: bool,
    /// The stanzas that grant `needs`.
    pub granted_by: Vec<Grant>,
    /// True when the blast radius read it in the window (it is in `secrets_read`).
    pub read_in_window: bool,
    /// Where the catalogue found the path.
    pub catalogued_from: CatalogueSource,
    /// Each token's capabilities, for tokens with any.
    pub tokens: Vec<TokenReach>,
    /// Templated stanzas that could grant more (unknown placeholders).
    pub unresolved: Vec<UnresolvedGrant>,
}

/// A policy a token holds whose text was not found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MissingPolicy {
    /// Its namespace, none for root.
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// The tokens holding it.
    pub tokens: Vec<String>,
}

/// What the policy analysis could and could not see.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PolicyCoverage {
    /// `directory` or `server`.
    pub source: &'static str,
    /// The directory or the server's address.
    pub location: String,
    /// Policies loaded (`name`, `team-a/name`).
    pub loaded: Vec<String>,
    /// Policies the tokens hold that are not in the directory or on the server.
    pub missing_policies: Vec<MissingPolicy>,
    /// Tokens the log gives no policies for (created before the log starts, never used).
    pub tokens_without_policies: Vec<String>,
    /// Tokens with policies whose creation is not in the log: the namespace their policies are
    /// read from is assumed to be the root namespace (a token made in `team-a` whose creation
    /// predates the log would be checked against the root namespace's policies of those names).
    pub namespace_assumed_root: Vec<String>,
    /// Catalogue size: paths from the log, from the inventory only.
    pub catalogue_from_log: usize,
    /// Paths only the inventory named.
    pub catalogue_from_inventory: usize,
}

/// Reach of the blast radius.
#[derive(Clone, Debug)]
pub struct Reach {
    /// Secrets with any capability, by path.
    pub secrets: Vec<ReachableSecret>,
    /// Tenants whose secrets could be read but none was (excluded tenants removed).
    pub reachable_tenants: Vec<String>,
    /// Coverage.
    pub coverage: PolicyCoverage,
}

/// A token with its merged ACL.
struct TokenAcl<'a> {
    token: &'a TokenRecord,
    acl: Acl,
}

/// The policies a token holds, in its namespace.
fn policy_ids(t: &TokenRecord) -> Vec<PolicyId> {
    let ns = namespace_prefix(t.namespace.as_deref().unwrap_or(""));
    t.policies
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| PolicyId {
            namespace: ns.clone(),
            name: p.clone(),
        })
        .collect()
}

/// Computes the reach of `scope`'s tokens over the catalogue.
pub fn assess(
    st: &LineageState,
    scope: &BlastRadius,
    tenants: &TenantMap,
    opts: &ReachOptions,
) -> Result<Reach, ReachError> {
    let mut wanted: BTreeSet<PolicyId> = BTreeSet::new();
    for t in &scope.tokens {
        wanted.extend(policy_ids(t));
    }
    let wanted: Vec<PolicyId> = wanted.into_iter().collect();
    let set = opts.source.load(&wanted)?;
    let at = scope.exposure_window.map(|w| w.start);
    let acls: Vec<TokenAcl<'_>> = scope
        .tokens
        .iter()
        .map(|t| {
            let policies: Vec<&Policy> = policy_ids(t)
                .iter()
                .filter_map(|id| set.get(&id.namespace, &id.name))
                .collect();
            let id = Identity {
                entity_id: t.entity_id.clone(),
                ..Identity::default()
            };
            TokenAcl {
                token: t,
                acl: Acl::new(&policies, &id, at),
            }
        })
        .collect();
    let namespaces: Vec<String> = set.found.keys().map(|k| k.namespace.clone()).collect();
    let entries = catalogue::build(
        st,
        tenants,
        &scope.tenant_layout,
        &opts.inventory,
        &namespaces,
    );
    let read: BTreeSet<&str> = scope.secrets_read.iter().map(|s| s.path.as_str()).collect();
    let secrets: Vec<ReachableSecret> = entries
        .iter()
        .filter_map(|e| reach_of(e, &acls, &read))
        .collect();
    let read_tenants: BTreeSet<&str> = scope.affected_tenants.iter().map(String::as_str).collect();
    let reachable_tenants: BTreeSet<String> = secrets
        .iter()
        .filter(|s| s.readable && !s.read_in_window)
        .filter_map(|s| s.place.tenant.clone())
        .filter(|t| !read_tenants.contains(t.as_str()) && !tenants.is_excluded(t))
        .collect();
    Ok(Reach {
        coverage: coverage(opts, &set, scope, &entries),
        secrets,
        reachable_tenants: reachable_tenants.into_iter().collect(),
    })
}

/// The capability whose grant returns the secret: most engines answer reads, transit, PKI
/// issuing and SSH answer writes (Vault checks `update` on a POST).
pub fn needed(kind: Option<SecretKind>) -> Capability {
    match kind {
        Some(
            SecretKind::TransitDecrypt
            | SecretKind::TransitDatakey
            | SecretKind::PkiIssue
            | SecretKind::PkiSign
            | SecretKind::SshCreds
            | SecretKind::SshSign
            | SecretKind::Unwrap,
        ) => Capability::Update,
        _ => Capability::Read,
    }
}

fn reach_of(
    e: &CatalogueEntry,
    acls: &[TokenAcl<'_>],
    read: &BTreeSet<&str>,
) -> Option<ReachableSecret> {
    let need = needed(e.place.kind);
    let mut union = Capabilities::NONE;
    let mut root = false;
    let mut tokens = Vec::new();
    let mut granted_by = Vec::new();
    let mut unresolved = Vec::new();
    for ta in acls {
        let accessor = &ta.token.accessor;
        let d = ta.acl.capabilities(&e.place.path);
        for u in ta.acl.unresolved_for(&e.place.path) {
            unresolved.push(UnresolvedGrant {
                token: accessor.clone(),
                policy: u.rule.policy.clone(),
                namespace: u.rule.namespace.clone(),
                rule: u.rule.rule.clone(),
                placeholders: u.placeholders.clone(),
            });
        }
        if !d.root && (d.caps.is_deny() || d.caps == Capabilities::NONE) {
            continue;
        }
        root |= d.root;
        union = union.union(d.caps);
        if d.root {
            granted_by.push(Grant {
                token: accessor.clone(),
                policy: "root".into(),
                namespace: ta.acl_root_namespace(),
                rule: "*".into(),
                via: PolicyVia::of(ta.token, "root"),
            });
        }
        granted_by.extend(d.granting(need).into_iter().map(|r| Grant {
            token: accessor.clone(),
            policy: r.policy.clone(),
            namespace: r.namespace.clone(),
            rule: r.rule.clone(),
            via: PolicyVia::of(ta.token, &r.policy),
        }));
        tokens.push(TokenReach {
            accessor: accessor.clone(),
            capabilities: d.names(),
        });
    }
    if tokens.is_empty() && unresolved.is_empty() {
        return None;
    }
    let place = e.place.redacted();
    Some(ReachableSecret {
        read_in_window: read.contains(place.path.as_str()),
        place,
        capabilities: if root {
            vec!["root"]
        } else if tokens.is_empty() {
            vec!["deny"]
        } else {
            union.names()
        },
        needs: need.name(),
        readable: root || union.grants(need),
        granted_by,
        catalogued_from: e.source,
        tokens,
        unresolved,
    })
}

impl TokenAcl<'_> {
    fn acl_root_namespace(&self) -> String {
        namespace_prefix(self.token.namespace.as_deref().unwrap_or(""))
    }
}

fn coverage(
    opts: &ReachOptions,
    set: &PolicySet,
    scope: &BlastRadius,
    entries: &[CatalogueEntry],
) -> PolicyCoverage {
    let (source, location) = match &opts.source {
        PolicySource::Dir(d) => ("directory", d.display().to_string()),
        PolicySource::Server(s) => ("server", s.addr.clone()),
    };
    let mut missing: BTreeMap<&PolicyId, Vec<String>> = BTreeMap::new();
    for id in &set.missing {
        missing.entry(id).or_default();
    }
    for t in &scope.tokens {
        for id in policy_ids(t) {
            if let Some(v) = missing.get_mut(&id) {
                v.push(t.accessor.clone());
            }
        }
    }
    let ns_name = |ns: &str| {
        let ns = ns.trim_end_matches('/');
        (!ns.is_empty()).then(|| redact::path(ns).into_owned())
    };
    PolicyCoverage {
        source,
        location: redact::path(&location).into_owned(),
        loaded: set
            .found
            .keys()
            .map(|k| redact::path(&format!("{}{}", k.namespace, k.name)).into_owned())
            .collect(),
        missing_policies: missing
            .into_iter()
            .map(|(id, tokens)| MissingPolicy {
                namespace: ns_name(&id.namespace),
                name: redact::path(&id.name).into_owned(),
                tokens,
            })
            .collect(),
        tokens_without_policies: scope
            .tokens
            .iter()
            .filter(|t| t.policies.iter().all(String::is_empty))
            .map(|t| t.accessor.clone())
            .collect(),
        namespace_assumed_root: scope
            .tokens
            .iter()
            .filter(|t| t.created_via.is_none() && t.policies.iter().any(|p| !p.is_empty()))
            .map(|t| t.accessor.clone())
            .collect(),
        catalogue_from_log: entries
            .iter()
            .filter(|e| e.source != CatalogueSource::Inventory)
            .count(),
        catalogue_from_inventory: entries
            .iter()
            .filter(|e| e.source == CatalogueSource::Inventory)
            .count(),
    }
}

/// Appends the secrets that could be read but were not, after every target the log shows,
/// in tier order then by path: rotating them is a precaution for what the log cannot see (another
/// device, a gap, a window before the log starts).
pub fn add_precautionary(targets: &mut Vec<RotationTarget>, reach: &Reach, rules: &RotationRules) {
    let mut extra: Vec<RotationTarget> = reach
        .secrets
        .iter()
        .filter(|s| s.readable && !s.read_in_window)
        .filter(|s| !s.place.kind.is_some_and(SecretKind::is_listing))
        .filter(|s| !targets.iter().any(|t| t.target == s.place.secret))
        .map(|s| precautionary(s, rules))
        .collect();
    extra.sort_by(|a, b| (a.tier, &a.target).cmp(&(b.tier, &b.target)));
    extra.dedup_by(|a, b| a.target == b.target);
    let start = targets.len();
    for (i, mut t) in extra.into_iter().enumerate() {
        t.order = start + i + 1;
        targets.push(t);
    }
}

fn precautionary(s: &ReachableSecret, rules: &RotationRules) -> RotationTarget {
    let (tier, why) = rules.tier_of(&s.place.path, s.place.kind);
    // One stanza per policy, whichever tokens hold it.
    let grants: BTreeSet<String> = s
        .granted_by
        .iter()
        .map(|g| format!("{}{} ({})", g.namespace, g.policy, g.rule))
        .collect();
    let grants: Vec<String> = grants.into_iter().collect();
    let reason = format!(
        "precautionary: readable by policy {}, not read in the log ({why})",
        grants.join(", ")
    );
    let command = match s.place.kind {
        Some(kind) => secret_command(kind, &as_read_record(s)),
        None => Err(Refusal::UnknownEngine),
    };
    let (command, reason) = match command {
        Ok(c) => (c, reason),
        Err(why) => (String::new(), format!("{reason}; no command: {why}")),
    };
    RotationTarget {
        order: 0,
        tier,
        kind: s
            .place
            .kind
            .map_or("secret", SecretKind::as_str)
            .to_string(),
        target: s.place.secret.clone(),
        action: Action::RotateSecret,
        command,
        reason,
        tenant: s.place.tenant.clone(),
        first_exposure: None,
        exposure: Exposure::Reachable,
    }
}

/// The runbook builds commands from a read record; a reachable secret has the same place.
fn as_read_record(s: &ReachableSecret) -> SecretReadRecord {
    SecretReadRecord {
        path: s.place.path.clone(),
        secret: s.place.secret.clone(),
        namespace: s.place.namespace.clone(),
        mount: s.place.mount.clone(),
        mount_source: MountSource::Log,
        kind: s.place.kind,
        tenant: s.place.tenant.clone(),
        tenant_excluded: false,
        outcome: ReadOutcome::Read,
        reads: 0,
        unanswered: 0,
        first_read: None,
        last_read: None,
        tokens: Vec::new(),
        from_pivot_ip: false,
        wrapped_reads: 0,
        evidence: crate::model::Location {
            file: "".into(),
            line: 0,
            offset: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_need_a_source_and_a_token() {
        let none = |_: &str| None;
        assert!(options(None, None, None, &none).unwrap().is_none());
        let inv = std::path::Path::new("inventory.txt");
        assert!(matches!(
            options(None, None, Some(inv), &none),
            Err(ReachError::InventoryWithoutPolicies)
        ));
        assert!(matches!(
            options(None, Some("http://127.0.0.1:8200"), None, &none),
            Err(ReachError::NoToken)
        ));
        let env = |k: &str| match k {
            "VAULT_TOKEN" => Some("s.x".to_string()),
            "VAULT_NAMESPACE" => Some("team-a".to_string()),
            _ => None,
        };
        let Some(ReachOptions {
            source: PolicySource::Server(s),
            ..
        }) = options(None, Some("http://h:8200"), None, &env).unwrap()
        else {
            panic!("server source");
        };
        assert_eq!((s.token.as_str(), s.namespace.as_str()), ("s.x", "team-a"));
    }

    #[test]
    fn writes_return_transit_pki_and_ssh_secrets() {
        assert_eq!(needed(Some(SecretKind::KvV2Read)), Capability::Read);
        assert_eq!(needed(Some(SecretKind::TransitDecrypt)), Capability::Update);
        assert_eq!(needed(Some(SecretKind::PkiIssue)), Capability::Update);
        assert_eq!(needed(None), Capability::Read);
    }
}
