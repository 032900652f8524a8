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

/// zstd, xz and bzip2 (logrotate `compresscmd`) are recognised by magic bytes, whatever the
/// name, and report exactly what the plain file does (issue 21: they were parsed as text).
#[test]
fn zstd_xz_and_bzip2_report_as_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, _, bytes) = write_sample(dir.path());
    let reference = scan(&[&plain, "--mmap", "never"], None);
    let zst = zstd::encode_all(&bytes[..], 3).unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(&bytes).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&bytes).unwrap();
    for (name, data, kind) in [
        ("audit.log.1", zst, "zstd"),
        ("audit.log.2", xz.finish().unwrap(), "xz"),
        ("audit.log.3", bz.finish().unwrap(), "bzip2"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, &data).unwrap();
        let out = bin()
            .args(["scan", "-f", "json", p.to_str().unwrap()])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["inputs"][0]["compression"], kind);
        assert_eq!(v["inputs"][0]["bytes"], bytes.len() as u64, "{kind}");
        assert_eq!(normalised(v), reference, "{kind}");
        // The same bytes on standard input.
        assert_eq!(scan(&["-"], Some(data)), reference, "{kind} on stdin");
    }
}

/// A FIFO (`scan <(zcat a.gz)`) is a stream like `-`: it failed with "Illegal seek".
#[test]
fn fifos_and_process_substitution_are_read_as_streams() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, gz, bytes) = write_sample(dir.path());
    let reference = scan(&[&plain, "--mmap", "never"], None);
    let fifo = dir.path().join("audit.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            // Blocks until the scan opens the FIFO for reading.
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            for piece in bytes.chunks(4096) {
                f.write_all(piece).unwrap();
            }
        })
    };
    let out = bin()
        .args(["scan", "-f", "json", fifo.to_str().unwrap()])
        .output()
        .unwrap();
    writer.join().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"][0]["read_path"], "pipe");
    assert!(v["inputs"][0]["error"].is_null(), "{}", v["inputs"][0]);
    assert_eq!(normalised(v), reference);
    // Process substitution of a gzip stream, as a shell runs it.
    let exe = assert_cmd::cargo::cargo_bin!("blastradius");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("'{}' scan -f json <(cat '{gz}')", exe.display()))
        .env("BLASTRADIUS_NOW", "2026-11-22T12:00:00Z")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"][0]["compression"], "gzip");
    assert_eq!(normalised(v), reference);
}

/// Inputs are opened lazily with a bound: 300 files under `ulimit -n 64` are all read (all
/// inputs were opened up front, and those past the limit failed).
#[test]
fn many_files_are_all_read_under_a_low_open_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    let files = 300;
    for f in 0..files {
        let mut s = String::new();
        for l in 0..3 {
            let n = f * 3 + l;
            s.push_str(&format!(
                "{{\"time\":\"2026-11-01T{:02}:{:02}:{:02}Z\",\"type\":\"response\",\"auth\":{{\"client_token\":\"hmac-sha256:aa\",\"accessor\":\"hmac-sha256:bb\"}},\"request\":{{\"id\":\"req-{n}\",\"operation\":\"read\",\"path\":\"kv/data/app/{n}\"}},\"response\":{{}}}}\n",
                n / 3600, (n / 60) % 60, n % 60
            ));
        }
        std::fs::write(dir.path().join(format!("audit-{f:04}.log")), s).unwrap();
    }
    let exe = assert_cmd::cargo::cargo_bin!("blastradius");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec '{}' scan -f json -j 2 '{}'",
            exe.display(),
            dir.path().display()
        ))
        .env("BLASTRADIUS_NOW", "2026-11-22T12:00:00Z")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), files);
    let failed: Vec<&Value> = inputs.iter().filter(|i| !i["error"].is_null()).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(v["stats"]["entries"], (files * 3) as u64);
    assert_eq!(out.status.code(), Some(0));
}

/// Rotated `.gz` siblings of one device, read with several threads (one input after another, its
/// chunks analysed in parallel: see `scan::read_order`), give the report a single thread gives,
/// whatever order the inputs are named in.
#[test]
fn several_gzip_inputs_read_with_several_threads_report_as_one_thread_does() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = sample_log();
    let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    let per = lines.len().div_ceil(3);
    let mut names = Vec::new();
    for (i, part) in lines.chunks(per).enumerate() {
        let gz = dir.path().join(format!("audit.log.{}.gz", i + 1));
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        part.iter().for_each(|l| enc.write_all(l).unwrap());
        enc.finish().unwrap();
        names.push(gz.display().to_string());
    }
    assert_eq!(names.len(), 3);
    let run = |threads: &str, order: &[String]| {
        let mut args: Vec<&str> = vec!["--threads", threads];
        args.extend(order.iter().map(String::as_str));
        scan(&args, None)
    };
    let serial = run("1", &names);
    let plain = dir.path().join("audit.log");
    std::fs::write(&plain, &bytes).unwrap();
    let whole = scan(&[plain.to_str().unwrap()], None);
    assert_eq!(serial["stats"]["entries"], whole["stats"]["entries"]);
    assert!(serial["stats"]["entries"].as_u64().unwrap() > 1500);
    let reversed: Vec<String> = names.iter().rev().cloned().collect();
    for _ in 0..3 {
        assert_eq!(run("3", &names), serial);
        assert_eq!(run("2", &reversed), serial);
    }
}
