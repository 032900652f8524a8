//! The fast path for request entries.
//!
//! Vault writes every request twice: the request entry, then the response entry that repeats the
//! request and adds the outcome. Analyses read the response, so of a request entry the scan only
//! needs its `time`, that it *is* a request, and `request.id` (to pair it with its response). Full
//! JSON parsing of request entries was ~40% of the parse time on OpenBao logs.
//!
//! [`request_header`] reads those three fields without building a tape, and answers `None`
//! whenever it is not certain: the caller then parses the entry fully. It knows the two layouts
//! Vault and OpenBao write: fields in declaration order (`{"time":..,"type":"request",..}`,
//! OpenBao and Vault up to 1.14) and alphabetical order (`..,"time":..,"type":"request"}`, Vault
//! 1.15+). In both, the raw bytes `"request":{` cannot occur inside a JSON string (every quote in
//! a string is escaped) nor inside `auth` (whose nested values are string maps), so the first
//! occurrence is the request object. Strings with escapes are left to the full parser.
//! Their content is analysed from the response, and from a full parse when no response exists.
//!
//! An entry this path takes must be one the full parser accepts with the same fields (the
//! differential tests in `tests/integration/differential.rs` and `fast_path.rs` check it on
//! mutated real lines), so that every malformed line is reported whichever path read it. The
//! entry is indexed by the structural pass ([`super::skim`]: quotes, escapes, strings, token
//! starts, 64 bytes at a time), and the checks run over the token positions. What it checks:
//!
//! - the whole entry: valid UTF-8, no byte below 0x20 inside a string (the pass), no string
//!   left open, no whitespace or other byte between tokens (so no control byte anywhere);
//! - the objects whose keys the analyses read (the root, `auth`, `auth.policy_results`,
//!   `request`, `request.namespace`): the JSON grammar key by key, each read key at most once
//!   and of the type Vault writes (as `parse::extract` checks on the tape);
//! - every value below them that no analysis reads (`request.data`, `auth.metadata`, ...),
//!   skipped but validated: the grammar of objects and arrays (`"key":value` pairs, `,` between
//!   members, nothing after the last), strings closed with only JSON's escapes, the literals
//!   `true`, `false` and `null`, and numbers of the JSON grammar;
//! - it declines (the full parser decides) on: whitespace between tokens, key strings with
//!   escapes, `\u` escapes in `D000`-`DFFF` (surrogates), numbers with an exponent or more than
//!   18 digits, nesting deeper than 64 below a read key, a `response` object, and any layout
//!   other than the two above.
//!
//! Not checked in skipped subtrees: duplicate keys (JSON allows them and the full parser does
//! not look there either). `scan --strict` ([`super::Validation::Full`]) parses every entry
//! with simd-json instead.

use std::cell::RefCell;

use super::skim::grammar::Tokens;
use super::skim::{Implementation, Structurals};

/// What the scan needs from a request entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    /// `time`.
    pub time: &'a str,
    /// `request.id`, if the entry has one.
    pub id: Option<&'a str>,
}

const ORDERED_HEAD: &[u8] = b"{\"time\":\"";
const ORDERED_TYPE: &[u8] = b"\",\"type\":\"request\",";
const ALPHA_TAIL: &[u8] = b"\",\"type\":\"request\"}";
const ALPHA_TIME: &[u8] = b",\"time\":\"";

/// Reads `time` and `request.id` of a request entry (`json` is one framed object), or `None`
/// when the entry is not a request or its layout is not one this path is sure about. Runs
/// [`FastPath`] with a per-thread index.
pub fn request_header(json: &[u8]) -> Option<RequestHeader<'_>> {
    thread_local! {
        static FAST: RefCell<FastPath> = RefCell::new(FastPath::default());
    }
    FAST.with_borrow_mut(|fast| fast.request_header(json))
}

/// The request fast path with its reused index (no allocation once it has grown to the longest
/// entry).
#[derive(Clone, Debug, Default)]
pub struct FastPath {
    index: Structurals,
}

impl FastPath {
    /// A fast path whose structural pass is `implementation` (the scalar one when this CPU
    /// cannot run it): the tests run every implementation this way.
    pub fn with_implementation(implementation: Implementation) -> FastPath {
        FastPath {
            index: Structurals::new(implementation),
        }
    }

