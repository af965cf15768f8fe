//! Finite mixtures `p(x) = Σₖ wₖ pₖ(x)` over any component family.

use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Mat, MatMut, MatRef};
use mixtures_core::kernels::{log_sum_exp_rows, softmax_rows};
use mixtures_core::{CHUNK_ROWS, DataError, Dataset, Scalar};
use num_traits::Float;
use rand::Rng;
use rayon::prelude::*;

use crate::{Components, FreeParameters, Gaussian, Laplace, LogDensity, ModelError, Sample};

/// A mixture of Gaussian components.
pub type GaussianMixtureModel<T> = Mixture<T, Gaussian<T>>;
/// A mixture of Laplace components.
pub type LaplaceMixtureModel<T> = Mixture<T, Laplace<T>>;
/// A mixture of Student-t components.
pub type StudentTMixtureModel<T> = Mixture<T, crate::StudentT<T>>;

/// A finite mixture: `K` non-negative weights summing to one and a component
/// family `C` with `K` components.
///
/// Evaluation works on fixed blocks of [`CHUNK_ROWS`] rows in parallel (rayon),
/// with scratch allocated once per thread; every output row depends only on its
/// own input row, so results are bit-identical whatever the number of threads.
///
/// ```
/// use mixtures_dist::{Gaussian, Mixture};
/// use mixtures_core::Dataset;
/// use faer::mat;
///
/// let comps = Gaussian::spherical(mat![[0.0_f64], [10.0]], vec![1.0, 1.0])?;
/// let model = Mixture::new(vec![0.5, 0.5], comps)?;
/// let x = Dataset::from_rows(&[[0.0], [10.0], [5.0]])?;
/// let lp = model.log_prob(&x)?;
/// assert!((lp[0] - lp[1]).abs() < 1e-12);
/// assert_eq!(model.predict(&x)?[1], 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture<T: Scalar, C> {
    /// The `K` components' weights, then the noise's when there is one.
    pub(crate) weights: Vec<T>,
    pub(crate) log_weights: Vec<T>,
    pub(crate) components: C,
    /// The region of a uniform noise component (see [`crate::noise`]).
    pub(crate) noise: Option<crate::UniformNoise<T>>,
    pub(crate) feature_names: Option<Vec<String>>,
}

/// Relative tolerance on `|Σ w − 1|` before the weights are renormalized.
pub const WEIGHT_SUM_TOLERANCE: f64 = 1e-5;

impl<T: Scalar, C: Components<T>> Mixture<T, C> {
    /// Builds a mixture from weights and components.
    ///
    /// Weights must be finite, non-negative and sum to one within
    /// [`WEIGHT_SUM_TOLERANCE`]; they are then renormalized to sum to one,
    /// unless their sum is already one to rounding (within `2 K ε`), so that
    /// rebuilding a mixture from its own weights (a model file read back, say)
    /// leaves them bit for bit unchanged.
    ///
    /// # Errors
    /// [`ModelError::WrongCount`] if the number of weights is not `K`,
    /// [`ModelError::InvalidWeight`] naming the component, or
    /// [`ModelError::WeightSum`].
    pub fn new(weights: Vec<T>, components: C) -> Result<Self, ModelError> {
        Self::assemble(weights, components, None)
    }

    /// [`Mixture::new`] with the noise's weight last in `weights` when
    /// `noise` is given.
    pub(crate) fn assemble(
        weights: Vec<T>,
        components: C,
        noise: Option<crate::UniformNoise<T>>,
    ) -> Result<Self, ModelError> {
        if let Some(r) = &noise
            && r.dim() != components.dim()
        {
            return Err(ModelError::invalid(
                "noise",
                r.dim(),
                "the noise box must have one side per feature of the components",
            ));
        }
        let k = components.n_components() + usize::from(noise.is_some());
        if weights.len() != k {
            return Err(ModelError::WrongCount {
                what: "weights",
                expected: k,
                found: weights.len(),
            });
        }
        if let Some(c) = weights
            .iter()
            .position(|w| !(w.is_finite() && *w >= T::zero()))
        {
            return Err(ModelError::InvalidWeight {
                component: c,
                value: weights[c].as_f64(),
            });
        }
        let sum: f64 = weights.iter().map(|w| w.as_f64()).sum();
        if !((sum - 1.0).abs() <= WEIGHT_SUM_TOLERANCE) {
            return Err(ModelError::WeightSum {
                sum,
                tolerance: WEIGHT_SUM_TOLERANCE,
            });
        }
        // Renormalized weights sum to one within about K ε of T, so they are
        // never renormalized again: construction is idempotent.
        let rounding = 2.0 * k as f64 * T::epsilon().as_f64();
        let weights: Vec<T> = if (sum - 1.0).abs() <= rounding {
            // Kept as given, but a weight may exceed one by rounding (`[0, 1 + ε]`);
            // it is a probability, and responsibilities fall back to the weights.
            weights.into_iter().map(|w| w.min(T::one())).collect()
        } else {
            weights.iter().map(|&w| T::c(w.as_f64() / sum)).collect()
        };
        let log_weights = weights.iter().map(|&w| Float::ln(w)).collect();
        Ok(Self {
            weights,
            log_weights,
            components,
            noise,
            feature_names: None,
        })
    }

