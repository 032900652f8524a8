//! The two kinds of time range the analyses use, kept apart because they mean different things:
//! a [`TimeWindow`] is a filter the user asks for (either side may be open), an [`Interval`] is
//! when something observed happened (both ends are moments seen in the log).

use serde::{Deserialize, Serialize, Serializer};

use super::Timestamp;

/// The `--since`/`--until` filter: entries with a time in `[since, until)` are analysed, the
/// others skipped. Either side may be open. Reports echo it as `window`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TimeWindow {
    /// Inclusive start (`--since`).
    pub since: Option<Timestamp>,
    /// Exclusive end (`--until`).
    pub until: Option<Timestamp>,
}

impl TimeWindow {
    /// True when `t` is inside the window.
    #[inline]
    pub fn contains(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

/// First to last moment of something the log shows (a blast radius's activity, a tenant's
/// exposed reads); both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// The first moment.
    pub start: Timestamp,
    /// The last moment.
    pub end: Timestamp,
}

impl Interval {
    /// Its length in seconds.
    pub fn seconds(&self) -> f64 {
        self.end.since(self.start).as_secs_f64()
    }
}

/// Serialises an optional interval with its length (`{start, end, seconds}`), the form blast
/// reports give `exposure_window` (docs/report-schema.md).
pub fn with_seconds<S: Serializer>(w: &Option<Interval>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Timed {
        start: Timestamp,
        end: Timestamp,
        seconds: f64,
    }
    w.map(|w| Timed {
        start: w.start,
        end: w.end,
        seconds: w.seconds(),
    })
    .serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_half_open_and_the_interval_closed() {
        let t = |s: i64| Timestamp(s * 1_000_000_000);
        let w = TimeWindow {
            since: Some(t(10)),
            until: Some(t(20)),
        };
        assert!(w.contains(t(10)) && w.contains(t(19)));
        assert!(!w.contains(t(9)) && !w.contains(t(20)));
        assert!(TimeWindow::default().contains(t(0)));
        let i = Interval {
            start: t(10),
            end: t(70),
        };
        assert_eq!(i.seconds(), 60.0);
        let mut out = Vec::new();
        with_seconds(&Some(i), &mut serde_json::Serializer::new(&mut out)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["seconds"], 60.0);
        assert_eq!(v["start"], serde_json::to_value(t(10)).unwrap());
        let back: Interval = serde_json::from_value(v).unwrap();
        assert_eq!(back, i);
    }
}
