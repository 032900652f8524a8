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
    vec![
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
                        Line::text(kebab(&t.relation)),
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
    ]
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
