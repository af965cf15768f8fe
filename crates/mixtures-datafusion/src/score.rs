//! Scoring rows in SQL with a fitted model: the scalar UDF
//! `mixture_score(f1, ..., fD)`, the anomaly score `−ln p(x)`.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, ArrayRef, Float64Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use faer::Mat;
use mixtures_core::Dataset;
use mixtures_core::source::SourceError;
use mixtures_dist::{AnyMixture, ModelError};

use crate::convert::{ColumnProblem, float_columns};
use crate::udaf::{feature_types, input_error, read_named, source_error};

/// The name [`MixtureScore`] registers under unless renamed.
pub const SCORE_NAME: &str = "mixture_score";

const MAGIC: &[u8; 4] = b"MXSC";
const VERSION: u8 = 1;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The scalar UDF `mixture_score(f1, ..., fD)`: the anomaly score
/// `−ln p(x)` of each row under a fitted model (any family: the negated
/// [`AnyMixture::log_prob`]), as `Float64`.
///
/// Its `D` arguments are the feature columns in the model's order, numbers
/// of any type (cast to `Float64`). A row with a NULL feature scores NULL
/// (SQL's rule); a NaN or infinite feature is an error. Register several
/// models under different names with [`MixtureScore::with_name`].
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
/// use datafusion::prelude::SessionContext;
/// use mixtures_core::Dataset;
/// use mixtures_datafusion::MixtureScore;
/// use mixtures_em::GaussianMixture;
///
/// let rows: Vec<[f64; 2]> = (0..300).map(|i| [(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()]).collect();
/// let model = GaussianMixture::params(1).seed(1).fit(&Dataset::from_rows(&rows)?)?.model;
///
/// let ctx = SessionContext::new();
/// ctx.register_udf(MixtureScore::new(model).udf());
/// ctx.register_batch("t", RecordBatch::try_from_iter([
///     ("a", Arc::new(Float64Array::from(vec![0.0, 30.0])) as ArrayRef),
///     ("b", Arc::new(Float64Array::from(vec![0.5, -30.0])) as ArrayRef),
/// ])?)?;
/// let rt = tokio::runtime::Runtime::new()?;
/// let out = rt.block_on(async {
///     ctx.sql("SELECT a, b, mixture_score(a, b) AS score FROM t").await?.collect().await
/// })?;
/// let score = out[0].column(2).as_any().downcast_ref::<Float64Array>().unwrap();
/// assert!(score.value(1) > score.value(0) + 100.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MixtureScore {
    name: String,
    model: Arc<AnyMixture<f64>>,
    signature: Signature,
    id: u64,
}

impl std::fmt::Debug for MixtureScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MixtureScore")
            .field("name", &self.name)
            .field("family", &self.model.family())
            .field("components", &self.model.n_components())
            .field("features", &self.model.dim())
            .finish_non_exhaustive()
    }
}

impl PartialEq for MixtureScore {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.name == other.name
    }
}

impl Eq for MixtureScore {}

impl Hash for MixtureScore {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
        self.name.hash(state);
    }
}

impl MixtureScore {
    /// The function for a fitted model (a Gaussian, Laplace or Student-t
    /// mixture, or an [`AnyMixture`]).
    pub fn new(model: impl Into<AnyMixture<f64>>) -> Self {
        Self {
            name: SCORE_NAME.into(),
            model: Arc::new(model.into()),
            signature: Signature::user_defined(Volatility::Immutable),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The function for the model in a model file (docs/model-format.md).
    ///
    /// # Errors
    /// Why the file could not be read or is not a model.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        Ok(Self::new(AnyMixture::<f64>::load(path)?))
    }

    /// The same function under another name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The [`MixtureScore`] inside a scalar UDF, if it is one (for plan
    /// codecs: encode it with [`MixtureScore::to_bytes`]).
    pub fn of(udf: &ScalarUDF) -> Option<&MixtureScore> {
        let inner: &dyn std::any::Any = udf.inner().as_ref();
        inner.downcast_ref::<MixtureScore>()
    }

    /// The model.
    pub fn model(&self) -> &AnyMixture<f64> {
        &self.model
    }

    /// The function as a DataFusion scalar UDF (for
    /// `SessionContext::register_udf`, or [`ScalarUDF::call`]).
    pub fn udf(&self) -> ScalarUDF {
        ScalarUDF::from(self.clone())
    }

    /// The function as bytes (its name and the model as a JSON model file),
    /// for plan codecs that ship it to other processes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let json = self.model.to_json();
        let mut out = Vec::with_capacity(10 + self.name.len() + json.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(0);
        out.extend_from_slice(&(self.name.len() as u32).to_le_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(json.as_bytes());
        out
    }

    /// Reads a function written by [`MixtureScore::to_bytes`].
    ///
    /// # Errors
    /// A plan error if the bytes are not such a function.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (name, _, json) = read_named(bytes, MAGIC, SCORE_NAME)?;
        match AnyMixture::<f64>::from_json(json) {
            Ok(m) => Ok(Self::new(m).with_name(name)),
            Err(e) => plan_err!("{name}: the model does not read: {e}"),
        }
    }

    /// The scores of one batch: NULL where a feature is NULL.
    fn scores(&self, columns: &[ArrayRef], n: usize) -> Result<Float64Array> {
        let names: Vec<String> = (1..=columns.len())
            .map(|i| format!("argument {i}"))
            .collect();
        let cols = float_columns(columns).map_err(|p| input_error(&self.name, &names, p))?;
        if cols.iter().any(|c| c.len() != n) {
            return Err(input_error(&self.name, &names, ColumnProblem::Lengths));
        }
        let nulls = cols.iter().fold(None, |acc: Option<NullBuffer>, c| {
            NullBuffer::union(acc.as_ref(), c.nulls())
        });
        let valid: Vec<usize> = match &nulls {
            Some(v) => v.valid_indices().collect(),
            None => (0..n).collect(),
        };
        let mut out = vec![0.0f64; n];
        if !valid.is_empty() {
            let x = Mat::from_fn(valid.len(), cols.len(), |i, j| cols[j].value(valid[i]));
            for (j, c) in cols.iter().enumerate() {
                if let Some(i) = (0..valid.len()).find(|&i| !x[(i, j)].is_finite()) {
                    return Err(input_error(
                        &self.name,
                        &names,
                        ColumnProblem::NonFinite {
                            row: valid[i],
                            col: j,
                            value: c.value(valid[i]),
                        },
                    ));
                }
            }
            let data = Dataset::from_mat(x.as_ref()).map_err(|e| {
                source_error(SourceError::Read {
                    location: format!("{} input", self.name),
                    message: e.to_string(),
                })
            })?;
            let lp = crate::pool::install(|| self.model.log_prob(&data)).map_err(|e| {
                source_error(SourceError::Schema {
                    location: format!("{} input", self.name),
                    message: e.to_string(),
                })
            })?;
            for (&i, l) in valid.iter().zip(lp) {
                out[i] = -l;
            }
        }
        Ok(Float64Array::new(out.into(), nulls))
    }
}

impl ScalarUDFImpl for MixtureScore {
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
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let columns = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<Vec<_>>>()?;
        Ok(ColumnarValue::Array(Arc::new(self.scores(&columns, n)?)))
    }
}
