//! A blocking HTTP client for the OpenBao API: every call has a timeout, and every call names
//! the client address it claims (`X-Forwarded-For`, trusted from 127.0.0.1 by the test server).

use std::time::Duration;

use serde_json::Value;

/// How long one API call may take before the test fails.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// What a KV v2 mount answers while it upgrades its storage after being mounted.
const KV_UPGRADING: &str = "Upgrading from non-versioned to versioned data";

/// How often a call refused by an upgrading KV v2 mount is repeated.
const UPGRADE_POLL: Duration = Duration::from_millis(100);

/// A token the server issued (a login's or `auth/token/create`'s `auth`) and its accessor.
pub struct Issued {
    pub token: String,
    pub accessor: String,
}

impl Issued {
    /// The `auth` of a response body; panics when it has no token or accessor.
    pub fn of(body: &Value) -> Issued {
        let field = |k: &str| {
            body["auth"][k]
                .as_str()
                .unwrap_or_else(|| panic!("no auth.{k} in {body}"))
                .to_string()
        };
        Issued {
            token: field("client_token"),
            accessor: field("accessor"),
        }
    }
}

/// A string of a response body; panics on anything else.
pub fn string(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

/// The server's HTTP API.
pub struct Http {
    agent: ureq::Agent,
    base: String,
}

/// An API response: status and body (`null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    what: String,
}

impl Reply {
    /// The body of a 2xx response; panics with the server's errors otherwise.
    pub fn ok(self) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "{} failed with {}: {}",
            self.what,
            self.status,
            self.body
        );
        self.body
    }

    /// Panics unless the server answered with `status`.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "{}: unexpected status, body {}",
            self.what, self.body
        );
        self.body
    }
}

