//! Hostile and broken input (fixtures/hostile/, written by scripts/make-hostile-fixtures.py):
//! every good entry is read, every bad line is reported with its location, nothing crashes, and
//! no log string reaches a terminal, a spreadsheet or a browser unescaped, nor a secret an output.

use std::io::Write;

use serde_json::Value;

use crate::util::{bin, fixture, scan_json};

fn hostile(name: &str) -> String {
    fixture(&format!("hostile/{name}")).display().to_string()
}

/// Runs a scan and checks the accounting identity every report must satisfy.
fn accounted(args: &[&str]) -> (i32, Value) {
    let (code, r) = scan_json(args);
    let s = &r["stats"];
    let n = |k: &str| s[k].as_u64().unwrap();
    if r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["pretty"] == false)
    {
        assert_eq!(
            n("lines"),
            n("blank_lines") + n("entries") + n("malformed_lines") + n("partial_last_lines"),
            "{s:#}"
        );
    }
    for m in r["malformed"].as_array().unwrap() {
        assert!(
            m["line"].as_u64().unwrap() >= 1
                && m["offset"].is_u64()
                && m["file"].is_string()
                && m["kind"].is_string()
        );
    }
    (code, r)
}

#[test]
fn damaged_lines_are_located_and_the_rest_is_read() {
    for (name, bad, lines) in [
        ("truncated.log", vec![10], 27),
        ("invalid-utf8.log", vec![2, 8, 12], 27),
        ("binary.log", vec![7, 8], 29),
        ("deep.log", vec![7], 27),
    ] {
        let (code, r) = accounted(&[&hostile(name)]);
        assert_eq!(code, 3, "{name}: malformed lines make the input incomplete");
        let got: Vec<u64> = r["malformed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["line"].as_u64().unwrap())
            .collect();
        assert_eq!(got, bad, "{name}");
        assert_eq!(r["stats"]["lines"], lines, "{name}");
        assert_eq!(
            r["stats"]["entries"].as_u64().unwrap() as usize,
            lines - bad.len(),
            "{name}"
        );
    }
    let (_, r) = accounted(&[&hostile("deep.log")]);
    assert!(
        r["malformed"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested deeper than the parser allows")
    );
    let (_, r) = accounted(&[&hostile("invalid-utf8.log")]);
    assert!(
        r["malformed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["message"].as_str().unwrap().contains("invalid UTF-8"))
    );
}

#[test]
fn different_framings_of_the_same_log_report_the_same() {
    let (_, reference) = scan_json(&[fixture("openbao-2.7/basic.log").to_str().unwrap()]);
    for name in ["crlf.log", "prefixed.log", "pretty.json"] {
        let (code, r) = accounted(&[&hostile(name)]);
        assert_eq!(code, 0, "{name}");
        for key in [
            "accessed_secrets",
            "affected_tenants",
            "breach_scope",
            "severity",
            "suspicious_events",
        ] {
            assert_eq!(r[key], reference[key], "{name}: {key}");
        }
        assert_eq!(r["stats"]["entries"], 27, "{name}");
    }
}

#[test]
fn huge_lines_are_skipped_without_buffering_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.log");
    let basic = std::fs::read_to_string(fixture("openbao-2.7/basic.log")).unwrap();
    let mut f = std::fs::File::create(&p).unwrap();
    let (head, tail) = basic.split_at(basic.find("\n{\"time\":\"2026-11-22T08:09:15").unwrap() + 1);
    f.write_all(head.as_bytes()).unwrap();
    // 20 MB on one line, then the rest of the log.
    f.write_all(b"{\"type\":\"request\",\"request\":{\"path\":\"")
        .unwrap();
    f.write_all(&vec![b'a'; 20 << 20]).unwrap();
    f.write_all(b"\"}}\n").unwrap();
    f.write_all(tail.as_bytes()).unwrap();
    drop(f);
    for mmap in ["always", "never"] {
        let (code, r) = accounted(&[
            p.to_str().unwrap(),
            "--max-line-bytes",
            "1M",
            "--mmap",
            mmap,
        ]);
        assert_eq!(code, 3);
        assert_eq!(r["malformed"][0]["kind"], "line-too-long");
        assert_eq!(
            r["stats"]["entries"], 27,
            "{mmap}: every real entry around it is read"
        );
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn decompression_bombs_stop_at_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let basic = std::fs::read(fixture("openbao-2.7/basic.log")).unwrap();
    // A real log, then 100 MB of newlines: compresses far beyond 100:1.
    let mut bomb_src = basic.clone();
    bomb_src.extend(std::iter::repeat_n(b'\n', 100 << 20));
    let bomb = dir.path().join("audit.log.gz");
    std::fs::write(&bomb, gzip(&bomb_src)).unwrap();
    let (code, r) = scan_json(&[bomb.to_str().unwrap(), "--max-gzip-ratio", "100"]);
    assert_eq!(code, 3);
    let err = r["inputs"][0]["error"].as_str().unwrap();
    assert!(
        err.contains("ratio") && err.contains("--max-gzip-ratio"),
        "{err}"
    );
    assert_eq!(
        r["stats"]["entries"], 27,
        "the entries before the bomb are kept"
    );
    let (code, r) = scan_json(&[bomb.to_str().unwrap(), "--max-decompressed-bytes", "1M"]);
    assert_eq!(code, 3);
    assert!(
        r["inputs"][0]["error"]
            .as_str()
            .unwrap()
            .contains("--max-decompressed-bytes")
    );
    // Concatenated members (pigz, `cat a.gz b.gz`) are all read.
    let mut two = gzip(&basic[..basic.len() / 2]);
    two.extend(gzip(&basic[basic.len() / 2..]));
    let multi = dir.path().join("multi.gz");
    std::fs::write(&multi, two).unwrap();
    let (code, r) = scan_json(&[multi.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(r["stats"]["entries"], 27);
}

#[test]
fn log_strings_cannot_drive_terminals_spreadsheets_or_browsers() {
    let log = hostile("hostile-strings.log");
    let text = bin()
        .args(["scan", &log, "-f", "text", "--color", "never"])
        .output()
        .unwrap()
        .stdout;
    let text = String::from_utf8(text).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'),
        "{text}"
    );
    assert!(text.contains("\\x1b]0;owned"));
    let json = bin().args(["scan", &log, "-f", "json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        v["secrets"][0]["path"].as_str().unwrap().contains('\u{1b}'),
        "JSON keeps evidence exactly; consumers escape"
    );
    let csv = bin()
        .args([
            "rotation-list",
            &log,
            "--display-name",
            "root\u{1b}[31m\r\n<img src=x onerror=alert(1)>",
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }
    assert!(!csv.contains('\u{1b}'));
}

#[test]
fn clear_tokens_raise_a_finding_and_never_reach_an_output() {
    let log = hostile("log-raw.log");
    let token = "hvs.CAESIJ3xkVd8JjQvbzMoWl4ZZdMcfWZwqdUWX6jSYMLCYVIaGh4KHGh2cy5pTmJySFZLNlBPbm9kaXpTQmlVWlJ1bHc";
    let (_, r) = scan_json(&[&log]);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_name"] == "plaintext-secrets-in-audit-log"
                && f["title"] == "Plaintext token written to the audit log"),
        "{:#}",
        r["findings"]
    );
    let runs: Vec<Vec<&str>> = vec![
        vec!["scan", &log, "-f", "json"],
        vec!["scan", &log, "-f", "ndjson"],
        vec!["scan", &log, "-f", "text"],
        vec!["blast", &log, "--display-name", "root", "-f", "json"],
        vec!["blast", &log, "--display-name", "root", "-f", "text"],
        vec!["rotation-list", &log, "--display-name", "root", "-f", "csv"],
    ];
    for args in runs {
        let out = bin().args(&args).output().unwrap();
        let all = [out.stdout, out.stderr].concat();
        let all = String::from_utf8_lossy(&all);
        assert!(!all.contains(token), "{args:?} printed the clear token");
    }
    let out = bin()
        .args(["blast", &log, "--display-name", "root", "-f", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tokens"][0]["token_hmac"], "hvs.<redacted>");
}

/// With the default limits, a gzip of zeros (one endless line) stops at the first
/// --max-line-bytes of output, naming file and offset, instead of decompressing everything.
#[test]
fn a_gzip_of_zeros_stops_early_under_the_default_limits() {
    let dir = tempfile::tempdir().unwrap();
    let basic = std::fs::read(fixture("openbao-2.7/basic.log")).unwrap();
    let bomb = dir.path().join("audit.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&bomb).unwrap(),
        flate2::Compression::best(),
    );
    enc.write_all(&basic).unwrap();
    // 2 GiB of zeros, written in pieces: about 2 MB compressed.
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..2048 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap();
    let (code, r) = scan_json(&[bomb.to_str().unwrap(), "--max-line-bytes", "8M"]);
    assert_eq!(code, 3);
    let input = &r["inputs"][0];
    let err = input["error"].as_str().unwrap();
    assert!(
        err.contains("audit.log.gz") && err.contains("--max-line-bytes"),
        "{err}"
    );
    assert!(err.contains(&format!("offset {}", basic.len())), "{err}");
    assert!(
        input["bytes"].as_u64().unwrap() < 64 << 20,
        "decompressed far past the line limit: {input}"
    );
    assert_eq!(
        r["stats"]["entries"], 27,
        "the entries before the bomb are kept"
    );
    assert_eq!(r["malformed"][0]["kind"], "line-too-long");
}

/// Formats logrotate can write but blastradius does not decompress are refused, not parsed.
#[test]
fn unsupported_compression_is_refused_not_read_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.log.lz4");
    let mut data = vec![0x04, 0x22, 0x4d, 0x18];
    data.extend(std::iter::repeat_n(b'x', 5000));
    std::fs::write(&p, data).unwrap();
    let (code, r) = scan_json(&[p.to_str().unwrap()]);
    assert_eq!(code, 3);
    let err = r["inputs"][0]["error"].as_str().unwrap();
    assert!(err.contains("unsupported compression (lz4)"), "{err}");
    assert_eq!(r["stats"]["malformed_lines"], 0);
    assert!(r["gaps"].as_array().unwrap().is_empty(), "{}", r["gaps"]);
}

/// A scan of `times.log` with the scan's clock at `now`.
fn times_scan(now: &str, extra: &[&str]) -> Value {
    let out = bin()
        .env("BLASTRADIUS_NOW", now)
        .arg("scan")
        .arg(hostile("times.log"))
        .args(extra)
        .args(["-f", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each line's `time` as written and its byte offset in `times.log`.
fn times_lines() -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(hostile("times.log")).unwrap();
    let mut offset = 0u64;
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let at = offset;
            offset += l.len() as u64 + 1;
            (v["time"].as_str().unwrap().to_string(), at)
        })
        .collect()
}

fn gaps_of<'a>(r: &'a Value, kind: &str) -> Vec<&'a Value> {
    r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["kind"] == kind)
        .collect()
}

/// Year 9999, year 2200 and a `time` that is not a time are located as `impossible-time` gaps
/// and kept off the timeline: the report's range is the real entries' range, with no invented
/// quiet period or time going backwards, the same for any thread count and chunk size.
#[test]
fn impossible_times_are_located_and_kept_off_the_timeline() {
    let lines = times_lines();
    // The generator puts the real (2026) times on lines 2-26 except 11 and 14.
    let bad = [0usize, 10, 13, 26];
    let real: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].0.starts_with("2026-11-22T"))
        .collect();
    let want_real: Vec<usize> = (1..26).filter(|i| !bad.contains(i)).collect();
    assert_eq!(real, want_real);
    let now = "2026-11-22T12:00:00Z";
    let base = times_scan(now, &[]);
    for extra in [
        &["-j", "1"][..],
        &["-j", "2"],
        &["-j", "2", "--chunk-size", "2000"],
        &["-j", "1", "--chunk-size", "1"],
    ] {
        let r = times_scan(now, extra);
        for key in [
            "stats",
            "gaps",
            "first_event",
            "last_event",
            "secrets",
            "activity",
        ] {
            assert_eq!(r[key], base[key], "{key} differs with {extra:?}");
        }
    }
    let r = base;
    let s = &r["stats"];
    assert_eq!(s["entries"], 27, "{s:#}");
    assert_eq!(s["malformed_lines"], 0, "{s:#}");
    assert_eq!(s["impossible_times"], 3, "{s:#}");
    assert_eq!(s["unparseable_times"], 1, "{s:#}");
    assert_eq!(s["untimed_entries"], 4, "{s:#}");
    assert_eq!(r["first_event"], lines[1].0.as_str());
    assert_eq!(r["last_event"], lines[25].0.as_str());
    for kind in ["quiet-period", "time-backwards", "rotation-hole"] {
        assert!(gaps_of(&r, kind).is_empty(), "{kind}: {}", r["gaps"]);
    }
    let located: Vec<(u64, u64)> = gaps_of(&r, "impossible-time")
        .iter()
        .map(|g| {
            assert_eq!(g["evidence"].as_array().unwrap().len(), 1, "{g}");
            let e = &g["evidence"][0];
            assert!(e["file"].as_str().unwrap().ends_with("times.log"), "{e}");
            (e["line"].as_u64().unwrap(), e["offset"].as_u64().unwrap())
        })
        .collect();
    let want: Vec<(u64, u64)> = bad.iter().map(|i| (*i as u64 + 1, lines[*i].1)).collect();
    let mut got = located.clone();
    got.sort();
    assert_eq!(got, want);
    // No analysis saw the impossible times: not the secret read dated 2200, not the activity.
    for key in ["secrets", "activity", "findings", "tenants"] {
        let text = r[key].to_string();
        assert!(
            !text.contains("2200-") && !text.contains("9999-"),
            "{key}: {text}"
        );
    }
    // Line 11, the log's one secret read, is dated 2200: still counted, with no time.
    assert_eq!(s["secret_reads"], 1, "{s:#}");
    let secret = &r["secrets"][0];
    assert_eq!(secret["reads"], 1, "{secret}");
    assert!(
        secret["first_read"].is_null() && secret["last_read"].is_null(),
        "{secret}"
    );
}

