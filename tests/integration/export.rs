//! `export`: the flat events table in Parquet and Arrow IPC.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::util::{bin, fixture, lines, scan_json, shift};

fn basic() -> PathBuf {
    fixture("openbao-2.7/basic.log")
}

pub(crate) fn read_parquet(path: &Path) -> (Vec<RecordBatch>, BTreeMap<String, String>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open"))
        .expect("a parquet file");
    let meta = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect();
    let batches = builder
        .build()
        .expect("reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches");
    (batches, meta)
}

fn read_arrow(path: &Path) -> Vec<RecordBatch> {
    arrow::ipc::reader::FileReader::try_new(File::open(path).expect("open"), None)
        .expect("an arrow file")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches")
}

/// Every row as `column -> display text`, sorted, for order-independent comparison.
pub(crate) fn rows(batches: &[RecordBatch]) -> Vec<BTreeMap<String, String>> {
    let opts = arrow::util::display::FormatOptions::default().with_null("<null>");
    let mut out = Vec::new();
    for b in batches {
        let schema = b.schema();
        let fmts: Vec<_> = b
            .columns()
            .iter()
            .map(|c| arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            out.push(
                schema
                    .fields()
                    .iter()
                    .zip(&fmts)
                    .map(|(f, fm)| (f.name().clone(), fm.value(r).to_string()))
                    .collect(),
            );
        }
    }
    out.sort();
    out
}

fn export(args: &[&str]) -> assert_cmd::assert::Assert {
    bin().arg("export").args(args).assert()
}

#[test]
fn parquet_has_one_row_per_entry_with_typed_columns_and_the_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.parquet");
    export(&[basic().to_str().unwrap(), "-o", out.to_str().unwrap()]).success();
    let (batches, meta) = read_parquet(&out);
    assert_eq!(meta["blastradius.events.schema_version"], "1");
    let (_, report) = scan_json(&[basic().to_str().unwrap()]);
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(total as u64, report["stats"]["entries"].as_u64().unwrap());
    assert_eq!(total, lines(&basic()).len());

    let all = rows(&batches);
    // The successful KV v2 read: a secret read of tenant-a; its request line is not.
    let reads: Vec<_> = all
        .iter()
        .filter(|r| r["path"] == "kv/data/tenant-a/db" && r["operation"] == "read")
        .collect();
    assert_eq!(reads.len(), 4, "two requests, a success and a denial");
    let ok: Vec<_> = reads
        .iter()
        .filter(|r| r["is_secret_read"] == "true")
        .collect();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["type"], "response");
    assert_eq!(ok[0]["tenant"], "tenant-a");
    assert_eq!(ok[0]["secret_kind"], "kv-v2-read");
    assert_eq!(ok[0]["mount_type"], "kv");
    assert!(ok[0]["client_token"].starts_with("hmac-sha256:"));
    let denied: Vec<_> = reads
        .iter()
        .filter(|r| r["error_kind"] == "permission-denied")
        .collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["remote_address"], "203.0.113.7");
    assert_eq!(
        denied[0]["tenant"], "tenant-a",
        "denied reads keep their tenant"
    );
    let failed_login = all
        .iter()
        .find(|r| r["error_kind"] == "login-failed")
        .expect("the failed approle login");
    assert_eq!(failed_login["path"], "auth/approle/login");
    let login = all
        .iter()
        .find(|r| r["path"] == "auth/approle/login" && r["created_accessor"] != "<null>")
        .expect("the successful login issues a token");
    assert!(login["created_accessor"].starts_with("hmac-sha256:"));

    // Byte offsets point at the start of each line.
    let text = std::fs::read_to_string(basic()).unwrap();
    for b in &batches {
        let offsets = b
            .column_by_name("source_offset")
            .unwrap()
            .as_primitive::<Int64Type>();
        let times = b
            .column_by_name("time")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        let texts = b.column_by_name("time_text").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            let off = offsets.value(i) as usize;
            assert!(off == 0 || text.as_bytes()[off - 1] == b'\n');
            assert!(text[off..].starts_with('{'));
            let parsed = chrono::DateTime::parse_from_rfc3339(texts.value(i)).unwrap();
            assert_eq!(times.value(i), parsed.timestamp_micros());
        }
    }
}

