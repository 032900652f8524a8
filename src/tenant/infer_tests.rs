use super::*;
use crate::model::secret::{Engine, MountRef, MountSource, SecretKind};
use crate::tenant::{Attribution, TenantFallback, TenantInference, TenantMap};

/// A read of `path` (namespace-relative, `<mount>/<rest>`) in namespace `ns`.
struct Read {
    ns: Option<&'static str>,
    mount: &'static str,
    rest: String,
    kind: SecretKind,
}

fn kv2(mount: &'static str, rest: impl Into<String>) -> Read {
    Read {
        ns: None,
        mount,
        rest: rest.into(),
        kind: SecretKind::KvV2Read,
    }
}

fn kv1(mount: &'static str, rest: impl Into<String>) -> Read {
    Read {
        kind: SecretKind::KvV1Read,
        ..kv2(mount, rest)
    }
}

/// Attributes every read with inference, as a scan does after merging: the tenants by path.
fn tenants(map: &TenantMap, reads: &[Read]) -> (TenantLayout, BTreeMap<String, Option<String>>) {
    let attributed: Vec<(String, Attribution)> = reads
        .iter()
        .map(|r| {
            let m = MountRef {
                mount: r.mount,
                rest: &r.rest,
                engine: Engine::Kv,
                inferred: false,
                source: MountSource::Log,
            };
            let path = format!("{}{}", r.mount, r.rest);
            let a = map.attribute(r.ns, &path, &m, r.kind);
            (format!("{}{path}", r.ns.unwrap_or("")), a)
        })
        .collect();
    let layout = TenantLayout::infer(attributed.iter().filter_map(|(_, a)| a.site_ref()));
    let by_path = attributed
        .into_iter()
        .map(|(p, a)| (p, map.resolve(a.tenant.as_deref(), a.site_ref(), &layout)))
        .collect();
    (layout, by_path)
}

fn tenant_set(by_path: &BTreeMap<String, Option<String>>) -> BTreeSet<String> {
    by_path.values().flatten().cloned().collect()
}

fn fourteen_tenants_layout() -> Vec<Read> {
    let mut reads: Vec<Read> = (0..14)
        .map(|i| kv2("secret/", format!("data/tenants/t{i:02}/db")))
        .collect();
    reads.push(kv2("secret/", "data/shared/ca"));
    reads.push(kv2("secret/", "data/web/tls/cert"));
    reads
}

#[test]
fn a_constant_above_many_tenant_directories_is_inferred_and_printed_as_a_pattern() {
    let map = TenantMap::default();
    let (layout, by_path) = tenants(&map, &fourteen_tenants_layout());
    assert_eq!(
        layout.patterns(),
        ["^secret/[^/]+/tenants/(?P<tenant>[^/]+)/"]
    );
    assert_eq!(layout.rules()[0].tenants, 14);
    let set = tenant_set(&by_path);
    assert_eq!(set.len(), 16, "{set:?}"); // 14 tenants, shared, web
    assert!(!set.contains("tenants"));
    assert_eq!(
        by_path["secret/data/tenants/t03/db"].as_deref(),
        Some("t03")
    );
    assert_eq!(by_path["secret/data/shared/ca"].as_deref(), Some("shared"));
}

#[test]
fn the_printed_pattern_reproduces_the_inferred_tenants() {
    let reads = fourteen_tenants_layout();
    let (layout, inferred) = tenants(&TenantMap::default(), &reads);
    let with_pattern = TenantMap::new(&layout.patterns(), &[]).unwrap();
    let (again, explicit) = tenants(&with_pattern, &reads);
    assert!(again.is_empty(), "a pattern turns inference off");
    assert_eq!(inferred, explicit);
}

#[test]
fn customers_in_a_kv_v1_mount_and_several_constants_per_mount() {
    let mut reads: Vec<Read> = (0..6)
        .map(|i| kv1("kv/", format!("customers/c{i}/api")))
        .collect();
    reads.extend((0..7).map(|i| kv1("kv/", format!("orgs/o{i}/db/password"))));
    let (layout, by_path) = tenants(&TenantMap::default(), &reads);
    assert_eq!(
        layout.patterns(),
        [
            "^kv/customers/(?P<tenant>[^/]+)/",
            "^kv/orgs/(?P<tenant>[^/]+)/"
        ]
    );
    assert_eq!(tenant_set(&by_path).len(), 13);
}

#[test]
fn listings_of_tenant_directories_count_as_directories() {
    let reads: Vec<Read> = (0..5)
        .map(|i| Read {
            kind: SecretKind::KvV2List,
            ..kv2("secret/", format!("metadata/tenants/t{i}/"))
        })
        .collect();
    let (layout, _) = tenants(&TenantMap::default(), &reads);
    assert_eq!(layout.rules().len(), 1);
}

#[test]
fn few_tenants_do_not_fire() {
    let reads: Vec<Read> = (0..MIN_INFERRED_TENANTS - 1)
        .map(|i| kv2("secret/", format!("data/tenants/t{i}/db")))
        .collect();
    let (layout, by_path) = tenants(&TenantMap::default(), &reads);
    assert!(layout.is_empty());
    assert_eq!(
        tenant_set(&by_path),
        BTreeSet::from(["tenants".to_string()])
    );
}

