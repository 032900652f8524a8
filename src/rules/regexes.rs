//! Rule regexes (`re`, and values with wildcards in the middle) on lazy DFAs.
//!
//! A lazy DFA costs nothing to build beyond its NFA: a search adds the states it needs to a
//! per-thread [`RegexCaches`] entry, and after a few events every search runs on cached
//! transitions (a dense DFA built up front cost about half of loading the built-in pack).
//! A pattern is checked by parsing it and compiling the DFA's NFA under the size limit users
//! are told of; the regex crate is built up front only when either fails (its errors are the
//! messages users see), and otherwise on the first value the DFA gives up on, which few rule
//! sets ever meet: building it for every pattern was a quarter of loading the built-in pack.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use regex::RegexBuilder;
use regex_automata::hybrid;
use regex_automata::nfa::thompson;
use regex_automata::util::prefilter::Prefilter;
use regex_automata::util::{start, syntax};
use regex_automata::{Anchored, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, Look};

use super::modifier::ReFlags;
use crate::tenant::REGEX_SIZE_LIMIT;

/// A compiled regex: a lazy DFA when the pattern allows one, else the regex crate.
///
/// Rule regexes are small and run on short values. A lazy DFA costs nothing to build beyond
/// its NFA: it adds the states a search needs to a per-thread [`RegexCaches`] entry as values
/// reach them, and after a few events every search runs on cached transitions. (A dense DFA
/// built up front cost about half of loading the built-in pack.) A pattern that can only match
/// at the start of a value (`^...`) gets anchored start states only, and is walked from the
/// start state one byte at a time, stopping at the first byte that cannot continue a match;
/// other patterns get a prefilter on their literal prefixes.
#[derive(Clone, Debug)]
pub(crate) struct Re {
    /// Picks the regex's cache in a thread's [`RegexCaches`].
    key: CacheKey,
    dfa: Option<hybrid::dfa::DFA>,
    start: Start,
    /// A byte every match contains (for unanchored patterns): a value without it cannot match,
    /// which one `memchr` tells faster than the prefilter on short values.
    required: Option<u8>,
    /// The lengths a value can have and still match.
    lengths: Lengths,
    /// The regex crate, which answers where there is no DFA or the DFA gives up.
    fallback: Fallback,
}

/// The regex crate's form of a pattern, built when first asked for (or up front, when the
/// pattern has no DFA).
#[derive(Clone, Debug)]
struct Fallback {
    pattern: Box<str>,
    flags: ReFlags,
    re: OnceLock<regex::Regex>,
}

impl Fallback {
    /// The regex crate's regex under the rule size limit, or the error users see.
    fn build(pattern: &str, f: ReFlags, limit: usize) -> Result<regex::Regex, regex::Error> {
        RegexBuilder::new(pattern)
            .case_insensitive(f.insensitive)
            .multi_line(f.multi_line)
            .dot_matches_new_line(f.dot_all)
            .size_limit(limit)
            .dfa_size_limit(limit)
            .build()
    }

    /// Built on first use.
    fn later(pattern: &str, f: ReFlags) -> Fallback {
        Fallback {
            pattern: pattern.into(),
            flags: f,
            re: OnceLock::new(),
        }
    }

    /// Built now: the pattern has no DFA.
    fn now(pattern: &str, f: ReFlags) -> Result<Fallback, regex::Error> {
        let fallback = Fallback::later(pattern, f);
        let _ = fallback
            .re
            .set(Fallback::build(pattern, f, REGEX_SIZE_LIMIT)?);
        Ok(fallback)
    }

    fn get(&self) -> &regex::Regex {
        self.re.get_or_init(|| {
            // The pattern parsed, and its NFA fit the size limit when the DFA was built; the
            // regex crate's own NFAs (with captures, and reversed) may be a little larger, so
            // no limit applies here: a pattern that parsed always builds without one.
            Fallback::build(&self.pattern, self.flags, usize::MAX)
                .expect("a pattern that parsed builds without a size limit")
        })
    }
}

