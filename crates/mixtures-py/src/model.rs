//! `mixtures._native.Model`: a fitted mixture of any family in `float32` or
//! `float64`, with the evaluation methods the estimators call.

use faer::{Mat, MatRef};
use mixtures_anomaly::Explain;
use mixtures_core::Cholesky;
use mixtures_dist::{AnyMixture, Covariances, LaplaceScales};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyReadonlyArray2};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::convert::{Float, Rows, model_error, read_text, run, value_error};

/// A mixture in one of the two precisions.
#[derive(Debug, Clone)]
pub enum AnyModel {
    /// Fitted (or read) in `float32`.
    F32(AnyMixture<f32>),
    /// Fitted (or read) in `float64`.
    F64(AnyMixture<f64>),
}

/// Runs `$e` with `$m` bound to the mixture of either precision.
macro_rules! with_model {
    ($model:expr, $m:ident => $e:expr) => {
        match $model {
            $crate::model::AnyModel::F32($m) => $e,
            $crate::model::AnyModel::F64($m) => $e,
        }
    };
}

/// Which precision a file or a caller asks for: the file's own `dtype`
/// field unless `dtype` is given, and `float64` when neither says.
pub fn wants_f32(text: &str, dtype: Option<&str>) -> PyResult<bool> {
    match dtype {
        Some("float32" | "f32") => Ok(true),
        Some("float64" | "f64") => Ok(false),
        Some(other) => Err(value_error(format!(
            "dtype must be 'float32' or 'float64', not {other:?}"
        ))),
        None => Ok(serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("dtype").and_then(|d| d.as_str()).map(|d| d == "f32"))
            .unwrap_or(false)),
    }
}

/// A NumPy array of `shape` from row-major values.
pub fn array<'py, T: numpy::Element>(
    py: Python<'py>,
    shape: &[usize],
    values: Vec<T>,
) -> PyResult<Bound<'py, PyAny>> {
    let a = ArrayD::from_shape_vec(IxDyn(shape), values).map_err(value_error)?;
    Ok(a.into_pyarray(py).into_any())
}

/// The values of a matrix in row-major order (NumPy's C order).
pub fn row_major<T: Copy>(m: MatRef<'_, T>) -> Vec<T> {
    let mut v = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            v.push(m[(i, j)]);
        }
    }
    v
}

/// An `n x K` matrix as a C-order array.
pub fn matrix<'py, T: Float>(py: Python<'py>, m: &Mat<T>) -> PyResult<Bound<'py, PyAny>> {
    array(py, &[m.nrows(), m.ncols()], row_major(m.as_ref()))
}

/// Labels as `int64`, NumPy's default integer.
pub fn labels(py: Python<'_>, l: Vec<usize>) -> PyResult<Bound<'_, PyAny>> {
    let v: Vec<i64> = l.into_iter().map(|c| c as i64).collect();
    array(py, &[v.len()], v)
}

/// Borrows `x` as a 2-D array of `T`; the Python layer converts other
/// dtypes once before calling.
pub fn borrow<'py, T: Float>(x: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray2<'py, T>> {
    x.extract::<PyReadonlyArray2<'py, T>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "X must be a 2-D numpy array of dtype {} (the model's precision)",
            T::DTYPE
        ))
    })
}

fn covariances<'py, T: Float>(
    py: Python<'py>,
    c: &Covariances<T>,
    d: usize,
) -> PyResult<Bound<'py, PyAny>> {
    match c {
        Covariances::Full(ms) => {
            let mut v = Vec::with_capacity(ms.len() * d * d);
            for m in ms {
                v.extend(row_major(m.as_ref()));
            }
            array(py, &[ms.len(), d, d], v)
        }
        Covariances::Diag(m) => matrix(py, m),
        Covariances::Spherical(v) => array(py, &[v.len()], v.clone()),
        Covariances::Tied(m) => matrix(py, m),
    }
}

/// scikit-learn's `precisions_cholesky_`: `(L⁻¹)ᵀ` of each covariance
/// `Σ = L Lᵀ` (full, tied), `1/√σ²` (diagonal, spherical). Computed here:
/// SciPy's `solve_triangular` on many small matrices cost milliseconds per
/// fit through the BLAS's thread start-up.
fn precision_cholesky<'py, T: Float>(
    py: Python<'py>,
    c: &Covariances<T>,
    d: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let upper = |m: &Mat<T>| -> PyResult<Vec<T>> {
        let chol = Cholesky::new(m.as_ref()).map_err(value_error)?;
        // Row-major (L⁻¹)ᵀ: element (i, j) is L⁻¹[j, i].
        let l_inv = chol.l_inv();
        Ok(row_major(l_inv.transpose()))
    };
    let inv_sqrt = |v: T| T::one() / v.sqrt();
    match c {
        Covariances::Full(ms) => {
            let mut v = Vec::with_capacity(ms.len() * d * d);
            for m in ms {
                v.extend(upper(m)?);
            }
            array(py, &[ms.len(), d, d], v)
        }
        Covariances::Tied(m) => array(py, &[d, d], upper(m)?),
        Covariances::Diag(m) => {
            let v = row_major(m.as_ref()).into_iter().map(inv_sqrt).collect();
            array(py, &[m.nrows(), d], v)
        }
        Covariances::Spherical(s) => {
            array(py, &[s.len()], s.iter().copied().map(inv_sqrt).collect())
        }
    }
}

