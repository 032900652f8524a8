//! Integration tests: one binary, one module per area.

mod util;

/// `blast` and `rotation-list` on a log with a known lineage.
mod cli_blast;
/// `--help` examples, docs/cli.md, completions, man page.
mod cli_docs;
/// `rules list`, `rules lint`, `--rules` and `--fail-on`.
mod cli_rules;
/// The command line: formats, options, exit codes, output files.
mod cli_scan;
/// Every event of the real-world corpus in ../shared/corpus is read or reported.
mod corpus;
/// Our parser and serde_json agree on the fields blastradius reads.
mod differential;
/// `export`: Parquet and Arrow events tables.
mod export;
/// `export`'s lineage columns (creator, role, user, wrapping, secret, device).
mod export_lineage;
/// The request fast path agrees with the full parser on mutated real lines; `scan --strict`.
mod fast_path;
/// The fuzz corpus replayed.
mod fuzz_corpus;
/// `generate`: determinism, and scans report the generator's ground truth.
mod generate;
/// Hostile and broken input from fixtures/hostile.
mod hostile;
/// Hostile input, round 2: truncation while reading, long lines (issue 21).
mod hostile_input;
/// No clear token in any output; duplicate keys and wrong types are malformed.
mod hostile_output;
/// `--state`: incremental runs, rotation, alerts.
mod incremental;
/// `notify`: tenant notices hold only their tenant's paths; files, templates.
mod notify;
/// A real OpenBao server, a scripted incident, and the committed recording of it.
mod openbao;
/// `-o` through symbolic links and into FIFOs.
mod output_targets;
/// A rotated `.gz` family decompressed ahead of its analysis reports as one thread does.
mod read_ahead;
/// mmap, read, gzip and stdin, at any chunk size, give the same report.
mod read_paths;
/// `scan --max-readers`: readers capped per secret with their count, every reader in NDJSON.
mod report_caps;
/// Reports written on several threads are byte for byte the one-thread reports.
mod report_threads;
/// Markdown and HTML incident reports: structure, escaping, chart, a real browser.
mod reports;
/// Reports match the published JSON Schema.
mod schema;
/// The skimming reader's tapes agree with simd-json's on real and mutated lines.
mod skim_tape;
/// Apache Spark (local mode) runs the hunts and the PySpark blast job.
mod spark;
/// SQL hunts on DuckDB, sqlglot and the embedded engine.
mod sql;
mod suspects;