#[test]
fn a_directory_is_partitioned_by_day_and_arrow_holds_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("two-days.log");
    let shifted = shift(&lines(&basic()), 10, 86_400);
    std::fs::write(&log, shifted.join("\n") + "\n").unwrap();
    let parts = dir.path().join("events");
    export(&[log.to_str().unwrap(), "-o", parts.to_str().unwrap()]).success();
    let mut days: Vec<String> = std::fs::read_dir(&parts)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    days.sort();
    assert_eq!(days, ["dt=2026-11-22", "dt=2026-11-23"]);
    let mut from_parts = Vec::new();
    let mut per_day = Vec::new();
    for day in &days {
        let f = parts.join(day).join("part-00000.parquet");
        let (b, _) = read_parquet(&f);
        per_day.push(b.iter().map(RecordBatch::num_rows).sum::<usize>());
        from_parts.extend(b);
    }
    assert_eq!(per_day, [10, shifted.len() - 10]);

    let arrow_file = dir.path().join("events.arrow");
    export(&[
        log.to_str().unwrap(),
        "-f",
        "arrow",
        "-o",
        arrow_file.to_str().unwrap(),
    ])
    .success();
    assert_eq!(rows(&read_arrow(&arrow_file)), rows(&from_parts));
}

#[test]
fn mmap_read_gzip_and_small_chunks_export_the_same_rows() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("audit.log.gz");
    let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), Default::default());
    enc.write_all(&std::fs::read(basic()).unwrap()).unwrap();
    enc.finish().unwrap();
    let run = |name: &str, input: &Path, extra: &[&str]| {
        let out = dir.path().join(name);
        export(
            &[
                &[
                    input.to_str().unwrap(),
                    "-f",
                    "arrow",
                    "-o",
                    out.to_str().unwrap(),
                ],
                extra,
            ]
            .concat(),
        )
        .success();
        let mut r = rows(&read_arrow(&out));
        // The gzip copy has another name, so another file and device name.
        for row in &mut r {
            row.remove("source_file");
            row.remove("device");
        }
        r
    };
    let mapped = run("m.arrow", &basic(), &["--mmap", "always"]);
    assert_eq!(mapped.len(), 27);
    assert_eq!(run("r.arrow", &basic(), &["--mmap", "never"]), mapped);
    assert_eq!(
        run(
            "c.arrow",
            &basic(),
            &["--mmap", "never", "--chunk-size", "2K", "-j", "2"]
        ),
        mapped
    );
    assert_eq!(run("g.arrow", &gz, &[]), mapped);
}

#[test]
fn malformed_lines_are_skipped_located_and_make_the_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut l = lines(&basic());
    l.insert(3, "{\"time\": broken".into());
    std::fs::write(&log, l.join("\n") + "\n").unwrap();
    let out = dir.path().join("e.parquet");
    let assert = export(&[log.to_str().unwrap(), "-o", out.to_str().unwrap()]).code(3);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let offset: usize = l[..3].iter().map(|s| s.len() + 1).sum();
    assert!(
        stderr.contains(&format!("audit.log:4 (byte {offset})")),
        "{stderr}"
    );
    let (batches, _) = read_parquet(&out);
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 27);
    // Tolerated with --max-malformed.
    let out2 = dir.path().join("e2.parquet");
    export(&[
        log.to_str().unwrap(),
        "--max-malformed",
        "1",
        "-o",
        out2.to_str().unwrap(),
    ])
    .success();
}

#[test]
fn refuses_a_non_empty_directory_and_leaves_no_partial_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "x").unwrap();
    let assert = export(&[
        basic().to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
    ])
    .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("not empty"), "{stderr}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keep.txt"]);
}

#[test]
fn the_time_window_limits_rows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.arrow");
    export(&[
        basic().to_str().unwrap(),
        "--since",
        "2026-11-22T08:09:16Z",
        "-f",
        "arrow",
        "-o",
        out.to_str().unwrap(),
    ])
    .success();
    let r = rows(&read_arrow(&out));
    assert!(!r.is_empty() && r.len() < 27);
    assert!(
        r.iter()
            .all(|row| row["time_text"].as_str() >= "2026-11-22T08:09:16")
    );
}

#[test]
fn tenant_fallback_none_leaves_the_tenant_column_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (default, none) = (dir.path().join("d.parquet"), dir.path().join("n.parquet"));
    export(&[basic().to_str().unwrap(), "-o", default.to_str().unwrap()]).success();
    export(&[
        basic().to_str().unwrap(),
        "--tenant-fallback",
        "none",
        "-o",
        none.to_str().unwrap(),
    ])
    .success();
    let tenant_of_read = |p: &Path| {
        rows(&read_parquet(p).0)
            .into_iter()
            .find(|r| r["path"] == "kv/data/tenant-a/db" && r["is_secret_read"] == "true")
            .expect("the successful read")["tenant"]
            .clone()
    };
    assert_eq!(tenant_of_read(&default), "tenant-a");
    let empty = tenant_of_read(&none);
    assert_eq!(empty, "<null>", "no tenant: a null cell");
}
