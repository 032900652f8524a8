//! When to memory-map an input.
//!
//! Mapping is fastest for large plain files, but if another process truncates a mapped file
//! (logrotate's `copytruncate` on the live audit log), touching the lost pages kills the process
//! with SIGBUS. So, like ripgrep, blastradius maps only a handful of explicitly named regular
//! files, and in `auto` mode also only files that have not been written to in the last minute
//! (the live log is written continuously). Everything else is read with large `read` calls; both
//! paths feed the same chunks to the same parsing core.
//! See: <https://github.com/BurntSushi/ripgrep/blob/master/crates/searcher/src/searcher/mmap.rs>

use std::fs::File;
use std::time::{Duration, SystemTime};

use memmap2::{Advice, Mmap};

/// The `--mmap` choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MmapChoice {
    /// Map up to 10 quiescent regular files; read everything else.
    #[default]
    Auto,
    /// Map every plain regular file (risks SIGBUS if a file is truncated while mapped).
    Always,
    /// Never map; always read.
    Never,
}

/// A file counts as quiescent when it was last modified at least this long ago.
pub const QUIESCENT_AFTER: Duration = Duration::from_secs(60);

/// Files smaller than this are read: mapping them costs more than it saves.
pub const MIN_MAP_BYTES: u64 = 1 << 20;

/// At most this many files are mapped in `auto` mode (ripgrep's rule).
pub const MAX_AUTO_FILES: usize = 10;

impl MmapChoice {
    /// Whether this plain file should be mapped, given how many files the scan has.
    pub fn wants_map(self, file: &File, file_count: usize) -> bool {
        let Ok(meta) = file.metadata() else {
            return false;
        };
        if !meta.is_file() || meta.len() == 0 || cfg!(target_os = "macos") {
            return false;
        }
        match self {
            MmapChoice::Never => false,
            MmapChoice::Always => true,
            MmapChoice::Auto => {
                let quiescent = meta
                    .modified()
                    .ok()
                    .and_then(|m| SystemTime::now().duration_since(m).ok())
                    .is_some_and(|age| age >= QUIESCENT_AFTER);
                file_count <= MAX_AUTO_FILES && meta.len() >= MIN_MAP_BYTES && quiescent
            }
        }
    }
}

/// Maps `file` read-only, or `None` (the caller then reads it) if mapping fails.
pub fn map(file: &File) -> Option<Mmap> {
    // SAFETY: memmap2 requires that the file is not modified while mapped; truncation would make
    // page accesses raise SIGBUS. `MmapChoice::wants_map` only approves files the user named that
    // are quiescent (auto) or that the user explicitly asked to map (`--mmap always`), and the
    // documentation of `--mmap` states the risk. Appends do not invalidate the mapped range.
    let map = unsafe { Mmap::map(file) }.ok()?;
    #[cfg(unix)]
    {
        // Best effort: a failed advice only costs speed, and mapped audit data stays out of cores.
        let _ = map.advise(Advice::Sequential);
        let _ = map.advise(Advice::DontDump);
    }
    Some(map)
}
