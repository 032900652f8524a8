//! Token lineage and per-token activity, gathered in the scan's single pass.
//!
//! Vault does not log a token's parent. The creator is `request.client_token_accessor` of the
//! response that carries the new token in `response.auth.accessor` (logins and
//! `auth/token/create*`). Descendants of a compromised token can appear anywhere in the log and
//! chunks are processed in any order, so the pass records compact facts about *every* token
//! (creation, use, secrets read, failures, leases) keyed by 64-bit hashes, and the lineage is
//! resolved afterwards ([`crate::blast`]). Memory grows with distinct tokens and (token, path)
//! pairs, not with the size of the log.

pub mod record;

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::detect::actor::{is_login_path, login_user};
use crate::model::cidr::Cidr;
use crate::model::secret::{mount_of, secret_access, succeeded};
use crate::model::{Event, Loc, Timestamp};
use crate::scan::Extension;
use crate::tenant::TenantMap;
pub use record::*;

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
    pub fn parse(s: &str) -> Result<IpPivot, String> {
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
        }
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

/// Everything the pass learned (per thread, then merged).
#[derive(Default)]
pub struct LineageState {
    /// Strings by key.
    pub strings: Map<Key, Box<str>>,
    /// Tokens by accessor key.
    pub tokens: Map<Key, TokenAgg>,
    /// Secret paths by key.
    pub paths: Map<Key, PathInfo>,
    /// Successful secret reads by (actor, path).
    pub reads: Map<(Key, Key), ReadAgg>,
    /// Failed requests by (actor, path).
    pub failures: Map<(Key, Key), FailAgg>,
    /// Reads from pivot addresses by (pivot index, actor, path).
    pub ip_reads: Map<(u8, Key, Key), ReadAgg>,
    /// Failures from pivot addresses by (pivot index, actor, path).
    pub ip_failures: Map<(u8, Key, Key), FailAgg>,
    /// Requests from each pivot address: (count, first, last).
    pub ip_requests: Map<u8, (u64, Option<Timestamp>, Option<Timestamp>)>,
    /// Leases issued.
    pub leases: Vec<LeaseRec>,
}

impl LineageState {
    fn intern(&mut self, ext: &Lineage<'_>, s: &str) -> Key {
        let k = ext.key(s);
        self.strings.entry(k).or_insert_with(|| s.into());
        k
    }

    /// The string of a key.
    pub fn str(&self, k: Key) -> &str {
        self.strings.get(&k).map_or("", |s| s)
    }
}

/// Why an entry failed, if it did.
pub fn failure_of(ev: &Event<'_>) -> Option<Failure> {
    let login = is_login_path(ev.request.path);
    if let Some(e) = ev.error {
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
        return Some(if login {
            Failure::LoginFailed
        } else {
            Failure::OtherError
        });
    }
    None
}

impl Extension for Lineage<'_> {
    type State = LineageState;

    fn new_state(&self) -> LineageState {
        LineageState::default()
    }

    fn logical(&self, st: &mut LineageState, ev: &Event<'_>, loc: Loc) {
        let accessor = ev.auth.token.accessor.or(ev.request.client_token_accessor);
        let actor = accessor.map_or(NO_TOKEN, |a| st.intern(self, a));
        let ip_bits = self.ip_bits(ev.request.remote_address);
        let failure = failure_of(ev);
        if actor != NO_TOKEN {
            self.use_token(st, actor, ev, ip_bits, failure.is_some());
        }
        for i in bits(ip_bits) {
            let r = st.ip_requests.entry(i).or_default();
            r.0 += 1;
            r.1 = earlier(r.1, ev.time);
            r.2 = later(r.2, ev.time);
        }
        if let Some(new) = ev.response.auth.filter(|_| succeeded(ev))
            && let Some(acc) = new.accessor
        {
            self.creation(st, actor, acc, ev, &new, loc);
        }
        if let Some(f) = failure {
            let pk = self.path_key(st, ev, None);
            add_failure(st.failures.entry((actor, pk)), f, ev.time, loc);
            for i in bits(ip_bits) {
                add_failure(st.ip_failures.entry((i, actor, pk)), f, ev.time, loc);
            }
            return;
        }
        if let Some(access) = secret_access(ev) {
            let pk = self.path_key(st, ev, Some(access.kind));
            add_read(st.reads.entry((actor, pk)), ev.time, loc);
            for i in bits(ip_bits) {
                add_read(st.ip_reads.entry((i, actor, pk)), ev.time, loc);
            }
        }
        if let Some(lease) = ev.response.lease_id.filter(|_| ev.is_response()) {
            let path = self.path_key(st, ev, secret_access(ev).map(|a| a.kind));
            st.leases.push(LeaseRec {
                actor,
                lease_id: lease.to_string(),
                path,
                at: ev.time,
                loc,
                from_pivot_ip: ip_bits,
            });
        }
    }

    fn save(&self, st: &LineageState, absolute: &dyn Fn(Loc) -> Loc) -> serde_json::Value {
        serde_json::to_value(LineageSnapshot::of(st, self, absolute))
            .unwrap_or(serde_json::Value::Null)
    }

    fn load(&self, saved: serde_json::Value) -> Result<LineageState, String> {
        if saved.is_null() {
            return Ok(LineageState::default());
        }
        let snap: LineageSnapshot =
            serde_json::from_value(saved).map_err(|e| format!("lineage state: {e}"))?;
        Ok(snap.into_state(self))
    }

    fn merge(&self, into: &mut LineageState, o: LineageState) {
        into.strings.extend(o.strings);
        for (k, v) in o.paths {
            into.paths.entry(k).or_insert(v);
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
        for (k, (n, a, b)) in o.ip_requests {
            let r = into.ip_requests.entry(k).or_default();
            r.0 += n;
            r.1 = earlier(r.1, a);
            r.2 = later(r.2, b);
        }
        into.leases.extend(o.leases);
    }
}

