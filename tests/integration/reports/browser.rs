//! The HTML reports in a real headless browser (Debian's chromium): they render, the chart is
//! in the DOM, nothing from the log became an element, and the browser logged nothing (a CSP
//! violation, e.g. a stylesheet whose hash does not match, is a console message). Screenshots
//! are kept under `target/test-artifacts/` for people to look at.
//!
//! Chromium missing is a failure, not a skip: scripts/test.sh installs it. Set
//! BLASTRADIUS_SKIP_BROWSER=1 to skip on a machine without it.

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

use super::{BLAST_PIVOT, hostile_inputs, run};

/// Upper bound for one browser run, so a wedged browser fails the test instead of hanging it.
const BROWSER_TIMEOUT_SECONDS: &str = "180";

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("BLASTRADIUS_CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    if let Some(found) = candidates.into_iter().flatten().find(|p| p.is_file()) {
        return Some(found);
    }
    if std::env::var("BLASTRADIUS_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("skipping the browser test: BLASTRADIUS_SKIP_BROWSER=1 and no chromium");
        return None;
    }
    panic!(
        "chromium not found (/usr/bin/chromium): run scripts/test.sh, which installs it \
         (apt-get install -y chromium), or set BLASTRADIUS_SKIP_BROWSER=1 to skip this test"
    );
}

/// What one headless run produced.
struct Rendered {
    /// `--dump-dom` output (empty for screenshots).
    dom: String,
    /// Console messages the page logged.
    console: Vec<String>,
}

/// Loads `page` in a fresh profile; dumps the DOM, or writes a screenshot to `screenshot`.
fn render(browser: &Path, page: &Path, screenshot: Option<&Path>) -> Rendered {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("timeout");
    cmd.arg(BROWSER_TIMEOUT_SECONDS)
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    match screenshot {
        Some(png) => cmd
            .arg(format!("--screenshot={}", png.display()))
            .arg("--window-size=1280,2400"),
        None => cmd.arg("--dump-dom"),
    };
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let out = cmd.arg(url).output().expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Rendered {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
    }
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::util::root().join("target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_harness_sees_console_errors_and_csp_violations() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("canary.html");
    std::fs::write(
        &canary,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>\
         <p style=\"color:red\">styled</p><script>console.error('canary-42')</script></body></html>",
    )
    .unwrap();
    let r = render(&browser, &canary, None);
    assert!(
        r.console.iter().any(|l| l.contains("canary-42")),
        "console.error not captured: {:?}",
        r.console
    );
    assert!(
        r.console
            .iter()
            .any(|l| l.contains("Content Security Policy")),
        "CSP violation not captured: {:?}",
        r.console
    );
    assert!(r.dom.contains("styled"), "DOM not dumped");
}

#[test]
fn incident_reports_render_in_a_real_browser() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inputs = hostile_inputs(dir.path());
    let element_with_handler = Regex::new(r"(?i)<[a-z][^>]*\son[a-z]+\s*=").unwrap();
    for (name, command, extra) in [
        ("scan", "scan", &[][..]),
        ("blast", "blast", &BLAST_PIVOT[..]),
    ] {
        let (_, html) = run(command, &inputs, extra, "html");
        let page = dir.path().join(format!("{name}.html"));
        std::fs::write(&page, html).unwrap();

        let r = render(&browser, &page, None);
        assert!(
            r.console.is_empty(),
            "{name}: the browser logged {:?}",
            r.console
        );
        assert!(r.dom.contains("id=\"activity-chart\""), "{name}: no chart");
        assert!(r.dom.contains("<rect class=\"req\""), "{name}: no bars");
        assert!(r.dom.contains("INVESTIGATING"), "{name}: no header");
        let lower = r.dom.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{name}: a script element");
        assert!(!lower.contains("<img"), "{name}: an img element");
        assert!(
            !element_with_handler.is_match(&r.dom),
            "{name}: an element with an event handler"
        );

        let png = artifacts().join(format!("{name}-report.png"));
        let _ = std::fs::remove_file(&png);
        let shot = render(&browser, &page, Some(&png));
        assert!(shot.console.is_empty(), "{name}: {:?}", shot.console);
        let bytes = std::fs::read(&png).expect("screenshot written");
        assert!(bytes.starts_with(b"\x89PNG"), "{name}: not a PNG");
        assert!(
            bytes.len() > 20_000,
            "{name}: screenshot looks blank ({} bytes)",
            bytes.len()
        );
    }
}
