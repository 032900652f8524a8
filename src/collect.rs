//! Bounded, order-independent collections for evidence and samples.
//!
//! Workers see entries in whatever order the threads run, and a scan must not hold every
//! finding in memory. Keeping the *k smallest* locations (or the *k* keys first seen at the
//! smallest locations) is both bounded and deterministic: the result does not depend on the
//! order of insertion or on how per-thread collections are merged.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Samples are offered a key on every secret read and every finding; SipHash showed up in
/// profiles there. The keys are our own hashes or locations, not attacker-chosen collisions.
type Hasher = foldhash::fast::FixedState;

/// The `cap` smallest distinct values seen.
///
/// A sorted vector, not a tree: `cap` is a handful (evidence lines), and one small allocation
/// per collection matters when there is one collection per distinct secret path.
#[derive(Clone, Debug)]
pub struct Smallest<T: Ord> {
    cap: usize,
    items: Vec<T>,
}

impl<T: Ord> Smallest<T> {
    /// Keeps at most `cap` values.
    pub fn new(cap: usize) -> Self {
        Smallest {
            cap,
            items: Vec::new(),
        }
    }

    /// Offers a value.
    pub fn insert(&mut self, v: T) {
        if self.items.len() >= self.cap && self.items.last().is_none_or(|max| v >= *max) {
            return;
        }
        if let Err(at) = self.items.binary_search(&v) {
            if self.items.len() >= self.cap {
                self.items.pop();
            }
            if self.items.capacity() == self.items.len() {
                // Exact growth up to the cap: most collections hold one or two values.
                let room = (self.items.len().max(1)).min(self.cap - self.items.len());
                self.items.reserve_exact(room);
            }
            self.items.insert(at, v);
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
        self.items
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

/// One kept key of a [`Sample`]: where it was first seen, and its value.
#[derive(Clone, Debug)]
struct Kept<K, P, V> {
    key: K,
    pos: P,
    /// Breaks ties between equal positions: the order the key took its position in.
    seq: u64,
    value: V,
}

/// Up to `cap` distinct keys, those first seen at the smallest positions, each with a value;
/// and an exact count of distinct keys up to `count_cap`.
///
/// The kept keys live in a small vector searched linearly (`cap` is ten or twenty). The set of
/// distinct keys is built only once a key is seen that the vector does not hold while it is
/// full: until then the kept keys are the distinct keys. A secret read by a few tokens (nearly
/// every secret) costs one allocation, not a hash map, a B-tree and a hash set.
#[derive(Clone, Debug)]
pub struct Sample<K: Hash + Eq + Clone, P: Ord + Copy, V> {
    cap: usize,
    count_cap: usize,
    kept: Vec<Kept<K, P, V>>,
    /// Every distinct key counted; `None` while they are exactly the keys of `kept`. Boxed, as
    /// is `index`: few samples ever build either, and there is a sample per distinct secret
    /// path, so an empty table inline (40 bytes each) cost more than the kept keys.
    #[allow(
        clippy::box_collection,
        reason = "the box keeps the absent table at 8 bytes"
    )]
    distinct: Option<Box<HashSet<K, Hasher>>>,
    /// Where each kept key is in `kept`, once it holds more than [`INDEX_AT`] keys: a large cap
    /// (`scan --max-readers 0` lists every reader) must not make each offer a linear search.
    #[allow(
        clippy::box_collection,
        reason = "the box keeps the absent table at 8 bytes"
    )]
    index: Option<Box<HashMap<K, usize, Hasher>>>,
    saturated: bool,
    seq: u64,
}

/// Kept keys searched linearly before a [`Sample`] builds an index.
const INDEX_AT: usize = 32;

impl<K: Hash + Eq + Clone, P: Ord + Copy, V> Sample<K, P, V> {
    /// A sample of `cap` keys, counting up to `count_cap` distinct keys exactly.
    pub fn new(cap: usize, count_cap: usize) -> Self {
        Sample {
            cap,
            count_cap,
            kept: Vec::new(),
            distinct: None,
            index: None,
            saturated: false,
            seq: 0,
        }
    }