impl Lineage<'_> {
    fn use_token(
        &self,
        st: &mut LineageState,
        actor: Key,
        ev: &Event<'_>,
        ip_bits: u64,
        failed: bool,
    ) {
        let tok = &ev.auth.token;
        let client_token = tok
            .client_token
            .or(ev.request.client_token)
            .map(|s| st.intern(self, s));
        let display = tok.display_name.map(|s| st.intern(self, s));
        let entity = tok.entity_id.map(|s| st.intern(self, s));
        let ttype = tok.token_type.map(|s| st.intern(self, s));
        let policies = (!tok.policies.is_empty()).then(|| {
            let joined = tok.policies.strs().collect::<Vec<_>>().join(",");
            st.intern(self, &joined)
        });
        let addr = ev.request.remote_address.map(|a| st.intern(self, a));
        let t = st.tokens.entry(actor).or_default();
        t.requests += 1;
        t.failed += u64::from(failed);
        t.first_use = earlier(t.first_use, ev.time);
        t.last_use = later(t.last_use, ev.time);
        t.from_pivot_ip |= ip_bits;
        t.client_token = t.client_token.or(client_token);
        t.display_name = t.display_name.or(display);
        t.entity_id = t.entity_id.or(entity);
        t.token_type = t.token_type.or(ttype);
        t.policies = t.policies.or(policies);
        if let Some(a) = addr
            && !t.addresses.contains(&a)
        {
            if t.addresses.len() < ADDRESSES_PER_TOKEN {
                t.addresses.push(a);
            } else {
                t.more_addresses = true;
            }
        }
    }

    fn creation(
        &self,
        st: &mut LineageState,
        actor: Key,
        acc: &str,
        ev: &Event<'_>,
        new: &crate::model::TokenInfo<'_>,
        loc: Loc,
    ) {
        let child = st.intern(self, acc);
        let path = ev.request.path;
        let via = if is_login_path(path) {
            CreatedVia::Login
        } else if path.starts_with("auth/token/create") {
            CreatedVia::TokenCreate
        } else {
            CreatedVia::Other
        };
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
        };
        let client_token = new.client_token.map(|s| st.intern(self, s));
        let display = new.display_name.map(|s| st.intern(self, s));
        let entity = new.entity_id.map(|s| st.intern(self, s));
        let ttype = new.token_type.map(|s| st.intern(self, s));
        let policies = (!new.policies.is_empty()).then(|| {
            let joined = new.policies.strs().collect::<Vec<_>>().join(",");
            st.intern(self, &joined)
        });
        let t = st.tokens.entry(child).or_default();
        t.client_token = client_token.or(t.client_token);
        t.display_name = display.or(t.display_name);
        t.entity_id = entity.or(t.entity_id);
        t.token_type = ttype.or(t.token_type);
        t.policies = policies.or(t.policies);
        let earlier_creation = t
            .created
            .as_ref()
            .is_none_or(|c| (ev.time, loc) < (c.at, c.loc));
        if earlier_creation {
            t.created = Some(creation);
        }
    }

    fn path_key(
        &self,
        st: &mut LineageState,
        ev: &Event<'_>,
        kind: Option<crate::model::secret::SecretKind>,
    ) -> Key {
        let ns = ev.request.namespace();
        let qualified = match ns {
            Some(ns) => format!("{ns}/{}", ev.request.path),
            None => ev.request.path.to_string(),
        };
        let k = self.key(&qualified);
        if let Some(info) = st.paths.get_mut(&k) {
            if info.kind.is_none() {
                info.kind = kind;
            }
            return k;
        }
        let m = mount_of(ev);
        let tenant = kind.and_then(|kind| self.tenants.tenant_of(ns, ev.request.path, &m, kind));
        let secret = match (kind, ns) {
            (Some(kind), Some(ns)) => {
                format!("{ns}/{}", crate::model::secret::logical_path(&m, kind))
            }
            (Some(kind), None) => crate::model::secret::logical_path(&m, kind),
            (None, _) => qualified.clone(),
        };
        st.paths.insert(
            k,
            PathInfo {
                path: qualified,
                secret,
                mount: m.mount.to_string(),
                kind,
                tenant,
            },
        );
        k
    }
}

