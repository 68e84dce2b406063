//! The Arrow schema of events and conversion of event batches to and from `RecordBatch`.
//!
//! Low-cardinality strings are dictionary-encoded; timestamps are microseconds, UTC.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder, Int32Builder, ListBuilder,
    MapBuilder, MapFieldNames, RecordBatch, StringBuilder, StringDictionaryBuilder, StructBuilder,
    TimestampMicrosecondArray, TimestampMicrosecondBuilder, UInt32Builder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Fields, Int32Type, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;

use crate::event::{Event, Frame};
use crate::time::Timestamp;

pub const UTC: &str = "UTC";

/// Version of the stored event layout; bump it when a column changes meaning or type.
pub const SCHEMA_VERSION: &str = "1";

fn dict() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
}

fn frame_fields() -> Fields {
    Fields::from(vec![
        Field::new("module", DataType::Utf8, true),
        Field::new("function", DataType::Utf8, true),
        Field::new("file", DataType::Utf8, true),
        Field::new("line", DataType::UInt32, true),
        Field::new("in_app", DataType::Boolean, true),
    ])
}

fn stack_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(frame_fields()),
        true,
    )))
}

fn attrs_type() -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("keys", DataType::Utf8, false),
            Field::new("values", DataType::Utf8, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

static EVENT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let fields = vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("ts", ts_type(), false),
        Field::new("received_at", ts_type(), false),
        Field::new("source", dict(), false),
        Field::new("kind", dict(), false),
        Field::new("layer", dict(), false),
        Field::new("service", dict(), true),
        Field::new("host", dict(), true),
        Field::new("env", dict(), true),
        Field::new("release", dict(), true),
        Field::new("level", dict(), false),
        Field::new("message", DataType::Utf8, false),
        Field::new("error_type", dict(), true),
        Field::new("stack", stack_type(), true),
        Field::new("trace_id", DataType::Utf8, true),
        Field::new("span_id", DataType::Utf8, true),
        Field::new("request_id", DataType::Utf8, true),
        Field::new("user", DataType::Utf8, true),
        Field::new("duration_ms", DataType::Float64, true),
        Field::new("status_code", DataType::Int32, true),
        Field::new("url", DataType::Utf8, true),
        Field::new("fingerprint", dict(), true),
        Field::new("template", dict(), true),
        Field::new("attrs", attrs_type(), true),
    ];
    let metadata = [(
        "faultline.schema_version".to_string(),
        SCHEMA_VERSION.to_string(),
    )]
    .into();
    Arc::new(Schema::new_with_metadata(fields, metadata))
});

/// The Arrow schema every stored event batch has.
pub fn event_schema() -> SchemaRef {
    EVENT_SCHEMA.clone()
}

/// Column builders, one per schema field, in schema order.
struct Builders {
    id: StringBuilder,
    ts: TimestampMicrosecondBuilder,
    received_at: TimestampMicrosecondBuilder,
    source: StringDictionaryBuilder<Int32Type>,
    kind: StringDictionaryBuilder<Int32Type>,
    layer: StringDictionaryBuilder<Int32Type>,
    service: StringDictionaryBuilder<Int32Type>,
    host: StringDictionaryBuilder<Int32Type>,
    env: StringDictionaryBuilder<Int32Type>,
    release: StringDictionaryBuilder<Int32Type>,
    level: StringDictionaryBuilder<Int32Type>,
    message: StringBuilder,
    error_type: StringDictionaryBuilder<Int32Type>,
    stack: ListBuilder<StructBuilder>,
    trace_id: StringBuilder,
    span_id: StringBuilder,
    request_id: StringBuilder,
    user: StringBuilder,
    duration_ms: Float64Builder,
    status_code: Int32Builder,
    url: StringBuilder,
    fingerprint: StringDictionaryBuilder<Int32Type>,
    template: StringDictionaryBuilder<Int32Type>,
    attrs: MapBuilder<StringBuilder, StringBuilder>,
}

