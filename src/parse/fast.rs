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
//! Entries read this way are checked for valid UTF-8 and framing; their content is analysed
//! from the response, and from a full parse when no response exists.

use memchr::memmem;

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
const REQUEST_OBJ: &[u8] = b"\"request\":{";

/// Reads `time` and `request.id` of a request entry (`json` is one framed object), or `None`
/// when the entry is not a request or its layout is not one this path is sure about.
pub fn request_header(json: &[u8]) -> Option<RequestHeader<'_>> {
    if json.last() != Some(&b'}') {
        return None;
    }
    // Cheap layout checks first: most lines that reach here are responses and leave at once.
    let (time, body) = if let Some(rest) = json.strip_prefix(ORDERED_HEAD) {
        let (time, after) = plain_string(rest)?;
        (time, after.strip_prefix(ORDERED_TYPE)?)
    } else if let Some(before) = json.strip_suffix(ALPHA_TAIL) {
        let q = memchr::memrchr(b'"', before)?;
        if !before[..=q].ends_with(ALPHA_TIME) {
            return None;
        }
        let time = std::str::from_utf8(&before[q + 1..]).ok()?;
        if time.contains('\\') {
            return None;
        }
        (time, json)
    } else {
        return None;
    };
    if !balanced(json) || simdutf8::basic::from_utf8(json).is_err() {
        return None;
    }
    // Duplicate keys and wrong types make the entry malformed: the full parser says so.
    if object_len(json, Level::Root)? != json.len() {
        return None;
    }
    let id = match request_finder().find(body) {
        Some(i) => request_id(&body[i + REQUEST_OBJ.len()..])?,
        None => None,
    };
    Some(RequestHeader { time, id })
}

/// The searcher for [`REQUEST_OBJ`], built once: building it per entry showed in profiles.
fn request_finder() -> &'static memmem::Finder<'static> {
    static FINDER: std::sync::LazyLock<memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memmem::Finder::new(REQUEST_OBJ));
    &FINDER
}

/// True when `{`/`}` and `[`/`]` occur equally often. A line cut short is never balanced; a
/// string that contains a brace may make a whole line look unbalanced, and then the full
/// parser decides.
pub fn balanced(b: &[u8]) -> bool {
    let (curly, square) = bracket_counts(b);
    curly == 0 && square == 0
}

/// (`{` minus `}`, `[` minus `]`) over `b`.
#[cfg(target_arch = "x86_64")]
fn bracket_counts(b: &[u8]) -> (i64, i64) {
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { bracket_counts_avx2(b) }
    } else {
        bracket_counts_sse2(b)
    }
}

/// [`bracket_counts_sse2`] 32 bytes at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bracket_counts_avx2(b: &[u8]) -> (i64, i64) {
    use std::arch::x86_64::{
        __m256i, _mm_add_epi64, _mm_cvtsi128_si64, _mm_srli_si128, _mm256_castsi256_si128,
        _mm256_cmpeq_epi8, _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_sad_epu8,
        _mm256_set1_epi8, _mm256_setzero_si256, _mm256_sub_epi8,
    };
    let whole = b.len() / 32 * 32;
    let (body, tail) = b.split_at(whole);
    let (mut curly, mut square) = (0i64, 0i64);
    for batch in body.chunks(32 * 255) {
        let zero = _mm256_setzero_si256();
        let (mut a, mut c, mut d, mut e) = (zero, zero, zero, zero);
        for block in batch.chunks_exact(32) {
            // SAFETY: `block` holds exactly 32 readable bytes; the load has no alignment
            // requirement.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) };
            a = _mm256_sub_epi8(a, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'{' as i8)));
            c = _mm256_sub_epi8(c, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'}' as i8)));
            d = _mm256_sub_epi8(d, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'[' as i8)));
            e = _mm256_sub_epi8(e, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b']' as i8)));
        }
        let total = |x: __m256i| {
            let s = _mm256_sad_epu8(x, zero);
            let s = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
            _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_srli_si128::<8>(s))
        };
        curly += total(a) - total(c);
        square += total(d) - total(e);
    }
    let (c2, s2) = bracket_counts_sse2(tail);
    (curly + c2, square + s2)
}

/// (`{` minus `}`, `[` minus `]`) over `b`, 16 bytes at a time with baseline SSE2.
#[cfg(target_arch = "x86_64")]
fn bracket_counts_sse2(b: &[u8]) -> (i64, i64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_sad_epu8, _mm_set1_epi8,
        _mm_setzero_si128, _mm_srli_si128, _mm_sub_epi8,
    };
    // Matches accumulate as +1 per byte lane (a compare yields 0xFF = -1, subtracted); a lane
    // holds at most 255, so lanes are summed every 255 blocks. Baseline x86_64 has no POPCNT,
    // and counting mask bits one block at a time cost more than the whole parse saved.
    let whole = b.len() / 16 * 16;
    let (body, tail) = b.split_at(whole);
    let (mut open_c, mut close_c, mut open_s, mut close_s) = (0i64, 0i64, 0i64, 0i64);
    for batch in body.chunks(16 * 255) {
        // SAFETY: SSE2 is part of the x86_64 baseline; every load reads exactly 16 bytes that
        // `batch` holds (batches are whole multiples of 16 bytes), with no alignment requirement.
        let sums = unsafe {
            let zero = _mm_setzero_si128();
            let (mut a, mut c, mut d, mut e) = (zero, zero, zero, zero);
            for block in batch.chunks_exact(16) {
                let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
                a = _mm_sub_epi8(a, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'{' as i8)));
                c = _mm_sub_epi8(c, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'}' as i8)));
                d = _mm_sub_epi8(d, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'[' as i8)));
                e = _mm_sub_epi8(e, _mm_cmpeq_epi8(v, _mm_set1_epi8(b']' as i8)));
            }
            let total = |x: __m128i| {
                let s = _mm_sad_epu8(x, zero);
                _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_srli_si128::<8>(s))
            };
            (total(a), total(c), total(d), total(e))
        };
        open_c += sums.0;
        close_c += sums.1;
        open_s += sums.2;
        close_s += sums.3;
    }
    let (c2, s2) = bracket_counts_scalar(tail);
    (open_c - close_c + c2, open_s - close_s + s2)
}

