//! Bounded, order-independent collections for evidence and samples.
//!
//! Workers see entries in whatever order the threads run, and a scan must not hold every
//! finding in memory. Keeping the *k smallest* locations (or the *k* keys first seen at the
//! smallest locations) is both bounded and deterministic: the result does not depend on the
//! order of insertion or on how per-thread collections are merged.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

/// Samples are offered a key on every secret read and every finding; SipHash showed up in
/// profiles there. The keys are our own hashes or locations, not attacker-chosen collisions.
type Hasher = foldhash::fast::FixedState;

/// The `cap` smallest distinct values seen, plus how many distinct values were offered.
#[derive(Clone, Debug)]
pub struct Smallest<T: Ord> {
    cap: usize,
    items: BTreeSet<T>,
}

impl<T: Ord> Smallest<T> {
    /// Keeps at most `cap` values.
    pub fn new(cap: usize) -> Self {
        Smallest {
            cap,
            items: BTreeSet::new(),
        }
    }

    /// Offers a value.
    pub fn insert(&mut self, v: T) {
        if self.items.len() < self.cap {
            self.items.insert(v);
        } else if self.items.last().is_some_and(|max| v < *max) && self.items.insert(v) {
            self.items.pop_last();
        }
    }

    /// Merges another collection into this one.
    pub fn merge(&mut self, other: Smallest<T>) {
        for v in other.items {
            self.insert(v);
        }
    }

    /// The kept values in ascending order.
    pub fn into_sorted(self) -> Vec<T> {
        self.items.into_iter().collect()
    }

    /// Restores a collection saved with [`Smallest::iter`].
    pub fn from_items(cap: usize, items: impl IntoIterator<Item = T>) -> Self {
        let mut s = Smallest::new(cap);
        for v in items {
            s.insert(v);
        }
        s
    }

    /// Iterates the kept values in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// Number of kept values.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Up to `cap` distinct keys, those first seen at the smallest positions, each with a value;
/// and an exact count of distinct keys up to `count_cap`.
#[derive(Clone, Debug)]
pub struct Sample<K: Hash + Eq + Clone, P: Ord + Copy, V> {
    cap: usize,
    count_cap: usize,
    by_key: HashMap<K, (P, V), Hasher>,
    by_pos: BTreeMap<(P, u64), K>,
    distinct: HashSet<K, Hasher>,
    saturated: bool,
    seq: u64,
}

impl<K: Hash + Eq + Clone, P: Ord + Copy, V> Sample<K, P, V> {
    /// A sample of `cap` keys, counting up to `count_cap` distinct keys exactly.
    pub fn new(cap: usize, count_cap: usize) -> Self {
        Sample {
            cap,
            count_cap,
            by_key: HashMap::default(),
            by_pos: BTreeMap::new(),
            distinct: Default::default(),
            saturated: false,
            seq: 0,
        }
    }

    /// Records `key` seen at `pos`; `make` builds its value only if the key enters the sample.
    pub fn offer(&mut self, key: K, pos: P, make: impl FnOnce() -> V) {
        if !self.saturated && !self.distinct.contains(&key) {
            if self.distinct.len() >= self.count_cap {
                self.saturated = true;
            } else {
                self.distinct.insert(key.clone());
            }
        }
        if let Some((p, _)) = self.by_key.get_mut(&key) {
            if pos < *p {
                let old = *p;
                *p = pos;
                self.reindex(&key, old, pos);
            }
            return;
        }
        let full = self.by_key.len() >= self.cap;
        if full
            && self
                .by_pos
                .last_key_value()
                .is_none_or(|((max, _), _)| pos >= *max)
        {
            return;
        }
        self.seq += 1;
        self.by_pos.insert((pos, self.seq), key.clone());
        self.by_key.insert(key, (pos, make()));
        if self.by_key.len() > self.cap
            && let Some((_, evicted)) = self.by_pos.pop_last()
        {
            self.by_key.remove(&evicted);
        }
    }

    fn reindex(&mut self, key: &K, old: P, new: P) {
        let slot = self
            .by_pos
            .iter()
            .find(|((p, _), k)| *p == old && *k == key)
            .map(|(s, _)| *s);
        if let Some(s) = slot {
            self.by_pos.remove(&s);
            self.seq += 1;
            self.by_pos.insert((new, self.seq), key.clone());
        }
    }

    /// Merges another sample into this one.
    pub fn merge(&mut self, other: Sample<K, P, V>) {
        self.saturated |= other.saturated;
        for k in other.distinct {
            if self.distinct.len() >= self.count_cap {
                self.saturated = true;
                break;
            }
            self.distinct.insert(k);
        }
        for (k, (p, v)) in other.by_key {
            let mut v = Some(v);
            self.offer(k, p, || v.take().expect("value is taken once"));
        }
    }

