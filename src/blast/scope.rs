//! Resolving pivots and lineage into the set of tokens and what they did.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use super::{Descendants, Pivots};
use crate::lineage::{
    CreatedVia, Failure, Identities, Key, Lineage, LineageState, NO_TOKEN, OrphanCause, StringKey,
    earlier, later,
};
use crate::model::secret::{MountSource, SecretKind};
use crate::model::{Interval, Loc, Location, Timestamp};
use crate::redact;
use crate::tenant::{TenantLayout, TenantMap};

/// How a token entered the blast radius. Its name in reports and JSON is [`Relation::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Relation {
    /// It matched a pivot (token, accessor, entity, display name).
    Pivot,
    /// It was issued to a login from a pivot address.
    LoginFromPivotIp,
    /// It was created, directly or not, by a token in the blast radius.
    Descendant,
    /// It was used from a pivot address (only those requests are in scope).
    UsedFromPivotIp,
}

impl Relation {
    /// The name in reports, CSV and JSON (`pivot`, `login-from-pivot-ip` ...): the one place
    /// it is spelled.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Pivot => "pivot",
            Relation::LoginFromPivotIp => "login-from-pivot-ip",
            Relation::Descendant => "descendant",
            Relation::UsedFromPivotIp => "used-from-pivot-ip",
        }
    }

    /// The relation in words, for sentences such as the rotation list's reasons.
    pub fn in_words(self) -> &'static str {
        match self {
            Relation::Pivot => "pivot",
            Relation::LoginFromPivotIp => "logged in from a pivot address",
            Relation::Descendant => "descendant",
            Relation::UsedFromPivotIp => "used from a pivot address",
        }
    }
}

impl serde::Serialize for Relation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A token in the blast radius.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenRecord {
    /// The accessor (HMAC unless the device logs accessors in clear).
    pub accessor: String,
    /// The token's HMAC as logged (redacted if the log holds it in clear).
    pub token_hmac: Option<String>,
    /// How it entered the blast radius.
    pub relation: Relation,
    /// Generations below the pivot token (0 for pivots).
    pub depth: u32,
    /// The accessor of the token that created it, if the log shows it.
    pub parent: Option<String>,
    /// When it was created.
    pub created_at: Option<Timestamp>,
    /// The path that created it (`auth/approle/login`, `auth/token/create`).
    pub created_by: Option<String>,
    /// `login`, `token-create` or `other`.
    pub created_via: Option<CreatedVia>,
    /// The address the creating request came from.
    pub created_from: Option<String>,
    /// The AppRole/Kubernetes/JWT role of a login token.
    pub role: Option<String>,
    /// The user of a login token.
    pub user: Option<String>,
    /// The auth mount a login token came from (`auth/approle/`), without the namespace.
    pub auth_mount: Option<String>,
    /// The namespace it was issued in (none for root): revoke it there.
    pub namespace: Option<String>,
    /// `entity_id`.
    pub entity_id: Option<String>,
    /// `display_name`.
    pub display_name: Option<String>,
    /// `token_type`.
    pub token_type: Option<String>,
    /// Policies.
    pub policies: Vec<String>,
    /// Of `policies`, the token's own (`token_policies` of the response that issued it); empty
    /// when the log does not split them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub token_policies: Vec<String>,
    /// Of `policies`, those its entity and groups brought (`identity_policies`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identity_policies: Vec<String>,
    /// Addresses it was used from (up to 8).
    pub client_addresses: Vec<String>,
    /// First request made with it.
    pub first_use: Option<Timestamp>,
    /// Last request made with it.
    pub last_use: Option<Timestamp>,
    /// Requests made with it.
    pub requests: u64,
    /// Failed requests made with it.
    pub failed_requests: u64,
    /// Where it was created.
    pub evidence: Option<Location>,
    /// Every form of this token the devices logged: accessors (clear or each device's HMAC)
    /// and token HMACs (redacted if a log holds the token in clear), best first.
    pub forms: Vec<String>,
    /// The accessor in clear, when a device logs accessors in clear (`hmac_accessor=false`).
    pub clear_accessor: Option<String>,
    /// Why the token has no parent although a token created it: revoking its creator leaves
    /// it alive, so the plan revokes it explicitly.
    pub orphan: Option<OrphanCause>,
    /// For a descendant that is not an orphan: the accessor of its parent, whose revocation
    /// revokes it too (`vault token revoke` revokes children).
    pub revoked_with: Option<String>,
}

