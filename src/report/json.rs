//! The JSON renderer: the report as one pretty-printed document, written as it is serialised
//! (by `super::pretty`, in serde_json's layout). `Pretty` is that layout as a serde_json
//! formatter: `pretty` writes its line breaks, and the tests hold the two to each other.

use std::io::{self, Write};

use serde::Serialize;

/// Bytes collected before they go to the destination.
const CHUNK: usize = 1 << 16;

/// Writes at least this long skip the buffer.
const DIRECT: usize = 1 << 12;

/// Collects a serializer's output and hands it to the destination a chunk at a time (`pretty`
/// fills the buffer itself, through `Chunked::parts`, and hands it on every 64 KiB).
///
/// A serializer writes a document a few bytes at a time (a key, a colon, an indent). Through
/// `&mut dyn Write` each of those is a virtual call into the destination's `BufWriter`; into a
/// concrete buffer they are inlined copies. The report still streams: memory is one chunk, never
/// the whole document. [`Chunked::finish`] writes the rest (dropping it unfinished loses it).
pub struct Chunked<'w> {
    out: &'w mut dyn Write,
    buf: Vec<u8>,
}

impl<'w> Chunked<'w> {
    /// A buffer in front of `out`.
    pub fn new(out: &'w mut dyn Write) -> Chunked<'w> {
        Chunked {
            out,
            buf: Vec::with_capacity(CHUNK + CHUNK / 4),
        }
    }

    /// Writes what is left to the destination.
    pub fn finish(mut self) -> io::Result<()> {
        self.drain()
    }

    /// The buffer and the destination behind it, for a writer that fills the buffer itself.
    pub(super) fn parts(&mut self) -> (&mut Vec<u8>, &mut dyn Write) {
        (&mut self.buf, &mut *self.out)
    }

    fn drain(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

impl Write for Chunked<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.len() >= DIRECT {
            // Rendered elsewhere (a chunk of a long list, `super::parallel`): to the destination
            // as it is, after what is buffered, not copied into the buffer first.
            self.drain()?;
            return self.out.write_all(bytes);
        }
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.drain()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.out.flush()
    }
}

/// Writes `report` as pretty JSON followed by a newline.
pub fn write<T: Serialize>(report: &T, w: &mut dyn Write) -> io::Result<()> {
    let mut out = Chunked::new(w);
    let (buf, sink) = out.parts();
    super::pretty::write_streaming(report, 0, buf, sink)?;
    out.write_all(b"\n")?;
    out.finish()
}

/// `,` then a newline then indentation, sliced to what each break needs.
const BREAK: &[u8; 2 + 2 * 64] = &{
    let mut b = [b' '; 2 + 2 * 64];
    b[0] = b',';
    b[1] = b'\n';
    b
};

/// serde_json's `PrettyFormatter` (two-space indent), byte for byte, writing each line break and
/// its indentation as one slice: serde_json writes the indent two bytes per level, a call each,
/// before every key and array value, which was a tenth of a large report's cost.
#[derive(Default)]
pub(super) struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    /// The printer as it stands inside `depth` open objects and arrays: what it writes from
    /// there is what serde_json's would write at that depth of a larger document.
    pub(super) fn at(depth: usize) -> Pretty {
        Pretty {
            depth,
            has_value: false,
        }
    }

    /// A line break (after a `,` when `comma`) and the indentation of the current depth.
    pub(super) fn line<W: ?Sized + Write>(&self, w: &mut W, comma: bool) -> io::Result<()> {
        let from = usize::from(!comma);
        let mut spaces = 2 * self.depth;
        let first = (BREAK.len() - 2).min(spaces);
        w.write_all(&BREAK[from..2 + first])?;
        spaces -= first;
        while spaces > 0 {
            let n = (BREAK.len() - 2).min(spaces);
            w.write_all(&BREAK[2..2 + n])?;
            spaces -= n;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, false)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.line(w, !first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.line(w, !first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Larger than a chunk: the destination gets every byte, in order, and no more.
    #[test]
    fn a_document_larger_than_a_chunk_arrives_whole() {
        let items: Vec<String> = (0..20_000).map(|i| format!("item-{i}")).collect();
        let mut out = Vec::new();
        write(&items, &mut out).unwrap();
        let mut want = serde_json::to_vec_pretty(&items).unwrap();
        want.push(b'\n');
        assert!(want.len() > 3 * CHUNK);
        assert_eq!(out, want);
    }

    /// Nested deeper than one slice of indentation, with empty and filled containers at every
    /// depth: the output is serde_json's pretty printing, byte for byte.
    #[test]
    fn indents_exactly_like_serde_json() {
        let mut v = serde_json::json!({"leaf": [1, "two", null, {}, []], "empty": {}});
        for depth in 0..150 {
            v = serde_json::json!({"depth": depth, "list": [v, [], {}], "empty": []});
        }
        let mut deep = serde_json::json!("bottom");
        for _ in 0..200 {
            deep = serde_json::json!({"k": [deep]});
        }
        for doc in [v, deep, serde_json::json!([]), serde_json::json!({})] {
            let mut out = Vec::new();
            write(&doc, &mut out).unwrap();
            let mut want = serde_json::to_vec_pretty(&doc).unwrap();
            want.push(b'\n');
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }
}
