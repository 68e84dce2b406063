//! Ingest-time validation: reject what cannot be stored, repair what can.
//!
//! Nothing is rejected for being too large or oddly timed: oversized fields are cut with a
//! visible marker and absurd timestamps are clamped, keeping the original in `attrs`.

use crate::event::{Event, Frame};
use crate::time::{MICROS_PER_DAY, Timestamp};

pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
pub const MAX_STACK_FRAMES: usize = 256;
pub const MAX_ATTR_VALUE_BYTES: usize = 16 * 1024;
/// 2000-01-01T00:00:00Z: nothing faultline pulls happened before this.
pub const EARLIEST_TS: Timestamp = Timestamp::from_secs(946_684_800);
/// How far in the future an event may claim to be before its clock is distrusted.
pub const MAX_FUTURE_MICROS: i64 = MICROS_PER_DAY;

pub const ATTR_TS_CLAMPED: &str = "ts_clamped";
pub const ATTR_TRUNCATED: &str = "truncated";

/// Why an event cannot be stored at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("missing required field `{0}`")]
    MissingField(&'static str),
}

/// Checks the required fields, clamps the timestamp and truncates oversized fields.
/// `now` becomes `received_at` when the event has none.
pub fn normalize(mut event: Event, now: Timestamp) -> Result<Event, ValidationError> {
    if event.id.is_empty() {
        return Err(ValidationError::MissingField("id"));
    }
    if event.source.is_empty() {
        return Err(ValidationError::MissingField("source"));
    }
    let received_at = *event.received_at.get_or_insert(now);
    clamp_timestamp(&mut event, received_at);
    truncate_message(&mut event);
    truncate_stack(&mut event);
    truncate_attr_values(&mut event);
    Ok(event)
}

fn clamp_timestamp(event: &mut Event, received_at: Timestamp) {
    let too_late = event.ts.as_micros() > received_at.as_micros().saturating_add(MAX_FUTURE_MICROS);
    if event.ts < EARLIEST_TS || too_late {
        event
            .attrs
            .insert(ATTR_TS_CLAMPED.to_string(), event.ts.to_rfc3339());
        event.ts = received_at;
    }
}

fn truncate_message(event: &mut Event) {
    let total = event.message.len();
    if total <= MAX_MESSAGE_BYTES {
        return;
    }
    let cut = floor_char_boundary(&event.message, MAX_MESSAGE_BYTES);
    event.message.truncate(cut);
    event
        .message
        .push_str(&format!(" …[truncated: {total} bytes]"));
    mark_truncated(event, "message");
}

/// Keeps the outermost and the innermost frames (where the crash is) around a marker frame.
fn truncate_stack(event: &mut Event) {
    let total = event.stack.len();
    if total <= MAX_STACK_FRAMES {
        return;
    }
    let head = MAX_STACK_FRAMES / 2;
    let tail = MAX_STACK_FRAMES - head - 1;
    let marker = Frame {
        function: Some(format!("<{} frames truncated>", total - head - tail)),
        ..Frame::default()
    };
    let tail_frames = event.stack.split_off(total - tail);
    event.stack.truncate(head);
    event.stack.push(marker);
    event.stack.extend(tail_frames);
    mark_truncated(event, "stack");
}

fn truncate_attr_values(event: &mut Event) {
    let mut cut_any = false;
    for value in event.attrs.values_mut() {
        if value.len() > MAX_ATTR_VALUE_BYTES {
            let cut = floor_char_boundary(value, MAX_ATTR_VALUE_BYTES);
            value.truncate(cut);
            value.push_str(" …[truncated]");
            cut_any = true;
        }
    }
    if cut_any {
        mark_truncated(event, "attrs");
    }
}

fn mark_truncated(event: &mut Event, field: &str) {
    let entry = event.attrs.entry(ATTR_TRUNCATED.to_string()).or_default();
    if !entry.split(',').any(|existing| existing == field) {
        if !entry.is_empty() {
            entry.push(',');
        }
        entry.push_str(field);
    }
}

/// The largest index ≤ `max` that falls on a char boundary of `text`.
pub fn floor_char_boundary(text: &str, max: usize) -> usize {
    if max >= text.len() {
        return text.len();
    }
    (0..=max)
        .rev()
        .find(|&index| text.is_char_boundary(index))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_at(ts: Timestamp) -> Event {
        Event {
            id: "t:1".into(),
            source: "t".into(),
            ts,
            ..Event::default()
        }
    }

    const NOW: Timestamp = Timestamp::from_secs(1_764_000_000);

    #[test]
    fn rejects_missing_id_naming_the_field() {
        let mut event = event_at(NOW);
        event.id.clear();
        let err = normalize(event, NOW).unwrap_err();
        assert_eq!(err.to_string(), "missing required field `id`");
    }

    #[test]
    fn clamps_future_and_ancient_timestamps_keeping_the_original() {
        let future = normalize(event_at(NOW.plus_micros(2 * MICROS_PER_DAY)), NOW).unwrap();
        assert_eq!(future.ts, NOW);
        assert_eq!(
            future.attrs[ATTR_TS_CLAMPED],
            NOW.plus_micros(2 * MICROS_PER_DAY).to_rfc3339()
        );
        let ancient = normalize(event_at(Timestamp::from_secs(12)), NOW).unwrap();
        assert_eq!(ancient.ts, NOW);
        assert_eq!(ancient.attrs[ATTR_TS_CLAMPED], "1970-01-01T00:00:12Z");
        let fine = normalize(event_at(NOW.plus_micros(-MICROS_PER_DAY * 300)), NOW).unwrap();
        assert!(!fine.attrs.contains_key(ATTR_TS_CLAMPED));
    }

    #[test]
    fn truncates_long_message_on_a_char_boundary_with_marker() {
        let mut event = event_at(NOW);
        event.message = "é".repeat(MAX_MESSAGE_BYTES);
        let event = normalize(event, NOW).unwrap();
        assert!(event.message.len() < MAX_MESSAGE_BYTES + 64);
        assert!(
            event
                .message
                .ends_with(&format!("[truncated: {} bytes]", 2 * MAX_MESSAGE_BYTES))
        );
        assert_eq!(event.attrs[ATTR_TRUNCATED], "message");
    }

    #[test]
    fn truncates_deep_stacks_keeping_both_ends() {
        let mut event = event_at(NOW);
        event.stack = (0..1000)
            .map(|i| Frame {
                function: Some(format!("f{i}")),
                ..Frame::default()
            })
            .collect();
        let event = normalize(event, NOW).unwrap();
        assert_eq!(event.stack.len(), MAX_STACK_FRAMES);
        assert_eq!(event.stack[0].function.as_deref(), Some("f0"));
        assert_eq!(
            event.stack.last().unwrap().function.as_deref(),
            Some("f999")
        );
        assert_eq!(
            event.stack[128].function.as_deref(),
            Some("<745 frames truncated>")
        );
    }
}
