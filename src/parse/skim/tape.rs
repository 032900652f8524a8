//! simd-json's tape of an entry, built from the structural pass's token starts instead of by
//! simd-json: the response path of the skimming reader.
//!
//! Response entries are read by every analysis, through the tape (`model::tape`, and
//! `Entry::lookup` for the rules' fields), so they need a whole tape. simd-json builds one by
//! running its own structural pass, then copying every string out of a padded copy of the entry.
//! Here the pass that the request fast path already runs gives the token starts, and the tape's
//! strings borrow the entry itself: no copy of the entry and none of its strings.
//!
//! [`build`] takes only entries in the shape Vault and OpenBao write, and answers `false` for any
//! other, so that the caller parses it with simd-json, which decides (and names) what is wrong:
//!
//! - compact JSON: tokens adjacent, no whitespace anywhere outside strings;
//! - no backslash anywhere in the entry (a string with an escape needs decoding, which is
//!   simd-json's job);
//! - valid UTF-8, no control byte inside a string, every string closed (the pass and simdutf8);
//! - an object at the root, containers nested at most 64 deep (`grammar::SKIP_DEPTH`);
//! - literals `true`, `false`, `null`, and integers `-?(0|[1-9][0-9]*)` of at most 17 digits
//!   (simd-json reads those as `U64`, or `I64` when negative; fractions, exponents and longer
//!   integers follow its own rules for range and precision).
//!
//! Within that shape the tape is node for node the one simd-json builds (strings, keys,
//! `Object { len, count }` and `Array { len, count }` as it counts them, static values): the
//! differential tests in `tests/integration/skim_tape.rs` compare the two on real and mutated
//! lines. Duplicate keys stay on the tape as simd-json leaves them; `parse::extract` rejects
//! them where the analyses read.

use simd_json::{Node, StaticNode};

use super::Structurals;
use super::grammar::SKIP_DEPTH;

/// Digits of the longest integer taken: simd-json reads up to 17 digits on its plain path.
const INTEGER_DIGITS: usize = 17;

/// Indexes `entry` with `index` and fills `nodes` with its tape, when the entry has the shape
/// above; `false` (with `nodes` in any state) otherwise.
pub fn build<'a>(index: &mut Structurals, entry: &'a [u8], nodes: &mut Vec<Node<'a>>) -> bool {
    nodes.clear();
    if entry.first() != Some(&b'{') {
        return false;
    }
    let Ok(text) = simdutf8::basic::from_utf8(entry) else {
        return false;
    };
    // The pass notes backslashes as it goes: no separate search of the entry for them.
    if !index.index(entry).is_clean() || !index.is_compact() || index.has_backslash() {
        return false;
    }
    walk(text, index.positions(), nodes).is_some()
}

/// The containers open around the current token, except what the walk keeps of the innermost
/// in locals (whether it is an object, and its values so far).
struct Open {
    /// Where each container's node is on the tape.
    start: [u32; SKIP_DEPTH as usize],
    /// Values read so far in the container around each, when it was opened.
    outer_len: [u32; SKIP_DEPTH as usize],
    /// Bit `d` set when the container at depth `d` is an object.
    objects: u64,
    depth: usize,
}

impl Open {
    /// Nothing open.
    fn new() -> Open {
        Open {
            start: [0; SKIP_DEPTH as usize],
            outer_len: [0; SKIP_DEPTH as usize],
            objects: 0,
            depth: 0,
        }
    }

    /// Opens the container whose node is at `start`, inside one that has read `outer_len`
    /// values; `None` past [`SKIP_DEPTH`].
    #[inline(always)]
    fn open(&mut self, start: usize, object: bool, outer_len: u32) -> Option<()> {
        let d = self.depth;
        if d >= SKIP_DEPTH as usize {
            return None;
        }
        // Tape positions fit: an entry is indexed only below 4 GiB, one node per token.
        self.start[d] = start as u32;
        self.outer_len[d] = outer_len;
        self.objects = self.objects & !(1 << d) | u64::from(object) << d;
        self.depth += 1;
        Some(())
    }

