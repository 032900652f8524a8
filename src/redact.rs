//! Keeping secret values out of every output.
//!
//! blastradius never reads `request.data`/`response.data` values into reports. What it does show
//! (paths, accessors, HMACs) can still carry a clear token: `request.path` is never HMAC'd and
//! holds tokens in `auth/token/lookup/<token>` requests (Vault issue #1820), and devices with
//! `log_raw` write tokens in clear. Anything shaped like a clear token is redacted.

use std::borrow::Cow;

/// True when `s` looks like a clear Vault/OpenBao token rather than an HMAC or an accessor.
///
/// Service tokens are `hvs.` (or `s.` before 1.10), batch `hvb.`/`b.`, recovery `hvr.`/`r.`,
/// each followed by at least 20 base62 characters; pre-1.0 tokens were UUIDs.
pub fn is_clear_token(s: &str) -> bool {
    if s.starts_with("hmac-sha256:") || s.starts_with("sha1:") {
        return false;
    }
    let body = ["hvs.", "hvb.", "hvr.", "s.", "b.", "r."]
        .iter()
        .find_map(|p| s.strip_prefix(p));
    if let Some(body) = body {
        let body = body.split('.').next().unwrap_or(body);
        return body.len() >= 20
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    }
    is_uuid(s)
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
/// are ordinary identifiers (entity ids, lease ids) and are kept.
fn token_path(path: &str) -> bool {
    path.starts_with("auth/token/")
        || path.starts_with("sys/wrapping/")
        || path.starts_with("cubbyhole/")
}

/// Redacts clear tokens in a request path: `auth/token/lookup/hvs.AAA…` → `auth/token/lookup/hvs.<redacted>`.
pub fn path(p: &str) -> Cow<'_, str> {
    let uuid_is_token = token_path(p);
    let needs = p.split('/').any(|seg| seg_is_token(seg, uuid_is_token));
    if !needs {
        return Cow::Borrowed(p);
    }
    let parts: Vec<String> = p
        .split('/')
        .map(|seg| {
            if seg_is_token(seg, uuid_is_token) {
                token(seg).into_owned()
            } else {
                seg.to_string()
            }
        })
        .collect();
    Cow::Owned(parts.join("/"))
}

fn seg_is_token(seg: &str, uuid_is_token: bool) -> bool {
    if is_uuid(seg) {
        uuid_is_token
    } else {
        is_clear_token(seg)
    }
}

/// A clear token reduced to its type prefix: `hvs.<redacted>`; anything else unchanged.
pub fn token(s: &str) -> Cow<'_, str> {
    if !is_clear_token(s) {
        return Cow::Borrowed(s);
    }
    match s.find('.') {
        Some(i) if i <= 3 => Cow::Owned(format!("{}<redacted>", &s[..=i])),
        _ => Cow::Borrowed("<redacted-token>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_clear_tokens_not_hmacs() {
        assert!(is_clear_token(
            "hvs.CAESIJ3xkVd8JjQvbzMoWl4ZZdMcfWZwqdUWX6jSYMLCYVI-GiQKHGh2cy5pTmJySFZLNlB"
        ));
        assert!(is_clear_token("s.abcdefghijklmnopqrstuvwx"));
        assert!(is_clear_token(
            "hvb.AAAAAQJgxDgqsGNorpoOR7hPZ5SU-ynBvCl5Rr9ebG6X9Nh8Mi5rAvVmk3Fr8lYa"
        ));
        assert!(!is_clear_token(
            "hmac-sha256:2a941503f443825df5775b317660463dde3ccbc6ab276d644b4282cd10a39757"
        ));
        assert!(!is_clear_token("****"));
        assert!(!is_clear_token("s.short"));
        assert!(!is_clear_token("approle"));
    }

    #[test]
    fn redacts_tokens_in_paths_but_keeps_ids() {
        assert_eq!(
            path("auth/token/lookup/hvs.CAESIJ3xkVd8JjQvbzMoWl4ZZdMcf"),
            "auth/token/lookup/hvs.<redacted>"
        );
        assert_eq!(
            path("auth/token/revoke/5f4dcc3b-5aa7-65d6-1d83-27deb882cf99"),
            "auth/token/revoke/<redacted-token>"
        );
        assert_eq!(
            path("identity/entity/id/5f4dcc3b-5aa7-65d6-1d83-27deb882cf99"),
            "identity/entity/id/5f4dcc3b-5aa7-65d6-1d83-27deb882cf99"
        );
        assert_eq!(path("kv/data/acme/db"), "kv/data/acme/db");
    }
}
