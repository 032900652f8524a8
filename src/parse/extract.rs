//! One walk over the tape fills the typed fields of an [`Event`].
//!
//! Keys are matched with `match` on `&str`, which compiles to length checks and short compares;
//! subtrees nobody reads (`request.data`, `response.data`, headers) are skipped in O(1) because
//! the tape records their width.

use simd_json::value::tape::Node;

use super::ParseErrorKind;
use crate::model::tape::{Obj, Raw, Value};
use crate::model::{
    CallerInfo, EntryType, Event, Operation, RequestInfo, ResponseInfo, Timestamp, TokenInfo,
};

/// Builds an [`Event`] from the tape of one JSON document.
pub(crate) fn event<'a>(nodes: &'a [Node<'a>]) -> Result<Event<'a>, ParseErrorKind> {
    let root = Obj::root(nodes).ok_or(ParseErrorKind::NotAnObject)?;
    let mut ev = Event {
        root,
        entry_type: EntryType::Other,
        time: None,
        error: None,
        auth: CallerInfo::default(),
        request: RequestInfo::default(),
        response: ResponseInfo::default(),
    };
    let mut has_type = false;
    let mut has_request = false;
    for (key, raw) in root.members() {
        let value = || raw.value();
        match key {
            "time" => ev.time = value().as_str().and_then(Timestamp::parse),
            "type" => {
                if let Some(t) = value().as_str() {
                    ev.entry_type = EntryType::from_type(t);
                    has_type = true;
                }
            }
            "error" => ev.error = non_empty(value()),
            "auth" => {
                if let Some(o) = value().as_object() {
                    ev.auth = caller(o);
                }
            }
            "request" => {
                if let Some(o) = value().as_object() {
                    ev.request = request(o);
                    has_request = true;
                }
            }
            "response" => {
                if let Some(o) = value().as_object() {
                    ev.response = response(o);
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

fn non_empty(v: Value<'_>) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

fn token_field<'a>(t: &mut TokenInfo<'a>, key: &str, raw: Raw<'a>) -> bool {
    let value = || raw.value();
    match key {
        "client_token" => t.client_token = non_empty(value()),
        "accessor" => t.accessor = non_empty(value()),
        "display_name" => t.display_name = non_empty(value()),
        "entity_id" => t.entity_id = non_empty(value()),
        "token_type" => t.token_type = non_empty(value()),
        "policies" => {
            if let Some(l) = value().as_list() {
                t.policies = l;
            }
        }
        "metadata" => {
            if let Some(o) = value().as_object() {
                t.metadata = o;
            }
        }
        _ => return false,
    }
    true
}

fn caller(o: Obj<'_>) -> CallerInfo<'_> {
    let mut c = CallerInfo::default();
    for (key, raw) in o.members() {
        let value = || raw.value();
        if token_field(&mut c.token, key, raw) {
            continue;
        }
        match key {
            "policy_results" => {
                c.policy_allowed = value()
                    .as_object()
                    .and_then(|p| p.get("allowed"))
                    .and_then(|a| a.as_bool());
            }
            "token_issue_time" => c.token_issue_time = non_empty(value()),
            _ => {}
        }
    }
    c
}

fn request(o: Obj<'_>) -> RequestInfo<'_> {
    let mut r = RequestInfo::default();
    for (key, raw) in o.members() {
        let value = || raw.value();
        match key {
            "id" => r.id = non_empty(value()),
            "operation" => {
                r.operation = value().as_str().map_or(Operation::Other, Operation::parse)
            }
            "path" => r.path = value().as_str().unwrap_or(""),
            "mount_point" => r.mount_point = non_empty(value()),
            "mount_type" => r.mount_type = non_empty(value()),
            "mount_class" => r.mount_class = non_empty(value()),
            "namespace" => {
                if let Some(ns) = value().as_object() {
                    r.namespace_id = ns.get("id").and_then(non_empty);
                    r.namespace_path = ns.get("path").and_then(non_empty);
                }
            }
            "remote_address" => r.remote_address = non_empty(value()),
            "client_token" => r.client_token = non_empty(value()),
            "client_token_accessor" => r.client_token_accessor = non_empty(value()),
            "client_id" => r.client_id = non_empty(value()),
            "request_uri" => r.request_uri = non_empty(value()),
            "data" => r.data = value().as_object(),
            _ => {}
        }
    }
    r
}

fn response(o: Obj<'_>) -> ResponseInfo<'_> {
    let mut r = ResponseInfo::default();
    for (key, raw) in o.members() {
        let value = || raw.value();
        match key {
            "auth" => {
                if let Some(a) = value().as_object() {
                    let mut t = TokenInfo::default();
                    for (k, v) in a.members() {
                        token_field(&mut t, k, v);
                    }
                    r.auth = Some(t);
                }
            }
            "secret" => {
                r.lease_id = value()
                    .as_object()
                    .and_then(|s| s.get("lease_id"))
                    .and_then(non_empty)
            }
            "data" => r.data = value().as_object(),
            "wrap_info" => {
                if let Some(w) = value().as_object() {
                    r.wrap_token = w.get("token").and_then(non_empty);
                    r.wrap_accessor = w.get("accessor").and_then(non_empty);
                    r.wrap_creation_path = w.get("creation_path").and_then(non_empty);
                }
            }
            "mount_type" => r.mount_type = non_empty(value()),
            _ => {}
        }
    }
    r
}
