//! Counting an entry once when several inputs hold it.
//!
//! Vault writes every entry to every enabled audit device, and HashiCorp's guidance is to
//! analyse the union of all devices, de-duplicated on `request.id`. An entry (`type`, id) seen
//! in one input is skipped in every other input; repeats within one input are kept, because
//! Vault never writes them and an analyst should see them.
//! See: <https://developer.hashicorp.com/vault/docs/audit/best-practices>

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::EntryType;

const SHARDS: usize = 64;

/// Which input first held each (type, id), sharded to keep lock contention low.
pub(crate) struct Dedup {
    shards: Vec<Mutex<HashMap<u64, u32, foldhash::fast::FixedState>>>,
}

impl Dedup {
    pub fn new() -> Self {
        Dedup {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(HashMap::with_hasher(foldhash::fast::FixedState::with_seed(
                        7,
                    )))
                })
                .collect(),
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
        let shard = &self.shards[(key >> 58) as usize % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(key).or_insert(file) != file
    }
}