impl Builders {
    fn for_events(events: &[Event]) -> Self {
        let rows = events.len();
        let id_bytes = events.iter().map(|e| e.id.len()).sum();
        let message_bytes = events.iter().map(|e| e.message.len()).sum();
        let frame = StructBuilder::from_fields(frame_fields(), 0);
        let map_names = MapFieldNames {
            entry: "entries".into(),
            key: "keys".into(),
            value: "values".into(),
        };
        Builders {
            id: StringBuilder::with_capacity(rows, id_bytes),
            ts: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC),
            received_at: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC),
            source: StringDictionaryBuilder::new(),
            kind: StringDictionaryBuilder::new(),
            layer: StringDictionaryBuilder::new(),
            service: StringDictionaryBuilder::new(),
            host: StringDictionaryBuilder::new(),
            env: StringDictionaryBuilder::new(),
            release: StringDictionaryBuilder::new(),
            level: StringDictionaryBuilder::new(),
            message: StringBuilder::with_capacity(rows, message_bytes),
            error_type: StringDictionaryBuilder::new(),
            stack: ListBuilder::new(frame).with_field(Arc::new(Field::new(
                "item",
                DataType::Struct(frame_fields()),
                true,
            ))),
            trace_id: StringBuilder::new(),
            span_id: StringBuilder::new(),
            request_id: StringBuilder::new(),
            user: StringBuilder::new(),
            duration_ms: Float64Builder::with_capacity(rows),
            status_code: Int32Builder::with_capacity(rows),
            url: StringBuilder::new(),
            fingerprint: StringDictionaryBuilder::new(),
            template: StringDictionaryBuilder::new(),
            attrs: MapBuilder::new(Some(map_names), StringBuilder::new(), StringBuilder::new()),
        }
    }

    fn push(&mut self, event: &Event) {
        self.id.append_value(&event.id);
        self.ts.append_value(event.ts.as_micros());
        self.received_at
            .append_value(event.received_at.unwrap_or(event.ts).as_micros());
        self.source.append_value(&event.source);
        self.kind.append_value(event.kind.as_str());
        self.layer.append_value(event.layer.as_str());
        self.service.append_option(event.service.as_deref());
        self.host.append_option(event.host.as_deref());
        self.env.append_option(event.env.as_deref());
        self.release.append_option(event.release.as_deref());
        self.level.append_value(event.level.as_str());
        self.message.append_value(&event.message);
        self.error_type.append_option(event.error_type.as_deref());
        self.push_stack(&event.stack);
        self.trace_id.append_option(event.trace_id.as_deref());
        self.span_id.append_option(event.span_id.as_deref());
        self.request_id.append_option(event.request_id.as_deref());
        self.user.append_option(event.user.as_deref());
        self.duration_ms.append_option(event.duration_ms);
        self.status_code.append_option(event.status_code);
        self.url.append_option(event.url.as_deref());
        self.fingerprint.append_option(event.fingerprint.as_deref());
        self.template.append_option(event.template.as_deref());
        self.push_attrs(&event.attrs);
    }

    fn push_stack(&mut self, frames: &[Frame]) {
        if frames.is_empty() {
            self.stack.append_null();
            return;
        }
        let frame_builder = self.stack.values();
        for frame in frames {
            frame_builder
                .field_builder::<StringBuilder>(0)
                .expect("module column is a string")
                .append_option(frame.module.as_deref());
            frame_builder
                .field_builder::<StringBuilder>(1)
                .expect("function column is a string")
                .append_option(frame.function.as_deref());
            frame_builder
                .field_builder::<StringBuilder>(2)
                .expect("file column is a string")
                .append_option(frame.file.as_deref());
            frame_builder
                .field_builder::<UInt32Builder>(3)
                .expect("line column is u32")
                .append_option(frame.line);
            frame_builder
                .field_builder::<BooleanBuilder>(4)
                .expect("in_app column is bool")
                .append_value(frame.in_app);
            frame_builder.append(true);
        }
        self.stack.append(true);
    }

    fn push_attrs(&mut self, attrs: &BTreeMap<String, String>) {
        if attrs.is_empty() {
            self.attrs
                .append(false)
                .expect("map builder keys and values stay aligned");
            return;
        }
        for (key, value) in attrs {
            self.attrs.keys().append_value(key);
            self.attrs.values().append_value(value);
        }
        self.attrs
            .append(true)
            .expect("map builder keys and values stay aligned");
    }

    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.ts.finish()),
            Arc::new(self.received_at.finish()),
            Arc::new(self.source.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.layer.finish()),
            Arc::new(self.service.finish()),
            Arc::new(self.host.finish()),
            Arc::new(self.env.finish()),
            Arc::new(self.release.finish()),
            Arc::new(self.level.finish()),
            Arc::new(self.message.finish()),
            Arc::new(self.error_type.finish()),
            Arc::new(self.stack.finish()),
            Arc::new(self.trace_id.finish()),
            Arc::new(self.span_id.finish()),
            Arc::new(self.request_id.finish()),
            Arc::new(self.user.finish()),
            Arc::new(self.duration_ms.finish()),
            Arc::new(self.status_code.finish()),
            Arc::new(self.url.finish()),
            Arc::new(self.fingerprint.finish()),
            Arc::new(self.template.finish()),
            Arc::new(self.attrs.finish()),
        ];
        RecordBatch::try_new(event_schema(), columns)
    }
}

