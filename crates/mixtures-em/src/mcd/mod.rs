//! The minimum covariance determinant estimator (MCD; Rousseeuw 1984), fitted
//! by FastMCD (Rousseeuw & Van Driessen 1999): the location and scatter of the
//! `h` rows whose covariance has the smallest determinant, made consistent at
//! the normal distribution and reweighted. A robust single Gaussian: up to
//! `n − h` rows can be anywhere without carrying the estimate away, which is
//! what anomaly detection on contaminated training data needs
//! (scikit-learn's `MinCovDet` and `EllipticEnvelope`).
//!
//! **Algorithm.** A *C-step* takes an estimate, keeps the `h` rows nearest to
//! it in Mahalanobis distance, and re-estimates from them; the determinant
//! never increases. Half of the random starts are `(d + 1)`-subsets (grown by
//! random rows while their scatter is singular), which can land on a subset
//! away from the bulk of the data, and half random `h`-subsets (scikit-learn's
//! starts), which begin inside it; each is followed by two C-steps. Above 600
//! rows the starts run in up to 5 disjoint random subsets of 300 rows (the
//! trials split between them), the 10 best of each are refined by two C-steps
//! on the union of the subsets, and the 10 best of those by C-steps to
//! convergence on all rows; below, the starts run on all rows and the 10 best
//! are iterated to convergence. The trials run in parallel, each with its own
//! seed derived from the fit's seed and its position, and ties are broken by
//! position: the result does not depend on the number of threads.
//!
//! **Exact fits.** When at least `h` rows lie on a hyperplane (a feature
//! that takes one value on most rows, as in many real data sets), every
//! subset the search ends on has a singular scatter, and the plain MCD has no
//! Gaussian. The fit then is the regularized MCD (Boudt et al. 2020; see
//! `regularize`): each scatter blended with the features' robust variances,
//! with the smallest weight that keeps its condition number at 50 in robust
//! units. [`McdFit::regularization`] reports the weight (0 for the plain MCD).
//!
//! **Consistency and reweighting** (as `MinCovDet`): the raw scatter, an
//! average over the `h` most central rows, underestimates the covariance of a
//! normal distribution by the factor `c = α / F_{χ²(d+2)}(χ²_d(α))` with
//! `α = h / n` (Croux & Haesbroeck 1999; Pison et al. 2002). The squared
//! distances of all rows under the raw estimate, divided by `c`, are compared
//! with `χ²_d(0.975)`; the rows below give the final, reweighted location and
//! covariance (their scatter, made consistent by the same factor with
//! `α = 0.975`).
//!
//! ```
//! use mixtures_core::Dataset;
//! use mixtures_em::Mcd;
//!
//! // 95 rows around the origin and 5 far away.
//! let mut rows: Vec<[f64; 2]> = (0..95)
//!     .map(|i| {
//!         let t = i as f64 * 0.7;
//!         [t.sin(), 0.5 * (1.3 * t).cos()]
//!     })
//!     .collect();
//! rows.extend([[40.0, 40.0]; 5]);
//! let data = Dataset::from_rows(&rows)?;
//! let fit = Mcd::new().seed(1).fit(&data)?;
//! // The far rows carry neither the location nor the support.
//! assert!(fit.location.iter().all(|m| m.abs() < 0.5));
//! assert!(fit.support[..95].iter().filter(|&&s| s).count() > 85);
//! assert!(fit.support[95..].iter().all(|&s| !s));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use faer::{Mat, MatRef};
use mixtures_core::chi2::{chi2_cdf, chi2_quantile};
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Gaussian, Mixture};
use rayon::prelude::*;

use crate::FitError;

mod regularize;
mod search;

pub use regularize::MAX_CONDITION;

use search::{Estimate, Reg, converge, covariance, scaled, scatter, sq_distances, with_covariance};

/// Random starts by default (FastMCD's and scikit-learn's number).
pub const DEFAULT_N_TRIALS: usize = 500;
/// Most random starts accepted: each holds an estimate until the best are
/// kept, so the number is bounded.
pub const MAX_N_TRIALS: usize = 100_000;
/// The χ² probability below which a row is kept by the reweighting.
pub const REWEIGHT_PROBABILITY: f64 = 0.975;

