//! Cheap necessary conditions checked before a rule's matcher tree.
//!
//! Most rules require a particular `request.operation` or a `request.path` prefix (`sys/audit/`,
//! `auth/token/create`). At load time those requirements are read off each rule's matcher tree:
//! a set of operations as a bit mask, and a set of path prefixes with a bitmap of their first
//! bytes. Per event, the operation bit and the path are computed once, and a rule whose guard
//! fails is skipped without walking its tree. A guard only ever skips rules that could not match.

use super::detection::Expr;
use crate::model::{Entry, Operation};

/// Every operation the guard distinguishes, one bit each.
const ALL_OPS: u16 = u16::MAX;

fn op_bit(op: Operation) -> u16 {
    1 << (op as u16)
}

/// The bit of the operation a `request.operation` literal can match.
fn literal_op_bit(value: &str) -> u16 {
    let lower = value.to_ascii_lowercase();
    let op = Operation::parse(&lower);
    // The typed field reads known operations by their canonical name; anything else (including
    // `write`, which reads as `update`) is read from the tape and can only be `Other`.
    if op != Operation::Other && op.as_str() == lower {
        op_bit(op)
    } else {
        op_bit(Operation::Other)
    }
}

/// What an event must satisfy for a rule to be worth evaluating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Need {
    ops: Option<u16>,
    prefixes: Option<Vec<String>>,
}

impl Need {
    fn of(e: &Expr) -> Need {
        match e {
            Expr::Test(t) => {
                let Some(ms) = t.any_of() else {
                    return Need::default();
                };
                let f = t.field();
                if f.is_request_operation() {
                    let lits: Option<Vec<&str>> = ms.iter().map(|m| m.literal_equals()).collect();
                    Need {
                        ops: lits.map(|l| l.iter().fold(0, |acc, v| acc | literal_op_bit(v))),
                        prefixes: None,
                    }
                } else if f.is_request_path() {
                    let lits: Option<Vec<String>> = ms
                        .iter()
                        .map(|m| m.literal_prefix().map(str::to_ascii_lowercase))
                        .collect();
                    Need {
                        ops: None,
                        prefixes: lits,
                    }
                } else {
                    Need::default()
                }
            }
            Expr::And(xs) => xs.iter().map(Need::of).fold(Need::default(), |a, b| Need {
                ops: match (a.ops, b.ops) {
                    (Some(x), Some(y)) => Some(x & y),
                    (x, y) => x.or(y),
                },
                prefixes: match (a.prefixes, b.prefixes) {
                    (Some(x), Some(y)) => Some(if x.len() <= y.len() { x } else { y }),
                    (x, y) => x.or(y),
                },
            }),
            Expr::Or(xs) => {
                let needs: Vec<Need> = xs.iter().map(Need::of).collect();
                let ops = needs
                    .iter()
                    .map(|n| n.ops)
                    .try_fold(0u16, |acc, o| o.map(|o| acc | o));
                let prefixes =
                    needs
                        .iter()
                        .map(|n| n.prefixes.clone())
                        .try_fold(Vec::new(), |mut acc, p| {
                            acc.extend(p?);
                            Some(acc)
                        });
                Need { ops, prefixes }
            }
            Expr::Not(_) => Need::default(),
        }
    }
}

/// A rule's guard.
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    ops: u16,
    /// Bitmap of the lower-cased first bytes of `prefixes`; all ones when there are none.
    first: [u64; 4],
    prefixes: Option<Box<[Box<[u8]>]>>,
}

/// The parts of an event the guards read, computed once per event.
pub(crate) struct Key<'a> {
    op: u16,
    path: &'a [u8],
    first: u8,
}

impl<'a> Key<'a> {
    pub(crate) fn of(ev: &Entry<'a>) -> Key<'a> {
        let path = ev.request.path.as_bytes();
        Key {
            op: op_bit(ev.request.operation),
            path,
            first: path.first().map_or(0, u8::to_ascii_lowercase),
        }
    }
}

/// Operation bits a guard distinguishes (the width of [`Guard::ops`]).
const OP_SLOTS: usize = u16::BITS as usize;

/// The rules whose guard passes the operation check, per operation, and the first-byte check,
/// per byte, as bitsets in rule order: an event visits only the rules in both (most skip all
/// but a few), still in the order of the rule set.
#[derive(Clone, Debug)]
pub(crate) struct GuardIndex {
    /// 64-bit words per bitset.
    words: usize,
    /// The bitset of operation slot `o` starts at `o * words`.
    by_op: Box<[u64]>,
    /// The bitset of lower-cased first byte `b` starts at `b * words`.
    by_first: Box<[u64]>,
}

impl GuardIndex {
    /// Indexes `guards`, in rule order.
    pub(crate) fn new<'g>(guards: impl ExactSizeIterator<Item = &'g Guard>) -> GuardIndex {
        let words = guards.len().div_ceil(64);
        let mut by_op = vec![0u64; OP_SLOTS * words];
        let mut by_first = vec![0u64; 256 * words];
        for (i, g) in guards.enumerate() {
            let (word, bit) = (i / 64, 1 << (i % 64));
            for op in 0..OP_SLOTS {
                if g.ops & (1 << op) != 0 {
                    by_op[op * words + word] |= bit;
                }
            }
            for b in 0..=u8::MAX {
                if g.admits_first(b) {
                    by_first[usize::from(b) * words + word] |= bit;
                }
            }
        }
        GuardIndex {
            words,
            by_op: by_op.into_boxed_slice(),
            by_first: by_first.into_boxed_slice(),
        }
    }

