//! Student-t mixtures on rows with missing features.
//!
//! The marginal of a multivariate t on the observed features `o` is a t with
//! the same `ν`, location `μ_o` and scale `Σ_oo`, so everything the Gaussian
//! methods (`incomplete.rs`) compute from a pattern's parts serves a
//! Student-t component as well, with its scale matrix in place of the
//! covariance: the squared Mahalanobis distance `δ²` of the observed
//! features, `ln det Σ_oo` and the conditional location of the missing
//! features, `μ_m + G (x_o − μ_o)` (the t's conditional mean where it has
//! one). The parts are those of the Gaussian mixture of the scale matrices;
//! each block's Gaussian log-densities are then turned into the t's,
//! `ln t = ln Γ((ν+|o|)/2) − ln Γ(ν/2) − (|o|/2) ln(νπ) − ½ ln det Σ_oo −
//! ((ν+|o|)/2) ln(1 + δ²/ν)`, as the E-step of the fit does
//! (`mixtures-em`'s `missing.rs`).
//!
//! The missing features given the observed ones and the component follow a
//! t with `ν + |o|` degrees of freedom, location `μ_m + G (x_o − μ_o)` and
//! scale `(ν + δ²)/(ν + |o|) · C`, `C = Λ_mm⁻¹` the Gaussian conditional
//! covariance of the scale matrices (Kotz & Nadarajah 2004; Ding
//! 2016): the conditional draws of [`StudentTMixtureModel::impute_draws`].
//!
//! ```
//! use mixtures_core::Dataset;
//! use mixtures_dist::{Mixture, StudentT};
//! use faer::mat;
//!
//! // One Cauchy component (ν = 1) with correlation 0.8 between the features.
//! let t = StudentT::full(mat![[0.0, 0.0]], vec![mat![[1.0, 0.8], [0.8, 1.0]]], vec![1.0])?;
//! let model = Mixture::new(vec![1.0_f64], t)?;
//! let data = Dataset::with_missing(&[1.0, f64::NAN], 1, 2)?;
//! // The density of x0 = 1 alone: a standard Cauchy's, 1 / (2π).
//! let lp = model.log_prob_incomplete(&data)?;
//! assert!((lp[0] + (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
//! // The tail score: −ln Pr(|X0| ≥ 1) = −ln ½.
//! let s = model.anomaly_scores_incomplete(&data)?;
//! assert!((s[0] - 2f64.ln()).abs() < 1e-12);
//! // The missing x1 is imputed by its conditional location 0.8 x0.
//! let filled = model.impute(&data)?;
//! assert!((filled.view()[(0, 1)] - 0.8).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use faer::Mat;
use mixtures_core::chi2::t_distance_ln_sf;
use mixtures_core::kernels::log_sum_exp_rows;
use mixtures_core::missing::{IncompleteDataset, Pattern};
use mixtures_core::special::ln_gamma_ratio;
use mixtures_core::{Dataset, LN_2PI, Scalar};

use crate::incomplete::{
    RowDraw, conditional_means, draw_missing, fill_missing, in_blocks, mixture_tail_score,
    responsibilities, row_draws,
};
use crate::{
    GaussianMixtureModel, IncompleteBlock, IncompleteParts, ModelError, StudentTMixtureModel,
};

/// `ln wₖ + ln tₖ(x_o)` from the Gaussian's `ln wₖ + ln Nₖ(x_o)` (`g`) under
/// the same scale, the squared distance `q` on `p` observed features and
/// `ν`: `ln N = ln w − ½ (p ln 2π + ln det Σ_oo) − q/2`, and
/// `ln t = ln w + ln Γ((ν+p)/2) − ln Γ(ν/2) − (p/2) ln(νπ) − ½ ln det Σ_oo
/// − ((ν+p)/2) ln(1 + q/ν)`. `−∞` for a NaN.
fn t_weighted(g: f64, q: f64, p: f64, nu: f64) -> f64 {
    let t = g + 0.5 * q + 0.5 * p * (2.0 / nu).ln() + ln_gamma_ratio(0.5 * nu, 0.5 * p)
        - 0.5 * (nu + p) * (q / nu).ln_1p();
    if t.is_nan() { f64::NEG_INFINITY } else { t }
}

/// Turns an evaluated block's Gaussian `weighted` into the t's, in place.
fn to_student<T: Scalar>(
    buf: &mut IncompleteBlock<T>,
    rows: &[(usize, usize)],
    pats: &[Pattern],
    dof: &[f64],
) {
    for (c, &nu) in dof.iter().enumerate() {
        for (i, &(_, p)) in rows.iter().enumerate() {
            let p = pats[p].observed.len() as f64;
            let (g, q) = (buf.weighted[(i, c)].as_f64(), buf.quad[(i, c)].as_f64());
            buf.weighted[(i, c)] = T::c(t_weighted(g, q, p, nu));
        }
    }
}

