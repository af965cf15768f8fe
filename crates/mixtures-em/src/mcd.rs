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
use mixtures_core::kernels::{maha_work_len, sq_mahalanobis_block};
use mixtures_core::seed::derive_seed;
use mixtures_core::{CHUNK_ROWS, Cholesky, Dataset, Scalar};
use mixtures_dist::{Gaussian, Mixture};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use crate::FitError;

/// Random starts by default (FastMCD's and scikit-learn's number).
pub const DEFAULT_N_TRIALS: usize = 500;
/// Most random starts accepted: each holds an estimate until the best are
/// kept, so the number is bounded.
pub const MAX_N_TRIALS: usize = 100_000;
/// Rows of each subset of the nested starts.
const SUBSET_ROWS: usize = 300;
/// Most subsets of the nested starts.
const MAX_SUBSETS: usize = 5;
/// Candidates kept from each stage.
const KEEP: usize = 10;
/// C-steps at most in the final iterations (they converge in a few; the
/// bound only guards against cycling between equal determinants).
const MAX_C_STEPS: usize = 100;
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
}

/// A location and scatter in `f64`, with the factor of the scatter.
#[derive(Clone)]
struct Estimate {
    mean: Vec<f64>,
    factor: Cholesky<f64>,
    support: Vec<usize>,
    /// C-steps of the final iterations that led to it.
    steps: usize,
}