/// The lengths, in bytes, of the values a regex can match, from its syntax: a value outside
/// them cannot match, which a compare tells before any search. Rule values are often of one
/// fixed shape (a token's HMAC is 77 bytes), and a pattern anchored at both ends for some
/// other shape (`^s\.<redacted>$`) then fails on the length alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lengths {
    /// Every match is at least this long, so the value is too.
    min: usize,
    /// When every match spans the whole value (`^` and `$` on every branch, not in multi-line
    /// mode): the longest one, if bounded.
    max: Option<usize>,
}

impl Lengths {
    /// No bound: what a pattern that did not parse here gets.
    const ANY: Lengths = Lengths { min: 0, max: None };

    fn of(hir: &Hir) -> Lengths {
        let p = hir.properties();
        let whole =
            p.look_set_prefix().contains(Look::Start) && p.look_set_suffix().contains(Look::End);
        Lengths {
            // `None` is a pattern that matches nothing: left to the search, which says so.
            min: p.minimum_len().unwrap_or(0),
            max: if whole { p.maximum_len() } else { None },
        }
    }

    #[inline(always)]
    fn admits(self, len: usize) -> bool {
        len >= self.min && self.max.is_none_or(|max| len <= max)
    }
}

/// Where the DFA starts its search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// Matches can only begin at the start of the value.
    Anchored,
    /// Matches may begin anywhere: the DFA's own search, with its prefilter.
    Unanchored,
}

impl Re {
    fn new(pattern: &str, f: ReFlags, key: CacheKey) -> Result<Re, regex::Error> {
        let syntax = syntax::Config::new()
            .case_insensitive(f.insensitive)
            .multi_line(f.multi_line)
            .dot_matches_new_line(f.dot_all);
        // The same parse the regex crate runs; when it fails, the regex crate says why.
        let hir = syntax::parse_with(pattern, &syntax).ok();
        let starts_anchored = hir
            .as_ref()
            .is_some_and(|h| h.properties().look_set_prefix().contains(Look::Start));
        // States are only built for the start kind a search uses.
        let (start, prefilter) = if starts_anchored {
            (Start::Anchored, None)
        } else {
            let pre = hir
                .as_ref()
                .and_then(|h| Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, h));
            (Start::Unanchored, pre)
        };
        let dfa = hir.as_ref().and_then(|h| dfa_of(h, prefilter));
        let fallback = if dfa.is_some() {
            Fallback::later(pattern, f)
        } else {
            Fallback::now(pattern, f)?
        };
        let required = match (start, &hir) {
            (Start::Unanchored, Some(h)) => required_byte(h),
            _ => None,
        };
        Ok(Re {
            key,
            dfa,
            start,
            required,
            lengths: hir.as_ref().map_or(Lengths::ANY, Lengths::of),
            fallback,
        })
    }

    /// True when `s` matches; `caches` are the calling thread's.
    #[inline]
    pub(crate) fn is_match(&self, s: &str, caches: &mut RegexCaches) -> bool {
        if !self.lengths.admits(s.len()) {
            return false;
        }
        if let Some(b) = self.required
            && memchr::memchr(b, s.as_bytes()).is_none()
        {
            return false;
        }
        if let Some(dfa) = &self.dfa {
            let cache = caches.of(self.key, dfa);
            // `None` means the DFA gave up (a Unicode word boundary on non-ASCII text): the
            // regex crate answers instead.
            let found = match self.start {
                Start::Anchored => anchored_match(dfa, cache, s.as_bytes()),
                Start::Unanchored => {
                    let input = regex_automata::Input::new(s).earliest(true);
                    dfa.try_search_fwd(cache, &input).ok().map(|m| m.is_some())
                }
            };
            if let Some(m) = found {
                return m;
            }
        }
        self.fallback.get().is_match(s)
    }
}

/// The lazy DFA of a parsed pattern, its NFA under the rule size limit (without captures, as a
/// DFA needs none); `None` when it cannot be built.
fn dfa_of(hir: &Hir, prefilter: Option<Prefilter>) -> Option<hybrid::dfa::DFA> {
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .which_captures(thompson::WhichCaptures::None)
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT)),
        )
        .build_from_hir(hir)
        .ok()?;
    hybrid::dfa::Builder::new()
        .configure(
            hybrid::dfa::Config::new()
                // `\b` works on ASCII text; the search gives up on other bytes and the regex
                // crate answers instead.
                .unicode_word_boundary(true)
                .prefilter(prefilter)
                .cache_capacity(REGEX_SIZE_LIMIT),
        )
        .build_from_nfa(nfa)
        .ok()
}

