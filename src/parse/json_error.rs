//! simd-json's errors in words: where the text stops being JSON and what was expected there.
//!
//! simd-json's own `Display` prints its error enum with `Debug` (`ExpectedMapComma at
//! character 17`), which is what an analyst would have read in a malformed-line sample. The
//! message is part of the report, so it is ours: a byte offset into the JSON text of the line
//! (after any prefix) and a phrase.

use simd_json::ErrorType;

/// `invalid JSON: <what> at byte <n>` without the `invalid JSON: ` its error kind adds.
pub(super) fn describe(e: &simd_json::Error) -> String {
    let what = match e.error() {
        ErrorType::Unexpected(Some(expected), Some(found)) => {
            format!("expected {expected}, found {found}")
        }
        ErrorType::Unexpected(Some(expected), None) => format!("expected {expected}"),
        ErrorType::Unexpected(None, Some(found)) => format!("unexpected {found}"),
        other => phrase(other).to_string(),
    };
    match e.character() {
        Some(c) if c.is_ascii_graphic() => format!("{what} at byte {} ('{c}')", e.index()),
        _ => format!("{what} at byte {}", e.index()),
    }
}

/// What an error type means, in the terms of the JSON text.
fn phrase(t: &ErrorType) -> &'static str {
    match t {
        ErrorType::InputTooLarge => "the entry is larger than 4 GiB",
        ErrorType::BadKeyType | ErrorType::KeyMustBeAString | ErrorType::ExpectedObjectKey => {
            "expected a string as object key"
        }
        ErrorType::ExpectedArrayComma => "expected ',' or ']' after an array element",
        ErrorType::ExpectedObjectColon => "expected ':' after an object key",
        ErrorType::ExpectedMapComma => "expected ',' or '}' after an object member",
        ErrorType::ExpectedMapEnd => "expected '}' to close the object",
        ErrorType::ExpectedNull => "expected null",
        ErrorType::ExpectedTrue => "expected true",
        ErrorType::ExpectedFalse => "expected false",
        ErrorType::ExpectedBoolean => "expected true or false",
        ErrorType::ExpectedNumber
        | ErrorType::ExpectedSigned
        | ErrorType::ExpectedUnsigned
        | ErrorType::ExpectedInteger
        | ErrorType::ExpectedFloat => "expected a number",
        ErrorType::ExpectedString => "expected a string",
        ErrorType::ExpectedArray => "expected an array",
        ErrorType::ExpectedMap => "expected an object",
        // What simd-json's tape builder says after an array element or an object member.
        ErrorType::ExpectedArrayContent => "expected ',' or ']' in an array",
        ErrorType::ExpectedObjectContent => "expected a key, ',' or '}' in an object",
        ErrorType::InvalidEscape => "invalid escape sequence in a string",
        ErrorType::InvalidUnicodeEscape | ErrorType::InvalidUnicodeCodepoint => {
            "invalid \\u escape in a string"
        }
        ErrorType::InvalidUtf8 => "invalid UTF-8",
        ErrorType::InvalidNumber | ErrorType::InvalidExponent => "invalid number",
        ErrorType::Eof => "the text ends before the JSON value does",
        ErrorType::UnterminatedString => "unterminated string",
        ErrorType::TrailingData => "more text after the JSON value",
        ErrorType::UnexpectedCharacter | ErrorType::NoStructure => "unexpected character",
        // Structural checks that fail before or after the values are read: an unclosed string
        // or bracket, or a closing one too many.
        ErrorType::Syntax | ErrorType::InternalError => "unbalanced brackets or quotes",
        ErrorType::DepthLimitExceeded => "nested deeper than the parser allows",
        _ => "not valid JSON",
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::{ParseErrorKind, Parser};

    fn message(line: &str) -> String {
        let mut p = Parser::new();
        p.parse_one(line.as_bytes(), |r| match r {
            Err(ParseErrorKind::InvalidJson(m)) => m,
            other => panic!("{line:?} is invalid JSON, parsed as {other:?}"),
        })
    }

    /// Rust `Debug` output of simd-json's error enum: a CamelCase variant or `Some(`/`None`.
    fn looks_like_debug(m: &str) -> bool {
        m.contains("Some(")
            || m.contains("None")
            || m.as_bytes()
                .windows(2)
                .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
    }

    #[test]
    fn malformed_lines_are_described_in_words_with_their_byte_offset() {
        // (line, what the message must say, the byte where the JSON stops being JSON)
        let cases = [
            (
                r#"{"type":"request" "time":1}"#,
                "expected a key, ',' or '}'",
                18,
            ),
            (
                r#"{"type" "request"}"#,
                "expected ':' after an object key",
                8,
            ),
            (
                r#"{"type":"request",}"#,
                "expected a string as object key",
                18,
            ),
            (r#"{"a":[1,2 3]}"#, "expected ',' or ']' in an array", 10),
            (r#"{"a":tru}"#, "expected true", 5),
            (
                r#"{"type":"request","auth":{"x":1}"#,
                "unbalanced brackets",
                31,
            ),
            (r#"{"a":1}}"#, "unbalanced brackets", 6),
        ];
        for (line, phrase, at) in cases {
            let m = message(line);
            assert!(m.starts_with(phrase), "{line}: {m}");
            assert!(m.contains(&format!(" at byte {at}")), "{line}: {m}");
            assert!(!looks_like_debug(&m), "{line}: {m}");
        }
        // The heuristic itself catches what the message used to be.
        assert!(looks_like_debug("ExpectedMapComma at byte 17"));
        assert!(looks_like_debug("Unexpected(Some(String), None) at byte 3"));
    }
}
