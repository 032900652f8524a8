//! JSON for one audit entry pair, shaped like OpenBao 2.7's file audit device writes it: the
//! request entry, then the response entry repeating `auth` and `request`.
//!
//! The pieces are built once per operation into reused buffers and copied into both lines.
//! Every string written here is known not to need JSON escaping.

use rand_core::Rng;

use super::format::{Hex64, TimeFormatter, push_hmac, push_int, push_random_hmac, push_uuid};
use super::pick;
use super::plan::{Origin, Token};

const VERSION: &str = "v2.7.2+builtin.bao";

/// Where a request lands: the mount table entry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mount {
    /// Without the namespace, with the trailing slash.
    pub point: &'static str,
    pub kind: &'static str,
    pub accessor: &'static str,
    pub class: &'static str,
}

pub(crate) const KV2: Mount = Mount {
    point: "kv/",
    kind: "kv",
    accessor: "kv_6c30afe9",
    class: "secret",
};
pub(crate) const KV1: Mount = Mount {
    point: "secret/",
    kind: "kv",
    accessor: "kv_1d2f8b07",
    class: "secret",
};
pub(crate) const DATABASE: Mount = Mount {
    point: "database/",
    kind: "database",
    accessor: "database_8a7b6c5d",
    class: "secret",
};
pub(crate) const AWS: Mount = Mount {
    point: "aws/",
    kind: "aws",
    accessor: "aws_3e4f5a6b",
    class: "secret",
};
pub(crate) const PKI: Mount = Mount {
    point: "pki/",
    kind: "pki",
    accessor: "pki_0b1c2d3e",
    class: "secret",
};
pub(crate) const SYSTEM: Mount = Mount {
    point: "sys/",
    kind: "system",
    accessor: "system_cfbe7b46",
    class: "secret",
};
pub(crate) const APPROLE: Mount = Mount {
    point: "auth/approle/",
    kind: "approle",
    accessor: "auth_approle_678254a8",
    class: "auth",
};
pub(crate) const USERPASS: Mount = Mount {
    point: "auth/userpass/",
    kind: "userpass",
    accessor: "auth_userpass_5c7e9a21",
    class: "auth",
};
pub(crate) const TOKEN: Mount = Mount {
    point: "auth/token/",
    kind: "token",
    accessor: "auth_token_4a1f3c2e",
    class: "auth",
};

/// The permission-denied error as the file device writes it (a Go multierror).
pub(crate) const DENIED: &str = r#""1 error occurred:\n\t* permission denied\n\n""#;

/// Whether the caller's policies allowed the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Allowed {
    Yes,
    No,
}

/// The three objects of an entry pair, and the error, under construction.
#[derive(Default)]
pub(crate) struct Entry {
    /// `auth` of the response entry, and of the request entry unless `request_auth` is set.
    pub auth: Vec<u8>,
    /// `auth` of the request entry when it differs (a login is anonymous until it succeeds).
    pub request_auth: Vec<u8>,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
    /// A JSON string, already quoted; on the response entry only, or on both.
    pub error: Option<(&'static str, ErrorOn)>,
}

/// Which entries carry the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorOn {
    /// Refused before the backend ran (policy): the request entry has it too.
    Both,
    /// The backend failed: only the response knows.
    Response,
}

impl Entry {
    pub(crate) fn clear(&mut self) {
        self.auth.clear();
        self.request_auth.clear();
        self.request.clear();
        self.response.clear();
        self.error = None;
    }

    /// Writes the request line and the response line.
    pub(crate) fn write_pair(
        &self,
        out: &mut Vec<u8>,
        clock: &mut TimeFormatter,
        request_at: u64,
        response_at: u64,
    ) {
        self.write_line(out, clock, request_at, false);
        self.write_line(out, clock, response_at, true);
    }

