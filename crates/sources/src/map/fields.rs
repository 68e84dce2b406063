//! Small helpers that fill the normalized `Event` from vendor text, shared by every vendor.

use std::collections::BTreeMap;

use faultline_model::{Event, Kind, MICROS_PER_SECOND, Timestamp, event_id};

use super::MapContext;
use super::error::Invalid;
use super::json::{Text, TextField, parse_timestamp};

/// An event with its identity filled in: `<source>:<vendor id>`, time, source, kind.
pub(crate) fn base_event(ctx: &MapContext, vendor_id: &str, ts: Timestamp, kind: Kind) -> Event {
    Event {
        id: event_id(ctx.source, vendor_id),
        ts,
        source: ctx.source.to_string(),
        kind,
        ..Event::default()
    }
}

/// Reads a timestamp the item cannot do without.
pub(crate) fn required_time(
    field: &Option<Text<'_>>,
    item: &str,
    name: &str,
) -> Result<Timestamp, Invalid> {
    let text = field.text().ok_or_else(|| Invalid::missing(item, name))?;
    parse_timestamp(text)
        .ok_or_else(|| Invalid(format!("{item} has an unreadable `{name}`: {text:?}")))
}

/// A timestamp attribute in RFC 3339 when readable, else as the vendor wrote it.
pub(crate) fn time_attr(text: &str) -> String {
    parse_timestamp(text).map_or_else(|| text.to_string(), Timestamp::to_rfc3339)
}

pub(crate) fn insert_attr(event: &mut Event, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        event.attrs.insert(key.to_string(), value.to_string());
    }
}

/// Sets an optional field unless an earlier, more trusted source already set it.
pub(crate) fn fill(slot: &mut Option<String>, value: Option<&str>) {
    if slot.is_none() {
        *slot = value.map(str::to_string);
    }
}

/// An HTTP status from `"502"`, `502` or `502.0`; anything outside 100..=999 is not one.
pub(crate) fn status_code(text: &str) -> Option<i32> {
    let code = text.trim().parse::<f64>().ok()?;
    ((100.0..1000.0).contains(&code) && code.fract() == 0.0).then_some(code as i32)
}

pub(crate) fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

pub(crate) fn take(attrs: &mut BTreeMap<String, String>, key: &str) -> Option<String> {
    attrs.remove(key).filter(|value| !value.is_empty())
}

pub(crate) fn take_first(attrs: &mut BTreeMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| take(attrs, key))
}

/// Moves an attribute into a typed field when it parses; an unreadable value stays an attribute.
pub(crate) fn take_parsed<T>(
    attrs: &mut BTreeMap<String, String>,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let parsed = attrs.get(key).and_then(|value| parse(value))?;
    attrs.remove(key);
    Some(parsed)
}

pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
}

/// Epoch seconds written as a decimal (`"1675092593.431309"`, Slack's `ts`; `1694046470.93`,
/// Front's times), read digit by digit so no microsecond is lost to floating point.
pub(crate) fn epoch_seconds_decimal(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let mut micros: i64 = 0;
    for position in 0..6 {
        let digit = fraction
            .as_bytes()
            .get(position)
            .map_or(0, |byte| byte - b'0');
        micros = micros * 10 + i64::from(digit);
    }
    Some(Timestamp::from_micros(
        seconds
            .checked_mul(MICROS_PER_SECOND)?
            .checked_add(micros)?,
    ))
}

/// A short, stable hash of a text (16 hex digits of xxh3-64), for vendor ids built from content.
pub(crate) fn content_hash(text: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_epoch_seconds_keep_every_microsecond() {
        let micros = |text: &str| epoch_seconds_decimal(text).map(Timestamp::as_micros);
        assert_eq!(micros("1675092593.431309"), Some(1_675_092_593_431_309));
        assert_eq!(micros("1694046470.93"), Some(1_694_046_470_930_000));
        assert_eq!(micros("1694046470"), Some(1_694_046_470_000_000));
        assert_eq!(micros("1512085950.0002161"), Some(1_512_085_950_000_216));
        assert_eq!(micros("-1.5"), None);
        assert_eq!(micros("1e9"), None);
        assert_eq!(micros(".5"), None);
        assert_eq!(micros(""), None);
    }

    #[test]
    fn content_hashes_are_stable() {
        assert_eq!(content_hash("hello, world"), content_hash("hello, world"));
        assert_ne!(content_hash("hello, world"), content_hash("hello world"));
        assert_eq!(content_hash("").len(), 16);
    }
}
