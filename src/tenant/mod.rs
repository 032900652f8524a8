//! Which tenant a secret belongs to.
//!
//! With `--tenant-pattern` regexes, the first one whose named group `tenant` matches the
//! namespace-qualified path (`blue/kv/data/app` in namespace `blue/`) names the tenant. When no
//! pattern matches (or none is given), `--tenant-fallback` decides: `namespace` (default) takes
//! the namespace when it is not root, else the first path segment below the mount (below
//! `data/`/`metadata/` for KV v2, below `creds/`, `issue/` ... for engines that put an action
//! first); `segment` takes that segment even in a namespace; `none` leaves the secret without a
//! tenant. Secrets without a tenant are counted and listed by every report.

use crate::model::secret::is_slash;
use std::collections::BTreeSet;

use regex::{Regex, RegexBuilder};

use crate::model::secret::{MountRef, SecretKind};

mod infer;

pub use infer::{InferredTenantRule, MIN_INFERRED_TENANTS, SegmentSite, SiteRef, TenantLayout};

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

/// Whether the tenant layout is inferred when no pattern is given (see [`TenantLayout`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TenantInference {
    /// Infer `tenants/<tenant>/` layouts per mount.
    #[default]
    Infer,
    /// Keep the default segment (`--no-tenant-inference`).
    Off,
}

/// A secret's tenant and, when it is the default segment, where that segment was read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attribution {
    /// The tenant before layout inference.
    pub tenant: Option<String>,
    /// Set when the tenant is the default segment and inference is on.
    pub site: Option<SegmentSite>,
}

impl Attribution {
    /// The site, borrowed, for a record that packs its names.
    pub fn site_ref(&self) -> Option<SiteRef<'_>> {
        self.site.as_ref().map(SegmentSite::as_ref)
    }
}

/// Maps secret paths to tenants and drops excluded tenants.
#[derive(Clone, Debug, Default)]
pub struct TenantMap {
    patterns: Vec<Regex>,
    excluded: BTreeSet<String>,
    fallback: TenantFallback,
    inference: TenantInference,
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
            inference: TenantInference::default(),
        })
    }

    /// The same map with another fallback for paths no pattern matches.
    pub fn with_fallback(mut self, fallback: TenantFallback) -> TenantMap {
        self.fallback = fallback;
        self
    }

    /// The same map with layout inference on or off.
    pub fn with_inference(mut self, inference: TenantInference) -> TenantMap {
        self.inference = inference;
        self
    }

    /// True when default-segment tenants are subject to layout inference: inference is on and
    /// no pattern was given (a pattern says the user knows the layout).
    pub fn infers_layout(&self) -> bool {
        self.inference == TenantInference::Infer && self.patterns.is_empty()
    }

    /// The tenant a layout rule gives the secret at `site`, else its own `tenant`.
    pub fn resolve(
        &self,
        tenant: Option<&str>,
        site: Option<SiteRef<'_>>,
        layout: &TenantLayout,
    ) -> Option<String> {
        site.and_then(|s| layout.tenant_for(s))
            .or(tenant)
            .map(str::to_string)
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
        self.attribute(ns, path, mount, kind).tenant
    }

    /// The tenant of a secret like [`TenantMap::tenant_of`], with the site inference needs.
    pub fn attribute(
        &self,
        ns: Option<&str>,
        path: &str,
        mount: &MountRef<'_>,
        kind: SecretKind,
    ) -> Attribution {
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
                return Attribution {
                    tenant: matched,
                    site: None,
                };
            }
        }
        match (self.fallback, ns) {
            (TenantFallback::None, _) => Attribution::default(),
            (TenantFallback::Namespace, Some(ns)) => Attribution {
                tenant: Some(ns.trim_end_matches('/').to_string()),
                site: None,
            },
            _ => match default_segment(mount, kind) {
                None => Attribution::default(),
                Some(seg) => Attribution {
                    tenant: Some(seg.first.to_string()),
                    site: seg
                        .layout
                        .filter(|_| self.infers_layout())
                        .map(|l| match ns {
                            Some(ns) => SegmentSite::new(
                                &format!("{}/{}", ns.trim_end_matches('/'), mount.mount),
                                l.actions,
                                seg.first,
                                l.child_dir,
                            ),
                            None => {
                                SegmentSite::new(mount.mount, l.actions, seg.first, l.child_dir)
                            }
                        }),
                },
            },
        }
    }
}

/// The default segment and, for plain `<mount>/<actions>/<first>/<child>/...` paths, what layout
/// inference needs.
struct DefaultSegment<'a> {
    first: &'a str,
    layout: Option<SegmentLayout<'a>>,
}

struct SegmentLayout<'a> {
    actions: u8,
    /// The segment after `first` when the path goes on below it.
    child_dir: Option<&'a str>,
}

/// The first segment below the mount, after the action word engines put first.
fn default_segment<'a>(m: &MountRef<'a>, kind: SecretKind) -> Option<DefaultSegment<'a>> {
    if matches!(kind, SecretKind::Unwrap | SecretKind::RawStorage) {
        return None;
    }
    if matches!(
        kind,
        SecretKind::GcpCreds | SecretKind::PkiIssue | SecretKind::PkiSign
    ) && m.rest.starts_with("issuer/")
    {
        // pki/issuer/<issuer>/issue/<role>: the issuer is infrastructure, the role names the user.
        return m.rest.rsplit(is_slash).next().map(|first| DefaultSegment {
            first,
            layout: None,
        });
    }
    let mut parts = m.rest.split(is_slash).filter(|s| !s.is_empty());
    let mut actions = 0u8;
    if !matches!(
        kind,
        SecretKind::KvV1Read | SecretKind::KvV1List | SecretKind::Cubbyhole
    ) {
        parts.next();
        actions += 1;
    }
    if kind == SecretKind::TransitDatakey {
        parts.next(); // datakey/plaintext/<key>
        actions += 1;
    }
    let first = parts.next()?;
    let child = parts.next();
    // `tenants/acme/db` and the listing `tenants/acme/` put a directory below `first`.
    let is_dir = parts.next().is_some() || m.rest.ends_with('/');
    Some(DefaultSegment {
        first,
        layout: Some(SegmentLayout {
            actions,
            child_dir: child.filter(|_| is_dir),
        }),
    })
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
