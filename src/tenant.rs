//! Which tenant a secret belongs to.
//!
//! With `--tenant-pattern` regexes, the first one whose named group `tenant` matches the
//! namespace-qualified path (`blue/kv/data/app` in namespace `blue/`) names the tenant. When no
//! pattern matches (or none is given), `--tenant-fallback` decides: `namespace` (default) takes
//! the namespace when it is not root, else the first path segment below the mount (below
//! `data/`/`metadata/` for KV v2, below `creds/`, `issue/` ... for engines that put an action
//! first); `segment` takes that segment even in a namespace; `none` leaves the secret without a
//! tenant. Secrets without a tenant are counted and listed by every report.

use std::collections::BTreeSet;

use regex::{Regex, RegexBuilder};

use crate::model::secret::{MountRef, SecretKind};

/// Largest compiled size accepted for a user regex (the regex crate's `size_limit`).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A tenant pattern that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The pattern does not compile (or exceeds the size limit).
    #[error("tenant pattern {pattern:?}: {source}")]
    Invalid {
        /// The pattern as given.
        pattern: String,
        /// The regex crate's error.
        #[source]
        source: regex::Error,
    },
    /// The pattern has no `(?P<tenant>...)` group.
    #[error("tenant pattern {0:?} has no named group `tenant`, e.g. ^kv/data/(?P<tenant>[^/]+)/")]
    NoTenantGroup(String),
}

/// What names a secret's tenant when no `--tenant-pattern` matches.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum TenantFallback {
    /// The namespace when it is not root, else the first segment below the mount.
    #[default]
    Namespace,
    /// The first segment below the mount (namespaces ignored).
    Segment,
    /// Nothing: the secret has no tenant (and is reported as unattributed).
    None,
}

/// Maps secret paths to tenants and drops excluded tenants.
#[derive(Clone, Debug, Default)]
pub struct TenantMap {
    patterns: Vec<Regex>,
    excluded: BTreeSet<String>,
    fallback: TenantFallback,
}

impl TenantMap {
    /// Compiles the patterns (each must have a `tenant` group) and records the exclusions.
    pub fn new(patterns: &[String], excluded: &[String]) -> Result<TenantMap, TenantError> {
        let mut compiled = Vec::with_capacity(patterns.len());
        for p in patterns {
            let re = RegexBuilder::new(p)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|source| TenantError::Invalid {
                    pattern: p.clone(),
                    source,
                })?;
            if !re.capture_names().any(|n| n == Some("tenant")) {
                return Err(TenantError::NoTenantGroup(p.clone()));
            }
            compiled.push(re);
        }
        Ok(TenantMap {
            patterns: compiled,
            excluded: excluded.iter().cloned().collect(),
            fallback: TenantFallback::default(),
        })
    }

    /// The same map with another fallback for paths no pattern matches.
    pub fn with_fallback(mut self, fallback: TenantFallback) -> TenantMap {
        self.fallback = fallback;
        self
    }

    /// True when `tenant` was excluded (test tenants and the like).
    pub fn is_excluded(&self, tenant: &str) -> bool {
        self.excluded.contains(tenant)
    }

    /// The tenant of a secret at `path` (namespace-relative) in namespace `ns` (e.g. `blue`).
    pub fn tenant_of(
        &self,
        ns: Option<&str>,
        path: &str,
        mount: &MountRef<'_>,
        kind: SecretKind,
    ) -> Option<String> {
        if !self.patterns.is_empty() {
            let qualified = match ns {
                Some(ns) => format!("{}/{}", ns.trim_end_matches('/'), path),
                None => path.to_string(),
            };
            let matched = self.patterns.iter().find_map(|re| {
                re.captures(&qualified)
                    .and_then(|c| c.name("tenant"))
                    .map(|m| m.as_str().to_string())
            });
            if matched.is_some() {
                return matched;
            }
        }
        match (self.fallback, ns) {
            (TenantFallback::None, _) => None,
            (TenantFallback::Namespace, Some(ns)) => Some(ns.trim_end_matches('/').to_string()),
            _ => default_segment(mount, kind).map(str::to_string),
        }
    }
}

