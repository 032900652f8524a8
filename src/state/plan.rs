//! Deciding, per input, where this run starts.

use super::fingerprint::{Fingerprint, HEAD_BYTES};
use super::{FileState, State};
use crate::source::{Input, InputPath, Resume};

/// What became of an input since the last run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Not seen before: read from the start.
    New,
    /// Seen before (perhaps under another name, or compressed): read what was added.
    Resumed,
    /// Seen before and unchanged: nothing to read.
    Unchanged,
    /// Shrunk or rewritten in place (logrotate `copytruncate`): read from the start again.
    Truncated,
}

/// An input with its id and starting point.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The input; its `index` is its state id and `resume` where to start.
    pub input: Input,
    /// What became of it.
    pub disposition: Disposition,
    /// Its path in the last run, when it was renamed since.
    pub renamed_from: Option<String>,
    /// Its fingerprint now (none for stdin or unreadable files).
    pub fingerprint: Option<Fingerprint>,
}

/// Assigns state ids and starting points to this run's inputs.
pub fn plan_inputs(state: &mut State, inputs: Vec<Input>) -> Vec<Planned> {
    let mut claimed = vec![false; state.files.len()];
    let mut out = Vec::with_capacity(inputs.len());
    for mut input in inputs {
        let InputPath::File(path) = &input.path else {
            input.index = next_id(state);
            out.push(Planned {
                input,
                disposition: Disposition::New,
                renamed_from: None,
                fingerprint: None,
            });
            continue;
        };
        let Ok(fp) = Fingerprint::of(path) else {
            input.index = next_id(state);
            out.push(Planned {
                input,
                disposition: Disposition::New,
                renamed_from: None,
                fingerprint: None,
            });
            continue;
        };
        let candidate = best_match(&state.files, &claimed, &fp, &input.display);
        let (disposition, renamed_from) = match candidate {
            Some(i) => {
                claimed[i] = true;
                let f = &state.files[i];
                if !fp.gzip && fp.size < f.offset {
                    input.index = next_id(state);
                    (Disposition::Truncated, None)
                } else {
                    input.index = f.id;
                    input.resume = Resume {
                        offset: f.offset,
                        line: f.lines,
                    };
                    let unchanged = !fp.gzip && fp.size == f.offset && fp.mtime_ns == f.mtime_ns;
                    let renamed = (f.path != input.display).then(|| f.path.clone());
                    (
                        if unchanged {
                            Disposition::Unchanged
                        } else {
                            Disposition::Resumed
                        },
                        renamed,
                    )
                }
            }
            None => {
                let same_file = state
                    .files
                    .iter()
                    .position(|f| f.dev == fp.dev && f.ino == fp.ino && f.path == input.display);
                match same_file {
                    // Nothing was consumed from it (it was empty, or held half a line): it grew.
                    Some(i) if !claimed[i] && state.files[i].offset == 0 => {
                        claimed[i] = true;
                        input.index = state.files[i].id;
                        (Disposition::Resumed, None)
                    }
                    Some(i) if !claimed[i] => {
                        input.index = next_id(state);
                        (Disposition::Truncated, None)
                    }
                    _ => {
                        input.index = next_id(state);
                        (Disposition::New, None)
                    }
                }
            }
        };
        out.push(Planned {
            input,
            disposition,
            renamed_from,
            fingerprint: Some(fp),
        });
    }
    out
}

fn next_id(state: &mut State) -> u32 {
    let id = state.next_id;
    state.next_id += 1;
    id
}

/// The known input whose recorded head matches, preferring the same inode and path.
fn best_match(
    files: &[FileState],
    claimed: &[bool],
    fp: &Fingerprint,
    display: &str,
) -> Option<usize> {
    files
        .iter()
        .enumerate()
        .filter(|(i, f)| {
            !claimed[*i]
                && f.head_len > 0
                && fp.head_hash(f.head_len).as_deref() == Some(f.head_sha256.as_str())
        })
        .min_by_key(|(_, f)| {
            let same_inode = f.dev == fp.dev && f.ino == fp.ino;
            let rank = match (same_inode, f.path == display) {
                (true, true) => 0,
                (true, false) => 1,
                (false, true) => 2,
                (false, false) => 3,
            };
            (rank, std::cmp::Reverse(f.last_run))
        })
        .map(|(i, _)| i)
}

/// Records what this run established about an input.
pub fn record(state: &mut State, p: &Planned, consumed_to: u64, lines: u64) {
    let Some(fp) = &p.fingerprint else { return };
    let head_len = fp.head.len().min(HEAD_BYTES);
    let entry = FileState {
        id: p.input.index,
        path: p.input.display.clone(),
        family: p.input.family.clone(),
        dev: fp.dev,
        ino: fp.ino,
        size: fp.size,
        mtime_ns: fp.mtime_ns,
        head_len,
        head_sha256: fp.head_hash(head_len).unwrap_or_default(),
        offset: consumed_to,
        lines,
        last_run: state.runs,
    };
    match state.files.iter_mut().find(|f| f.id == entry.id) {
        Some(f) => *f = entry,
        None => state.files.push(entry),
    }
}
