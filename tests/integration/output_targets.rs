//! Outputs on paths that are not plain files: a report written through a symbolic link or into
//! a FIFO must land there, and the link or pipe must still be what it was; a link another user
//! owns is refused by every output (`-o`, `--alerts`, `--state`, `export -o`, `generate`).

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::util::{bin, fixture};

fn scan_to(out: &std::path::Path) -> std::process::Output {
    let log = fixture("openbao-2.7/basic.log");
    bin()
        .args(["scan", "-f", "json", "-o"])
        .arg(out)
        .arg(log)
        .output()
        .unwrap()
}

#[test]
fn a_symbolic_link_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let res = scan_to(&link);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let kind = std::fs::symlink_metadata(&link).unwrap().file_type();
    assert!(kind.is_symlink(), "the link was replaced by a file");
    let v: Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert_eq!(v["command"], "scan");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temporary file left"
    );
}

#[test]
fn a_fifo_is_written_in_place_not_replaced() {
    // Renaming a temporary file over a device or pipe replaces it: as root, `-o /dev/null`
    // once turned /dev/null into a regular file. A FIFO shows it without touching /dev.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("shipper.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Non-blocking, so that opening and reading never hang if nothing is ever written.
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let finished = Arc::clone(&done);
    let drain = std::thread::spawn(move || {
        let (mut got, mut buf) = (Vec::new(), [0u8; 1 << 16]);
        loop {
            match reader.read(&mut buf) {
                // No writer: not opened yet, or closed; after the scan exited, all is read.
                Ok(0) if finished.load(Ordering::SeqCst) => return got,
                Ok(0) => std::thread::sleep(Duration::from_millis(5)),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("reading the FIFO: {e}"),
            }
        }
    });
    let res = scan_to(&fifo);
    done.store(true, Ordering::SeqCst);
    let got = drain.join().unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced");
    let v: Value = serde_json::from_slice(&got).expect("the report came through the FIFO");
    assert_eq!(v["command"], "scan");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

/// One kind of output: the arguments that write it to `out` (`dir` holds anything else a run
/// needs), and what a file written by it starts with.
struct OutputKind {
    name: &'static str,
    args: fn(out: &Path, dir: &Path) -> Vec<std::ffi::OsString>,
    starts_with: &'static [u8],
    /// False for states: an existing file that is not a state is refused (and kept), so the
    /// link points at a file that does not exist yet.
    replaces_existing: bool,
}

fn os(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<std::ffi::OsString> {
    parts.iter().map(|p| p.as_ref().to_os_string()).collect()
}

fn kinds() -> Vec<OutputKind> {
    fn log() -> std::path::PathBuf {
        fixture("openbao-2.7/basic.log")
    }
    vec![
        OutputKind {
            name: "scan -o",
            args: |out, _| os(&[&"scan", &"-f", &"json", &"-o", &out, &log()]),
            starts_with: b"{",
            replaces_existing: true,
        },
        OutputKind {
            name: "scan --alerts",
            args: |out, dir| {
                let state = dir.join("alerts-state.json");
                os(&[
                    &"scan",
                    &"-f",
                    &"json",
                    &"-o",
                    &"/dev/null",
                    &"--state",
                    &state,
                    &"--alerts",
                    &out,
                    &log(),
                ])
            },
            starts_with: b"",
            replaces_existing: true,
        },
        OutputKind {
            name: "scan --state",
            args: |out, _| os(&[&"scan", &"-o", &"/dev/null", &"--state", &out, &log()]),
            starts_with: b"{\"format\":\"blastradius-state\"",
            replaces_existing: false,
        },
        OutputKind {
            name: "blast -o",
            args: |out, _| os(&[&"blast", &"--display-name", &"root", &"-o", &out, &log()]),
            starts_with: b"",
            replaces_existing: true,
        },
        OutputKind {
            name: "blast --state",
            args: |out, _| {
                os(&[
                    &"blast",
                    &"--display-name",
                    &"root",
                    &"-o",
                    &"/dev/null",
                    &"--state",
                    &out,
                    &log(),
                ])
            },
            starts_with: b"{\"format\":\"blastradius-state\"",
            replaces_existing: false,
        },
        OutputKind {
            name: "rotation-list -o",
            args: |out, _| {
                os(&[
                    &"rotation-list",
                    &"--display-name",
                    &"root",
                    &"-o",
                    &out,
                    &log(),
                ])
            },
            starts_with: b"",
            replaces_existing: true,
        },
        OutputKind {
            name: "export -o",
            args: |out, _| os(&[&"export", &"-f", &"parquet", &"-o", &out, &log()]),
            starts_with: b"PAR1",
            replaces_existing: true,
        },
        OutputKind {
            name: "generate -o",
            args: |out, _| os(&[&"--quiet", &"generate", &"--size", &"10K", &"-o", &out]),
            starts_with: b"{",
            replaces_existing: true,
        },
        OutputKind {
            name: "generate --truth",
            args: |out, dir| {
                let log = dir.join("generated.log");
                os(&[
                    &"--quiet",
                    &"generate",
                    &"--size",
                    &"10K",
                    &"-o",
                    &log,
                    &"--truth",
                    &out,
                ])
            },
            starts_with: b"{",
            replaces_existing: true,
        },
    ]
}

/// Makes `link` a symbolic link to `target` owned by uid 65534 (nobody); false when this test
/// run may not give files away (not root), so the caller can say it skipped.
fn foreign_link(target: &Path, link: &Path) -> bool {
    std::os::unix::fs::symlink(target, link).unwrap();
    match std::os::unix::fs::lchown(link, Some(65534), Some(65534)) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => false,
        Err(e) => panic!("lchown: {e}"),
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn every_output_follows_its_own_link_and_replaces_the_target_0600() {
    for kind in kinds() {
        let dir = tempfile::tempdir().unwrap();
        // `.parquet`, so that `export -o` writes one file rather than a partitioned directory.
        let real = dir.path().join("real.parquet");
        if kind.replaces_existing {
            std::fs::write(&real, "old").unwrap();
        }
        let link = dir.path().join("link.parquet");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let res = bin().args((kind.args)(&link, dir.path())).output().unwrap();
        assert!(
            res.status.success(),
            "{}: {}",
            kind.name,
            String::from_utf8_lossy(&res.stderr)
        );
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(
            meta.file_type().is_symlink(),
            "{}: link replaced",
            kind.name
        );
        let got = std::fs::read(&real).unwrap();
        assert_ne!(got, b"old", "{}: target not replaced", kind.name);
        assert!(got.starts_with(kind.starts_with), "{}: {got:?}", kind.name);
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", kind.name);
        let names = names_in(dir.path());
        assert!(
            names.iter().all(|n| !n.starts_with(".blastradius")),
            "{}: temporary file left: {names:?}",
            kind.name
        );
    }
}

#[test]
fn no_output_follows_a_link_another_user_owns() {
    for kind in kinds() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("precious.parquet");
        std::fs::write(&real, "precious").unwrap();
        let link = dir.path().join("link.parquet");
        if !foreign_link(&real, &link) {
            eprintln!("skipped: giving a link to uid 65534 needs root");
            return;
        }
        let before = names_in(dir.path());
        let res = bin().args((kind.args)(&link, dir.path())).output().unwrap();
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert!(!res.status.success(), "{}: written through", kind.name);
        assert!(
            stderr.contains("refusing to write through symbolic link")
                && stderr.contains("owned by uid 65534"),
            "{}: {stderr}",
            kind.name
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"precious", "{}", kind.name);
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{}: link replaced",
            kind.name
        );
        // Nothing else appears where the refused output was to go (an alerts run may still
        // write its own state, which is not behind the link).
        let after: Vec<String> = names_in(dir.path())
            .into_iter()
            .filter(|n| !n.starts_with("alerts-state.json") && n != "generated.log")
            .collect();
        assert_eq!(after, before, "{}", kind.name);
    }
}

#[test]
fn a_foreign_link_to_a_directory_on_the_way_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let via = dir.path().join("reports");
    if !foreign_link(&elsewhere, &via) {
        eprintln!("skipped: giving a link to uid 65534 needs root");
        return;
    }
    let res = scan_to(&via.join("r.json"));
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success());
    assert!(stderr.contains("owned by uid 65534"), "{stderr}");
    assert!(
        names_in(&elsewhere).is_empty(),
        "{:?}",
        names_in(&elsewhere)
    );
}

#[test]
fn a_foreign_link_as_the_state_lock_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    let state = dir.path().join("state.json");
    if !foreign_link(&victim, &dir.path().join("state.json.lock")) {
        eprintln!("skipped: giving a link to uid 65534 needs root");
        return;
    }
    let res = bin()
        .args(["scan", "-o", "/dev/null", "--state"])
        .arg(&state)
        .arg(fixture("openbao-2.7/basic.log"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success());
    assert!(stderr.contains("owned by uid 65534"), "{stderr}");
    assert!(!victim.exists(), "the lock link created its target");
    assert!(!state.exists());
}
