//! `mixtures._native.Detector`: a model plus a threshold (one mixture, or
//! the default detector's ensemble), fitted here or read from the detector
//! files of the command line.

use std::collections::HashMap;
use std::convert::Infallible;

use mixtures_anomaly::{
    AnyDetector, AutoFitter, DensityModel, Detector, DetectorFit, DetectorParams, Ensemble,
    EnsembleFitter, Explain, Explanations, McdFitter, ModelFitter,
};
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, GaussianMixtureModel, ModelSpec};
use mixtures_em::{Mcd, ModelParams};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{Float, Rows, model_error, read_text, run, value_error, vector};
use crate::fit::{Control, covariance, family, report};
use crate::model::{AnyModel, PyModel, array, borrow, labels, matrix, wants_f32};
use crate::rules::Rule;

/// A detector of either kind in one precision.
#[derive(Debug, Clone)]
pub enum Kind<T: Scalar> {
    /// One mixture and its threshold on `−ln p(x)`.
    Single(Box<AnyDetector<T>>),
    /// The default detector: scaled scores of several models, averaged.
    Ensemble(Detector<T, Ensemble<T>>),
}

/// A detector in either precision.
#[derive(Debug, Clone)]
pub enum AnyDet {
    /// `float32`.
    F32(Kind<f32>),
    /// `float64`.
    F64(Kind<f64>),
}

/// Runs `$e` with `$d` bound to the detector, whatever its precision and
/// kind (the two kinds share the `Detector` methods).
macro_rules! with_det {
    ($det:expr, $d:ident => $e:expr) => {
        match $det {
            AnyDet::F32(Kind::Single($d)) => $e,
            AnyDet::F32(Kind::Ensemble($d)) => $e,
            AnyDet::F64(Kind::Single($d)) => $e,
            AnyDet::F64(Kind::Ensemble($d)) => $e,
        }
    };
}

/// `(scores, components, contributions, attribution)` as a tuple.
pub fn explanations<'py, T: Float>(
    py: Python<'py>,
    e: &Explanations<T>,
) -> PyResult<Bound<'py, PyTuple>> {
    let contributions = e.contributions().to_owned();
    let attribution = match e.attribution() {
        mixtures_anomaly::explain::Attribution::Exact => "exact",
        _ => "conditional",
    };
    PyTuple::new(
        py,
        [
            array(py, &[e.len()], e.scores().to_vec())?,
            labels(py, e.components().to_vec())?,
            matrix(py, &contributions)?,
            attribution.into_pyobject(py)?.into_any(),
        ],
    )
}

/// How a fitted detector's model becomes one of the two stored kinds.
trait IntoKind<T: Scalar>: DensityModel<T> + Sized {
    fn into_kind(d: Detector<T, Self>) -> Kind<T>;
}

impl<T: Scalar> IntoKind<T> for AnyMixture<T> {
    fn into_kind(d: Detector<T, Self>) -> Kind<T> {
        Kind::Single(Box::new(d))
    }
}

impl<T: Scalar> IntoKind<T> for GaussianMixtureModel<T> {
    fn into_kind(d: Detector<T, Self>) -> Kind<T> {
        match d.map_model(|m| Ok::<_, Infallible>(AnyMixture::from(m))) {
            Ok(d) => Kind::Single(Box::new(d)),
            Err(never) => match never {},
        }
    }
}

impl<T: Scalar> IntoKind<T> for Ensemble<T> {
    fn into_kind(d: Detector<T, Self>) -> Kind<T> {
        Kind::Ensemble(d)
    }
}

/// What `fit_detector` needs besides the data, as the Python layer passes it.
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub struct Setup {
    method: String,
    family: String,
    covariance_type: String,
    n_components: usize,
    control: Control,
    threshold: String,
    threshold_params: HashMap<String, f64>,
    robust: Option<f64>,
    max_rounds: usize,
    support_fraction: Option<f64>,
    mcd_trials: Option<usize>,
}

