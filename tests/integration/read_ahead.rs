//! A rotated `.gz` family is decompressed ahead of its analysis, several streams at once
//! (`scan::ahead`, issue 18), yet analysed one input after another: every output must be the
//! one a single thread gives, which reads one file at a time and nothing ahead.

use std::io::Write;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::bin;

/// Lines an older file shares with the next newer one.
const OVERLAP: usize = 50;

/// A family split by lines from one generated log: `audit.log` (newest, plain) and
/// `audit.log.1.gz` .. `audit.log.4.gz` (`.4` oldest), gzip -6, each but the oldest starting with
/// the last [`OVERLAP`] lines of the one before. Returns the paths (newest first, the order
/// inputs are numbered in) and the lines of each file.
fn family(dir: &Path) -> Vec<(String, usize)> {
    let whole = dir.join("whole.log.txt");
    let out = bin()
        .args(["--quiet", "generate", "--size", "6M", "--seed", "3", "-o"])
        .arg(&whole)
        .output()
        .unwrap();
    assert!(out.status.success());
    let bytes = std::fs::read(&whole).unwrap();
    std::fs::remove_file(&whole).unwrap();
    let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    let parts: Vec<&[&[u8]]> = lines.chunks(lines.len().div_ceil(5)).collect();
    assert_eq!(parts.len(), 5);
    let mut files = Vec::new();
    for (age, part) in parts
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| (parts.len() - 1 - i, (i, p)))
    {
        let (i, part) = part;
        // The newer file starts with the older one's last lines (rotation by `copy`): which
        // copy counts depends on the order the files are analysed in.
        let before = i
            .checked_sub(1)
            .map_or(&[][..], |j| &parts[j][parts[j].len() - OVERLAP..]);
        let text: Vec<u8> = [before, part].concat().concat();
        let (name, data) = if age == 0 {
            ("audit.log".to_string(), text)
        } else {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            enc.write_all(&text).unwrap();
            (format!("audit.log.{age}.gz"), enc.finish().unwrap())
        };
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        files.push((path.display().to_string(), before.len() + part.len()));
    }
    files
}

fn scan(files: &[(String, usize)], format: &str, threads: &str, chunk: &str) -> Output {
    bin()
        .args([
            "scan",
            "-f",
            format,
            "--threads",
            threads,
            "--chunk-size",
            chunk,
        ])
        .args(files.iter().map(|(p, _)| p))
        .output()
        .unwrap()
}

fn input<'v>(report: &'v Value, path: &str) -> &'v Value {
    let inputs = report["inputs"].as_array().unwrap();
    inputs.iter().find(|i| i["path"] == path).unwrap()
}

/// Every evidence location of the report.
fn locations(v: &Value, out: &mut Vec<(String, u64)>) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::String(f)), Some(Value::Number(l))) = (m.get("file"), m.get("line"))
            {
                out.push((f.clone(), l.as_u64().unwrap()));
            }
            m.values().for_each(|x| locations(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| locations(x, out)),
        _ => {}
    }
}

/// Of two copies of an entry, the lower-numbered input's counts: the newer file (numbered
/// first) holds it at its start, the older `.gz` at its end. Evidence never points into an
/// older file's last [`OVERLAP`] lines, and it does point into the copies at newer files' starts.
fn claims_follow_input_order(v: &Value, files: &[(String, usize)]) {
    let mut locs = Vec::new();
    locations(v, &mut locs);
    let lines_of = |f: &str| files.iter().find(|(p, _)| p == f).map(|(_, n)| *n as u64);
    let in_tail = locs
        .iter()
        .filter(|(f, l)| f.ends_with(".gz") && *l + OVERLAP as u64 > lines_of(f).unwrap())
        .count();
    assert_eq!(
        in_tail, 0,
        "evidence taken from a copy a lower-numbered input holds"
    );
    let oldest = &files[files.len() - 1].0;
    let in_head = locs
        .iter()
        .filter(|(f, l)| f != oldest && *l <= OVERLAP as u64)
        .count();
    assert!(
        in_head > 0,
        "no evidence in the copies at all: the check above proves nothing"
    );
}

