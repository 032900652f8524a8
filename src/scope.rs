//! Breach scope: which secrets were read, whose tenants they belong to, and how wide it is.
//!
//! Every successful read of secret material is recorded once per distinct path, with exact read
//! counts and times, a sample of readers and the tenant the path maps to. Tenants are computed
//! once per path (not per read), so tenant patterns cost nothing in the hot loop.

use std::collections::HashMap;
use std::sync::Arc;

use crate::collect::{Sample, SampleParts, Smallest};
use crate::detect::{Actor, ActorRef};
use crate::model::secret::{KindSet, SecretAccess, SecretKind, logical_path};
use crate::model::{Entry, Loc, Location, TimeRange, Timestamp};
use crate::packed::Packed;
use crate::persist::{PersistError, Persisted};
use crate::tenant::{SegmentSite, SiteRef, TenantLayout, TenantMap};

/// Readers listed per secret by default (`scan --max-readers`).
pub const READERS_PER_SECRET: usize = 10;
/// Distinct readers counted exactly per secret.
pub const READER_COUNT_CAP: usize = 100_000;
/// Evidence lines kept per secret.
pub const EVIDENCE_PER_SECRET: usize = 5;

struct SecretAgg {
    kind: SecretKind,
    /// The logical name, namespace and tenant, then where a default-segment tenant was read
    /// (for layout inference), in one block: the table keeps one record per distinct path.
    names: Packed<6>,
    /// The site's action words, when there is a site.
    site_actions: Option<u8>,
    reads: u64,
    /// First and last read.
    times: TimeRange,
    readers: Sample<u64, Loc, Arc<Actor>>,
    evidence: Smallest<Loc>,
}

const LOGICAL: usize = 0;
const NAMESPACE: usize = 1;
const TENANT: usize = 2;
/// The site's three names start here.
const SITE: usize = 3;

impl SecretAgg {
    fn names(
        logical: &str,
        namespace: Option<&str>,
        tenant: Option<&str>,
        site: Option<SiteRef<'_>>,
    ) -> Packed<6> {
        let [site_mount, site_first, site_child] = SiteRef::names(site);
        Packed::new([
            Some(logical),
            namespace,
            tenant,
            site_mount,
            site_first,
            site_child,
        ])
    }

    fn logical(&self) -> &str {
        self.names.str(LOGICAL)
    }

    fn namespace(&self) -> Option<&str> {
        self.names.get(NAMESPACE)
    }

    fn tenant(&self) -> Option<&str> {
        self.names.get(TENANT)
    }

    fn site(&self) -> Option<SiteRef<'_>> {
        SiteRef::unpack(&self.names, SITE, self.site_actions)
    }
}

/// Secrets read, keyed by namespace-qualified request path.
pub struct SecretTable {
    /// Boxed: a hash table keeps spare room for a third or more of its slots, and a slot
    /// holding the ~330-byte record itself made that room cost more than the records.
    map: HashMap<String, Box<SecretAgg>, foldhash::fast::RandomState>,
    /// `namespace/path` of the read being recorded, built here to look up without allocating.
    key: String,
    /// Readers kept per secret (at most [`READER_COUNT_CAP`]).
    readers_cap: usize,
    /// Every reader kept by some secret, by its key: one token reads many secrets, and each
    /// secret's sample holding its own copy of the reader's strings was most of the memory the
    /// readers took (the earliest readers of one secret are mostly those of the next).
    actors: HashMap<u64, Arc<Actor>, foldhash::fast::FixedState>,
}

impl Default for SecretTable {
    fn default() -> Self {
        SecretTable::with_readers(ReaderCap::default())
    }
}

/// How many readers a report lists per secret (`scan --max-readers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReaderCap {
    /// At most this many (at least one).
    AtMost(usize),
    /// Every distinct reader counted (up to [`READER_COUNT_CAP`] per secret).
    All,
}

impl ReaderCap {
    /// `--max-readers N`: 0 is [`ReaderCap::All`].
    pub fn from_arg(n: usize) -> ReaderCap {
        match n {
            0 => ReaderCap::All,
            n => ReaderCap::AtMost(n),
        }
    }

