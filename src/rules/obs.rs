//! The events a correlation group keeps, delta-encoded.
//!
//! A long scan keeps one group per (correlation, token or address), each with every matched
//! event until the end (see [`super::correlation`]): at 10 GB of a busy cluster that was
//! 2.6 million events of 40 bytes, the largest part of a scan's memory. Stored as varints
//! relative to the group's first event, an event takes about 18 bytes: times and offsets of
//! one group lie close together, and files, chunks and line numbers are small.
//!
//! A `value_count` event's value is kept as a dense id ([`ValueIds`]) rather than its 64-bit
//! hash: a hash is a ten-byte varint, more than a third of the record, where an id below 16,384
//! takes two bytes.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use crate::model::Loc;

/// One matched base event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Obs {
    pub ts: i64,
    pub loc: Loc,
    pub value: u64,
}

/// A group's events in the order they were added.
///
/// Layout: the first event as `zigzag(ts), offset, file, chunk, line, value`; every later one
/// as `zigzag(ts - first.ts), zigzag(offset - first.offset), file, chunk, line, value`, each
/// an unsigned LEB128 varint.
#[derive(Clone, Debug, Default)]
pub(super) struct ObsList {
    bytes: Vec<u8>,
    len: u32,
}

impl ObsList {
    /// Events kept.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Bytes used and bytes of room (for tests of the growth policy).
    #[cfg(test)]
    pub fn bytes_and_capacity(&self) -> (usize, usize) {
        (self.bytes.len(), self.bytes.capacity())
    }

    /// Appends `o`.
    pub fn push(&mut self, o: Obs) {
        let mut rec = [0u8; MAX_RECORD];
        let n = self.encode(o, &mut rec);
        if self.bytes.capacity() - self.bytes.len() < n {
            // Most groups hold a handful of events: grow by half, not by doubling.
            self.bytes.reserve_exact((self.bytes.len() / 2).max(n));
        }
        self.bytes.extend_from_slice(&rec[..n]);
        self.len += 1;
    }

    /// The events, in the order they were added.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            bytes: &self.bytes,
            first: None,
        }
    }

    /// The events as plain records.
    pub fn to_vec(&self) -> Vec<Obs> {
        let mut v = Vec::with_capacity(self.len());
        v.extend(self.iter());
        v
    }

    /// Appends every event of `other`.
    pub fn extend(&mut self, other: &ObsList) {
        self.bytes
            .reserve_exact(other.bytes.len() + other.bytes.len() / 4);
        for o in other.iter() {
            self.push(o);
        }
    }

    /// Keeps the events for which `keep` holds.
    pub fn retain(&mut self, keep: impl Fn(&Obs) -> bool) {
        let kept: ObsList = self.iter().filter(|o| keep(o)).collect();
        *self = kept;
    }

    fn encode(&self, o: Obs, out: &mut [u8; MAX_RECORD]) -> usize {
        let mut n = 0;
        match self.iter().next() {
            None => {
                n += put(zigzag(o.ts), &mut out[n..]);
                n += put(o.loc.offset, &mut out[n..]);
            }
            Some(first) => {
                n += put(zigzag(o.ts.wrapping_sub(first.ts)), &mut out[n..]);
                let d = o.loc.offset.wrapping_sub(first.loc.offset) as i64;
                n += put(zigzag(d), &mut out[n..]);
            }
        }
        n += put(u64::from(o.loc.file), &mut out[n..]);
        n += put(u64::from(o.loc.chunk), &mut out[n..]);
        n += put(o.loc.line_in_chunk, &mut out[n..]);
        n += put(o.value, &mut out[n..]);
        n
    }
}

impl FromIterator<Obs> for ObsList {
    fn from_iter<I: IntoIterator<Item = Obs>>(iter: I) -> ObsList {
        let mut l = ObsList::default();
        for o in iter {
            l.push(o);
        }
        l.bytes.shrink_to_fit();
        l
    }
}

/// Dense ids for the counted values (hashes) of `value_count` correlations, one table for all
/// groups of a state. Value 0 (the value of every `event_count` event) is id 0, so it still takes
/// one byte. Windows compare values only for equality, so ids count distinct values exactly as
/// the hashes did; ids differ between tables, so a state translates another's when it merges
/// it, and the saved state keeps hashes.
#[derive(Clone, Debug, Default)]
pub(super) struct ValueIds {
    ids: HashMap<u64, u64, FixedState>,
    /// The hash of id `i + 1`.
    hashes: Vec<u64>,
}

impl ValueIds {
    /// The id of `hash`, given on first sight.
    pub fn id(&mut self, hash: u64) -> u64 {
        if hash == 0 {
            return 0;
        }
        let next = self.hashes.len() as u64 + 1;
        let id = *self.ids.entry(hash).or_insert(next);
        if id == next {
            self.hashes.push(hash);
        }
        id
    }

    /// The hash of `id` (0 for an id this table did not give).
    pub fn hash(&self, id: u64) -> u64 {
        id.checked_sub(1)
            .and_then(|i| self.hashes.get(usize::try_from(i).ok()?))
            .copied()
            .unwrap_or(0)
    }

