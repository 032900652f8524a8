//! Allocations in the steady state of a scan: a counting global allocator (this test binary
//! only, see Cargo.toml's `[[test]] alloc`) around a whole in-process `blastradius scan`, on a
//! log of N and of 2N entries that hold the same distinct values (one generated block repeated,
//! each copy later in time than the one before). What the second N entries allocate is the
//! per-entry cost; state that grows with distinct tokens, paths or tenants is the same in both.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Bytes allocated and not yet freed, and the most there were since the last reset.
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);
/// The counters are global: one measured scan at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes as u64, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter has no effect
// on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        grew(layout.size());
        // SAFETY: the caller's contract for `layout` is passed on as it is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        grew(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        grew(new_size);
        shrank(layout.size());
        // SAFETY: `ptr` was allocated by this allocator (that is, by `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn scan_allocations(log: &Path, out: &Path) -> u64 {
    scan_counted(log, out).allocations
}

/// What one in-process run allocated.
struct Counted {
    allocations: u64,
    /// The most bytes live at once during the run, above what was live before it.
    peak_bytes: u64,
}

fn scan_counted(log: &Path, out: &Path) -> Counted {
    run_counted(&["scan"], log, out)
}

/// Runs `blastradius --quiet <command...> --threads 1 --mmap always -f json -o out log`.
fn run_counted(command: &[&str], log: &Path, out: &Path) -> Counted {
    use clap::Parser;
    let mut args: Vec<&OsStr> = vec!["blastradius".as_ref(), "--quiet".as_ref()];
    args.extend(command.iter().map(AsRef::<OsStr>::as_ref));
    args.extend::<[&OsStr; 9]>([
        "--threads".as_ref(),
        "1".as_ref(),
        "--mmap".as_ref(),
        "always".as_ref(),
        "-f".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        log.as_os_str(),
    ]);
    let cli = blastradius::cli::Cli::parse_from(args);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    blastradius::commands::run(cli).expect("the command runs");
    Counted {
        allocations: ALLOCATIONS.load(Ordering::Relaxed) - before,
        peak_bytes: PEAK.load(Ordering::Relaxed).saturating_sub(live),
    }
}

/// A 2 MiB generated log (default shape, seed 1), one line per entry.
fn block() -> Vec<String> {
    block_of(blastradius::synth::Shape::default())
}

/// A 2 MiB generated log of `shape` (seed 1), one line per entry.
fn block_of(shape: blastradius::synth::Shape) -> Vec<String> {
    let mut opts = blastradius::synth::Options::new(2 << 20, 1);
    opts.shape = shape;
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
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
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

/// The same on the busy shape (issue 18: full `auth` blocks, 20,000 tokens, 2,000 tenants,
/// 16,000 secret paths): a token's later requests, its display name, entity, policies and
/// addresses already recorded, and the rules' correlation groups allocate nothing either.
/// About 0.05 per entry are left (amortised growth, activity buckets); the lease strings
/// `scan` kept until it stopped keeping leases were 0.04 more.
#[test]
fn the_steady_state_of_a_busy_scan_allocates_almost_nothing_per_entry() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let block = block_of(blastradius::synth::Shape::busy());
    let out = dir.path().join("report.json");
    let base = scan_allocations(&write_copies(dir.path(), &block, 8), &out);
    let more = scan_allocations(&write_copies(dir.path(), &block, 16), &out);
    let added = block.len() as u64 * 8;
    let per_entry = more.saturating_sub(base) as f64 / added as f64;
    eprintln!(
        "busy: {base} allocations for 8 copies, {more} for 16: {per_entry:.4} per added entry"
    );
    assert!(base > 10_000, "the counter counts: {base}");
    assert!(
        per_entry < 0.07,
        "{per_entry:.3} allocations per entry in the busy steady state ({base} -> {more} for {added} more entries)"
    );
}

