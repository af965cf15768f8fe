//! The driver: EM over any DataFusion table, one aggregate query per E-step.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, DataFusionError};
use datafusion::logical_expr::{Expr, cast};
use datafusion::prelude::{DataFrame, SessionContext};
use faer::Mat;
use futures::StreamExt;
use mixtures_core::source::{Batch, RowSource, SourceError};
use mixtures_em::{EStep, FitError, GaussianStats, StatsReducer};
use tokio::runtime::{Handle, Runtime};

use crate::convert::{ColumnProblem, copy_columns, float_columns, is_feature_type};
use crate::udaf::EmStep;

/// EM over a DataFusion table: a [`StatsReducer`] whose E-step is one
/// aggregate query, `SELECT mixture_em_step(f1, ..., fD) FROM (the table)`,
/// run by DataFusion over the table's partitions (files, row groups, byte
/// ranges) in parallel, the partial statistics merged by the aggregate
/// ([`EmStep`]). Fit with [`mixtures_em::GaussianParams::fit_reduced`] (or
/// `fit_reduced_from` for a warm start).
///
/// The table is any DataFrame: Parquet or CSV files registered with the
/// context, a SQL query or view that selects the feature columns (every
/// column of its result is a feature, in order) and casts them. Columns of
/// any numeric type are cast to `Float64`; any other type is an error that
/// names the column, as are a NULL and a NaN.
///
/// The passes before EM (the rows' count, means and ranges, the seeded
/// initialization sample, the data summary and the initial assignment) read
/// the rows through [`StatsReducer::rows`]: the query streamed in one
/// partition, so the rows come in the same order every pass and a seed gives
/// the same start whatever the table's partitioning. Each E-step's aggregate
/// must see as many rows as the first pass did, or the fit stops with
/// [`SourceError::Changed`].
///
/// The driver owns a tokio runtime that runs the queries; its methods block
/// the calling thread (call them from synchronous code, or from
/// `spawn_blocking` in async code).
pub struct DataFusionReducer {
    runtime: Option<Runtime>,
    rows: DataFusionRows,
    /// The table with every feature cast to `Float64`.
    frame: DataFrame,
    /// The features, as column expressions of `frame`.
    columns: Vec<Expr>,
    /// Aggregates run so far.
    reduces: AtomicUsize,
}

impl std::fmt::Debug for DataFusionReducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataFusionReducer")
            .field("table", &self.rows.label)
            .field("features", &self.rows.names)
            .finish_non_exhaustive()
    }
}

impl Drop for DataFusionReducer {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which tokio refuses inside another
        // runtime; shutting it down in the background never blocks.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl DataFusionReducer {
    /// EM over the rows of `frame` (every column a feature).
    ///
    /// # Errors
    /// [`SourceError::Schema`] naming a column that is not numeric, or a
    /// frame without columns; [`SourceError::Read`] if the runtime could not
    /// start.
    pub fn new(frame: DataFrame) -> Result<Self, SourceError> {
        Self::with_runtime(new_runtime()?, frame, "the DataFusion table".into())
    }

    /// EM over the result of a SQL query (`SELECT a, b, CAST(c AS DOUBLE) AS c
    /// FROM t WHERE ...`) on `ctx`.
    ///
    /// # Errors
    /// As [`DataFusionReducer::new`], and the query's planning errors.
    pub fn from_sql(ctx: &SessionContext, sql: &str) -> Result<Self, SourceError> {
        let runtime = new_runtime()?;
        let label = format!("the query `{sql}`");
        let (c, q) = (ctx.clone(), sql.to_owned());
        let frame = spawn_and_wait(runtime.handle(), async move { c.sql(&q).await })
            .and_then(|r| r.map_err(|e| from_datafusion(&label, e)))?;
        Self::with_runtime(runtime, frame, label)
    }

    /// EM over every column of a table (or view) registered with `ctx`.
    ///
    /// # Errors
    /// As [`DataFusionReducer::new`], and an unknown table.
    pub fn from_table(ctx: &SessionContext, table: &str) -> Result<Self, SourceError> {
        let runtime = new_runtime()?;
        let label = format!("table {table}");
        let (c, t) = (ctx.clone(), table.to_owned());
        let frame = spawn_and_wait(runtime.handle(), async move { c.table(t.as_str()).await })
            .and_then(|r| r.map_err(|e| from_datafusion(&label, e)))?;
        Self::with_runtime(runtime, frame, label)
    }

