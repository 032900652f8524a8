//! Counting an entry once when several inputs hold it.
//!
//! Vault writes every entry to every enabled audit device, and HashiCorp's guidance is to
//! analyse the union of all devices, de-duplicated on `request.id`. An entry (`type`, id) seen
//! in one input is skipped in every other input; repeats within one input are kept, because
//! Vault never writes them and an analyst should see them. The input that claims an entry first
//! counts it; `scan::run` reads inputs in an order (devices by name, then input numbers) that
//! makes that claim independent of the thread schedule.
//! See: <https://developer.hashicorp.com/vault/docs/audit/best-practices>
//!
//! The table holds one slot per distinct entry of a multi-input scan (rotated files are the
//! common case), so its size is what a long scan's memory grows with. A slot is a single `u64`:
//! the shard is chosen by the key's top bits, so within a shard those bits are known and carry
//! the claiming input instead. That is half the size of a `(key, input)` map entry.

use std::collections::HashMap;
use std::sync::Mutex;

use hashbrown::HashTable;

use crate::model::EntryType;

/// log2 of the number of shards; also the number of key bits a slot reuses for the input.
const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;
const LOW_MASK: u64 = u64::MAX >> SHARD_BITS;
/// The input tag that means "input number 63 or later: see [`Shard::many`]".
const OVERFLOW_TAG: u64 = (SHARDS - 1) as u64;

#[derive(Default)]
struct Shard {
    /// Key bits below the shard bits, with the claiming input's tag in the shard bits.
    slots: HashTable<u64>,
    /// The claiming input of keys whose tag is [`OVERFLOW_TAG`] (scans of 64 inputs or more).
    many: HashMap<u64, u32, foldhash::fast::FixedState>,
}

/// Which input first held each (type, id), sharded to keep lock contention low.
pub(crate) struct Dedup {
    shards: Vec<Mutex<Shard>>,
}

/// The in-shard hash of a slot. Keys are already uniform hashes; the multiply spreads the low
/// bits into the top bits, which hashbrown uses for its control bytes.
fn slot_hash(slot: u64) -> u64 {
    (slot & LOW_MASK).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Dedup {
    pub fn new() -> Self {
        Dedup {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// True when the entry was already seen in another input.
    pub fn seen_elsewhere(&self, file: u32, kind: EntryType, id_hash: u64) -> bool {
        let key = id_hash
            ^ match kind {
                EntryType::Request => 0x9e37_79b9_7f4a_7c15,
                EntryType::Response => 0xc2b2_ae3d_27d4_eb4f,
                EntryType::Other => 0x1656_67b1_9e37_79f9,
            };
        let low = key & LOW_MASK;
        let tag = u64::from(file).min(OVERFLOW_TAG);
        let shard = &self.shards[(key >> (64 - SHARD_BITS)) as usize];
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let Shard { slots, many } = &mut *shard;
        let entry = slots.entry(slot_hash(low), |s| s & LOW_MASK == low, |s| slot_hash(*s));
        let claimed = *entry
            .or_insert_with(|| {
                if tag == OVERFLOW_TAG {
                    many.insert(low, file);
                }
                low | tag << (64 - SHARD_BITS)
            })
            .get();
        match claimed >> (64 - SHARD_BITS) {
            OVERFLOW_TAG => many.get(&low) != Some(&file),
            owner => owner != u64::from(file),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Against the plain `(key, input)` map it replaces, over any inputs (including more
        /// than the 63 a slot can name) and keys that share shards and low bits.
        #[test]
        fn agrees_with_a_map_of_first_inputs(
            offers in proptest::collection::vec((0u32..80, 0u64..40, 0u8..3), 1..400)
        ) {
            let dedup = Dedup::new();
            let mut first: HashMap<(u64, u8), u32> = HashMap::new();
            for (file, k, kind) in offers {
                // Few distinct low parts, spread over shards: slots collide inside shards.
                let id = (k % 8) | (k / 8) << 58;
                let entry_type = [EntryType::Request, EntryType::Response, EntryType::Other]
                    [kind as usize];
                let expected = *first.entry((id, kind)).or_insert(file) != file;
                prop_assert_eq!(dedup.seen_elsewhere(file, entry_type, id), expected);
            }
        }
    }
}