/// Converts events to one `RecordBatch` with [`event_schema`].
pub fn events_to_batch(events: &[Event]) -> Result<RecordBatch, ArrowError> {
    let mut builders = Builders::for_events(events);
    for event in events {
        builders.push(event);
    }
    builders.finish()
}

/// Converts a batch with the event columns back to events. Columns may be plain or
/// dictionary strings; missing optional columns read as empty.
pub fn batch_to_events(batch: &RecordBatch) -> Result<Vec<Event>, ArrowError> {
    let reader = BatchReader::new(batch)?;
    (0..batch.num_rows()).map(|row| reader.event(row)).collect()
}

/// Column accessors for one batch, with every string column cast to plain UTF-8.
struct BatchReader<'a> {
    batch: &'a RecordBatch,
    strings: BTreeMap<&'static str, ArrayRef>,
}

const STRING_COLUMNS: &[&str] = &[
    "id",
    "source",
    "kind",
    "layer",
    "service",
    "host",
    "env",
    "release",
    "level",
    "message",
    "error_type",
    "trace_id",
    "span_id",
    "request_id",
    "user",
    "url",
    "fingerprint",
    "template",
];

impl<'a> BatchReader<'a> {
    fn new(batch: &'a RecordBatch) -> Result<Self, ArrowError> {
        let mut strings = BTreeMap::new();
        for &name in STRING_COLUMNS {
            if let Some(column) = batch.column_by_name(name) {
                strings.insert(name, cast(column, &DataType::Utf8)?);
            }
        }
        Ok(BatchReader { batch, strings })
    }

    fn string(&self, name: &str, row: usize) -> Option<String> {
        let column = self.strings.get(name)?;
        if column.is_null(row) {
            return None;
        }
        Some(column.as_string::<i32>().value(row).to_string())
    }

    fn required_string(&self, name: &str, row: usize) -> String {
        self.string(name, row).unwrap_or_default()
    }

    fn timestamp(&self, name: &str, row: usize) -> Result<Option<Timestamp>, ArrowError> {
        let Some(column) = self.batch.column_by_name(name) else {
            return Ok(None);
        };
        let micros = cast(
            column,
            &DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        )?;
        let micros = micros
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .ok_or_else(|| ArrowError::CastError(format!("column {name} is not a timestamp")))?;
        Ok((!micros.is_null(row)).then(|| Timestamp::from_micros(micros.value(row))))
    }

    fn event(&self, row: usize) -> Result<Event, ArrowError> {
        let ts = self
            .timestamp("ts", row)?
            .ok_or_else(|| ArrowError::InvalidArgumentError("row without ts".into()))?;
        Ok(Event {
            id: self.required_string("id", row),
            ts,
            received_at: self.timestamp("received_at", row)?,
            source: self.required_string("source", row),
            kind: parse_or_default(self.string("kind", row)),
            layer: parse_or_default(self.string("layer", row)),
            service: self.string("service", row),
            host: self.string("host", row),
            env: self.string("env", row),
            release: self.string("release", row),
            level: parse_or_default(self.string("level", row)),
            message: self.required_string("message", row),
            error_type: self.string("error_type", row),
            stack: self.stack(row),
            trace_id: self.string("trace_id", row),
            span_id: self.string("span_id", row),
            request_id: self.string("request_id", row),
            user: self.string("user", row),
            duration_ms: self.primitive::<arrow::datatypes::Float64Type>("duration_ms", row),
            status_code: self.primitive::<arrow::datatypes::Int32Type>("status_code", row),
            url: self.string("url", row),
            fingerprint: self.string("fingerprint", row),
            template: self.string("template", row),
            attrs: self.attrs(row),
        })
    }

    fn primitive<T: arrow::datatypes::ArrowPrimitiveType>(
        &self,
        name: &str,
        row: usize,
    ) -> Option<T::Native> {
        let column = self.batch.column_by_name(name)?;
        let values = column.as_primitive_opt::<T>()?;
        (!values.is_null(row)).then(|| values.value(row))
    }