    fn with_runtime(
        runtime: Runtime,
        frame: DataFrame,
        label: String,
    ) -> Result<Self, SourceError> {
        let schema = frame.schema().clone();
        if schema.fields().is_empty() {
            return Err(SourceError::Schema {
                location: label,
                message: "no columns: select the feature columns".into(),
            });
        }
        let mut names = Vec::with_capacity(schema.fields().len());
        let mut select = Vec::with_capacity(schema.fields().len());
        for i in 0..schema.fields().len() {
            let (qualifier, field) = schema.qualified_field(i);
            let t = field.data_type();
            if !is_feature_type(t) {
                return Err(SourceError::Schema {
                    location: label,
                    message: format!(
                        "column {} is {t}, not a number; select only the feature columns \
                         and cast those that hold numbers (CAST(c AS DOUBLE))",
                        field.name()
                    ),
                });
            }
            let c = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            select.push(if *t == DataType::Float64 {
                c
            } else {
                cast(c, DataType::Float64).alias(field.name())
            });
            names.push(field.name().clone());
        }
        let frame = frame
            .select(select)
            .map_err(|e| from_datafusion(&label, e))?;
        let columns = (0..names.len())
            .map(|i| {
                let (q, f) = frame.schema().qualified_field(i);
                Expr::Column(Column::new(q.cloned(), f.name()))
            })
            .collect();
        let serial = planned(frame.clone(), true);
        let frame = planned(frame, false);
        Ok(Self {
            rows: DataFusionRows {
                handle: runtime.handle().clone(),
                frame: serial,
                names,
                label,
                first_rows: OnceLock::new(),
            },
            runtime: Some(runtime),
            frame,
            columns,
            reduces: AtomicUsize::new(0),
        })
    }

    /// The same driver naming the table `label` in messages.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.rows.label = label.into();
        self
    }

    /// The feature columns, in order.
    pub fn feature_names(&self) -> &[String] {
        &self.rows.names
    }

    /// The table with every feature cast to `Float64`, as a DataFrame (to
    /// score it, say).
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }

    /// Runs `fut` (a query, say) on the driver's runtime and waits for it.
    ///
    /// # Errors
    /// [`SourceError::Read`] if it panicked.
    pub fn run<F>(&self, fut: F) -> Result<F::Output, SourceError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_and_wait(&self.rows.handle, fut)
    }

    /// The statistics of an E-step under `model` over every row: one
    /// aggregate query (what [`StatsReducer::reduce`] runs).
    ///
    /// # Errors
    /// The query's errors ([`SourceError`], typed where the function raised
    /// them: a NULL, a NaN), an empty table, or another row count than the
    /// first pass over the rows.
    pub fn e_step(
        &self,
        model: EStep<'_, f64>,
        full: bool,
    ) -> Result<GaussianStats<f64>, FitError> {
        let step = EmStep::new(model, full);
        let expr = step.call(self.columns.clone()).alias("stats");
        let frame = self.frame.clone();
        let label = &self.rows.label;
        let batches: Vec<RecordBatch> = self
            .run(async move { frame.aggregate(vec![], vec![expr])?.collect().await })?
            .map_err(|e| from_datafusion(label, e))?;
        let pass = 1 + self.reduces.fetch_add(1, Ordering::Relaxed);
        let batch = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .ok_or_else(|| SourceError::Read {
                location: label.clone(),
                message: "the aggregate returned no row".into(),
            })?;
        let stats = EmStep::stats_of_column(batch.column(0), 0)?;
        if stats.n_rows() == 0 {
            return Err(SourceError::Empty {
                location: label.clone(),
            }
            .into());
        }
        if let Some(&first) = self.rows.first_rows.get()
            && first != stats.n_rows()
        {
            return Err(SourceError::Changed {
                location: label.clone(),
                pass,
                first_rows: first,
                first_checksum: 0,
                rows: stats.n_rows(),
                checksum: 0,
            }
            .into());
        }
        Ok(stats)
    }
}

impl StatsReducer<f64> for DataFusionReducer {
    fn rows(&self) -> &dyn RowSource<f64> {
        &self.rows
    }

    fn reduce(&self, model: EStep<'_, f64>, full: bool) -> Result<GaussianStats<f64>, FitError> {
        self.e_step(model, full)
    }
}

/// The rows of a [`DataFusionReducer`]'s table as a [`RowSource`]: the
/// query executed in one partition and streamed batch by batch (in the same
/// order every pass), each batch's `Float64` columns copied into a matrix.
pub struct DataFusionRows {
    handle: Handle,
    frame: DataFrame,
    names: Vec<String>,
    label: String,
    /// Rows of the first complete pass.
    first_rows: OnceLock<u64>,
}

impl std::fmt::Debug for DataFusionRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataFusionRows")
            .field("table", &self.label)
            .field("features", &self.names)
            .finish_non_exhaustive()
    }
}

/// Aborts the task producing a pass's batches when the pass ends early.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        // A no-op on a task that has finished.
        self.0.abort();
    }
}

