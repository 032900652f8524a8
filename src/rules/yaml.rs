//! YAML documents as a small tree that remembers where every node is.
//!
//! saphyr parses with positions; this module copies its tree into plain owned nodes so the rest
//! of the loader can report `file:line:column` for any key or value without caring about the
//! parser's types. Scalars are kept as written (no YAML type resolution), because Sigma compares
//! values as strings: `false`, `5` and `'5'` all mean the text the log must hold.

use saphyr::{MarkedYaml, ScalarStyle, YamlData, YamlLoader};
use saphyr_parser::{Marker, Parser};

use super::error::{Pos, Sink};

/// How a scalar was written, which decides where its characters start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// Unquoted.
    Plain,
    /// `'...'` or `"..."`: the text starts one column after the node.
    Quoted,
    /// `|` or `>` blocks: the text starts on a later line.
    Block,
}

/// A YAML value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Yaml {
    /// `null`, `~` or nothing.
    Null,
    /// Any other scalar, as written.
    Scalar(String, Style),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order, with scalar keys.
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) pos: Pos,
}

/// A value and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) pos: Pos,
    pub(crate) value: Yaml,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Yaml::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// Where character `offset` of a single-line scalar is (the node start for blocks).
    pub(crate) fn pos_at(&self, offset: usize) -> Pos {
        match &self.value {
            Yaml::Scalar(_, Style::Plain) => self.pos.shifted(offset),
            Yaml::Scalar(_, Style::Quoted) => self.pos.shifted(offset + 1),
            _ => self.pos,
        }
    }

    /// A short name of the node's kind for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self.value {
            Yaml::Null => "null",
            Yaml::Scalar(..) => "a scalar",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a mapping",
        }
    }
}

fn pos(m: &Marker) -> Pos {
    Pos {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
    }
}

/// Parses every document of a file; empty documents are dropped.
pub(crate) fn load(src: &str, sink: &mut Sink<'_>) -> Option<Vec<Node>> {
    let mut parser = Parser::new_from_str(src);
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    let scanned = parser.load(&mut loader, true);
    if let Some(e) = scanned.err().or_else(|| loader.error().cloned()) {
        sink.error(pos(e.marker()), format!("invalid YAML: {}", e.info()));
        return None;
    }
    let mut out = Vec::new();
    let errors_before = sink.error_count();
    for doc in loader.into_documents() {
        let node = convert(&doc, sink);
        if !matches!(node.value, Yaml::Null) {
            out.push(node);
        }
    }
    (sink.error_count() == errors_before).then_some(out)
}

fn convert(n: &MarkedYaml<'_>, sink: &mut Sink<'_>) -> Node {
    let at = pos(&n.span.start);
    let value = match &n.data {
        YamlData::Representation(text, style, tag) => {
            if let Some(tag) = tag {
                sink.error(at, format!("YAML tags are not supported (`{tag}`)"));
            }
            scalar(text, *style)
        }
        YamlData::Value(_) => {
            // Only produced by early parsing, which `load` turns off.
            sink.error(at, "unexpected pre-parsed YAML scalar");
            Yaml::Null
        }
        YamlData::Sequence(items) => Yaml::Seq(items.iter().map(|i| convert(i, sink)).collect()),
        YamlData::Mapping(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map.iter() {
                let key_pos = pos(&k.span.start);
                let name = match &k.data {
                    YamlData::Representation(text, _, None) => text.to_string(),
                    _ => {
                        sink.error(key_pos, "mapping keys must be plain strings");
                        continue;
                    }
                };
                // saphyr compares keys by representation, so `a` and `'a'` are not duplicates
                // to it; they are to a rule.
                if entries.iter().any(|(k, _): &(Key, Node)| k.name == name) {
                    sink.error(key_pos, format!("duplicated key `{name}` in mapping"));
                }
                entries.push((Key { name, pos: key_pos }, convert(v, sink)));
            }
            Yaml::Map(entries)
        }
        YamlData::Tagged(tag, _) => {
            sink.error(at, format!("YAML tags are not supported (`{tag}`)"));
            Yaml::Null
        }
        YamlData::Alias(_) | YamlData::BadValue => {
            sink.error(at, "unresolvable YAML value");
            Yaml::Null
        }
    };
    Node { pos: at, value }
}

fn scalar(text: &str, style: ScalarStyle) -> Yaml {
    match style {
        ScalarStyle::Plain => {
            if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
                Yaml::Null
            } else {
                Yaml::Scalar(text.to_string(), Style::Plain)
            }
        }
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            Yaml::Scalar(text.to_string(), Style::Quoted)
        }
        ScalarStyle::Literal | ScalarStyle::Folded => Yaml::Scalar(text.to_string(), Style::Block),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::error::Diagnostic;

    fn parse(src: &str) -> (Option<Vec<Node>>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut sink = Sink::new("t.yml", &mut diags);
        let out = load(src, &mut sink);
        (out, diags)
    }

    #[test]
    fn keeps_positions_and_text_of_scalars() {
        let (docs, diags) = parse("a: 1\nb:\n  - 'x y'\n  - ~\n");
        assert!(diags.is_empty(), "{diags:?}");
        let doc = &docs.unwrap()[0];
        let Yaml::Map(entries) = &doc.value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.name, "a");
        assert_eq!(entries[0].1.as_str(), Some("1"));
        assert_eq!(entries[1].0.pos, Pos { line: 2, column: 1 });
        let Yaml::Seq(items) = &entries[1].1.value else {
            panic!("not a list")
        };
        assert_eq!(items[0].as_str(), Some("x y"));
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
        assert_eq!(items[0].pos_at(2), Pos { line: 3, column: 8 });
        assert!(matches!(items[1].value, Yaml::Null));
    }

    #[test]
    fn reports_syntax_errors_and_duplicate_keys_with_a_line() {
        let (docs, diags) = parse("a: [1\n");
        assert!(docs.is_none());
        assert_eq!(diags.len(), 1);
        assert!(diags[0].line >= 1);
        let (docs, diags) = parse("a: 1\na: 2\n");
        assert!(docs.is_none());
        assert_eq!(diags[0].line, 2, "{diags:?}");
        assert!(diags[0].message.contains("duplicated key"), "{diags:?}");
        let (docs, diags) = parse("a: 1\n'a': 2\n");
        assert!(docs.is_none());
        assert_eq!((diags[0].line, diags[0].column), (2, 1), "{diags:?}");
    }

    #[test]
    fn splits_documents() {
        let (docs, _) = parse("a: 1\n---\nb: 2\n---\n");
        assert_eq!(docs.unwrap().len(), 2);
    }

    #[test]
    fn rejects_tags() {
        let (docs, diags) = parse("a: !!str 1\n");
        assert!(docs.is_none());
        assert!(diags[0].message.contains("tags"), "{diags:?}");
    }
}
