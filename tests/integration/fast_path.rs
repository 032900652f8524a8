//! The request fast path (`parse::fast`) against the full parser (simd-json), on mutated real
//! lines: whenever the fast path takes an entry, the full parser must accept it as a request with
//! the same `time` and `request.id` (the only fields the fast path extracts). An entry the fast
//! path takes but the full parser rejects would be a malformed line the scan never reports.
//!
//! Lines come from the real-world corpus in ../shared/corpus (read at test time, never copied
//! into the repository; that part is skipped when the corpus is absent), the fixtures and the
//! generator's two shapes.

use std::path::{Path, PathBuf};

use blastradius::parse::Parser;
use blastradius::parse::fast::{FastPath, request_header};
use blastradius::parse::fuzzing::{FullHeader, full_header};
use blastradius::parse::skim::Implementation;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::Value;

use crate::util::{bin, fixture, json_diff, root};

/// The corpus directory beside the checkout, if there is one.
pub(crate) fn corpus() -> Option<PathBuf> {
    let mut dir = Some(root());
    while let Some(d) = dir {
        let c = d.join("shared/corpus");
        if c.is_dir() {
            return Some(c);
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    None
}

pub(crate) fn lines_of(path: &Path) -> Vec<Vec<u8>> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii().to_vec())
        .filter(|l| !l.is_empty())
        .collect()
}

pub(crate) fn generated(shape: blastradius::synth::Shape) -> Vec<Vec<u8>> {
    let options = blastradius::synth::Options {
        shape,
        ..blastradius::synth::Options::new(200_000, 7)
    };
    let mut log = Vec::new();
    blastradius::synth::generate(&options, &mut log).expect("generates into memory");
    log.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Request entries the fast path takes unmutated: the seeds of the mutations. Corpus lines
/// first (when present), then fixtures, then generated lines.
fn seeds() -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = corpus()
        .and_then(|c| std::fs::read_dir(c).ok())
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.push(fixture("openbao-2.7/basic.log"));
    files.push(fixture("incident/audit.log"));
    let mut all: Vec<Vec<u8>> = files.iter().flat_map(|f| lines_of(f)).collect();
    all.extend(generated(Default::default()));
    all.extend(generated(blastradius::synth::Shape::busy()));
    all.retain(|l| request_header(l).is_some());
    all.sort();
    all.dedup();
    all
}

fn seeds_cached() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(seeds)
}

/// Whether the fast path and the full parser agree on `line`: the fast path may decline, but
/// what it takes the full parser accepts, as a request, with the same time and id. Returns
/// whether the fast path took it. Every implementation of the structural pass this CPU runs
/// (the scalar one included) must answer exactly as the one the scan picks.
fn agree(parser: &mut Parser, line: &[u8]) -> bool {
    let picked = request_header(line);
    for implementation in Implementation::available() {
        let mut fast = FastPath::with_implementation(implementation);
        assert_eq!(
            fast.request_header(line),
            picked,
            "{implementation:?}: {}",
            String::from_utf8_lossy(line)
        );
    }
    let Some(h) = picked else {
        return false;
    };
    let shown = String::from_utf8_lossy(line);
    let FullHeader { ty, time, id, .. } = match full_header(parser, line) {
        Ok(f) => f,
        Err(e) => panic!("the fast path took a line the full parser rejects ({e}): {shown}"),
    };
    assert_eq!(ty.as_deref(), Some("request"), "{shown}");
    assert_eq!(time.as_deref(), Some(h.time), "{shown}");
    assert_eq!(id.as_deref(), h.id, "{shown}");
    // serde_json, a second full parser, agrees that the line is valid JSON.
    assert!(
        serde_json::from_slice::<Value>(line).is_ok(),
        "serde_json rejects a line the fast path took: {shown}"
    );
    true
}

/// Bytes that change JSON's structure when put anywhere in a line.
pub(crate) const STRUCTURAL: &[u8] = b"{}[]:,\"\\ 0-.etfnu\x01\x7f\xff";

#[test]
fn there_are_seeds_from_every_source() {
    let seeds = seeds_cached();
    let generated = seeds
        .iter()
        .filter(|l| l.windows(9).any(|w| w == b"tenant-19"))
        .count();
    assert!(seeds.len() > 300, "{} seeds", seeds.len());
    assert!(generated > 0, "no busy-shape seeds");
    if corpus().is_none() {
        eprintln!("../shared/corpus not found: mutating fixtures and generated lines only");
    }
}

