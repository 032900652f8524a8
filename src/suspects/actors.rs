//! Lineage roots and what each one's whole lineage did, gathered from the pass's state.

use std::collections::BTreeSet;
use std::sync::Arc;
/// Keys are already hashes: a fast hasher is enough.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use super::watch::{ActorSignals, Signals, TOUCHED, Touched};
use crate::lineage::{
    CreatedVia, Failure, Key, LineageState, NO_TOKEN, StringKey, TokenAgg, earlier, later,
};
use crate::model::Timestamp;
use crate::tenant::TenantMap;

/// Who an actor is, as far as logins tell: what makes two lineage roots the "same" credential.
/// Borrowed from the lineage's strings: every root has one, and only the kept few are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Identity<'s> {
    /// An auth role (AppRole, Kubernetes, JWT) on a mount.
    Role {
        /// The auth mount.
        mount: &'s str,
        /// The role name.
        role: &'s str,
    },
    /// A user (userpass, LDAP ...) on a mount.
    User {
        /// The auth mount.
        mount: &'s str,
        /// The user name.
        user: &'s str,
    },
    /// An identity entity.
    Entity(&'s str),
    /// Only a display name (root, tokens created outside the log).
    DisplayName(&'s str),
    /// Nothing known.
    Unknown,
}

/// One lineage root and everything its lineage did.
#[derive(Clone, Debug, Default)]
pub struct RootActor {
    /// The root token's accessor key.
    pub root: Key,
    /// Tokens in the lineage, the root's included.
    pub tokens: usize,
    /// When the root was issued (login), if the log shows it.
    pub created_at: Option<Timestamp>,
    /// How the root was issued.
    pub via: Option<CreatedVia>,
    /// The login's client address.
    pub login_address: Option<Key>,
    /// The login path (`auth/userpass/login/dana`).
    pub login_path: Option<Key>,
    /// Secret path keys read, with their tenant (non-excluded) and whether it was a listing:
    /// sorted by key, each once ([`RootActor::push_read`] then [`RootActor::seal_reads`]). A
    /// sorted vector, not a tree: a busy log has a read per (token, path), and a tree's nodes
    /// cost about half as much again.
    pub(super) reads: Vec<(Key, Read)>,
    /// Successful reads.
    pub read_count: u64,
    /// Permission-denied requests.
    pub denied: u64,
    /// Control-plane attempts of the whole lineage.
    pub signals: ActorSignals,
    /// Tokens created below the root.
    pub descendants: usize,
    /// Descendants used from an address the root's login did not come from.
    pub descendants_elsewhere: usize,
    /// True when some token of the lineage carries the `root` policy.
    pub root_policy: bool,
    /// First request of the lineage.
    pub first_seen: Option<Timestamp>,
    /// Last request of the lineage.
    pub last_seen: Option<Timestamp>,
}

/// A secret path read by a lineage.
#[derive(Clone, Debug)]
pub struct Read {
    /// The tenant, unless excluded or unknown: shared by every read of its tenant.
    pub tenant: Option<Arc<str>>,
    /// True for listings (enumeration of a tenant's secrets).
    pub listing: bool,
}

impl RootActor {
    /// Adds a read; [`RootActor::seal_reads`] must run before the reads are looked at.
    pub fn push_read(&mut self, path: Key, read: Read) {
        self.reads.push((path, read));
    }

    /// Sorts the reads by path key, each path once (every token of a lineage may read it).
    pub fn seal_reads(&mut self) {
        self.reads.sort_unstable_by_key(|(k, _)| *k);
        self.reads.dedup_by_key(|(k, _)| *k);
        self.reads.shrink_to_fit();
    }

    /// The reads, by path key.
    pub fn reads(&self) -> impl Iterator<Item = (Key, &Read)> + '_ {
        self.reads.iter().map(|(k, r)| (*k, r))
    }

    /// Tenants whose secrets (not listings) were read, in order, each once.
    pub fn tenants(&self) -> Vec<&str> {
        self.tenants_where(false)
    }

    /// Tenants whose secrets were listed, in order, each once.
    pub fn listed_tenants(&self) -> Vec<&str> {
        self.tenants_where(true)
    }

    /// A sorted vector rather than a set: a root reads a few tenants, and a set cost a node
    /// per root on top of the vector it was collected from.
    fn tenants_where(&self, listing: bool) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .reads()
            .map(|(_, r)| r)
            .filter(|r| r.listing == listing)
            .filter_map(|r| r.tenant.as_deref())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Secret paths read (not listed).
    pub fn secrets(&self) -> BTreeSet<Key> {
        self.reads()
            .filter(|(_, r)| !r.listing)
            .map(|(k, _)| k)
            .collect()
    }

    /// Kinds of control-plane request the lineage made, succeeded or not.
    pub fn touched(&self) -> Vec<Touched> {
        TOUCHED
            .into_iter()
            .filter(|t| self.signals.ok(*t) + self.signals.failed(*t) > 0)
            .collect()
    }
}

/// The root of token `k` (record `t`): follows `created.parent` up (cycles and very deep
/// chains stop).
pub fn root_of(st: &LineageState, k: Key, t: &TokenAgg) -> Key {
    let mut cur = k;
    // The first step from the record in hand: most tokens have no parent in the log.
    let mut parent = t.created.as_ref().and_then(|c| c.parent);
    for _ in 0..64 {
        match parent.and_then(|p| st.tokens.get_key_value(&p)) {
            Some((&p, up)) if p != cur => {
                cur = p;
                parent = up.created.as_ref().and_then(|c| c.parent);
            }
            _ => break,
        }
    }
    cur
}

