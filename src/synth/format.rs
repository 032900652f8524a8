//! Byte-level formatting for generated lines: HMAC-looking hex, UUIDs, Vault's RFC 3339 times.
//!
//! Everything appends to a `Vec<u8>`: the generator builds each line in one reused buffer, and
//! `format!` per field would dominate its cost.

use rand_core::Rng;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `n` as 16 lower-case hex digits.
pub(crate) fn push_hex_u64(out: &mut Vec<u8>, n: u64) {
    for shift in (0..16).rev() {
        out.push(HEX[((n >> (shift * 4)) & 0xf) as usize]);
    }
}

/// 64 hex digits, the body of an `hmac-sha256:` value.
pub(crate) type Hex64 = [u8; 64];

/// Random 64 hex digits.
pub(crate) fn hex64(rng: &mut impl Rng) -> Hex64 {
    let mut buf = Vec::with_capacity(64);
    for _ in 0..4 {
        push_hex_u64(&mut buf, rng.next_u64());
    }
    buf.try_into().expect("4 x 16 hex digits")
}

/// Appends `"hmac-sha256:<hex>"` (with the quotes).
pub(crate) fn push_hmac(out: &mut Vec<u8>, hex: &Hex64) {
    out.extend_from_slice(b"\"hmac-sha256:");
    out.extend_from_slice(hex);
    out.push(b'"');
}

/// Appends a fresh random `"hmac-sha256:<hex>"`: a value HMAC'd once, never seen again.
pub(crate) fn push_random_hmac(out: &mut Vec<u8>, rng: &mut impl Rng) {
    out.extend_from_slice(b"\"hmac-sha256:");
    for _ in 0..4 {
        push_hex_u64(out, rng.next_u64());
    }
    out.push(b'"');
}

/// A UUID-shaped identifier (8-4-4-4-12 hex digits), as Vault formats request and entity ids.
pub(crate) fn uuid(rng: &mut impl Rng) -> String {
    let mut hex = Vec::with_capacity(32);
    push_hex_u64(&mut hex, rng.next_u64());
    push_hex_u64(&mut hex, rng.next_u64());
    let h = String::from_utf8(hex).expect("hex is ASCII");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Appends a UUID-shaped identifier without allocating.
pub(crate) fn push_uuid(out: &mut Vec<u8>, rng: &mut impl Rng) {
    let start = out.len();
    push_hex_u64(out, rng.next_u64());
    push_hex_u64(out, rng.next_u64());
    // Insert the dashes from the back so earlier positions stay valid.
    for pos in [20, 16, 12, 8] {
        out.insert(start + pos, b'-');
    }
}

/// Appends a decimal integer.
pub(crate) fn push_int(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Formats nanoseconds since the Unix epoch as Go's `RFC3339Nano` does (the audit log's
/// `time`): UTC, trailing zeros of the fraction trimmed, no fraction when it is zero. The
/// date-and-seconds prefix is cached, since consecutive entries share it.
#[derive(Default)]
pub(crate) struct TimeFormatter {
    second: Option<u64>,
    prefix: String,
}

const NANOS: u64 = 1_000_000_000;

impl TimeFormatter {
    /// Appends `"<time>"` (with the quotes).
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, nanos: u64) {
        let secs = nanos / NANOS;
        if self.second != Some(secs) {
            let t = chrono::DateTime::from_timestamp(secs as i64, 0).expect("time in range");
            self.prefix = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            self.second = Some(secs);
        }
        out.push(b'"');
        out.extend_from_slice(self.prefix.as_bytes());
        push_fraction(out, nanos % NANOS);
        out.extend_from_slice(b"Z\"");
    }

    /// The whole-second form (`token_issue_time`): `"2026-11-22T08:09:14Z"`.
    pub(crate) fn seconds(nanos: u64) -> String {
        let t = chrono::DateTime::from_timestamp((nanos / NANOS) as i64, 0).expect("time in range");
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

fn push_fraction(out: &mut Vec<u8>, frac: u64) {
    if frac == 0 {
        return;
    }
    let mut digits = [b'0'; 9];
    let mut f = frac;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (f % 10) as u8;
        f /= 10;
    }
    let len = 9 - digits.iter().rev().take_while(|&&d| d == b'0').count();
    out.push(b'.');
    out.extend_from_slice(&digits[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_match_go_rfc3339nano() {
        let mut f = TimeFormatter::default();
        let base = 1_795_334_954 * NANOS; // 2026-11-22T08:09:14Z
        let cases = [
            (base + 138_368_129, "\"2026-11-22T08:09:14.138368129Z\""),
            (base + 887_765_680, "\"2026-11-22T08:09:14.88776568Z\""),
            (base, "\"2026-11-22T08:09:14Z\""),
            (base + NANOS + 5_000_000, "\"2026-11-22T08:09:15.005Z\""),
        ];
        for (nanos, want) in cases {
            let mut out = Vec::new();
            f.push(&mut out, nanos);
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
        assert_eq!(TimeFormatter::seconds(base + 1), "2026-11-22T08:09:14Z");
    }

    #[test]
    fn uuids_and_hmacs_have_their_shapes() {
        let mut rng = super::super::rng(7);
        let id = uuid(&mut rng);
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        let mut out = Vec::new();
        push_uuid(&mut out, &mut rng);
        let pushed = String::from_utf8(out).unwrap();
        assert_eq!(
            pushed.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        let mut out = Vec::new();
        push_random_hmac(&mut out, &mut rng);
        let s = String::from_utf8(out).unwrap();
        let hex = s
            .strip_prefix("\"hmac-sha256:")
            .and_then(|r| r.strip_suffix('"'))
            .unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
