//! Which requests returned secret material, and of what kind.
//!
//! The mount comes from `request.mount_point`/`mount_type` where the log has them (Vault 1.6+,
//! OpenBao); older logs only have the path, so the mount is its first segment and the engine is
//! recognised by the mount's name and the shape of the rest (`creds/`, `data/`, `issue/` ...).

use super::{Entry, Operation};

/// The kind of secret an access returned.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SecretKind {
    /// KV v1 read.
    KvV1Read,
    /// KV v1 list (key names).
    KvV1List,
    /// KV v2 `data/` read.
    KvV2Read,
    /// KV v2 `metadata/` list (key names).
    KvV2List,
    /// KV v2 `subkeys/` read (key names of a secret).
    KvV2Subkeys,
    /// `database/creds/<role>`.
    DatabaseCreds,
    /// `database/static-creds/<role>`.
    DatabaseStaticCreds,
    /// `aws/creds/<role>`.
    AwsCreds,
    /// `aws/sts/<role>`.
    AwsSts,
    /// GCP service account keys and tokens.
    GcpCreds,
    /// `azure/creds/<role>`.
    AzureCreds,
    /// `ssh/creds/<role>` (one-time passwords).
    SshCreds,
    /// `ssh/sign/<role>` (signed certificates).
    SshSign,
    /// `pki/issue/<role>`: a certificate with its private key.
    PkiIssue,
    /// `pki/sign/<role>`.
    PkiSign,
    /// `transit/decrypt/<key>`.
    TransitDecrypt,
    /// `transit/datakey/plaintext/<key>`.
    TransitDatakey,
    /// `transit/export/<type>/<key>`: key material.
    TransitExport,
    /// `totp/code/<name>`.
    TotpCode,
    /// `cubbyhole/<path>`.
    Cubbyhole,
    /// `sys/wrapping/unwrap`.
    Unwrap,
    /// `sys/raw/<path>`: raw storage.
    RawStorage,
    /// `creds/` of any other dynamic engine (consul, rabbitmq, nomad, ldap, kubernetes ...).
    DynamicCreds,
}

impl SecretKind {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::KvV1Read => "kv-v1-read",
            SecretKind::KvV1List => "kv-v1-list",
            SecretKind::KvV2Read => "kv-v2-read",
            SecretKind::KvV2List => "kv-v2-list",
            SecretKind::KvV2Subkeys => "kv-v2-subkeys",
            SecretKind::DatabaseCreds => "database-creds",
            SecretKind::DatabaseStaticCreds => "database-static-creds",
            SecretKind::AwsCreds => "aws-creds",
            SecretKind::AwsSts => "aws-sts",
            SecretKind::GcpCreds => "gcp-creds",
            SecretKind::AzureCreds => "azure-creds",
            SecretKind::SshCreds => "ssh-creds",
            SecretKind::SshSign => "ssh-sign",
            SecretKind::PkiIssue => "pki-issue",
            SecretKind::PkiSign => "pki-sign",
            SecretKind::TransitDecrypt => "transit-decrypt",
            SecretKind::TransitDatakey => "transit-datakey",
            SecretKind::TransitExport => "transit-export",
            SecretKind::TotpCode => "totp-code",
            SecretKind::Cubbyhole => "cubbyhole",
            SecretKind::Unwrap => "unwrap",
            SecretKind::RawStorage => "raw-storage",
            SecretKind::DynamicCreds => "dynamic-creds",
        }
    }

    /// Every kind, in declaration (and so `Ord`) order.
    pub const ALL: [SecretKind; 23] = [
        SecretKind::KvV1Read,
        SecretKind::KvV1List,
        SecretKind::KvV2Read,
        SecretKind::KvV2List,
        SecretKind::KvV2Subkeys,
        SecretKind::DatabaseCreds,
        SecretKind::DatabaseStaticCreds,
        SecretKind::AwsCreds,
        SecretKind::AwsSts,
        SecretKind::GcpCreds,
        SecretKind::AzureCreds,
        SecretKind::SshCreds,
        SecretKind::SshSign,
        SecretKind::PkiIssue,
        SecretKind::PkiSign,
        SecretKind::TransitDecrypt,
        SecretKind::TransitDatakey,
        SecretKind::TransitExport,
        SecretKind::TotpCode,
        SecretKind::Cubbyhole,
        SecretKind::Unwrap,
        SecretKind::RawStorage,
        SecretKind::DynamicCreds,
    ];

    /// True for key-name listings, which reveal names but no values.
    pub fn is_listing(self) -> bool {
        matches!(
            self,
            SecretKind::KvV1List | SecretKind::KvV2List | SecretKind::KvV2Subkeys
        )
    }
}

