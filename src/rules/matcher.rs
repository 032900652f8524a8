//! Field modifiers and the value matchers they compile to.
//!
//! Sigma compares strings case-insensitively unless `|cased` is given. Matching folds ASCII
//! case on the fly, without allocating: patterns are lower-cased once at load time and compared
//! with `eq_ignore_ascii_case`; non-ASCII characters compare exactly. Plain values, `contains`,
//! `startswith` and `endswith` become literal comparisons; only values with `*`/`?` wildcards in
//! the middle, and `re`, use the regex engine. Numbers and booleans in the log are compared by
//! their JSON text (`false`, `5000`).

use std::sync::Arc;

use memchr::memmem;

use super::cidr::Cidr;
use super::modifier::{Kind, Modifiers, NumOp, ReFlags, kind_name};
use super::regexes::Re;
pub(crate) use super::regexes::{RegexCaches, Regexes};
use crate::model::tape::Value;

/// How a text pattern is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextOp {
    Equals,
    StartsWith,
    EndsWith,
    Contains,
}

/// Whether letters must match in case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Case {
    /// Sigma's default: ASCII letters match in either case.
    Insensitive,
    /// `|cased`.
    Sensitive,
}

/// One compiled value of a field test.
#[derive(Clone, Debug)]
pub(crate) enum Matcher {
    /// A literal comparison (boxed: the substring finder is large).
    Text(Box<Text>),
    /// A regex (`re`, or a value with wildcards in the middle).
    Regex(Arc<Re>),
    /// An address range.
    Cidr(Cidr),
    /// A numeric comparison.
    Num(NumOp, f64),
    /// `null`: matches when the field is absent.
    Absent,
}

impl Matcher {
    /// Compiles one value under `mods` (not `exists`, which has no matcher).
    pub(crate) fn compile(
        value: Option<&str>,
        mods: &Modifiers,
        regexes: &mut Regexes,
    ) -> Result<Matcher, String> {
        let Some(value) = value else {
            return match mods.kind {
                None => Ok(Matcher::Absent),
                Some(k) => Err(format!("`{}` needs a value, not null", kind_name(k))),
            };
        };
        let case = if mods.cased {
            Case::Sensitive
        } else {
            Case::Insensitive
        };
        match mods.kind {
            None => Ok(from_pattern(parse_wildcards(value), case, regexes)?),
            Some(Kind::Contains) => {
                let mut p = vec![Piece::Star];
                p.extend(parse_wildcards(value));
                p.push(Piece::Star);
                from_pattern(p, case, regexes)
            }
            Some(Kind::StartsWith) => {
                let mut p = parse_wildcards(value);
                p.push(Piece::Star);
                from_pattern(p, case, regexes)
            }
            Some(Kind::EndsWith) => {
                let mut p = vec![Piece::Star];
                p.extend(parse_wildcards(value));
                from_pattern(p, case, regexes)
            }
            Some(Kind::Re) => regexes
                .get(value, mods.re_flags)
                .map(Matcher::Regex)
                .map_err(|e| format!("invalid regular expression: {e}")),
            Some(Kind::Cidr) => Cidr::parse(value)
                .map(Matcher::Cidr)
                .map_err(|e| e.to_string()),
            Some(Kind::Num(op)) => value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|n| Matcher::Num(op, n))
                .ok_or_else(|| {
                    format!(
                        "`{}` needs a number, not `{value}`",
                        kind_name(Kind::Num(op))
                    )
                }),
            Some(Kind::Exists) => Err("`exists` takes true or false".into()),
        }
    }

    /// Relative cost, so cheap tests run first.
    pub(crate) fn cost(&self) -> u32 {
        match self {
            Matcher::Text(_) | Matcher::Absent | Matcher::Num(..) => 1,
            Matcher::Cidr(_) => 2,
            Matcher::Regex(_) => 16,
        }
    }

    /// The literal of an equality or prefix comparison: a value matching this matcher starts
    /// with it (ignoring ASCII case). `None` for every other matcher.
    pub(crate) fn literal_prefix(&self) -> Option<&str> {
        match self {
            Matcher::Text(t) if matches!(t.op, TextOp::Equals | TextOp::StartsWith) => Some(&t.pat),
            _ => None,
        }
    }

    /// The literal of an equality comparison.
    pub(crate) fn literal_equals(&self) -> Option<&str> {
        match self {
            Matcher::Text(t) if t.op == TextOp::Equals => Some(&t.pat),
            _ => None,
        }
    }

    /// True for the `null` matcher.
    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Matcher::Absent)
    }

    /// [`Matcher::matches`] on a string value, without wrapping it.
    #[inline]
    pub(crate) fn matches_str(&self, s: &str, caches: &mut RegexCaches) -> bool {
        match self {
            Matcher::Text(t) => t.matches(s),
            Matcher::Regex(re) => re.is_match(s, caches),
            other => other.matches(Value::Str(s), caches),
        }
    }

    /// True when the present value `v` matches; `caches` are the calling thread's.
    #[inline]
    pub(crate) fn matches(&self, v: Value<'_>, caches: &mut RegexCaches) -> bool {
        match self {
            Matcher::Text(t) => with_text(v, |s| t.matches(s)),
            Matcher::Regex(re) => with_text(v, |s| re.is_match(s, caches)),
            Matcher::Cidr(c) => v.as_str().is_some_and(|s| c.contains(s)),
            Matcher::Num(op, bound) => number(v).is_some_and(|x| op.holds(x, *bound)),
            Matcher::Absent => false,
        }
    }
}

