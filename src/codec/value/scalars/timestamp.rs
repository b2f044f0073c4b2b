//! Timestamps as text: microseconds since the Unix epoch ⇄ RFC 3339 UTC.
//!
//! Output always has six fractional digits and `Z`. Years outside 0000–9999 use the expanded
//! `±YYYYYY` form of JavaScript's `Date.prototype.toISOString`, so every `i64` has a text form
//! (the range is about ±292,277 years) and that text parses back to the same value.
//!
//! The calendar arithmetic is the proleptic Gregorian calendar computed with whole 400-year eras
//! (146,097 days each), which keeps it exact for negative years without any loops or tables.

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;
/// Days in one 400-year Gregorian cycle.
const DAYS_PER_ERA: i64 = 146_097;
/// Days from 0000-03-01 (the start of the era-aligned calendar used below) to 1970-01-01.
const EPOCH_SHIFT_DAYS: i64 = 719_468;

/// Appends the RFC 3339 text of `micros` (without quotes), e.g. `2023-11-14T22:13:20.123456Z`.
pub(crate) fn write_timestamp(out: &mut Vec<u8>, micros: i64) {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let fraction = micros.rem_euclid(MICROS_PER_SECOND);
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);

    if (0..=9999).contains(&year) {
        push_digits(out, year as u64, 4);
    } else {
        out.push(if year < 0 { b'-' } else { b'+' });
        push_digits(out, year.unsigned_abs(), 6);
    }
    out.push(b'-');
    push_digits(out, u64::from(month), 2);
    out.push(b'-');
    push_digits(out, u64::from(day), 2);
    out.push(b'T');
    push_digits(out, (second_of_day / 3600) as u64, 2);
    out.push(b':');
    push_digits(out, (second_of_day / 60 % 60) as u64, 2);
    out.push(b':');
    push_digits(out, (second_of_day % 60) as u64, 2);
    out.push(b'.');
    push_digits(out, fraction as u64, 6);
    out.push(b'Z');
}

/// Appends `value` as exactly `width` decimal digits (zero-padded; `value` must fit).
fn push_digits(out: &mut Vec<u8>, value: u64, width: u32) {
    let mut divisor = 10u64.pow(width - 1);
    while divisor > 0 {
        out.push(b'0' + (value / divisor % 10) as u8);
        divisor /= 10;
    }
}

