//! Selections and conditions compiled into a matcher tree evaluated on each event.
//!
//! A selection that is a mapping ANDs its fields; a list of mappings ORs them; a list of values
//! under a field ORs the values (ANDs them with `|all`). The condition is inlined over the
//! compiled selections, nested `and`/`or` are flattened, and the children of each are sorted so
//! that cheap tests (typed fields, literal comparisons) run before tape walks and regexes.

use super::cache::{FieldCache, FieldId, FieldIds};
use super::condition::{self, Cond};
use super::error::{Pos, Sink};
use super::field::{Field, Slot};
use super::matcher::{Matcher, RegexCaches, Regexes};
use super::modifier::{Kind, Modifiers};
use super::yaml::{Node, Yaml};
use crate::model::Entry;

/// What a field must satisfy.
#[derive(Clone, Debug)]
enum Test {
    /// `field|exists: true|false`.
    Exists(bool),
    /// Any value matches (Sigma's default for value lists).
    Any(Vec<Matcher>),
    /// Every value matches (`|all`).
    All(Vec<Matcher>),
}

/// One `field|modifiers: values` entry.
#[derive(Clone, Debug)]
pub(crate) struct FieldTest {
    field: Field,
    /// The field's number in the rule set's [`FieldCache`].
    id: FieldId,
    test: Test,
    /// The verdict when the field is absent, decided at load time: most tests of an entry are
    /// on fields it does not have (`response.wrap_info.*`, `request.client_token` ...).
    when_absent: bool,
}

impl FieldTest {
    fn new(field: Field, test: Test) -> FieldTest {
        let when_absent = match &test {
            Test::Exists(want) => !want,
            Test::Any(ms) => ms.iter().any(Matcher::is_absent),
            Test::All(ms) => ms.iter().all(Matcher::is_absent),
        };
        FieldTest {
            field,
            id: FieldId::NONE,
            test,
            when_absent,
        }
    }

    /// The field tested.
    pub(crate) fn field(&self) -> &Field {
        &self.field
    }

    /// The field's number in the rule set.
    #[cfg(test)]
    pub(crate) fn field_id(&self) -> FieldId {
        self.id
    }

    /// The matchers when any of them may match (not `|all`, not `exists`).
    pub(crate) fn any_of(&self) -> Option<&[Matcher]> {
        match &self.test {
            Test::Any(ms) => Some(ms),
            _ => None,
        }
    }

    /// True when the field's values in the event satisfy the test.
    #[inline]
    pub(crate) fn eval(&self, cache: &mut FieldCache<'_, '_>, regexes: &mut RegexCaches) -> bool {
        let slot = cache.get(self.id, &self.field);
        if let Slot::Absent = slot {
            return self.when_absent;
        }
        let ev = cache.event();
        match &self.test {
            Test::Exists(want) => slot.any(&self.field, ev, &mut |_| true) == *want,
            Test::Any(ms) => any_matches(slot, &self.field, ms, ev, regexes),
            Test::All(ms) => ms
                .iter()
                .all(|m| any_matches(slot, &self.field, std::slice::from_ref(m), ev, regexes)),
        }
    }

    fn cost(&self) -> u32 {
        let access = if self.field.is_typed() { 1 } else { 4 };
        match &self.test {
            Test::Exists(_) => access,
            Test::Any(ms) | Test::All(ms) => access + ms.iter().map(Matcher::cost).sum::<u32>(),
        }
    }
}

/// True when a value of the field matches one of `ms`, or the field is absent and one of them
/// is `null`.
#[inline]
fn any_matches<'a>(
    slot: Slot<'a>,
    field: &Field,
    ms: &[Matcher],
    ev: &Entry<'a>,
    regexes: &mut RegexCaches,
) -> bool {
    match slot {
        Slot::Absent => ms.iter().any(Matcher::is_absent),
        Slot::Str(s) => ms.iter().any(|m| m.matches_str(s, regexes)),
        Slot::Value(_) | Slot::FanOut => {
            let mut present = false;
            let hit = slot.any(field, ev, &mut |v| {
                present = true;
                ms.iter().any(|m| m.matches(v, regexes))
            });
            hit || (!present && ms.iter().any(Matcher::is_absent))
        }
    }
}

/// A compiled detection.
#[derive(Clone, Debug)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Test(Box<FieldTest>),
}

