//! One identity per token across audit devices.
//!
//! Every audit device has its own HMAC salt, and a device with `hmac_accessor=false` logs
//! accessors in clear, so one token has a *form* per device: `hmac-sha256:…` of device A,
//! `hmac-sha256:…` of device B, the clear accessor. Devices write the same event with the same
//! `request.id`, so forms that play the same part (caller, created token, wrapping token) in
//! the same request are the same identity. The pass keeps, per form, a bottom-k sample of the
//! (request id, part) pairs it was seen in ([`Anchors`]); forms whose samples meet are joined.
//! Memory is `k` words per distinct form, not per event. Within one copy, a token's HMAC and
//! its accessor are joined too. Lineage and pivots then run on the joined identities.

/// Keys are already hashes: a fast hasher is enough.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use super::{
    Creation, IssuedLease, Key, LineageState, Map, NO_TOKEN, StringKey, TokenAgg, merge_fail,
    merge_read, merge_token, string_key,
};

/// Request-id samples kept per form.
pub const ANCHORS: usize = 4;

/// What a form is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FormKind {
    /// An accessor (HMAC'd or clear).
    Accessor,
    /// A token's HMAC (batch tokens have nothing else).
    TokenHmac,
}

/// The part a form plays in one request.
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
pub enum Part {
    /// The caller.
    Caller = 1,
    /// The token the response created.
    Created = 2,
    /// The wrapping token of a wrapped response.
    Wrapping = 3,
}

/// Where a form was seen.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct FormInfo {
    /// Accessor or token HMAC.
    pub kind: FormKind,
    /// The lowest input it was seen in (inputs are sorted by path: deterministic).
    pub file: u32,
}

/// The smallest (request id, part) hashes a form was seen with, ascending; `u64::MAX` is empty.
pub type Anchors = [u64; ANCHORS];

/// Adds `h` to a bottom-k sample.
pub fn add_anchor(a: &mut Anchors, h: u64) {
    if h >= a[ANCHORS - 1] || a.contains(&h) {
        return;
    }
    a[ANCHORS - 1] = h;
    a.sort_unstable();
}

/// Merges two bottom-k samples.
pub fn merge_anchors(into: &mut Anchors, o: &Anchors) {
    for h in o {
        add_anchor(into, *h);
    }
}

/// The identities of a lineage state: its state re-keyed on one key per identity.
#[derive(Default)]
pub struct Identities {
    /// Every form (accessors and token HMACs of every device) to its identity's key.
    pub alias: HashMap<Key, Key>,
    /// Per identity, where its forms are in `bucketed`: one array for every identity's forms,
    /// not a vector each (a busy log has about one identity per token).
    spans: HashMap<Key, FormSpan>,
    /// Every identity's forms, one identity after another.
    bucketed: Vec<Key>,
}

/// Where an identity's forms are in [`Identities`]' array.
#[derive(Clone, Copy)]
struct FormSpan {
    start: u32,
    len: u32,
}

impl Identities {
    /// The forms of identity `id`, accessors first, then by input and text (none for a key
    /// that is no identity's).
    pub fn forms(&self, id: Key) -> &[Key] {
        self.spans.get(&id).map_or(&[], |s| {
            let start = s.start as usize;
            &self.bucketed[start..start + s.len as usize]
        })
    }

    /// The identity of a form, if the log shows it.
    pub fn of(&self, form: Key) -> Option<Key> {
        self.alias.get(&form).copied()
    }
}

struct UnionFind {
    parent: HashMap<Key, Key>,
}

impl UnionFind {
    fn find(&mut self, k: Key) -> Key {
        let mut root = k;
        while let Some(&p) = self.parent.get(&root) {
            if p == root {
                break;
            }
            root = p;
        }
        // Path compression keeps later finds short.
        let mut cur = k;
        while let Some(&p) = self.parent.get(&cur) {
            if p == root {
                break;
            }
            self.parent.insert(cur, root);
            cur = p;
        }
        self.parent.entry(root).or_insert(root);
        root
    }

