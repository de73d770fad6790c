//! Certificate times: UTCTime and GeneralizedTime to seconds since the Unix epoch and
//! back, without a calendar crate.

use super::DerError;
use apdu::asn1;
use apdu::tlv::{self, Tag, Tlv};
use std::fmt;

/// A point in time, in seconds since 1970-01-01T00:00:00Z (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

impl Time {
    /// The current system time.
    pub fn now() -> Time {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Time(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            Err(e) => Time(-i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX)),
        }
    }

    /// A UTC calendar time; `None` for impossible dates.
    pub fn from_ymd_hms(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Time> {
        if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 {
            return None;
        }
        // Leap seconds (60) are folded into the next minute's first second.
        if s > 60 {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        Some(Time(
            days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s),
        ))
    }

    /// Calendar fields (year, month, day, hour, minute, second).
    pub fn to_ymd_hms(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (
            y,
            m,
            d,
            (secs / 3600) as u32,
            ((secs % 3600) / 60) as u32,
            (secs % 60) as u32,
        )
    }

    /// Parses a UTCTime or GeneralizedTime element.
    pub fn from_der(tlv: &Tlv<'_>) -> Result<Time, DerError> {
        Time::from_tagged(tlv.tag(), tlv.value())
    }

    /// Parses the value of a UTCTime or GeneralizedTime, `tag` saying which (an
    /// implicitly tagged time is read with the tag it stands for).
    pub fn from_tagged(tag: Tag, value: &[u8]) -> Result<Time, DerError> {
        const CTX: &str = "time";
        let text = std::str::from_utf8(value).map_err(|_| DerError::new(CTX, "not ASCII"))?;
        let (year, rest) = match tag {
            asn1::UTC_TIME => {
                let yy = digits(text, 0, 2).ok_or(DerError::new(CTX, "bad year"))?;
                // RFC 5280: 50..99 is 19xx, 00..49 is 20xx.
                let y = if yy >= 50 { 1900 + yy } else { 2000 + yy };
                (y, text.get(2..).unwrap_or(""))
            }
            asn1::GENERALIZED_TIME => {
                let y = digits(text, 0, 4).ok_or(DerError::new(CTX, "bad year"))?;
                (y, text.get(4..).unwrap_or(""))
            }
            _ => return Err(DerError::new(CTX, "not a time")),
        };
        let field = |i: usize| digits(rest, i, 2).ok_or(DerError::new(CTX, "bad digits"));
        let (mo, d, h, mi) = (field(0)?, field(2)?, field(4)?, field(6)?);
        let mut pos = 8;
        // Seconds are required by DER but omitted by some old issuers.
        let s = match digits(rest, 8, 2) {
            Some(s) => {
                pos = 10;
                s
            }
            None => 0,
        };
        // Fractional seconds (GeneralizedTime) carry no meaning at this resolution.
        if rest.get(pos..pos + 1) == Some(".") {
            pos += 1;
            while rest.as_bytes().get(pos).is_some_and(|b| b.is_ascii_digit()) {
                pos += 1;
            }
        }
        let zone = rest.get(pos..).unwrap_or("");
        let offset = match zone {
            "Z" => 0,
            z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => {
                let oh = digits(z, 1, 2).ok_or(DerError::new(CTX, "bad offset"))?;
                let om = digits(z, 3, 2).ok_or(DerError::new(CTX, "bad offset"))?;
                let o = oh * 3600 + om * 60;
                if z.starts_with('+') { o } else { -o }
            }
            _ => return Err(DerError::new(CTX, "bad time zone")),
        };
        let t = Time::from_ymd_hms(year, mo as u32, d as u32, h as u32, mi as u32, s as u32)
            .ok_or(DerError::new(CTX, "impossible date"))?;
        Ok(Time(t.0 - offset))
    }

    /// Encodes as RFC 5280 requires: UTCTime through 2049, GeneralizedTime after.
    pub fn to_der(self) -> Vec<u8> {
        let (y, mo, d, h, mi, s) = self.to_ymd_hms();
        if (1950..2050).contains(&y) {
            let text = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
            tlv::encode(asn1::UTC_TIME, text.as_bytes())
        } else {
            let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
            tlv::encode(asn1::GENERALIZED_TIME, text.as_bytes())
        }
    }
}

