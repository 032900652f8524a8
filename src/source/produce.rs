//! Producers: open an input, split it into chunks and hand them to the workers.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::mpsc::SyncSender;
use std::sync::{Mutex, OnceLock};

use memmap2::Mmap;

use super::decode::{self, LimitHit, LimitedDecoder, Recognised};
use super::open::{Opened, ReadEnd, Shrank, ShrinkWatch, check_unchanged};
use super::{
    Chunk, ChunkData, Compression, Framing, Input, InputInfo, ReadOptions, ReadPath, SourceError,
};
use crate::parse::framing::looks_pretty;

/// How much of the start of an input is examined for pretty-printed JSON.
const SNIFF_BYTES: usize = 1 << 20;

/// Buffer between a compressed input and its decoder.
const COMPRESSED_BUFFER: usize = 1 << 20;

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

/// Where a mapped input's map lives while workers parse slices of it. The map holds no file
/// descriptor, so a scan of many mapped files still has few files open.
pub type MapSlot = OnceLock<Mmap>;

/// Opens `input`, reads it to the end sending its chunks, and closes it. Returns what was read
/// (none if it could not be opened) and, if reading stopped early or the input changed under
/// the scan, why. Chunks sent before an error stay valid: partial input is analysed, not
/// discarded. A mapped input's map is kept in `slot`, which must outlive the chunks.
pub fn read_input<'m>(
    input: &Input,
    opts: &ReadOptions,
    file_count: usize,
    slot: &'m MapSlot,
    sink: &ChunkSink<'m>,
) -> (Option<InputInfo>, Option<SourceError>) {
    let opened = match Opened::open(input, opts, file_count) {
        Ok(o) => o,
        Err(e) => return (None, Some(e)),
    };
    let (info, err) = match opened {
        Opened::Mapped(map) => produce_mapped(input, slot.get_or_init(|| map), opts, sink),
        Opened::File {
            file,
            compression,
            stored,
            id,
        } => {
            let (info, err) = if compression == Compression::None {
                produce_plain(input, &file, stored, opts, sink)
            } else {
                let mut info = info(compression, read_path_of(compression), Some(stored));
                let reader = BufReader::with_capacity(COMPRESSED_BUFFER, &file);
                let to = Reading::new(input, opts, sink, &mut info);
                let err = decoded(to, reader, input.resume.offset);
                (info, err)
            };
            let end = ReadEnd {
                read_to: (compression == Compression::None).then_some(info.start + info.bytes),
                stored,
                id,
            };
            let err = err.or_else(|| check_unchanged(input, &file, &end));
            (info, err)
        }
        Opened::Pipe(file) => {
            let reader = BufReader::with_capacity(COMPRESSED_BUFFER, file);
            produce_stream(input, reader, ReadPath::Pipe, opts, sink)
        }
        Opened::Stdin => {
            let reader = BufReader::with_capacity(COMPRESSED_BUFFER, io::stdin().lock());
            produce_stream(input, reader, ReadPath::Stdin, opts, sink)
        }
    };
    (Some(info), err)
}

/// The read path of a compressed file.
fn read_path_of(c: Compression) -> ReadPath {
    match c {
        Compression::None => ReadPath::Read,
        Compression::Gzip => ReadPath::Gzip,
        Compression::Zstd => ReadPath::Zstd,
        Compression::Xz => ReadPath::Xz,
        Compression::Bzip2 => ReadPath::Bzip2,
    }
}

/// A plain regular file, read with `read(2)` from where an earlier run stopped.
fn produce_plain(
    input: &Input,
    file: &File,
    stored: u64,
    opts: &ReadOptions,
    sink: &ChunkSink<'_>,
) -> (InputInfo, Option<SourceError>) {
    let mut info = info(Compression::None, ReadPath::Read, Some(stored));
    let start = input.resume.offset.min(stored);
    let mut reader: &File = file;
    if let Err(e) = reader.seek(SeekFrom::Start(start)) {
        let e = SourceError::Read {
            path: input.display.clone(),
            bytes: 0,
            source: e,
        };
        return (info, Some(e));
    }
    info.start = start;
    let to = Reading::new(input, opts, sink, &mut info);
    let err = read_loop(to, ShrinkWatch::new(file, start), start);
    let err = err.map(
        |e| match e.get_ref().and_then(|i| i.downcast_ref::<Shrank>()) {
            Some(s) => SourceError::TruncatedDuringScan {
                path: input.display.clone(),
                size: stored,
                read_to: s.pos,
                now: s.now,
            },
            None => SourceError::Read {
                path: input.display.clone(),
                bytes: info.bytes,
                source: e,
            },
        },
    );
    (info, err)
}