/// A byte that occurs in every match of `hir`: one common to all the literals a match can start
/// with, when there are finitely many and none is empty.
fn required_byte(hir: &Hir) -> Option<u8> {
    let prefixes = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    let mut common: Option<Vec<u8>> = None;
    for lit in prefixes.literals()? {
        let bytes = lit.as_bytes();
        common = Some(match common {
            None => bytes.to_vec(),
            Some(c) => c.into_iter().filter(|b| bytes.contains(b)).collect(),
        });
    }
    common?.first().copied()
}

/// Runs `dfa` from its anchored start state over `hay` until a match, a dead end or the end of
/// `hay`; `None` when the DFA gives up. The DFA reports a match one byte late, so a match
/// ending at the last byte shows in the end-of-input transition.
#[inline]
fn anchored_match(
    dfa: &hybrid::dfa::DFA,
    cache: &mut hybrid::dfa::Cache,
    hay: &[u8],
) -> Option<bool> {
    // The start of a value: no byte before it.
    let config = start::Config::new().anchored(Anchored::Yes);
    let mut sid = dfa.start_state(cache, &config).ok()?;
    for &b in hay {
        sid = dfa.next_state(cache, sid, b).ok()?;
        if sid.is_tagged() {
            if sid.is_match() {
                return Some(true);
            }
            if sid.is_dead() {
                return Some(false);
            }
            if sid.is_quit() {
                return None;
            }
        }
    }
    Some(dfa.next_eoi_state(cache, sid).ok()?.is_match())
}

/// One thread's lazy-DFA caches, one per regex of a rule set, created on first use.
#[derive(Clone, Debug, Default)]
pub(crate) struct RegexCaches {
    /// The rule set whose regexes the caches belong to: a cache only works with its own DFA.
    set: u64,
    caches: Vec<Option<hybrid::dfa::Cache>>,
}

impl RegexCaches {
    #[inline]
    fn of(&mut self, key: CacheKey, dfa: &hybrid::dfa::DFA) -> &mut hybrid::dfa::Cache {
        if self.set != key.set {
            // Used with another rule set: start over.
            self.caches.clear();
            self.set = key.set;
        }
        let index = key.index;
        if self.caches.len() <= index {
            self.caches.resize_with(index + 1, || None);
        }
        self.caches[index].get_or_insert_with(|| dfa.create_cache())
    }
}

/// The regexes of one rule set, compiled once per distinct pattern and flags: the built-in
/// pack tests the same token and accessor shapes on several fields.
pub(crate) struct Regexes {
    /// Distinguishes this rule set's regexes from those of any other in the process.
    set: u64,
    compiled: HashMap<(String, ReFlags), Arc<Re>>,
}

/// Numbers rule sets (from 1: a fresh [`RegexCaches`] belongs to none).
static NEXT_SET: AtomicU64 = AtomicU64::new(1);

impl Default for Regexes {
    fn default() -> Regexes {
        Regexes {
            set: NEXT_SET.fetch_add(1, Ordering::Relaxed),
            compiled: HashMap::new(),
        }
    }
}

/// A regex's rule set and number in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CacheKey {
    set: u64,
    index: usize,
}

