//! From an operation to its entry pair, and what it means for the ground truth.

use rand_core::Rng;

use super::builders::{
    self as b, AWS, Allowed, DATABASE, DENIED, Entry, ErrorOn, KV1, KV2, Mount, PKI, SYSTEM, TOKEN,
    Target,
};
use super::format::push_random_hmac;
use super::plan::{Estate, LoginOutcome, Op, Origin, SecretShape, Token, TokenRef};

/// What an operation did, for the ground truth and the token pool.
pub(crate) enum Outcome {
    /// Secret material was returned (index into `Estate::secrets`).
    SecretRead(usize),
    /// Refused by policy.
    Denied,
    /// A login that issued no token.
    FailedLogin,
    /// A token was issued (by a login or `auth/token/create`).
    Issued(Box<Token>),
    /// Nothing the ground truth counts.
    Other,
}

/// Who is acting: the pool, plus the attacker's token during an attack.
pub(crate) struct Actors<'a> {
    pub estate: &'a Estate,
    pub attacker: Option<&'a Token>,
}

impl Actors<'_> {
    fn token(&self, t: TokenRef) -> &Token {
        match t {
            TokenRef::Pool(i) => &self.estate.tokens[i],
            TokenRef::Attacker => self
                .attacker
                .expect("attack ops run with an attacker token"),
        }
    }
}

/// A login's details: how, from where; for failed logins the caller picks the origin.
pub(crate) struct LoginPlan {
    pub origin: Origin,
    pub remote_address: String,
}

/// Fills `e` with the entries of `op` at time `now`.
pub(crate) fn build(
    e: &mut Entry,
    rng: &mut impl Rng,
    actors: &Actors<'_>,
    op: Op,
    login: Option<LoginPlan>,
    now: u64,
) -> Outcome {
    e.clear();
    let estate = actors.estate;
    match op {
        Op::Read { secret, token } | Op::Denied { secret, token } => {
            let s = &estate.secrets[secret];
            let ns = estate.tenants[s.tenant].namespace.as_ref();
            let tok = actors.token(token);
            let (operation, mount) = match s.shape {
                SecretShape::KvV2Read => ("read", KV2),
                SecretShape::KvV2List => ("list", KV2),
                SecretShape::KvV1Read => ("read", KV1),
                SecretShape::KvV1List => ("list", KV1),
                SecretShape::DatabaseCreds => ("read", DATABASE),
                SecretShape::AwsCreds => ("read", AWS),
                SecretShape::PkiIssue => ("update", PKI),
            };
            let denied = matches!(op, Op::Denied { .. });
            let allowed = if denied { Allowed::No } else { Allowed::Yes };
            b::token_auth(&mut e.auth, tok, allowed);
            let target = Target {
                operation,
                mount,
                namespace: ns,
                path: &s.path,
                token: Some(tok),
            };
            b::open_request(&mut e.request, rng, &target);
            if s.shape == SecretShape::PkiIssue {
                b::push_hmac_data(&mut e.request, rng, &["common_name", "ttl"]);
            }
            b::close_request(&mut e.request, rng, &tok.remote_address);
            b::open_response(&mut e.response, mount, ns);
            if denied {
                b::push_hmac_data(&mut e.response, rng, &["error"]);
                e.response.push(b'}');
                e.error = Some((DENIED, ErrorOn::Both));
                return Outcome::Denied;
            }
            match s.shape {
                SecretShape::KvV2Read => b::push_kv2_data(&mut e.response, rng, &s.values),
                SecretShape::KvV1Read => b::push_kv1_data(&mut e.response, &s.values),
                SecretShape::KvV2List => b::push_keys(&mut e.response, rng, 8),
                SecretShape::KvV1List => b::push_keys(&mut e.response, rng, 4),
                SecretShape::DatabaseCreds => {
                    b::push_lease(&mut e.response, rng, &s.path);
                    b::push_hmac_data(&mut e.response, rng, &["password", "username"]);
                }
                SecretShape::AwsCreds => {
                    b::push_lease(&mut e.response, rng, &s.path);
                    b::push_hmac_data(&mut e.response, rng, &["access_key", "secret_key"]);
                }
                SecretShape::PkiIssue => {
                    b::push_lease(&mut e.response, rng, &s.path);
                    b::push_hmac_data(
                        &mut e.response,
                        rng,
                        &[
                            "certificate",
                            "issuing_ca",
                            "private_key",
                            "private_key_type",
                            "serial_number",
                        ],
                    );
                }
            }
            e.response.push(b'}');
            Outcome::SecretRead(secret)
        }
        Op::Write { secret, token } | Op::Preflight { secret, token } => {
            let s = &estate.secrets[secret];
            let ns = estate.tenants[s.tenant].namespace.as_ref();
            let tok = actors.token(token);
            b::token_auth(&mut e.auth, tok, Allowed::Yes);
            let preflight_path;
            let (operation, mount, path) = if matches!(op, Op::Write { .. }) {
                ("update", KV2, s.path.as_str())
            } else {
                preflight_path = format!(
                    "sys/internal/ui/mounts/{}",
                    s.path.replacen("/data/", "/", 1)
                );
                ("read", SYSTEM, preflight_path.as_str())
            };
            let target = Target {
                operation,
                mount,
                namespace: ns,
                path,
                token: Some(tok),
            };
            b::open_request(&mut e.request, rng, &target);
            if matches!(op, Op::Write { .. }) {
                e.request
                    .extend_from_slice(b",\"data\":{\"data\":{\"password\":");
                push_random_hmac(&mut e.request, rng);
                e.request.extend_from_slice(b"}}");
            }
            b::close_request(&mut e.request, rng, &tok.remote_address);
            b::open_response(&mut e.response, mount, ns);
            if matches!(op, Op::Write { .. }) {
                b::push_hmac_data(
                    &mut e.response,
                    rng,
                    &["created_time", "deletion_time", "version"],
                );
            } else {
                b::push_preflight_data(&mut e.response, rng);
            }
            e.response.push(b'}');
            Outcome::Other
        }
        Op::Login(outcome) => {
            let plan = login.expect("logins come with a plan");
            login_entries(e, rng, estate, outcome, plan, now)
        }
        Op::CreateChild { token } => {
            let parent = actors.token(token);
            let child = estate.new_token(rng, Origin::Child, now, parent.remote_address.clone());
            token_op(e, rng, parent, "update", TOKEN, "auth/token/create");
            b::push_hmac_data(&mut e.request, rng, &["policies", "ttl"]);
            b::close_request(&mut e.request, rng, &parent.remote_address);
            b::open_response(&mut e.response, TOKEN, None);
            e.response.extend_from_slice(b",\"auth\":");
            b::issued_auth(&mut e.response, &child);
            e.response.push(b'}');
            Outcome::Issued(Box::new(child))
        }
        Op::LookupSelf { token } => {
            let tok = actors.token(token);
            token_op(e, rng, tok, "read", TOKEN, "auth/token/lookup-self");
            b::close_request(&mut e.request, rng, &tok.remote_address);
            b::open_response(&mut e.response, TOKEN, None);
            b::push_hmac_data(
                &mut e.response,
                rng,
                &[
                    "accessor",
                    "creation_time",
                    "display_name",
                    "entity_id",
                    "expire_time",
                    "id",
                    "issue_time",
                    "path",
                    "type",
                ],
            );
            e.response.push(b'}');
            Outcome::Other
        }
        Op::Renew { token } => {
            let tok = actors.token(token);
            token_op(e, rng, tok, "update", SYSTEM, "sys/leases/renew");
            b::push_hmac_data(&mut e.request, rng, &["increment", "lease_id"]);
            b::close_request(&mut e.request, rng, &tok.remote_address);
            b::open_response(&mut e.response, SYSTEM, None);
            e.response.push(b'}');
            Outcome::Other
        }
    }
}