#[cfg(not(target_arch = "x86_64"))]
fn bracket_counts(b: &[u8]) -> (i64, i64) {
    bracket_counts_scalar(b)
}

fn bracket_counts_scalar(b: &[u8]) -> (i64, i64) {
    b.iter().fold((0, 0), |(c, s), &x| match x {
        b'{' => (c + 1, s),
        b'}' => (c - 1, s),
        b'[' => (c, s + 1),
        b']' => (c, s - 1),
        _ => (c, s),
    })
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

/// Length of the object at the start of `b` when every key the analyses read at `level` (and
/// in the objects below it) appears once with the right type; `None` otherwise or when unsure.
fn object_len(b: &[u8], level: Level) -> Option<usize> {
    let mut i = 1;
    if b.get(i) == Some(&b'}') {
        return Some(2);
    }
    let mut seen = 0u32;
    loop {
        // Keys are compared as bytes: the entry is valid UTF-8 (checked before) and a key with
        // an escape is left to the full parser.
        let key_start = i + 1;
        let rest = b.get(key_start..)?;
        if *b.get(i)? != b'"' {
            return None;
        }
        let end = key_start + memchr::memchr2(b'"', b'\\', rest)?;
        if b[end] != b'"' || b.get(end + 1) != Some(&b':') {
            return None;
        }
        let key = &b[key_start..end];
        i = end + 2;
        let first = *b.get(i)?;
        let len = match want(level, key).ok()? {
            Some((bit, w)) => {
                if seen & (1 << bit) != 0 || !fits(w, first) {
                    return None;
                }
                seen |= 1 << bit;
                match w {
                    Want::Nested(inner) if first == b'{' => object_len(&b[i..], inner)?,
                    _ => skip_value(&b[i..])?,
                }
            }
            None => skip_value(&b[i..])?,
        };
        i += len;
        match b.get(i)? {
            b',' => i += 1,
            b'}' => return Some(i + 1),
            _ => return None,
        }
    }
}

/// A string without escapes at the start of `b` (just after its opening quote), and the rest.
fn plain_string(b: &[u8]) -> Option<(&str, &[u8])> {
    let end = memchr::memchr2(b'"', b'\\', b)?;
    if b[end] != b'"' {
        return None;
    }
    Some((std::str::from_utf8(&b[..end]).ok()?, &b[end..]))
}

/// The `id` member of the object whose first key starts at `b`. `Some(None)`: no id; `None`: unsure.
fn request_id(mut b: &[u8]) -> Option<Option<&str>> {
    loop {
        b = b.strip_prefix(b"\"")?;
        let (key, rest) = plain_string(b)?;
        b = rest.strip_prefix(b"\":")?;
        if key == "id" {
            let (id, _) = plain_string(b.strip_prefix(b"\"")?)?;
            return Some(Some(id));
        }
        b = &b[skip_value(b)?..];
        match b.first()? {
            b',' => b = &b[1..],
            b'}' => return Some(None),
            _ => return None,
        }
    }
}

/// Length of the JSON value at the start of `b` (no whitespace: Vault writes compact JSON).
fn skip_value(b: &[u8]) -> Option<usize> {
    match *b.first()? {
        b'"' => string_end(b, 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i + 1)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => memchr::memchr3(b',', b'}', b']', b),
    }
}

/// Index just past the closing quote of the string whose content starts at `from`.
fn string_end(b: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let k = from + memchr::memchr2(b'"', b'\\', &b[from..])?;
        if b[k] == b'\\' {
            from = k + 2;
        } else {
            return Some(k + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_counting_agrees_with_the_scalar_count() {
        // Longer than one batch of 255 blocks, so lane sums are flushed more than once.
        let long: Vec<u8> = (0..100_000u32)
            .map(|i| b"{}[]x\""[(i * 7 % 13 % 6) as usize])
            .collect();
        let samples: [&[u8]; 5] = [
            b"{}",
            b"{\"a\":[1,{\"b\":[]}]}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{",
            b"",
            b"[[[[[[[[[[[[[[[[[[[[[[[[[]",
            &long,
        ];
        for s in samples {
            assert_eq!(bracket_counts(s), bracket_counts_scalar(s));
            #[cfg(target_arch = "x86_64")]
            assert_eq!(bracket_counts_sse2(s), bracket_counts_scalar(s));
        }
        assert!(balanced(b"{\"a\":[{}]}"));
        assert!(!balanced(b"{\"a\":[{}]"));
    }

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
