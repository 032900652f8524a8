//! Identity templates in policy paths (`kv/data/{{identity.entity.id}}/*`).
//!
//! Vault fills a templated stanza from the token's entity when it builds the ACL; a stanza whose
//! placeholder has no value for that entity (no entity at all, an unknown metadata key) is left
//! out. The audit log tells the entity id and nothing else about the entity, so other placeholders
//! stay unresolved: such a stanza is reported as one that *could* grant access, never guessed.

use std::collections::BTreeMap;

/// What the log (or the responder) knows about a token's entity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// `entity_id`, when the token has one.
    pub entity_id: Option<String>,
    /// The entity's name, when known.
    pub entity_name: Option<String>,
    /// Entity metadata, when known.
    pub metadata: BTreeMap<String, String>,
}

/// A templated path filled in for one identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filled {
    /// Every placeholder had a value.
    Path(String),
    /// Vault leaves the stanza out for this token (it has no entity).
    Skipped,
    /// Some placeholders are unknown; the names are listed.
    Unresolved(Vec<String>),
}

/// Fills the placeholders of `path` from `id`.
pub fn fill(path: &str, id: &Identity) -> Filled {
    let mut out = String::with_capacity(path.len());
    let mut unknown = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + len].trim();
        let Some(entity_id) = id.entity_id.as_deref() else {
            return Filled::Skipped;
        };
        match value(name, entity_id, id) {
            Some(v) => out.push_str(&v),
            None => unknown.push(name.to_string()),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    if unknown.is_empty() {
        Filled::Path(out)
    } else {
        Filled::Unresolved(unknown)
    }
}

fn value(name: &str, entity_id: &str, id: &Identity) -> Option<String> {
    match name {
        "identity.entity.id" => Some(entity_id.to_string()),
        "identity.entity.name" => id.entity_name.clone(),
        _ => name
            .strip_prefix("identity.entity.metadata.")
            .and_then(|k| id.metadata.get(k).cloned()),
    }
}

/// A regex that matches every path a templated stanza could cover, whatever its placeholders
/// are: each placeholder stands for part of one segment, as Vault forbids `/` in them.
pub fn could_match(path: &str) -> Option<regex::Regex> {
    let mut re = String::from("^");
    let mut rest = path;
    while let Some(start) = rest.find("{{") {
        let len = rest[start..].find("}}")?;
        re.push_str(&literal(&rest[..start]));
        re.push_str("[^/]*");
        rest = &rest[start + len + 2..];
    }
    re.push_str(&literal(rest));
    re.push('$');
    regex::Regex::new(&re).ok()
}

/// Escapes a stretch of policy path, keeping `+` segments and a trailing `*` as wildcards.
fn literal(s: &str) -> String {
    let (body, glob) = match s.strip_suffix('*') {
        Some(b) => (b, true),
        None => (s, false),
    };
    let parts: Vec<String> = body
        .split('/')
        .map(|seg| {
            if seg == "+" {
                "[^/]*".to_string()
            } else {
                regex::escape(seg)
            }
        })
        .collect();
    let mut out = parts.join("/");
    if glob {
        out.push_str(".*");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_entity() -> Identity {
        Identity {
            entity_id: Some("e-1".into()),
            ..Identity::default()
        }
    }

    #[test]
    fn entity_id_is_filled_other_placeholders_are_unresolved() {
        let id = with_entity();
        assert_eq!(
            fill("kv/data/{{identity.entity.id}}/*", &id),
            Filled::Path("kv/data/e-1/*".into())
        );
        assert_eq!(
            fill("kv/data/{{ identity.entity.name }}/*", &id),
            Filled::Unresolved(vec!["identity.entity.name".into()])
        );
        let mut named = id.clone();
        named.entity_name = Some("alice".into());
        named.metadata.insert("team".into(), "red".into());
        assert_eq!(
            fill(
                "kv/{{identity.entity.metadata.team}}/{{identity.entity.name}}",
                &named
            ),
            Filled::Path("kv/red/alice".into())
        );
        assert_eq!(
            fill("kv/{{identity.entity.id}}", &Identity::default()),
            Filled::Skipped
        );
    }

    #[test]
    fn could_match_keeps_placeholders_inside_one_segment() {
        let re = could_match("kv/data/user-{{identity.entity.name}}/*").unwrap();
        assert!(re.is_match("kv/data/user-alice/db"));
        assert!(!re.is_match("kv/data/other/db"));
        let exact = could_match("kv/data/{{identity.entity.name}}/+/x").unwrap();
        assert!(exact.is_match("kv/data/bob/any/x"));
        assert!(!exact.is_match("kv/data/bob/a/b/x"));
    }
}