fn configure<T: Float, F: ModelFitter<T>>(fitter: F, s: &Setup) -> PyResult<DetectorParams<T, F>> {
    let mut p = DetectorParams::new(fitter);
    if let Some(q) = s.robust {
        p = p.outlier(q).max_rounds(s.max_rounds);
    }
    if s.threshold != "default" {
        p = p.threshold(Rule::<T>::new(&s.threshold, &s.threshold_params)?);
    }
    p.check().map_err(value_error)?;
    Ok(p)
}

fn fit_kind<T: Float, F: ModelFitter<T>>(
    p: &DetectorParams<T, F>,
    data: &Dataset<T>,
    y: Option<&[i64]>,
) -> PyResult<(Kind<T>, mixtures_anomaly::DetectorReport<T>)>
where
    F::Model: IntoKind<T>,
{
    let DetectorFit { detector, report } = match y {
        Some(y) => p.fit_validated(data, data, y),
        None => p.fit(data),
    }
    .map_err(value_error)?;
    Ok((F::Model::into_kind(detector), report))
}

fn typed_fit<'py, T: Float>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: Option<Vec<i64>>,
    s: &Setup,
    n_threads: Option<usize>,
    wrap: fn(Kind<T>) -> AnyDet,
) -> PyResult<(PyDetector, Bound<'py, PyDict>)> {
    let ctl = s.control.em()?;
    let xa = borrow::<T>(x)?;
    let rows = Rows::new(&xa);
    let y = y.as_deref();
    let (kind, rep) = match s.method.as_str() {
        "auto" => {
            let p = configure(
                EnsembleFitter::with_mixture(AutoFitter::<T>::new().control(ctl)),
                s,
            )?;
            run(py, n_threads, || fit_kind(&p, &rows.dataset()?, y))?
        }
        "mixture" => {
            let spec = ModelSpec::new(family(&s.family)?, covariance(&s.covariance_type)?)
                .map_err(value_error)?;
            let p = configure(ModelParams::<T>::new(spec, s.n_components).control(ctl), s)?;
            run(py, n_threads, || fit_kind(&p, &rows.dataset()?, y))?
        }
        "mcd" => {
            let mut mcd = Mcd::new().seed(ctl.seed);
            if let Some(f) = s.support_fraction {
                mcd = mcd.support_fraction(f);
            }
            if let Some(n) = s.mcd_trials {
                mcd = mcd.n_trials(n);
            }
            let p = configure::<T, _>(McdFitter::with(mcd), s)?;
            run(py, n_threads, || fit_kind(&p, &rows.dataset()?, y))?
        }
        other => {
            return Err(value_error(format!(
                "method must be 'auto', 'mixture' or 'mcd', not {other:?}"
            )));
        }
    };
    let d = PyDict::new(py);
    d.set_item("fit", report(py, &rep.fit)?)?;
    d.set_item(
        "training_scores",
        array(
            py,
            &[rep.training_scores.len()],
            rep.training_scores.clone(),
        )?,
    )?;
    d.set_item("rounds", rep.rounds)?;
    d.set_item("converged", rep.converged)?;
    d.set_item("excluded", rep.excluded.clone())?;
    if let Some(c) = &rep.choice {
        d.set_item("dropped_weights", c.dropped_weights.clone())?;
    }
    Ok((PyDetector { inner: wrap(kind) }, d))
}

/// Fits a detector: `(detector, report)`; the report holds the training
/// rows' scores under the final model (`training_scores`). `y` (0/1
/// labels) is for the rules that need labels.
#[pyfunction]
#[pyo3(signature = (x, setup, y = None, n_threads = None))]
pub fn fit_detector<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    setup: Setup,
    y: Option<PyReadonlyArray1<'py, i64>>,
    n_threads: Option<usize>,
) -> PyResult<(PyDetector, Bound<'py, PyDict>)> {
    let y = y.as_ref().map(vector);
    if x.extract::<numpy::PyReadonlyArray2<'py, f32>>().is_ok() {
        typed_fit::<f32>(py, x, y, &setup, n_threads, AnyDet::F32)
    } else {
        typed_fit::<f64>(py, x, y, &setup, n_threads, AnyDet::F64)
    }
}

