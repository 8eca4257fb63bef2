//! Durations as users write them: `1s`, `500ms`, `2 minutes`, `10 seconds` (Spark's style).

/// Parses a duration into milliseconds; the error says what was expected.
pub fn parse_ms(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    if num.is_empty() {
        return Err(format!("expected a duration such as `1s` or `500ms`, found `{t}`"));
    }
    let value: f64 = num.parse().map_err(|_| format!("expected a duration such as `1s` or `500ms`, found `{t}`"))?;
    let scale = unit_ms(unit).ok_or_else(|| {
        format!("unknown time unit `{unit}` in `{t}`; expected one of ms, s, min, h (or milliseconds, seconds, minutes, hours)")
    })?;
    from_value(value * scale as f64, t)
}

/// Parses an offset into milliseconds: like [`parse_ms`], but zero and negative values are
/// allowed (`window`'s start time: `'0 seconds'`, `'-2 minutes'`; a bare `'0'` is refused, as
/// Spark refuses it).
pub fn parse_offset_ms(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => (-1, r.trim_start()),
        None => (1, t),
    };
    let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let (num, unit) = (rest[..split].trim(), rest[split..].trim());
    let value: f64 =
        num.parse().map_err(|_| format!("expected a time offset such as `0 seconds` or `-5 minutes`, found `{t}`"))?;
    let scale = unit_ms(unit).ok_or_else(|| {
        format!("unknown time unit `{unit}` in `{t}`; expected one of ms, s, min, h (or milliseconds, seconds, minutes, hours)")
    })?;
    if value == 0.0 {
        return Ok(0);
    }
    from_value(value * scale as f64, t).map(|ms| sign * ms as i64)
}

/// Parses a watermark delay into milliseconds: like [`parse_ms`], but zero is allowed
/// (`'0 seconds'`: Spark accepts it, and then no row is late until the watermark passes it);
/// a negative delay is refused.
pub fn parse_delay_ms(text: &str) -> Result<u64, String> {
    match parse_offset_ms(text) {
        Ok(ms) if ms >= 0 => Ok(ms as u64),
        Ok(_) => Err(format!("a watermark delay must not be negative, found `{}`", text.trim())),
        Err(_) => parse_ms(text),
    }
}

/// The milliseconds in one `unit`, for the unit names Spark and Rust users write.
pub fn unit_ms(unit: &str) -> Option<u64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        _ => return None,
    })
}

/// Checks that a duration in milliseconds is a positive whole number.
pub fn from_value(ms: f64, text: &str) -> Result<u64, String> {
    if ms.is_nan() || ms <= 0.0 {
        return Err(format!("a duration must be positive, found `{text}`"));
    }
    if ms.fract() != 0.0 {
        return Err(format!("a duration must be a whole number of milliseconds, found `{text}`"));
    }
    if ms > 1e15 {
        return Err(format!("duration `{text}` is too long"));
    }
    Ok(ms as u64)
}

#[cfg(test)]
mod tests {
    use super::{parse_ms, parse_offset_ms};

    #[test]
    fn offsets_may_be_zero_or_negative_but_need_a_unit() {
        assert_eq!(parse_offset_ms("0 seconds"), Ok(0));
        assert_eq!(parse_offset_ms("-2 minutes"), Ok(-120_000));
        assert_eq!(parse_offset_ms(" 90s "), Ok(90_000));
        for bad in ["0", "0 minuets", "often", "", "-", "1.5ms"] {
            assert!(parse_offset_ms(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn watermark_delays_may_be_zero_but_not_negative() {
        use super::parse_delay_ms;
        assert_eq!(parse_delay_ms("0 seconds"), Ok(0));
        assert_eq!(parse_delay_ms("10 minutes"), Ok(600_000));
        assert!(parse_delay_ms("-1 minute").unwrap_err().contains("must not be negative"));
        assert!(parse_delay_ms("often").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_ms("1s"), Ok(1000));
        assert_eq!(parse_ms("500ms"), Ok(500));
        assert_eq!(parse_ms("10 seconds"), Ok(10_000));
        assert_eq!(parse_ms("2 minutes"), Ok(120_000));
        assert_eq!(parse_ms("1.5s"), Ok(1500));
        assert!(parse_ms("0s").is_err());
        assert!(parse_ms("-1s").is_err());
        assert!(parse_ms("fast").is_err());
        assert!(parse_ms("3 parsecs").is_err());
        assert!(parse_ms("0.5ms").is_err());
    }
}
