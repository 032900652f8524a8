//! The compact audit event every analysis reads.
//!
//! An [`Entry`] borrows the parser's tape: typed fields are filled in one walk over the entry,
//! and [`Entry::lookup`] reaches any other field by dotted path without a second parse.

use super::tape::{List, Obj, Value};
use super::time::Timestamp;

/// What kind of audit entry a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryType {
    /// The request, written before Vault handles it.
    Request,
    /// The response, which repeats the request and adds the outcome.
    Response,
    /// Anything else Vault writes (Enterprise `kmip-request`/`kmip-response`).
    Other,
}

impl EntryType {
    /// Classifies the `type` field.
    pub fn from_type(s: &str) -> EntryType {
        match s {
            "request" => EntryType::Request,
            "response" => EntryType::Response,
            _ => EntryType::Other,
        }
    }
}

/// `request.operation`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// `create`
    Create,
    /// `read`
    Read,
    /// `update` (and the pre-1.0 `write`)
    Update,
    /// `delete`
    Delete,
    /// `list`
    List,
    /// `patch` (KV v2)
    Patch,
    /// `help`
    Help,
    /// Anything else, or absent.
    #[default]
    Other,
}

impl Operation {
    /// Parses `request.operation`.
    pub fn parse(s: &str) -> Operation {
        match s {
            "read" => Operation::Read,
            "update" | "write" => Operation::Update,
            "create" => Operation::Create,
            "list" => Operation::List,
            "delete" => Operation::Delete,
            "patch" => Operation::Patch,
            "help" => Operation::Help,
            _ => Operation::Other,
        }
    }

    /// The name as Vault writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::List => "list",
            Operation::Patch => "patch",
            Operation::Help => "help",
            Operation::Other => "other",
        }
    }

    /// True for operations that change state.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Operation::Create | Operation::Update | Operation::Delete | Operation::Patch
        )
    }
}

/// A token identity as it appears in `auth` (the caller) or `response.auth` (a new token).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenInfo<'a> {
    /// `client_token` (an HMAC unless the device logs raw).
    pub client_token: Option<&'a str>,
    /// `accessor` (an HMAC unless `hmac_accessor=false`).
    pub accessor: Option<&'a str>,
    /// `display_name`, e.g. `approle`, `userpass-alice`, `root`.
    pub display_name: Option<&'a str>,
    /// `entity_id`.
    pub entity_id: Option<&'a str>,
    /// `token_type`: `service`, `batch`, `default` (unauthenticated).
    pub token_type: Option<&'a str>,
    /// `policies`.
    pub policies: List<'a>,
    /// `token_policies` and `identity_policies` (OpenBao and Vault write both next to their
    /// union `policies`); read in `response.auth` only, where a token is issued.
    pub token_policies: List<'a>,
    /// See `token_policies`.
    pub identity_policies: List<'a>,
    /// `metadata` (role name, user name, service account ...).
    pub metadata: Obj<'a>,
}

impl<'a> TokenInfo<'a> {
    /// True when the policies include `root`.
    pub fn is_root(&self) -> bool {
        self.policies.contains_str("root")
    }

    /// A metadata value by key.
    pub fn meta(&self, key: &str) -> Option<&'a str> {
        self.metadata.get(key).and_then(|v| v.as_str())
    }
}

/// Fields of the `auth` object beyond the token identity.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallerInfo<'a> {
    /// The token that made the request.
    pub token: TokenInfo<'a>,
    /// `policy_results.allowed` (Vault 1.11+, OpenBao).
    pub policy_allowed: Option<bool>,
    /// `token_issue_time` as written.
    pub token_issue_time: Option<&'a str>,
}

