//! What to rotate and revoke, in the order responders rotate.
//!
//! Tier 1: infrastructure credentials (database root/config, cloud IAM, PKI/CA and transit keys,
//! unseal and root material); tier 2: service credentials (application database credentials,
//! API keys, JWT secrets, dynamic cloud credentials, certificates); tier 3: integration
//! credentials (third-party API keys, SMTP, DKIM, webhooks); tier 4: human credentials
//! (userpass/LDAP/OIDC users and their tokens). Within a tier, first exposed first.
//! Classification is a list of rules; rules from the config file are tried before built-ins.

use regex::{Regex, RegexBuilder};

use super::command::Refusal;
use super::rotation_root::{self, rotate_root_command};
use super::runbook::{auth_credential, lease_command, revoke_token_command, secret_command};
use super::scope::{BlastRadius, ReadOutcome, TokenRecord};
use crate::model::Timestamp;
use crate::model::secret::SecretKind;
use crate::tenant::REGEX_SIZE_LIMIT;

/// What to do with a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Change the secret at its source, then store the new value.
    RotateSecret,
    /// Revoke a lease (the dynamic credential or certificate it stands for).
    RevokeLease,
    /// Revoke a token and its children.
    RevokeToken,
    /// Rotate the credential a login used (AppRole secret-id, user password).
    RotateAuthCredential,
}

impl Action {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::RotateSecret => "rotate-secret",
            Action::RevokeLease => "revoke-lease",
            Action::RevokeToken => "revoke-token",
            Action::RotateAuthCredential => "rotate-auth-credential",
        }
    }
}

/// Why a target is on the plan, and which `rotation-list --scope` includes it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// The log shows it exposed: read, issued, or a token in the blast radius.
    #[default]
    Read,
    /// Its policies let the blast radius read it, the log does not show a read: precautionary.
    Reachable,
}

/// One line of the rotation plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RotationTarget {
    /// Position in the plan, from 1.
    pub order: usize,
    /// 1 (infrastructure) .. 4 (human).
    pub tier: u8,
    /// What it is: a secret kind, `lease`, `token`, `approle-secret-id`, `user-password` ...
    pub kind: String,
    /// The path, lease id, accessor or role.
    pub target: String,
    /// What to do.
    pub action: Action,
    /// The command a runbook can run (placeholders in `<ANGLE_BRACKETS>` where the log cannot
    /// know the value).
    pub command: String,
    /// Why it is on the list.
    pub reason: String,
    /// The tenant, if any.
    pub tenant: Option<String>,
    /// When it was first exposed.
    pub first_exposure: Option<Timestamp>,
    /// `read` (the log shows it) or `reachable` (precautionary, after every `read` target).
    pub exposure: Exposure,
}

/// A classification rule: secrets whose path matches (and kind, if given) go to `tier`.
#[derive(Clone, Debug)]
pub struct TierRule {
    /// Regex on the request path (case-insensitive).
    pub pattern: Regex,
    /// Only for this kind.
    pub kind: Option<SecretKind>,
    /// The tier.
    pub tier: u8,
    /// Why, for the report.
    pub label: String,
}

/// The tier rules in force.
#[derive(Clone, Debug)]
pub struct RotationRules {
    rules: Vec<TierRule>,
}

/// Why a `[[rotation]]` rule from the config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RotationRuleError {
    /// The tier is not 1 to 4.
    #[error("rotation rule {pattern:?}: tier must be 1 to 4")]
    Tier {
        /// The rule's pattern.
        pattern: String,
    },
    /// The kind names no secret kind.
    #[error("rotation rule {pattern:?}: unknown kind {kind:?}")]
    Kind {
        /// The rule's pattern.
        pattern: String,
        /// The kind as given.
        kind: String,
    },
    /// The pattern is not a regular expression (or too large).
    #[error("rotation rule {pattern:?}: {source}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        source: regex::Error,
    },
}