/// What the log shows of a secret access in the blast radius.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadOutcome {
    /// The response shows the secret was returned.
    #[default]
    Read,
    /// Only the request is in the log: its response is in no input, so whether the secret was
    /// returned is unknown; worst case it was.
    UnknownResponseMissing,
}

impl ReadOutcome {
    /// How reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadOutcome::Read => "read",
            ReadOutcome::UnknownResponseMissing => "unknown (response missing)",
        }
    }
}

/// A secret read in the blast radius.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SecretReadRecord {
    /// Request path (namespace-qualified).
    pub path: String,
    /// The secret as responders name it.
    pub secret: String,
    /// The namespace (`request.namespace.path` without its slash), none for root.
    pub namespace: Option<String>,
    /// The mount, without the namespace, with its trailing slash (`secret/`).
    pub mount: String,
    /// `log` (`request.mount_point`) or `path-shape` (first segment, logs before Vault 1.6).
    pub mount_source: MountSource,
    /// Kind of access.
    pub kind: Option<SecretKind>,
    /// Tenant.
    pub tenant: Option<String>,
    /// True when the tenant is excluded.
    pub tenant_excluded: bool,
    /// `read`, or `unknown-response-missing` when only unanswered requests show the access.
    pub outcome: ReadOutcome,
    /// Successful reads in scope.
    pub reads: u64,
    /// Requests in scope whose response is in no input.
    pub unanswered: u64,
    /// First read (or unanswered request).
    pub first_read: Option<Timestamp>,
    /// Last read.
    pub last_read: Option<Timestamp>,
    /// Accessors of the tokens that read it (`unauthenticated` for none).
    pub tokens: Vec<String>,
    /// True when some reads came from a pivot address by a token outside the lineage.
    pub from_pivot_ip: bool,
    /// Of the reads, those answered with a wrapping token (`X-Vault-Wrap-TTL`): the data went
    /// to whoever unwrapped it (the wrapping token is in `tokens`, `created_via`
    /// `response-wrapping`, with the addresses it was unwrapped from).
    pub wrapped_reads: u64,
    /// The first read.
    pub evidence: Location,
}

/// Failed attempts in the blast radius.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeniedRecord {
    /// Request path.
    pub path: String,
    /// Why.
    pub reason: Failure,
    /// Attempts.
    pub attempts: u64,
    /// First.
    pub first: Option<Timestamp>,
    /// Last.
    pub last: Option<Timestamp>,
    /// Accessors (`unauthenticated` for none).
    pub tokens: Vec<String>,
    /// The first attempt.
    pub evidence: Location,
}

/// A lease issued in the blast radius: revoke it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LeaseRecord {
    /// `response.secret.lease_id`.
    pub lease_id: String,
    /// The path that issued it.
    pub path: String,
    /// The namespace it was issued in (none for root): revoke it there.
    pub namespace: Option<String>,
    /// Kind of secret.
    pub kind: Option<SecretKind>,
    /// Tenant.
    pub tenant: Option<String>,
    /// When.
    pub issued_at: Option<Timestamp>,
    /// To which token.
    pub token: String,
    /// Where.
    pub evidence: Location,
}

/// The pivots as given, and those that matched nothing.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PivotEcho {
    /// `--token`.
    pub tokens: Vec<String>,
    /// `--accessor`.
    pub accessors: Vec<String>,
    /// `--entity`.
    pub entities: Vec<String>,
    /// `--ip`.
    pub ips: Vec<String>,
    /// `--display-name`.
    pub display_names: Vec<String>,
    /// False with `--no-descendants`.
    pub descendants: bool,
    /// Pivots that matched nothing in the log (check the HMAC device, the time window).
    pub unmatched: Vec<String>,
}

/// Everything in the blast radius.
#[derive(Clone, Debug, Default)]
pub struct BlastRadius {
    /// The pivots.
    pub pivots: PivotEcho,
    /// Tokens, pivots first, then by creation.
    pub tokens: Vec<TokenRecord>,
    /// Secrets read, by first read.
    pub secrets_read: Vec<SecretReadRecord>,
    /// Failed attempts, by first attempt.
    pub denied: Vec<DeniedRecord>,
    /// Tenants whose secrets were read, minus excluded ones.
    pub affected_tenants: Vec<String>,
    /// Leases, by issue time.
    pub leases: Vec<LeaseRecord>,
    /// First to last activity.
    pub exposure_window: Option<Interval>,
    /// The tenant layout inferred from every secret path of the log (the tenants follow it).
    pub tenant_layout: TenantLayout,
    /// Database connection configurations written (their root credential to rotate).
    pub database_config_writes: Vec<super::ConfigWriteRecord>,
}

