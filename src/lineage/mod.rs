//! Token lineage and per-token activity, gathered in the scan's single pass.
//!
//! Vault does not log a token's parent. The creator is `request.client_token_accessor` of the
//! response that carries the new token in `response.auth.accessor` (logins and
//! `auth/token/create*`). Descendants of a compromised token can appear anywhere in the log and
//! chunks are processed in any order, so the pass records compact facts about *every* token
//! (creation, use, secrets read, failures, leases) keyed by 64-bit hashes, and the lineage is
//! resolved afterwards ([`crate::blast`]). Memory grows with distinct tokens and (token, path)
//! pairs, not with the size of the log.

pub mod identity;
pub mod record;
mod shared;
mod strings;
pub mod token;
mod written;

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::detect::actor::{is_login_path, login_user};
use crate::model::cidr::Cidr;
use crate::model::secret::{
    SecretAccess, database_config_write, mount_of, secret_access, secret_target, succeeded,
};
use crate::model::{Entry, Loc, Timestamp};
use crate::persist::{PersistError, Persisted};
use crate::scan::Extension;
use crate::tenant::TenantMap;
pub use identity::{FormInfo, FormKind, Identities, canonicalize};
pub use record::*;
pub use shared::Sharing;
pub use strings::Strings;
pub use token::*;

use identity::{Anchors, Part, add_anchor, merge_anchors};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A client-address pivot: one address, or a CIDR block (the same [`Cidr`] the Sigma `cidr`
/// modifier uses, IPv4-mapped IPv6 included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpPivot {
    /// As given.
    pub text: String,
    block: Cidr,
}

impl IpPivot {
    /// Parses `203.0.113.66`, `203.0.113.0/24` or an IPv6 address or block.
    pub fn parse(s: &str) -> Result<IpPivot, crate::model::cidr::CidrError> {
        Ok(IpPivot {
            text: s.to_string(),
            block: Cidr::parse(s)?,
        })
    }

    /// True when `remote_address` (possibly `host:port` or `[v6]:port`) is in this pivot.
    pub fn matches(&self, remote_address: &str) -> bool {
        self.block.contains(remote_address)
    }
}

/// The lineage extension: what to watch, and the hasher every thread shares.
pub struct Lineage<'a> {
    hasher: foldhash::quality::FixedState,
    pivot_ips: Vec<IpPivot>,
    tenants: &'a TenantMap,
    across: Devices,
    leases: Leases,
    sharing: Sharing,
    /// The workers' state under [`Sharing::Workers`].
    shared: shared::SharedState,
}

/// Whether the pass keeps the leases issued (`response.secret.lease_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leases {
    /// Every lease, with its actor, path, time and place: `blast` lists the ones to revoke.
    Keep,
    /// None: `scan`'s suspects never read them, and on a busy log they are one record per
    /// dynamic-secret read (about 80,000 per GiB of the busy shape), churn that would grow with
    /// the log rather than with its distinct values.
    Skip,
}

/// Whether the inputs may hold several audit devices' copies of the same events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Devices {
    /// One input: nothing to join across devices.
    One,
    /// Several inputs: keep request-id samples per form to join identities across devices.
    Several,
}

/// Whether an entry is the copy the scan counts or another device's copy of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryCopy {
    /// Counted: adds to every count.
    Counted,
    /// Another copy: adds forms, evidence places and times, never counts.
    Duplicate,
}

impl EntryCopy {
    fn count(self) -> u64 {
        u64::from(self == EntryCopy::Counted)
    }
}

impl<'a> Lineage<'a> {
    /// Watches every token; `pivot_ips` (at most 64) also get per-address activity. `seed` keys
    /// the hashes: random per run, or the state file's secret seed for incremental runs, so log
    /// content cannot be crafted to collide.
    pub fn new(pivot_ips: Vec<IpPivot>, tenants: &'a TenantMap, seed: u64) -> Self {
        Lineage {
            hasher: foldhash::quality::FixedState::with_seed(seed),
            pivot_ips,
            tenants,
            across: Devices::One,
            leases: Leases::Keep,
            sharing: Sharing::PerWorker,
            shared: shared::SharedState::default(),
        }
    }

    /// Gives the scan's workers one state (see [`Sharing`]); a state per worker by default.
    pub fn sharing(mut self, sharing: Sharing) -> Self {
        self.sharing = sharing;
        self
    }

    /// Runs `f` on the state `st` stands for: itself, or the one the workers share.
    fn target<R>(&self, st: &mut LineageState, f: impl FnOnce(&mut LineageState) -> R) -> R {
        match st.target {
            shared::Target::Own => f(st),
            shared::Target::Shared => self.shared.with(f),
        }
    }

    /// Keeps or skips the leases issued (kept by default).
    pub fn leases(mut self, leases: Leases) -> Self {
        self.leases = leases;
        self
    }

    /// Joins identities across devices when the inputs may hold several.
    pub fn across(mut self, devices: Devices) -> Self {
        self.across = devices;
        self
    }

    /// The key of a string.
    pub fn key(&self, s: &str) -> Key {
        // 0 means "no token": move a real 0 elsewhere.
        self.hasher.hash_one(s).max(1)
    }

    /// The address pivots.
    pub fn pivot_ips(&self) -> &[IpPivot] {
        &self.pivot_ips
    }

    fn ip_bits(&self, addr: Option<&str>) -> u64 {
        let Some(a) = addr else { return 0 };
        self.pivot_ips
            .iter()
            .enumerate()
            .filter(|(_, p)| p.matches(a))
            .fold(0, |acc, (i, _)| acc | (1 << i))
    }
}

