//! Times and dates. The protocol has no clock: callers pass `now` in.
//!
//! A [`Timestamp`] is whole seconds since the Unix epoch, written in JSON in exactly one form,
//! `YYYY-MM-DDTHH:MM:SSZ` (UTC, no fractions, no offsets), so that canonical bytes are unique.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::IdError;

/// Seconds since 1970-01-01T00:00:00Z, years 0001 to 9999.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const SECS_PER_DAY: i64 = 86_400;
/// 0001-01-01T00:00:00Z
const MIN_SECS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z
const MAX_SECS: i64 = 253_402_300_799;

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The time now according to `clock_secs` (seconds since the epoch, e.g. from the system
    /// clock), clamped into the supported range.
    pub fn from_clock(clock_secs: u64) -> Self {
        Self(i64::try_from(clock_secs).unwrap_or(MAX_SECS).min(MAX_SECS))
    }

    /// Wraps seconds since the epoch; refused outside years 0001..=9999.
    pub fn from_unix(secs: i64) -> Result<Self, IdError> {
        if !(MIN_SECS..=MAX_SECS).contains(&secs) {
            return Err(IdError::Time {
                value: secs.to_string(),
                reason: "outside the years 0001 to 9999",
            });
        }
        Ok(Self(secs))
    }

    /// Seconds since the epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// This time plus `secs` seconds, saturating at the range ends.
    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs).clamp(MIN_SECS, MAX_SECS))
    }

    /// The calendar date (UTC) of this time.
    pub fn date(self) -> Date {
        let (y, m, d) = civil_from_days(self.0.div_euclid(SECS_PER_DAY));
        Date {
            year: y as u16,
            month: m,
            day: d,
        }
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let err = |reason| IdError::Time {
            value: s.to_owned(),
            reason,
        };
        let b = s.as_bytes();
        if b.len() != 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
            return Err(err(
                "expected UTC time as YYYY-MM-DDTHH:MM:SSZ, e.g. 2026-11-28T14:05:00Z",
            ));
        }
        let date = Date::parse(&s[..10])
            .map_err(|_| err("the date part is not a valid YYYY-MM-DD date"))?;
        let hh = digits(&b[11..13]).ok_or_else(|| err("hours must be two digits"))?;
        let mm = digits(&b[14..16]).ok_or_else(|| err("minutes must be two digits"))?;
        let ss = digits(&b[17..19]).ok_or_else(|| err("seconds must be two digits"))?;
        if hh > 23 || mm > 59 || ss > 59 {
            return Err(err("time of day out of range (00:00:00 to 23:59:59)"));
        }
        let days = days_from_civil(i64::from(date.year), date.month, date.day);
        Self::from_unix(
            days * SECS_PER_DAY + i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss),
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.rem_euclid(SECS_PER_DAY);
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A calendar date, `YYYY-MM-DD`, years 0001 to 9999.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Validates a calendar date.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, IdError> {
        let value = format!("{year:04}-{month:02}-{day:02}");
        if !(1..=9999).contains(&year) {
            return Err(IdError::Time {
                value,
                reason: "year outside 0001 to 9999",
            });
        }
        if !(1..=12).contains(&month) {
            return Err(IdError::Time {
                value,
                reason: "month outside 01 to 12",
            });
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(IdError::Time {
                value,
                reason: "no such day in that month",
            });
        }
        Ok(Self { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let b = s.as_bytes();
        let shape = || IdError::Time {
            value: s.to_owned(),
            reason: "expected a date as YYYY-MM-DD, e.g. 2026-11-28",
        };
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(shape());
        }
        let y = digits(&b[..4]).ok_or_else(shape)?;
        let m = digits(&b[5..7]).ok_or_else(shape)?;
        let d = digits(&b[8..10]).ok_or_else(shape)?;
        Self::new(y as u16, m as u8, d as u8)
    }

    /// The year.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> Timestamp {
        Timestamp(days_from_civil(i64::from(self.year), self.month, self.day) * SECS_PER_DAY)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl FromStr for Date {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A date known to the year, the month or the day (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`), as a
/// date of birth often is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartialDate {
    /// Only the year is known.
    Year(u16),
    /// Year and month are known.
    Month(u16, u8),
    /// The full date is known.
    Day(Date),
}

impl PartialDate {
    /// Its year, whatever its precision.
    pub const fn year(self) -> u16 {
        match self {
            Self::Year(y) | Self::Month(y, _) => y,
            Self::Day(d) => d.year(),
        }
    }

    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let err = |reason| IdError::Time {
            value: s.to_owned(),
            reason,
        };
        let shape = "expected YYYY, YYYY-MM or YYYY-MM-DD";
        let b = s.as_bytes();
        match b.len() {
            4 => {
                let y = digits(b).ok_or_else(|| err(shape))?;
                if y == 0 {
                    return Err(err("year outside 0001 to 9999"));
                }
                Ok(Self::Year(y as u16))
            }
            7 if b[4] == b'-' => {
                let y = digits(&b[..4]).ok_or_else(|| err(shape))?;
                let m = digits(&b[5..]).ok_or_else(|| err(shape))?;
                if y == 0 {
                    return Err(err("year outside 0001 to 9999"));
                }
                if !(1..=12).contains(&m) {
                    return Err(err("month outside 01 to 12"));
                }
                Ok(Self::Month(y as u16, m as u8))
            }
            10 => Date::parse(s).map(Self::Day),
            _ => Err(err(shape)),
        }
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Year(y) => write!(f, "{y:04}"),
            Self::Month(y, m) => write!(f, "{y:04}-{m:02}"),
            Self::Day(d) => d.fmt(f),
        }
    }
}

impl fmt::Debug for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartialDate({self})")
    }
}

impl Serialize for PartialDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the era arithmetic of
/// "chrono-compatible low-level date algorithms", H. Hinnant).
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        let t = Timestamp::parse("1970-01-01T00:00:00Z").map(Timestamp::unix);
        assert_eq!(t.ok(), Some(0));
        let t = Timestamp::parse("2026-11-28T14:05:52Z").map(Timestamp::unix);
        assert_eq!(t.ok(), Some(1_795_874_752));
        let t = Timestamp::parse("2000-02-29T23:59:59Z").map(Timestamp::unix);
        assert_eq!(t.ok(), Some(951_868_799));
    }

    #[test]
    fn refuses_other_forms() {
        for bad in [
            "2026-11-28 14:05:52Z",
            "2026-11-28T14:05:52",
            "2026-11-28T14:05:52+00:00",
            "2026-11-28T14:05:52.5Z",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "0000-01-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn partial_dates() {
        for ok in ["1990", "1990-07", "1990-07-14"] {
            assert_eq!(
                PartialDate::parse(ok)
                    .map(|d| d.to_string())
                    .ok()
                    .as_deref(),
                Some(ok)
            );
        }
        for bad in ["0000", "1990-13", "1990-7", "90", "1990-02-30"] {
            assert!(PartialDate::parse(bad).is_err(), "{bad} accepted");
        }
    }

    proptest! {
        #[test]
        fn timestamp_text_round_trips(secs in MIN_SECS..=MAX_SECS) {
            let t = Timestamp::from_unix(secs).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let text = t.to_string();
            prop_assert_eq!(Timestamp::parse(&text).ok(), Some(t));
        }
    }
}
