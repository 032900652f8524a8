//! Timestamps as nanoseconds since the Unix epoch, parsed from Vault's RFC 3339 strings.
//!
//! Vault writes `time` with Go's `RFC3339Nano` layout in UTC (`2020-02-07T17:44:17.392595555Z`),
//! trims trailing zeros of the fraction (`.93608Z`), and very old versions write whole seconds.
//! `token_issue_time` can carry an offset (`-04:00`). The fast path below handles all of these
//! without allocating; anything else is rejected rather than guessed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time: nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

const NANOS_PER_SEC: i64 = 1_000_000_000;

impl Timestamp {
    /// Parses an RFC 3339 timestamp (`Z` or `±HH:MM` offset, 0–9 fraction digits).
    pub fn parse(s: &str) -> Option<Timestamp> {
        parse_rfc3339(s.as_bytes())
    }

    /// Whole seconds since the epoch, rounded towards negative infinity.
    pub fn seconds(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    /// Microseconds since the epoch, as Parquet and Arrow `TIMESTAMP(MICROS)` want.
    pub fn micros(self) -> i64 {
        self.0.div_euclid(1_000)
    }

    /// The time `d` later (saturating).
    pub fn plus(self, d: Span) -> Timestamp {
        Timestamp(self.0.saturating_add(d.0))
    }

    /// The time `d` earlier (saturating).
    pub fn minus(self, d: Span) -> Timestamp {
        Timestamp(self.0.saturating_sub(d.0))
    }

    /// The span from `earlier` to `self` (negative when `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }

    /// The current wall-clock time.
    pub fn now() -> Timestamp {
        let now = chrono::Utc::now();
        Timestamp(now.timestamp_nanos_opt().unwrap_or(i64::MAX))
    }

    /// Formats as RFC 3339 in UTC with the fraction trimmed to what is significant, as Vault does.
    pub fn to_rfc3339(self) -> String {
        self.rfc3339().as_str().to_owned()
    }

    /// The RFC 3339 text in a fixed buffer: reports format every time they print, so this is
    /// the allocation-free path behind `to_rfc3339`, `Display` and `Serialize`.
    ///
    /// The fraction has 0, 3, 6 or 9 digits, the fewest that keep every significant digit
    /// (chrono's `SecondsFormat::AutoSi`, which earlier reports used: the text is unchanged).
    pub fn rfc3339(self) -> Rfc3339 {
        Rfc3339::new(self)
    }
}

/// One timestamp's RFC 3339 text, held inline (at most `2262-04-11T23:47:16.854775807Z`).
#[derive(Clone, Copy)]
pub struct Rfc3339 {
    buf: [u8; RFC3339_MAX],
    len: u8,
}

/// `00` to `99`, each number's two digits at twice its index.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// The longest text an `i64` of nanoseconds formats to: the years are 1677–2262, always 4 digits.
const RFC3339_MAX: usize = 30;

impl Rfc3339 {
    fn new(t: Timestamp) -> Rfc3339 {
        let secs = t.seconds();
        let nanos = t.0.rem_euclid(NANOS_PER_SEC) as u32;
        let civil = civil_from_days(secs.div_euclid(86_400));
        let clock = secs.rem_euclid(86_400) as u32;
        let mut out = Rfc3339 {
            buf: [0; RFC3339_MAX],
            len: 0,
        };
        out.push_digits(civil.year as u32, 4);
        out.push(b'-');
        out.push_digits(civil.month, 2);
        out.push(b'-');
        out.push_digits(civil.day, 2);
        out.push(b'T');
        out.push_digits(clock / 3600, 2);
        out.push(b':');
        out.push_digits(clock / 60 % 60, 2);
        out.push(b':');
        out.push_digits(clock % 60, 2);
        out.push_fraction(nanos);
        out.push(b'Z');
        out
    }

    fn push(&mut self, b: u8) {
        debug_assert!(b.is_ascii(), "as_str relies on it");
        self.buf[usize::from(self.len)] = b;
        self.len += 1;
    }

    /// The last `width` decimal digits of `v`, two at a time from the right.
    fn push_digits(&mut self, mut v: u32, width: u8) {
        let start = usize::from(self.len);
        let mut end = start + usize::from(width);
        self.len += width;
        while end - start >= 2 {
            let pair = 2 * (v % 100) as usize;
            self.buf[end - 2..end].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
            v /= 100;
            end -= 2;
        }
        if end > start {
            self.buf[start] = b'0' + (v % 10) as u8;
        }
    }