/// Everything the pass learned: per thread, then merged, or one state all workers write to
/// ([`Sharing::Workers`]).
#[derive(Default)]
pub struct LineageState {
    /// Strings by key.
    pub strings: Strings,
    /// Tokens by accessor key.
    pub tokens: Map<Key, TokenAgg>,
    /// Secret paths by key. Boxed: the record is ~200 bytes, and a hash table keeps a third or
    /// more of its slots spare (three times the entries' room while it grows), which cost more
    /// than the records did when they sat in the slots.
    pub paths: Map<Key, Box<PathInfo>>,
    /// Successful secret reads by (actor, path).
    pub reads: Map<(Key, Key), ReadAgg>,
    /// Failed requests by (actor, path).
    pub failures: Map<(Key, Key), FailAgg>,
    /// Reads from pivot addresses by (pivot index, actor, path).
    pub ip_reads: Map<(u8, Key, Key), ReadAgg>,
    /// Failures from pivot addresses by (pivot index, actor, path).
    pub ip_failures: Map<(u8, Key, Key), FailAgg>,
    /// Requests from each pivot address, by pivot index.
    pub ip_requests: Map<u8, IpRequests>,
    /// Leases issued.
    pub leases: Vec<IssuedLease>,
    /// Secret reads and credential requests whose response is in no input, by (actor, path):
    /// worst case they succeeded.
    pub unanswered: Map<(Key, Key), ReadAgg>,
    /// Every token form seen (accessors, token HMACs), and where.
    pub forms: Map<Key, FormInfo>,
    /// Per form, its (request id, part) samples (several inputs only).
    pub anchors: Map<Key, Anchors>,
    /// Token roles by name: the last `orphan` setting written.
    pub role_orphan: Map<Key, RoleSetting>,
    /// Reused to build a string to look up (a qualified path, joined policies), so that an
    /// entry whose values are already known allocates nothing.
    scratch: String,
    /// Where observations go: a worker's state under [`Sharing::Workers`] writes to the
    /// shared one.
    target: shared::Target,
    /// Successful writes of database connection configurations (`<mount>/config/<name>`) by
    /// (actor, path): the writer may know the engine's root credential. Kept apart from
    /// `reads`: a write returns no secret, so read counts stay what they were.
    pub config_writes: Map<(Key, Key), ReadAgg>,
    /// Secret paths a successful KV write changed (any actor), by key, each once: kept apart
    /// from `paths` so that read evidence and tenant-layout inference stay what they were.
    pub writes: Map<Key, PathInfo>,
}

/// A token role's `orphan` setting as last written in the log.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct RoleSetting {
    /// `orphan`.
    pub orphan: bool,
    /// When it was written.
    pub at: Option<Timestamp>,
    /// Where.
    pub loc: Loc,
}

impl LineageState {
    fn intern(&mut self, ext: &Lineage<'_>, s: &str) -> Key {
        let k = ext.key(s);
        self.strings.insert(k, s);
        k
    }

    /// Interns `parts` joined by `sep`, built in the scratch buffer.
    fn intern_joined<'s>(
        &mut self,
        ext: &Lineage<'_>,
        parts: impl Iterator<Item = &'s str>,
        sep: &str,
    ) -> Key {
        let mut buf = std::mem::take(&mut self.scratch);
        join_into(&mut buf, parts, sep);
        let k = self.intern(ext, &buf);
        self.scratch = buf;
        k
    }

    /// The string of a key.
    pub fn str(&self, k: Key) -> &str {
        self.strings.get(&k).unwrap_or("")
    }

    /// Interns a token form and notes where it was seen.
    fn form(&mut self, ext: &Lineage<'_>, s: &str, kind: FormKind, file: u32) -> Key {
        let k = ext.key(s);
        // A noted form's string is interned already (forms are only ever noted here, and
        // merged or restored together with their strings): one lookup for a token seen before.
        if let Some(f) = self.forms.get_mut(&k) {
            f.file = f.file.min(file);
            return k;
        }
        self.strings.insert(k, s);
        self.forms.insert(k, FormInfo { kind, file });
        k
    }

    /// Notes that `form` played `part` in request `rid`.
    fn anchor(&mut self, ext: &Lineage<'_>, form: Key, rid: Option<&str>, part: Part) {
        if ext.across == Devices::Several
            && form != NO_TOKEN
            && let Some(rid) = rid
        {
            let h = ext.hasher.hash_one((rid, part as u8));
            add_anchor(
                self.anchors
                    .entry(form)
                    .or_insert([u64::MAX; identity::ANCHORS]),
                h,
            );
        }
    }

    /// True when the token record says its creation made it an orphan.
    pub fn is_orphan(&self, c: &Creation) -> Option<OrphanCause> {
        c.orphan.or_else(|| {
            let role = self.role_orphan.get(&c.token_role?)?;
            role.orphan.then_some(OrphanCause::TokenRole)
        })
    }
}

/// Why an entry failed, if it did.
pub fn failure_of(ev: &Entry<'_>) -> Option<Failure> {
    // Most entries succeed: the path is looked at only once there is a failure to name.
    let login = || is_login_path(ev.request.path);
    if let Some(e) = ev.error {
        let login = login();
        if e.contains("permission denied") && !login {
            return Some(Failure::PermissionDenied);
        }
        if e.contains("invalid token") || e.contains("bad token") || e.contains("token expired") {
            return Some(Failure::InvalidToken);
        }
        return Some(if login {
            Failure::LoginFailed
        } else {
            Failure::OtherError
        });
    }
    if ev.auth.policy_allowed == Some(false) {
        return Some(Failure::PermissionDenied);
    }
    if ev.response.has_data_error() {
        return Some(if login() {
            Failure::LoginFailed
        } else {
            Failure::OtherError
        });
    }
    None
}

/// Strings un-interned and locations absolute; address-pivot data is dropped when the pivots
/// changed.
impl Persisted for LineageState {
    type Saved = LineageSnapshot;
    type With<'a> = &'a Lineage<'a>;

    fn save(
        &self,
        lineage: &Lineage<'_>,
        absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<LineageSnapshot, PersistError> {
        Ok(LineageSnapshot::of(self, lineage, absolute))
    }

    fn restore(
        saved: LineageSnapshot,
        lineage: &Lineage<'_>,
    ) -> Result<LineageState, PersistError> {
        Ok(saved.into_state(lineage))
    }
}

impl Extension for Lineage<'_> {
    type State = LineageState;

