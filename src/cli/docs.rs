//! `docs/cli.md`, generated from the clap definitions so it cannot drift from what the binary
//! parses (a test regenerates it with `BLASTRADIUS_BLESS=1` and fails when it is stale).

use std::fmt::Write as _;

use clap::CommandFactory;

use super::Cli;

/// Help is wrapped at this width so the document does not depend on the terminal.
const WIDTH: usize = 100;

/// The command-line reference as Markdown: every command's full `--help`, parents first.
pub fn markdown() -> String {
    let mut root = Cli::command().term_width(WIDTH).max_term_width(WIDTH);
    root.build();
    let mut out = String::from(
        "# Command-line reference\n\n\
         Generated from the clap definitions in `src/cli/` by `blastradius::cli::docs::markdown()`; \
         do not edit by hand. Regenerate with `BLASTRADIUS_BLESS=1 cargo test --test integration cli_docs`.\n\n\
         The same definitions produce the man page (`blastradius man`) and shell completions \
         (`blastradius completions <bash|zsh|fish|elvish|powershell>`).\n",
    );
    section(&mut root, &[], &mut out);
    out
}

fn section(cmd: &mut clap::Command, parents: &[String], out: &mut String) {
    let mut path: Vec<String> = parents.to_vec();
    path.push(cmd.get_name().to_string());
    let name = path.join(" ");
    let level = "#".repeat((path.len() + 1).min(4));
    let _ = write!(out, "\n{level} `{name}`\n\n");
    if let Some(about) = cmd.get_about() {
        let _ = write!(out, "{about}\n\n");
    }
    let help = cmd.render_long_help().to_string();
    let help: Vec<&str> = help.lines().map(str::trim_end).collect();
    let _ = write!(out, "```text\n{}\n```\n", help.join("\n").trim_end());
    let names: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect();
    for n in names {
        if let Some(sub) = cmd.find_subcommand_mut(&n) {
            let mut sub = sub.clone();
            section(&mut sub, &path, out);
        }
    }
}

/// The commands, as `blastradius scan`, `blastradius rules list` ... (without `help`).
pub fn commands() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
        for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.to_vec();
            p.push(s.get_name().to_string());
            out.push(p.clone());
            walk(s, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &[], &mut out);
    out
}
