//! HTML reports, checked without a browser: self-contained, locked down by CSP, chart totals
//! equal to the scan's counts.

use base64::Engine as _;
use regex::Regex;
use sha2::{Digest, Sha256};

use super::{BLAST_PIVOT, hostile_inputs, run};

/// Fails unless the document is inert and self-contained; returns the sums of the chart bars'
/// (requests, secret reads, suspicious).
pub fn assert_self_contained(html: &str) -> (u64, u64, u64) {
    let style = Regex::new(r"(?s)<style>(.*?)</style>").unwrap();
    let styles: Vec<&str> = style
        .captures_iter(html)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(styles.len(), 1, "one inline stylesheet");
    let hash =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(styles[0].as_bytes()));
    let csp =
        Regex::new(r#"<meta http-equiv="Content-Security-Policy" content="([^"]*)">"#).unwrap();
    let policy = &csp.captures(html).expect("a CSP meta element")[1];
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert!(
        policy.contains(&format!("style-src 'sha256-{hash}'")),
        "{policy} does not allow the style"
    );
    assert!(!styles[0].contains("url(") && !styles[0].contains("@import"));
    assert!(
        !html.contains('\u{1b}') && !html.contains('\u{7}'),
        "control characters"
    );
    // Every element is one the renderer writes, and none can load or run anything: log text
    // only ever appears escaped (`&lt;img ...`), so it cannot open an element.
    const ELEMENTS: [&str; 34] = [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "h3",
        "p",
        "span",
        "strong",
        "section",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "code",
        "ul",
        "li",
        "label",
        "input",
        "figure",
        "figcaption",
        "i",
        "footer",
        "svg",
        "g",
        "rect",
        "line",
        "path",
    ];
    let tag = Regex::new(r"<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>").unwrap();
    let dangerous = Regex::new(r"(?i)\b(src|href|xlink:href|style|on[a-z]+)\s*=").unwrap();
    for c in tag.captures_iter(html) {
        let name = c[1].to_ascii_lowercase();
        assert!(
            ELEMENTS.contains(&name.as_str()) || name == "text",
            "unexpected element <{name}>"
        );
        assert!(
            !dangerous.is_match(&c[2]),
            "dangerous attribute in <{name}{}>",
            &c[2]
        );
    }
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(html.contains("<svg id=\"activity-chart\""), "chart missing");
    let attr = |name: &str| -> u64 {
        Regex::new(&format!(r#"<g class="bar" [^>]*data-{name}="(\d+)""#))
            .unwrap()
            .captures_iter(html)
            .map(|c| c[1].parse::<u64>().unwrap())
            .sum()
    };
    (attr("requests"), attr("secret-reads"), attr("suspicious"))
}

#[test]
fn scan_html_is_self_contained_and_the_chart_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = hostile_inputs(dir.path());
    let (_, html) = run("scan", &inputs, &[], "html");
    let (requests, reads, suspicious) = assert_self_contained(&html);
    let (_, json) = run("scan", &inputs, &[], "json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let stats = &v["stats"];
    assert_eq!(stats["untimed_entries"], 0);
    assert_eq!(requests, stats["evaluated"].as_u64().unwrap());
    assert_eq!(reads, stats["secret_reads"].as_u64().unwrap());
    assert_eq!(suspicious, stats["suspicious_events"].as_u64().unwrap());
    assert!(suspicious > 0 && reads > 0);
    assert!(html.contains("class=\"gap\""), "the quiet period is shaded");
    assert!(
        html.contains("class=\"mark mark-finding\""),
        "findings are marked"
    );
    assert!(
        html.contains("&lt;script&gt;alert(3)&lt;/script&gt;"),
        "the path is shown, escaped"
    );
    assert!(html.contains("ten|ant"));
    assert!(html.contains("INC-20261122-120000"));
}

#[test]
fn blast_html_shades_the_exposure_window_and_marks_token_creation() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = hostile_inputs(dir.path());
    let (_, html) = run("blast", &inputs, &BLAST_PIVOT, "html");
    let (requests, _, _) = assert_self_contained(&html);
    assert!(requests > 0);
    assert!(
        html.contains("class=\"exposure\""),
        "exposure window shaded"
    );
    assert!(
        html.contains("class=\"mark mark-token\""),
        "token creation marked"
    );
    assert!(html.contains("<h2>Rotation plan</h2>"));
    assert!(
        html.contains("[click me](http://evil.example/x)"),
        "the link text is shown as text"
    );
}

/// The `<svg>` chart of an HTML report.
fn chart(html: &str) -> String {
    let start = html.find("<svg id=\"activity-chart\"").expect("chart");
    let end = start + html[start..].find("</svg>").unwrap();
    html[start..end].to_string()
}

#[test]
fn the_chart_does_not_depend_on_threads_chunks_or_scheduled_runs() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = hostile_inputs(dir.path());
    let mut lines: Vec<String> = Vec::new();
    for i in &inputs {
        lines.extend(
            std::fs::read_to_string(i)
                .unwrap()
                .lines()
                .map(str::to_string),
        );
    }
    let log = dir.path().join("one.log");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let log = vec![log.display().to_string()];
    let (_, one_thread) = run("scan", &log, &["--threads", "1"], "html");
    let (_, small_chunks) = run(
        "scan",
        &log,
        &["--threads", "2", "--chunk-size", "2K"],
        "html",
    );
    assert_eq!(chart(&one_thread), chart(&small_chunks));

    let split = dir.path().join("split.log");
    let state = dir.path().join("state.json").display().to_string();
    let half = lines.len() / 2;
    std::fs::write(&split, lines[..half].join("\n") + "\n").unwrap();
    let split_input = vec![split.display().to_string()];
    run("scan", &split_input, &["--state", &state], "json");
    std::fs::write(&split, lines.join("\n") + "\n").unwrap();
    let (_, second_run) = run("scan", &split_input, &["--state", &state], "html");
    assert_eq!(
        chart(&one_thread),
        chart(&second_run),
        "a second --state run charts the whole log, as one run does"
    );
}
