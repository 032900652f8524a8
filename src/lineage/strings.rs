//! The pass's strings (accessors, token HMACs, paths, addresses ...), each once, by key.
//!
//! One boxed string per distinct value cost a heap block each: the allocator's header and
//! rounding were a third of a 76-byte accessor, and a log of distinct tokens holds several such
//! strings per line. Here the bytes live in large chunks that never move, and the index holds
//! 12 bytes per string.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::Key;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Bytes per chunk; a longer string gets a chunk of its own.
const CHUNK: usize = 64 * 1024;

/// Where a string's bytes are: chunk, offset and length.
#[derive(Clone, Copy, Debug)]
struct Span {
    chunk: u32,
    start: u32,
    len: u32,
}

/// Interned strings by key.
#[derive(Default)]
pub struct Strings {
    index: Map<Key, Span>,
    /// Filled up to their capacity and never grown, so a `Span` stays valid.
    chunks: Vec<String>,
}

impl Strings {
    /// Stores `s` under `k` unless `k` is already there (keys are hashes of the strings).
    pub fn insert(&mut self, k: Key, s: &str) {
        if let Entry::Vacant(e) = self.index.entry(k) {
            e.insert(push(&mut self.chunks, s));
        }
    }

    /// The string of `k`.
    pub fn get(&self, k: &Key) -> Option<&str> {
        let sp = self.index.get(k)?;
        let start = sp.start as usize;
        self.chunks
            .get(sp.chunk as usize)
            .and_then(|c| c.get(start..start + sp.len as usize))
    }

    /// Every key and its string, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &str)> {
        self.index.keys().map(|k| (*k, self.get(k).unwrap_or("")))
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Adds another state's strings.
    pub fn merge(&mut self, other: Strings) {
        self.index.reserve(other.len());
        for (k, s) in other.iter() {
            self.insert(k, s);
        }
    }
}

impl<'a> Extend<(Key, &'a str)> for Strings {
    fn extend<I: IntoIterator<Item = (Key, &'a str)>>(&mut self, iter: I) {
        for (k, s) in iter {
            self.insert(k, s);
        }
    }
}

/// Appends `s` to the last chunk, or to a new one when it does not fit.
fn push(chunks: &mut Vec<String>, s: &str) -> Span {
    let fits = chunks
        .last()
        .is_some_and(|c| c.capacity() - c.len() >= s.len());
    if !fits {
        chunks.push(String::with_capacity(s.len().max(CHUNK)));
    }
    let last = chunks.len() - 1;
    let c = &mut chunks[last];
    let start = c.len();
    c.push_str(s);
    Span {
        chunk: u32::try_from(last).unwrap_or(u32::MAX),
        start: u32::try_from(start).unwrap_or(u32::MAX),
        len: u32::try_from(s.len()).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_survive_new_chunks_and_merges() {
        let mut a = Strings::default();
        let long = "x".repeat(CHUNK + 10);
        let mut want = Vec::new();
        for i in 0..20_000u64 {
            let s = if i == 7 {
                long.clone()
            } else {
                format!("s-{i}")
            };
            a.insert(i + 1, &s);
            want.push((i + 1, s));
        }
        a.insert(1, "not stored: key 1 is taken");
        assert!(a.chunks.len() > 2, "the test must span chunks");
        let mut b = Strings::default();
        b.insert(1_000_000, "from b");
        b.insert(2, "not stored either");
        a.merge(b);
        for (k, s) in &want {
            assert_eq!(a.get(k), Some(s.as_str()));
        }
        assert_eq!(a.get(&1_000_000), Some("from b"));
        assert_eq!(a.get(&999), Some("s-998"));
        assert_eq!(a.get(&0), None);
        assert_eq!(a.len(), 20_001);
        assert_eq!(a.iter().count(), 20_001);
    }
}
