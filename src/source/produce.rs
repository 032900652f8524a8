//! Producers: split an opened input into chunks and hand them to the workers.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::sync::mpsc::SyncSender;

use flate2::read::MultiGzDecoder;
use memmap2::Mmap;

use super::{
    Chunk, ChunkData, Compression, Framing, Input, InputInfo, InputPath, ReadOptions, ReadPath,
    SourceError,
};
use crate::parse::framing::looks_pretty;

/// How much of the start of an input is examined for pretty-printed JSON.
const SNIFF_BYTES: usize = 1 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Where chunks go, and where emptied buffers come back from.
pub struct ChunkSink<'m> {
    tx: SyncSender<Chunk<'m>>,
    pool: &'m Mutex<Vec<Vec<u8>>>,
}

impl<'m> ChunkSink<'m> {
    /// A sink sending to `tx`, reusing buffers from `pool`.
    pub fn new(tx: SyncSender<Chunk<'m>>, pool: &'m Mutex<Vec<Vec<u8>>>) -> Self {
        ChunkSink { tx, pool }
    }

    fn send(&self, chunk: Chunk<'m>) -> bool {
        self.tx.send(chunk).is_ok()
    }

    /// An empty buffer of at least `capacity` bytes, and how many bytes of its allocation are
    /// initialized: a recycled buffer comes back with its last chunk's length, and those bytes
    /// need not be zeroed again before the next read (see [`fill`]).
    fn buffer(&self, capacity: usize) -> (Vec<u8>, usize) {
        let mut b = self
            .pool
            .lock()
            .map(|mut p| p.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut initialized = b.len();
        b.clear();
        let before = b.as_ptr();
        b.reserve(capacity);
        if b.as_ptr() != before {
            // A new allocation: nothing of it has been written yet.
            initialized = 0;
        }
        (b, initialized)
    }
}

/// An input ready to be read.
pub enum Opened {
    /// A memory-mapped plain file.
    Mapped(Mmap),
    /// A file to read, plain or gzip.
    File {
        /// The open file.
        file: File,
        /// Its compression.
        compression: Compression,
        /// Its size on disk.
        stored: u64,
    },
    /// Standard input.
    Stdin,
}

impl Opened {
    /// Opens an input, recognising gzip by magic bytes and mapping where the policy allows.
    pub fn open(
        input: &Input,
        opts: &ReadOptions,
        file_count: usize,
    ) -> Result<Opened, SourceError> {
        let InputPath::File(path) = &input.path else {
            return Ok(Opened::Stdin);
        };
        let err = |source| SourceError::Open {
            path: input.display.clone(),
            source,
        };
        let file = File::open(path).map_err(err)?;
        let stored = file.metadata().map_err(err)?.len();
        let mut magic = [0u8; 2];
        let n = file.read_at(&mut magic, 0).map_err(err)?;
        let compression = if n == 2 && magic == GZIP_MAGIC {
            Compression::Gzip
        } else {
            Compression::None
        };
        if compression == Compression::None
            && opts.mmap.wants_map(&file, file_count)
            && let Some(map) = super::mmap::map(&file)
        {
            return Ok(Opened::Mapped(map));
        }
        Ok(Opened::File {
            file,
            compression,
            stored,
        })
    }
}

/// Reads `opened` to the end, sending its chunks; returns what was read and, if reading stopped
/// early, why. Chunks sent before an error stay valid: partial input is analysed, not discarded.
pub fn produce<'m>(
    input: &Input,
    opened: &'m Opened,
    opts: &ReadOptions,
    sink: &ChunkSink<'m>,
) -> (InputInfo, Option<SourceError>) {
    match opened {
        Opened::Mapped(map) => produce_mapped(input, map, opts, sink),
        Opened::File {
            file,
            compression: Compression::Gzip,
            stored,
        } => {
            let counted = CountingReader {
                inner: BufReader::with_capacity(1 << 20, file),
                count: 0,
            };
            let mut decoder = LimitedDecoder::new(MultiGzDecoder::new(counted), opts);
            let mut info = info(Compression::Gzip, ReadPath::Gzip, Some(*stored));
            // A gzip stream cannot seek: decompress and drop what an earlier run already read.
            let start = input.resume.offset;
            match io::copy(&mut (&mut decoder).take(start), &mut io::sink()) {
                Ok(n) if n == start => {}
                Ok(n) => {
                    return (
                        info,
                        Some(SourceError::GzipTruncated {
                            path: input.display.clone(),
                            bytes: n,
                            message: format!("shorter than the {start} bytes read before"),
                        }),
                    );
                }
                Err(e) => {
                    let err = classify_gzip_error(input, &info, e);
                    return (info, Some(err));
                }
            }
            info.start = start;
            let err = read_loop(input, decoder, start, opts, sink, &mut info)
                .map(|e| classify_gzip_error(input, &info, e));
            (info, err)
        }
        Opened::File {
            file,
            compression: Compression::None,
            stored,
        } => {
            let mut info = info(Compression::None, ReadPath::Read, Some(*stored));
            let start = input.resume.offset.min(*stored);
            let mut reader: &File = file;
            if let Err(e) = reader.seek(SeekFrom::Start(start)) {
                return (
                    info,
                    Some(SourceError::Read {
                        path: input.display.clone(),
                        bytes: 0,
                        source: e,
                    }),
                );
            }
            info.start = start;
            let err =
                read_loop(input, reader, start, opts, sink, &mut info).map(|e| SourceError::Read {
                    path: input.display.clone(),
                    bytes: info.bytes,
                    source: e,
                });
            // End of file before the size seen at open: the file shrank while it was read
            // (logrotate `copytruncate`). Growth is normal (the live log); shrinking loses data.
            let read_to = start + info.bytes;
            let err = err.or_else(|| {
                (read_to < *stored).then(|| SourceError::TruncatedDuringScan {
                    path: input.display.clone(),
                    size: *stored,
                    read_to,
                })
            });
            (info, err)
        }
        Opened::Stdin => {
            let mut stdin = BufReader::with_capacity(1 << 20, io::stdin().lock());
            let is_gzip = stdin
                .fill_buf()
                .map(|b| b.starts_with(&GZIP_MAGIC))
                .unwrap_or(false);
            if is_gzip {
                let decoder = LimitedDecoder::new(
                    MultiGzDecoder::new(CountingReader {
                        inner: stdin,
                        count: 0,
                    }),
                    opts,
                );
                let mut info = info(Compression::Gzip, ReadPath::Stdin, None);
                let err = read_loop(input, decoder, 0, opts, sink, &mut info)
                    .map(|e| classify_gzip_error(input, &info, e));
                (info, err)
            } else {
                let mut info = info(Compression::None, ReadPath::Stdin, None);
                let err =
                    read_loop(input, stdin, 0, opts, sink, &mut info).map(|e| SourceError::Read {
                        path: input.display.clone(),
                        bytes: info.bytes,
                        source: e,
                    });
                (info, err)
            }
        }
    }
}

