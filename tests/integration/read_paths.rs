//! One parsing core, several ways in: a memory map, `read`, gzip, stdin, at any chunk size and
//! thread count, must produce the same report.

use std::io::Write;

use proptest::prelude::*;
use serde_json::Value;

use crate::util::{bin, corpus_dir, fixture};

/// The report without what legitimately differs between read paths.
fn normalised(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    o.remove("inputs");
    fn strip_files(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("file");
                // Suspects' `blast` commands name the inputs as given (`-`, `.gz` ...).
                m.remove("blast_command");
                m.values_mut().for_each(strip_files);
            }
            Value::Array(a) => a.iter_mut().for_each(strip_files),
            _ => {}
        }
    }
    strip_files(&mut v);
    v
}

fn scan(args: &[&str], stdin: Option<Vec<u8>>) -> Value {
    let mut c = bin();
    c.arg("scan").args(args).args(["-f", "json"]);
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    let out = c.output().unwrap();
    normalised(serde_json::from_slice(&out.stdout).unwrap())
}

/// A realistic multi-kilobyte log: several corpus files of different versions, concatenated.
fn sample_log() -> Vec<u8> {
    let mut all = Vec::new();
    for f in [
        "hashicorp-education-learn-vault-monitoring.vault-audit.log",
        "nula-white_gitops.audit.log",
        "ppresto_hashi.audit.log",
    ] {
        let mut b = std::fs::read(corpus_dir().join(f)).unwrap();
        if !b.ends_with(b"\n") {
            b.push(b'\n');
        }
        all.extend(b);
    }
    all.extend(std::fs::read(fixture("openbao-2.7/basic.log")).unwrap());
    all
}

fn write_sample(dir: &std::path::Path) -> (String, String, Vec<u8>) {
    let bytes = sample_log();
    let plain = dir.join("audit.log");
    std::fs::write(&plain, &bytes).unwrap();
    let gz = dir.join("audit.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&bytes).unwrap();
    enc.finish().unwrap();
    (plain.display().to_string(), gz.display().to_string(), bytes)
}

#[test]
fn mmap_read_gzip_and_stdin_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, gz, bytes) = write_sample(dir.path());
    let reference = scan(&[&plain, "--mmap", "never"], None);
    assert!(reference["stats"]["entries"].as_u64().unwrap() > 1500);
    assert_eq!(scan(&[&plain, "--mmap", "always"], None), reference);
    assert_eq!(scan(&[&gz], None), reference);
    assert_eq!(scan(&["-"], Some(bytes)), reference);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]
    #[test]
    fn every_chunk_size_and_thread_count_agrees(chunk in 1u64..200_000, threads in 1usize..4, mmap in prop::bool::ANY) {
        let dir = tempfile::tempdir().unwrap();
        let (plain, _, _) = write_sample(dir.path());
        let reference = scan(&[&plain, "--mmap", "never"], None);
        let chunk = chunk.to_string();
        let threads = threads.to_string();
        let mode = if mmap { "always" } else { "never" };
        let got = scan(&[&plain, "--mmap", mode, "--chunk-size", &chunk, "--threads", &threads], None);
        prop_assert_eq!(got, reference);
    }
}