impl Expr {
    /// Numbers the fields of every test walked on the tape, so equal names share a cache slot
    /// (typed fields are read from the entry, not cached).
    pub(crate) fn number_fields(&mut self, ids: &mut FieldIds) {
        match self {
            Expr::And(xs) | Expr::Or(xs) => xs.iter_mut().for_each(|x| x.number_fields(ids)),
            Expr::Not(x) => x.number_fields(ids),
            Expr::Test(t) if t.field.is_typed() => t.id = FieldId::NONE,
            Expr::Test(t) => t.id = ids.of(t.field.name()),
        }
    }

    fn cost(&self) -> u32 {
        match self {
            Expr::And(xs) | Expr::Or(xs) => xs.iter().map(Expr::cost).sum(),
            Expr::Not(x) => x.cost(),
            Expr::Test(t) => t.cost(),
        }
    }

    /// Flattens nested `and`/`or` and orders children cheapest first.
    fn optimize(self) -> Expr {
        match self {
            Expr::And(xs) => Expr::group(xs, true),
            Expr::Or(xs) => Expr::group(xs, false),
            Expr::Not(x) => Expr::Not(Box::new(x.optimize())),
            t @ Expr::Test(_) => t,
        }
    }

    fn group(xs: Vec<Expr>, is_and: bool) -> Expr {
        let mut flat = Vec::with_capacity(xs.len());
        for x in xs {
            match (x.optimize(), is_and) {
                (Expr::And(inner), true) | (Expr::Or(inner), false) => flat.extend(inner),
                (other, _) => flat.push(other),
            }
        }
        if flat.len() == 1 {
            return flat.remove(0);
        }
        flat.sort_by_key(Expr::cost);
        if is_and {
            Expr::And(flat)
        } else {
            Expr::Or(flat)
        }
    }

    fn from_cond(c: &Cond, sels: &[Expr]) -> Expr {
        match c {
            Cond::And(xs) => Expr::And(xs.iter().map(|x| Expr::from_cond(x, sels)).collect()),
            Cond::Or(xs) => Expr::Or(xs.iter().map(|x| Expr::from_cond(x, sels)).collect()),
            Cond::Not(x) => Expr::Not(Box::new(Expr::from_cond(x, sels))),
            Cond::Sel(i) => sels[*i].clone(),
        }
    }
}

fn used(c: &Cond, out: &mut [bool]) {
    match c {
        Cond::And(xs) | Cond::Or(xs) => xs.iter().for_each(|x| used(x, out)),
        Cond::Not(x) => used(x, out),
        Cond::Sel(i) => out[*i] = true,
    }
}

/// Compiles a `detection:` mapping. Errors go to `sink`; `None` if there were any.
pub(crate) fn compile(node: &Node, sink: &mut Sink<'_>, regexes: &mut Regexes) -> Option<Expr> {
    let Yaml::Map(entries) = &node.value else {
        sink.error(
            node.pos,
            format!("`detection` must be a mapping, not {}", node.kind()),
        );
        return None;
    };
    let errors_before = sink.error_count();
    let mut names: Vec<&str> = Vec::new();
    let mut name_pos: Vec<Pos> = Vec::new();
    let mut sels: Vec<Expr> = Vec::new();
    let mut condition: Option<&Node> = None;
    for (key, value) in entries {
        match key.name.as_str() {
            "condition" => condition = Some(value),
            "timeframe" => sink.error(
                key.pos,
                "`timeframe` is not supported; count events with a correlation rule instead",
            ),
            name => {
                // A broken selection keeps its slot so the condition still resolves the name;
                // the recorded error stops the rule from loading.
                names.push(name);
                name_pos.push(key.pos);
                sels.push(selection(value, sink, regexes).unwrap_or(Expr::And(Vec::new())));
            }
        }
    }
    let Some(cond_node) = condition else {
        sink.error(node.pos, "`detection` has no `condition`");
        return None;
    };
    let texts: Vec<&Node> = match &cond_node.value {
        Yaml::Scalar(..) => vec![cond_node],
        Yaml::Seq(items) if !items.is_empty() => items.iter().collect(),
        _ => {
            sink.error(
                cond_node.pos,
                format!("`condition` must be a string, not {}", cond_node.kind()),
            );
            return None;
        }
    };
    let mut conds = Vec::new();
    for t in texts {
        let Some(text) = t.as_str() else {
            sink.error(
                t.pos,
                format!("a condition must be a string, not {}", t.kind()),
            );
            continue;
        };
        match condition::parse(text, &names) {
            Ok(c) => conds.push(c),
            Err((offset, msg)) => sink.error(t.pos_at(offset), msg),
        }
    }
    if sink.error_count() > errors_before {
        return None;
    }
    let cond = if conds.len() == 1 {
        conds.remove(0)
    } else {
        Cond::Or(conds)
    };
    let mut seen = vec![false; names.len()];
    used(&cond, &mut seen);
    for (i, s) in seen.iter().enumerate() {
        if !s {
            sink.warning(
                name_pos[i],
                format!("selection `{}` is not used by the condition", names[i]),
            );
        }
    }
    Some(Expr::from_cond(&cond, &sels).optimize())
}