fn info(compression: Compression, read_path: ReadPath, stored: Option<u64>) -> InputInfo {
    InputInfo {
        start: 0,
        complete_end: 0,
        bytes: 0,
        stored_bytes: stored,
        compression,
        read_path,
        pretty: false,
        chunks: 0,
        scanned_bytes: 0,
    }
}

fn chunk<'m>(
    input: &Input,
    info: &mut InputInfo,
    offset: u64,
    framing: Framing,
    data: ChunkData<'m>,
) -> Chunk<'m> {
    let c = Chunk {
        file: input.index,
        index: info.chunks,
        offset,
        framing,
        last: false,
        data,
    };
    info.chunks += 1;
    c
}

fn produce_mapped<'m>(
    input: &Input,
    map: &'m Mmap,
    opts: &ReadOptions,
    sink: &ChunkSink<'m>,
) -> (InputInfo, Option<SourceError>) {
    let mut info = info(Compression::None, ReadPath::Mmap, Some(map.len() as u64));
    let start = input.resume.offset.min(map.len() as u64) as usize;
    let data: &'m [u8] = &map[start..];
    let base = start as u64;
    info.start = base;
    info.bytes = data.len() as u64;
    info.complete_end = base + memchr::memrchr(b'\n', data).map_or(0, |i| i as u64 + 1);
    if looks_pretty(&data[..data.len().min(SNIFF_BYTES)]) {
        info.pretty = true;
        if data.len() as u64 > opts.max_stream_bytes {
            let e = SourceError::StreamTooLarge {
                path: input.display.clone(),
                bytes: data.len() as u64,
                limit: opts.max_stream_bytes,
            };
            return (info, Some(e));
        }
        let mut c = chunk(
            input,
            &mut info,
            base,
            Framing::Stream,
            ChunkData::Mapped(data),
        );
        c.last = true;
        info.complete_end = base + data.len() as u64;
        sink.send(c);
        return (info, None);
    }
    let target = opts.chunk_size.min(opts.max_line_bytes).max(1);
    let mut pos = 0usize;
    while pos < data.len() {
        let want = (pos + target).min(data.len());
        let end = if want == data.len() {
            data.len()
        } else {
            memchr::memchr(b'\n', &data[want..]).map_or(data.len(), |i| want + i + 1)
        };
        // The line that straddles `want` may be too long to parse: split it out.
        let line_start = memchr::memrchr(b'\n', &data[pos..want]).map_or(pos, |i| pos + i + 1);
        if end - line_start > opts.max_line_bytes {
            if line_start > pos {
                let c = chunk(
                    input,
                    &mut info,
                    base + pos as u64,
                    Framing::Lines,
                    ChunkData::Mapped(&data[pos..line_start]),
                );
                if !sink.send(c) {
                    return (info, None);
                }
            }
            let len = (end - line_start) as u64;
            let c = chunk(
                input,
                &mut info,
                base + line_start as u64,
                Framing::Lines,
                ChunkData::LongLine(len),
            );
            if !sink.send(c) {
                return (info, None);
            }
            pos = end;
            continue;
        }
        let mut c = chunk(
            input,
            &mut info,
            base + pos as u64,
            Framing::Lines,
            ChunkData::Mapped(&data[pos..end]),
        );
        c.last = end == data.len();
        if !sink.send(c) {
            return (info, None);
        }
        pos = end;
    }
    (info, None)
}

