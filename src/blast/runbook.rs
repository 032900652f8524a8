//! The command for each row of the rotation plan: namespace-, mount- and KV-version-correct,
//! with every value from the log after `--` (see [`super::command`]). The forms are documented
//! in docs/rotation-list.md.

use super::command::{CLI, Refusal, VaultCommand, chain, comment, sh};
use super::scope::{LeaseRecord, Relation, SecretReadRecord, TokenRecord};
use crate::lineage::CreatedVia;
use crate::model::secret::{MountSource, SecretKind};

/// A secret's namespace, mount and the name below the mount, as the log gave them.
struct Place<'a> {
    namespace: Option<&'a str>,
    /// Without its trailing slash (`secret`, `team/kv`).
    mount: &'a str,
    /// The request path below the mount (`data/db`).
    rest: &'a str,
}

impl<'a> Place<'a> {
    fn of(s: &'a SecretReadRecord) -> Result<Place<'a>, Refusal> {
        let relative = match s.namespace.as_deref() {
            Some(ns) => s
                .path
                .strip_prefix(ns)
                .and_then(|p| p.strip_prefix('/'))
                .ok_or(Refusal::PathOutsideMount)?,
            None => s.path.as_str(),
        };
        let rest = relative
            .strip_prefix(s.mount.as_str())
            .ok_or(Refusal::PathOutsideMount)?;
        Ok(Place {
            namespace: s.namespace.as_deref(),
            mount: s.mount.trim_end_matches('/'),
            rest,
        })
    }

    /// `vault <subcommand> [-namespace=<ns>]`.
    fn command(&self, subcommand: &'static str) -> Result<VaultCommand, Refusal> {
        VaultCommand::new(subcommand).namespace(self.namespace)
    }

    /// `<mount>/<below>`, namespace-relative: a positional path.
    fn path(&self, below: &str) -> String {
        format!("{}/{below}", self.mount)
    }

    /// The segment of `rest` after `prefix` (`decrypt/` → the key name).
    fn segment_after(&self, prefix: &str) -> &'a str {
        let r = self.rest.strip_prefix(prefix).unwrap_or(self.rest);
        r.split('/').next().unwrap_or("")
    }
}

pub(super) fn secret_command(kind: SecretKind, s: &SecretReadRecord) -> Result<String, Refusal> {
    let p = Place::of(s)?;
    let cmd = match kind {
        SecretKind::KvV2Read | SecretKind::KvV2Subkeys => return kv_command(&p, s, kind),
        SecretKind::KvV1Read => return kv_command(&p, s, kind),
        SecretKind::DatabaseStaticCreds => p.command("write")?.flag("-f").arg(
            &p.path(&format!("rotate-role/{}", p.segment_after("static-creds/"))),
            "role",
        )?,
        SecretKind::DatabaseCreds
        | SecretKind::AwsCreds
        | SecretKind::GcpCreds
        | SecretKind::AzureCreds
        | SecretKind::DynamicCreds => p
            .command("lease revoke")?
            .flag("-prefix")
            .arg(&p.path(p.rest), "path")?,
        SecretKind::TransitDecrypt | SecretKind::TransitDatakey | SecretKind::TransitExport => {
            let key = match kind {
                SecretKind::TransitDecrypt => p.segment_after("decrypt/"),
                SecretKind::TransitDatakey => {
                    let r = p.rest.strip_prefix("datakey/").unwrap_or(p.rest);
                    r.split('/').nth(1).unwrap_or("")
                }
                _ => {
                    // export/<type>/<key>[/<version>]
                    let r = p.rest.strip_prefix("export/").unwrap_or(p.rest);
                    r.split('/').nth(1).unwrap_or("")
                }
            };
            p.command("write")?
                .flag("-f")
                .arg(&p.path(&format!("keys/{key}/rotate")), "key")?
        }
        SecretKind::PkiIssue | SecretKind::PkiSign => p
            .command("write")?
            .arg(&p.path("revoke"), "mount")?
            .data("serial_number=<SERIAL>"),
        SecretKind::TotpCode => {
            let key = p.path(&format!("keys/{}", p.segment_after("code/")));
            let delete = p.command("delete")?.arg(&key, "key")?;
            let create = p
                .command("write")?
                .arg(&key, "key")?
                .data("generate=true")
                .data("issuer=<ISSUER>")
                .data("account_name=<ACCOUNT>");
            return Ok(chain(&[delete, create]));
        }
        SecretKind::RawStorage => VaultCommand::new("operator rotate"),
        _ => return comment("rotate what {} held at its source", &s.path, "path"),
    };
    Ok(cmd.render())
}