    fn stack(&self, row: usize) -> Vec<Frame> {
        let Some(column) = self.batch.column_by_name("stack") else {
            return Vec::new();
        };
        let Some(list) = column.as_list_opt::<i32>() else {
            return Vec::new();
        };
        if list.is_null(row) {
            return Vec::new();
        }
        let frames = list.value(row);
        let frames = frames.as_struct();
        let text = |index: usize, at: usize| -> Option<String> {
            let column = frames.column(index).as_string_opt::<i32>()?;
            (!column.is_null(at)).then(|| column.value(at).to_string())
        };
        let lines = frames
            .column(3)
            .as_primitive_opt::<arrow::datatypes::UInt32Type>();
        let in_app = frames.column(4).as_boolean_opt();
        (0..frames.len())
            .map(|at| Frame {
                module: text(0, at),
                function: text(1, at),
                file: text(2, at),
                line: lines.and_then(|l| (!l.is_null(at)).then(|| l.value(at))),
                in_app: in_app.is_some_and(|b| !b.is_null(at) && b.value(at)),
            })
            .collect()
    }

    fn attrs(&self, row: usize) -> BTreeMap<String, String> {
        let Some(map) = self
            .batch
            .column_by_name("attrs")
            .and_then(|column| column.as_map_opt())
        else {
            return BTreeMap::new();
        };
        if map.is_null(row) {
            return BTreeMap::new();
        }
        let entries = map.value(row);
        let keys = entries.column(0).as_string::<i32>();
        let values = entries.column(1).as_string::<i32>();
        (0..entries.len())
            .filter(|&at| !values.is_null(at))
            .map(|at| (keys.value(at).to_string(), values.value(at).to_string()))
            .collect()
    }
}

fn parse_or_default<T: std::str::FromStr + Default>(text: Option<String>) -> T {
    text.and_then(|t| t.parse().ok()).unwrap_or_default()
}

/// The schema as text, one field a line: what `schemas/event.arrow.txt` holds.
pub fn schema_as_text() -> String {
    let schema = event_schema();
    let mut out = String::from("# Arrow schema of a stored event (faultline.schema_version ");
    out.push_str(SCHEMA_VERSION);
    out.push_str(")\n");
    for field in schema.fields() {
        out.push_str(&format!(
            "{}: {}{}\n",
            field.name(),
            field.data_type(),
            if field.is_nullable() { "" } else { " NOT NULL" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, Layer, Level};

    fn sample() -> Vec<Event> {
        let full = Event {
            id: "sentry:abc".into(),
            ts: Timestamp::from_micros(1_764_000_000_123_456),
            received_at: Some(Timestamp::from_micros(1_764_000_001_000_000)),
            source: "sentry".into(),
            kind: Kind::Error,
            layer: Layer::Database,
            service: Some("web".into()),
            host: Some("web-1".into()),
            env: Some("prod".into()),
            release: Some("v512".into()),
            level: Level::Error,
            message: "connection refused".into(),
            error_type: Some("OperationalError".into()),
            stack: vec![
                Frame {
                    module: Some("app.db".into()),
                    function: Some("connect".into()),
                    file: Some("db.py".into()),
                    line: Some(42),
                    in_app: true,
                },
                Frame::default(),
            ],
            trace_id: Some("t1".into()),
            span_id: Some("s1".into()),
            request_id: Some("r1".into()),
            user: Some("u:hash".into()),
            duration_ms: Some(12.5),
            status_code: Some(500),
            url: Some("https://x/y".into()),
            fingerprint: Some("fp".into()),
            template: Some("connection refused".into()),
            attrs: [("a".to_string(), "b".to_string())].into(),
        };
        let bare = Event {
            id: "dd:1".into(),
            ts: Timestamp::from_micros(1),
            received_at: Some(Timestamp::from_micros(2)),
            source: "datadog".into(),
            ..Event::default()
        };
        vec![full, bare]
    }

    #[test]
    fn round_trips_every_field() {
        let events = sample();
        let batch = events_to_batch(&events).unwrap();
        assert_eq!(batch.schema(), event_schema());
        assert_eq!(batch_to_events(&batch).unwrap(), events);
    }

    #[test]
    fn empty_batch_is_valid() {
        let batch = events_to_batch(&[]).unwrap();
        assert_eq!(batch.num_rows(), 0);
    }
}
