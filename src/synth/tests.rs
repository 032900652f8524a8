use std::collections::HashMap;

use super::{GroundTruth, Options, generate};

fn generated(size: u64, seed: u64) -> (Vec<u8>, GroundTruth) {
    let mut out = Vec::new();
    let truth = generate(&Options { size, seed }, &mut out).expect("writes to memory");
    (out, truth)
}

#[test]
fn same_seed_and_size_give_the_same_bytes() {
    let (a, ta) = generated(300_000, 42);
    let (b, tb) = generated(300_000, 42);
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    let (c, _) = generated(300_000, 43);
    assert_ne!(a, c, "another seed, another log");
}

#[test]
fn writes_at_least_the_size_in_whole_lines_and_counts_them() {
    let size = 200_000;
    let (out, truth) = generated(size, 7);
    assert!(out.len() as u64 >= size);
    assert_eq!(truth.bytes, out.len() as u64);
    assert_eq!(out.last(), Some(&b'\n'));
    let lines = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
    assert_eq!(truth.lines, lines as u64);
    assert_eq!(truth.lines, truth.requests * 2);
}

/// Every line is JSON; each request id appears once as a request, then once as its response;
/// times never go backwards; tokens and accessors look like the file device's HMACs.
#[test]
fn entries_pair_up_with_unique_ids_in_time_order() {
    let (out, truth) = generated(500_000, 3);
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    let mut last_time = String::new();
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("valid JSON");
        let id = v["request"]["id"].as_str().expect("request id").to_string();
        let kind = v["type"].as_str().expect("type").to_string();
        seen.entry(id).or_default().push(kind);
        // RFC 3339 with trimmed fractions does not sort as text within a second; compare the
        // seconds, which must not decrease.
        let time = v["time"].as_str().expect("time");
        let seconds = time[..19].to_string();
        assert!(seconds >= last_time, "{seconds} after {last_time}");
        last_time = seconds;
        if let Some(token) = v["auth"]["client_token"].as_str() {
            let hex = token.strip_prefix("hmac-sha256:").expect("HMAC'd token");
            assert_eq!(hex.len(), 64);
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
    assert_eq!(seen.len() as u64, truth.requests);
    assert!(seen.values().all(|kinds| kinds == &["request", "response"]));
}

#[test]
fn both_attacks_are_injected_even_in_a_small_log() {
    let (out, truth) = generated(50_000, 1);
    assert_eq!(truth.widespread_reader.requests, 224);
    assert_eq!(truth.denial_burst.requests, 40);
    assert!(truth.denials >= 40);
    assert!(truth.failed_logins >= 12);
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(text.contains(&truth.widespread_reader.accessor));
    assert!(text.contains("\"remote_address\":\"203.0.113.66\""));
}
