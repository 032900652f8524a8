//! Query results (Arrow record batches) as a terminal table, CSV, JSON or NDJSON.
//!
//! Values come from audit logs, so strings go through [`super::sanitize`] for the terminal and
//! for spreadsheets; JSON escapes them itself. Numbers and booleans stay typed in JSON.

use std::io::{self, Write};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type, UInt64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use comfy_table::Cell;

use super::sanitize;
use super::text::Color;

/// How query results are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// An aligned table.
    Text,
    /// CSV with a header row; formula-leading cells neutralised.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Writes `batches` (all with the same schema) in `format`.
pub fn write(
    batches: &[RecordBatch],
    format: TableFormat,
    color: Color,
    out: &mut dyn Write,
) -> io::Result<()> {
    let Some(first) = batches.first() else {
        return match format {
            TableFormat::Json => writeln!(out, "[]"),
            _ => Ok(()),
        };
    };
    let names: Vec<String> = first
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    match format {
        TableFormat::Text => text(batches, &names, color, out),
        TableFormat::Csv => csv(batches, &names, out),
        TableFormat::Json | TableFormat::Ndjson => json(batches, &names, format, out),
    }
}

/// Each cell of a row as display text, or `None` for null.
fn rows(batch: &RecordBatch) -> io::Result<Vec<Vec<Option<String>>>> {
    let options = FormatOptions::default();
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io::Error::other)?;
    Ok((0..batch.num_rows())
        .map(|r| {
            batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(c, f)| (!c.is_null(r)).then(|| f.value(r).to_string()))
                .collect()
        })
        .collect())
}

fn text(
    batches: &[RecordBatch],
    names: &[String],
    color: Color,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut tb = super::text::table(color);
    tb.set_header(names.iter().map(|n| Cell::new(sanitize::terminal(n))));
    let mut count = 0usize;
    for batch in batches {
        for row in rows(batch)? {
            count += 1;
            tb.add_row(
                row.iter()
                    .map(|v| Cell::new(v.as_deref().map_or("".into(), sanitize::terminal))),
            );
        }
    }
    writeln!(out, "{tb}")?;
    writeln!(out, "({count} row{})", if count == 1 { "" } else { "s" })
}

fn csv(batches: &[RecordBatch], names: &[String], out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(names)?;
    for batch in batches {
        let textual: Vec<bool> = batch
            .columns()
            .iter()
            .map(|c| !c.data_type().is_numeric() && *c.data_type() != DataType::Boolean)
            .collect();
        for row in rows(batch)? {
            w.write_record(row.iter().zip(&textual).map(|(v, t)| match v {
                Some(v) if *t => sanitize::csv_cell(v).into_owned(),
                Some(v) => v.clone(),
                None => String::new(),
            }))?;
        }
    }
    w.flush()
}

fn json(
    batches: &[RecordBatch],
    names: &[String],
    format: TableFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut first = true;
    if format == TableFormat::Json {
        write!(out, "[")?;
    }
    for batch in batches {
        let text = rows(batch)?;
        for (r, row) in text.into_iter().enumerate() {
            // Written by hand so keys keep the query's column order.
            let mut line = String::from("{");
            for (i, ((name, col), cell)) in names.iter().zip(batch.columns()).zip(row).enumerate() {
                if i > 0 {
                    line.push(',');
                }
                line.push_str(&serde_json::to_string(name).map_err(io::Error::other)?);
                line.push(':');
                let value = json_value(col.as_ref(), r, cell);
                line.push_str(&serde_json::to_string(&value).map_err(io::Error::other)?);
            }
            line.push('}');
            match format {
                TableFormat::Json => {
                    write!(out, "{}\n  {line}", if first { "" } else { "," })?;
                }
                _ => writeln!(out, "{line}")?,
            }
            first = false;
        }
    }
    if format == TableFormat::Json {
        writeln!(out, "{}]", if first { "" } else { "\n" })?;
    }
    Ok(())
}

/// A typed JSON value: numbers and booleans as such, everything else as its display text.
fn json_value(col: &dyn Array, r: usize, text: Option<String>) -> serde_json::Value {
    use serde_json::Value;
    let Some(text) = text else {
        return Value::Null;
    };
    match col.data_type() {
        DataType::Boolean => Value::Bool(col.as_boolean().value(r)),
        DataType::Int64 => Value::from(col.as_primitive::<Int64Type>().value(r)),
        DataType::UInt64 => Value::from(col.as_primitive::<UInt64Type>().value(r)),
        t if t.is_integer() => text.parse::<i64>().map_or(Value::String(text), Value::from),
        t if t.is_floating() => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        _ => Value::String(text),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BooleanArray, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("path", DataType::Utf8, true),
            Field::new("reads", DataType::Int64, true),
            Field::new("ok", DataType::Boolean, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![Some("=cmd|' /C calc'!A0"), None])),
                Arc::new(Int64Array::from(vec![Some(-3), Some(7)])),
                Arc::new(BooleanArray::from(vec![Some(true), None])),
            ],
        )
        .expect("valid batch")
    }

    fn render(format: TableFormat) -> String {
        let mut out = Vec::new();
        write(&[batch()], format, Color::Off, &mut out).expect("render");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn csv_neutralises_formulas_but_not_numbers() {
        let csv = render(TableFormat::Csv);
        assert_eq!(csv, "path,reads,ok\n'=cmd|' /C calc'!A0,-3,true\n,7,\n");
    }

    #[test]
    fn json_keeps_types_and_nulls() {
        let v: serde_json::Value = serde_json::from_str(&render(TableFormat::Json)).expect("json");
        assert_eq!(
            v,
            serde_json::json!([
                {"path": "=cmd|' /C calc'!A0", "reads": -3, "ok": true},
                {"path": null, "reads": 7, "ok": null}
            ])
        );
        let lines: Vec<_> = render(TableFormat::Ndjson)
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn text_escapes_control_characters() {
        let schema = Schema::new(vec![Field::new("p", DataType::Utf8, false)]);
        let b = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(StringArray::from(vec!["\u{1b}[31mred"]))],
        )
        .expect("batch");
        let mut out = Vec::new();
        write(&[b], TableFormat::Text, Color::Off, &mut out).expect("render");
        let s = String::from_utf8(out).expect("utf-8");
        assert!(!s.contains('\u{1b}'), "{s}");
        assert!(s.contains("\\x1b[31mred"), "{s}");
        assert!(s.ends_with("(1 row)\n"), "{s}");
    }
}
