//! The `--state` part of a command: plan inputs before the scan, save the state after outputs.

use std::path::Path;

use super::CommandError;
use crate::gaps::Notice;
use crate::model::Timestamp;
use crate::report::{IncrementalInfo, IncrementalInput};
use crate::scan::{Carry, FileProgress, Incremental};
use crate::source::Input;
use crate::state::{self, AlertMemory, Disposition, Locked, Planned};

/// A command run with or without `--state`.
pub struct Session {
    locked: Option<Locked>,
    planned: Vec<Planned>,
    path: String,
}

/// Leaves out of the inputs the files this command writes (state, lock, report, alerts), which a
/// directory argument would otherwise pick up.
pub fn without_own_files(inputs: Vec<Input>, own: &[Option<&Path>]) -> Vec<Input> {
    let canon = |p: &Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
    };
    let mut mine: Vec<std::path::PathBuf> = Vec::new();
    for p in own.iter().flatten() {
        mine.push(canon(p));
        mine.push(canon(Path::new(&format!("{}.lock", p.display()))));
    }
    inputs
        .into_iter()
        .filter(|i| match &i.path {
            crate::source::InputPath::File(p) => !mine.contains(&canon(p)),
            crate::source::InputPath::Stdin => true,
        })
        .enumerate()
        .map(|(n, mut i)| {
            i.index = n as u32;
            i
        })
        .collect()
}

impl Session {
    /// Opens and locks the state (if any) and plans the inputs; returns the inputs to scan and
    /// what the scan carries in.
    pub fn begin(
        path: Option<&Path>,
        command: &str,
        now: Timestamp,
        inputs: Vec<Input>,
    ) -> Result<(Session, Vec<Input>, Option<Incremental>), CommandError> {
        let Some(path) = path else {
            return Ok((
                Session {
                    locked: None,
                    planned: Vec::new(),
                    path: String::new(),
                },
                inputs,
                None,
            ));
        };
        let mut locked = state::open(path, command, now)?;
        let planned = state::plan_inputs(&mut locked.state, inputs);
        for p in planned
            .iter()
            .filter(|p| p.disposition == Disposition::Truncated)
        {
            locked.state.carry.notices.push(Notice {
                file: p.input.index,
                at: now,
                detail: format!(
                    "{} shrank or was rewritten since the last run (logrotate copytruncate?): read again from the start; entries written after the last run and not copied elsewhere may be missing",
                    p.input.display
                ),
            });
        }
        let inputs = planned.iter().map(|p| p.input.clone()).collect();
        let incremental = Incremental {
            carry: std::mem::take(&mut locked.state.carry),
            seed: locked.state.seed,
        };
        let session = Session {
            path: path.display().to_string(),
            locked: Some(locked),
            planned,
        };
        Ok((session, inputs, Some(incremental)))
    }

    /// The seed for hash keys that must match across runs (random without a state).
    pub fn seed(&self) -> Option<u64> {
        self.locked.as_ref().map(|l| l.state.seed)
    }

    /// What this run did, for the report.
    pub fn info(&self) -> Option<IncrementalInfo> {
        let l = self.locked.as_ref()?;
        Some(IncrementalInfo {
            state: self.path.clone(),
            run: l.state.runs + 1,
            inputs: self
                .planned
                .iter()
                .map(|p| IncrementalInput {
                    path: p.input.display.clone(),
                    disposition: p.disposition,
                    renamed_from: p.renamed_from.clone(),
                    resumed_at: p.input.resume.offset,
                })
                .collect(),
        })
    }

    /// Alerts already sent (empty without a state: everything is new).
    pub fn take_alert_memory(&mut self) -> AlertMemory {
        self.locked
            .as_mut()
            .map(|l| std::mem::take(&mut l.state.alerted))
            .unwrap_or_default()
    }

    /// Saves the state: call only after every output of the run is written, so a crash before
    /// this point replays the run rather than skipping data.
    pub fn commit(
        self,
        next: Option<Carry>,
        progress: &[FileProgress],
        alerted: AlertMemory,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        let Some(mut locked) = self.locked else {
            return Ok(());
        };
        // Fault injection for the test suite: die like a crash between outputs and state.
        if std::env::var("BLASTRADIUS_FAULT").is_ok_and(|f| f == "after-outputs") {
            std::process::abort();
        }
        locked.state.carry = next.unwrap_or_default();
        locked.state.alerted = alerted;
        locked.state.runs += 1;
        locked.state.updated = now;
        for p in &self.planned {
            if let Some(prog) = progress.iter().find(|x| x.file == p.input.index) {
                state::record(&mut locked.state, p, prog.consumed_to, prog.lines);
            }
        }
        locked.save()?;
        Ok(())
    }
}
