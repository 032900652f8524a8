//! The catalogue of secrets a policy-aware blast radius checks: every secret path the log shows
//! (read, requested, denied, or written, patched or deleted on a KV mount, by any token), plus
//! the paths of an inventory file.
//!
//! Paths are the API paths the server checks (`kv/data/app/db`, not `kv/app/db`), qualified with
//! their namespace (`team-a/kv/data/app/db`), as `sys/capabilities` takes them from the root
//! namespace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::lineage::{LineageState, PathInfo};
use crate::model::secret::{Engine, MountRef, MountSource, SecretKind};
use crate::tenant::{TenantLayout, TenantMap};

/// Where a catalogue path came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CatalogueSource {
    /// A request in the log.
    Log,
    /// `--inventory` only.
    Inventory,
    /// Both.
    LogAndInventory,
}

/// Where a secret lives and whose it is: what the catalogue knows of a path, and what a
/// reachable secret repeats of it in the report (there redacted, see [`SecretPlace::redacted`]).
#[derive(Clone, Debug, serde::Serialize)]
pub struct SecretPlace {
    /// The API path, namespace-qualified.
    pub path: String,
    /// The secret as responders name it.
    pub secret: String,
    /// The namespace without its slash, none for root.
    pub namespace: Option<String>,
    /// The mount without the namespace, with its trailing slash.
    pub mount: String,
    /// The kind of access a read would be, when known.
    pub kind: Option<SecretKind>,
    /// The tenant.
    pub tenant: Option<String>,
}

impl SecretPlace {
    /// The place with its path, name, namespace and mount redacted like every path from the log.
    pub fn redacted(&self) -> SecretPlace {
        let r = |s: &str| crate::redact::path(s).into_owned();
        SecretPlace {
            path: r(&self.path),
            secret: r(&self.secret),
            namespace: self.namespace.as_deref().map(r),
            mount: r(&self.mount),
            kind: self.kind,
            tenant: self.tenant.clone(),
        }
    }
}

/// One secret path of the catalogue.
#[derive(Clone, Debug)]
pub struct CatalogueEntry {
    /// Where it is, as in the log (not redacted: the ACL needs the path whole).
    pub place: SecretPlace,
    /// Log, inventory or both.
    pub source: CatalogueSource,
}

/// Why the inventory could not be used.
#[derive(Debug, thiserror::Error)]
#[error("--inventory {path}: {source}")]
pub struct InventoryError {
    /// The file.
    pub path: PathBuf,
    /// The error.
    pub source: std::io::Error,
}

