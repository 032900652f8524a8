//! What the lineage pass keeps per token, per (token, path) and per lease.

use crate::model::secret::{MountSource, SecretKind};
use crate::model::{Loc, TimeRange, Timestamp};
use crate::packed::Packed;
use crate::tenant::{SegmentSite, SiteRef};

/// A 64-bit key for a string (accessor, path, address ...), from the pass's seeded hasher.
pub type Key = u64;

/// The key of "no token" (unauthenticated requests).
pub const NO_TOKEN: Key = 0;

/// How a token came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CreatedVia {
    /// A login (`auth/<mount>/login`, OIDC callback ...).
    Login,
    /// `auth/token/create*`.
    TokenCreate,
    /// Another response that returned a token (e.g. unwrapping a wrapped token).
    Other,
    /// A wrapped response (`response.wrap_info`): the token is the wrapping token, and whoever
    /// unwraps it gets what the creating request returned.
    ResponseWrapping,
}

impl CreatedVia {
    /// How a response at `path` that returned a token created it.
    pub fn of(path: &str) -> CreatedVia {
        if crate::detect::actor::is_login_path(path) {
            CreatedVia::Login
        } else if path.starts_with("auth/token/create") {
            CreatedVia::TokenCreate
        } else {
            CreatedVia::Other
        }
    }
}

/// Why a token has no parent token although a token created it: revoking the creator leaves it
/// alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrphanCause {
    /// `auth/token/create-orphan`.
    CreateOrphan,
    /// `auth/token/create` with `no_parent=true`.
    NoParent,
    /// `auth/token/create/<role>` of a token role written with `orphan=true`.
    TokenRole,
}

/// The response that issued a token.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Creation {
    /// The caller's accessor (`request.client_token_accessor`), if any.
    pub parent: Option<Key>,
    /// When.
    pub at: Option<Timestamp>,
    /// Where in the log.
    pub loc: Loc,
    /// The path that issued it (key into the strings).
    pub path: Key,
    /// How.
    pub via: CreatedVia,
    /// The client address of the issuing request.
    pub remote_address: Option<Key>,
    /// `auth.metadata.role_name` / `role` of the new token (AppRole, Kubernetes, JWT).
    pub role: Option<Key>,
    /// `auth.metadata.username` of the new token, or the user in the login path.
    pub user: Option<Key>,
    /// The auth mount the login went through (`auth/approle/`), without the namespace.
    pub mount: Option<Key>,
    /// Orphan by the creating request itself (`create-orphan`, `no_parent`).
    #[serde(default)]
    pub orphan: Option<OrphanCause>,
    /// The token role of `auth/token/create/<role>`: orphan when the role says so.
    #[serde(default)]
    pub token_role: Option<Key>,
    /// The namespace the token was issued in (`request.namespace.path` without its slash):
    /// its accessor can only be looked up and revoked there.
    #[serde(default)]
    pub namespace: Option<Key>,
    /// The new token's `token_policies`, comma-joined, when the log splits `policies`.
    #[serde(default)]
    pub token_policies: Option<Key>,
    /// The new token's `identity_policies` (its entity's and groups'), comma-joined.
    #[serde(default)]
    pub identity_policies: Option<Key>,
}

/// Requests from one pivot address.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IpRequests {
    /// How many.
    pub count: u64,
    /// The first one's time.
    pub first: Option<Timestamp>,
    /// The last one's time.
    pub last: Option<Timestamp>,
}

impl IpRequests {
    /// Counts `count` more requests seen between `first` and `last`.
    pub fn add(&mut self, count: u64, first: Option<Timestamp>, last: Option<Timestamp>) {
        self.count += count;
        self.first = earlier(self.first, first);
        self.last = later(self.last, last);
    }
}

