//! The incident from a `scan` report: a breach assessment.

use std::borrow::Borrow;
use std::collections::BTreeSet;

use super::containment::{self, ContainmentEvidence, LoginMethod};
use super::{
    Chart, Evidence, Fact, Incident, Line, Table, TimelineItem, TimelineKind, bars, code_or_dash,
    finish_evidence, finish_timeline, gap_shades, gaps, header, inputs_table, num, review,
    tenant_facts, time, time_str,
};
use crate::detect::Actor;
use crate::report::ScanReport;

/// Evidence locations kept per finding and per secret.
const EVIDENCE_PER_ITEM: usize = 3;

fn actor(a: &Actor) -> Line {
    let who = a
        .display_name
        .as_deref()
        .or(a.login_user.as_deref())
        .unwrap_or("unauthenticated");
    let l = Line::default().c(who);
    match &a.remote_address {
        Some(ip) => l.t(" from ").c(ip),
        None => l,
    }
}

/// The first readers or actors, owned (a finding's) or shared (a secret's).
fn actors<A: Borrow<Actor>>(list: &[A], total: usize) -> Line {
    let mut l = Line::default();
    for (i, a) in list.iter().take(3).enumerate() {
        if i > 0 {
            l = l.t(", ");
        }
        l.0.extend(actor(a.borrow()).0);
    }
    if total > list.len().min(3) {
        l = l.t(format!(" (+{} more)", total - list.len().min(3)));
    }
    if l.0.is_empty() { Line::text("-") } else { l }
}