/// Resolves pivots and lineage into the blast radius.
pub fn resolve(
    st: &LineageState,
    ids: &Identities,
    ext: &Lineage<'_>,
    pivots: &Pivots,
    descendants: Descendants,
    tenants: &TenantMap,
    loc: &dyn Fn(Loc) -> Location,
) -> BlastRadius {
    let mut echo = PivotEcho {
        tokens: pivots.tokens.clone(),
        accessors: pivots.accessors.clone(),
        entities: pivots.entities.clone(),
        ips: pivots.ips.iter().map(|p| p.text.clone()).collect(),
        display_names: pivots.display_names.clone(),
        descendants: descendants == Descendants::Follow,
        unmatched: Vec::new(),
    };
    let mut relation: HashMap<Key, (Relation, u32)> = HashMap::new();
    seed(st, ids, ext, pivots, &mut relation, &mut echo.unmatched);
    if descendants == Descendants::Follow {
        follow(st, &mut relation);
    }
    let selected: HashSet<Key> = relation
        .iter()
        .filter(|(_, (r, _))| *r != Relation::UsedFromPivotIp)
        .map(|(k, _)| *k)
        .collect();
    let mut scope = BlastRadius {
        pivots: echo,
        ..BlastRadius::default()
    };
    scope.tokens = token_records(st, ids, &relation, loc);
    scope.tenant_layout = tenant_layout(st, tenants);
    scope.secrets_read = reads(st, &selected, loc, tenants, &scope.tenant_layout);
    scope.denied = failures(st, &selected, loc);
    scope.leases = leases(st, &selected, loc);
    scope.database_config_writes = super::rotation_root::config_writes(st, &selected, loc);
    let affected: BTreeSet<String> = scope
        .secrets_read
        .iter()
        .filter(|s| !s.tenant_excluded && !s.kind.is_some_and(SecretKind::is_listing))
        .filter_map(|s| s.tenant.clone())
        .collect();
    scope.affected_tenants = affected
        .into_iter()
        .filter(|t| !tenants.is_excluded(t))
        .collect();
    scope.exposure_window = window(st, &scope, &selected);
    scope
}

