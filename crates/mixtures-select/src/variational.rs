//! Variational Bayesian Gaussian mixtures: the counterpart of scikit-learn's
//! `BayesianGaussianMixture`.
//!
//! The model puts a Dirichlet distribution, or a truncated Dirichlet process
//! (stick-breaking), on the weights and a Normal–Wishart prior on each
//! component's mean and precision; a mean-field posterior is fitted by
//! coordinate ascent on the evidence lower bound (ELBO). Components that the
//! data do not need keep almost no weight, so the fit estimates how many
//! components there are ([`VariationalFit::effective_components`]).
//!
//! Parameterization, defaults and update formulas are scikit-learn's, so that a
//! fit from the same starting responsibilities gives the same posterior (the
//! parity tests check 1e-6 relative after 50 iterations): weight concentration
//! `1/K`, mean precision 1, mean prior the data mean, `D` degrees of freedom,
//! covariance prior the data covariance (its diagonal for `diag`, the mean
//! variance for `spherical`), `reg_covar` 1e-6 added to the empirical
//! covariances, and the posterior covariances stored normalized by their
//! degrees of freedom (scikit-learn's `covariances_`). The lower bound is
//! scikit-learn's: the ELBO up to terms constant in the posterior, evaluated
//! after each M-step with the responsibilities of the E-step before it, so it
//! never decreases.
//!
//! Each iteration reads the data once: the E-step runs through the fused,
//! chunked pass of `mixtures-em` (weighted log-densities, log-sum-exp,
//! responsibilities and the weighted sufficient statistics of each block of rows
//! while it is in cache, reduced in a fixed order), with the variational
//! expectations folded into per-component offsets of the log-weights. The
//! entropy of the responsibilities that the lower bound needs follows from the
//! same statistics: with `wᵢ` the sample weights, `Lᵢ` the log-normalizer of
//! row `i`, `Nₖ` the responsibility mass, `Sₖ` the weighted scatter about the
//! component mean, `ωₖ` the (offset) mixing weight and `cₖ` the Gaussian's
//! log-normalizer,
//! `−Σᵢ wᵢ Σₖ rᵢₖ ln rᵢₖ = Σᵢ wᵢ Lᵢ − Σₖ [Nₖ (ln ωₖ + cₖ) − ½ tr(Σₖ⁻¹ Sₖ)]`,
//! so no `n × K` matrix is ever stored.

use faer::{Mat, MatRef};
use mixtures_core::special::{digamma, ln_beta, ln_gamma};
use mixtures_core::{Cholesky, DataError, Dataset, LN_2PI, Scalar, log_sum_exp};
use mixtures_dist::{Covariance, Covariances, Gaussian, GaussianMixtureModel, Mixture};
use mixtures_em::shared::{
    Source, Stats, check_scale, gaussian_pass, initial_responsibilities, summarize,
};
use mixtures_em::{Control, EmControl, FitReport, Iteration, RestartSummary, Termination};
use num_traits::Float;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::SelectError;
use crate::error::check_control;
use crate::grid::distinct_check;
use mixtures_core::seed::derive_seed;

/// The prior on the mixing weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WeightPrior {
    /// A symmetric Dirichlet distribution on the `K` weights (scikit-learn's
    /// `"dirichlet_distribution"`).
    DirichletDistribution,
    /// A Dirichlet process truncated at `K` components, in its stick-breaking
    /// form: each stick proportion has a `Beta(1, γ)` prior (scikit-learn's
    /// `"dirichlet_process"`, its default). Later components get geometrically
    /// less prior weight, so unneeded components empty out faster.
    #[default]
    DirichletProcess,
}

impl WeightPrior {
    /// scikit-learn's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DirichletDistribution => "dirichlet_distribution",
            Self::DirichletProcess => "dirichlet_process",
        }
    }
}

/// The prior scale of the Wishart distribution, as a covariance (scikit-learn's
/// `covariance_prior`): its shape follows the covariance type.
#[derive(Debug, Clone, PartialEq)]
pub enum CovariancePrior<T: Scalar> {
    /// A symmetric positive-definite `D x D` matrix (full and tied types).
    Matrix(Mat<T>),
    /// `D` positive variances (diag type).
    Diagonal(Vec<T>),
    /// One positive variance (spherical type).
    Spherical(T),
}

/// The resolved prior of a variational fit: every default replaced by its value
/// on the data (scikit-learn's trailing-underscore `*_prior_` attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct Prior<T: Scalar> {
    /// Dirichlet distribution or process.
    pub weight_prior: WeightPrior,
    /// The concentration `α₀` of the Dirichlet distribution, or `γ` of the
    /// process.
    pub weight_concentration: T,
    /// The precision `β₀` of the mean prior (in units of the component
    /// precision).
    pub mean_precision: T,
    /// The mean prior `m₀` (`D` values).
    pub mean: Vec<T>,
    /// The degrees of freedom `ν₀` of the Wishart prior.
    pub degrees_of_freedom: T,
    /// The covariance prior (`Ψ₀`, the inverse of the Wishart scale).
    pub covariance: CovariancePrior<T>,
}

/// The variational posterior of the weights.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightConcentration<T: Scalar> {
    /// A Dirichlet distribution with these `K` concentrations.
    Dirichlet(Vec<T>),
    /// Independent `Beta(αₖ, βₖ)` distributions of the `K` stick proportions.
    StickBreaking {
        /// `αₖ = 1 + Nₖ`.
        alpha: Vec<T>,
        /// `βₖ = γ + Σ_{j>k} Nⱼ`.
        beta: Vec<T>,
    },
}

/// The variational posterior of the parameters, in scikit-learn's shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior<T: Scalar> {
    /// Of the weights.
    pub weight_concentration: WeightConcentration<T>,
    /// `βₖ = β₀ + Nₖ` (scikit-learn's `mean_precision_`).
    pub mean_precision: Vec<T>,
    /// The `K x D` posterior means `mₖ` (`means_`).
    pub means: Mat<T>,
    /// `νₖ = ν₀ + Nₖ` (`ν₀ + N / K`, the same for every component, when tied).
    pub degrees_of_freedom: Vec<T>,
    /// The Wishart scale inverses divided by their degrees of freedom
    /// (`covariances_`): the expected precision of component `k` is the inverse
    /// of its covariance here.
    pub covariances: Covariances<T>,
}