/// The first segment below the mount, after the action word engines put first.
fn default_segment<'a>(m: &MountRef<'a>, kind: SecretKind) -> Option<&'a str> {
    let mut parts = m.rest.split('/').filter(|s| !s.is_empty());
    let skip_action = !matches!(
        kind,
        SecretKind::KvV1Read | SecretKind::KvV1List | SecretKind::Cubbyhole
    );
    if skip_action {
        parts.next();
    }
    if kind == SecretKind::TransitDatakey {
        parts.next(); // datakey/plaintext/<key>
    }
    if matches!(
        kind,
        SecretKind::GcpCreds | SecretKind::PkiIssue | SecretKind::PkiSign
    ) && m.rest.starts_with("issuer/")
    {
        // pki/issuer/<issuer>/issue/<role>: the issuer is infrastructure, the role names the user.
        return m.rest.rsplit('/').next();
    }
    if matches!(kind, SecretKind::Unwrap | SecretKind::RawStorage) {
        return None;
    }
    parts.next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::secret::Engine;

    fn mref(mount: &'static str, rest: &'static str) -> MountRef<'static> {
        MountRef {
            mount,
            rest,
            engine: Engine::Kv,
            inferred: false,
            source: crate::model::secret::MountSource::Log,
        }
    }

    #[test]
    fn default_tenant_is_the_segment_below_the_mount() {
        let t = TenantMap::default();
        let m = mref("kv/", "data/tenant-a/db");
        assert_eq!(
            t.tenant_of(None, "kv/data/tenant-a/db", &m, SecretKind::KvV2Read)
                .as_deref(),
            Some("tenant-a")
        );
        let m = mref("secret/", "tenant-b/api");
        assert_eq!(
            t.tenant_of(None, "secret/tenant-b/api", &m, SecretKind::KvV1Read)
                .as_deref(),
            Some("tenant-b")
        );
        let m = mref("database/", "creds/billing");
        assert_eq!(
            t.tenant_of(
                None,
                "database/creds/billing",
                &m,
                SecretKind::DatabaseCreds
            )
            .as_deref(),
            Some("billing")
        );
    }

    #[test]
    fn non_root_namespace_is_the_tenant() {
        let t = TenantMap::default();
        let m = mref("kv/", "data/app/config");
        assert_eq!(
            t.tenant_of(
                Some("blue/"),
                "kv/data/app/config",
                &m,
                SecretKind::KvV2Read
            )
            .as_deref(),
            Some("blue")
        );
    }

    #[test]
    fn patterns_match_the_namespace_qualified_path() {
        let t = TenantMap::new(&[r"^(?P<tenant>[^/]+)/kv/data/".into()], &[]).unwrap();
        let m = mref("kv/", "data/app/config");
        assert_eq!(
            t.tenant_of(
                Some("blue/"),
                "kv/data/app/config",
                &m,
                SecretKind::KvV2Read
            )
            .as_deref(),
            Some("blue")
        );
        // No pattern matches in root: the default segment.
        assert_eq!(
            t.tenant_of(None, "kv/data/app/config", &m, SecretKind::KvV2Read)
                .as_deref(),
            Some("app")
        );
        let none = TenantMap::new(&[r"^(?P<tenant>[^/]+)/kv/data/".into()], &[])
            .unwrap()
            .with_fallback(TenantFallback::None);
        assert_eq!(
            none.tenant_of(None, "kv/data/app/config", &m, SecretKind::KvV2Read),
            None
        );
    }

    #[test]
    fn namespaces_name_the_tenant_when_the_pattern_is_for_another_mount() {
        // A pattern for a KV v1 tenant mount must not leave namespaced secrets without tenant.
        let t = TenantMap::new(&[r"^tenants-v1/(?P<tenant>[^/]+)/".into()], &[]).unwrap();
        let m = mref("secret/", "data/db");
        let tenant =
            |t: &TenantMap| t.tenant_of(Some("acme/"), "secret/data/db", &m, SecretKind::KvV2Read);
        assert_eq!(tenant(&t).as_deref(), Some("acme"));
        let seg = t.clone().with_fallback(TenantFallback::Segment);
        assert_eq!(tenant(&seg).as_deref(), Some("db"));
        let v1 = mref("tenants-v1/", "globex/api");
        assert_eq!(
            t.tenant_of(None, "tenants-v1/globex/api", &v1, SecretKind::KvV1Read)
                .as_deref(),
            Some("globex")
        );
    }

    #[test]
    fn rejects_patterns_without_a_tenant_group_or_too_big() {
        assert!(matches!(
            TenantMap::new(&["^kv/".into()], &[]),
            Err(TenantError::NoTenantGroup(_))
        ));
        let huge = format!("(?P<tenant>{})", "a{1000}{1000}");
        assert!(matches!(
            TenantMap::new(&[huge], &[]),
            Err(TenantError::Invalid { .. })
        ));
    }
}