    /// True when the innermost open container is an object (`false` with none open).
    #[inline(always)]
    fn in_object(&self) -> bool {
        self.depth > 0 && self.objects >> (self.depth - 1) & 1 == 1
    }

    /// Closes the innermost container, which read `len` values, given the tape's length.
    #[inline(always)]
    fn close(&mut self, len: u32, tape_len: usize) -> Closed {
        let d = self.depth - 1;
        let start = self.start[d] as usize;
        let (len, count) = (len as usize, tape_len - start - 1);
        let node = if self.objects >> d & 1 == 1 {
            Node::Object { len, count }
        } else {
            Node::Array { len, count }
        };
        self.depth -= 1;
        Closed {
            start,
            node,
            outer_len: self.outer_len[d],
        }
    }
}

/// A container just closed. The caller writes the node: writing it inside
/// [`Open::close`], through the tape's slice, cost 2% more instructions on the busy gate log.
struct Closed {
    /// Where its node is on the tape.
    start: usize,
    /// Its node as simd-json counts it: its values (keys for an object) and every node after
    /// its own.
    node: Node<'static>,
    /// The values read so far in the container around it.
    outer_len: u32,
}

/// Reads every token of `text` (token starts `at`, adjacent: the entry is compact) onto the
/// tape: one loop, each value and then the separators after it, with the walk's state in locals.
fn walk<'a>(text: &'a str, at: &[u32], nodes: &mut Vec<Node<'a>>) -> Option<()> {
    let json = text.as_bytes();
    if at.first() != Some(&0) {
        return None;
    }
    // Every node starts at a token of its own, so the tape never outgrows this.
    nodes.reserve(at.len());
    let mut open = Open::new();
    // Of the innermost open container, kept in locals because they change or are asked after
    // every value: whether it is an object, and the values it has read.
    let mut object = false;
    let mut len = 0u32;
    let mut i = 0;
    'value: loop {
        let p = *at.get(i)? as usize;
        match json[p] {
            c @ (b'{' | b'[') => {
                let is_object = c == b'{';
                nodes.push(if is_object {
                    Node::Object { len: 0, count: 0 }
                } else {
                    Node::Array { len: 0, count: 0 }
                });
                i += 1;
                let q = *at.get(i)? as usize;
                // `{` + 2 is `}`, `[` + 2 is `]`: an empty container is a whole value.
                if json[q] != c + 2 {
                    open.open(nodes.len() - 1, is_object, len)?;
                    object = is_object;
                    len = 0;
                    if object {
                        i = key(text, at, i, nodes)?;
                    }
                    continue 'value;
                }
            }
            b'"' => nodes.push(Node::String(string(text, at, i, p))),
            _ => nodes.push(Node::Static(scalar(&json[p..end_of(json, at, i)])?)),
        }
        i += 1;
        // A value was read: count it, then go on in its container or close it.
        loop {
            if open.depth == 0 {
                // The root was an object (the first byte), and nothing may follow it.
                return (i == at.len()).then_some(());
            }
            len += 1;
            let p = *at.get(i)? as usize;
            match (json[p], object) {
                (b',', true) => {
                    i = key(text, at, i + 1, nodes)?;
                    continue 'value;
                }
                (b',', false) => {
                    i += 1;
                    continue 'value;
                }
                (b'}', true) | (b']', false) => {
                    let closed = open.close(len, nodes.len());
                    nodes[closed.start] = closed.node;
                    object = open.in_object();
                    len = closed.outer_len;
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

/// Where token `i` ends: where the next one starts, or the end of the entry.
#[inline(always)]
fn end_of(json: &[u8], at: &[u32], i: usize) -> usize {
    at.get(i + 1).map_or(json.len(), |&q| q as usize)
}

/// The content of the string token `i`, at `p`.
#[inline(always)]
fn string<'a>(text: &'a str, at: &[u32], i: usize, p: usize) -> &'a str {
    // The entry is clean and compact (see `build`): the token is the whole string and ends
    // with its closing quote, at least one byte after the opening one.
    let content = &text.as_bytes()[p + 1..end_of(text.as_bytes(), at, i) - 1];
    // SAFETY: `text` is valid UTF-8 and the content lies between two ASCII quotes of it: it
    // starts and ends on character boundaries, so it is valid UTF-8 too. (`str::get` would
    // check both boundaries again, on every string of every entry.)
    unsafe { std::str::from_utf8_unchecked(content) }
}

/// Token `i` must be a key and token `i + 1` its `:`; puts the key on the tape and answers the
/// index of the value.
#[inline(always)]
fn key<'a>(text: &'a str, at: &[u32], i: usize, nodes: &mut Vec<Node<'a>>) -> Option<usize> {
    let json = text.as_bytes();
    let p = *at.get(i)? as usize;
    let colon = *at.get(i + 1)? as usize;
    if json[p] != b'"' || json[colon] != b':' {
        return None;
    }
    nodes.push(Node::String(string(text, at, i, p)));
    Some(i + 2)
}