/// The upper bound is a day after the wall clock, whatever `BLASTRADIUS_NOW` says: an entry
/// dated two days from now is impossible, one dated an hour ago is not.
#[test]
fn times_more_than_a_day_after_the_wall_clock_are_impossible() {
    let date = |shift: &str| {
        let out = std::process::Command::new("date")
            .args(["-u", "-d", shift, "+%Y-%m-%dT%H:%M:%SZ"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (ahead, recent) = (date("+2 days"), date("-1 hour"));
    let text = std::fs::read_to_string(hostile("times.log")).unwrap();
    let lines = times_lines();
    let mut edited: Vec<String> = text.lines().map(str::to_string).collect();
    edited[19] = edited[19].replacen(&lines[19].0, &ahead, 1);
    edited[21] = edited[21].replacen(&lines[21].0, &recent, 1);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("times.log");
    std::fs::write(&log, edited.join("\n") + "\n").unwrap();
    let out = bin()
        .env("BLASTRADIUS_NOW", "2026-11-22T12:00:00Z")
        .args(["scan", "-f", "json", "-j", "2"])
        .arg(&log)
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &r["stats"];
    assert_eq!(s["impossible_times"], 4, "{s:#}");
    assert_eq!(s["unparseable_times"], 1, "{s:#}");
    assert_eq!(r["last_event"], recent.as_str(), "an hour ago is plausible");
    let located: Vec<u64> = gaps_of(&r, "impossible-time")
        .iter()
        .map(|g| g["evidence"][0]["line"].as_u64().unwrap())
        .collect();
    assert!(
        located.contains(&20) && !located.contains(&22),
        "{located:?}"
    );
}

/// Incremental runs carry the located impossible times: `times.log` split at any line and read
/// in two runs with `--state` reports what one run does.
#[test]
fn impossible_times_are_carried_between_incremental_runs() {
    let now = "2026-11-22T12:00:00Z";
    let text = std::fs::read_to_string(hostile("times.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let one = times_scan(now, &[]);
    // Not between lines 14 and 15: a request without a usable time that ends a run is not
    // carried as in flight (its time cannot say how recent it is), as for a missing time.
    for split in [1, 11, 13, 20, 26] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("times.log");
        let state = dir.path().join("state.json");
        std::fs::write(&log, lines[..split].join("\n") + "\n").unwrap();
        let run = |extra: &[&str]| {
            let out = bin()
                .env("BLASTRADIUS_NOW", now)
                .arg("scan")
                .arg(&log)
                .args(["--state", state.to_str().unwrap(), "-f", "json"])
                .args(extra)
                .output()
                .unwrap();
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        };
        run(&[]);
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all((lines[split..].join("\n") + "\n").as_bytes())
            .unwrap();
        drop(f);
        let two = run(&["-j", "2"]);
        let strip = |v: &Value| {
            let mut v = v["gaps"].clone();
            for g in v.as_array_mut().unwrap() {
                for e in g["evidence"].as_array_mut().unwrap() {
                    e.as_object_mut().unwrap().remove("file");
                }
            }
            v
        };
        assert_eq!(strip(&two), strip(&one), "split at {split}");
        for key in ["stats", "first_event", "last_event"] {
            assert_eq!(two[key], one[key], "{key}, split at {split}");
        }
    }
}
