//! A rule's matcher tree flattened into tests with jumps, evaluated without recursion.
//!
//! Each field test says where to go next when it holds and when it does not: the next test,
//! or the rule's verdict. `and`, `or` and `not` become jump targets at load time (`not` swaps
//! them), so evaluating a rule is a loop over the tests it needs, in the same order and with
//! the same short-circuits as the tree: an `and` stops at its first false child, an `or` at
//! its first true one.

use super::cache::FieldCache;
use super::detection::{Expr, FieldTest};
use super::matcher::RegexCaches;

/// Where evaluation goes after a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// The test at this index.
    Test(u32),
    /// The rule matches.
    Match,
    /// The rule does not match.
    NoMatch,
}

/// One test and its two successors.
#[derive(Clone, Debug)]
struct Step {
    test: FieldTest,
    if_true: Next,
    if_false: Next,
}

/// A compiled rule: its tests and where evaluation starts.
#[derive(Clone, Debug)]
pub(crate) struct Program {
    steps: Box<[Step]>,
    entry: Next,
}

impl Program {
    /// Flattens `expr`.
    pub(crate) fn new(expr: &Expr) -> Program {
        let mut steps = Vec::new();
        let entry = emit(expr, Next::Match, Next::NoMatch, &mut steps);
        Program {
            steps: steps.into_boxed_slice(),
            entry,
        }
    }

    /// True when the event in `cache` matches; `regexes` are the calling thread's caches.
    #[inline]
    pub(crate) fn eval(&self, cache: &mut FieldCache<'_, '_>, regexes: &mut RegexCaches) -> bool {
        let mut at = self.entry;
        loop {
            match at {
                Next::Test(i) => {
                    let step = &self.steps[i as usize];
                    at = if step.test.eval(cache, regexes) {
                        step.if_true
                    } else {
                        step.if_false
                    };
                }
                Next::Match => return true,
                Next::NoMatch => return false,
            }
        }
    }

    /// Every field test.
    #[cfg(test)]
    pub(crate) fn tests(&self) -> impl Iterator<Item = &FieldTest> {
        self.steps.iter().map(|s| &s.test)
    }
}

/// Appends the steps of `e`, which continues at `on_true` or `on_false`; returns its entry.
/// Children are emitted last to first, so each knows where its successor starts.
fn emit(e: &Expr, on_true: Next, on_false: Next, steps: &mut Vec<Step>) -> Next {
    match e {
        Expr::Test(t) => {
            let at = u32::try_from(steps.len()).unwrap_or(u32::MAX);
            steps.push(Step {
                test: (**t).clone(),
                if_true: on_true,
                if_false: on_false,
            });
            Next::Test(at)
        }
        // `and`: a false child ends it; a true one goes on to the next child.
        Expr::And(xs) => xs
            .iter()
            .rev()
            .fold(on_true, |next, x| emit(x, next, on_false, steps)),
        // `or`: a true child ends it; a false one goes on to the next child.
        Expr::Or(xs) => xs
            .iter()
            .rev()
            .fold(on_false, |next, x| emit(x, on_true, next, steps)),
        Expr::Not(x) => emit(x, on_false, on_true, steps),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::parse::Parser;
    use crate::rules::{RuleId, RuleSet};

    /// A condition over the selections `s0` .. `s3`.
    #[derive(Clone, Debug)]
    enum Cond {
        Sel(usize),
        Not(Box<Cond>),
        And(Vec<Cond>),
        Or(Vec<Cond>),
    }

    impl Cond {
        fn text(&self) -> String {
            let join = |xs: &[Cond], op: &str| {
                let parts: Vec<String> = xs.iter().map(Cond::text).collect();
                format!("({})", parts.join(op))
            };
            match self {
                Cond::Sel(i) => format!("s{i}"),
                Cond::Not(x) => format!("not {}", x.text()),
                Cond::And(xs) => join(xs, " and "),
                Cond::Or(xs) => join(xs, " or "),
            }
        }

        fn holds(&self, present: &[bool; 4]) -> bool {
            match self {
                Cond::Sel(i) => present[*i],
                Cond::Not(x) => !x.holds(present),
                Cond::And(xs) => xs.iter().all(|x| x.holds(present)),
                Cond::Or(xs) => xs.iter().any(|x| x.holds(present)),
            }
        }
    }

    fn cond() -> impl Strategy<Value = Cond> {
        (0..4usize)
            .prop_map(Cond::Sel)
            .prop_recursive(4, 24, 3, |inner| {
                prop_oneof![
                    inner.clone().prop_map(|x| Cond::Not(Box::new(x))),
                    prop::collection::vec(inner.clone(), 1..4).prop_map(Cond::And),
                    prop::collection::vec(inner, 1..4).prop_map(Cond::Or),
                ]
            })
    }

    proptest! {
        /// The flattened program decides like the condition it came from, for every event.
        #[test]
        fn programs_decide_like_their_conditions(c in cond()) {
            let mut detection = String::new();
            for i in 0..4 {
                detection.push_str(&format!("  s{i}:\n    request.data.f{i}|exists: true\n"));
            }
            let yaml = format!(
                "title: T\nid: 11111111-2222-3333-4444-555555555555\nlevel: low\n\
                 logsource: {{product: vault, service: audit}}\ndetection:\n{detection}  \
                 condition: {}\n",
                c.text()
            );
            let set = RuleSet::from_sources(&[("t.yml".into(), yaml)]).unwrap();
            let mut p = Parser::new();
            for mask in 0..16u8 {
                let present = [0, 1, 2, 3].map(|i| mask & (1 << i) != 0);
                let data: Vec<String> = (0..4)
                    .filter(|i| present[*i])
                    .map(|i| format!("\"f{i}\":\"x\""))
                    .collect();
                let line = format!(
                    "{{\"type\":\"response\",\"request\":{{\"path\":\"kv/a\",\"data\":{{{}}}}}}}",
                    data.join(",")
                );
                let mut got = None;
                p.parse_one(line.as_bytes(), |r| got = Some(set.matches(RuleId(0), &r.unwrap())));
                prop_assert_eq!(got, Some(c.holds(&present)), "{} on {}", c.text(), line);
            }
        }
    }
}
