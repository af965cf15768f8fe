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
//!
//! **Gaussian components only.** A variational Student-t mixture
//! (Archambeau & Verleysen 2007) would factor the latent precision weights
//! `uᵢₖ` into the posterior as Gamma distributions, but the degrees of
//! freedom have no conjugate prior: they would remain point estimates, found
//! by the same one-dimensional equation as in ECM, inside a bound that then no
//! longer is a bound on the evidence for them. What the variational fit adds
//! (choosing `K` by emptying components) is available for t mixtures by BIC
//! over `K` (`mixtures_select::Grid` with Student-t specs), which counts `ν`
//! as a parameter. Laplace components have no conjugate prior at all.
//! Trimming and a noise component are refused for the same reason: the
//! updates have no form for them whose bound is known to increase.

use faer::{Mat, MatRef};
use mixtures_core::seed::derive_seed;
use mixtures_core::special::{digamma, ln_beta, ln_gamma};
use mixtures_core::{Cholesky, DataError, Dataset, LN_2PI, Scalar, log_sum_exp};
use mixtures_dist::{Covariance, Covariances, Gaussian, GaussianMixtureModel, Mixture};
use num_traits::Float;

use crate::common::{check_data, check_scale, summarize};
use crate::engine::{Engine, Restart, run};
use crate::init::initial_responsibilities;
use crate::pass::{Source, Stats, gaussian_pass};
use crate::{EmControl, FitError, FitReport};

mod bound;
mod driver;
mod priors;
mod updates;

use bound::{entropy, lower_bound};
use priors::positive;
pub use priors::{CovariancePrior, Prior, WeightPrior};
use updates::expected_mixture;
pub use updates::{Posterior, WeightConcentration};

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
    /// [`FitError::Model`] if the weights are not valid (not expected).
    pub fn model(&self) -> Result<GaussianMixtureModel<T>, FitError> {
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
    crate::em_control_builder!();

    /// Expected weight above which a component counts as effective (default
    /// 0.01); in `[0, 1)`.
    #[must_use]
    pub fn weight_threshold(mut self, t: f64) -> Self {
        self.weight_threshold = t;
        self
    }

    pub(super) fn full_scatter(&self) -> bool {
        matches!(self.covariance, Covariance::Full | Covariance::Tied)
    }

    /// Checks every parameter that needs no data (the priors are checked
    /// against the data's dimension when fitting).
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), FitError> {
        if self.k == 0 {
            return Err(FitError::invalid("n_components", 0, "must be at least 1"));
        }
        positive("weight_concentration", self.weight_concentration)?;
        positive("mean_precision", self.mean_precision)?;
        self.control.check()?;
        // The variational bound has no trimmed form whose monotone increase
        // is known (the kept set changes the posterior's normalization), so
        // trimming is refused rather than run without that guarantee.
        if self.control.trim != 0.0 {
            return Err(FitError::invalid(
                "trim",
                self.control.trim,
                "trimming is for EM fits; a variational fit takes no trim",
            ));
        }
        // A noise component's weight has no place in the Dirichlet (process)
        // prior over the components' weights as the updates implement it.
        if self.control.noise.is_some() {
            return Err(FitError::invalid(
                "noise",
                "given",
                "a noise component is for EM fits; a variational fit takes none",
            ));
        }
        if !Covariance::SKLEARN.contains(&self.covariance) {
            return Err(FitError::invalid(
                "covariance",
                self.covariance.as_str(),
                "a variational fit has full, tied, diag or spherical covariances",
            ));
        }
        if !(self.weight_threshold >= 0.0 && self.weight_threshold < 1.0) {
            return Err(FitError::invalid(
                "weight_threshold",
                self.weight_threshold,
                "must be in [0, 1)",
            ));
        }
        Ok(())
    }

    /// Checks starting responsibilities: `n x K`, finite, non-negative.
    pub(super) fn check_responsibilities(
        &self,
        data: &Dataset<T>,
        resp: MatRef<'_, T>,
    ) -> Result<(), FitError> {
        let expected = (data.n_samples(), self.k);
        if (resp.nrows(), resp.ncols()) != expected {
            return Err(FitError::ResponsibilitiesShape {
                expected,
                found: (resp.nrows(), resp.ncols()),
            });
        }
        for c in 0..resp.ncols() {
            for i in 0..resp.nrows() {
                let v = resp[(i, c)];
                if !(v.is_finite() && v >= T::zero()) {
                    return Err(FitError::InvalidResponsibility {
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
    /// [`FitError::ResponsibilitiesShape`] and
    /// [`FitError::InvalidResponsibility`] before any work, and
    /// [`FitError::Degenerate`].
    pub fn init_from_responsibilities(
        &self,
        data: &Dataset<T>,
        resp: MatRef<'_, T>,
    ) -> Result<VariationalState<T>, FitError> {
        let prior = self.resolve_prior(data)?;
        self.check_responsibilities(data, resp)?;
        self.start(data, prior, resp)
    }
}
