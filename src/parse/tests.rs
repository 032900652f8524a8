use super::*;
use crate::model::{EntryType, Operation};

const LOGIN_RESPONSE: &str = r#"{"time":"2026-11-22T08:09:16.639714885Z","type":"response","auth":{"token_type":"default"},"request":{"id":"b2f1a646-33d0-1201-22f0-92f8a72058ec","operation":"update","mount_point":"auth/approle/","mount_type":"approle","namespace":{"id":"root"},"path":"auth/approle/login","data":{"role_id":"hmac-sha256:2f61","secret_id":"hmac-sha256:a4b6"},"remote_address":"127.0.0.1","remote_port":39752},"response":{"auth":{"client_token":"hmac-sha256:aa","accessor":"hmac-sha256:bb","display_name":"approle","policies":["default","app"],"metadata":{"role_name":"app"},"entity_id":"e1","token_type":"service"},"mount_type":"approle"}}"#;

fn parse(line: &str) -> Result<(EntryType, Operation, String, Option<String>), ParseErrorKind> {
    let mut p = Parser::new();
    p.parse_one(line.as_bytes(), |r| {
        r.map(|e| {
            (
                e.entry_type,
                e.request.operation,
                e.request.path.to_string(),
                e.response.auth.and_then(|a| a.accessor).map(str::to_string),
            )
        })
    })
}

#[test]
fn extracts_typed_fields_from_a_login_response() {
    let mut p = Parser::new();
    p.parse_one(LOGIN_RESPONSE.as_bytes(), |r| {
        let e = r.unwrap();
        assert_eq!(e.entry_type, EntryType::Response);
        assert_eq!(e.request.id, Some("b2f1a646-33d0-1201-22f0-92f8a72058ec"));
        assert_eq!(e.request.operation, Operation::Update);
        assert_eq!(e.request.path, "auth/approle/login");
        assert_eq!(e.request.remote_address, Some("127.0.0.1"));
        assert_eq!(e.request.namespace_id, Some("root"));
        let new = e.response.auth.unwrap();
        assert_eq!(new.accessor, Some("hmac-sha256:bb"));
        assert_eq!(
            new.policies.strs().collect::<Vec<_>>(),
            vec!["default", "app"]
        );
        assert_eq!(new.meta("role_name"), Some("app"));
        assert_eq!(e.auth.token.token_type, Some("default"));
        assert_eq!(
            e.lookup("request.remote_port").and_then(|v| v.as_i64()),
            Some(39752)
        );
        assert_eq!(
            e.lookup("request.data.role_id").and_then(|v| v.as_str()),
            Some("hmac-sha256:2f61")
        );
        assert!(e.time.is_some());
    });
}

#[test]
fn alphabetical_key_order_reads_the_same() {
    let line = r#"{"auth":{"accessor":"hmac-sha256:x","policies":["root"]},"error":"1 error occurred:\n\t* permission denied\n\n","request":{"id":"r1","operation":"read","path":"kv/data/a"},"time":"2025-01-01T00:00:00Z","type":"response"}"#;
    let mut p = Parser::new();
    p.parse_one(line.as_bytes(), |r| {
        let e = r.unwrap();
        assert_eq!(e.entry_type, EntryType::Response);
        assert_eq!(
            e.error,
            Some("1 error occurred:\n\t* permission denied\n\n")
        );
        assert!(e.auth.token.is_root());
    });
}

#[test]
fn empty_error_string_counts_as_no_error() {
    let line = r#"{"time":"2018-01-01T00:00:00Z","type":"request","auth":{},"request":{"id":"x","operation":"read","path":"secret/a"},"error":""}"#;
    let mut p = Parser::new();
    p.parse_one(line.as_bytes(), |r| assert_eq!(r.unwrap().error, None));
}

#[test]
fn rejects_truncated_json_non_objects_and_foreign_objects() {
    assert!(matches!(
        parse(&LOGIN_RESPONSE[..200]),
        Err(ParseErrorKind::InvalidJson(_))
    ));
    assert_eq!(parse("[1,2]"), Err(ParseErrorKind::NotAnObject));
    assert_eq!(
        parse(r#"{"@timestamp":"x","message":"hi"}"#),
        Err(ParseErrorKind::NotAuditEntry)
    );
}

#[test]
fn rejects_invalid_utf8() {
    let mut p = Parser::new();
    let bad = b"{\"type\":\"request\",\"request\":{\"path\":\"a\xff\"}}";
    assert!(p.parse_one(bad, |r| r.is_err()));
}

#[test]
fn a_reused_buffer_holds_nothing_of_the_previous_entry() {
    // A long entry, then a shorter one: the short one must parse as itself, not as a prefix of
    // the bytes the long one left in the buffer; then a truncated one must fail.
    let long =
        r#"{"type":"response","request":{"id":"1","path":"secret/data/a-much-longer-path"}}"#;
    let short = r#"{"type":"request","request":{"id":"2","path":"b\"q"}}"#;
    let mut p = Parser::new();
    let first = p.parse_one(long.as_bytes(), |r| r.unwrap().request.path.to_string());
    let second = p.parse_one(short.as_bytes(), |r| r.unwrap().request.path.to_string());
    assert_eq!(
        (first.as_str(), second.as_str()),
        ("secret/data/a-much-longer-path", "b\"q")
    );
    assert!(p.parse_one(&long.as_bytes()[..40], |r| r.is_err()));
}