/// Settings of a minimum covariance determinant fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Mcd {
    support_fraction: Option<f64>,
    n_trials: usize,
    seed: u64,
}

impl Default for Mcd {
    fn default() -> Self {
        Self::new()
    }
}

/// A minimum covariance determinant fit.
#[derive(Debug, Clone)]
pub struct McdFit<T: Scalar> {
    /// The reweighted location.
    pub location: Vec<T>,
    /// The reweighted covariance.
    pub covariance: Mat<T>,
    /// The rows the reweighted estimate uses.
    pub support: Vec<bool>,
    /// The location of the `h`-subset.
    pub raw_location: Vec<T>,
    /// The maximum-likelihood scatter of the `h`-subset (before the
    /// consistency factor, as scikit-learn's `raw_covariance_`).
    pub raw_covariance: Mat<T>,
    /// The `h` rows whose scatter has the smallest determinant found.
    pub raw_support: Vec<bool>,
    /// The MCD objective: `ln det` of the maximum-likelihood scatter of the
    /// `h`-subset (before the consistency factor).
    pub raw_log_det: f64,
    /// The consistency factor `α / F_{χ²(d+2)}(χ²_d(α))`, `α = h / n`: the
    /// raw scatter times this estimates the normal covariance.
    pub consistency: f64,
    /// Squared robust distances of the training rows under the reweighted
    /// estimate (scikit-learn's `dist_`).
    pub distances: Vec<T>,
    /// The size of the subset, `h`.
    pub h: usize,
    /// C-steps of the final iterations on all rows, for the winning
    /// candidate (the last one confirms convergence).
    pub c_steps: usize,
    /// The weight `ρ` of the diagonal target in the regularized MCD
    /// (`regularize`), 0 for the plain MCD. When it is positive,
    /// `raw_log_det` is that of the blend, the covariance is the blend
    /// (consistent by `consistency`), and there is no reweighting: the
    /// location and support are the subset's.
    pub regularization: f64,
}

impl Mcd {
    /// The default settings: `h = ⌈(n + d + 1) / 2⌉`, 500 random starts,
    /// seed 0.
    pub fn new() -> Self {
        Self {
            support_fraction: None,
            n_trials: DEFAULT_N_TRIALS,
            seed: 0,
        }
    }

    /// The fraction of rows in the subset, in `(0.5, 1]` (`h = ⌈f n⌉`).
    #[must_use]
    pub fn support_fraction(mut self, f: f64) -> Self {
        self.support_fraction = Some(f);
        self
    }

    /// Random starts, from 1 to [`MAX_N_TRIALS`].
    #[must_use]
    pub fn n_trials(mut self, n: usize) -> Self {
        self.n_trials = n;
        self
    }

    /// The seed of every random choice.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] for a support fraction outside
    /// `(0.5, 1]` and a number of starts outside `1..=MAX_N_TRIALS`.
    pub fn check(&self) -> Result<(), FitError> {
        if let Some(f) = self.support_fraction
            && !(f > 0.5 && f <= 1.0)
        {
            return Err(FitError::invalid(
                "support_fraction",
                f,
                "must be in (0.5, 1]: the subset must hold more than half of the rows",
            ));
        }
        if self.n_trials == 0 || self.n_trials > MAX_N_TRIALS {
            return Err(FitError::invalid(
                "n_trials",
                self.n_trials,
                "must be from 1 to 100000",
            ));
        }
        Ok(())
    }

    /// The subset size for `n` rows in `d` dimensions.
    fn h(&self, n: usize, d: usize) -> usize {
        match self.support_fraction {
            Some(f) => ((f * n as f64).ceil() as usize).min(n),
            None => (n + d + 1).div_ceil(2).min(n),
        }
    }

