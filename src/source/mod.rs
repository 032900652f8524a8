//! Reading inputs into newline-aligned chunks.
//!
//! ```text
//! plain file --mmap--> slices of the map ------\
//! plain file --read--> owned buffers -----------+--> Chunk (file, index, offset, bytes) --> workers
//! gzip|zstd|xz|bzip2 (by magic) --decoder--> owned
//! stdin, FIFO, char device --read--> owned -----/
//! ```
//!
//! Every path yields the same chunks for the same bytes, so mapped, read, compressed and piped
//! input give identical results. Lines longer than the limit are skipped as their own piece and
//! reported, never buffered without bound.
//!
//! Inputs are opened when a producer reaches them and closed when it is done, so a scan of
//! thousands of rotated files holds one open file per producer thread, not one per file.

mod decode;
pub mod device;
mod discover;
pub mod mmap;
mod open;
mod produce;

pub use device::{DeviceMap, DeviceRule};
pub use discover::{Input, InputPath, Resume, discover, family_of};
pub use open::compressed_file;
pub use produce::{ChunkSink, MapSlot, read_input};

/// How entries are framed in an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One entry per line (what the file device writes).
    Lines,
    /// Concatenated, possibly pretty-printed objects: framed by balanced braces.
    Stream,
}

/// Compression of an input, recognised by its magic bytes rather than its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard (one or more frames).
    Zstd,
    /// xz (one or more streams).
    Xz,
    /// bzip2 (one or more streams).
    Bzip2,
}

/// How the bytes of an input reached the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadPath {
    /// Memory-mapped.
    Mmap,
    /// Read with `read(2)`.
    Read,
    /// Streamed through a gzip decoder.
    Gzip,
    /// Streamed through a Zstandard decoder.
    Zstd,
    /// Streamed through an xz decoder.
    Xz,
    /// Streamed through a bzip2 decoder.
    Bzip2,
    /// Read from standard input.
    Stdin,
    /// Read once, from the start, from a FIFO (`<(zcat a.gz)`), character device or socket.
    Pipe,
}

/// The bytes of a chunk.
pub enum ChunkData<'m> {
    /// A slice of a memory map.
    Mapped(&'m [u8]),
    /// A buffer read from a file, a decoder or stdin.
    Owned(Vec<u8>),
    /// A line longer than the limit, skipped; its length.
    LongLine(u64),
}

impl ChunkData<'_> {
    /// The bytes, empty for a skipped long line.
    pub fn bytes(&self) -> &[u8] {
        match self {
            ChunkData::Mapped(b) => b,
            ChunkData::Owned(v) => v,
            ChunkData::LongLine(_) => &[],
        }
    }
}

/// A run of whole lines (or whole objects) from one input.
pub struct Chunk<'m> {
    /// Index of the input.
    pub file: u32,
    /// Position of the chunk within its input, from 0.
    pub index: u32,
    /// Byte offset of the chunk's first byte in the (decompressed) input.
    pub offset: u64,
    /// How to frame entries.
    pub framing: Framing,
    /// True for the input's last chunk: its final line may lack a newline.
    pub last: bool,
    /// The bytes.
    pub data: ChunkData<'m>,
}

/// Default `--max-decompressed-bytes`: 64 GiB, beyond any one rotated audit file seen in
/// practice; 1 TiB was no limit at all.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 64 << 30;

/// Default `--max-gzip-ratio`. Real audit logs compress 10 to 25 times (gzip -9, zstd -19, xz -9
/// and bzip2 -9 over the corpus); a bomb of short lines reaches 1000 (deflate) and far more
/// (zstd, xz, bzip2). The ratio is checked only after 64 MiB of output.
pub const DEFAULT_MAX_RATIO: u64 = 100;

/// Limits and choices for reading.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Target chunk size in bytes (chunks end at a newline, so they can be a little longer).
    pub chunk_size: usize,
    /// Lines longer than this are skipped and reported.
    pub max_line_bytes: usize,
    /// When to memory-map.
    pub mmap: mmap::MmapChoice,
    /// Stop decompressing an input after this many output bytes.
    pub max_decompressed_bytes: u64,
    /// Stop decompressing when output/input exceeds this ratio (after the first 64 MiB), for
    /// every compression format.
    pub max_gzip_ratio: u64,
    /// Largest input framed as a stream of (pretty-printed) objects, which is read whole.
    pub max_stream_bytes: u64,
    /// Whether request entries may take the parser's fast path (`--strict`: no).
    pub validation: crate::parse::Validation,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            chunk_size: 4 << 20,
            max_line_bytes: 64 << 20,
            mmap: mmap::MmapChoice::Auto,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_gzip_ratio: DEFAULT_MAX_RATIO,
            max_stream_bytes: 1 << 30,
            validation: crate::parse::Validation::Fast,
        }
    }
}