    fn new_state(&self) -> LineageState {
        LineageState {
            target: match self.sharing {
                Sharing::PerWorker => shared::Target::Own,
                Sharing::Workers => shared::Target::Shared,
            },
            ..LineageState::default()
        }
    }

    fn logical(
        &self,
        st: &mut LineageState,
        ev: &Entry<'_>,
        access: Option<&SecretAccess<'_>>,
        loc: Loc,
    ) {
        self.target(st, |st| {
            self.observe(st, ev, access.copied(), loc, EntryCopy::Counted)
        });
    }

    fn duplicate(&self, st: &mut LineageState, ev: &Entry<'_>, loc: Loc) {
        self.target(st, |st| {
            self.observe(st, ev, secret_access(ev), loc, EntryCopy::Duplicate)
        });
    }

    fn unanswered(&self, st: &mut LineageState, ev: &Entry<'_>, loc: Loc) {
        self.target(st, |st| self.unanswered_read(st, ev, loc));
    }

    fn save(
        &self,
        st: &LineageState,
        absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<serde_json::Value, PersistError> {
        crate::persist::to_json("lineage", &st.save(self, absolute)?)
    }

    fn restore(&self, saved: serde_json::Value) -> Result<LineageState, PersistError> {
        if saved.is_null() {
            return Ok(LineageState::default());
        }
        LineageState::restore(crate::persist::from_json("lineage", saved)?, self)
    }

    fn merge(&self, into: &mut LineageState, o: LineageState) {
        // Merges come after the workers of a phase have stopped: what they wrote to the shared
        // state joins the merged one, which from now on is written to directly (requests left
        // unanswered at the end of the scan).
        into.target = shared::Target::Own;
        self.absorb(into, self.shared.take());
        self.absorb(into, o);
    }
}

impl LineageState {
    /// Records of every kind: what merging walks.
    fn records(&self) -> usize {
        self.strings.len() + self.tokens.len() + self.forms.len() + self.reads.len()
    }
}

impl Lineage<'_> {
    /// Merges `o` into `into`, walking the smaller of the two (the result is the same either
    /// way): taking over the shared state copies nothing.
    fn absorb(&self, into: &mut LineageState, mut o: LineageState) {
        if o.records() > into.records() {
            std::mem::swap(into, &mut o);
            into.target = o.target;
        }
        self.merge_states(into, o);
    }

    /// A request whose response is in no input: worst case the read succeeded.
    fn unanswered_read(&self, st: &mut LineageState, ev: &Entry<'_>, loc: Loc) {
        let Some(target) = secret_target(ev) else {
            return;
        };
        let actor = self.actor(st, ev, loc);
        let pk = self.path_key(st, ev, Some(target.kind));
        add_read(
            st.unanswered.entry((actor, pk)),
            ev.time,
            loc,
            EntryCopy::Counted,
            false,
        );
    }

    fn merge_states(&self, into: &mut LineageState, o: LineageState) {
        into.strings.merge(o.strings);
        for (k, v) in o.paths {
            // Whichever thread saw the path with a kind describes it, whatever the merge order.
            match into.paths.entry(k) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v);
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    if e.get().kind.is_none() && v.kind.is_some() {
                        e.insert(v);
                    }
                }
            }
        }
        for (k, t) in o.tokens {
            match into.tokens.get_mut(&k) {
                None => {
                    into.tokens.insert(k, t);
                }
                Some(m) => merge_token(m, t),
            }
        }
        for (k, r) in o.reads {
            merge_read(into.reads.entry(k), r);
        }
        for (k, r) in o.ip_reads {
            merge_read(into.ip_reads.entry(k), r);
        }
        for (k, f) in o.failures {
            merge_fail(into.failures.entry(k), f);
        }
        for (k, f) in o.ip_failures {
            merge_fail(into.ip_failures.entry(k), f);
        }
        for (k, r) in o.ip_requests {
            into.ip_requests
                .entry(k)
                .or_default()
                .add(r.count, r.first, r.last);
        }
        into.leases.reserve_exact(o.leases.len());
        into.leases.extend(o.leases);
        for (k, r) in o.unanswered {
            merge_read(into.unanswered.entry(k), r);
        }
        for (k, f) in o.forms {
            let m = into.forms.entry(k).or_insert(f);
            m.file = m.file.min(f.file);
        }
        for (k, a) in o.anchors {
            merge_anchors(
                into.anchors
                    .entry(k)
                    .or_insert([u64::MAX; identity::ANCHORS]),
                &a,
            );
        }
        for (k, r) in o.role_orphan {
            merge_role(into.role_orphan.entry(k), r);
        }
        for (k, r) in o.config_writes {
            merge_read(into.config_writes.entry(k), r);
        }
        for (k, w) in o.writes {
            into.writes.entry(k).or_insert(w);
        }
    }
}

/// `parts` joined by `sep`, written over `buf`.
fn join_into<'s>(buf: &mut String, parts: impl Iterator<Item = &'s str>, sep: &str) {
    buf.clear();
    for (i, p) in parts.enumerate() {
        if i > 0 {
            buf.push_str(sep);
        }
        buf.push_str(p);
    }
}

fn merge_role(e: std::collections::hash_map::Entry<'_, Key, RoleSetting>, r: RoleSetting) {
    let m = e.or_insert(r);
    // The last write is in force; ties by place, whatever the merge order.
    if (r.at, r.loc) > (m.at, m.loc) {
        *m = r;
    }
}

