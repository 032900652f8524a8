//! Containment steps matched to the evidence, first among an incident's actions: each with its
//! command and what it costs, because every one of them also hurts legitimate clients.

use std::collections::BTreeSet;

use super::Line;
use crate::blast::sh;

/// An auth method a suspect or the blast radius logged in through.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoginMethod {
    /// The mount (`auth/approle/`).
    pub mount: String,
    /// The role, for AppRole, Kubernetes, JWT.
    pub role: Option<String>,
    /// The user, for userpass, LDAP.
    pub user: Option<String>,
}

/// What the evidence shows, as far as containment is concerned.
#[derive(Clone, Debug, Default)]
pub struct ContainmentEvidence {
    /// Auth methods the suspect credentials came through.
    pub logins: BTreeSet<LoginMethod>,
    /// A suspect token carries the root policy.
    pub root_touched: bool,
    /// A suspect made requests to audit devices (succeeded or not).
    pub audit_touched: bool,
    /// Root generation or rekey requests were seen.
    pub root_generation: bool,
}

fn step(what: &str, command: &str, trade_off: &str) -> Line {
    Line::text(format!("Contain: {what}: "))
        .c(command)
        .t(format!(". Trade-off: {trade_off}"))
}

/// The mount as `vault auth` commands name it (`approle/`).
fn method_path(mount: &str) -> &str {
    mount.strip_prefix("auth/").unwrap_or(mount)
}

/// The containment steps, in the order to take them. Mounts, roles and users come from the log:
/// each is quoted into one shell word and put after `--`, where the CLI stops reading flags
/// (a mount logged as `-address=https://evil.example/` is sent as a path).
pub fn actions(e: &ContainmentEvidence) -> Vec<Line> {
    let mut out = Vec::new();
    if e.root_generation {
        out.push(step(
            "cancel any root-token generation in progress",
            "vault operator generate-root -cancel",
            "also aborts an operator's legitimate attempt; then revoke any root token generated during the incident",
        ));
        out.push(step(
            "rekey, so that unseal key shares seen or used by the attacker stop working",
            "vault operator rekey -init -key-shares=5 -key-threshold=3",
            "needs a quorum of the current key holders and new shares handed out in person",
        ));
    }
    if e.root_touched || e.audit_touched {
        out.push(step(
            if e.audit_touched {
                "seal the cluster: a suspect made requests to the audit devices"
            } else {
                "seal the cluster: a suspect token carries the root policy"
            },
            "vault operator seal",
            "every client loses service until a quorum of unseal key holders unseals; unsealing is not audited",
        ));
    }
    for m in &e.logins {
        let method = method_path(&m.mount);
        out.push(step(
            &format!("revoke every token issued through {}", m.mount),
            &format!("vault token revoke -mode=path -- {}", sh(&m.mount)),
            "breaks every legitimate client of this method too; they must log in again",
        ));
        let tune = match (&m.role, &m.user) {
            (Some(role), _) if method.starts_with("approle") => format!(
                "vault write -- {} secret_id_bound_cidrs=<TRUSTED_CIDRS> token_bound_cidrs=<TRUSTED_CIDRS>",
                sh(&format!("{}role/{role}", m.mount))
            ),
            (_, Some(user)) => format!(
                "vault write -- {} token_bound_cidrs=<TRUSTED_CIDRS>",
                sh(&format!("{}users/{user}", m.mount))
            ),
            _ => format!("vault auth tune -max-lease-ttl=15m -- {}", sh(method)),
        };
        out.push(step(
            &format!("stop new logins through {} from unknown addresses", m.mount),
            &tune,
            "clients outside the listed CIDRs fail to log in; the bound CIDRs must be known first",
        ));
        out.push(step(
            &format!("or disable {} outright", m.mount),
            &format!("vault auth disable -- {}", sh(method)),
            "deletes the method's roles, users and secret IDs and revokes all its tokens and leases: re-enabling means provisioning every client again",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line) -> String {
        l.0.iter()
            .map(|p| match p {
                super::super::Part::Text(s) | super::super::Part::Code(s) => s.as_str(),
            })
            .collect()
    }

    #[test]
    fn log_values_are_one_word_after_the_terminator() {
        let mut e = ContainmentEvidence::default();
        e.logins.insert(LoginMethod {
            mount: "auth/-address=https://evil.example/;rm -rf ~/".into(),
            role: Some("r'x".into()),
            user: None,
        });
        let a: Vec<String> = actions(&e).iter().map(text).collect();
        assert!(
            a[0].contains(
                "vault token revoke -mode=path -- 'auth/-address=https://evil.example/;rm -rf ~/'"
            ),
            "{a:?}"
        );
        assert!(
            a[2].contains("vault auth disable -- '-address=https://evil.example/;rm -rf ~/'"),
            "{a:?}"
        );
    }

    #[test]
    fn containment_follows_the_evidence() {
        assert!(actions(&ContainmentEvidence::default()).is_empty());
        let mut e = ContainmentEvidence::default();
        e.logins.insert(LoginMethod {
            mount: "auth/approle/".into(),
            role: Some("billing-sync".into()),
            user: None,
        });
        let a: Vec<String> = actions(&e).iter().map(text).collect();
        assert!(
            a[0].contains("vault token revoke -mode=path -- auth/approle/"),
            "{a:?}"
        );
        assert!(a[0].contains("Trade-off: breaks every legitimate client"));
        assert!(a[1].contains("auth/approle/role/billing-sync"));
        assert!(a[2].contains("vault auth disable -- approle/"));
        assert!(!a.iter().any(|s| s.contains("seal") || s.contains("rekey")));
        e.audit_touched = true;
        e.root_generation = true;
        let a: Vec<String> = actions(&e).iter().map(text).collect();
        assert!(a[0].contains("generate-root -cancel") && a[1].contains("rekey -init"));
        assert!(a[2].contains("vault operator seal"));
    }
}