    /// The implementation of the structural pass.
    pub fn implementation(&self) -> Implementation {
        self.index.implementation()
    }

    /// See [`request_header`]. Not inlined, so that profiles show its cost.
    #[inline(never)]
    pub fn request_header<'a>(&mut self, json: &'a [u8]) -> Option<RequestHeader<'a>> {
        if json.last() != Some(&b'}') {
            return None;
        }
        // Cheap layout checks first: most lines that reach here are responses and leave at once.
        let time = if let Some(rest) = json.strip_prefix(ORDERED_HEAD) {
            let end = memchr::memchr2(b'"', b'\\', rest)?;
            if rest[end] != b'"' || !rest[end..].starts_with(ORDERED_TYPE) {
                return None;
            }
            &rest[..end]
        } else if let Some(before) = json.strip_suffix(ALPHA_TAIL) {
            let q = memchr::memrchr(b'"', before)?;
            if !before[..=q].ends_with(ALPHA_TIME) {
                return None;
            }
            let time = &before[q + 1..];
            if memchr::memchr(b'\\', time).is_some() {
                return None;
            }
            time
        } else {
            return None;
        };
        let text = simdutf8::basic::from_utf8(json).ok()?;
        self.index.index(json);
        let mut tokens = Tokens::new(json, &self.index)?;
        let mut id = None;
        // Duplicate keys and wrong types make the entry malformed: the full parser says so.
        object(&mut tokens, text, Level::Root, &mut id)?;
        if !tokens.done() {
            return None;
        }
        // `time` lies inside `text`, which is UTF-8, between two ASCII quotes.
        let start = time.as_ptr() as usize - json.as_ptr() as usize;
        Some(RequestHeader {
            time: &text[start..start + time.len()],
            id,
        })
    }
}

/// The objects whose keys the analyses read, as in [`super::extract`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Root,
    Auth,
    PolicyResults,
    Request,
    Namespace,
}

/// What a key the analyses read must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// A string.
    Str,
    /// A string or `null`.
    OptStr,
    /// A list or `null`.
    OptList,
    /// An object or `null`.
    OptObj,
    /// A boolean or `null`.
    OptBool,
    /// An object read key by key, or `null`.
    Nested(Level),
}

/// The bit and type of `key` at `level` (the same rules as [`super::extract`]); `Err` when this
/// path leaves the entry to the full parser.
fn want(level: Level, key: &[u8]) -> Result<Option<(u32, Want)>, ()> {
    use Want::*;
    Ok(Some(match (level, key) {
        (Level::Root, b"time") => (0, Str),
        (Level::Root, b"type") => (1, Str),
        (Level::Root, b"error") => (2, OptStr),
        (Level::Root, b"auth") => (3, Nested(Level::Auth)),
        (Level::Root, b"request") => (4, Nested(Level::Request)),
        (Level::Root, b"response") => return Err(()),
        (Level::Auth, b"client_token") => (0, OptStr),
        (Level::Auth, b"accessor") => (1, OptStr),
        (Level::Auth, b"display_name") => (2, OptStr),
        (Level::Auth, b"entity_id") => (3, OptStr),
        (Level::Auth, b"token_type") => (4, OptStr),
        (Level::Auth, b"policies") => (5, OptList),
        (Level::Auth, b"metadata") => (6, OptObj),
        (Level::Auth, b"policy_results") => (7, Nested(Level::PolicyResults)),
        (Level::Auth, b"token_issue_time") => (8, OptStr),
        (Level::PolicyResults, b"allowed") => (0, OptBool),
        (Level::Request, b"id") => (0, OptStr),
        (Level::Request, b"operation") => (1, Str),
        (Level::Request, b"path") => (2, Str),
        (Level::Request, b"mount_point") => (3, OptStr),
        (Level::Request, b"mount_type") => (4, OptStr),
        (Level::Request, b"mount_class") => (5, OptStr),
        (Level::Request, b"namespace") => (6, Nested(Level::Namespace)),
        (Level::Request, b"remote_address") => (7, OptStr),
        (Level::Request, b"client_token") => (8, OptStr),
        (Level::Request, b"client_token_accessor") => (9, OptStr),
        (Level::Request, b"client_id") => (10, OptStr),
        (Level::Request, b"request_uri") => (11, OptStr),
        (Level::Request, b"data") => (12, OptObj),
        (Level::Namespace, b"id") => (0, OptStr),
        (Level::Namespace, b"path") => (1, OptStr),
        _ => return Ok(None),
    }))
}

