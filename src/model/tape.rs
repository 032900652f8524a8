//! Borrowed views into a simd-json tape: objects, string lists and values, without copying.
//!
//! A tape stores every container with the number of nodes it spans, so skipping a subtree we do
//! not read is a single addition. Everything here borrows the tape; nothing allocates.

use simd_json::prelude::ValueAsScalar;
use simd_json::value::tape::Node;

/// A JSON value on the tape.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer (signed or unsigned that fits in `i64`).
    Int(i64),
    /// A number with a fraction or beyond `i64`.
    Float(f64),
    /// A string, unescaped.
    Str(&'a str),
    /// An array.
    Array(List<'a>),
    /// An object.
    Object(Obj<'a>),
}

impl<'a> Value<'a> {
    /// Reads the value whose first node is `nodes[0]`.
    #[inline]
    pub(crate) fn at(nodes: &'a [Node<'a>]) -> Value<'a> {
        match nodes.first() {
            Some(Node::String(s)) => Value::Str(s),
            Some(Node::Object { count, .. }) => Value::Object(Obj(&nodes[..=*count])),
            Some(Node::Array { count, .. }) => Value::Array(List(&nodes[..=*count])),
            Some(Node::Static(s)) => {
                // Through the scalar trait, not the variants: they differ with simd-json's features.
                if s.as_null().is_some() {
                    Value::Null
                } else if let Some(b) = s.as_bool() {
                    Value::Bool(b)
                } else if let Some(i) = s.as_i64() {
                    Value::Int(i)
                } else {
                    s.cast_f64().map_or(Value::Null, Value::Float)
                }
            }
            None => Value::Null,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<Obj<'a>> {
        match self {
            Value::Object(o) => Some(*o),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_list(&self) -> Option<List<'a>> {
        match self {
            Value::Array(l) => Some(*l),
            _ => None,
        }
    }
}

/// Number of tape nodes the value starting at `nodes[0]` occupies.
#[inline]
fn width(nodes: &[Node<'_>]) -> usize {
    match nodes.first() {
        Some(Node::Object { count, .. } | Node::Array { count, .. }) => count + 1,
        _ => 1,
    }
}

/// An object on the tape: its header node followed by alternating keys and values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Obj<'a>(&'a [Node<'a>]);

impl<'a> Obj<'a> {
    /// Wraps the tape of a whole document if it is an object.
    pub(crate) fn root(nodes: &'a [Node<'a>]) -> Option<Obj<'a>> {
        match nodes.first() {
            Some(Node::Object { count, .. }) => Some(Obj(&nodes[..=*count])),
            _ => None,
        }
    }

    /// Iterates `(key, value)` pairs in document order.
    pub fn iter(&self) -> ObjIter<'a> {
        ObjIter {
            rest: self.0.get(1..).unwrap_or(&[]),
        }
    }

    /// Iterates `(key, raw value)` pairs: the value is decoded only when asked for, which
    /// keeps walks over members nobody reads cheap.
    pub fn members(&self) -> Members<'a> {
        Members {
            rest: self.0.get(1..).unwrap_or(&[]),
        }
    }

    /// The value of the first member named `key`.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.members()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.value())
    }

    /// Follows a path of keys through nested objects.
    pub fn lookup(&self, path: &[&str]) -> Option<Value<'a>> {
        let (first, rest) = path.split_first()?;
        let v = self.get(first)?;
        if rest.is_empty() {
            Some(v)
        } else {
            v.as_object()?.lookup(rest)
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self.0.first() {
            Some(Node::Object { len, .. }) => *len,
            _ => 0,
        }
    }

    /// True when the object has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Iterator over the members of an [`Obj`].
pub struct ObjIter<'a> {
    rest: &'a [Node<'a>],
}

impl<'a> Iterator for ObjIter<'a> {
    type Item = (&'a str, Value<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (Node::String(key), tail) = self.rest.split_first()? else {
            return None;
        };
        let w = width(tail);
        let value = Value::at(tail);
        self.rest = tail.get(w..).unwrap_or(&[]);
        Some((key, value))
    }
}

/// A value on the tape, not yet decoded.
#[derive(Clone, Copy, Debug)]
pub struct Raw<'a>(&'a [Node<'a>]);

impl<'a> Raw<'a> {
    /// Decodes the value.
    #[inline]
    pub fn value(self) -> Value<'a> {
        Value::at(self.0)
    }
}

/// Iterator over the members of an [`Obj`], values undecoded.
pub struct Members<'a> {
    rest: &'a [Node<'a>],
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, Raw<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (Node::String(key), tail) = self.rest.split_first()? else {
            return None;
        };
        let w = width(tail);
        self.rest = tail.get(w..).unwrap_or(&[]);
        Some((key, Raw(tail)))
    }
}

/// An array on the tape.
#[derive(Clone, Copy, Debug, Default)]
pub struct List<'a>(&'a [Node<'a>]);

impl<'a> List<'a> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self.0.first() {
            Some(Node::Array { len, .. }) => *len,
            _ => 0,
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Iterates the elements.
    pub fn iter(&self) -> ListIter<'a> {
        ListIter {
            rest: self.0.get(1..).unwrap_or(&[]),
        }
    }

    /// Iterates the string elements, skipping anything else.
    pub fn strs(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.iter().filter_map(|v| v.as_str())
    }

    /// True if some element is the string `s`.
    pub fn contains_str(&self, s: &str) -> bool {
        self.strs().any(|x| x == s)
    }
}

/// Iterator over the elements of a [`List`].
pub struct ListIter<'a> {
    rest: &'a [Node<'a>],
}

impl<'a> Iterator for ListIter<'a> {
    type Item = Value<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let w = width(self.rest);
        let v = Value::at(self.rest);
        self.rest = &self.rest[w..];
        Some(v)
    }
}
