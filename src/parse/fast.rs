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
//! differential tests in `tests/integration/differential.rs` check it on mutated real lines),
//! so that every malformed line is reported whichever path read it. What it checks:
//!
//! - the whole entry: valid UTF-8, `{`/`}` and `[`/`]` balanced, no byte below 0x20;
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

/// True when `{`/`}` and `[`/`]` occur equally often and no byte is a control character
/// (below 0x20: JSON allows none inside strings, and compact JSON has no whitespace between
/// tokens). A line cut short is never balanced; a string that contains a brace may make a whole
/// line look unbalanced, and then the full parser decides.
pub fn balanced(b: &[u8]) -> bool {
    bracket_counts(b) == Counts::default()
}

/// What [`bracket_counts`] counts over a byte string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    /// `{` minus `}`.
    curly: i64,
    /// `[` minus `]`.
    square: i64,
    /// Bytes below 0x20.
    controls: i64,
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            curly: self.curly + o.curly,
            square: self.square + o.square,
            controls: self.controls + o.controls,
        }
    }
}

/// The [`Counts`] of `b`.
#[cfg(target_arch = "x86_64")]
fn bracket_counts(b: &[u8]) -> Counts {
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
fn bracket_counts_avx2(b: &[u8]) -> Counts {
    use std::arch::x86_64::{
        __m256i, _mm_add_epi64, _mm_cvtsi128_si64, _mm_srli_si128, _mm256_castsi256_si128,
        _mm256_cmpeq_epi8, _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_min_epu8,
        _mm256_sad_epu8, _mm256_set1_epi8, _mm256_setzero_si256, _mm256_sub_epi8,
    };
    let whole = b.len() / 32 * 32;
    let (body, tail) = b.split_at(whole);
    let mut sum = Counts::default();
    for batch in body.chunks(32 * 255) {
        let zero = _mm256_setzero_si256();
        let (mut a, mut c, mut d, mut e, mut k) = (zero, zero, zero, zero, zero);
        for block in batch.chunks_exact(32) {
            // SAFETY: `block` holds exactly 32 readable bytes; the load has no alignment
            // requirement.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) };
            a = _mm256_sub_epi8(a, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'{' as i8)));
            c = _mm256_sub_epi8(c, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'}' as i8)));
            d = _mm256_sub_epi8(d, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'[' as i8)));
            e = _mm256_sub_epi8(e, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b']' as i8)));
            // v <= 0x1f (unsigned): the minimum with 0x1f is v itself.
            let low = _mm256_min_epu8(v, _mm256_set1_epi8(0x1f));
            k = _mm256_sub_epi8(k, _mm256_cmpeq_epi8(low, v));
        }
        let total = |x: __m256i| {
            let s = _mm256_sad_epu8(x, zero);
            let s = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
            _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_srli_si128::<8>(s))
        };
        sum = sum
            + Counts {
                curly: total(a) - total(c),
                square: total(d) - total(e),
                controls: total(k),
            };
    }
    sum + bracket_counts_sse2(tail)
}

/// The [`Counts`] of `b`, 16 bytes at a time with baseline SSE2.
#[cfg(target_arch = "x86_64")]
fn bracket_counts_sse2(b: &[u8]) -> Counts {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_min_epu8, _mm_sad_epu8,
        _mm_set1_epi8, _mm_setzero_si128, _mm_srli_si128, _mm_sub_epi8,
    };
    // Matches accumulate as +1 per byte lane (a compare yields 0xFF = -1, subtracted); a lane
    // holds at most 255, so lanes are summed every 255 blocks. Baseline x86_64 has no POPCNT,
    // and counting mask bits one block at a time cost more than the whole parse saved.
    let whole = b.len() / 16 * 16;
    let (body, tail) = b.split_at(whole);
    let mut sum = Counts::default();
    for batch in body.chunks(16 * 255) {
        // SAFETY: SSE2 is part of the x86_64 baseline; every load reads exactly 16 bytes that
        // `batch` holds (batches are whole multiples of 16 bytes), with no alignment requirement.
        let sums = unsafe {
            let zero = _mm_setzero_si128();
            let (mut a, mut c, mut d, mut e, mut k) = (zero, zero, zero, zero, zero);
            for block in batch.chunks_exact(16) {
                let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
                a = _mm_sub_epi8(a, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'{' as i8)));
                c = _mm_sub_epi8(c, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'}' as i8)));
                d = _mm_sub_epi8(d, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'[' as i8)));
                e = _mm_sub_epi8(e, _mm_cmpeq_epi8(v, _mm_set1_epi8(b']' as i8)));
                let low = _mm_min_epu8(v, _mm_set1_epi8(0x1f));
                k = _mm_sub_epi8(k, _mm_cmpeq_epi8(low, v));
            }
            let total = |x: __m128i| {
                let s = _mm_sad_epu8(x, zero);
                _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_srli_si128::<8>(s))
            };
            Counts {
                curly: total(a) - total(c),
                square: total(d) - total(e),
                controls: total(k),
            }
        };
        sum = sum + sums;
    }
    sum + bracket_counts_scalar(tail)
}

