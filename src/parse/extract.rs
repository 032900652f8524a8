//! One walk over the tape fills the typed fields of an [`Entry`].
//!
//! Keys are matched with `match` on `&str`, which compiles to length checks and short compares;
//! subtrees nobody reads (`request.data`, `response.data`, headers) are skipped in O(1) because
//! the tape records their width.
//!
//! Vault never writes a key twice nor a field of another type, so an entry where a field the
//! analyses read appears twice ([`ParseErrorKind::DuplicateKey`]) or has the wrong type
//! ([`ParseErrorKind::WrongType`]) is malformed: counted and located, never half-read. `null`
//! stands for absent wherever Vault writes it (optional strings, lists and objects); `type`,
//! `time`, `request.path` and `request.operation` must be strings when present.

use simd_json::value::tape::Node;

use super::ParseErrorKind;
use crate::model::tape::{List, Obj, Raw, Value};
use crate::model::{
    CallerInfo, Entry, EntryType, Operation, RequestInfo, ResponseInfo, Timestamp, TokenInfo,
};

type Res<T> = Result<T, ParseErrorKind>;

/// The keys of one object seen so far, one bit per key the analyses read.
struct Seen {
    bits: u32,
    level: &'static str,
}

impl Seen {
    fn new(level: &'static str) -> Seen {
        Seen { bits: 0, level }
    }

    /// Marks key number `bit` (named `key`) seen; a second time is a duplicate.
    #[inline(always)]
    fn once(&mut self, bit: u32, key: &'static str) -> Res<()> {
        let b = 1u32 << bit;
        if self.bits & b != 0 {
            return Err(ParseErrorKind::DuplicateKey(field(self.level, key)));
        }
        self.bits |= b;
        Ok(())
    }

    #[cold]
    fn wrong(&self, key: &'static str, expected: &'static str) -> ParseErrorKind {
        ParseErrorKind::WrongType {
            field: field(self.level, key),
            expected,
        }
    }

    /// An optional string: a string, `null` or absent; empty strings count as absent.
    #[inline(always)]
    fn opt_str<'a>(&mut self, bit: u32, key: &'static str, v: Value<'a>) -> Res<Option<&'a str>> {
        self.once(bit, key)?;
        match v {
            Value::Str(s) => Ok((!s.is_empty()).then_some(s)),
            Value::Null => Ok(None),
            _ => Err(self.wrong(key, "a string")),
        }
    }

    /// A string that must be one when present.
    #[inline(always)]
    fn str<'a>(&mut self, bit: u32, key: &'static str, v: Value<'a>) -> Res<&'a str> {
        self.once(bit, key)?;
        v.as_str().ok_or_else(|| self.wrong(key, "a string"))
    }

    /// An optional object.
    #[inline(always)]
    fn opt_obj<'a>(&mut self, bit: u32, key: &'static str, v: Value<'a>) -> Res<Option<Obj<'a>>> {
        self.once(bit, key)?;
        match v {
            Value::Object(o) => Ok(Some(o)),
            Value::Null => Ok(None),
            _ => Err(self.wrong(key, "an object")),
        }
    }

    /// An optional list.
    #[inline(always)]
    fn opt_list<'a>(&mut self, bit: u32, key: &'static str, v: Value<'a>) -> Res<Option<List<'a>>> {
        self.once(bit, key)?;
        match v {
            Value::Array(l) => Ok(Some(l)),
            Value::Null => Ok(None),
            _ => Err(self.wrong(key, "a list")),
        }
    }
}

#[cold]
fn field(level: &str, key: &str) -> String {
    if level.is_empty() {
        key.to_string()
    } else {
        format!("{level}.{key}")
    }
}

