//! The fuzz corpus (fuzz/corpus/parse_line/) replayed as an ordinary test: every input that ever
//! mattered to the fuzzer keeps being checked on stable Rust, without libFuzzer.

use crate::util::root;

#[test]
fn every_fuzz_corpus_input_passes_the_parser_checks() {
    let dir = root().join("fuzz/corpus/parse_line");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        blastradius::parse::fuzzing::check_line(&data);
        n += 1;
    }
    assert!(n >= 50, "the corpus has {n} inputs");
}
