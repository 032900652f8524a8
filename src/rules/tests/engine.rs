//! Engine semantics on small hand-written rules and events.

use crate::model::Loc;
use crate::parse::Parser;
use crate::rules::{CorrelationHit, Diagnostic, DiagnosticLevel, RuleError, RuleSet, RuleState};

const HEAD: &str = "title: T\nid: 11111111-2222-3333-4444-555555555555\nlevel: low\n\
                    description: d\nreferences: [r]\nlogsource: {product: vault, service: audit}\n";

fn rule(detection: &str) -> String {
    format!("{HEAD}detection:\n{detection}")
}

fn load(yaml: &str) -> RuleSet {
    RuleSet::from_sources(&[("t.yml".into(), yaml.into())]).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(yaml: &str) -> Vec<Diagnostic> {
    match RuleSet::from_sources(&[("t.yml".into(), yaml.into())]) {
        Ok(_) => panic!("loaded:\n{yaml}"),
        Err(RuleError::Invalid(d)) => d,
        Err(e) => panic!("{e}"),
    }
}

fn first_error(yaml: &str) -> (u32, u32, String) {
    let d = &errors(yaml)[0];
    assert_eq!(d.file, "t.yml");
    assert_eq!(d.level, DiagnosticLevel::Error);
    (d.line, d.column, d.message.clone())
}

/// Titles of the rules that report on `line`.
fn hits(set: &RuleSet, line: &str) -> Vec<String> {
    let mut state = set.new_state();
    observe(set, line, 0, &mut state)
}

fn observe(set: &RuleSet, line: &str, offset: u64, state: &mut RuleState) -> Vec<String> {
    let mut p = Parser::new();
    let mut out = Vec::new();
    p.parse_one(line.as_bytes(), |r| {
        let ev = r.unwrap_or_else(|e| panic!("{e}: {line}"));
        let loc = Loc {
            offset,
            ..Loc::default()
        };
        set.observe(&ev, loc, state, &mut |id| {
            out.push(set.rule(id).title.clone())
        });
    });
    out
}

fn matches(detection: &str, line: &str) -> bool {
    !hits(&load(&rule(detection)), line).is_empty()
}

const DENIED: &str = r#"{"time":"2024-05-01T10:00:00Z","type":"response","auth":{"accessor":"hmac-sha256:acc","policies":["default","root"],"policy_results":{"allowed":false}},"request":{"id":"1","operation":"read","path":"kv/data/app","remote_address":"10.1.2.3"},"error":"1 error occurred:\n\t* permission denied\n\n"}"#;

#[test]
fn selections_and_conditions_combine() {
    let d = "  sel:\n    request.path|startswith: KV/\n    request.operation: read\n  \
             filter:\n    request.remote_address|cidr: 192.168.0.0/16\n  \
             condition: sel and not filter\n";
    assert!(matches(d, DENIED));
    let d = "  sel:\n    request.path|startswith: kv/\n  filter:\n    \
             request.remote_address|cidr: 10.0.0.0/8\n  condition: sel and not filter\n";
    assert!(!matches(d, DENIED));
    let d = "  sel:\n    - request.operation: list\n    - request.path|endswith: /APP\n  \
             condition: sel\n";
    assert!(matches(d, DENIED));
}

#[test]
fn list_fields_match_any_element_and_all_needs_every_value() {
    assert!(matches(
        "  s:\n    auth.policies: root\n  condition: s\n",
        DENIED
    ));
    assert!(!matches(
        "  s:\n    auth.policies: admin\n  condition: s\n",
        DENIED
    ));
    assert!(matches(
        "  s:\n    auth.policies|all: [root, default]\n  condition: s\n",
        DENIED
    ));
    assert!(!matches(
        "  s:\n    auth.policies|all: [root, admin]\n  condition: s\n",
        DENIED
    ));
}

#[test]
fn list_elements_skip_nulls_and_empty_strings_and_nested_lists_are_searched() {
    let line = |list: &str| {
        format!(
            r#"{{"type":"response","request":{{"operation":"update","path":"kv/a","data":{{"l":{list}}}}}}}"#
        )
    };
    let null = "  s:\n    request.data.l: null\n  condition: s\n";
    let x = "  s:\n    request.data.l: x\n  condition: s\n";
    let five = "  s:\n    request.data.l: 5\n  condition: s\n";
    let x_or_null = "  s:\n    request.data.l: [x, null]\n  condition: s\n";
    // No present element: the list counts as absent.
    assert!(matches(null, &line("[]")));
    assert!(matches(null, &line(r#"[null,""]"#)));
    assert!(matches(null, &line(r#"[[null],[""]]"#)));
    assert!(!matches(null, &line(r#"[null,"y"]"#)));
    assert!(!matches(null, &line("[false]")));
    // Present elements are tested, inside nested lists too, scalars by their JSON text.
    assert!(matches(x, &line(r#"[null,"","X"]"#)));
    assert!(matches(x, &line(r#"[["y",["x"]]]"#)));
    assert!(!matches(x, &line(r#"["y",{"x":"x"}]"#)));
    assert!(matches(five, &line(r#"["a",5]"#)));
    assert!(!matches(five, &line("[5.5]")));
    assert!(matches(x_or_null, &line(r#"[null]"#)));
    assert!(!matches(x_or_null, &line(r#"["y"]"#)));
}

#[test]
fn null_and_exists_test_absence() {
    assert!(matches(
        "  s:\n    response.auth: null\n  condition: s\n",
        DENIED
    ));
    assert!(!matches("  s:\n    error: null\n  condition: s\n", DENIED));
    assert!(matches(
        "  s:\n    error|exists: true\n  condition: s\n",
        DENIED
    ));
    assert!(matches(
        "  s:\n    response.auth|exists: false\n  condition: s\n",
        DENIED
    ));
    assert!(matches(
        "  s:\n    auth.policy_results.allowed: FALSE\n  condition: s\n",
        DENIED
    ));
    let empty_error = DENIED.replace(
        r#""error":"1 error occurred:\n\t* permission denied\n\n""#,
        r#""error":"""#,
    );
    assert!(matches(
        "  s:\n    error|exists: false\n  condition: s\n",
        &empty_error
    ));
}

#[test]
fn them_skips_underscore_selections() {
    let d = "  a:\n    request.operation: list\n  _b:\n    request.operation: read\n  \
             condition: 1 of them\n";
    assert!(!matches(d, DENIED));
    let d = "  a:\n    request.operation: list\n  b:\n    request.operation: read\n  \
             condition: 1 of them\n";
    assert!(matches(d, DENIED));
}

#[test]
fn unsupported_constructs_are_rejected_with_positions() {
    // Line 8 is the first line under `detection:` (HEAD has 6 lines, then `detection:`).
    let (line, col, msg) = first_error(&rule("  s:\n    request.path|base64: x\n  condition: s\n"));
    assert_eq!((line, col), (9, 18), "{msg}");
    assert!(msg.contains("unsupported modifier `base64`"), "{msg}");

    let (line, col, msg) = first_error(&rule("  s:\n    request.pth: x\n  condition: s\n"));
    assert_eq!((line, col), (9, 5));
    assert!(msg.contains("unknown field `request.pth`"), "{msg}");

    let (line, col, msg) = first_error(&rule(
        "  s:\n    request.path: x\n  condition: s | count() > 5\n",
    ));
    assert_eq!((line, col), (10, 16), "{msg}");
    assert!(msg.contains("correlation rule"), "{msg}");

    let (line, col, msg) = first_error(&rule("  s:\n    - foo\n  condition: s\n"));
    assert_eq!((line, col), (9, 7), "{msg}");
    assert!(msg.contains("keyword selections"), "{msg}");

    let (line, _, msg) = first_error(&rule("  s:\n    request.path|re: '(['\n  condition: s\n"));
    assert_eq!(line, 9);
    assert!(msg.contains("invalid regular expression"), "{msg}");

    let (_, _, msg) = first_error(&rule(
        "  s:\n    request.path:\n      a: b\n  condition: s\n",
    ));
    assert!(msg.contains("nested mapping"), "{msg}");

    let (_, _, msg) = first_error(&rule(
        "  s:\n    request.path: x\n  timeframe: 5m\n  condition: s\n",
    ));
    assert!(msg.contains("timeframe"), "{msg}");

    let (_, _, msg) = first_error(
        &format!("{HEAD}level: severe\ndetection:\n  s:\n    error: x\n  condition: s\n")
            .replace("level: low\n", ""),
    );
    assert!(msg.contains("unknown level"), "{msg}");

    let ls =
        rule("  s:\n    error: x\n  condition: s\n").replace("product: vault", "product: windows");
    assert!(first_error(&ls).2.contains("logsource product"));
}

#[test]
fn every_error_of_a_file_is_reported() {
    let d = errors(&rule(
        "  s:\n    request.pth: x\n    error|foo: y\n  condition: s and t\n",
    ));
    let lines: Vec<(u32, u32)> = d.iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(lines, [(9, 5), (10, 11), (11, 20)], "{d:?}");
}

const CORR: &str = "---\ntitle: Burst\nid: 99999999-2222-3333-4444-555555555555\nlevel: high\n\
                    description: d\nreferences: [r]\ncorrelation:\n  type: event_count\n  \
                    rules: [base]\n  group-by: [request.remote_address]\n  timespan: 1m\n  \
                    condition:\n    gte: 3\n";

fn base_rule(generate: bool) -> String {
    let mut s = format!(
        "{HEAD}name: base\ndetection:\n  s:\n    error|contains: denied\n  condition: s\n{CORR}"
    );
    if generate {
        s.push_str("generate: true\n");
    }
    s
}

fn denied_at(secs: u32, addr: &str, path: &str) -> String {
    DENIED
        .replace(
            "2024-05-01T10:00:00Z",
            &format!("2024-05-01T10:{:02}:{:02}Z", secs / 60, secs % 60),
        )
        .replace("10.1.2.3", addr)
        .replace("kv/data/app", path)
}

fn run(
    set: &RuleSet,
    events: &[(u32, &str, &str)],
    split: usize,
    reverse: bool,
) -> Vec<CorrelationHit> {
    let mut a = set.new_state();
    let mut b = set.new_state();
    let mut order: Vec<usize> = (0..events.len()).collect();
    if reverse {
        order.reverse();
    }
    for (n, &i) in order.iter().enumerate() {
        let (t, addr, path) = events[i];
        let st = if n < split { &mut a } else { &mut b };
        observe(set, &denied_at(t, addr, path), i as u64, st);
    }
    if reverse {
        b.merge(a);
        set.finish(b)
    } else {
        a.merge(b);
        set.finish(a)
    }
}

#[test]
fn event_count_finds_the_densest_window_per_group_whatever_the_order() {
    let set = load(&base_rule(false));
    let events = [
        (0, "10.0.0.1", "a"),
        (10, "10.0.0.1", "a"),
        (200, "10.0.0.1", "a"),
        (201, "10.0.0.1", "a"),
        (202, "10.0.0.1", "a"),
        (203, "10.0.0.1", "a"),
        (5, "10.0.0.2", "a"),
        (6, "10.0.0.2", "a"),
    ];
    let hits = run(&set, &events, 3, false);
    assert_eq!(hits.len(), 1, "{hits:?}");
    let h = &hits[0];
    assert_eq!(set.rule(h.rule).title, "Burst");
    assert_eq!(
        h.group,
        vec![("request.remote_address".to_string(), "10.0.0.1".to_string())]
    );
    assert_eq!((h.count, h.total), (4, 6));
    assert_eq!(h.first.to_rfc3339(), "2024-05-01T10:03:20Z");
    assert_eq!(h.last.to_rfc3339(), "2024-05-01T10:03:23Z");
    let offsets: Vec<u64> = h.evidence.iter().map(|l| l.offset).collect();
    assert_eq!(offsets, [2, 3, 4, 5]);
    assert_eq!(run(&set, &events, 5, true), hits);
}

/// Two workers recording into the groups they share find what two merged states find, and
/// keep nothing of their own: the one that takes the shared groups over holds them all.
#[test]
fn workers_sharing_correlation_groups_find_what_merged_states_find() {
    let set = load(&base_rule(false));
    let events = [
        (0, "10.0.0.1", "a"),
        (200, "10.0.0.1", "a"),
        (201, "10.0.0.1", "a"),
        (202, "10.0.0.1", "a"),
        (203, "10.0.0.1", "a"),
        (5, "10.0.0.2", "a"),
        (6, "10.0.0.2", "a"),
        (7, "10.0.0.2", "b"),
    ];
    let shared = crate::rules::SharedGroups::default();
    let mut workers = [set.new_state(), set.new_state()];
    for w in &mut workers {
        w.share(shared.clone());
    }
    for (i, &(t, addr, path)) in events.iter().enumerate() {
        // The second worker sees the whole burst: on its own it would report it.
        let w = &mut workers[usize::from(i < 5)];
        observe(&set, &denied_at(t, addr, path), i as u64, w);
    }
    let [mut a, b] = workers;
    assert!(
        set.finish(b).is_empty(),
        "a worker keeps no groups of its own"
    );
    a.take_shared(&shared);
    assert!(shared.lock().unwrap().is_empty(), "taken over");
    let hits = set.finish(a);
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(hits, run(&set, &events, 4, false));
}

#[test]
fn base_rules_of_correlations_report_only_with_generate() {
    let set = load(&base_rule(false));
    assert!(hits(&set, DENIED).is_empty());
    assert!(!set.rules()[0].alerts);
    let set = load(&base_rule(true));
    assert_eq!(hits(&set, DENIED), ["T"]);
}

/// The base rule as a `value_count` of distinct request paths, three at least.
fn distinct_paths_rule() -> String {
    base_rule(false)
        .replace("event_count", "value_count")
        .replace("    gte: 3\n", "    gte: 3\n    field: request.path\n")
}

#[test]
fn value_count_counts_distinct_values() {
    let set = load(&distinct_paths_rule());
    let same = [
        (0, "10.0.0.1", "a"),
        (1, "10.0.0.1", "a"),
        (2, "10.0.0.1", "a"),
    ];
    assert!(run(&set, &same, 1, false).is_empty());
    let distinct = [
        (0, "10.0.0.1", "a"),
        (1, "10.0.0.1", "b"),
        (2, "10.0.0.1", "c"),
    ];
    let hits = run(&set, &distinct, 1, false);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].count, 3);
}

/// Counted values are kept as ids given in order of first sight, so two states give one path
/// different ids: merging, and saving for the next run, must still count distinct paths.
#[test]
fn value_count_counts_distinct_values_across_merged_and_saved_states() {
    use crate::persist::Persisted;
    let set = load(&distinct_paths_rule());
    // The first state sees c then d, the second d then e: ids 1, 2 on both sides.
    let events = [
        (0, "10.0.0.1", "c"),
        (1, "10.0.0.1", "d"),
        (2, "10.0.0.1", "d"),
        (3, "10.0.0.1", "e"),
    ];
    let whole = run(&set, &events, events.len(), false);
    assert_eq!(whole.len(), 1, "{whole:?}");
    assert_eq!(whole[0].count, 3);
    assert_eq!(run(&set, &events, 2, false), whole);
    assert_eq!(run(&set, &events, 2, true), whole);
    let mut first = set.new_state();
    for (i, &(t, addr, path)) in events[..2].iter().enumerate() {
        observe(&set, &denied_at(t, addr, path), i as u64, &mut first);
    }
    let saved = first.save(&set, &|l| l).unwrap();
    let mut next = RuleState::restore(saved, &set).unwrap();
    // The restored state gives ids anew: e first, then d.
    for (i, &(t, addr, path)) in events[2..].iter().enumerate().rev() {
        observe(&set, &denied_at(t, addr, path), 2 + i as u64, &mut next);
    }
    assert_eq!(set.finish(next), whole);
}

#[test]
fn correlation_errors_are_reported() {
    let bad_type = base_rule(false).replace("event_count", "temporal");
    assert!(first_error(&bad_type).2.contains("not supported"));
    let missing = base_rule(false).replace("rules: [base]", "rules: [nope]");
    assert!(
        first_error(&missing)
            .2
            .contains("no rule with id or name `nope`")
    );
    let no_field = base_rule(false).replace("event_count", "value_count");
    assert!(first_error(&no_field).2.contains("needs `field`"));
    let bad_span = base_rule(false).replace("timespan: 1m", "timespan: 1 minute");
    assert!(first_error(&bad_span).2.contains("timespan"));
    let chained = format!(
        "{}{}",
        base_rule(false),
        CORR.replace("99999999", "88888888")
            .replace("[base]", "[99999999-2222-3333-4444-555555555555]")
    );
    assert!(first_error(&chained).2.contains("chaining"));
}

#[test]
fn duplicate_ids_are_errors_and_directories_replace_by_id() {
    let one = rule("  s:\n    request.operation: read\n  condition: s\n");
    let err =
        RuleSet::from_sources(&[("a.yml".into(), one.clone()), ("b.yml".into(), one.clone())])
            .unwrap_err();
    assert!(
        err.to_string()
            .contains("b.yml:2:5: error: duplicate rule id"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let replaced = one
        .replace("title: T", "title: Replaced")
        .replace("operation: read", "operation: list");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/x.yml"), replaced).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a rule").unwrap();
    let set = load(&one).with_dir(dir.path()).unwrap();
    assert_eq!(set.rules().len(), 1);
    assert_eq!(set.rules()[0].title, "Replaced");
    assert!(set.rules()[0].source.ends_with("x.yml"));
    assert!(hits(&set, DENIED).is_empty());
}

#[test]
fn lint_reports_warnings_and_errors_sorted() {
    let yaml = rule("  s:\n    request.path: x\n  unused:\n    error: y\n  condition: s\n")
        .replace("11111111-2222-3333-4444-555555555555", "my-rule");
    let d = crate::rules::lint(&[("t.yml".into(), yaml)]);
    let msgs: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    assert_eq!(d.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].starts_with("t.yml:2:5: warning: id `my-rule` is not a UUID"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("selection `unused` is not used"),
        "{msgs:?}"
    );
    assert!(
        crate::rules::lint(&[("t.yml".into(), "a: [".into())])[0].level == DiagnosticLevel::Error
    );
}

#[test]
fn rule_sets_are_shared_across_scan_threads() {
    fn shared<T: Send + Sync>() {}
    fn moved<T: Send>() {}
    shared::<RuleSet>();
    moved::<RuleState>();
    moved::<CorrelationHit>();
}
