//! Parsing audit entries into borrowed [`Entry`]s, over simd-json's tape.
//!
//! ```text
//! entry bytes --structural pass--> token starts --skim::tape--> tape --walk--> Entry
//!      \--(any other shape) copy--> padded buffer --fill_tape_padded--/
//! ```
//!
//! With [`Validation::Fast`] (the default) an entry in the compact, escape-free shape Vault and
//! OpenBao write gets its tape from the skimming reader's structural pass ([`skim::tape`]),
//! with strings borrowed from the entry; every other entry, and every entry under
//! [`Validation::Full`], is parsed by simd-json.
//!
//! simd-json parses in place (it unescapes strings into the input), so it needs `&mut [u8]`;
//! the source may be a read-only memory map. Each entry simd-json parses is copied into a small
//! per-thread buffer just before it is parsed, so the copy is still in the first-level cache
//! when simd-json reads it; request entries read by the fast path ([`fast`]) and entries whose
//! tape the structural pass builds are never copied. The buffer, simd-json's `Buffers` and the
//! tape are reused across entries, and grow only for an entry larger than any before (nothing
//! tests that other steps never allocate).

mod extract;
pub mod fast;
pub mod framing;
#[doc(hidden)]
pub mod fuzzing;
mod json_error;
mod scrub;
pub mod skim;

use simd_json::value::tape::Tape;
use simd_json::{Buffers, INPUT_PADDING};

use crate::model::Entry;

/// Deepest nesting accepted. Vault entries are about 6 deep; request data can add user nesting.
pub const MAX_DEPTH: usize = 256;

/// How much of each entry is validated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Validation {
    /// Request entries in Vault's layouts are read by the fast path ([`fast`]), which validates
    /// them without building a tape; other entries in the shape Vault writes get their tape from
    /// the structural pass ([`skim::tape`]); the rest are parsed by simd-json.
    #[default]
    Fast,
    /// Every entry is parsed in full by simd-json (`--strict`).
    Full,
}

/// Why an entry could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// No `{` on the line: not JSON at all.
    #[error("not JSON (no object on the line)")]
    NotJson,
    /// simd-json rejected the text; the message says where and why.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// Valid JSON, but the document is not an object.
    #[error("JSON is not an object")]
    NotAnObject,
    /// An object with neither `type` nor `request`: not a Vault audit entry.
    #[error("JSON object is not a Vault audit entry (no `type` or `request`)")]
    NotAuditEntry,
    /// The line is longer than `--max-line-bytes`.
    #[error("line of {0} bytes exceeds the limit")]
    TooLong(usize),
    /// An XML (`format=jsonx`) entry, which blastradius does not read.
    #[error("JSONx (XML) audit format is not supported; configure the device with format=json")]
    Jsonx,
    /// A field the analyses read appears twice in its object (Vault never writes that).
    #[error("duplicate key `{0}`")]
    DuplicateKey(String),
    /// A field the analyses read has another JSON type than Vault writes.
    #[error("`{field}` is not {expected}")]
    WrongType {
        /// The dotted field, e.g. `request.path`.
        field: String,
        /// What Vault writes there: `a string`, `an object` ...
        expected: &'static str,
    },
}

impl ParseErrorKind {
    /// A short stable name for counting errors by kind.
    pub fn code(&self) -> &'static str {
        match self {
            ParseErrorKind::NotJson => "not-json",
            ParseErrorKind::InvalidJson(_) => "invalid-json",
            ParseErrorKind::NotAnObject => "not-an-object",
            ParseErrorKind::NotAuditEntry => "not-an-audit-entry",
            ParseErrorKind::TooLong(_) => "line-too-long",
            ParseErrorKind::Jsonx => "jsonx",
            ParseErrorKind::DuplicateKey(_) => "duplicate-key",
            ParseErrorKind::WrongType { .. } => "wrong-type",
        }
    }
}

/// A per-thread parser: a padded copy of the current entry, simd-json's buffers, a tape and the
/// redacted strings of the current entry.
pub struct Parser {
    buf: Vec<u8>,
    buffers: Buffers,
    tape: Option<Tape<'static>>,
    scrub: scrub::Scrub,
    /// The structural index of the skimming reader; `None` under [`Validation::Full`].
    skim: Option<skim::Structurals>,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser with empty buffers (they grow to the largest entry seen), validating as
    /// [`Validation::Fast`] does.
    pub fn new() -> Parser {
        Parser::with_validation(Validation::Fast)
    }

    /// A parser that validates as `validation` says.
    pub fn with_validation(validation: Validation) -> Parser {
        Parser {
            buf: Vec::new(),
            buffers: Buffers::with_max_depth(4096, MAX_DEPTH),
            tape: None,
            scrub: scrub::Scrub::default(),
            skim: (validation == Validation::Fast).then(skim::Structurals::default),
        }
    }

    /// Parses `entry` (one JSON document) and hands the result to `f`, with every clear token in
    /// it redacted (see [`crate::redact`]).
    ///
    /// The event borrows the parser, so it lives only inside `f`.
    pub fn parse_one<R>(
        &mut self,
        entry: &[u8],
        f: impl for<'e> FnOnce(Result<Entry<'e>, ParseErrorKind>) -> R,
    ) -> R {
        if let Some(index) = self.skim.as_mut() {
            let mut tape: Tape<'_> = self.tape.take().unwrap_or_else(Tape::null).reset();
            if skim::tape::build(index, entry, &mut tape.0) {
                let (out, tape) = read_entry(entry, tape, &mut self.scrub, f);
                self.tape = Some(tape);
                return out;
            }
            self.tape = Some(tape.reset());
        }
        self.buf.clear();
        self.buf.reserve(entry.len() + INPUT_PADDING);
        self.buf.extend_from_slice(entry);
        self.buf.extend_from_slice(&[b' '; INPUT_PADDING]);
        let mut tape: Tape<'_> = self.tape.take().unwrap_or_else(Tape::null).reset();
        let parsed =
            simd_json::fill_tape_padded(&mut self.buf, entry.len(), &mut self.buffers, &mut tape);
        let (out, tape) = match parsed {
            Ok(()) => read_entry(entry, tape, &mut self.scrub, f),
            Err(e) => (
                f(Err(ParseErrorKind::InvalidJson(json_error::describe(&e)))),
                tape.reset(),
            ),
        };
        self.tape = Some(tape);
        out
    }
}

/// Builds the event of a parsed entry, redacting its tape first when it may hold a token, and
/// hands it to `f`; returns `f`'s answer and the emptied tape.
fn read_entry<'t, R>(
    entry: &[u8],
    tape: Tape<'t>,
    scrub: &mut scrub::Scrub,
    f: impl for<'e> FnOnce(Result<Entry<'e>, ParseErrorKind>) -> R,
) -> (R, Tape<'static>) {
    if !scrub::needed(entry) {
        match extract::event(&tape.0) {
            Ok(ev) if scrub::needed_for_uuids(&ev) => {}
            res => {
                let out = f(res);
                return (out, tape.reset());
            }
        }
    }
    scrub.plan(&tape.0);
    // The tape's strings now borrow both the entry buffer and the redacted strings.
    let mut tape: Tape<'_> = tape;
    scrub.apply(&mut tape.0);
    let out = f(extract::event(&tape.0));
    (out, tape.reset())
}

#[cfg(test)]
mod tests;