// A kind added after the last one must be added to `ALL` too.
const _: () = assert!(SecretKind::DynamicCreds as usize + 1 == SecretKind::ALL.len());

/// A set of kinds in 4 bytes (a report keeps one per tenant, and a busy log has thousands of
/// tenants); it iterates and serializes in `Ord` order, as a `BTreeSet` would.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindSet(u32);

impl KindSet {
    /// Adds `kind`.
    pub fn insert(&mut self, kind: SecretKind) {
        self.0 |= 1 << kind as u32;
    }

    /// True when `kind` is in the set.
    pub fn contains(self, kind: SecretKind) -> bool {
        self.0 & (1 << kind as u32) != 0
    }

    /// The kinds, in `Ord` order.
    pub fn iter(self) -> impl Iterator<Item = SecretKind> {
        SecretKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

impl FromIterator<SecretKind> for KindSet {
    fn from_iter<I: IntoIterator<Item = SecretKind>>(kinds: I) -> KindSet {
        let mut set = KindSet::default();
        kinds.into_iter().for_each(|k| set.insert(k));
        set
    }
}

impl serde::Serialize for KindSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Where a request landed: its mount and the path below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountRef<'a> {
    /// The mount path without namespace, with its trailing slash (`kv/`, `auth/approle/`).
    pub mount: &'a str,
    /// The path below the mount (`data/tenant-a/db`).
    pub rest: &'a str,
    /// The engine type, from the log or inferred from the mount's name and the path's shape.
    pub engine: Engine,
    /// True when the mount was not in the log and was inferred from the path.
    pub inferred: bool,
    /// Where the mount's boundary came from.
    pub source: MountSource,
}

/// Where a request's mount came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MountSource {
    /// `request.mount_point` (Vault 1.6+, OpenBao).
    #[default]
    Log,
    /// The first segment of the path (older logs): the real mount may be nested deeper.
    PathShape,
}

/// Secret engines and other mount types the analyses care about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `kv` (v1 or v2) and the old `generic`.
    Kv,
    /// `database` and its predecessors (`mysql`, `postgresql`, `cassandra`, ...).
    Database,
    /// `aws`.
    Aws,
    /// `gcp`.
    Gcp,
    /// `azure`.
    Azure,
    /// `ssh`.
    Ssh,
    /// `pki`.
    Pki,
    /// `transit`.
    Transit,
    /// `totp`.
    Totp,
    /// `cubbyhole`.
    Cubbyhole,
    /// `system` (`sys/`).
    System,
    /// An auth method (`auth/...`), including `token`.
    Auth,
    /// `identity`.
    Identity,
    /// Another engine that issues `creds/`.
    OtherDynamic,
    /// Unknown.
    Unknown,
}

impl Engine {
    fn from_type(t: &str) -> Engine {
        match t {
            "kv" | "generic" => Engine::Kv,
            "database" | "mysql" | "postgresql" | "cassandra" | "mongodb" | "mssql" => {
                Engine::Database
            }
            "aws" => Engine::Aws,
            "gcp" => Engine::Gcp,
            "azure" => Engine::Azure,
            "ssh" => Engine::Ssh,
            "pki" => Engine::Pki,
            "transit" => Engine::Transit,
            "totp" => Engine::Totp,
            "cubbyhole" | "ns_cubbyhole" => Engine::Cubbyhole,
            "system" | "ns_system" => Engine::System,
            "identity" | "ns_identity" => Engine::Identity,
            "token" | "ns_token" | "approle" | "userpass" | "ldap-auth" | "jwt" | "oidc"
            | "kubernetes-auth" => Engine::Auth,
            "consul" | "rabbitmq" | "nomad" | "ldap" | "openldap" | "mongodbatlas"
            | "kubernetes" | "terraform" | "alicloud" | "kmip" => Engine::OtherDynamic,
            _ => Engine::Unknown,
        }
    }