    fn push_fraction(&mut self, nanos: u32) {
        if nanos == 0 {
            return;
        }
        self.push(b'.');
        if nanos.is_multiple_of(1_000_000) {
            self.push_digits(nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            self.push_digits(nanos / 1_000, 6);
        } else {
            self.push_digits(nanos, 9);
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        let text = &self.buf[..usize::from(self.len)];
        debug_assert!(text.is_ascii());
        // SAFETY: the buffer starts as zeros, and `push` (called with `-T:.Z` only) and
        // `push_digits` (`DIGIT_PAIRS`, and `b'0'` plus a remainder of 10) write ASCII alone:
        // the bytes are UTF-8.
        // A report formats every time it prints, and the check was a third of formatting one.
        unsafe { std::str::from_utf8_unchecked(text) }
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rfc3339().as_str())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.rfc3339().as_str())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }
}

/// A signed length of time in nanoseconds.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Span(pub i64);

impl Span {
    /// A span of `s` seconds.
    pub const fn from_secs(s: i64) -> Span {
        Span(s * NANOS_PER_SEC)
    }

    /// Converts a `std::time::Duration`, saturating at `i64::MAX` nanoseconds.
    pub fn from_duration(d: std::time::Duration) -> Span {
        Span(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    /// The span in seconds, with the fraction.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
}

/// The earliest and latest of the times added, in 16 bytes where two `Option<Timestamp>` take
/// 32: records kept per (actor, path) pair are the largest table of a long scan. Empty while
/// `first > last`, so every time, `i64::MAX` included, is representable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    first: i64,
    last: i64,
}

impl Default for TimeRange {
    fn default() -> Self {
        TimeRange::EMPTY
    }
}

impl TimeRange {
    /// No time added yet.
    pub const EMPTY: TimeRange = TimeRange {
        first: i64::MAX,
        last: i64::MIN,
    };

    /// The range of the times given (`None`s are left out).
    pub fn of(first: Option<Timestamp>, last: Option<Timestamp>) -> TimeRange {
        let mut r = TimeRange::EMPTY;
        r.add(first);
        r.add(last);
        r
    }

    /// Widens the range to `t`, if there is one.
    pub fn add(&mut self, t: Option<Timestamp>) {
        if let Some(Timestamp(t)) = t {
            self.first = self.first.min(t);
            self.last = self.last.max(t);
        }
    }

    /// Widens the range to cover `other`.
    pub fn merge(&mut self, other: TimeRange) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }

    /// The earliest time, unless empty.
    pub fn first(self) -> Option<Timestamp> {
        (self.first <= self.last).then_some(Timestamp(self.first))
    }

