//! `--help` examples, the generated docs/cli.md, shell completions and the man page.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{bin, root};

#[test]
fn every_command_has_help_with_examples() {
    let commands = blastradius::cli::docs::commands();
    assert!(commands.len() >= 8, "{commands:?}");
    for c in commands {
        let out = bin().args(&c).arg("--help").output().unwrap();
        assert!(out.status.success(), "{c:?} --help failed");
        let help = String::from_utf8(out.stdout).unwrap();
        let leaf = c.last().unwrap();
        assert!(
            help.contains("Examples:"),
            "{c:?} --help has no examples:\n{help}"
        );
        assert!(
            help.contains(&format!("blastradius {}", c.join(" ")))
                || help.contains(&format!(" {leaf}")),
            "{c:?}: examples do not show the command"
        );
    }
    let scan = bin().args(["scan", "--help"]).output().unwrap().stdout;
    let scan = String::from_utf8(scan).unwrap();
    for f in ["markdown", "html"] {
        assert!(scan.contains(f), "scan --help does not list {f}");
    }
}

#[test]
fn docs_cli_md_is_generated_from_the_clap_definitions() {
    let path = root().join("docs/cli.md");
    let fresh = blastradius::cli::docs::markdown();
    if std::env::var("BLASTRADIUS_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "docs/cli.md is stale: regenerate it with BLASTRADIUS_BLESS=1 cargo test --test integration cli_docs"
    );
    for c in blastradius::cli::docs::commands() {
        assert!(
            fresh.contains(&format!("`blastradius {}`", c.join(" "))),
            "{c:?} undocumented"
        );
    }
    assert!(fresh.contains("--format <FORMAT>"));
}

#[test]
fn completions_render_for_every_shell_and_bash_parses_them() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["blastradius", "scan", "blast", "rotation-list", "format"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
        if matches!(shell, "bash" | "zsh" | "fish") {
            // These complete option values too: the new formats must be offered.
            assert!(
                script.contains("markdown") && script.contains("html"),
                "{shell}"
            );
        }
        if shell == "bash" {
            let mut check = Command::new("bash")
                .arg("-n")
                .stdin(Stdio::piped())
                .spawn()
                .expect("bash runs");
            check
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            assert!(
                check.wait().unwrap().success(),
                "bash -n rejects the completions"
            );
        }
    }
}

#[test]
fn the_man_page_has_the_expected_sections() {
    let out = bin().arg("man").output().unwrap();
    assert!(out.status.success());
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH blastradius"),
        "not roff"
    );
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
        ".SH VERSION",
    ] {
        assert!(man.contains(section), "man page lacks {section}");
    }
    for sub in [
        "blastradius\\-scan",
        "blastradius\\-blast",
        "blastradius\\-rotation\\-list",
    ] {
        assert!(man.contains(sub), "man page does not list {sub}");
    }
}
