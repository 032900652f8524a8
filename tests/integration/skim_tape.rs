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
use serde_json::Value;
use simd_json::Node;

use crate::fast_path::{
    STRUCTURAL, apply, corpus, generated, lines_of, mutation,
    strict_and_default_scans_agree_on_mutations_of,
};
use crate::util::root;

/// Every line of the corpus, the fixture logs (`fixtures/**/*.log`) and both generated shapes
/// that holds an object.
fn seeds() -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = corpus()
        .and_then(|c| std::fs::read_dir(c).ok())
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    let logs = root().join("fixtures/**/*.log");
    files.extend(glob::glob(logs.to_str().unwrap()).unwrap().flatten());
    files.sort();
    let mut all: Vec<Vec<u8>> = files.iter().flat_map(|f| lines_of(f)).collect();
    all.extend(generated(Default::default()));
    all.extend(generated(blastradius::synth::Shape::busy()));
    all.retain(|l| l.first() == Some(&b'{'));
    all.sort();
    all.dedup();
    all
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
    let responses: Vec<&Vec<u8>> = seeds_cached().iter().filter(|l| is_response(l)).collect();
    let step = (responses.len() / 600).max(1);
    let seeds: Vec<&Vec<u8>> = responses.into_iter().step_by(step).collect();
    strict_and_default_scans_agree_on_mutations_of(&seeds);
}
