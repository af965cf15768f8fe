//! The fits: EM for every family (from an initializer or from a starting
//! model), the variational Gaussian mixture, and the initializer's
//! responsibilities alone (for scikit-learn's partial `*_init` parameters).

use faer::Mat;
use mixtures_core::Dataset;
use mixtures_dist::{AnyMixture, Covariance, Family};
use mixtures_em::variational::{CovariancePrior, VariationalGaussianMixture, WeightPrior};
use mixtures_em::{
    DegreesOfFreedom, EmControl, FitReport, Fitted, GaussianMixture, Init, LaplaceMixture,
    StudentTMixture,
};
use numpy::{PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::convert::{Float, Rows, run, value_error, vector};
use crate::model::{AnyModel, PyModel, array, borrow, matrix};

/// The settings every EM fit shares, as the Python layer passes them.
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub struct Control {
    n_init: usize,
    max_iter: usize,
    tol: f64,
    reg_covar: f64,
    init: String,
    seed: u64,
}

impl Control {
    /// The library's control, the initializer named as scikit-learn names it.
    pub fn em(&self) -> PyResult<EmControl> {
        Ok(EmControl::default()
            .n_init(self.n_init)
            .max_iter(self.max_iter)
            .tol(self.tol)
            .reg_covar(self.reg_covar)
            .init(init(&self.init)?)
            .seed(self.seed))
    }
}

/// scikit-learn's `init_params` names.
pub fn init(name: &str) -> PyResult<Init> {
    Ok(match name {
        "kmeans" => Init::KMeans,
        "k-means++" => Init::KMeansPlusPlus,
        "random" => Init::RandomResponsibilities,
        "random_from_data" => Init::RandomPoints,
        other => {
            return Err(value_error(format!(
                "init_params must be 'kmeans', 'k-means++', 'random' or 'random_from_data', not {other:?}"
            )));
        }
    })
}

/// A family by name.
pub fn family(name: &str) -> PyResult<Family> {
    name.parse::<Family>().map_err(value_error)
}

/// A covariance structure by any of the library's names (`full`, `tied-diag`,
/// `EEI`, ...).
pub fn covariance(name: &str) -> PyResult<Covariance> {
    name.parse::<Covariance>().map_err(value_error)
}

/// The report as a dict of plain values.
pub fn report<'py>(py: Python<'py>, r: &FitReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("converged", r.converged)?;
    d.set_item("n_iter", r.n_iter)?;
    d.set_item("termination", format!("{:?}", r.termination))?;
    d.set_item("lower_bound_trace", r.lower_bound_trace.clone())?;
    d.set_item("log_likelihood", r.log_likelihood)?;
    d.set_item("best_restart", r.best_restart)?;
    d.set_item("n_restarts", r.restarts.len())?;
    d.set_item(
        "degeneracies",
        r.degeneracies
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>(),
    )?;
    d.set_item("n_parameters", r.n_parameters)?;
    d.set_item("structure", r.structure.clone())?;
    Ok(d)
}

/// Student-t degrees of freedom: `"per_component"`, `"shared"`, or a number
/// (fixed).
fn dof(spec: Option<&Bound<'_, PyAny>>) -> PyResult<DegreesOfFreedom> {
    let Some(s) = spec else {
        return Ok(DegreesOfFreedom::PerComponent);
    };
    if let Ok(v) = s.extract::<f64>() {
        return Ok(DegreesOfFreedom::Fixed(v));
    }
    match s.extract::<String>()?.as_str() {
        "per_component" => Ok(DegreesOfFreedom::PerComponent),
        "shared" => Ok(DegreesOfFreedom::Shared),
        other => Err(value_error(format!(
            "degrees_of_freedom must be 'per_component', 'shared' or a number, not {other:?}"
        ))),
    }
}

/// Family-specific settings.
struct Extra {
    dof: DegreesOfFreedom,
    initial_dof: Option<f64>,
}

