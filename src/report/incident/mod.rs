//! The incident report model: what responders need on one page, built once from a `scan` or
//! `blast` report so the Markdown and HTML renderers say exactly the same thing.
//!
//! Strings here are raw (log values are hostile); renderers escape every one of them. Values
//! that identify something (paths, accessors, addresses) are [`Part::Code`] so renderers show
//! them literally; everything else is [`Part::Text`].

mod blast;
pub mod containment;
mod gaps;
mod scan;

use crate::gaps::Gap;
use crate::model::{Location, Severity, Timestamp};
use crate::scan::result::{Activity, Bar, InputRecord};

/// Rows shown per table; the JSON report has the rest.
pub const MAX_ROWS: usize = 200;
/// Bars in the activity chart.
pub const MAX_BARS: usize = 200;

/// A piece of inline text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Prose.
    Text(String),
    /// An identifier shown literally (path, accessor, address, command).
    Code(String),
}

/// A line of inline text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line(pub Vec<Part>);

impl Line {
    /// Prose only.
    pub fn text(s: impl Into<String>) -> Line {
        Line(vec![Part::Text(s.into())])
    }

    /// Appends prose.
    pub fn t(mut self, s: impl Into<String>) -> Line {
        self.0.push(Part::Text(s.into()));
        self
    }

    /// Appends an identifier.
    pub fn c(mut self, s: impl Into<String>) -> Line {
        self.0.push(Part::Code(s.into()));
        self
    }
}

/// A labelled value in the header or the blast-radius summary.
#[derive(Clone, Debug)]
pub struct Fact {
    /// The label.
    pub label: &'static str,
    /// The value; empty for fields responders fill in.
    pub value: Line,
}

impl Fact {
    /// "Secret types": the kinds read, in order, or "none read".
    fn secret_types(kinds: std::collections::BTreeSet<&str>) -> Fact {
        Fact {
            label: "Secret types",
            value: Line::text(if kinds.is_empty() {
                "none read".to_string()
            } else {
                kinds.into_iter().collect::<Vec<_>>().join(", ")
            }),
        }
    }
}

/// "Without tenant" and "Tenant layout" facts, when there is something to say: secrets no
/// pattern or fallback gives a tenant are listed (never silently out of the scope), and an
/// inferred layout is shown as the patterns that reproduce it.
pub fn tenant_facts(unattributed: &[String], inferred: &[String]) -> Vec<Fact> {
    let mut facts = Vec::new();
    if !unattributed.is_empty() {
        let mut line = Line::text(format!("{} secret(s): ", unattributed.len()));
        for (i, s) in unattributed.iter().take(MAX_ROWS).enumerate() {
            if i > 0 {
                line = line.t(", ");
            }
            line = line.c(s);
        }
        facts.push(Fact {
            label: "Without tenant",
            value: line,
        });
    }
    if !inferred.is_empty() {
        let mut line = Line::text("inferred, as ");
        for (i, p) in inferred.iter().enumerate() {
            if i > 0 {
                line = line.t(" ");
            }
            line = line.c(format!("--tenant-pattern {}", crate::blast::sh(p)));
        }
        facts.push(Fact {
            label: "Tenant layout",
            value: line.t(" (--no-tenant-inference keeps the first segment)"),
        });
    }
    facts
}

/// A table, capped at [`MAX_ROWS`] rows.
#[derive(Clone, Debug)]
pub struct Table {
    /// Section title.
    pub title: String,
    /// What the table shows, in a sentence.
    pub caption: Option<String>,
    /// Column headings.
    pub columns: Vec<&'static str>,
    /// Rows (each as many cells as columns).
    pub rows: Vec<Vec<Line>>,
    /// Rows before capping.
    pub total: usize,
}

impl Table {
    /// A table from all its rows; keeps the first [`MAX_ROWS`].
    pub fn new(
        title: impl Into<String>,
        columns: Vec<&'static str>,
        mut rows: Vec<Vec<Line>>,
    ) -> Table {
        let total = rows.len();
        rows.truncate(MAX_ROWS);
        debug_assert!(rows.iter().all(|r| r.len() == columns.len()));
        Table {
            title: title.into(),
            caption: None,
            columns,
            rows,
            total,
        }
    }

    /// Adds a caption.
    pub fn caption(mut self, c: impl Into<String>) -> Table {
        self.caption = Some(c.into());
        self
    }

    /// The note under a capped table, if rows were left out.
    pub fn omitted_note(&self) -> Option<String> {
        (self.total > self.rows.len()).then(|| {
            format!(
                "Showing {} of {} rows; the JSON report (--format json) lists all of them.",
                self.rows.len(),
                self.total
            )
        })
    }
}

