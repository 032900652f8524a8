//! Compressed inputs: recognised by their magic bytes, never by name, and decompressed through
//! one [`LimitedDecoder`] whatever the format, so every format has the same bomb limits.
//!
//! ```text
//! file | pipe | stdin --BufRead--> CountingReader --gzip|zstd|xz|bzip2--> LimitedDecoder --> lines
//! ```
//!
//! Formats logrotate can write (`compresscmd`) that blastradius does not decompress are refused
//! with "unsupported compression": read as text they made malformed regions and invented gaps.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use super::{Compression, Input, InputInfo, ReadOptions, SourceError};

/// Bytes needed to recognise every format below.
pub const MAGIC_LEN: usize = 6;

const GZIP: &[u8] = &[0x1f, 0x8b];
const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
const BZIP2: &[u8] = b"BZh";

/// Formats recognised only to refuse them, with their names.
const UNSUPPORTED: [(&[u8], &str); 4] = [
    (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
    (&[0x1f, 0x9d], "compress (.Z)"),
    (b"LZIP", "lzip"),
    (&[0x89, b'L', b'Z', b'O'], "lzop"),
];

/// What the first bytes of an input say it is.
pub enum Recognised {
    /// Something blastradius reads.
    Readable(Compression),
    /// A compressed format it does not decompress (the name).
    Unsupported(&'static str),
}

/// Recognises the format from the first [`MAGIC_LEN`] bytes (fewer at the end of a short input).
pub fn recognise(head: &[u8]) -> Recognised {
    let bzip2 = head.starts_with(BZIP2) && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b));
    let c = if head.starts_with(GZIP) {
        Compression::Gzip
    } else if head.starts_with(ZSTD) {
        Compression::Zstd
    } else if head.starts_with(XZ) {
        Compression::Xz
    } else if bzip2 {
        Compression::Bzip2
    } else if let Some((_, name)) = UNSUPPORTED.iter().find(|(m, _)| head.starts_with(m)) {
        return Recognised::Unsupported(name);
    } else {
        Compression::None
    };
    Recognised::Readable(c)
}

impl Compression {
    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// Counts the compressed bytes a decoder consumes; the count is shared with the
/// [`LimitedDecoder`] around the decoder, which needs it for the ratio.
struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.count.set(self.count.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// A decoder of any format that stops at the output-size and ratio limits (decompression
/// bombs). The line-length limit is checked by the line reader (`read_loop`), which stops a
/// compressed input at the first over-long line instead of decompressing on to find its end.
pub struct LimitedDecoder<'r> {
    inner: Box<dyn Read + 'r>,
    compressed: Rc<Cell<u64>>,
    out: u64,
    max_out: u64,
    max_ratio: u64,
}

/// The error a [`LimitedDecoder`] or the line reader returns at a limit.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LimitHit(pub String);

/// Output below which the ratio is not checked: small, very repetitive files are legitimate.
const RATIO_GRACE_BYTES: u64 = 64 << 20;

impl<'r> LimitedDecoder<'r> {
    /// A decoder of `compression` reading `reader`. `compression` must not be `None`.
    pub fn new<R: BufRead + 'r>(
        compression: Compression,
        reader: R,
        opts: &ReadOptions,
    ) -> io::Result<Self> {
        let compressed = Rc::new(Cell::new(0));
        let counted = CountingReader {
            inner: reader,
            count: Rc::clone(&compressed),
        };
        // Every decoder reads concatenated streams (pigz, `cat a.gz b.gz`, `zstd` frames, xz
        // and bzip2 streams) to the end, as the tools themselves do.
        let inner: Box<dyn Read + 'r> = match compression {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(counted)?),
            Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(counted)),
            Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(counted)),
            Compression::None => Box::new(counted),
        };
        Ok(LimitedDecoder {
            inner,
            compressed,
            out: 0,
            max_out: opts.max_decompressed_bytes,
            max_ratio: opts.max_gzip_ratio,
        })
    }
}

impl Read for LimitedDecoder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.max_out {
            return Err(io::Error::other(LimitHit(format!(
                "output exceeds --max-decompressed-bytes {}",
                self.max_out
            ))));
        }
        let compressed = self.compressed.get().max(1);
        if self.out > RATIO_GRACE_BYTES && self.out / compressed > self.max_ratio {
            return Err(io::Error::other(LimitHit(format!(
                "compression ratio {}:1 exceeds --max-gzip-ratio {}",
                self.out / compressed,
                self.max_ratio
            ))));
        }
        Ok(n)
    }
}

/// Turns a decoder's error into the input's error: a limit, or a damaged stream.
pub fn classify(input: &Input, info: &InputInfo, e: io::Error) -> SourceError {
    let format = info.compression.name();
    if let Some(limit) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitHit>())
    {
        return SourceError::DecompressLimit {
            path: input.display.clone(),
            format,
            bytes: info.bytes,
            reason: limit.0.clone(),
        };
    }
    SourceError::CompressedTruncated {
        path: input.display.clone(),
        format,
        bytes: info.bytes,
        message: e.to_string(),
    }
}

/// Reads the first [`MAGIC_LEN`] bytes of a stream (pipes may deliver them one at a time).
pub fn read_head<R: Read>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; MAGIC_LEN];
    let mut n = 0;
    while n < MAGIC_LEN {
        match reader.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_their_first_bytes() {
        let c = |b: &[u8]| match recognise(b) {
            Recognised::Readable(c) => c.name(),
            Recognised::Unsupported(n) => n,
        };
        assert_eq!(c(&[0x1f, 0x8b, 8, 0, 0, 0]), "gzip");
        assert_eq!(c(&[0x28, 0xb5, 0x2f, 0xfd, 0x24, 0]), "zstd");
        assert_eq!(c(&[0xfd, b'7', b'z', b'X', b'Z', 0]), "xz");
        assert_eq!(c(b"BZh91A"), "bzip2");
        assert_eq!(c(b"BZhx"), "plain", "BZh without a block size is text");
        assert_eq!(c(&[0x04, 0x22, 0x4d, 0x18, 0, 0]), "lz4");
        assert_eq!(c(b"{\"time"), "plain");
        assert_eq!(c(b""), "plain");
    }
}