/// Reads of one path by one actor: 48 bytes, the records of the largest table a scan keeps.
/// Saved as [`SavedRead`], the layout it had with two optional times.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
#[serde(from = "SavedRead", into = "SavedRead")]
pub struct ReadAgg {
    /// Successful reads (saturating: 4 billion reads of one path by one token are beyond any
    /// log, and the table is the largest a scan keeps).
    reads: u32,
    /// Of the reads, those answered with a wrapping token (response wrapping); saturating.
    wrapped: u32,
    /// First and last read (the timed ones).
    pub times: TimeRange,
    /// The earliest evidence.
    pub loc: Loc,
}

impl ReadAgg {
    /// No read yet; `loc` is the evidence until an earlier one comes.
    pub fn new(loc: Loc) -> ReadAgg {
        ReadAgg {
            reads: 0,
            times: TimeRange::EMPTY,
            loc,
            wrapped: 0,
        }
    }

    /// Successful reads.
    pub fn reads(&self) -> u64 {
        u64::from(self.reads)
    }

    /// Of the reads, those answered with a wrapping token.
    pub fn wrapped(&self) -> u64 {
        u64::from(self.wrapped)
    }

    /// Counts `reads` more reads, `wrapped` of them answered with a wrapping token.
    pub fn count(&mut self, reads: u64, wrapped: u64) {
        let sat = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        self.reads = self.reads.saturating_add(sat(reads));
        self.wrapped = self.wrapped.saturating_add(sat(wrapped));
    }

    /// First timed read.
    pub fn first(&self) -> Option<Timestamp> {
        self.times.first()
    }

    /// Last timed read.
    pub fn last(&self) -> Option<Timestamp> {
        self.times.last()
    }
}

/// A [`ReadAgg`] as saved between runs.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct SavedRead {
    /// Successful reads.
    pub reads: u64,
    /// First.
    pub first: Option<Timestamp>,
    /// Last.
    pub last: Option<Timestamp>,
    /// The earliest evidence.
    pub loc: Loc,
    /// Of the reads, those answered with a wrapping token (response wrapping).
    #[serde(default)]
    pub wrapped: u64,
}

impl From<SavedRead> for ReadAgg {
    fn from(s: SavedRead) -> ReadAgg {
        let mut r = ReadAgg {
            reads: 0,
            wrapped: 0,
            times: TimeRange::of(s.first, s.last),
            loc: s.loc,
        };
        r.count(s.reads, s.wrapped);
        r
    }
}

impl From<ReadAgg> for SavedRead {
    fn from(r: ReadAgg) -> SavedRead {
        SavedRead {
            reads: r.reads(),
            first: r.first(),
            last: r.last(),
            loc: r.loc,
            wrapped: r.wrapped(),
        }
    }
}

/// Why a request failed.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    /// Policy denied it.
    PermissionDenied,
    /// The token was invalid, expired or revoked.
    InvalidToken,
    /// A login failed.
    LoginFailed,
    /// Any other error.
    OtherError,
}

/// Failed requests for one path by one actor.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct FailAgg {
    /// How many.
    pub count: u64,
    /// First.
    pub first: Option<Timestamp>,
    /// Last.
    pub last: Option<Timestamp>,
    /// The most severe reason seen (order of [`Failure`]).
    pub reason: Failure,
    /// The earliest evidence.
    pub loc: Loc,
}

/// A secret path, once.
///
/// A log of distinct paths keeps one per path, so its names (five, and three more where a
/// default-segment tenant was read) share one heap block ([`Packed`]); state files hold it with
/// a field per name, as before it was packed.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(from = "SavedPath", into = "SavedPath")]
pub struct PathInfo {
    /// Path, secret, mount, namespace, tenant, then the site's mount, first segment and child.
    names: Packed<8>,
    /// How the mount was found: from `request.mount_point`, or guessed from the path's shape
    /// (logs of Vault before 1.6).
    pub mount_source: MountSource,
    /// The kind of access (for failures: the kind a success would have been, if any).
    pub kind: Option<SecretKind>,
    /// The site's action words, when there is a site.
    site_actions: Option<u8>,
}