    /// Attaches feature names (one per dimension), kept in model files.
    ///
    /// # Errors
    /// [`ModelError::FeatureNames`] if the count is not `D`.
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self, ModelError> {
        if names.len() != self.dim() {
            return Err(ModelError::FeatureNames {
                expected: self.dim(),
                found: names.len(),
            });
        }
        self.feature_names = Some(names);
        Ok(self)
    }

    /// The feature names, if any.
    pub fn feature_names(&self) -> Option<&[String]> {
        self.feature_names.as_deref()
    }

    /// The components' mixing weights: they sum to one, or to one minus the
    /// noise's weight ([`Mixture::noise`]).
    pub fn weights(&self) -> &[T] {
        &self.weights[..self.n_components()]
    }

    /// The component family.
    pub fn components(&self) -> &C {
        &self.components
    }

    /// Number of components `K`.
    pub fn n_components(&self) -> usize {
        self.components.n_components()
    }

    /// Dimension `D`.
    pub fn dim(&self) -> usize {
        self.components.dim()
    }

    /// Splits into the components' weights and the components (a noise
    /// component is dropped: see [`Mixture::noise`] first).
    pub fn into_parts(mut self) -> (Vec<T>, C) {
        self.weights.truncate(self.components.n_components());
        (self.weights, self.components)
    }
}

impl<T: Scalar, C: FreeParameters + Components<T>> Mixture<T, C> {
    /// Number of free parameters: the components' plus `K − 1` weights
    /// (scikit-learn's `_n_parameters`), plus the noise's weight when there
    /// is one (its box is taken from the data, as mclust's volume is), for
    /// AIC and BIC.
    pub fn n_parameters(&self) -> usize {
        self.components.n_free_parameters() + self.n_columns() - 1
    }
}

impl<T: Scalar> Mixture<T, crate::Gaussian<T>> {
    /// The mixture of components `keep` only (indices, in that order), their
    /// weights rescaled to sum to one and the covariance structure kept: how
    /// components judged negligible are dropped.
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] for an empty `keep`, an index out of
    /// range, or kept components of zero total weight.
    pub fn keep_components(&self, keep: &[usize]) -> Result<Self, ModelError> {
        let components = self.components.select(keep)?;
        let total: f64 = keep.iter().map(|&i| self.weights[i].as_f64()).sum();
        if !(total > 0.0) {
            return Err(ModelError::invalid(
                "keep",
                keep.len(),
                "the kept components have no weight",
            ));
        }
        let weights = keep
            .iter()
            .map(|&i| T::c(self.weights[i].as_f64() / total))
            .collect();
        let kept = Self::new(weights, components)?;
        match self.noise() {
            Some((w, region)) => kept.add_noise(w, region.clone()),
            None => Ok(kept),
        }
    }
}