    fn union(&mut self, a: Key, b: Key) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // Any root will do: the identity's key is chosen afterwards, deterministically.
            self.parent.insert(ra.max(rb), ra.min(rb));
        }
    }
}

/// Joins forms into identities and re-keys the state on them.
pub fn canonicalize(st: LineageState) -> (LineageState, Identities) {
    let mut uf = UnionFind {
        parent: with_capacity(st.tokens.len() + st.forms.len()),
    };
    for k in st.tokens.keys().chain(st.forms.keys()) {
        // Every form starts as its own identity; one seen twice stays what it is.
        uf.parent.entry(*k).or_insert(*k);
    }
    // A token HMAC joins its accessor only when no other token logged it: OpenBao 2.7 logs the
    // same `auth.client_token` HMAC in every login response, so a shared one names no token.
    let mut holders: HashMap<Key, u32> = with_capacity(st.tokens.len());
    for t in st.tokens.values() {
        if let Some(tok) = t.client_token.map(StringKey::get) {
            *holders.entry(tok).or_default() += 1;
        }
    }
    for (k, t) in &st.tokens {
        if let Some(tok) = t
            .client_token
            .map(StringKey::get)
            .filter(|tok| holders.get(tok) == Some(&1))
        {
            uf.union(*k, tok);
        }
    }
    let mut by_anchor: HashMap<u64, Key> = HashMap::default();
    let mut anchored: Vec<(&Key, &Anchors)> = st.anchors.iter().collect();
    anchored.sort_unstable_by_key(|(k, _)| **k);
    for (form, anchors) in anchored {
        for h in anchors.iter().filter(|h| **h != u64::MAX) {
            match by_anchor.get(h) {
                Some(other) => uf.union(*form, *other),
                None => {
                    by_anchor.insert(*h, *form);
                }
            }
        }
    }
    let (ids, merged) = identities(&st, &mut uf);
    let state = rekey(st, &ids, &merged);
    (state, ids)
}

/// Presized: the maps of a busy log's identities would otherwise grow (and rehash) many times.
fn with_capacity<K, V>(n: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(n, Default::default())
}

/// Identities with several token records, which [`rekey`] merges into one.
type Merged = std::collections::HashSet<Key, foldhash::fast::RandomState>;

/// Each form's identity, and each identity's forms in [`rank`] order; and the identities
/// whose records merge.
fn identities(st: &LineageState, uf: &mut UnionFind) -> (Identities, Merged) {
    // Forms bucketed by identity in one array (a map of vectors cost an allocation per
    // identity): `slot` numbers the identities, `start` is where each one's bucket begins.
    let forms: Vec<(Key, Key)> = {
        let all: Vec<Key> = uf.parent.keys().copied().collect();
        all.into_iter()
            .filter(|k| *k != NO_TOKEN)
            .map(|k| (uf.find(k), k))
            .collect()
    };
    let mut slot: HashMap<Key, usize> = with_capacity(forms.len());
    let mut start: Vec<usize> = Vec::new();
    for (root, _) in &forms {
        let next = start.len();
        let s = *slot.entry(*root).or_insert(next);
        if s == next {
            start.push(0);
        }
        start[s] += 1;
    }
    // Sizes to starts, then fill each bucket in the order the forms came (as pushing did).
    let mut at = 0;
    for n in start.iter_mut() {
        (*n, at) = (at, at + *n);
    }
    let mut fill = start.clone();
    let mut bucketed = vec![NO_TOKEN; forms.len()];
    for (root, k) in &forms {
        let s = slot[root];
        bucketed[fill[s]] = *k;
        fill[s] += 1;
    }
    let mut ids = Identities {
        alias: with_capacity(forms.len()),
        spans: with_capacity(start.len()),
        bucketed: Vec::new(),
    };
    let mut merged = Merged::default();
    for (i, &from) in start.iter().enumerate() {
        let to = start.get(i + 1).copied().unwrap_or(bucketed.len());
        let forms = &mut bucketed[from..to];
        // Stable either way, so the same order: most identities have two forms, where caching
        // the keys would only add an allocation.
        if forms.len() > 8 {
            forms.sort_by_cached_key(|k| rank(st, k));
        } else {
            forms.sort_by(|a, b| rank_cmp(st, *a, *b));
        }
        // The identity's key: its best form that keys a token record (accessor unless batch).
        let mut records = forms.iter().copied().filter(|f| st.tokens.contains_key(f));
        let canon = records.next().unwrap_or(forms[0]);
        if records.next().is_some() {
            merged.insert(canon);
        }
        for f in forms.iter() {
            ids.alias.insert(*f, canon);
        }
        // Positions in a log's forms: fewer than 2^32 (each form is a distinct string).
        let span = FormSpan {
            start: from as u32,
            len: (to - from) as u32,
        };
        ids.spans.insert(canon, span);
    }
    ids.bucketed = bucketed;
    (ids, merged)
}

