//! Small helpers that fill the normalized `Event` from vendor text, shared by both vendors.

use faultline_model::{Event, Kind, Timestamp, event_id};

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
