//! Who to follow first: lineage roots ranked by the evidence against them.
//!
//! An analyst runs `scan` before knowing which credential leaked. Per-token rules miss an
//! attacker who spreads reads over child tokens, and the loudest actor in a log is usually the
//! administrator. This stage scores each *lineage root* (a login, or a token whose creation the
//! log does not show) on what its whole lineage did, compared with other logins of the same
//! identity, and names the exact `blastradius blast` command that follows it.
//!
//! Fed by the scan pass's [`watch::Watch`] extension: the same token lineage `blast` rebuilds,
//! plus a few counters; no second read of the input.

mod actors;
mod score;
pub mod watch;

/// Keys are already hashes: a fast hasher is enough.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use serde::Serialize;

pub use actors::Identity;
pub use score::touched_name;
pub use watch::{Touched, Watch, WatchState};

use crate::lineage::{Identities, Key, LineageState, StringKey, canonicalize};
use crate::model::Timestamp;
use crate::tenant::TenantMap;
use watch::Signals;

/// Suspects kept in the report.
pub const MAX_SUSPECTS: usize = 20;

/// Why a suspect scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// A login from an address new for its role, user or entity.
    NewAddress,
    /// Reads of tenants other logins of the same identity never read.
    NewTenants,
    /// Failed control-plane attempts (audit devices, policies, auth methods, root generation).
    ControlPlaneDenied,
    /// Requests denied by policy.
    Denials,
    /// Failed logins from the login's address before it.
    FailedLogins,
    /// Listings across tenants, token accessor or lease enumeration.
    Enumeration,
    /// Tenants and secrets read by the whole lineage.
    Breadth,
    /// Child tokens used from other addresses.
    Spread,
    /// Successful configuration changes.
    ControlPlane,
}

/// One scored reason.
#[derive(Clone, Debug, Serialize)]
pub struct Reason {
    /// What kind of evidence.
    pub kind: ReasonKind,
    /// Its points.
    pub points: u32,
    /// The evidence in words.
    pub text: String,
}

/// A ranked actor.
#[derive(Clone, Debug, Serialize)]
pub struct Suspect {
    /// 1 for the first suspect.
    pub rank: usize,
    /// The sum of the reasons' points.
    pub score: u32,
    /// The lineage root's accessor (HMAC unless the device logs accessors in clear).
    pub accessor: String,
    /// `display_name` of the root token.
    pub display_name: Option<String>,
    /// The auth mount of the login (`auth/approle/`), if it was a login.
    pub auth_mount: Option<String>,
    /// The role of the login (AppRole, Kubernetes, JWT).
    pub role: Option<String>,
    /// The user of the login (userpass, LDAP ...).
    pub user: Option<String>,
    /// The identity entity.
    pub entity_id: Option<String>,
    /// True when a token of the lineage has the `root` policy.
    pub root_policy: bool,
    /// The login's client address.
    pub login_address: Option<String>,
    /// Every client address of the lineage.
    pub addresses: Vec<String>,
    /// When the root token was issued, if the log shows it.
    pub created_at: Option<Timestamp>,
    /// First request of the lineage.
    pub first_seen: Option<Timestamp>,
    /// Last request of the lineage.
    pub last_seen: Option<Timestamp>,
    /// Tokens in the lineage.
    pub tokens: usize,
    /// Tenants whose secrets the lineage read (excluded tenants left out).
    pub tenants: Vec<String>,
    /// Distinct secret paths read.
    pub secrets: usize,
    /// Successful reads.
    pub reads: u64,
    /// Requests denied by policy.
    pub denied: u64,
    /// Control-plane areas the lineage made requests to.
    pub touched: Vec<Touched>,
    /// The evidence, highest points first.
    pub reasons: Vec<Reason>,
    /// The command that follows this actor: its blast radius and rotation plan.
    pub blast_command: String,
}

/// The suspects of a scan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Suspects {
    /// Highest score first, at most [`MAX_SUSPECTS`].
    pub list: Vec<Suspect>,
    /// Scoring actors before capping.
    pub total: usize,
    /// Root-generation or rekey requests by anyone (unauthenticated ones included).
    pub root_generation_requests: u64,
}

/// How the `blast` command for a suspect is spelled: everything but the pivot.
#[derive(Clone, Debug, Default)]
pub struct BlastCommand {
    /// Options that shape the blast radius, as given (`--tenant-pattern`, `--config` ...).
    pub options: Vec<String>,
    /// The inputs as given, in path order.
    pub paths: Vec<String>,
}