impl Http {
    /// A client for `http://127.0.0.1:<port>`.
    pub fn new(base: String) -> Http {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(CALL_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Http { agent, base }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A caller: a token (or none) and the address it connects from.
    pub fn caller(&self, token: Option<&str>, from: &'static str) -> Caller<'_> {
        Caller {
            http: self,
            token: token.map(str::to_string),
            from,
            wrap_ttl: None,
        }
    }

    /// `GET /v1/<path>` without a token, or an error if the server does not answer.
    pub fn probe(&self, path: &str) -> Result<Reply, ureq::Error> {
        let mut resp = self.agent.get(format!("{}/v1/{path}", self.base)).call()?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string()?;
        Ok(Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            what: format!("GET {path}"),
        })
    }
}

/// Someone calling the API: a token and a client address.
pub struct Caller<'a> {
    http: &'a Http,
    token: Option<String>,
    from: &'static str,
    /// `X-Vault-Wrap-TTL`: ask for the response wrapped.
    wrap_ttl: Option<&'static str>,
}

/// HTTP methods the scenario uses.
#[derive(Clone, Copy, Debug)]
enum Method {
    Get,
    Put,
    List,
}

impl Caller<'_> {
    /// The same caller asking for wrapped responses (`X-Vault-Wrap-TTL`).
    pub fn wrapping(&self, ttl: &'static str) -> Caller<'_> {
        Caller {
            http: self.http,
            token: self.token.clone(),
            from: self.from,
            wrap_ttl: Some(ttl),
        }
    }

    /// `GET /v1/<path>`: a read.
    pub fn read(&self, path: &str) -> Reply {
        self.call(Method::Get, path, None)
    }

    /// Mounts a KV version 2 engine at `mount_path` (`[<ns>/]sys/mounts/<mount>`).
    pub fn mount_kv2(&self, mount_path: &str) {
        self.write(
            mount_path,
            serde_json::json!({"type": "kv", "options": {"version": "2"}}),
        )
        .ok();
    }

    /// Enables the auth method `method` at its default path (`sys/auth/<method>`).
    pub fn enable_auth(&self, method: &str) {
        self.write(
            &format!("sys/auth/{method}"),
            serde_json::json!({ "type": method }),
        )
        .ok();
    }

    /// Writes the ACL policy `name` (`[<ns>/]sys/policies/acl/<name>`).
    pub fn put_policy(&self, name: &str, hcl: &str) {
        self.write(
            &format!("sys/policies/acl/{name}"),
            serde_json::json!({ "policy": hcl }),
        )
        .ok();
    }

    /// Creates the userpass user `name` with `password` and token policies `policies`.
    pub fn add_user(&self, name: &str, password: &str, policies: &[&str]) {
        self.write(
            &format!("auth/userpass/users/{name}"),
            serde_json::json!({"password": password, "token_policies": policies}),
        )
        .ok();
    }

    /// A login body for the AppRole role `role`: its role_id and a new secret_id.
    pub fn approle_credentials(&self, role: &str) -> Value {
        let role_id =
            self.read(&format!("auth/approle/role/{role}/role-id")).ok()["data"]["role_id"].clone();
        let secret_id = self
            .write(
                &format!("auth/approle/role/{role}/secret-id"),
                serde_json::json!({}),
            )
            .ok()["data"]["secret_id"]
            .clone();
        assert!(
            role_id.is_string() && secret_id.is_string(),
            "credentials of {role}"
        );
        serde_json::json!({"role_id": role_id, "secret_id": secret_id})
    }

    /// The HMAC the audit device `device` logs for `input` (`sys/audit-hash/<device>`).
    pub fn audit_hash(&self, device: &str, input: &str) -> String {
        let reply = self
            .write(
                &format!("sys/audit-hash/{device}"),
                serde_json::json!({ "input": input }),
            )
            .ok();
        reply["data"]["hash"]
            .as_str()
            .unwrap_or_else(|| panic!("no hash in {reply}"))
            .to_string()
    }

    /// `PUT /v1/<path>` with a JSON body: a create or update.
    pub fn write(&self, path: &str, body: Value) -> Reply {
        self.call(Method::Put, path, Some(body))
    }

    /// A listing: `GET /v1/<path>?list=true` (logged as operation `list`).
    pub fn list(&self, path: &str) -> Reply {
        self.call(Method::List, path, None)
    }

    /// One call, repeated while a KV v2 mount is still upgrading: a fresh `kv-v2` mount answers
    /// 400 "Upgrading from non-versioned to versioned data" for a moment, longer on a busy
    /// machine, and a scenario that writes right after mounting must not fail on that.
    fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut waited = Duration::ZERO;
        loop {
            let reply = self.call_once(method, path, body.clone());
            let upgrading = reply.status == 400 && reply.body.to_string().contains(KV_UPGRADING);
            if !upgrading || waited >= CALL_TIMEOUT {
                return reply;
            }
            std::thread::sleep(UPGRADE_POLL);
            waited += UPGRADE_POLL;
        }
    }

    fn call_once(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let what = format!("{method:?} {path} from {}", self.from);
        let url = format!("{}/v1/{path}", self.http.base);
        let agent = &self.http.agent;
        let sent = match method {
            Method::Get | Method::List => {
                let url = match method {
                    Method::List => format!("{url}?list=true"),
                    _ => url,
                };
                let mut b = agent.get(&url).header("X-Forwarded-For", self.from);
                if let Some(t) = &self.token {
                    b = b.header("X-Vault-Token", t);
                }
                if let Some(ttl) = self.wrap_ttl {
                    b = b.header("X-Vault-Wrap-TTL", ttl);
                }
                b.call()
            }
            Method::Put => {
                let mut b = agent
                    .put(&url)
                    .header("X-Forwarded-For", self.from)
                    .header("Content-Type", "application/json");
                if let Some(t) = &self.token {
                    b = b.header("X-Vault-Token", t);
                }
                if let Some(ttl) = self.wrap_ttl {
                    b = b.header("X-Vault-Wrap-TTL", ttl);
                }
                b.send(body.unwrap_or(Value::Null).to_string())
            }
        };
        let mut resp = sent.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            what,
        }
    }
}
