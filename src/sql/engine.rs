//! The polars engine behind the `sql` feature.

use std::io::Cursor;
use std::path::Path;

use arrow::array::RecordBatch;
use polars::prelude::{CompatLevel, IpcWriter, LazyFrame, PlRefPath, SerWriter};
use polars::sql::SQLContext;

use super::SqlError;

fn engine(e: impl std::fmt::Display) -> SqlError {
    SqlError::Engine(e.to_string())
}

pub(super) fn execute(table: &Path, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
    let path = table
        .to_str()
        .ok_or_else(|| engine(format!("{} is not UTF-8", table.display())))?;
    let events = LazyFrame::scan_ipc(PlRefPath::new(path), Default::default(), Default::default())
        .map_err(engine)?;
    let mut ctx = SQLContext::new();
    ctx.register("events", events);
    let mut df = ctx
        .execute(sql)
        .map_err(engine)?
        .collect()
        .map_err(engine)?;
    // The oldest compat level writes plain Utf8/LargeUtf8 rather than view types, which every
    // renderer handles.
    let mut buf = Vec::new();
    IpcWriter::new(&mut buf)
        .with_compat_level(CompatLevel::oldest())
        .finish(&mut df)
        .map_err(engine)?;
    let reader = arrow::ipc::reader::FileReader::try_new(Cursor::new(buf), None)?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}