/// KV: `kv put` with the mount and the name below it, which works on v1 and v2 mounts (the CLI
/// asks the mount its version; a v2 name has no `data/`). When the log had no mount point, the
/// mount is a guess: v2 names go to `kv put` without `-mount` (the CLI finds the mount), v1
/// reads to `write` on the exact path read.
fn kv_command(p: &Place<'_>, s: &SecretReadRecord, kind: SecretKind) -> Result<String, Refusal> {
    let name = match kind {
        SecretKind::KvV2Read => p.rest.strip_prefix("data/").unwrap_or(p.rest),
        SecretKind::KvV2Subkeys => p.rest.strip_prefix("subkeys/").unwrap_or(p.rest),
        _ => p.rest,
    };
    let cmd = match (s.mount_source, kind) {
        (MountSource::Log, _) => p
            .command("kv put")?
            .value_flag("mount", p.mount, "mount")?
            .arg(name, "secret name")?,
        (MountSource::PathShape, SecretKind::KvV1Read) => {
            p.command("write")?.arg(&p.path(p.rest), "path")?
        }
        (MountSource::PathShape, _) => p.command("kv put")?.arg(&p.path(name), "path")?,
    };
    Ok(cmd.data("@<NEW_SECRET.json>").render())
}

pub(super) fn lease_command(l: &LeaseRecord) -> Result<String, Refusal> {
    Ok(VaultCommand::new("lease revoke")
        .namespace(l.namespace.as_deref())?
        .arg(&l.lease_id, "lease id")?
        .render())
}

pub(super) fn revoke_token_command(t: &TokenRecord) -> (Result<String, Refusal>, String) {
    let base = || {
        Ok::<_, Refusal>(
            VaultCommand::new("token revoke")
                .namespace(t.namespace.as_deref())?
                .flag("-accessor"),
        )
    };
    let by_clear = |accessor: &str| {
        base()
            .and_then(|c| c.arg(accessor, "accessor"))
            .map(|c| c.render())
    };
    if let (Some(parent), true) = (&t.revoked_with, t.token_type.as_deref() == Some("batch")) {
        // Batch tokens have no accessor and cannot be revoked on their own.
        return (
            by_clear(parent),
            format!("; batch token: revoked with its parent {parent}"),
        );
    }
    let lifetime = lifetime_note(t);
    if let Some(clear) = &t.clear_accessor {
        return (by_clear(clear), lifetime);
    }
    let hashed = t
        .accessor
        .strip_prefix("hmac-sha256:")
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if hashed.is_some() {
        let cmd = base().map(|c| {
            c.placeholder_arg(format!("<CLEAR_ACCESSOR_OF {}>", t.accessor))
                .render()
        });
        (
            cmd,
            format!(
                "; the accessor is HMAC'd: match `{CLI} list auth/token/accessors` through `{CLI} write sys/audit-hash/<device> input=<accessor>`{lifetime}"
            ),
        )
    } else {
        (by_clear(&t.accessor), lifetime)
    }
}