impl Incident {
    /// The incident for a scan.
    pub fn from_scan(r: &ScanReport) -> Incident {
        let kinds: BTreeSet<&str> = r.secrets.iter().map(|s| s.kind.as_str()).collect();
        let vector = if r.findings.is_empty() {
            Line::text(if r.secrets.is_empty() {
                "none identified: no detection rule matched and no secret was read"
            } else {
                "secrets read through the Vault API; no detection rule matched"
            })
        } else {
            let titles: Vec<String> = r.findings.iter().take(3).map(|f| f.title.clone()).collect();
            Line::text(titles.join("; "))
        };
        let specific = vec![
            Fact::secret_types(kinds),
            Fact {
                label: "Exposure vector",
                value: vector,
            },
            Fact {
                label: "Scope",
                value: Line::text(format!(
                    "{}: {} affected tenant(s), {} secret(s) read",
                    r.breach_scope.as_str().to_uppercase(),
                    r.affected_tenants.len(),
                    r.accessed_secrets
                )),
            },
            Fact {
                label: "Log period",
                value: Line::text(format!(
                    "{} to {}",
                    time_str(r.first_entry),
                    time_str(r.last_entry),
                )),
            },
        ];

        let mut actions = containment::actions(&containment_evidence(r));
        actions.extend([
            Line::text("Assign an incident commander and set the time of the next update"),
            Line::text(
                "Preserve the inputs listed below read-only (copy them and record their SHA-256) before anything rotates them",
            ),
        ]);
        if let Some(s) = r.suspects.first() {
            actions.push(
                Line::text(format!(
                    "Follow the first suspect ({}, score {}): ",
                    crate::report::suspects::who(s),
                    s.score
                ))
                .c(&s.blast_command),
            );
        }
        for f in r.findings.iter().take(5) {
            actions.push(Line::text(format!(
                "Triage {} finding \"{}\" ({} match(es)); evidence below",
                f.severity.as_str(),
                f.title,
                f.count
            )));
        }
        if !r.secrets.is_empty() {
            actions.push(
                Line::text(format!(
                    "Identify the tokens that read the {} secret(s) and run ",
                    r.secrets.len()
                ))
                .c("blastradius blast --accessor <accessor>")
                .t(" on each suspicious one for its full blast radius and rotation plan"),
            );
            actions.push(Line::text(
                "Rotate every secret read by a suspicious actor, most critical tier first",
            ));
        }
        if !r.affected_tenants.is_empty() {
            actions.push(Line::text(format!(
                "Notify the {} affected tenant(s) listed below according to your disclosure obligations",
                r.affected_tenants.len()
            )));
        }
        if r.unexplained_gaps > 0 {
            actions.push(Line::text(format!(
                "Explain the {} unexplained audit gap(s): collect the other nodes' and devices' logs for those periods",
                r.unexplained_gaps
            )));
        }
        if !r.complete {
            actions.push(Line::text(
                "Recover the incomplete inputs (see Inputs) and scan again: results are partial",
            ));
        }
        actions.extend(
            [
                "Check the other audit devices and cluster nodes for the same period",
                "Revoke the tokens of every actor named in a P0 or P1 finding",
                "Keep the JSON report (--format json) with the case file",
                "Schedule the post-incident review",
            ]
            .into_iter()
            .map(Line::text),
        );

        let by_sev =
            |s: crate::model::Severity| r.findings.iter().filter(|f| f.severity == s).count();
        let mut blast_radius = vec![
            Fact {
                label: "Entries analysed",
                value: num(r.stats.entries),
            },
            Fact {
                label: "Suspicious entries",
                value: num(r.suspicious_entries),
            },
            Fact {
                label: "Findings",
                value: Line::text(format!(
                    "{} (P0 {}, P1 {}, P2 {}, P3 {})",
                    r.findings.len(),
                    by_sev(crate::model::Severity::P0),
                    by_sev(crate::model::Severity::P1),
                    by_sev(crate::model::Severity::P2),
                    by_sev(crate::model::Severity::P3)
                )),
            },
            Fact {
                label: "Secrets read",
                value: Line::text(format!(
                    "{} distinct, {} successful reads",
                    r.accessed_secrets, r.stats.secret_reads
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
                label: "Audit gaps",
                value: Line::text(format!(
                    "{} listed, {} unexplained",
                    r.gaps.len(),
                    r.unexplained_gaps
                )),
            },
        ];
        blast_radius.extend(tenant_facts(
            &r.unattributed_secrets,
            &r.settings.inferred_tenant_patterns,
        ));

        let mut timeline = Vec::new();
        let mut marks = Vec::new();
        if let Some(t) = r.first_entry {
            timeline.push(TimelineItem {
                time: t,
                kind: TimelineKind::Bound,
                what: Line::text("First entry in the log"),
            });
        }
        if let Some(t) = r.last_entry {
            timeline.push(TimelineItem {
                time: t,
                kind: TimelineKind::Bound,
                what: Line::text("Last entry in the log"),
            });
        }
        for f in &r.findings {
            if let Some(t) = f.first_seen {
                let e = TimelineItem {
                    time: t,
                    kind: TimelineKind::Finding,
                    what: Line::text(format!("{} {}: first match", f.severity.as_str(), f.title)),
                };
                marks.push(e.clone());
                timeline.push(e);
            }
        }
        for tn in r.tenants.iter().filter(|t| !t.excluded) {
            if let Some(t) = tn.first_read {
                timeline.push(TimelineItem {
                    time: t,
                    kind: TimelineKind::SecretRead,
                    what: Line::text("First read of a secret of tenant ").c(&tn.tenant),
                });
            }
        }
        for (label, pick) in [
            (
                "First secret read: ",
                r.secrets.iter().min_by_key(|s| s.first_read),
            ),
            (
                "Last secret read: ",
                r.secrets.iter().max_by_key(|s| s.last_read),
            ),
        ] {
            if let Some(s) = pick {
                let t = if label.starts_with("First") {
                    s.first_read
                } else {
                    s.last_read
                };
                if let Some(t) = t {
                    let e = TimelineItem {
                        time: t,
                        kind: TimelineKind::SecretRead,
                        what: Line::text(label).c(&*s.path),
                    };
                    marks.push(e.clone());
                    timeline.push(e);
                }
            }
        }
        for g in r.gaps.iter().filter(|g| g.explained_by.is_none()) {
            if let Some(t) = g.start.or(g.end) {
                timeline.push(TimelineItem {
                    time: t,
                    kind: TimelineKind::Gap,
                    what: Line::text(format!("Unexplained {}: {}", g.kind.as_str(), g.detail)),
                });
            }
        }
        let timeline_total = finish_timeline(&mut timeline);

        let tenants = Table::new(
            "Affected tenants",
            vec![
                "Tenant",
                "Secrets",
                "Reads",
                "First read",
                "Last read",
                "Kinds",
                "Excluded",
            ],
            r.tenants
                .iter()
                .map(|t| {
                    vec![
                        Line::default().c(&t.tenant),
                        num(t.secrets),
                        num(t.reads),
                        time(t.first_read),
                        time(t.last_read),
                        Line::text(
                            t.kinds
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                        Line::text(if t.excluded { "yes" } else { "no" }),
                    ]
                })
                .collect(),
        );
        let findings = Table::new(
            "Findings",
            vec![
                "Severity", "Rule", "Title", "Matches", "First", "Last", "Actors",
            ],
            r.findings
                .iter()
                .map(|f| {
                    vec![
                        Line::text(f.severity.as_str()),
                        Line::default().c(&f.rule_id),
                        Line::text(f.title.clone()),
                        num(f.count),
                        time(f.first_seen),
                        time(f.last_seen),
                        actors(&f.actors, f.actors_total),
                    ]
                })
                .collect(),
        );
        let secrets = Table::new(
            "Secrets read",
            vec![
                "Secret",
                "Kind",
                "Tenant",
                "Reads",
                "First read",
                "Last read",
                "Readers",
            ],
            r.secrets
                .iter()
                .map(|s| {
                    vec![
                        Line::default().c(&*s.path),
                        Line::text(s.kind.as_str()),
                        code_or_dash(s.tenant.as_deref()),
                        num(s.reads),
                        time(s.first_read),
                        time(s.last_read),
                        actors(&s.readers, s.readers_total),
                    ]
                })
                .collect(),
        );

        let mut evidence = Vec::new();
        for f in &r.findings {
            for l in f.evidence.iter().take(EVIDENCE_PER_ITEM) {
                evidence.push(Evidence {
                    location: l.clone(),
                    supports: Line::text(format!("finding {}: ", f.severity.as_str()))
                        .c(&f.rule_id),
                });
            }
        }
        for s in &r.secrets {
            for l in s.evidence.iter().take(1) {
                evidence.push(Evidence {
                    location: l.clone(),
                    supports: Line::text("first read of ").c(&*s.path),
                });
            }
        }
        gaps::evidence(&r.gaps, &mut evidence);
        let evidence_total = finish_evidence(&mut evidence);

        let mut caveats = Vec::new();
        if !r.complete {
            caveats.push(Line::text(
                "The input was incomplete: an input could not be read to the end or had malformed lines. Results are partial.",
            ));
        }
        if r.stats.pairing_overflow > 0 {
            caveats.push(Line::text(format!(
                "{} entries could not be paired across chunks; pairing counts are approximate.",
                r.stats.pairing_overflow
            )));
        }

        let (bars, untimed_requests) = bars(&r.activity);
        Incident {
            id: r.incident_id.clone(),
            title: "Vault audit log breach assessment".to_string(),
            command: "scan",
            severity: r.severity,
            header: header(r.generated_at, r.severity, specific, r.complete),
            actions,
            blast_radius,
            timeline,
            timeline_total,
            tables: {
                let mut t = Vec::new();
                if !r.suspects.is_empty() {
                    t.push(crate::report::suspects::table(
                        &r.suspects,
                        r.suspects_total,
                    ));
                }
                t.extend([tenants, findings, secrets]);
                t
            },
            rotation: None,
            gaps: gaps::sections(&r.gaps, &r.gaps_omitted),
            evidence,
            evidence_total,
            inputs: inputs_table(&r.inputs),
            caveats,
            review: review(),
            chart: Chart {
                bars,
                untimed_requests,
                gaps: gap_shades(&r.gaps),
                exposure: None,
                marks,
            },
            generator: format!("{} {}", r.tool.name, r.tool.version),
        }
    }
}

/// The leading suspects (at least half the first one's score, at most three) decide containment.
fn containment_evidence(r: &ScanReport) -> ContainmentEvidence {
    let top = r.suspects.first().map_or(0, |s| s.score);
    let leading: Vec<_> = r
        .suspects
        .iter()
        .take(3)
        .filter(|s| s.score * 2 >= top)
        .collect();
    let touched = |t| leading.iter().any(|s| s.touched.contains(&t));
    ContainmentEvidence {
        logins: leading
            .iter()
            .filter_map(|s| {
                s.auth_mount.as_ref().map(|m| LoginMethod {
                    mount: m.clone(),
                    role: s.role.clone(),
                    user: s.user.clone(),
                })
            })
            .collect(),
        root_touched: leading.iter().any(|s| s.root_policy),
        audit_touched: touched(crate::suspects::Touched::AuditDevice),
        root_generation: r.root_generation_requests > 0
            || touched(crate::suspects::Touched::RootGeneration),
    }
}
