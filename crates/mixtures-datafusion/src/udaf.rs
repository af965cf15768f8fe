//! The E-step's statistics as a DataFusion aggregate UDF:
//! `mixture_em_step(f1, ..., fD)` under a model fixed when the function is
//! built. Each partition accumulates [`GaussianStats`] over its rows; the
//! partial state is exactly [`GaussianStats::to_bytes`] (one `Binary` field)
//! and merging partial states is exactly [`GaussianStats::from_bytes`] then
//! [`GaussianStats::merge`]; the result is the merged statistics' bytes.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, ArrayRef, BinaryArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::{AggregateOrderSensitivity, format_state_name};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature};
use datafusion::logical_expr::{Volatility, expr::AggregateFunction};
use faer::Mat;
use mixtures_core::source::{Batch, SourceError};
use mixtures_dist::{AnyMixture, GaussianMixtureModel, StudentTMixtureModel};
use mixtures_em::{EStep, GaussianStats, StatsError};

use crate::convert::{ColumnProblem, copy_columns, float_columns, is_feature_type};

/// The name [`EmStep`] registers under unless renamed.
pub const EM_STEP_NAME: &str = "mixture_em_step";

const MAGIC: &[u8; 4] = b"MXES";
const VERSION: u8 = 1;

/// A model the statistics are accumulated under, owned by the function.
#[derive(Clone)]
enum Owned {
    Gaussian(Arc<GaussianMixtureModel<f64>>),
    StudentT(Arc<StudentTMixtureModel<f64>>),
}

impl Owned {
    fn step(&self) -> EStep<'_, f64> {
        match self {
            Self::Gaussian(m) => EStep::Gaussian(m),
            Self::StudentT(m) => EStep::StudentT(m),
        }
    }

    fn dim(&self) -> usize {
        match self {
            Self::Gaussian(m) => m.dim(),
            Self::StudentT(m) => m.dim(),
        }
    }

    fn n_components(&self) -> usize {
        match self {
            Self::Gaussian(m) => m.n_components(),
            Self::StudentT(m) => m.n_components(),
        }
    }

    fn to_any(&self) -> AnyMixture<f64> {
        match self {
            Self::Gaussian(m) => AnyMixture::Gaussian((**m).clone()),
            Self::StudentT(m) => AnyMixture::StudentT((**m).clone()),
        }
    }
}

/// Identifies an [`EmStep`] and its clones (two functions built apart are
/// different functions to DataFusion's planner, even for equal models).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The aggregate UDF `mixture_em_step(f1, ..., fD)`: the statistics of one
/// E-step of EM under a fixed model (a Gaussian mixture of any covariance
/// structure, or a Student-t mixture) over the aggregated rows, returned as
/// the bytes of [`GaussianStats`] (read them back with [`EmStep::stats`]).
///
/// Its `D` arguments are the feature columns, in the model's order: numbers
/// of any type (integers, floats and decimals are cast to `Float64`; cast
/// other columns in SQL). A NULL, NaN or infinite value is an error, not a
/// skipped row. The partial state is one `Binary` field holding
/// [`GaussianStats::to_bytes`]; merging is [`GaussianStats::from_bytes`] and
/// [`GaussianStats::merge`], in an order fixed by the partial states' bytes,
/// so a query gives the same bits whatever order its partitions finish in.
/// It works with `GROUP BY` (statistics per group).
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
/// use datafusion::prelude::SessionContext;
/// use mixtures_core::Dataset;
/// use mixtures_datafusion::EmStep;
/// use mixtures_em::{EStep, GaussianMixture};
///
/// let (a, b): (Vec<f64>, Vec<f64>) =
///     (0..200).map(|i| ((i as f64 * 0.37).sin() + (i % 2) as f64 * 4.0, (i as f64 * 0.11).cos())).unzip();
/// let rows: Vec<[f64; 2]> = a.iter().zip(&b).map(|(&x, &y)| [x, y]).collect();
/// let model = GaussianMixture::params(2).seed(1).fit(&Dataset::from_rows(&rows)?)?.model;
///
/// let ctx = SessionContext::new();
/// let batch = RecordBatch::try_from_iter([
///     ("a", Arc::new(Float64Array::from(a)) as ArrayRef),
///     ("b", Arc::new(Float64Array::from(b)) as ArrayRef),
/// ])?;
/// ctx.register_batch("t", batch)?;
/// ctx.register_udaf(EmStep::new(EStep::Gaussian(&model), true).udaf());
/// let rt = tokio::runtime::Runtime::new()?;
/// let out = rt.block_on(async { ctx.sql("SELECT mixture_em_step(a, b) FROM t").await?.collect().await })?;
/// let stats = EmStep::stats_of_column(out[0].column(0), 0)?;
/// assert_eq!(stats.n_rows(), 200);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct EmStep {
    name: String,
    model: Owned,
    full: bool,
    signature: Signature,
    id: u64,
}

