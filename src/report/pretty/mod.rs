//! A serde serializer that writes serde_json's pretty layout into a buffer, byte for byte, with
//! strings escaped eight bytes at a time.
//!
//! serde_json looks at every byte of every string on its own (a table lookup and a branch per
//! byte), and a large report is mostly strings: accessors, paths, addresses, file names and
//! times. On the busy gate log that loop was the single largest cost of writing the report
//! (docs/performance.md, issue 18's fourteenth round). Here a string is searched a word at a time
//! for the bytes JSON escapes (`"`, `\` and those below 0x20) and copied in runs between them.
//!
//! Everything else is serde_json's: scalars other than strings are written by serde_json itself
//! (compact and pretty printing agree on them), escapes are its escapes (`\"`, `\\`, `\b`,
//! `\f`, `\n`, `\r`, `\t`, `\u00XX` in lower case), and the layout is its `PrettyFormatter`'s:
//! two spaces per level, `": "` after a key, `[]` and `{}` for empty containers. The tests
//! compare the two on generated values.

use std::io;

use serde::Serialize;
use serde::ser;

use super::json::Pretty;

mod key;
use key::KeyWriter;

type Error = serde_json::Error;

/// Writes `value` as serde_json's pretty printer would at `depth` open containers (what it
/// writes there inside a larger document).
pub(super) fn write<T: ?Sized + Serialize>(
    value: &T,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    value.serialize(&mut Writer {
        out,
        depth,
        sink: None,
    })
}

/// [`write`] into `buf`, handing it to `sink` whenever it holds [`DRAIN_AT`] bytes or more
/// between two elements: a long list streams instead of filling the buffer (what is left in
/// `buf` at the end is the caller's to write).
pub(super) fn write_streaming<T: ?Sized + Serialize>(
    value: &T,
    depth: usize,
    buf: &mut Vec<u8>,
    sink: &mut dyn io::Write,
) -> Result<(), Error> {
    value.serialize(&mut Writer {
        out: buf,
        depth,
        sink: Some(sink),
    })
}

/// Bytes a streaming [`Writer`] collects before it hands them on.
const DRAIN_AT: usize = 1 << 16;

/// The output and the number of containers open around what is written next.
struct Writer<'b> {
    out: &'b mut Vec<u8>,
    depth: usize,
    /// Where a full buffer goes, when streaming.
    sink: Option<&'b mut dyn io::Write>,
}

impl Writer<'_> {
    /// Hands the buffer on when it is full enough (streaming only).
    fn drain(&mut self) -> Result<(), Error> {
        if let Some(sink) = self.sink.as_mut()
            && self.out.len() >= DRAIN_AT
        {
            sink.write_all(self.out).map_err(Error::io)?;
            self.out.clear();
        }
        Ok(())
    }

    fn open(&mut self, bracket: u8) {
        self.depth += 1;
        self.out.push(bracket);
    }

    /// Closes a container; a line break first when it held anything.
    fn close(&mut self, bracket: u8, had_values: bool) {
        self.depth -= 1;
        if had_values {
            self.line(false);
        }
        self.out.push(bracket);
    }

    /// A line break, after a comma when `comma`, and the current indentation.
    fn line(&mut self, comma: bool) {
        // Writing into a Vec cannot fail.
        let _ = Pretty::at(self.depth).line(self.out, comma);
    }

    fn string(&mut self, s: &str) {
        self.out.push(b'"');
        escape(self.out, s.as_bytes());
        self.out.push(b'"');
    }

    /// A float as serde_json writes it (compact and pretty printing agree on it).
    fn float<T: Serialize>(&mut self, v: T) -> Result<(), Error> {
        serde_json::to_writer(&mut *self.out, &v)
    }
}

/// Appends `bytes` (UTF-8) to `out` with JSON's escapes.
fn escape(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut run = 0;
    while let Some(at) = first_special(&bytes[run..]) {
        out.extend_from_slice(&bytes[run..run + at]);
        push_escape(out, bytes[run + at]);
        run += at + 1;
    }
    out.extend_from_slice(&bytes[run..]);
}