/// A rule from the config file: `[[rotation]] pattern = "...", tier = 1, label = "..."`.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRuleConfig {
    /// Regex on the request path.
    pub pattern: String,
    /// Secret kind (e.g. `kv-v2-read`), optional.
    pub kind: Option<String>,
    /// Tier 1..4.
    pub tier: u8,
    /// Label.
    pub label: Option<String>,
}

const BUILTIN: &[(&str, u8, &str)] = &[
    (
        r"(^|/)database/(config|rotate-root)(/|$)",
        1,
        "database root or connection configuration",
    ),
    (
        r"(^|/)(aws|gcp|azure|alicloud)/(config|root)(/|$)",
        1,
        "cloud IAM root configuration",
    ),
    (
        r"(^|/)pki[^/]*/(root|intermediate|issuer|config/ca|keys?)(/|$)",
        1,
        "PKI CA material",
    ),
    (
        r"(^|/)transit[^/]*/(decrypt|datakey|export|keys)/",
        1,
        "transit key material",
    ),
    (
        r"^sys/(raw|generate-root|rekey|rotate)",
        1,
        "unseal or root material",
    ),
    (
        r"(^|/)(root|admin|master)[-_]?(pass(word)?|creds?|credentials?|keys?|tokens?)(/|$)",
        1,
        "administrative credential",
    ),
    (r"(unseal|recovery)[-_]?keys?", 1, "unseal or recovery keys"),
    (
        r"(smtp|mail|dkim|webhooks?|slack|stripe|twilio|sendgrid|mailgun|github|gitlab|pagerduty|datadog|third[-_]?party|integrations?|partners?)",
        3,
        "third-party integration credential",
    ),
    (
        r"(^|/)(users?|people|humans?|personal|employees?|staff)/",
        4,
        "human credential",
    ),
];

impl RotationRules {
    /// Built-in rules after the user's (`TierRuleConfig`s from the config file).
    pub fn new(user: &[TierRuleConfig]) -> Result<RotationRules, RotationRuleError> {
        let mut rules = Vec::new();
        for r in user {
            if !(1..=4).contains(&r.tier) {
                return Err(RotationRuleError::Tier {
                    pattern: r.pattern.clone(),
                });
            }
            let kind = match &r.kind {
                Some(k) => Some(parse_kind(k).ok_or_else(|| RotationRuleError::Kind {
                    pattern: r.pattern.clone(),
                    kind: k.clone(),
                })?),
                None => None,
            };
            rules.push(TierRule {
                pattern: compile(&r.pattern)?,
                kind,
                tier: r.tier,
                label: r
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("config rule {}", r.pattern)),
            });
        }
        for (p, tier, label) in BUILTIN {
            rules.push(TierRule {
                pattern: compile(p)?,
                kind: None,
                tier: *tier,
                label: (*label).to_string(),
            });
        }
        Ok(RotationRules { rules })
    }

    /// The tier of a secret read, and why.
    pub fn tier_of(&self, path: &str, kind: Option<SecretKind>) -> (u8, String) {
        if let Some(r) = self
            .rules
            .iter()
            .find(|r| r.pattern.is_match(path) && r.kind.is_none_or(|k| Some(k) == kind))
        {
            return (r.tier, r.label.clone());
        }
        match kind {
            Some(
                SecretKind::RawStorage
                | SecretKind::TransitDecrypt
                | SecretKind::TransitDatakey
                | SecretKind::TransitExport,
            ) => (1, "key or storage material".into()),
            Some(SecretKind::TotpCode) => (4, "a person's one-time-password seed".into()),
            _ => (2, "service credential".into()),
        }
    }
}

impl Default for RotationRules {
    fn default() -> Self {
        RotationRules::new(&[]).expect("built-in rules compile")
    }
}

fn compile(p: &str) -> Result<Regex, RotationRuleError> {
    RegexBuilder::new(p)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|source| RotationRuleError::Pattern {
            pattern: p.to_string(),
            source,
        })
}

