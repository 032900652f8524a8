//! Tenant notifications (the runbook's "notify tenants" step): one notice per affected tenant,
//! holding only that tenant's exposed secrets (paths and kinds, never values) and the actions
//! taken and required, from a `blast` or `scan` report. See docs/notify.md.

mod actions;
pub mod files;
pub mod input;
pub mod notice;
pub mod render;

pub use input::{Exposure, SourceCommand};
pub use notice::{Notice, NoticeOptions, NoticeSet, build, derived_incident_id};
pub use render::{Markdown, NoticeFormat, TemplateSource, write_json};

/// Why notices could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The `--report` file is not a blast or scan JSON report.
    #[error("not a blast or scan JSON report: {0}")]
    Report(String),
    /// A template does not compile or render.
    #[error("template {name}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Template {
        /// The template file.
        name: String,
        /// The line, when the engine knows it.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The `--dir` cannot be used.
    #[error("cannot write notices to {path}: it {why}")]
    Dir {
        /// The directory.
        path: String,
        /// Why.
        why: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
