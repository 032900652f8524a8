//! `--since`/`--until` values: absolute times or durations before now.

use crate::model::{Span, Timestamp};

/// Parses an RFC 3339 time, a `YYYY-MM-DD` date (midnight UTC) or a duration before `now`
/// (`24h`, `7d`, `1h 30m`).
pub fn parse_time_arg(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Some(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    if s.len() == 10
        && let Some(t) = Timestamp::parse(&format!("{s}T00:00:00Z"))
    {
        return Ok(t);
    }
    match humantime::parse_duration(s) {
        Ok(d) => Ok(now.minus(Span::from_duration(d))),
        Err(_) => Err(format!(
            "{s:?} is neither a time (2026-11-01T00:00:00Z, 2026-11-01) nor a duration (24h, 7d, 30m)"
        )),
    }
}

/// Parses a duration (`5m`, `90s`, `1h 30m`).
pub fn parse_span(s: &str) -> Result<Span, String> {
    humantime::parse_duration(s.trim())
        .map(Span::from_duration)
        .map_err(|e| format!("{s:?} is not a duration (e.g. 5m, 90s, 1h): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_relative_and_dates() {
        let now = Timestamp::parse("2026-11-22T12:00:00Z").unwrap();
        assert_eq!(
            parse_time_arg("24h", now).unwrap(),
            Timestamp::parse("2026-11-21T12:00:00Z").unwrap()
        );
        assert_eq!(
            parse_time_arg("2026-11-01T00:00:00Z", now).unwrap(),
            Timestamp::parse("2026-11-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_time_arg("2026-11-01", now).unwrap(),
            Timestamp::parse("2026-11-01T00:00:00Z").unwrap()
        );
        assert!(parse_time_arg("yesterday", now).is_err());
        assert_eq!(parse_span("5m").unwrap(), Span::from_secs(300));
    }
}