impl fmt::Display for Time {
    /// RFC 3339, e.g. `2024-12-19T09:09:11Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.to_ymd_hms();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

impl serde::Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Time {
    /// The form [`Time`] serializes to, read back.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        use serde::de::Error as _;
        let text = String::deserialize(d)?;
        Time::from_rfc3339(&text).ok_or_else(|| {
            D::Error::custom(format!("not a time as YYYY-MM-DDTHH:MM:SSZ: {text:?}"))
        })
    }
}

impl Time {
    /// The RFC 3339 UTC form [`Time`] displays as (`2024-12-19T09:09:11Z`), read back;
    /// `None` for any other shape or an impossible date.
    pub fn from_rfc3339(text: &str) -> Option<Time> {
        let b = text.as_bytes();
        let shape = b.len() == 20
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                19 => *c == b'Z',
                _ => c.is_ascii_digit(),
            });
        if !shape {
            return None;
        }
        let n = |from: usize, len: usize| u32::try_from(digits(text, from, len)?).ok();
        Time::from_ymd_hms(
            i64::from(n(0, 4)?),
            n(5, 2)?,
            n(8, 2)?,
            n(11, 2)?,
            n(14, 2)?,
            n(17, 2)?,
        )
    }
}

fn digits(text: &str, start: usize, n: usize) -> Option<i64> {
    let part = text.get(start..start + n)?;
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_back_as_they_display() {
        for t in [0, 1_734_599_351, 253_402_300_799] {
            let time = Time(t);
            assert_eq!(Time::from_rfc3339(&time.to_string()), Some(time));
            let json = serde_json::to_value(time).unwrap();
            assert_eq!(serde_json::from_value::<Time>(json).unwrap(), time);
        }
        for bad in [
            "2024-12-19T09:09:11",
            "2024-12-19 09:09:11Z",
            "2024-02-30T09:09:11Z",
            "2024-12-19T09:09:1xZ",
            "+024-12-19T09:09:11Z",
            "2024-12-19T09:09:11Zé",
            "",
        ] {
            assert_eq!(Time::from_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        let t = Time::from_ymd_hms(2024, 12, 19, 9, 9, 11).unwrap();
        assert_eq!(t.to_string(), "2024-12-19T09:09:11Z");
        let enc = t.to_der();
        assert_eq!(enc, tlv::encode(asn1::UTC_TIME, b"241219090911Z"));
        let tlv = tlv::Reader::new(&enc).read().unwrap();
        assert_eq!(Time::from_der(&tlv).unwrap(), t);
        let late = Time::from_ymd_hms(2051, 2, 28, 0, 0, 0).unwrap();
        let tlv_bytes = late.to_der();
        let tlv = tlv::Reader::new(&tlv_bytes).read().unwrap();
        assert_eq!(tlv.tag(), asn1::GENERALIZED_TIME);
        assert_eq!(Time::from_der(&tlv).unwrap(), late);
        assert_eq!(Time(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Time(-1).to_string(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn lenient_forms_and_bad_input() {
        let parse = |tag, s: &str| {
            let e = tlv::encode(tag, s.as_bytes());
            let tlv = tlv::Reader::new(&e).read().unwrap();
            Time::from_der(&tlv)
        };
        assert_eq!(
            parse(asn1::UTC_TIME, "7001010000Z").unwrap(),
            Time(0),
            "no seconds"
        );
        assert_eq!(
            parse(asn1::GENERALIZED_TIME, "19700101000001.5Z").unwrap(),
            Time(1)
        );
        assert_eq!(parse(asn1::UTC_TIME, "700101010000+0100").unwrap(), Time(0));
        assert!(parse(asn1::UTC_TIME, "700230000000Z").is_err());
        assert!(parse(asn1::UTC_TIME, "7001010000").is_err());
        assert!(parse(asn1::UTC_TIME, "").is_err());
        assert!(parse(asn1::UTC_TIME, "ü").is_err());
    }
}