/// What reading an input established.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InputInfo {
    /// Where reading started (a resumed input starts after what an earlier run read).
    pub start: u64,
    /// Offset just past the last newline-terminated line read.
    pub complete_end: u64,
    /// Bytes read (decompressed for compressed inputs).
    pub bytes: u64,
    /// Bytes on disk (compressed size for compressed inputs), when known.
    pub stored_bytes: Option<u64>,
    /// Compression recognised by magic bytes.
    pub compression: Compression,
    /// How the bytes were read.
    pub read_path: ReadPath,
    /// True when the input was framed as concatenated/pretty-printed objects.
    pub pretty: bool,
    /// Number of chunks.
    pub chunks: u32,
    /// Bytes examined for line ends on the read path (linear in `bytes`; a regression guard).
    #[serde(skip)]
    pub scanned_bytes: u64,
}

/// Why an input could not be read completely.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Opening or reading failed.
    #[error("{path}: {source}")]
    Open {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Reading failed part way; what was read before is kept.
    #[error("{path}: read error after {bytes} bytes: {source}")]
    Read {
        /// The path.
        path: String,
        /// Bytes successfully read before the error.
        bytes: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A compressed stream ended early (a truncated archive); what was decompressed is kept.
    #[error(
        "{path}: {format} stream truncated or corrupt after {bytes} decompressed bytes: {message}"
    )]
    CompressedTruncated {
        /// The path.
        path: String,
        /// The compression format.
        format: &'static str,
        /// Bytes decompressed before the error.
        bytes: u64,
        /// The decoder's message.
        message: String,
    },
    /// Decompression stopped at a limit (a decompression bomb, or a limit set too low).
    #[error("{path}: {format} decompression stopped at {bytes} bytes: {reason}")]
    DecompressLimit {
        /// The path.
        path: String,
        /// The compression format.
        format: &'static str,
        /// Bytes decompressed when stopped.
        bytes: u64,
        /// Which limit.
        reason: String,
    },
    /// The input shrank while it was read (logrotate `copytruncate`): what lay beyond was lost.
    #[error(
        "{path}: truncated during scan: {size} bytes when opened, {now} after {read_to} were read"
    )]
    TruncatedDuringScan {
        /// The path.
        path: String,
        /// Its size when opened.
        size: u64,
        /// Where reading ended.
        read_to: u64,
        /// Its size when the shrinking was seen.
        now: u64,
    },
    /// The path names another file (or none) at the end of reading: the input was renamed or
    /// replaced during the scan, so what the path holds now was not read.
    #[error(
        "{path}: truncated during scan: replaced or renamed while it was read ({what}); entries written to the file now at this path were not read"
    )]
    ReplacedDuringScan {
        /// The path.
        path: String,
        /// What the path holds now.
        what: String,
    },
    /// A compressed format that is recognised but not decompressed.
    #[error(
        "{path}: unsupported compression ({format}): decompress it first (gzip, zstd, xz and bzip2 are read)"
    )]
    UnsupportedCompression {
        /// The path.
        path: String,
        /// The format.
        format: &'static str,
    },
    /// A pretty-printed input was larger than the stream framing limit.
    #[error("{path}: pretty-printed input of {bytes} bytes exceeds the {limit}-byte stream limit")]
    StreamTooLarge {
        /// The path.
        path: String,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A glob pattern did not parse.
    #[error("bad glob pattern {pattern:?}: {message}")]
    BadGlob {
        /// The pattern.
        pattern: String,
        /// Why.
        message: String,
    },
    /// A glob matched no file.
    #[error("{0}: no files match")]
    NoMatch(String),
}

impl SourceError {
    /// True when the input changed under the scan (shrank, was replaced or renamed): a gap of
    /// kind `truncated-during-scan`.
    pub fn changed_during_scan(&self) -> bool {
        matches!(
            self,
            SourceError::TruncatedDuringScan { .. } | SourceError::ReplacedDuringScan { .. }
        )
    }
}