    /// Number of distinct keys seen (a lower bound when [`Sample::saturated`]).
    pub fn distinct(&self) -> usize {
        self.distinct.len()
    }

    /// True when more distinct keys were seen than could be counted.
    pub fn saturated(&self) -> bool {
        self.saturated
    }

    /// The sample in a form that can be saved and restored exactly.
    pub fn to_parts(&self) -> SampleParts<K, P, V>
    where
        V: Clone,
    {
        SampleParts {
            cap: self.cap,
            count_cap: self.count_cap,
            entries: self
                .by_key
                .iter()
                .map(|(k, (p, v))| (k.clone(), *p, v.clone()))
                .collect(),
            distinct: self.distinct.iter().cloned().collect(),
            saturated: self.saturated,
        }
    }

    /// Restores a sample saved with [`Sample::to_parts`].
    pub fn from_parts(parts: SampleParts<K, P, V>) -> Self {
        let mut s = Sample::new(parts.cap, parts.count_cap);
        s.saturated = parts.saturated;
        s.distinct = parts.distinct.into_iter().collect();
        for (k, p, v) in parts.entries {
            let mut v = Some(v);
            s.offer(k, p, || v.take().expect("value is taken once"));
        }
        s
    }

    /// The sampled values, by first position.
    pub fn into_sorted(mut self) -> Vec<(P, V)> {
        let mut out = Vec::with_capacity(self.by_key.len());
        for (_, k) in std::mem::take(&mut self.by_pos) {
            if let Some(pv) = self.by_key.remove(&k) {
                out.push(pv);
            }
        }
        out
    }
}

/// A [`Sample`] as plain data, for saving between runs.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SampleParts<K, P, V> {
    /// Keys kept.
    pub cap: usize,
    /// Distinct keys counted.
    pub count_cap: usize,
    /// The sampled keys with their first position and value.
    pub entries: Vec<(K, P, V)>,
    /// Every distinct key counted.
    pub distinct: Vec<K>,
    /// True when more keys were seen than counted.
    pub saturated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn smallest_keeps_the_k_smallest() {
        let mut s = Smallest::new(3);
        for v in [9, 1, 7, 3, 3, 8, 2] {
            s.insert(v);
        }
        assert_eq!(s.into_sorted(), vec![1, 2, 3]);
    }

    #[test]
    fn sample_keeps_keys_first_seen_earliest() {
        let mut s: Sample<&str, u32, String> = Sample::new(2, 100);
        s.offer("a", 100, || "a".into());
        s.offer("b", 10, || "b".into());
        s.offer("a", 5, || "a".into());
        s.offer("c", 50, || "c".into());
        let got: Vec<_> = s.into_sorted();
        assert_eq!(got, vec![(5, "a".to_string()), (10, "b".to_string())]);
    }

    #[test]
    fn samples_round_trip_through_parts() {
        let mut s: Sample<u64, u32, String> = Sample::new(2, 10);
        for (k, p) in [(1, 50), (2, 10), (3, 30), (1, 5)] {
            s.offer(k, p, || format!("v{k}"));
        }
        let restored = Sample::from_parts(s.to_parts());
        assert_eq!(restored.distinct(), 3);
        assert_eq!(restored.into_sorted(), s.into_sorted());
    }

    proptest! {
        #[test]
        fn sample_is_independent_of_order_and_split(raw in proptest::collection::vec((0u8..20, 0u32..1000), 0..200), split in 0usize..200) {
            // One entry is at one position: positions are unique, as `Loc`s are.
            let mut used = std::collections::HashSet::new();
            let events: Vec<(u8, u32)> = raw.into_iter().filter(|(_, p)| used.insert(*p)).collect();
            let mut whole: Sample<u8, u32, u8> = Sample::new(5, 1000);
            for (k, p) in &events { whole.offer(*k, *p, || *k); }
            let split = split.min(events.len());
            let (x, y) = events.split_at(split);
            let mut a: Sample<u8, u32, u8> = Sample::new(5, 1000);
            let mut b: Sample<u8, u32, u8> = Sample::new(5, 1000);
            for (k, p) in y.iter().rev() { b.offer(*k, *p, || *k); }
            for (k, p) in x { a.offer(*k, *p, || *k); }
            a.merge(b);
            prop_assert_eq!(a.distinct(), whole.distinct());
            prop_assert_eq!(a.into_sorted(), whole.into_sorted());
        }
    }
}