/// Whether revoking the token's creator revokes it too.
fn lifetime_note(t: &TokenRecord) -> String {
    match (t.orphan, &t.revoked_with) {
        (Some(cause), _) => format!(
            "; orphan ({}): revoking its creator leaves it alive, revoke it explicitly",
            serde_json::to_value(cause)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        (None, Some(parent)) => format!("; also revoked with its parent {parent}"),
        (None, None) => String::new(),
    }
}

/// A login credential to rotate: kind, target, command, reason.
pub(super) type AuthRow = (String, String, Result<String, Refusal>, String);

pub(super) fn auth_credential(t: &TokenRecord) -> Option<AuthRow> {
    // The login credential is suspect when its token is a pivot or logged in from a pivot address;
    // a token merely used from there may have been stolen without the credential.
    if t.created_via != Some(CreatedVia::Login)
        || !matches!(t.relation, Relation::Pivot | Relation::LoginFromPivotIp)
    {
        return None;
    }
    let mount = t.auth_mount.as_deref()?.trim_end_matches('/');
    let ns = t.namespace.as_deref();
    let qualified = |p: String| ns.map_or_else(|| p.clone(), |ns| format!("{ns}/{p}"));
    let write = |path: String, what: &'static str, data: &'static str| {
        Ok::<_, Refusal>(
            VaultCommand::new("write")
                .namespace(ns)?
                .arg(&path, what)?
                .data(data)
                .render(),
        )
    };
    let ns_flag = ns.map_or(String::new(), |n| format!("-namespace={} ", sh(n)));
    if let Some(role) = &t.role
        && mount.contains("approle")
    {
        return Some((
            "approle-secret-id".into(),
            qualified(format!("{mount}/role/{role}")),
            write(
                format!("{mount}/role/{role}/secret-id/destroy"),
                "role",
                "secret_id=<LEAKED_SECRET_ID>",
            ),
            format!(
                "the AppRole secret-id used to log in at {}; list them with `{CLI} list {ns_flag}-- {}`",
                t.created_at
                    .map_or("an unknown time".into(), |x| x.to_string()),
                sh(&format!("{mount}/role/{role}/secret-id"))
            ),
        ));
    }
    if let Some(user) = &t.user
        && mount.contains("userpass")
    {
        return Some((
            "user-password".into(),
            qualified(format!("{mount}/users/{user}")),
            write(
                format!("{mount}/users/{user}/password"),
                "user",
                "password=<NEW_PASSWORD>",
            ),
            format!(
                "the password of {user} was used to log in from {}",
                t.created_from.as_deref().unwrap_or("an unknown address")
            ),
        ));
    }
    let who = t.user.as_deref().or(t.role.as_deref())?;
    let revoke = VaultCommand::new("token revoke")
        .namespace(ns)
        .and_then(|c| {
            c.flag("-mode=path")
                .arg(&format!("{mount}/login"), "auth mount")
        })
        .map(|c| c.render());
    Some((
        "login-credential".into(),
        qualified(format!("{mount}: {who}")),
        revoke,
        format!("the credential {who} used at {mount}: rotate it at its identity provider"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blast::scope::ReadOutcome;
    use crate::model::Location;

    fn here() -> Location {
        Location {
            file: "audit.log".into(),
            line: 1,
            offset: 0,
        }
    }

    /// A read of `path` (namespace-qualified) at `mount` in `ns`.
    fn read(ns: Option<&str>, mount: &str, path: &str, source: MountSource) -> SecretReadRecord {
        SecretReadRecord {
            path: path.into(),
            secret: path.into(),
            namespace: ns.map(str::to_string),
            mount: mount.into(),
            mount_source: source,
            kind: None,
            tenant: None,
            tenant_excluded: false,
            outcome: ReadOutcome::Read,
            reads: 1,
            unanswered: 0,
            wrapped_reads: 0,
            first_read: None,
            last_read: None,
            tokens: Vec::new(),
            from_pivot_ip: false,
            evidence: here(),
        }
    }

    fn cmd(kind: SecretKind, ns: Option<&str>, mount: &str, path: &str) -> String {
        secret_command(kind, &read(ns, mount, path, MountSource::Log)).unwrap()
    }

    fn token(ns: Option<&str>, accessor: &str) -> TokenRecord {
        TokenRecord {
            accessor: accessor.into(),
            token_hmac: None,
            relation: Relation::Pivot,
            depth: 0,
            parent: None,
            created_at: None,
            created_by: None,
            created_via: Some(CreatedVia::Login),
            created_from: None,
            role: None,
            user: None,
            auth_mount: None,
            namespace: ns.map(str::to_string),
            entity_id: None,
            display_name: None,
            token_type: None,
            policies: Vec::new(),
            token_policies: Vec::new(),
            identity_policies: Vec::new(),
            client_addresses: Vec::new(),
            first_use: None,
            last_use: None,
            requests: 0,
            failed_requests: 0,
            evidence: None,
            forms: Vec::new(),
            clear_accessor: None,
            orphan: None,
            revoked_with: None,
        }
    }

    #[test]
    fn kv_v2_in_a_namespace_names_namespace_mount_and_secret() {
        // issue 15: `db` at mount `secret/` in namespace `acme/`.
        assert_eq!(
            cmd(
                SecretKind::KvV2Read,
                Some("acme"),
                "secret/",
                "acme/secret/data/db"
            ),
            "vault kv put -namespace=acme -mount=secret -- db @<NEW_SECRET.json>"
        );
        assert_eq!(
            cmd(
                SecretKind::KvV2Subkeys,
                None,
                "team/kv/",
                "team/kv/subkeys/a/b"
            ),
            "vault kv put -mount=team/kv -- a/b @<NEW_SECRET.json>"
        );
    }

    #[test]
    fn kv_v1_keeps_its_path_below_the_mount() {
        assert_eq!(
            cmd(
                SecretKind::KvV1Read,
                Some("acme/team"),
                "kv1/",
                "acme/team/kv1/data/x"
            ),
            "vault kv put -namespace=acme/team -mount=kv1 -- data/x @<NEW_SECRET.json>"
        );
    }

    #[test]
    fn kv_without_a_mount_point_lets_the_cli_find_the_mount() {
        let v2 = read(
            None,
            "secret/",
            "secret/data/app/db",
            MountSource::PathShape,
        );
        assert_eq!(
            secret_command(SecretKind::KvV2Read, &v2).unwrap(),
            "vault kv put -- secret/app/db @<NEW_SECRET.json>"
        );
        let v1 = read(None, "kv/", "kv/app/db", MountSource::PathShape);
        assert_eq!(
            secret_command(SecretKind::KvV1Read, &v1).unwrap(),
            "vault write -- kv/app/db @<NEW_SECRET.json>"
        );
    }

    #[test]
    fn engines_get_their_rotation_command() {
        let ns = Some("acme");
        let cases = [
            (
                SecretKind::TransitDecrypt,
                "transit/",
                "acme/transit/decrypt/payments",
                "vault write -namespace=acme -f -- transit/keys/payments/rotate",
            ),
            (
                SecretKind::TransitDatakey,
                "transit/",
                "acme/transit/datakey/plaintext/payments",
                "vault write -namespace=acme -f -- transit/keys/payments/rotate",
            ),
            (
                SecretKind::TransitExport,
                "transit/",
                "acme/transit/export/encryption-key/payments/3",
                "vault write -namespace=acme -f -- transit/keys/payments/rotate",
            ),
            (
                SecretKind::PkiIssue,
                "pki_int/",
                "acme/pki_int/issue/web",
                "vault write -namespace=acme -- pki_int/revoke serial_number=<SERIAL>",
            ),
            (
                SecretKind::DatabaseStaticCreds,
                "db/",
                "acme/db/static-creds/app",
                "vault write -namespace=acme -f -- db/rotate-role/app",
            ),
            (
                SecretKind::DatabaseCreds,
                "db/",
                "acme/db/creds/app",
                "vault lease revoke -namespace=acme -prefix -- db/creds/app",
            ),
            (
                SecretKind::TotpCode,
                "totp/",
                "acme/totp/code/alice",
                "vault delete -namespace=acme -- totp/keys/alice && vault write -namespace=acme -- totp/keys/alice generate=true issuer=<ISSUER> account_name=<ACCOUNT>",
            ),
            (
                SecretKind::Cubbyhole,
                "cubbyhole/",
                "acme/cubbyhole/x",
                "# rotate what acme/cubbyhole/x held at its source",
            ),
        ];
        for (kind, mount, path, want) in cases {
            assert_eq!(cmd(kind, ns, mount, path), want, "{kind:?}");
        }
    }

    #[test]
    fn hostile_names_are_positional_for_every_kind() {
        for name in [
            "-address=https:/evil.example/x",
            "--help",
            "-output-curl-string",
        ] {
            let cases = [
                (SecretKind::KvV2Read, "kv/", format!("kv/data/{name}")),
                (SecretKind::KvV1Read, "kv/", format!("kv/{name}")),
                (
                    SecretKind::TransitDecrypt,
                    "transit/",
                    format!("transit/decrypt/{name}"),
                ),
                (SecretKind::PkiIssue, "pki/", format!("pki/issue/{name}")),
                (
                    SecretKind::DatabaseStaticCreds,
                    "db/",
                    format!("db/static-creds/{name}"),
                ),
                (SecretKind::DatabaseCreds, "db/", format!("db/creds/{name}")),
                (SecretKind::TotpCode, "totp/", format!("totp/code/{name}")),
            ];
            for (kind, mount, path) in cases {
                let c = cmd(kind, None, mount, &path);
                // Names of keys and roles are one segment: the part before the first `/`.
                let word = name.split('/').next().unwrap_or(name);
                for part in c.split(" && ") {
                    let (flags, args) = part.split_once(" -- ").expect("a terminator");
                    assert!(!flags.contains(word), "{c}");
                    // PKI revokes by serial: the role's name is not in the command.
                    assert!(kind == SecretKind::PkiIssue || args.contains(word), "{c}");
                }
            }
            // A mount named like a flag is the value of -mount, one word.
            let c = cmd(
                SecretKind::KvV2Read,
                None,
                &format!("{name}/"),
                &format!("{name}/data/x"),
            );
            assert!(
                c.starts_with(&format!("vault kv put -mount={name} -- x ")),
                "{c}"
            );
            let lease = LeaseRecord {
                lease_id: name.into(),
                path: "x".into(),
                namespace: None,
                kind: None,
                tenant: None,
                issued_at: None,
                token: "t".into(),
                evidence: here(),
            };
            assert_eq!(
                lease_command(&lease).unwrap(),
                format!("vault lease revoke -- {name}")
            );
            let (c, _) = revoke_token_command(&token(None, name));
            assert_eq!(
                c.unwrap(),
                format!("vault token revoke -accessor -- {name}")
            );
        }
    }

    #[test]
    fn a_control_character_refuses_the_command() {
        let r = read(None, "kv/", "kv/data/x\nrm -rf ~", MountSource::Log);
        assert_eq!(
            secret_command(SecretKind::KvV2Read, &r).unwrap_err(),
            Refusal::ControlCharacter {
                what: "secret name"
            }
        );
        let r = read(
            None,
            "cubbyhole/",
            "cubbyhole/x\nrm -rf ~ #",
            MountSource::Log,
        );
        assert!(secret_command(SecretKind::Cubbyhole, &r).is_err());
        assert!(
            revoke_token_command(&token(Some("a\u{7}"), "acc"))
                .0
                .is_err()
        );
    }

    #[test]
    fn a_path_outside_its_mount_is_refused() {
        let r = read(
            Some("acme"),
            "secret/",
            "other/secret/data/x",
            MountSource::Log,
        );
        assert_eq!(
            secret_command(SecretKind::KvV2Read, &r).unwrap_err(),
            Refusal::PathOutsideMount
        );
    }

    #[test]
    fn tokens_are_revoked_in_their_namespace() {
        let (c, how) = revoke_token_command(&token(Some("acme"), "AbC.ns1"));
        assert_eq!(
            c.unwrap(),
            "vault token revoke -namespace=acme -accessor -- AbC.ns1"
        );
        assert!(how.is_empty());
        let hmac = format!("hmac-sha256:{}", "ab12".repeat(16));
        let (c, how) = revoke_token_command(&token(None, &hmac));
        assert_eq!(
            c.unwrap(),
            format!("vault token revoke -accessor -- <CLEAR_ACCESSOR_OF {hmac}>")
        );
        assert!(how.contains("sys/audit-hash"), "{how}");
        // Not an HMAC: a clear (hostile) accessor, quoted.
        let (c, _) = revoke_token_command(&token(None, "hmac-sha256:$(id)"));
        assert_eq!(
            c.unwrap(),
            "vault token revoke -accessor -- 'hmac-sha256:$(id)'"
        );
    }

    #[test]
    fn login_credentials_are_rotated_in_their_namespace() {
        let mut t = token(Some("acme"), "acc");
        t.auth_mount = Some("auth/approle/".into());
        t.role = Some("svc".into());
        let (kind, target, c, _) = auth_credential(&t).unwrap();
        assert_eq!(
            (kind.as_str(), target.as_str()),
            ("approle-secret-id", "acme/auth/approle/role/svc")
        );
        assert_eq!(
            c.unwrap(),
            "vault write -namespace=acme -- auth/approle/role/svc/secret-id/destroy secret_id=<LEAKED_SECRET_ID>"
        );
        t.auth_mount = Some("auth/userpass/".into());
        t.role = None;
        t.user = Some("alice".into());
        let (kind, _, c, _) = auth_credential(&t).unwrap();
        assert_eq!(kind, "user-password");
        assert_eq!(
            c.unwrap(),
            "vault write -namespace=acme -- auth/userpass/users/alice/password password=<NEW_PASSWORD>"
        );
        t.auth_mount = Some("auth/ldap/".into());
        let (kind, _, c, _) = auth_credential(&t).unwrap();
        assert_eq!(kind, "login-credential");
        assert_eq!(
            c.unwrap(),
            "vault token revoke -namespace=acme -mode=path -- auth/ldap/login"
        );
    }
}
