//! Which tenant a secret belongs to.
//!
//! With `--tenant-pattern` regexes, the first one whose named group `tenant` matches the
//! namespace-qualified path (`blue/kv/data/app` in namespace `blue/`) names the tenant. Without
//! patterns, the tenant is the namespace when it is not root, else the first path segment below
//! the mount (below `data/`/`metadata/` for KV v2, below `creds/`, `issue/` ... for engines that
//! put an action first).

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

/// Maps secret paths to tenants and drops excluded tenants.
#[derive(Clone, Debug, Default)]
pub struct TenantMap {
    patterns: Vec<Regex>,
    excluded: BTreeSet<String>,
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
        })
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
            return self.patterns.iter().find_map(|re| {
                re.captures(&qualified)
                    .and_then(|c| c.name("tenant"))
                    .map(|m| m.as_str().to_string())
            });
        }
        if let Some(ns) = ns {
            return Some(ns.trim_end_matches('/').to_string());
        }
        default_segment(mount, kind).map(str::to_string)
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
        assert_eq!(
            t.tenant_of(None, "kv/data/app/config", &m, SecretKind::KvV2Read),
            None
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
