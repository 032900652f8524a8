//! What the lineage pass keeps per distinct token: the largest record after the reads, kept
//! small (optional keys in 8 bytes, one time range, the first address inline).

use std::num::NonZeroU64;

use super::record::{Creation, Key, NO_TOKEN};
use crate::model::{TimeRange, Timestamp};

/// Most client addresses remembered per token.
pub const ADDRESSES_PER_TOKEN: usize = 8;

/// A [`Key`] known not to be [`NO_TOKEN`] (every string's key is at least 1): an `Option` of it
/// takes 8 bytes where `Option<Key>` takes 16, in the records kept per distinct token.
pub type StringKey = NonZeroU64;

/// The optional form of a string's key, for the records kept per distinct token.
pub fn string_key(k: Key) -> Option<StringKey> {
    NonZeroU64::new(k)
}

/// One token. Saved as [`SavedToken`], the layout it had with `Option<Key>`s and two optional
/// times: 112 bytes here against 176, in the second-largest table of a busy log (one record per
/// distinct token).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "SavedToken", into = "SavedToken")]
pub struct TokenAgg {
    /// The token's HMAC (`client_token`).
    pub client_token: Option<StringKey>,
    /// `display_name`.
    pub display_name: Option<StringKey>,
    /// `entity_id`.
    pub entity_id: Option<StringKey>,
    /// `token_type`.
    pub token_type: Option<StringKey>,
    /// Policies, comma-joined.
    pub policies: Option<StringKey>,
    /// Where it came from, if the log shows it. Boxed: most records of a log that starts
    /// mid-life have none, and inline it was half of every record.
    pub created: Option<Box<Creation>>,
    /// First and last request made with it (the timed ones).
    pub uses: TimeRange,
    /// Requests made with it.
    pub requests: u64,
    /// Failed requests made with it.
    pub failed: u64,
    /// Client addresses it was used from.
    pub addresses: Addresses,
    /// Bit `i` set when it was used from pivot address `i`.
    pub from_pivot_ip: u64,
}

impl TokenAgg {
    /// First request made with it.
    pub fn first_use(&self) -> Option<Timestamp> {
        self.uses.first()
    }

    /// Last request made with it.
    pub fn last_use(&self) -> Option<Timestamp> {
        self.uses.last()
    }
}

/// A [`TokenAgg`] as saved between runs.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct SavedToken {
    /// The token's HMAC (`client_token`).
    pub client_token: Option<Key>,
    /// `display_name`.
    pub display_name: Option<Key>,
    /// `entity_id`.
    pub entity_id: Option<Key>,
    /// `token_type`.
    pub token_type: Option<Key>,
    /// Policies, comma-joined.
    pub policies: Option<Key>,
    /// Where it came from.
    pub created: Option<Box<Creation>>,
    /// First request made with it.
    pub first_use: Option<Timestamp>,
    /// Last request made with it.
    pub last_use: Option<Timestamp>,
    /// Requests made with it.
    pub requests: u64,
    /// Failed requests made with it.
    pub failed: u64,
    /// Client addresses it was used from (up to [`ADDRESSES_PER_TOKEN`]).
    pub addresses: Vec<Key>,
    /// True when it was used from more addresses than were kept.
    pub more_addresses: bool,
    /// Bit `i` set when it was used from pivot address `i`.
    pub from_pivot_ip: u64,
}

impl From<SavedToken> for TokenAgg {
    fn from(s: SavedToken) -> TokenAgg {
        let mut addresses = Addresses::default();
        for a in s.addresses {
            addresses.add(a);
        }
        addresses.more |= s.more_addresses;
        TokenAgg {
            client_token: s.client_token.and_then(string_key),
            display_name: s.display_name.and_then(string_key),
            entity_id: s.entity_id.and_then(string_key),
            token_type: s.token_type.and_then(string_key),
            policies: s.policies.and_then(string_key),
            created: s.created,
            uses: TimeRange::of(s.first_use, s.last_use),
            requests: s.requests,
            failed: s.failed,
            addresses,
            from_pivot_ip: s.from_pivot_ip,
        }
    }
}

impl From<TokenAgg> for SavedToken {
    fn from(t: TokenAgg) -> SavedToken {
        SavedToken {
            client_token: t.client_token.map(StringKey::get),
            display_name: t.display_name.map(StringKey::get),
            entity_id: t.entity_id.map(StringKey::get),
            token_type: t.token_type.map(StringKey::get),
            policies: t.policies.map(StringKey::get),
            first_use: t.first_use(),
            last_use: t.last_use(),
            created: t.created,
            requests: t.requests,
            failed: t.failed,
            more_addresses: t.addresses.more,
            addresses: t.addresses.iter().collect(),
            from_pivot_ip: t.from_pivot_ip,
        }
    }
}

/// Up to [`ADDRESSES_PER_TOKEN`] client addresses, in the order first seen: the first inline,
/// the others in one block allocated at the second (most tokens are used from one address, and
/// a `Vec` cost a heap block for every token).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Addresses {
    first: Option<StringKey>,
    others: Option<Box<[Option<StringKey>; ADDRESSES_PER_TOKEN - 1]>>,
    /// True when the token was used from more addresses than are kept.
    more: bool,
}