/// Reads an inventory: one path a line; blank lines and `#` comments skipped.
pub fn read_inventory(path: &Path) -> Result<Vec<String>, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text
        .lines()
        .map(|l| l.trim().trim_start_matches('/'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// What the log teaches about mounts: their kinds of access, per namespace.
#[derive(Default)]
struct Mounts {
    /// (namespace, mount) → the kinds seen there.
    kinds: BTreeMap<(Option<String>, String), BTreeSet<SecretKind>>,
    namespaces: BTreeSet<String>,
}

impl Mounts {
    fn of(st: &LineageState, extra_namespaces: &[String]) -> Mounts {
        let mut m = Mounts::default();
        // Written paths teach mounts and namespaces too (a KV v2 mount only ever written).
        for p in st.paths.values().map(|p| &**p).chain(st.writes.values()) {
            if let Some(ns) = p.namespace() {
                m.namespaces.insert(ns.to_string());
            }
            if let Some(k) = p.kind {
                m.kinds
                    .entry((p.namespace().map(String::from), p.mount().to_string()))
                    .or_default()
                    .insert(k);
            }
        }
        m.namespaces.extend(
            extra_namespaces
                .iter()
                .map(|n| n.trim_matches('/').to_string())
                .filter(|n| !n.is_empty()),
        );
        m
    }

    fn is_secret_mount(&self, ns: Option<&str>, mount: &str) -> bool {
        self.kinds
            .get(&(ns.map(String::from), mount.to_string()))
            .is_some_and(|k| k.iter().any(|k| !k.is_listing()))
    }

    /// The longest known namespace `path` starts with.
    fn namespace_of<'p>(&self, path: &'p str) -> (Option<String>, &'p str) {
        let best = self
            .namespaces
            .iter()
            .filter(|ns| path.starts_with(&format!("{ns}/")))
            .max_by_key(|ns| ns.len());
        match best {
            Some(ns) => (Some(ns.clone()), &path[ns.len() + 1..]),
            None => (None, path),
        }
    }

    /// The longest known mount `rel` starts with, else its first segment.
    fn mount_of(&self, ns: &Option<String>, rel: &str) -> (String, Option<&BTreeSet<SecretKind>>) {
        let known = self
            .kinds
            .iter()
            .filter(|((n, m), _)| n == ns && rel.starts_with(m.as_str()))
            .max_by_key(|((_, m), _)| m.len());
        match known {
            Some(((_, m), k)) => (m.clone(), Some(k)),
            None => {
                let first = rel.split('/').next().unwrap_or("");
                (format!("{first}/"), None)
            }
        }
    }
}

/// The catalogue: the log's secret paths, then the inventory's, once each, sorted by path.
///
/// A path the log only shows failing has no kind; it is a secret path when its mount is one
/// the log shows secrets read from or written to (a denied `kv/data/app/admin` next to read `kv/data/app/db`).
/// Listings (`kv/metadata/app/`) are names, not secrets, and are left out.
pub fn build(
    st: &LineageState,
    tenants: &TenantMap,
    layout: &TenantLayout,
    inventory: &[String],
    policy_namespaces: &[String],
) -> Vec<CatalogueEntry> {
    let mounts = Mounts::of(st, policy_namespaces);
    let mut out: BTreeMap<String, CatalogueEntry> = BTreeMap::new();
    for p in st.paths.values() {
        let secret = match p.kind {
            Some(k) => !k.is_listing(),
            None => mounts.is_secret_mount(p.namespace(), p.mount()) && !p.path().ends_with('/'),
        };
        if secret {
            out.insert(p.path().to_string(), from_log(p, tenants, layout));
        }
    }
    // A secret only written (say by an administrator) and never read is still one a leaked
    // token could read; a path also read keeps the description its read gave it.
    for p in st.writes.values() {
        if !out.contains_key(p.path()) {
            out.insert(p.path().to_string(), from_log(p, tenants, layout));
        }
    }
    for line in inventory {
        if let Some(e) = out.get_mut(line) {
            e.source = CatalogueSource::LogAndInventory;
            continue;
        }
        let e = from_inventory(line, &mounts, tenants);
        match out.get_mut(&e.place.path) {
            Some(known) => known.source = CatalogueSource::LogAndInventory,
            None => {
                out.insert(e.place.path.clone(), e);
            }
        }
    }
    out.into_values().collect()
}

fn from_log(p: &PathInfo, tenants: &TenantMap, layout: &TenantLayout) -> CatalogueEntry {
    CatalogueEntry {
        place: SecretPlace {
            path: p.path().to_string(),
            secret: p.secret().to_string(),
            namespace: p.namespace().map(String::from),
            mount: p.mount().to_string(),
            kind: p.kind,
            tenant: tenants.resolve(p.tenant(), p.site(), layout),
        },
        source: CatalogueSource::Log,
    }
}

/// An inventory line on a mount the log knows takes that mount's kind; on a KV v2 mount a
/// logical path (`kv/app/db`, as `vault kv list` prints it) becomes its `data/` path.
fn from_inventory(line: &str, mounts: &Mounts, tenants: &TenantMap) -> CatalogueEntry {
    let (ns, rel) = mounts.namespace_of(line);
    let (mount, kinds) = mounts.mount_of(&ns, rel);
    let below = rel.strip_prefix(mount.as_str()).unwrap_or("");
    let kv2 = kinds.is_some_and(|k| k.contains(&SecretKind::KvV2Read));
    let (kind, rest) = if kv2 {
        match below.split_once('/') {
            Some(("data", _)) => (Some(SecretKind::KvV2Read), below.to_string()),
            Some(("metadata", _)) => (Some(SecretKind::KvV2List), below.to_string()),
            _ => (Some(SecretKind::KvV2Read), format!("data/{below}")),
        }
    } else {
        let only = kinds.and_then(|k| {
            let reads: Vec<_> = k.iter().filter(|k| !k.is_listing()).collect();
            (reads.len() == 1).then(|| *reads[0])
        });
        (only, below.to_string())
    };
    let relative = format!("{mount}{rest}");
    let path = match &ns {
        Some(n) => format!("{n}/{relative}"),
        None => relative.clone(),
    };
    let tenant = kind.and_then(|k| {
        let m = MountRef {
            mount: &mount,
            rest: &rest,
            engine: if kv2 { Engine::Kv } else { Engine::Unknown },
            inferred: false,
            source: MountSource::Log,
        };
        tenants.tenant_of(ns.as_deref(), &relative, &m, k)
    });
    let secret = match kind {
        Some(SecretKind::KvV2Read) => {
            let name = rest.strip_prefix("data/").unwrap_or(&rest);
            match &ns {
                Some(n) => format!("{n}/{mount}{name}"),
                None => format!("{mount}{name}"),
            }
        }
        _ => path.clone(),
    };
    CatalogueEntry {
        place: SecretPlace {
            path,
            secret,
            namespace: ns,
            mount,
            kind,
            tenant,
        },
        source: CatalogueSource::Inventory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lineage::{PathInfo, PathNames};

    fn info(path: &str, ns: Option<&str>, mount: &str, kind: Option<SecretKind>) -> PathInfo {
        let names = PathNames {
            path,
            secret: path,
            mount,
            namespace: ns,
            tenant: None,
        };
        PathInfo::new(names, MountSource::Log, kind, None)
    }

    #[test]
    fn log_paths_and_inventory_lines_once_each() {
        let mut st = LineageState::default();
        let rows = [
            info("kv/data/app/db", None, "kv/", Some(SecretKind::KvV2Read)),
            info("kv/data/app/admin", None, "kv/", None),
            info("kv/metadata/app/", None, "kv/", Some(SecretKind::KvV2List)),
            info("sys/mounts", None, "sys/", None),
            info(
                "team-a/secret/web",
                Some("team-a"),
                "secret/",
                Some(SecretKind::KvV1Read),
            ),
        ];
        for (i, r) in rows.into_iter().enumerate() {
            st.paths.insert(i as u64 + 1, Box::new(r));
        }
        let inventory = [
            "kv/data/app/db".to_string(),
            "kv/app/other".to_string(),
            "team-a/secret/api".to_string(),
            "unknown/thing".to_string(),
        ];
        let c = build(
            &st,
            &TenantMap::default(),
            &TenantLayout::default(),
            &inventory,
            &[],
        );
        let got: Vec<(&str, CatalogueSource, Option<SecretKind>)> = c
            .iter()
            .map(|e| (e.place.path.as_str(), e.source, e.place.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("kv/data/app/admin", CatalogueSource::Log, None),
                (
                    "kv/data/app/db",
                    CatalogueSource::LogAndInventory,
                    Some(SecretKind::KvV2Read)
                ),
                (
                    "kv/data/app/other",
                    CatalogueSource::Inventory,
                    Some(SecretKind::KvV2Read)
                ),
                (
                    "team-a/secret/api",
                    CatalogueSource::Inventory,
                    Some(SecretKind::KvV1Read)
                ),
                (
                    "team-a/secret/web",
                    CatalogueSource::Log,
                    Some(SecretKind::KvV1Read)
                ),
                ("unknown/thing", CatalogueSource::Inventory, None),
            ]
        );
        let api = c
            .iter()
            .find(|e| e.place.path == "team-a/secret/api")
            .unwrap();
        assert_eq!(api.place.namespace.as_deref(), Some("team-a"));
        assert_eq!(api.place.mount, "secret/");
    }
}