/// A log of `pairs` KV v2 reads (request and response), each of its own secret path, by 100
/// tokens taking turns; one token reads from the pivot address 203.0.113.66.
fn distinct_paths(dir: &Path, pairs: usize) -> PathBuf {
    use std::io::Write;
    let path = dir.join(format!("paths-{pairs}.log"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..pairs {
        let t = i % 100;
        let addr = if t == 0 {
            "203.0.113.66".to_string()
        } else {
            format!("10.0.0.{t}")
        };
        let auth = format!(
            r#""auth":{{"client_token":"hmac-sha256:{t:064x}","accessor":"hmac-sha256:{:064x}","display_name":"approle","policies":["default"],"token_type":"service"}}"#,
            t + 1000
        );
        let req = format!(
            r#""request":{{"id":"r-{i:032x}","operation":"read","mount_point":"kv/","mount_type":"kv","path":"kv/data/tenant-{:02}/app-{i:08}/db","remote_address":"{addr}"}}"#,
            i % 20
        );
        let time = format!(
            "2026-11-02T{:02}:{:02}:{:02}.{:03}Z",
            i / 3_600_000,
            i / 60_000 % 60,
            i / 1000 % 60,
            i % 1000
        );
        writeln!(f, r#"{{"time":"{time}","type":"request",{auth},{req}}}"#).unwrap();
        writeln!(
            f,
            r#"{{"time":"{time}","type":"response",{auth},{req},"response":{{"data":{{"data":{{"password":"hmac-sha256:{i:064x}"}}}}}}}}"#
        )
        .unwrap();
    }
    f.flush().unwrap();
    path
}

/// Issue 18: state grows with distinct values, and by how much is a figure to hold. The heap's peak
/// for 8,000 distinct secret paths less its peak for 4,000, per added path, must stay under a
/// ceiling measured on this log. Until 7bacf0a the pair was 2,000 and 4,000 paths (scan 1,869 B
/// and blast 906 B at 7c29ed2; 1,579 B and 640 B once the lineage's path records were boxed, with
/// boxed strings; scan 1,293 B once secrets shared their readers' records; 1,260 B and 574 B with
/// 56-byte read records; blast 475 B once identities were re-keyed in place; 957 B and 371 B once
/// each record's names shared one block and evidence locations shared their file's name; scan
/// 931 B with boxed report records; 862 B once the secrets were sorted as (path, record) pairs).
/// The smaller run's peak fell at the report (with fixed memory: the JSON buffers) while the larger
/// one's stayed where the secrets become report records, and the difference of two peaks taken at
/// different moments is no per-path figure: both sizes now peak at the same moment (854 B and
/// 372 B at 7bacf0a and after). The scan's ceiling leaves about 15% for drift: a record that
/// grows a field per path, the path records back in the hash table's slots, or `blast` keeping
/// the scope table again, goes over it. The issue's target is 400 bytes: `blast` meets it, and
/// its ceiling is the target; `scan` does not yet.
#[test]
fn state_per_distinct_secret_path_stays_under_its_ceiling() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let (small, large) = (
        distinct_paths(dir.path(), 4000),
        distinct_paths(dir.path(), 8000),
    );
    let blast = ["blast", "--ip", "203.0.113.66"];
    for (command, ceiling) in [(&["scan"][..], 1_000), (&blast[..], 400)] {
        let a = run_counted(command, &small, &out);
        let b = run_counted(command, &large, &out);
        assert!(
            a.peak_bytes > 512 << 10,
            "the counter counts: {}",
            a.peak_bytes
        );
        let per_path = b.peak_bytes.saturating_sub(a.peak_bytes) / 4000;
        eprintln!(
            "{}: peak {} -> {} bytes, {per_path} per distinct path",
            command[0], a.peak_bytes, b.peak_bytes
        );
        assert!(
            per_path < ceiling,
            "{}: {per_path} bytes per distinct path, ceiling {ceiling}",
            command[0]
        );
    }
}