/// Reads lines in large blocks; a partial line is carried into the next block.
fn read_loop<R: Read>(
    input: &Input,
    mut reader: R,
    base: u64,
    opts: &ReadOptions,
    sink: &ChunkSink<'_>,
    info: &mut InputInfo,
) -> Option<io::Error> {
    let target = opts.chunk_size.min(opts.max_line_bytes).max(1);
    let mut carry: Vec<u8> = Vec::new();
    // A line longer than a chunk grows in place: `long` holds it, `searched` of its bytes are
    // known to have no newline. Copying it into a fresh buffer and searching it again on every
    // read made time grow with the square of the line length.
    let mut long: Vec<u8> = Vec::new();
    let mut searched = 0usize;
    let mut offset = base;
    info.complete_end = base;
    let mut first = true;
    loop {
        let (mut buf, mut initialized, want) = if long.is_empty() {
            let (mut buf, initialized) = sink.buffer(target + (target >> 4));
            let before = buf.as_ptr();
            buf.append(&mut carry);
            let initialized = if buf.as_ptr() == before {
                initialized.max(buf.len())
            } else {
                buf.len()
            };
            (buf, initialized, target)
        } else {
            let grow = long.len() + target;
            let initialized = long.len();
            (std::mem::take(&mut long), initialized, grow)
        };
        let (eof, err, n) = fill(&mut reader, &mut buf, &mut initialized, want);
        info.bytes += n;
        info.scanned_bytes += (buf.len() - searched) as u64;
        if first {
            first = false;
            if looks_pretty(&buf[..buf.len().min(SNIFF_BYTES)]) {
                info.pretty = true;
                let stream = StreamStart { buf, eof, err };
                return read_stream(input, reader, stream, base, opts, sink, info);
            }
        }
        if let Some(e) = err {
            send_lines(input, buf, &mut offset, true, sink, info);
            return Some(e);
        }
        if eof {
            send_lines(input, buf, &mut offset, true, sink, info);
            return None;
        }
        let tail_nl = memchr::memrchr(b'\n', &buf[searched..]).map(|i| searched + i);
        searched = 0;
        match tail_nl {
            Some(nl) => {
                carry.extend_from_slice(&buf[nl + 1..]);
                buf.truncate(nl + 1);
                if !send_lines(input, buf, &mut offset, false, sink, info) {
                    return None;
                }
            }
            None if buf.len() >= opts.max_line_bytes => {
                // One line fills the whole limit: skip to its end without buffering it.
                let (skipped, found, err, read) = skip_line(&mut reader, &mut carry);
                info.bytes += read;
                let len = buf.len() as u64 + skipped;
                let c = chunk(
                    input,
                    info,
                    offset,
                    Framing::Lines,
                    ChunkData::LongLine(len),
                );
                offset += len + u64::from(found);
                if found {
                    info.complete_end = offset;
                }
                if !sink.send(c) {
                    return None;
                }
                if let Some(e) = err {
                    return Some(e);
                }
                if !found {
                    return None;
                }
            }
            None => {
                // A long line still under the limit: keep growing it, searching only new bytes.
                searched = buf.len();
                long = buf;
            }
        }
    }
}

