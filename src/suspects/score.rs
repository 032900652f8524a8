//! The evidence against one lineage root, as scored reasons in words.
//!
//! Weights favour what separates an attacker from routine traffic: a credential used from an
//! address its identity never used before, reads outside the tenants its peers (other logins of
//! the same role or user) read, denials, failed logins, enumeration and control-plane attempts
//! that failed. Configuration changes that succeed earn little: administrators make them every
//! day, and set-up traffic must not outrank the breach.
//!
//! The identity's *habitual address* (the login address of most of its logins, and of more than
//! one) halves two kinds of evidence a login from it earns: tenants its other logins never read,
//! and listings across tenants. An administrator's sessions from the admin desk each read and
//! list a different part of the estate; the log cannot tell that owner from an intruder at the
//! same desk, while a leaked credential used from elsewhere keeps the full weight. "Most" rather
//! than "any other login" so that an attacker who logs in twice from its own address does not
//! make that address habitual.

/// Keys are already hashes: a fast hasher is enough.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use super::actors::RootActor;
use super::watch::{Signals, Touched};
use super::{Reason, ReasonKind};
use crate::lineage::{Key, LineageState};

/// Points per tenant read (half for tenants the identity's peers read too), at most.
const TENANT_POINTS: u32 = 2;
const TENANT_CAP: u32 = 30;
/// Points per secret no peer read, at most.
const SECRET_CAP: u32 = 15;
/// Points per tenant outside the peers' tenants, at most.
const NEW_TENANT_POINTS: u32 = 4;
const NEW_TENANT_CAP: u32 = 20;
/// A login from an address no earlier login of the same identity came from.
const NEW_ADDRESS_POINTS: u32 = 15;
/// Points per permission-denied request, at most.
const DENIED_POINTS: u32 = 4;
const DENIED_CAP: u32 = 20;
/// Points per failed login from the login's address before it, at most.
const FAILED_LOGIN_POINTS: u32 = 3;
const FAILED_LOGIN_CAP: u32 = 15;
/// Points per tenant whose secrets were listed, when more than one was.
const LISTED_TENANT_POINTS: u32 = 5;
const ENUMERATION_CAP: u32 = 15;
/// Failed control-plane attempts (audit devices, policies, auth methods, root generation).
const CONTROL_DENIED_POINTS: u32 = 8;
const CONTROL_DENIED_CAP: u32 = 24;
/// Successful control-plane changes: routine for administrators, so worth little.
const CONTROL_OK_CAP: u32 = 8;
/// Successful audit-device or root-generation requests by a token without the root policy.
const CRITICAL_OK_POINTS: u32 = 6;
/// Descendants used from another address than the root's login.
const SPREAD_POINTS: u32 = 3;
const SPREAD_CAP: u32 = 9;

/// What the roots of one identity did, counted once for the whole identity so that scoring a
/// root costs the size of its own lineage, not the size of its identity (a role with 20,000
/// logins would otherwise be quadratic).
#[derive(Default)]
pub struct Group<'a> {
    /// Per tenant, how many roots of the identity read it.
    tenants: HashMap<&'a str, u32>,
    /// Per secret path, how many roots of the identity read it.
    secrets: HashMap<Key, u32>,
    /// Roots of the identity.
    size: usize,
    /// Per login address, the earliest position (by creation, then accessor) of a root that
    /// logged in from it.
    first_login_from: HashMap<Key, usize>,
    /// The earliest position of a root with any login address.
    first_login: Option<usize>,
    /// Per login address, how many roots of the identity logged in from it.
    logins_from: HashMap<Key, u32>,
    /// Roots of the identity with a login address.
    logins: u32,
}

impl<'a> Group<'a> {
    /// Adds a root at `position` in the identity's creation order.
    pub fn add(&mut self, a: &'a RootActor, position: usize) {
        self.size += 1;
        for t in a.tenants() {
            *self.tenants.entry(t).or_default() += 1;
        }
        // `reads` is keyed by path: its non-listing keys are `a.secrets()`, without the set.
        for (k, _) in a.reads().filter(|(_, r)| !r.listing) {
            *self.secrets.entry(k).or_default() += 1;
        }
        if let Some(addr) = a.login_address {
            let first = self.first_login_from.entry(addr).or_insert(position);
            *first = (*first).min(position);
            *self.logins_from.entry(addr).or_default() += 1;
            self.logins += 1;
            self.first_login = Some(self.first_login.map_or(position, |p| p.min(position)));
        }
    }
}