/// Byte-identical stdout, stderr and exit code at 1, 2 and 4 threads, for small chunks (queues
/// ahead fill and their producers wait) and the default 4 MiB chunks; the same analysis at
/// both chunk sizes; every line of every file counted where it belongs.
#[test]
fn a_gzip_family_reports_the_same_at_every_thread_count_and_chunk_size() {
    let dir = tempfile::tempdir().unwrap();
    let files = family(dir.path());
    let mut analyses = Vec::new();
    for chunk in ["1K", "4M"] {
        for format in ["json", "text", "ndjson"] {
            let reference = scan(&files, format, "1", chunk);
            assert_eq!(reference.status.code(), Some(0), "{format} {chunk}");
            for threads in ["2", "4"] {
                let got = scan(&files, format, threads, chunk);
                assert_eq!(got.status.code(), reference.status.code());
                assert_eq!(
                    String::from_utf8_lossy(&got.stdout),
                    String::from_utf8_lossy(&reference.stdout),
                    "{format} at --threads {threads} --chunk-size {chunk}"
                );
                assert_eq!(got.stderr, reference.stderr);
            }
            if format == "json" {
                let mut v: Value = serde_json::from_slice(&reference.stdout).unwrap();
                for (path, lines) in &files {
                    let i = input(&v, path);
                    assert_eq!(i["lines"], *lines as u64, "{path}");
                    assert!(i["error"].is_null(), "{path}: {}", i["error"]);
                }
                let total: usize = files.iter().map(|(_, n)| n).sum();
                assert_eq!(v["stats"]["entries"], total as u64);
                assert_eq!(
                    v["stats"]["duplicates"],
                    (OVERLAP * (files.len() - 1)) as u64
                );
                claims_follow_input_order(&v, &files);
                // Chunk counts differ with the chunk size; nothing else may.
                v.as_object_mut().unwrap().remove("inputs");
                analyses.push(v);
            }
        }
    }
    assert_eq!(analyses[0], analyses[1], "1K and 4M chunks");
}

/// A truncated `.gz` in the middle of the family, read ahead by other threads, reports as a
/// sequential read does: the same error naming it, what was decoded before the cut kept, and
/// every other file read whole.
#[test]
fn a_truncated_gzip_inside_a_family_reports_as_a_sequential_read_does() {
    let dir = tempfile::tempdir().unwrap();
    let files = family(dir.path());
    let (cut, cut_lines) = &files[2];
    assert!(cut.ends_with("audit.log.2.gz"));
    let gz = std::fs::read(cut).unwrap();
    std::fs::write(cut, &gz[..gz.len() / 2]).unwrap();
    for chunk in ["1K", "4M"] {
        let reference = scan(&files, "json", "1", chunk);
        assert_eq!(reference.status.code(), Some(3), "an input is incomplete");
        for threads in ["2", "4"] {
            let got = scan(&files, "json", threads, chunk);
            assert_eq!(got.status.code(), reference.status.code());
            assert_eq!(
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&reference.stdout),
                "--threads {threads} --chunk-size {chunk}"
            );
            assert_eq!(
                String::from_utf8_lossy(&got.stderr),
                String::from_utf8_lossy(&reference.stderr)
            );
        }
        let v: Value = serde_json::from_slice(&reference.stdout).unwrap();
        let broken = input(&v, cut);
        let err = broken["error"].as_str().unwrap();
        assert!(
            err.starts_with(&format!("{cut}: gzip stream truncated or corrupt after ")),
            "{err}"
        );
        let kept = broken["lines"].as_u64().unwrap();
        assert!(
            kept > 0 && kept < *cut_lines as u64,
            "{kept} of {cut_lines}"
        );
        for (path, lines) in files.iter().filter(|(p, _)| p != cut) {
            let i = input(&v, path);
            assert!(i["error"].is_null(), "{path}: {}", i["error"]);
            assert_eq!(i["lines"], *lines as u64, "{path}");
        }
    }
}