/// The lineage state as plain data, for incremental runs.
#[derive(serde::Serialize, serde::Deserialize)]
struct LineageSnapshot {
    strings: Vec<(Key, String)>,
    tokens: Vec<(Key, TokenAgg)>,
    paths: Vec<(Key, PathInfo)>,
    reads: Vec<(Key, Key, ReadAgg)>,
    failures: Vec<(Key, Key, FailAgg)>,
    /// Address-pivot data only means something for the same pivots.
    pivot_ips: Vec<String>,
    ip_reads: Vec<(u8, Key, Key, ReadAgg)>,
    ip_failures: Vec<(u8, Key, Key, FailAgg)>,
    ip_requests: Vec<(u8, u64, Option<Timestamp>, Option<Timestamp>)>,
    leases: Vec<LeaseRec>,
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
        let read = |r: &ReadAgg| ReadAgg {
            loc: abs(r.loc),
            ..*r
        };
        let fail = |f: &FailAgg| FailAgg {
            loc: abs(f.loc),
            ..*f
        };
        LineageSnapshot {
            strings: st
                .strings
                .iter()
                .map(|(k, v)| (*k, v.to_string()))
                .collect(),
            tokens,
            paths: st.paths.iter().map(|(k, p)| (*k, p.clone())).collect(),
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
                .map(|(i, (n, a, b))| (*i, *n, *a, *b))
                .collect(),
            leases: st
                .leases
                .iter()
                .map(|l| LeaseRec {
                    loc: abs(l.loc),
                    ..l.clone()
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
        st.strings.extend(
            self.strings
                .into_iter()
                .map(|(k, v)| (k, v.into_boxed_str())),
        );
        st.tokens.extend(self.tokens);
        st.paths.extend(self.paths);
        st.reads
            .extend(self.reads.into_iter().map(|(a, p, r)| ((a, p), r)));
        st.failures
            .extend(self.failures.into_iter().map(|(a, p, f)| ((a, p), f)));
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
                    .map(|(i, n, a, b)| (i, (n, a, b))),
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

fn bits(mask: u64) -> impl Iterator<Item = u8> {
    (0..64u8).filter(move |i| mask & (1 << i) != 0)
}

fn add_read<K>(
    e: std::collections::hash_map::Entry<'_, K, ReadAgg>,
    at: Option<Timestamp>,
    loc: Loc,
) {
    let r = e.or_insert(ReadAgg {
        reads: 0,
        first: None,
        last: None,
        loc,
    });
    r.reads += 1;
    r.first = earlier(r.first, at);
    r.last = later(r.last, at);
    r.loc = r.loc.min(loc);
}

fn add_failure<K>(
    e: std::collections::hash_map::Entry<'_, K, FailAgg>,
    f: Failure,
    at: Option<Timestamp>,
    loc: Loc,
) {
    let r = e.or_insert(FailAgg {
        count: 0,
        first: None,
        last: None,
        reason: f,
        loc,
    });
    r.count += 1;
    r.first = earlier(r.first, at);
    r.last = later(r.last, at);
    r.reason = r.reason.min(f);
    r.loc = r.loc.min(loc);
}

fn merge_read<K>(e: std::collections::hash_map::Entry<'_, K, ReadAgg>, o: ReadAgg) {
    let r = e.or_insert(ReadAgg {
        reads: 0,
        first: None,
        last: None,
        loc: o.loc,
    });
    r.reads += o.reads;
    r.first = earlier(r.first, o.first);
    r.last = later(r.last, o.last);
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
    m.first_use = earlier(m.first_use, t.first_use);
    m.last_use = later(m.last_use, t.last_use);
    m.requests += t.requests;
    m.failed += t.failed;
    m.from_pivot_ip |= t.from_pivot_ip;
    m.more_addresses |= t.more_addresses;
    for a in t.addresses {
        if !m.addresses.contains(&a) {
            if m.addresses.len() < ADDRESSES_PER_TOKEN {
                m.addresses.push(a);
            } else {
                m.more_addresses = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