impl<T: Scalar> Posterior<T> {
    /// The expected mixing weights (scikit-learn's `weights_`), summing to one.
    pub fn weights(&self) -> Vec<T> {
        let w: Vec<f64> = match &self.weight_concentration {
            WeightConcentration::Dirichlet(a) => a.iter().map(|v| v.as_f64()).collect(),
            WeightConcentration::StickBreaking { alpha, beta } => {
                // E[vₖ] Πⱼ<ₖ E[1 − vⱼ]: the expected stick lengths.
                let mut rest = 1.0;
                alpha
                    .iter()
                    .zip(beta)
                    .map(|(&a, &b)| {
                        let (a, b) = (a.as_f64(), b.as_f64());
                        let wk = rest * a / (a + b);
                        rest *= b / (a + b);
                        wk
                    })
                    .collect()
            }
        };
        let total: f64 = w.iter().sum();
        w.iter().map(|&v| T::c(v / total)).collect()
    }

    /// `E[ln πₖ]` under the posterior of the weights.
    fn expected_log_weights(&self) -> Vec<f64> {
        match &self.weight_concentration {
            WeightConcentration::Dirichlet(a) => {
                let total: f64 = a.iter().map(|v| v.as_f64()).sum();
                let psi_total = digamma(total);
                a.iter().map(|&v| digamma(v.as_f64()) - psi_total).collect()
            }
            WeightConcentration::StickBreaking { alpha, beta } => {
                // E[ln vₖ] + Σⱼ<ₖ E[ln(1 − vⱼ)].
                let mut rest = 0.0;
                alpha
                    .iter()
                    .zip(beta)
                    .map(|(&a, &b)| {
                        let (a, b) = (a.as_f64(), b.as_f64());
                        let psi_sum = digamma(a + b);
                        let e = digamma(a) - psi_sum + rest;
                        rest += digamma(b) - psi_sum;
                        e
                    })
                    .collect()
            }
        }
    }
}

/// Entry point: `VariationalGaussianMixture::params(10).fit(&data)`.
#[derive(Debug, Clone, Copy)]
pub struct VariationalGaussianMixture;

impl VariationalGaussianMixture {
    /// Parameters for at most `k` components with scikit-learn's defaults:
    /// full covariance, Dirichlet-process weight prior, the data-dependent
    /// priors listed in the [module documentation](self), `reg_covar` 1e-6,
    /// `tol` 1e-3 (on the change of the lower bound, which is a sum over the
    /// data, not a mean), `max_iter` 100, one restart, k-means initialization,
    /// seed 0, and a weight threshold of 1 % for the effective components.
    pub fn params<T: Scalar>(k: usize) -> VariationalParams<T> {
        VariationalParams {
            k,
            covariance: Covariance::Full,
            weight_prior: WeightPrior::default(),
            weight_concentration: None,
            mean_precision: None,
            mean_prior: None,
            degrees_of_freedom: None,
            covariance_prior: None,
            control: EmControl::default(),
            weight_threshold: 0.01,
        }
    }
}

/// Parameters of a variational fit; checked before any work.
#[derive(Debug, Clone, PartialEq)]
pub struct VariationalParams<T: Scalar> {
    k: usize,
    covariance: Covariance,
    weight_prior: WeightPrior,
    weight_concentration: Option<f64>,
    mean_precision: Option<f64>,
    mean_prior: Option<Vec<T>>,
    degrees_of_freedom: Option<f64>,
    covariance_prior: Option<CovariancePrior<T>>,
    control: EmControl,
    weight_threshold: f64,
}

/// One iterate of the coordinate ascent: the prior, the posterior, and the
/// components (`mₖ`, `covariances`) factorized for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct VariationalState<T: Scalar> {
    prior: Prior<T>,
    posterior: Posterior<T>,
    components: Gaussian<T>,
    lower_bound: Option<f64>,
}

impl<T: Scalar> VariationalState<T> {
    /// The (resolved) prior.
    pub fn prior(&self) -> &Prior<T> {
        &self.prior
    }

    /// The posterior.
    pub fn posterior(&self) -> &Posterior<T> {
        &self.posterior
    }

    /// The Gaussian components with the posterior means and covariances.
    pub fn components(&self) -> &Gaussian<T> {
        &self.components
    }

    /// The lower bound computed after the M-step that produced this state
    /// (`None` for the state made from starting responsibilities).
    pub fn lower_bound(&self) -> Option<f64> {
        self.lower_bound
    }

    /// The point-estimate mixture: expected weights, posterior means and
    /// covariances.
    ///
    /// # Errors
    /// [`SelectError::Model`] if the weights are not valid (not expected).
    pub fn model(&self) -> Result<GaussianMixtureModel<T>, SelectError> {
        Ok(Mixture::new(
            self.posterior.weights(),
            self.components.clone(),
        )?)
    }
}

/// The result of a variational fit.
#[derive(Debug, Clone, PartialEq)]
pub struct VariationalFit<T: Scalar> {
    /// The point-estimate mixture: the expected weights and the posterior means
    /// and covariances (scikit-learn's `weights_`, `means_`, `covariances_`).
    /// Its densities are those of a plain Gaussian mixture; the variational
    /// assignments are [`VariationalFit::responsibilities`].
    pub model: GaussianMixtureModel<T>,
    /// The full posterior.
    pub posterior: Posterior<T>,
    /// The prior, defaults resolved.
    pub prior: Prior<T>,
    /// The final lower bound of the winning restart (the highest).
    pub lower_bound: f64,
    /// Components whose expected weight exceeds the weight threshold, in
    /// order.
    pub effective_components: Vec<usize>,
    /// Convergence, the lower-bound trace ([`FitReport::lower_bound_trace`]
    /// holds the ELBO of every iteration), restarts, the mean log-likelihood of
    /// the point-estimate model and its number of free parameters.
    pub report: FitReport,
    /// The mixture whose log-weights carry the variational expectations, for
    /// the responsibilities.
    expected: GaussianMixtureModel<T>,
}