/// The root of every token.
fn roots(st: &LineageState) -> HashMap<Key, Key> {
    let mut out = HashMap::with_capacity_and_hasher(st.tokens.len(), Default::default());
    for (&k, t) in &st.tokens {
        out.insert(k, root_of(st, k, t));
    }
    out
}

/// Every client address of the lineages rooted at `roots`, each in text order (keys are seeded
/// hashes: their order changes from run to run). For the few roots shown: one pass over the
/// tokens, where keeping every root's addresses cost a set per root.
pub fn addresses_by_text(st: &LineageState, roots: &[Key]) -> Vec<Vec<Key>> {
    let index: HashMap<Key, usize> = roots.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut sets: Vec<BTreeSet<Key>> = vec![BTreeSet::new(); roots.len()];
    for (&k, t) in &st.tokens {
        if let Some(&i) = index.get(&root_of(st, k, t)) {
            sets[i].extend(t.addresses.iter());
        }
    }
    sets.into_iter()
        .map(|set| {
            let mut v: Vec<Key> = set.into_iter().collect();
            v.sort_by_key(|k| st.str(*k));
            v
        })
        .collect()
}

/// Every lineage root with its lineage's activity, in no particular order (ranking orders
/// them by keys that tell any two roots apart).
pub fn gather(st: &LineageState, signals: &Signals, tenants: &TenantMap) -> Vec<RootActor> {
    let root_of = roots(st);
    // Roots in an array, found by index: a map of the large records moved them at every
    // growth, and each token below looks its root up once. At most a root per token.
    let mut slot: HashMap<Key, usize> =
        HashMap::with_capacity_and_hasher(st.tokens.len(), Default::default());
    let mut out: Vec<RootActor> = Vec::with_capacity(st.tokens.len());
    // Per policy list, whether it names `root`: tokens share a few lists.
    let mut root_policy: HashMap<Key, bool> = HashMap::default();
    let mut actor_of: HashMap<Key, usize> =
        HashMap::with_capacity_and_hasher(st.tokens.len(), Default::default());
    // Tokens below a root, with their root's index: for `descendants_elsewhere` once every
    // root's login address is known.
    let mut below: Vec<(usize, &TokenAgg)> = Vec::new();
    for (&k, t) in &st.tokens {
        let root = root_of[&k];
        let i = *slot.entry(root).or_insert_with(|| {
            out.push(RootActor {
                root,
                ..RootActor::default()
            });
            out.len() - 1
        });
        actor_of.insert(k, i);
        let a = &mut out[i];
        a.tokens += 1;
        if k == root {
            if let Some(c) = &t.created {
                a.created_at = c.at;
                a.via = Some(c.via);
                a.login_address = c.remote_address;
                a.login_path = (c.via == CreatedVia::Login).then_some(c.path);
            }
        } else {
            below.push((i, t));
            a.descendants += 1;
        }
        a.first_seen = earlier(a.first_seen, t.first_use());
        a.last_seen = later(a.last_seen, t.last_use());
        if let Some(p) = t.policies.map(StringKey::get) {
            a.root_policy |= *root_policy
                .entry(p)
                .or_insert_with(|| st.str(p).split(',').any(|x| x == "root"));
        }
    }
    drop(root_of);
    let home: Vec<Option<Key>> = out
        .iter()
        .map(|a| {
            a.login_address
                .or_else(|| st.tokens.get(&a.root).and_then(|t| t.addresses.first()))
        })
        .collect();
    for (i, t) in below {
        if t.addresses.iter().any(|x| Some(x) != home[i]) {
            out[i].descendants_elsewhere += 1;
        }
    }
    // One shared copy of each tenant's name, not one per (root, path).
    let mut names: HashMap<&str, Arc<str>> = HashMap::default();
    for (&(actor, path), r) in &st.reads {
        let Some(&i) = actor_of.get(&actor) else {
            continue;
        };
        let a = &mut out[i];
        let info = st.paths.get(&path);
        let tenant = info
            .and_then(|p| p.tenant())
            .filter(|t| !tenants.is_excluded(t))
            .map(|t| names.entry(t).or_insert_with(|| Arc::from(t)).clone());
        let listing = info.and_then(|p| p.kind).is_some_and(|k| k.is_listing());
        a.push_read(path, Read { tenant, listing });
        a.read_count += r.reads();
    }
    out.iter_mut().for_each(RootActor::seal_reads);
    for (&(actor, _), f) in &st.failures {
        if actor == NO_TOKEN || f.reason != Failure::PermissionDenied {
            continue;
        }
        if let Some(&i) = actor_of.get(&actor) {
            out[i].denied += f.count;
        }
    }
    for (actor, s) in &signals.actors {
        if let Some(&i) = actor_of.get(actor) {
            let m = &mut out[i].signals;
            for j in 0..m.ok.len() {
                m.ok[j] += s.ok[j];
                m.failed[j] += s.failed[j];
            }
            m.first = earlier(m.first, s.first);
        }
    }
    out
}

/// The identity of a root.
pub fn identity<'s>(st: &'s LineageState, a: &RootActor) -> Identity<'s> {
    let Some(t) = st.tokens.get(&a.root) else {
        return Identity::Unknown;
    };
    let created = t.created.as_ref();
    let mount = created.and_then(|c| c.mount).map_or("", |m| st.str(m));
    if let Some(role) = created.and_then(|c| c.role) {
        return Identity::Role {
            mount,
            role: st.str(role),
        };
    }
    if let Some(user) = created.and_then(|c| c.user) {
        return Identity::User {
            mount,
            user: st.str(user),
        };
    }
    if let Some(e) = t.entity_id {
        return Identity::Entity(st.str(e.get()));
    }
    match t.display_name {
        Some(d) => Identity::DisplayName(st.str(d.get())),
        None => Identity::Unknown,
    }
}