/// Fills `buf` to at least `target` bytes or EOF. Returns (eof, error, bytes read).
///
/// `initialized` is how many bytes of `buf`'s allocation have been written before (at least
/// its length, at most its capacity). `Read` wants an initialized slice; zeroing a recycled
/// 4 MiB buffer before every read cost a `memset` of every byte read (8% of a profiled scan),
/// so bytes already written are handed to the reader again as they are.
fn fill<R: Read>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    initialized: &mut usize,
    target: usize,
) -> (bool, Option<io::Error>, u64) {
    let mut want = target.max(buf.len() + 1);
    let mut read = 0u64;
    loop {
        if buf.len() >= want {
            return (false, None, read);
        }
        if buf.capacity() < want {
            let before = buf.as_ptr();
            buf.reserve(want - buf.len());
            if buf.as_ptr() != before {
                // Moved: only the copied length is known to be initialized.
                *initialized = buf.len();
            }
        }
        let start = buf.len();
        lengthen(
            buf,
            buf.capacity().min(want.max(start + 65536)),
            initialized,
        );
        match reader.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return (true, None, read);
            }
            Ok(n) => {
                buf.truncate(start + n);
                read += n as u64;
                want = want.max(target);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => {
                buf.truncate(start);
                return (false, Some(e), read);
            }
        }
    }
}

/// Lengthens `buf` to `end` (at most its capacity), zeroing only the bytes of the allocation
/// that were never written.
fn lengthen(buf: &mut Vec<u8>, end: usize, initialized: &mut usize) {
    debug_assert!(end <= buf.capacity() && *initialized <= buf.capacity());
    let reused = end.min(*initialized).max(buf.len());
    // SAFETY: `reused` is at most `initialized`, which never exceeds the capacity of this
    // allocation (it is reset when the allocation moves), and every byte below `initialized`
    // was written through this Vec earlier (by a read or a zeroing resize; truncating a
    // `Vec<u8>` does not de-initialize its bytes). Those bytes are stale data from an earlier
    // read, overwritten by the reader or cut off by the `truncate` after it.
    unsafe { buf.set_len(reused) };
    buf.resize(end, 0);
    *initialized = (*initialized).max(end);
}

