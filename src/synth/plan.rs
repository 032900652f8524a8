//! The simulated estate: tenants, namespaces, the secrets they keep, and the tokens in use; and
//! what happens next, drawn from weights that resemble a busy production cluster in which each
//! application token reads its own tenant's secrets.

use rand_core::Rng;

use super::format::{Hex64, TimeFormatter, hex64, uuid};
use super::{Shape, pick};

/// Tenants that live in the root namespace and are told apart by a path segment.
pub(crate) const PATH_TENANTS: usize = 24;
/// Tenants that have their own namespace.
pub(crate) const NAMESPACES: &[&str] = &["blue", "red", "green", "gold"];
const KV2_APPS: &[&str] = &[
    "db", "api", "payments", "config", "tls", "smtp", "redis", "s3",
];
const KV1_APPS: &[&str] = &["api-key", "ldap-bind", "webhook", "license"];
/// Active tokens kept at once by default; a login replaces one of them.
const TOKEN_POOL: usize = 48;
/// Secrets of a path tenant in the default shape.
const DEFAULT_TENANT_SECRETS: usize = 17;
const APPROLES: &[&str] = &["app", "ci", "billing-svc", "batch", "web"];

/// What a secret path returns, which decides its shape in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SecretShape {
    KvV2Read,
    KvV2List,
    KvV1Read,
    KvV1List,
    DatabaseCreds,
    AwsCreds,
    PkiIssue,
}

/// One readable secret path.
pub(crate) struct Secret {
    pub shape: SecretShape,
    /// The request path, namespace-relative.
    pub path: String,
    /// The tenant blastradius should attribute it to (by construction, not by its rules): an
    /// index into [`Estate::tenants`].
    pub tenant: usize,
    /// The HMACs of its values: the same secret logs the same HMACs.
    pub values: [Hex64; 2],
}

/// A tenant: a path segment in the root namespace, or a namespace of its own.
pub(crate) struct Tenant {
    pub name: String,
    /// `Some((id, path))` for a namespace tenant, e.g. `("Xy3kq", "blue/")`.
    pub namespace: Option<(String, String)>,
    /// Its secrets, indexes into [`Estate::secrets`].
    pub secrets: Vec<usize>,
    /// Those of shape KV v2 read (what writes and preflights touch); never empty.
    pub kv2: Vec<usize>,
}

/// How a token came to be.
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    AppRole {
        role: &'static str,
    },
    Userpass {
        user: String,
    },
    /// `auth/token/create` by another token.
    Child,
}

/// A token in use, with everything the log repeats about it.
pub(crate) struct Token {
    pub client_token: Hex64,
    pub accessor: Hex64,
    pub entity_id: String,
    pub display_name: String,
    pub origin: Origin,
    /// The tenant whose secrets it reads.
    pub tenant: usize,
    /// `["default","<tenant>"]`.
    pub policies: String,
    pub issue_time: String,
    pub remote_address: String,
}

/// The estate: fixed at the start from the seed, except the token pool.
pub(crate) struct Estate {
    pub tenants: Vec<Tenant>,
    pub secrets: Vec<Secret>,
    pub tokens: Vec<Token>,
    /// How many tokens are in use at once.
    pub token_pool: usize,
    /// Tokens issued so far to the pool (prefilled ones included).
    pub issued: usize,
    /// At most this many are issued to the pool ([`super::Shape::distinct_tokens`]).
    pub token_budget: usize,
}

impl Estate {
    pub(crate) fn new(rng: &mut impl Rng, shape: &Shape) -> Estate {
        let token_budget = shape.distinct_tokens.unwrap_or(usize::MAX);
        let token_pool = shape.tokens.unwrap_or(TOKEN_POOL).min(token_budget);
        let mut estate = Estate {
            tenants: Vec::new(),
            secrets: Vec::new(),
            tokens: Vec::with_capacity(token_pool),
            token_pool,
            issued: 0,
            token_budget,
        };
        let tenants = shape.tenants.unwrap_or(PATH_TENANTS + NAMESPACES.len());
        let namespaces = &NAMESPACES[..NAMESPACES.len().min(tenants.saturating_sub(1))];
        let path_tenants = tenants - namespaces.len();
        // Namespaces keep nine secrets each; the rest is spread over the path tenants.
        let per_tenant = |t: usize| match shape.secrets {
            None => DEFAULT_TENANT_SECRETS,
            Some(total) => {
                let rest = total.saturating_sub(namespaces.len() * (KV2_APPS.len() + 1));
                (rest / path_tenants + usize::from(t < rest % path_tenants)).max(1)
            }
        };
        for t in 0..path_tenants {
            let name = format!("tenant-{t:02}");
            let paths = match shape.secrets {
                None => default_paths(&name),
                Some(_) => mixed_paths(&name, per_tenant(t)),
            };
            estate.add_tenant(rng, name, None, paths);
        }
        for ns in namespaces {
            let id = uuid(rng)[..5].to_string();
            let mut paths: Vec<_> = KV2_APPS
                .iter()
                .map(|app| (SecretShape::KvV2Read, format!("kv/data/{app}/config")))
                .collect();
            paths.push((SecretShape::DatabaseCreds, "database/creds/app".to_string()));
            estate.add_tenant(rng, ns.to_string(), Some((id, format!("{ns}/"))), paths);
        }
        estate
    }

