//! The JSON form of the books' times, without chrono's generic formatter and parser.
//!
//! Books are read and written as JSON on every event the server applies, every account
//! state it serves and every page a till applies; their times were a fifth of that work.
//! [`serialize`] writes exactly what chrono's `Serialize` writes (RFC 3339, `Z`, fractional
//! seconds as 0, 3, 6 or 9 digits, whichever is exact): a property test compares them.
//! [`deserialize`] reads that form directly and hands anything else (an offset, a
//! lowercase `t`, a leap second...) to chrono, so it accepts exactly what chrono accepts.

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{de, Deserializer, Serializer};
use std::fmt;

/// `#[serde(with = "crate::time_json")]` for a `DateTime<Utc>`.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 32];
    match format(t, &mut buf) {
        Some(n) => {
            s.serialize_str(std::str::from_utf8(&buf[..n]).map_err(serde::ser::Error::custom)?)
        }
        None => serde::Serialize::serialize(t, s),
    }
}

/// `#[serde(with = "crate::time_json")]` for a `DateTime<Utc>`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(Visitor)
}

/// `#[serde(with = "crate::time_json::option", default)]` for an `Option<DateTime<Utc>>`.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&With(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }

    struct With<'a>(&'a DateTime<Utc>);

    impl serde::Serialize for With<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(self.0, s)
        }
    }

    struct OptionVisitor;

    impl<'de> de::Visitor<'de> for OptionVisitor {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 time or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

struct Visitor;

impl de::Visitor<'_> for Visitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 time")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match parse(v.as_bytes()) {
            Some(t) => Ok(t),
            None => v
                .parse::<DateTime<chrono::FixedOffset>>()
                .map(|t| t.with_timezone(&Utc))
                .map_err(E::custom),
        }
    }
}

fn two(buf: &mut [u8], at: usize, v: u32) {
    buf[at] = b'0' + (v / 10) as u8;
    buf[at + 1] = b'0' + (v % 10) as u8;
}

/// `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z` into `buf`; `None` where chrono writes
/// another form (years outside 0..=9999, leap seconds).
fn format(t: &DateTime<Utc>, buf: &mut [u8; 32]) -> Option<usize> {
    use chrono::Datelike;
    let year = t.year();
    let nano = t.nanosecond();
    if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
        return None;
    }
    let year = year as u32;
    two(buf, 0, year / 100);
    two(buf, 2, year % 100);
    buf[4] = b'-';
    two(buf, 5, t.month());
    buf[7] = b'-';
    two(buf, 8, t.day());
    buf[10] = b'T';
    two(buf, 11, t.hour());
    buf[13] = b':';
    two(buf, 14, t.minute());
    buf[16] = b':';
    two(buf, 17, t.second());
    let mut n = 19;
    let (digits, value) = if nano == 0 {
        (0, 0)
    } else if nano.is_multiple_of(1_000_000) {
        (3, nano / 1_000_000)
    } else if nano.is_multiple_of(1_000) {
        (6, nano / 1_000)
    } else {
        (9, nano)
    };
    if digits > 0 {
        buf[n] = b'.';
        let mut v = value;
        for i in (0..digits).rev() {
            buf[n + 1 + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        n += 1 + digits;
    }
    buf[n] = b'Z';
    Some(n + 1)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// The exact form [`format`] writes (any 1 to 9 fractional digits); `None` otherwise.
fn parse(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let frac = &b[19..b.len() - 1];
    let nano = match frac {
        [] => 0,
        [b'.', ds @ ..] if (1..=9).contains(&ds.len()) => {
            digits(ds)? * 10u32.pow(9 - ds.len() as u32)
        }
        _ => return None,
    };
    let (h, m, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if s > 59 {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(h, m, s, nano)?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Ours {
        #[serde(with = "crate::time_json")]
        t: DateTime<Utc>,
        #[serde(with = "crate::time_json::option", default)]
        o: Option<DateTime<Utc>>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Chronos {
        t: DateTime<Utc>,
        o: Option<DateTime<Utc>>,
    }

    fn at(secs: i64, nanos: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, nanos).expect("in range")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn same_json_as_chrono_both_ways(
            secs in -62_135_596_800i64..253_402_300_799,
            nanos in prop_oneof![
                Just(0u32),
                (0u32..1000).prop_map(|m| m * 1_000_000),
                (0u32..1_000_000).prop_map(|u| u * 1_000),
                0u32..1_000_000_000,
            ],
            some in any::<bool>(),
        ) {
            let t = at(secs, nanos);
            let o = some.then(|| at(secs / 2, nanos / 3));
            let ours = serde_json::to_string(&Ours { t, o }).unwrap();
            let theirs = serde_json::to_string(&Chronos { t, o }).unwrap();
            prop_assert_eq!(&ours, &theirs);
            let back: Ours = serde_json::from_str(&theirs).unwrap();
            prop_assert_eq!(back, Ours { t, o });
        }
    }

    #[test]
    fn other_forms_go_to_chrono_and_bad_ones_fail() {
        let read = |s: &str| serde_json::from_str::<Ours>(&format!("{{\"t\":\"{s}\"}}"));
        let t = at(1_740_823_200, 0);
        assert_eq!(read("2025-03-01T10:00:00Z").unwrap().t, t);
        assert_eq!(read("2025-03-01T13:00:00+03:00").unwrap().t, t);
        assert_eq!(read("2025-03-01t10:00:00z").unwrap().t, t);
        assert_eq!(
            read("2025-03-01T10:00:00.5Z").unwrap().t,
            at(1_740_823_200, 500_000_000)
        );
        assert!(read("2025-02-30T10:00:00Z").is_err(), "no such day");
        assert!(read("2025-03-01T24:00:00Z").is_err());
        assert!(read("2025-03-01T10:00:00").is_err(), "no offset");
        assert!(read("yesterday").is_err());
        assert!(read("２025-03-01T10:00:00Z").is_err());
        let missing: Ours = serde_json::from_str("{\"t\":\"2025-03-01T10:00:00Z\"}").unwrap();
        assert_eq!(missing.o, None);
        let null: Ours =
            serde_json::from_str("{\"t\":\"2025-03-01T10:00:00Z\",\"o\":null}").unwrap();
        assert_eq!(null.o, None);
    }
}
