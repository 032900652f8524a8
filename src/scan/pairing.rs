//! Request/response pairing across chunks (and runs): a request left open in one chunk meets its
//! response, an orphan in another; what stays open is unanswered, or in flight near the end of
//! its input.

use std::collections::HashMap;

use super::finish::Bounds;
use super::worker::{ChunkSummary, OpenDetail, OpenRequest, Worker, analyse};
use super::{Context, Extension};
use crate::gaps::{Point, UnansweredRequest};
use crate::model::Operation;
use crate::parse::Parser;

/// What pairing across chunks leaves unanswered.
#[derive(Default)]
pub(super) struct Pairing {
    /// Requests past the response grace with no response (already analysed), carried as such.
    pub(super) unanswered: Vec<UnansweredRequest>,
    /// Requests within the response grace of their input's end, kept raw for the next run.
    pub(super) in_flight: Vec<OpenRequest>,
    /// The same requests as listed in this report.
    pub(super) in_flight_listed: Vec<UnansweredRequest>,
}

/// Matches requests left open (in a chunk, or by an earlier run) with responses that were
/// orphans in another chunk, then analyses the requests that have no response and are past
/// the response grace. Every unanswered request is listed, except those Vault never answers.
pub(super) fn pair_across_chunks<E: Extension>(
    ctx: &Context<'_, E>,
    worker: &mut Worker<'_, E>,
    sums: &mut [ChunkSummary],
    carried: Vec<OpenRequest>,
    bounds: &[Option<Bounds>],
) -> Pairing {
    let mut open: HashMap<u64, Vec<OpenRequest>> = HashMap::new();
    for r in carried.into_iter().chain(
        sums.iter_mut()
            .flat_map(|s| std::mem::take(&mut s.open_requests)),
    ) {
        open.entry(r.id).or_default().push(r);
    }
    let stats = &mut worker.analysis.stats;
    for s in sums.iter_mut() {
        s.orphans
            .retain(|o| match open.get_mut(&o.id).and_then(|v| v.pop()) {
                Some(_) => {
                    stats.paired_requests += 1;
                    false
                }
                None => true,
            });
    }
    let mut rest: Vec<OpenRequest> = open.into_values().flatten().collect();
    rest.sort_by_key(|r| r.loc);
    let mut parser = Parser::with_validation(ctx.settings.read.validation);
    let mut out = Pairing::default();
    for r in rest {
        let last = bounds
            .get(r.loc.file as usize)
            .copied()
            .flatten()
            .map(|b| b.last.time);
        let (time, path, operation) = match &r.detail {
            OpenDetail::Raw(raw) => {
                let seen = parser.parse_one(raw, |res| {
                    res.ok().map(|ev| {
                        let ev = ctx.settings.plausible.blank(ev);
                        (
                            ev.time,
                            Some(ev.request.path.to_string()),
                            ev.request.operation,
                        )
                    })
                });
                let Some(seen) = seen else { continue };
                seen
            }
            OpenDetail::Analysed {
                at,
                path,
                operation,
            } => (at.map(|p| p.time), path.clone(), *operation),
        };
        let flying =
            matches!((time, last), (Some(t), Some(l)) if t >= l.minus(ctx.settings.response_grace));
        let by_design = path
            .as_deref()
            .is_some_and(|p| p == "sys/audit/test" || is_request_only(p, operation));
        let listed = (!by_design).then(|| UnansweredRequest {
            at: time.map(|time| Point { time, loc: r.loc }),
            loc: r.loc,
            path,
            operation,
        });
        if flying && matches!(r.detail, OpenDetail::Raw(_)) {
            // Carried (raw) to the next incremental run, which may still see its response;
            // this report lists it all the same.
            out.in_flight_listed.extend(listed);
            out.in_flight.push(r);
            continue;
        }
        worker.analysis.stats.unanswered_requests += 1;
        if let OpenDetail::Raw(raw) = &r.detail {
            let (an, ext) = (&mut worker.analysis, &mut worker.ext);
            parser.parse_one(raw, |res| {
                if let Ok(ev) = res {
                    let ev = ctx.settings.plausible.blank(ev);
                    analyse(ctx, an, ext, &ev, r.loc);
                    ctx.ext.unanswered(ext, &ev, r.loc);
                }
            });
        }
        if flying {
            worker.analysis.stats.in_flight_requests += 1;
        }
        out.unanswered.extend(listed);
    }
    out
}

/// Requests Vault logs without a response by design.
fn is_request_only(path: &str, op: Operation) -> bool {
    // Disabling a device deregisters it before the response would be written to it; sealing
    // tears down every device before the response (OpenBao 2.7 logs the `sys/seal` request
    // only; the quiet period that follows is explained by the seal).
    (path.starts_with("sys/audit/") && op == Operation::Delete) || path == "sys/seal"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_device_disables_have_no_response_by_design() {
        assert!(is_request_only("sys/seal", Operation::Update));
        assert!(is_request_only("sys/audit/file", Operation::Delete));
        assert!(!is_request_only("sys/audit/file", Operation::Update));
        assert!(!is_request_only("sys/unseal", Operation::Update));
        assert!(!is_request_only("sys/seal-status", Operation::Read));
    }
}
