//! SMPP time fields (SMPP 3.4 §7.1.1): `schedule_delivery_time`, `validity_period`, `final_date` and the like.
//!
//! A time is 16 characters, `YYMMDDhhmmsstnnp`. With `p` = `+` or `-` it is absolute: local time, tenths of a second, and
//! `nn` quarter hours between that local time and UTC (§7.1.1.1). With `p` = `R` it is relative to the SMSC's current
//! time (§7.1.1.2), `YY` years, `MM` months, `DD` days and so on. The date math is done here (days from the civil date),
//! without a calendar crate, and nothing reads the clock: callers pass `now`.
//!
//! Two choices the spec leaves open:
//! - `YY` is a year of the 21st century, 2000 + `YY`; no SMSC still in service schedules messages for the 1900s.
//! - A relative year is 365 days and a relative month 30 days, as most SMSCs count them; the spec does not say.

use std::time::Duration;

/// Length of a time field's value, without its NUL.
pub const TIME_LEN: usize = 16;

const SECONDS_PER_DAY: i64 = 86_400;
/// A relative year, counted as 365 days.
const SECONDS_PER_YEAR: u64 = 365 * 86_400;
/// A relative month, counted as 30 days.
const SECONDS_PER_MONTH: u64 = 30 * 86_400;
/// The most quarter hours a time zone may differ from UTC (§7.1.1.1: "00-48").
const MAX_QUARTER_HOURS: u8 = 48;

/// Why a time field does not hold an SMPP time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The value is not 16 characters long.
    #[error("an SMPP time is 16 characters, not {0}")]
    WrongLength(usize),
    /// A character where a digit belongs.
    #[error("character {position} of an SMPP time is not a digit")]
    NotADigit {
        /// Zero-based position of the character.
        position: usize,
    },
    /// The last character is not `+`, `-` or `R`.
    #[error("an SMPP time ends in '+', '-' or 'R'")]
    BadIndicator,
    /// A part of an absolute time is outside its range (month 13, 31 April, hour 24, a UTC offset over 48 quarter hours).
    #[error("the {0} of an SMPP time is out of range")]
    OutOfRange(&'static str),
    /// The time cannot be written in 16 characters: an absolute time outside 2000-2099 UTC, or a relative time of 100
    /// years or more.
    #[error("the time cannot be written as an SMPP time")]
    Unrepresentable,
}

/// A parsed SMPP time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmppTime {
    /// A point in time (§7.1.1.1), converted to UTC.
    Absolute {
        /// Seconds since the Unix epoch, UTC.
        unix_seconds: i64,
        /// Tenths of a second, 0-9.
        tenths: u8,
    },
    /// An offset from the SMSC's current time (§7.1.1.2), with a year as 365 days and a month as 30 days.
    Relative(Duration),
}

impl SmppTime {
    /// Parses a 16-character time; never panics on any input.
    pub fn parse(value: &[u8]) -> Result<SmppTime, TimeError> {
        let value: &[u8; TIME_LEN] = value
            .try_into()
            .map_err(|_| TimeError::WrongLength(value.len()))?;
        // Positions 0-14 are digits in both formats: YYMMDDhhmmss, then tnn (000 in a relative time).
        if let Some(position) = value[..15].iter().position(|b| !b.is_ascii_digit()) {
            return Err(TimeError::NotADigit { position });
        }
        let two = |at: usize| (value[at] - b'0') * 10 + (value[at + 1] - b'0');
        let (yy, mo, dd, hh, mi, ss) = (two(0), two(2), two(4), two(6), two(8), two(10));
        match value[15] {
            b'R' => {
                // A relative time counts units, so any two digits are a valid count (a validity of "48 hours" is
                // common). `tnn` is "000" by §7.1.1.2; other digits are ignored rather than refused.
                let secs = u64::from(yy) * SECONDS_PER_YEAR
                    + u64::from(mo) * SECONDS_PER_MONTH
                    + u64::from(dd) * 86_400
                    + u64::from(hh) * 3_600
                    + u64::from(mi) * 60
                    + u64::from(ss);
                Ok(SmppTime::Relative(Duration::from_secs(secs)))
            }
            sign @ (b'+' | b'-') => {
                let tenths = value[12] - b'0';
                let quarters = two(13);
                if !(1..=12).contains(&mo) {
                    return Err(TimeError::OutOfRange("month"));
                }
                let year = 2000 + i64::from(yy);
                if dd == 0 || dd > days_in_month(year, mo) {
                    return Err(TimeError::OutOfRange("day"));
                }
                if hh > 23 {
                    return Err(TimeError::OutOfRange("hour"));
                }
                if mi > 59 {
                    return Err(TimeError::OutOfRange("minute"));
                }
                // §7.1.1.1 allows no leap second here.
                if ss > 59 {
                    return Err(TimeError::OutOfRange("second"));
                }
                if quarters > MAX_QUARTER_HOURS {
                    return Err(TimeError::OutOfRange("UTC offset"));
                }
                let local = days_from_civil(year, mo, dd) * SECONDS_PER_DAY
                    + i64::from(hh) * 3_600
                    + i64::from(mi) * 60
                    + i64::from(ss);
                // Local time is `nn` quarter hours ahead of UTC with '+', behind it with '-'.
                let offset = i64::from(quarters) * 900;
                let unix_seconds = if sign == b'+' {
                    local - offset
                } else {
                    local + offset
                };
                Ok(SmppTime::Absolute {
                    unix_seconds,
                    tenths,
                })
            }
            _ => Err(TimeError::BadIndicator),
        }
    }

