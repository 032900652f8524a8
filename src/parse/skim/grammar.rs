//! The grammar of compact JSON checked over the token starts of [`super::Structurals`], without
//! a tape and without reading the bytes between tokens (except inside the strings and scalars
//! it is asked to read, and the escapes of entries that hold a backslash).
//!
//! Only entries the pass found clean (no fault) and compact (no whitespace outside strings) are
//! walked; any other makes [`Tokens::new`] answer `None` ("not sure": the caller parses in
//! full). In such an entry the tokens are adjacent by construction: every byte outside a string
//! is an operator, an opening quote or part of a run of other bytes, and each of those starts a
//! token or continues one. So an operator token is its one byte, a string token runs from its
//! opening quote to its closing quote (the byte before the next token), and a scalar token runs
//! to the next token; the walk checks none of that again, only what the tokens spell: the
//! grammar, and that a scalar is `true`, `false`, `null` or a JSON number.

use super::Structurals;

/// A cursor over the tokens of one indexed entry.
pub(crate) struct Tokens<'a, 'p> {
    json: &'a [u8],
    at: &'p [u32],
    next: usize,
    /// The entry holds a backslash: strings must have their escapes checked.
    escapes: bool,
}

/// Containers nested deeper than this inside a skipped value are left to the full parser
/// (which accepts up to [`crate::parse::MAX_DEPTH`]); Vault's own nesting is about 6.
pub(crate) const SKIP_DEPTH: u32 = 64;

/// Digits of the longest number the walk accepts: every such integer fits `i64`. Longer numbers
/// and exponents are left to the full parser, whose range and precision rules decide them.
const NUMBER_DIGITS: usize = 18;

impl<'a, 'p> Tokens<'a, 'p> {
    /// The tokens of `json` as `index` found them. `None` when the pass found a fault or
    /// whitespace outside strings, or when the first token does not start the entry.
    pub(crate) fn new(json: &'a [u8], index: &'p Structurals) -> Option<Tokens<'a, 'p>> {
        let at = index.positions();
        let walkable = index.faults().is_clean() && index.is_compact() && at.first() == Some(&0);
        walkable.then_some(Tokens {
            json,
            at,
            next: 0,
            escapes: index.has_backslash(),
        })
    }

    /// True when every token was read.
    pub(crate) fn done(&self) -> bool {
        self.next == self.at.len()
    }

    /// The first byte of the next token.
    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<u8> {
        let p = *self.at.get(self.next)?;
        Some(self.json[p as usize])
    }

    /// Where the token after the next one starts (the end of the entry after the last).
    #[inline(always)]
    fn following(&self) -> usize {
        self.at
            .get(self.next + 1)
            .map_or(self.json.len(), |&p| p as usize)
    }

    /// Reads the operator `op`, which must be the next token.
    #[inline(always)]
    pub(crate) fn op(&mut self, op: u8) -> Option<()> {
        if self.peek()? != op {
            return None;
        }
        self.next += 1;
        Some(())
    }

