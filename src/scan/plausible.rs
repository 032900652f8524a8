//! Times no audit device can have written: before 2015 (Vault 0.1 shipped in April 2015) or more
//! than a day after the wall clock. One entry dated 2200 would otherwise stretch the
//! report's range by centuries, invent a quiet period and a time-backwards gap; such entries are
//! counted, located (gap kind `impossible-time`) and analysed as untimed.
//!
//! Each entry is judged on its own against two fixed bounds, so the result does not depend on
//! thread count, chunk size or how a log is split across incremental runs.
//!
//! The upper bound is the real clock, not `BLASTRADIUS_NOW`: that variable pins a report's own
//! time (and relative `--since`) for reproducible output and may well lie before the log; no
//! clock can make a device write an entry after the moment it is read.

use crate::model::{Entry, Loc, Span, Timestamp};

/// 2015-01-01T00:00:00Z in nanoseconds since the epoch.
const EARLIEST_NANOS: i64 = 1_420_070_400 * 1_000_000_000;
/// Clock skew allowed past the scan's clock.
const AHEAD: Span = Span::from_secs(86_400);

/// The plausible range of entry times, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeBounds {
    /// The earliest plausible time.
    pub earliest: Timestamp,
    /// The latest plausible time.
    pub latest: Timestamp,
}

impl TimeBounds {
    /// From 2015-01-01 up to one day after `now`.
    pub fn for_now(now: Timestamp) -> TimeBounds {
        TimeBounds {
            earliest: Timestamp(EARLIEST_NANOS),
            latest: now.plus(AHEAD),
        }
    }

    /// True when `t` is within the bounds.
    #[inline]
    pub fn contains(&self, t: Timestamp) -> bool {
        t >= self.earliest && t <= self.latest
    }

    /// `time`, or `None` when it is impossible.
    #[inline]
    pub fn keep(&self, time: Option<Timestamp>) -> Option<Timestamp> {
        time.filter(|t| self.contains(*t))
    }

    /// The entry with an impossible time blanked, for the analyses that re-read raw entries.
    #[inline]
    pub fn blank<'a>(&self, mut ev: Entry<'a>) -> Entry<'a> {
        ev.time = self.keep(ev.time);
        ev
    }

    /// Judges an entry's time: `parsed` is what parsing gave, `text` the `time` as written.
    #[inline]
    pub fn judge(&self, parsed: Option<Timestamp>, text: Option<&str>) -> TimeRead {
        match (parsed, text) {
            (Some(t), _) if self.contains(t) => TimeRead::Valid(t),
            (Some(t), _) => TimeRead::Bad(TimeFault::Impossible(Some(t))),
            (None, Some(text)) => TimeRead::Bad(unparsed(text)),
            (None, None) => TimeRead::Missing,
        }
    }
}

/// A `time` the parser refused: RFC 3339 beyond what nanoseconds since 1970 can hold (after
/// 2262, e.g. year 9999) is impossible; anything else is not a time.
#[cold]
fn unparsed(text: &str) -> TimeFault {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(_) => TimeFault::Impossible(None),
        Err(_) => TimeFault::Unparseable,
    }
}

impl Default for TimeBounds {
    /// Up to a day after the wall clock.
    fn default() -> Self {
        TimeBounds::for_now(Timestamp::now())
    }
}

/// What an entry's `time` gives the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeRead {
    /// A plausible time.
    Valid(Timestamp),
    /// No `time`.
    Missing,
    /// A `time` that cannot be used.
    Bad(TimeFault),
}

/// Why a `time` cannot be used.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum TimeFault {
    /// A valid RFC 3339 time outside [`TimeBounds`] (`None`: too far out to represent).
    Impossible(Option<Timestamp>),
    /// Not an RFC 3339 time.
    Unparseable,
}

/// An entry whose time was impossible or unparseable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BadTime {
    /// Where (absolute once merged).
    pub loc: Loc,
    /// What was wrong.
    pub fault: TimeFault,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_each_time_against_both_bounds() {
        let now = Timestamp::parse("2026-11-22T00:00:00Z").unwrap();
        let b = TimeBounds::for_now(now);
        let t = |s: &str| Timestamp::parse(s);
        let judge = |s: &str| b.judge(t(s), Some(s));
        for good in [
            "2026-11-22T10:00:00Z",
            "2015-01-01T00:00:00Z",
            "2026-11-23T00:00:00Z",
        ] {
            assert_eq!(judge(good), TimeRead::Valid(t(good).unwrap()), "{good}");
        }
        for bad in [
            "2014-12-31T23:59:59Z",
            "2026-11-23T00:00:01Z",
            "2200-01-01T00:00:00Z",
        ] {
            let want = TimeRead::Bad(TimeFault::Impossible(Some(t(bad).unwrap())));
            assert_eq!(judge(bad), want, "{bad}");
        }
        assert_eq!(
            judge("9999-12-31T23:59:59Z"),
            TimeRead::Bad(TimeFault::Impossible(None))
        );
        for garbage in ["2026-13-45Tnoon", "", "yesterday"] {
            assert_eq!(
                judge(garbage),
                TimeRead::Bad(TimeFault::Unparseable),
                "{garbage}"
            );
        }
        assert_eq!(b.judge(None, None), TimeRead::Missing);
    }
}