/// `rank(a).cmp(&rank(b))`, the texts looked up only when the kinds tie (an identity's
/// accessor and token HMAC differ in kind).
fn rank_cmp(st: &LineageState, a: Key, b: Key) -> std::cmp::Ordering {
    let kind = |k: Key| st.forms.get(&k).map_or(FormKind::Accessor, |f| f.kind);
    kind(a)
        .cmp(&kind(b))
        .then_with(|| rank(st, &a).cmp(&rank(st, &b)))
}

/// The order of an identity's forms: accessors, clear ones first (revoke commands can use them
/// as they are), then by input and text.
fn rank<'s>(st: &'s LineageState, k: &Key) -> (FormKind, bool, u32, &'s str) {
    let info = st.forms.get(k);
    let kind = info.map_or(FormKind::Accessor, |f| f.kind);
    let text = st.str(*k);
    let hashed = text.starts_with("hmac-sha256:");
    (
        kind,
        hashed,
        info.map_or(u32::MAX, |f| f.file),
        // Borrowed from the state's strings: no copy per form.
        text,
    )
}

fn rekey(mut st: LineageState, ids: &Identities, merged: &Merged) -> LineageState {
    let id = |k: Key| {
        if k == NO_TOKEN {
            k
        } else {
            ids.of(k).unwrap_or(k)
        }
    };
    // In place: most forms are their own identity, and a second copy of the token and read
    // tables was the peak of a busy scan's end. Only records whose key changes move.
    st.anchors = Map::default();
    for (k, t) in st.tokens.iter_mut() {
        if let Some(c) = t.created.as_mut() {
            c.parent = c.parent.map(id).filter(|p| *p != id(*k));
        }
    }
    // A record alone in its identity moves as it is; those of one identity merge in key
    // order, so that the merge does not depend on the map's order.
    let mut moving: Vec<(Key, TokenAgg)> = st
        .tokens
        .extract_if(|k, _| id(*k) != *k || merged.contains(&id(*k)))
        .collect();
    // Keys are distinct: sorting (key, index) pairs moves each large record once.
    moving.sort_by_cached_key(|(k, _)| *k);
    for (k, t) in moving {
        match st.tokens.get_mut(&id(k)) {
            Some(m) => merge_token(m, t),
            None => {
                st.tokens.insert(id(k), t);
            }
        }
    }
    // One token HMAC to show per identity: the best-ranked one.
    for (canon, t) in st.tokens.iter_mut() {
        // State carried from an earlier run may lack form kinds: keep what the record had.
        let had = t.client_token;
        let best = ids.forms(*canon).iter().copied().find(|f| {
            st.forms
                .get(f)
                .is_some_and(|i| i.kind == FormKind::TokenHmac)
        });
        t.client_token = best.and_then(string_key).or(had);
        t.addresses
            .sort_by(|a, b| st.strings.get(&a).cmp(&st.strings.get(&b)));
    }
    move_keys(&mut st.reads, |(a, p)| (id(a), p), merge_read);
    move_keys(&mut st.unanswered, |(a, p)| (id(a), p), merge_read);
    move_keys(&mut st.config_writes, |(a, p)| (id(a), p), merge_read);
    move_keys(&mut st.failures, |(a, p)| (id(a), p), merge_fail);
    move_keys(&mut st.ip_reads, |(i, a, p)| (i, id(a), p), merge_read);
    move_keys(&mut st.ip_failures, |(i, a, p)| (i, id(a), p), merge_fail);
    st.leases = one_per_lease(std::mem::take(&mut st.leases), &id);
    st
}