impl<T: Scalar> StudentTMixtureModel<T> {
    /// The Gaussian mixture of the components' scale matrices (same weights
    /// and locations), whose [`IncompleteParts`] serve the t's.
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] for a mixture with a noise component.
    fn scale_mixture(&self) -> Result<GaussianMixtureModel<T>, ModelError> {
        if self.noise().is_some() {
            return Err(ModelError::Unsupported {
                what: "a noise component with missing values".into(),
            });
        }
        GaussianMixtureModel::new(self.weights().to_vec(), self.components().scale().clone())
    }

    /// The degrees of freedom, in `f64`.
    fn dof_f64(&self) -> Vec<f64> {
        self.components().dof().iter().map(|v| v.as_f64()).collect()
    }

    /// Runs `f(parts, block rows, evaluated block, slots)` over the
    /// incomplete rows in blocks, in parallel, with the block's `weighted`
    /// holding `ln wₖ + ln tₖ(x_o)` (its `quad` and `centred` are the
    /// Gaussian's: the distances and the completed rows).
    fn per_block_t<O: Send + Default + Clone>(
        &self,
        data: &IncompleteDataset<T>,
        f: impl Fn(&IncompleteParts<T>, &[(usize, usize)], &IncompleteBlock<T>, &mut [O]) + Sync,
    ) -> Result<(IncompleteParts<T>, Vec<O>), ModelError> {
        let parts = self.scale_mixture()?.incomplete_parts(data)?;
        let dof = self.dof_f64();
        let pats = data.patterns();
        let out = in_blocks(
            &parts,
            data,
            |buf, rows| to_student(buf, rows, pats, &dof),
            f,
        );
        Ok((parts, out))
    }

    /// `ln p(x_o)` of every row: the density of the t mixture's marginal on
    /// its observed features (complete rows: [`crate::Mixture::log_prob`] of
    /// the complete rows, bit for bit).
    ///
    /// # Errors
    /// [`ModelError::Data`] for data of another dimension;
    /// [`ModelError::Unsupported`] for a mixture with a noise component;
    /// [`ModelError::NotPositiveDefinite`] if a block of a scale matrix's
    /// inverse cannot be factorized (as
    /// [`GaussianMixtureModel::incomplete_parts`]).
    pub fn log_prob_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Vec<T>, ModelError> {
        let (_, lp) = self.per_block_t(data, |_, rows, b, o: &mut [T]| {
            let m = rows.len();
            let mut mx = vec![T::zero(); m];
            log_sum_exp_rows(b.weighted.as_ref().subrows(0, m), o, &mut mx);
        })?;
        let mut out = vec![T::zero(); data.n_samples()];
        if let Some((complete, rows)) = data.complete_rows() {
            for (&i, v) in rows.iter().zip(self.log_prob(&complete)?) {
                out[i] = v;
            }
        }
        for (&(i, _), v) in data.incomplete_order().iter().zip(lp) {
            out[i] = v;
        }
        Ok(out)
    }

    /// `P(k | x_o)` of every row (`n x K`), from the t marginals.
    ///
    /// # Errors
    /// As [`StudentTMixtureModel::log_prob_incomplete`].
    pub fn predict_proba_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Mat<T>, ModelError> {
        let (_, r) = self.per_block_t(data, |_, rows, b, o: &mut [Vec<T>]| {
            let resp = responsibilities(b.weighted.as_ref().subrows(0, rows.len()), self.weights());
            for (i, slot) in o.iter_mut().enumerate() {
                *slot = resp.row(i).iter().copied().collect();
            }
        })?;
        let k = self.n_components();
        let mut out = Mat::<T>::zeros(data.n_samples(), k);
        if let Some((complete, rows)) = data.complete_rows() {
            let (_, r) = self.log_prob_and_responsibilities(&complete)?;
            for (a, &i) in rows.iter().enumerate() {
                for c in 0..k {
                    out[(i, c)] = r[(a, c)];
                }
            }
        }
        for (&(i, _), row) in data.incomplete_order().iter().zip(r) {
            for (c, v) in row.into_iter().enumerate() {
                out[(i, c)] = v;
            }
        }
        Ok(out)
    }

    /// An anomaly score comparable across rows with different numbers of
    /// observed features: the tail score of
    /// [`GaussianMixtureModel::anomaly_scores_incomplete`] with each
    /// component's t tail. A t component's marginal density falls `ℓ` below
    /// its peak at squared distance `δ² = ν (e^{2ℓ/(ν+|o|)} − 1)` (in the
    /// scale matrix's metric, on the `|o|` observed features), and under the
    /// component `δ²/|o| ~ F(|o|, νₖ)`, whose tail is
    /// `I_{ν/(ν+δ²)}(ν/2, |o|/2)` ([`mixtures_core::chi2::t_distance_ln_sf`]);
    /// for one component the score is that tail at the row's distance,
    /// uniform on `(0, 1)` whatever `|o|`, and approaches the chi-square one
    /// as `ν → ∞`. Computed in log space: finite far in the tail. Complete
    /// rows are scored by the same rule with `|o| = D`.
    ///
    /// # Errors
    /// As [`StudentTMixtureModel::log_prob_incomplete`].
    pub fn anomaly_scores_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Vec<T>, ModelError> {
        let (k, d) = (self.n_components(), self.dim());
        let dof = self.dof_f64();
        let pats = data.patterns();
        let log_weights: Vec<f64> = self.log_weights[..k].iter().map(|v| v.as_f64()).collect();
        // A t component's density is ((ν + |o|)/2) ln(1 + δ²/ν) below its
        // peak at distance δ, so below level ℓ beyond
        // δ² = ν (e^{2ℓ/(ν + |o|)} − 1).
        let score = |weighted: &[f64], quad: &[f64], p: usize| {
            let p = p as f64;
            mixture_tail_score(
                weighted,
                &log_weights,
                |c| 0.5 * (dof[c] + p) * (quad[c].max(0.0) / dof[c]).ln_1p(),
                |c, level| {
                    let q = dof[c] * (2.0 * level / (dof[c] + p)).exp_m1();
                    t_distance_ln_sf(q, p, dof[c])
                },
            )
        };
        let (_, scores) = self.per_block_t(data, |_, rows, b, o: &mut [T]| {
            let (mut weighted, mut quad) = (vec![0.0f64; k], vec![0.0f64; k]);
            for (i, (&(_, p), slot)) in rows.iter().zip(o.iter_mut()).enumerate() {
                for c in 0..k {
                    weighted[c] = b.weighted[(i, c)].as_f64();
                    quad[c] = b.quad[(i, c)].as_f64();
                }
                *slot = T::c(score(&weighted, &quad, pats[p].observed.len()));
            }
        })?;
        let mut out = vec![T::zero(); data.n_samples()];
        if let Some((complete, rows)) = data.complete_rows() {
            // The distances from the scale mixture's Gaussian log-densities,
            // ln Nₖ(x) = −½ (D ln 2π + ln det Σₖ + δ²), then the t's.
            let scale = self.scale_mixture()?;
            let w = scale.weighted_log_prob(&complete)?;
            let g = scale.components();
            let (mut weighted, mut quad) = (vec![0.0f64; k], vec![0.0f64; k]);
            for (a, &i) in rows.iter().enumerate() {
                for c in 0..k {
                    let wc = w[(a, c)].as_f64();
                    let lp = wc - scale.log_weights[c].as_f64();
                    quad[c] = -2.0 * lp - d as f64 * LN_2PI - g.log_det(c).as_f64();
                    weighted[c] = t_weighted(wc, quad[c], d as f64, dof[c]);
                }
                out[i] = T::c(score(&weighted, &quad, d));
            }
        }
        for (&(i, _), v) in data.incomplete_order().iter().zip(scores) {
            out[i] = v;
        }
        Ok(out)
    }

    /// The data with every missing cell replaced by its conditional mean
    /// under the mixture, `Σₖ P(k | x_o) (μₖ,m + Gₖ (x_o − μₖ,o))` with the
    /// t marginals' responsibilities (each component's conditional location,
    /// its conditional mean where `ν + |o| > 1`; observed cells are kept as
    /// they are).
    ///
    /// # Errors
    /// As [`StudentTMixtureModel::log_prob_incomplete`].
    pub fn impute(&self, data: &IncompleteDataset<T>) -> Result<Dataset<T>, ModelError> {
        let (_, filled) = self.per_block_t(data, |parts, rows, b, o: &mut [Vec<T>]| {
            conditional_means(parts, rows, b, o, data.patterns(), self.weights());
        })?;
        fill_missing(data, filled)
    }

    /// `draws` data sets, each with every missing cell drawn from its
    /// conditional distribution under the mixture: a component `k` from
    /// `P(k | x_o)`, then `x_m` from that component's conditional t, with
    /// `ν + |o|` degrees of freedom, location `μ_m + G (x_o − μ_o)` and scale
    /// `(ν + δ²)/(ν + |o|) · C` — a Gaussian draw `L z` with `L Lᵀ = C`,
    /// scaled by `√((ν + δ²)/w)`, `w ~ χ²(ν + |o|)`. Multiple imputation;
    /// deterministic for a seed.
    ///
    /// # Errors
    /// As [`StudentTMixtureModel::log_prob_incomplete`].
    pub fn impute_draws(
        &self,
        data: &IncompleteDataset<T>,
        draws: usize,
        seed: u64,
    ) -> Result<Vec<Dataset<T>>, ModelError> {
        use rand::Rng;
        let pats = data.patterns();
        let (parts, rows) = self.per_block_t(data, |parts, rows, b, o: &mut [RowDraw<T>]| {
            row_draws(parts, rows, b, o, pats, self.weights());
        })?;
        let dof = self.dof_f64();
        draw_missing(data, &parts, &rows, (draws, seed), |rng, c, p, row| {
            // w ~ χ²(ν + |o|) = Gamma((ν + |o|)/2, scale 2).
            let shape = dof[c] + pats[p].observed.len() as f64;
            let w = rand_distr::Gamma::new(0.5 * shape, 2.0)
                .map(|g| rng.sample(g))
                .unwrap_or(shape);
            ((dof[c] + row.quad[c]) / w).sqrt()
        })
    }
}
