//! SQL over the exported `events` table: the built-in hunts (`queries/sql/`, embedded at build
//! time) and, with the `sql` cargo feature, an embedded polars engine.
//!
//! The engine reads the same Arrow IPC file `export` writes, so there is one pipeline: the scan
//! pass builds Arrow batches, polars maps the file and runs the SQL, and the result comes back
//! as Arrow batches for the renderers in [`crate::report::table`].

#[cfg(feature = "sql")]
mod engine;

use std::path::Path;

use arrow::array::RecordBatch;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_hunts.rs"));
}

/// A built-in hunt.
#[derive(Clone, Copy, Debug)]
pub struct Hunt {
    /// The name (`top_readers_per_tenant`): the file name without `.sql`.
    pub name: &'static str,
    /// What it finds: the first comment line.
    pub summary: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

/// The built-in hunts, by name.
pub fn hunts() -> Vec<Hunt> {
    builtin::BUILTIN
        .iter()
        .map(|(file, sql)| Hunt {
            name: file.strip_suffix(".sql").unwrap_or(file),
            summary: sql
                .lines()
                .find_map(|l| l.strip_prefix("--"))
                .map_or("", str::trim),
            sql,
        })
        .collect()
}

/// The built-in hunt called `name`.
pub fn hunt(name: &str) -> Option<Hunt> {
    hunts().into_iter().find(|h| h.name == name)
}

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// This build has no SQL engine.
    #[error(
        "this build has no SQL engine: rebuild with `cargo install blastradius --features sql`, \
         or run `blastradius export` and query the Parquet files with DuckDB, Trino or Spark"
    )]
    NotBuilt,
    /// The engine rejected or failed the query.
    #[error("query failed: {0}")]
    Engine(String),
    /// The engine's result could not be read back.
    #[error("reading the result: {0}")]
    Result(#[from] arrow::error::ArrowError),
}

/// True when this build has an SQL engine (the `sql` cargo feature).
pub const ENGINE: bool = cfg!(feature = "sql");

/// Runs `sql` over the Arrow IPC file `table` registered as `events`.
#[cfg(feature = "sql")]
pub fn execute(table: &Path, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
    engine::execute(table, sql)
}

/// Without the `sql` feature there is no engine.
#[cfg(not(feature = "sql"))]
pub fn execute(_table: &Path, _sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
    Err(SqlError::NotBuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_hunt_is_embedded_with_a_summary() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/sql");
        let files = std::fs::read_dir(dir)
            .expect("queries/sql")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
            })
            .count();
        let hunts = hunts();
        assert_eq!(hunts.len(), files);
        assert!(files >= 6);
        for h in &hunts {
            assert!(!h.summary.is_empty(), "{} has no summary comment", h.name);
            assert!(h.sql.contains("FROM events"), "{}", h.name);
        }
        assert!(hunt("quiet_periods").is_some());
        assert!(hunt("nope").is_none());
    }
}