#[test]
fn flat_paths_do_not_fire() {
    // Many tenants, each a leaf or a single app directory: the first segment is the tenant.
    let mut reads: Vec<Read> = (0..20)
        .map(|i| kv2("secret/", format!("data/t{i}")))
        .collect();
    reads.extend((0..20).map(|i| kv2("secret/", format!("data/t{i}/app/db"))));
    let (layout, by_path) = tenants(&TenantMap::default(), &reads);
    assert!(layout.is_empty());
    assert_eq!(tenant_set(&by_path).len(), 20);
}

#[test]
fn tenant_first_layouts_with_many_apps_do_not_fire() {
    // `<tenant>/<app>/<secret>`: each tenant has as many app directories as there are tenants.
    let reads: Vec<Read> = (0..6)
        .flat_map(|t| (0..6).map(move |a| kv2("secret/", format!("data/t{t}/app{a}/db"))))
        .collect();
    let (layout, by_path) = tenants(&TenantMap::default(), &reads);
    assert!(layout.is_empty(), "{:?}", layout.patterns());
    assert_eq!(tenant_set(&by_path).len(), 6);
}

#[test]
fn a_constant_with_one_child_does_not_fire() {
    let reads: Vec<Read> = (0..30)
        .map(|i| kv2("secret/", format!("data/tenants/acme/s{i}")))
        .collect();
    let (layout, _) = tenants(&TenantMap::default(), &reads);
    assert!(layout.is_empty());
}

#[test]
fn kv_v2_data_and_metadata_prefixes_are_not_constants() {
    // Ten tenants read through data/ and listed through metadata/: `data` is the action word.
    let mut reads: Vec<Read> = (0..10)
        .map(|i| kv2("secret/", format!("data/t{i}/db")))
        .collect();
    reads.extend((0..10).map(|i| Read {
        kind: SecretKind::KvV2List,
        ..kv2("secret/", format!("metadata/t{i}"))
    }));
    let (layout, by_path) = tenants(&TenantMap::default(), &reads);
    assert!(layout.is_empty(), "{:?}", layout.patterns());
    assert!(!tenant_set(&by_path).contains("data"));
    assert_eq!(tenant_set(&by_path).len(), 10);
}

#[test]
fn namespaces_name_tenants_and_leave_nothing_to_infer() {
    let reads: Vec<Read> = (0..10)
        .map(|i| Read {
            ns: Some("acme/"),
            ..kv2("secret/", format!("data/tenants/t{i}/db"))
        })
        .collect();
    let (layout, by_path) = tenants(&TenantMap::default(), &reads);
    assert!(layout.is_empty());
    assert_eq!(tenant_set(&by_path), BTreeSet::from(["acme".to_string()]));
    // With the segment fallback the namespace's own mount is inferred, qualified by it.
    let seg = TenantMap::default().with_fallback(TenantFallback::Segment);
    let (layout, by_path) = tenants(&seg, &reads);
    assert_eq!(
        layout.patterns(),
        ["^acme/secret/[^/]+/tenants/(?P<tenant>[^/]+)/"]
    );
    assert_eq!(tenant_set(&by_path).len(), 10);
}

#[test]
fn mounts_are_inferred_separately() {
    // Five tenants spread over two mounts are not five tenants of either.
    let mut reads: Vec<Read> = (0..3)
        .map(|i| kv2("secret/", format!("data/tenants/t{i}/db")))
        .collect();
    reads.extend((3..5).map(|i| kv2("other/", format!("data/tenants/t{i}/db"))));
    let (layout, _) = tenants(&TenantMap::default(), &reads);
    assert!(layout.is_empty());
}

#[test]
fn no_tenant_inference_and_patterns_turn_it_off() {
    let reads = fourteen_tenants_layout();
    let off = TenantMap::default().with_inference(TenantInference::Off);
    let (layout, by_path) = tenants(&off, &reads);
    assert!(layout.is_empty());
    assert_eq!(tenant_set(&by_path).len(), 3); // shared, tenants, web
    let other = TenantMap::new(&[r"^kv/(?P<tenant>[^/]+)/".into()], &[]).unwrap();
    assert!(tenants(&other, &reads).0.is_empty());
}

#[test]
fn inference_does_not_depend_on_order_or_duplicates() {
    let reads = fourteen_tenants_layout();
    let map = TenantMap::default();
    let sites: Vec<SegmentSite> = reads
        .iter()
        .filter_map(|r| {
            let m = MountRef {
                mount: r.mount,
                rest: &r.rest,
                engine: Engine::Kv,
                inferred: false,
                source: MountSource::Log,
            };
            map.attribute(None, &format!("{}{}", r.mount, r.rest), &m, r.kind)
                .site
        })
        .collect();
    let refs: Vec<SiteRef<'_>> = sites.iter().map(SegmentSite::as_ref).collect();
    let forward = TenantLayout::infer(refs.iter().copied());
    let backward = TenantLayout::infer(refs.iter().rev().copied());
    let doubled = TenantLayout::infer(refs.iter().chain(refs.iter().step_by(3)).copied());
    assert_eq!(forward, backward);
    assert_eq!(forward, doubled);
    assert!(!forward.is_empty());
}