impl Regexes {
    /// The regex for `pattern` under `f`, compiled on first request.
    pub(crate) fn get(&mut self, pattern: &str, f: ReFlags) -> Result<Arc<Re>, regex::Error> {
        let name = (pattern.to_string(), f);
        if let Some(re) = self.compiled.get(&name) {
            return Ok(Arc::clone(re));
        }
        let key = CacheKey {
            set: self.set,
            index: self.compiled.len(),
        };
        let re = Arc::new(Re::new(pattern, f, key)?);
        self.compiled.insert(name, Arc::clone(&re));
        Ok(re)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache key outside any rule set.
    fn key(index: usize) -> CacheKey {
        CacheKey {
            set: u64::MAX,
            index,
        }
    }

    /// Without the regex crate built up front, a pattern is still refused as it was: a syntax
    /// error or an NFA over the size limit gets the regex crate's own error.
    #[test]
    fn invalid_patterns_get_the_regex_crates_errors() {
        for pattern in [r"(unclosed", r"\w{5000}"] {
            let ours = Re::new(pattern, ReFlags::default(), key(0))
                .map(|_| ())
                .unwrap_err();
            let theirs = RegexBuilder::new(pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map(|_| ())
                .unwrap_err();
            assert_eq!(ours.to_string(), theirs.to_string(), "{pattern}");
        }
        let fine = Re::new(r"^kv/.+$", ReFlags::default(), key(1)).unwrap();
        assert!(
            fine.fallback.re.get().is_none(),
            "built only when first needed"
        );
    }

    #[test]
    fn dfa_and_regex_crate_agree() {
        let cases = [
            (r"^auth/.+/login(/|$)", ReFlags::default()),
            (r"(^|/)\.{1,2}(/|$)", ReFlags::default()),
            (r"\bdenied\b", ReFlags::default()),
            (
                r"^a.c$",
                ReFlags {
                    dot_all: true,
                    ..ReFlags::default()
                },
            ),
            (
                r"^line$",
                ReFlags {
                    multi_line: true,
                    insensitive: true,
                    ..ReFlags::default()
                },
            ),
        ];
        let hays = [
            "auth/userpass/login",
            "auth/x/login/bob",
            "kv/../x",
            "kv/a..b",
            "permission denied",
            "undeniedly",
            "a\nc",
            "x\nLINE\ny",
            "é denied é",
            "",
        ];
        let mut caches = RegexCaches::default();
        for (i, (pat, f)) in cases.into_iter().enumerate() {
            let re = Re::new(pat, f, key(i)).unwrap();
            assert!(re.dfa.is_some(), "{pat} should compile to a DFA");
            for h in hays {
                assert_eq!(
                    re.is_match(h, &mut caches),
                    re.fallback.get().is_match(h),
                    "{pat} on {h:?}"
                );
            }
        }
    }

    /// Patterns of the built-in pack and edge cases of the anchored walk: a match ending at
    /// the last byte, an empty match, a word boundary at the start.
    const PATTERNS: &[&str] = &[
        r"^(hv[sbr]\.[A-Za-z0-9_-]{20,}|[sbr]\.[A-Za-z0-9]{20,}(\.[A-Za-z0-9]+)?|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
        r"^([A-Za-z0-9]{24}(\.[A-Za-z0-9]+)?|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
        r"^auth/token/(lookup|revoke|revoke-orphan|renew)/(hv[sbr]\.|[sbr]\.)[A-Za-z0-9_-]{20,}",
        r"^([^/]+/)+(destroy|delete)/.+",
        r"(^|/)\.{1,2}(/|$|\?)",
        r"/keys/[^/]+$",
        r"^a*",
        r"^\bé",
        r"^x\b",
        r"^(hv[sbr]\.|[sbr]\.)<redacted>$|^<redacted-token>$",
        r"^(s\.x|é)$",
    ];

    #[test]
    fn anchored_patterns_walk_the_dfa_from_the_start() {
        assert!(matches!(
            Re::new(PATTERNS[0], ReFlags::default(), key(0))
                .unwrap()
                .start,
            Start::Anchored
        ));
        assert!(matches!(
            Re::new(PATTERNS[4], ReFlags::default(), key(0))
                .unwrap()
                .start,
            Start::Unanchored
        ));
        let multi = ReFlags {
            multi_line: true,
            ..ReFlags::default()
        };
        assert!(matches!(
            Re::new("^x", multi, key(0)).unwrap().start,
            Start::Unanchored
        ));
    }

    #[test]
    fn a_value_of_a_length_no_match_has_is_refused_before_the_search() {
        let lengths = |p: &str, f: ReFlags| Re::new(p, f, key(0)).unwrap().lengths;
        let token = r"^(hv[sbr]\.|[sbr]\.)<redacted>$|^<redacted-token>$";
        let plain = ReFlags::default();
        assert_eq!(
            lengths(token, plain),
            Lengths {
                min: 12,
                max: Some(16)
            }
        );
        // Bytes, not characters; no upper bound without `$`, or with `$` in multi-line mode.
        assert_eq!(
            lengths("^é$", plain),
            Lengths {
                min: 2,
                max: Some(2)
            }
        );
        assert_eq!(
            lengths("/keys/[^/]+$", plain),
            Lengths { min: 7, max: None }
        );
        let multi_line = ReFlags {
            multi_line: true,
            ..ReFlags::default()
        };
        assert_eq!(lengths("^ab$", multi_line), Lengths { min: 2, max: None });
        // An HMAC is too long for the token pattern: refused with no cache touched.
        let re = Re::new(token, plain, key(0)).unwrap();
        let mut caches = RegexCaches::default();
        let hmac = format!("hmac-sha256:{}", "a".repeat(64));
        assert!(!re.is_match(&hmac, &mut caches));
        assert!(caches.caches.is_empty());
        assert!(re.is_match("hvs.<redacted>", &mut caches));
    }

    #[test]
    fn unanchored_patterns_require_a_byte_of_their_prefixes() {
        let re = |p| Re::new(p, ReFlags::default(), key(0)).unwrap().required;
        assert_eq!(re(PATTERNS[4]), Some(b'.'));
        assert_eq!(re(PATTERNS[5]), Some(b'/'));
        // Every match starts with `ax` or `bx`, or with `xy` or `y`.
        assert_eq!(re(r"(a|b)x"), Some(b'x'));
        assert_eq!(re(r"x?y"), Some(b'y'));
        assert_eq!(re(r"a|b"), None);
        assert_eq!(re(r"\w+z"), None);
        // Anchored patterns are walked from the start instead.
        assert_eq!(re(PATTERNS[0]), None);
    }

    #[test]
    fn equal_patterns_compile_once() {
        let mut regexes = Regexes::default();
        let a = regexes.get("^a.c$", ReFlags::default()).unwrap();
        let b = regexes.get("^a.c$", ReFlags::default()).unwrap();
        let i = ReFlags {
            insensitive: true,
            ..ReFlags::default()
        };
        let c = regexes.get("^a.c$", i).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        let mut caches = RegexCaches::default();
        assert!(c.is_match("ABC", &mut caches) && !a.is_match("ABC", &mut caches));
    }

    #[test]
    fn caches_follow_the_rule_set_they_are_used_with() {
        let (mut a, mut b) = (Regexes::default(), Regexes::default());
        let ra = a.get("^a+$", ReFlags::default()).unwrap();
        let rb = b.get("^(xyz|[0-9]{3})-b+$", ReFlags::default()).unwrap();
        // Both are regex 0 of their set; one thread's caches serve them in turn.
        let mut caches = RegexCaches::default();
        for _ in 0..3 {
            assert!(ra.is_match("aaa", &mut caches) && !ra.is_match("123-b", &mut caches));
            assert!(rb.is_match("123-bb", &mut caches) && rb.is_match("xyz-b", &mut caches));
            assert!(!rb.is_match("aaa", &mut caches) && !rb.is_match("12-b", &mut caches));
        }
    }

    proptest::proptest! {
        #[test]
        fn dfa_agrees_with_the_regex_crate(
            which in 0..PATTERNS.len(),
            insensitive: bool,
            prefix in proptest::sample::select(vec!["", "hvs.", "s.", "auth/token/lookup/", "kv/", "x/../", "é", "x"]),
            body in "[a-zA-Z0-9./_?-]{0,30}",
            suffix in proptest::sample::select(vec!["", "/", ".", "é", "-1234"]),
        ) {
            let f = ReFlags { insensitive, ..ReFlags::default() };
            let re = Re::new(PATTERNS[which], f, key(0)).unwrap();
            let hay = format!("{prefix}{body}{suffix}");
            proptest::prop_assert_eq!(re.is_match(&hay, &mut RegexCaches::default()), re.fallback.get().is_match(&hay), "{} on {:?}", PATTERNS[which], hay);
        }
    }
}
