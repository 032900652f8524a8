//! JSON reports whose long top-level arrays are rendered in parallel ([`super::parallel`]):
//! the `secrets` of `scan`, the tokens, reads, leases and rotation targets of `blast`, and the
//! array `rotation-list -f json` writes.
//!
//! A report's fields still come from its `Serialize` derive (names, order, skips), one at a
//! time, through `Fields`: a serializer that takes only a struct and writes each field as
//! serde_json's pretty printer writes it at the top of a document, except the fields named in
//! [`Parallel`], which it renders from the report itself, chunk by chunk on the current pool.
//! Every byte is the one [`super::json::write`] writes for the same report (the tests below and
//! tests/integration/report_threads.rs).

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::ScanReport;
use super::blast::BlastReport;
use super::json::{Chunked, Pretty};
use super::parallel::{self, CHUNK_ITEMS};

/// A list a report holds, rendered as a pretty JSON array in chunks on the pool.
pub trait Array: Sync {
    /// Writes the array, its elements `depth` deep (1 for a document that is the array, 2 for
    /// the value of a top-level key).
    fn write(&self, depth: usize, out: &mut dyn Write) -> io::Result<()>;
}

/// The items of a slice, each serialised by its derive.
pub struct Items<'a, T>(pub &'a [T]);

impl<T: Serialize + Sync> Array for Items<'_, T> {
    fn write(&self, depth: usize, out: &mut dyn Write) -> io::Result<()> {
        if self.0.is_empty() {
            return out.write_all(b"[]");
        }
        out.write_all(b"[")?;
        let render = |start: usize, chunk: &[T], buf: &mut Vec<u8>| -> io::Result<()> {
            for (i, item) in chunk.iter().enumerate() {
                Pretty::at(depth).line(buf, start + i > 0)?;
                super::pretty::write(item, depth, buf)?;
            }
            Ok(())
        };
        parallel::ordered(self.0, CHUNK_ITEMS, &render, out)?;
        Pretty::at(depth - 1).line(out, false)?;
        out.write_all(b"]")
    }
}

/// The top-level fields rendered through an [`Array`] instead of their derive, by key. The
/// field's own serde attributes are not applied to it: name only plain list fields (the tests
/// compare every report with serde_json's rendering of its derive).
pub type Parallel<'a> = [(&'static str, &'a dyn Array)];

/// Writes `report` as pretty JSON followed by a newline, the fields in `parallel` in chunks.
pub fn write<T: Serialize>(
    report: &T,
    parallel: &Parallel<'_>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut out = Chunked::new(w);
    report.serialize(Fields {
        out: &mut out,
        parallel,
    })?;
    out.write_all(b"\n")?;
    out.finish()
}

/// A `scan` report: its `secrets` in parallel.
pub fn write_scan(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    write(r, &[("secrets", &Items(&r.secrets))], w)
}

/// A `blast` report: its tokens, reads, leases and rotation targets in parallel.
pub fn write_blast(r: &BlastReport, w: &mut dyn Write) -> io::Result<()> {
    let parallel: [(&'static str, &dyn Array); 4] = [
        ("tokens", &Items(&r.tokens)),
        ("secrets_read", &Items(&r.secrets_read)),
        ("leases", &Items(&r.leases)),
        ("rotation_targets", &Items(&r.rotation_targets)),
    ];
    write(r, &parallel, w)
}

/// A document that is one array (`rotation-list -f json`).
pub fn write_array<T: Serialize + Sync>(items: &[T], w: &mut dyn Write) -> io::Result<()> {
    let mut out = Chunked::new(w);
    Items(items).write(1, &mut out)?;
    out.write_all(b"\n")?;
    out.finish()
}

/// Takes the report's derive: only `serialize_struct`, whose fields [`FieldWriter`] writes.
struct Fields<'a, 'w> {
    out: &'a mut Chunked<'w>,
    parallel: &'a Parallel<'a>,
}

/// Writes the fields of the top-level object.
struct FieldWriter<'a, 'w> {
    out: &'a mut Chunked<'w>,
    parallel: &'a Parallel<'a>,
    first: bool,
}

impl ser::SerializeStruct for FieldWriter<'_, '_> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let top = Pretty::at(1);
        top.line(self.out, !self.first)
            .map_err(serde_json::Error::io)?;
        self.first = false;
        serde_json::to_writer(&mut *self.out, key)?;
        self.out.write_all(b": ").map_err(serde_json::Error::io)?;
        if let Some((_, array)) = self.parallel.iter().find(|(k, _)| *k == key) {
            array.write(2, self.out).map_err(serde_json::Error::io)
        } else {
            let (buf, sink) = self.out.parts();
            super::pretty::write_streaming(value, 1, buf, sink)
        }
    }

    fn end(self) -> Result<(), serde_json::Error> {
        if !self.first {
            Pretty::at(0)
                .line(self.out, false)
                .map_err(serde_json::Error::io)?;
        }
        self.out.write_all(b"}").map_err(serde_json::Error::io)
    }
}

