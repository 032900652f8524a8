//! Tenant layout inference: `tenants/<tenant>/...` without a `--tenant-pattern`.
//!
//! The default tenant is the first segment below the mount. In the common layout
//! `secret/data/tenants/<tenant>/...` that segment is the constant `tenants`, and a breach of
//! fourteen tenants would be reported as one. When no pattern is given, every secret whose tenant
//! came from that default segment leaves a [`SegmentSite`]; after all inputs are merged, the
//! sites of each mount are grouped by first segment, and a first segment is taken for a constant
//! above the tenant when, below it,
//!
//! * at least [`MIN_INFERRED_TENANTS`] distinct second segments are directories (have a path
//!   below them: `tenants/acme/db`, not `tenants/acme`), and
//! * there are more such directories than the mount has distinct first segments (in
//!   `<tenant>/<app>/<secret>` layouts the first segment is the tenant and varies as much).
//!
//! Secrets below such a constant get the second segment as their tenant. The inference reads only
//! the merged set of sites, never the order lines or threads came in, and each rule is reported as
//! the `--tenant-pattern` that gives the same tenants.

use std::collections::{BTreeMap, BTreeSet};

use crate::packed::Packed;

/// Distinct tenant directories below a constant before it counts as a tenant container.
pub const MIN_INFERRED_TENANTS: usize = 5;

/// Where a secret's default-segment tenant was read, kept for layout inference.
///
/// Kept once per distinct secret path, so its three names share one heap block ([`Packed`]);
/// state files hold it with a field per name, as before it was packed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(from = "SavedSite", into = "SavedSite")]
pub struct SegmentSite {
    /// The namespace-qualified mount, the first segment and the child, in that order.
    names: Packed<3>,
    actions: u8,
}

impl SegmentSite {
    /// A site below `mount` (namespace-qualified), after `actions` action words.
    pub fn new(mount: &str, actions: u8, first: &str, child: Option<&str>) -> SegmentSite {
        let site = SiteRef {
            mount,
            actions,
            first,
            child,
        };
        SegmentSite {
            names: Packed::new(SiteRef::names(Some(site))),
            actions,
        }
    }

    /// The site's names, borrowed.
    pub fn as_ref(&self) -> SiteRef<'_> {
        SiteRef::unpack(&self.names, 0, Some(self.actions)).expect("a site's actions are set")
    }
}

impl From<SiteRef<'_>> for SegmentSite {
    fn from(s: SiteRef<'_>) -> SegmentSite {
        SegmentSite::new(s.mount, s.actions, s.first, s.child)
    }
}

/// A [`SegmentSite`]'s names, borrowed from wherever a record keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SiteRef<'a> {
    /// The namespace-qualified mount: `secret/`, `acme/secret/`.
    pub mount: &'a str,
    /// Action words between the mount and the first segment (`data/` for KV v2: 1).
    pub actions: u8,
    /// The first segment below the mount and the actions: the default tenant.
    pub first: &'a str,
    /// The second segment when a path continues below it (`acme` in `tenants/acme/db`).
    pub child: Option<&'a str>,
}

impl<'a> SiteRef<'a> {
    /// The three names of `site` for a [`Packed`] record: mount, first segment, child.
    pub fn names(site: Option<SiteRef<'a>>) -> [Option<&'a str>; 3] {
        [
            site.map(|s| s.mount),
            site.map(|s| s.first),
            site.and_then(|s| s.child),
        ]
    }

    /// The site a record packed with [`SiteRef::names`] from index `at` on; `actions` is
    /// `None` when the record has no site.
    pub fn unpack<const N: usize>(
        names: &'a Packed<N>,
        at: usize,
        actions: Option<u8>,
    ) -> Option<SiteRef<'a>> {
        Some(SiteRef {
            actions: actions?,
            mount: names.str(at),
            first: names.str(at + 1),
            child: names.get(at + 2),
        })
    }
}

/// A [`SegmentSite`] as state files hold it.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedSite {
    mount: String,
    actions: u8,
    first: String,
    child: Option<String>,
}

impl From<SavedSite> for SegmentSite {
    fn from(s: SavedSite) -> SegmentSite {
        SegmentSite::new(&s.mount, s.actions, &s.first, s.child.as_deref())
    }
}

impl From<SegmentSite> for SavedSite {
    fn from(site: SegmentSite) -> SavedSite {
        let s = site.as_ref();
        SavedSite {
            mount: s.mount.to_string(),
            actions: s.actions,
            first: s.first.to_string(),
            child: s.child.map(str::to_string),
        }
    }
}

/// One inferred rule: below `constant` in `mount`, the next segment is the tenant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InferredTenantRule {
    /// The namespace-qualified mount.
    pub mount: String,
    /// Action words skipped after the mount.
    pub actions: u8,
    /// The constant segment above the tenants (`tenants`).
    pub constant: String,
    /// Distinct tenants found below it.
    pub tenants: usize,
    /// The `--tenant-pattern` that attributes the same secrets the same way.
    pub pattern: String,
}

/// The rules inferred from a log's paths (empty: the default segment stands).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantLayout {
    rules: Vec<InferredTenantRule>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct MountKey<'a> {
    mount: &'a str,
    actions: u8,
}

impl TenantLayout {
    /// Infers rules from every site of the log (any order; duplicates are harmless).
    pub fn infer<'a>(sites: impl IntoIterator<Item = SiteRef<'a>>) -> TenantLayout {
        // mount -> first segment -> distinct child directories
        let mut tree: BTreeMap<MountKey<'a>, BTreeMap<&'a str, BTreeSet<&'a str>>> =
            BTreeMap::new();
        for s in sites {
            let firsts = tree
                .entry(MountKey {
                    mount: s.mount,
                    actions: s.actions,
                })
                .or_default();
            let children = firsts.entry(s.first).or_default();
            if let Some(c) = s.child {
                children.insert(c);
            }
        }
        let mut rules = Vec::new();
        for (key, firsts) in &tree {
            for (constant, children) in firsts {
                if children.len() >= MIN_INFERRED_TENANTS && children.len() > firsts.len() {
                    rules.push(InferredTenantRule {
                        mount: key.mount.to_string(),
                        actions: key.actions,
                        constant: constant.to_string(),
                        tenants: children.len(),
                        pattern: pattern(key.mount, key.actions, constant),
                    });
                }
            }
        }
        TenantLayout { rules }
    }

    /// The tenant a rule gives the secret at `site`, if one applies.
    pub fn tenant_for<'s>(&self, site: SiteRef<'s>) -> Option<&'s str> {
        let child = site.child?;
        self.rules
            .iter()
            .any(|r| r.mount == site.mount && r.actions == site.actions && r.constant == site.first)
            .then_some(child)
    }

    /// The inferred rules, by mount then constant.
    pub fn rules(&self) -> &[InferredTenantRule] {
        &self.rules
    }

    /// The `--tenant-pattern`s that reproduce the inference.
    pub fn patterns(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.pattern.clone()).collect()
    }

    /// True when nothing was inferred.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// `^secret/[^/]+/tenants/(?P<tenant>[^/]+)/`: the mount, one `[^/]+/` per action word, the
/// constant, then the tenant directory. Matches the namespace-qualified path like any pattern.
fn pattern(mount: &str, actions: u8, constant: &str) -> String {
    let mut p = String::from("^");
    p.push_str(&regex::escape(mount));
    for _ in 0..actions {
        p.push_str("[^/]+/");
    }
    p.push_str(&regex::escape(constant));
    p.push_str("/(?P<tenant>[^/]+)/");
    p
}

#[cfg(test)]
#[path = "infer_tests.rs"]
mod tests;