    /// Parses a time field as received: `None` for the empty field (the SMSC default, or immediate delivery).
    pub fn parse_field(value: &[u8]) -> Result<Option<SmppTime>, TimeError> {
        if value.is_empty() {
            Ok(None)
        } else {
            SmppTime::parse(value).map(Some)
        }
    }

    /// When this time falls, in Unix seconds: an absolute time is itself, a relative one counts from `now_unix`.
    pub fn expires_at(&self, now_unix: i64) -> i64 {
        match *self {
            SmppTime::Absolute { unix_seconds, .. } => unix_seconds,
            SmppTime::Relative(d) => {
                now_unix.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            }
        }
    }

    /// The 16 characters of this time. An absolute time is written in UTC (`00+`); a relative one in whole seconds,
    /// carried into years, months and days of 365, 30 and 1 days, so `parse` gives the same time back.
    pub fn format(&self) -> Result<[u8; TIME_LEN], TimeError> {
        let mut out = [b'0'; TIME_LEN];
        match *self {
            SmppTime::Absolute {
                unix_seconds,
                tenths,
            } => {
                if tenths > 9 {
                    return Err(TimeError::OutOfRange("tenths"));
                }
                let (year, mo, dd, hh, mi, ss) = civil_from_unix(unix_seconds);
                if !(2000..=2099).contains(&year) {
                    return Err(TimeError::Unrepresentable);
                }
                // `year - 2000` is 0-99 after the check above.
                let fields = [(year - 2000) as u8, mo, dd, hh, mi, ss];
                write_pairs(&mut out, &fields);
                out[12] = b'0' + tenths;
                out[15] = b'+';
            }
            SmppTime::Relative(d) => {
                let mut secs = d.as_secs();
                let years = secs / SECONDS_PER_YEAR;
                if years > 99 {
                    return Err(TimeError::Unrepresentable);
                }
                secs %= SECONDS_PER_YEAR;
                let months = secs / SECONDS_PER_MONTH;
                secs %= SECONDS_PER_MONTH;
                // Every quotient below is under 100: months < 13, days < 30, hours < 24, minutes and seconds < 60.
                let fields = [
                    years as u8,
                    months as u8,
                    (secs / 86_400) as u8,
                    (secs % 86_400 / 3_600) as u8,
                    (secs % 3_600 / 60) as u8,
                    (secs % 60) as u8,
                ];
                write_pairs(&mut out, &fields);
                out[15] = b'R';
            }
        }
        Ok(out)
    }
}

/// The `YYMMDDhhmm` of a delivery receipt's `submit date` and `done date` (SMPP 3.4 Appendix B), in UTC. `YY` is the
/// year modulo 100.
pub fn format_receipt_date(unix_seconds: i64) -> [u8; 10] {
    let (year, mo, dd, hh, mi, _) = civil_from_unix(unix_seconds);
    let mut out = [b'0'; 10];
    // rem_euclid keeps the two digits in 0-99 for any year, including those before the epoch.
    write_pairs(&mut out, &[year.rem_euclid(100) as u8, mo, dd, hh, mi]);
    out
}

