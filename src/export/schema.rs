//! The flat `events` table: one row per audit entry, the contract SQL hunts and lake engines read.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Version of the column set; bumped when a column changes meaning or type.
pub const SCHEMA_VERSION: &str = "1";
/// Metadata key (Arrow schema metadata and Parquet key-value metadata) holding the version.
pub const SCHEMA_VERSION_KEY: &str = "blastradius.events.schema_version";

/// The columns, in order.
fn columns() -> Vec<Field> {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    vec![
        Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        text("time_text"),
        // Milliseconds since the epoch: portable arithmetic (gaps, windows) in every engine.
        Field::new("time_epoch_ms", DataType::Int64, true),
        Field::new("type", DataType::Utf8, false),
        text("request_id"),
        text("operation"),
        text("path"),
        text("mount_point"),
        text("mount_type"),
        text("namespace"),
        text("remote_address"),
        text("client_token"),
        text("client_token_accessor"),
        text("entity_id"),
        text("display_name"),
        Field::new(
            "policies",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
        text("error"),
        text("error_kind"),
        text("tenant"),
        text("secret_kind"),
        Field::new("is_secret_read", DataType::Boolean, false),
        text("lease_id"),
        text("created_accessor"),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("source_offset", DataType::Int64, false),
    ]
    .into_iter()
    .chain(super::lineage::fields())
    .collect()
}

/// The schema of the `events` table, with its version in the metadata.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let meta =
                HashMap::from([(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string())]);
            Arc::new(Schema::new_with_metadata(columns(), meta))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_lower_snake_case_and_unique() {
        let s = schema();
        let mut seen = std::collections::HashSet::new();
        for f in s.fields() {
            assert!(
                f.name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                f.name()
            );
            assert!(seen.insert(f.name().clone()), "duplicate {}", f.name());
        }
        assert_eq!(s.metadata()[SCHEMA_VERSION_KEY], SCHEMA_VERSION);
    }
}
