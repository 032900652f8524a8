//! Fuzzes line framing, the request fast path and the simd-json parser against serde_json.
//! Run: `cargo fuzz run parse_line` (from the repository root). The corpus in
//! `fuzz/corpus/parse_line/` also replays in `cargo test` (tests/integration/fuzz_corpus.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    blastradius::parse::fuzzing::check_line(data);
});