fn read<T: Scalar>(text: &str) -> PyResult<Kind<T>> {
    let ensemble = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .is_some_and(|v| v.get("ensemble").is_some());
    Ok(if ensemble {
        Kind::Ensemble(Detector::from_json(text).map_err(model_error)?)
    } else {
        Kind::Single(Box::new(AnyDetector::from_json(text).map_err(model_error)?))
    })
}

/// A fitted detector: a model (one mixture, or the default detector's
/// ensemble) and a threshold on its anomaly score; read and written as the
/// command line's detector files.
#[pyclass(module = "mixtures._native", name = "Detector", frozen)]
#[derive(Debug, Clone)]
pub struct PyDetector {
    /// The detector.
    pub inner: AnyDet,
}

#[pymethods]
impl PyDetector {
    /// Reads a detector from the JSON text of a detector file (`dtype` as
    /// for `Model.from_json`).
    #[staticmethod]
    #[pyo3(signature = (text, dtype = None))]
    fn from_json(text: &str, dtype: Option<&str>) -> PyResult<Self> {
        let inner = if wants_f32(text, dtype)? {
            AnyDet::F32(read(text)?)
        } else {
            AnyDet::F64(read(text)?)
        };
        Ok(Self { inner })
    }

    /// Reads a detector file.
    #[staticmethod]
    #[pyo3(signature = (path, dtype = None))]
    fn load(path: &str, dtype: Option<&str>) -> PyResult<Self> {
        Self::from_json(&read_text(path)?, dtype)
    }

    /// The detector file's JSON text.
    #[pyo3(signature = (pretty = false))]
    fn to_json(&self, pretty: bool) -> String {
        with_det!(&self.inner, d => if pretty { d.to_json_pretty() } else { d.to_json() })
    }

    /// Writes the detector file.
    #[pyo3(signature = (path, pretty = false))]
    fn save(&self, path: &str, pretty: bool) -> PyResult<()> {
        with_det!(&self.inner, d => if pretty { d.save_pretty(path) } else { d.save(path) })
            .map_err(model_error)
    }

