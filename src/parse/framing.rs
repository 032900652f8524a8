//! Where the JSON of an entry starts and ends.
//!
//! The file audit device writes one object per line, optionally after a `prefix` string, and a
//! syslog relay adds a header; both are skipped up to the first `{`. CRLF and trailing blanks are
//! trimmed. Pretty-printed or concatenated objects (blog posts, `jq` output, some test suites)
//! are framed by [`next_object`] instead of by lines.

/// What a line holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framed {
    /// Only whitespace.
    Blank,
    /// An object candidate at `line[start..end]`; `prefixed` when bytes precede the `{`.
    Json {
        /// Offset of the `{`.
        start: usize,
        /// Offset just past the last non-blank byte.
        end: usize,
        /// A prefix or syslog header came before the object.
        prefixed: bool,
    },
    /// An XML entry written by a `format=jsonx` device.
    Jsonx,
    /// No `{` anywhere on the line.
    NotJson,
}

#[inline]
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

/// Locates the JSON object on one line (the line excludes its `\n`).
#[inline]
pub fn frame_line(line: &[u8]) -> Framed {
    let mut end = line.len();
    while end > 0 && is_blank(line[end - 1]) {
        end -= 1;
    }
    let mut start = 0;
    while start < end && is_blank(line[start]) {
        start += 1;
    }
    if start == end {
        return Framed::Blank;
    }
    match line[start] {
        b'{' => Framed::Json {
            start,
            end,
            prefixed: false,
        },
        b'<' if line[start..end].starts_with(b"<json")
            || line[start..end].starts_with(b"<?xml") =>
        {
            Framed::Jsonx
        }
        _ => match memchr::memchr(b'{', &line[start..end]) {
            Some(i) => Framed::Json {
                start: start + i,
                end,
                prefixed: true,
            },
            None => Framed::NotJson,
        },
    }
}

/// True when `sample` (the start of a file) shows pretty-printed JSON: a line that is only an
/// opening brace or bracket. Such files are framed object by object instead of line by line.
pub fn looks_pretty(sample: &[u8]) -> bool {
    // Lines found with memchr: splitting the 1 MiB sample byte by byte cost 8 M instructions,
    // a fixed cost on every input.
    let ends = memchr::memchr_iter(b'\n', sample).chain(std::iter::once(sample.len()));
    let mut start = 0;
    for end in ends {
        let t = trim(&sample[start..end]);
        if t == b"{" || t == b"[" {
            return true;
        }
        start = end + 1;
    }
    false
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_blank(*first) { s = rest } else { break }
    }
    while let [rest @ .., last] = s {
        if is_blank(*last) { s = rest } else { break }
    }
    s
}

/// One step of framing a stream of concatenated (possibly pretty-printed) JSON values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamItem {
    /// A balanced object at `[start, end)`.
    Object {
        /// Offset of `{`.
        start: usize,
        /// Offset after the matching `}`.
        end: usize,
    },
    /// Bytes that are not a balanced object, up to the next line that starts with `{`.
    Garbage {
        /// Offset of the first bad byte.
        start: usize,
        /// Where framing resumes.
        end: usize,
    },
}

/// Frames the next value in `buf` from `pos`, or `None` at the end.
///
/// A top-level `[` and the `,` between array elements are skipped, so a JSON array of entries
/// frames like a stream of them.
pub fn next_object(buf: &[u8], mut pos: usize) -> Option<StreamItem> {
    while pos < buf.len() && (is_blank(buf[pos]) || matches!(buf[pos], b'[' | b']' | b',')) {
        pos += 1;
    }
    if pos >= buf.len() {
        return None;
    }
    if buf[pos] == b'{'
        && let Some(end) = matching_brace(buf, pos)
    {
        return Some(StreamItem::Object { start: pos, end });
    }
    Some(StreamItem::Garbage {
        start: pos,
        end: resync(buf, pos + 1),
    })
}

