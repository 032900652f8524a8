//! Cost of evaluating the whole built-in rule pack on one event (`RuleSet::observe`).
//!
//! Run: `cargo bench --bench rules`.

use std::hint::black_box;

use blastradius::model::Loc;
use blastradius::parse::Parser;
use blastradius::rules::RuleSet;
use criterion::{Criterion, criterion_group, criterion_main};

/// Representative entries: a KV v2 read (the bulk of most logs), a successful login, a denial.
const EVENTS: &[(&str, &str)] = &[
    (
        "kv_read",
        r#"{"time":"2024-05-01T10:00:00.123456789Z","type":"response","auth":{"client_token":"hmac-sha256:7c1a0d","accessor":"hmac-sha256:1b2c3d","display_name":"approle","policies":["default","app"],"token_policies":["default","app"],"metadata":{"role_name":"app"},"entity_id":"0f6c0a3e-0e35-5e1b-8c3d-2f7b5b1e6a11","token_type":"service","token_ttl":2764800,"token_issue_time":"2024-05-01T09:00:00Z"},"request":{"id":"4a2b4a52-8b5e-4c4f-9d43-57a3b2d0a9c1","client_id":"0f6c0a3e-0e35-5e1b-8c3d-2f7b5b1e6a11","operation":"read","mount_point":"kv/","mount_type":"kv","mount_accessor":"kv_8a1b2c3d","mount_running_version":"v0.20.0+builtin","mount_class":"secret","client_token":"hmac-sha256:7c1a0d","client_token_accessor":"hmac-sha256:1b2c3d","namespace":{"id":"root"},"path":"kv/data/tenant-a/db","remote_address":"10.20.30.40","remote_port":51234},"response":{"mount_point":"kv/","mount_type":"kv","mount_accessor":"kv_8a1b2c3d","mount_running_plugin_version":"v0.20.0+builtin","mount_class":"secret","data":{"data":{"password":"hmac-sha256:aa","username":"hmac-sha256:bb"},"metadata":{"created_time":"hmac-sha256:cc","custom_metadata":null,"deletion_time":"hmac-sha256:dd","destroyed":false,"version":3}}}}"#,
    ),
    (
        "login",
        r#"{"time":"2024-05-01T10:00:00Z","type":"response","auth":{"policy_results":{"allowed":true},"token_type":"default"},"request":{"id":"b2f1a646-33d0-1201-22f0-92f8a72058ec","operation":"update","mount_point":"auth/approle/","mount_type":"approle","namespace":{"id":"root"},"path":"auth/approle/login","data":{"role_id":"hmac-sha256:2f61","secret_id":"hmac-sha256:a4b6"},"remote_address":"127.0.0.1","remote_port":39752},"response":{"auth":{"client_token":"hmac-sha256:aa","accessor":"hmac-sha256:bb","display_name":"approle","policies":["default","app"],"metadata":{"role_name":"app"},"entity_id":"e1","token_type":"service"},"mount_type":"approle"}}"#,
    ),
    (
        "denied",
        r#"{"time":"2024-05-01T10:00:00Z","type":"response","auth":{"client_token":"hmac-sha256:t","accessor":"hmac-sha256:a","policies":["default"],"policy_results":{"allowed":false},"token_type":"service"},"request":{"id":"1","operation":"read","path":"transit/keys/k","remote_address":"10.1.2.3"},"response":{"data":{"error":"hmac-sha256:e"}},"error":"1 error occurred:\n\t* permission denied\n\n"}"#,
    ),
];

fn observe(c: &mut Criterion) {
    let set = RuleSet::builtin().expect("built-in rules load");
    let mut group = c.benchmark_group("rules_observe");
    for (name, line) in EVENTS {
        let mut parser = Parser::new();
        parser.parse_one(line.as_bytes(), |r| {
            let ev = r.expect("bench events parse");
            let mut state = set.new_state();
            // Distinct locations, as in a scan: correlation inputs are keyed by them.
            let mut offset = 0u64;
            group.bench_function(*name, |b| {
                b.iter(|| {
                    offset += 1;
                    let loc = Loc {
                        offset,
                        ..Loc::default()
                    };
                    let mut hits = 0u32;
                    set.observe(black_box(&ev), loc, &mut state, &mut |_| hits += 1);
                    hits
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, observe);
criterion_main!(benches);