    /// Pickles through the detector file's JSON.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let this = slf.get();
        let ctor = slf.get_type().getattr("from_json")?;
        let args = (this.to_json(false), this.dtype()).into_pyobject(py)?;
        PyTuple::new(py, [ctor, args.into_any()])
    }

    /// `"float32"` or `"float64"`.
    #[getter]
    fn dtype(&self) -> &'static str {
        match &self.inner {
            AnyDet::F32(_) => f32::DTYPE,
            AnyDet::F64(_) => f64::DTYPE,
        }
    }

    /// Whether this is the default detector's ensemble.
    #[getter]
    fn is_ensemble(&self) -> bool {
        matches!(
            &self.inner,
            AnyDet::F32(Kind::Ensemble(_)) | AnyDet::F64(Kind::Ensemble(_))
        )
    }

    /// The threshold: a row is an anomaly when its score is `>=` it.
    #[getter]
    fn threshold(&self) -> f64 {
        with_det!(&self.inner, d => d.threshold().value().as_f64())
    }

    /// The name of the rule that chose the threshold.
    #[getter]
    fn rule(&self) -> String {
        with_det!(&self.inner, d => d.threshold().rule().to_owned())
    }

    /// The rule's parameters.
    #[getter]
    fn rule_parameters(&self) -> HashMap<String, f64> {
        with_det!(&self.inner, d => d.threshold().parameters().clone().into_iter().collect())
    }

    /// The same detector with the threshold at `value` (rule `"fixed"`).
    fn with_threshold(&self, value: f64) -> PyResult<Self> {
        fn set<T: Scalar, M: Clone + DensityModel<T>>(
            d: &Detector<T, M>,
            v: f64,
        ) -> PyResult<Detector<T, M>> {
            let t = mixtures_anomaly::Threshold::new(T::c(v), "fixed", [("value".to_owned(), v)])
                .map_err(value_error)?;
            let (m, _, r) = d.clone().into_parts();
            let out = Detector::from_parts(m, t);
            Ok(match r {
                Some(r) => out.with_reference(r),
                None => out,
            })
        }
        let inner = match &self.inner {
            AnyDet::F32(Kind::Single(d)) => AnyDet::F32(Kind::Single(Box::new(set(d, value)?))),
            AnyDet::F32(Kind::Ensemble(d)) => AnyDet::F32(Kind::Ensemble(set(d, value)?)),
            AnyDet::F64(Kind::Single(d)) => AnyDet::F64(Kind::Single(Box::new(set(d, value)?))),
            AnyDet::F64(Kind::Ensemble(d)) => AnyDet::F64(Kind::Ensemble(set(d, value)?)),
        };
        Ok(Self { inner })
    }

    /// The model (for the ensemble, its main part: the mixture).
    #[getter]
    fn model(&self) -> PyModel {
        let inner = match &self.inner {
            AnyDet::F32(Kind::Single(d)) => AnyModel::F32(d.model().clone()),
            AnyDet::F32(Kind::Ensemble(d)) => AnyModel::F32(d.model().main().clone()),
            AnyDet::F64(Kind::Single(d)) => AnyModel::F64(d.model().clone()),
            AnyDet::F64(Kind::Ensemble(d)) => AnyModel::F64(d.model().main().clone()),
        };
        PyModel { inner }
    }

    /// The ensemble's parts (`name`, `centre`, `spread`, `model`), and the
    /// parts left out with the reason; empty for a single model.
    fn parts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fn parts<'py, T: Scalar>(
            py: Python<'py>,
            e: &Ensemble<T>,
            wrap: fn(AnyMixture<T>) -> AnyModel,
        ) -> PyResult<Bound<'py, PyAny>> {
            let list = pyo3::types::PyList::empty(py);
            for p in e.parts() {
                let d = PyDict::new(py);
                d.set_item("name", p.name.clone())?;
                d.set_item("centre", p.centre)?;
                d.set_item("spread", p.spread)?;
                d.set_item(
                    "model",
                    PyModel {
                        inner: wrap(p.model.clone()),
                    },
                )?;
                list.append(d)?;
            }
            Ok(list.into_any())
        }
        match &self.inner {
            AnyDet::F32(Kind::Ensemble(d)) => parts(py, d.model(), AnyModel::F32),
            AnyDet::F64(Kind::Ensemble(d)) => parts(py, d.model(), AnyModel::F64),
            _ => Ok(pyo3::types::PyList::empty(py).into_any()),
        }
    }

    /// Anomaly scores (higher is more anomalous): `−ln p(x)`, or the
    /// ensemble's mean scaled score.
    #[pyo3(signature = (x, n_threads = None))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_det!(&self.inner, d => {
            let xa = borrow(x)?;
            let rows = Rows::new(&xa);
            let v = run(py, n_threads, || d.score(&rows.dataset()?).map_err(value_error))?;
            array(py, &[v.len()], v)
        })
    }

    /// 1 where the score reaches the threshold, else 0.
    #[pyo3(signature = (x, n_threads = None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_det!(&self.inner, d => {
            let xa = borrow(x)?;
            let rows = Rows::new(&xa);
            let v = run(py, n_threads, || d.predict(&rows.dataset()?).map_err(value_error))?;
            labels(py, v.into_iter().map(usize::from).collect())
        })
    }

    /// The fraction of training rows scoring at least as high as each row.
    #[pyo3(signature = (x, n_threads = None))]
    fn tail_probability<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_det!(&self.inner, d => {
            let xa = borrow(x)?;
            let rows = Rows::new(&xa);
            let v = run(py, n_threads, || {
                d.tail_probability(&rows.dataset()?).map_err(value_error)
            })?;
            array(py, &[v.len()], v)
        })
    }

    /// Per-feature contributions to each row's score (as `Model.explain`).
    #[pyo3(signature = (x, n_threads = None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        with_det!(&self.inner, d => {
            let xa = borrow(x)?;
            let rows = Rows::new(&xa);
            let e = run(py, n_threads, || d.model().explain(&rows.dataset()?).map_err(value_error))?;
            explanations(py, &e)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Detector(kind={:?}, threshold={}, rule={:?}, dtype={:?})",
            if self.is_ensemble() {
                "ensemble"
            } else {
                "mixture"
            },
            self.threshold(),
            self.rule(),
            self.dtype()
        )
    }
}
