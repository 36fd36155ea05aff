//! Lenient RFC 3339 timestamps, as ECS actually sends them.
//!
//! Real events carry 0 to 9 fraction digits (`…:10Z`, `…:33.3Z`, `…:18.682Z`), and DescribeTasks returns
//! epoch numbers instead of strings. Everything inside the engine is epoch milliseconds (UTC), so ordering
//! and formatting never depend on how a timestamp was spelled. No crate is used: the grammar is small and a
//! parse failure must not fail the event (the field simply becomes unknown).

/// Parses `YYYY-MM-DDTHH:MM:SS[.f{0,9}](Z|±HH:MM)` (also a space or lowercase `t` as separator).
/// Returns epoch milliseconds, or `None` for anything else.
pub fn parse_rfc3339_millis(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        for _ in digits.min(3)..3 {
            millis *= 10;
        }
    }
    let offset_secs = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let v = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(secs * 1000 + millis)
}

/// Formats epoch milliseconds as `2025-02-13T14:48:24.435Z`.
pub fn format_rfc3339_millis(ms: i64) -> String {
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", sod / 3600, (sod % 3600) / 60, sod % 60)
}

/// `2026-03-05T16:04:41Z`: whole seconds, as ECS writes `expiresAt` in its events.
pub fn format_rfc3339_secs(ms: i64) -> String {
    let s = format_rfc3339_millis(ms.div_euclid(1000) * 1000);
    s.replace(".000Z", "Z")
}

/// `HH:MM:SS` of epoch milliseconds, UTC: the prefix of timeline lines.
pub fn format_clock(ms: i64) -> String {
    let sod = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", sod / 3600, (sod % 3600) / 60, sod % 60)
}

/// Current wall-clock time in epoch milliseconds.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

// Howard Hinnant's civil calendar algorithms (public domain), proleptic Gregorian.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_fraction_precision_seen_in_real_events() {
        let base = parse_rfc3339_millis("2025-02-13T14:48:24Z").unwrap();
        assert_eq!(parse_rfc3339_millis("2025-02-13T14:48:24.4Z"), Some(base + 400));
        assert_eq!(parse_rfc3339_millis("2025-02-13T14:48:24.43Z"), Some(base + 430));
        assert_eq!(parse_rfc3339_millis("2025-02-13T14:48:24.435Z"), Some(base + 435));
        assert_eq!(parse_rfc3339_millis("2025-02-13T14:48:24.435123456Z"), Some(base + 435));
        assert_eq!(parse_rfc3339_millis("2025-02-13T15:48:24.435+01:00"), Some(base + 435));
    }

    #[test]
    fn rejects_garbage_instead_of_guessing() {
        for s in ["", "null", "2025-02-13", "2025-13-01T00:00:00Z", "2025-02-13T14:48:24.Z", "2025-02-13T14:48:24"] {
            assert_eq!(parse_rfc3339_millis(s), None, "{s}");
        }
    }

    #[test]
    fn formats_round_trip() {
        let s = "2020-05-23T12:31:14.123Z";
        assert_eq!(format_rfc3339_millis(parse_rfc3339_millis(s).unwrap()), s);
        assert_eq!(format_clock(parse_rfc3339_millis(s).unwrap()), "12:31:14");
        assert_eq!(parse_rfc3339_millis("1970-01-01T00:00:00Z"), Some(0));
    }
}