/// What scoring needs about the other roots of a root's identity.
pub struct Peers<'g, 'a> {
    /// The identity's roots; `None` when the identity is unknown (no peers at all).
    pub group: Option<&'g Group<'a>>,
    /// The root's position in its identity's creation order.
    pub position: usize,
}

impl Peers<'_, '_> {
    /// True when another root of the identity read tenant `t` (`own`: this root read it).
    fn read_tenant(&self, t: &str, own: bool) -> bool {
        self.group
            .is_some_and(|g| g.tenants.get(t).copied().unwrap_or(0) > u32::from(own))
    }

    /// True when another root of the identity read secret `k` (`own`: this root read it).
    fn read_secret(&self, k: Key, own: bool) -> bool {
        self.group
            .is_some_and(|g| g.secrets.get(&k).copied().unwrap_or(0) > u32::from(own))
    }

    /// True when other roots of the identity read any tenant; `own` are this root's tenants.
    fn read_any_tenant(&self, own: &[&str]) -> bool {
        self.group.is_some_and(|g| {
            let only_own = own.iter().filter(|t| g.tenants.get(*t) == Some(&1)).count();
            g.tenants.len() > only_own
        })
    }

    /// True when the identity has other roots.
    fn exist(&self) -> bool {
        self.group.is_some_and(|g| g.size > 1)
    }

    /// True when `addr` is the identity's habitual address: more than one of its logins, and
    /// more than half of them, came from it.
    fn habitual(&self, addr: Key) -> bool {
        self.group.is_some_and(|g| {
            let n = g.logins_from.get(&addr).copied().unwrap_or(0);
            n > 1 && 2 * n > g.logins
        })
    }

    /// `Some(true)` when an earlier root of the identity logged in from `addr`, `Some(false)`
    /// when earlier roots logged in only from elsewhere, `None` when no earlier root has a
    /// login address.
    fn earlier_login_from(&self, addr: Key) -> Option<bool> {
        let g = self.group?;
        g.first_login.filter(|&p| p < self.position)?;
        Some(
            g.first_login_from
                .get(&addr)
                .is_some_and(|&p| p < self.position),
        )
    }
}

fn capped(points: u64, cap: u32) -> u32 {
    u32::try_from(points).unwrap_or(u32::MAX).min(cap)
}

fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Where evidence goes: its kind, its points, and its words (built only when asked for).
type Sink<'s> = dyn FnMut(ReasonKind, u32, &dyn Fn() -> String) + 's;

/// The score of one root: the sum of its reasons' points, without wording them (ranking
/// needs the score of every root, the report the words of the few it keeps).
pub fn points(a: &RootActor, peers: &Peers<'_, '_>, st: &LineageState, signals: &Signals) -> u32 {
    let mut sum = 0;
    evidence(a, peers, st, signals, "", &mut |_, points, _| sum += points);
    sum
}

/// Scores one root; reasons with zero points are left out.
pub fn reasons(
    a: &RootActor,
    peers: &Peers<'_, '_>,
    st: &LineageState,
    signals: &Signals,
    identity_label: &str,
) -> Vec<Reason> {
    let mut out = Vec::new();
    evidence(
        a,
        peers,
        st,
        signals,
        identity_label,
        &mut |kind, points, text| {
            if points > 0 {
                out.push(Reason {
                    kind,
                    points,
                    text: text(),
                });
            }
        },
    );
    out.sort_by(|x, y| y.points.cmp(&x.points).then(x.kind.cmp(&y.kind)));
    out
}