    /// Number of words in a bitset of rules.
    #[inline]
    pub(crate) fn words(&self) -> usize {
        self.words
    }

    /// Word `w` of the bitset of rules whose guard may admit an event with this key (the path
    /// prefixes are still to be checked).
    #[inline]
    pub(crate) fn candidates(&self, k: &Key<'_>, w: usize) -> u64 {
        let op = k.op.trailing_zeros() as usize;
        self.by_op[op * self.words + w] & self.by_first[usize::from(k.first) * self.words + w]
    }
}

impl Guard {
    pub(crate) fn of(e: &Expr) -> Guard {
        let need = Need::of(e);
        let mut first = [u64::MAX; 4];
        let prefixes = need.prefixes.and_then(|ps| {
            // An empty prefix admits every path: no guard.
            if ps.iter().any(String::is_empty) {
                return None;
            }
            first = [0; 4];
            for p in &ps {
                let b = p.as_bytes()[0];
                first[usize::from(b >> 6)] |= 1 << (b & 63);
            }
            Some(
                ps.into_iter()
                    .map(|p| p.into_bytes().into_boxed_slice())
                    .collect(),
            )
        });
        Guard {
            ops: need.ops.unwrap_or(ALL_OPS),
            first,
            prefixes,
        }
    }

    /// False when the rule cannot match the event.
    #[inline]
    pub(crate) fn admits(&self, k: &Key<'_>) -> bool {
        self.ops & k.op != 0 && self.admits_first(k.first) && self.admits_path(k)
    }

    /// False when no path starting with the (lower-cased) byte `b` can match.
    #[inline]
    fn admits_first(&self, b: u8) -> bool {
        self.first[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    /// False when the path has none of the prefixes; the first byte is known to be one of
    /// theirs (see [`GuardIndex`]).
    #[inline]
    pub(crate) fn admits_path(&self, k: &Key<'_>) -> bool {
        let Some(prefixes) = &self.prefixes else {
            return true;
        };
        prefixes
            .iter()
            .any(|p| k.path.len() >= p.len() && k.path[..p.len()].eq_ignore_ascii_case(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn guard_of(detection: &str) -> Guard {
        let yaml = format!(
            "title: T\nid: 11111111-2222-3333-4444-555555555555\nlevel: low\n\
             logsource: {{product: vault, service: audit}}\ndetection:\n{detection}"
        );
        let set = RuleSet::from_sources(&[("t.yml".into(), yaml)]).unwrap();
        set.guard_of_first_rule()
    }

    #[test]
    fn reads_operations_and_path_prefixes_from_the_tree() {
        let g = guard_of(
            "  s:\n    request.path|startswith: [SYS/audit/, sys/raw]\n    \
             request.operation: [update, delete]\n  condition: s\n",
        );
        assert_eq!(g.ops, op_bit(Operation::Update) | op_bit(Operation::Delete));
        assert_eq!(g.prefixes.as_ref().unwrap().len(), 2);
        assert_eq!(&*g.prefixes.as_ref().unwrap()[0], b"sys/audit/");
    }

    #[test]
    fn the_index_lists_the_rules_passing_the_operation_and_first_byte_checks() {
        let set = RuleSet::builtin().unwrap();
        let guards = set.guards();
        let index = GuardIndex::new(guards.iter().copied());
        let ops = [
            Operation::Create,
            Operation::Read,
            Operation::Update,
            Operation::Delete,
            Operation::List,
            Operation::Patch,
            Operation::Help,
            Operation::Other,
        ];
        for op in ops {
            for first in 0..=u8::MAX {
                let path = [first];
                let k = Key {
                    op: op_bit(op),
                    path: &path,
                    first: first.to_ascii_lowercase(),
                };
                for (i, g) in guards.iter().enumerate() {
                    let want = g.ops & k.op != 0 && g.admits_first(k.first);
                    let listed = index.candidates(&k, i / 64) & (1 << (i % 64)) != 0;
                    assert_eq!(listed, want, "{op:?} {first}");
                }
            }
        }
    }

    #[test]
    fn or_needs_every_branch_and_not_gives_nothing() {
        let g = guard_of(
            "  a:\n    request.operation: delete\n  b:\n    request.operation: update\n    \
             request.path|contains: /destroy/\n  condition: a or b\n",
        );
        assert_eq!(g.ops, op_bit(Operation::Delete) | op_bit(Operation::Update));
        assert!(g.prefixes.is_none());
        let g = guard_of(
            "  a:\n    request.operation: delete\n  b:\n    error: x\n  condition: a or b\n",
        );
        assert_eq!(g.ops, ALL_OPS);
        let g = guard_of("  a:\n    request.operation: delete\n  condition: not a\n");
        assert_eq!(g.ops, ALL_OPS);
        let g = guard_of("  a:\n    request.operation: [write, rollback]\n  condition: a\n");
        assert_eq!(g.ops, op_bit(Operation::Other));
    }
}