fn parse_kind(s: &str) -> Option<SecretKind> {
    use SecretKind::*;
    [
        KvV1Read,
        KvV1List,
        KvV2Read,
        KvV2List,
        KvV2Subkeys,
        DatabaseCreds,
        DatabaseStaticCreds,
        AwsCreds,
        AwsSts,
        GcpCreds,
        AzureCreds,
        SshCreds,
        SshSign,
        PkiIssue,
        PkiSign,
        TransitDecrypt,
        TransitDatakey,
        TransitExport,
        TotpCode,
        Cubbyhole,
        Unwrap,
        RawStorage,
        DynamicCreds,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

struct Draft {
    tier: u8,
    first: Option<Timestamp>,
    target: RotationTarget,
}

/// Builds the ordered rotation plan.
pub fn rotation_targets(scope: &BlastRadius, rules: &RotationRules) -> Vec<RotationTarget> {
    let mut drafts: Vec<Draft> = Vec::new();
    let mut push = |tier: u8,
                    kind: String,
                    target: String,
                    action: Action,
                    command: Result<String, Refusal>,
                    reason: String,
                    tenant: Option<String>,
                    first: Option<Timestamp>| {
        // A refused row stays in the plan: the target still needs rotating, by hand.
        let (command, reason) = match command {
            Ok(c) => (c, reason),
            Err(why) => (String::new(), format!("{reason}; no command: {why}")),
        };
        drafts.push(Draft {
            tier,
            first,
            target: RotationTarget {
                order: 0,
                tier,
                kind,
                target,
                action,
                command,
                reason,
                tenant,
                first_exposure: first,
                exposure: Exposure::Read,
            },
        });
    };
    let leased: std::collections::HashSet<&str> =
        scope.leases.iter().map(|l| l.path.as_str()).collect();
    for s in &scope.secrets_read {
        let Some(kind) = s.kind else { continue };
        if kind.is_listing() || leased.contains(s.path.as_str()) {
            continue; // names only, or revoked through its leases below
        }
        let (tier, why) = rules.tier_of(&s.path, Some(kind));
        let reason = match s.outcome {
            ReadOutcome::Read => format!(
                "{} read {} time(s) in the blast radius ({why})",
                kind.as_str(),
                s.reads
            ),
            ReadOutcome::UnknownResponseMissing => format!(
                "{} requested {} time(s) in the blast radius, response missing from every input: worst case it was returned ({why})",
                kind.as_str(),
                s.unanswered
            ),
        };
        push(
            tier,
            kind.as_str().to_string(),
            s.secret.clone(),
            Action::RotateSecret,
            secret_command(kind, s),
            reason,
            s.tenant.clone(),
            s.first_read,
        );
    }
    // A database root credential is infrastructure (tier 1) whatever the connection is called.
    for c in &scope.database_config_writes {
        push(
            1,
            "database-root-credential".into(),
            c.path.clone(),
            Action::RotateSecret,
            rotate_root_command(c),
            rotation_root::reason(c),
            None,
            c.first_write,
        );
    }
    for l in &scope.leases {
        let (tier, why) = rules.tier_of(&l.path, l.kind);
        let reason = format!("lease issued by {} to {} ({why})", l.path, l.token);
        push(
            tier,
            "lease".into(),
            l.lease_id.clone(),
            Action::RevokeLease,
            lease_command(l),
            reason,
            l.tenant.clone(),
            l.issued_at,
        );
    }
    for t in &scope.tokens {
        let (tier, why) = token_tier(t);
        let (command, how) = revoke_token_command(t);
        let reason = format!(
            "{} token ({}; {why}){how}",
            t.relation.in_words(),
            t.display_name.as_deref().unwrap_or("no display name")
        );
        push(
            tier,
            "token".into(),
            t.accessor.clone(),
            Action::RevokeToken,
            command,
            reason,
            None,
            t.created_at.or(t.first_use),
        );
        if let Some((kind, target, command, reason)) = auth_credential(t) {
            push(
                tier,
                kind,
                target,
                Action::RotateAuthCredential,
                command,
                reason,
                None,
                t.created_at,
            );
        }
    }
    drafts.sort_by(|a, b| {
        (
            a.tier,
            a.first.is_none(),
            a.first,
            a.target.action,
            &a.target.target,
        )
            .cmp(&(
                b.tier,
                b.first.is_none(),
                b.first,
                b.target.action,
                &b.target.target,
            ))
    });
    drafts
        .dedup_by(|a, b| a.target.action == b.target.action && a.target.target == b.target.target);
    drafts
        .into_iter()
        .enumerate()
        .map(|(i, mut d)| {
            d.target.order = i + 1;
            d.target
        })
        .collect()
}

fn token_tier(t: &TokenRecord) -> (u8, &'static str) {
    if t.policies.iter().any(|p| p == "root") {
        return (1, "root policy");
    }
    let mount = t.auth_mount.as_deref().unwrap_or("");
    let human = [
        "userpass", "ldap", "oidc", "okta", "radius", "github", "saml",
    ];
    if human.iter().any(|h| mount.contains(h))
        || t.display_name
            .as_deref()
            .is_some_and(|d| human.iter().any(|h| d.starts_with(h)))
    {
        return (4, "human login");
    }
    (2, "service token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_rotation_order() {
        let r = RotationRules::default();
        assert_eq!(r.tier_of("database/config/postgres", None).0, 1);
        assert_eq!(
            r.tier_of("transit/decrypt/payments", Some(SecretKind::TransitDecrypt))
                .0,
            1
        );
        assert_eq!(
            r.tier_of("kv/data/acme/db", Some(SecretKind::KvV2Read)).0,
            2
        );
        assert_eq!(
            r.tier_of("database/creds/app", Some(SecretKind::DatabaseCreds))
                .0,
            2
        );
        assert_eq!(
            r.tier_of("kv/data/acme/smtp", Some(SecretKind::KvV2Read)).0,
            3
        );
        assert_eq!(
            r.tier_of("kv/data/users/alice", Some(SecretKind::KvV2Read))
                .0,
            4
        );
    }

    #[test]
    fn config_rules_come_first_and_are_validated() {
        let user = [TierRuleConfig {
            pattern: "^kv/data/acme/".into(),
            kind: Some("kv-v2-read".into()),
            tier: 1,
            label: None,
        }];
        let r = RotationRules::new(&user).unwrap();
        assert_eq!(
            r.tier_of("kv/data/acme/smtp", Some(SecretKind::KvV2Read)).0,
            1
        );
        assert_eq!(
            r.tier_of("kv/data/acme/smtp", Some(SecretKind::KvV1Read)).0,
            3
        );
        let bad = [TierRuleConfig {
            pattern: "x".into(),
            kind: None,
            tier: 9,
            label: None,
        }];
        let err = RotationRules::new(&bad).unwrap_err();
        assert!(matches!(&err, RotationRuleError::Tier { pattern } if pattern == "x"));
        assert_eq!(err.to_string(), "rotation rule \"x\": tier must be 1 to 4");
        let unknown = [TierRuleConfig {
            pattern: "x".into(),
            kind: Some("kv-v9".into()),
            tier: 1,
            label: None,
        }];
        assert!(matches!(
            RotationRules::new(&unknown),
            Err(RotationRuleError::Kind { kind, .. }) if kind == "kv-v9"
        ));
        let broken = [TierRuleConfig {
            pattern: "(".into(),
            kind: None,
            tier: 1,
            label: None,
        }];
        assert!(matches!(
            RotationRules::new(&broken),
            Err(RotationRuleError::Pattern { .. })
        ));
    }
}
