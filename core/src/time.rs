//! Timestamps (RFC 3339 → ms since the Unix epoch) and ISO 8601 durations (→ ms).
//!
//! Hand-written because both grammars are tiny and fixed by the snapshot format, and the
//! crates that parse them need `std` or bring far more than the engine uses.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// Parses an RFC 3339 timestamp with an explicit offset (`2026-11-22T09:00:00.250+01:00`)
/// into ms since the Unix epoch. Fractions beyond milliseconds are truncated.
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    let mut cursor = Cursor(text.as_bytes());
    let year = cursor.digits(4)?;
    cursor.expect(b'-')?;
    let month = cursor.digits(2)?;
    cursor.expect(b'-')?;
    let day = cursor.digits(2)?;
    if !matches!(cursor.next()?, b'T' | b't') {
        return None;
    }
    let hour = cursor.digits(2)?;
    cursor.expect(b':')?;
    let minute = cursor.digits(2)?;
    cursor.expect(b':')?;
    let second = cursor.digits(2)?;
    let mut millis = 0;
    if cursor.peek() == Some(b'.') {
        cursor.next();
        let (fraction, count) = cursor.fraction_millis();
        if count == 0 {
            return None;
        }
        millis = fraction;
    }
    let offset_minutes = match cursor.next()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let hours = cursor.digits(2)?;
            cursor.expect(b':')?;
            let minutes = cursor.digits(2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            if sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    if !cursor.0.is_empty()
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(
        days * MS_PER_DAY + hour * MS_PER_HOUR + minute * MS_PER_MINUTE + second * MS_PER_SECOND + millis
            - offset_minutes * MS_PER_MINUTE,
    )
}

/// Parses an ISO 8601 duration made of exact units (`P2W`, `P1DT12H`, `PT1H30M`,
/// `PT0.5S`) into milliseconds. Years and months are rejected: their length depends on
/// the calendar. Returns `None` for anything else, including the empty `P` and `PT`.
pub fn parse_duration(text: &str) -> Option<Millis> {
    let mut cursor = Cursor(text.as_bytes());
    cursor.expect(b'P')?;
    let mut total: i64 = 0;
    let mut in_time = false;
    let mut any = false;
    // Units must appear in this order; each at most once.
    let mut next_allowed = 0;
    while let Some(byte) = cursor.peek() {
        if byte == b'T' {
            if in_time {
                return None;
            }
            cursor.next();
            in_time = true;
            cursor.peek()?;
            continue;
        }
        let whole = cursor.number()?;
        let (fraction, fraction_digits) = if cursor.peek() == Some(b'.') {
            cursor.next();
            let parsed = cursor.fraction_millis();
            if parsed.1 == 0 {
                return None;
            }
            parsed
        } else {
            (0, 0)
        };
        let (rank, unit) = match (in_time, cursor.next()?) {
            (false, b'W') => (0, 7 * MS_PER_DAY),
            (false, b'D') => (1, MS_PER_DAY),
            (true, b'H') => (2, MS_PER_HOUR),
            (true, b'M') => (3, MS_PER_MINUTE),
            (true, b'S') => (4, MS_PER_SECOND),
            _ => return None,
        };
        // Only seconds may carry a fraction (milliseconds are the engine's resolution).
        if rank < next_allowed || (fraction_digits > 0 && rank != 4) {
            return None;
        }
        next_allowed = rank + 1;
        total = total.checked_add(whole.checked_mul(unit)?)?.checked_add(fraction)?;
        any = true;
    }
    any.then_some(total)
}

/// Formats ms since the Unix epoch as JavaScript's `Date.prototype.toISOString` does for
/// years 0–9999 (`2026-11-22T09:00:00.250Z`); `None` outside that range. Bindings use it to
/// convert host date objects the way `JSON.stringify` would.
pub fn format_timestamp(ms: Millis) -> Option<alloc::string::String> {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(alloc::format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / MS_PER_HOUR,
        in_day % MS_PER_HOUR / MS_PER_MINUTE,
        in_day % MS_PER_MINUTE / MS_PER_SECOND,
        in_day % MS_PER_SECOND
    ))
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn next(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    /// Exactly `count` ASCII digits.
    fn digits(&mut self, count: usize) -> Option<i64> {
        let mut value = 0;
        for _ in 0..count {
            let digit = self.next()?;
            if !digit.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(digit - b'0');
        }
        Some(value)
    }

    /// One or more ASCII digits, without overflow.
    fn number(&mut self) -> Option<i64> {
        let mut value: i64 = 0;
        let mut count = 0;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            self.next();
            value = value.checked_mul(10)?.checked_add(i64::from(digit - b'0'))?;
            count += 1;
        }
        (count > 0).then_some(value)
    }

    /// Decimal fraction digits as milliseconds (truncated) and how many digits there were.
    fn fraction_millis(&mut self) -> (i64, usize) {
        let mut millis = 0;
        let mut count = 0;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            self.next();
            if count < 3 {
                millis = millis * 10 + i64::from(digit - b'0');
            }
            count += 1;
        }
        let mut scale = count;
        while scale < 3 {
            millis *= 10;
            scale += 1;
        }
        (millis, count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2026-11-22T00:00:00Z"), Some(1_795_305_600_000));
        assert_eq!(parse_timestamp("2026-11-22T01:00:00.250+01:00"), Some(1_795_305_600_250));
        assert_eq!(parse_timestamp("2026-11-22T00:00:00.123456789z"), Some(1_795_305_600_123));
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(parse_timestamp("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T00:00:00",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T00:00:00.Z",
            "2026-11-22T00:00:00Zx",
            "2026-11-22 00:00:00Z",
            "2026-11-22T00:00:00+0100",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn formatting_inverts_parsing() {
        assert_eq!(format_timestamp(0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(format_timestamp(1_795_305_600_250).as_deref(), Some("2026-11-22T00:00:00.250Z"));
        assert_eq!(format_timestamp(-1).as_deref(), Some("1969-12-31T23:59:59.999Z"));
        assert_eq!(format_timestamp(1_709_164_800_000).as_deref(), Some("2024-02-29T00:00:00.000Z"));
        assert_eq!(format_timestamp(253_402_300_800_000), None); // year 10000
        let mut ms = -62_167_219_200_000; // 0000-01-01
        while ms < 253_402_300_800_000 {
            let text = format_timestamp(ms).unwrap();
            assert_eq!(parse_timestamp(&text), Some(ms), "{text}");
            ms += 7_919_999_937; // about three months and an odd remainder
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1H"), Some(MS_PER_HOUR));
        assert_eq!(parse_duration("P1DT12H"), Some(36 * MS_PER_HOUR));
        assert_eq!(parse_duration("P2W"), Some(14 * MS_PER_DAY));
        assert_eq!(parse_duration("PT1H30M"), Some(90 * MS_PER_MINUTE));
        assert_eq!(parse_duration("PT0.5S"), Some(500));
        assert_eq!(parse_duration("PT0S"), Some(0));
        for bad in ["", "P", "PT", "P1M", "P1Y", "PT1.5H", "PT1M1H", "1H", "PT1H1H", "P1DT", "PTT1H"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
