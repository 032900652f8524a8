//! Allocations in the steady state of a scan: a counting global allocator (this test binary
//! only, see Cargo.toml's `[[test]] alloc`) around a whole in-process `blastradius scan`, on a
//! log of N and of 2N entries that hold the same distinct values (one generated block repeated,
//! each copy later in time than the one before). What the second N entries allocate is the
//! per-entry cost; state that grows with distinct tokens, paths or tenants is the same in both.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter has no effect
// on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `layout` is passed on as it is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by this allocator (that is, by `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn scan_allocations(log: &Path, out: &Path) -> u64 {
    use clap::Parser;
    let args: [&OsStr; 12] = [
        "blastradius".as_ref(),
        "--quiet".as_ref(),
        "scan".as_ref(),
        "--threads".as_ref(),
        "1".as_ref(),
        "--mmap".as_ref(),
        "always".as_ref(),
        "-f".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        log.as_os_str(),
    ];
    let cli = blastradius::cli::Cli::parse_from(args);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    blastradius::commands::run(cli).expect("scan runs");
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// A 2 MiB generated log (default shape, seed 1), one line per entry.
fn block() -> Vec<String> {
    let opts = blastradius::synth::Options::new(2 << 20, 1);
    let mut out = Vec::new();
    blastradius::synth::generate(&opts, &mut out).expect("generates into memory");
    String::from_utf8(out)
        .expect("the generator writes UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// `copies` copies of `block`, each shifted in time past the end of the one before, so that
/// time windows move on as in a longer log.
fn write_copies(dir: &Path, block: &[String], copies: i32) -> PathBuf {
    use std::io::Write;
    let first = time_of(&block[0]);
    let last = time_of(block.last().expect("a non-empty block"));
    let span = last - first + chrono::TimeDelta::seconds(1);
    let path = dir.join(format!("copies-{copies}.log"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for c in 0..copies {
        for l in block {
            let shifted =
                (time_of(l) + span * c).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            let old = format!("\"time\":\"{}\"", raw_time(l));
            writeln!(
                f,
                "{}",
                l.replacen(&old, &format!("\"time\":\"{shifted}\""), 1)
            )
            .unwrap();
        }
    }
    f.flush().unwrap();
    path
}

fn raw_time(l: &str) -> &str {
    let i = l.find("\"time\":\"").expect("every entry has a time") + 8;
    let j = i + l[i..].find('"').expect("a closed time string");
    &l[i..j]
}

fn time_of(l: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(raw_time(l))
        .expect("an RFC 3339 time")
        .to_utc()
}

/// Once every distinct value has been seen (8 copies: every secret's evidence sample is full),
/// 8 more copies allocate less than one allocation per 10 entries. Before the lineage pass
/// reused a buffer for joined policies and qualified paths this was 1.7 per entry; what is left
/// is amortised growth (`Vec`/`HashMap` doubling), activity buckets per minute of log time, and
/// one `String` per lease record (each issued lease is a distinct value in a real log; the
/// copies repeat them).
#[test]
fn the_steady_state_of_a_scan_allocates_almost_nothing_per_entry() {
    let dir = tempfile::tempdir().unwrap();
    let block = block();
    let out = dir.path().join("report.json");
    let base = scan_allocations(&write_copies(dir.path(), &block, 8), &out);
    let more = scan_allocations(&write_copies(dir.path(), &block, 16), &out);
    let added = block.len() as u64 * 8;
    let per_entry = more.saturating_sub(base) as f64 / added as f64;
    eprintln!("{base} allocations for 8 copies, {more} for 16: {per_entry:.4} per added entry");
    assert!(base > 10_000, "the counter counts: {base}");
    assert!(
        per_entry < 0.1,
        "{per_entry:.3} allocations per entry in the steady state ({base} -> {more} for {added} more entries)"
    );
}
