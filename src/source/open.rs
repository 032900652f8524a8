//! Opening an input, and noticing when it changes under the scan.
//!
//! A plain file is read while the audit device may still append to it, and logrotate may
//! truncate (`copytruncate`) or rename (`create`) it at any moment. Growth is normal; anything
//! else means bytes the scan counted on were lost or the path now holds another file, and the
//! input is then incomplete (`truncated-during-scan`), never silently partial:
//!
//! * while reading, every [`CHECK_EVERY`] bytes, the file's size must not be below the
//!   position read to (a truncation that the file outgrew again before the end of reading);
//! * at the end, the size must not be below the position read to (nor, for a plain file, below
//!   the size seen at open), and the path must still name the file that was read.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::Path;

use memmap2::Mmap;

use super::decode::{MAGIC_LEN, Recognised, recognise};
use super::{Compression, Input, InputPath, ReadOptions, SourceError};

/// An input ready to be read.
pub enum Opened {
    /// A memory-mapped plain file (the map holds no file descriptor).
    Mapped(Mmap),
    /// A regular file to read, plain or compressed.
    File {
        /// The open file.
        file: File,
        /// Its compression.
        compression: Compression,
        /// Its size on disk when opened.
        stored: u64,
        /// Which file it is.
        id: FileId,
    },
    /// A FIFO, character device or socket: read once from the start, like standard input.
    Pipe(File),
    /// Standard input.
    Stdin,
}

/// Device and inode of an open file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

impl Opened {
    /// Opens an input, recognising compression by magic bytes and mapping where the policy
    /// allows.
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
        // A FIFO blocks here until its writer opens it, as `cat` would.
        let file = File::open(path).map_err(err)?;
        let meta = file.metadata().map_err(err)?;
        let kind = meta.file_type();
        if kind.is_fifo() || kind.is_char_device() || kind.is_socket() {
            // No size, no seeking (`read_at` failed with "Illegal seek"): a stream like `-`.
            return Ok(Opened::Pipe(file));
        }
        let mut magic = [0u8; MAGIC_LEN];
        let n = read_at_most(&file, &mut magic).map_err(err)?;
        let compression = match recognise(&magic[..n]) {
            Recognised::Readable(c) => c,
            Recognised::Unsupported(format) => {
                return Err(SourceError::UnsupportedCompression {
                    path: input.display.clone(),
                    format,
                });
            }
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
            stored: meta.len(),
            id: FileId::of(&meta),
        })
    }
}

/// Reads the start of a regular file into `buf`, as much as there is.
fn read_at_most(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// How often (in bytes read) [`ShrinkWatch`] compares the file's size with the position.
pub const CHECK_EVERY: u64 = 16 << 20;

/// A plain file's reader that fails as soon as the file is seen shorter than the position
/// read to: the bytes beyond are gone, and what is read from there on belongs to other lines.
pub struct ShrinkWatch<'f> {
    file: &'f File,
    pos: u64,
    checked: u64,
}

/// The error [`ShrinkWatch`] returns.
#[derive(Debug, thiserror::Error)]
#[error("file shrank to {now} bytes after {pos} were read")]
pub struct Shrank {
    /// The size seen.
    pub now: u64,
    /// The position read to.
    pub pos: u64,
}

impl<'f> ShrinkWatch<'f> {
    /// Watches `file`, read from `pos` on.
    pub fn new(file: &'f File, pos: u64) -> Self {
        ShrinkWatch {
            file,
            pos,
            checked: pos,
        }
    }
}

impl Read for ShrinkWatch<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&*self.file).read(buf)?;
        self.pos += n as u64;
        if self.pos - self.checked >= CHECK_EVERY {
            self.checked = self.pos;
            let now = self.file.metadata()?.len();
            if now < self.pos {
                return Err(io::Error::other(Shrank { now, pos: self.pos }));
            }
        }
        Ok(n)
    }
}

/// What reading a regular file ended with, for [`check_unchanged`].
pub struct ReadEnd {
    /// The position read to in the file (compressed inputs: unknown).
    pub read_to: Option<u64>,
    /// The size seen at open.
    pub stored: u64,
    /// The file read.
    pub id: FileId,
}

/// The end-of-read check: a plain file must not have shrunk below where reading ended or below
/// its size at open, and the path must still name the same file.
pub fn check_unchanged(input: &Input, file: &File, end: &ReadEnd) -> Option<SourceError> {
    let display = || input.display.clone();
    let now = file.metadata().map(|m| m.len()).unwrap_or(0);
    if let Some(read_to) = end.read_to
        && (read_to < end.stored || now < read_to)
    {
        return Some(SourceError::TruncatedDuringScan {
            path: display(),
            size: end.stored,
            read_to,
            now,
        });
    }
    let InputPath::File(path) = &input.path else {
        return None;
    };
    let what = match std::fs::metadata(Path::new(path)) {
        Ok(m) if FileId::of(&m) == end.id => return None,
        Ok(_) => "another file has its name now".to_string(),
        Err(e) => format!("its name is gone: {e}"),
    };
    Some(SourceError::ReplacedDuringScan {
        path: display(),
        what,
    })
}

/// True when `input` is a regular file whose first bytes name a format blastradius decompresses.
/// Only a hint for scheduling (`scan` reads such inputs ahead of the one being analysed): the
/// input is opened and recognised again when it is read. FIFOs are not opened here, since
/// opening one blocks until its writer appears.
pub fn compressed_file(input: &Input) -> bool {
    let InputPath::File(path) = &input.path else {
        return false;
    };
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut magic = [0u8; MAGIC_LEN];
    let n = read_at_most(&file, &mut magic).unwrap_or(0);
    matches!(recognise(&magic[..n]), Recognised::Readable(c) if c != Compression::None)
}
