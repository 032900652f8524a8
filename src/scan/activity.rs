//! Activity over time: requests, secret reads and suspicious entries per time bucket, for the
//! incident report's chart.
//!
//! Buckets start one second wide and double in width whenever a thread holds more than
//! [`MAX_BUCKETS`] of them, so memory stays bounded on logs of any length. Widths are powers of
//! two seconds and buckets are aligned to the epoch, so any two counters can be merged exactly by
//! coarsening both to the wider width; the final width is the narrowest that fits every bucket
//! in [`MAX_BUCKETS`], whatever the order entries were seen in or the number of threads. The
//! hot path costs one division and one comparison per entry: consecutive entries usually fall
//! in the same bucket, which is held outside the map until the bucket changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

/// Buckets a counter holds before it doubles their width.
pub const MAX_BUCKETS: usize = 2048;

const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Widths stop doubling here (2^40 s, about 35,000 years): nothing real is that long.
const MAX_WIDTH_SECONDS: i64 = 1 << 40;

/// What happened in one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Logical requests analysed (one per request/response pair).
    pub requests: u64,
    /// Successful reads of secret material.
    pub secret_reads: u64,
    /// Entries that matched a detection rule with a severity.
    pub suspicious: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.requests += o.requests;
        self.secret_reads += o.secret_reads;
        self.suspicious += o.suspicious;
    }
}

/// Activity per time bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Bucket width in seconds (a power of two).
    width_seconds: i64,
    /// Bucket index (time / width) to counts.
    buckets: BTreeMap<i64, Counts>,
    /// Entries without a time: counted, not placed.
    untimed: Counts,
    /// The bucket being filled, not yet in `buckets`.
    #[serde(skip)]
    current: Option<(i64, Counts)>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            width_seconds: 1,
            buckets: BTreeMap::new(),
            untimed: Counts::default(),
            current: None,
        }
    }
}

/// One bar of a chart: a time range and what happened in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Start (inclusive).
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// Counts.
    pub counts: Counts,
}

impl Activity {
    /// Counts one logical request at `time`.
    #[inline]
    pub fn record(&mut self, time: Option<Timestamp>, secret_read: bool, suspicious: bool) {
        let c = Counts {
            requests: 1,
            secret_reads: u64::from(secret_read),
            suspicious: u64::from(suspicious),
        };
        let Some(t) = time else {
            self.untimed.add(c);
            return;
        };
        let key = t.0.div_euclid(self.width_seconds * NANOS_PER_SEC);
        match &mut self.current {
            Some((k, counts)) if *k == key => counts.add(c),
            _ => {
                self.flush();
                // Flushing may have doubled the width: the key must be at the current width.
                let key = t.0.div_euclid(self.width_seconds * NANOS_PER_SEC);
                self.current = Some((key, c));
            }
        }
    }

    /// Moves the bucket being filled into the map, coarsening if the map grew too large.
    fn flush(&mut self) {
        if let Some((k, c)) = self.current.take() {
            self.buckets.entry(k).or_default().add(c);
            self.fit();
        }
    }

    /// Doubles the width until the buckets fit.
    fn fit(&mut self) {
        while self.buckets.len() > MAX_BUCKETS && self.width_seconds < MAX_WIDTH_SECONDS {
            self.coarsen_to(self.width_seconds * 2);
        }
    }

    fn coarsen_to(&mut self, width_seconds: i64) {
        if width_seconds <= self.width_seconds {
            return;
        }
        let factor = width_seconds / self.width_seconds;
        let old = std::mem::take(&mut self.buckets);
        for (k, c) in old {
            self.buckets.entry(k.div_euclid(factor)).or_default().add(c);
        }
        self.width_seconds = width_seconds;
    }

    /// Adds another counter (from another thread or an earlier run). The result does not depend
    /// on the order of merges.
    pub fn merge(&mut self, other: &Activity) {
        self.flush();
        let mut other = other.clone();
        other.flush();
        let width = self.width_seconds.max(other.width_seconds);
        self.coarsen_to(width);
        other.coarsen_to(width);
        for (k, c) in other.buckets {
            self.buckets.entry(k).or_default().add(c);
        }
        self.untimed.add(other.untimed);
        self.fit();
    }

    /// Everything counted so far is in the buckets (call before reading them).
    pub fn settle(&mut self) {
        self.flush();
    }

    /// Bucket width in seconds.
    pub fn width_seconds(&self) -> i64 {
        self.width_seconds
    }

    /// Number of buckets with activity.
    pub fn len(&self) -> usize {
        self.buckets.len() + usize::from(self.current.is_some())
    }

    /// True when nothing timed was counted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Totals over every bucket, and the untimed entries.
    pub fn totals(&self) -> (Counts, Counts) {
        let mut timed = Counts::default();
        for c in self.buckets.values() {
            timed.add(*c);
        }
        if let Some((_, c)) = self.current {
            timed.add(c);
        }
        (timed, self.untimed)
    }