impl BlastCommand {
    /// `blastradius blast --accessor <accessor> <options> <paths>`, shell-quoted.
    pub fn for_accessor(&self, accessor: &str) -> String {
        let mut words = vec![
            "blastradius".to_string(),
            "blast".to_string(),
            "--accessor".to_string(),
            shell_quote(accessor),
        ];
        words.extend(self.options.iter().map(|o| shell_quote(o)));
        words.extend(self.paths.iter().map(|p| shell_quote(p)));
        words.join(" ")
    }
}

/// A word for POSIX shells: bare when safe, otherwise in single quotes.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn label(id: &Identity<'_>) -> String {
    match id {
        Identity::Role { role, .. } => format!("role {role}"),
        Identity::User { user, .. } => format!("user {user}"),
        Identity::Entity(e) => format!("entity {e}"),
        Identity::DisplayName(d) => d.to_string(),
        Identity::Unknown => "this identity".to_string(),
    }
}

/// What ranking was computed from: the joined lineage and its roots. Dropping it frees them;
/// a process about to exit may skip that (see [`rank_keeping`]).
pub struct Leftovers {
    _lineage: LineageState,
    _joined: Identities,
    _roots: Vec<actors::RootActor>,
}

/// Ranks the lineage roots of a scan.
///
/// The lineage is first joined into identities as `blast` does ([`canonicalize`]): the raw
/// per-form records depend on how the log was cut into chunks and runs, the joined ones do not.
pub fn rank(state: WatchState, tenants: &TenantMap, command: &BlastCommand) -> Suspects {
    rank_keeping(state, tenants, command).0
}

/// [`rank`], handing back what the ranking was computed from instead of freeing it: freeing
/// the lineage of a busy log costs millions of instructions, which a command about to exit
/// can skip (`std::mem::forget`).
pub fn rank_keeping(
    state: WatchState,
    tenants: &TenantMap,
    command: &BlastCommand,
) -> (Suspects, Leftovers) {
    let (lineage, joined) = canonicalize(state.lineage);
    let signals = state.signals.rekeyed(&joined);
    let roots = actors::gather(&lineage, &signals, tenants);
    let suspects = ranked(&lineage, &roots, &signals, command);
    let leftovers = Leftovers {
        _lineage: lineage,
        _joined: joined,
        _roots: roots,
    };
    (suspects, leftovers)
}

/// The roots scored against their identities' other roots, the highest kept as suspects.
fn ranked(
    st: &LineageState,
    roots: &[actors::RootActor],
    signals: &Signals,
    command: &BlastCommand,
) -> Suspects {
    let ids: Vec<Identity> = roots.iter().map(|a| actors::identity(st, a)).collect();
    let (groups, peers) = peer_groups(st, roots, &ids);
    let mut scored: Vec<Scored> = Vec::with_capacity(roots.len());
    for (i, a) in roots.iter().enumerate() {
        let peers = score::Peers {
            group: peers[i].group.map(|g| &groups[g]),
            position: peers[i].position,
        };
        // Points only: the reasons in words are built for the kept few.
        let score = score::points(a, &peers, st, signals);
        if score > 0 {
            scored.push(Scored {
                root: i,
                score,
                peers,
            });
        }
    }
    let total = scored.len();
    let kept = highest(&scored, roots, st);
    let lineage_addresses = actors::addresses_by_text(
        st,
        &kept
            .iter()
            .map(|&j| roots[scored[j].root].root)
            .collect::<Vec<_>>(),
    );
    let mut list: Vec<Suspect> = kept
        .iter()
        .zip(lineage_addresses)
        .map(|(&j, addresses)| {
            let c = &scored[j];
            let i = c.root;
            let reasons = score::reasons(&roots[i], &c.peers, st, signals, &label(&ids[i]));
            suspect(st, &roots[i], &ids[i], reasons, addresses, c.score, command)
        })
        .collect();
    for (i, s) in list.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    let root_generation_requests = signals
        .actors
        .values()
        .map(|s| u64::from(s.ok(Touched::RootGeneration) + s.failed(Touched::RootGeneration)))
        .sum();
    Suspects {
        list,
        total,
        root_generation_requests,
    }
}

/// The [`MAX_SUSPECTS`] highest of the scored roots (indices into `scored`), highest score first,
/// then the earliest, then by accessor: only the kept few become full suspects (their
/// addresses and commands cost more than their scores). The keys tell any two roots apart
/// (accessors differ), so selecting the few and sorting them gives the order a sort of all
/// would.
fn highest(scored: &[Scored], roots: &[actors::RootActor], st: &LineageState) -> Vec<usize> {
    // Keys computed once per root: a comparator would look both accessors' texts up.
    let mut keyed: Vec<_> = scored
        .iter()
        .enumerate()
        .map(|(j, x)| {
            let a = &roots[x.root];
            (
                (std::cmp::Reverse(x.score), a.first_seen, st.str(a.root)),
                j,
            )
        })
        .collect();
    if keyed.len() > MAX_SUSPECTS {
        keyed.select_nth_unstable(MAX_SUSPECTS - 1);
        keyed.truncate(MAX_SUSPECTS);
    }
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, j)| j).collect()
}

