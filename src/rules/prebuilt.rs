//! The built-in pack's YAML trees as bytes: `build.rs` parses each `queries/rules/*.yml` with
//! [`super::yaml::load`] (the loader `--rules` files go through) and stores its documents with
//! [`encoding::encode`]; loading the pack [`decode`]s them instead of parsing the YAML again,
//! which was half of the pack's load time (saphyr reads about 170 instructions per byte).
//!
//! The format is private to one build: a document count, then each node in preorder as its
//! position, a tag and its content; integers are little-endian `u32`. `build.rs` includes this
//! file as a module of its own, so it uses nothing beyond `super::yaml` and `super::error`.

use super::error::Pos;
use super::yaml::{Key, Node, Style, Yaml};

const NULL: u8 = 0;
const PLAIN: u8 = 1;
const QUOTED: u8 = 2;
const BLOCK: u8 = 3;
const SEQ: u8 = 4;
const MAP: u8 = 5;

/// The writing side, which `build.rs` runs (and the tests); the library only decodes.
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "build.rs encodes the pack; the library only decodes it"
    )
)]
pub(crate) mod encoding {
    use super::*;

    /// The bytes of `docs`, for [`decode`].
    pub(crate) fn encode(docs: &[Node]) -> Vec<u8> {
        let mut out = Vec::new();
        put_len(&mut out, docs.len());
        for doc in docs {
            put_node(&mut out, doc);
        }
        out
    }

    fn put_u32(out: &mut Vec<u8>, n: u32) {
        out.extend_from_slice(&n.to_le_bytes());
    }

    fn put_len(out: &mut Vec<u8>, n: usize) {
        put_u32(
            out,
            u32::try_from(n).expect("a rule file is far below 4 GiB"),
        );
    }

    fn put_pos(out: &mut Vec<u8>, p: Pos) {
        put_u32(out, p.line);
        put_u32(out, p.column);
    }

    fn put_text(out: &mut Vec<u8>, s: &str) {
        put_len(out, s.len());
        out.extend_from_slice(s.as_bytes());
    }

    fn put_node(out: &mut Vec<u8>, n: &Node) {
        put_pos(out, n.pos);
        match &n.value {
            Yaml::Null => out.push(NULL),
            Yaml::Scalar(s, style) => {
                out.push(match style {
                    Style::Plain => PLAIN,
                    Style::Quoted => QUOTED,
                    Style::Block => BLOCK,
                });
                put_text(out, s);
            }
            Yaml::Seq(items) => {
                out.push(SEQ);
                put_len(out, items.len());
                for i in items {
                    put_node(out, i);
                }
            }
            Yaml::Map(entries) => {
                out.push(MAP);
                put_len(out, entries.len());
                for (k, v) in entries {
                    put_pos(out, k.pos);
                    put_text(out, &k.name);
                    put_node(out, v);
                }
            }
        }
    }
}

/// The documents [`encoding::encode`] stored; `None` when `bytes` are not its output.
pub(crate) fn decode(bytes: &[u8]) -> Option<Vec<Node>> {
    let mut r = Reader { rest: bytes };
    let n = r.len()?;
    let docs = (0..n).map(|_| r.node()).collect::<Option<Vec<Node>>>()?;
    r.rest.is_empty().then_some(docs)
}

/// A cursor over encoded bytes.
struct Reader<'b> {
    rest: &'b [u8],
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u32()?).ok()
    }

    fn pos(&mut self) -> Option<Pos> {
        Some(Pos {
            line: self.u32()?,
            column: self.u32()?,
        })
    }

    fn text(&mut self) -> Option<String> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).ok().map(str::to_string)
    }

    fn node(&mut self) -> Option<Node> {
        let pos = self.pos()?;
        let tag = *self.take(1)?.first()?;
        let scalar = |r: &mut Reader<'_>, style| Some(Yaml::Scalar(r.text()?, style));
        let value = match tag {
            NULL => Yaml::Null,
            PLAIN => scalar(self, Style::Plain)?,
            QUOTED => scalar(self, Style::Quoted)?,
            BLOCK => scalar(self, Style::Block)?,
            SEQ => {
                let n = self.len()?;
                Yaml::Seq((0..n).map(|_| self.node()).collect::<Option<_>>()?)
            }
            MAP => {
                let n = self.len()?;
                let entry = |r: &mut Reader<'_>| {
                    let pos = r.pos()?;
                    let name = r.text()?;
                    Some((Key { name, pos }, r.node()?))
                };
                Yaml::Map((0..n).map(|_| entry(self)).collect::<Option<_>>()?)
            }
            _ => return None,
        };
        Some(Node { pos, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::builtin::BUILTIN;
    use crate::rules::error::Sink;

    /// What the build stored is what the loader reads from the text, node for node.
    #[test]
    fn every_builtin_file_decodes_to_what_its_yaml_loads_to() {
        assert!(BUILTIN.len() > 30, "the pack is embedded");
        for (name, text, tree) in BUILTIN {
            let mut diags = Vec::new();
            let loaded = super::super::yaml::load(text, &mut Sink::new(name, &mut diags));
            assert!(diags.is_empty(), "{name}: {diags:?}");
            assert_eq!(decode(tree), loaded, "{name}");
        }
    }

    #[test]
    fn round_trips_every_kind_of_node_and_refuses_other_bytes() {
        let text = "a: 1\nb:\n  - 'x y'\n  - ~\n  - |\n    block\nc: {}\n---\nd: [é]\n";
        let mut diags = Vec::new();
        let docs = super::super::yaml::load(text, &mut Sink::new("t.yml", &mut diags)).unwrap();
        assert_eq!(docs.len(), 2);
        let bytes = encoding::encode(&docs);
        assert_eq!(decode(&bytes), Some(docs));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None, "cut short");
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer), None, "trailing bytes");
        let mut bad_tag = bytes;
        bad_tag[4 + 8] = 9;
        assert_eq!(decode(&bad_tag), None, "unknown tag");
    }
}
