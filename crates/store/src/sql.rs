//! Read-only SQL over one `events` table that spans the Parquet partitions and the hot buffer.
//!
//! The table prunes hour partitions by the `ts` bounds of a query's filters, pushes the filters
//! into the Parquet scan (row-group statistics), and unions the scan with the hot batches.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DFSchema, ScalarValue, project_schema};
use datafusion::datasource::TableType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;
use faultline_model::arrow::event_schema;
use parking_lot::RwLock;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::error::{QueryError, Result};

/// Limits applied to every SQL query.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SqlLimits {
    pub timeout: Duration,
    pub max_rows: usize,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits {
            timeout: Duration::from_secs(30),
            max_rows: 10_000,
        }
    }
}

/// The answer of a query: its schema, its rows (at most `max_rows`), and whether more existed.
#[derive(Debug, Clone)]
pub struct SqlResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub truncated: bool,
}

impl SqlResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Builds the session with `events` registered.
pub fn session(catalog: Arc<RwLock<Catalog>>) -> Result<SessionContext> {
    let config = SessionConfig::new()
        .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()))
        .with_information_schema(true);
    let ctx = SessionContext::new_with_config(config);
    ctx.register_table("events", Arc::new(EventsTable { catalog }))
        .map_err(|err| QueryError::Failed(err.to_string()))?;
    Ok(ctx)
}

/// Runs one read-only query with the limits.
pub async fn run(ctx: &SessionContext, query: &str, limits: SqlLimits) -> Result<SqlResult> {
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let execute = async {
        let frame = ctx.sql_with_options(query, options).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let limited = frame.limit(0, Some(limits.max_rows + 1))?;
        let batches = limited.collect().await?;
        Ok::<_, DataFusionError>((schema, batches))
    };
    let (schema, batches) = tokio::time::timeout(limits.timeout, execute)
        .await
        .map_err(|_| QueryError::Timeout(limits.timeout))?
        .map_err(classify)?;
    let (batches, truncated) = cap_rows(batches, limits.max_rows);
    metrics::counter!("faultline_sql_queries_total").increment(1);
    Ok(SqlResult {
        schema,
        batches,
        truncated,
    })
}

fn cap_rows(batches: Vec<RecordBatch>, max_rows: usize) -> (Vec<RecordBatch>, bool) {
    let mut kept = Vec::with_capacity(batches.len());
    let mut rows = 0;
    for batch in batches {
        if rows + batch.num_rows() > max_rows {
            kept.push(batch.slice(0, max_rows - rows));
            return (kept, true);
        }
        rows += batch.num_rows();
        kept.push(batch);
    }
    (kept, false)
}

fn classify(error: DataFusionError) -> crate::error::StoreError {
    let message = error.strip_backtrace();
    let refused = [
        "DDL not supported",
        "DML not supported",
        "Statement not supported",
    ];
    if refused.iter().any(|prefix| message.contains(prefix)) {
        return QueryError::NotReadOnly(message.replace("Error during planning: ", "")).into();
    }
    match error.find_root() {
        DataFusionError::SQL(..) | DataFusionError::Plan(..) | DataFusionError::SchemaError(..) => {
            QueryError::Invalid(message).into()
        }
        _ => QueryError::Failed(message).into(),
    }
}

/// The `events` table.
#[derive(Debug)]
struct EventsTable {
    catalog: Arc<RwLock<Catalog>>,
}