/// Builds an [`Entry`] from the tape of one JSON document.
pub(crate) fn event<'a>(nodes: &'a [Node<'a>]) -> Result<Entry<'a>, ParseErrorKind> {
    let root = Obj::root(nodes).ok_or(ParseErrorKind::NotAnObject)?;
    let mut ev = Entry {
        root,
        entry_type: EntryType::Other,
        time: None,
        time_text: None,
        error: None,
        auth: CallerInfo::default(),
        request: RequestInfo::default(),
        response: ResponseInfo::default(),
    };
    let mut has_type = false;
    let mut has_request = false;
    let mut seen = Seen::new("");
    for (key, raw) in root.members() {
        let v = raw.value();
        match key {
            "time" => {
                let text = seen.str(0, "time", v)?;
                ev.time = Timestamp::parse(text);
                ev.time_text = Some(text);
            }
            "type" => {
                ev.entry_type = EntryType::from_type(seen.str(1, "type", v)?);
                has_type = true;
            }
            "error" => ev.error = seen.opt_str(2, "error", v)?,
            "auth" => {
                if let Some(o) = seen.opt_obj(3, "auth", v)? {
                    ev.auth = caller(o)?;
                }
            }
            "request" => {
                if let Some(o) = seen.opt_obj(4, "request", v)? {
                    ev.request = request(o)?;
                    has_request = true;
                }
            }
            "response" => {
                if let Some(o) = seen.opt_obj(5, "response", v)? {
                    ev.response = response(o)?;
                }
            }
            _ => {}
        }
    }
    if !has_type && !has_request {
        return Err(ParseErrorKind::NotAuditEntry);
    }
    Ok(ev)
}

/// Reads a member of a token identity; `Ok(false)` when `key` is not one.
#[inline(always)]
fn token_field<'a>(t: &mut TokenInfo<'a>, seen: &mut Seen, key: &str, raw: Raw<'a>) -> Res<bool> {
    let v = raw.value();
    match key {
        "client_token" => t.client_token = seen.opt_str(0, "client_token", v)?,
        "accessor" => t.accessor = seen.opt_str(1, "accessor", v)?,
        "display_name" => t.display_name = seen.opt_str(2, "display_name", v)?,
        "entity_id" => t.entity_id = seen.opt_str(3, "entity_id", v)?,
        "token_type" => t.token_type = seen.opt_str(4, "token_type", v)?,
        "policies" => {
            if let Some(l) = seen.opt_list(5, "policies", v)? {
                t.policies = l;
            }
        }
        "metadata" => {
            if let Some(o) = seen.opt_obj(6, "metadata", v)? {
                t.metadata = o;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `token_policies`/`identity_policies` of an issued token. Only the policy analysis reads them
/// and `policies` stays authoritative, so another shape is ignored rather than made an error.
fn issued_policies<'a>(t: &mut TokenInfo<'a>, key: &str, raw: Raw<'a>) {
    match (key, raw.value()) {
        ("token_policies", Value::Array(l)) => t.token_policies = l,
        ("identity_policies", Value::Array(l)) => t.identity_policies = l,
        _ => {}
    }
}

fn caller(o: Obj<'_>) -> Res<CallerInfo<'_>> {
    let mut c = CallerInfo::default();
    let mut seen = Seen::new("auth");
    for (key, raw) in o.members() {
        if token_field(&mut c.token, &mut seen, key, raw)? {
            continue;
        }
        let v = raw.value();
        match key {
            "policy_results" => {
                if let Some(p) = seen.opt_obj(7, "policy_results", v)? {
                    c.policy_allowed = policy_allowed(p)?;
                }
            }
            "token_issue_time" => c.token_issue_time = seen.opt_str(8, "token_issue_time", v)?,
            _ => {}
        }
    }
    Ok(c)
}

fn policy_allowed(p: Obj<'_>) -> Res<Option<bool>> {
    let mut seen = Seen::new("auth.policy_results");
    let mut allowed = None;
    for (key, raw) in p.members() {
        if key == "allowed" {
            seen.once(0, "allowed")?;
            allowed = match raw.value() {
                Value::Bool(b) => Some(b),
                Value::Null => None,
                _ => return Err(seen.wrong("allowed", "a boolean")),
            };
        }
    }
    Ok(allowed)
}

fn request(o: Obj<'_>) -> Res<RequestInfo<'_>> {
    let mut r = RequestInfo::default();
    let mut seen = Seen::new("request");
    for (key, raw) in o.members() {
        let v = raw.value();
        match key {
            "id" => r.id = seen.opt_str(0, "id", v)?,
            "operation" => r.operation = Operation::parse(seen.str(1, "operation", v)?),
            "path" => r.path = seen.str(2, "path", v)?,
            "mount_point" => r.mount_point = seen.opt_str(3, "mount_point", v)?,
            "mount_type" => r.mount_type = seen.opt_str(4, "mount_type", v)?,
            "mount_class" => r.mount_class = seen.opt_str(5, "mount_class", v)?,
            "namespace" => {
                if let Some(ns) = seen.opt_obj(6, "namespace", v)? {
                    let mut s = Seen::new("request.namespace");
                    for (k, raw) in ns.members() {
                        match k {
                            "id" => r.namespace_id = s.opt_str(0, "id", raw.value())?,
                            "path" => r.namespace_path = s.opt_str(1, "path", raw.value())?,
                            _ => {}
                        }
                    }
                }
            }
            "remote_address" => r.remote_address = seen.opt_str(7, "remote_address", v)?,
            "client_token" => r.client_token = seen.opt_str(8, "client_token", v)?,
            "client_token_accessor" => {
                r.client_token_accessor = seen.opt_str(9, "client_token_accessor", v)?
            }
            "client_id" => r.client_id = seen.opt_str(10, "client_id", v)?,
            "request_uri" => r.request_uri = seen.opt_str(11, "request_uri", v)?,
            "data" => r.data = seen.opt_obj(12, "data", v)?,
            _ => {}
        }
    }
    Ok(r)
}

fn response(o: Obj<'_>) -> Res<ResponseInfo<'_>> {
    let mut r = ResponseInfo::default();
    let mut seen = Seen::new("response");
    for (key, raw) in o.members() {
        let v = raw.value();
        match key {
            "auth" => {
                if let Some(a) = seen.opt_obj(0, "auth", v)? {
                    let mut t = TokenInfo::default();
                    let mut s = Seen::new("response.auth");
                    for (k, v) in a.members() {
                        if !token_field(&mut t, &mut s, k, v)? {
                            issued_policies(&mut t, k, v);
                        }
                    }
                    r.auth = Some(t);
                }
            }
            "secret" => {
                if let Some(s) = seen.opt_obj(1, "secret", v)? {
                    let mut ss = Seen::new("response.secret");
                    for (k, raw) in s.members() {
                        if k == "lease_id" {
                            r.lease_id = ss.opt_str(0, "lease_id", raw.value())?;
                        }
                    }
                }
            }
            "data" => r.data = seen.opt_obj(2, "data", v)?,
            "wrap_info" => {
                if let Some(w) = seen.opt_obj(3, "wrap_info", v)? {
                    let mut s = Seen::new("response.wrap_info");
                    for (k, raw) in w.members() {
                        match k {
                            "accessor" => {
                                r.wrap_accessor = s.opt_str(0, "accessor", raw.value())?
                            }
                            "creation_path" => {
                                r.wrap_creation_path = s.opt_str(1, "creation_path", raw.value())?
                            }
                            "token" => r.wrap_token = s.opt_str(2, "token", raw.value())?,
                            _ => {}
                        }
                    }
                }
            }
            "mount_type" => r.mount_type = seen.opt_str(4, "mount_type", v)?,
            _ => {}
        }
    }
    Ok(r)
}
