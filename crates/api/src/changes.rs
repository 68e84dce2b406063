//! "What changed?" over the store: the rows of a span, through the engine, into incidents.

use std::sync::Arc;

use faultline_engine::analyze::{EngineConfig, analyze};
use faultline_engine::detect::{Input, Span};
use faultline_engine::layers::LayerRules;
use faultline_model::incident::ChangeReport;
use faultline_model::{Layer, MICROS_PER_SECOND, Timestamp};
use faultline_store::{SqlLimits, Store};

use crate::error::ApiError;
use crate::rows;

/// Maps a stored fingerprint to its current form (templates generalize as they learn).
pub type Resolver = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The longest window one question may ask about.
pub const MAX_WINDOW_MICROS: i64 = 7 * 24 * 3_600 * MICROS_PER_SECOND;

/// What one question asks.
#[derive(Debug, Clone)]
pub struct ChangesQuery {
    /// Length of the window before `at`, µs.
    pub window_micros: i64,
    /// End of the window; now when absent.
    pub at: Option<Timestamp>,
    /// Only incidents that involve this layer.
    pub layer: Option<Layer>,
    /// Only incidents scoring at least this.
    pub min_score: Option<f64>,
}

impl ChangesQuery {
    pub fn last(window_micros: i64) -> ChangesQuery {
        ChangesQuery {
            window_micros,
            at: None,
            layer: None,
            min_score: None,
        }
    }
}

/// The engine with its rules and settings, ready to answer over a store.
#[derive(Clone)]
pub struct Analyst {
    rules: Arc<LayerRules>,
    config: Arc<EngineConfig>,
    resolve: Resolver,
}

impl Analyst {
    pub fn new(rules: LayerRules, config: EngineConfig, resolve: Resolver) -> Analyst {
        Analyst {
            rules: Arc::new(rules),
            config: Arc::new(config),
            resolve,
        }
    }

    pub async fn changes(
        &self,
        store: &Store,
        query: &ChangesQuery,
        limits: SqlLimits,
    ) -> Result<ChangeReport, ApiError> {
        validate(query)?;
        let span = Span {
            at: query.at.unwrap_or_else(Timestamp::now),
            window_micros: query.window_micros,
            baseline_micros: self.config.baseline_micros,
        };
        let rows = rows::load(store, span, limits).await?;
        let window_is_empty = !rows.events.iter().any(|e| e.ts >= span.from());
        let analyst = self.clone();
        let mut report = tokio::task::spawn_blocking(move || {
            let input = Input::from_rows(&rows.events, span, &rows.history, &*analyst.resolve);
            analyze(&input, &analyst.rules, &analyst.config)
        })
        .await
        .map_err(|err| ApiError::internal(format!("the engine failed: {err}")))?;
        keep_asked(&mut report, query);
        if window_is_empty {
            report.notes.push(empty_window_note(store, span).await?);
        }
        Ok(report)
    }
}

fn validate(query: &ChangesQuery) -> Result<(), ApiError> {
    if query.window_micros <= 0 || query.window_micros > MAX_WINDOW_MICROS {
        return Err(ApiError::bad_parameter(
            "since",
            "the window must be longer than 0 and at most 7 days",
        ));
    }
    if query.min_score.is_some_and(|score| !score.is_finite()) {
        return Err(ApiError::bad_parameter("min_score", "must be a number"));
    }
    Ok(())
}

fn keep_asked(report: &mut ChangeReport, query: &ChangesQuery) {
    report.incidents.retain(|incident| {
        let layer_ok = query
            .layer
            .is_none_or(|layer| incident.layers.iter().any(|onset| onset.layer == layer));
        let score_ok = query.min_score.is_none_or(|min| incident.score >= min);
        layer_ok && score_ok
    });
}

async fn empty_window_note(store: &Store, span: Span) -> Result<String, ApiError> {
    let window = format!(
        "no events are stored between {} and {}",
        span.from().to_rfc3339(),
        span.at.to_rfc3339()
    );
    Ok(match rows::newest(store).await? {
        Some(newest) if newest < span.from() => format!(
            "{window}; the newest stored event is at {} (ask with at={})",
            newest.to_rfc3339(),
            newest.plus_micros(1).to_rfc3339()
        ),
        Some(_) => window,
        None => format!("{window}; the store is empty"),
    })
}