    /// The activity as at most `max_bars` contiguous bars of equal width from the first to the
    /// last active bucket (empty bars included, so the x axis is linear in time).
    pub fn bars(&self, max_bars: usize) -> Vec<Bar> {
        let mut a = self.clone();
        a.flush();
        let (Some((&first, _)), Some((&last, _))) =
            (a.buckets.first_key_value(), a.buckets.last_key_value())
        else {
            return Vec::new();
        };
        let span = (last - first + 1) as u64;
        let per_bar = span.div_ceil(max_bars.max(1) as u64).max(1) as i64;
        let n = (last - first) / per_bar + 1;
        let bucket_ns = a.width_seconds * NANOS_PER_SEC;
        let mut bars: Vec<Bar> = (0..n)
            .map(|i| {
                let start = first + i * per_bar;
                Bar {
                    start: Timestamp(start.saturating_mul(bucket_ns)),
                    end: Timestamp((start + per_bar).saturating_mul(bucket_ns)),
                    counts: Counts::default(),
                }
            })
            .collect();
        for (k, c) in &a.buckets {
            let i = ((k - first) / per_bar) as usize;
            bars[i].counts.add(*c);
        }
        bars
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> Option<Timestamp> {
        Some(Timestamp(secs * NANOS_PER_SEC + 123))
    }

    #[test]
    fn counts_per_second_until_it_must_coarsen() {
        let mut a = Activity::default();
        a.record(at(10), true, false);
        a.record(at(10), false, true);
        a.record(at(11), false, false);
        a.record(None, true, false);
        a.settle();
        assert_eq!(a.width_seconds(), 1);
        assert_eq!(a.len(), 2);
        let (timed, untimed) = a.totals();
        assert_eq!(
            (timed.requests, timed.secret_reads, timed.suspicious),
            (3, 1, 1)
        );
        assert_eq!(untimed.requests, 1);

        let mut big = Activity::default();
        for s in 0..10_000 {
            big.record(at(s * 3), false, false);
        }
        big.settle();
        assert!(big.len() <= MAX_BUCKETS, "{}", big.len());
        assert_eq!(big.width_seconds(), 16, "30,000 s in at most 2,048 buckets");
        assert_eq!(big.totals().0.requests, 10_000);
    }

    #[test]
    fn bars_cover_the_range_and_keep_totals() {
        let mut a = Activity::default();
        for s in 0..1000 {
            a.record(at(s), s % 7 == 0, s % 100 == 0);
        }
        let bars = a.bars(200);
        assert_eq!(bars.len(), 200);
        assert!(bars.windows(2).all(|w| w[0].end == w[1].start));
        let sum: u64 = bars.iter().map(|b| b.counts.requests).sum();
        assert_eq!(sum, 1000);
        assert_eq!(bars[0].counts.suspicious, 1);
        assert!(Activity::default().bars(200).is_empty());
    }

    proptest! {
        /// Any split of the entries over threads, merged in any order, gives the same counter.
        #[test]
        fn merge_does_not_depend_on_split_or_order(
            times in proptest::collection::vec((0i64..200_000, any::<bool>()), 1..3000),
            split in 0usize..3000,
        ) {
            let mut whole = Activity::default();
            for (t, s) in &times {
                whole.record(at(*t), *s, false);
            }
            whole.settle();
            // Every entry sits in the bucket its time falls in at the final width.
            let w = whole.width_seconds();
            let mut reference: BTreeMap<i64, Counts> = BTreeMap::new();
            for (t, s) in &times {
                reference.entry(t.div_euclid(w)).or_default().add(Counts {
                    requests: 1,
                    secret_reads: u64::from(*s),
                    suspicious: 0,
                });
            }
            prop_assert_eq!(&whole.buckets, &reference);
            prop_assert!(whole.len() <= MAX_BUCKETS);
            prop_assert!(w == 1 || {
                let mut finer: BTreeMap<i64, ()> = BTreeMap::new();
                for (t, _) in &times { finer.insert(t.div_euclid(w / 2), ()); }
                finer.len() > MAX_BUCKETS
            }, "the width is the narrowest that fits");
            let cut = split.min(times.len());
            let (x, y) = times.split_at(cut);
            let mut a = Activity::default();
            let mut b = Activity::default();
            for (t, s) in y.iter().rev() {
                a.record(at(*t), *s, false);
            }
            for (t, s) in x {
                b.record(at(*t), *s, false);
            }
            let mut ab = a.clone();
            ab.merge(&b);
            let mut ba = b;
            ba.merge(&a);
            prop_assert_eq!(&ab, &whole);
            prop_assert_eq!(&ba, &whole);
        }
    }
}
