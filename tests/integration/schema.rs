//! Reports match the published JSON Schema (docs/schema/scan-report.schema.json).

use serde_json::Value;

use crate::util::{corpus_dir, fixture, root, scan_json};

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("docs/schema/scan-report.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, report: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn scan_reports_match_the_schema() {
    let v = validator();
    let corpus = corpus_dir();
    let inputs = [
        fixture("openbao-2.7/basic.log"),
        fixture("incident/audit.log"),
        fixture("hostile/times.log"),
        corpus.join("nula-white_gitops.audit.log"),
        corpus.join("ppresto_hashi.audit.log"),
        corpus.join("elastic-hashicorp_vault.audit.sample_event.json"),
        corpus.join("blog-clients-lab-ent-namespaces-lograw.compacted.ndjson"),
    ];
    for i in &inputs {
        let (_, r) = scan_json(&[i.to_str().unwrap()]);
        assert_valid(&v, &r, &i.display().to_string());
    }
    let all: Vec<&str> = inputs.iter().map(|p| p.to_str().unwrap()).collect();
    let (_, r) = scan_json(&all);
    assert_valid(&v, &r, "all together");
}

#[test]
fn the_schema_rejects_a_broken_report() {
    let v = validator();
    let (_, mut r) = scan_json(&[fixture("openbao-2.7/basic.log").to_str().unwrap()]);
    r["breach_scope"] = Value::String("catastrophic".into());
    assert!(!v.is_valid(&r));
}