/// Sends whole lines of `buf` as one chunk. Returns false if the workers are gone.
fn send_lines(
    input: &Input,
    buf: Vec<u8>,
    offset: &mut u64,
    last: bool,
    sink: &ChunkSink<'_>,
    info: &mut InputInfo,
) -> bool {
    if buf.is_empty() {
        return true;
    }
    let len = buf.len() as u64;
    // Only whole lines count as read: an unterminated tail may be a write in progress.
    info.complete_end = *offset + memchr::memrchr(b'\n', &buf).map_or(0, |i| i as u64 + 1);
    let mut c = chunk(input, info, *offset, Framing::Lines, ChunkData::Owned(buf));
    c.last = last;
    *offset += len;
    sink.send(c)
}

/// Discards bytes up to and including the next newline; bytes after it go to `carry`.
/// Returns (bytes skipped before the newline, newline found, error, bytes read).
fn skip_line<R: Read>(reader: &mut R, carry: &mut Vec<u8>) -> (u64, bool, Option<io::Error>, u64) {
    let mut scratch = vec![0u8; 1 << 16];
    let mut skipped = 0u64;
    loop {
        match reader.read(&mut scratch) {
            Ok(0) => return (skipped, false, None, skipped),
            Ok(n) => match memchr::memchr(b'\n', &scratch[..n]) {
                Some(i) => {
                    carry.extend_from_slice(&scratch[i + 1..n]);
                    return (skipped + i as u64, true, None, skipped + n as u64);
                }
                None => skipped += n as u64,
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (skipped, false, Some(e), skipped),
        }
    }
}

/// What the line reader had read when it found the input pretty-printed.
struct StreamStart {
    buf: Vec<u8>,
    eof: bool,
    err: Option<io::Error>,
}

/// Reads a pretty-printed input whole (up to the stream limit) and sends it as one chunk.
fn read_stream<R: Read>(
    input: &Input,
    mut reader: R,
    start: StreamStart,
    base: u64,
    opts: &ReadOptions,
    sink: &ChunkSink<'_>,
    info: &mut InputInfo,
) -> Option<io::Error> {
    let StreamStart {
        mut buf,
        mut eof,
        mut err,
    } = start;
    let mut initialized = buf.len();
    while !eof && err.is_none() {
        if buf.len() as u64 > opts.max_stream_bytes {
            return Some(io::Error::other(format!(
                "pretty-printed input exceeds the {}-byte stream limit",
                opts.max_stream_bytes
            )));
        }
        let target = buf.len() + (1 << 20);
        let n;
        (eof, err, n) = fill(&mut reader, &mut buf, &mut initialized, target);
        info.bytes += n;
    }
    info.complete_end = base + buf.len() as u64;
    let mut c = chunk(input, info, base, Framing::Stream, ChunkData::Owned(buf));
    c.last = true;
    sink.send(c);
    err
}

/// Counts the compressed bytes a decoder consumes.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.count += amt as u64;
        self.inner.consume(amt);
    }
}

/// A gzip decoder that stops at the output-size and ratio limits (decompression bombs).
struct LimitedDecoder<R: BufRead> {
    inner: MultiGzDecoder<CountingReader<R>>,
    out: u64,
    max_out: u64,
    max_ratio: u64,
}

/// The error a [`LimitedDecoder`] returns at a limit.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct LimitHit(String);

/// Output below which the ratio is not checked: small, very repetitive files are legitimate.
const RATIO_GRACE_BYTES: u64 = 64 << 20;

impl<R: BufRead> LimitedDecoder<R> {
    fn new(inner: MultiGzDecoder<CountingReader<R>>, opts: &ReadOptions) -> Self {
        LimitedDecoder {
            inner,
            out: 0,
            max_out: opts.max_decompressed_bytes,
            max_ratio: opts.max_gzip_ratio,
        }
    }
}

impl<R: BufRead> Read for LimitedDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.max_out {
            return Err(io::Error::other(LimitHit(format!(
                "output exceeds --max-decompressed-bytes {}",
                self.max_out
            ))));
        }
        let compressed = self.inner.get_ref().count.max(1);
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