impl Lineage<'_> {
    /// Everything one copy of a logical request says; `access` is its
    /// [`secret_access`], which the scan finds once for all analyses.
    fn observe(
        &self,
        st: &mut LineageState,
        ev: &Entry<'_>,
        access: Option<SecretAccess<'_>>,
        loc: Loc,
        copy: EntryCopy,
    ) {
        let rid = ev.request.id;
        let actor = self.actor(st, ev, loc);
        st.anchor(self, actor, rid, Part::Caller);
        let ip_bits = self.ip_bits(ev.request.remote_address);
        let failure = failure_of(ev);
        if actor != NO_TOKEN {
            self.use_token(st, actor, ev, loc, ip_bits, failure.is_some(), copy);
        }
        for i in bits(ip_bits) {
            st.ip_requests
                .entry(i)
                .or_default()
                .add(copy.count(), ev.time, ev.time);
        }
        if let Some(new) = ev.response.auth.filter(|_| succeeded(ev))
            && let Some((child, kind)) = new
                .accessor
                .map(|a| (a, FormKind::Accessor))
                .or(new.client_token.map(|t| (t, FormKind::TokenHmac)))
        {
            let child = st.form(self, child, kind, loc.file);
            st.anchor(self, child, rid, Part::Created);
            self.creation(
                st,
                actor,
                child,
                ev,
                &new,
                loc,
                CreatedVia::of(ev.request.path),
            );
        }
        if succeeded(ev) && ev.response.is_wrapped() {
            self.wrapping(st, actor, ev, loc);
        }
        if let Some(f) = failure {
            let pk = self.path_key(st, ev, None);
            add_failure(st.failures.entry((actor, pk)), f, ev.time, loc, copy);
            for i in bits(ip_bits) {
                add_failure(st.ip_failures.entry((i, actor, pk)), f, ev.time, loc, copy);
            }
            return;
        }
        if ev.is_response() && succeeded(ev) {
            self.role_setting(st, ev, loc);
            self.written(st, ev);
        }
        if database_config_write(ev).is_some() {
            let pk = self.path_key(st, ev, None);
            add_read(
                st.config_writes.entry((actor, pk)),
                ev.time,
                loc,
                copy,
                false,
            );
        }
        // An unwrap returns what the wrapped read returned: that read already counts.
        let access = access.filter(|_| !ev.request.path.starts_with("sys/wrapping/"));
        if let Some(access) = &access {
            let pk = self.path_key(st, ev, Some(access.kind));
            let wrapped = ev.response.is_wrapped();
            add_read(st.reads.entry((actor, pk)), ev.time, loc, copy, wrapped);
            for i in bits(ip_bits) {
                add_read(
                    st.ip_reads.entry((i, actor, pk)),
                    ev.time,
                    loc,
                    copy,
                    wrapped,
                );
            }
        }
        if let Some(lease) = ev
            .response
            .lease_id
            .filter(|_| ev.is_response() && self.leases == Leases::Keep)
        {
            let path = self.path_key(st, ev, access.map(|a| a.kind));
            if st.leases.len() == st.leases.capacity() {
                // Half a million leases in 10 GB of a busy cluster: grow by half, not double.
                st.leases.reserve_exact((st.leases.len() / 2).max(16));
            }
            st.leases.push(IssuedLease {
                actor,
                lease_id: lease.into(),
                path,
                at: ev.time,
                loc,
                from_pivot_ip: ip_bits,
            });
        }
    }

    /// The caller's key: its accessor, or for batch tokens (which have none) its HMAC.
    fn actor(&self, st: &mut LineageState, ev: &Entry<'_>, loc: Loc) -> Key {
        if let Some(a) = ev.auth.token.accessor.or(ev.request.client_token_accessor) {
            return st.form(self, a, FormKind::Accessor, loc.file);
        }
        match ev.auth.token.client_token.or(ev.request.client_token) {
            Some(t) => st.form(self, t, FormKind::TokenHmac, loc.file),
            None => NO_TOKEN,
        }
    }

    /// A wrapped response hands out a wrapping token: a token of the caller's lineage.
    fn wrapping(&self, st: &mut LineageState, actor: Key, ev: &Entry<'_>, loc: Loc) {
        let r = &ev.response;
        let form = r
            .wrap_accessor
            .map(|a| (a, FormKind::Accessor))
            .or(r.wrap_token.map(|t| (t, FormKind::TokenHmac)));
        let Some((form, kind)) = form else { return };
        let child = st.form(self, form, kind, loc.file);
        st.anchor(self, child, ev.request.id, Part::Wrapping);
        let new = crate::model::TokenInfo {
            client_token: r.wrap_token,
            accessor: r.wrap_accessor,
            ..Default::default()
        };
        self.creation(
            st,
            actor,
            child,
            ev,
            &new,
            loc,
            CreatedVia::ResponseWrapping,
        );
    }

    /// `auth/token/roles/<name>` written with `orphan`: tokens created through it are orphans.
    fn role_setting(&self, st: &mut LineageState, ev: &Entry<'_>, loc: Loc) {
        let Some(name) = ev.request.path.strip_prefix("auth/token/roles/") else {
            return;
        };
        if !ev.request.operation.is_write() || name.is_empty() || name.contains('/') {
            return;
        }
        let Some(orphan) = ev
            .request
            .data
            .and_then(|d| d.get("orphan"))
            .and_then(|v| v.as_bool())
        else {
            return;
        };
        let k = st.intern(self, name);
        merge_role(
            st.role_orphan.entry(k),
            RoleSetting {
                orphan,
                at: ev.time,
                loc,
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn use_token(
        &self,
        st: &mut LineageState,
        actor: Key,
        ev: &Entry<'_>,
        loc: Loc,
        ip_bits: u64,
        failed: bool,
        copy: EntryCopy,
    ) {
        let tok = &ev.auth.token;
        // Every form is noted (identities join on them), whether or not the record keeps it.
        let client_token = tok
            .client_token
            .or(ev.request.client_token)
            .map(|s| st.form(self, s, FormKind::TokenHmac, loc.file));
        // The record keeps the first value of each attribute: a token's later requests intern
        // only what it still lacks, not the same display name and policies on every request.
        let known = st.tokens.get(&actor).map_or_else(Known::default, Known::of);
        let display = tok
            .display_name
            .filter(|_| !known.display_name)
            .map(|s| st.intern(self, s));
        let entity = tok
            .entity_id
            .filter(|_| !known.entity_id)
            .map(|s| st.intern(self, s));
        let ttype = tok
            .token_type
            .filter(|_| !known.token_type)
            .map(|s| st.intern(self, s));
        let policies = (!known.policies && !tok.policies.is_empty())
            .then(|| st.intern_joined(self, tok.policies.strs(), ","));
        let addr = ev
            .request
            .remote_address
            .filter(|_| !known.addresses_closed)
            .map(|a| st.intern(self, a));
        let t = st.tokens.entry(actor).or_default();
        t.requests += copy.count();
        t.failed += u64::from(failed) * copy.count();
        t.uses.add(ev.time);
        t.from_pivot_ip |= ip_bits;
        t.client_token = t.client_token.or(client_token.and_then(string_key));
        t.display_name = t.display_name.or(display.and_then(string_key));
        t.entity_id = t.entity_id.or(entity.and_then(string_key));
        t.token_type = t.token_type.or(ttype.and_then(string_key));
        t.policies = t.policies.or(policies.and_then(string_key));
        if let Some(a) = addr {
            t.addresses.add(a);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn creation(
        &self,
        st: &mut LineageState,
        actor: Key,
        child: Key,
        ev: &Entry<'_>,
        new: &crate::model::TokenInfo<'_>,
        loc: Loc,
        via: CreatedVia,
    ) {
        let path = ev.request.path;
        let (orphan, token_role) = self.orphan_of(st, ev, via);
        let creation = Creation {
            parent: (actor != NO_TOKEN && actor != child).then_some(actor),
            at: ev.time,
            loc,
            path: st.intern(self, path),
            via,
            remote_address: ev.request.remote_address.map(|a| st.intern(self, a)),
            role: new
                .meta("role_name")
                .or_else(|| new.meta("role"))
                .map(|r| st.intern(self, r)),
            user: new
                .meta("username")
                .or_else(|| login_user(path))
                .map(|u| st.intern(self, u)),
            mount: (via == CreatedVia::Login).then(|| st.intern(self, mount_of(ev).mount)),
            orphan,
            token_role,
            namespace: ev.request.namespace().map(|ns| st.intern(self, ns)),
            token_policies: (!new.token_policies.is_empty())
                .then(|| st.intern_joined(self, new.token_policies.strs(), ",")),
            identity_policies: (!new.identity_policies.is_empty())
                .then(|| st.intern_joined(self, new.identity_policies.strs(), ",")),
        };
        let client_token = new
            .client_token
            .map(|s| st.form(self, s, FormKind::TokenHmac, loc.file));
        let display = new.display_name.map(|s| st.intern(self, s));
        let entity = new.entity_id.map(|s| st.intern(self, s));
        let ttype = new.token_type.map(|s| st.intern(self, s));
        let policies =
            (!new.policies.is_empty()).then(|| st.intern_joined(self, new.policies.strs(), ","));
        let t = st.tokens.entry(child).or_default();
        t.client_token = client_token.and_then(string_key).or(t.client_token);
        t.display_name = display.and_then(string_key).or(t.display_name);
        t.entity_id = entity.and_then(string_key).or(t.entity_id);
        t.token_type = ttype.and_then(string_key).or(t.token_type);
        t.policies = policies.and_then(string_key).or(t.policies);
        let earlier_creation = t
            .created
            .as_ref()
            .is_none_or(|c| (ev.time, loc) < (c.at, c.loc));
        if earlier_creation {
            t.created = Some(Box::new(creation));
        }
    }

    /// What the creating request says about the new token having no parent.
    fn orphan_of(
        &self,
        st: &mut LineageState,
        ev: &Entry<'_>,
        via: CreatedVia,
    ) -> (Option<OrphanCause>, Option<Key>) {
        if via != CreatedVia::TokenCreate {
            return (None, None);
        }
        let rest = ev.request.path.trim_start_matches("auth/token/create");
        if rest == "-orphan" {
            return (Some(OrphanCause::CreateOrphan), None);
        }
        let no_parent = ev
            .request
            .data
            .and_then(|d| d.get("no_parent"))
            .and_then(|v| v.as_bool())
            == Some(true);
        if no_parent {
            return (Some(OrphanCause::NoParent), None);
        }
        let role = rest
            .strip_prefix('/')
            .filter(|r| !r.is_empty())
            .map(|r| st.intern(self, r));
        (None, role)
    }

    fn path_key(
        &self,
        st: &mut LineageState,
        ev: &Entry<'_>,
        kind: Option<crate::model::secret::SecretKind>,
    ) -> Key {
        let ns = ev.request.namespace();
        let mut buf = std::mem::take(&mut st.scratch);
        join_into(&mut buf, ns.into_iter().chain([ev.request.path]), "/");
        let k = self.key(&buf);
        // A path first seen failing has no kind, hence no tenant or logical name: the first
        // access with a kind describes it fully (the tenant and name follow from the kind).
        let known = matches!(st.paths.get(&k), Some(info) if info.kind.is_some() || kind.is_none());
        let qualified = if known { String::new() } else { buf.clone() };
        st.scratch = buf;
        if known {
            return k;
        }
        let m = mount_of(ev);
        let attribution = kind
            .map(|kind| self.tenants.attribute(ns, ev.request.path, &m, kind))
            .unwrap_or_default();
        let secret = match (kind, ns) {
            (Some(kind), Some(ns)) => {
                format!("{ns}/{}", crate::model::secret::logical_path(&m, kind))
            }
            (Some(kind), None) => crate::model::secret::logical_path(&m, kind),
            (None, _) => qualified.clone(),
        };
        st.paths.insert(
            k,
            Box::new(PathInfo::new(
                PathNames {
                    path: &qualified,
                    secret: &secret,
                    mount: m.mount,
                    namespace: ns,
                    tenant: attribution.tenant.as_deref(),
                },
                m.source,
                kind,
                attribution.site_ref(),
            )),
        );
        k
    }
}

/// The lineage state as plain data, for incremental runs.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct LineageSnapshot {
    strings: Vec<(Key, String)>,
    tokens: Vec<(Key, TokenAgg)>,
    paths: Vec<(Key, PathInfo)>,
    reads: Vec<(Key, Key, ReadAgg)>,
    failures: Vec<(Key, Key, FailAgg)>,
    /// Address-pivot data only means something for the same pivots.
    pivot_ips: Vec<String>,
    ip_reads: Vec<(u8, Key, Key, ReadAgg)>,
    ip_failures: Vec<(u8, Key, Key, FailAgg)>,
    /// (pivot index, count, first, last): the state file's layout.
    ip_requests: Vec<(u8, u64, Option<Timestamp>, Option<Timestamp>)>,
    leases: Vec<IssuedLease>,
    #[serde(default)]
    unanswered: Vec<(Key, Key, ReadAgg)>,
    #[serde(default)]
    forms: Vec<(Key, FormInfo)>,
    #[serde(default)]
    role_orphan: Vec<(Key, RoleSetting)>,
    #[serde(default)]
    config_writes: Vec<(Key, Key, ReadAgg)>,
    #[serde(default)]
    writes: Vec<(Key, PathInfo)>,
}

impl LineageSnapshot {
    fn of(st: &LineageState, ext: &Lineage<'_>, abs: &dyn Fn(Loc) -> Loc) -> Self {
        let mut tokens: Vec<(Key, TokenAgg)> =
            st.tokens.iter().map(|(k, t)| (*k, t.clone())).collect();
        for (_, t) in &mut tokens {
            if let Some(c) = &mut t.created {
                c.loc = abs(c.loc);
            }
        }
        let read = |r: &ReadAgg| {
            let mut out = *r;
            out.loc = abs(r.loc);
            out
        };
        let fail = |f: &FailAgg| FailAgg {
            loc: abs(f.loc),
            ..*f
        };
        LineageSnapshot {
            strings: st.strings.iter().map(|(k, v)| (k, v.to_string())).collect(),
            tokens,
            paths: st
                .paths
                .iter()
                .map(|(k, p)| (*k, PathInfo::clone(p)))
                .collect(),
            reads: st
                .reads
                .iter()
                .map(|((a, p), r)| (*a, *p, read(r)))
                .collect(),
            failures: st
                .failures
                .iter()
                .map(|((a, p), f)| (*a, *p, fail(f)))
                .collect(),
            pivot_ips: ext.pivot_ips.iter().map(|p| p.text.clone()).collect(),
            ip_reads: st
                .ip_reads
                .iter()
                .map(|((i, a, p), r)| (*i, *a, *p, read(r)))
                .collect(),
            ip_failures: st
                .ip_failures
                .iter()
                .map(|((i, a, p), f)| (*i, *a, *p, fail(f)))
                .collect(),
            ip_requests: st
                .ip_requests
                .iter()
                .map(|(i, r)| (*i, r.count, r.first, r.last))
                .collect(),
            leases: st
                .leases
                .iter()
                .map(|l| IssuedLease {
                    loc: abs(l.loc),
                    ..l.clone()
                })
                .collect(),
            unanswered: st
                .unanswered
                .iter()
                .map(|((a, p), r)| (*a, *p, read(r)))
                .collect(),
            forms: st.forms.iter().map(|(k, f)| (*k, *f)).collect(),
            config_writes: st
                .config_writes
                .iter()
                .map(|((a, p), r)| (*a, *p, read(r)))
                .collect(),
            writes: st.writes.iter().map(|(k, w)| (*k, w.clone())).collect(),
            role_orphan: st
                .role_orphan
                .iter()
                .map(|(k, r)| {
                    (
                        *k,
                        RoleSetting {
                            loc: abs(r.loc),
                            ..*r
                        },
                    )
                })
                .collect(),
        }
    }

    fn into_state(self, ext: &Lineage<'_>) -> LineageState {
        let same_pivots = self.pivot_ips
            == ext
                .pivot_ips
                .iter()
                .map(|p| p.text.clone())
                .collect::<Vec<_>>();
        let mut st = LineageState::default();
        st.strings
            .extend(self.strings.iter().map(|(k, v)| (*k, v.as_str())));
        st.tokens.extend(self.tokens);
        st.paths
            .extend(self.paths.into_iter().map(|(k, p)| (k, Box::new(p))));
        st.writes.extend(self.writes);
        st.forms.extend(self.forms);
        st.role_orphan.extend(self.role_orphan);
        st.reads
            .extend(self.reads.into_iter().map(|(a, p, r)| ((a, p), r)));
        st.failures
            .extend(self.failures.into_iter().map(|(a, p, f)| ((a, p), f)));
        st.unanswered
            .extend(self.unanswered.into_iter().map(|(a, p, r)| ((a, p), r)));
        st.config_writes
            .extend(self.config_writes.into_iter().map(|(a, p, r)| ((a, p), r)));
        if same_pivots {
            st.ip_reads
                .extend(self.ip_reads.into_iter().map(|(i, a, p, r)| ((i, a, p), r)));
            st.ip_failures.extend(
                self.ip_failures
                    .into_iter()
                    .map(|(i, a, p, f)| ((i, a, p), f)),
            );
            st.ip_requests.extend(
                self.ip_requests
                    .into_iter()
                    .map(|(i, count, first, last)| (i, IpRequests { count, first, last })),
            );
        }
        st.leases = self
            .leases
            .into_iter()
            .map(|mut l| {
                if !same_pivots {
                    l.from_pivot_ip = 0;
                }
                l
            })
            .collect();
        st
    }
}

/// The set bits of `mask`, lowest first (most entries come from no pivot address: no bit).
fn bits(mask: u64) -> impl Iterator<Item = u8> {
    let mut rest = mask;
    std::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let i = rest.trailing_zeros() as u8;
        rest &= rest - 1;
        Some(i)
    })
}

/// Which attributes a token record already holds, so a request need not intern them again.
#[derive(Default)]
struct Known {
    display_name: bool,
    entity_id: bool,
    token_type: bool,
    policies: bool,
    /// The address list is full and marked as such: another address changes nothing.
    addresses_closed: bool,
}

impl Known {
    fn of(t: &TokenAgg) -> Known {
        Known {
            display_name: t.display_name.is_some(),
            entity_id: t.entity_id.is_some(),
            token_type: t.token_type.is_some(),
            policies: t.policies.is_some(),
            addresses_closed: t.addresses.more() && t.addresses.len() >= ADDRESSES_PER_TOKEN,
        }
    }
}

fn add_read<K>(
    e: std::collections::hash_map::Entry<'_, K, ReadAgg>,
    at: Option<Timestamp>,
    loc: Loc,
    copy: EntryCopy,
    wrapped: bool,
) {
    let r = e.or_insert(ReadAgg::new(loc));
    r.count(copy.count(), copy.count() * u64::from(wrapped));
    r.times.add(at);
    r.loc = r.loc.min(loc);
}

fn add_failure<K>(
    e: std::collections::hash_map::Entry<'_, K, FailAgg>,
    f: Failure,
    at: Option<Timestamp>,
    loc: Loc,
    copy: EntryCopy,
) {
    let r = e.or_insert(FailAgg {
        count: 0,
        first: None,
        last: None,
        reason: f,
        loc,
    });
    r.count += copy.count();
    r.first = earlier(r.first, at);
    r.last = later(r.last, at);
    r.reason = r.reason.min(f);
    r.loc = r.loc.min(loc);
}

fn merge_read<K>(e: std::collections::hash_map::Entry<'_, K, ReadAgg>, o: ReadAgg) {
    let r = e.or_insert(ReadAgg::new(o.loc));
    r.count(o.reads(), o.wrapped());
    r.times.merge(o.times);
    r.loc = r.loc.min(o.loc);
}

fn merge_fail<K>(e: std::collections::hash_map::Entry<'_, K, FailAgg>, o: FailAgg) {
    let r = e.or_insert(FailAgg {
        count: 0,
        first: None,
        last: None,
        reason: o.reason,
        loc: o.loc,
    });
    r.count += o.count;
    r.first = earlier(r.first, o.first);
    r.last = later(r.last, o.last);
    r.reason = r.reason.min(o.reason);
    r.loc = r.loc.min(o.loc);
}

fn merge_token(m: &mut TokenAgg, t: TokenAgg) {
    m.client_token = m.client_token.or(t.client_token);
    m.display_name = m.display_name.or(t.display_name);
    m.entity_id = m.entity_id.or(t.entity_id);
    m.token_type = m.token_type.or(t.token_type);
    m.policies = m.policies.or(t.policies);
    m.created = match (m.created.take(), t.created) {
        (Some(a), Some(b)) => Some(if (b.at, b.loc) < (a.at, a.loc) { b } else { a }),
        (a, b) => a.or(b),
    };
    m.uses.merge(t.uses);
    m.requests += t.requests;
    m.failed += t.failed;
    m.from_pivot_ip |= t.from_pivot_ip;
    m.addresses.merge(&t.addresses);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Parser;

    /// Runs `lines` through the lineage pass, in order, one thread.
    fn observe_all(lineage: &Lineage<'_>, lines: &[String]) -> LineageState {
        let mut st = [lineage.new_state()];
        observe_dealt(lineage, lines, &mut st);
        let [st] = st;
        st
    }

    /// Runs `lines` through the lineage pass in order, line `i` into `states[i % n]`.
    fn observe_dealt(lineage: &Lineage<'_>, lines: &[String], states: &mut [LineageState]) {
        let mut p = Parser::new();
        for (i, line) in lines.iter().enumerate() {
            let loc = Loc {
                offset: i as u64,
                ..Loc::default()
            };
            let st = &mut states[i % states.len()];
            p.parse_one(line.as_bytes(), |r| {
                let ev = r.unwrap();
                lineage.logical(st, &ev, secret_access(&ev).as_ref(), loc);
            });
        }
    }

    fn read(auth: &str, addr: &str) -> String {
        format!(
            r#"{{"time":"2024-05-01T10:00:00Z","type":"response","auth":{{"accessor":"hmac-sha256:acc"{auth}}},"request":{{"id":"r","operation":"read","path":"kv/data/a","remote_address":"{addr}"}}}}"#
        )
    }

    /// Reads of `path` by the token of accessor `acc`, from `addr`.
    fn read_by(acc: &str, path: &str, addr: &str) -> String {
        format!(
            r#"{{"time":"2024-05-01T10:00:00Z","type":"response","auth":{{"accessor":"hmac-sha256:{acc}","display_name":"d-{acc}"}},"request":{{"id":"r","operation":"read","path":"kv/data/{path}","remote_address":"{addr}"}},"response":{{"data":{{}}}}}}"#
        )
    }

    /// What a state holds, for comparing two.
    #[derive(Debug, PartialEq)]
    struct Summary {
        tokens: usize,
        strings: usize,
        /// (actor, path), read count and earliest place, by key.
        reads: Vec<((Key, Key), u64, Loc)>,
    }

    fn summary(st: &LineageState) -> Summary {
        let mut reads: Vec<_> = st
            .reads
            .iter()
            .map(|(k, r)| (*k, r.reads(), r.loc))
            .collect();
        reads.sort_by_key(|r| r.0);
        Summary {
            tokens: st.tokens.len(),
            strings: st.strings.len(),
            reads,
        }
    }

    #[test]
    fn workers_sharing_one_state_end_with_what_a_state_per_worker_holds() {
        let tenants = TenantMap::default();
        let lines: Vec<String> = (0..60)
            .map(|i| read_by(&format!("a{}", i % 7), &format!("p{}", i % 11), "10.0.0.1"))
            .collect();
        let own = observe_all(&Lineage::new(Vec::new(), &tenants, 1), &lines);
        let lineage = Lineage::new(Vec::new(), &tenants, 1).sharing(Sharing::Workers);
        let mut workers = [lineage.new_state(), lineage.new_state()];
        observe_dealt(&lineage, &lines, &mut workers);
        assert!(
            workers.iter().all(|w| w.records() == 0),
            "workers write to the shared state"
        );
        let [mut merged, other] = workers;
        lineage.merge(&mut merged, other);
        // The scan's last merge, of the restored carry: nothing more to take over.
        lineage.merge(&mut merged, LineageState::default());
        assert_eq!(summary(&merged), summary(&own));
        // 7 and 11 are coprime: each of the 60 lines reads another (token, path) pair.
        assert_eq!((own.tokens.len(), summary(&own).reads.len()), (7, 60));
        // After the merge, the state is written to directly.
        let late = [read_by("late", "p0", "10.0.0.2")];
        observe_dealt(&lineage, &late, std::slice::from_mut(&mut merged));
        assert_eq!(merged.tokens.len(), own.tokens.len() + 1);
    }

    #[test]
    fn a_token_keeps_the_first_value_of_each_attribute_and_fills_the_missing_ones() {
        let tenants = TenantMap::default();
        let lineage = Lineage::new(Vec::new(), &tenants, 1);
        let mut lines = vec![
            read(r#","display_name":"first""#, "10.0.0.1"),
            read(
                r#","display_name":"second","entity_id":"e","token_type":"service","policies":["a","b"]"#,
                "10.0.0.2",
            ),
            read(
                r#","display_name":"third","entity_id":"f","token_type":"batch","policies":["c"]"#,
                "10.0.0.3",
            ),
        ];
        // More addresses than a record keeps, then one of the kept ones and a new one again.
        for i in 4..=(ADDRESSES_PER_TOKEN as u32 + 2) {
            lines.push(read("", &format!("10.0.0.{i}")));
        }
        lines.push(read("", "10.0.0.1"));
        lines.push(read("", "10.0.0.99"));
        let st = observe_all(&lineage, &lines);
        let t = &st.tokens[&lineage.key("hmac-sha256:acc")];
        let text = |k: Option<StringKey>| k.map(|k| st.str(k.get()).to_string());
        assert_eq!(text(t.display_name).as_deref(), Some("first"));
        assert_eq!(text(t.entity_id).as_deref(), Some("e"));
        assert_eq!(text(t.token_type).as_deref(), Some("service"));
        assert_eq!(text(t.policies).as_deref(), Some("a,b"));
        assert_eq!(t.requests, lines.len() as u64);
        let addrs: Vec<&str> = t.addresses.iter().map(|k| st.str(k)).collect();
        let want: Vec<String> = (1..=ADDRESSES_PER_TOKEN)
            .map(|i| format!("10.0.0.{i}"))
            .collect();
        assert_eq!(addrs, want);
        assert!(t.addresses.more());
    }

    #[test]
    fn ip_pivots_match_addresses_ports_and_blocks() {
        let p = IpPivot::parse("203.0.113.66").unwrap();
        assert!(p.matches("203.0.113.66"));
        assert!(p.matches("203.0.113.66:4242"));
        assert!(!p.matches("203.0.113.67"));
        let block = IpPivot::parse("203.0.113.0/24").unwrap();
        assert!(block.matches("203.0.113.200") && !block.matches("203.0.114.1"));
        let v6 = IpPivot::parse("2001:db8::/32").unwrap();
        assert!(
            v6.matches("[2001:db8::10]:36778")
                && v6.matches("2001:db8::1")
                && !v6.matches("2001:db9::1")
        );
        assert!(IpPivot::parse("nope").is_err() && IpPivot::parse("10.0.0.0/33").is_err());
        // The Sigma `cidr` modifier and `--ip` agree on IPv4-mapped IPv6 (dual-stack listeners).
        assert!(block.matches("::ffff:203.0.113.66") && !block.matches("::ffff:203.0.114.1"));
    }

    /// `Leases::Skip` (what `scan` runs) keeps no lease record but still counts the read that
    /// issued it; the default keeps the lease with its actor and path.
    #[test]
    fn skipped_leases_leave_reads_counted() {
        use crate::scan::Extension;
        let line = br#"{"time":"2026-11-02T10:00:00Z","type":"response","auth":{"accessor":"hmac-sha256:aa","client_token":"hmac-sha256:bb","policies":["db"]},"request":{"id":"r1","operation":"read","mount_point":"database/","mount_type":"database","path":"database/creds/app","remote_address":"10.0.0.1"},"response":{"mount_type":"database","secret":{"lease_id":"database/creds/app/XyZ"},"data":{"password":"hmac-sha256:cc"}}}"#;
        let tenants = TenantMap::default();
        let observe = |leases| {
            let lineage = Lineage::new(Vec::new(), &tenants, 7).leases(leases);
            let mut st = lineage.new_state();
            let mut parser = crate::parse::Parser::new();
            parser.parse_one(line, |ev| {
                let ev = ev.expect("a valid entry");
                lineage.logical(&mut st, &ev, secret_access(&ev).as_ref(), Loc::default())
            });
            st
        };
        let kept = observe(Leases::Keep);
        let skipped = observe(Leases::Skip);
        assert_eq!(kept.leases.len(), 1);
        assert_eq!(&*kept.leases[0].lease_id, "database/creds/app/XyZ");
        assert!(skipped.leases.is_empty());
        let reads = |st: &LineageState| st.reads.values().map(|r| r.reads()).sum::<u64>();
        assert_eq!((reads(&kept), reads(&skipped)), (1, 1));
    }
}