impl std::fmt::Debug for EmStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmStep")
            .field("name", &self.name)
            .field("components", &self.model.n_components())
            .field("features", &self.model.dim())
            .field("full", &self.full)
            .finish_non_exhaustive()
    }
}

impl PartialEq for EmStep {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.name == other.name
    }
}

impl Eq for EmStep {}

impl Hash for EmStep {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
        self.name.hash(state);
    }
}

impl EmStep {
    /// The function for an E-step under `model` (cloned into the function);
    /// `full` asks for the full second moments
    /// ([`mixtures_em::CovarianceConstraint::needs_full_scatter`]: true for
    /// the full and tied structures), otherwise their diagonal.
    pub fn new(model: EStep<'_, f64>, full: bool) -> Self {
        let model = match model {
            EStep::Gaussian(m) => Owned::Gaussian(Arc::new(m.clone())),
            EStep::StudentT(m) => Owned::StudentT(Arc::new(m.clone())),
        };
        Self::from_owned(EM_STEP_NAME.into(), model, full)
    }

    fn from_owned(name: String, model: Owned, full: bool) -> Self {
        Self {
            name,
            model,
            full,
            signature: Signature::user_defined(Volatility::Immutable),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The same function under another name (to register several at once).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The [`EmStep`] inside an aggregate UDF, if it is one (for plan codecs:
    /// encode it with [`EmStep::to_bytes`]).
    pub fn of(udaf: &AggregateUDF) -> Option<&EmStep> {
        let inner: &dyn std::any::Any = udaf.inner().as_ref();
        inner.downcast_ref::<EmStep>()
    }

    /// Number of features (arguments) the function takes.
    pub fn n_features(&self) -> usize {
        self.model.dim()
    }

    /// Whether it accumulates the full second moments.
    pub fn full(&self) -> bool {
        self.full
    }

    /// The function as a DataFusion aggregate UDF (to register with
    /// `SessionContext::register_udaf`, or to call with
    /// [`AggregateUDF::call`]).
    pub fn udaf(&self) -> AggregateUDF {
        AggregateUDF::from(self.clone())
    }

    /// The call `mixture_em_step(args...)` as an expression, for the
    /// DataFrame API.
    pub fn call(&self, args: Vec<Expr>) -> Expr {
        Expr::AggregateFunction(AggregateFunction::new_udf(
            Arc::new(self.udaf()),
            args,
            false,
            None,
            vec![],
            None,
        ))
    }

    /// Zero statistics under the function's model.
    pub fn zero(&self) -> GaussianStats<f64> {
        GaussianStats::new(self.model.step(), self.full)
    }

    /// Reads the statistics from the function's result.
    ///
    /// # Errors
    /// [`StatsError::Format`] if the value is not the bytes of statistics.
    pub fn stats(value: &ScalarValue) -> Result<GaussianStats<f64>, StatsError> {
        match value {
            ScalarValue::Binary(Some(b))
            | ScalarValue::LargeBinary(Some(b))
            | ScalarValue::BinaryView(Some(b)) => GaussianStats::from_bytes(b),
            other => Err(StatsError::Format(format!(
                "expected the Binary result of {EM_STEP_NAME}, found {}",
                other.data_type()
            ))),
        }
    }

    /// Reads the statistics from row `row` of a result column.
    ///
    /// # Errors
    /// [`StatsError::Format`] if the column is not `Binary`, the row is NULL
    /// or past the end, or its bytes are not statistics.
    pub fn stats_of_column(
        column: &ArrayRef,
        row: usize,
    ) -> Result<GaussianStats<f64>, StatsError> {
        let bytes = column
            .as_any()
            .downcast_ref::<BinaryArray>()
            .ok_or_else(|| {
                StatsError::Format(format!(
                    "expected the Binary result of {EM_STEP_NAME}, found {}",
                    column.data_type()
                ))
            })?;
        if row >= bytes.len() || bytes.is_null(row) {
            return Err(StatsError::Format(format!(
                "no statistics in row {row} of a result of {} rows",
                bytes.len()
            )));
        }
        GaussianStats::from_bytes(bytes.value(row))
    }

    /// The function as bytes: its name, `full` and the model as a JSON model
    /// file (docs/model-format.md), for plan codecs that ship it to other
    /// processes (Ballista's executors).
    pub fn to_bytes(&self) -> Vec<u8> {
        let json = self.model.to_any().to_json();
        let mut out = Vec::with_capacity(10 + self.name.len() + json.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(u8::from(self.full));
        out.extend_from_slice(&(self.name.len() as u32).to_le_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(json.as_bytes());
        out
    }

    /// Reads a function written by [`EmStep::to_bytes`].
    ///
    /// # Errors
    /// A plan error if the bytes are not such a function, or the model is
    /// not a Gaussian or Student-t mixture.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (name, full, json) = read_named(bytes, MAGIC, "mixture_em_step")?;
        let model = match AnyMixture::<f64>::from_json(json) {
            Ok(AnyMixture::Gaussian(m)) => Owned::Gaussian(Arc::new(m)),
            Ok(AnyMixture::StudentT(m)) => Owned::StudentT(Arc::new(m)),
            Ok(AnyMixture::Laplace(_)) => {
                return plan_err!(
                    "{name}: Laplace mixtures have no mergeable E-step statistics \
                     (their M-step needs weighted medians)"
                );
            }
            Err(e) => return plan_err!("{name}: the model does not read: {e}"),
        };
        Ok(Self::from_owned(name, model, full != 0))
    }
}

/// Splits bytes written as `MAGIC, VERSION, flag, name length (u32), name,
/// JSON`.
pub(crate) fn read_named<'a>(
    bytes: &'a [u8],
    magic: &[u8; 4],
    what: &str,
) -> Result<(String, u8, &'a str)> {
    if bytes.len() < 10 || &bytes[..4] != magic || bytes[4] != VERSION {
        return plan_err!("the bytes are not a {what} function (magic or version)");
    }
    let flag = bytes[5];
    let len = u32::from_le_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]) as usize;
    let rest = &bytes[10..];
    if rest.len() < len {
        return plan_err!("the bytes of a {what} function end early");
    }
    let (name, json) = rest.split_at(len);
    let name = std::str::from_utf8(name).map_err(|_| {
        DataFusionError::Plan(format!("the name of a {what} function is not UTF-8"))
    })?;
    let json = std::str::from_utf8(json).map_err(|_| {
        DataFusionError::Plan(format!("the model of a {what} function is not UTF-8"))
    })?;
    Ok((name.to_owned(), flag, json))
}

/// The argument types of a function of `d` features: every one numeric,
/// cast to `Float64`.
pub(crate) fn feature_types(name: &str, d: usize, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.len() != d {
        return plan_err!(
            "{name} takes the model's {d} feature columns, in order; it was given {}",
            arg_types.len()
        );
    }
    for (i, t) in arg_types.iter().enumerate() {
        if !is_feature_type(t) {
            return plan_err!(
                "{name}: argument {} is {t}, not a number; cast it in SQL \
                 (CAST(column AS DOUBLE)) if it holds numbers",
                i + 1
            );
        }
    }
    Ok(vec![DataType::Float64; d])
}

/// A DataFusion error carrying a [`SourceError`] (the driver finds it again
/// and returns it typed).
pub(crate) fn source_error(e: SourceError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// A column problem of a function's input, as an error naming the function
/// and the column.
pub(crate) fn input_error(function: &str, names: &[String], p: ColumnProblem) -> DataFusionError {
    let column = |c: usize| names.get(c).cloned().unwrap_or_else(|| c.to_string());
    source_error(match p {
        ColumnProblem::NotFloat64 { col, found } => SourceError::Schema {
            location: format!("{function} input"),
            message: format!("column {} is {found}, not Float64", column(col)),
        },
        ColumnProblem::Null { row, col } => SourceError::Read {
            location: format!("{function} input, row {row} of a batch"),
            message: format!(
                "column {} is NULL; every value must be a number \
                 (filter the rows or fill the NULLs in SQL)",
                column(col)
            ),
        },
        ColumnProblem::NonFinite { row, col, value } => SourceError::NonFinite {
            location: format!("{function} input, row {row} of a batch"),
            column: column(col),
            value,
        },
        ColumnProblem::Lengths => SourceError::Read {
            location: format!("{function} input"),
            message: "columns of different lengths".into(),
        },
    })
}

impl AggregateUDFImpl for EmStep {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        feature_types(&self.name, self.model.dim(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(Some(self.zero().to_bytes())))
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let names = acc_args
            .expr_fields
            .iter()
            .map(|f| f.name().clone())
            .collect();
        Ok(Box::new(EmStepAccumulator {
            stats: self.zero(),
            step: self.clone(),
            pending: Vec::new(),
            buffer: Mat::zeros(0, 0),
            seen: 0,
            names,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "stats"),
            DataType::Binary,
            false,
        ))])
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }
}

