//! Throughput of each stage on a generated log (`blastradius::synth`, seed 1), in bytes/s:
//!
//! - `tape`: simd-json alone (`fill_tape_padded` on a reused buffer, tape and `Buffers`) on every line:
//!   the floor of any pass that parses every entry in full;
//! - `parse`: line -> `Entry` (simd-json tape + field extraction) on every line;
//! - `parse_and_rules`: the same plus the built-in rule pack on every response (the rules' own
//!   cost is the difference);
//! - `scan`: the whole pass of `blastradius scan` (`scan::run`: chunking, parsing, pairing,
//!   rules, scope, gaps, merge) on one worker thread, reading a memory map of a file in
//!   /dev/shm (RAM) so that no disk is involved;
//! - `structural/<implementation>`: the skimming reader's structural pass alone
//!   (`parse::skim::Structurals::index`, token starts into a reused buffer) on every line, once
//!   per implementation this CPU runs, and `structural/fast_path`: the request fast path
//!   (pass + tape-free grammar check) on every line (responses leave at its layout check).
//!
//! Run: `cargo bench --bench pipeline` (`-- parse` for one group). Sizes: `BENCH_LOG_BYTES`
//! (default 16 MiB).

use std::hint::black_box;

use blastradius::detect::Detector;
use blastradius::model::Loc;
use blastradius::parse::Parser;
use blastradius::parse::fast::FastPath;
use blastradius::parse::skim::{Implementation, Structurals};
use blastradius::rules::RuleSet;
use blastradius::scan::{self, Analysers, ScanSettings};
use blastradius::source::discover;
use blastradius::source::mmap::MmapChoice;
use blastradius::synth::{Options, Shape, generate};
use blastradius::tenant::TenantMap;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CHUNK: usize = 4 << 20;

fn log_bytes() -> u64 {
    std::env::var("BENCH_LOG_BYTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16 << 20)
}

fn generated() -> Vec<u8> {
    let mut log = Vec::new();
    // BENCH_SHAPE=busy: the busy-cluster shape (issue 18's cardinalities).
    let shape = match std::env::var("BENCH_SHAPE").as_deref() {
        Ok("busy") => Shape::busy(),
        _ => Shape::default(),
    };
    let options = Options {
        shape,
        ..Options::new(log_bytes(), 1)
    };
    generate(&options, &mut log).expect("generates into memory");
    log
}

/// Newline-aligned chunks of about `CHUNK` bytes, as the source stage cuts them.
fn chunks(log: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = log;
    while !rest.is_empty() {
        let cut = if rest.len() <= CHUNK {
            rest.len()
        } else {
            memchr::memchr(b'\n', &rest[CHUNK..]).map_or(rest.len(), |i| CHUNK + i + 1)
        };
        let (chunk, tail) = rest.split_at(cut);
        out.push(chunk);
        rest = tail;
    }
    out
}

/// Parses every line of every chunk; `on_event` sees each response entry.
fn parse_all(
    parser: &mut Parser,
    chunks: &[&[u8]],
    mut on_event: impl FnMut(&blastradius::model::Entry<'_>, Loc),
) -> u64 {
    let mut events = 0u64;
    for (c, chunk) in chunks.iter().enumerate() {
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            parser.parse_one(&chunk[start..end], |r| {
                if let Ok(ev) = r {
                    events += 1;
                    if ev.is_response() {
                        let loc = Loc {
                            offset: (c * CHUNK + start) as u64,
                            ..Loc::default()
                        };
                        on_event(&ev, loc);
                    }
                }
            });
            start = end + 1;
        }
    }
    events
}

/// simd-json's tape of every line and nothing else; returns the number of tape nodes.
fn tape_all(chunks: &[&[u8]]) -> usize {
    let mut buf = Vec::new();
    let mut buffers = simd_json::Buffers::default();
    let mut tape = simd_json::value::tape::Tape::null();
    let mut nodes = 0;
    for chunk in chunks {
        for line in chunk.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            buf.clear();
            buf.extend_from_slice(line);
            buf.extend_from_slice(&[b' '; simd_json::INPUT_PADDING]);
            let mut t = tape.reset();
            simd_json::fill_tape_padded(&mut buf, line.len(), &mut buffers, &mut t)
                .expect("generated lines are JSON");
            nodes += t.0.len();
            tape = t.reset();
        }
    }
    nodes
}

fn stages(c: &mut Criterion) {
    let log = generated();
    let chunks = chunks(&log);
    let rules = RuleSet::builtin().expect("built-in rules load");

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.sample_size(10);
    group.bench_function("tape", |b| b.iter(|| tape_all(black_box(&chunks))));
    group.bench_function("parse", |b| {
        let mut parser = Parser::new();
        b.iter(|| parse_all(&mut parser, black_box(&chunks), |_, _| {}))
    });
    group.bench_function("parse_and_rules", |b| {
        let mut parser = Parser::new();
        b.iter(|| {
            let mut state = rules.new_state();
            let mut hits = 0u64;
            parse_all(&mut parser, black_box(&chunks), |ev, loc| {
                rules.observe(ev, loc, &mut state, &mut |_| hits += 1)
            });
            hits
        })
    });

    // RAM-backed when /dev/shm exists, so the scan measures CPU, not the disk.
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm")
    } else {
        tempfile::tempdir()
    }
    .expect("temporary directory");
    let path = dir.path().join("bench.log");
    std::fs::write(&path, &log).expect("writes the log");
    let inputs = discover(&[path.display().to_string()]).expect("finds the log");
    let mut settings = ScanSettings {
        threads: 1,
        ..ScanSettings::default()
    };
    settings.read.mmap = MmapChoice::Always;
    let detector = Detector::new(&rules, settings.caps);
    let tenants = TenantMap::default();
    group.bench_function("scan", |b| {
        b.iter(|| {
            let analysers = Analysers {
                detector: &detector,
                tenants: &tenants,
                ext: &(),
                progress: None,
            };
            scan::run(black_box(&inputs), &settings, analysers, None)
                .expect("scan runs")
                .result
        })
    });
    group.finish();
}

/// Token starts of every line, by `implementation`; the count, so nothing is optimised away.
fn index_all(index: &mut Structurals, chunks: &[&[u8]]) -> usize {
    let mut n = 0;
    for chunk in chunks {
        for line in chunk.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            index.index(line);
            n += index.positions().len();
        }
    }
    n
}

fn structural(c: &mut Criterion) {
    let log = generated();
    let chunks = chunks(&log);
    let mut group = c.benchmark_group("structural");
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.sample_size(10);
    for implementation in Implementation::available() {
        let mut index = Structurals::new(implementation);
        group.bench_function(format!("{implementation:?}"), |b| {
            b.iter(|| index_all(&mut index, black_box(&chunks)))
        });
    }
    let mut fast = FastPath::default();
    group.bench_function("fast_path", |b| {
        b.iter(|| {
            let mut taken = 0usize;
            for chunk in &chunks {
                for line in chunk.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    taken += usize::from(fast.request_header(black_box(line)).is_some());
                }
            }
            taken
        })
    });
    group.finish();
}

criterion_group!(benches, stages, structural);
criterion_main!(benches);
