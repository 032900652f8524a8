//! The runbook's database commands run: a real PostgreSQL (Debian's `postgresql` package, run as
//! the `postgres` user since it refuses root) behind OpenBao's database secrets engine at `db/`.
//! An attacker token rewrites the connection configuration (`db/config/pg`, with the root
//! password it knows), reads dynamic credentials (`db/creds/app`) and static ones
//! (`db/static-creds/report`); `rotation-list` on the log; its database commands, run with the
//! real `bao`, must rotate the connection's root credential (the password the attacker sent no
//! longer logs in, and OpenBao still connects with the new one), revoke the dynamic user's lease
//! (PostgreSQL drops the role) and rotate the static role's password (the old password no longer
//! logs in).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::client::{Issued, string};
use super::server::{BaoServer, DEVICE};
use super::skipped;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const SUPERUSER_PASSWORD: &str = "pg-root-pw";
/// The superuser OpenBao connects as: the connection's root credential, which `rotate-root`
/// changes (the test keeps `postgres` for its own checks).
const VAULT_ADMIN: &str = "vaultadmin";
const VAULT_ADMIN_PASSWORD: &str = "vault-admin-initial";

/// A PostgreSQL cluster in a temp dir, stopped (by its data dir) on drop.
struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
}

fn as_postgres(cmd: &str) -> std::process::Output {
    Command::new("su")
        .args(["postgres", "-s", "/bin/sh", "-c", cmd])
        .output()
        .expect("su runs")
}