/// Moves every record whose key `to` changes to its new key, merged into what is there. The
/// new keys are fixed points of `to` (an identity's key is its own identity), so a moved record
/// is never moved twice; merges are order-independent.
fn move_keys<K, V>(
    map: &mut Map<K, V>,
    to: impl Fn(K) -> K,
    merge: impl Fn(std::collections::hash_map::Entry<'_, K, V>, V),
) where
    K: Copy + Eq + std::hash::Hash,
{
    let moving: Vec<(K, V)> = map.extract_if(|k, _| to(*k) != *k).collect();
    for (k, v) in moving {
        merge(map.entry(to(k)), v);
    }
}

/// Each device logs the lease once: keep the earliest copy (its time and place), by lease id.
fn one_per_lease(mut leases: Vec<IssuedLease>, id: &dyn Fn(Key) -> Key) -> Vec<IssuedLease> {
    for l in &mut leases {
        l.actor = id(l.actor);
    }
    // A stable sort keeps each lease's copies in the order they came: the first one is kept
    // and the others folded into it, in lease id order, in place (a long `blast` holds half a
    // million leases).
    leases.sort_by(|a, b| a.lease_id.cmp(&b.lease_id));
    leases.dedup_by(|l, kept| {
        if l.lease_id != kept.lease_id {
            return false;
        }
        if (l.at, l.loc) < (kept.at, kept.loc) {
            kept.at = l.at;
            kept.loc = l.loc;
        }
        kept.from_pivot_ip |= l.from_pivot_ip;
        true
    });
    leases
}

/// Keeps the earlier of two creations (ties: the earlier place), whatever the merge order.
pub fn earlier_creation(a: Option<Creation>, b: Option<Creation>) -> Option<Creation> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if (b.at, b.loc) < (a.at, a.loc) { b } else { a }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Loc, Timestamp};

    fn lease(id: &str, actor: Key, at: i64, line: u64, pivots: u64) -> IssuedLease {
        IssuedLease {
            actor,
            lease_id: id.into(),
            path: 1,
            at: Some(Timestamp(at)),
            loc: Loc {
                line_in_chunk: line,
                ..Loc::default()
            },
            from_pivot_ip: pivots,
        }
    }

    #[test]
    fn one_copy_per_lease_keeps_the_first_actor_and_the_earliest_place() {
        let leases = vec![
            lease("db/creds/b", 10, 50, 5, 0b01),
            lease("db/creds/a", 20, 70, 7, 0),
            lease("db/creds/b", 30, 40, 4, 0b10),
            lease("db/creds/b", 40, 60, 6, 0),
        ];
        let joined = |k: Key| if k == 30 { 10 } else { k + 1 };
        let out = one_per_lease(leases, &joined);
        let ids: Vec<&str> = out.iter().map(|l| &*l.lease_id).collect();
        assert_eq!(ids, ["db/creds/a", "db/creds/b"], "one per lease, by id");
        let b = &out[1];
        assert_eq!(b.actor, 11, "the first copy's actor, joined");
        assert_eq!(b.at, Some(Timestamp(40)), "the earliest copy's time");
        assert_eq!(b.loc.line_in_chunk, 4, "and its place");
        assert_eq!(b.from_pivot_ip, 0b11, "every copy's pivot addresses");
        assert_eq!(out[0].actor, 21);
    }
}