/// The names of a secret path.
#[derive(Clone, Copy, Debug)]
pub struct PathNames<'a> {
    /// The request path, namespace-qualified.
    pub path: &'a str,
    /// The logical secret name.
    pub secret: &'a str,
    /// The mount (without namespace).
    pub mount: &'a str,
    /// The namespace (`request.namespace.path` without its slash), none for root.
    pub namespace: Option<&'a str>,
    /// The tenant (before layout inference).
    pub tenant: Option<&'a str>,
}

const PATH: usize = 0;
const SECRET: usize = 1;
const MOUNT: usize = 2;
const NAMESPACE: usize = 3;
const TENANT: usize = 4;
/// The site's three names start here.
const SITE: usize = 5;

impl PathInfo {
    /// A path record from its names and what the access said of it; `site` is where a
    /// default-segment tenant was read, for layout inference.
    pub fn new(
        names: PathNames<'_>,
        mount_source: MountSource,
        kind: Option<SecretKind>,
        site: Option<SiteRef<'_>>,
    ) -> PathInfo {
        let [site_mount, site_first, site_child] = SiteRef::names(site);
        PathInfo {
            names: Packed::new([
                Some(names.path),
                Some(names.secret),
                Some(names.mount),
                names.namespace,
                names.tenant,
                site_mount,
                site_first,
                site_child,
            ]),
            mount_source,
            kind,
            site_actions: site.map(|s| s.actions),
        }
    }

    /// Where a default-segment tenant was read, for layout inference.
    pub fn site(&self) -> Option<SiteRef<'_>> {
        SiteRef::unpack(&self.names, SITE, self.site_actions)
    }

    /// The request path, namespace-qualified.
    pub fn path(&self) -> &str {
        self.names.str(PATH)
    }

    /// The logical secret name.
    pub fn secret(&self) -> &str {
        self.names.str(SECRET)
    }

    /// The mount (without namespace).
    pub fn mount(&self) -> &str {
        self.names.str(MOUNT)
    }

    /// The namespace (`request.namespace.path` without its slash), none for root.
    pub fn namespace(&self) -> Option<&str> {
        self.names.get(NAMESPACE)
    }

    /// The tenant (before layout inference).
    pub fn tenant(&self) -> Option<&str> {
        self.names.get(TENANT)
    }
}

/// A [`PathInfo`] as state files hold it.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedPath {
    path: String,
    secret: String,
    mount: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    mount_source: MountSource,
    kind: Option<SecretKind>,
    tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    site: Option<SegmentSite>,
}

impl From<SavedPath> for PathInfo {
    fn from(s: SavedPath) -> PathInfo {
        let names = PathNames {
            path: &s.path,
            secret: &s.secret,
            mount: &s.mount,
            namespace: s.namespace.as_deref(),
            tenant: s.tenant.as_deref(),
        };
        PathInfo::new(
            names,
            s.mount_source,
            s.kind,
            s.site.as_ref().map(SegmentSite::as_ref),
        )
    }
}

impl From<PathInfo> for SavedPath {
    fn from(p: PathInfo) -> SavedPath {
        SavedPath {
            path: p.path().to_string(),
            secret: p.secret().to_string(),
            mount: p.mount().to_string(),
            namespace: p.namespace().map(str::to_string),
            mount_source: p.mount_source,
            kind: p.kind,
            tenant: p.tenant().map(str::to_string),
            site: p.site().map(SegmentSite::from),
        }
    }
}

/// A lease issued to an actor.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct IssuedLease {
    /// Who.
    pub actor: Key,
    /// `response.secret.lease_id` (clear text in the log).
    pub lease_id: Box<str>,
    /// The path that issued it.
    pub path: Key,
    /// When.
    pub at: Option<Timestamp>,
    /// Where.
    pub loc: Loc,
    /// Bit `i` set when issued to a request from pivot address `i`.
    pub from_pivot_ip: u64,
}