    fn write_line(&self, out: &mut Vec<u8>, clock: &mut TimeFormatter, at: u64, response: bool) {
        out.extend_from_slice(b"{\"time\":");
        clock.push(out, at);
        out.extend_from_slice(if response {
            b",\"type\":\"response\",\"auth\":"
        } else {
            b",\"type\":\"request\",\"auth\":"
        });
        let auth = if response || self.request_auth.is_empty() {
            &self.auth
        } else {
            &self.request_auth
        };
        out.extend_from_slice(auth);
        out.extend_from_slice(b",\"request\":");
        out.extend_from_slice(&self.request);
        if response {
            out.extend_from_slice(b",\"response\":");
            out.extend_from_slice(&self.response);
        }
        if let Some((error, on)) = self.error
            && (response || on == ErrorOn::Both)
        {
            out.extend_from_slice(b",\"error\":");
            out.extend_from_slice(error.as_bytes());
        }
        out.extend_from_slice(b"}\n");
    }
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

fn push_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// The token's fields as both `auth` and `response.auth` list them (without `policy_results`).
fn push_token_fields(out: &mut Vec<u8>, token: &Token) {
    out.extend_from_slice(b"\"client_token\":");
    push_hmac(out, &token.client_token);
    push_key(out, "accessor");
    push_hmac(out, &token.accessor);
    push_key(out, "display_name");
    push_str(out, &token.display_name);
    push_key(out, "policies");
    out.extend_from_slice(token.policies.as_bytes());
    push_key(out, "token_policies");
    out.extend_from_slice(token.policies.as_bytes());
}

fn push_token_tail(out: &mut Vec<u8>, token: &Token) {
    push_key(out, "metadata");
    match &token.origin {
        Origin::AppRole { role } => {
            out.extend_from_slice(b"{\"role_name\":");
            push_str(out, role);
            out.push(b'}');
        }
        Origin::Userpass { user } => {
            out.extend_from_slice(b"{\"username\":");
            push_str(out, user);
            out.push(b'}');
        }
        Origin::Child => out.extend_from_slice(b"null"),
    }
    push_key(out, "entity_id");
    push_str(out, &token.entity_id);
    out.extend_from_slice(b",\"token_type\":\"service\",\"token_ttl\":2764800");
}

/// `auth` of an entry made with `token`.
pub(crate) fn token_auth(out: &mut Vec<u8>, token: &Token, allowed: Allowed) {
    out.push(b'{');
    push_token_fields(out, token);
    out.extend_from_slice(match allowed {
        Allowed::Yes => {
            &b",\"policy_results\":{\"allowed\":true,\"granting_policies\":[{\"name\":\"default\",\"namespace_id\":\"root\",\"type\":\"acl\"}]}"[..]
        }
        Allowed::No => b",\"policy_results\":{\"allowed\":false}",
    });
    push_token_tail(out, token);
    push_key(out, "token_issue_time");
    push_str(out, &token.issue_time);
    out.push(b'}');
}

/// `auth` of an unauthenticated request (a login).
pub(crate) fn anonymous_auth(out: &mut Vec<u8>, allowed: Allowed) {
    out.extend_from_slice(match allowed {
        Allowed::Yes => &b"{\"policy_results\":{\"allowed\":true},\"token_type\":\"default\"}"[..],
        Allowed::No => b"{\"token_type\":\"default\"}",
    });
}

/// `response.auth` of a request that issued `token`.
pub(crate) fn issued_auth(out: &mut Vec<u8>, token: &Token) {
    out.push(b'{');
    push_token_fields(out, token);
    push_token_tail(out, token);
    out.push(b'}');
}

/// Who sent a request and where it went.
pub(crate) struct Target<'a> {
    pub operation: &'static str,
    pub mount: Mount,
    /// `(id, path)` of a non-root namespace.
    pub namespace: Option<&'a (String, String)>,
    pub path: &'a str,
    pub token: Option<&'a Token>,
}

/// Opens `request` up to `"data":` or the address; the caller adds `data` if any, then calls
/// [`close_request`].
pub(crate) fn open_request(out: &mut Vec<u8>, rng: &mut impl Rng, t: &Target<'_>) {
    out.extend_from_slice(b"{\"id\":\"");
    push_uuid(out, rng);
    out.push(b'"');
    if let Some(token) = t.token {
        push_key(out, "client_id");
        push_str(out, &token.entity_id);
    }
    push_key(out, "operation");
    push_str(out, t.operation);
    push_mount(out, t.mount, t.namespace, "mount_running_version");
    if let Some(token) = t.token {
        push_key(out, "client_token");
        push_hmac(out, &token.client_token);
        push_key(out, "client_token_accessor");
        push_hmac(out, &token.accessor);
    }
    match t.namespace {
        None => out.extend_from_slice(b",\"namespace\":{\"id\":\"root\"}"),
        Some((id, path)) => {
            out.extend_from_slice(b",\"namespace\":{\"id\":");
            push_str(out, id);
            out.extend_from_slice(b",\"path\":");
            push_str(out, path);
            out.push(b'}');
        }
    }
    push_key(out, "path");
    push_str(out, t.path);
}

/// Closes `request` with the client's address.
pub(crate) fn close_request(out: &mut Vec<u8>, rng: &mut impl Rng, remote_address: &str) {
    push_key(out, "remote_address");
    push_str(out, remote_address);
    push_key(out, "remote_port");
    push_int(out, 30_000 + pick(rng, 30_000) as u64);
    out.push(b'}');
}

