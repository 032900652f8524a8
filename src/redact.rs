//! Keeping clear tokens out of every output.
//!
//! blastradius never reads `request.data`/`response.data` values into reports. What it does show
//! (paths, tenants, display names, errors, accessors, HMACs) can still carry a clear token:
//! `request.path` is never HMAC'd and holds tokens in `auth/token/lookup/<token>` requests (Vault
//! issue #1820) or wherever a client put one, and devices with `log_raw` write tokens in clear.
//!
//! The parser applies these functions to every string of every entry before any analysis sees
//! it ([`crate::parse`]), so no report, alert, state file or export can carry a clear token.
//!
//! Token shapes (Vault 1.10+ and OpenBao 2.x): service `hvs.`, batch `hvb.`, recovery `hvr.`,
//! root and wrapping tokens being service tokens; Vault 1.0–1.9 and OpenBao 2.x service and batch
//! tokens `s.` and `b.`, recovery `r.`; a namespaced token may end in `.<namespace id>`. The body
//! is at least 20 base62/base64url characters and holds both upper- and lower-case letters (the
//! random body always does; ordinary names like `s.some_long_name` do not). Vault before 1.0 used
//! UUIDs, which are redacted only where a token is expected: a segment of a token path
//! (`auth/token/…`, `sys/wrapping/…`, `cubbyhole/…`) or a `client_token`/`token` value.

use std::borrow::Cow;

/// What a prefixed token becomes: its type prefix and this, e.g. `hvs.<redacted>`.
pub const REDACTED: &str = "<redacted>";
/// What a UUID token becomes.
pub const REDACTED_UUID: &str = "<redacted-token>";
/// Fewest body characters after the prefix.
const MIN_BODY: usize = 20;
/// Longest namespace-id suffix (`s.<body>.<nsid>`) kept as part of the token.
const MAX_NS_SUFFIX: usize = 8;

/// A token found in text: bytes `start..end`, the prefix being `start..dot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Found {
    start: usize,
    dot: usize,
    end: usize,
}

fn is_body_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Where the prefix of a token whose dot is at `dot` starts, if the bytes before it are one.
///
/// `hvs`/`hvb`/`hvr` are distinctive enough anywhere; the one-letter legacy prefixes must start
/// a word, or `keys.` or `bars.` would match.
fn prefix_start(b: &[u8], dot: usize) -> Option<usize> {
    let kind = *b.get(dot.checked_sub(1)?)?;
    if !matches!(kind, b's' | b'b' | b'r') {
        return None;
    }
    if dot >= 3 && &b[dot - 3..dot - 1] == b"hv" {
        return Some(dot - 3);
    }
    let start = dot - 1;
    (start == 0 || !b[start - 1].is_ascii_alphanumeric()).then_some(start)
}

/// The token whose prefix ends with the `.` at `dot`, if there is one.
fn token_at(b: &[u8], dot: usize) -> Option<Found> {
    let start = prefix_start(b, dot)?;
    let body = &b[dot + 1..];
    let len = body.iter().take_while(|&&c| is_body_byte(c)).count();
    let body = &body[..len];
    if len < MIN_BODY
        || !body.iter().any(u8::is_ascii_uppercase)
        || !body.iter().any(u8::is_ascii_lowercase)
    {
        return None;
    }
    let mut end = dot + 1 + len;
    // `s.<body>.<nsid>`: the namespace id belongs to the token.
    if b.get(end) == Some(&b'.') {
        let ns = b[end + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if (1..=MAX_NS_SUFFIX).contains(&ns)
            && !b.get(end + 1 + ns).is_some_and(|&c| is_body_byte(c))
        {
            end += 1 + ns;
        }
    }
    Some(Found { start, dot, end })
}

/// True when raw entry bytes may hold a token once unescaped: a token shape, or a `\u` escape
/// (which could spell one). Most entries hold neither, and then nothing else is done.
pub fn may_contain_token(raw: &[u8]) -> bool {
    memchr::memchr2_iter(b'.', b'\\', raw).any(|i| {
        if raw[i] == b'\\' {
            raw.get(i + 1) == Some(&b'u')
        } else {
            token_at(raw, i).is_some()
        }
    })
}

/// True when `s` is a clear token (and nothing else) rather than an HMAC or an accessor.
pub fn is_clear_token(s: &str) -> bool {
    let b = s.as_bytes();
    is_uuid(s)
        || memchr::memchr(b'.', b)
            .and_then(|dot| token_at(b, dot))
            .is_some_and(|f| f.start == 0 && f.end == b.len())
}

/// True for a canonical 8-4-4-4-12 hex UUID.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Paths where a UUID-shaped segment is a token (old Vault tokens were UUIDs). Elsewhere UUIDs
/// are ordinary identifiers (entity ids, lease ids) and are kept. `request_uri` adds `/v1/`.
pub fn is_token_path(path: &str) -> bool {
    let p = path.strip_prefix("/v1/").unwrap_or(path);
    p.starts_with("auth/token/") || p.starts_with("sys/wrapping/") || p.starts_with("cubbyhole/")
}

/// Every token in `s` replaced by its redacted form: `kv/acme/hvs.CAES…` → `kv/acme/hvs.<redacted>`,
/// `auth/token/revoke/<uuid>` → `auth/token/revoke/<redacted-token>`. Borrows when nothing changes.
pub fn text(s: &str) -> Cow<'_, str> {
    let prefixed = prefixed_tokens(s);
    if !is_token_path(&prefixed) {
        return prefixed;
    }
    match uuid_segments(&prefixed) {
        Cow::Borrowed(_) => prefixed,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

/// Redacts clear tokens in a request path (see [`text`]).
pub fn path(p: &str) -> Cow<'_, str> {
    text(p)
}

/// A value of a field that holds a token (`client_token`): redacted whole if it is a UUID or a
/// token, and any token inside it otherwise.
pub fn token(s: &str) -> Cow<'_, str> {
    if is_uuid(s) {
        return Cow::Borrowed(REDACTED_UUID);
    }
    text(s)
}

