//! `-o` on paths that are not plain files: a report written through a symbolic link or into a
//! FIFO must land there, and the link or pipe must still be what it was.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
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
