//! Where a rule is wrong and why: diagnostics with file, line and column.

use std::fmt;
use std::path::PathBuf;

/// A place in a rule file: one-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// One-based line.
    pub line: u32,
    /// One-based column (in characters).
    pub column: u32,
}

impl Pos {
    /// The position `chars` characters to the right on the same line.
    pub(crate) fn shifted(self, chars: usize) -> Pos {
        Pos {
            line: self.line,
            column: self
                .column
                .saturating_add(u32::try_from(chars).unwrap_or(u32::MAX)),
        }
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticLevel {
    /// The rule set cannot be loaded.
    Error,
    /// The rule loads, but something is probably not what the author meant.
    Warning,
}

impl DiagnosticLevel {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticLevel::Error => "error",
            DiagnosticLevel::Warning => "warning",
        }
    }
}

/// One finding about a rule file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Diagnostic {
    /// The rule file, as named by the caller.
    pub file: String,
    /// One-based line (0 when the finding is about the whole file).
    pub line: u32,
    /// One-based column (0 when the finding is about the whole file).
    pub column: u32,
    /// Error or warning.
    pub level: DiagnosticLevel,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file,
            self.line,
            self.column,
            self.level.as_str(),
            self.message
        )
    }
}

/// Why a rule set could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// One or more rules are invalid; every error found is listed.
    #[error("{}", describe(.0))]
    Invalid(Vec<Diagnostic>),
    /// A rule directory or file could not be read.
    #[error("cannot read rules from {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl RuleError {
    /// The diagnostics of an [`RuleError::Invalid`] error (empty for I/O errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            RuleError::Invalid(d) => d,
            RuleError::Io { .. } => &[],
        }
    }
}

fn describe(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    if out.is_empty() {
        out.push_str("invalid rule set");
    }
    out
}

/// Collects the diagnostics of one file.
pub(crate) struct Sink<'d> {
    file: &'d str,
    out: &'d mut Vec<Diagnostic>,
}

impl<'d> Sink<'d> {
    pub(crate) fn new(file: &'d str, out: &'d mut Vec<Diagnostic>) -> Sink<'d> {
        Sink { file, out }
    }

    pub(crate) fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(pos, DiagnosticLevel::Error, message.into());
    }

    pub(crate) fn warning(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(pos, DiagnosticLevel::Warning, message.into());
    }

    fn push(&mut self, pos: Pos, level: DiagnosticLevel, message: String) {
        self.out.push(Diagnostic {
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            level,
            message,
        });
    }

    /// Number of errors recorded so far (across every file sharing the vector).
    pub(crate) fn error_count(&self) -> usize {
        self.out
            .iter()
            .filter(|d| d.level == DiagnosticLevel::Error)
            .count()
    }
}