fn classify_gzip_error(input: &Input, info: &InputInfo, e: io::Error) -> SourceError {
    if let Some(limit) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitHit>())
    {
        return SourceError::GzipLimit {
            path: input.display.clone(),
            bytes: info.bytes,
            reason: limit.0.clone(),
        };
    }
    SourceError::GzipTruncated {
        path: input.display.clone(),
        bytes: info.bytes,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line 256 times the chunk size is examined about once, not once per read (issue 21).
    #[test]
    fn a_long_line_is_scanned_once_on_the_read_path() {
        let opts = ReadOptions {
            chunk_size: 64 << 10,
            ..ReadOptions::default()
        };
        let mut data = vec![b'x'; 256 * opts.chunk_size];
        data.push(b'\n');
        data.extend_from_slice(b"{}\n");
        let input = Input {
            index: 0,
            display: "t".into(),
            path: InputPath::Stdin,
            family: "t".into(),
            resume: Default::default(),
        };
        let pool = Mutex::new(Vec::new());
        let (tx, rx) = std::sync::mpsc::sync_channel(1024);
        let sink = ChunkSink::new(tx, &pool);
        let mut info = info(Compression::None, ReadPath::Stdin, None);
        let err = read_loop(&input, &data[..], 0, &opts, &sink, &mut info);
        assert!(err.is_none());
        drop(sink);
        let sent: usize = rx.iter().map(|c| c.data.bytes().len()).sum();
        assert_eq!(sent, data.len());
        assert_eq!(info.bytes, data.len() as u64);
        assert!(
            info.scanned_bytes <= 2 * info.bytes,
            "{} bytes examined for {} read",
            info.scanned_bytes,
            info.bytes
        );
    }

    /// A reader that returns at most `step` bytes per read, as pipes and decoders do.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Recycled buffers still hold their last chunk's bytes; reading into them without zeroing
    /// must still deliver exactly the input, with short reads and lines across chunks.
    #[test]
    fn recycled_buffers_with_stale_bytes_deliver_the_input_exactly() {
        let opts = ReadOptions {
            chunk_size: 4 << 10,
            ..ReadOptions::default()
        };
        let mut data = Vec::new();
        for i in 0..3000 {
            data.extend_from_slice(
                format!("{{\"line\":{i},\"pad\":\"{}\"}}\n", "y".repeat(i % 97)).as_bytes(),
            );
        }
        let input = Input {
            index: 0,
            display: "t".into(),
            path: InputPath::Stdin,
            family: "t".into(),
            resume: Default::default(),
        };
        // Stale buffers, as the workers give them back: full of another chunk's bytes.
        let pool = Mutex::new((0..8).map(|_| vec![0xAAu8; 6 << 10]).collect());
        let (tx, rx) = std::sync::mpsc::sync_channel(4096);
        let sink = ChunkSink::new(tx, &pool);
        let mut info = info(Compression::None, ReadPath::Stdin, None);
        let reader = Trickle {
            data: &data,
            step: 1000,
        };
        assert!(read_loop(&input, reader, 0, &opts, &sink, &mut info).is_none());
        drop(sink);
        let mut got = Vec::new();
        for c in rx.iter() {
            got.extend_from_slice(c.data.bytes());
        }
        assert_eq!(got, data);
    }

    /// Lengthening keeps bytes written before instead of zeroing them again (the memset this
    /// avoids), and zeroes only bytes never written.
    #[test]
    fn lengthen_zeroes_only_bytes_never_written() {
        let mut buf = vec![7u8; 100];
        buf.truncate(10);
        buf.reserve_exact(0);
        let mut initialized = 100;
        lengthen(&mut buf, 100, &mut initialized);
        assert_eq!(buf.len(), 100);
        assert!(buf[10..].iter().all(|&b| b == 7), "stale bytes were zeroed");
        let mut fresh: Vec<u8> = Vec::with_capacity(64);
        fresh.push(1);
        let mut initialized = 1;
        lengthen(&mut fresh, 64, &mut initialized);
        assert_eq!(&fresh[..2], &[1, 0]);
        assert_eq!(initialized, 64);
    }
}