/// Merges two optional times keeping the earlier.
pub fn earlier(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Merges two optional times keeping the later.
pub fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pair records are the largest table: the two times take 16 bytes, not 32, and the
    /// counters 4 bytes each.
    #[test]
    fn a_read_record_is_48_bytes_and_saves_as_before() {
        assert_eq!(std::mem::size_of::<ReadAgg>(), 48);
        let mut timed = ReadAgg::new(Loc::default());
        timed.count(2, 1);
        timed.times.add(Some(Timestamp(7)));
        timed.times.add(Some(Timestamp(3)));
        let untimed = ReadAgg::new(Loc::default());
        let at = |t: i64| serde_json::to_value(Timestamp(t)).unwrap();
        let none = serde_json::Value::Null;
        for (r, first, last) in [(timed, at(3), at(7)), (untimed, none.clone(), none)] {
            let json = serde_json::to_value(r).unwrap();
            assert_eq!((&json["first"], &json["last"]), (&first, &last), "{json}");
            assert_eq!(json["reads"], r.reads(), "{json}");
            assert_eq!(json["wrapped"], r.wrapped(), "{json}");
            let back: ReadAgg = serde_json::from_value(json).unwrap();
            assert_eq!(
                (back.reads(), back.wrapped(), back.times),
                (r.reads(), r.wrapped(), r.times)
            );
        }
    }

    /// A count beyond 32 bits stays at the largest one instead of wrapping to a small one.
    #[test]
    fn read_counts_saturate() {
        let mut r = ReadAgg::new(Loc::default());
        r.count(u64::from(u32::MAX) - 1, 0);
        r.count(5, u64::MAX);
        assert_eq!(
            (r.reads(), r.wrapped()),
            (u64::from(u32::MAX), u64::from(u32::MAX))
        );
        let saved: SavedRead = r.into();
        let big = SavedRead {
            reads: u64::MAX,
            ..saved
        };
        assert_eq!(ReadAgg::from(big).reads(), u64::from(u32::MAX));
    }

    /// A path record keeps its eight names in one block and is saved in the layout of the
    /// records that had a field per name: a state file written before reads back the same.
    #[test]
    fn a_path_record_is_56_bytes_and_saves_as_before() {
        assert_eq!(std::mem::size_of::<PathInfo>(), 56);
        let saved_before = serde_json::json!({
            "path": "blue/kv/data/tenants/acme/db",
            "secret": "blue/kv/tenants/acme/db",
            "mount": "kv/",
            "namespace": "blue",
            "mount_source": "log",
            "kind": "kv-v2-read",
            "tenant": "tenants",
            "site": {"mount": "blue/kv/", "actions": 1, "first": "tenants", "child": "acme"}
        });
        let p: PathInfo = serde_json::from_value(saved_before.clone()).unwrap();
        assert_eq!(
            (p.path(), p.secret(), p.mount(), p.namespace(), p.tenant()),
            (
                "blue/kv/data/tenants/acme/db",
                "blue/kv/tenants/acme/db",
                "kv/",
                Some("blue"),
                Some("tenants")
            )
        );
        let site = p.site().expect("a site");
        assert_eq!(
            (site.mount, site.actions, site.first, site.child),
            ("blue/kv/", 1, "tenants", Some("acme"))
        );
        assert_eq!(serde_json::to_value(&p).unwrap(), saved_before);

        let oldest = serde_json::json!({
            "path": "sys/mounts", "secret": "sys/mounts", "mount": "sys/", "kind": null,
            "tenant": null
        });
        let p: PathInfo = serde_json::from_value(oldest).unwrap();
        assert_eq!((p.namespace(), p.tenant(), p.kind), (None, None, None));
        assert!(p.site().is_none());
        assert_eq!(p.mount_source, MountSource::Log);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json.get("site"), None, "{json}");
        assert_eq!(json["namespace"], serde_json::Value::Null, "{json}");
    }
}