/// Fields of the `request` object.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestInfo<'a> {
    /// `id`: pairs a request with its response. Missing on `help` and some old entries.
    pub id: Option<&'a str>,
    /// `operation`.
    pub operation: Operation,
    /// `path`, namespace-relative. Never HMAC'd.
    pub path: &'a str,
    /// `mount_point`, e.g. `kv/` (includes the namespace on Enterprise).
    pub mount_point: Option<&'a str>,
    /// `mount_type`, e.g. `kv`, `database`, `system`.
    pub mount_type: Option<&'a str>,
    /// `mount_class`: `auth` or `secret`.
    pub mount_class: Option<&'a str>,
    /// `namespace.id`.
    pub namespace_id: Option<&'a str>,
    /// `namespace.path`, e.g. `blue/` (absent or empty for root).
    pub namespace_path: Option<&'a str>,
    /// `remote_address`.
    pub remote_address: Option<&'a str>,
    /// `client_token`.
    pub client_token: Option<&'a str>,
    /// `client_token_accessor`: the caller's accessor, the parent in token lineage.
    pub client_token_accessor: Option<&'a str>,
    /// `client_id`.
    pub client_id: Option<&'a str>,
    /// `request_uri`, when it differs from the path.
    pub request_uri: Option<&'a str>,
    /// `data` (strings HMAC'd).
    pub data: Option<Obj<'a>>,
}

impl<'a> RequestInfo<'a> {
    /// The non-root namespace path, without its trailing slash (`blue`), if any.
    pub fn namespace(&self) -> Option<&'a str> {
        let ns = self.namespace_path?.trim_end_matches('/');
        (!ns.is_empty()).then_some(ns)
    }
}

/// Fields of the `response` object.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResponseInfo<'a> {
    /// `response.auth`: the token this request issued (logins, `auth/token/create*`).
    pub auth: Option<TokenInfo<'a>>,
    /// `response.secret.lease_id`, clear text; empty strings are dropped.
    pub lease_id: Option<&'a str>,
    /// `response.data`.
    pub data: Option<Obj<'a>>,
    /// `response.wrap_info.token`: the wrapping token (HMAC'd like every token).
    pub wrap_token: Option<&'a str>,
    /// `response.wrap_info.accessor`.
    pub wrap_accessor: Option<&'a str>,
    /// `response.wrap_info.creation_path`.
    pub wrap_creation_path: Option<&'a str>,
    /// `response.mount_type`.
    pub mount_type: Option<&'a str>,
}

impl<'a> ResponseInfo<'a> {
    /// True when `response.data.error` is present: backend errors land there, HMAC'd.
    pub fn has_data_error(&self) -> bool {
        self.data.is_some_and(|d| d.get("error").is_some())
    }

    /// True when the response was wrapped (`X-Vault-Wrap-TTL`): the caller got a wrapping
    /// token instead of the data, and whoever unwraps it gets the data.
    pub fn is_wrapped(&self) -> bool {
        self.wrap_token.is_some() || self.wrap_accessor.is_some()
    }
}

/// One audit entry.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// The whole entry, for lookups beyond the typed fields.
    pub root: Obj<'a>,
    /// `type`.
    pub entry_type: EntryType,
    /// `time`, if present and valid RFC 3339.
    pub time: Option<Timestamp>,
    /// `time` as written, when present (hostile: never render it).
    pub time_text: Option<&'a str>,
    /// Top-level `error`; an empty string counts as absent.
    pub error: Option<&'a str>,
    /// The caller.
    pub auth: CallerInfo<'a>,
    /// The request.
    pub request: RequestInfo<'a>,
    /// The response (response entries only).
    pub response: ResponseInfo<'a>,
}

impl<'a> Entry<'a> {
    /// Any field by dotted path, e.g. `request.headers.user-agent`.
    pub fn lookup(&self, dotted: &str) -> Option<Value<'a>> {
        let parts: smallvec_free::Parts<'_> = smallvec_free::split(dotted);
        self.root.lookup(parts.as_slice())
    }

    /// True for request entries.
    pub fn is_request(&self) -> bool {
        self.entry_type == EntryType::Request
    }

    /// True for response entries.
    pub fn is_response(&self) -> bool {
        self.entry_type == EntryType::Response
    }
}

/// Splits a dotted path into at most 16 parts without allocating.
mod smallvec_free {
    pub struct Parts<'s> {
        buf: [&'s str; 16],
        len: usize,
    }

    impl<'s> Parts<'s> {
        pub fn as_slice(&self) -> &[&'s str] {
            &self.buf[..self.len]
        }
    }

    pub fn split(dotted: &str) -> Parts<'_> {
        let mut p = Parts {
            buf: [""; 16],
            len: 0,
        };
        for part in dotted.split('.') {
            if p.len == p.buf.len() {
                break;
            }
            p.buf[p.len] = part;
            p.len += 1;
        }
        p
    }
}
