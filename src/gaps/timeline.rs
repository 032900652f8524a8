//! Per-chunk time bookkeeping: activity intervals and clock regressions.
//!
//! A chunk records the maximal intervals in which consecutive entries are less than the gap
//! threshold apart. Intervals from all chunks and files are merged afterwards, so quiet periods
//! are found on the union timeline of every device and node, not per file.

use crate::model::{Loc, Span, Timestamp};

/// An entry's time and place.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Point {
    /// When.
    pub time: Timestamp,
    /// Where.
    pub loc: Loc,
}

/// A stretch of activity: entries no more than the gap threshold apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    /// The earliest entry.
    pub start: Point,
    /// The latest entry.
    pub end: Point,
}

/// A later line with an earlier time than the line before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Regression {
    /// The line before.
    pub from: Point,
    /// The line that went back in time.
    pub to: Point,
}

/// Most regressions kept per chunk; beyond it they are only counted.
pub const MAX_REGRESSIONS_PER_CHUNK: usize = 100;

/// Time bookkeeping for one chunk.
#[derive(Clone, Debug)]
pub struct Timeline {
    gap: Span,
    skew: Span,
    current: Option<Interval>,
    prev: Option<Point>,
    /// Closed activity intervals.
    pub intervals: Vec<Interval>,
    /// The first timed entry, in file order.
    pub first: Option<Point>,
    /// The last timed entry, in file order.
    pub last: Option<Point>,
    /// Regressions beyond the tolerated skew (capped).
    pub regressions: Vec<Regression>,
    /// All regressions, including those not kept.
    pub regression_count: u64,
}

impl Timeline {
    /// A timeline that splits activity at gaps longer than `gap` and tolerates `skew` of
    /// reordering (concurrent requests are logged slightly out of order).
    pub fn new(gap: Span, skew: Span) -> Self {
        Timeline {
            gap,
            skew,
            current: None,
            prev: None,
            intervals: Vec::new(),
            first: None,
            last: None,
            regressions: Vec::new(),
            regression_count: 0,
        }
    }

    /// Records an entry, in file order.
    #[inline]
    pub fn observe(&mut self, p: Point) {
        if self.first.is_none() {
            self.first = Some(p);
        }
        if let Some(prev) = self.prev
            && p.time.plus(self.skew) < prev.time
        {
            self.regression_count += 1;
            if self.regressions.len() < MAX_REGRESSIONS_PER_CHUNK {
                self.regressions.push(Regression { from: prev, to: p });
            }
        }
        self.prev = Some(p);
        self.last = Some(p);
        match &mut self.current {
            Some(c)
                if p.time <= c.end.time.plus(self.gap)
                    && p.time >= c.start.time.minus(self.gap) =>
            {
                if p.time > c.end.time {
                    c.end = p;
                }
                if p.time < c.start.time {
                    c.start = p;
                }
            }
            _ => {
                if let Some(c) = self.current.take() {
                    self.intervals.push(c);
                }
                self.current = Some(Interval { start: p, end: p });
            }
        }
    }

    /// Closes the open interval.
    pub fn finish(&mut self) {
        if let Some(c) = self.current.take() {
            self.intervals.push(c);
        }
    }
}

/// Merges intervals from everywhere into the union timeline's activity, sorted by start.
pub fn merge_intervals(mut all: Vec<Interval>, gap: Span) -> Vec<Interval> {
    all.sort_by_key(|i| (i.start.time, i.start.loc));
    let mut out: Vec<Interval> = Vec::with_capacity(all.len().min(1024));
    for i in all {
        match out.last_mut() {
            Some(cur) if i.start.time <= cur.end.time.plus(gap) => {
                if i.end.time > cur.end.time
                    || (i.end.time == cur.end.time && i.end.loc > cur.end.loc)
                {
                    cur.end = i.end;
                }
            }
            _ => out.push(i),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(secs: i64, line: u32) -> Point {
        Point {
            time: Timestamp(secs * 1_000_000_000),
            loc: Loc {
                line_in_chunk: u64::from(line),
                ..Loc::default()
            },
        }
    }

    #[test]
    fn splits_activity_at_gaps_and_flags_regressions() {
        let mut t = Timeline::new(Span::from_secs(60), Span::from_secs(1));
        for (i, s) in [0, 10, 30, 200, 210, 100].into_iter().enumerate() {
            t.observe(pt(s, i as u32));
        }
        t.finish();
        let spans: Vec<_> = t
            .intervals
            .iter()
            .map(|i| (i.start.time.seconds(), i.end.time.seconds()))
            .collect();
        assert_eq!(spans, vec![(0, 30), (200, 210), (100, 100)]);
        assert_eq!(t.regression_count, 1);
        assert_eq!(t.regressions[0].to.time.seconds(), 100);
    }

    #[test]
    fn union_of_devices_has_no_gap_where_either_was_active() {
        let a = Interval {
            start: pt(0, 0),
            end: pt(100, 1),
        };
        let b = Interval {
            start: pt(150, 0),
            end: pt(400, 1),
        };
        let c = Interval {
            start: pt(1000, 0),
            end: pt(1001, 1),
        };
        let merged = merge_intervals(vec![c, b, a], Span::from_secs(60));
        let spans: Vec<_> = merged
            .iter()
            .map(|i| (i.start.time.seconds(), i.end.time.seconds()))
            .collect();
        assert_eq!(spans, vec![(0, 400), (1000, 1001)]);
    }
}
