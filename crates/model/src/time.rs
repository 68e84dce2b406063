//! `Timestamp`: microseconds since the Unix epoch, UTC, written as RFC 3339 in JSON.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A point in time with microsecond precision, always UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SECOND;
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

impl Timestamp {
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis.saturating_mul(1_000))
    }

    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(MICROS_PER_SECOND))
    }

    pub const fn from_nanos(nanos: i64) -> Self {
        Timestamp(nanos / 1_000)
    }

    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_micros())
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    pub const fn as_millis(self) -> i64 {
        self.0.div_euclid(1_000)
    }

    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SECOND)
    }

    /// Adds (or, when negative, subtracts) a number of microseconds.
    pub const fn plus_micros(self, micros: i64) -> Self {
        Timestamp(self.0.saturating_add(micros))
    }

    /// Start of the hour that contains this instant.
    pub const fn hour_start(self) -> Self {
        Timestamp(self.0 - self.0.rem_euclid(MICROS_PER_HOUR))
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_micros(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// Parses RFC 3339 (`2026-11-24T14:02:10.123Z`, any offset) into UTC.
    pub fn parse_rfc3339(text: &str) -> Result<Self, chrono::ParseError> {
        let parsed = DateTime::parse_from_rfc3339(text.trim())?;
        Ok(Timestamp(parsed.with_timezone(&Utc).timestamp_micros()))
    }

    /// Reads a number as epoch time, guessing the unit from its size, as vendors mix
    /// seconds (1.7e9), milliseconds (1.7e12), microseconds (1.7e15) and nanoseconds (1.7e18).
    pub fn from_epoch_guess(value: f64) -> Self {
        let magnitude = value.abs();
        let micros = if magnitude < 1e11 {
            value * 1e6
        } else if magnitude < 1e14 {
            value * 1e3
        } else if magnitude < 1e17 {
            value
        } else {
            value / 1e3
        };
        Timestamp(micros as i64)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Timestamp(value.timestamp_micros())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl de::Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "an RFC 3339 timestamp such as \"2026-11-24T14:02:10Z\" or epoch seconds/ms/µs/ns",
        )
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Timestamp, E> {
        Timestamp::parse_rfc3339(text)
            .map_err(|err| E::custom(format!("invalid timestamp {text:?}: {err}")))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Timestamp, E> {
        Ok(Timestamp::from_epoch_guess(value as f64))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Timestamp, E> {
        Ok(Timestamp::from_epoch_guess(value as f64))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Timestamp, E> {
        Ok(Timestamp::from_epoch_guess(value))
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "UTC instant, RFC 3339 (e.g. 2026-11-24T14:02:10.123Z); epoch numbers are accepted on input",
            "type": ["string", "number"],
            "format": "date-time"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339_with_micros() {
        let ts = Timestamp::parse_rfc3339("2026-11-24T14:02:10.123456Z").unwrap();
        assert_eq!(ts.to_rfc3339(), "2026-11-24T14:02:10.123456Z");
        let offset = Timestamp::parse_rfc3339("2026-11-24T15:02:10+01:00").unwrap();
        assert_eq!(offset.to_rfc3339(), "2026-11-24T14:02:10Z");
    }

    #[test]
    fn guesses_epoch_units() {
        let secs = Timestamp::from_epoch_guess(1_764_000_000.0);
        assert_eq!(Timestamp::from_epoch_guess(1_764_000_000_000.0), secs);
        assert_eq!(Timestamp::from_epoch_guess(1_764_000_000_000_000.0), secs);
        assert_eq!(
            Timestamp::from_epoch_guess(1_764_000_000_000_000_000.0),
            secs
        );
    }

    #[test]
    fn hour_start_floors_negative_times_too() {
        let ts = Timestamp::from_micros(-1);
        assert_eq!(ts.hour_start().as_micros(), -MICROS_PER_HOUR);
    }
}