fn must(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Postgres {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn start() -> Postgres {
        assert!(
            Path::new(PG_BIN).join("initdb").is_file(),
            "PostgreSQL 15 is not installed: apt-get install postgresql (scripts/test.sh does), \
             or set BLASTRADIUS_SKIP_E2E=1"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let pg = Postgres {
            port: std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port(),
            dir,
        };
        let pwfile = pg.dir.path().join("pw");
        std::fs::write(&pwfile, SUPERUSER_PASSWORD).unwrap();
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::create_dir(pg.data()).unwrap();
        must(
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(pg.data())
                .output()
                .expect("chown"),
            "chown",
        );
        must(
            as_postgres(&format!(
                "{PG_BIN}/initdb -D {} -U postgres --auth=scram-sha-256 --pwfile={} >/dev/null",
                pg.data().display(),
                pwfile.display()
            )),
            "initdb",
        );
        must(
            as_postgres(&format!(
                "{PG_BIN}/pg_ctl -D {d} -w -l {d}/server.log -o \"-p {p} -k {d} -c listen_addresses=127.0.0.1\" start",
                d = pg.data().display(),
                p = pg.port
            )),
            "pg_ctl start",
        );
        pg
    }

    /// `psql -c sql` as `user` with `password`; the output, or None when the login fails.
    fn query(&self, user: &str, password: &str, sql: &str) -> Option<String> {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", user])
            .args(["-d", "postgres", "-tAc", sql])
            .env("PGPASSWORD", password)
            .output()
            .expect("psql runs");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&format!(
            "{PG_BIN}/pg_ctl -D {} -m immediate stop",
            self.data().display()
        ));
    }
}

#[test]
fn live_database_commands_rotate_the_root_revoke_the_lease_and_rotate_the_static_role() {
    if skipped() {
        return;
    }
    let pg = Postgres::start();
    pg.query(
        "postgres",
        SUPERUSER_PASSWORD,
        "CREATE ROLE report LOGIN PASSWORD 'report-initial'",
    )
    .expect("create the static role's user");
    pg.query(
        "postgres",
        SUPERUSER_PASSWORD,
        &format!("CREATE ROLE {VAULT_ADMIN} SUPERUSER LOGIN PASSWORD '{VAULT_ADMIN_PASSWORD}'"),
    )
    .expect("create OpenBao's superuser");
    let server = BaoServer::start();
    let op = server.root("10.0.9.10");
    op.write("sys/mounts/db", json!({"type": "database"})).ok();
    let config = json!({
        "plugin_name": "postgresql-database-plugin",
        "connection_url": format!("postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/postgres?sslmode=disable", pg.port),
        "username": VAULT_ADMIN,
        "password": VAULT_ADMIN_PASSWORD,
        "allowed_roles": "*",
        "verify_connection": true,
    });
    op.write("db/config/pg", config.clone()).ok();
    op.write(
        "db/roles/app",
        json!({
            "db_name": "pg",
            "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"],
            "default_ttl": "1h",
        }),
    )
    .ok();
    op.write(
        "db/static-roles/report",
        json!({"db_name": "pg", "username": "report", "rotation_period": "24h"}),
    )
    .ok();
    op.put_policy(
        "dbread",
        r#"path "db/creds/app" { capabilities = ["read"] }
path "db/static-creds/report" { capabilities = ["read"] }
path "db/config/pg" { capabilities = ["update"] }"#,
    );
    let issued = Issued::of(
        &op.write("auth/token/create", json!({"policies": ["dbread"]}))
            .ok(),
    );
    let attacker = server.http.caller(Some(&issued.token), "203.0.113.66");
    // The attacker sets the root credential to one it knows (here: the one it learned).
    attacker.write("db/config/pg", config).ok();
    let dynamic = attacker.read("db/creds/app").ok();
    let (user, password) = (
        string(&dynamic["data"]["username"]),
        string(&dynamic["data"]["password"]),
    );
    let lease = string(&dynamic["lease_id"]);
    let leaked_static = string(&attacker.read("db/static-creds/report").ok()["data"]["password"]);
    assert!(
        pg.query(&user, &password, "SELECT 1").is_some(),
        "the dynamic user logs in"
    );
    assert!(pg.query("report", &leaked_static, "SELECT 1").is_some());

    let accessor_hmac = op.audit_hash(DEVICE, &issued.accessor);
    let out = super::super::util::bin()
        .args(["rotation-list", "--accessor", &accessor_hmac, "-f", "json"])
        .arg(server.audit_log())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // The two configuration writes (root's and the attacker's) are no secret reads: scan counts
    // the attacker's two credential reads and nothing else.
    let scan = super::super::util::bin()
        .args(["scan", "-f", "json"])
        .arg(server.audit_log())
        .output()
        .expect("runs");
    let scan: Value = serde_json::from_slice(&scan.stdout).expect("JSON");
    assert_eq!(scan["stats"]["secret_reads"], 2, "{:#}", scan["stats"]);
    assert_eq!(
        scan["accessed_secrets"], 2,
        "{:#}",
        scan["accessed_secrets"]
    );
    let commands: Vec<String> = plan
        .as_array()
        .unwrap()
        .iter()
        .map(|t| string(&t["command"]).replace("vault ", "bao "))
        .filter(|c| c.contains("db/"))
        .collect();
    let joined = commands.join("\n");
    // The root credential the attacker set, rotated; the lease the server minted for the
    // attacker, revoked by its id; the static role rotated.
    for want in [
        "bao write -f -- db/rotate-root/pg".to_string(),
        format!("bao lease revoke -- {lease}"),
        "bao write -f -- db/rotate-role/report".to_string(),
    ] {
        assert!(joined.contains(&want), "no `{want}` in:\n{joined}");
    }
    for c in &commands {
        assert!(!c.contains('<'), "a placeholder in {c}");
        let out = Command::new("sh")
            .args(["-c", c])
            .env("BAO_ADDR", &server.addr)
            .env("BAO_TOKEN", &server.root_token)
            .env_remove("VAULT_ADDR")
            .output()
            .expect("sh runs");
        assert!(
            out.status.success(),
            "{c}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The root password the attacker sent no longer logs in; OpenBao connects with the new one
    // (it issues working credentials).
    assert!(
        pg.query(VAULT_ADMIN, VAULT_ADMIN_PASSWORD, "SELECT 1")
            .is_none(),
        "the root password the attacker knew still works"
    );
    let fresh_user = op.read("db/creds/app").ok();
    assert!(
        pg.query(
            &string(&fresh_user["data"]["username"]),
            &string(&fresh_user["data"]["password"]),
            "SELECT 1"
        )
        .is_some(),
        "OpenBao lost its connection after rotate-root"
    );
    // The lease is gone and PostgreSQL dropped the dynamic role.
    op.write("sys/leases/lookup", json!({"lease_id": lease}))
        .expect(400);
    let exists = pg.query(
        "postgres",
        SUPERUSER_PASSWORD,
        &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{user}'"),
    );
    assert_eq!(exists.as_deref(), Some("0"), "{user} still exists");
    // The leaked static password no longer logs in; the new one does.
    assert!(
        pg.query("report", &leaked_static, "SELECT 1").is_none(),
        "old password still works"
    );
    let fresh = string(&op.read("db/static-creds/report").ok()["data"]["password"]);
    assert_ne!(fresh, leaked_static);
    assert!(pg.query("report", &fresh, "SELECT 1").is_some());
}