fn prefixed_tokens(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    for dot in memchr::memchr_iter(b'.', b) {
        if dot < copied {
            continue;
        }
        if let Some(f) = token_at(b, dot) {
            out.push_str(&s[copied..f.start]);
            out.push_str(&s[f.start..=f.dot]);
            out.push_str(REDACTED);
            copied = f.end;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

fn uuid_segments(p: &str) -> Cow<'_, str> {
    if !p.split('/').any(is_uuid) {
        return Cow::Borrowed(p);
    }
    let parts: Vec<&str> = p
        .split('/')
        .map(|seg| if is_uuid(seg) { REDACTED_UUID } else { seg })
        .collect();
    Cow::Owned(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HVS: &str = "hvs.CAESIJ3xkVd8JjQvbzMoWl4ZZdMcfWZwqdUWX6jSYMLCYVI-GiQKHGh2cy5pTmJySFZLNlB";
    const HVB: &str = "hvb.AAAAAQJgxDgqsGNorpoOR7hPZ5SU-ynBvCl5Rr9ebG6X9Nh8Mi5rAvVmk3Fr8lYa";

    #[test]
    fn recognises_clear_tokens_not_hmacs() {
        for t in [
            HVS,
            HVB,
            "s.1AjRRLXPTkMgsb9cI6Pks1dB",
            "s.Hh3nJ6ZyB1Fq9ePn8dmxRBY8.8wDyM",
        ] {
            assert!(is_clear_token(t), "{t}");
        }
        for t in [
            "hmac-sha256:2a941503f443825df5775b317660463dde3ccbc6ab276d644b4282cd10a39757",
            "****",
            "s.short",
            "approle",
            "s.some_long_lowercase_config_name",
            "2026-11-22T08:09:14.659275088Z",
        ] {
            assert!(!is_clear_token(t), "{t}");
        }
    }

    #[test]
    fn redacts_tokens_anywhere_in_a_string() {
        assert_eq!(
            text(&format!("auth/token/lookup/{HVS}")),
            "auth/token/lookup/hvs.<redacted>"
        );
        assert_eq!(
            text(&format!("kv/data/acme/{HVB}/x")),
            "kv/data/acme/hvb.<redacted>/x"
        );
        assert_eq!(text(&format!("{HVS}/db")), "hvs.<redacted>/db");
        assert_eq!(
            text("token-s.Hh3nJ6ZyB1Fq9ePn8dmxRBY8.8wDyM and s.1AjRRLXPTkMgsb9cI6Pks1dB"),
            "token-s.<redacted> and s.<redacted>"
        );
        assert_eq!(text(&format!("x{HVS}")), "xhvs.<redacted>");
    }

    #[test]
    fn redacts_uuid_tokens_only_where_tokens_go() {
        let uuid = "5f4dcc3b-5aa7-65d6-1d83-27deb882cf99";
        assert_eq!(
            path(&format!("auth/token/revoke/{uuid}")),
            "auth/token/revoke/<redacted-token>"
        );
        assert_eq!(
            text(&format!("/v1/sys/wrapping/unwrap/{uuid}")),
            "/v1/sys/wrapping/unwrap/<redacted-token>"
        );
        let entity = format!("identity/entity/id/{uuid}");
        assert_eq!(path(&entity), entity.as_str());
        assert_eq!(token(uuid), REDACTED_UUID);
    }

    #[test]
    fn keeps_ordinary_paths() {
        for p in [
            "kv/data/acme/db",
            "kv/data/apps.production_database_credentials",
            "secret/s.some_long_lowercase_config_name",
            "pki/issue/web.example.com",
            "127.0.0.1:8200",
        ] {
            assert_eq!(text(p), p);
            assert!(!may_contain_token(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn prefilter_sees_tokens_and_escapes() {
        assert!(may_contain_token(
            format!(r#"{{"path":"kv/{HVS}"}}"#).as_bytes()
        ));
        assert!(may_contain_token(
            br#"{"path":"kv/hvs\u002eCAESIJ3xkVd8JjQvbzMoWl4ZZdMcf"}"#
        ));
        assert!(!may_contain_token(
            br#"{"time":"2026-11-22T08:09:14.659Z","path":"kv/a"}"#
        ));
    }
}
