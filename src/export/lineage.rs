//! The columns a lake engine needs to walk token lineage and name what to rotate without the
//! scan's state: who created each token, under which role or user, through which wrapping token,
//! which logical secret an entry targets, and which audit device wrote it.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringBuilder};
use arrow::datatypes::{DataType, Field};

use crate::detect::actor::login_user;
use crate::model::secret::{logical_path, secret_target, succeeded};
use crate::model::{Entry, EntryType};
use crate::redact;
use crate::source::family_of;

/// The audit device of an input from its path alone: its family's file name (`audit.log` for
/// `/var/log/vault/audit.log.1`). The export itself names devices with `source::DeviceMap`,
/// which also applies `--device` rules and keeps directories when two families share a name.
pub fn device_of(input: &str) -> String {
    crate::source::device::family_name(&family_of(input)).to_string()
}

/// The lineage columns, in schema order, appended after the base columns.
pub fn fields() -> Vec<Field> {
    [
        "creator_accessor",
        "created_role",
        "created_user",
        "wrapping_token",
        "wrapping_accessor",
        "wrapped_accessor",
        "secret",
        "device",
    ]
    .into_iter()
    .map(|name| Field::new(name, DataType::Utf8, true))
    .collect()
}

/// Builders for [`fields()`].
pub(crate) struct LineageColumns {
    creator_accessor: StringBuilder,
    created_role: StringBuilder,
    created_user: StringBuilder,
    wrapping_token: StringBuilder,
    wrapping_accessor: StringBuilder,
    wrapped_accessor: StringBuilder,
    secret: StringBuilder,
    device: StringBuilder,
}

impl LineageColumns {
    pub fn new() -> LineageColumns {
        LineageColumns {
            creator_accessor: StringBuilder::new(),
            created_role: StringBuilder::new(),
            created_user: StringBuilder::new(),
            wrapping_token: StringBuilder::new(),
            wrapping_accessor: StringBuilder::new(),
            wrapped_accessor: StringBuilder::new(),
            secret: StringBuilder::new(),
            device: StringBuilder::new(),
        }
    }

    /// Appends the columns of one entry.
    pub fn push(&mut self, ev: &Entry<'_>, device: &str) {
        let created = Created::of(ev);
        self.creator_accessor
            .append_option(created.as_ref().and_then(|c| c.creator));
        self.created_role
            .append_option(created.as_ref().and_then(|c| c.role));
        self.created_user
            .append_option(created.as_ref().and_then(|c| c.user));
        let wrap = |field: &str| {
            ev.lookup(&format!("response.wrap_info.{field}"))
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        };
        self.wrapping_token
            .append_option(wrap("token").map(redact::token));
        self.wrapping_accessor
            .append_option(ev.response.wrap_accessor);
        self.wrapped_accessor
            .append_option(wrap("wrapped_accessor"));
        self.secret.append_option(secret_name(ev));
        self.device.append_value(device);
    }

    /// Finishes the buffered rows, in [`fields()`] order.
    pub fn finish(&mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.creator_accessor.finish()),
            Arc::new(self.created_role.finish()),
            Arc::new(self.created_user.finish()),
            Arc::new(self.wrapping_token.finish()),
            Arc::new(self.wrapping_accessor.finish()),
            Arc::new(self.wrapped_accessor.finish()),
            Arc::new(self.secret.finish()),
            Arc::new(self.device.finish()),
        ]
    }
}

/// A token issued by a successful response, as the lineage pass records it.
struct Created<'a> {
    /// The caller's accessor, unless it is the new token itself (a login's `auth` is the new
    /// token) or there is none.
    creator: Option<&'a str>,
    /// `role_name` (AppRole) or `role` (Kubernetes, JWT) of the new token.
    role: Option<&'a str>,
    /// `username` of the new token, or the user named in the login path.
    user: Option<&'a str>,
}

impl<'a> Created<'a> {
    fn of(ev: &Entry<'a>) -> Option<Created<'a>> {
        if ev.entry_type == EntryType::Request || !succeeded(ev) {
            return None;
        }
        let new = ev.response.auth?;
        let child = new.accessor?;
        let caller = ev.auth.token.accessor.or(ev.request.client_token_accessor);
        Some(Created {
            creator: caller.filter(|c| *c != child),
            role: new.meta("role_name").or_else(|| new.meta("role")),
            user: new.meta("username").or_else(|| login_user(ev.request.path)),
        })
    }
}

/// The secret as responders name it (`kv/acme/billing` for `kv/data/acme/billing`),
/// namespace-qualified, for entries that target a secret path.
fn secret_name(ev: &Entry<'_>) -> Option<String> {
    let target = secret_target(ev)?;
    let name = logical_path(&target.mount, target.kind);
    Some(match ev.request.namespace() {
        Some(ns) => format!("{ns}/{name}"),
        None => name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_files_of_one_log_share_a_device_and_two_logs_do_not() {
        assert_eq!(device_of("/var/log/vault/audit.log"), "audit.log");
        assert_eq!(device_of("/var/log/vault/audit.log.1"), "audit.log");
        assert_eq!(device_of("audit.log-20261101.gz"), "audit.log");
        assert_ne!(
            device_of("/var/log/vault/audit.log"),
            device_of("/var/log/vault/file2.log")
        );
        assert_eq!(device_of("-"), "-");
    }
}
