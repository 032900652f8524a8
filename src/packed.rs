//! A few short strings in one heap block.
//!
//! The records a scan keeps per distinct secret path named it five to eight times (request
//! path, logical name, mount, namespace, tenant, and where a tenant segment was read), each a
//! `Box<str>` of 16 bytes inline and a heap block of its own. [`Packed`] keeps them end to end
//! in one block, with a 4-byte end offset each (its top bit says "absent"): issue 18's figure of
//! bytes per distinct path is mostly these records.

/// `N` optional strings in one boxed `str`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Packed<const N: usize> {
    text: Box<str>,
    /// Where string `i` ends in `text` (it starts where string `i - 1` ends), with [`ABSENT`]
    /// set when it is `None` (not empty). No other flag field: a record's own small fields fit
    /// in the padding a flag byte would have filled.
    ends: [u32; N],
}

/// The bit of an end offset that marks an absent string.
const ABSENT: u32 = 1 << 31;

/// The most text a pack holds.
const ROOM: usize = (ABSENT - 1) as usize;

impl<const N: usize> Packed<N> {
    /// Packs `parts`. A part that would end past 2 GiB of text is cut at a character boundary:
    /// the strings come from one log line, and lines are limited to far less.
    pub fn new(parts: [Option<&str>; N]) -> Packed<N> {
        let mut text = String::with_capacity(parts.iter().flatten().map(|s| s.len()).sum());
        let mut ends = [0u32; N];
        for (end, part) in ends.iter_mut().zip(parts) {
            if let Some(s) = part {
                text.push_str(fit(s, ROOM - text.len()));
            }
            // At most ROOM: fits in 31 bits.
            *end = text.len() as u32 | if part.is_none() { ABSENT } else { 0 };
        }
        Packed {
            text: text.into_boxed_str(),
            ends,
        }
    }

    /// String `i`, if present.
    pub fn get(&self, i: usize) -> Option<&str> {
        if self.ends[i] & ABSENT != 0 {
            return None;
        }
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p] & !ABSENT);
        self.text.get(start as usize..self.ends[i] as usize)
    }

    /// String `i`, or `""` when absent.
    pub fn str(&self, i: usize) -> &str {
        self.get(i).unwrap_or("")
    }
}

impl<const N: usize> std::fmt::Debug for Packed<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries((0..N).map(|i| self.get(i))).finish()
    }
}

/// The longest prefix of `s` of at most `room` bytes that ends on a character boundary.
fn fit(s: &str, room: usize) -> &str {
    if s.len() <= room {
        return s;
    }
    let mut end = room;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_back_as_they_went_in() {
        let p = Packed::new([Some("kv/data/a"), None, Some(""), Some("é/x"), None]);
        assert_eq!(p.get(0), Some("kv/data/a"));
        assert_eq!(p.get(1), None);
        assert_eq!(p.get(2), Some(""));
        assert_eq!(p.get(3), Some("é/x"));
        assert_eq!(p.get(4), None);
        assert_eq!(p.str(4), "");
        assert_eq!(Packed::new([None, Some("a")]).get(1), Some("a"));
    }

    #[test]
    fn equal_parts_make_equal_packs_and_others_do_not() {
        let a = Packed::new([Some("ab"), Some("c")]);
        assert_eq!(a, Packed::new([Some("ab"), Some("c")]));
        assert_ne!(a, Packed::new([Some("a"), Some("bc")]));
        assert_ne!(
            Packed::new([Some("a"), None]),
            Packed::new([Some("a"), Some("")])
        );
    }

    #[test]
    fn a_cut_ends_on_a_character_boundary() {
        assert_eq!(fit("aé", 2), "a");
        assert_eq!(fit("aé", 3), "aé");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn eight_names_take_48_bytes() {
        assert_eq!(std::mem::size_of::<Packed<8>>(), 48);
        assert_eq!(std::mem::size_of::<Option<Packed<3>>>(), 32);
    }
}