/// Anything but a struct at the top: not a report.
fn not_a_struct() -> serde_json::Error {
    ser::Error::custom("a report serialises as a struct")
}

impl<'a, 'w> ser::Serializer for Fields<'a, 'w> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<(), serde_json::Error>;
    type SerializeTuple = Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = Impossible<(), serde_json::Error>;
    type SerializeMap = Impossible<(), serde_json::Error>;
    type SerializeStruct = FieldWriter<'a, 'w>;
    type SerializeStructVariant = Impossible<(), serde_json::Error>;

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<FieldWriter<'a, 'w>, serde_json::Error> {
        self.out.write_all(b"{").map_err(serde_json::Error::io)?;
        Ok(FieldWriter {
            out: self.out,
            parallel: self.parallel,
            first: true,
        })
    }

    super::refuse! {
        not_a_struct;
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), serde_json::Error> {
        Err(not_a_struct())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::detect::Actor;
    use crate::model::secret::SecretKind;
    use crate::model::{Location, Timestamp};
    use crate::report::{ReportContext, Settings};
    use crate::scan::{Locator, ScanResult};
    use crate::scope::SecretRecord;

    /// A secret with `readers` readers, hostile strings in its path and reader names.
    fn secret(i: usize, readers: usize) -> SecretRecord {
        let reader = |r: usize| Actor {
            display_name: Some(format!("app-{r} \"quoted\" \\ é\u{1}\n")),
            accessor: (!r.is_multiple_of(3)).then(|| format!("hmac-sha256:{i:08x}{r:04x}")),
            remote_address: Some(format!("10.0.{}.{}", r / 256, r % 256)),
            login_user: None,
        };
        SecretRecord {
            path: format!("kv/data/t{:03}/app-{i:05}\u{2028}", i % 97).into(),
            secret: format!("kv/t{:03}/app-{i:05}", i % 97).into(),
            kind: SecretKind::KvV2Read,
            namespace: i.is_multiple_of(5).then(|| "blue/".into()),
            tenant: (!i.is_multiple_of(7)).then(|| format!("t{:03}", i % 97).into()),
            tenant_excluded: i.is_multiple_of(11),
            reads: i as u64 * 3 + 1,
            first_read: Some(Timestamp(1_700_000_000_000_000_000 + i as i64)),
            last_read: (!i.is_multiple_of(4)).then_some(Timestamp(1_800_000_000_000_000_000)),
            readers: (0..readers).map(|r| Arc::new(reader(r))).collect(),
            readers_total: readers + i % 3,
            readers_omitted: i % 3,
            readers_saturated: i.is_multiple_of(13),
            evidence: (0..i % 4)
                .map(|l| Location {
                    file: "audit.log".into(),
                    line: l as u64 + 1,
                    offset: l as u64 * 100,
                })
                .collect(),
        }
    }

    fn report(secrets: Vec<SecretRecord>) -> ScanReport {
        let result = ScanResult {
            inputs: Vec::new(),
            stats: Default::default(),
            findings: Vec::new(),
            secrets,
            tenants: Vec::new(),
            tenant_layout: Default::default(),
            gaps: Vec::new(),
            gaps_omitted: Default::default(),
            unexplained_gaps: 0,
            malformed: Vec::new(),
            first_entry: None,
            last_entry: None,
            locator: Locator::new(Vec::new(), Vec::new()),
            progress: Vec::new(),
            activity: Default::default(),
        };
        ScanReport::build(
            result,
            ReportContext {
                generated_at: Timestamp(1_800_000_000_000_000_000),
                window: Default::default(),
                settings: Settings {
                    gap_seconds: 300.0,
                    widespread_threshold: 3,
                    tenant_patterns: Vec::new(),
                    inferred_tenant_patterns: Vec::new(),
                    excluded_tenants: Vec::new(),
                    rules: 0,
                    max_readers: 5,
                },
                max_malformed: 0,
                incremental: None,
                suspects: Default::default(),
            },
        )
    }

    /// More secrets than several windows of chunks on four threads (and none, one, one chunk
    /// and one more): on pools of 1 to 4 threads and with no pool, the report is serde_json's
    /// own pretty printing of it, byte for byte. A chunk written out of order, a separator
    /// lost or doubled at a chunk's edge, or a chunk indented at the wrong depth all fail it.
    #[test]
    fn parallel_secrets_are_serde_jsons_pretty_printing() {
        let many = parallel::CHUNK_ITEMS * parallel::WINDOW_PER_THREAD * 4 * 2 + 37;
        for n in [0, 1, CHUNK_ITEMS, CHUNK_ITEMS + 1, many] {
            let r = report((0..n).map(|i| secret(i, i % 6)).collect());
            let mut want = serde_json::to_vec_pretty(&r).unwrap();
            want.push(b'\n');
            let mut alone = Vec::new();
            write_scan(&r, &mut alone).unwrap();
            assert!(alone == want, "{n} secrets, no pool");
            for threads in 1..=4 {
                let pool = parallel::test_pool(threads);
                let mut got = Vec::new();
                pool.install(|| write_scan(&r, &mut got)).unwrap();
                assert!(got == want, "{n} secrets, {threads} threads");
            }
        }
    }

    /// A document that is one long array (`rotation-list -f json`), on any pool: serde_json's
    /// pretty printing of it.
    #[test]
    fn a_parallel_top_level_array_is_serde_jsons_pretty_printing() {
        let n = parallel::CHUNK_ITEMS * parallel::WINDOW_PER_THREAD * 3 + 1;
        let items: Vec<SecretRecord> = (0..n).map(|i| secret(i, i % 3)).collect();
        let mut want = serde_json::to_vec_pretty(&items).unwrap();
        want.push(b'\n');
        for threads in [1, 3] {
            let pool = parallel::test_pool(threads);
            let mut got = Vec::new();
            pool.install(|| write_array(&items, &mut got)).unwrap();
            assert!(got == want, "{threads} threads");
        }
        let mut empty = Vec::new();
        write_array::<SecretRecord>(&[], &mut empty).unwrap();
        assert_eq!(empty, b"[]\n");
    }

    /// NDJSON's secret and reader records come out in the same order, with the same bytes, on
    /// any pool as on the calling thread alone; one line per secret and per listed reader.
    #[test]
    fn parallel_ndjson_secrets_match_the_serial_writer() {
        let n = parallel::CHUNK_ITEMS * parallel::WINDOW_PER_THREAD * 3 + 5;
        let r = report((0..n).map(|i| secret(i, i % 4)).collect());
        let mut want = Vec::new();
        crate::report::ndjson::write_scan(&r, &mut want).unwrap();
        let lines = want.split(|&b| b == b'\n').filter(|l| !l.is_empty());
        let readers: usize = r.secrets.iter().map(|s| s.readers.len()).sum();
        assert_eq!(lines.count(), n + readers + 1);
        for threads in 2..=4 {
            let pool = parallel::test_pool(threads);
            let mut got = Vec::new();
            pool.install(|| crate::report::ndjson::write_scan(&r, &mut got))
                .unwrap();
            assert!(got == want, "{threads} threads");
        }
    }
}