/// Parses an RFC 3339 timestamp into microseconds since the Unix epoch.
///
/// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)` with 0–9 fractional digits (digits past
/// the sixth must be zero: SpacetimeDB stores microseconds), `t`/`z` in lower case, a space
/// instead of `T`, and the expanded `±YYYYYY` year. The error says what is wrong.
pub(crate) fn parse_timestamp(text: &str) -> Result<i64, String> {
    let mut p = Parser { bytes: text.as_bytes(), pos: 0 };
    let invalid = || format!("{text:?} is not an RFC 3339 timestamp like \"2023-11-14T22:13:20.123456Z\"");

    let year = match p.peek() {
        Some(sign @ (b'+' | b'-')) => {
            p.pos += 1;
            let magnitude = p.number(6).ok_or_else(invalid)?;
            if sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => p.number(4).ok_or_else(invalid)?,
    };
    p.expect(b"-").ok_or_else(invalid)?;
    let month = p.number(2).ok_or_else(invalid)?;
    p.expect(b"-").ok_or_else(invalid)?;
    let day = p.number(2).ok_or_else(invalid)?;
    p.expect(b"Tt ").ok_or_else(invalid)?;
    let hour = p.number(2).ok_or_else(invalid)?;
    p.expect(b":").ok_or_else(invalid)?;
    let minute = p.number(2).ok_or_else(invalid)?;
    p.expect(b":").ok_or_else(invalid)?;
    let second = p.number(2).ok_or_else(invalid)?;

    let mut micros_of_second = 0i64;
    if p.peek() == Some(b'.') {
        p.pos += 1;
        let digits = p.digit_run();
        if digits.is_empty() || digits.len() > 9 {
            return Err(format!("{text:?}: the fraction of a second must have 1 to 9 digits"));
        }
        let (micro_digits, sub_micro_digits) = digits.split_at(digits.len().min(6));
        if sub_micro_digits.iter().any(|&d| d != b'0') {
            return Err(format!("{text:?} has sub-microsecond digits; timestamps have microsecond precision"));
        }
        for position in 0..6 {
            let digit = micro_digits.get(position).map_or(0, |d| i64::from(d - b'0'));
            micros_of_second = micros_of_second * 10 + digit;
        }
    }

    let offset_seconds = match p.next() {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = p.number(2).ok_or_else(invalid)?;
            p.expect(b":").ok_or_else(invalid)?;
            let minutes = p.number(2).ok_or_else(invalid)?;
            if hours > 23 || minutes > 59 {
                return Err(format!("{text:?} has an invalid UTC offset"));
            }
            let offset = hours * 3600 + minutes * 60;
            if sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return Err(invalid()),
    };
    if p.pos != p.bytes.len() {
        return Err(invalid());
    }

    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(format!("{text:?} is not a valid calendar date"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("{text:?} is not a valid time of day"));
    }

    let days = days_from_civil(year, month, day);
    let seconds = i128::from(days) * i128::from(SECONDS_PER_DAY) + i128::from(hour * 3600 + minute * 60 + second)
        - i128::from(offset_seconds);
    let micros = seconds * i128::from(MICROS_PER_SECOND) + i128::from(micros_of_second);
    i64::try_from(micros).map_err(|_| format!("{text:?} is outside the range of SpacetimeDB timestamps"))
}

/// A cursor over the timestamp text.
struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    /// Consumes one byte if it is one of `allowed`.
    fn expect(&mut self, allowed: &[u8]) -> Option<()> {
        self.peek().filter(|b| allowed.contains(b))?;
        self.pos += 1;
        Some(())
    }

    /// Exactly `width` ASCII digits as a number.
    fn number(&mut self, width: usize) -> Option<i64> {
        let digits = self.bytes.get(self.pos..self.pos + width)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos += width;
        Some(digits.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    }

    /// All ASCII digits from here on.
    fn digit_run(&mut self) -> &[u8] {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        &self.bytes[start..self.pos]
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) of the day `days` after 1970-01-01 (negative: before).
///
/// Counts in a calendar whose years start on March 1st, so the leap day is the last day of a
/// year and month lengths repeat in a fixed 5-month pattern (153 days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + EPOCH_SHIFT_DAYS;
    let era = shifted.div_euclid(DAYS_PER_ERA);
    let day_of_era = shifted.rem_euclid(DAYS_PER_ERA); // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let march_month = (5 * day_of_year + 2) / 153; // [0, 11], 0 = March
    let day = (day_of_year - (153 * march_month + 2) / 5 + 1) as u32;
    let month = if march_month < 10 { march_month + 3 } else { march_month - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 to (year, month, day); the inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let march_year = if month <= 2 { year - 1 } else { year };
    let era = march_year.div_euclid(400);
    let year_of_era = march_year.rem_euclid(400);
    let march_month = (month + 9) % 12; // 0 = March
    let day_of_year = (153 * march_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT_DAYS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(micros: i64) -> String {
        let mut out = Vec::new();
        write_timestamp(&mut out, micros);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn known_answers() {
        assert_eq!(text(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(text(1_700_000_000_123_456), "2023-11-14T22:13:20.123456Z");
        assert_eq!(text(-1), "1969-12-31T23:59:59.999999Z");
        // 2000-02-29, a leap day of a century leap year.
        assert_eq!(text(951_782_400_000_000), "2000-02-29T00:00:00.000000Z");
        // The first instant of year 0 and the last of year 9999 keep four digits.
        assert_eq!(text(-62_167_219_200_000_000), "0000-01-01T00:00:00.000000Z");
        assert_eq!(text(253_402_300_799_999_999), "9999-12-31T23:59:59.999999Z");
        // Outside 0000–9999: JavaScript's expanded years.
        assert_eq!(text(253_402_300_800_000_000), "+010000-01-01T00:00:00.000000Z");
        assert_eq!(text(327_403_382_400_000_000), "+012345-01-01T00:00:00.000000Z");
        assert_eq!(text(-62_167_219_200_000_001), "-000001-12-31T23:59:59.999999Z");
        assert_eq!(text(i64::MAX), "+294247-01-10T04:00:54.775807Z");
        assert_eq!(text(i64::MIN), "-290308-12-21T19:59:05.224192Z");
    }

    #[test]
    fn parses_offsets_fractions_and_expanded_years() {
        assert_eq!(parse_timestamp("2023-11-14T22:13:20.123456Z"), Ok(1_700_000_000_123_456));
        assert_eq!(parse_timestamp("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000_000));
        assert_eq!(parse_timestamp("2023-11-14T22:13:20.1Z"), Ok(1_700_000_000_100_000));
        assert_eq!(parse_timestamp("2023-11-14T22:13:20.123456000Z"), Ok(1_700_000_000_123_456));
        assert_eq!(parse_timestamp("2023-11-15T00:13:20.5+02:00"), Ok(1_700_000_000_500_000));
        assert_eq!(parse_timestamp("2023-11-14t17:43:20-04:30"), Ok(1_700_000_000_000_000));
        assert_eq!(parse_timestamp("2023-11-14 22:13:20z"), Ok(1_700_000_000_000_000));
        assert_eq!(parse_timestamp("+012345-01-01T00:00:00.000000Z"), Ok(327_403_382_400_000_000));
        assert_eq!(parse_timestamp("-000001-12-31T23:59:59.999999Z"), Ok(-62_167_219_200_000_001));
        assert_eq!(parse_timestamp("+294247-01-10T04:00:54.775807Z"), Ok(i64::MAX));
    }

    #[test]
    fn rejects_bad_text_with_a_reason() {
        let err = |s: &str| parse_timestamp(s).unwrap_err();
        assert!(err("2023-11-14T22:13:20.1234567Z").contains("sub-microsecond"));
        assert!(err("2023-02-29T00:00:00Z").contains("calendar date"));
        assert!(err("2023-13-01T00:00:00Z").contains("calendar date"));
        assert!(err("2023-01-01T24:00:00Z").contains("time of day"));
        assert!(err("2023-01-01T23:59:60Z").contains("time of day"));
        assert!(err("2023-01-01T00:00:00").contains("not an RFC 3339"));
        assert!(err("2023-01-01T00:00:00Zjunk").contains("not an RFC 3339"));
        assert!(err("2023-01-01T00:00:00.Z").contains("1 to 9 digits"));
        assert!(err("2023-01-01T00:00:00.1234567890Z").contains("1 to 9 digits"));
        assert!(err("+294247-01-10T04:00:54.775808Z").contains("outside the range"));
        assert!(err("yesterday").contains("not an RFC 3339"));
    }

    proptest! {
        #![proptest_config(crate::codec::tests::proptest_config(2000))]

        #[test]
        fn every_i64_round_trips(micros in any::<i64>()) {
            prop_assert_eq!(parse_timestamp(&text(micros)), Ok(micros));
        }

        #[test]
        fn agrees_with_chrono_where_chrono_has_the_date(micros in -8_000_000_000_000_000_000i64..8_000_000_000_000_000_000) {
            let expected = chrono::DateTime::from_timestamp_micros(micros).unwrap();
            let ours = text(micros);
            if (0..=9999).contains(&chrono::Datelike::year(&expected)) {
                prop_assert_eq!(ours, expected.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            } else {
                // chrono writes expanded years as `+12345`; compare the fields after the year.
                let chrono_text = expected.format("%m-%dT%H:%M:%S%.6fZ").to_string();
                prop_assert!(ours.ends_with(&chrono_text), "{} vs {}", ours, chrono_text);
                prop_assert_eq!(ours[1..7].parse::<i64>().unwrap(), chrono::Datelike::year(&expected).abs() as i64);
            }
        }
    }
}