/// Where the first byte that JSON escapes is, searched eight bytes at a time. The last word
/// overlaps the one before it (or, in a string shorter than a word, two halves overlap), so a
/// string is read in whole words with no byte loop and no copy.
#[inline]
fn first_special(bytes: &[u8]) -> Option<usize> {
    let n = bytes.len();
    if n < 8 {
        return first_special_short(bytes);
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let mut at = 0;
    while at + 8 < n {
        if let Some(k) = special_in(word(at)) {
            return Some(at + k);
        }
        at += 8;
    }
    // The bytes before `at` hold none, so the first found in the last word is the first.
    special_in(word(n - 8)).map(|k| n - 8 + k)
}

/// [`first_special`] for fewer than eight bytes: two overlapping halves of four (the first
/// searched first), or the bytes one by one below four.
#[inline]
fn first_special_short(bytes: &[u8]) -> Option<usize> {
    let n = bytes.len();
    if n < 4 {
        return bytes
            .iter()
            .position(|&b| b < 0x20 || b == b'"' || b == b'\\');
    }
    let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    // The halves side by side in one word: `k` below 4 is in the first, from 4 in the second.
    let x = u64::from(half(0)) | u64::from(half(n - 4)) << 32;
    special_in(x).map(|k| if k < 4 { k } else { n + k - 8 })
}

/// The first of the eight bytes of `x` (little-endian) that JSON escapes.
#[inline(always)]
fn special_in(x: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The classic "has a zero byte" and "has a byte below n" tests: each flags its lowest
    // matching byte exactly (a borrow can flag bytes above it, never below).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    let quote = zero(x ^ (ONES * u64::from(b'"')));
    let backslash = zero(x ^ (ONES * u64::from(b'\\')));
    let found = (control | quote | backslash) & HIGH;
    (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
}

/// serde_json's escape of one byte that needs one.
fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

/// An open array or object (or a variant's wrapping object around one).
pub(super) struct Compound<'a, 'b> {
    w: &'a mut Writer<'b>,
    state: State,
    /// A variant: the object around the container, to close after it.
    variant: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Written whole already (`[]`, `{}`: a length of zero was announced).
    Empty,
    First,
    Rest,
}

impl<'a, 'b> Compound<'a, 'b> {
    fn open(w: &'a mut Writer<'b>, bracket: u8, len: Option<usize>, variant: bool) -> Self {
        w.open(bracket);
        let state = if len == Some(0) {
            w.close(bracket + 2, false);
            State::Empty
        } else {
            State::First
        };
        Compound { w, state, variant }
    }

    /// Before an element or key: the line break, after a comma but for the first.
    fn next(&mut self) -> Result<(), Error> {
        self.w.drain()?;
        let comma = self.state == State::Rest;
        self.state = State::Rest;
        self.w.line(comma);
        Ok(())
    }

    fn close(self, bracket: u8) -> Result<(), Error> {
        if self.state != State::Empty {
            self.w.close(bracket, self.state == State::Rest);
        }
        if self.variant {
            self.w.close(b'}', true);
        }
        Ok(())
    }

    fn element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.next()?;
        v.serialize(&mut *self.w)
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &str, v: &T) -> Result<(), Error> {
        self.next()?;
        self.w.string(key);
        self.w.out.extend_from_slice(b": ");
        v.serialize(&mut *self.w)
    }
}

/// `fn $name(self, v)` writing the integer `v` in decimal, as serde_json does (with itoa).
macro_rules! integers {
    ($($name:ident($t:ty);)*) => {
        $(fn $name(self, v: $t) -> Result<(), Error> {
            self.out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            Ok(())
        })*
    };
}

impl<'a, 'b> ser::Serializer for &'a mut Writer<'b> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'b>;
    type SerializeTuple = Compound<'a, 'b>;
    type SerializeTupleStruct = Compound<'a, 'b>;
    type SerializeTupleVariant = Compound<'a, 'b>;
    type SerializeMap = Compound<'a, 'b>;
    type SerializeStruct = Compound<'a, 'b>;
    type SerializeStructVariant = Compound<'a, 'b>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers! {
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        let mut object = Compound::open(self, b'{', None, false);
        object.field(variant, v)?;
        object.close(b'}')
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a, 'b>, Error> {
        Ok(Compound::open(self, b'[', len, false))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, 'b>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        Ok(open_variant(self, variant, b'[', len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a, 'b>, Error> {
        Ok(Compound::open(self, b'{', len, false))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'a, 'b>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        Ok(open_variant(self, variant, b'{', len))
    }
}

/// A variant's wrapping object (`{`, a line break, the key) and the container inside it, whose
/// end closes both.
fn open_variant<'a, 'b>(
    w: &'a mut Writer<'b>,
    variant: &str,
    bracket: u8,
    len: usize,
) -> Compound<'a, 'b> {
    w.open(b'{');
    w.line(false);
    w.string(variant);
    w.out.extend_from_slice(b": ");
    Compound::open(w, bracket, Some(len), true)
}

/// The traits of the array-like compounds: each element on a line, `]` at the end.
macro_rules! array_like {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
                self.element(v)
            }
            fn end(self) -> Result<(), Error> {
                self.close(b']')
            }
        })*
    };
}

array_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.next()?;
        key.serialize(KeyWriter(&mut *self.w))
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.w.out.extend_from_slice(b": ");
        v.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        self.close(b'}')
    }
}

/// The traits of the struct-like compounds: each field on a line, `}` at the end.
macro_rules! struct_like {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), Error> {
                self.field(key, v)
            }
            fn end(self) -> Result<(), Error> {
                self.close(b'}')
            }
        })*
    };
}

struct_like!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests;