impl<T: Scalar> VariationalFit<T> {
    /// Number of components whose expected weight exceeds the threshold: the
    /// estimate of how many components the data have.
    pub fn n_effective_components(&self) -> usize {
        self.effective_components.len()
    }

    /// The variational responsibilities `q(zᵢ = k)` (scikit-learn's
    /// `predict_proba`), `n x K`.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn responsibilities(&self, data: &Dataset<T>) -> Result<Mat<T>, DataError> {
        self.expected.responsibilities(data)
    }

    /// The most probable component of every row under the variational
    /// responsibilities (scikit-learn's `predict`).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn predict(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        self.expected.predict(data)
    }
}

fn invalid(
    name: &'static str,
    value: impl Into<mixtures_core::ParamValue>,
    reason: &'static str,
) -> SelectError {
    SelectError::InvalidParameter {
        name,
        value: value.into(),
        reason,
    }
}

fn invalid_prior(
    name: &'static str,
    value: impl Into<mixtures_core::ParamValue>,
    reason: impl ToString,
) -> SelectError {
    SelectError::InvalidPrior {
        name,
        value: value.into(),
        reason: reason.to_string(),
    }
}

fn positive(name: &'static str, v: Option<f64>) -> Result<(), SelectError> {
    match v {
        Some(v) if !(v > 0.0 && v.is_finite()) => {
            Err(invalid_prior(name, v, "must be positive and finite"))
        }
        _ => Ok(()),
    }
}

/// What a run of iterations from one start ended with.
struct Run<T: Scalar> {
    state: VariationalState<T>,
    trace: Vec<f64>,
    termination: Termination,
}