    /// The number of readers a secret's sample keeps.
    pub fn kept(self) -> usize {
        match self {
            ReaderCap::AtMost(n) => n.min(READER_COUNT_CAP),
            ReaderCap::All => READER_COUNT_CAP,
        }
    }

    /// As the report's settings state it: 0 for every reader.
    pub fn as_setting(self) -> usize {
        match self {
            ReaderCap::AtMost(n) => n,
            ReaderCap::All => 0,
        }
    }
}

impl Default for ReaderCap {
    fn default() -> Self {
        ReaderCap::AtMost(READERS_PER_SECRET)
    }
}

/// How widely secrets were exposed.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum BreachScope {
    /// No tenant's secrets were read.
    None,
    /// Some tenants, no more than the threshold.
    Limited,
    /// More tenants than the threshold.
    Widespread,
}

impl BreachScope {
    /// Classifies by the number of affected tenants.
    pub fn of(affected: usize, widespread_threshold: usize) -> BreachScope {
        match affected {
            0 => BreachScope::None,
            n if n > widespread_threshold => BreachScope::Widespread,
            _ => BreachScope::Limited,
        }
    }

    /// Classifies like [`BreachScope::of`], but secrets read without a tenant never leave the
    /// scope at `none`: they are somebody's, so the breach is at least `limited`.
    pub fn with_unattributed(
        affected: usize,
        unattributed: usize,
        widespread_threshold: usize,
    ) -> BreachScope {
        match BreachScope::of(affected, widespread_threshold) {
            BreachScope::None if unattributed > 0 => BreachScope::Limited,
            s => s,
        }
    }

    /// `none`, `limited` or `widespread`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreachScope::None => "none",
            BreachScope::Limited => "limited",
            BreachScope::Widespread => "widespread",
        }
    }
}

/// A secret in the report. Boxed strings and slices, not `String`s and `Vec`s: the report holds
/// one per distinct secret path, all at once, and a capacity field each cost 48 bytes of 208.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SecretRecord {
    /// The request path (namespace-qualified on Enterprise: `blue/kv/data/app`).
    pub path: Box<str>,
    /// The secret as responders name it (`kv/app` for `kv/data/app`).
    pub secret: Box<str>,
    /// What kind of read.
    pub kind: SecretKind,
    /// The namespace, if not root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Box<str>>,
    /// The tenant, if the path maps to one.
    pub tenant: Option<Box<str>>,
    /// True when the tenant is excluded (`--exclude-tenant`).
    pub tenant_excluded: bool,
    /// Successful reads.
    pub reads: u64,
    /// First read.
    pub first_read: Option<Timestamp>,
    /// Last read.
    pub last_read: Option<Timestamp>,
    /// The readers first seen earliest, first seen first: at most `--max-readers` (default
    /// [`READERS_PER_SECRET`]).
    pub readers: Box<[Arc<Actor>]>,
    /// Distinct readers (a lower bound when `readers_saturated`).
    pub readers_total: usize,
    /// Distinct readers counted but not listed in `readers`.
    pub readers_omitted: usize,
    /// True when more than [`READER_COUNT_CAP`] distinct readers were seen; left out when
    /// false (nearly always), which would add a line to every secret.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub readers_saturated: bool,
    /// Where the first reads are.
    pub evidence: Box<[Location]>,
}

/// A tenant in the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TenantRecord {
    /// The tenant.
    pub tenant: String,
    /// True when excluded from the affected list.
    pub excluded: bool,
    /// Distinct secrets read.
    pub secrets: usize,
    /// Successful reads.
    pub reads: u64,
    /// First read.
    pub first_read: Option<Timestamp>,
    /// Last read.
    pub last_read: Option<Timestamp>,
    /// Kinds of secrets read.
    pub kinds: KindSet,
}

/// One secret's aggregate as plain data, for saving between runs.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SecretSnapshot {
    /// Key: the namespace-qualified request path.
    pub path: String,
    /// Kind of access.
    pub kind: SecretKind,
    /// Logical name.
    pub logical: String,
    /// Namespace.
    pub namespace: Option<String>,
    /// Tenant.
    pub tenant: Option<String>,
    /// Where a default-segment tenant was read, for layout inference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SegmentSite>,
    /// Reads.
    pub reads: u64,
    /// First read.
    pub first: Option<Timestamp>,
    /// Last read.
    pub last: Option<Timestamp>,
    /// Readers.
    pub readers: SampleParts<u64, Loc, Arc<Actor>>,
    /// Evidence.
    pub evidence: Vec<Loc>,
}