    /// Fits the estimator.
    ///
    /// # Errors
    /// The settings' errors ([`Mcd::check`]); [`FitError::InvalidParameter`]
    /// for weighted data (the MCD has no weighted form here) and for too few
    /// rows (`h` must exceed `d`) and for a feature that is constant;
    /// [`FitError::Degenerate`] if no subset gives a positive definite
    /// scatter even regularized (not expected). When at least `h` rows lie
    /// on a hyperplane (an exact fit: every subset the plain MCD ends on is
    /// singular), the fit is the regularized MCD ([`McdFit::regularization`]).
    pub fn fit<T: Scalar>(&self, data: &Dataset<T>) -> Result<McdFit<T>, FitError> {
        self.check()?;
        if data.weights().is_some() {
            return Err(FitError::invalid(
                "sample_weight",
                "given",
                "the minimum covariance determinant takes unweighted rows",
            ));
        }
        let x = data.view();
        let (n, d) = (x.nrows(), x.ncols());
        let h = self.h(n, d);
        // The regularized MCD could take subsets of no more rows than
        // features, but its random search costs a d x d factorization per
        // start and C-step: hours at a thousand features. Refused until it
        // has the paper's few deterministic starts.
        if h <= d {
            return Err(FitError::invalid(
                "support_fraction",
                h as f64 / n as f64,
                "leaves a subset of no more rows than features; the MCD needs more rows \
                 than features in its subset",
            ));
        }
        let plain = self
            .search(x, h, &Reg::none())
            .map(|best| self.finish(x, best, h));
        match plain {
            Some(Ok(fit)) => return Ok(fit),
            Some(Err(FitError::Degenerate { .. })) | None => {}
            Some(Err(e)) => return Err(e),
        }
        // Every subset found was singular: the regularized MCD.
        let c = consistency_factor(d, h as f64 / n as f64);
        let mut reg = regularize::regularization(x, h, c)?;
        let mut best = self.search(x, h, &reg).ok_or_else(exact_fit)?;
        for _ in 1..regularize::MAX_ROUNDS {
            let needed = regularize::rho_for(x, &best.support, &reg)?;
            if needed <= reg.rho * (1.0 + 1e-3) {
                break;
            }
            reg.rho = needed;
            best = self.search(x, h, &reg).ok_or_else(exact_fit)?;
        }
        Ok(self.finish_regularized(x, best, h, &reg))
    }

    /// The candidates, iterated to convergence on all rows; the lowest
    /// determinant wins, the earlier candidate on a tie.
    fn search<T: Scalar>(&self, x: MatRef<'_, T>, h: usize, reg: &Reg) -> Option<Estimate> {
        let candidates = self.candidates(x, h, reg);
        let finals: Vec<Option<Estimate>> = candidates
            .par_iter()
            .map(|e| converge(x, e, h, reg))
            .collect();
        finals
            .into_iter()
            .flatten()
            .reduce(|a, b| if b.log_det() < a.log_det() { b } else { a })
    }

    /// The regularized estimate: the blend of the best subset, with no
    /// reweighting (the kept rows' plain scatter would be singular again).
    fn finish_regularized<T: Scalar>(
        &self,
        x: MatRef<'_, T>,
        best: Estimate,
        h: usize,
        reg: &Reg,
    ) -> McdFit<T> {
        let (n, d) = (x.nrows(), x.ncols());
        let mut dist = vec![0.0; n];
        sq_distances(x, &best, &mut dist);
        let (_, raw) = search::moments(x, &best.support);
        let support = mask(n, &best.support);
        let to_mat = |m: &Mat<f64>| Mat::from_fn(d, d, |i, j| T::c(m[(i, j)]));
        let location: Vec<T> = best.mean.iter().map(|&m| T::c(m)).collect();
        McdFit {
            covariance: to_mat(&covariance(&best.factor)),
            support: support.clone(),
            raw_location: location.clone(),
            location,
            raw_covariance: to_mat(&raw),
            raw_support: support,
            raw_log_det: best.log_det(),
            consistency: reg.consistency,
            distances: dist.into_iter().map(T::c).collect(),
            h,
            c_steps: best.steps,
            regularization: reg.rho,
        }
    }