    /// Where `key` is in `kept`.
    fn position(&self, key: &K) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.kept.iter().position(|k| k.key == *key),
        }
    }

    /// Puts `kept[i]`'s key in the index, building the index once `kept` is large.
    fn index_kept(&mut self, i: usize) {
        match &mut self.index {
            Some(index) => {
                index.insert(self.kept[i].key.clone(), i);
            }
            None if self.kept.len() > INDEX_AT => {
                let index = self
                    .kept
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (k.key.clone(), i))
                    .collect();
                self.index = Some(Box::new(index));
            }
            None => {}
        }
    }

    /// Records `key` seen at `pos`; `make` builds its value only if the key enters the sample.
    pub fn offer(&mut self, key: K, pos: P, make: impl FnOnce() -> V) {
        let at = self.position(&key);
        self.count(&key, at.is_some());
        if let Some(i) = at {
            if pos < self.kept[i].pos {
                self.seq += 1;
                self.kept[i].pos = pos;
                self.kept[i].seq = self.seq;
            }
            return;
        }
        self.seq += 1;
        let entry = |value| Kept {
            key,
            pos,
            seq: self.seq,
            value,
        };
        if self.kept.len() < self.cap {
            if self.kept.capacity() == self.kept.len() {
                let room = self.kept.len().max(1).min(self.cap - self.kept.len());
                self.kept.reserve_exact(room);
            }
            self.kept.push(entry(make()));
            self.index_kept(self.kept.len() - 1);
            return;
        }
        // Full: the new key replaces the latest kept one if it was seen before it.
        let latest = self
            .kept
            .iter()
            .enumerate()
            .max_by_key(|(_, k)| (k.pos, k.seq))
            .map(|(i, k)| (i, k.pos));
        if let Some((i, max)) = latest
            && pos < max
        {
            let old = std::mem::replace(&mut self.kept[i], entry(make()));
            if let Some(index) = &mut self.index {
                index.remove(&old.key);
            }
            self.index_kept(i);
        }
    }

    /// Counts `key` among the distinct keys (`kept`: it is one of the kept keys).
    fn count(&mut self, key: &K, kept: bool) {
        if self.saturated {
            return;
        }
        if self.distinct.is_none() {
            if kept {
                return;
            }
            let limit = self.cap.min(self.count_cap);
            if self.kept.len() < limit {
                // It will be kept: the kept keys stay the distinct keys.
                return;
            }
        }
        self.insert_distinct(key);
    }

    /// Counts `key` in the set of distinct keys, building the set first if need be.
    fn insert_distinct(&mut self, key: &K) {
        let kept = &self.kept;
        let set = self
            .distinct
            .get_or_insert_with(|| Box::new(kept.iter().map(|k| k.key.clone()).collect()));
        if !set.contains(key) {
            if set.len() >= self.count_cap {
                self.saturated = true;
            } else {
                set.insert(key.clone());
            }
        }
    }

    /// The distinct keys counted.
    fn distinct_keys(&self) -> Box<dyn Iterator<Item = &K> + '_> {
        match &self.distinct {
            Some(set) => Box::new(set.iter()),
            None => Box::new(self.kept.iter().map(|k| &k.key)),
        }
    }

    /// Merges another sample into this one.
    pub fn merge(&mut self, other: Sample<K, P, V>) {
        self.saturated |= other.saturated;
        for k in other.distinct_keys() {
            if self.saturated {
                break;
            }
            if self.distinct.is_none() && self.position(k).is_some() {
                continue;
            }
            self.insert_distinct(k);
        }
        for k in other.kept {
            let mut v = Some(k.value);
            self.offer_counted(k.key, k.pos, || v.take().expect("value is taken once"));
        }
        // Back to the compact form when the distinct keys are again exactly the kept ones.
        if let Some(set) = &self.distinct
            && set.len() == self.kept.len()
            && self.kept.iter().all(|k| set.contains(&k.key))
        {
            self.distinct = None;
        }
    }

    /// [`Sample::offer`] for a key already counted (merging, restoring).
    fn offer_counted(&mut self, key: K, pos: P, make: impl FnOnce() -> V) {
        let saturated = std::mem::replace(&mut self.saturated, true);
        self.offer(key, pos, make);
        self.saturated = saturated;
    }

    /// Number of distinct keys seen (a lower bound when [`Sample::saturated`]).
    pub fn distinct(&self) -> usize {
        match &self.distinct {
            Some(set) => set.len(),
            None => self.kept.len(),
        }
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
                .kept
                .iter()
                .map(|k| (k.key.clone(), k.pos, k.value.clone()))
                .collect(),
            distinct: self.distinct_keys().cloned().collect(),
            saturated: self.saturated,
        }
    }

    /// Restores a sample saved with [`Sample::to_parts`].
    pub fn from_parts(parts: SampleParts<K, P, V>) -> Self {
        let mut s = Sample::new(parts.cap, parts.count_cap);
        s.saturated = parts.saturated;
        let distinct: HashSet<K, Hasher> = parts.distinct.into_iter().collect();
        let implicit = distinct.len() == parts.entries.len()
            && parts.entries.iter().all(|(k, _, _)| distinct.contains(k));
        s.distinct = (!implicit).then(|| Box::new(distinct));
        for (k, p, v) in parts.entries {
            let mut v = Some(v);
            s.offer_counted(k, p, || v.take().expect("value is taken once"));
        }
        s
    }

    /// The sampled values, by first position.
    pub fn into_sorted(mut self) -> Vec<(P, V)> {
        self.kept.sort_unstable_by_key(|k| (k.pos, k.seq));
        self.kept.into_iter().map(|k| (k.pos, k.value)).collect()
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

    /// Past [`INDEX_AT`] kept keys the index answers lookups: it must follow replacements.
    #[test]
    fn a_large_sample_with_an_index_keeps_the_earliest_keys() {
        let mut s: Sample<u32, u32, u32> = Sample::new(100, 1000);
        // Keys 0..300 first seen at decreasing positions, then each seen again later.
        for k in 0..300u32 {
            s.offer(k, 1000 - k, || k);
        }
        for k in 0..300u32 {
            s.offer(k, 5000 + k, || k);
        }
        assert_eq!(s.distinct(), 300);
        let got: Vec<u32> = s.into_sorted().into_iter().map(|(_, v)| v).collect();
        let want: Vec<u32> = (200..300).rev().collect();
        assert_eq!(got, want);
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

        /// Against a model: the kept keys are the `cap` keys with the smallest first
        /// positions, and keys are counted exactly up to `count_cap`.
        #[test]
        fn sample_keeps_the_earliest_keys_and_counts_up_to_the_cap(raw in proptest::collection::vec((0u8..120, 0u32..1000), 0..300), cap in prop_oneof![1usize..8, 30usize..80], count_cap in 1usize..120) {
            let mut used = std::collections::HashSet::new();
            let events: Vec<(u8, u32)> = raw.into_iter().filter(|(_, p)| used.insert(*p)).collect();
            let mut s: Sample<u8, u32, u8> = Sample::new(cap, count_cap);
            let mut first: std::collections::HashMap<u8, u32> = Default::default();
            for (k, p) in &events {
                s.offer(*k, *p, || *k);
                let f = first.entry(*k).or_insert(*p);
                *f = (*f).min(*p);
            }
            let mut model: Vec<(u32, u8)> = first.iter().map(|(k, p)| (*p, *k)).collect();
            model.sort_unstable();
            model.truncate(cap);
            prop_assert_eq!(s.distinct(), first.len().min(count_cap));
            prop_assert_eq!(s.saturated(), first.len() > count_cap);
            let restored = Sample::from_parts(s.to_parts());
            prop_assert_eq!(restored.distinct(), s.distinct());
            prop_assert_eq!(s.into_sorted(), model.clone());
            prop_assert_eq!(restored.into_sorted(), model);
        }

        #[test]
        fn smallest_matches_a_sorted_model(raw in proptest::collection::vec(0u32..100, 0..100), cap in 1usize..8) {
            let mut s = Smallest::new(cap);
            for v in &raw { s.insert(*v); }
            let mut model: Vec<u32> = raw.clone();
            model.sort_unstable();
            model.dedup();
            model.truncate(cap);
            prop_assert_eq!(s.into_sorted(), model);
        }
    }
}