/// After a bad region, resume at the next line that starts with `{` (or the end).
fn resync(buf: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(nl) = memchr::memchr(b'\n', &buf[i.min(buf.len())..]) {
        let line_start = i + nl + 1;
        if buf.get(line_start) == Some(&b'{') {
            return line_start;
        }
        i = line_start;
    }
    buf.len()
}

/// Offset after the `}` matching the `{` at `open`, skipping strings; `None` if unbalanced.
fn matching_brace(buf: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < buf.len() {
        match buf[i] {
            b'"' => {
                i += 1;
                loop {
                    let k = i + memchr::memchr2(b'"', b'\\', &buf[i..])?;
                    if buf[k] == b'\\' {
                        i = k + 2;
                    } else {
                        i = k + 1;
                        break;
                    }
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (buf[i] == b'}').then_some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_plain_prefixed_and_crlf_lines() {
        assert_eq!(
            frame_line(b"{\"a\":1}"),
            Framed::Json {
                start: 0,
                end: 7,
                prefixed: false
            }
        );
        assert_eq!(
            frame_line(b"{\"a\":1} \r"),
            Framed::Json {
                start: 0,
                end: 7,
                prefixed: false
            }
        );
        let syslog = b"<134>Nov 22 08:09:14 vault vault[1]: {\"a\":1}";
        assert!(matches!(
            frame_line(syslog),
            Framed::Json { prefixed: true, .. }
        ));
        assert_eq!(
            frame_line(b"AUDIT: {\"a\":1}"),
            Framed::Json {
                start: 7,
                end: 14,
                prefixed: true
            }
        );
        assert_eq!(frame_line(b"   \r"), Framed::Blank);
        assert_eq!(frame_line(b"garbage"), Framed::NotJson);
        assert_eq!(frame_line(b"<json:object>"), Framed::Jsonx);
    }

    #[test]
    fn detects_pretty_printed_files() {
        assert!(looks_pretty(b"{\"a\":1}\n{\n  \"b\": 2\n}\n"));
        assert!(!looks_pretty(b"{\"a\":1}\n{\"b\":2}\n"));
        // The last line has no newline; blank lines and a bare bracket line.
        assert!(looks_pretty(b"{\"a\":1}\n \t{"));
        assert!(looks_pretty(b"\n\n[\r\n"));
        assert!(!looks_pretty(b""));
        assert!(!looks_pretty(b"\n{}\n"));
    }

    proptest::proptest! {
        #[test]
        fn pretty_sniffing_agrees_with_splitting_every_line(
            lines in proptest::collection::vec("[ \t\r{\\[\"a]{0,4}", 0..12),
            trailing_newline: bool,
        ) {
            let mut sample = lines.join("\n");
            if trailing_newline {
                sample.push('\n');
            }
            let naive = sample
                .as_bytes()
                .split(|&b| b == b'\n')
                .any(|l| matches!(trim(l), b"{" | b"["));
            proptest::prop_assert_eq!(looks_pretty(sample.as_bytes()), naive);
        }
    }

    #[test]
    fn frames_a_stream_of_objects_and_arrays() {
        let buf = b"{\n \"a\": \"}\" \n}\n[{\"b\":[1,{}]},\n{\"c\":\"\\\"{\"}]";
        let mut pos = 0;
        let mut got = vec![];
        while let Some(item) = next_object(buf, pos) {
            let StreamItem::Object { start, end } = item else {
                panic!("{item:?}")
            };
            got.push(std::str::from_utf8(&buf[start..end]).unwrap().to_string());
            pos = end;
        }
        assert_eq!(
            got,
            vec![
                "{\n \"a\": \"}\" \n}",
                "{\"b\":[1,{}]}",
                "{\"c\":\"\\\"{\"}"
            ]
        );
    }

    #[test]
    fn resynchronises_after_garbage() {
        let buf = b"{\"a\": \n junk\n{\"b\":1}\n";
        let first = next_object(buf, 0).unwrap();
        assert_eq!(first, StreamItem::Garbage { start: 0, end: 13 });
        assert_eq!(
            next_object(buf, 13),
            Some(StreamItem::Object { start: 13, end: 20 })
        );
    }
}
