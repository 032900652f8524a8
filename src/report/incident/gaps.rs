//! Audit gaps, grouped by kind and explained in plain words.

use std::collections::BTreeMap;

use super::{Evidence, GapSection, Line, Table, duration, time};
use crate::gaps::{Gap, GapKind};

/// Example rows per gap kind.
const EXAMPLES_PER_KIND: usize = 20;

/// What a gap kind means for an investigation.
pub fn meaning(kind: GapKind) -> &'static str {
    match kind {
        GapKind::QuietPeriod => {
            "Nothing was logged for longer than the gap threshold. On a busy cluster this usually \
             means the audit device stopped writing, the node was down, or the log was edited; \
             anything done during the period is invisible here. Check the other nodes' and \
             devices' logs for the same period."
        }
        GapKind::RotationHole => {
            "Time is missing between two rotated files of the same log: a rotated file was \
             deleted or not collected. Find the missing file before concluding nothing happened."
        }
        GapKind::MissingResponse => {
            "A request was logged but its response never was: the request may have failed to \
             complete, the node stopped, or the response was removed. The outcome of that \
             request is unknown."
        }
        GapKind::MissingRequest => {
            "A response was logged without its request: the log starts mid-request or lines \
             were removed. The response itself is still evidence of what was returned."
        }
        GapKind::DeviceRestart => {
            "An audit device was (re)enabled. HMACs may use a new salt from here on, so the same \
             token can look different before and after; anything between disable and enable was \
             not audited by this device."
        }
        GapKind::DeviceDisabled => {
            "An audit device was disabled. Unless another device was enabled, requests after \
             this point were not audited. Disabling auditing is itself a strong signal of \
             tampering: find out who did it."
        }
        GapKind::TimeBackwards => {
            "An entry's time is earlier than the entry before it: clock skew between nodes, \
             logs from several nodes interleaved, or edited lines. Time order in this report may \
             not be the order events happened."
        }
        GapKind::MalformedRegion => {
            "Consecutive lines are not audit entries (a torn write, disk corruption, or \
             tampering). Whatever was logged there cannot be read."
        }
        GapKind::InputTruncated => {
            "An input shrank or was rewritten between scheduled runs (logrotate copytruncate): \
             entries written between the last run and the copy may be lost."
        }
        GapKind::TruncatedDuringScan => {
            "An input shrank, or was replaced or renamed, while it was being read (logrotate \
             copytruncate or create): entries beyond where reading ended were not read. Scan \
             the rotated copy as well."
        }
        GapKind::ImpossibleTime => {
            "An entry's time is impossible (before 2015, or more than a day after the wall \
             clock) or not a time at all: a broken clock, an edited line, or an attacker \
             pushing the report's range. The entry is analysed as untimed and kept off the \
             timeline."
        }
    }
}

/// One section per gap kind present, with up to [`EXAMPLES_PER_KIND`] examples each.
pub fn sections(gaps: &[Gap], omitted: &BTreeMap<GapKind, u64>) -> Vec<GapSection> {
    let mut by_kind: BTreeMap<GapKind, Vec<&Gap>> = BTreeMap::new();
    for g in gaps {
        by_kind.entry(g.kind).or_default().push(g);
    }
    for k in omitted.keys() {
        by_kind.entry(*k).or_default();
    }
    by_kind
        .into_iter()
        .map(|(kind, list)| {
            let rows = list
                .iter()
                .take(EXAMPLES_PER_KIND)
                .map(|g| {
                    vec![
                        time(g.start),
                        time(g.end),
                        Line::text(g.seconds.map_or("-".to_string(), duration)),
                        Line::text(g.explained_by.unwrap_or("nothing in the log")),
                        Line::text(g.detail.clone()),
                        g.evidence
                            .first()
                            .map_or(Line::text("-"), |l| Line::default().c(l.to_string())),
                    ]
                })
                .collect();
            let mut examples = Table::new(
                kind.as_str(),
                vec![
                    "Start",
                    "End",
                    "Length",
                    "Explained by",
                    "Detail",
                    "Evidence",
                ],
                rows,
            );
            let count = list.len() as u64 + omitted.get(&kind).copied().unwrap_or(0);
            examples.total = count as usize;
            GapSection {
                kind: kind.as_str(),
                count,
                unexplained: list.iter().filter(|g| g.explained_by.is_none()).count(),
                meaning: meaning(kind),
                examples,
            }
        })
        .collect()
}

/// Evidence lines for gaps (the locations bounding each).
pub fn evidence(gaps: &[Gap], out: &mut Vec<Evidence>) {
    for g in gaps {
        for l in &g.evidence {
            out.push(Evidence {
                location: l.clone(),
                supports: Line::text(format!("gap: {}", g.kind.as_str())),
            });
        }
    }
}