/// True when a value starting with byte `first` is what `w` asks for.
fn fits(w: Want, first: u8) -> bool {
    match (w, first) {
        (_, b'n') => w != Want::Str,
        (Want::Str | Want::OptStr, b'"') => true,
        (Want::OptList, b'[') => true,
        (Want::OptObj | Want::Nested(_), b'{') => true,
        (Want::OptBool, b't' | b'f') => true,
        _ => false,
    }
}

/// Reads the object that is the next token, when every key the analyses read at `level` (and
/// in the objects below it) appears once with the right type; `None` otherwise or when unsure.
/// `request.id` goes to `id`.
fn object<'a>(
    t: &mut Tokens<'a, '_>,
    text: &'a str,
    level: Level,
    id: &mut Option<&'a str>,
) -> Option<()> {
    t.op(b'{')?;
    if t.peek()? == b'}' {
        return t.op(b'}');
    }
    let mut seen = 0u32;
    loop {
        // Keys are compared as bytes: the entry is valid UTF-8 (checked before) and a key with
        // an escape is left to the full parser.
        let key = t.plain_string()?;
        t.op(b':')?;
        let first = t.peek()?;
        match want(level, key).ok()? {
            Some((bit, w)) => {
                if seen & (1 << bit) != 0 || !fits(w, first) {
                    return None;
                }
                seen |= 1 << bit;
                match w {
                    Want::Nested(inner) if first == b'{' => object(t, text, inner, id)?,
                    // A `null` id is left to the full parser, as before this path read ids.
                    _ if level == Level::Request && key == b"id" => {
                        if first != b'"' {
                            return None;
                        }
                        let s = t.plain_string()?;
                        // Inside `text`, which is UTF-8, between two ASCII quotes.
                        let start = s.as_ptr() as usize - text.as_ptr() as usize;
                        let s = text.get(start..start + s.len())?;
                        // An empty id is no id, as the full parser reads it.
                        *id = (!s.is_empty()).then_some(s);
                    }
                    _ => t.skip()?,
                }
            }
            None => t.skip()?,
        }
        match t.peek()? {
            b',' => t.op(b',')?,
            b'}' => return t.op(b'}'),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ordered_openbao_requests() {
        let l = br#"{"time":"2026-11-22T08:09:14.659275088Z","type":"request","auth":{"client_token":"hmac-sha256:2a","display_name":"root","policies":["root"],"metadata":{"request":"x"},"policy_results":{"allowed":true,"granting_policies":[{"name":"root","type":"acl"}]}},"request":{"id":"480af99c-24fa","operation":"update","path":"sys/mounts/kv"}}"#;
        assert_eq!(
            request_header(l),
            Some(RequestHeader {
                time: "2026-11-22T08:09:14.659275088Z",
                id: Some("480af99c-24fa")
            })
        );
    }

    #[test]
    fn reads_alphabetical_vault_requests_past_user_data() {
        let l = br#"{"auth":{"accessor":"hmac-sha256:a"},"request":{"client_id":"c","client_token":"hmac-sha256:t","data":{"id":"hmac-sha256:fake","nested":{"id":"x"}},"headers":{},"id":"real-id","path":"kv/data/a"},"time":"2025-01-01T00:00:00Z","type":"request"}"#;
        assert_eq!(
            request_header(l),
            Some(RequestHeader {
                time: "2025-01-01T00:00:00Z",
                id: Some("real-id")
            })
        );
    }

    #[test]
    fn leaves_everything_else_to_the_full_parser() {
        for l in [
            &br#"{"time":"2026-11-22T08:09:14Z","type":"response","request":{"id":"a"}}"#[..],
            br#"{"time":"2026-11-22T08:09:14Z","type":"request","request":{"id":"a\"b"}}"#,
            br#"{"time":"2026-11-22T08:09:14Z","type":"request","request":{"id":"a"}"#,
            br#"{"type":"request","time":"2026-11-22T08:09:14Z","request":{"id":"a"}}"#,
            b"{\"time\":\"2026\",\"type\":\"request\",\"request\":{\"id\":\"\xff\"}}",
        ] {
            assert_eq!(request_header(l), None, "{}", String::from_utf8_lossy(l));
        }
        let no_id = br#"{"time":"2026-11-22T08:09:14Z","type":"request","auth":{},"request":{"operation":"help","path":"x"}}"#;
        assert_eq!(request_header(no_id).unwrap().id, None);
        // Found by the mutation test: an empty id is none, for the full parser too.
        let empty_id = br#"{"time":"2026-11-22T08:09:14Z","type":"request","auth":{},"request":{"id":"","path":"x","operation":"read"}}"#;
        assert_eq!(request_header(empty_id).unwrap().id, None);
        let full =
            crate::parse::Parser::new().parse_one(empty_id, |r| r.unwrap().request.id.is_some());
        assert!(!full);
    }
}

#[cfg(test)]
mod malformed_tests {
    use super::*;
    use crate::parse::{ParseErrorKind, Parser};

    const GOOD: &str = r#"{"time":"2026-11-22T08:09:14Z","type":"request","auth":{"client_token":"hmac-sha256:t","policies":["root"],"policy_results":{"allowed":true,"granting_policies":[{"name":"root","type":"acl"}]}},"request":{"id":"r1","operation":"read","path":"kv/data/a","namespace":{"id":"root"},"remote_port":4242}}"#;

    /// The fast path takes an entry only when the full parser reads it without error.
    #[test]
    fn takes_only_what_the_full_parser_reads() {
        assert!(request_header(GOOD.as_bytes()).is_some());
        for (from, to, code) in [
            (
                r#""type":"request","#,
                r#""type":"request","type":"response","#,
                "duplicate-key",
            ),
            (
                r#""path":"kv/data/a""#,
                r#""path":"kv/data/a","path":"sys/health""#,
                "duplicate-key",
            ),
            (r#""id":"r1","#, r#""id":"r1","id":"r2","#, "duplicate-key"),
            (
                r#""allowed":true"#,
                r#""allowed":true,"allowed":false"#,
                "duplicate-key",
            ),
            (
                r#""namespace":{"id":"root"}"#,
                r#""namespace":{"id":"root","id":"x"}"#,
                "duplicate-key",
            ),
            (r#""path":"kv/data/a""#, r#""path":7"#, "wrong-type"),
            (r#""path":"kv/data/a""#, r#""path":null"#, "wrong-type"),
            (r#""path":"kv/data/a""#, r#""path":{"a":1}"#, "wrong-type"),
            (r#""operation":"read""#, r#""operation":1"#, "wrong-type"),
            (
                r#""policies":["root"]"#,
                r#""policies":"root""#,
                "wrong-type",
            ),
            (r#""allowed":true"#, r#""allowed":"yes""#, "wrong-type"),
        ] {
            let bad = GOOD.replacen(from, to, 1);
            assert_ne!(bad, GOOD);
            assert_eq!(request_header(bad.as_bytes()), None, "{bad}");
            let kind = Parser::new().parse_one(bad.as_bytes(), |r| r.err());
            assert_eq!(kind.as_ref().map(ParseErrorKind::code), Some(code), "{bad}");
        }
        let typed = GOOD.replacen(r#""type":"request""#, r#""type":1"#, 1);
        let kind = Parser::new().parse_one(typed.as_bytes(), |r| r.err());
        assert_eq!(kind.as_ref().map(ParseErrorKind::code), Some("wrong-type"));
        let request_string = GOOD.replacen(r#""type":"request""#, r#""type":"response""#, 1);
        let request_string = request_string
            .split(r#","request":"#)
            .next()
            .unwrap()
            .to_string()
            + r#","request":"kv/data/a"}"#;
        let kind = Parser::new().parse_one(request_string.as_bytes(), |r| r.err());
        assert_eq!(kind.as_ref().map(ParseErrorKind::code), Some("wrong-type"));
    }
}