    /// True when no value has an id yet (no `value_count` event was recorded).
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

/// Decodes an [`ObsList`].
pub(super) struct Iter<'a> {
    bytes: &'a [u8],
    first: Option<Obs>,
}

impl Iterator for Iter<'_> {
    type Item = Obs;

    fn next(&mut self) -> Option<Obs> {
        if self.bytes.is_empty() {
            return None;
        }
        let b = &mut self.bytes;
        let (ts, offset) = match self.first {
            None => (unzigzag(take(b)), take(b)),
            Some(f) => (
                f.ts.wrapping_add(unzigzag(take(b))),
                f.loc.offset.wrapping_add(unzigzag(take(b)) as u64),
            ),
        };
        // Written from u32s by `encode`.
        let file = take(b) as u32;
        let chunk = take(b) as u32;
        let line_in_chunk = take(b);
        let value = take(b);
        let o = Obs {
            ts,
            loc: Loc {
                file,
                offset,
                chunk,
                line_in_chunk,
            },
            value,
        };
        self.first.get_or_insert(o);
        Some(o)
    }
}

/// Six varints of at most ten bytes.
const MAX_RECORD: usize = 60;

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Writes `v` as a LEB128 varint; returns its length.
fn put(mut v: u64, out: &mut [u8]) -> usize {
    let mut n = 0;
    while v >= 0x80 {
        out[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    out[n] = v as u8;
    n + 1
}

/// Reads a LEB128 varint written by [`put`] and advances past it.
fn take(bytes: &mut &[u8]) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    for (i, &b) in bytes.iter().enumerate() {
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            *bytes = &bytes[i + 1..];
            return v;
        }
        shift += 7;
    }
    unreachable!("an ObsList holds whole varints")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(file: u32, offset: u64, chunk: u32, line: u64) -> Loc {
        Loc {
            file,
            offset,
            chunk,
            line_in_chunk: line,
        }
    }

    #[test]
    fn events_come_back_as_they_went_in() {
        let extremes = [i64::MIN, -1, 0, 1, i64::MAX];
        let mut all = Vec::new();
        for &ts in &extremes {
            for &offset in &[0, 1, u64::MAX / 2, u64::MAX] {
                all.push(Obs {
                    ts,
                    loc: loc(u32::MAX, offset, Loc::ABSOLUTE, u64::MAX),
                    value: u64::MAX,
                });
                all.push(Obs {
                    ts: ts.wrapping_add(1),
                    loc: loc(0, offset, 0, 0),
                    value: 0,
                });
            }
        }
        let list: ObsList = all.iter().copied().collect();
        assert_eq!(list.len(), all.len());
        assert_eq!(list.to_vec(), all);
        let mut doubled = list.clone();
        doubled.extend(&list);
        assert_eq!(doubled.to_vec(), [all.clone(), all.clone()].concat());
        doubled.retain(|o| o.value == 0);
        let zeros: Vec<Obs> = [all.clone(), all]
            .concat()
            .into_iter()
            .filter(|o| o.value == 0)
            .collect();
        assert_eq!(doubled.to_vec(), zeros);
    }

    #[test]
    fn value_ids_are_dense_stable_and_give_back_their_hashes() {
        let mut ids = ValueIds::default();
        assert!(ids.is_empty());
        assert_eq!(ids.id(0), 0);
        assert!(ids.is_empty(), "value 0 needs no id");
        let hashes = [u64::MAX, 7, 0x9e37_79b9_7f4a_7c15, 1];
        let given: Vec<u64> = hashes.iter().map(|&h| ids.id(h)).collect();
        assert_eq!(given, [1, 2, 3, 4]);
        assert_eq!(ids.id(7), 2, "a value seen again keeps its id");
        for (&h, &id) in hashes.iter().zip(&given) {
            assert_eq!(ids.hash(id), h);
        }
        assert_eq!(ids.hash(0), 0);
        assert_eq!(ids.hash(99), 0);
        // What the ids are for: a value_count record takes far less than with its hash.
        let record = |value| {
            let mut l = ObsList::default();
            l.push(Obs {
                ts: 1,
                loc: loc(0, 1, 0, 1),
                value,
            });
            l.bytes.len()
        };
        assert!(record(ids.id(0xdead_beef_dead_beef)) + 8 <= record(0xdead_beef_dead_beef));
    }

    /// The point of the encoding: a token's events a few seconds apart in one chunk.
    #[test]
    fn nearby_events_take_well_under_half_a_plain_record() {
        let mut list = ObsList::default();
        let n = 1000;
        for i in 0..n {
            list.push(Obs {
                ts: 1_764_000_000_000_000_000 + i * 3_000_000_000,
                loc: loc(0, 7_000_000_000 + i as u64 * 1_500, 1_700, 2_000 + i as u64),
                value: 0,
            });
        }
        let plain = n as usize * std::mem::size_of::<Obs>();
        assert!(
            list.bytes.len() * 2 < plain,
            "{} bytes against {plain}",
            list.bytes.len()
        );
    }
}