/// Auth and the opened request of a root-namespace operation made with `tok`.
fn token_op(
    e: &mut Entry,
    rng: &mut impl Rng,
    tok: &Token,
    operation: &'static str,
    mount: Mount,
    path: &str,
) {
    b::token_auth(&mut e.auth, tok, Allowed::Yes);
    let target = Target {
        operation,
        mount,
        namespace: None,
        path,
        token: Some(tok),
    };
    b::open_request(&mut e.request, rng, &target);
}

fn login_entries(
    e: &mut Entry,
    rng: &mut impl Rng,
    estate: &Estate,
    outcome: LoginOutcome,
    plan: LoginPlan,
    now: u64,
) -> Outcome {
    let (mount, path, fields, failure) = match &plan.origin {
        Origin::Userpass { user } => (
            b::USERPASS,
            format!("auth/userpass/login/{user}"),
            &["password"][..],
            r#""invalid username or password""#,
        ),
        _ => (
            b::APPROLE,
            "auth/approle/login".to_string(),
            &["role_id", "secret_id"][..],
            r#""invalid credentials""#,
        ),
    };
    let issued = match outcome {
        LoginOutcome::Issued => {
            Some(estate.new_token(rng, plan.origin, now, plan.remote_address.clone()))
        }
        LoginOutcome::Failed => None,
    };
    // The request was anonymous; the response entry's `auth` is the issued token.
    match &issued {
        Some(token) => {
            b::anonymous_auth(&mut e.request_auth, Allowed::Yes);
            b::token_auth(&mut e.auth, token, Allowed::Yes);
        }
        None => b::anonymous_auth(&mut e.auth, Allowed::No),
    }
    let target = Target {
        operation: "update",
        mount,
        namespace: None,
        path: &path,
        token: None,
    };
    b::open_request(&mut e.request, rng, &target);
    b::push_hmac_data(&mut e.request, rng, fields);
    b::close_request(&mut e.request, rng, &plan.remote_address);
    b::open_response(&mut e.response, mount, None);
    match issued {
        Some(token) => {
            e.response.extend_from_slice(b",\"auth\":");
            b::issued_auth(&mut e.response, &token);
            e.response.push(b'}');
            Outcome::Issued(Box::new(token))
        }
        None => {
            b::push_hmac_data(&mut e.response, rng, &["error"]);
            e.response.push(b'}');
            e.error = Some((failure, ErrorOn::Response));
            Outcome::FailedLogin
        }
    }
}
