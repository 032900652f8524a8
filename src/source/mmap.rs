//! When to memory-map an input.
//!
//! Mapping is fastest for large plain files, but if another process truncates a mapped file
//! (logrotate's `copytruncate` on the live audit log), touching the lost pages kills the process
//! with SIGBUS. A file quiet for a minute was once thought safe, but a quiet night followed by
//! `copytruncate` is the normal case, so `auto` maps nothing: only `--mmap always` maps, at the
//! user's risk. Everything else is read with large `read` calls (linear in line length); both
//! paths feed the same chunks to the same parsing core.
//! See: <https://github.com/BurntSushi/ripgrep/blob/master/crates/searcher/src/searcher/mmap.rs>

use std::fs::File;

use memmap2::{Advice, Mmap};

/// The `--mmap` choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MmapChoice {
    /// Read every input (a mapped file truncated by another process raises SIGBUS).
    #[default]
    Auto,
    /// Map every plain regular file (risks SIGBUS if a file is truncated while mapped).
    Always,
    /// Never map; always read.
    Never,
}

impl MmapChoice {
    /// Whether this plain file should be mapped, given how many files the scan has.
    pub fn wants_map(self, file: &File, _file_count: usize) -> bool {
        let Ok(meta) = file.metadata() else {
            return false;
        };
        if !meta.is_file() || meta.len() == 0 || cfg!(target_os = "macos") {
            return false;
        }
        match self {
            MmapChoice::Never => false,
            MmapChoice::Always => true,
            // A quiet file is no protection: logrotate `copytruncate` after a quiet night
            // truncates exactly such a file, and SIGBUS then killed the scan with no report. No
            // default mode may be killed by a truncation, so `auto` reads; the read path is
            // linear and checks for shrinking (see `produce`). `--mmap always` keeps the risk.
            MmapChoice::Auto => false,
        }
    }
}

/// Maps `file` read-only, or `None` (the caller then reads it) if mapping fails.
pub fn map(file: &File) -> Option<Mmap> {
    // SAFETY: memmap2 requires that the file is not modified while mapped; truncation would make
    // page accesses raise SIGBUS. `MmapChoice::wants_map` approves files only when the user
    // explicitly asked to map (`--mmap always`; `auto` maps nothing), and the documentation of
    // `--mmap` states the risk. Appends do not invalidate the mapped range.
    let map = unsafe { Mmap::map(file) }.ok()?;
    #[cfg(unix)]
    {
        // Best effort: a failed advice only costs speed, and mapped audit data stays out of cores.
        let _ = map.advise(Advice::Sequential);
        let _ = map.advise(Advice::DontDump);
    }
    Some(map)
}
