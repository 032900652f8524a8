//! The skimming reader's tapes (`parse::skim::tape`) against simd-json's, on real and mutated
//! lines: whenever the structural pass builds a tape, simd-json must accept the entry and
//! build the same tape, node for node (the same strings, keys, container sizes and static
//! values); every implementation of the pass must answer alike. A tape simd-json would not
//! build is a malformed line the scan would never report; a different one, a different answer.
//!
//! Lines come from the real-world corpus in ../shared/corpus (read at test time, never copied
//! into the repository; that part is skipped when the corpus is absent), every fixture log and
//! the generator's two shapes.

use std::path::PathBuf;

use blastradius::parse::skim::{Implementation, Structurals, tape};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::Value;
use simd_json::Node;

use crate::fast_path::{STRUCTURAL, apply, corpus, generated, lines_of, mutation};
use crate::util::{bin, json_diff, root};

/// Every line of the corpus, the fixture logs and both generated shapes that holds an object.
fn seeds() -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = corpus()
        .and_then(|c| std::fs::read_dir(c).ok())
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    let fixtures = walkdir(&root().join("fixtures"));
    files.extend(fixtures.into_iter().filter(|f| {
        f.extension()
            .is_some_and(|e| e == "log" || e == "jsonl" || e == "json")
    }));
    files.sort();
    let mut all: Vec<Vec<u8>> = files.iter().flat_map(|f| lines_of(f)).collect();
    all.extend(generated(Default::default()));
    all.extend(generated(blastradius::synth::Shape::busy()));
    all.retain(|l| l.first() == Some(&b'{'));
    all.sort();
    all.dedup();
    all
}

fn walkdir(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// True for a response entry, in either key order Vault writes.
fn is_response(line: &[u8]) -> bool {
    const TYPE: &[u8] = br#""type":"response""#;
    line.windows(TYPE.len()).any(|w| w == TYPE)
}

fn seeds_cached() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(seeds)
}

/// The tape the pass run by `implementation` builds for `line`, if it builds one.
fn skimmed(implementation: Implementation, line: &[u8]) -> Option<Vec<Node<'_>>> {
    let mut nodes = Vec::new();
    tape::build(&mut Structurals::new(implementation), line, &mut nodes).then_some(nodes)
}

/// Whether the skimming tape and simd-json's agree on `line`: the pass may decline, but what
/// it builds simd-json builds too, node for node. Returns whether the pass built a tape.
fn agree(line: &[u8]) -> bool {
    let picked = skimmed(Implementation::best(), line);
    let shown = String::from_utf8_lossy(line);
    for implementation in Implementation::available() {
        assert_eq!(
            skimmed(implementation, line),
            picked,
            "{implementation:?}: {shown}"
        );
    }
    let Some(ours) = picked else {
        return false;
    };
    let mut copy = line.to_vec();
    let theirs = match simd_json::to_tape(&mut copy) {
        Ok(t) => t.0,
        Err(e) => panic!("the pass built a tape for a line simd-json rejects ({e}): {shown}"),
    };
    assert_eq!(ours, theirs, "{shown}");
    // serde_json, a second full parser, agrees that the line is valid JSON.
    assert!(
        serde_json::from_slice::<Value>(line).is_ok(),
        "serde_json rejects a line the pass built a tape for: {shown}"
    );
    true
}

#[test]
fn real_lines_get_simd_jsons_tape_and_most_responses_are_skimmed() {
    let seeds = seeds_cached();
    let (mut responses, mut skimmed) = (0usize, 0usize);
    for line in seeds {
        let taken = agree(line);
        if is_response(line) {
            responses += 1;
            skimmed += usize::from(taken);
        }
    }
    assert!(seeds.len() > 5000, "{} seeds", seeds.len());
    assert!(responses > 1000, "{responses} responses");
    eprintln!("the pass built tapes for {skimmed} of {responses} responses");
    // The generator writes responses in the shape the pass reads, and so do Vault and OpenBao
    // but for values with escapes (error texts, HCL policies) and pretty-printed logs.
    assert!(
        skimmed * 10 >= responses * 7,
        "the pass built tapes for {skimmed} of {responses} responses"
    );
}

/// Every single-byte deletion and every replacement by a structural byte, at every position of
/// six seeds: deterministic and exhaustive where proptest samples (six keep the debug build's
/// run near half a minute).
#[test]
fn every_one_byte_edit_of_some_seeds_is_agreed_on() {
    let seeds: Vec<&Vec<u8>> = seeds_cached()
        .iter()
        .filter(|l| agree(l) && l.len() < 2500)
        .collect();
    let (mut tried, mut taken) = (0usize, 0usize);
    let step = (seeds.len() / 6).max(1);
    for seed in seeds.iter().step_by(step) {
        for pos in 0..seed.len() {
            let mut deleted = seed.to_vec();
            deleted.remove(pos);
            tried += 1;
            taken += usize::from(agree(&deleted));
            for &b in STRUCTURAL {
                if seed[pos] == b {
                    continue;
                }
                let mut replaced = seed.to_vec();
                replaced[pos] = b;
                tried += 1;
                taken += usize::from(agree(&replaced));
            }
        }
    }
    // Edits inside string values keep the line valid: the pass still builds those, so the
    // comparison was not vacuous.
    assert!(tried > 30_000 && taken > tried / 10, "{taken} of {tried}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// Up to four random mutations of a random seed.
    #[test]
    fn the_pass_and_simd_json_agree_on_mutated_real_lines(
        pick in any::<prop::sample::Index>(),
        ms in prop::collection::vec(mutation(), 1..5),
    ) {
        let mut line = pick.get(seeds_cached()).clone();
        for m in &ms {
            apply(&mut line, m);
        }
        agree(&line);
    }
}

/// The whole scan: `scan --strict` (every entry parsed by simd-json) and the default scan
/// report the same on a log of mutated response lines.
#[test]
fn scan_strict_and_the_skimming_tape_give_the_same_report_on_mutated_responses() {
    let seeds: Vec<&Vec<u8>> = seeds_cached().iter().filter(|l| is_response(l)).collect();
    let mut log = Vec::new();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let edits = prop::collection::vec(mutation(), 0..3);
    let step = (seeds.len() / 600).max(1);
    for (i, seed) in seeds.iter().step_by(step).enumerate() {
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
