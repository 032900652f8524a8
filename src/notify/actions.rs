//! Actions taken and required, from the rotation plan rows of one tenant.
//!
//! The plan's order is kept. Revocations are the operators' (a lease or token is revoked on the
//! platform, for everyone); rotating a secret at its source is the tenant's. The plan's rows
//! without a tenant (the compromised tokens and the login credentials they came from) belong to
//! no tenant: a notice counts them and names none of them.

use super::input::{Exposure, SourceCommand, TargetIn};
use super::notice::{ActionBy, ExposedSecret, NoticeAction, NoticeOptions};
use crate::redact;

fn clean(s: &str) -> String {
    redact::text(s).into_owned()
}

fn some_command(c: &str) -> Option<String> {
    (!c.is_empty()).then(|| clean(c))
}

/// `(taken, required)` for a tenant whose plan rows are `own` and exposed secrets `listed`.
pub fn split(
    e: &Exposure,
    opts: &NoticeOptions,
    own: &[&TargetIn],
    listed: &[ExposedSecret],
) -> (Vec<NoticeAction>, Vec<NoticeAction>) {
    let mut taken: Vec<NoticeAction> = opts
        .actions_taken
        .iter()
        .map(|t| NoticeAction {
            action: "statement".into(),
            by: ActionBy::Operator,
            target: None,
            command: None,
            text: clean(t),
        })
        .collect();
    taken.extend(shared_rows(e));
    let mut required = Vec::new();
    for r in own {
        if r.action == "rotate-secret" {
            required.push(NoticeAction {
                action: r.action.clone(),
                by: ActionBy::Tenant,
                target: Some(clean(&r.target)),
                command: some_command(&r.command),
                text: format!(
                    "Rotate at its source, then store the new value: {}",
                    clean(&r.reason)
                ),
            });
        } else {
            taken.push(NoticeAction {
                action: r.action.clone(),
                by: ActionBy::Operator,
                target: Some(clean(&r.target)),
                command: some_command(&r.command),
                text: own_row_text(r),
            });
        }
    }
    if e.command == SourceCommand::Scan {
        required.extend(scan_rotations(listed));
    }
    (taken, required)
}

fn own_row_text(r: &TargetIn) -> String {
    match r.action.as_str() {
        "revoke-lease" => "Lease revoked: the credential it stands for no longer works".into(),
        "revoke-token" => "Token revoked, with the tokens created from it".into(),
        _ => format!("{} ({})", clean(&r.action), clean(&r.kind)),
    }
}

/// The plan's rows with no tenant, counted.
fn shared_rows(e: &Exposure) -> Vec<NoticeAction> {
    let count = |action: &str| {
        e.rotation_targets
            .iter()
            .filter(|r| r.tenant.is_none() && r.action == action)
            .count()
    };
    let mut out = Vec::new();
    let tokens = count("revoke-token");
    if tokens > 0 {
        out.push(NoticeAction {
            action: "revoke-token".into(),
            by: ActionBy::Operator,
            target: None,
            command: None,
            text: format!(
                "{tokens} token(s) of the compromised credential revoked, with the tokens created from them"
            ),
        });
    }
    let creds = count("rotate-auth-credential");
    if creds > 0 {
        out.push(NoticeAction {
            action: "rotate-auth-credential".into(),
            by: ActionBy::Operator,
            target: None,
            command: None,
            text: format!("{creds} login credential(s) the tokens were issued from rotated"),
        });
    }
    out
}

/// A scan has no plan: every secret read (not listed) is to be rotated unless its reads were
/// expected, which only the tenant can tell.
fn scan_rotations(listed: &[ExposedSecret]) -> Vec<NoticeAction> {
    listed
        .iter()
        .filter(|s| !s.kind.as_deref().is_some_and(|k| k.ends_with("-list")))
        .map(|s| NoticeAction {
            action: "rotate-secret".into(),
            by: ActionBy::Tenant,
            target: Some(s.secret.clone()),
            command: None,
            text: "Read in the window (every reader counted, expected ones too): rotate it at its \
                   source unless every read was expected"
                .into(),
        })
        .collect()
}
