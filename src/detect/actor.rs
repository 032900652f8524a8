//! Who made a request, as far as the audit log can tell.

use std::hash::{BuildHasher, Hash};

use crate::model::Entry;

/// The identity behind an entry: token display name and accessor, client address, and for
/// unauthenticated logins the user name from the login path.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Actor {
    /// `auth.display_name` (e.g. `approle`, `userpass-alice`, `root`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The caller's token accessor (HMAC unless `hmac_accessor=false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessor: Option<String>,
    /// `request.remote_address`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_address: Option<String>,
    /// For `auth/<mount>/login/<user>` requests, the user being logged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_user: Option<String>,
}

/// Borrowed view of an [`Actor`], hashed without allocating.
#[derive(Clone, Copy, Debug, Hash)]
pub struct ActorRef<'a> {
    display_name: Option<&'a str>,
    accessor: Option<&'a str>,
    remote_address: Option<&'a str>,
    login_user: Option<&'a str>,
}

impl<'a> ActorRef<'a> {
    /// The actor of an entry.
    pub fn of(ev: &Entry<'a>) -> ActorRef<'a> {
        let tok = &ev.auth.token;
        ActorRef {
            display_name: tok.display_name,
            accessor: tok.accessor.or(ev.request.client_token_accessor),
            remote_address: ev.request.remote_address,
            login_user: login_user(ev.request.path),
        }
    }

    /// A stable 64-bit identity for counting distinct actors.
    pub fn key(&self) -> u64 {
        foldhash::quality::FixedState::with_seed(0x6b6c_6173_7472_6164).hash_one(self)
    }

    /// The owned form.
    pub fn to_actor(&self) -> Actor {
        Actor {
            display_name: self.display_name.map(str::to_string),
            accessor: self.accessor.map(str::to_string),
            remote_address: self.remote_address.map(str::to_string),
            login_user: self.login_user.map(str::to_string),
        }
    }
}

/// True for paths that log in: `auth/<mount>/login[/...]` and OIDC/JWT callbacks.
pub fn is_login_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("auth/") else {
        return false;
    };
    if rest.starts_with("token/") {
        return false;
    }
    rest.split('/').skip(1).any(|seg| seg == "login")
        || rest.ends_with("/oidc/callback")
        || rest.ends_with("/callback")
}

/// The user in `auth/<mount>/login/<user>` (userpass, ldap, okta, radius).
pub fn login_user(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("auth/")?;
    let i = rest.find("/login/")?;
    let user = &rest[i + "/login/".len()..];
    (!user.is_empty() && !user.contains('/')).then_some(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_login_paths() {
        for p in [
            "auth/approle/login",
            "auth/userpass/login/alice",
            "auth/ userpass/login/marcel",
            "auth/oidc/oidc/callback",
            "auth/team/ldap/login/bob",
        ] {
            assert!(is_login_path(p), "{p}");
        }
        for p in [
            "auth/token/create",
            "auth/approle/role/app",
            "sys/auth/approle",
            "kv/login",
        ] {
            assert!(!is_login_path(p), "{p}");
        }
        assert_eq!(login_user("auth/userpass/login/alice"), Some("alice"));
        assert_eq!(login_user("auth/approle/login"), None);
    }
}
