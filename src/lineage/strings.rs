//! The pass's strings (accessors, token HMACs, paths, addresses ...), each once, by key.
//!
//! One boxed string per distinct value cost a heap block each: the allocator's header and
//! rounding were a third of a 76-byte accessor, and a log of distinct tokens holds several such
//! strings per line. Here the bytes live in large chunks that never move, and the index holds
//! 8 bytes per string besides its key.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::Key;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Bytes per chunk (at most: offsets in a chunk are 16-bit); a longer string gets a chunk of
/// its own.
const CHUNK: usize = u16::MAX as usize;

/// Where a string's bytes are, in 8 bytes (a busy log has hundreds of thousands of strings, and
/// the index rounded 12 bytes up to 16): chunk, offset and length. A string of [`LONG`] bytes or
/// more has a chunk of its own: its span says "the whole chunk".
#[derive(Clone, Copy, Debug)]
struct Span {
    chunk: u32,
    start: u16,
    len: u16,
}

/// Length from which a string gets a chunk of its own; also the length field of such a span
/// (no other string is that long).
const LONG: usize = CHUNK;

impl Span {
    /// The bytes of this span in `chunks`.
    fn get(self, chunks: &[String]) -> Option<&str> {
        let c = chunks.get(self.chunk as usize)?;
        if usize::from(self.len) == LONG {
            return Some(c);
        }
        let start = usize::from(self.start);
        c.get(start..start + usize::from(self.len))
    }
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
        self.index.get(k)?.get(&self.chunks)
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

/// Appends `s` to the last chunk, or to a new one when it does not fit; a [`LONG`] string
/// goes into a chunk of its own, which only empty strings can join: it holds CHUNK bytes or more.
fn push(chunks: &mut Vec<String>, s: &str) -> Span {
    let chunk = |chunks: &Vec<String>| u32::try_from(chunks.len() - 1).unwrap_or(u32::MAX);
    if s.len() >= LONG {
        chunks.push(s.to_string());
        return Span {
            chunk: chunk(chunks),
            start: 0,
            len: u16::MAX,
        };
    }
    let fits = chunks.last().is_some_and(|c| c.len() + s.len() <= CHUNK);
    if !fits {
        chunks.push(String::with_capacity(CHUNK));
    }
    let last = chunks.len() - 1;
    let c = &mut chunks[last];
    // Both below 2^16: the chunk holds at most CHUNK bytes, the string fewer than LONG.
    let (start, len) = (c.len() as u16, s.len() as u16);
    c.push_str(s);
    Span {
        chunk: chunk(chunks),
        start,
        len,
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

    /// Lengths around the 16-bit limits: the longest string that shares a chunk, the shortest
    /// with a chunk of its own, a chunk filled to the last byte (1 + CHUNK - 1) with an empty
    /// string at its very end, and strings after each.
    #[test]
    fn strings_at_the_length_limits_come_back_whole() {
        let mut a = Strings::default();
        let mut want = Vec::new();
        let lengths = [
            LONG - 1,
            0,
            LONG,
            0,
            3,
            LONG + 1,
            1,
            CHUNK - 1,
            0,
            3,
            2,
            LONG * 2,
            5,
        ];
        for (i, n) in lengths.into_iter().enumerate() {
            let s: String = (0..n)
                .map(|j| char::from(b'a' + ((i + j) % 26) as u8))
                .collect();
            a.insert(i as Key + 1, &s);
            want.push((i as Key + 1, s));
        }
        for (k, s) in &want {
            assert_eq!(a.get(k).map(str::len), Some(s.len()), "key {k}");
            assert_eq!(a.get(k), Some(s.as_str()), "key {k}");
        }
        assert_eq!(
            std::mem::size_of::<Span>(),
            8,
            "the point of the 16-bit fields"
        );
    }
}
