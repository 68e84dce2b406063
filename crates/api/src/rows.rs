//! The rows the engine needs for one span, read from the store with SQL: lean rows of the
//! window, the baseline and the earlier days' windows (one sub-query per range, so each prunes
//! its partitions), whole context events (reports, alerts, deploys) around the window, and the
//! first sighting of every fingerprint before the baseline.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimestampMicrosecondType};
use faultline_engine::detect::{History, Span};
use faultline_model::arrow::batch_to_events;
use faultline_model::{Event, MICROS_PER_SECOND, Timestamp};
use faultline_store::{SqlLimits, Store};

use crate::error::ApiError;

/// Columns the detectors read from non-context rows.
const LEAN_COLUMNS: &str = "id, ts, kind, layer, service, host, release, level, message, \
    error_type, trace_id, duration_ms, status_code, fingerprint, template";
const CONTEXT_KINDS: &str = "('report', 'monitor', 'deploy')";
/// Context events this long before the window are still attached to incidents.
const CONTEXT_BEFORE_MICROS: i64 = 3_600 * MICROS_PER_SECOND;
/// No span reads more rows than this; a bigger window is an error with a hint.
pub const MAX_ROWS: usize = 5_000_000;

/// Everything the engine reads for `span`.
pub struct Rows {
    pub events: Vec<Event>,
    pub history: History,
}

pub async fn load(store: &Store, span: Span, limits: SqlLimits) -> Result<Rows, ApiError> {
    let mut events = query_events(store, &signal_query(span), limits).await?;
    events.extend(query_events(store, &context_query(span), limits).await?);
    let history = history(store, span, limits).await?;
    Ok(Rows { events, history })
}

fn signal_query(span: Span) -> String {
    span.ranges()
        .into_iter()
        .map(|(start, end)| {
            format!(
                "SELECT {LEAN_COLUMNS} FROM events WHERE {} AND kind NOT IN {CONTEXT_KINDS}",
                ts_range(start, end)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

fn context_query(span: Span) -> String {
    let start = span.from().plus_micros(-CONTEXT_BEFORE_MICROS);
    format!(
        "SELECT * FROM events WHERE {} AND kind IN {CONTEXT_KINDS}",
        ts_range(start, span.at)
    )
}

fn ts_range(start: Timestamp, end: Timestamp) -> String {
    format!(
        "ts >= '{}' AND ts < '{}'",
        start.to_rfc3339(),
        end.to_rfc3339()
    )
}

async fn query_events(
    store: &Store,
    query: &str,
    limits: SqlLimits,
) -> Result<Vec<Event>, ApiError> {
    let limits = SqlLimits {
        max_rows: MAX_ROWS,
        ..limits
    };
    let result = store
        .sql_with_limits(query, limits)
        .await
        .map_err(ApiError::from_store)?;
    if result.truncated {
        return Err(ApiError::too_much(format!(
            "the window and its baseline hold more than {MAX_ROWS} events"
        )));
    }
    let mut events = Vec::with_capacity(result.num_rows());
    for batch in &result.batches {
        events.extend(batch_to_events(batch).map_err(|err| ApiError::internal(err.to_string()))?);
    }
    Ok(events)
}

/// The oldest stored event and each fingerprint's first sighting before the selected rows.
async fn history(store: &Store, span: Span, limits: SqlLimits) -> Result<History, ApiError> {
    let before = span
        .ranges()
        .iter()
        .map(|(start, _)| *start)
        .min()
        .unwrap_or(span.at);
    let query = format!(
        "SELECT fingerprint, min(ts) AS first FROM events WHERE ts < '{}' GROUP BY fingerprint",
        before.to_rfc3339()
    );
    let limits = SqlLimits {
        max_rows: MAX_ROWS,
        ..limits
    };
    let result = store
        .sql_with_limits(&query, limits)
        .await
        .map_err(ApiError::from_store)?;
    let mut history = History::default();
    for batch in &result.batches {
        add_first_sightings(batch, &mut history).map_err(ApiError::internal)?;
    }
    Ok(history)
}

fn add_first_sightings(batch: &RecordBatch, history: &mut History) -> Result<(), String> {
    let fingerprints = cast(batch.column(0), &DataType::Utf8).map_err(|err| err.to_string())?;
    let fingerprints = fingerprints.as_string::<i32>();
    let firsts = batch.column(1).as_primitive::<TimestampMicrosecondType>();
    for row in 0..batch.num_rows() {
        if firsts.is_null(row) {
            continue;
        }
        let first = Timestamp::from_micros(firsts.value(row));
        history.earliest = Some(history.earliest.map_or(first, |e| e.min(first)));
        if !fingerprints.is_null(row) {
            history
                .first_seen
                .insert(fingerprints.value(row).to_string(), first);
        }
    }
    Ok(())
}

/// The stored events with these ids, from `since` on.
pub async fn events_by_id(
    store: &Store,
    ids: &[String],
    since: Timestamp,
    limits: SqlLimits,
) -> Result<HashMap<String, Event>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let quoted: Vec<String> = ids
        .iter()
        .map(|id| format!("'{}'", id.replace('\'', "''")))
        .collect();
    let query = format!(
        "SELECT * FROM events WHERE ts >= '{}' AND id IN ({})",
        since.to_rfc3339(),
        quoted.join(", ")
    );
    let events = query_events(store, &query, limits).await?;
    Ok(events
        .into_iter()
        .map(|event| (event.id.clone(), event))
        .collect())
}

/// The newest stored event, for telling a user that the window holds nothing.
pub async fn newest(store: &Store) -> Result<Option<Timestamp>, ApiError> {
    let result = store
        .sql("SELECT max(ts) FROM events")
        .await
        .map_err(ApiError::from_store)?;
    let newest = result.batches.iter().find_map(|batch| {
        let column = batch.column(0).as_primitive::<TimestampMicrosecondType>();
        (batch.num_rows() > 0 && !column.is_null(0)).then(|| column.value(0))
    });
    Ok(newest.map(Timestamp::from_micros))
}
