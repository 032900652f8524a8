//! Making hostile strings safe for each output.
//!
//! Paths, display names and error texts come from logs a compromised system may have written.
//! On a terminal, control characters and escape sequences could rewrite the screen
//! (RUSTSEC-2025-0055 was this bug in tracing-subscriber); in a spreadsheet, a cell starting with
//! `=` runs a formula; in HTML, markup runs. Each renderer passes every log string through the
//! matching function here.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Escapes control characters (C0, DEL, C1) and line/paragraph separators as `\xNN`/`\u{NNNN}`,
/// so nothing from a log can move the cursor, change colours or forge lines.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_dangerous(c) {
            if (c as u32) < 0x100 {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Neutralises spreadsheet formulas: cells starting with `=`, `+`, `-`, `@`, tab, CR or NUL get
/// a leading `'` (OWASP's CSV-injection advice). Control characters are escaped as on a terminal.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let s = terminal(s);
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\0') => Cow::Owned(format!("'{s}")),
        _ => s,
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn html(s: &str) -> Cow<'_, str> {
    if !s.contains(['<', '>', '&', '"', '\'']) && !s.chars().any(is_dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in terminal(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters with a meaning in CommonMark or GFM inline text or tables.
/// `#` is left alone: it only starts a heading at the start of a line, where no value is ever
/// written, and escaping it would break the `&#39;` entities [`html`] produces.
const MARKDOWN_PUNCTUATION: [char; 9] = ['|', '`', '*', '_', '[', ']', '\\', '~', '!'];

/// Escapes text for a Markdown table cell or inline text: markup characters become HTML
/// entities (so no raw HTML survives), Markdown punctuation is backslash-escaped (so no
/// emphasis, link, image or extra table column can form), and control characters are escaped
/// as on a terminal (so no value can end its line).
pub fn markdown(s: &str) -> Cow<'_, str> {
    let t = html(s);
    if !t.contains(MARKDOWN_PUNCTUATION) {
        return t;
    }
    let mut out = String::with_capacity(t.len() + 8);
    for c in t.chars() {
        if MARKDOWN_PUNCTUATION.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// A Markdown code span for an identifier (path, accessor, address): shown literally, with
/// nothing inside interpreted. Falls back to [`markdown`] text when the value has a backtick
/// (it would end the span), a `|` (GFM splits table cells before reading code spans), is empty,
/// or starts or ends with a space (the span would trim it).
pub fn markdown_code(s: &str) -> Cow<'_, str> {
    let t = terminal(s);
    if t.is_empty() || t.contains(['`', '|']) || t.starts_with(' ') || t.ends_with(' ') {
        return Cow::Owned(markdown(&t).into_owned());
    }
    Cow::Owned(format!("`{t}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_ansi_and_controls() {
        assert_eq!(terminal("ok/path"), "ok/path");
        assert_eq!(
            terminal("a\x1b[2J\x1b]0;pwned\x07b"),
            "a\\x1b[2J\\x1b]0;pwned\\x07b"
        );
        assert_eq!(terminal("line1\nline2\r"), "line1\\x0aline2\\x0d");
        assert_eq!(terminal("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(terminal("\u{9b}31m"), "\\x9b31m");
    }

    #[test]
    fn csv_neutralises_formulas() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("kv/data/a"), "kv/data/a");
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<script>alert('x')</script>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
        assert_eq!(markdown("a|b*c"), "a\\|b\\*c");
    }

    #[test]
    fn markdown_defuses_links_images_and_markup() {
        assert_eq!(
            markdown("[x](http://e) ![i](j) <b>~~s~~"),
            "\\[x\\](http://e) \\!\\[i\\](j) &lt;b&gt;\\~\\~s\\~\\~"
        );
        assert_eq!(markdown_code("kv/data/a"), "`kv/data/a`");
        assert_eq!(markdown_code("<img src=x>"), "`<img src=x>`");
        assert_eq!(markdown_code("ten|ant"), "ten\\|ant");
        assert_eq!(markdown_code("a`b"), "a\\`b");
        assert_eq!(markdown_code("a\x1b[31m"), "`a\\x1b[31m`");
        assert_eq!(markdown_code(""), "");
    }
}
