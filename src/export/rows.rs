//! Column builders for one batch of `events` rows.

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::error::ArrowError;

use crate::lineage::{Failure, failure_of};
use crate::model::secret::{secret_access, secret_target};
use crate::model::{Entry, EntryType, Loc, Timestamp};
use crate::tenant::TenantMap;

use super::lineage::LineageColumns;

/// Builders for every column of [`super::schema()`], reused batch after batch.
pub(crate) struct Rows {
    time: TimestampMicrosecondBuilder,
    time_text: StringBuilder,
    time_epoch_ms: Int64Builder,
    entry_type: StringBuilder,
    request_id: StringBuilder,
    operation: StringBuilder,
    path: StringBuilder,
    mount_point: StringBuilder,
    mount_type: StringBuilder,
    namespace: StringBuilder,
    remote_address: StringBuilder,
    client_token: StringBuilder,
    client_token_accessor: StringBuilder,
    entity_id: StringBuilder,
    display_name: StringBuilder,
    policies: ListBuilder<StringBuilder>,
    error: StringBuilder,
    error_kind: StringBuilder,
    tenant: StringBuilder,
    secret_kind: StringBuilder,
    is_secret_read: BooleanBuilder,
    lease_id: StringBuilder,
    created_accessor: StringBuilder,
    source_file: StringBuilder,
    source_offset: Int64Builder,
    lineage: LineageColumns,
    len: usize,
}

impl Rows {
    pub fn new() -> Rows {
        Rows {
            time: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            time_text: StringBuilder::new(),
            time_epoch_ms: Int64Builder::new(),
            entry_type: StringBuilder::new(),
            request_id: StringBuilder::new(),
            operation: StringBuilder::new(),
            path: StringBuilder::new(),
            mount_point: StringBuilder::new(),
            mount_type: StringBuilder::new(),
            namespace: StringBuilder::new(),
            remote_address: StringBuilder::new(),
            client_token: StringBuilder::new(),
            client_token_accessor: StringBuilder::new(),
            entity_id: StringBuilder::new(),
            display_name: StringBuilder::new(),
            policies: ListBuilder::new(StringBuilder::new()),
            error: StringBuilder::new(),
            error_kind: StringBuilder::new(),
            tenant: StringBuilder::new(),
            secret_kind: StringBuilder::new(),
            is_secret_read: BooleanBuilder::new(),
            lease_id: StringBuilder::new(),
            created_accessor: StringBuilder::new(),
            source_file: StringBuilder::new(),
            source_offset: Int64Builder::new(),
            lineage: LineageColumns::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends one entry of `file`, written by audit device `device`.
    pub fn push(
        &mut self,
        ev: &Entry<'_>,
        loc: Loc,
        file: &str,
        device: &str,
        tenants: &TenantMap,
    ) {
        self.time.append_option(ev.time.map(Timestamp::micros));
        self.time_text
            .append_option(ev.root.get("time").and_then(|v| v.as_str()));
        self.time_epoch_ms
            .append_option(ev.time.map(|t| t.micros().div_euclid(1000)));
        self.entry_type.append_value(match ev.entry_type {
            EntryType::Request => "request",
            EntryType::Response => "response",
            EntryType::Other => ev
                .root
                .get("type")
                .and_then(|v| v.as_str())
                .unwrap_or("other"),
        });
        let req = &ev.request;
        self.request_id.append_option(req.id);
        self.operation.append_value(req.operation.as_str());
        self.path.append_value(req.path);
        self.mount_point.append_option(req.mount_point);
        self.mount_type
            .append_option(req.mount_type.or(ev.response.mount_type));
        self.namespace.append_option(req.namespace());
        self.remote_address.append_option(req.remote_address);
        let caller = &ev.auth.token;
        self.client_token
            .append_option(caller.client_token.or(req.client_token));
        self.client_token_accessor
            .append_option(caller.accessor.or(req.client_token_accessor));
        self.entity_id.append_option(caller.entity_id);
        self.display_name.append_option(caller.display_name);
        if caller.policies.is_empty() {
            self.policies.append_null();
        } else {
            for p in caller.policies.iter() {
                self.policies.values().append_option(p.as_str());
            }
            self.policies.append(true);
        }
        self.error.append_option(ev.error);
        let failure = (ev.entry_type != EntryType::Request)
            .then(|| failure_of(ev))
            .flatten();
        self.error_kind.append_option(failure.map(failure_name));
        let target = secret_target(ev);
        self.tenant.append_option(
            target.and_then(|t| tenants.tenant_of(req.namespace(), req.path, &t.mount, t.kind)),
        );
        self.secret_kind
            .append_option(target.map(|t| t.kind.as_str()));
        self.is_secret_read
            .append_value(target.is_some() && secret_access(ev).is_some());
        self.lease_id.append_option(ev.response.lease_id);
        self.created_accessor
            .append_option(ev.response.auth.and_then(|a| a.accessor));
        self.source_file.append_value(file);
        self.source_offset
            .append_value(i64::try_from(loc.offset).unwrap_or(i64::MAX));
        self.lineage.push(ev, device);
        self.len += 1;
    }

    /// Finishes the buffered rows into a batch and empties the builders.
    pub fn take(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut columns: Vec<ArrayRef> = vec![
            std::sync::Arc::new(self.time.finish()),
            std::sync::Arc::new(self.time_text.finish()),
            std::sync::Arc::new(self.time_epoch_ms.finish()),
            std::sync::Arc::new(self.entry_type.finish()),
            std::sync::Arc::new(self.request_id.finish()),
            std::sync::Arc::new(self.operation.finish()),
            std::sync::Arc::new(self.path.finish()),
            std::sync::Arc::new(self.mount_point.finish()),
            std::sync::Arc::new(self.mount_type.finish()),
            std::sync::Arc::new(self.namespace.finish()),
            std::sync::Arc::new(self.remote_address.finish()),
            std::sync::Arc::new(self.client_token.finish()),
            std::sync::Arc::new(self.client_token_accessor.finish()),
            std::sync::Arc::new(self.entity_id.finish()),
            std::sync::Arc::new(self.display_name.finish()),
            std::sync::Arc::new(self.policies.finish()),
            std::sync::Arc::new(self.error.finish()),
            std::sync::Arc::new(self.error_kind.finish()),
            std::sync::Arc::new(self.tenant.finish()),
            std::sync::Arc::new(self.secret_kind.finish()),
            std::sync::Arc::new(self.is_secret_read.finish()),
            std::sync::Arc::new(self.lease_id.finish()),
            std::sync::Arc::new(self.created_accessor.finish()),
            std::sync::Arc::new(self.source_file.finish()),
            std::sync::Arc::new(self.source_offset.finish()),
        ];
        columns.extend(self.lineage.finish());
        self.len = 0;
        RecordBatch::try_new(super::schema(), columns)
    }
}

fn failure_name(f: Failure) -> &'static str {
    match f {
        Failure::PermissionDenied => "permission-denied",
        Failure::InvalidToken => "invalid-token",
        Failure::LoginFailed => "login-failed",
        Failure::OtherError => "other-error",
    }
}