/// Standard input or a pipe: recognises compression from the first bytes, then reads once.
fn produce_stream<R: BufRead>(
    input: &Input,
    mut reader: R,
    read_path: ReadPath,
    opts: &ReadOptions,
    sink: &ChunkSink<'_>,
) -> (InputInfo, Option<SourceError>) {
    let read_error = |info: &InputInfo, source| SourceError::Read {
        path: input.display.clone(),
        bytes: info.bytes,
        source,
    };
    let mut info = info(Compression::None, read_path, None);
    let head = match decode::read_head(&mut reader) {
        Ok(h) => h,
        Err(e) => return (info.clone(), Some(read_error(&info, e))),
    };
    info.compression = match decode::recognise(&head) {
        Recognised::Readable(c) => c,
        Recognised::Unsupported(format) => {
            let e = SourceError::UnsupportedCompression {
                path: input.display.clone(),
                format,
            };
            return (info, Some(e));
        }
    };
    let reader = io::Cursor::new(head).chain(reader);
    let err = if info.compression == Compression::None {
        let to = Reading::new(input, opts, sink, &mut info);
        read_loop(to, reader, 0).map(|e| read_error(&info, e))
    } else {
        let to = Reading::new(input, opts, sink, &mut info);
        decoded(to, reader, 0)
    };
    (info, err)
}

