//! The detail tables, rotation plan and evidence of a blast incident.

use std::collections::BTreeMap;

use super::super::{Evidence, Line, Table, code_or_dash, gaps, kebab, num, time};
use crate::report::blast::BlastReport;

/// Affected tenants, tokens, secrets read, denied attempts and leases.
pub fn tables(r: &BlastReport) -> Vec<Table> {
    let mut tenants: BTreeMap<&str, (usize, u64, Option<crate::model::Timestamp>)> =
        BTreeMap::new();
    for s in r.secrets_read.iter().filter(|s| !s.tenant_excluded) {
        if let Some(t) = &s.tenant {
            let e = tenants.entry(t).or_default();
            e.0 += 1;
            e.1 += s.reads;
            e.2 = match (e.2, s.first_read) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    let mut out = vec![
        Table::new(
            "Affected tenants",
            vec!["Tenant", "Secrets", "Reads", "First read"],
            tenants
                .iter()
                .map(|(t, (n, reads, first))| {
                    vec![Line::default().c(*t), num(n), num(reads), time(*first)]
                })
                .collect(),
        ),
        Table::new(
            "Tokens",
            vec![
                "Relation",
                "Depth",
                "Accessor",
                "Created by",
                "Name",
                "From",
                "Requests",
                "First use",
                "Last use",
            ],
            r.tokens
                .iter()
                .map(|t| {
                    vec![
                        Line::text(t.relation.as_str().to_string()),
                        num(t.depth),
                        Line::default().c(&t.accessor),
                        code_or_dash(t.created_by.as_deref()),
                        code_or_dash(t.display_name.as_deref()),
                        code_or_dash(Some(t.client_addresses.join(", ")).as_deref()),
                        num(t.requests),
                        time(t.first_use),
                        time(t.last_use),
                    ]
                })
                .collect(),
        ),
        Table::new(
            "Secrets read",
            vec![
                "Secret",
                "Kind",
                "Tenant",
                "Reads",
                "First read",
                "Last read",
            ],
            r.secrets_read
                .iter()
                .map(|s| {
                    vec![
                        Line::default().c(&s.path),
                        Line::text(s.kind.map_or("-", |k| k.as_str())),
                        code_or_dash(s.tenant.as_deref()),
                        num(s.reads),
                        time(s.first_read),
                        time(s.last_read),
                    ]
                })
                .collect(),
        ),
        Table::new(
            "Denied attempts",
            vec!["Path", "Reason", "Attempts", "First", "Last"],
            r.denied
                .iter()
                .map(|d| {
                    vec![
                        Line::default().c(&d.path),
                        Line::text(kebab(&d.reason)),
                        num(d.attempts),
                        time(d.first),
                        time(d.last),
                    ]
                })
                .collect(),
        ),
        Table::new(
            "Leases",
            vec!["Lease", "Path", "Tenant", "Issued"],
            r.leases
                .iter()
                .map(|l| {
                    vec![
                        Line::default().c(&l.lease_id),
                        Line::default().c(&l.path),
                        code_or_dash(l.tenant.as_deref()),
                        time(l.issued_at),
                    ]
                })
                .collect(),
        ),
    ];
    out.extend(reachable(r));
    out
}

/// "Reachable secrets": what the tokens' policies let them read, with the granting stanza
/// (only with `--policies`/`--vault-addr`).
fn reachable(r: &BlastReport) -> Option<Table> {
    let cov = r.policy_coverage.as_ref()?;
    let rows = r
        .reachable_secrets
        .iter()
        .map(|s| {
            let mut granted = Line::default();
            let stanzas: std::collections::BTreeSet<(String, &str)> = s
                .granted_by
                .iter()
                .map(|g| (format!("{}{}", g.namespace, g.policy), g.rule.as_str()))
                .collect();
            for (i, (policy, rule)) in stanzas.into_iter().enumerate() {
                if i > 0 {
                    granted = granted.t(", ");
                }
                granted = granted.c(policy).t(" ").c(rule);
            }
            vec![
                Line::default().c(&s.place.path),
                code_or_dash(s.place.tenant.as_deref()),
                Line::text(s.capabilities.join(", ")),
                granted,
                Line::text(if s.read_in_window { "yes" } else { "no" }),
            ]
        })
        .collect();
    let mut caption = format!(
        "Secrets of the catalogue ({} from the log, {} from the inventory) the tokens hold a capability on, by their policies ({} {}). Readable ones not read are precautionary rotation targets.",
        cov.catalogue_from_log, cov.catalogue_from_inventory, cov.source, cov.location
    );
    if !r.reachable_tenants.is_empty() {
        caption.push_str(&format!(
            " Tenants reachable but not read: {}.",
            r.reachable_tenants.join(", ")
        ));
    }
    for m in &cov.missing_policies {
        caption.push_str(&format!(
            " Policy {}{} was not found: the reach of its {} token(s) is a lower bound.",
            m.namespace
                .as_deref()
                .map_or(String::new(), |n| format!("{n}/")),
            m.name,
            m.tokens.len()
        ));
    }
    Some(
        Table::new(
            "Reachable secrets",
            vec!["Secret", "Tenant", "Capabilities", "Granted by", "Read"],
            rows,
        )
        .caption(caption),
    )
}

/// The rotation plan, in the order the report gives it (tier 1 first).
pub fn rotation(r: &BlastReport) -> Table {
    Table::new(
        "Rotation plan",
        vec!["#", "Tier", "Action", "Target", "Tenant", "Command", "Why"],
        r.rotation_targets
            .iter()
            .map(|t| {
                vec![
                    num(t.order),
                    num(t.tier),
                    Line::text(t.action.as_str()),
                    Line::default().c(&t.target),
                    code_or_dash(t.tenant.as_deref()),
                    Line::default().c(&t.command),
                    Line::text(t.reason.clone()),
                ]
            })
            .collect(),
    )
    .caption(
        "In order: tier 1 (most critical) first. The same plan as CSV: blastradius rotation-list.",
    )
}

/// Where the evidence for each token, read, denial, lease and gap is.
pub fn evidence(r: &BlastReport) -> Vec<Evidence> {
    let mut evidence = Vec::new();
    for t in &r.tokens {
        if let Some(l) = &t.evidence {
            evidence.push(Evidence {
                location: l.clone(),
                supports: Line::text("token ").c(&t.accessor),
            });
        }
    }
    for s in &r.secrets_read {
        evidence.push(Evidence {
            location: s.evidence.clone(),
            supports: Line::text("first read of ").c(&s.path),
        });
    }
    for d in &r.denied {
        evidence.push(Evidence {
            location: d.evidence.clone(),
            supports: Line::text("denied ").c(&d.path),
        });
    }
    for l in &r.leases {
        evidence.push(Evidence {
            location: l.evidence.clone(),
            supports: Line::text("lease ").c(&l.lease_id),
        });
    }
    gaps::evidence(&r.gaps_in_window, &mut evidence);
    evidence
}
