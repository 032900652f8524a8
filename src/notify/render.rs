//! Notices as JSON, NDJSON, or Markdown from a minijinja template.
//!
//! Every value a template prints is escaped for Markdown ([`sanitize::markdown`]) after
//! redaction, whatever the template: a template cannot forget to escape a hostile path. The
//! `code` filter prints a value as a code span instead ([`sanitize::markdown_code`]); `safe`
//! output is only what the filters made.

use std::io::Write;

use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior};

use super::NotifyError;
use super::notice::{Notice, NoticeSet};
use crate::redact;
use crate::report::sanitize;

/// The default notice template, embedded in the binary.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../templates/notify/notice.md.j2");
/// The index of a `--dir`.
pub const INDEX_TEMPLATE: &str = include_str!("../../templates/notify/index.md.j2");

const NOTICE: &str = "notice";
const INDEX: &str = "index";

/// A notice template and the index template, compiled.
pub struct Markdown {
    env: Environment<'static>,
    /// The notice template's name in errors: its file, or `notice.md.j2`.
    name: String,
}

/// A template given with `--template`.
pub struct TemplateSource {
    /// The file, for errors.
    pub name: String,
    /// Its text.
    pub text: String,
}

fn template_error(name: &str, e: &minijinja::Error) -> NotifyError {
    NotifyError::Template {
        name: name.to_string(),
        line: e.line(),
        message: match e.detail() {
            Some(d) => format!("{}: {d}", e.kind()),
            None => e.kind().to_string(),
        },
    }
}

fn markdown_value(out: &mut minijinja::Output, v: &Value) -> Result<(), minijinja::Error> {
    if v.is_safe() {
        return write!(out, "{v}").map_err(minijinja::Error::from);
    }
    if v.is_none() || v.is_undefined() {
        return Ok(());
    }
    let text = v.to_string();
    out.write_str(&sanitize::markdown(&redact::text(&text)))
        .map_err(minijinja::Error::from)
}

fn code(v: Value) -> Value {
    if v.is_none() || v.is_undefined() {
        return Value::from_safe_string(String::new());
    }
    let text = v.to_string();
    Value::from_safe_string(sanitize::markdown_code(&redact::text(&text)).into_owned())
}

impl Markdown {
    /// Compiles `template` (the default when `None`) and the index template.
    pub fn new(template: Option<TemplateSource>) -> Result<Markdown, NotifyError> {
        let mut env = Environment::new();
        // A misspelt variable in an override is an error, not an empty line; `if` may test.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_formatter(|out, _state, v| markdown_value(out, v));
        env.add_filter("code", code);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| template_error("syntax", &e))?;
        env.set_syntax(syntax);
        let (name, text) = match template {
            Some(t) => (t.name, t.text),
            None => ("notice.md.j2".to_string(), DEFAULT_TEMPLATE.to_string()),
        };
        env.add_template_owned(NOTICE, text)
            .map_err(|e| template_error(&name, &e))?;
        env.add_template(INDEX, INDEX_TEMPLATE)
            .map_err(|e| template_error("index.md.j2", &e))?;
        Ok(Markdown { env, name })
    }

    /// One tenant's notice.
    pub fn notice(&self, n: &Notice) -> Result<String, NotifyError> {
        let t = self
            .env
            .get_template(NOTICE)
            .map_err(|e| template_error(&self.name, &e))?;
        t.render(Value::from(Serde(n)))
            .map_err(|e| template_error(&self.name, &e))
    }

    /// The index of a directory of notices: `files[i]` is the file of `set.notices[i]`.
    pub fn index(&self, set: &NoticeSet, files: &[String]) -> Result<String, NotifyError> {
        #[derive(serde::Serialize)]
        struct Row<'a> {
            tenant: &'a str,
            file: &'a str,
            secrets: usize,
            severity: Option<crate::model::Severity>,
        }
        #[derive(serde::Serialize)]
        struct Ctx<'a> {
            set: &'a NoticeSet,
            rows: Vec<Row<'a>>,
        }
        let rows = set
            .notices
            .iter()
            .zip(files)
            .map(|(n, f)| Row {
                tenant: &n.tenant,
                file: f,
                secrets: n.secrets.len(),
                severity: n.severity,
            })
            .collect();
        let t = self
            .env
            .get_template(INDEX)
            .map_err(|e| template_error("index.md.j2", &e))?;
        t.render(Value::from(Serde(Ctx { set, rows })))
            .map_err(|e| template_error("index.md.j2", &e))
    }
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NoticeFormat {
    /// One notice object per line.
    Ndjson,
    /// A JSON array of notice objects.
    Json,
}

/// Writes the notices as JSON or NDJSON.
pub fn write_json(set: &NoticeSet, format: NoticeFormat, w: &mut dyn Write) -> std::io::Result<()> {
    match format {
        NoticeFormat::Ndjson => {
            for n in &set.notices {
                serde_json::to_writer(&mut *w, n)?;
                w.write_all(b"\n")?;
            }
        }
        NoticeFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, &set.notices)?;
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}