/// A compressed input: decompresses, drops the `skip` bytes an earlier run already read (a
/// compressed stream cannot seek), and reads the rest as lines.
fn decoded<R: BufRead>(to: Reading<'_, '_>, reader: R, skip: u64) -> Option<SourceError> {
    let input = to.input;
    let mut decoder = match LimitedDecoder::new(to.info.compression, reader, to.opts) {
        Ok(d) => d,
        Err(e) => return Some(decode::classify(input, to.info, e)),
    };
    match io::copy(&mut (&mut decoder).take(skip), &mut io::sink()) {
        Ok(n) if n == skip => {}
        Ok(n) => {
            return Some(SourceError::CompressedTruncated {
                path: input.display.clone(),
                format: to.info.compression.name(),
                bytes: n,
                message: format!("shorter than the {skip} bytes read before"),
            });
        }
        Err(e) => return Some(decode::classify(input, to.info, e)),
    }
    to.info.start = skip;
    let (opts, sink) = (to.opts, to.sink);
    let info = to.info;
    read_loop(Reading::new(input, opts, sink, &mut *info), decoder, skip)
        .map(|e| decode::classify(input, info, e))
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
fn read_loop<R: Read>(mut to: Reading<'_, '_>, mut reader: R, base: u64) -> Option<io::Error> {
    let (input, opts, sink) = (to.input, to.opts, to.sink);
    let target = opts.chunk_size.min(opts.max_line_bytes).max(1);
    let mut carry: Vec<u8> = Vec::new();
    // A line longer than a chunk grows in place: `long` holds it, `searched` of its bytes are
    // known to have no newline. Copying it into a fresh buffer and searching it again on every
    // read made time grow with the square of the line length.
    let mut long: Vec<u8> = Vec::new();
    let mut searched = 0usize;
    let mut offset = base;
    to.info.complete_end = base;
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
        let Filled { eof, err, read } = fill(&mut reader, &mut buf, &mut initialized, want);
        to.info.bytes += read;
        to.info.scanned_bytes += (buf.len() - searched) as u64;
        if first {
            first = false;
            if looks_pretty(&buf[..buf.len().min(SNIFF_BYTES)]) {
                to.info.pretty = true;
                let stream = StreamStart {
                    buf,
                    eof,
                    err,
                    base,
                };
                return read_stream(to, reader, stream);
            }
        }
        if let Some(e) = err {
            to.send_lines(buf, &mut offset, ChunkEnd::Last);
            return Some(e);
        }
        if eof {
            to.send_lines(buf, &mut offset, ChunkEnd::Last);
            return None;
        }
        let tail_nl = memchr::memrchr(b'\n', &buf[searched..]).map(|i| searched + i);
        searched = 0;
        match tail_nl {
            Some(nl) => {
                carry.extend_from_slice(&buf[nl + 1..]);
                buf.truncate(nl + 1);
                if !to.send_lines(buf, &mut offset, ChunkEnd::More) {
                    return None;
                }
            }
            None if buf.len() >= opts.max_line_bytes
                && to.info.compression != Compression::None =>
            {
                // In a compressed input, finding the end of an over-long line means
                // decompressing on without bound: a gzip of zeros (a bomb) is one endless line.
                // Stop here; the line is reported, what came before it is kept.
                let c = chunk(
                    input,
                    to.info,
                    offset,
                    Framing::Lines,
                    ChunkData::LongLine(buf.len() as u64),
                );
                sink.send(c);
                return Some(io::Error::other(LimitHit(format!(
                    "the line at decompressed offset {offset} is longer than --max-line-bytes {}: stopped decompressing (a decompression bomb?)",
                    opts.max_line_bytes
                ))));
            }
            None if buf.len() >= opts.max_line_bytes => {
                // One line fills the whole limit: skip to its end without buffering it.
                let Skipped {
                    skipped,
                    found,
                    err,
                    read,
                } = skip_line(&mut reader, &mut carry);
                to.info.bytes += read;
                let len = buf.len() as u64 + skipped;
                let c = chunk(
                    input,
                    to.info,
                    offset,
                    Framing::Lines,
                    ChunkData::LongLine(len),
                );
                offset += len + u64::from(found);
                if found {
                    to.info.complete_end = offset;
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

/// How a [`fill`] ended.
struct Filled {
    /// The reader is at its end.
    eof: bool,
    /// The read failed (what was read before stays in the buffer).
    err: Option<io::Error>,
    /// Bytes read.
    read: u64,
}

/// Fills `buf` to at least `target` bytes or EOF.
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
) -> Filled {
    let mut want = target.max(buf.len() + 1);
    let mut read = 0u64;
    loop {
        if buf.len() >= want {
            return Filled {
                eof: false,
                err: None,
                read,
            };
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
                return Filled {
                    eof: true,
                    err: None,
                    read,
                };
            }
            Ok(n) => {
                buf.truncate(start + n);
                read += n as u64;
                want = want.max(target);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => {
                buf.truncate(start);
                return Filled {
                    eof: false,
                    err: Some(e),
                    read,
                };
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

/// Where a reader of one input sends what it reads, and what it records of it.
struct Reading<'r, 'm> {
    input: &'r Input,
    opts: &'r ReadOptions,
    sink: &'r ChunkSink<'m>,
    info: &'r mut InputInfo,
}

/// Whether a chunk is the input's last.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ChunkEnd {
    More,
    Last,
}

impl<'r, 'm> Reading<'r, 'm> {
    fn new(
        input: &'r Input,
        opts: &'r ReadOptions,
        sink: &'r ChunkSink<'m>,
        info: &'r mut InputInfo,
    ) -> Self {
        Reading {
            input,
            opts,
            sink,
            info,
        }
    }

    /// Sends whole lines of `buf` as one chunk. Returns false if the workers are gone.
    fn send_lines(&mut self, buf: Vec<u8>, offset: &mut u64, end: ChunkEnd) -> bool {
        if buf.is_empty() {
            return true;
        }
        let len = buf.len() as u64;
        // Only whole lines count as read: an unterminated tail may be a write in progress.
        self.info.complete_end = *offset + memchr::memrchr(b'\n', &buf).map_or(0, |i| i as u64 + 1);
        let mut c = chunk(
            self.input,
            self.info,
            *offset,
            Framing::Lines,
            ChunkData::Owned(buf),
        );
        c.last = end == ChunkEnd::Last;
        *offset += len;
        self.sink.send(c)
    }
}

/// How a [`skip_line`] ended.
struct Skipped {
    /// Bytes skipped before the newline.
    skipped: u64,
    /// The newline was found.
    found: bool,
    /// The read failed.
    err: Option<io::Error>,
    /// Bytes read, the newline and what followed it included.
    read: u64,
}

/// Discards bytes up to and including the next newline; bytes after it go to `carry`.
fn skip_line<R: Read>(reader: &mut R, carry: &mut Vec<u8>) -> Skipped {
    let mut scratch = vec![0u8; 1 << 16];
    let mut skipped = 0u64;
    let ended = |skipped, err| Skipped {
        skipped,
        found: false,
        err,
        read: skipped,
    };
    loop {
        match reader.read(&mut scratch) {
            Ok(0) => return ended(skipped, None),
            Ok(n) => match memchr::memchr(b'\n', &scratch[..n]) {
                Some(i) => {
                    carry.extend_from_slice(&scratch[i + 1..n]);
                    return Skipped {
                        skipped: skipped + i as u64,
                        found: true,
                        err: None,
                        read: skipped + n as u64,
                    };
                }
                None => skipped += n as u64,
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return ended(skipped, Some(e)),
        }
    }
}

/// What the line reader had read when it found the input pretty-printed.
struct StreamStart {
    buf: Vec<u8>,
    eof: bool,
    err: Option<io::Error>,
    /// The input offset of `buf`'s first byte.
    base: u64,
}

/// Reads a pretty-printed input whole (up to the stream limit) and sends it as one chunk.
fn read_stream<R: Read>(
    to: Reading<'_, '_>,
    mut reader: R,
    start: StreamStart,
) -> Option<io::Error> {
    let Reading {
        input,
        opts,
        sink,
        info,
    } = to;
    let StreamStart {
        mut buf,
        mut eof,
        mut err,
        base,
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
        let filled = fill(&mut reader, &mut buf, &mut initialized, target);
        (eof, err) = (filled.eof, filled.err);
        info.bytes += filled.read;
    }
    info.complete_end = base + buf.len() as u64;
    let mut c = chunk(input, info, base, Framing::Stream, ChunkData::Owned(buf));
    c.last = true;
    sink.send(c);
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::InputPath;

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
        let to = Reading::new(&input, &opts, &sink, &mut info);
        let err = read_loop(to, &data[..], 0);
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
        let to = Reading::new(&input, &opts, &sink, &mut info);
        assert!(read_loop(to, reader, 0).is_none());
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