fn push_mount(
    out: &mut Vec<u8>,
    m: Mount,
    namespace: Option<&(String, String)>,
    version_key: &str,
) {
    push_key(out, "mount_point");
    out.push(b'"');
    if let Some((_, ns)) = namespace {
        out.extend_from_slice(ns.as_bytes());
    }
    out.extend_from_slice(m.point.as_bytes());
    out.push(b'"');
    push_key(out, "mount_type");
    push_str(out, m.kind);
    push_key(out, "mount_accessor");
    push_str(out, m.accessor);
    push_key(out, version_key);
    push_str(out, VERSION);
    push_key(out, "mount_class");
    push_str(out, m.class);
}

/// Opens `response` with its mount fields; the caller adds `secret`, `auth`, `data` and closes
/// it with `}`.
pub(crate) fn open_response(out: &mut Vec<u8>, m: Mount, namespace: Option<&(String, String)>) {
    out.push(b'{');
    // push_mount starts with a comma; the first key must not.
    let start = out.len();
    push_mount(out, m, namespace, "mount_running_plugin_version");
    out.remove(start);
}

/// `,"data":{"k1":<hmac>,"k2":<hmac>,...}` with fresh HMACs.
pub(crate) fn push_hmac_data(out: &mut Vec<u8>, rng: &mut impl Rng, keys: &[&str]) {
    out.extend_from_slice(b",\"data\":{");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, k);
        out.push(b':');
        push_random_hmac(out, rng);
    }
    out.push(b'}');
}

/// `,"keys":[<hmac>,...]` of a listing with `n` keys.
pub(crate) fn push_keys(out: &mut Vec<u8>, rng: &mut impl Rng, n: usize) {
    out.extend_from_slice(b",\"data\":{\"keys\":[");
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        push_random_hmac(out, rng);
    }
    out.extend_from_slice(b"]}");
}

/// `,"secret":{"lease_id":"<path>/<24 characters>"}`: the lease of dynamic credentials.
pub(crate) fn push_lease(out: &mut Vec<u8>, rng: &mut impl Rng, path: &str) {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    out.extend_from_slice(b",\"secret\":{\"lease_id\":\"");
    out.extend_from_slice(path.as_bytes());
    out.push(b'/');
    for _ in 0..24 {
        out.push(ALNUM[pick(rng, ALNUM.len())]);
    }
    out.extend_from_slice(b"\"}");
}

/// A KV v2 read's `data`: the values and the version metadata.
pub(crate) fn push_kv2_data(out: &mut Vec<u8>, rng: &mut impl Rng, values: &[Hex64; 2]) {
    out.extend_from_slice(b",\"data\":{\"data\":{\"password\":");
    push_hmac(out, &values[0]);
    out.extend_from_slice(b",\"username\":");
    push_hmac(out, &values[1]);
    out.extend_from_slice(b"},\"metadata\":{\"created_time\":");
    push_random_hmac(out, rng);
    out.extend_from_slice(b",\"custom_metadata\":null,\"deletion_time\":");
    push_random_hmac(out, rng);
    out.extend_from_slice(b",\"destroyed\":false,\"version\":");
    push_int(out, 1 + pick(rng, 9) as u64);
    out.extend_from_slice(b"}}");
}

/// A KV v1 read's `data`.
pub(crate) fn push_kv1_data(out: &mut Vec<u8>, values: &[Hex64; 2]) {
    out.extend_from_slice(b",\"data\":{\"value\":");
    push_hmac(out, &values[0]);
    out.extend_from_slice(b",\"ttl\":");
    push_hmac(out, &values[1]);
    out.push(b'}');
}

/// The mount description a `sys/internal/ui/mounts/...` preflight returns.
pub(crate) fn push_preflight_data(out: &mut Vec<u8>, rng: &mut impl Rng) {
    out.extend_from_slice(b",\"data\":{\"accessor\":");
    push_random_hmac(out, rng);
    out.extend_from_slice(
        b",\"config\":{\"default_lease_ttl\":0,\"force_no_cache\":false,\"max_lease_ttl\":0}",
    );
    for key in [
        "description",
        "options",
        "path",
        "plugin_version",
        "type",
        "uuid",
    ] {
        push_key(out, key);
        push_random_hmac(out, rng);
    }
    out.extend_from_slice(
        b",\"external_entropy_access\":false,\"local\":false,\"seal_wrap\":false}",
    );
}