/// A literal pattern: lower-cased when case-insensitive.
#[derive(Clone, Debug)]
pub(crate) struct Text {
    op: TextOp,
    case: Case,
    pat: Box<str>,
    finder: Option<memmem::Finder<'static>>,
}

impl Text {
    fn new(op: TextOp, case: Case, pat: String) -> Text {
        let pat = match case {
            Case::Insensitive => pat.to_ascii_lowercase(),
            Case::Sensitive => pat,
        };
        let finder = (op == TextOp::Contains && case == Case::Sensitive)
            .then(|| memmem::Finder::new(pat.as_bytes()).into_owned());
        Text {
            op,
            case,
            pat: pat.into_boxed_str(),
            finder,
        }
    }

    #[inline]
    fn matches(&self, s: &str) -> bool {
        let (h, p) = (s.as_bytes(), self.pat.as_bytes());
        match (self.op, self.case) {
            (TextOp::Equals, Case::Sensitive) => h == p,
            (TextOp::Equals, Case::Insensitive) => h.eq_ignore_ascii_case(p),
            (TextOp::StartsWith, Case::Sensitive) => h.starts_with(p),
            (TextOp::StartsWith, Case::Insensitive) => {
                h.len() >= p.len() && h[..p.len()].eq_ignore_ascii_case(p)
            }
            (TextOp::EndsWith, Case::Sensitive) => h.ends_with(p),
            (TextOp::EndsWith, Case::Insensitive) => {
                h.len() >= p.len() && h[h.len() - p.len()..].eq_ignore_ascii_case(p)
            }
            (TextOp::Contains, Case::Sensitive) => match &self.finder {
                Some(f) => f.find(h).is_some(),
                None => memmem::find(h, p).is_some(),
            },
            (TextOp::Contains, Case::Insensitive) => contains_fold(h, p),
        }
    }
}

/// Finds `needle` (already lower-case) in `hay` ignoring ASCII case, without allocating.
fn contains_fold(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, _)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    let upper = first.to_ascii_uppercase();
    let mut at = 0;
    while at <= last_start {
        let window = &hay[at..=last_start];
        let found = if upper == first {
            memchr::memchr(first, window)
        } else {
            memchr::memchr2(first, upper, window)
        };
        let Some(i) = found else {
            return false;
        };
        let start = at + i;
        if hay[start..start + needle.len()].eq_ignore_ascii_case(needle) {
            return true;
        }
        at = start + 1;
    }
    false
}

/// Part of a plain value: text, `*` or `?`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Star,
    One,
}

