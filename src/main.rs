//! The `blastradius` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = blastradius::cli::Cli::parse();
    match blastradius::commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            let exit = e.exit();
            eprintln!("blastradius: {:#}", anyhow::Error::new(e));
            exit.into()
        }
    }
}
