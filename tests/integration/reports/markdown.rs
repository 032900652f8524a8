//! Markdown reports parse as the intended structure, whatever the log contains.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{BLAST_PIVOT, hostile_inputs, run};

/// What a Markdown document contains, as a CommonMark + GFM parser sees it.
#[derive(Default)]
struct Parsed {
    headings: Vec<String>,
    tasks: usize,
    /// Per table: the header's cell count and each row's.
    tables: Vec<(usize, Vec<usize>)>,
    /// Per table: cell texts by row (header first).
    cells: Vec<Vec<Vec<String>>>,
    html: Vec<String>,
    links: Vec<String>,
}

fn parse(md: &str) -> Parsed {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH;
    let mut p = Parsed::default();
    let mut heading: Option<String> = None;
    let mut cell: Option<String> = None;
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => p.headings.extend(heading.take()),
            Event::Start(Tag::Table(_)) => {
                p.tables.push((0, Vec::new()));
                p.cells.push(Vec::new());
            }
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                p.cells.last_mut().unwrap().push(Vec::new())
            }
            Event::End(TagEnd::TableHead) => {
                let t = p.tables.last_mut().unwrap();
                t.0 = p.cells.last().unwrap().last().unwrap().len();
            }
            Event::End(TagEnd::TableRow) => {
                let n = p.cells.last().unwrap().last().unwrap().len();
                p.tables.last_mut().unwrap().1.push(n);
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let c = cell.take().unwrap();
                p.cells.last_mut().unwrap().last_mut().unwrap().push(c);
            }
            Event::TaskListMarker(_) => p.tasks += 1,
            Event::Html(h) | Event::InlineHtml(h) => p.html.push(h.to_string()),
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => p.links.push(dest_url.to_string()),
            Event::Text(t) | Event::Code(t) => {
                for s in [&mut heading, &mut cell].into_iter().flatten() {
                    s.push_str(&t);
                }
            }
            _ => {}
        }
    }
    p
}

/// The table whose header starts with `first`.
fn table<'a>(p: &'a Parsed, first: &str) -> &'a Vec<Vec<String>> {
    p.cells
        .iter()
        .find(|t| t[0][0] == first)
        .unwrap_or_else(|| panic!("no table starting with {first}"))
}

fn assert_inert_and_well_formed(md: &str, p: &Parsed) {
    assert!(
        p.html.is_empty(),
        "raw HTML reached the document: {:?}",
        p.html
    );
    assert!(p.links.is_empty(), "a link or image formed: {:?}", p.links);
    assert!(
        !md.contains('\u{1b}') && !md.contains('\u{7}'),
        "control characters in the Markdown"
    );
    assert!(p.tasks >= 10, "{} checklist items", p.tasks);
    assert!(!p.tables.is_empty());
    for (header, rows) in &p.tables {
        for n in rows {
            assert_eq!(n, header, "a table row lost or gained a cell");
        }
    }
    for h in [
        "Actions",
        "Blast radius",
        "Timeline",
        "Audit gaps",
        "Evidence",
        "Inputs",
        "Post-incident review",
    ] {
        assert!(
            p.headings.iter().any(|x| x == h),
            "missing heading {h}: {:?}",
            p.headings
        );
    }
    assert!(p.headings[0].starts_with("INC-"), "{:?}", p.headings[0]);
    let timeline = table(p, "Time (UTC)");
    let times: Vec<&String> = timeline[1..].iter().map(|r| &r[0]).collect();
    assert!(times.len() >= 3);
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "timeline out of order: {times:?}"
    );
}

#[test]
fn scan_markdown_is_an_inert_incident_report() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = hostile_inputs(dir.path());
    let (_, md) = run("scan", &inputs, &[], "markdown");
    let p = parse(&md);
    assert_inert_and_well_formed(&md, &p);
    for h in ["Affected tenants", "Findings", "Secrets read"] {
        assert!(p.headings.iter().any(|x| x == h), "missing {h}");
    }
    let header = table(&p, "Field");
    let field = |name: &str| -> &str {
        &header
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no {name}"))[1]
    };
    assert!(field("Incident").starts_with("INC-20261122-120000"));
    assert_eq!(field("Status"), "INVESTIGATING");
    assert!(field("Severity").starts_with("P"), "{}", field("Severity"));
    assert!(field("Secret types").contains("kv-v2-read"));
    assert_eq!(field("Incident commander"), "");
    // The `|` tenant is one cell, shown as written.
    let tenants = table(&p, "Tenant");
    assert!(tenants.iter().any(|r| r[0] == "ten|ant"), "{tenants:?}");
    // The quiet period between the crafted entries is explained in words.
    assert!(
        p.headings.iter().any(|h| h.starts_with("quiet-period")),
        "{:?}",
        p.headings
    );
    assert!(md.contains("crafted.log:"), "evidence names file and line");
}

#[test]
fn blast_markdown_has_the_rotation_plan_in_tier_order() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = hostile_inputs(dir.path());
    let (_, md) = run("blast", &inputs, &BLAST_PIVOT, "markdown");
    let p = parse(&md);
    assert_inert_and_well_formed(&md, &p);
    for h in ["Tokens", "Rotation plan", "Leases"] {
        assert!(
            p.headings.iter().any(|x| x == h),
            "missing {h}: {:?}",
            p.headings
        );
    }
    let plan = table(&p, "#");
    let rows = &plan[1..];
    assert!(rows.len() >= 5, "{plan:?}");
    let tiers: Vec<u8> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(tiers.windows(2).all(|w| w[0] <= w[1]), "tiers {tiers:?}");
    let order: Vec<usize> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(order, (1..=rows.len()).collect::<Vec<_>>());
    assert!(
        rows.iter()
            .any(|r| r[3] == "kv/acme/<script>alert(3)</script>"),
        "{rows:?}"
    );
    let tokens = table(&p, "Relation");
    assert!(
        tokens.iter().any(|r| r[4] == super::LINK_NAME),
        "{tokens:?}"
    );
}