    /// The consistency factor, the reweighting and the distances.
    fn finish<T: Scalar>(
        &self,
        x: MatRef<'_, T>,
        raw: Estimate,
        h: usize,
    ) -> Result<McdFit<T>, FitError> {
        let (n, d) = (x.nrows(), x.ncols());
        let mut dist = vec![0.0; n];
        sq_distances(x, &raw, &mut dist);
        let consistency = consistency_factor(d, h as f64 / n as f64);
        if !(consistency > 0.0 && consistency.is_finite()) {
            return Err(exact_fit());
        }
        let cut = chi2_quantile(REWEIGHT_PROBABILITY, d as f64);
        let kept: Vec<usize> = (0..n).filter(|&i| dist[i] / consistency < cut).collect();
        let raw_cov = covariance(&raw.factor);
        // The kept rows are those inside the 97.5 % ellipsoid: their scatter
        // is made consistent the same way. Too few of them for a scatter: the
        // corrected raw estimate stands.
        let (mean, cov) = match scatter(x, &kept, &Reg::none()) {
            Some(e) => (
                e.mean,
                scaled(
                    &covariance(&e.factor),
                    consistency_factor(d, REWEIGHT_PROBABILITY),
                ),
            ),
            None => (raw.mean.clone(), scaled(&raw_cov, consistency)),
        };
        let reweighted = with_covariance(mean, &cov).ok_or_else(exact_fit)?;
        let mut final_dist = vec![0.0; n];
        sq_distances(x, &reweighted, &mut final_dist);
        let to_t = |v: &[f64]| v.iter().map(|&a| T::c(a)).collect::<Vec<T>>();
        let to_mat = |m: &Mat<f64>| Mat::from_fn(d, d, |i, j| T::c(m[(i, j)]));
        Ok(McdFit {
            location: to_t(&reweighted.mean),
            covariance: to_mat(&cov),
            support: mask(n, &kept),
            raw_location: to_t(&raw.mean),
            raw_covariance: to_mat(&raw_cov),
            raw_support: mask(n, &raw.support),
            raw_log_det: raw.log_det(),
            consistency,
            distances: to_t(&final_dist),
            h,
            c_steps: raw.steps,
            regularization: 0.0,
        })
    }
}

impl<T: Scalar> McdFit<T> {
    /// Squared Mahalanobis distances of `data`'s rows under the reweighted
    /// estimate.
    ///
    /// # Errors
    /// [`FitError::Data`] for data of another dimension;
    /// [`FitError::Degenerate`] if the covariance cannot be factorized.
    pub fn mahalanobis(&self, data: &Dataset<T>) -> Result<Vec<T>, FitError> {
        data.check_dim(self.location.len())?;
        let d = self.location.len();
        let cov = Mat::from_fn(d, d, |i, j| self.covariance[(i, j)].as_f64());
        let mean = self.location.iter().map(|m| m.as_f64()).collect();
        let e = with_covariance(mean, &cov).ok_or_else(|| FitError::Degenerate {
            reason: "the MCD covariance cannot be factorized".to_owned(),
        })?;
        let mut out = vec![0.0; data.n_samples()];
        sq_distances(data.view(), &e, &mut out);
        Ok(out.into_iter().map(T::c).collect())
    }

    /// The reweighted estimate as a one-component Gaussian mixture with a
    /// full covariance (for scoring by `−ln p(x)`, model files, detectors).
    ///
    /// # Errors
    /// [`FitError::Model`] if the covariance is not a valid covariance.
    pub fn to_mixture(&self) -> Result<Mixture<T, Gaussian<T>>, FitError> {
        let d = self.location.len();
        let means = Mat::from_fn(1, d, |_, j| self.location[j]);
        let g = Gaussian::full(means, vec![self.covariance.clone()])?;
        Ok(Mixture::new(vec![T::one()], g)?)
    }
}

/// The factor that makes the scatter of the `α` most central part of a
/// normal distribution in `d` dimensions consistent for its covariance,
/// `α / F_{χ²(d+2)}(χ²_d(α))` (1 for `α = 1`).
fn consistency_factor(d: usize, alpha: f64) -> f64 {
    if alpha >= 1.0 {
        return 1.0;
    }
    alpha / chi2_cdf(chi2_quantile(alpha, d as f64), d as f64 + 2.0)
}

/// `n` flags, set at `idx`.
fn mask(n: usize, idx: &[usize]) -> Vec<bool> {
    let mut m = vec![false; n];
    for &i in idx {
        m[i] = true;
    }
    m
}

fn exact_fit() -> FitError {
    FitError::Degenerate {
        reason: "no subset of h rows gave a positive definite scatter, even regularized".to_owned(),
    }
}
