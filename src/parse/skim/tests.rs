//! Every implementation of the structural pass against a byte-at-a-time reference.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::{Faults, Implementation, Structurals};

/// The pass's definition, one byte at a time: what every implementation must give.
fn reference(json: &[u8]) -> (Vec<u32>, Faults) {
    let mut out = Vec::new();
    let mut faults = Faults::default();
    let (mut escaped, mut in_string, mut after_scalar) = (false, false, false);
    for (i, &b) in json.iter().enumerate() {
        let quote = b == b'"' && !escaped;
        escaped = b == b'\\' && !escaped;
        if quote {
            in_string = !in_string;
        }
        // Inside a string or its closing quote.
        let tail = in_string != quote;
        let op = b"{}[]:,".contains(&b);
        let scalar = !op && !b" \t\n\r".contains(&b);
        if !tail && (op || (scalar && !after_scalar)) {
            out.push(i as u32);
        }
        after_scalar = scalar && !quote;
        if b < 0x20 && in_string && faults.control_in_string.is_none() {
            faults.control_in_string = Some(i as u32);
        }
    }
    faults.unclosed_string = in_string;
    (out, faults)
}

/// Asserts that every implementation this CPU runs agrees with the reference on `json`.
fn agree(index: &mut [Structurals], json: &[u8]) {
    let (want, want_faults) = reference(json);
    for s in index.iter_mut() {
        let faults = s.index(json);
        assert_eq!(
            (s.positions(), faults),
            (&want[..], want_faults),
            "{:?} on {:?}",
            s.implementation(),
            String::from_utf8_lossy(json)
        );
        assert_eq!(s.has_backslash(), json.contains(&b'\\'));
    }
}

fn all() -> Vec<Structurals> {
    let available: Vec<_> = Implementation::available().collect();
    assert!(available.contains(&Implementation::Scalar));
    available.into_iter().map(Structurals::new).collect()
}

/// Bytes biased to what the pass treats specially.
fn biased() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => proptest::sample::select(b"\"\\{}[]:,".to_vec()),
        2 => proptest::sample::select(b" \t\n\ra1-tnf\x01\x1f\x7f".to_vec()),
        1 => any::<u8>(),
    ];
    proptest::collection::vec(byte, 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn every_implementation_matches_the_reference_on_biased_bytes(json in biased()) {
        agree(&mut all(), &json);
    }
}

/// Lines of the fixtures and of ../shared/corpus (when present), read at test time.
fn real_lines() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.join("fixtures")];
    if let Some(c) = root
        .ancestors()
        .map(|d| d.join("shared/corpus"))
        .find(|c| c.is_dir())
    {
        dirs.push(c);
    }
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .flat_map(|b| {
            b.split(|&c| c == b'\n')
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn every_implementation_matches_the_reference_on_real_lines_at_every_block_offset() {
    let lines = real_lines();
    assert!(lines.len() > 100, "{} lines", lines.len());
    let mut index = all();
    let mut shifted = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        agree(&mut index, line);
        // Moves the line across block boundaries: each shift puts other bytes at a block edge.
        // The prefix is a backslash run or a quote, so escapes and strings carry from the first
        // block.
        let prefix: &[u8] = [&b"\\"[..], b"\\\\\\", b"\"", b"  "][n % 4];
        shifted.clear();
        for _ in 0..(n % 64) {
            shifted.extend_from_slice(&prefix[..1]);
        }
        shifted.extend_from_slice(line);
        agree(&mut index, &shifted);
    }
}

#[test]
fn backslash_runs_and_quotes_at_block_edges() {
    let mut index = all();
    for before in 55..70 {
        for run in 0..6 {
            for after in [&b"\""[..], b"\"x", b"n\"", b"\\\"", b"\x01\"", b"{"] {
                let mut json = vec![b'"'];
                json.extend(std::iter::repeat_n(b'a', before));
                json.extend(std::iter::repeat_n(b'\\', run));
                json.extend_from_slice(after);
                json.extend_from_slice(b",[1]");
                agree(&mut index, &json);
                // The same bytes outside a string.
                agree(&mut index, &json[1..]);
            }
        }
    }
    // A run of 130 backslashes spans three blocks.
    let mut json = b"\"".to_vec();
    json.extend(std::iter::repeat_n(b'\\', 130));
    json.extend_from_slice(b"\"}\"");
    agree(&mut index, &json);
}

#[test]
fn reference_examples() {
    let (at, faults) = reference(br#"{"a\"":[true,-1],"b":"\u0041"}"#);
    assert_eq!(at, [0, 1, 6, 7, 8, 12, 13, 15, 16, 17, 20, 21, 29]);
    assert!(faults.is_clean());
    let (_, faults) = reference(b"{\"a\":\"x\ty\"}");
    assert_eq!(faults.control_in_string, Some(7));
    let (_, faults) = reference(b"{\"a\":\"x}");
    assert!(faults.unclosed_string);
}