impl<T: Scalar, C: LogDensity<T>> Mixture<T, C> {
    /// Writes `ln wₖ + ln pₖ(xᵢ)` for a block of rows into `out` (`m x K`,
    /// or `m x (K + 1)` with a noise component: its `ln w − ln V` inside the
    /// box, `−∞` outside, in the last column; [`Mixture::n_columns`]).
    ///
    /// This is the kernel every evaluation (and the EM E-step) is built on.
    pub fn weighted_log_prob_block(
        &self,
        x: MatRef<'_, T>,
        mut out: MatMut<'_, T>,
        scratch: &mut C::Scratch,
    ) {
        let k = self.n_components();
        self.components
            .log_density_block(x, out.rb_mut().subcols_mut(0, k), scratch);
        for (k, &lw) in self.log_weights[..k].iter().enumerate() {
            for o in out.rb_mut().col_mut(k).iter_mut() {
                // For finite points and a valid model, NaN comes only from an
                // overflow (`∞ − ∞` between whitened coordinates that overflowed):
                // the point is infinitely far in floating point, so its density
                // is zero, as when a squared distance overflows to `∞`.
                let v = *o + lw;
                *o = if v.is_nan() { T::neg_infinity() } else { v };
            }
        }
        if let Some(region) = &self.noise {
            let inside = self.log_weights[k] - T::c(region.log_volume());
            for (i, o) in out.rb_mut().col_mut(k).iter_mut().enumerate() {
                *o = if region.contains(x.row(i).iter().copied()) {
                    inside
                } else {
                    T::neg_infinity()
                };
            }
        }
    }

    /// Runs `f(block of x, block of out)` over fixed row blocks in parallel, with
    /// one `m x K` weighted log-probability buffer and family scratch per thread.
    fn par_blocks<O: Send>(
        &self,
        x: MatRef<'_, T>,
        out: &mut [O],
        f: impl Fn(MatMut<'_, T>, &mut [T], &mut [O]) + Sync,
    ) {
        let k = self.n_columns();
        out.par_chunks_mut(CHUNK_ROWS)
            .zip(x.par_row_chunks(CHUNK_ROWS))
            .for_each_init(
                || {
                    (
                        Mat::<T>::zeros(CHUNK_ROWS, k),
                        self.components.scratch(CHUNK_ROWS),
                        vec![T::zero(); CHUNK_ROWS],
                    )
                },
                |(wlp, scratch, tmp), (o, xb)| {
                    let m = xb.nrows();
                    let mut w = wlp.as_mut().subrows_mut(0, m);
                    self.weighted_log_prob_block(xb, w.rb_mut(), scratch);
                    f(w, &mut tmp[..m], o);
                },
            );
    }

    /// `ln p(xᵢ)` for every row: scikit-learn's `score_samples`.
    ///
    /// Computed in log space with a max-shifted log-sum-exp, so a point far from
    /// every component gets a finite, very negative value (`−∞` only if its
    /// squared distance overflows the floating-point type).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] if the data has another dimension.
    pub fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        data.check_dim(self.dim())?;
        let mut out = vec![T::zero(); data.n_samples()];
        self.par_blocks(data.view(), &mut out, |w, mx, o| {
            log_sum_exp_rows(w.rb(), o, mx);
        });
        Ok(out)
    }