    fn add_tenant(
        &mut self,
        rng: &mut impl Rng,
        name: String,
        namespace: Option<(String, String)>,
        paths: Vec<(SecretShape, String)>,
    ) {
        let tenant = self.tenants.len();
        let mut secrets = Vec::with_capacity(paths.len());
        let mut kv2 = Vec::new();
        for (shape, path) in paths {
            if shape == SecretShape::KvV2Read {
                kv2.push(self.secrets.len());
            }
            secrets.push(self.secrets.len());
            self.secrets.push(Secret {
                shape,
                path,
                tenant,
                values: [hex64(rng), hex64(rng)],
            });
        }
        debug_assert!(!kv2.is_empty(), "every tenant has a KV v2 secret");
        self.tenants.push(Tenant {
            name,
            namespace,
            secrets,
            kv2,
        });
    }

    /// Fills the pool with tokens issued before the log starts (no login line), when the
    /// shape asks for more tokens than logins would mint early on.
    pub(crate) fn prefill(&mut self, rng: &mut impl Rng, before: u64) {
        const MONTH: usize = 30 * 24 * 3600;
        while self.tokens.len() < self.token_pool {
            let issued = before - pick(rng, MONTH) as u64 * 1_000_000_000;
            let origin = login_origin(rng);
            let address = client_address(rng);
            let token = self.new_token(rng, origin, issued, address);
            self.tokens.push(token);
            self.issued += 1;
        }
    }

    /// Whether the pool may take new tokens ([`super::Shape::distinct_tokens`]).
    pub(crate) fn may_issue(&self) -> bool {
        self.issued < self.token_budget
    }

    /// A new token for a tenant (busy tenants more often), issued at `now` to a client.
    pub(crate) fn new_token(
        &self,
        rng: &mut impl Rng,
        origin: Origin,
        now: u64,
        remote_address: String,
    ) -> Token {
        let n = self.tenants.len();
        // The smaller of two draws: low-numbered tenants are busier, as in real estates.
        let tenant = pick(rng, n).min(pick(rng, n));
        let display_name = match &origin {
            Origin::AppRole { .. } => "approle".to_string(),
            Origin::Userpass { user } => format!("userpass-{user}"),
            Origin::Child => "token".to_string(),
        };
        Token {
            client_token: hex64(rng),
            accessor: hex64(rng),
            entity_id: uuid(rng),
            display_name,
            origin,
            tenant,
            policies: format!("[\"default\",\"{}\"]", self.tenants[tenant].name),
            issue_time: TimeFormatter::seconds(now),
            remote_address,
        }
    }

    /// Adds a token to the pool, replacing a random one when the pool is full (tokens expire).
    pub(crate) fn admit(&mut self, rng: &mut impl Rng, token: Token) {
        self.issued += 1;
        if self.tokens.len() < self.token_pool {
            self.tokens.push(token);
        } else {
            let i = pick(rng, self.token_pool);
            self.tokens[i] = token;
        }
    }

    /// Secrets of shape KV v2 read, across all tenants: what the widespread reader reads.
    pub(crate) fn kv2_reads(&self) -> Vec<usize> {
        (0..self.secrets.len())
            .filter(|&i| self.secrets[i].shape == SecretShape::KvV2Read)
            .collect()
    }
}

/// The default shape's seventeen secrets of a path tenant, grouped by kind.
fn default_paths(name: &str) -> Vec<(SecretShape, String)> {
    let mut paths = Vec::new();
    for app in KV2_APPS {
        paths.push((SecretShape::KvV2Read, format!("kv/data/{name}/{app}")));
    }
    paths.push((SecretShape::KvV2List, format!("kv/metadata/{name}/")));
    for app in KV1_APPS {
        paths.push((SecretShape::KvV1Read, format!("secret/{name}/{app}")));
    }
    paths.push((SecretShape::KvV1List, format!("secret/{name}/")));
    paths.push((SecretShape::DatabaseCreds, format!("database/creds/{name}")));
    paths.push((SecretShape::AwsCreds, format!("aws/creds/{name}")));
    paths.push((SecretShape::PkiIssue, format!("pki/issue/{name}")));
    paths
}