/// Every piece of evidence against a root, into `push`.
fn evidence(
    a: &RootActor,
    peers: &Peers<'_, '_>,
    st: &LineageState,
    signals: &Signals,
    identity_label: &str,
    push: &mut Sink<'_>,
) {
    let tenants = a.tenants();
    let usual = tenants
        .iter()
        .filter(|t| peers.read_tenant(t, true))
        .count() as u64;
    let unusual = tenants.len() as u64 - usual;
    // `reads` is keyed by path: its non-listing keys are `a.secrets()`, without the set.
    let secrets = || a.reads().filter(|(_, r)| !r.listing).map(|(k, _)| k);
    let fresh_secrets = secrets().filter(|k| !peers.read_secret(*k, true)).count() as u64;
    let breadth = capped(
        unusual * u64::from(TENANT_POINTS) + usual * u64::from(TENANT_POINTS / 2),
        TENANT_CAP,
    ) + capped(fresh_secrets, SECRET_CAP);
    push(ReasonKind::Breadth, breadth, &|| {
        format!(
            "its lineage ({}) read {} of {}",
            plural(a.tokens as u64, "token", "tokens"),
            plural(secrets().count() as u64, "secret", "secrets"),
            plural(tenants.len() as u64, "tenant", "tenants"),
        )
    });
    let habitual = a.login_address.filter(|&addr| peers.habitual(addr));
    let from_habitual = |addr: Key| {
        format!(
            "from {}, the address most logins of {identity_label} came from: counted half",
            st.str(addr)
        )
    };
    if peers.exist() && peers.read_any_tenant(&tenants) {
        let outside: Vec<&str> = tenants
            .iter()
            .filter(|t| !peers.read_tenant(t, true))
            .copied()
            .collect();
        let (per_tenant, cap) = match habitual {
            Some(_) => (NEW_TENANT_POINTS / 2, NEW_TENANT_CAP / 2),
            None => (NEW_TENANT_POINTS, NEW_TENANT_CAP),
        };
        push(
            ReasonKind::NewTenants,
            capped(outside.len() as u64 * u64::from(per_tenant), cap),
            &|| {
                let mut text = format!(
                    "read {} that other logins of {identity_label} never read ({})",
                    plural(outside.len() as u64, "tenant", "tenants"),
                    shorten(&outside, 5)
                );
                if let Some(addr) = habitual {
                    text.push_str(&format!(", {}", from_habitual(addr)));
                }
                text
            },
        );
    }
    if let Some(addr) = a.login_address
        && peers.earlier_login_from(addr) == Some(false)
    {
        push(ReasonKind::NewAddress, NEW_ADDRESS_POINTS, &|| {
            format!(
                "logged in from {}, an address no earlier login of {identity_label} came from",
                st.str(addr)
            )
        });
    }
    push(
        ReasonKind::Denials,
        capped(a.denied * u64::from(DENIED_POINTS), DENIED_CAP),
        &|| {
            format!(
                "{} denied by policy",
                plural(a.denied, "request", "requests")
            )
        },
    );
    if let Some(addr) = a.login_address
        && let Some(f) = signals.login_failures.get(&addr)
        && f.first.is_some_and(|t| a.created_at.is_none_or(|c| t <= c))
    {
        push(
            ReasonKind::FailedLogins,
            capped(f.count * u64::from(FAILED_LOGIN_POINTS), FAILED_LOGIN_CAP),
            &|| {
                format!(
                    "{} from {} (the login's address)",
                    plural(f.count, "failed login", "failed logins"),
                    st.str(addr)
                )
            },
        );
    }
    let listed_from_habitual = habitual.map(from_habitual);
    enumeration(a, listed_from_habitual.as_deref(), push);
    control_plane(a, push);
    push(
        ReasonKind::Spread,
        capped(
            a.descendants_elsewhere as u64 * u64::from(SPREAD_POINTS),
            SPREAD_CAP,
        ),
        &|| {
            format!(
                "{} created from it and used from other addresses",
                plural(a.descendants_elsewhere as u64, "token", "tokens")
            )
        },
    );
}

