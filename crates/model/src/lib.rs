//! faultline's data model: the normalized [`Event`], its enums, its Arrow schema and the
//! validation every event passes before it is stored.

pub mod arrow;
mod event;
pub mod incident;
mod time;
pub mod validate;

pub use event::{Event, Frame, Kind, Layer, Level, UnknownVariant};
pub use time::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_SECOND, Timestamp};
pub use validate::{ValidationError, normalize};

/// The id of an item pulled from a vendor: the source name, then the vendor's own id.
pub fn event_id(source: &str, vendor_id: &str) -> String {
    let mut id = String::with_capacity(source.len() + 1 + vendor_id.len());
    id.push_str(source);
    id.push(':');
    id.push_str(vendor_id);
    id
}

/// JSON Schema of the engine's answer, as committed in `schemas/incident.schema.json`.
pub fn incident_json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(incident::ChangeReport);
    serde_json::to_value(schema).expect("a JSON schema serializes")
}

/// JSON Schema of the normalized event, as committed in `schemas/event.schema.json`.
pub fn event_json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Event);
    serde_json::to_value(schema).expect("a JSON schema serializes")
}
