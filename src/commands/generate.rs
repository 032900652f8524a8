//! `blastradius generate`: a synthetic audit log, and optionally its ground truth.

use std::io::Write;
use std::time::Instant;

use super::output::Output;
use super::{CommandError, Exit, Global};
use crate::cli::GenerateArgs;
use crate::synth::{self, Options, Shape, SynthError};

/// Writes the log, reports size and speed on standard error unless `--quiet`.
pub fn run(args: &GenerateArgs, global: Global) -> Result<Exit, CommandError> {
    let options = Options {
        size: args.size,
        seed: args.seed,
        shape: Shape {
            tokens: args.tokens,
            tenants: args.tenants,
            secrets: args.secrets,
            rate: args.rate,
            distinct_tokens: args.distinct_tokens,
        },
    };
    let output_error = |source: std::io::Error| CommandError::Output {
        path: args.output.clone(),
        source,
    };
    let started = Instant::now();
    let result = if args.output == "-" {
        synth::generate(&options, std::io::stdout().lock())
    } else {
        let mut out = Output::open(Some(std::path::Path::new(&args.output)))?;
        let truth = synth::generate(&options, out.writer());
        // Dropped unfinished on failure, the temporary file goes and the target is untouched.
        if truth.is_ok() {
            out.finish()?;
        }
        truth
    };
    let truth = result.map_err(|SynthError::Write(e)| output_error(e))?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.truth {
        let mut out = Output::open(Some(path))?;
        let write = |w: &mut dyn Write| -> std::io::Result<()> {
            serde_json::to_writer_pretty(&mut *w, &truth)?;
            w.write_all(b"\n")
        };
        write(out.writer()).map_err(|source| CommandError::Output {
            path: path.display().to_string(),
            source,
        })?;
        out.finish()?;
    }
    if !global.quiet {
        eprintln!(
            "wrote {} bytes, {} lines in {:.2} s ({:.0} MB/s)",
            truth.bytes,
            truth.lines,
            elapsed,
            truth.bytes as f64 / elapsed.max(1e-9) / 1e6
        );
    }
    Ok(Exit::Clean)
}