/// Writes each value (0-99) as two digits.
fn write_pairs(out: &mut [u8], values: &[u8]) {
    for (pair, v) in out.chunks_exact_mut(2).zip(values) {
        pair[0] = b'0' + v / 10;
        pair[1] = b'0' + v % 10;
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31).
///
/// Counts in 400-year eras of 146 097 days, with years starting on 1 March so the leap day falls at a year's end.
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let month_from_march = if m > 2 { m - 3 } else { m + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days separate 0000-03-01 from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    // Day 1-31 and month 1-12 by construction.
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u8;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Year, month, day, hour, minute and second (UTC) of a Unix time.
fn civil_from_unix(unix_seconds: i64) -> (i64, u8, u8, u8, u8, u8) {
    let days = unix_seconds.div_euclid(SECONDS_PER_DAY);
    // 0-86 399, so each part below fits a u8.
    let secs = unix_seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    (
        year,
        month,
        day,
        (secs / 3_600) as u8,
        (secs % 3_600 / 60) as u8,
        (secs % 60) as u8,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn absolute(unix_seconds: i64, tenths: u8) -> SmppTime {
        SmppTime::Absolute {
            unix_seconds,
            tenths,
        }
    }

    #[test]
    fn absolute_time_in_utc_parses_to_unix_seconds() {
        // 2024-03-01 12:30:45 UTC is 1 709 296 245.
        assert_eq!(
            SmppTime::parse(b"240301123045700+"),
            Ok(absolute(1_709_296_245, 7))
        );
    }

    #[test]
    fn positive_offset_means_local_time_is_ahead_of_utc() {
        // 14:30 at UTC+2 (8 quarter hours) is 12:30 UTC.
        assert_eq!(
            SmppTime::parse(b"240301143045008+"),
            SmppTime::parse(b"240301123045000+")
        );
    }

    #[test]
    fn negative_offset_means_local_time_is_behind_utc() {
        // 23:00 on 29 Feb 2024 at UTC-5 (20 quarter hours) is 04:00 UTC on 1 March.
        assert_eq!(
            SmppTime::parse(b"240229230000020-"),
            SmppTime::parse(b"240301040000000+")
        );
    }

    #[test]
    fn relative_time_counts_years_as_365_days_and_months_as_30() {
        let t = SmppTime::parse(b"010203040506000R").unwrap();
        let secs = 365 * 86_400 + 2 * 30 * 86_400 + 3 * 86_400 + 4 * 3_600 + 5 * 60 + 6;
        assert_eq!(t, SmppTime::Relative(Duration::from_secs(secs)));
        assert_eq!(t.expires_at(1_000), 1_000 + secs as i64);
    }

    #[test]
    fn absolute_time_expires_at_itself_whatever_now_is() {
        let t = absolute(1_700_000_000, 0);
        assert_eq!(t.expires_at(5), 1_700_000_000);
    }

    #[test]
    fn relative_hours_beyond_a_day_are_accepted() {
        assert_eq!(
            SmppTime::parse(b"000000480000000R"),
            Ok(SmppTime::Relative(Duration::from_secs(48 * 3_600)))
        );
    }

    #[test]
    fn rejects_values_out_of_range() {
        assert_eq!(
            SmppTime::parse(b"241301000000000+"),
            Err(TimeError::OutOfRange("month"))
        );
        assert_eq!(
            SmppTime::parse(b"230229000000000+"),
            Err(TimeError::OutOfRange("day"))
        );
        assert_eq!(
            SmppTime::parse(b"240431000000000+"),
            Err(TimeError::OutOfRange("day"))
        );
        assert_eq!(
            SmppTime::parse(b"240101240000000+"),
            Err(TimeError::OutOfRange("hour"))
        );
        assert_eq!(
            SmppTime::parse(b"240101006000000+"),
            Err(TimeError::OutOfRange("minute"))
        );
        assert_eq!(
            SmppTime::parse(b"240101000060000+"),
            Err(TimeError::OutOfRange("second"))
        );
        assert_eq!(
            SmppTime::parse(b"240101000000049+"),
            Err(TimeError::OutOfRange("UTC offset"))
        );
    }

    #[test]
    fn accepts_29_february_of_a_leap_year() {
        assert!(SmppTime::parse(b"240229000000000+").is_ok());
    }

    #[test]
    fn rejects_malformed_text() {
        assert_eq!(
            SmppTime::parse(b"24030112304500+"),
            Err(TimeError::WrongLength(15))
        );
        assert_eq!(
            SmppTime::parse(b"2403011230X5000+"),
            Err(TimeError::NotADigit { position: 10 })
        );
        assert_eq!(
            SmppTime::parse(b"240301123045000Z"),
            Err(TimeError::BadIndicator)
        );
    }

    #[test]
    fn empty_field_is_no_time() {
        assert_eq!(SmppTime::parse_field(b""), Ok(None));
    }

    #[test]
    fn absolute_time_formats_in_utc() {
        let t = SmppTime::parse(b"240301143045708+").unwrap();
        assert_eq!(&t.format().unwrap(), b"240301123045700+");
    }

    #[test]
    fn relative_time_formats_with_carried_units() {
        let t = SmppTime::Relative(Duration::from_secs(400 * 86_400 + 90));
        // 400 days is one year of 365, one month of 30 and 5 days.
        assert_eq!(&t.format().unwrap(), b"010105000130000R");
        assert_eq!(SmppTime::parse(&t.format().unwrap()), Ok(t));
    }

    #[test]
    fn times_outside_the_21st_century_cannot_be_formatted() {
        assert_eq!(absolute(0, 0).format(), Err(TimeError::Unrepresentable));
        assert_eq!(
            SmppTime::Relative(Duration::from_secs(100 * SECONDS_PER_YEAR)).format(),
            Err(TimeError::Unrepresentable)
        );
    }

    #[test]
    fn civil_dates_round_trip_across_eras() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn receipt_dates_are_yymmddhhmm_in_utc() {
        assert_eq!(&format_receipt_date(1_709_296_245), b"2403011230");
    }
}