/// Where a root stands among its identity's roots.
#[derive(Clone, Copy, Default)]
struct Place {
    /// Its identity's group, when the identity has other roots.
    group: Option<usize>,
    /// Its position in the group's creation order.
    position: usize,
}

/// The groups of identities with more than one root, and each root's place in its group.
///
/// A root alone in its identity gets no group: every question [`score::Peers`] answers about
/// other roots has the same answer for a group of one as for none (its counts are the root's
/// own, its only position is the root's), and most roots of a busy log are alone.
fn peer_groups<'a>(
    st: &LineageState,
    roots: &'a [actors::RootActor],
    ids: &[Identity<'_>],
) -> (Vec<score::Group<'a>>, Vec<Place>) {
    // Roots by identity, each identity hashed once; a list only for identities with several
    // roots (a vector per identity cost an allocation per root of a busy log).
    let mut group_index: HashMap<&Identity, usize> =
        HashMap::with_capacity_and_hasher(ids.len(), Default::default());
    let mut identity_of: Vec<Option<usize>> = vec![None; ids.len()];
    let mut roots_of: Vec<u32> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if *id != Identity::Unknown {
            let g = *group_index.entry(id).or_insert_with(|| {
                roots_of.push(0);
                roots_of.len() - 1
            });
            roots_of[g] += 1;
            identity_of[i] = Some(g);
        }
    }
    // Indexed by identity, in the order identities were first met; an empty `Vec` allocates
    // nothing, so lone identities cost no list.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); roots_of.len()];
    for (i, g) in identity_of.iter().enumerate() {
        if let Some(g) = *g
            && roots_of[g] > 1
        {
            members[g].push(i);
        }
    }
    // Each identity's roots in creation order (then accessor text): a root's position in it says
    // which logins were earlier.
    let mut places = vec![Place::default(); roots.len()];
    let mut groups: Vec<score::Group> = Vec::new();
    for list in members.iter_mut().filter(|l| !l.is_empty()) {
        // Cached keys: a comparator would look both accessors' texts up on every comparison.
        list.sort_by_cached_key(|&i| (roots[i].created_at, st.str(roots[i].root)));
        let mut group = score::Group::default();
        for (p, &i) in list.iter().enumerate() {
            places[i] = Place {
                group: Some(groups.len()),
                position: p,
            };
            group.add(&roots[i], p);
        }
        groups.push(group);
    }
    (groups, places)
}

/// A root with a score, before it becomes a [`Suspect`].
struct Scored<'g, 'a> {
    /// Index in the roots.
    root: usize,
    score: u32,
    /// What its identity's other roots did, to word its reasons once it is kept.
    peers: score::Peers<'g, 'a>,
}

fn suspect(
    st: &LineageState,
    a: &actors::RootActor,
    id: &Identity<'_>,
    reasons: Vec<Reason>,
    lineage_addresses: Vec<Key>,
    score: u32,
    command: &BlastCommand,
) -> Suspect {
    let s = |k: Option<Key>| k.map(|k| st.str(k).to_string());
    let t = st.tokens.get(&a.root);
    let accessor = st.str(a.root).to_string();
    let (role, user) = match id {
        Identity::Role { role, .. } => (Some(role.to_string()), None),
        Identity::User { user, .. } => (None, Some(user.to_string())),
        _ => (None, None),
    };
    Suspect {
        rank: 0,
        score,
        blast_command: command.for_accessor(&accessor),
        accessor,
        display_name: s(t.and_then(|t| t.display_name).map(StringKey::get)),
        auth_mount: s(t.and_then(|t| t.created.as_ref()).and_then(|c| c.mount)),
        role,
        user,
        entity_id: s(t.and_then(|t| t.entity_id).map(StringKey::get)),
        root_policy: a.root_policy,
        login_address: s(a.login_address),
        // The root token's own addresses first: they say where the credential was used.
        addresses: t
            .map(|t| t.addresses.iter().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .chain(lineage_addresses)
            .fold(Vec::new(), |mut v: Vec<Key>, k| {
                if !v.contains(&k) {
                    v.push(k);
                }
                v
            })
            .into_iter()
            .map(|k| st.str(k).to_string())
            .collect(),
        created_at: a.created_at,
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        tokens: a.tokens,
        tenants: a.tenants().into_iter().map(String::from).collect(),
        secrets: a.secrets().len(),
        reads: a.read_count,
        denied: a.denied,
        touched: a.touched(),
        reasons,
    }
}