impl Addresses {
    /// The addresses, in the order first seen.
    pub fn iter(&self) -> impl Iterator<Item = Key> + '_ {
        let others = self.others.iter().flat_map(|o| o.iter().map_while(|a| *a));
        self.first.into_iter().chain(others).map(StringKey::get)
    }

    /// The first address seen.
    pub fn first(&self) -> Option<Key> {
        self.first.map(StringKey::get)
    }

    /// How many are kept.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when none is kept.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// True when `a` is kept.
    pub fn contains(&self, a: Key) -> bool {
        self.iter().any(|k| k == a)
    }

    /// True when the token was used from more addresses than are kept.
    pub fn more(&self) -> bool {
        self.more
    }

    /// Keeps `a` unless it is kept already; past [`ADDRESSES_PER_TOKEN`], only notes that there
    /// were more.
    pub fn add(&mut self, a: Key) {
        let Some(a) = string_key(a) else { return };
        if self.first.is_none() {
            self.first = Some(a);
            return;
        }
        if self.first == Some(a) {
            return;
        }
        let others = self.others.get_or_insert_with(Default::default);
        for slot in others.iter_mut() {
            match slot {
                Some(k) if *k == a => return,
                Some(_) => {}
                None => {
                    *slot = Some(a);
                    return;
                }
            }
        }
        self.more = true;
    }

    /// Puts the kept addresses in `order` (stable), in place.
    pub fn sort_by(&mut self, mut order: impl FnMut(Key, Key) -> std::cmp::Ordering) {
        let mut all = [NO_TOKEN; ADDRESSES_PER_TOKEN];
        let mut n = 0;
        for (slot, a) in all.iter_mut().zip(self.iter()) {
            *slot = a;
            n += 1;
        }
        let (Some(others), true) = (self.others.as_mut(), n >= 2) else {
            return;
        };
        all[..n].sort_by(|a, b| order(*a, *b));
        self.first = string_key(all[0]);
        for (slot, a) in others.iter_mut().zip(&all[1..n]) {
            *slot = string_key(*a);
        }
    }

    /// Adds another record's addresses after these.
    pub fn merge(&mut self, other: &Addresses) {
        for a in other.iter() {
            self.add(a);
        }
        self.more |= other.more;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One record per distinct token: 112 bytes, saved with the field names and types it had
    /// (`Option<Key>`s, `first_use`/`last_use`, `addresses` and `more_addresses`).
    #[test]
    fn a_token_record_is_112_bytes_and_saves_as_before() {
        assert_eq!(std::mem::size_of::<TokenAgg>(), 112);
        let mut t = TokenAgg {
            display_name: string_key(5),
            policies: string_key(9),
            requests: 3,
            ..TokenAgg::default()
        };
        t.uses.add(Some(Timestamp(20)));
        t.uses.add(Some(Timestamp(10)));
        for a in [7, 8, 7] {
            t.addresses.add(a);
        }
        let json = serde_json::to_value(&t).unwrap();
        let at = |n: i64| serde_json::to_value(Timestamp(n)).unwrap();
        assert_eq!(json["display_name"], 5, "{json}");
        assert_eq!(json["client_token"], serde_json::Value::Null, "{json}");
        assert_eq!((&json["first_use"], &json["last_use"]), (&at(10), &at(20)));
        assert_eq!(json["addresses"], serde_json::json!([7, 8]), "{json}");
        assert_eq!(json["more_addresses"], false, "{json}");
        let back: TokenAgg = serde_json::from_value(json).unwrap();
        assert_eq!(back.display_name, t.display_name);
        assert_eq!(back.policies, t.policies);
        assert_eq!(back.uses, t.uses);
        assert_eq!(back.addresses, t.addresses);
        assert_eq!(back.requests, 3);
    }

    /// Addresses keep the first [`ADDRESSES_PER_TOKEN`] distinct ones in the order seen, note
    /// that there were more, and sort and merge in place.
    #[test]
    fn addresses_keep_the_first_distinct_ones_in_order() {
        let mut a = Addresses::default();
        assert!(a.is_empty());
        assert_eq!(a.first(), None);
        a.add(NO_TOKEN);
        assert!(a.is_empty(), "no address has key 0");
        for k in [30, 30, 20, 30, 10] {
            a.add(k);
        }
        assert_eq!(a.iter().collect::<Vec<_>>(), [30, 20, 10]);
        assert!(!a.more());
        let mut b = Addresses::default();
        for k in 100..110 {
            b.add(k);
        }
        assert_eq!(b.len(), ADDRESSES_PER_TOKEN);
        assert!(b.more(), "two of ten were not kept");
        assert!(b.contains(107) && !b.contains(108));
        a.merge(&b);
        assert_eq!(a.len(), ADDRESSES_PER_TOKEN);
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            [30, 20, 10, 100, 101, 102, 103, 104]
        );
        assert!(a.more());
        a.sort_by(|x, y| x.cmp(&y));
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            [10, 20, 30, 100, 101, 102, 103, 104]
        );
        assert!(a.more(), "sorting keeps the note");
        let mut one = Addresses::default();
        one.add(4);
        one.sort_by(|x, y| y.cmp(&x));
        assert_eq!(one.iter().collect::<Vec<_>>(), [4]);
    }
}