fn em<T: Float>(
    data: &Dataset<T>,
    family: Family,
    cov: Covariance,
    k: usize,
    control: EmControl,
    start: Option<&AnyMixture<T>>,
    extra: &Extra,
) -> PyResult<Fitted<AnyMixture<T>>> {
    let mismatch = || {
        value_error(format!(
            "the starting model is not a {} mixture",
            family.as_str()
        ))
    };
    let fitted = match family {
        Family::Gaussian => {
            let p = GaussianMixture::params(k).covariance(cov).control(control);
            match start {
                Some(s) => p.fit_from(s.as_gaussian().ok_or_else(mismatch)?, data),
                None => p.fit(data),
            }
            .map(Fitted::into_any)
        }
        Family::Laplace => {
            let p = LaplaceMixture::params(k).structure(cov).control(control);
            match start {
                Some(s) => p.fit_from(s.as_laplace().ok_or_else(mismatch)?, data),
                None => p.fit(data),
            }
            .map(Fitted::into_any)
        }
        Family::StudentT => {
            let mut p = StudentTMixture::params(k)
                .covariance(cov)
                .degrees_of_freedom(extra.dof)
                .control(control);
            if let Some(nu) = extra.initial_dof {
                p = p.initial_dof(nu);
            }
            match start {
                Some(s) => p.fit_from(s.as_student_t().ok_or_else(mismatch)?, data),
                None => p.fit(data),
            }
            .map(Fitted::into_any)
        }
    };
    fitted.map_err(value_error)
}

// The arguments are the pyfunction's, once typed; a struct would only
// rename them.
#[allow(clippy::too_many_arguments)]
fn typed_fit<'py, T: Float>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    spec: (Family, Covariance, usize),
    control: EmControl,
    start: Option<&AnyMixture<T>>,
    extra: &Extra,
    n_threads: Option<usize>,
    wrap: fn(AnyMixture<T>) -> AnyModel,
) -> PyResult<(PyModel, Bound<'py, PyDict>)> {
    let x = borrow::<T>(x)?;
    let rows = Rows::new(&x);
    let (f, c, k) = spec;
    // Timed inside Rust (the data set's copy and the fit), so that the
    // benchmark can tell the binding's overhead from the fit.
    let started = std::time::Instant::now();
    let fitted = run(py, n_threads, || {
        em(&rows.dataset()?, f, c, k, control, start, extra)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let r = report(py, &fitted.report)?;
    r.set_item("native_seconds", seconds)?;
    Ok((
        PyModel {
            inner: wrap(fitted.model),
        },
        r,
    ))
}

/// Fits a mixture by EM: `(model, report)`. X's dtype (float32 or float64)
/// is the fit's precision; a `start` model (same family and precision)
/// makes it one run from that model, without initialization.
#[pyfunction]
#[pyo3(signature = (x, family, covariance_type, n_components, control, start = None,
                    degrees_of_freedom = None, initial_dof = None, n_threads = None))]
// Python's keyword arguments, one Rust argument each.
#[allow(clippy::too_many_arguments)]
pub fn fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    family: &str,
    covariance_type: &str,
    n_components: usize,
    control: Control,
    start: Option<PyRef<'py, PyModel>>,
    degrees_of_freedom: Option<&Bound<'py, PyAny>>,
    initial_dof: Option<f64>,
    n_threads: Option<usize>,
) -> PyResult<(PyModel, Bound<'py, PyDict>)> {
    let spec = (
        crate::fit::family(family)?,
        crate::fit::covariance(covariance_type)?,
        n_components,
    );
    let ctl = control.em()?;
    let extra = Extra {
        dof: dof(degrees_of_freedom)?,
        initial_dof,
    };
    let f32_input = x.extract::<PyReadonlyArray2F32<'py>>().is_ok();
    match (start.as_ref().map(|s| &s.inner), f32_input) {
        (Some(AnyModel::F32(s)), true) => {
            typed_fit(py, x, spec, ctl, Some(s), &extra, n_threads, AnyModel::F32)
        }
        (Some(AnyModel::F64(s)), false) => {
            typed_fit(py, x, spec, ctl, Some(s), &extra, n_threads, AnyModel::F64)
        }
        (Some(_), _) => Err(value_error(
            "X and the starting model must have the same dtype",
        )),
        (None, true) => typed_fit::<f32>(py, x, spec, ctl, None, &extra, n_threads, AnyModel::F32),
        (None, false) => typed_fit::<f64>(py, x, spec, ctl, None, &extra, n_threads, AnyModel::F64),
    }
}