fn parameters<'py, T: Float>(py: Python<'py>, m: &AnyMixture<T>) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    let d = m.dim();
    out.set_item("family", m.family())?;
    out.set_item("covariance_type", m.spec().covariance().as_str())?;
    out.set_item(
        "weights",
        array(py, &[m.n_components()], m.weights().to_vec())?,
    )?;
    match m {
        AnyMixture::Gaussian(g) => {
            let c = g.components();
            out.set_item(
                "means",
                array(py, &[c.means().nrows(), d], row_major(c.means()))?,
            )?;
            out.set_item("covariances", covariances(py, c.covariances(), d)?)?;
            out.set_item(
                "precisions_cholesky",
                precision_cholesky(py, c.covariances(), d)?,
            )?;
        }
        AnyMixture::Laplace(l) => {
            let c = l.components();
            let loc = c.locations();
            out.set_item("means", array(py, &[loc.nrows(), d], row_major(loc))?)?;
            let scales = match c.scales() {
                LaplaceScales::PerDimension(s) => matrix(py, s)?,
                LaplaceScales::Spherical(s) => array(py, &[s.len()], s.clone())?,
            };
            out.set_item("scales", scales)?;
        }
        AnyMixture::StudentT(t) => {
            let c = t.components();
            out.set_item(
                "means",
                array(py, &[c.means().nrows(), d], row_major(c.means()))?,
            )?;
            out.set_item("covariances", covariances(py, c.scale().covariances(), d)?)?;
            out.set_item(
                "degrees_of_freedom",
                array(py, &[c.dof().len()], c.dof().to_vec())?,
            )?;
        }
    }
    if let Some((w, noise)) = m.noise() {
        out.set_item("noise_weight", w.as_f64())?;
        out.set_item("noise_lower", array(py, &[d], noise.lower().to_vec())?)?;
        out.set_item("noise_upper", array(py, &[d], noise.upper().to_vec())?)?;
    }
    Ok(out)
}

/// A fitted mixture (any family, `float32` or `float64`): what the
/// estimators keep after `fit`, read and written as the model files of the
/// command line (docs/model-format.md).
#[pyclass(module = "mixtures._native", name = "Model", frozen)]
#[derive(Debug, Clone)]
pub struct PyModel {
    /// The mixture.
    pub inner: AnyModel,
}

#[pymethods]
impl PyModel {
    /// Reads a model from the JSON text of a model (or detector) file;
    /// `dtype` picks the precision (default: the file's `dtype`, else
    /// float64).
    #[staticmethod]
    #[pyo3(signature = (text, dtype = None))]
    fn from_json(text: &str, dtype: Option<&str>) -> PyResult<Self> {
        let inner = if wants_f32(text, dtype)? {
            AnyModel::F32(AnyMixture::from_json(text).map_err(model_error)?)
        } else {
            AnyModel::F64(AnyMixture::from_json(text).map_err(model_error)?)
        };
        Ok(Self { inner })
    }

    /// Reads a model file (`FileNotFoundError`, `OSError`, or `ValueError`
    /// naming the bad field).
    #[staticmethod]
    #[pyo3(signature = (path, dtype = None))]
    fn load(path: &str, dtype: Option<&str>) -> PyResult<Self> {
        Self::from_json(&read_text(path)?, dtype)
    }

    /// The model file's JSON text (compact, or indented for people).
    #[pyo3(signature = (pretty = false))]
    fn to_json(&self, pretty: bool) -> String {
        with_model!(&self.inner, m => if pretty { m.to_json_pretty() } else { m.to_json() })
    }

    /// Writes the model file.
    #[pyo3(signature = (path, pretty = false))]
    fn save(&self, path: &str, pretty: bool) -> PyResult<()> {
        with_model!(&self.inner, m => if pretty { m.save_pretty(path) } else { m.save(path) })
            .map_err(model_error)
    }

