//! The redaction step at the model boundary: clear tokens leave the tape before any [`Entry`]
//! exists, so every analysis, report, alert, state file and export sees only redacted strings.
//!
//! Two passes, so the tape can point at the redacted strings without copying the entry again:
//! [`Scrub::plan`] reads the tape and writes each changed string into one buffer, then
//! [`Scrub::apply`] points those tape nodes at the buffer. Entries with no token shape in their
//! bytes (almost all) skip both passes; see [`needed`].

use simd_json::value::tape::Node;

use crate::model::Entry;
use crate::redact;

/// Keys whose whole value is a token, so that a UUID there (Vault before 1.0) is one.
const TOKEN_KEYS: [&str; 3] = ["client_token", "token", "wrapping_token"];

/// One tape node to repoint: node `node` becomes `text[start..end]`.
#[derive(Clone, Copy, Debug)]
struct Patch {
    node: usize,
    start: usize,
    end: usize,
}

/// The redacted strings of one entry, reused entry after entry.
#[derive(Default)]
pub(crate) struct Scrub {
    text: String,
    patches: Vec<Patch>,
}

/// True when the raw entry may hold a token: a prefixed token shape or a `\u` escape.
pub(crate) fn needed(raw: &[u8]) -> bool {
    redact::may_contain_token(raw)
}

/// True when a parsed entry may hold a UUID token, which the byte check cannot see: a token path
/// or a UUID where a token goes.
pub(crate) fn needed_for_uuids(ev: &Entry<'_>) -> bool {
    let uuid = |s: Option<&str>| s.is_some_and(redact::is_uuid);
    let uuid_in_token_path =
        |p: &str| redact::is_token_path(p) && p.split('/').any(redact::is_uuid);
    uuid_in_token_path(ev.request.path)
        || ev.request.request_uri.is_some_and(uuid_in_token_path)
        || uuid(ev.request.client_token)
        || uuid(ev.auth.token.client_token)
        || ev.response.auth.is_some_and(|a| uuid(a.client_token))
}

impl Scrub {
    /// Pass one: the redacted form of every string on the tape that holds a token.
    pub(crate) fn plan(&mut self, nodes: &[Node<'_>]) {
        self.text.clear();
        self.patches.clear();
        if !nodes.is_empty() {
            self.walk(nodes, 0, None);
        }
    }

    /// Pass two: points the planned nodes at their redacted strings.
    pub(crate) fn apply<'s>(&'s self, nodes: &mut [Node<'s>]) {
        for p in &self.patches {
            nodes[p.node] = Node::String(&self.text[p.start..p.end]);
        }
    }

    /// Visits the value at `i` (the value of `key`, if in an object); returns the index after it.
    fn walk(&mut self, nodes: &[Node<'_>], i: usize, key: Option<&str>) -> usize {
        match nodes[i] {
            Node::String(s) => {
                let whole = key.is_some_and(|k| TOKEN_KEYS.contains(&k));
                let r = if whole {
                    redact::token(s)
                } else {
                    redact::text(s)
                };
                if let std::borrow::Cow::Owned(r) = r {
                    self.patch(i, &r);
                }
                i + 1
            }
            Node::Object { len, .. } => {
                let mut j = i + 1;
                for _ in 0..len {
                    let k = match nodes[j] {
                        Node::String(k) => k,
                        _ => unreachable!("simd-json object keys are strings"),
                    };
                    if let std::borrow::Cow::Owned(r) = redact::text(k) {
                        self.patch(j, &r);
                    }
                    j = self.walk(nodes, j + 1, Some(k));
                }
                j
            }
            Node::Array { len, .. } => {
                let mut j = i + 1;
                for _ in 0..len {
                    j = self.walk(nodes, j, key);
                }
                j
            }
            Node::Static(_) => i + 1,
        }
    }

    fn patch(&mut self, node: usize, redacted: &str) {
        let start = self.text.len();
        self.text.push_str(redacted);
        self.patches.push(Patch {
            node,
            start,
            end: self.text.len(),
        });
    }
}
