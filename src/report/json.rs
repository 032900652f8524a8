//! The JSON renderer: the report as one pretty-printed document, written as it is serialised.

use std::io::{self, Write};

use serde::Serialize;

/// Bytes collected before they go to the destination.
const CHUNK: usize = 1 << 16;

/// Collects serde_json's output and hands it to the destination a chunk at a time.
///
/// serde_json writes a document a few bytes at a time (a key, a colon, an indent). Through
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
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    out.finish()
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
}
