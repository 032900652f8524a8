//! Secret paths the log shows changed (created, updated, patched, deleted, destroyed or
//! undeleted) by any actor. A write returns no secret, so nothing here counts as read; the
//! policy-aware blast radius takes these paths into its catalogue: a secret an administrator
//! only wrote is still a secret a leaked token with `read` on it could have read.
//!
//! This runs on every successful response (hot path): a path already known costs one hash of
//! the qualified path, built in the state's reused buffer, and one map look-up.

use super::{Lineage, LineageState, PathInfo, PathNames};
use crate::model::secret::{Engine, MountRef, SecretKind, logical_path, mount_of, succeeded};
use crate::model::{Entry, Operation};

/// Where a KV write lands: the KV v2 version and metadata endpoints name the secret whose
/// `data/` path a read would use.
struct Target<'a> {
    mount: MountRef<'a>,
    kind: SecretKind,
    /// The path below the mount, after `data/` for KV v2 (`app/db`), as is for KV v1.
    name: &'a str,
}

fn target<'a>(ev: &Entry<'a>) -> Option<Target<'a>> {
    use Operation::{Create, Delete, Patch, Update};
    // Cheap tests first.
    if !ev.is_response() || !matches!(ev.request.operation, Create | Update | Patch | Delete) {
        return None;
    }
    if !succeeded(ev) {
        return None;
    }
    let m = mount_of(ev);
    if m.engine != Engine::Kv {
        return None;
    }
    let (first, below) = m.rest.split_once('/').unwrap_or((m.rest, ""));
    let (kind, name) = match first {
        "data" | "metadata" | "delete" | "undelete" | "destroy" => (SecretKind::KvV2Read, below),
        "config" | "subkeys" => return None,
        _ => (SecretKind::KvV1Read, m.rest),
    };
    (!name.is_empty() && !name.ends_with('/')).then_some(Target {
        mount: m,
        kind,
        name,
    })
}

impl Lineage<'_> {
    /// Records the secret path a successful KV write changed, once per distinct path.
    pub(super) fn written(&self, st: &mut LineageState, ev: &Entry<'_>) {
        let Some(t) = target(ev) else {
            return;
        };
        let ns = ev.request.namespace();
        let mut buf = std::mem::take(&mut st.scratch);
        buf.clear();
        if let Some(ns) = ns {
            buf.push_str(ns);
            buf.push('/');
        }
        buf.push_str(t.mount.mount);
        if t.kind == SecretKind::KvV2Read {
            buf.push_str("data/");
        }
        buf.push_str(t.name);
        let k = self.key(&buf);
        st.writes
            .entry(k)
            .or_insert_with(|| self.written_info(ns, &buf, &t));
        st.scratch = buf;
    }

    /// What a first write of a path says about it (allocates; once per distinct path).
    fn written_info(&self, ns: Option<&str>, qualified: &str, t: &Target<'_>) -> PathInfo {
        let rest = match t.kind {
            SecretKind::KvV2Read => format!("data/{}", t.name),
            _ => t.name.to_string(),
        };
        let m = MountRef {
            rest: &rest,
            ..t.mount
        };
        let relative = format!("{}{rest}", m.mount);
        let attribution = self.tenants.attribute(ns, &relative, &m, t.kind);
        let logical = logical_path(&m, t.kind);
        let secret = match ns {
            Some(ns) => format!("{ns}/{logical}"),
            None => logical,
        };
        let names = PathNames {
            path: qualified,
            secret: &secret,
            mount: m.mount,
            namespace: ns,
            tenant: attribution.tenant.as_deref(),
        };
        let site = attribution.site_ref();
        PathInfo::new(names, m.source, Some(t.kind), site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A successful response of OpenBao's shape: `op` on `path` in KV mount `kv/`.
    fn response(op: &str, path: &str, ns: &str) -> String {
        format!(
            r#"{{"time":"2026-12-02T10:00:00Z","type":"response","auth":{{"accessor":"hmac-sha256:aa"}},"request":{{"id":"r1","operation":"{op}","mount_point":"kv/","mount_type":"kv","namespace":{{"id":"x","path":"{ns}"}},"path":"{path}"}},"response":{{"mount_type":"kv"}}}}"#
        )
    }

    /// `(kind, name below the mount)` of what a write names.
    fn target_of(line: &str) -> Option<(SecretKind, String)> {
        let mut p = crate::parse::Parser::new();
        p.parse_one(line.as_bytes(), |r| {
            let ev = r.expect("parses");
            target(&ev).map(|t| (t.kind, t.name.to_string()))
        })
    }

    #[test]
    fn kv_writes_and_deletes_name_the_secret_a_read_would_use() {
        let v2 = |n: &str| Some((SecretKind::KvV2Read, n.to_string()));
        for (op, path) in [
            ("create", "kv/data/app/db"),
            ("update", "kv/data/app/db"),
            ("patch", "kv/data/app/db"),
            ("delete", "kv/data/app/db"),
            ("delete", "kv/metadata/app/db"),
            ("update", "kv/delete/app/db"),
            ("update", "kv/destroy/app/db"),
            ("update", "kv/undelete/app/db"),
        ] {
            assert_eq!(
                target_of(&response(op, path, "")),
                v2("app/db"),
                "{op} {path}"
            );
        }
        assert_eq!(
            target_of(&response("create", "kv/app/db", "team-a/")),
            Some((SecretKind::KvV1Read, "app/db".to_string()))
        );
        // Reads and lists are the read pass's; a folder, the config and a failure name nothing.
        for (op, path) in [
            ("read", "kv/data/app/db"),
            ("list", "kv/metadata/app/"),
            ("delete", "kv/metadata/app/"),
            ("update", "kv/config"),
        ] {
            assert_eq!(target_of(&response(op, path, "")), None, "{op} {path}");
        }
        let denied = response("create", "kv/data/app/db", "").replace(
            r#""response":"#,
            r#""error":"permission denied","response":"#,
        );
        assert_eq!(target_of(&denied), None);
    }
}
