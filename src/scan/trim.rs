//! Handing freed memory back to the system between the end-of-run steps.
//!
//! A scan frees its detection state (mostly the correlation events: a fifth of what a scan of
//! a 10 GB busy log holds) before it ranks the suspects. The allocator keeps freed blocks for
//! later allocations, but these lie among live ones, so it returns none of them, and the
//! ranking's large tables (above the allocator's mmap threshold) come from fresh pages: the
//! process then held both. On glibc, `malloc_trim` returns the free pages inside the heap too,
//! so the ranking grows from what the scan holds, not from its high-water mark.

/// Returns the allocator's free pages to the system, where the allocator can (glibc).
pub(super) fn return_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes the allocator's own locks and touches only its free blocks;
    // it holds no pointer of ours and has no precondition.
    unsafe {
        libc::malloc_trim(0);
    }
}
