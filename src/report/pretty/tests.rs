use super::*;
use proptest::prelude::*;
use serde_json::Value;

/// serde_json's pretty printing of `v` at `depth`, through our `Pretty` formatter (which
/// its own tests hold to `to_vec_pretty`).
fn theirs<T: Serialize>(v: &T, depth: usize) -> String {
    let mut out = Vec::new();
    v.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out,
        Pretty::at(depth),
    ))
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn ours<T: Serialize>(v: &T, depth: usize) -> String {
    let mut out = Vec::new();
    write(v, depth, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Strings around every byte JSON escapes, at every position of an 8-byte word.
#[test]
fn escapes_every_byte_as_serde_json_does() {
    for b in (0u8..0x80).chain([b'"', b'\\']) {
        for pad in 0..17 {
            let s = format!("{}{}{}é", "a".repeat(pad), b as char, "z".repeat(pad % 5));
            assert_eq!(ours(&s, 0), theirs(&s, 0), "byte {b:#x}, pad {pad}");
        }
    }
    let hostile = "\u{7f}\u{2028}\"\\\n\t\r\u{8}\u{c}\u{1b}[31m\u{0}";
    assert_eq!(ours(&hostile, 3), theirs(&hostile, 3));
}

#[derive(Serialize)]
enum Shape {
    Unit,
    Newtype(u8),
    Tuple(i32, Vec<u8>),
    Struct { a: Option<String>, b: Vec<Shape> },
}

#[derive(Serialize)]
struct Record {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<u8>,
    empty: Vec<u8>,
    shapes: Vec<Shape>,
    keys: std::collections::BTreeMap<u64, bool>,
    bools: std::collections::BTreeMap<bool, ()>,
    floats: [f64; 3],
    bytes: serde_bytes_like::Bytes,
    unit: (),
    big: (i128, u128),
    ch: char,
}

/// A type serialising through `serialize_bytes`.
mod serde_bytes_like {
    pub struct Bytes(pub Vec<u8>);
    impl serde::Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }
}

/// Every kind of value serde has, nested, at several starting depths.
#[test]
fn writes_every_kind_of_value_as_serde_json_does() {
    let r = Record {
        name: "n",
        skipped: None,
        empty: vec![],
        shapes: vec![
            Shape::Unit,
            Shape::Newtype(7),
            Shape::Tuple(-3, vec![]),
            Shape::Tuple(0, vec![1, 2]),
            Shape::Struct { a: None, b: vec![] },
            Shape::Struct {
                a: Some("x".into()),
                b: vec![
                    Shape::Unit,
                    Shape::Struct {
                        a: None,
                        b: vec![Shape::Newtype(1)],
                    },
                ],
            },
        ],
        keys: [(1, true), (u64::MAX, false)].into(),
        bools: [(true, ()), (false, ())].into(),
        floats: [0.1, -2.5e300, f64::NAN],
        bytes: serde_bytes_like::Bytes(vec![0, 255]),
        unit: (),
        big: (i128::MIN, u128::MAX),
        ch: '"',
    };
    for depth in [0, 1, 2, 40] {
        assert_eq!(ours(&r, depth), theirs(&r, depth), "depth {depth}");
    }
    let empty: Vec<Record> = Vec::new();
    assert_eq!(ours(&empty, 1), theirs(&empty, 1));
}

fn values() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\"\\\\\\x00-\\x1f a-z]{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Any JSON value, at any depth: the same bytes as serde_json.
    #[test]
    fn any_value_is_written_as_serde_json_writes_it(v in values(), depth in 0usize..70) {
        prop_assert_eq!(ours(&v, depth), theirs(&v, depth));
    }
}