/// Splits a value at unescaped `*` and `?`. A backslash escapes `*`, `?` and itself; any other
/// backslash is literal (Sigma's escaping rules).
fn parse_wildcards(value: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(if c == '*' { Piece::Star } else { Piece::One });
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

/// Picks the cheapest matcher for a wildcard pattern.
fn from_pattern(mut p: Vec<Piece>, case: Case, regexes: &mut Regexes) -> Result<Matcher, String> {
    p.dedup_by(|a, b| *a == Piece::Star && *b == Piece::Star);
    let text = |op, s: &String| Ok(Matcher::Text(Box::new(Text::new(op, case, s.clone()))));
    match p.as_slice() {
        [] => text(TextOp::Equals, &String::new()),
        [Piece::Lit(s)] => text(TextOp::Equals, s),
        [Piece::Star] => text(TextOp::Contains, &String::new()),
        [Piece::Lit(s), Piece::Star] => text(TextOp::StartsWith, s),
        [Piece::Star, Piece::Lit(s)] => text(TextOp::EndsWith, s),
        [Piece::Star, Piece::Lit(s), Piece::Star] => text(TextOp::Contains, s),
        _ => {
            let mut re = String::from("^");
            for piece in &p {
                match piece {
                    Piece::Lit(s) => re.push_str(&regex::escape(s)),
                    Piece::Star => re.push_str(".*"),
                    Piece::One => re.push('.'),
                }
            }
            re.push('$');
            let flags = ReFlags {
                insensitive: case == Case::Insensitive,
                multi_line: false,
                dot_all: true,
            };
            regexes
                .get(&re, flags)
                .map(Matcher::Regex)
                .map_err(|e| format!("wildcard pattern too large: {e}"))
        }
    }
}

/// Runs `f` on the JSON text of a scalar value; objects never match.
#[inline]
fn with_text(v: Value<'_>, f: impl FnOnce(&str) -> bool) -> bool {
    match v {
        Value::Str(s) => f(s),
        Value::Bool(b) => f(if b { "true" } else { "false" }),
        Value::Int(i) => {
            let mut buf = [0u8; 24];
            f(format_int(i, &mut buf))
        }
        Value::Float(x) => {
            let mut buf = StackText::default();
            use std::fmt::Write;
            let _ = write!(buf, "{x}");
            f(buf.as_str())
        }
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

fn format_int(i: i64, buf: &mut [u8; 24]) -> &str {
    let mut n = i.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    // Only ASCII digits and '-' were written.
    std::str::from_utf8(&buf[at..]).unwrap_or("")
}

/// A small fixed buffer for formatting floats without allocating.
struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText {
            buf: [0; 64],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes the JSON text of a scalar into `out` (for group keys and distinct values).
pub(crate) fn render(v: Value<'_>, out: &mut String) -> bool {
    with_text(v, |s| {
        out.push_str(s);
        true
    })
}

fn number(v: Value<'_>) -> Option<f64> {
    match v {
        Value::Int(i) => Some(i as f64),
        Value::Float(x) => Some(x),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(value: &str, mods: &str) -> Matcher {
        let mods = if mods.is_empty() {
            Modifiers::default()
        } else {
            Modifiers::parse(mods).unwrap()
        };
        Matcher::compile(Some(value), &mods, &mut Regexes::default()).unwrap()
    }

    fn hit(value: &str, mods: &str, s: &str) -> bool {
        m(value, mods).matches(Value::Str(s), &mut RegexCaches::default())
    }

    #[test]
    fn plain_values_are_case_insensitive_equality() {
        assert!(hit("Root", "", "root"));
        assert!(!hit("root", "", "root2"));
        assert!(!hit("Root", "cased", "root"));
        assert!(hit("root", "cased", "root"));
    }

    #[test]
    fn literal_modifiers_fold_case_without_regex() {
        assert!(matches!(m("sys/", "startswith"), Matcher::Text(_)));
        assert!(hit("SYS/audit/", "startswith", "sys/audit/file"));
        assert!(hit("/Login", "endswith", "auth/userpass/login"));
        assert!(hit(
            "Permission Denied",
            "contains",
            "1 error occurred:\n\t* permission denied\n\n"
        ));
        assert!(!hit("denied", "contains", "deni"));
        assert!(hit("aab", "contains", "xaaab"));
        assert!(hit("Ab", "contains|cased", "xxAb"));
        assert!(!hit("Ab", "contains|cased", "xxab"));
    }

    #[test]
    fn wildcards_pick_the_cheapest_matcher() {
        assert!(matches!(m("sys/raw*", ""), Matcher::Text(_)));
        assert!(matches!(m("*denied*", ""), Matcher::Text(_)));
        assert!(matches!(m("auth/*/login", ""), Matcher::Regex(_)));
        assert!(hit("auth/*/login", "", "auth/userpass/login"));
        assert!(!hit("auth/*/login", "", "auth/userpass/login/x"));
        assert!(hit("a?c", "", "ABC"));
        assert!(!hit("a?c", "", "ac"));
        assert!(hit("*", "", "anything"));
    }

    #[test]
    fn backslash_escapes_wildcards() {
        assert!(hit(r"a\*b", "", "a*b"));
        assert!(!hit(r"a\*b", "", "axxb"));
        assert!(hit(r"a\b", "", r"a\b"));
        assert!(hit(r"a\\*", "", r"a\xyz"));
    }

    #[test]
    fn regexes_are_case_sensitive_unless_i() {
        assert!(hit("^auth/.+/login", "re", "auth/approle/login"));
        assert!(!hit("^auth/.+/login", "re", "AUTH/approle/login"));
        assert!(hit("^auth/.+/login", "re|i", "AUTH/approle/login"));
    }

    #[test]
    fn scalars_compare_by_json_text() {
        let f = m("false", "");
        assert!(f.matches(Value::Bool(false), &mut RegexCaches::default()));
        assert!(!f.matches(Value::Bool(true), &mut RegexCaches::default()));
        assert!(m("5000", "").matches(Value::Int(5000), &mut RegexCaches::default()));
        assert!(m("-12", "").matches(Value::Int(-12), &mut RegexCaches::default()));
        assert!(m("100", "gte").matches(Value::Int(100), &mut RegexCaches::default()));
        assert!(!m("100", "gt").matches(Value::Str("99"), &mut RegexCaches::default()));
    }

    #[test]
    fn cidr_matches_addresses_with_and_without_ports() {
        let c = m("10.0.0.0/8", "cidr");
        assert!(c.matches(Value::Str("10.1.2.3"), &mut RegexCaches::default()));
        assert!(c.matches(Value::Str("10.1.2.3:8200"), &mut RegexCaches::default()));
        assert!(!c.matches(Value::Str("11.1.2.3"), &mut RegexCaches::default()));
        let c6 = m("fd00::/8", "cidr");
        assert!(c6.matches(Value::Str("[fd00::1]:8200"), &mut RegexCaches::default()));
        assert!(!c6.matches(Value::Str("10.1.2.3"), &mut RegexCaches::default()));
        assert!(
            Matcher::compile(
                Some("10.0.0.0/33"),
                &Modifiers::parse("cidr").unwrap(),
                &mut Regexes::default()
            )
            .is_err()
        );
    }

    #[test]
    fn modifier_errors_point_at_the_modifier() {
        let (at, msg) = Modifiers::parse("contains|base64").unwrap_err();
        assert_eq!(at, 9);
        assert!(msg.contains("unsupported modifier `base64`"));
        assert!(Modifiers::parse("contains|startswith").is_err());
        assert!(Modifiers::parse("i").is_err());
        assert!(Modifiers::parse("re|cased").is_err());
        assert!(Modifiers::parse("re|i|m|s").is_ok());
    }

    #[test]
    fn oversized_regexes_are_rejected() {
        let mods = Modifiers::parse("re").unwrap();
        let e =
            Matcher::compile(Some("(a{1000}){1000}"), &mods, &mut Regexes::default()).unwrap_err();
        assert!(e.contains("invalid regular expression"), "{e}");
    }

    #[test]
    fn contains_fold_handles_edges() {
        assert!(contains_fold(b"abc", b""));
        assert!(!contains_fold(b"ab", b"abc"));
        assert!(contains_fold(b"xxABC", b"abc"));
        assert!(contains_fold(b"1.2", b".2"));
    }
}
