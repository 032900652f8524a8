//! The incident from a `blast` report: a compromised credential's reach and rotation plan.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Chart, Fact, Incident, Line, Shade, TimelineItem, TimelineKind, bars, duration,
    finish_evidence, finish_timeline, gap_shades, gaps, header, inputs_table, kebab, num, review,
    tenant_facts,
};
use crate::blast::Action;

mod detail;
use crate::report::blast::BlastReport;

fn pivots(r: &BlastReport) -> Line {
    let p = &r.pivots;
    let mut l = Line::default();
    for (what, vals) in [
        ("token", &p.tokens),
        ("accessor", &p.accessors),
        ("entity", &p.entities),
        ("address", &p.ips),
        ("display name", &p.display_names),
    ] {
        for v in vals {
            if !l.0.is_empty() {
                l = l.t(", ");
            }
            l = l.t(format!("{what} ")).c(v);
        }
    }
    l.t(if p.descendants {
        "; tokens created from them followed"
    } else {
        "; descendants not followed"
    })
}

fn tier_counts(r: &BlastReport) -> String {
    let mut by_tier: BTreeMap<u8, usize> = BTreeMap::new();
    for t in &r.rotation_targets {
        *by_tier.entry(t.tier).or_default() += 1;
    }
    by_tier
        .iter()
        .map(|(t, n)| format!("tier {t}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Incident {
    /// The incident for a blast-radius analysis.
    pub fn from_blast(r: &BlastReport) -> Incident {
        let kinds: BTreeSet<&str> = r
            .secrets_read
            .iter()
            .filter_map(|s| s.kind.map(|k| k.as_str()))
            .collect();
        let window = match r.exposure_window {
            Some(w) => Line::text(format!(
                "{} to {} ({})",
                w.start.to_rfc3339(),
                w.end.to_rfc3339(),
                duration(w.seconds())
            )),
            None => Line::text("no activity in scope"),
        };
        let mut specific = vec![
            Fact::secret_types(kinds),
            Fact {
                label: "Exposure vector",
                value: Line(
                    Line::text("compromised credential: ")
                        .0
                        .into_iter()
                        .chain(pivots(r).0)
                        .collect(),
                ),
            },
            Fact {
                label: "Scope",
                value: Line::text(format!(
                    "{}: {} affected tenant(s), {} secret(s) read, {} token(s)",
                    r.breach_scope.as_str().to_uppercase(),
                    r.affected_tenants.len(),
                    r.secrets_read.len(),
                    r.tokens.len()
                )),
            },
            Fact {
                label: "Exposure window",
                value: window,
            },
        ];
        if r.devices.len() > 1 {
            specific.push(devices_fact(&r.devices));
        }

        let mut actions = super::containment::actions(&containment_evidence(r));
        actions.extend([
            Line::text("Assign an incident commander and set the time of the next update"),
            Line::text(
                "Preserve the inputs listed below read-only (copy them and record their SHA-256) before anything rotates them",
            ),
        ]);
        let count = |a: Action| {
            r.rotation_targets
                .iter()
                .filter(|t| t.action == a && t.exposure == crate::blast::Exposure::Read)
                .count()
        };
        for (a, what) in [
            (
                Action::RevokeToken,
                "Revoke the {} token(s) in the blast radius (commands in the rotation plan)",
            ),
            (Action::RevokeLease, "Revoke the {} lease(s) issued to them"),
            (
                Action::RotateSecret,
                "Rotate the {} secret(s) read, in tier order",
            ),
            (
                Action::RotateAuthCredential,
                "Rotate the {} auth credential(s) (AppRole secret IDs, passwords) used to log in",
            ),
        ] {
            let n = count(a);
            if n > 0 {
                actions.push(Line::text(what.replace("{}", &n.to_string())));
            }
        }
        let precautionary = r
            .rotation_targets
            .iter()
            .filter(|t| t.exposure == crate::blast::Exposure::Reachable)
            .count();
        if precautionary > 0 {
            actions.push(Line::text(format!(
                "Then rotate, as a precaution, the {precautionary} secret(s) the tokens' policies let them read that the log does not show read"
            )));
        }
        if !r.affected_tenants.is_empty() {
            actions.push(Line::text(format!(
                "Notify the {} affected tenant(s) listed below according to your disclosure obligations",
                r.affected_tenants.len()
            )));
        }
        if !r.denied.is_empty() {
            actions.push(Line::text(format!(
                "Review the {} denied path(s): they show what the attacker was after",
                r.denied.len()
            )));
        }
        if !r.gaps_in_window.is_empty() {
            actions.push(Line::text(format!(
                "Explain the {} audit gap(s) inside the exposure window: activity there is not in this report",
                r.gaps_in_window.len()
            )));
        }
        for u in &r.pivots.unmatched {
            actions.push(
                Line::text("Check the pivot ")
                    .c(u)
                    .t(": it matched nothing (right device's audit-hash? time window?)"),
            );
        }
        actions.extend(
            [
                "Confirm each rotation and revocation with a timestamp in the incident log",
                "Check the other audit devices and cluster nodes for the same window",
                "Keep the JSON report (--format json) and the CSV rotation plan with the case file",
                "Schedule the post-incident review",
            ]
            .into_iter()
            .map(Line::text),
        );

        let mut relations: BTreeMap<String, usize> = BTreeMap::new();
        for t in &r.tokens {
            *relations
                .entry(t.relation.as_str().to_string())
                .or_default() += 1;
        }
        let mut blast_radius = vec![
            Fact {
                label: "Tokens",
                value: Line::text(format!(
                    "{} ({})",
                    r.tokens.len(),
                    relations
                        .iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Fact {
                label: "Secrets read",
                value: Line::text(format!(
                    "{} distinct, {} reads",
                    r.secrets_read.len(),
                    r.secrets_read.iter().map(|s| s.reads).sum::<u64>()
                )),
            },
            Fact {
                label: "Affected tenants",
                value: Line::text(format!(
                    "{} ({})",
                    r.affected_tenants.len(),
                    r.breach_scope.as_str()
                )),
            },
            Fact {
                label: "Reachable tenants (not read)",
                value: if r.policy_coverage.is_some() {
                    num(r.reachable_tenants.len())
                } else {
                    Line::text("not assessed (no --policies or --vault-addr)")
                },
            },
            Fact {
                label: "Leases issued",
                value: num(r.leases.len()),
            },
            Fact {
                label: "Denied paths",
                value: num(r.denied.len()),
            },
            Fact {
                label: "Rotation targets",
                value: Line::text(format!("{} ({})", r.rotation_targets.len(), tier_counts(r))),
            },
            Fact {
                label: "Gaps in the window",
                value: num(r.gaps_in_window.len()),
            },
        ];
        blast_radius.extend(tenant_facts(
            &r.unattributed_secrets,
            &r.settings.inferred_tenant_patterns,
        ));

        let mut timeline = Vec::new();
        let mut marks = Vec::new();
        if let Some(w) = r.exposure_window {
            timeline.push(TimelineItem {
                time: w.start,
                kind: TimelineKind::Bound,
                what: Line::text("Exposure window opens: first activity in scope"),
            });
            timeline.push(TimelineItem {
                time: w.end,
                kind: TimelineKind::Bound,
                what: Line::text("Exposure window closes: last activity in scope"),
            });
        }
        for t in &r.tokens {
            if let Some(at) = t.created_at {
                let e = TimelineItem {
                    time: at,
                    kind: TimelineKind::TokenCreated,
                    what: Line::text(format!(
                        "Token created ({}, depth {}): ",
                        t.relation.as_str(),
                        t.depth
                    ))
                    .c(&t.accessor),
                };
                marks.push(e.clone());
                timeline.push(e);
            }
        }
        for s in &r.secrets_read {
            if let Some(at) = s.first_read {
                timeline.push(TimelineItem {
                    time: at,
                    kind: TimelineKind::SecretRead,
                    what: Line::text("Secret read: ").c(&s.path),
                });
            }
        }
        for (label, pick, first) in [
            (
                "First secret read: ",
                r.secrets_read
                    .iter()
                    .filter(|s| s.first_read.is_some())
                    .min_by_key(|s| s.first_read),
                true,
            ),
            (
                "Last secret read: ",
                r.secrets_read.iter().max_by_key(|s| s.last_read),
                false,
            ),
        ] {
            if let Some(s) = pick
                && let Some(at) = if first { s.first_read } else { s.last_read }
            {
                marks.push(TimelineItem {
                    time: at,
                    kind: TimelineKind::SecretRead,
                    what: Line::text(label).c(&s.path),
                });
            }
        }
        for d in &r.denied {
            if let Some(at) = d.first {
                timeline.push(TimelineItem {
                    time: at,
                    kind: TimelineKind::Denied,
                    what: Line::text(format!("Denied ({}): ", kebab(&d.reason))).c(&d.path),
                });
            }
        }
        for l in &r.leases {
            if let Some(at) = l.issued_at {
                timeline.push(TimelineItem {
                    time: at,
                    kind: TimelineKind::Lease,
                    what: Line::text("Lease issued: ").c(&l.lease_id),
                });
            }
        }
        for g in &r.gaps_in_window {
            if let Some(t) = g.start.or(g.end) {
                timeline.push(TimelineItem {
                    time: t,
                    kind: TimelineKind::Gap,
                    what: Line::text(format!("{}: {}", g.kind.as_str(), g.detail)),
                });
            }
        }
        let timeline_total = finish_timeline(&mut timeline);

        let tables = detail::tables(r);
        let rotation = detail::rotation(r);
        let mut evidence = detail::evidence(r);
        let evidence_total = finish_evidence(&mut evidence);

        let mut caveats = Vec::new();
        if !r.complete {
            caveats.push(Line::text("The input was incomplete: an input could not be read to the end or had malformed lines. Results are partial."));
        }
        for u in &r.pivots.unmatched {
            caveats.push(
                Line::text("The pivot ")
                    .c(u)
                    .t(" matched nothing in the log."),
            );
        }

        let (bars, untimed_requests) = bars(&r.activity);
        Incident {
            id: r.incident_id.clone(),
            title: "Compromised credential: blast radius".to_string(),
            command: "blast",
            severity: r.severity,
            header: header(r.generated_at, r.severity, specific, r.complete),
            actions,
            blast_radius,
            timeline,
            timeline_total,
            tables,
            rotation: Some(rotation),
            gaps: gaps::sections(&r.gaps_in_window, &BTreeMap::new()),
            evidence,
            evidence_total,
            inputs: inputs_table(&r.inputs),
            caveats,
            review: review(),
            chart: Chart {
                bars,
                untimed_requests,
                gaps: gap_shades(&r.gaps_in_window),
                exposure: r.exposure_window.map(|w| Shade {
                    start: w.start,
                    end: w.end,
                    label: format!("exposure window ({})", duration(w.seconds())),
                }),
                marks,
            },
            generator: format!("{} {}", r.tool.name, r.tool.version),
        }
    }
}

/// Containment for a blast radius: the auth methods its tokens logged in through, root policy
/// among its tokens, denied attempts on audit devices or root generation.
fn containment_evidence(r: &BlastReport) -> super::containment::ContainmentEvidence {
    use super::containment::LoginMethod;
    let denied = |prefixes: &[&str]| {
        r.denied
            .iter()
            .any(|d| prefixes.iter().any(|p| d.path.starts_with(p)))
    };
    super::containment::ContainmentEvidence {
        logins: r
            .tokens
            .iter()
            .filter_map(|t| {
                t.auth_mount.as_ref().map(|m| LoginMethod {
                    mount: m.clone(),
                    role: t.role.clone(),
                    user: t.user.clone(),
                })
            })
            .collect(),
        root_touched: r
            .tokens
            .iter()
            .any(|t| t.policies.iter().any(|p| p == "root")),
        audit_touched: r
            .denied
            .iter()
            .any(|d| d.path.starts_with("sys/audit") && !d.path.starts_with("sys/audit-hash")),
        root_generation: denied(&["sys/generate-root", "sys/rekey"]),
    }
}

/// "Audit devices": each device with its inputs' count and how it logs accessors; a token has
/// one form per device, listed in the JSON report's `tokens[].forms`.
fn devices_fact(devices: &[crate::report::devices::DeviceRecord]) -> Fact {
    let list: Vec<String> = devices.iter().map(|d| d.summary()).collect();
    Fact {
        label: "Audit devices",
        value: Line::text(list.join("; ")),
    }
}
