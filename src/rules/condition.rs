//! The `condition` of a detection: `and`, `or`, `not`, parentheses, `1 of`/`all of` patterns.
//!
//! Precedence follows the Sigma specification (loosest first): `or`, `and`, `not`, `x of`,
//! parentheses. Keywords are matched case-insensitively. The old pipe aggregations
//! (`| count() by x > 5`) are rejected: Sigma v2 expresses them as correlation rules.

/// A parsed condition over selection indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Sel(usize),
}

/// A syntax error: the character offset in the condition and a message.
pub(crate) type CondError = (usize, String);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, CondError> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((i, Tok::Open));
                i += 1;
            }
            ')' => {
                out.push((i, Tok::Close));
                i += 1;
            }
            '|' => {
                return Err((
                    i,
                    "pipe aggregations (`| count() ...`) are not supported; write a correlation \
                     rule (`correlation: {type: event_count, ...}`) instead"
                        .into(),
                ));
            }
            c if is_word_char(c) => {
                let start = i;
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                out.push((start, Tok::Word(chars[start..i].iter().collect())));
            }
            other => return Err((i, format!("unexpected character `{other}` in condition"))),
        }
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*' | '.')
}

fn is_keyword(w: &str, k: &str) -> bool {
    w.eq_ignore_ascii_case(k)
}

struct P<'a> {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
    names: &'a [&'a str],
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |(o, _)| *o)
    }

    fn peek_keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if is_keyword(w, k))
    }

    fn or(&mut self) -> Result<Cond, CondError> {
        let mut items = vec![self.and()?];
        while self.peek_keyword("or") {
            self.at += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::Or(items)
        })
    }

    fn and(&mut self) -> Result<Cond, CondError> {
        let mut items = vec![self.not()?];
        while self.peek_keyword("and") {
            self.at += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::And(items)
        })
    }

    fn not(&mut self) -> Result<Cond, CondError> {
        if self.peek_keyword("not") {
            self.at += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Cond, CondError> {
        let at = self.offset();
        match self.toks.get(self.at).map(|(_, t)| t.clone()) {
            None => Err((at, "condition ends where a selection was expected".into())),
            Some(Tok::Close) => Err((at, "unexpected `)`".into())),
            Some(Tok::Open) => {
                self.at += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err((self.offset(), "missing `)`".into()));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Tok::Word(w)) => {
                self.at += 1;
                if self.peek_keyword("of") {
                    self.at += 1;
                    return self.quantified(&w, at);
                }
                for k in ["and", "or", "not", "of", "them"] {
                    if is_keyword(&w, k) {
                        return Err((at, format!("`{w}` where a selection was expected")));
                    }
                }
                if w.contains('*') {
                    return Err((
                        at,
                        format!("a pattern (`{w}`) needs a quantifier: `1 of {w}` or `all of {w}`"),
                    ));
                }
                match self.names.iter().position(|n| *n == w) {
                    Some(i) => Ok(Cond::Sel(i)),
                    None => Err((at, format!("no selection named `{w}` in this detection"))),
                }
            }
        }
    }

    fn quantified(&mut self, quantifier: &str, at: usize) -> Result<Cond, CondError> {
        let all = if quantifier == "1" {
            false
        } else if is_keyword(quantifier, "all") {
            true
        } else {
            return Err((
                at,
                format!("`{quantifier} of` is not supported; use `1 of` or `all of`"),
            ));
        };
        let target_at = self.offset();
        let Some(Tok::Word(target)) = self.peek().cloned() else {
            return Err((
                target_at,
                "expected a selection pattern or `them` after `of`".into(),
            ));
        };
        self.at += 1;
        let picked: Vec<Cond> = if is_keyword(&target, "them") {
            // Sigma excludes identifiers starting with `_` from `them`.
            (0..self.names.len())
                .filter(|&i| !self.names[i].starts_with('_'))
                .map(Cond::Sel)
                .collect()
        } else {
            (0..self.names.len())
                .filter(|&i| glob(&target, self.names[i]))
                .map(Cond::Sel)
                .collect()
        };
        if picked.is_empty() {
            return Err((target_at, format!("no selection matches `{target}`")));
        }
        Ok(if all {
            Cond::And(picked)
        } else {
            Cond::Or(picked)
        })
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let tail: Vec<&str> = parts.collect();
    let Some((last, middle)) = tail.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Parses `text` over the selection `names`.
pub(crate) fn parse(text: &str, names: &[&str]) -> Result<Cond, CondError> {
    let toks = tokenize(text)?;
    let mut p = P {
        toks,
        at: 0,
        end: text.chars().count(),
        names,
    };
    let c = p.or()?;
    if p.at < p.toks.len() {
        let at = p.offset();
        return Err((
            at,
            "unexpected text after the condition; join parts with `and`/`or`".into(),
        ));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["sel", "sel_b", "filter", "_aux"];

    #[test]
    fn precedence_is_or_and_not() {
        let c = parse("sel or sel_b and not filter", NAMES).unwrap();
        assert_eq!(
            c,
            Cond::Or(vec![
                Cond::Sel(0),
                Cond::And(vec![Cond::Sel(1), Cond::Not(Box::new(Cond::Sel(2)))])
            ])
        );
        let c = parse("(sel or sel_b) AND NOT filter", NAMES).unwrap();
        assert_eq!(
            c,
            Cond::And(vec![
                Cond::Or(vec![Cond::Sel(0), Cond::Sel(1)]),
                Cond::Not(Box::new(Cond::Sel(2)))
            ])
        );
    }

    #[test]
    fn quantifiers_expand_patterns_and_them() {
        assert_eq!(
            parse("1 of sel*", NAMES).unwrap(),
            Cond::Or(vec![Cond::Sel(0), Cond::Sel(1)])
        );
        assert_eq!(
            parse("all of them", NAMES).unwrap(),
            Cond::And(vec![Cond::Sel(0), Cond::Sel(1), Cond::Sel(2)])
        );
        assert_eq!(
            parse("all of *_b and not 1 of filt*", NAMES).unwrap(),
            Cond::And(vec![
                Cond::And(vec![Cond::Sel(1)]),
                Cond::Not(Box::new(Cond::Or(vec![Cond::Sel(2)])))
            ])
        );
    }

    #[test]
    fn errors_carry_the_offset() {
        assert_eq!(parse("sel and nope", NAMES).unwrap_err().0, 8);
        assert_eq!(parse("sel | count() > 5", NAMES).unwrap_err().0, 4);
        assert_eq!(parse("2 of sel*", NAMES).unwrap_err().0, 0);
        assert_eq!(parse("(sel", NAMES).unwrap_err().0, 4);
        assert_eq!(parse("sel sel_b", NAMES).unwrap_err().0, 4);
        assert_eq!(parse("1 of x*", NAMES).unwrap_err().0, 5);
        assert_eq!(parse("sel*", NAMES).unwrap_err().0, 0);
        assert_eq!(parse("sel and", NAMES).unwrap_err().0, 7);
    }

    #[test]
    fn glob_matches_wildcards_anywhere() {
        assert!(glob("sel*", "selection"));
        assert!(glob("*tion", "selection"));
        assert!(glob("s*e*n", "selection"));
        assert!(!glob("x*", "selection"));
        assert!(glob("sel", "sel"));
        assert!(!glob("sel", "sel2"));
    }
}