/// A comma-joined policy list of the strings, as names.
fn split_policies(st: &LineageState, k: Option<Key>) -> Vec<String> {
    k.map(|k| st.str(k).split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

fn seed(
    st: &LineageState,
    ids: &Identities,
    ext: &Lineage<'_>,
    p: &Pivots,
    rel: &mut HashMap<Key, (Relation, u32)>,
    unmatched: &mut Vec<String>,
) {
    let mut mark = |k: Key, r: Relation| {
        let e = rel.entry(k).or_insert((r, 0));
        if r < e.0 {
            *e = (r, 0);
        }
    };
    for (flag, values, field) in [
        ("--token", &p.tokens, 0u8),
        ("--accessor", &p.accessors, 1),
        ("--entity", &p.entities, 2),
        ("--display-name", &p.display_names, 3),
    ] {
        for v in values {
            let k = ext.key(v);
            // A token or accessor in any device's form names the same identity.
            let hits: Vec<Key> = match field {
                0 | 1 => ids
                    .of(k)
                    .filter(|id| st.tokens.contains_key(id))
                    .into_iter()
                    .collect(),
                _ => st
                    .tokens
                    .iter()
                    .filter(|(_, t)| match field {
                        2 => t.entity_id.map(StringKey::get) == Some(k),
                        _ => t.display_name.map(StringKey::get) == Some(k),
                    })
                    .map(|(acc, _)| *acc)
                    .collect(),
            };
            if hits.is_empty() {
                unmatched.push(format!("{flag} {v}"));
            }
            for h in hits {
                mark(h, Relation::Pivot);
            }
        }
    }
    for (i, ip) in ext.pivot_ips().iter().enumerate() {
        let bit = 1u64 << i;
        let mut any = st.ip_requests.contains_key(&(i as u8));
        for (acc, t) in &st.tokens {
            let login_here = t.created.as_ref().is_some_and(|c| {
                c.via == CreatedVia::Login
                    && c.remote_address.is_some_and(|a| ip.matches(st.str(a)))
            });
            if login_here {
                mark(*acc, Relation::LoginFromPivotIp);
                any = true;
            } else if t.from_pivot_ip & bit != 0 {
                mark(*acc, Relation::UsedFromPivotIp);
            }
        }
        if !any {
            unmatched.push(format!("--ip {}", ip.text));
        }
    }
}

/// Adds every descendant of the selected tokens, breadth first, with its depth.
fn follow(st: &LineageState, rel: &mut HashMap<Key, (Relation, u32)>) {
    let mut children: HashMap<Key, Vec<Key>> = HashMap::new();
    for (acc, t) in &st.tokens {
        if let Some(parent) = t.created.as_ref().and_then(|c| c.parent) {
            children.entry(parent).or_default().push(*acc);
        }
    }
    let mut queue: VecDeque<(Key, u32)> = rel
        .iter()
        .filter(|(_, (r, _))| *r != Relation::UsedFromPivotIp)
        .map(|(k, (_, d))| (*k, *d))
        .collect();
    while let Some((k, depth)) = queue.pop_front() {
        for c in children.get(&k).into_iter().flatten() {
            let entry = rel.get(c).copied();
            match entry {
                Some((r, _)) if r != Relation::UsedFromPivotIp => continue,
                _ => {
                    rel.insert(*c, (Relation::Descendant, depth + 1));
                    queue.push_back((*c, depth + 1));
                }
            }
        }
    }
}

/// The string of an optional key (a `Key`, or a record's `StringKey`).
fn opt(st: &LineageState, k: Option<impl Into<Key>>) -> Option<String> {
    k.map(|k| st.str(k.into()).to_string())
}

fn token_records(
    st: &LineageState,
    ids: &Identities,
    rel: &HashMap<Key, (Relation, u32)>,
    loc: &dyn Fn(Loc) -> Location,
) -> Vec<TokenRecord> {
    let mut out: Vec<TokenRecord> = rel
        .iter()
        .filter_map(|(acc, (relation, depth))| {
            let t = st.tokens.get(acc)?;
            let c = t.created.as_ref();
            let forms: Vec<String> = ids.forms(*acc).iter().map(|f| form_text(st, *f)).collect();
            let clear_accessor = ids.forms(*acc).iter().find_map(|f| {
                let text = st.str(*f);
                let accessor = st
                    .forms
                    .get(f)
                    .is_some_and(|i| i.kind == crate::lineage::FormKind::Accessor);
                (accessor && !text.starts_with("hmac-sha256:")).then(|| text.to_string())
            });
            let orphan = c.and_then(|c| st.is_orphan(c));
            let parent = c.and_then(|c| c.parent);
            let revoked_with = parent
                .filter(|p| {
                    *relation == Relation::Descendant
                        && orphan.is_none()
                        && rel
                            .get(p)
                            .is_some_and(|(r, _)| *r != Relation::UsedFromPivotIp)
                })
                .map(|p| st.str(p).to_string());
            Some(TokenRecord {
                accessor: st.str(*acc).to_string(),
                token_hmac: opt(st, t.client_token).map(|s| redact::token(&s).into_owned()),
                relation: *relation,
                depth: *depth,
                parent: c.and_then(|c| c.parent).map(|p| st.str(p).to_string()),
                created_at: c.and_then(|c| c.at),
                created_by: c.map(|c| redact::path(st.str(c.path)).into_owned()),
                created_via: c.map(|c| c.via),
                created_from: c.and_then(|c| opt(st, c.remote_address)),
                role: c.and_then(|c| opt(st, c.role)),
                user: c.and_then(|c| opt(st, c.user)),
                auth_mount: c.and_then(|c| opt(st, c.mount)),
                namespace: c.and_then(|c| opt(st, c.namespace)),
                entity_id: opt(st, t.entity_id),
                display_name: opt(st, t.display_name),
                token_type: opt(st, t.token_type),
                policies: opt(st, t.policies)
                    .map(|p| p.split(',').map(str::to_string).collect())
                    .unwrap_or_default(),
                token_policies: split_policies(st, c.and_then(|c| c.token_policies)),
                identity_policies: split_policies(st, c.and_then(|c| c.identity_policies)),
                client_addresses: t.addresses.iter().map(|a| st.str(a).to_string()).collect(),
                first_use: t.first_use(),
                last_use: t.last_use(),
                requests: t.requests,
                failed_requests: t.failed,
                evidence: c.map(|c| loc(c.loc)),
                forms,
                clear_accessor,
                orphan,
                revoked_with,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.relation, a.depth, a.created_at, &a.accessor).cmp(&(
            b.relation,
            b.depth,
            b.created_at,
            &b.accessor,
        ))
    });
    out
}

/// A form as the report shows it: accessors as logged, token HMACs redacted if in clear.
fn form_text(st: &LineageState, f: Key) -> String {
    let text = st.str(f);
    match st.forms.get(&f).map(|i| i.kind) {
        Some(crate::lineage::FormKind::TokenHmac) => redact::token(text).into_owned(),
        _ => text.to_string(),
    }
}

fn actor_name(st: &LineageState, k: Key) -> String {
    if k == NO_TOKEN {
        "unauthenticated".to_string()
    } else {
        st.str(k).to_string()
    }
}

struct PathAcc {
    reads: u64,
    unanswered: u64,
    wrapped: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    tokens: BTreeSet<String>,
    from_ip: bool,
    loc: Loc,
}

/// How one (actor, path) aggregate counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    Read,
    Unanswered,
}

/// The layout of every secret path the log holds (read, denied or unanswered, by anyone): the
/// whole log's distribution, not the pivot's reads alone.
fn tenant_layout(st: &LineageState, tenants: &TenantMap) -> TenantLayout {
    if !tenants.infers_layout() {
        return TenantLayout::default();
    }
    TenantLayout::infer(st.paths.values().filter_map(|p| p.site()))
}

fn reads(
    st: &LineageState,
    selected: &HashSet<Key>,
    loc: &dyn Fn(Loc) -> Location,
    tenants: &TenantMap,
    layout: &TenantLayout,
) -> Vec<SecretReadRecord> {
    let mut by_path: BTreeMap<Key, PathAcc> = BTreeMap::new();
    let mut add =
        |path: Key, actor: Key, r: &crate::lineage::ReadAgg, from_ip: bool, seen: Seen| {
            let a = by_path.entry(path).or_insert(PathAcc {
                reads: 0,
                unanswered: 0,
                wrapped: 0,
                first: None,
                last: None,
                tokens: BTreeSet::new(),
                from_ip: false,
                loc: r.loc,
            });
            match seen {
                Seen::Read => a.reads += r.reads(),
                Seen::Unanswered => a.unanswered += r.reads(),
            }
            a.wrapped += r.wrapped();
            a.first = earlier(a.first, r.first());
            a.last = later(a.last, r.last());
            a.tokens.insert(actor_name(st, actor));
            a.from_ip |= from_ip;
            a.loc = a.loc.min(r.loc);
        };
    for ((actor, path), r) in &st.reads {
        if selected.contains(actor) {
            add(*path, *actor, r, false, Seen::Read);
        }
    }
    // Worst case an unanswered read or credential request by the lineage succeeded.
    for ((actor, path), r) in &st.unanswered {
        if selected.contains(actor) {
            add(*path, *actor, r, false, Seen::Unanswered);
        }
    }
    // Reads from pivot addresses by tokens outside the lineage (their lineage reads are above).
    let mut seen: HashSet<(Key, Key)> = HashSet::new();
    for ((_, actor, path), r) in &st.ip_reads {
        if !selected.contains(actor) && seen.insert((*actor, *path)) {
            add(*path, *actor, r, true, Seen::Read);
        }
    }
    let mut out: Vec<SecretReadRecord> = by_path
        .into_iter()
        .filter_map(|(pk, a)| {
            let info = st.paths.get(&pk)?;
            let tenant = tenants.resolve(info.tenant(), info.site(), layout);
            // As in the scan report's `secrets[]`: the secret stays listed (and in the rotation
            // plan), its tenant out of `affected_tenants`.
            let tenant_excluded = tenant.as_deref().is_some_and(|t| tenants.is_excluded(t));
            Some(SecretReadRecord {
                path: redact::path(info.path()).into_owned(),
                secret: redact::path(info.secret()).into_owned(),
                namespace: info.namespace().map(|n| redact::path(n).into_owned()),
                mount: redact::path(info.mount()).into_owned(),
                mount_source: info.mount_source,
                kind: info.kind,
                tenant,
                tenant_excluded,
                outcome: if a.reads > 0 {
                    ReadOutcome::Read
                } else {
                    ReadOutcome::UnknownResponseMissing
                },
                reads: a.reads,
                unanswered: a.unanswered,
                first_read: a.first,
                last_read: a.last,
                tokens: a.tokens.into_iter().collect(),
                from_pivot_ip: a.from_ip,
                wrapped_reads: a.wrapped,
                evidence: loc(a.loc),
            })
        })
        .collect();
    out.sort_by(|a, b| (a.first_read, &a.path).cmp(&(b.first_read, &b.path)));
    out
}

fn failures(
    st: &LineageState,
    selected: &HashSet<Key>,
    loc: &dyn Fn(Loc) -> Location,
) -> Vec<DeniedRecord> {
    let mut by: BTreeMap<(Key, Failure), DeniedRecord> = BTreeMap::new();
    let mut add = |path: Key, actor: Key, f: &crate::lineage::FailAgg| {
        let info_path = st.paths.get(&path).map_or("", |p| p.path());
        let d = by.entry((path, f.reason)).or_insert_with(|| DeniedRecord {
            path: redact::path(info_path).into_owned(),
            reason: f.reason,
            attempts: 0,
            first: None,
            last: None,
            tokens: Vec::new(),
            evidence: loc(f.loc),
        });
        d.attempts += f.count;
        d.first = earlier(d.first, f.first);
        d.last = later(d.last, f.last);
        let name = actor_name(st, actor);
        if !d.tokens.contains(&name) {
            d.tokens.push(name);
        }
        let l = loc(f.loc);
        if l < d.evidence {
            d.evidence = l;
        }
    };
    for ((actor, path), f) in &st.failures {
        if selected.contains(actor) {
            add(*path, *actor, f);
        }
    }
    let mut seen: HashSet<(Key, Key)> = HashSet::new();
    for ((_, actor, path), f) in &st.ip_failures {
        if !selected.contains(actor) && seen.insert((*actor, *path)) {
            add(*path, *actor, f);
        }
    }
    let mut out: Vec<DeniedRecord> = by.into_values().collect();
    for d in &mut out {
        d.tokens.sort();
    }
    out.sort_by(|a, b| (a.first, &a.path).cmp(&(b.first, &b.path)));
    out
}

fn leases(
    st: &LineageState,
    selected: &HashSet<Key>,
    loc: &dyn Fn(Loc) -> Location,
) -> Vec<LeaseRecord> {
    let mut out: Vec<LeaseRecord> = st
        .leases
        .iter()
        .filter(|l| selected.contains(&l.actor) || l.from_pivot_ip != 0)
        .map(|l| {
            let info = st.paths.get(&l.path);
            LeaseRecord {
                lease_id: l.lease_id.to_string(),
                path: info.map_or(String::new(), |i| redact::path(i.path()).into_owned()),
                namespace: info
                    .and_then(|i| i.namespace())
                    .map(|n| redact::path(n).into_owned()),
                kind: info.and_then(|i| i.kind),
                tenant: info.and_then(|i| i.tenant().map(String::from)),
                issued_at: l.at,
                token: actor_name(st, l.actor),
                evidence: loc(l.loc),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.issued_at, &a.lease_id).cmp(&(b.issued_at, &b.lease_id)));
    out.dedup_by(|a, b| a.lease_id == b.lease_id);
    out
}

fn window(st: &LineageState, scope: &BlastRadius, selected: &HashSet<Key>) -> Option<Interval> {
    let mut first: Option<Timestamp> = None;
    let mut last: Option<Timestamp> = None;
    for k in selected {
        if let Some(t) = st.tokens.get(k) {
            // Exposure begins when the token was issued, not when it was first used.
            let created = t.created.as_ref().and_then(|c| c.at);
            first = earlier(first, earlier(t.first_use(), created));
            last = later(last, later(t.last_use(), created));
        }
    }
    for r in st.ip_requests.values() {
        first = earlier(first, r.first);
        last = later(last, r.last);
    }
    for r in &scope.secrets_read {
        first = earlier(first, r.first_read);
        last = later(last, r.last_read);
    }
    Some(Interval {
        start: first?,
        end: last?,
    })
}

#[cfg(test)]
mod relation_tests {
    use super::Relation;

    #[test]
    fn relation_names_are_the_published_ones_and_serde_writes_them() {
        let all = [
            (Relation::Pivot, "pivot"),
            (Relation::LoginFromPivotIp, "login-from-pivot-ip"),
            (Relation::Descendant, "descendant"),
            (Relation::UsedFromPivotIp, "used-from-pivot-ip"),
        ];
        for (r, name) in all {
            assert_eq!(r.as_str(), name);
            assert_eq!(serde_json::to_value(r).unwrap(), name);
        }
    }
}