impl Estimate {
    fn log_det(&self) -> f64 {
        self.factor.log_det()
    }
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
    /// rows (`h` must exceed `d`); [`FitError::Degenerate`] when the best
    /// subset's scatter is singular (at least `h` rows lie on a hyperplane:
    /// an exact fit, which has no Gaussian).
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
        if h <= d {
            return Err(FitError::invalid(
                "support_fraction",
                h as f64 / n as f64,
                "leaves a subset of no more rows than features; more rows are needed",
            ));
        }
        let candidates = self.candidates(x, h)?;
        // C-steps to convergence on all rows; the lowest determinant wins,
        // the earlier candidate on a tie.
        let finals: Vec<Option<Estimate>> =
            candidates.par_iter().map(|e| converge(x, e, h)).collect();
        let best = finals
            .into_iter()
            .flatten()
            .reduce(|a, b| if b.log_det() < a.log_det() { b } else { a })
            .ok_or_else(exact_fit)?;
        self.finish(x, best, h)
    }

    /// The candidates of the starts, refined by the nested stages.
    fn candidates<T: Scalar>(&self, x: MatRef<'_, T>, h: usize) -> Result<Vec<Estimate>, FitError> {
        let n = x.nrows();
        let scaled = |m: usize| (m * h).div_ceil(n).max(x.ncols() + 1).min(m);
        if n <= 2 * SUBSET_ROWS {
            return Ok(self.starts(x, self.n_trials, h, 0));
        }
        // Up to 5 subsets of at least 300 rows; together at most 1500 rows
        // (all of them below that).
        let subsets = (n / SUBSET_ROWS).min(MAX_SUBSETS);
        let size = n.min(SUBSET_ROWS * MAX_SUBSETS) / subsets;
        let mut rng = StdRng::seed_from_u64(derive_seed(self.seed, &[1]));
        let rows = rand::seq::index::sample(&mut rng, n, subsets * size).into_vec();
        let merged = gather(x, &rows);
        let per = self.n_trials.div_ceil(subsets);
        let firsts: Vec<Vec<Estimate>> = (0..subsets)
            .into_par_iter()
            .map(|s| {
                let part = merged.subrows(s * size, size);
                // Positions in the subset become positions in the union.
                let mut best = self.starts(part, per, scaled(size), s as u64 + 1);
                for e in &mut best {
                    for i in &mut e.support {
                        *i += s * size;
                    }
                }
                best
            })
            .collect();
        let firsts: Vec<Estimate> = firsts.into_iter().flatten().collect();
        if n <= SUBSET_ROWS * MAX_SUBSETS {
            // The subsets hold (nearly) every row: every candidate goes on to
            // the final iterations on all rows.
            return Ok(firsts);
        }
        let hm = scaled(merged.nrows());
        let refined: Vec<Option<Estimate>> = firsts
            .par_iter()
            .map(|e| converge(merged.as_ref(), e, hm))
            .collect();
        Ok(best_of(refined))
    }

    /// `count` random starts in `x`, two C-steps each, the best kept.
    fn starts<T: Scalar>(
        &self,
        x: MatRef<'_, T>,
        count: usize,
        h: usize,
        stage: u64,
    ) -> Vec<Estimate> {
        let found: Vec<Option<Estimate>> = (0..2 * count)
            .into_par_iter()
            .map(|t| {
                let mut rng = StdRng::seed_from_u64(derive_seed(self.seed, &[2, stage, t as u64]));
                // Small starts reach subsets away from the bulk; whole
                // random h-subsets start inside it. `count` of each.
                let start = if t % 2 == 0 {
                    random_start(x, &mut rng)?
                } else {
                    let mut idx = rand::seq::index::sample(&mut rng, x.nrows(), h).into_vec();
                    idx.sort_unstable();
                    scatter(x, &idx)?
                };
                c_step(x, &start, h).and_then(|e| c_step(x, &e, h))
            })
            .collect();
        best_of(found)
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
        // Too few kept rows for a scatter: the corrected raw estimate stands.
        let reweighted = scatter(x, &kept)
            .or_else(|| with_covariance(raw.mean.clone(), &scaled(&raw_cov, consistency)))
            .ok_or_else(exact_fit)?;
        // The kept rows are those inside the 97.5 % ellipsoid: their
        // scatter is made consistent the same way.
        let cov = scaled(
            &covariance(&reweighted.factor),
            consistency_factor(d, REWEIGHT_PROBABILITY),
        );
        let reweighted = with_covariance(reweighted.mean, &cov).ok_or_else(exact_fit)?;
        let mut final_dist = vec![0.0; n];
        sq_distances(x, &reweighted, &mut final_dist);
        let mask = |idx: &[usize]| {
            let mut m = vec![false; n];
            for &i in idx {
                m[i] = true;
            }
            m
        };
        let to_t = |v: &[f64]| v.iter().map(|&a| T::c(a)).collect::<Vec<T>>();
        let to_mat = |m: &Mat<f64>| Mat::from_fn(d, d, |i, j| T::c(m[(i, j)]));
        Ok(McdFit {
            location: to_t(&reweighted.mean),
            covariance: to_mat(&cov),
            support: mask(&kept),
            raw_location: to_t(&raw.mean),
            raw_covariance: to_mat(&raw_cov),
            raw_support: mask(&raw.support),
            raw_log_det: raw.log_det(),
            consistency,
            distances: to_t(&final_dist),
            h,
            c_steps: raw.steps,
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

fn exact_fit() -> FitError {
    FitError::Degenerate {
        reason: "the minimum covariance determinant is zero: at least h rows lie on a \
                 hyperplane (an exact fit, as when a feature takes one value on most rows), \
                 which no Gaussian describes; a larger support fraction (1 gives the classical \
                 estimate) or leaving out such features avoids it"
            .to_owned(),
    }
}

/// An estimate from a location and a covariance; `None` if the covariance
/// cannot be factorized.
fn with_covariance(mean: Vec<f64>, cov: &Mat<f64>) -> Option<Estimate> {
    let factor = Cholesky::new(cov.as_ref()).ok()?;
    Some(Estimate {
        mean,
        factor,
        support: Vec::new(),
        steps: 0,
    })
}

/// The full covariance of a factor, `L Lᵀ`.
fn covariance(f: &Cholesky<f64>) -> Mat<f64> {
    let l = f.l();
    l * l.transpose()
}

fn scaled(m: &Mat<f64>, c: f64) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] * c)
}

/// The distinct candidates found (starts often converge to the same subset,
/// which would crowd out the others), best (lowest determinant) first, at
/// most [`KEEP`]; ties keep their order.
fn best_of(found: Vec<Option<Estimate>>) -> Vec<Estimate> {
    let mut all: Vec<Estimate> = found.into_iter().flatten().collect();
    all.sort_by(|a, b| a.log_det().total_cmp(&b.log_det()));
    let mut kept: Vec<Estimate> = Vec::with_capacity(KEEP);
    for e in all {
        if kept.len() == KEEP {
            break;
        }
        if !kept.iter().any(|k| k.support == e.support) {
            kept.push(e);
        }
    }
    kept
}

/// The rows `idx` of `x`, in that order.
fn gather<T: Scalar>(x: MatRef<'_, T>, idx: &[usize]) -> Mat<T> {
    Mat::from_fn(idx.len(), x.ncols(), |i, j| x[(idx[i], j)])
}