/// Every single-byte deletion and every replacement by a structural byte, at every position of
/// a few seeds of each kind: deterministic and exhaustive where proptest samples.
#[test]
fn every_one_byte_edit_of_some_seeds_is_agreed_on() {
    let seeds = seeds_cached();
    let mut parser = Parser::new();
    let (mut tried, mut taken) = (0usize, 0usize);
    let step = (seeds.len() / 12).max(1);
    for seed in seeds.iter().step_by(step) {
        for pos in 0..seed.len() {
            let mut deleted = seed.clone();
            deleted.remove(pos);
            tried += 1;
            taken += usize::from(agree(&mut parser, &deleted));
            for &b in STRUCTURAL {
                if seed[pos] == b {
                    continue;
                }
                let mut replaced = seed.clone();
                replaced[pos] = b;
                tried += 1;
                taken += usize::from(agree(&mut parser, &replaced));
            }
        }
    }
    // Edits inside string values keep the line valid: the fast path still takes those, so the
    // comparison above was not vacuous.
    assert!(tried > 100_000 && taken > tried / 10, "{taken} of {tried}");
}

/// One mutation of a seed line.
#[derive(Clone, Debug)]
pub(crate) enum Mutation {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    /// Copies `len` bytes from one place to another (duplicated keys, values, brackets).
    Splice {
        from: usize,
        len: usize,
        to: usize,
    },
    Truncate(usize),
}

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![3 => proptest::sample::select(STRUCTURAL), 1 => any::<u8>()]
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<prop::sample::Index>();
    prop_oneof![
        (at.clone(), byte()).prop_map(|(i, b)| Mutation::Replace(i.index(usize::MAX), b)),
        (at.clone(), byte()).prop_map(|(i, b)| Mutation::Insert(i.index(usize::MAX), b)),
        at.clone()
            .prop_map(|i| Mutation::Delete(i.index(usize::MAX))),
        (at.clone(), 1usize..40, at.clone()).prop_map(|(f, len, t)| Mutation::Splice {
            from: f.index(usize::MAX),
            len,
            to: t.index(usize::MAX),
        }),
        at.prop_map(|i| Mutation::Truncate(i.index(usize::MAX))),
    ]
}

/// Applies `m` to `line`; positions are taken modulo the line's length.
pub(crate) fn apply(line: &mut Vec<u8>, m: &Mutation) {
    if line.is_empty() {
        return;
    }
    let n = line.len();
    match *m {
        Mutation::Replace(i, b) => line[i % n] = b,
        Mutation::Insert(i, b) => line.insert(i % (n + 1), b),
        Mutation::Delete(i) => {
            line.remove(i % n);
        }
        Mutation::Splice { from, len, to } => {
            let from = from % n;
            let piece = line[from..(from + len).min(n)].to_vec();
            let to = to % (n + 1);
            line.splice(to..to, piece);
        }
        Mutation::Truncate(i) => line.truncate(i % n),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// Up to four random mutations of a random seed (corpus, fixture or generated line).
    #[test]
    fn the_fast_path_and_the_full_parser_agree_on_mutated_real_lines(
        pick in any::<prop::sample::Index>(),
        ms in prop::collection::vec(mutation(), 1..5),
    ) {
        let seeds = seeds_cached();
        let mut line = pick.get(seeds).clone();
        for m in &ms {
            apply(&mut line, m);
        }
        agree(&mut Parser::new(), &line);
    }
}

/// The whole scan: `scan --strict` (every entry parsed by simd-json) and the default scan
/// report the same on a log of mutated lines: the same malformed lines, with the same kinds and
/// places, and the same analyses of the rest.
#[test]
fn scan_strict_and_the_fast_path_give_the_same_report_on_mutated_lines() {
    let seeds: Vec<&Vec<u8>> = seeds_cached().iter().take(600).collect();
    strict_and_default_scans_agree_on_mutations_of(&seeds);
}

/// Writes a log of `seeds`, two of every three mutated (deterministically), and checks that
/// `scan --strict` and the default scan give the same exit code and JSON report, with more
/// than 50 malformed lines among them.
pub(crate) fn strict_and_default_scans_agree_on_mutations_of(seeds: &[&Vec<u8>]) {
    let mut log = Vec::new();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let edits = prop::collection::vec(mutation(), 0..3);
    for (i, seed) in seeds.iter().enumerate() {
        let mut line = seed.to_vec();
        if i % 3 != 0 {
            for m in edits.new_tree(&mut runner).unwrap().current() {
                apply(&mut line, &m);
            }
        }
        line.retain(|&b| b != b'\n');
        log.extend_from_slice(&line);
        log.push(b'\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutated.log");
    std::fs::write(&path, &log).unwrap();
    let report = |strict: bool| {
        let mut c = bin();
        c.args(["scan", "-f", "json", "--max-malformed", "1000000"]);
        c.args(["--threads", "1"]);
        if strict {
            c.arg("--strict");
        }
        let out = c.arg(&path).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v)
    };
    let (fast_code, fast) = report(false);
    let (strict_code, strict) = report(true);
    assert_eq!(fast_code, strict_code);
    let malformed = fast
        .pointer("/stats/malformed_lines")
        .and_then(Value::as_u64);
    assert!(
        malformed.is_some_and(|n| n > 50),
        "the mutations made too few malformed lines: {malformed:?}"
    );
    let diff = json_diff(&fast, &strict);
    assert!(diff.is_empty(), "{diff:#?}");
}