    /// The latest time, unless empty.
    pub fn last(self) -> Option<Timestamp> {
        (self.first <= self.last).then_some(Timestamp(self.last))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = std::time::Duration::from_nanos(self.0.unsigned_abs());
        let rounded = std::time::Duration::from_secs(d.as_secs());
        let sign = if self.0 < 0 { "-" } else { "" };
        if rounded.is_zero() {
            write!(f, "{sign}{}ms", d.as_millis())
        } else {
            write!(f, "{sign}{}", humantime::format_duration(rounded))
        }
    }
}

/// The number the two ASCII digits at `b[i..i + 2]` spell.
#[inline(always)]
fn two(b: &[u8], i: usize) -> Option<i64> {
    let (tens, ones) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
    (tens < 10 && ones < 10).then(|| i64::from(tens * 10 + ones))
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A proleptic Gregorian date.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
}

/// The date `days` after 1970-01-01 (Howard Hinnant's algorithm, the inverse of
/// `days_from_civil`).
fn civil_from_days(days: i64) -> Civil {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil { year, month, day }
}

fn parse_rfc3339(b: &[u8]) -> Option<Timestamp> {
    // YYYY-MM-DDTHH:MM:SS is 19 bytes.
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = two(b, 0)? * 100 + two(b, 2)?;
    let month = two(b, 5)?;
    let day = two(b, 8)?;
    let hour = two(b, 11)?;
    let minute = two(b, 14)?;
    let second = two(b, 17)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // Leap seconds (60) are accepted and fold into the next second, as Go does on output.
    if second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if b[i] == b'.' {
        let start = i + 1;
        let mut end = start;
        // Read as they are found; a tenth digit is one too many, so the search stops there.
        while end < b.len() && end - start <= 9 && b[end].is_ascii_digit() {
            nanos = nanos * 10 + i64::from(b[end] - b'0');
            end += 1;
        }
        let n = end - start;
        if n == 0 || n > 9 {
            return None;
        }
        nanos *= 10i64.pow((9 - n) as u32);
        i = end;
    }
    let offset_secs = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = two(&[*h1, *h2], 0)?;
            let m = two(&[*m1, *m2], 0)?;
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    // In 128 bits: the earliest time an `i64` holds has whole seconds below `i64::MIN`.
    let total = i128::from(secs) * i128::from(NANOS_PER_SEC) + i128::from(nanos);
    i64::try_from(total).ok().map(Timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A range is empty until a time is added, then spans exactly what was added, the extreme
    /// times included; merging an empty range changes nothing.
    #[test]
    fn time_ranges_keep_the_earliest_and_latest() {
        let empty = TimeRange::EMPTY;
        assert_eq!((empty.first(), empty.last()), (None, None));
        let mut r = TimeRange::default();
        r.add(None);
        assert_eq!(r, TimeRange::EMPTY);
        for t in [5, -3, 9, 0] {
            r.add(Some(Timestamp(t)));
        }
        assert_eq!(
            (r.first(), r.last()),
            (Some(Timestamp(-3)), Some(Timestamp(9)))
        );
        let before = r;
        r.merge(TimeRange::EMPTY);
        assert_eq!(r, before);
        let mut e = TimeRange::EMPTY;
        e.merge(r);
        assert_eq!(e, r);
        let max = TimeRange::of(Some(Timestamp(i64::MAX)), None);
        assert_eq!(
            (max.first(), max.last()),
            (Some(Timestamp(i64::MAX)), Some(Timestamp(i64::MAX)))
        );
        let min = TimeRange::of(None, Some(Timestamp(i64::MIN)));
        assert_eq!(min.first(), Some(Timestamp(i64::MIN)));
    }

    fn chrono_nanos(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    #[test]
    fn parses_every_shape_vault_writes() {
        for s in [
            "2020-02-07T17:44:17.392595555Z",
            "2019-05-09T16:17:12.6945318Z",
            "2017-07-31T04:08:36Z",
            "2025-06-04T16:01:31-04:00",
            "2026-01-01T00:00:00.1+08:00",
            "1999-12-31T23:59:59.999999999Z",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap().0, chrono_nanos(s), "{s}");
        }
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for s in [
            "",
            "2020-02-07",
            "2020-13-07T00:00:00Z",
            "2020-02-07T17:44:17",
            "2020-02-07T17:44:17.Z",
            "2020-02-07T17:44:17.1234567890Z",
            "20a0-02-07T00:00:00Z",
            "2020-0/-07T00:00:00Z",
            "2020-02-07T1:44:17Z",
            "2020-02-07T17:44:17.12a4Z",
            "2020-02-07T17:44:17+0a:00",
            "x",
        ] {
            assert!(Timestamp::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn formats_like_vault() {
        let t = Timestamp::parse("2020-02-07T17:44:17.392595555Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-02-07T17:44:17.392595555Z");
        let t = Timestamp::parse("2017-07-31T04:08:36Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2017-07-31T04:08:36Z");
    }

    fn chrono_text(t: Timestamp) -> String {
        let nanos = t.0.rem_euclid(NANOS_PER_SEC) as u32;
        chrono::DateTime::from_timestamp(t.seconds(), nanos)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    #[test]
    fn formats_byte_for_byte_like_chrono() {
        use rand_core::Rng;
        let mut rng = rand_pcg::Pcg64Mcg::new(0x5eed_b1a5);
        let mut values = vec![
            i64::MIN,
            i64::MAX,
            0,
            -1,
            1,
            -NANOS_PER_SEC,
            951_782_400 * NANOS_PER_SEC,
        ];
        for _ in 0..200_000 {
            let v = rng.next_u64() as i64;
            // Round some values so every fraction width (0, 3, 6, 9 digits) is exercised.
            let round = [1, 1_000, 1_000_000, NANOS_PER_SEC][(v as u64 % 4) as usize];
            values.push(v - v % round);
        }
        for v in values {
            let t = Timestamp(v);
            assert_eq!(t.rfc3339().as_str(), chrono_text(t), "{v}");
            assert_eq!(t.to_string(), chrono_text(t), "{v}");
            assert_eq!(Timestamp::parse(&chrono_text(t)), Some(t), "{v}");
        }
    }

    #[test]
    fn spans_print_for_humans() {
        assert_eq!(Span::from_secs(3725).to_string(), "1h 2m 5s");
        assert_eq!(Span(1_500_000).to_string(), "1ms");
    }
}