/// A literal or an integer in simd-json's plain form, or `None`.
fn scalar(token: &[u8]) -> Option<StaticNode> {
    match token {
        b"true" => return Some(StaticNode::Bool(true)),
        b"false" => return Some(StaticNode::Bool(false)),
        b"null" => return Some(StaticNode::Null),
        _ => {}
    }
    let (negative, digits) = match token.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, token),
    };
    let valid = !digits.is_empty()
        && digits.len() <= INTEGER_DIGITS
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1);
    if !valid {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some(if negative {
        // At most 17 digits: the value fits in i64.
        StaticNode::I64(-(n as i64))
    } else {
        StaticNode::U64(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simd(line: &str) -> Vec<Node<'static>> {
        let mut bytes = line.as_bytes().to_vec();
        let tape = simd_json::to_tape(&mut bytes).expect("valid JSON");
        // Owned copies of the strings, to compare past the buffer's life.
        tape.0
            .into_iter()
            .map(|n| match n {
                Node::String(s) => Node::String(Box::leak(s.to_string().into_boxed_str())),
                Node::Object { len, count } => Node::Object { len, count },
                Node::Array { len, count } => Node::Array { len, count },
                Node::Static(s) => Node::Static(s),
            })
            .collect()
    }

    fn ours(line: &str) -> Option<Vec<Node<'_>>> {
        let mut nodes = Vec::new();
        build(&mut Structurals::default(), line.as_bytes(), &mut nodes).then_some(nodes)
    }

    #[test]
    fn builds_the_tape_simd_json_builds() {
        for line in [
            r#"{}"#,
            r#"{"a":{}}"#,
            r#"{"a":[],"b":[[]],"c":[{}]}"#,
            r#"{"time":"2026-11-22T08:09:14Z","type":"response","auth":{"policies":["a","b"],"metadata":null,"ttl":0,"n":-12,"ok":true,"no":false},"request":{"id":"x","data":{"k":{"n":[1,2,{"m":"v"}]}}},"response":{"data":{}}}"#,
            r#"{"a":"","b":"é ü 中","c":12345678901234567,"d":-0}"#,
        ] {
            assert_eq!(ours(line).as_deref(), Some(&simd(line)[..]), "{line}");
        }
    }

    #[test]
    fn leaves_other_shapes_to_simd_json() {
        for line in [
            r#"{"a": 1}"#,
            r#" {"a":1}"#,
            r#"{"a":1} "#,
            r#"{"a":"b\"c"}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1e5}"#,
            r#"{"a":123456789012345678}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":tru}"#,
            r#"["a"]"#,
            r#"{"a":1,}"#,
            r#"{"a":1}{"#,
            r#"{"a":[1,]}"#,
            r#"{"a":{"b":1]}"#,
            r#"{"a":[1}"#,
            r#"{"a"}"#,
            r#"{"a":1"b":2}"#,
            r#"{1:2}"#,
            "{\"a\":\"\u{1}\"}",
        ] {
            assert_eq!(ours(line), None, "{line}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(64), "]".repeat(64));
        assert_eq!(ours(&deep), None, "64 arrays inside the root");
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(63), "]".repeat(63));
        assert_eq!(ours(&ok).as_deref(), Some(&simd(&ok)[..]));
    }
}