/// What a timeline item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimelineKind {
    /// First or last entry of the log, or of the exposure window.
    Bound,
    /// A detection rule matched.
    Finding,
    /// A token was issued.
    TokenCreated,
    /// A secret was read (first or last read).
    SecretRead,
    /// An attempt was denied.
    Denied,
    /// A lease was issued.
    Lease,
    /// The audit trail has a hole or discontinuity.
    Gap,
}

impl TimelineKind {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::Bound => "log",
            TimelineKind::Finding => "finding",
            TimelineKind::TokenCreated => "token",
            TimelineKind::SecretRead => "secret read",
            TimelineKind::Denied => "denied",
            TimelineKind::Lease => "lease",
            TimelineKind::Gap => "gap",
        }
    }
}

/// One key moment of the timeline.
#[derive(Clone, Debug)]
pub struct TimelineItem {
    /// When.
    pub time: Timestamp,
    /// What kind.
    pub kind: TimelineKind,
    /// What happened.
    pub what: Line,
}

/// A gap kind that occurs, explained.
#[derive(Clone, Debug)]
pub struct GapSection {
    /// The kind's name (`quiet-period` ...).
    pub kind: &'static str,
    /// Gaps of this kind, listed or not.
    pub count: u64,
    /// Of the listed ones, how many nothing in the log explains.
    pub unexplained: usize,
    /// What the kind means for the investigation, in plain words.
    pub meaning: &'static str,
    /// The first few, as a table.
    pub examples: Table,
}

/// A piece of evidence: where to look and why.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// The location.
    pub location: Location,
    /// What it supports.
    pub supports: Line,
}

/// A shaded span of the chart.
#[derive(Clone, Debug)]
pub struct Shade {
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Tooltip.
    pub label: String,
}

/// What the activity chart shows.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    /// Activity bars, contiguous, at most [`MAX_BARS`].
    pub bars: Vec<Bar>,
    /// Entries without a time (not placed on the chart).
    pub untimed_requests: u64,
    /// Gaps, shaded.
    pub gaps: Vec<Shade>,
    /// The blast exposure window, shaded.
    pub exposure: Option<Shade>,
    /// Marked instants (findings, token creations, first and last secret reads).
    pub marks: Vec<TimelineItem>,
}

/// The incident report.
#[derive(Clone, Debug)]
pub struct Incident {
    /// `INC-YYYYMMDD-HHMMSS`.
    pub id: String,
    /// The title.
    pub title: String,
    /// `scan` or `blast`.
    pub command: &'static str,
    /// The most severe class, if any.
    pub severity: Option<Severity>,
    /// Header fields.
    pub header: Vec<Fact>,
    /// What to do now, as a checklist.
    pub actions: Vec<Line>,
    /// The blast radius in numbers.
    pub blast_radius: Vec<Fact>,
    /// Timeline items, in time order.
    pub timeline: Vec<TimelineItem>,
    /// Timeline items before capping.
    pub timeline_total: usize,
    /// Detail tables (tenants, findings, secrets, tokens ...).
    pub tables: Vec<Table>,
    /// The rotation plan in tier order (`blast` only).
    pub rotation: Option<Table>,
    /// Gaps by kind, explained.
    pub gaps: Vec<GapSection>,
    /// Where the evidence is.
    pub evidence: Vec<Evidence>,
    /// Evidence references before capping.
    pub evidence_total: usize,
    /// The inputs read.
    pub inputs: Table,
    /// Caveats responders must know (incomplete input, unmatched pivots).
    pub caveats: Vec<Line>,
    /// The post-incident review checklist.
    pub review: Vec<Line>,
    /// The activity chart.
    pub chart: Chart,
    /// Tool name and version.
    pub generator: String,
}

/// A time as RFC 3339, or `-`.
pub fn time_str(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), |t| t.to_rfc3339())
}

/// A time as RFC 3339, or `-`.
pub fn time(t: Option<Timestamp>) -> Line {
    Line::text(time_str(t))
}

/// An optional identifier, or `-`.
pub fn code_or_dash(s: Option<&str>) -> Line {
    match s {
        Some(s) if !s.is_empty() => Line::default().c(s),
        _ => Line::text("-"),
    }
}

/// A number.
pub fn num(n: impl ToString) -> Line {
    Line::text(n.to_string())
}

/// The kebab-case serde name of a unit enum value.
pub(crate) fn kebab<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A duration in words (`3m 20s`).
pub fn duration(seconds: f64) -> String {
    let s = seconds.abs().round() as u64;
    let sign = if seconds < 0.0 { "-" } else { "" };
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let parts = [(d, "d"), (h, "h"), (m, "m"), (sec, "s")];
    let shown: Vec<String> = parts
        .iter()
        .skip_while(|(v, _)| *v == 0)
        .take(2)
        .map(|(v, u)| format!("{v}{u}"))
        .collect();
    if shown.is_empty() {
        format!("{sign}{:.1}s", seconds.abs())
    } else {
        format!("{sign}{}", shown.join(" "))
    }
}

