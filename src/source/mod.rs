//! Reading inputs into newline-aligned chunks.
//!
//! ```text
//! plain file --mmap--> slices of the map ------\
//! plain file --read--> owned buffers -----------+--> Chunk (file, index, offset, bytes) --> workers
//! gzip (any name, by magic) --MultiGz--> owned -/
//! stdin --read--> owned ------------------------/
//! ```
//!
//! Every path yields the same chunks for the same bytes, so mapped, read, compressed and piped
//! input give identical results. Lines longer than the limit are skipped as their own piece and
//! reported, never buffered without bound.

pub mod device;
mod discover;
pub mod mmap;
mod produce;

pub use device::{DeviceMap, DeviceRule};
pub use discover::{Input, InputPath, Resume, discover, family_of};
pub use produce::{ChunkSink, Opened, produce};

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
    /// Read from standard input.
    Stdin,
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

/// Limits and choices for reading.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Target chunk size in bytes (chunks end at a newline, so they can be a little longer).
    pub chunk_size: usize,
    /// Lines longer than this are skipped and reported.
    pub max_line_bytes: usize,
    /// When to memory-map.
    pub mmap: mmap::MmapChoice,
    /// Stop decompressing a gzip input after this many output bytes.
    pub max_decompressed_bytes: u64,
    /// Stop decompressing when output/input exceeds this ratio (after the first 64 MiB).
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
            max_decompressed_bytes: 1 << 40,
            max_gzip_ratio: 1000,
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
    /// Bytes read (decompressed for gzip).
    pub bytes: u64,
    /// Bytes on disk (compressed size for gzip), when known.
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
    /// A gzip stream ended early (a truncated archive); what was decompressed is kept.
    #[error("{path}: gzip stream truncated or corrupt after {bytes} decompressed bytes: {message}")]
    GzipTruncated {
        /// The path.
        path: String,
        /// Bytes decompressed before the error.
        bytes: u64,
        /// The decoder's message.
        message: String,
    },
    /// Decompression stopped at a limit (a decompression bomb, or a limit set too low).
    #[error("{path}: decompression stopped at {bytes} bytes: {reason}")]
    GzipLimit {
        /// The path.
        path: String,
        /// Bytes decompressed when stopped.
        bytes: u64,
        /// Which limit.
        reason: String,
    },
    /// The input shrank while it was read (logrotate `copytruncate`): what lay beyond was lost.
    #[error(
        "{path}: truncated during scan: {size} bytes when opened, only {read_to} could be read"
    )]
    TruncatedDuringScan {
        /// The path.
        path: String,
        /// Its size when opened.
        size: u64,
        /// Where reading ended.
        read_to: u64,
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