    /// The `n x K` matrix of `ln wₖ + ln pₖ(xᵢ)` (scikit-learn's
    /// `_estimate_weighted_log_prob`).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn weighted_log_prob(&self, data: &Dataset<T>) -> Result<Mat<T>, DataError> {
        data.check_dim(self.dim())?;
        let k = self.n_columns();
        let mut out = Mat::<T>::zeros(data.n_samples(), k);
        out.as_mut()
            .par_row_chunks_mut(CHUNK_ROWS)
            .zip(data.view().par_row_chunks(CHUNK_ROWS))
            .for_each_init(
                || self.components.scratch(CHUNK_ROWS),
                |scratch, (o, xb)| self.weighted_log_prob_block(xb, o, scratch),
            );
        Ok(out)
    }

    /// `ln p(xᵢ)` and the `n x K` responsibilities `P(k | xᵢ)` in one pass
    /// (`n x (K + 1)` with a noise component, its probability last).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn log_prob_and_responsibilities(
        &self,
        data: &Dataset<T>,
    ) -> Result<(Vec<T>, Mat<T>), DataError> {
        data.check_dim(self.dim())?;
        let (n, k) = (data.n_samples(), self.n_columns());
        let mut resp = Mat::<T>::zeros(n, k);
        let mut lp = vec![T::zero(); n];
        resp.as_mut()
            .par_row_chunks_mut(CHUNK_ROWS)
            .zip(data.view().par_row_chunks(CHUNK_ROWS))
            .zip(lp.par_chunks_mut(CHUNK_ROWS))
            .for_each_init(
                || {
                    (
                        self.components.scratch(CHUNK_ROWS),
                        vec![T::zero(); CHUNK_ROWS],
                        vec![T::zero(); CHUNK_ROWS],
                    )
                },
                |(scratch, mx, sum), ((mut r, xb), lse)| {
                    self.weighted_log_prob_block(xb, r.rb_mut(), scratch);
                    softmax_rows(r, lse, mx, sum, &self.weights);
                },
            );
        Ok((lp, resp))
    }

    /// The `n x K` responsibilities `P(k | xᵢ)` (scikit-learn's `predict_proba`;
    /// `n x (K + 1)` with a noise component, its probability last, as
    /// mclust's `z`). Each row sums to one.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn responsibilities(&self, data: &Dataset<T>) -> Result<Mat<T>, DataError> {
        self.log_prob_and_responsibilities(data).map(|(_, r)| r)
    }

    /// The most probable component of every row (ties go to the lower index);
    /// `K` (one past the last component) for a row the noise component claims.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn predict(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        data.check_dim(self.dim())?;
        let mut out = vec![0usize; data.n_samples()];
        self.par_blocks(data.view(), &mut out, |w, best, o| {
            argmax_rows(w.rb(), best, o);
        });
        Ok(out)
    }

    /// `ln p(xᵢ)` and the most probable component of every row in one pass
    /// (what scoring prints): [`Mixture::log_prob`] and [`Mixture::predict`]
    /// without computing the log-densities twice.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn log_prob_and_predict(
        &self,
        data: &Dataset<T>,
    ) -> Result<(Vec<T>, Vec<usize>), DataError> {
        data.check_dim(self.dim())?;
        let n = data.n_samples();
        let mut lp = vec![T::zero(); n];
        let mut labels = vec![0usize; n];
        let k = self.n_columns();
        lp.par_chunks_mut(CHUNK_ROWS)
            .zip(labels.par_chunks_mut(CHUNK_ROWS))
            .zip(data.view().par_row_chunks(CHUNK_ROWS))
            .for_each_init(
                || {
                    (
                        Mat::<T>::zeros(CHUNK_ROWS, k),
                        self.components.scratch(CHUNK_ROWS),
                        vec![T::zero(); CHUNK_ROWS],
                    )
                },
                |(wlp, scratch, tmp), ((l, o), xb)| {
                    let m = xb.nrows();
                    let mut w = wlp.as_mut().subrows_mut(0, m);
                    self.weighted_log_prob_block(xb, w.rb_mut(), scratch);
                    argmax_rows(w.rb(), &mut tmp[..m], o);
                    log_sum_exp_rows(w.rb(), l, &mut tmp[..m]);
                },
            );
        Ok((lp, labels))
    }

    /// Mean log-density of the data (scikit-learn's `score`), weighted by the
    /// sample weights when the data set has them (rows of weight zero do not
    /// count, even at a log-density of `−∞`). Accumulated in `f64` in row
    /// order.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn score(&self, data: &Dataset<T>) -> Result<f64, DataError> {
        let lp = self.log_prob(data)?;
        Ok(match data.weights() {
            Some(w) => {
                // Skipped rather than multiplied: 0 × −∞ would be NaN.
                let s: f64 = lp
                    .iter()
                    .zip(w)
                    .filter(|(_, w)| **w > T::zero())
                    .map(|(l, w)| l.as_f64() * w.as_f64())
                    .sum();
                s / data.total_weight()
            }
            None => lp.iter().map(|l| l.as_f64()).sum::<f64>() / lp.len() as f64,
        })
    }
}