impl SecretTable {
    /// An empty table that keeps `cap` readers per secret.
    pub fn with_readers(cap: ReaderCap) -> SecretTable {
        SecretTable {
            map: HashMap::default(),
            key: String::new(),
            readers_cap: cap.kept(),
            actors: HashMap::default(),
        }
    }
}

/// Secrets by path, sorted, with absolute evidence. Restored with this run's `--max-readers`,
/// whatever the saving run's was.
impl Persisted for SecretTable {
    type Saved = Vec<SecretSnapshot>;
    type With<'a> = ReaderCap;

    fn save(
        &self,
        _: ReaderCap,
        absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<Vec<SecretSnapshot>, PersistError> {
        let mut out: Vec<SecretSnapshot> = self
            .map
            .iter()
            .map(|(path, a)| {
                let mut readers = a.readers.to_parts();
                readers.entries.iter_mut().for_each(|e| e.1 = absolute(e.1));
                SecretSnapshot {
                    path: path.clone(),
                    kind: a.kind,
                    logical: a.logical().to_string(),
                    namespace: a.namespace().map(str::to_string),
                    tenant: a.tenant().map(str::to_string),
                    site: a.site().map(SegmentSite::from),
                    reads: a.reads,
                    first: a.times.first(),
                    last: a.times.last(),
                    readers,
                    evidence: a.evidence.iter().map(|l| absolute(*l)).collect(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn restore(snap: Vec<SecretSnapshot>, cap: ReaderCap) -> Result<SecretTable, PersistError> {
        let mut t = SecretTable::with_readers(cap);
        for mut s in snap {
            s.readers.cap = t.readers_cap;
            // Each saved sample was read back with its own copy of every reader: share them
            // again, as a scan does.
            for (key, _, actor) in &mut s.readers.entries {
                *actor = share(&mut t.actors, *key, || Arc::clone(actor));
            }
            let site = s.site.as_ref().map(SegmentSite::as_ref);
            let names = SecretAgg::names(
                &s.logical,
                s.namespace.as_deref(),
                s.tenant.as_deref(),
                site,
            );
            t.map.insert(
                s.path,
                Box::new(SecretAgg {
                    kind: s.kind,
                    names,
                    site_actions: site.map(|s| s.actions),
                    reads: s.reads,
                    times: TimeRange::of(s.first, s.last),
                    readers: Sample::from_parts(s.readers),
                    evidence: Smallest::from_items(EVIDENCE_PER_SECRET, s.evidence),
                }),
            );
        }
        Ok(t)
    }
}

impl SecretTable {
    /// Records one successful secret access.
    pub fn record(
        &mut self,
        ev: &Entry<'_>,
        access: &SecretAccess<'_>,
        loc: Loc,
        tenants: &TenantMap,
    ) {
        let ns = ev.request.namespace();
        let path = ev.request.path;
        let agg = match ns {
            None => match self.map.get_mut(path) {
                Some(a) => a,
                None => self
                    .map
                    .entry(path.to_string())
                    .or_insert_with(|| new_agg(None, path, access, tenants, self.readers_cap)),
            },
            Some(ns) => {
                self.key.clear();
                self.key.extend([ns, "/", path]);
                match self.map.get_mut(self.key.as_str()) {
                    Some(a) => a,
                    None => self.map.entry(self.key.clone()).or_insert_with(|| {
                        new_agg(Some(ns), path, access, tenants, self.readers_cap)
                    }),
                }
            }
        };
        agg.reads += 1;
        agg.times.add(ev.time);
        let reader = ActorRef::of(ev);
        let key = reader.key();
        let actors = &mut self.actors;
        agg.readers.offer(key, loc, || {
            share(actors, key, || Arc::new(reader.to_actor()))
        });
        agg.evidence.insert(loc);
    }

    /// Merges another thread's table.
    pub fn merge(&mut self, other: SecretTable) {
        for (k, o) in other.map {
            match self.map.get_mut(&k) {
                None => {
                    self.map.insert(k, o);
                }
                Some(a) => {
                    a.reads += o.reads;
                    a.times.merge(o.times);
                    a.readers.merge(o.readers);
                    a.evidence.merge(o.evidence);
                }
            }
        }
    }

    /// Merges `other` in, walking the smaller of the two tables (the result is the same
    /// either way): taking over the table the workers share copies nothing.
    pub fn absorb(&mut self, mut other: SecretTable) {
        if other.len() > self.len() {
            std::mem::swap(self, &mut other);
        }
        self.merge(other);
    }

    /// Number of distinct paths.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no secret was read.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The tenant layout inferred from every secret of the merged table (empty when
    /// `tenants` does not infer).
    pub fn tenant_layout(&self, tenants: &TenantMap) -> TenantLayout {
        if !tenants.infers_layout() {
            return TenantLayout::default();
        }
        TenantLayout::infer(self.map.values().filter_map(|a| a.site()))
    }

    /// The report's secrets (sorted by path), tenants (sorted by name) and the tenant layout
    /// inferred from the merged table, which the secrets' tenants follow.
    pub fn finish(
        self,
        tenants: &TenantMap,
        resolve: &dyn Fn(Loc) -> Location,
    ) -> (Vec<SecretRecord>, Vec<TenantRecord>, TenantLayout) {
        let layout = self.tenant_layout(tenants);
        // Sorted as (path, box) pairs, not as records: a record is five times the size, and
        // the sort moved each one a dozen times. Paths are the table's keys, so no two are equal.
        let mut sorted: Vec<(String, Box<SecretAgg>)> = self.map.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let secrets: Vec<SecretRecord> = sorted
            .into_iter()
            .map(|(path, a)| {
                let a = *a;
                let tenant = tenants.resolve(a.tenant(), a.site(), &layout);
                let excluded = tenant.as_deref().is_some_and(|t| tenants.is_excluded(t));
                let secret = Box::from(a.logical());
                let namespace = a.namespace().map(Box::from);
                let readers_total = a.readers.distinct();
                let readers_saturated = a.readers.saturated();
                let readers: Box<[Arc<Actor>]> = a
                    .readers
                    .into_sorted()
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect();
                SecretRecord {
                    path: path.into_boxed_str(),
                    secret,
                    kind: a.kind,
                    namespace,
                    tenant: tenant.map(String::into_boxed_str),
                    tenant_excluded: excluded,
                    reads: a.reads,
                    first_read: a.times.first(),
                    last_read: a.times.last(),
                    readers_omitted: readers_total.saturating_sub(readers.len()),
                    readers,
                    readers_total,
                    readers_saturated,
                    evidence: a.evidence.into_sorted().into_iter().map(resolve).collect(),
                }
            })
            .collect();
        let tenants = tenant_records(&secrets);
        (secrets, tenants, layout)
    }
}

/// The tenants of `secrets` (sorted by tenant), with their read counts and times. The secrets
/// are grouped by sorting their indices, not in a map of records: a log can have as many
/// tenants as secrets, and a map's nodes and the records' vector were both live at the end.
fn tenant_records(secrets: &[SecretRecord]) -> Vec<TenantRecord> {
    let tenant = |i: &u32| secrets[*i as usize].tenant.as_deref();
    // 4-byte indices: four billion secrets would take a terabyte of records before this.
    let mut order: Vec<u32> = (0..secrets.len() as u32)
        .filter(|i| tenant(i).is_some())
        .collect();
    order.sort_unstable_by(|a, b| (tenant(a), a).cmp(&(tenant(b), b)));
    let same = |a: &u32, b: &u32| tenant(a) == tenant(b);
    let mut out = Vec::with_capacity(order.chunk_by(same).count());
    for group in order.chunk_by(same) {
        let first = &secrets[group[0] as usize];
        let mut r = TenantRecord {
            tenant: first.tenant.as_deref().unwrap_or_default().to_string(),
            excluded: first.tenant_excluded,
            secrets: group.len(),
            reads: 0,
            first_read: None,
            last_read: None,
            kinds: KindSet::default(),
        };
        for s in group.iter().map(|i| &secrets[*i as usize]) {
            r.reads += s.reads;
            r.first_read = [r.first_read, s.first_read].into_iter().flatten().min();
            r.last_read = [r.last_read, s.last_read].into_iter().flatten().max();
            r.kinds.insert(s.kind);
        }
        out.push(r);
    }
    out
}

/// The table's record of the reader with `key`, made by `make` if it has none yet.
fn share(
    actors: &mut HashMap<u64, Arc<Actor>, foldhash::fast::FixedState>,
    key: u64,
    make: impl FnOnce() -> Arc<Actor>,
) -> Arc<Actor> {
    Arc::clone(actors.entry(key).or_insert_with(make))
}

fn new_agg(
    ns: Option<&str>,
    path: &str,
    access: &SecretAccess<'_>,
    tenants: &TenantMap,
    readers_cap: usize,
) -> Box<SecretAgg> {
    let logical = logical_path(&access.mount, access.kind);
    let attribution = tenants.attribute(ns, path, &access.mount, access.kind);
    let logical = match ns {
        Some(ns) => format!("{ns}/{logical}"),
        None => logical,
    };
    let site = attribution.site_ref();
    Box::new(SecretAgg {
        kind: access.kind,
        names: SecretAgg::names(&logical, ns, attribution.tenant.as_deref(), site),
        site_actions: site.map(|s| s.actions),
        reads: 0,
        times: TimeRange::EMPTY,
        readers: Sample::new(readers_cap, READER_COUNT_CAP),
        evidence: Smallest::new(EVIDENCE_PER_SECRET),
    })
}

/// The affected tenants: tenants with at least one secret read, minus excluded ones, sorted.
pub fn affected_tenants(tenants: &[TenantRecord]) -> Vec<String> {
    tenants
        .iter()
        .filter(|t| !t.excluded)
        .map(|t| t.tenant.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::secret::secret_access;

    /// A KV v2 read of `path` by the token with accessor `accessor`.
    fn read(path: &str, accessor: &str) -> String {
        format!(
            r#"{{"time":"2026-11-02T10:00:00Z","type":"response","auth":{{"accessor":"{accessor}","client_token":"hmac-sha256:bb","display_name":"approle","policies":["db"]}},"request":{{"id":"r1","operation":"read","mount_point":"kv/","mount_type":"kv","path":"{path}","remote_address":"10.0.0.1"}},"response":{{"data":{{"data":{{"password":"hmac-sha256:cc"}}}}}}}}"#
        )
    }

    /// One reader of many secrets is one record shared by their samples, not a copy each: the
    /// copies were most of what the readers cost. Another reader gets its own. The same holds
    /// for a table restored from a saved state.
    #[test]
    fn a_reader_of_many_secrets_is_kept_once() {
        let tenants = TenantMap::default();
        let mut table = SecretTable::default();
        let mut parser = crate::parse::Parser::new();
        for (path, accessor) in [
            ("kv/data/a", "hmac-sha256:aa"),
            ("kv/data/b", "hmac-sha256:aa"),
            ("kv/data/c", "hmac-sha256:dd"),
        ] {
            parser.parse_one(read(path, accessor).as_bytes(), |ev| {
                let ev = ev.expect("a valid entry");
                let access = secret_access(&ev).expect("a secret read");
                table.record(&ev, &access, Loc::default(), &tenants);
            });
        }
        // A table carried to the next run (read back from JSON) shares its readers again.
        let saved = table.save(ReaderCap::default(), &|l| l).unwrap();
        let json = serde_json::to_string(&saved).unwrap();
        let carried =
            SecretTable::restore(serde_json::from_str(&json).unwrap(), ReaderCap::default());
        for table in [table, carried.unwrap()] {
            let (secrets, _, _) = table.finish(&tenants, &|l| Location {
                file: "".into(),
                line: l.line_in_chunk,
                offset: l.offset,
            });
            let readers: Vec<&Arc<Actor>> = secrets.iter().map(|s| &s.readers[0]).collect();
            assert_eq!(readers[0].accessor.as_deref(), Some("hmac-sha256:aa"));
            assert!(Arc::ptr_eq(readers[0], readers[1]));
            assert!(!Arc::ptr_eq(readers[1], readers[2]));
            assert_eq!(readers[2].accessor.as_deref(), Some("hmac-sha256:dd"));
        }
    }
}