    /// Pickles through the model file's JSON, which reads back bit for bit.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let this = slf.get();
        let ctor = slf.get_type().getattr("from_json")?;
        let args = (this.to_json(false), this.dtype()).into_pyobject(py)?;
        PyTuple::new(py, [ctor, args.into_any()])
    }

    /// `"gaussian"`, `"laplace"` or `"student-t"`.
    #[getter]
    fn family(&self) -> &'static str {
        with_model!(&self.inner, m => m.family())
    }

    /// The covariance (or scale) structure: `"full"`, `"tied-diag"`, ...
    #[getter]
    fn covariance_type(&self) -> &'static str {
        with_model!(&self.inner, m => m.spec().covariance().as_str())
    }

    /// Number of components.
    #[getter]
    fn n_components(&self) -> usize {
        with_model!(&self.inner, m => m.n_components())
    }

    /// Number of features.
    #[getter]
    fn n_features(&self) -> usize {
        with_model!(&self.inner, m => m.dim())
    }

    /// Free parameters (scikit-learn's count for AIC/BIC).
    #[getter]
    fn n_parameters(&self) -> usize {
        with_model!(&self.inner, m => m.n_parameters())
    }

    /// `"float32"` or `"float64"`.
    #[getter]
    fn dtype(&self) -> &'static str {
        match &self.inner {
            AnyModel::F32(_) => f32::DTYPE,
            AnyModel::F64(_) => f64::DTYPE,
        }
    }

    /// The feature names stored with the model, if any.
    #[getter]
    fn feature_names(&self) -> Option<Vec<String>> {
        with_model!(&self.inner, m => m.feature_names().map(<[String]>::to_vec))
    }

    /// The same model with these feature names.
    fn with_feature_names(&self, names: Vec<String>) -> PyResult<Self> {
        let inner = match &self.inner {
            AnyModel::F32(m) => {
                AnyModel::F32(m.clone().with_feature_names(names).map_err(model_error)?)
            }
            AnyModel::F64(m) => {
                AnyModel::F64(m.clone().with_feature_names(names).map_err(model_error)?)
            }
        };
        Ok(Self { inner })
    }

    /// The parameters as NumPy arrays in scikit-learn's shapes: `weights`,
    /// `means`, `covariances` (Gaussian; Student-t scale matrices) or
    /// `scales` (Laplace), `degrees_of_freedom` (Student-t), and the noise
    /// component's weight and box when there is one.
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        with_model!(&self.inner, m => parameters(py, m))
    }

    /// `ln p(x)` of every row.
    #[pyo3(signature = (x, n_threads = None))]
    fn log_prob<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_model!(&self.inner, m => {
            let x = borrow(x)?;
            let rows = Rows::new(&x);
            let v = run(py, n_threads, || m.log_prob(&rows.dataset()?).map_err(value_error))?;
            array(py, &[v.len()], v)
        })
    }

    /// `ln p(x)` of every row and the `n x K` responsibilities, from one pass.
    #[pyo3(signature = (x, n_threads = None))]
    fn log_prob_and_responsibilities<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        with_model!(&self.inner, m => {
            let x = borrow(x)?;
            let rows = Rows::new(&x);
            let (lp, r) = run(py, n_threads, || {
                m.log_prob_and_responsibilities(&rows.dataset()?).map_err(value_error)
            })?;
            Ok((array(py, &[lp.len()], lp)?, matrix(py, &r)?))
        })
    }

    /// The most likely component of every row.
    #[pyo3(signature = (x, n_threads = None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_model!(&self.inner, m => {
            let x = borrow(x)?;
            let rows = Rows::new(&x);
            let l = run(py, n_threads, || m.predict(&rows.dataset()?).map_err(value_error))?;
            labels(py, l)
        })
    }

    /// `n` points drawn from the model with this seed, and their components.
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        with_model!(&self.inner, m => {
            let mut rng = StdRng::seed_from_u64(seed);
            let (x, l) = m.try_sample(n, &mut rng).map_err(value_error)?;
            Ok((matrix(py, &x)?, labels(py, l)?))
        })
    }

    /// Per-feature contributions to `−ln p(x)` under each row's most likely
    /// component: `(scores, components, contributions n x D, attribution)`,
    /// attribution `"exact"` (diagonal, Laplace: they sum to the score less
    /// a baseline) or `"conditional"` (full, tied).
    #[pyo3(signature = (x, n_threads = None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        with_model!(&self.inner, m => {
            let x = borrow(x)?;
            let rows = Rows::new(&x);
            let e = run(py, n_threads, || m.explain(&rows.dataset()?).map_err(value_error))?;
            crate::detector::explanations(py, &e)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Model(family={:?}, covariance_type={:?}, n_components={}, n_features={}, dtype={:?})",
            self.family(),
            self.covariance_type(),
            self.n_components(),
            self.n_features(),
            self.dtype()
        )
    }
}
