use std::collections::HashMap;

use super::{GroundTruth, Options, generate};

fn generated(size: u64, seed: u64) -> (Vec<u8>, GroundTruth) {
    let mut out = Vec::new();
    let truth = generate(&Options::new(size, seed), &mut out).expect("writes to memory");
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

/// The shape knobs change the cardinalities a scan sees: many tokens (most issued before the
/// log starts), tenants and secret paths, requests at the asked rate with nanosecond times.
#[test]
fn shape_knobs_set_cardinalities_and_pace() {
    use super::Shape;
    use std::collections::HashSet;
    let shape = Shape {
        tokens: Some(600),
        tenants: Some(120),
        secrets: Some(900),
        rate: Some(1_000),
        distinct_tokens: None,
    };
    let mut out = Vec::new();
    let options = Options {
        shape,
        ..Options::new(3 << 20, 5)
    };
    let truth = generate(&options, &mut out).expect("writes to memory");
    let mut tokens = HashSet::new();
    let mut tenants = HashSet::new();
    let mut nanos = 0;
    let mut times = Vec::new();
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("valid JSON");
        if let Some(t) = v["auth"]["client_token"].as_str() {
            tokens.insert(t.to_string());
        }
        if let Some(t) = v["request"]["path"]
            .as_str()
            .and_then(|p| p.split('/').nth(2))
            && t.starts_with("tenant-")
        {
            tenants.insert(t.to_string());
        }
        let time = v["time"].as_str().expect("time");
        // `2026-11-02T00:00:00.123456789Z`: nine digits of fraction.
        nanos += usize::from(time.len() == 30);
        times.push(chrono::DateTime::parse_from_rfc3339(time).expect("RFC 3339"));
    }
    // ~1,000 requests over 600 tokens: most of the pool appears (the default has 48).
    assert!(tokens.len() > 400, "{} tokens", tokens.len());
    assert!(tenants.len() > 100, "{} tenants", tenants.len());
    assert!(truth.distinct_secrets > 400, "{truth:?}");
    assert!(
        nanos * 2 > times.len(),
        "{nanos} of {} times in ns",
        times.len()
    );
    // Background requests at 1,000/s: the attacks' slower pace (their ~260 requests, 100 ms to
    // 3 s apart) adds about 70 s; the background adds about one second.
    let span = (times[times.len() - 1] - times[0]).num_milliseconds() as f64 / 1000.0;
    let background = truth.requests as f64 - 224.0 - 53.0 - 16.0;
    assert!(
        span < background / 1_000.0 + 120.0,
        "{span} s for {truth:?}"
    );
}

/// Accessors of every token a log shows: callers' and issued ones.
fn distinct_accessors(log: &[u8]) -> std::collections::HashSet<String> {
    let mut accessors = std::collections::HashSet::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("valid JSON");
        for a in [&v["auth"]["accessor"], &v["response"]["auth"]["accessor"]] {
            if let Some(a) = a.as_str() {
                accessors.insert(a.to_string());
            }
        }
    }
    accessors
}

/// `distinct_tokens` bounds the tokens over the whole log (the attackers' two come on top):
/// without it the same log keeps minting tokens at logins and `auth/token/create`.
#[test]
fn distinct_tokens_bound_the_tokens_a_log_shows() {
    use super::Shape;
    let log = |distinct_tokens| {
        let options = Options {
            shape: Shape {
                tokens: Some(50),
                distinct_tokens,
                ..Shape::default()
            },
            ..Options::new(10 << 20, 7)
        };
        let mut out = Vec::new();
        let truth = generate(&options, &mut out).expect("writes to memory");
        (distinct_accessors(&out), truth)
    };
    let (unbounded, _) = log(None);
    let (bounded, truth) = log(Some(120));
    assert!(unbounded.len() > 200, "{} without a bound", unbounded.len());
    // 50 prefilled, 70 minted in the log, the two attackers' tokens; a prefilled token a login
    // replaces before its first request never shows.
    assert!(
        (90..=122).contains(&bounded.len()),
        "{} accessors with a bound of 120",
        bounded.len()
    );
    assert_eq!(truth.tokens_issued, 70 + 2, "{truth:?}");
    // The pace and the reads go on after the budget is spent.
    assert!(truth.secret_reads > 1_000, "{truth:?}");
}
