//! Inputs that changed under the scan become gaps of kind `truncated-during-scan`, located where
//! reading ended, so the report shows the hole and not only an input error.

use super::worker::ChunkSummary;
use crate::gaps::ScanTruncation;
use crate::model::{Loc, Timestamp};
use crate::source::{Input, InputInfo, SourceError};

/// One gap per input whose error says it shrank or was replaced while it was read.
/// `last_time` gives the last entry read from an input (by index).
pub(super) fn changed_inputs(
    inputs: &[Input],
    infos: &[Option<InputInfo>],
    errors: &[(u32, SourceError)],
    sums: &[ChunkSummary],
    last_time: impl Fn(u32) -> Option<Timestamp>,
) -> Vec<ScanTruncation> {
    errors
        .iter()
        .filter(|(_, e)| e.changed_during_scan())
        .filter_map(|(file, e)| {
            let pos = inputs.iter().position(|i| i.index == *file)?;
            let lines: u64 = sums
                .iter()
                .filter(|s| s.file == *file)
                .map(|s| u64::from(s.lines))
                .sum();
            let offset = infos[pos].as_ref().map_or(0, |i| i.complete_end);
            Some(ScanTruncation {
                last: last_time(*file),
                loc: Loc::absolute(*file, inputs[pos].resume.line + lines, offset),
                detail: e.to_string(),
            })
        })
        .collect()
}
