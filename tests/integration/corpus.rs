//! The real-world corpus (Vault 0.1 → 1.19, OpenBao 2.x; see ../shared/corpus/SOURCES.md) as a
//! compatibility suite: every audit entry in it is read, and everything else is reported with
//! its location. The expected counts come from serde_json, independently of our parser.

use std::path::Path;

use serde_json::Value;

use crate::util::{corpus_dir, scan_json};

/// Files that are peers' expected outputs or test configs, not logs.
fn is_log(name: &str) -> bool {
    !(name.ends_with(".md") || name.ends_with(".yaml") || name.ends_with("-expected.json"))
}

fn is_entry(v: &Value) -> bool {
    v.get("type").is_some() || v.get("request").is_some()
}

/// (entries, non-entry JSON values) in a file, counted with serde_json.
fn reference_counts(path: &Path) -> (u64, u64) {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8(bytes).expect("corpus is UTF-8");
    let pretty = text.lines().any(|l| matches!(l.trim(), "{" | "["));
    let values: Vec<Value> = if pretty {
        serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .map(|v| v.expect("corpus values parse"))
            .flat_map(|v| match v {
                Value::Array(items) => items,
                other => vec![other],
            })
            .collect()
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l.trim()).expect("corpus line parses"))
            .collect()
    };
    let entries = values.iter().filter(|v| is_entry(v)).count() as u64;
    (entries, values.len() as u64 - entries)
}

#[test]
fn every_corpus_entry_is_read_or_reported() {
    let dir = corpus_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut total = 0;
    for path in files
        .iter()
        .filter(|p| is_log(p.file_name().unwrap().to_str().unwrap()))
    {
        let (entries, foreign) = reference_counts(path);
        let (_, r) = scan_json(&[path.to_str().unwrap()]);
        let input = &r["inputs"][0];
        assert_eq!(
            input["events"].as_u64(),
            Some(entries),
            "{}",
            path.display()
        );
        assert_eq!(
            input["malformed"].as_u64(),
            Some(foreign),
            "{}: non-entries are reported",
            path.display()
        );
        assert_eq!(
            r["malformed"].as_array().unwrap().len() as u64,
            foreign.min(100)
        );
        if foreign > 0 {
            assert_eq!(
                r["malformed"][0]["kind"],
                "not-an-audit-entry",
                "{}",
                path.display()
            );
        }
        total += entries;
    }
    assert!(
        total > 5000,
        "the corpus holds ~5,100 entries, read {total}"
    );
}

#[test]
fn pretty_printed_streams_read_like_their_compacted_copies() {
    let dir = corpus_dir();
    for stem in [
        "blog-openbao-255-transit-denied",
        "blog-clients-lab-ent-namespaces-lograw",
        "blog-jhow-vault-kv0200-2025",
    ] {
        let (_, pretty) = scan_json(&[dir.join(format!("{stem}.pretty.json")).to_str().unwrap()]);
        let (_, compact) = scan_json(&[dir
            .join(format!("{stem}.compacted.ndjson"))
            .to_str()
            .unwrap()]);
        assert_eq!(pretty["inputs"][0]["pretty"], true);
        for key in ["stats", "secrets", "affected_tenants", "findings"] {
            let strip = |v: &Value| {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    o.remove("lines");
                }
                if let Some(arr) = v.as_array_mut() {
                    for x in arr {
                        if let Some(o) = x.as_object_mut() {
                            o.remove("evidence");
                        }
                    }
                }
                v
            };
            assert_eq!(strip(&pretty[key]), strip(&compact[key]), "{stem}: {key}");
        }
    }
}

#[test]
fn enterprise_namespaces_map_to_tenants() {
    let f = corpus_dir().join("blog-clients-lab-ent-namespaces-lograw.compacted.ndjson");
    let (_, r) = scan_json(&[f.to_str().unwrap()]);
    assert_eq!(r["affected_tenants"], serde_json::json!(["blue", "red"]));
    let paths: Vec<&str> = r["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec!["blue/kv/data/app/config", "red/kv/data/app/config"]
    );
}

#[test]
fn legacy_logs_without_mount_types_still_find_secret_reads() {
    // Vault 1.1 database credentials, identified by path shape, with clear lease ids.
    let f = corpus_dir().join("ppresto_hashi.audit.log");
    let (_, r) = scan_json(&[f.to_str().unwrap()]);
    let db: Vec<&Value> = r["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "database-creds")
        .collect();
    assert!(!db.is_empty());
    assert!(db.iter().map(|s| s["reads"].as_u64().unwrap()).sum::<u64>() >= 20);
    // Vault 0.10.3, no mount_type, no namespace, empty `error` strings on every entry.
    let f = corpus_dir().join("kohbah_vault.audit.log");
    let (_, r) = scan_json(&[f.to_str().unwrap()]);
    assert_eq!(r["stats"]["entries"], 1383);
    assert_eq!(r["stats"]["paired_requests"], 691);
}