/// One group's (or partition's) statistics.
struct EmStepAccumulator {
    step: EmStep,
    /// The statistics of the rows given to `update_batch`.
    stats: GaussianStats<f64>,
    /// Partial states given to `merge_batch`, merged into `stats` by
    /// [`EmStepAccumulator::settle`] in the order of their bytes.
    pending: Vec<(Vec<u8>, GaussianStats<f64>)>,
    /// The batch's rows, column-major, reused.
    buffer: Mat<f64>,
    /// Rows accumulated (the batches' `first`).
    seen: u64,
    /// Names of the argument columns, for messages.
    names: Vec<String>,
}

impl std::fmt::Debug for EmStepAccumulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmStepAccumulator")
            .field("step", &self.step)
            .field("rows", &self.stats.n_rows())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

fn stats_error(name: &str, e: StatsError) -> DataFusionError {
    DataFusionError::External(Box::new(SourceError::Consumer(format!("{name}: {e}"))))
}

impl EmStepAccumulator {
    /// Merges the pending partial states, in the order of their bytes.
    fn settle(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, s) in &pending {
            self.stats
                .merge(s)
                .map_err(|e| stats_error(&self.step.name, e))?;
        }
        Ok(())
    }
}

impl Accumulator for EmStepAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let name = &self.step.name;
        let columns = float_columns(values).map_err(|p| input_error(name, &self.names, p))?;
        let m = copy_columns(&columns, &mut self.buffer, true)
            .map_err(|p| input_error(name, &self.names, p))?;
        if m == 0 {
            return Ok(());
        }
        let batch = Batch {
            rows: self.buffer.as_ref().subrows(0, m),
            weights: None,
            first: self.seen,
        };
        let (stats, step) = (&mut self.stats, &self.step);
        crate::pool::install(|| stats.accumulate(step.model.step(), batch))
            .map_err(|e| stats_error(name, e))?;
        self.seen += m as u64;
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.settle()?;
        Ok(ScalarValue::Binary(Some(self.stats.to_bytes())))
    }

    fn size(&self) -> usize {
        let stats_bytes =
            8 * (self.step.model.n_components() * (self.step.n_features() + 2).pow(2));
        std::mem::size_of_val(self)
            + stats_bytes * (1 + 2 * self.pending.len())
            + 8 * self.buffer.nrows() * self.buffer.ncols()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let name = &self.step.name;
        let Some(column) = states.first() else {
            return Ok(());
        };
        let bytes = column
            .as_any()
            .downcast_ref::<BinaryArray>()
            .ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "{name}: a partial state of type {}, not Binary",
                    column.data_type()
                ))
            })?;
        for i in 0..bytes.len() {
            if bytes.is_null(i) {
                continue;
            }
            let b = bytes.value(i);
            let s = GaussianStats::from_bytes(b).map_err(|e| stats_error(name, e))?;
            self.pending.push((b.to_vec(), s));
        }
        Ok(())
    }
}