impl RowSource<f64> for DataFusionRows {
    fn n_features(&self) -> usize {
        self.names.len()
    }

    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, f64>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        // The query runs on the runtime, a few batches ahead of `f`.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<RecordBatch, DataFusionError>>(4);
        let frame = self.frame.clone();
        let mut task = AbortOnDrop(self.handle.spawn(async move {
            let mut stream = match frame.execute_stream().await {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            while let Some(b) = stream.next().await {
                let failed = b.is_err();
                if tx.send(b).await.is_err() || failed {
                    return;
                }
            }
        }));
        let mut buffer = Mat::zeros(0, 0);
        let mut first = 0u64;
        while let Some(batch) = wait(rx.recv()) {
            let batch = batch.map_err(|e| from_datafusion(&self.label, e))?;
            let columns = float_columns(batch.columns()).map_err(|p| self.problem(first, p))?;
            let m =
                copy_columns(&columns, &mut buffer, true).map_err(|p| self.problem(first, p))?;
            if m == 0 {
                continue;
            }
            f(Batch {
                rows: buffer.as_ref().subrows(0, m),
                weights: None,
                first,
            })?;
            first += m as u64;
        }
        // The channel closed: the query ended, or its task panicked.
        if let Err(e) = wait(&mut task.0) {
            return Err(SourceError::Read {
                location: self.label.clone(),
                message: format!("the query stopped: {e}"),
            });
        }
        let _ = self.first_rows.get_or_init(|| first);
        Ok(())
    }

    fn locate(&self, row: u64) -> String {
        format!("row {row} of {}", self.label)
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

impl DataFusionRows {
    fn problem(&self, first: u64, p: ColumnProblem) -> SourceError {
        let name = |c: usize| self.names.get(c).cloned().unwrap_or_else(|| c.to_string());
        match p {
            ColumnProblem::Null { row, col } => SourceError::Read {
                location: self.locate(first + row as u64),
                message: format!(
                    "column {} is NULL; every value must be a number \
                     (filter the rows or fill the NULLs in SQL)",
                    name(col)
                ),
            },
            ColumnProblem::NonFinite { row, col, value } => SourceError::NonFinite {
                location: self.locate(first + row as u64),
                column: name(col),
                value,
            },
            ColumnProblem::NotFloat64 { col, found } => SourceError::Schema {
                location: self.label.clone(),
                message: format!("column {} is {found}, not Float64", name(col)),
            },
            ColumnProblem::Lengths => SourceError::Read {
                location: self.label.clone(),
                message: "a batch with columns of different lengths".into(),
            },
        }
    }
}

/// `frame` planned without round-robin repartitioning and without file
/// scans stealing files from each other's partitions, so that each partition
/// reads the same rows every time and the aggregate's partial states (merged
/// in an order fixed by their bytes) give the same bits on every query (the
/// E-step parallelizes within each batch, so partitions of unequal sizes
/// cost little); `serial`: in one partition, the rows in file order.
fn planned(frame: DataFrame, serial: bool) -> DataFrame {
    let (mut state, plan) = frame.into_parts();
    let options = state.config_mut().options_mut();
    options.optimizer.enable_round_robin_repartition = false;
    options.execution.enable_file_stream_work_stealing = false;
    if serial {
        options.execution.target_partitions = 1;
        options.optimizer.repartition_file_scans = false;
    }
    DataFrame::new(state, plan)
}

/// A multi-threaded runtime for the queries.
fn new_runtime() -> Result<Runtime, SourceError> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("mixtures-datafusion-query")
        .enable_all()
        .build()
        .map_err(|e| SourceError::Read {
            location: "the DataFusion driver".into(),
            message: format!("the tokio runtime did not start: {e}"),
        })
}

/// Runs `fut` on `handle`'s runtime and waits for it on this thread.
fn spawn_and_wait<F>(handle: &Handle, fut: F) -> Result<F::Output, SourceError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    wait(handle.spawn(fut)).map_err(|e| SourceError::Read {
        location: "the DataFusion driver".into(),
        message: format!("the query stopped: {e}"),
    })
}

/// Wakes a thread parked in [`wait`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Waits on this thread for a future that another runtime drives (a task's
/// handle, a channel). Unlike tokio's `block_on` it may be called anywhere,
/// inside an async runtime too (where it blocks that thread).
fn wait<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// A DataFusion error as a [`SourceError`]: the one a function raised if
/// there is one in the chain, otherwise a read (or, for planning, schema)
/// error naming `label`.
pub(crate) fn from_datafusion(label: &str, e: DataFusionError) -> SourceError {
    let mut level: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = level {
        if let Some(s) = err.downcast_ref::<SourceError>() {
            return s.clone();
        }
        level = err.source();
    }
    match e {
        DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => SourceError::Schema {
            location: label.to_owned(),
            message: e.to_string(),
        },
        _ => SourceError::Read {
            location: label.to_owned(),
            message: e.to_string(),
        },
    }
}