type PyReadonlyArray2F32<'py> = numpy::PyReadonlyArray2<'py, f32>;

fn typed_resp<'py, T: Float>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    k: usize,
    init: Init,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let x = borrow::<T>(x)?;
    let rows = Rows::new(&x);
    let r: Mat<T> = run(py, None, || {
        let data = rows.dataset()?;
        mixtures_em::check_data(&data, k).map_err(value_error)?;
        let mut rng = StdRng::seed_from_u64(mixtures_core::seed::restart_seed(seed, 0));
        Ok(mixtures_em::initial_responsibilities(
            init, &data, k, &mut rng,
        ))
    })?;
    matrix(py, &r)
}

/// The initializer's starting responsibilities (`n x K`), from which the
/// Python layer computes the parameters a partial `*_init` leaves out.
#[pyfunction]
pub fn initial_responsibilities<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    n_components: usize,
    init_params: &str,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let i = init(init_params)?;
    if x.extract::<PyReadonlyArray2F32<'py>>().is_ok() {
        typed_resp::<f32>(py, x, n_components, i, seed)
    } else {
        typed_resp::<f64>(py, x, n_components, i, seed)
    }
}

/// The priors of a variational fit as the Python layer passes them (`None`:
/// scikit-learn's defaults, computed on the data).
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub struct Priors<'py> {
    weight_concentration_prior_type: String,
    weight_concentration_prior: Option<f64>,
    mean_precision_prior: Option<f64>,
    mean_prior: Option<numpy::PyReadonlyArray1<'py, f64>>,
    degrees_of_freedom_prior: Option<f64>,
    covariance_prior: Option<PyReadonlyArrayDyn<'py, f64>>,
}