impl<T: Scalar> Mixture<T, Gaussian<T>> {
    /// The largest relative difference between two Gaussian mixtures'
    /// parameters, component by component in their order: weights and means
    /// relative to the larger of the two values, covariance entries relative
    /// to the larger of their row's and column's variances (so that entries
    /// near zero are not magnified). `None` when the two differ in the number
    /// of components or features. For comparing fits that should agree (the
    /// same data read two ways, say); it does not match components up.
    ///
    /// ```
    /// use mixtures_dist::{Gaussian, Mixture};
    /// use faer::mat;
    ///
    /// let a = Mixture::new(vec![1.0_f64], Gaussian::spherical(mat![[1.0]], vec![2.0])?)?;
    /// let b = Mixture::new(vec![1.0_f64], Gaussian::spherical(mat![[1.0]], vec![2.0 + 2e-9])?)?;
    /// let gap = a.largest_relative_difference(&b).ok_or("shapes differ")?;
    /// assert!((gap - 1e-9).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn largest_relative_difference(&self, other: &Self) -> Option<f64> {
        let (k, d) = (self.n_components(), self.dim());
        if other.n_components() != k || other.dim() != d {
            return None;
        }
        let rel = |a: f64, b: f64| (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE);
        let mut gap = 0.0f64;
        for (a, b) in self.weights.iter().zip(&other.weights) {
            gap = gap.max(rel(a.as_f64(), b.as_f64()));
        }
        let (ma, mb) = (self.components.means(), other.components.means());
        for c in 0..k {
            for j in 0..d {
                gap = gap.max(rel(ma[(c, j)].as_f64(), mb[(c, j)].as_f64()));
            }
            let (ca, cb) = (
                self.components.covariance_matrix(c),
                other.components.covariance_matrix(c),
            );
            for i in 0..d {
                for j in 0..d {
                    let scale = ca[(i, i)].as_f64().abs().max(ca[(j, j)].as_f64().abs());
                    let diff = (ca[(i, j)].as_f64() - cb[(i, j)].as_f64()).abs();
                    gap = gap.max(diff / scale.max(f64::MIN_POSITIVE));
                }
            }
        }
        Some(gap)
    }
}

impl<T: Scalar, C: Sample<T>> Mixture<T, C> {
    /// [`Mixture::sample`] for a number of samples that comes from a user:
    /// `n` is checked before anything is allocated.
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] (`n_samples`) when the `n x D` matrix
    /// of samples cannot exist: its size in bytes overflows the address
    /// space (`isize::MAX`), where [`Mixture::sample`] would panic.
    pub fn try_sample<R: Rng + ?Sized>(
        &self,
        n: usize,
        rng: &mut R,
    ) -> Result<(Mat<T>, Vec<usize>), crate::ModelError> {
        check_sample_count::<T>(n, self.dim())?;
        Ok(self.sample(n, rng))
    }

    /// Draws `n` samples: returns the `n x D` samples and the component each came
    /// from (`K` for the noise's, drawn uniformly from its box). Deterministic for a given generator state. Panics, as any
    /// allocation does, when `n x D` values cannot be allocated; a number
    /// from a user goes through [`Mixture::try_sample`].
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Mat<T>, Vec<usize>) {
        let d = self.dim();
        let cum: Vec<f64> = self
            .weights
            .iter()
            .scan(0.0, |s, w| {
                *s += w.as_f64();
                Some(*s)
            })
            .collect();
        let total = cum.last().copied().unwrap_or(1.0);
        let last = self.n_columns() - 1;
        let mut x = Mat::<T>::zeros(n, d);
        let mut labels = Vec::with_capacity(n);
        let mut row = vec![T::zero(); d];
        for i in 0..n {
            let u: f64 = rng.random::<f64>() * total;
            // First component whose cumulative weight exceeds u; zero-weight
            // components are never chosen.
            let k = cum.partition_point(|&c| c <= u).min(last);
            match &self.noise {
                Some(region) if k == self.n_components() => region.sample(rng, &mut row),
                _ => self.components.sample_component(k, rng, &mut row),
            }
            for (j, &v) in row.iter().enumerate() {
                x[(i, j)] = v;
            }
            labels.push(k);
        }
        (x, labels)
    }
}

/// Refuses `n` samples of dimension `d` whose matrix (plus the labels) would
/// not fit in the address space, before any allocation.
pub(crate) fn check_sample_count<T: Scalar>(n: usize, d: usize) -> Result<(), crate::ModelError> {
    let bytes = n
        .checked_mul(d)
        .and_then(|e| e.checked_mul(core::mem::size_of::<T>()))
        .and_then(|b| b.checked_add(n.checked_mul(core::mem::size_of::<usize>())?));
    if bytes.is_some_and(|b| b <= isize::MAX as usize) {
        Ok(())
    } else {
        Err(crate::ModelError::invalid(
            "n_samples",
            n,
            "the samples (n x D values) would not fit in memory's address space",
        ))
    }
}

/// The column of the largest entry of every row of `w` into `out` (ties go
/// to the lower index), with `best` as scratch.
fn argmax_rows<T: Scalar>(w: MatRef<'_, T>, best: &mut [T], out: &mut [usize]) {
    best.fill(T::neg_infinity());
    out.fill(0);
    for k in 0..w.ncols() {
        for (i, &v) in w.col(k).iter().enumerate() {
            if v > best[i] {
                best[i] = v;
                out[i] = k;
            }
        }
    }
}
