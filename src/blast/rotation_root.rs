//! Database root rotation: which evidence calls for `<mount>/rotate-root/<connection>`.
//!
//! The root credential of a database connection is the one OpenBao connects with to create and
//! drop users. Only a write of the connection's configuration (`<mount>/config/<connection>`)
//! puts it in the caller's hands: the writer sent `username`/`password` (or could have), or
//! pointed `connection_url` at a server of its own and received the credential there. Reading the
//! configuration does not: OpenBao never returns the password. Reading `creds/<role>` does not
//! either: the dynamic user is revoked through its lease (and `static-creds/<role>` through
//! `rotate-role/<role>`). So the plan rotates the root for each connection the blast radius
//! wrote, and for nothing else; docs/rotation-list.md says so.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::command::{Refusal, VaultCommand};
use crate::lineage::{Key, LineageState, NO_TOKEN, earlier, later};
use crate::model::{Loc, Location, Timestamp};
use crate::redact;

/// A database connection configuration the blast radius wrote.
#[derive(Clone, Debug)]
pub struct ConfigWriteRecord {
    /// Request path (namespace-qualified), `db/config/pg`.
    pub path: String,
    /// The namespace, none for root.
    pub namespace: Option<String>,
    /// The mount without the namespace, with its trailing slash (`db/`).
    pub mount: String,
    /// The connection's name.
    pub connection: String,
    /// Successful writes in scope.
    pub writes: u64,
    /// First write.
    pub first_write: Option<Timestamp>,
    /// Accessors of the tokens that wrote it.
    pub tokens: Vec<String>,
    /// The first write.
    pub evidence: Location,
}

struct Acc {
    writes: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    tokens: BTreeSet<String>,
    loc: Loc,
}

/// The connection configurations the selected tokens wrote, by first write.
pub(super) fn config_writes(
    st: &LineageState,
    selected: &HashSet<Key>,
    loc: &dyn Fn(Loc) -> Location,
) -> Vec<ConfigWriteRecord> {
    let mut by_path: BTreeMap<Key, Acc> = BTreeMap::new();
    for ((actor, path), r) in &st.config_writes {
        if !selected.contains(actor) {
            continue;
        }
        let a = by_path.entry(*path).or_insert(Acc {
            writes: 0,
            first: None,
            last: None,
            tokens: BTreeSet::new(),
            loc: r.loc,
        });
        a.writes += r.reads();
        a.first = earlier(a.first, r.first());
        a.last = later(a.last, r.last());
        a.loc = a.loc.min(r.loc);
        a.tokens.insert(if *actor == NO_TOKEN {
            "unauthenticated".to_string()
        } else {
            st.str(*actor).to_string()
        });
    }
    let mut out: Vec<ConfigWriteRecord> = by_path
        .into_iter()
        .filter_map(|(pk, a)| {
            let info = st.paths.get(&pk)?;
            let relative = match info.namespace() {
                Some(ns) => info.path().strip_prefix(ns)?.strip_prefix('/')?,
                None => info.path(),
            };
            let connection = relative
                .strip_prefix(info.mount())?
                .strip_prefix("config/")?;
            Some(ConfigWriteRecord {
                path: redact::path(info.path()).into_owned(),
                namespace: info.namespace().map(String::from),
                mount: info.mount().to_string(),
                connection: connection.to_string(),
                writes: a.writes,
                first_write: a.first,
                tokens: a.tokens.into_iter().collect(),
                evidence: loc(a.loc),
            })
        })
        .collect();
    out.sort_by(|a, b| (a.first_write, &a.path).cmp(&(b.first_write, &b.path)));
    out
}

/// `vault write [-namespace=<ns>] -f -- <mount>/rotate-root/<connection>`.
pub(super) fn rotate_root_command(c: &ConfigWriteRecord) -> Result<String, Refusal> {
    let path = format!(
        "{}/rotate-root/{}",
        c.mount.trim_end_matches('/'),
        c.connection
    );
    Ok(VaultCommand::new("write")
        .namespace(c.namespace.as_deref())?
        .flag("-f")
        .arg(&path, "connection")?
        .render())
}

/// Why the root is on the list.
pub(super) fn reason(c: &ConfigWriteRecord) -> String {
    format!(
        "the blast radius wrote the connection configuration {} {} time(s): the writer chose, or \
         could have chosen, the root credential OpenBao connects with (database root or \
         connection configuration)",
        c.path, c.writes
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(namespace: Option<&str>, mount: &str, connection: &str) -> ConfigWriteRecord {
        ConfigWriteRecord {
            path: String::new(),
            namespace: namespace.map(str::to_string),
            mount: mount.to_string(),
            connection: connection.to_string(),
            writes: 1,
            first_write: None,
            tokens: Vec::new(),
            evidence: Location {
                file: "".into(),
                line: 1,
                offset: 0,
            },
        }
    }

    #[test]
    fn rotate_root_names_the_namespace_and_puts_the_path_after_the_terminator() {
        assert_eq!(
            rotate_root_command(&record(None, "db/", "pg")).unwrap(),
            "vault write -f -- db/rotate-root/pg"
        );
        assert_eq!(
            rotate_root_command(&record(Some("acme"), "team/db/", "-address=x")).unwrap(),
            "vault write -namespace=acme -f -- team/db/rotate-root/-address=x"
        );
        assert!(rotate_root_command(&record(None, "db/", "pg\nrm -rf /")).is_err());
    }
}
