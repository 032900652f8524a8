//! The checks the fuzz target (`fuzz/fuzz_targets/parse_line.rs`) runs on arbitrary bytes, kept
//! in the library so that the fuzz corpus also replays as an ordinary test.

use super::fast::request_header;
use super::framing::{Framed, frame_line};
use super::skim::{Structurals, tape};
use super::{ParseErrorKind, Parser, Validation};

/// The fields of an entry that the request fast path also reads, as the full parser reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullHeader {
    /// `type`.
    pub ty: Option<String>,
    /// `time`, as written.
    pub time: Option<String>,
    /// `request.id`.
    pub id: Option<String>,
    /// `request.path`.
    pub path: String,
}

/// Parses `json` (one framed entry) with the full parser and reads its [`FullHeader`].
pub fn full_header(parser: &mut Parser, json: &[u8]) -> Result<FullHeader, ParseErrorKind> {
    parser.parse_one(json, |r| {
        r.map(|ev| FullHeader {
            ty: ev
                .root
                .get("type")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            time: ev
                .root
                .get("time")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            id: ev.request.id.map(str::to_string),
            path: ev.request.path.to_string(),
        })
    })
}

/// Frames and parses one line of arbitrary bytes and checks the parser's invariants:
/// nothing panics; the request fast path never disagrees with the full parser; a tape the
/// skimming reader builds is simd-json's tape, node for node, and the default parser reads what
/// `--strict` reads; simd-json and serde_json accept the same objects and read the same fields
/// from them.
pub fn check_line(data: &[u8]) {
    let Framed::Json { start, end, .. } = frame_line(data) else {
        return;
    };
    let json = &data[start..end];
    let ours = full_header(&mut Parser::with_validation(Validation::Full), json);
    let mut nodes = Vec::new();
    if tape::build(&mut Structurals::default(), json, &mut nodes) {
        let mut copy = json.to_vec();
        let theirs = simd_json::to_tape(&mut copy)
            .expect("the skimming reader built a tape for an entry simd-json rejects");
        assert_eq!(
            nodes, theirs.0,
            "the skimming tape differs from simd-json's"
        );
    }
    assert_eq!(
        full_header(&mut Parser::new(), json),
        ours,
        "the default parser and --strict read the entry differently"
    );
    if let Some(h) = request_header(json) {
        let FullHeader { ty, time, id, .. } = ours
            .as_ref()
            .expect("the fast path took an entry the full parser rejects");
        assert_eq!(ty.as_deref(), Some("request"));
        assert_eq!(time.as_deref(), Some(h.time));
        assert_eq!(id.as_deref(), h.id);
    }
    let theirs: Result<serde_json::Value, _> = serde_json::from_slice(json);
    match (&ours, &theirs) {
        (Ok(FullHeader { ty, time, id, path }), Ok(v)) => {
            assert_eq!(ty.as_deref(), v.get("type").and_then(|t| t.as_str()));
            assert_eq!(time.as_deref(), v.get("time").and_then(|t| t.as_str()));
            let sid = v
                .pointer("/request/id")
                .and_then(|t| t.as_str())
                .filter(|s| !s.is_empty());
            if v.get("request").is_some_and(|r| r.is_object()) {
                assert_eq!(id.as_deref(), sid);
                assert_eq!(
                    path.as_str(),
                    v.pointer("/request/path")
                        .and_then(|t| t.as_str())
                        .unwrap_or("")
                );
            }
        }
        (Err(ParseErrorKind::InvalidJson(msg)), Ok(_)) => {
            // serde_json stops at depth 128, simd-json at 256: only depth may make them differ.
            assert!(
                msg.starts_with("nested deeper"),
                "simd-json rejected what serde_json accepts: {msg}"
            );
        }
        (Err(ParseErrorKind::NotAnObject | ParseErrorKind::NotAuditEntry), Ok(v)) => {
            assert!(!v.is_object() || (v.get("type").is_none() && v.get("request").is_none()));
        }
        (Ok(_), Err(e)) => assert!(
            e.to_string().contains("recursion limit"),
            "serde_json rejected what simd-json accepts: {e}"
        ),
        _ => {}
    }
}