    /// Reads the next token as a string; its content (between the quotes, escapes undecoded).
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Option<&'a [u8]> {
        let p = *self.at.get(self.next)? as usize;
        if self.json[p] != b'"' {
            return None;
        }
        // The token ends with its closing quote: the entry is clean and compact.
        let content = &self.json[p + 1..self.following() - 1];
        if self.escapes && !escapes_valid(content) {
            return None;
        }
        self.next += 1;
        Some(content)
    }

    /// Reads the next token as a string without escapes (a key or a value the caller reads).
    #[inline(always)]
    pub(crate) fn plain_string(&mut self) -> Option<&'a [u8]> {
        let s = self.string()?;
        if self.escapes && memchr::memchr(b'\\', s).is_some() {
            return None;
        }
        Some(s)
    }

    /// Reads one value of any kind, as [`Tokens::skip_value`] does; a string, the most common
    /// value by far, without a call.
    #[inline(always)]
    pub(crate) fn skip(&mut self) -> Option<()> {
        if self.peek()? == b'"' {
            return self.string().map(drop);
        }
        self.skip_value()
    }

    /// Reads one value of any kind, checking its grammar; `None` when it is not valid compact
    /// JSON or nests deeper than [`SKIP_DEPTH`]. One tight loop over the positions: this is
    /// where most tokens of a request entry are read.
    #[inline(never)]
    pub(crate) fn skip_value(&mut self) -> Option<()> {
        let (json, at) = (self.json, self.at);
        // Where token `i` ends if it is adjacent to the next: the next one's start.
        let end_of = |i: usize| at.get(i + 1).map_or(json.len(), |&q| q as usize);
        let mut i = self.next;
        // One bit per open container, 1 for an object; at most SKIP_DEPTH (64) of them.
        let mut stack = 0u64;
        let mut depth = 0u32;
        'value: loop {
            let p = *at.get(i)? as usize;
            match json[p] {
                open @ (b'{' | b'[') => {
                    if depth >= SKIP_DEPTH {
                        return None;
                    }
                    i += 1;
                    let q = *at.get(i)? as usize;
                    // `{` + 2 is `}`, `[` + 2 is `]`.
                    if json[q] != open + 2 {
                        stack = stack << 1 | u64::from(open == b'{');
                        depth += 1;
                        if open == b'{' {
                            i = self.key_at(i)?;
                        }
                        continue 'value;
                    }
                }
                b'"' => {
                    if self.escapes && !escapes_valid(&json[p + 1..end_of(i) - 1]) {
                        return None;
                    }
                }
                _ => {
                    let token = &json[p..end_of(i)];
                    if !matches!(token, b"true" | b"false" | b"null")
                        && number_len(token) != Some(token.len())
                    {
                        return None;
                    }
                }
            }
            i += 1;
            // A value was read: close containers until one goes on.
            loop {
                if depth == 0 {
                    self.next = i;
                    return Some(());
                }
                let p = *at.get(i)? as usize;
                let object = stack & 1 == 1;
                match (json[p], object) {
                    (b',', true) => {
                        i = self.key_at(i + 1)?;
                        continue 'value;
                    }
                    (b',', false) => {
                        i += 1;
                        continue 'value;
                    }
                    (b'}', true) | (b']', false) => {
                        stack >>= 1;
                        depth -= 1;
                        i += 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// Checks that token `i` is a string key followed by `:`; the index of the value after.
    #[inline(always)]
    fn key_at(&self, i: usize) -> Option<usize> {
        let (json, at) = (self.json, self.at);
        let p = *at.get(i)? as usize;
        let colon = *at.get(i + 1)? as usize;
        if json[p] != b'"' || json[colon] != b':' {
            return None;
        }
        if self.escapes && !escapes_valid(&json[p + 1..colon - 1]) {
            return None;
        }
        Some(i + 2)
    }
}

/// True when every backslash in a string's content starts one of JSON's escapes (`\"` `\\`
/// `\/` `\b` `\f` `\n` `\r` `\t` `\uXXXX` with hex digits). A `\u` escape in `D800`-`DFFF` (a
/// surrogate, valid only in pairs) is answered `false`: the full parser decides it.
fn escapes_valid(mut s: &[u8]) -> bool {
    while let Some(k) = memchr::memchr(b'\\', s) {
        let skip = match s.get(k + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
            Some(b'u') => match s.get(k + 2..k + 6) {
                Some(hex)
                    if hex.iter().all(u8::is_ascii_hexdigit) && !matches!(hex[0], b'd' | b'D') =>
                {
                    6
                }
                _ => return false,
            },
            _ => return false,
        };
        s = &s[k + skip..];
    }
    true
}

/// Length of the JSON number at the start of `b`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, at most
/// [`NUMBER_DIGITS`] digits; `None` for anything else (exponents included).
fn number_len(b: &[u8]) -> Option<usize> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let int = digits(i);
    if int == 0 || (int > 1 && b[i] == b'0') {
        return None;
    }
    i += int;
    let mut total = int;
    if b.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
        total += frac;
    }
    if total > NUMBER_DIGITS || matches!(b.get(i), Some(b'e' | b'E')) {
        return None;
    }
    Some(i)
}
