//! Recognising an input across runs, whatever it is called now.
//!
//! Device and inode alone are not enough (LVM reuses device ids, filesystems reuse inodes;
//! elastic/beats#34419), and a path says nothing after rotation. An input is recognised by the
//! SHA-256 of its first bytes (up to 4 KiB, decompressed for gzip so that `audit.log.1.gz` is
//! the file `audit.log.1` was); device, inode and path break ties.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Bytes hashed from the start of an input.
pub const HEAD_BYTES: usize = 4096;

/// What identifies an input now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
    /// Size on disk.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// True for gzip content.
    pub gzip: bool,
    /// The first bytes of the (decompressed) content, up to [`HEAD_BYTES`].
    pub head: Vec<u8>,
}

impl Fingerprint {
    /// Takes the fingerprint of a file.
    pub fn of(path: &Path) -> io::Result<Fingerprint> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let mut magic = [0u8; 2];
        let n = std::os::unix::fs::FileExt::read_at(&file, &mut magic, 0)?;
        let gzip = n == 2 && magic == [0x1f, 0x8b];
        let mut head = Vec::with_capacity(HEAD_BYTES);
        if gzip {
            // A truncated archive still yields its first bytes; errors past them do not matter.
            let mut dec = flate2::read::MultiGzDecoder::new(&file).take(HEAD_BYTES as u64);
            let mut buf = [0u8; HEAD_BYTES];
            loop {
                match dec.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => head.extend_from_slice(&buf[..k]),
                }
            }
        } else {
            (&file).take(HEAD_BYTES as u64).read_to_end(&mut head)?;
        }
        Ok(Fingerprint {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            gzip,
            head,
        })
    }

    /// SHA-256 (hex) of the first `len` bytes, if the content is that long.
    pub fn head_hash(&self, len: usize) -> Option<String> {
        (self.head.len() >= len).then(|| hex(&Sha256::digest(&self.head[..len])))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_gzip_copy_has_the_head_of_its_plain_original() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..800).map(|i| format!("{{\"line\":{i}}}\n")).collect();
        let plain = dir.path().join("audit.log.1");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("audit.log.1.gz");
        let mut enc =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::best());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        let (a, b) = (
            Fingerprint::of(&plain).unwrap(),
            Fingerprint::of(&gz).unwrap(),
        );
        assert!(b.gzip && !a.gzip);
        assert_eq!(a.head_hash(HEAD_BYTES), b.head_hash(HEAD_BYTES));
        assert!(a.head_hash(HEAD_BYTES).is_some());
        assert_ne!(a.ino, b.ino);
    }
}