/// The severity header value.
fn severity_line(severity: Option<Severity>) -> Line {
    match severity {
        Some(s) => Line::text(format!(
            "{} ({}): respond within {}",
            s.as_str(),
            s.label(),
            s.response_time()
        )),
        None => Line::text("none: nothing in scope calls for a response"),
    }
}

/// Header fields every incident has, around the command-specific ones.
fn header(
    generated_at: Timestamp,
    severity: Option<Severity>,
    specific: Vec<Fact>,
    complete: bool,
) -> Vec<Fact> {
    let mut h = vec![
        Fact {
            label: "Severity",
            value: severity_line(severity),
        },
        Fact {
            label: "Status",
            value: Line::text("INVESTIGATING"),
        },
        Fact {
            label: "Time detected",
            value: Line::text(generated_at.to_rfc3339()),
        },
    ];
    h.extend(specific);
    h.push(Fact {
        label: "Evidence completeness",
        value: Line::text(if complete {
            "complete: every input was read to the end"
        } else {
            "INCOMPLETE: an input could not be read completely or had malformed lines; results are partial"
        }),
    });
    h.push(Fact {
        label: "Incident commander",
        value: Line::default(),
    });
    h.push(Fact {
        label: "Next update",
        value: Line::default(),
    });
    h
}

/// The inputs table.
fn inputs_table(inputs: &[InputRecord]) -> Table {
    let rows = inputs
        .iter()
        .map(|i| {
            vec![
                Line::default().c(&i.path),
                num(i.bytes),
                num(i.lines),
                num(i.entries),
                num(i.malformed),
                time(i.first_entry),
                time(i.last_entry),
                match &i.error {
                    Some(e) => Line::text(e.clone()),
                    None => Line::text("read completely"),
                },
            ]
        })
        .collect();
    Table::new(
        "Inputs",
        vec![
            "Input",
            "Bytes",
            "Lines",
            "Entries",
            "Malformed",
            "First entry",
            "Last entry",
            "Status",
        ],
        rows,
    )
}

/// The post-incident review checklist.
fn review() -> Vec<Line> {
    [
        "Root cause: how the credential or access was obtained, with evidence",
        "Detection: when and how this was found; how to find it sooner",
        "Audit coverage: were the gaps above explained? Is every node's audit device shipped and retained?",
        "Containment: confirm every rotation and revocation in the plan was done, with timestamps",
        "Tenant notifications sent and acknowledged",
        "Follow-up actions with owners and due dates",
    ]
    .into_iter()
    .map(Line::text)
    .collect()
}

/// Sorts and caps the timeline; returns the total before capping.
fn finish_timeline(items: &mut Vec<TimelineItem>) -> usize {
    items.sort_by(|a, b| a.time.cmp(&b.time).then(a.kind.cmp(&b.kind)));
    let total = items.len();
    items.truncate(MAX_ROWS);
    total
}

/// Gap shades for the chart.
fn gap_shades(gaps: &[Gap]) -> Vec<Shade> {
    gaps.iter()
        .filter_map(|g| {
            let (start, end) = match (g.start, g.end) {
                (Some(s), Some(e)) if s <= e => (s, e),
                (Some(s), Some(e)) => (e, s),
                (Some(s), None) | (None, Some(s)) => (s, s),
                (None, None) => return None,
            };
            Some(Shade {
                start,
                end,
                label: format!(
                    "{}{}: {}",
                    g.kind.as_str(),
                    g.explained_by
                        .map_or(" (unexplained)".to_string(), |e| format!(
                            " (explained by {e})"
                        )),
                    g.detail
                ),
            })
        })
        .collect()
}

/// The chart's bars from an activity counter.
fn bars(activity: &Activity) -> (Vec<Bar>, u64) {
    let (_, untimed) = activity.totals();
    (activity.bars(MAX_BARS), untimed.requests)
}

/// Caps the evidence list; returns the total before capping.
fn finish_evidence(evidence: &mut Vec<Evidence>) -> usize {
    let total = evidence.len();
    evidence.truncate(MAX_ROWS);
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tables_are_capped_with_a_note() {
        let rows: Vec<Vec<Line>> = (0..250).map(|i| vec![num(i)]).collect();
        let t = Table::new("Secrets read", vec!["n"], rows);
        assert_eq!(t.rows.len(), MAX_ROWS);
        assert_eq!(t.total, 250);
        assert!(t.omitted_note().unwrap().contains("200 of 250"));
        assert!(Table::new("x", vec!["n"], vec![]).omitted_note().is_none());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.25), "0.2s");
        assert_eq!(duration(200.0), "3m 20s");
        assert_eq!(duration(90_061.0), "1d 1h");
        assert_eq!(duration(-5.0), "-5s");
    }
}