#[async_trait]
impl TableProvider for EventsTable {
    fn schema(&self) -> SchemaRef {
        event_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let bounds = ts_bounds(filters);
        let (files, hot) = {
            let catalog = self.catalog.read();
            (
                catalog.partitions.files_between(bounds.from, bounds.to),
                catalog.hot.batches(),
            )
        };
        let schema = event_schema();
        let mut inputs: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        if !files.is_empty() {
            inputs.push(parquet_scan(state, &files, projection, filters, limit)?);
        }
        if !hot.is_empty() {
            let partitions = split_round_robin(hot, state.config().target_partitions());
            inputs.push(MemorySourceConfig::try_new_exec(
                &partitions,
                schema.clone(),
                projection.cloned(),
            )?);
        }
        if inputs.is_empty() {
            let projected = project_schema(&schema, projection)?;
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        UnionExec::try_new(inputs)
    }
}

fn parquet_scan(
    state: &dyn Session,
    files: &[crate::partitions::PartFile],
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
    let schema = event_schema();
    let mut source = ParquetSource::new(schema.clone());
    if let Some(predicate) = conjunction(filters.to_vec()) {
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let physical = state.create_physical_expr(predicate, &df_schema)?;
        source = source.with_predicate(physical);
    }
    let partitioned: Vec<PartitionedFile> = files
        .iter()
        .map(|file| PartitionedFile::new(file.path.to_string_lossy(), file.bytes))
        .collect();
    let groups = split_round_robin(partitioned, state.config().target_partitions())
        .into_iter()
        .map(FileGroup::new)
        .collect();
    let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
        .with_file_groups(groups)
        .with_projection_indices(projection.cloned())?
        .with_limit(limit)
        .build();
    Ok(DataSourceExec::from_data_source(config))
}

fn split_round_robin<T>(items: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let parts = parts.clamp(1, items.len().max(1));
    let mut groups: Vec<Vec<T>> = (0..parts).map(|_| Vec::new()).collect();
    for (index, item) in items.into_iter().enumerate() {
        groups[index % parts].push(item);
    }
    groups
}

/// `[from, to)` in µs implied by the filters on `ts`; `None` is unbounded.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub struct TsBounds {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl TsBounds {
    fn raise_from(&mut self, value: i64) {
        self.from = Some(self.from.map_or(value, |from| from.max(value)));
    }

    fn lower_to(&mut self, value: i64) {
        self.to = Some(self.to.map_or(value, |to| to.min(value)));
    }
}

pub fn ts_bounds(filters: &[Expr]) -> TsBounds {
    let mut bounds = TsBounds::default();
    for filter in filters {
        collect_bounds(filter, &mut bounds);
    }
    bounds
}

fn collect_bounds(expr: &Expr, bounds: &mut TsBounds) {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => {
            collect_bounds(left, bounds);
            collect_bounds(right, bounds);
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if is_ts_column(left) {
                if let Some(value) = literal_micros(right) {
                    apply_comparison(*op, value, bounds);
                }
            } else if is_ts_column(right) {
                if let (Some(value), Some(op)) = (literal_micros(left), op.swap()) {
                    apply_comparison(op, value, bounds);
                }
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_ts_column(expr) => {
            if let Some(low) = literal_micros(low) {
                bounds.raise_from(low);
            }
            if let Some(high) = literal_micros(high) {
                bounds.lower_to(high.saturating_add(1));
            }
        }
        _ => {}
    }
}

fn apply_comparison(op: Operator, value: i64, bounds: &mut TsBounds) {
    match op {
        Operator::Gt => bounds.raise_from(value.saturating_add(1)),
        Operator::GtEq => bounds.raise_from(value),
        Operator::Lt => bounds.lower_to(value),
        Operator::LtEq => bounds.lower_to(value.saturating_add(1)),
        Operator::Eq => {
            bounds.raise_from(value);
            bounds.lower_to(value.saturating_add(1));
        }
        _ => {}
    }
}

fn is_ts_column(expr: &Expr) -> bool {
    match expr {
        Expr::Column(column) => column.name == "ts",
        Expr::Cast(cast) => is_ts_column(&cast.expr),
        Expr::TryCast(cast) => is_ts_column(&cast.expr),
        _ => false,
    }
}

fn literal_micros(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    fn ts_lit(micros: i64) -> Expr {
        lit(ScalarValue::TimestampMicrosecond(
            Some(micros),
            Some("UTC".into()),
        ))
    }

    #[test]
    fn extracts_ranges_from_comparisons() {
        let filters = vec![col("ts").gt_eq(ts_lit(100)), col("ts").lt(ts_lit(500))];
        assert_eq!(
            ts_bounds(&filters),
            TsBounds {
                from: Some(100),
                to: Some(500)
            }
        );
        let flipped = vec![ts_lit(100).lt(col("ts"))];
        assert_eq!(
            ts_bounds(&flipped),
            TsBounds {
                from: Some(101),
                to: None
            }
        );
        let between = vec![col("ts").between(ts_lit(10), ts_lit(20))];
        assert_eq!(
            ts_bounds(&between),
            TsBounds {
                from: Some(10),
                to: Some(21)
            }
        );
    }

    #[test]
    fn ignores_other_columns_and_disjunctions() {
        let filters = vec![
            col("received_at").gt(ts_lit(100)),
            col("ts").gt(ts_lit(5)).or(col("ts").lt(ts_lit(1))),
        ];
        assert_eq!(ts_bounds(&filters), TsBounds::default());
    }
}