// As `typed_fit`: the pyfunction's arguments, typed.
#[allow(clippy::too_many_arguments)]
fn typed_variational<'py, T: Float>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    k: usize,
    cov: Covariance,
    control: EmControl,
    priors: &Priors<'py>,
    n_threads: Option<usize>,
    wrap: fn(AnyMixture<T>) -> AnyModel,
) -> PyResult<(PyModel, Bound<'py, PyDict>)> {
    let weight_prior = match priors.weight_concentration_prior_type.as_str() {
        "dirichlet_process" => WeightPrior::DirichletProcess,
        "dirichlet_distribution" => WeightPrior::DirichletDistribution,
        other => {
            return Err(value_error(format!(
                "weight_concentration_prior_type must be 'dirichlet_process' or \
                 'dirichlet_distribution', not {other:?}"
            )));
        }
    };
    let mut p = VariationalGaussianMixture::params::<T>(k)
        .covariance(cov)
        .weight_prior(weight_prior)
        .control(control);
    if let Some(v) = priors.weight_concentration_prior {
        p = p.weight_concentration(v);
    }
    if let Some(v) = priors.mean_precision_prior {
        p = p.mean_precision(v);
    }
    if let Some(m) = &priors.mean_prior {
        p = p.mean_prior(vector(m).into_iter().map(T::c).collect());
    }
    if let Some(v) = priors.degrees_of_freedom_prior {
        p = p.degrees_of_freedom(v);
    }
    if let Some(c) = &priors.covariance_prior {
        let shape = c.shape().to_vec();
        let v: Vec<T> = c.as_array().iter().map(|&v| T::c(v)).collect();
        p = p.covariance_prior(match shape.len() {
            0 => CovariancePrior::Spherical(v.first().copied().unwrap_or_else(T::zero)),
            1 => CovariancePrior::Diagonal(v),
            2 if shape[0] == shape[1] => {
                CovariancePrior::Matrix(Mat::from_fn(shape[0], shape[1], |i, j| v[i * shape[1] + j]))
            }
            _ => {
                return Err(value_error(format!(
                    "covariance_prior must be a number, a vector or a square matrix, not of shape {shape:?}"
                )));
            }
        });
    }
    let xa = borrow::<T>(x)?;
    let rows = Rows::new(&xa);
    let fit = run(py, n_threads, || {
        p.fit(&rows.dataset()?).map_err(value_error)
    })?;
    let d = report(py, &fit.report)?;
    d.set_item("lower_bound", fit.lower_bound)?;
    d.set_item("effective_components", fit.effective_components.clone())?;
    let post = &fit.posterior;
    let kk = post.mean_precision.len();
    match &post.weight_concentration {
        mixtures_em::variational::WeightConcentration::Dirichlet(a) => {
            d.set_item("weight_concentration", array(py, &[kk], a.clone())?)?;
        }
        mixtures_em::variational::WeightConcentration::StickBreaking { alpha, beta } => {
            d.set_item(
                "weight_concentration",
                (
                    array(py, &[kk], alpha.clone())?,
                    array(py, &[kk], beta.clone())?,
                ),
            )?;
        }
    }
    d.set_item(
        "mean_precision",
        array(py, &[kk], post.mean_precision.clone())?,
    )?;
    d.set_item(
        "degrees_of_freedom",
        array(py, &[kk], post.degrees_of_freedom.clone())?,
    )?;
    let prior = &fit.prior;
    d.set_item(
        "weight_concentration_prior",
        prior.weight_concentration.as_f64(),
    )?;
    d.set_item("mean_precision_prior", prior.mean_precision.as_f64())?;
    d.set_item(
        "mean_prior",
        array(py, &[prior.mean.len()], prior.mean.clone())?,
    )?;
    d.set_item(
        "degrees_of_freedom_prior",
        prior.degrees_of_freedom.as_f64(),
    )?;
    let cp = match &prior.covariance {
        CovariancePrior::Matrix(m) => matrix(py, m)?,
        CovariancePrior::Diagonal(v) => array(py, &[v.len()], v.clone())?,
        CovariancePrior::Spherical(s) => s.as_f64().into_pyobject(py)?.into_any(),
    };
    d.set_item("covariance_prior", cp)?;
    Ok((
        PyModel {
            inner: wrap(fit.model.into()),
        },
        d,
    ))
}

/// Fits scikit-learn's `BayesianGaussianMixture` (variational inference):
/// `(model, report)` with the model's expected weights and the posterior's
/// and priors' values in the report.
#[pyfunction]
#[pyo3(signature = (x, n_components, covariance_type, control, priors, n_threads = None))]
pub fn fit_variational<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    n_components: usize,
    covariance_type: &str,
    control: Control,
    priors: Priors<'py>,
    n_threads: Option<usize>,
) -> PyResult<(PyModel, Bound<'py, PyDict>)> {
    let cov = covariance(covariance_type)?;
    let ctl = control.em()?;
    if x.extract::<PyReadonlyArray2F32<'py>>().is_ok() {
        typed_variational::<f32>(
            py,
            x,
            n_components,
            cov,
            ctl,
            &priors,
            n_threads,
            AnyModel::F32,
        )
    } else {
        typed_variational::<f64>(
            py,
            x,
            n_components,
            cov,
            ctl,
            &priors,
            n_threads,
            AnyModel::F64,
        )
    }
}