    /// Guesses the engine of a mount from its name and the path below it (old logs).
    fn infer(mount: &str, rest: &str) -> Engine {
        let name = mount.trim_end_matches('/');
        let first = rest.split(is_slash).next().unwrap_or("");
        match name {
            "sys" => return Engine::System,
            "cubbyhole" => return Engine::Cubbyhole,
            "identity" => return Engine::Identity,
            "secret" | "kv" | "kv-v2" | "kv2" | "kvv2" | "generic" => return Engine::Kv,
            "database" | "mysql" | "postgresql" | "postgres" | "cassandra" | "mongodb"
            | "mssql" => {
                return Engine::Database;
            }
            "aws" => return Engine::Aws,
            "gcp" => return Engine::Gcp,
            "azure" => return Engine::Azure,
            "ssh" => return Engine::Ssh,
            "transit" => return Engine::Transit,
            "totp" => return Engine::Totp,
            _ => {}
        }
        if name.starts_with("auth/") {
            return Engine::Auth;
        }
        if name.starts_with("pki") {
            return Engine::Pki;
        }
        match first {
            "data" | "metadata" | "subkeys" | "delete" | "undelete" | "destroy" => Engine::Kv,
            "creds" | "static-creds" => Engine::OtherDynamic,
            "decrypt" | "encrypt" | "datakey" | "export" | "keys" | "rewrap" => Engine::Transit,
            "issue" | "sign" | "sign-verbatim" => Engine::Pki,
            "code" => Engine::Totp,
            _ => Engine::Unknown,
        }
    }
}

/// Splits the request path into mount and rest.
pub fn mount_of<'a>(ev: &Entry<'a>) -> MountRef<'a> {
    let path = ev.request.path;
    if let Some(mp) = ev.request.mount_point {
        // Enterprise mount points include the namespace (`blue/kv/`) while paths are relative.
        let mp = match ev.request.namespace_path {
            Some(ns) if !ns.is_empty() => mp.strip_prefix(ns).unwrap_or(mp),
            _ => mp,
        };
        if let Some(rest) = path.strip_prefix(mp) {
            let engine = ev
                .request
                .mount_type
                .map_or_else(|| Engine::infer(mp, rest), Engine::from_type);
            let engine = if engine == Engine::Unknown {
                Engine::infer(mp, rest)
            } else {
                engine
            };
            return MountRef {
                mount: mp,
                rest,
                engine,
                inferred: ev.request.mount_type.is_none(),
                source: MountSource::Log,
            };
        }
    }
    let mount_len = if let Some(after) = path.strip_prefix("auth/") {
        after.find('/').map_or(path.len(), |i| 5 + i + 1)
    } else {
        path.find('/').map_or(path.len(), |i| i + 1)
    };
    let (mount, rest) = path.split_at(mount_len);
    let engine = match ev.request.mount_type {
        Some(t) if Engine::from_type(t) != Engine::Unknown => Engine::from_type(t),
        _ => Engine::infer(mount, rest),
    };
    MountRef {
        mount,
        rest,
        engine,
        inferred: true,
        source: MountSource::PathShape,
    }
}

/// A successful read of secret material.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretAccess<'a> {
    /// What was read.
    pub kind: SecretKind,
    /// The mount and the path below it.
    pub mount: MountRef<'a>,
}

/// True when the response reports success: no error, not denied, no backend error.
pub fn succeeded(ev: &Entry<'_>) -> bool {
    ev.error.is_none() && ev.auth.policy_allowed != Some(false) && !ev.response.has_data_error()
}

/// Classifies a response entry as a successful secret access, if it is one.
pub fn secret_access<'a>(ev: &Entry<'a>) -> Option<SecretAccess<'a>> {
    if !ev.is_response() || !succeeded(ev) {
        return None;
    }
    // A wrapped response hands out the data through its wrapping token: it counts as read.
    let returned = ev.response.data.is_some()
        || ev.response.lease_id.is_some()
        || ev.response.auth.is_some()
        || ev.response.is_wrapped();
    if !returned {
        return None;
    }
    let op = ev.request.operation;
    let m = mount_of(ev);
    let kind = classify(op, &m, ev.request.path)?;
    Some(SecretAccess { kind, mount: m })
}

/// A successful write of a database secrets engine's connection configuration
/// (`<mount>/config/<connection>`, create, update or patch). The writer chose, or could have
/// chosen, the root credential the engine connects with (and where it connects), so it may know
/// it: responders rotate it (`<mount>/rotate-root/<connection>`). Not a [`SecretKind`]: nothing
/// is returned to the caller, and every count of secrets read stays what it was.
#[derive(Clone, Copy, Debug)]
pub struct DatabaseConfigWrite<'a> {
    /// The database mount and the path below it.
    pub mount: MountRef<'a>,
    /// The connection's name.
    pub connection: &'a str,
}

