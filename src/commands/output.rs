//! Where reports go: standard output, or a file created 0600 and replaced atomically.
//!
//! Replacing by rename is only right for regular files. An existing device, pipe or socket
//! (`-o /dev/null`, `-o /dev/stdout`, a FIFO a log shipper reads) is written in place: renaming
//! over it would put a regular file where the device was (as root, `/dev/null` itself). A symbolic
//! link is followed, so the link stays and the file it names is replaced.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use super::CommandError;

/// An output destination.
pub enum Output {
    /// Standard output, buffered.
    Stdout(BufWriter<io::Stdout>),
    /// A temporary file in the target's directory, renamed over the target on `finish`.
    File {
        /// The temporary file.
        tmp: BufWriter<tempfile::NamedTempFile>,
        /// The final path.
        path: std::path::PathBuf,
    },
    /// An existing device, pipe or socket, written in place.
    Special {
        /// The open device.
        file: BufWriter<std::fs::File>,
        /// Its path, for errors.
        path: std::path::PathBuf,
    },
}

impl Output {
    /// Opens `path`, or standard output when `None`.
    pub fn open(path: Option<&Path>) -> Result<Output, CommandError> {
        let Some(path) = path else {
            return Ok(Output::Stdout(BufWriter::with_capacity(
                1 << 16,
                io::stdout(),
            )));
        };
        let err = |source| CommandError::Output {
            path: path.display().to_string(),
            source,
        };
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(err)?;
            return Ok(Output::Special {
                file: BufWriter::new(file),
                path: path.to_path_buf(),
            });
        }
        let path = if path.is_symlink() {
            std::fs::canonicalize(path).map_err(err)?
        } else {
            path.to_path_buf()
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // tempfile creates the file with mode 0600, which the rename keeps: reports name secrets.
        let tmp = tempfile::Builder::new()
            .prefix(".blastradius-")
            .tempfile_in(dir)
            .map_err(err)?;
        Ok(Output::File {
            tmp: BufWriter::new(tmp),
            path,
        })
    }

    /// True when writing to a terminal.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Output::Stdout(_)) && io::stdout().is_terminal()
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) => w,
            Output::File { tmp, .. } => tmp,
            Output::Special { file, .. } => file,
        }
    }

    /// Flushes, and for files syncs and renames into place.
    pub fn finish(self) -> Result<(), CommandError> {
        match self {
            Output::Stdout(mut w) => write_result(w.flush(), "-"),
            Output::File { tmp, path } => {
                let err = |source| CommandError::Output {
                    path: path.display().to_string(),
                    source,
                };
                let tmp = tmp.into_inner().map_err(|e| err(e.into_error()))?;
                tmp.as_file().sync_all().map_err(err)?;
                tmp.persist(&path).map_err(|e| err(e.error))?;
                Ok(())
            }
            Output::Special { mut file, path } => {
                write_result(file.flush(), &path.display().to_string())
            }
        }
    }
}

/// Maps a write error: a closed pipe (`| head`) is not a failure.
pub fn write_result(r: io::Result<()>, path: &str) -> Result<(), CommandError> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|source| CommandError::Output {
            path: path.to_string(),
            source,
        }),
    }
}