/// Listings across tenants and enumeration requests. `habitual`: the listings came from the
/// identity's habitual address (in words), which caps them at half; enumeration requests
/// (token accessors, leases) are nobody's routine and keep their weight.
fn enumeration(a: &RootActor, habitual: Option<&str>, push: &mut Sink<'_>) {
    let listed = a.listed_tenants();
    let calls = a.signals.ok(Touched::Enumeration) + a.signals.failed(Touched::Enumeration);
    let listed_points = if listed.len() > 1 {
        listed.len() as u64 * u64::from(LISTED_TENANT_POINTS)
    } else {
        0
    };
    let listed_cap = match habitual {
        Some(_) => ENUMERATION_CAP / 2,
        None => ENUMERATION_CAP,
    };
    let points = capped(
        u64::from(capped(listed_points, listed_cap)) + u64::from(calls) * 5,
        ENUMERATION_CAP,
    );
    push(ReasonKind::Enumeration, points, &|| {
        let mut what = Vec::new();
        if listed.len() > 1 {
            let mut text = format!(
                "listed the secrets of {}",
                plural(listed.len() as u64, "tenant", "tenants")
            );
            if let Some(h) = habitual {
                text.push_str(&format!(", {h}"));
            }
            what.push(text);
        }
        if calls > 0 {
            what.push(format!(
                "{} (token accessors, leases ...)",
                plural(calls, "enumeration request", "enumeration requests")
            ));
        }
        what.join("; ")
    });
}

fn control_plane(a: &RootActor, push: &mut Sink<'_>) {
    let critical = [
        Touched::AuditDevice,
        Touched::Policy,
        Touched::AuthMethod,
        Touched::Mount,
        Touched::RootGeneration,
        Touched::Seal,
    ];
    let failed: u64 = critical
        .iter()
        .map(|t| u64::from(a.signals.failed(*t)))
        .sum();
    let ok: u64 = critical.iter().map(|t| u64::from(a.signals.ok(*t))).sum();
    let names = |pick: &dyn Fn(Touched) -> u32| {
        critical
            .iter()
            .filter(|t| pick(**t) > 0)
            .map(|t| touched_name(*t))
            .collect::<Vec<_>>()
            .join(", ")
    };
    push(
        ReasonKind::ControlPlaneDenied,
        capped(
            failed * u64::from(CONTROL_DENIED_POINTS),
            CONTROL_DENIED_CAP,
        ),
        &|| {
            format!(
                "{} on {}",
                plural(failed, "failed attempt", "failed attempts"),
                names(&|t| a.signals.failed(t))
            )
        },
    );
    let critical_ok = if a.root_policy {
        0
    } else {
        u64::from(a.signals.ok(Touched::AuditDevice) + a.signals.ok(Touched::RootGeneration))
    };
    push(
        ReasonKind::ControlPlane,
        capped(ok, CONTROL_OK_CAP) + capped(critical_ok * u64::from(CRITICAL_OK_POINTS), 18),
        &|| {
            format!(
                "{} to {}{}",
                plural(ok, "configuration request", "configuration requests"),
                names(&|t| a.signals.ok(t)),
                if a.root_policy {
                    " with the root policy"
                } else {
                    ""
                }
            )
        },
    );
}

/// A control-plane kind in words.
pub fn touched_name(t: Touched) -> &'static str {
    match t {
        Touched::AuditDevice => "audit devices",
        Touched::Policy => "policies",
        Touched::AuthMethod => "auth methods",
        Touched::Mount => "secrets engines",
        Touched::RootGeneration => "root generation or rekey",
        Touched::Seal => "seal",
        Touched::Enumeration => "enumeration",
    }
}

