//! Where reports go: standard output, or a file opened under the rules of
//! [`crate::write_target`] (links followed only when the invoking user or root owns them, created
//! 0600 and replaced atomically; devices, pipes and sockets written in place).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use super::CommandError;
use crate::write_target::{self, Commit, Parents};

/// An output destination.
pub enum Output {
    /// Standard output, buffered.
    Stdout(BufWriter<io::Stdout>),
    /// A file, or a device written in place, put into place on `finish`.
    File {
        /// Where the bytes go.
        file: BufWriter<std::fs::File>,
        /// How it gets into place.
        commit: Commit,
    },
}

/// The buffer in front of the destination. Writes at least this long bypass it, and the JSON
/// renderers write their own 64 KiB chunks and a long list's rendered chunks (tens of KB
/// each): at 64 KiB, those chunks were copied through the buffer.
const BUFFER: usize = 1 << 15;

impl Output {
    /// Opens `path`, or standard output when `None`.
    pub fn open(path: Option<&Path>) -> Result<Output, CommandError> {
        let Some(path) = path else {
            return Ok(Output::Stdout(BufWriter::with_capacity(
                BUFFER,
                io::stdout(),
            )));
        };
        let staged =
            write_target::open(path, ".blastradius-", Parents::MustExist).map_err(|source| {
                CommandError::Output {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        Ok(Output::File {
            file: BufWriter::with_capacity(BUFFER, staged.file),
            commit: staged.commit,
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
            Output::File { file, .. } => file,
        }
    }

    /// Flushes, and for files syncs and renames into place.
    pub fn finish(self) -> Result<(), CommandError> {
        match self {
            Output::Stdout(mut w) => write_result(w.flush(), "-"),
            Output::File { file, commit } => {
                let path = commit.path().display().to_string();
                let err = |source| CommandError::Output {
                    path: path.clone(),
                    source,
                };
                let file = match file.into_inner() {
                    Ok(f) => f,
                    // A pipe whose reader left, as for standard output.
                    Err(e) if matches!(commit, Commit::InPlace { .. }) => {
                        return write_result(Err(e.into_error()), &path);
                    }
                    Err(e) => return Err(err(e.into_error())),
                };
                commit.finish(file).map_err(err)?;
                Ok(())
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