/// Classifies a response entry as a successful database connection-configuration write.
pub fn database_config_write<'a>(ev: &Entry<'a>) -> Option<DatabaseConfigWrite<'a>> {
    // Cheap tests first: this runs on every answered request.
    let op = ev.request.operation;
    if !ev.is_response()
        || !matches!(op, Operation::Create | Operation::Update | Operation::Patch)
        || !ev.request.path.contains("config/")
        || !succeeded(ev)
    {
        return None;
    }
    let m = mount_of(ev);
    if m.engine != Engine::Database {
        return None;
    }
    let connection = m.rest.strip_prefix("config/")?;
    (!connection.is_empty() && !connection.contains('/')).then_some(DatabaseConfigWrite {
        mount: m,
        connection,
    })
}

/// What secret an entry targets, whatever its outcome (denied reads included).
pub fn secret_target<'a>(ev: &Entry<'a>) -> Option<SecretAccess<'a>> {
    let m = mount_of(ev);
    let kind = classify(ev.request.operation, &m, ev.request.path)?;
    Some(SecretAccess { kind, mount: m })
}

/// The separator of path segments, as a predicate: `str::split('/')` searches each short
/// segment with `memchr`, whose setup costs more than reading the few bytes one by one.
pub(crate) fn is_slash(c: char) -> bool {
    c == '/'
}

fn classify(op: Operation, m: &MountRef<'_>, path: &str) -> Option<SecretKind> {
    use Operation::{List, Read, Update};
    let first = m.rest.split(is_slash).next().unwrap_or("");
    let issuing = matches!(op, Read | Update);
    let kind = match m.engine {
        Engine::Kv => match (first, op) {
            ("data", Read) => SecretKind::KvV2Read,
            ("metadata", List) => SecretKind::KvV2List,
            ("subkeys", Read) => SecretKind::KvV2Subkeys,
            ("data" | "metadata" | "subkeys" | "delete" | "undelete" | "destroy" | "config", _) => {
                return None;
            }
            (_, Read) if !m.rest.is_empty() => SecretKind::KvV1Read,
            (_, List) => SecretKind::KvV1List,
            _ => return None,
        },
        Engine::Unknown if m.inferred && op == Read && !m.rest.is_empty() => SecretKind::KvV1Read,
        Engine::Database => match (first, op) {
            ("creds", Read) => SecretKind::DatabaseCreds,
            ("static-creds", Read) => SecretKind::DatabaseStaticCreds,
            _ => return None,
        },
        Engine::Aws if issuing => match first {
            "creds" => SecretKind::AwsCreds,
            "sts" => SecretKind::AwsSts,
            _ => return None,
        },
        Engine::Gcp if issuing => {
            let is_cred = matches!(first, "token" | "key")
                || (matches!(first, "roleset" | "static-account" | "impersonated-account")
                    && (m.rest.ends_with("/token") || m.rest.ends_with("/key")));
            if !is_cred {
                return None;
            }
            SecretKind::GcpCreds
        }
        Engine::Azure if issuing && first == "creds" => SecretKind::AzureCreds,
        Engine::Ssh if op == Update => match first {
            "creds" => SecretKind::SshCreds,
            "sign" => SecretKind::SshSign,
            _ => return None,
        },
        Engine::Pki if issuing => match first {
            "issue" => SecretKind::PkiIssue,
            "sign" | "sign-verbatim" => SecretKind::PkiSign,
            "issuer" if m.rest.contains("/issue/") => SecretKind::PkiIssue,
            "issuer" if m.rest.contains("/sign/") => SecretKind::PkiSign,
            _ => return None,
        },
        Engine::Transit => match (first, op) {
            ("decrypt", Update) => SecretKind::TransitDecrypt,
            ("datakey", Update) if m.rest.starts_with("datakey/plaintext/") => {
                SecretKind::TransitDatakey
            }
            ("export", Read) => SecretKind::TransitExport,
            _ => return None,
        },
        Engine::Totp if op == Read && first == "code" => SecretKind::TotpCode,
        Engine::Cubbyhole if op == Read && !m.rest.is_empty() => SecretKind::Cubbyhole,
        Engine::System => match op {
            Update if path == "sys/wrapping/unwrap" => SecretKind::Unwrap,
            Read if path.starts_with("sys/raw/") => SecretKind::RawStorage,
            _ => return None,
        },
        Engine::OtherDynamic
            if issuing && matches!(first, "creds" | "static-creds" | "static-cred") =>
        {
            SecretKind::DynamicCreds
        }
        _ => return None,
    };
    Some(kind)
}