/// `count` secrets of a path tenant, kinds interleaved so that a few secrets still mix KV v2,
/// KV v1 and leased credentials; beyond the seventeen kinds, more KV v2 applications.
fn mixed_paths(name: &str, count: usize) -> Vec<(SecretShape, String)> {
    let mut default = default_paths(name);
    // Positions in `default_paths`: KV v2 reads 0-7, KV v2 list 8, KV v1 9-12, KV v1 list
    // 13, database 14, AWS 15, PKI 16. The first is a KV v2 read: every tenant has one.
    const ORDER: [usize; 17] = [0, 1, 9, 14, 2, 15, 3, 8, 16, 4, 10, 5, 13, 6, 11, 7, 12];
    let mut paths: Vec<_> = ORDER
        .iter()
        .take(count)
        .map(|&i| std::mem::replace(&mut default[i], (SecretShape::KvV2List, String::new())))
        .collect();
    for i in paths.len()..count {
        paths.push((SecretShape::KvV2Read, format!("kv/data/{name}/app-{i:03}")));
    }
    paths
}

/// A client address from the estate's private ranges.
pub(crate) fn client_address(rng: &mut impl Rng) -> String {
    format!(
        "10.{}.{}.{}",
        20 + pick(rng, 4),
        pick(rng, 256),
        1 + pick(rng, 254)
    )
}

/// A login method and role or user.
pub(crate) fn login_origin(rng: &mut impl Rng) -> Origin {
    if pick(rng, 3) == 0 {
        Origin::Userpass {
            user: format!("user{:03}", pick(rng, 200)),
        }
    } else {
        Origin::AppRole {
            role: APPROLES[pick(rng, APPROLES.len())],
        }
    }
}

/// Which token an operation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenRef {
    /// A token of the background pool.
    Pool(usize),
    /// The token the current attack logged in with.
    Attacker,
}

/// One logical request (a request entry and its response entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// A successful read of a secret.
    Read { secret: usize, token: TokenRef },
    /// A KV v2 write (`update` on `kv/data/...`): not a read.
    Write { secret: usize, token: TokenRef },
    /// The UI/CLI preflight `sys/internal/ui/mounts/<path>` before a KV access.
    Preflight { secret: usize, token: TokenRef },
    /// A read refused by policy.
    Denied { secret: usize, token: TokenRef },
    /// A login: issues a token, or fails with a top-level `error`.
    Login(LoginOutcome),
    /// `auth/token/create`: a child token (lineage).
    CreateChild { token: TokenRef },
    /// `auth/token/lookup-self`.
    LookupSelf { token: TokenRef },
    /// `sys/leases/renew`.
    Renew { token: TokenRef },
}

/// Whether a login issued a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginOutcome {
    Issued,
    Failed,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Read,
    Write,
    Preflight,
    Denied,
    Login,
    FailedLogin,
    CreateChild,
    LookupSelf,
    Renew,
}

/// Relative weights of the background traffic, in per mille. Denials and failed logins are rare
/// enough that background tokens and addresses seldom reach the burst rules' thresholds.
const WEIGHTS: &[(u32, Kind)] = &[
    (600, Kind::Read),
    (50, Kind::Write),
    (110, Kind::Preflight),
    (8, Kind::Denied),
    (38, Kind::Login),
    (4, Kind::FailedLogin),
    (20, Kind::CreateChild),
    (85, Kind::LookupSelf),
    (85, Kind::Renew),
];

/// Draws the next background operation. Needs at least one token in the pool.
pub(crate) fn next_op(rng: &mut impl Rng, estate: &Estate) -> Op {
    let total: u32 = WEIGHTS.iter().map(|w| w.0).sum();
    let mut r = pick(rng, total as usize) as u32;
    let mut kind = Kind::Read;
    for (w, k) in WEIGHTS {
        if r < *w {
            kind = *k;
            break;
        }
        r -= w;
    }
    if matches!(kind, Kind::Login | Kind::CreateChild) && !estate.may_issue() {
        kind = Kind::LookupSelf;
    }
    let pool = pick(rng, estate.tokens.len());
    let token = TokenRef::Pool(pool);
    let own = &estate.tenants[estate.tokens[pool].tenant].secrets;
    let secret = own[pick(rng, own.len())];
    match kind {
        Kind::Read => Op::Read { secret, token },
        Kind::Write | Kind::Preflight => {
            // Both concern KV v2 secrets.
            let kv2s = &estate.tenants[estate.tokens[pool].tenant].kv2;
            let kv2 = kv2s[pick(rng, kv2s.len())];
            if matches!(kind, Kind::Write) {
                Op::Write { secret: kv2, token }
            } else {
                Op::Preflight { secret: kv2, token }
            }
        }
        Kind::Denied => Op::Denied {
            // Another tenant's secret.
            secret: pick(rng, estate.secrets.len()),
            token,
        },
        Kind::Login => Op::Login(LoginOutcome::Issued),
        Kind::FailedLogin => Op::Login(LoginOutcome::Failed),
        Kind::CreateChild => Op::CreateChild { token },
        Kind::LookupSelf => Op::LookupSelf { token },
        Kind::Renew => Op::Renew { token },
    }
}