/// A random `(d + 1)`-subset, grown one random row at a time while its
/// scatter is singular.
fn random_start<T: Scalar>(x: MatRef<'_, T>, rng: &mut StdRng) -> Option<Estimate> {
    let (n, d) = (x.nrows(), x.ncols());
    let order = rand::seq::index::sample(rng, n, n.min(4 * (d + 1)).max(d + 1)).into_vec();
    let mut size = (d + 1).min(n);
    loop {
        let mut idx = order[..size].to_vec();
        idx.sort_unstable();
        if let Some(e) = scatter(x, &idx) {
            return Some(e);
        }
        if size == order.len() {
            return None;
        }
        size += 1;
    }
}

/// Keeps the `h` rows of `x` nearest to `e` and estimates from them; `None`
/// when their scatter is singular.
fn c_step<T: Scalar>(x: MatRef<'_, T>, e: &Estimate, h: usize) -> Option<Estimate> {
    let mut dist = vec![0.0; x.nrows()];
    sq_distances(x, e, &mut dist);
    let mut idx: Vec<usize> = (0..x.nrows()).collect();
    // The h smallest by (distance, row): the same set whatever the pivots.
    let order = |&a: &usize, &b: &usize| dist[a].total_cmp(&dist[b]).then(a.cmp(&b));
    if h < idx.len() {
        idx.select_nth_unstable_by(h, order);
        idx.truncate(h);
    }
    idx.sort_unstable();
    scatter(x, &idx)
}

/// C-steps from `e` until the determinant stops decreasing.
fn converge<T: Scalar>(x: MatRef<'_, T>, e: &Estimate, h: usize) -> Option<Estimate> {
    let mut current = c_step(x, e, h)?;
    let mut steps = 1;
    for _ in 0..MAX_C_STEPS {
        let Some(next) = c_step(x, &current, h) else {
            break;
        };
        steps += 1;
        let done = next.support == current.support || !(next.log_det() < current.log_det());
        if next.log_det() < current.log_det() {
            current = next;
        }
        if done {
            break;
        }
    }
    current.steps = steps;
    Some(current)
}

/// The mean and maximum-likelihood scatter of rows `idx` (ascending) of `x`,
/// in `f64`, centred on the mean (two passes: no cancellation); `None` when
/// the scatter is singular.
fn scatter<T: Scalar>(x: MatRef<'_, T>, idx: &[usize]) -> Option<Estimate> {
    let d = x.ncols();
    if idx.len() <= d {
        return None;
    }
    let count = idx.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| idx.iter().map(|&i| x[(i, j)].as_f64()).sum::<f64>() / count)
        .collect();
    // Blocks of centred rows, one matrix product each, summed in order.
    const BLOCK: usize = 256;
    let mut cov = Mat::<f64>::zeros(d, d);
    let mut block = Mat::<f64>::zeros(BLOCK, d);
    for rows in idx.chunks(BLOCK) {
        let m = rows.len();
        for j in 0..d {
            for (r, &i) in rows.iter().enumerate() {
                block[(r, j)] = x[(i, j)].as_f64() - mean[j];
            }
        }
        let b = block.as_ref().subrows(0, m);
        faer::linalg::matmul::matmul(
            cov.as_mut(),
            faer::Accum::Add,
            b.transpose(),
            b,
            1.0 / count,
            faer::Par::Seq,
        );
    }
    let factor = Cholesky::new(cov.as_ref()).ok()?;
    factor.log_det().is_finite().then(|| Estimate {
        mean,
        factor,
        support: idx.to_vec(),
        steps: 0,
    })
}

/// Squared Mahalanobis distances of every row of `x` under `e`, computed in
/// `T` by the mixtures' block kernel, in parallel over fixed chunks of rows.
fn sq_distances<T: Scalar>(x: MatRef<'_, T>, e: &Estimate, out: &mut [f64]) {
    let d = x.ncols();
    let l_inv = e.factor.l_inv();
    let l_inv = Mat::from_fn(d, d, |i, j| T::c(l_inv[(i, j)]));
    let mean: Vec<T> = e.mean.iter().map(|&m| T::c(m)).collect();
    out.par_chunks_mut(CHUNK_ROWS).enumerate().for_each_init(
        || {
            (
                vec![T::zero(); maha_work_len(CHUNK_ROWS, d)],
                vec![T::zero(); CHUNK_ROWS],
            )
        },
        |(work, tmp), (c, o)| {
            let start = c * CHUNK_ROWS;
            let rows = x.subrows(start, o.len());
            sq_mahalanobis_block(rows, &mean, l_inv.as_ref(), work, &mut tmp[..o.len()]);
            for (o, t) in o.iter_mut().zip(tmp.iter()) {
                *o = t.as_f64();
            }
        },
    );
}