/// The path as responders name a secret: KV v2 `data/`, `metadata/` and `subkeys/` collapse to
/// the logical secret, so `kv/data/app` and `kv/metadata/app` are the same secret `kv/app`.
pub fn logical_path(m: &MountRef<'_>, kind: SecretKind) -> String {
    let rest = match kind {
        SecretKind::KvV2Read => m.rest.strip_prefix("data/").unwrap_or(m.rest),
        SecretKind::KvV2List => m.rest.strip_prefix("metadata/").unwrap_or(m.rest),
        SecretKind::KvV2Subkeys => m.rest.strip_prefix("subkeys/").unwrap_or(m.rest),
        _ => m.rest,
    };
    // Not `format!`: this runs for every new secret and the formatting machinery costs several
    // times the copy.
    let mut name = String::with_capacity(m.mount.len() + rest.len());
    name.push_str(m.mount);
    name.push_str(rest);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response entry of OpenBao's shape: `op` on `path` in mount `db/` (type `mount_type`).
    fn response(op: &str, path: &str, mount_type: &str, error: Option<&str>) -> String {
        let error = error.map_or(String::new(), |e| format!(r#","error":"{e}""#));
        format!(
            r#"{{"time":"2026-12-02T10:00:00Z","type":"response","auth":{{"accessor":"hmac-sha256:aa"}},"request":{{"id":"r1","operation":"{op}","mount_point":"db/","mount_type":"{mount_type}","path":"{path}"}},"response":{{"mount_type":"{mount_type}"}}{error}}}"#
        )
    }

    /// `(connection, is a secret access)` of an entry.
    fn classify_line(line: &str) -> (Option<String>, bool) {
        let mut p = crate::parse::Parser::new();
        p.parse_one(line.as_bytes(), |r| {
            let ev = r.expect("parses");
            (
                database_config_write(&ev).map(|w| w.connection.to_string()),
                secret_access(&ev).is_some(),
            )
        })
    }

    #[test]
    fn database_config_writes_are_classified_apart_from_reads() {
        for op in ["create", "update", "patch"] {
            assert_eq!(
                classify_line(&response(op, "db/config/pg", "database", None)),
                (Some("pg".to_string()), false),
                "{op}"
            );
        }
        // Reading the configuration returns no password; deleting it exposes nothing.
        for op in ["read", "delete", "list"] {
            assert_eq!(
                classify_line(&response(op, "db/config/pg", "database", None)).0,
                None,
                "{op}"
            );
        }
        // Denied, below the connection, other engines, other endpoints.
        let denied = response(
            "update",
            "db/config/pg",
            "database",
            Some("permission denied"),
        );
        assert_eq!(classify_line(&denied).0, None);
        assert_eq!(
            classify_line(&response("update", "db/config/pg/x", "database", None)).0,
            None
        );
        assert_eq!(
            classify_line(&response("update", "db/config/pg", "kv", None)).0,
            None
        );
        assert_eq!(
            classify_line(&response("update", "db/rotate-root/pg", "database", None)).0,
            None
        );
    }

    #[test]
    fn every_kind_is_in_all_at_its_own_index() {
        for (i, k) in SecretKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
        assert!(SecretKind::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_kind_set_iterates_and_serializes_like_a_btree_set() {
        let kinds = [
            SecretKind::TotpCode,
            SecretKind::KvV2Read,
            SecretKind::DynamicCreds,
            SecretKind::KvV2Read,
            SecretKind::KvV1Read,
        ];
        let set: KindSet = kinds.into_iter().collect();
        let tree: std::collections::BTreeSet<SecretKind> = kinds.into_iter().collect();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            tree.iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
        assert!(set.contains(SecretKind::TotpCode) && !set.contains(SecretKind::Unwrap));
        assert_eq!(serde_json::to_string(&KindSet::default()).unwrap(), "[]");
    }
}