fn selection(node: &Node, sink: &mut Sink<'_>, regexes: &mut Regexes) -> Option<Expr> {
    match &node.value {
        Yaml::Map(entries) => {
            if entries.is_empty() {
                sink.error(node.pos, "empty selection");
                return None;
            }
            let mut tests = Vec::with_capacity(entries.len());
            let mut ok = true;
            for (key, value) in entries {
                match field_test(&key.name, key.pos, value, sink, regexes) {
                    Some(t) => tests.push(Expr::Test(Box::new(t))),
                    None => ok = false,
                }
            }
            ok.then_some(Expr::And(tests))
        }
        Yaml::Seq(items) => {
            if items.is_empty() {
                sink.error(node.pos, "empty selection");
                return None;
            }
            let mut alts = Vec::with_capacity(items.len());
            let mut ok = true;
            for item in items {
                if !matches!(item.value, Yaml::Map(_)) {
                    sink.error(
                        item.pos,
                        "keyword selections (plain values searched across the whole entry) are \
                         not supported; name the field, e.g. `request.path|contains: value`",
                    );
                    ok = false;
                    continue;
                }
                match selection(item, sink, regexes) {
                    Some(e) => alts.push(e),
                    None => ok = false,
                }
            }
            ok.then_some(Expr::Or(alts))
        }
        _ => {
            sink.error(
                node.pos,
                format!(
                    "a selection must be a mapping of fields or a list of mappings, not {}",
                    node.kind()
                ),
            );
            None
        }
    }
}

fn field_test(
    key: &str,
    key_pos: Pos,
    value: &Node,
    sink: &mut Sink<'_>,
    regexes: &mut Regexes,
) -> Option<FieldTest> {
    let (name, mods_text) = match key.split_once('|') {
        Some((n, m)) => (n, Some(m)),
        None => (key, None),
    };
    if name.is_empty() {
        sink.error(
            key_pos,
            "keyword selections (`'|all'` with no field) are not supported; name the field",
        );
        return None;
    }
    let field = match Field::resolve(name) {
        Ok(f) => f,
        Err(msg) => {
            sink.error(key_pos, msg);
            return None;
        }
    };
    let mods = match mods_text.map(Modifiers::parse) {
        None => Modifiers::default(),
        Some(Ok(m)) => m,
        Some(Err((offset, msg))) => {
            let at = name.chars().count() + 1 + offset;
            sink.error(key_pos.shifted(at), msg);
            return None;
        }
    };
    if mods.kind == Some(Kind::Exists) {
        let flag = value.as_str().map(str::to_ascii_lowercase);
        return match flag.as_deref() {
            Some("true") => Some(FieldTest::new(field, Test::Exists(true))),
            Some("false") => Some(FieldTest::new(field, Test::Exists(false))),
            _ => {
                sink.error(value.pos, "`exists` takes `true` or `false`");
                None
            }
        };
    }
    let values: Vec<&Node> = match &value.value {
        Yaml::Null | Yaml::Scalar(..) => vec![value],
        Yaml::Seq(items) => items.iter().collect(),
        Yaml::Map(_) => {
            sink.error(
                value.pos,
                format!(
                    "`{name}` has a nested mapping; write nested fields as a dotted name \
                     (`{name}.member: value`)"
                ),
            );
            return None;
        }
    };
    if values.is_empty() {
        sink.error(value.pos, format!("`{key}` has an empty list of values"));
        return None;
    }
    let mut matchers = Vec::with_capacity(values.len());
    for v in values {
        let text = match &v.value {
            Yaml::Null => None,
            Yaml::Scalar(s, _) => Some(s.as_str()),
            _ => {
                sink.error(v.pos, format!("a value must be a scalar, not {}", v.kind()));
                return None;
            }
        };
        match Matcher::compile(text, &mods, regexes) {
            Ok(m) => matchers.push(m),
            Err(msg) => {
                sink.error(v.pos, msg);
                return None;
            }
        }
    }
    let test = if mods.all {
        Test::All(matchers)
    } else {
        Test::Any(matchers)
    };
    Some(FieldTest::new(field, test))
}