fn shorten(items: &[&str], n: usize) -> String {
    let mut s = items.iter().take(n).copied().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(&format!(" +{} more", items.len() - n));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::actors::Read;
    use super::*;

    const DESK: Key = 7;
    const ELSEWHERE: Key = 8;

    /// A login from `addr` that read one secret of each of `read` and listed each of `listed`.
    fn login(root: Key, addr: Key, read: &[usize], listed: &[usize]) -> RootActor {
        let mut a = RootActor {
            root,
            login_address: Some(addr),
            ..RootActor::default()
        };
        let mut add = |i: usize, listing: bool| {
            let key = 1_000 + i as Key * 2 + Key::from(listing);
            let tenant = Some(format!("t{i:02}").into());
            a.push_read(key, Read { tenant, listing });
        };
        read.iter().for_each(|&i| add(i, false));
        listed.iter().for_each(|&i| add(i, true));
        a.seal_reads();
        a
    }

    fn group(roots: &[RootActor]) -> Group<'_> {
        let mut g = Group::default();
        for (p, a) in roots.iter().enumerate() {
            g.add(a, p);
        }
        g
    }

    fn points(roots: &[RootActor], i: usize, kind: ReasonKind) -> u32 {
        let g = group(roots);
        let peers = Peers {
            group: Some(&g),
            position: i,
        };
        let st = LineageState::default();
        reasons(&roots[i], &peers, &st, &Signals::default(), "user bob")
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.points)
            .sum()
    }

    /// Ranking gives a root alone in its identity no group: that must change nothing.
    #[test]
    fn a_group_of_one_scores_like_no_group() {
        let mut a = login(1, DESK, &[1, 2, 3, 4], &[1, 2, 3]);
        a.denied = 2;
        a.created_at = Some(crate::model::Timestamp(5));
        let alone = [a];
        let g = group(&alone);
        let mut st = LineageState::default();
        st.strings.insert(DESK, "203.0.113.9");
        let words = |group: Option<&Group<'_>>| {
            let peers = Peers { group, position: 0 };
            reasons(&alone[0], &peers, &st, &Signals::default(), "user bob")
                .into_iter()
                .map(|r| (r.kind, r.points, r.text))
                .collect::<Vec<_>>()
        };
        let with_group = words(Some(&g));
        assert!(
            with_group.iter().any(|r| r.0 == ReasonKind::Enumeration)
                && with_group.iter().any(|r| r.0 == ReasonKind::Breadth),
            "the root must earn points that peers could change: {with_group:?}"
        );
        assert_eq!(with_group, words(None));
        let peers = Peers {
            group: Some(&g),
            position: 0,
        };
        assert_eq!(
            super::points(&alone[0], &peers, &st, &Signals::default()),
            with_group.iter().map(|r| r.1).sum::<u32>(),
            "the score is the sum of the worded reasons' points"
        );
    }

    #[test]
    fn habitual_address_needs_more_than_one_and_most_logins() {
        let owner = |r| login(r, DESK, &[1], &[]);
        let intruder = |r| login(r, ELSEWHERE, &[2], &[]);
        let roots = [owner(1), owner(2), owner(3), intruder(4), intruder(5)];
        let g = group(&roots);
        let peers = Peers {
            group: Some(&g),
            position: 0,
        };
        assert!(peers.habitual(DESK));
        assert!(!peers.habitual(ELSEWHERE), "2 of 5 logins are not most");
        let tied = [owner(1), intruder(2)];
        let g = group(&tied);
        let peers = Peers {
            group: Some(&g),
            position: 0,
        };
        assert!(!peers.habitual(DESK) && !peers.habitual(ELSEWHERE));
        let single = [owner(1)];
        let g = group(&single);
        let peers = Peers {
            group: Some(&g),
            position: 0,
        };
        assert!(!peers.habitual(DESK), "one login is no habit");
    }

    #[test]
    fn new_tenants_and_listings_from_the_habitual_address_count_half() {
        let first: Vec<usize> = (1..=16).collect();
        let second: Vec<usize> = (9..=24).collect();
        let desk = [
            login(1, DESK, &first, &first),
            login(2, DESK, &second, &second),
        ];
        let apart = [
            login(1, DESK, &first, &first),
            login(2, ELSEWHERE, &second, &second),
        ];
        for i in 0..2 {
            assert_eq!(points(&desk, i, ReasonKind::NewTenants), NEW_TENANT_CAP / 2);
            assert_eq!(
                points(&desk, i, ReasonKind::Enumeration),
                ENUMERATION_CAP / 2
            );
            assert_eq!(points(&apart, i, ReasonKind::NewTenants), NEW_TENANT_CAP);
            assert_eq!(points(&apart, i, ReasonKind::Enumeration), ENUMERATION_CAP);
        }
        // An intruder logging in twice from its own address, each time reading four tenants
        // nobody else read, keeps the full weight.
        let owner = |r| login(r, DESK, &[1, 2, 3], &[]);
        let roots = [
            owner(1),
            owner(2),
            owner(3),
            login(4, ELSEWHERE, &[10, 11, 12, 13], &[]),
            login(5, ELSEWHERE, &[14, 15, 16, 17], &[]),
        ];
        for i in 3..5 {
            assert_eq!(
                points(&roots, i, ReasonKind::NewTenants),
                4 * NEW_TENANT_POINTS
            );
        }
    }
}
