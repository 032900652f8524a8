//! The JSON renderer: the report as one pretty-printed document.

use serde::Serialize;

/// Writes `report` as pretty JSON followed by a newline.
pub fn write<T: Serialize>(report: &T, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report)?;
    w.write_all(b"\n")
}