#[cfg(not(target_arch = "x86_64"))]
fn bracket_counts(b: &[u8]) -> Counts {
    bracket_counts_scalar(b)
}

fn bracket_counts_scalar(b: &[u8]) -> Counts {
    let mut n = Counts::default();
    for &x in b {
        match x {
            b'{' => n.curly += 1,
            b'}' => n.curly -= 1,
            b'[' => n.square += 1,
            b']' => n.square -= 1,
            0..0x20 => n.controls += 1,
            _ => {}
        }
    }
    n
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

/// Containers nested deeper than this below a key the fast path reads are left to the full
/// parser (which accepts up to [`super::MAX_DEPTH`]); Vault's own nesting is about 6.
const SKIP_DEPTH: usize = 64;

/// Length of the JSON value at the start of `b`, which must be valid compact JSON (Vault writes
/// no whitespace between tokens); `None` when it is not, or when this path is unsure (see the
/// module documentation for what is checked).
fn skip_value(b: &[u8]) -> Option<usize> {
    skip_nested(b, 0)
}

fn skip_nested(b: &[u8], depth: usize) -> Option<usize> {
    match *b.first()? {
        b'"' => string_end(b, 1),
        b'{' => {
            if depth >= SKIP_DEPTH {
                return None;
            }
            if b.get(1) == Some(&b'}') {
                return Some(2);
            }
            let mut i = 1;
            loop {
                if *b.get(i)? != b'"' {
                    return None;
                }
                i = string_end(b, i + 1)?;
                if *b.get(i)? != b':' {
                    return None;
                }
                i += 1;
                i += skip_nested(&b[i..], depth + 1)?;
                match *b.get(i)? {
                    b',' => i += 1,
                    b'}' => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        b'[' => {
            if depth >= SKIP_DEPTH {
                return None;
            }
            if b.get(1) == Some(&b']') {
                return Some(2);
            }
            let mut i = 1;
            loop {
                i += skip_nested(b.get(i..)?, depth + 1)?;
                match *b.get(i)? {
                    b',' => i += 1,
                    b']' => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        b't' => b.starts_with(b"true").then_some(4),
        b'f' => b.starts_with(b"false").then_some(5),
        b'n' => b.starts_with(b"null").then_some(4),
        b'-' | b'0'..=b'9' => number_len(b),
        _ => None,
    }
}

/// Length of the JSON number at the start of `b`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, at most
/// [`NUMBER_DIGITS`] digits. Exponents and longer numbers are left to the full parser, whose
/// range and precision rules decide them.
fn number_len(b: &[u8]) -> Option<usize> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let int = digits(i);
    if int == 0 || (int > 1 && b[i] == b'0') {
        return None;
    }
    i += int;
    let mut total = int;
    if b.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
        total += frac;
    }
    if total > NUMBER_DIGITS || matches!(b.get(i), Some(b'e' | b'E')) {
        return None;
    }
    Some(i)
}

/// Digits of the longest number the fast path reads itself: every such integer fits `i64`.
const NUMBER_DIGITS: usize = 18;

/// Index just past the closing quote of the string whose content starts at `from`. Escapes
/// must be JSON's (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t` `\uXXXX`); a `\u` escape of a
/// surrogate is left to the full parser. Control bytes inside strings are ruled out for the
/// whole entry by [`request_header`] before any string is read.
fn string_end(b: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let k = from + memchr::memchr2(b'"', b'\\', b.get(from..)?)?;
        if b[k] == b'"' {
            return Some(k + 1);
        }
        match *b.get(k + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => from = k + 2,
            b'u' => {
                let hex = b.get(k + 2..k + 6)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) || matches!(hex[0], b'd' | b'D') {
                    return None;
                }
                from = k + 6;
            }
            _ => return None,
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
            .map(|i| b"{}[]x\"\x01"[(i * 7 % 13 % 7) as usize])
            .collect();
        let samples: [&[u8]; 5] = [
            b"{}",
            b"{\"a\":[1,{\"b\":[]}]}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{\x1f\x00 \x7f\x80\xff\t",
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
        assert!(!balanced(b"{\"a\":\"\x01\"}"));
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