impl<T: Scalar> VariationalParams<T> {
    /// Maximum number of components `K` (default as given to `params`).
    #[must_use]
    pub fn n_components(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// The covariance type (default full): one of scikit-learn's four
    /// ([`Covariance::SKLEARN`]); others are refused when fitting.
    #[must_use]
    pub fn covariance(mut self, c: Covariance) -> Self {
        self.covariance = c;
        self
    }

    /// The prior on the weights (default: Dirichlet process).
    #[must_use]
    pub fn weight_prior(mut self, p: WeightPrior) -> Self {
        self.weight_prior = p;
        self
    }

    /// The weight concentration `α₀` or `γ` (default `1/K`); must be positive.
    /// Smaller values favour fewer components.
    #[must_use]
    pub fn weight_concentration(mut self, c: f64) -> Self {
        self.weight_concentration = Some(c);
        self
    }

    /// The precision `β₀` of the mean prior (default 1); must be positive.
    #[must_use]
    pub fn mean_precision(mut self, b: f64) -> Self {
        self.mean_precision = Some(b);
        self
    }

    /// The mean prior `m₀` (default: the data mean).
    #[must_use]
    pub fn mean_prior(mut self, m: Vec<T>) -> Self {
        self.mean_prior = Some(m);
        self
    }

    /// The degrees of freedom `ν₀` of the Wishart prior (default `D`); must
    /// exceed `D − 1`.
    #[must_use]
    pub fn degrees_of_freedom(mut self, nu: f64) -> Self {
        self.degrees_of_freedom = Some(nu);
        self
    }

    /// The covariance prior (default: the data covariance, reduced to the
    /// covariance type); its shape must match the covariance type.
    #[must_use]
    pub fn covariance_prior(mut self, c: CovariancePrior<T>) -> Self {
        self.covariance_prior = Some(c);
        self
    }

    // The EM settings: `reg_covar` is added to the diagonal of the empirical
    // covariances in each M-step, `tol` bounds the change of the lower bound
    // (a sum over the data, not a mean), and an observer sees every
    // iteration's lower bound; `Control::Stop` stops every restart and
    // returns the best state so far, with `Termination::Stopped`.
    mixtures_em::em_control_builder!();

    /// Expected weight above which a component counts as effective (default
    /// 0.01); in `[0, 1)`.
    #[must_use]
    pub fn weight_threshold(mut self, t: f64) -> Self {
        self.weight_threshold = t;
        self
    }

    fn full_scatter(&self) -> bool {
        matches!(self.covariance, Covariance::Full | Covariance::Tied)
    }

    /// Checks that need no data.
    fn check_settings(&self) -> Result<(), SelectError> {
        if self.k == 0 {
            return Err(invalid("n_components", 0, "must be at least 1"));
        }
        positive("weight_concentration", self.weight_concentration)?;
        positive("mean_precision", self.mean_precision)?;
        check_control(&self.control)?;
        if !Covariance::SKLEARN.contains(&self.covariance) {
            return Err(invalid(
                "covariance",
                self.covariance.as_str(),
                "a variational fit has full, tied, diag or spherical covariances",
            ));
        }
        if !(self.weight_threshold >= 0.0 && self.weight_threshold < 1.0) {
            return Err(invalid(
                "weight_threshold",
                self.weight_threshold,
                "must be in [0, 1)",
            ));
        }
        Ok(())
    }

    /// Checks the user-given priors against the dimension `d`; returns the
    /// checked covariance prior (made exactly symmetric).
    fn check_priors(&self, d: usize) -> Result<Option<CovariancePrior<T>>, SelectError> {
        if let Some(nu) = self.degrees_of_freedom
            && !(nu > d as f64 - 1.0 && nu.is_finite())
        {
            return Err(invalid_prior(
                "degrees_of_freedom",
                nu,
                format!("must be finite and greater than D - 1 = {}", d as f64 - 1.0),
            ));
        }
        if let Some(m) = &self.mean_prior {
            if m.len() != d {
                return Err(invalid_prior(
                    "mean",
                    format!("{} values", m.len()),
                    format!("needs one value per feature ({d})"),
                ));
            }
            if let Some(j) = m.iter().position(|v| !v.is_finite()) {
                return Err(invalid_prior(
                    "mean",
                    m[j].as_f64(),
                    format!("value {j} is not finite"),
                ));
            }
        }
        let Some(cp) = &self.covariance_prior else {
            return Ok(None);
        };
        let ct = self.covariance;
        let checked = match (ct, cp) {
            (Covariance::Full | Covariance::Tied, CovariancePrior::Matrix(a)) => {
                if (a.nrows(), a.ncols()) != (d, d) {
                    return Err(invalid_prior(
                        "covariance",
                        format!("{} x {} matrix", a.nrows(), a.ncols()),
                        format!("needs a {d} x {d} matrix"),
                    ));
                }
                let tol = Float::sqrt(T::epsilon());
                for j in 0..d {
                    for i in j + 1..d {
                        let scale = Float::sqrt(Float::abs(a[(i, i)] * a[(j, j)]));
                        if !(Float::abs(a[(i, j)] - a[(j, i)]) <= tol * scale) {
                            return Err(invalid_prior(
                                "covariance",
                                format!(
                                    "entries ({i}, {j}) = {} and ({j}, {i}) = {}",
                                    a[(i, j)],
                                    a[(j, i)]
                                ),
                                "must be symmetric",
                            ));
                        }
                    }
                }
                Cholesky::new(a.as_ref())
                    .map_err(|source| SelectError::CovariancePriorNotPositiveDefinite { source })?;
                let sym = Mat::from_fn(d, d, |i, j| if i >= j { a[(i, j)] } else { a[(j, i)] });
                CovariancePrior::Matrix(sym)
            }
            (Covariance::Diag, CovariancePrior::Diagonal(v)) => {
                if v.len() != d {
                    return Err(invalid_prior(
                        "covariance",
                        format!("{} variances", v.len()),
                        format!("needs one variance per feature ({d})"),
                    ));
                }
                if let Some(j) = v.iter().position(|x| !(x.is_finite() && *x > T::zero())) {
                    return Err(invalid_prior(
                        "covariance",
                        v[j].as_f64(),
                        format!("variance {j} must be positive and finite"),
                    ));
                }
                cp.clone()
            }
            (Covariance::Spherical, CovariancePrior::Spherical(v)) => {
                if !(v.is_finite() && *v > T::zero()) {
                    return Err(invalid_prior(
                        "covariance",
                        v.as_f64(),
                        "the variance must be positive and finite",
                    ));
                }
                cp.clone()
            }
            _ => {
                let given = match cp {
                    CovariancePrior::Matrix(_) => "a matrix",
                    CovariancePrior::Diagonal(_) => "a diagonal",
                    CovariancePrior::Spherical(_) => "a single variance",
                };
                return Err(invalid_prior(
                    "covariance",
                    given,
                    format!(
                        "covariance type {ct} needs {}",
                        match ct {
                            Covariance::Diag => "a diagonal (D variances)",
                            Covariance::Spherical => "a single variance",
                            _ => "a D x D matrix",
                        }
                    ),
                ));
            }
        };
        Ok(Some(checked))
    }

    /// Checks every setting and prior against the data and resolves the
    /// defaults: scikit-learn's `*_prior_` values for this data set. Sample
    /// weights weight the data mean and covariance (denominator `W − 1` for a
    /// total weight `W > 1`, which is NumPy's `ddof = 1` when unweighted).
    ///
    /// # Errors
    /// [`SelectError::InvalidParameter`], [`SelectError::InvalidPrior`],
    /// [`SelectError::CovariancePriorNotPositiveDefinite`] and
    /// [`SelectError::TooFewDistinctPoints`] (more components than distinct
    /// points), all before any fitting work.
    pub fn resolve_prior(&self, data: &Dataset<T>) -> Result<Prior<T>, SelectError> {
        self.check_settings()?;
        let d = data.n_features();
        let user_cov = self.check_priors(d)?;
        distinct_check(data, self.k)?;
        // Squared deviations are summed in T, as in EM.
        check_scale(data, true)?;
        let need_summary = self.mean_prior.is_none() || user_cov.is_none();
        let summary =
            need_summary.then(|| summarize(data, user_cov.is_none() && self.full_scatter()));
        let mean = match (&self.mean_prior, &summary) {
            (Some(m), _) => m.clone(),
            (None, Some(s)) => s.mean.clone(),
            (None, None) => vec![T::zero(); d],
        };
        let covariance = match (user_cov, &summary) {
            (Some(c), _) => c,
            (None, Some(s)) => match self.covariance {
                Covariance::Diag => CovariancePrior::Diagonal(s.var.clone()),
                Covariance::Spherical => {
                    CovariancePrior::Spherical(s.var.iter().copied().sum::<T>() / T::from_usize(d))
                }
                _ => CovariancePrior::Matrix(s.cov.clone().unwrap_or_else(|| {
                    Mat::from_fn(d, d, |i, j| if i == j { s.var[i] } else { T::zero() })
                })),
            },
            (None, None) => CovariancePrior::Spherical(T::one()),
        };
        Ok(Prior {
            weight_prior: self.weight_prior,
            weight_concentration: T::c(self.weight_concentration.unwrap_or(1.0 / self.k as f64)),
            mean_precision: T::c(self.mean_precision.unwrap_or(1.0)),
            mean,
            degrees_of_freedom: T::c(self.degrees_of_freedom.unwrap_or(d as f64)),
            covariance,
        })
    }

    /// Checks starting responsibilities: `n x K`, finite, non-negative.
    fn check_responsibilities(
        &self,
        data: &Dataset<T>,
        resp: MatRef<'_, T>,
    ) -> Result<(), SelectError> {
        let expected = (data.n_samples(), self.k);
        if (resp.nrows(), resp.ncols()) != expected {
            return Err(SelectError::ResponsibilitiesShape {
                expected,
                found: (resp.nrows(), resp.ncols()),
            });
        }
        for c in 0..resp.ncols() {
            for i in 0..resp.nrows() {
                let v = resp[(i, c)];
                if !(v.is_finite() && v >= T::zero()) {
                    return Err(SelectError::InvalidResponsibility {
                        row: i,
                        component: c,
                        value: v.as_f64(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The state after the first M-step from given responsibilities (`n x K`,
    /// rows normally summing to one): scikit-learn's `_initialize(X, resp)`.
    ///
    /// # Errors
    /// As [`VariationalParams::resolve_prior`], plus
    /// [`SelectError::ResponsibilitiesShape`] and
    /// [`SelectError::InvalidResponsibility`] before any work, and
    /// [`SelectError::Degenerate`].
    pub fn init_from_responsibilities(
        &self,
        data: &Dataset<T>,
        resp: MatRef<'_, T>,
    ) -> Result<VariationalState<T>, SelectError> {
        let prior = self.resolve_prior(data)?;
        self.check_responsibilities(data, resp)?;
        self.start(data, prior, resp)
    }

    fn start(
        &self,
        data: &Dataset<T>,
        prior: Prior<T>,
        resp: MatRef<'_, T>,
    ) -> Result<VariationalState<T>, SelectError> {
        // Scatter is accumulated about the prior mean (the data mean by
        // default): close to every component, so second moments stay accurate.
        let shifts = Mat::from_fn(self.k, data.n_features(), |_, j| prior.mean[j]);
        let st = gaussian_pass(
            data.view(),
            data.weights(),
            Source::Resp(resp),
            &shifts,
            self.full_scatter(),
        );
        let (posterior, components) = self.m_step(&st, &shifts, &prior)?;
        Ok(VariationalState {
            prior,
            posterior,
            components,
            lower_bound: None,
        })
    }

    /// One iteration: the E-step under `state` (one pass over the data) and the
    /// M-step; the returned state carries the lower bound.
    ///
    /// # Errors
    /// [`SelectError::Data`] if the data have another dimension than the state,
    /// [`SelectError::Degenerate`] if the posterior gives no valid Gaussian.
    pub fn step(
        &self,
        state: &VariationalState<T>,
        data: &Dataset<T>,
    ) -> Result<VariationalState<T>, SelectError> {
        data.check_dim(state.prior.mean.len())?;
        if state.posterior.means.nrows() != self.k {
            return Err(invalid(
                "n_components",
                self.k,
                "differs from the number of components of the state",
            ));
        }
        self.iteration(state, data)
    }

    fn iteration(
        &self,
        state: &VariationalState<T>,
        data: &Dataset<T>,
    ) -> Result<VariationalState<T>, SelectError> {
        let (st, entropy) = self.e_step(state, data)?;
        let (posterior, components) = self.m_step(&st, &state.posterior.means, &state.prior)?;
        let lb = lower_bound(entropy, &posterior, &components);
        Ok(VariationalState {
            prior: state.prior.clone(),
            posterior,
            components,
            lower_bound: Some(lb),
        })
    }

    /// The E-step: the fused pass under the mixture whose log-weights are the
    /// per-component variational offsets, and the entropy of its
    /// responsibilities.
    fn e_step(
        &self,
        state: &VariationalState<T>,
        data: &Dataset<T>,
    ) -> Result<(Stats<T>, f64), SelectError> {
        let post = &state.posterior;
        let mix = expected_mixture(post, &state.components)?;
        let shifts = post.means.clone();
        let st = gaussian_pass(
            data.view(),
            data.weights(),
            Source::Model(&mix),
            &shifts,
            self.full_scatter(),
        );
        let h = entropy(&st, &mix)?;
        Ok((st, h))
    }

    /// The M-step from weighted statistics about `shifts`.
    fn m_step(
        &self,
        st: &Stats<T>,
        shifts: &Mat<T>,
        prior: &Prior<T>,
    ) -> Result<(Posterior<T>, Gaussian<T>), SelectError> {
        let (k, d) = (st.nk.len(), shifts.ncols());
        let kk = T::from_usize(k);
        // As scikit-learn: 10 ε on every count, so an empty component divides
        // by something positive and takes its prior values.
        let guard = T::c(10.0) * T::epsilon();
        let nk: Vec<T> = st.nk.iter().map(|&v| v + guard).collect();
        let xbar = Mat::from_fn(k, d, |c, j| shifts[(c, j)] + st.s[(c, j)] / nk[c]);
        let reg = T::c(self.control.reg_covar);
        let b0 = prior.mean_precision;
        let nu0 = prior.degrees_of_freedom;
        let m0 = &prior.mean;
        let beta: Vec<T> = nk.iter().map(|&n| b0 + n).collect();
        let means = Mat::from_fn(k, d, |c, j| (b0 * m0[j] + nk[c] * xbar[(c, j)]) / beta[c]);
        let diff = |c: usize, j: usize| xbar[(c, j)] - m0[j];
        // Scatter about x̄ₖ from the scatter about the shift: W = S − s sᵀ / N.
        let scatter = |c: usize, i: usize, j: usize| {
            let (a, b) = if i >= j { (i, j) } else { (j, i) };
            st.full[c][(a, b)] - st.s[(c, a)] * st.s[(c, b)] / nk[c]
        };
        let scatter_diag = |c: usize, j: usize| {
            let w = st.diag[(c, j)] - st.s[(c, j)] * st.s[(c, j)] / nk[c];
            if w > T::zero() { w } else { T::zero() }
        };
        let eye = |i: usize, j: usize| if i == j { reg } else { T::zero() };
        let psi_matrix = |i: usize, j: usize| match &prior.covariance {
            CovariancePrior::Matrix(a) => a[(i, j)],
            CovariancePrior::Diagonal(v) => {
                if i == j {
                    v[i]
                } else {
                    T::zero()
                }
            }
            CovariancePrior::Spherical(v) => {
                if i == j {
                    *v
                } else {
                    T::zero()
                }
            }
        };
        let psi_diag = |j: usize| psi_matrix(j, j);
        let psi_scalar = match &prior.covariance {
            CovariancePrior::Spherical(v) => *v,
            CovariancePrior::Diagonal(v) => v.iter().copied().sum::<T>() / T::from_usize(d),
            CovariancePrior::Matrix(a) => (0..d).map(|j| a[(j, j)]).sum::<T>() / T::from_usize(d),
        };
        let (dof, covariances) = match self.covariance {
            Covariance::Tied => {
                let n_total: T = nk.iter().copied().sum();
                let nu = nu0 + n_total / kk;
                let cov = Mat::from_fn(d, d, |i, j| {
                    let w: T = (0..k).map(|c| scatter(c, i, j)).sum();
                    let sk = w / n_total + eye(i, j);
                    let spread: T = (0..k)
                        .map(|c| nk[c] / beta[c] * diff(c, i) * diff(c, j))
                        .sum();
                    (psi_matrix(i, j) + sk * n_total / kk + b0 / kk * spread) / nu
                });
                (vec![nu; k], Covariances::Tied(cov))
            }
            Covariance::Diag => {
                let dof: Vec<T> = nk.iter().map(|&n| nu0 + n).collect();
                let v = Mat::from_fn(k, d, |c, j| {
                    let sk = scatter_diag(c, j) / nk[c] + reg;
                    let dj = diff(c, j);
                    (psi_diag(j) + nk[c] * (sk + b0 / beta[c] * dj * dj)) / dof[c]
                });
                (dof, Covariances::Diag(v))
            }
            Covariance::Spherical => {
                let dof: Vec<T> = nk.iter().map(|&n| nu0 + n).collect();
                let dd = T::from_usize(d);
                let v = (0..k)
                    .map(|c| {
                        let sk = (0..d).map(|j| scatter_diag(c, j) / nk[c] + reg).sum::<T>() / dd;
                        let spread = (0..d).map(|j| diff(c, j) * diff(c, j)).sum::<T>() / dd;
                        (psi_scalar + nk[c] * (sk + b0 / beta[c] * spread)) / dof[c]
                    })
                    .collect();
                (dof, Covariances::Spherical(v))
            }
            // Full, and any type added later, get one full matrix per component.
            _ => {
                let dof: Vec<T> = nk.iter().map(|&n| nu0 + n).collect();
                let covs = (0..k)
                    .map(|c| {
                        let f = nk[c] * b0 / beta[c];
                        Mat::from_fn(d, d, |i, j| {
                            let sk = scatter(c, i, j) / nk[c] + eye(i, j);
                            (psi_matrix(i, j) + nk[c] * sk + f * diff(c, i) * diff(c, j)) / dof[c]
                        })
                    })
                    .collect();
                (dof, Covariances::Full(covs))
            }
        };
        let gamma = prior.weight_concentration;
        let weight_concentration = match prior.weight_prior {
            WeightPrior::DirichletDistribution => {
                WeightConcentration::Dirichlet(nk.iter().map(|&n| gamma + n).collect())
            }
            WeightPrior::DirichletProcess => {
                // βₖ = γ + Σ_{j>k} Nⱼ, a running sum from the last component.
                let mut beta_w = vec![gamma; k];
                let mut tail = T::zero();
                for c in (0..k).rev() {
                    beta_w[c] = gamma + tail;
                    tail += nk[c];
                }
                WeightConcentration::StickBreaking {
                    alpha: nk.iter().map(|&n| T::one() + n).collect(),
                    beta: beta_w,
                }
            }
        };
        let components = Gaussian::new(means.clone(), covariances.clone()).map_err(|e| {
            SelectError::Degenerate {
                reason: e.to_string(),
            }
        })?;
        Ok((
            Posterior {
                weight_concentration,
                mean_precision: beta,
                means,
                degrees_of_freedom: dof,
                covariances,
            },
            components,
        ))
    }

    /// Iterates from `state` until the lower bound changes by less than `tol`
    /// or `max_iter` iterations ran.
    fn iterate(
        &self,
        data: &Dataset<T>,
        mut state: VariationalState<T>,
        restart: usize,
        stop: &AtomicBool,
    ) -> Result<Run<T>, SelectError> {
        let mut trace = Vec::with_capacity(self.control.max_iter.min(1024));
        let mut termination = Termination::MaxIterations;
        let mut prev = f64::NEG_INFINITY;
        for it in 1..=self.control.max_iter {
            if stop.load(Ordering::Relaxed) {
                termination = Termination::Stopped;
                break;
            }
            state = self.iteration(&state, data)?;
            let lb = state.lower_bound.unwrap_or(f64::NAN);
            trace.push(lb);
            if let Some(obs) = &self.control.observer {
                let event = Iteration {
                    restart,
                    iteration: it,
                    lower_bound: lb,
                    change: lb - prev,
                };
                if obs.observe(&event) == Control::Stop {
                    stop.store(true, Ordering::Relaxed);
                    termination = Termination::Stopped;
                    break;
                }
            }
            if (lb - prev).abs() < self.control.tol {
                termination = Termination::Converged;
                break;
            }
            prev = lb;
        }
        Ok(Run {
            state,
            trace,
            termination,
        })
    }

    /// Fits with `n_init` restarts (in parallel) and keeps the highest final
    /// lower bound (ties: the lowest restart).
    ///
    /// # Errors
    /// As [`VariationalParams::resolve_prior`] before any work;
    /// [`SelectError::Degenerate`] if every restart degenerated.
    pub fn fit(&self, data: &Dataset<T>) -> Result<VariationalFit<T>, SelectError> {
        let prior = self.resolve_prior(data)?;
        let stop = AtomicBool::new(false);
        let runs: Vec<Result<Run<T>, SelectError>> = (0..self.control.n_init)
            .into_par_iter()
            .map(|r| {
                let mut rng = StdRng::seed_from_u64(derive_seed(self.control.seed, &[r as u64]));
                let resp = initial_responsibilities(self.control.init, data, self.k, &mut rng);
                let state = self.start(data, prior.clone(), resp.as_ref())?;
                self.iterate(data, state, r, &stop)
            })
            .collect();
        self.finish(data, runs)
    }

    /// One run from given starting responsibilities (`n x K`), no restarts:
    /// scikit-learn's fit after `_initialize(X, resp)`.
    ///
    /// # Errors
    /// As [`VariationalParams::init_from_responsibilities`].
    pub fn fit_from_responsibilities(
        &self,
        data: &Dataset<T>,
        resp: MatRef<'_, T>,
    ) -> Result<VariationalFit<T>, SelectError> {
        let state = self.init_from_responsibilities(data, resp)?;
        let run = self.iterate(data, state, 0, &AtomicBool::new(false));
        self.finish(data, vec![run])
    }

    fn finish(
        &self,
        data: &Dataset<T>,
        runs: Vec<Result<Run<T>, SelectError>>,
    ) -> Result<VariationalFit<T>, SelectError> {
        let mut best: Option<(usize, Run<T>)> = None;
        let mut summaries = Vec::with_capacity(runs.len());
        let mut first_err = None;
        for (i, run) in runs.into_iter().enumerate() {
            match run {
                Ok(r) => {
                    let model = r.state.model()?;
                    summaries.push(RestartSummary {
                        log_likelihood: model.score(data)?,
                        n_iter: r.trace.len(),
                        converged: r.termination == Termination::Converged,
                    });
                    let lb = final_bound(&r);
                    if best
                        .as_ref()
                        .is_none_or(|(_, b)| lb > final_bound(b) || final_bound(b).is_nan())
                    {
                        best = Some((i, r));
                    }
                }
                Err(e) => {
                    summaries.push(RestartSummary {
                        log_likelihood: f64::NEG_INFINITY,
                        n_iter: 0,
                        converged: false,
                    });
                    first_err.get_or_insert(e);
                }
            }
        }
        let Some((best_restart, run)) = best else {
            return Err(first_err.unwrap_or(SelectError::Degenerate {
                reason: "no restart produced a model".into(),
            }));
        };
        let lower_bound = final_bound(&run);
        let Run {
            state,
            trace,
            termination,
        } = run;
        let model = state.model()?;
        let expected = expected_mixture(&state.posterior, &state.components)?;
        let threshold = T::c(self.weight_threshold);
        let effective_components = model
            .weights()
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > threshold)
            .map(|(k, _)| k)
            .collect();
        let report = FitReport {
            converged: termination == Termination::Converged,
            n_iter: trace.len(),
            termination,
            lower_bound_trace: trace,
            log_likelihood: summaries[best_restart].log_likelihood,
            best_restart,
            restarts: summaries,
            degeneracies: Vec::new(),
            n_parameters: model.n_parameters(),
            structure: self.covariance.as_str().to_owned(),
            total_weight: data.total_weight(),
        };
        let VariationalState {
            prior, posterior, ..
        } = state;
        Ok(VariationalFit {
            model,
            posterior,
            prior,
            lower_bound,
            effective_components,
            report,
            expected,
        })
    }
}

/// The mixture under which the E-step's responsibilities are those of the
/// variational posterior: the posterior components, and log-weights
///
/// `cₖ = E[ln πₖ] + ½ E[ln |Λₖ|] − ½ D ln νₖ − D / (2 βₖ)` (up to a constant),
///
/// with `E[ln |Λₖ|] = D ln 2 + Σⱼ ψ((νₖ − j) / 2) − ln |covₖ νₖ|`: the
/// `ln |covₖ|` part is in the Gaussian density already and the stored
/// covariances are normalized by `νₖ`. Responsibilities do not change when
/// every offset moves by the same amount, so the offsets are normalized into
/// weights that sum to one.
fn expected_mixture<T: Scalar>(
    post: &Posterior<T>,
    comps: &Gaussian<T>,
) -> Result<GaussianMixtureModel<T>, SelectError> {
    let d = comps.means().ncols();
    let dd = d as f64;
    let offsets: Vec<f64> = post
        .expected_log_weights()
        .iter()
        .enumerate()
        .map(|(k, &e)| {
            let nu = post.degrees_of_freedom[k].as_f64();
            let beta = post.mean_precision[k].as_f64();
            let ln_lambda = dd * core::f64::consts::LN_2
                + (0..d).map(|j| digamma(0.5 * (nu - j as f64))).sum::<f64>();
            e - 0.5 * dd * nu.ln() + 0.5 * (ln_lambda - dd / beta)
        })
        .collect();
    let lse = log_sum_exp(&offsets);
    let weights = offsets.iter().map(|&c| T::c((c - lse).exp())).collect();
    Ok(Mixture::new(weights, comps.clone())?)
}

fn final_bound<T: Scalar>(r: &Run<T>) -> f64 {
    r.trace.last().copied().unwrap_or(f64::NEG_INFINITY)
}

/// The entropy `−Σᵢ wᵢ Σₖ rᵢₖ ln rᵢₖ` of the responsibilities of the pass that
/// produced `st` under `mix`, from its statistics alone.
///
/// With `ℓᵢₖ = ln wₖ + ln N(xᵢ | μₖ, Σₖ)` and `Lᵢ = ln Σₖ exp ℓᵢₖ`,
/// `ln rᵢₖ = ℓᵢₖ − Lᵢ` and `Σₖ rᵢₖ = 1`, so the entropy is
/// `Σᵢ wᵢ Lᵢ − Σₖ Σᵢ wᵢ rᵢₖ ℓᵢₖ`. The first sum is the pass's log-likelihood;
/// in the second, `ℓᵢₖ` is a constant minus half a quadratic form in
/// `xᵢ − μₖ`, and the pass accumulated `Σᵢ wᵢ rᵢₖ (xᵢ − μₖ)(xᵢ − μₖ)ᵀ` about
/// the means: `Σᵢ wᵢ rᵢₖ ℓᵢₖ = Nₖ (ln wₖ + cₖ) − ½ tr(Σₖ⁻¹ Sₖ)`.
fn entropy<T: Scalar>(st: &Stats<T>, mix: &GaussianMixtureModel<T>) -> Result<f64, SelectError> {
    let comps = mix.components();
    let d = comps.means().ncols();
    let ln2pi_d = d as f64 * LN_2PI;
    // Σⱼₗ Pⱼₗ Sⱼₗ for a full precision P and the lower triangle of S.
    let trace_full = |p: &Mat<f64>, s: &Mat<T>| {
        let mut t = 0.0;
        for j in 0..d {
            t += p[(j, j)] * s[(j, j)].as_f64();
            for i in j + 1..d {
                t += 2.0 * p[(i, j)] * s[(i, j)].as_f64();
            }
        }
        t
    };
    let precision = |cov: &Mat<T>| -> Result<Mat<f64>, SelectError> {
        let chol = Cholesky::new(cov.as_ref()).map_err(|e| SelectError::Degenerate {
            reason: e.to_string(),
        })?;
        let li = chol.l_inv();
        // P = L⁻ᵀ L⁻¹.
        Ok(Mat::from_fn(d, d, |i, j| {
            (i.max(j)..d)
                .map(|r| li[(r, i)].as_f64() * li[(r, j)].as_f64())
                .sum()
        }))
    };
    let tied = match comps.covariances() {
        Covariances::Tied(c) => Some(precision(c)?),
        _ => None,
    };
    let mut expected = 0.0;
    for (k, &w) in mix.weights().iter().enumerate() {
        let nk = st.nk[k].as_f64();
        // A component without responsibility adds nothing (and may have
        // ln w = −∞).
        if nk == 0.0 {
            continue;
        }
        let quad = match comps.covariances() {
            Covariances::Full(c) => trace_full(&precision(&c[k])?, &st.full[k]),
            Covariances::Tied(_) => match &tied {
                Some(p) => trace_full(p, &st.full[k]),
                None => 0.0,
            },
            Covariances::Diag(v) => (0..d)
                .map(|j| st.diag[(k, j)].as_f64() / v[(k, j)].as_f64())
                .sum(),
            Covariances::Spherical(v) => {
                (0..d).map(|j| st.diag[(k, j)].as_f64()).sum::<f64>() / v[k].as_f64()
            }
        };
        let norm = -0.5 * (ln2pi_d + comps.log_det(k).as_f64());
        expected += nk * (Float::ln(w).as_f64() + norm) - 0.5 * quad;
    }
    Ok(st.ll - expected)
}

/// scikit-learn's lower bound, from the E-step's entropy and the posterior
/// after the M-step: `H − Σₖ ln B(Wₖ, νₖ) − ln C(weights) − ½ D Σₖ ln βₖ`
/// (constants dropped), with `B` the Wishart normalizer and `C` the Dirichlet
/// (or product of Beta) normalizer. Tied covariances count the shared Wishart
/// once per component, as scikit-learn does.
fn lower_bound<T: Scalar>(entropy: f64, post: &Posterior<T>, comps: &Gaussian<T>) -> f64 {
    let d = comps.means().ncols();
    let dd = d as f64;
    let mut log_wishart = 0.0;
    for (k, nu) in post.degrees_of_freedom.iter().enumerate() {
        let nu = nu.as_f64();
        // ln |L_Λ| of the expected-precision Cholesky factor, where the stored
        // covariances are normalized by ν: −½ ln |covₖ| − ½ D ln νₖ.
        let ln_det_chol = -0.5 * comps.log_det(k).as_f64() - 0.5 * dd * nu.ln();
        let lg: f64 = (0..d).map(|j| ln_gamma(0.5 * (nu - j as f64))).sum();
        log_wishart -= nu * ln_det_chol + nu * dd * 0.5 * core::f64::consts::LN_2 + lg;
    }
    let log_norm_weight = match &post.weight_concentration {
        WeightConcentration::Dirichlet(a) => {
            let total: f64 = a.iter().map(|v| v.as_f64()).sum();
            ln_gamma(total) - a.iter().map(|v| ln_gamma(v.as_f64())).sum::<f64>()
        }
        WeightConcentration::StickBreaking { alpha, beta } => -alpha
            .iter()
            .zip(beta)
            .map(|(a, b)| ln_beta(a.as_f64(), b.as_f64()))
            .sum::<f64>(),
    };
    let ln_beta_sum: f64 = post.mean_precision.iter().map(|b| b.as_f64().ln()).sum();
    entropy - log_wishart - log_norm_weight - 0.5 * dd * ln_beta_sum
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Overlapping clusters (so that responsibilities are far from 0 and 1),
    /// optionally weighted.
    fn data(weighted: bool) -> Dataset<f64> {
        let rows: Vec<[f64; 3]> = (0..700)
            .map(|i| {
                let t = i as f64;
                let c = (i % 3) as f64 * 1.5;
                [
                    c + (t * 0.37).sin(),
                    -c + (t * 0.11).cos() * 1.3,
                    (t * 0.73).sin() * (t * 0.05).cos(),
                ]
            })
            .collect();
        let d = Dataset::from_rows(&rows).unwrap();
        if weighted {
            d.with_weights((0..700).map(|i| (i % 4) as f64 * 0.5).collect())
                .unwrap()
        } else {
            d
        }
    }

    /// The entropy from the pass's statistics equals the entropy of the
    /// responsibilities computed row by row.
    #[test]
    fn entropy_from_statistics_is_exact() {
        for weighted in [false, true] {
            let x = data(weighted);
            for ct in Covariance::SKLEARN {
                for wp in [
                    WeightPrior::DirichletProcess,
                    WeightPrior::DirichletDistribution,
                ] {
                    let p = VariationalGaussianMixture::params::<f64>(4)
                        .covariance(ct)
                        .weight_prior(wp);
                    let resp = Mat::from_fn(700, 4, |i, c| {
                        let v = [(i % 5) as f64 + 1.0, 2.0, (i % 3) as f64 + 0.5, 1.0];
                        v[c] / v.iter().sum::<f64>()
                    });
                    let mut s = p.init_from_responsibilities(&x, resp.as_ref()).unwrap();
                    for _ in 0..3 {
                        s = p.step(&s, &x).unwrap();
                    }
                    let (_, h) = p.e_step(&s, &x).unwrap();
                    let mix = expected_mixture(&s.posterior, &s.components).unwrap();
                    let r = mix.responsibilities(&x).unwrap();
                    let mut direct = 0.0;
                    for i in 0..700 {
                        let w = x.weights().map_or(1.0, |w| w[i]);
                        for c in 0..4 {
                            let v = r[(i, c)];
                            if v > 0.0 {
                                direct -= w * v * v.ln();
                            }
                        }
                    }
                    assert!(direct > 1.0, "{ct}: responsibilities too certain to test");
                    assert!(
                        ((h - direct) / direct).abs() < 1e-10,
                        "{ct} {wp:?} weighted {weighted}: {h} vs {direct}"
                    );
                }
            }
        }
    }
}
