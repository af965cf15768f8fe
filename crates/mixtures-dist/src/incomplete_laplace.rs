//! Laplace mixtures on rows with missing features. The features of a Laplace
//! component are independent, so a row's marginal density is the product of
//! its observed features' densities, and a missing feature's conditional
//! distribution given the component is the component's own: everything is
//! exact, with no per-pattern work.

use faer::Mat;
use mixtures_core::chi2::ln_gamma_q;
use mixtures_core::kernels::log_sum_exp_rows;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{CHUNK_ROWS, DataError, Dataset, Scalar};
use num_traits::Float;
use rayon::prelude::*;

use crate::{LaplaceMixtureModel, ModelError};

impl<T: Scalar> LaplaceMixtureModel<T> {
    /// The `n x K` matrix of `ln wₖ + Σ_{j observed} ln pₖⱼ(xⱼ)`.
    ///
    /// # Errors
    /// [`ModelError::Data`] for data of another dimension;
    /// [`ModelError::Unsupported`] for a mixture with a noise component.
    pub fn weighted_log_prob_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Mat<T>, ModelError> {
        let (k, d) = (self.n_components(), self.dim());
        if data.n_features() != d {
            return Err(ModelError::Data(DataError::DimensionMismatch {
                expected: d,
                found: data.n_features(),
            }));
        }
        if self.noise().is_some() {
            return Err(ModelError::Unsupported {
                what: "a noise component with missing values".into(),
            });
        }
        let comps = self.components();
        let x = data.view();
        let ln2 = T::c(core::f64::consts::LN_2);
        let mut out = Mat::<T>::zeros(data.n_samples(), k);
        // Column by column of the output (a component each), in parallel:
        // every entry depends only on its row.
        out.par_col_iter_mut().enumerate().for_each(|(c, col)| {
            let lw = self.log_weights[c];
            for (i, o) in col.iter_mut().enumerate() {
                let mut s = lw;
                for j in 0..d {
                    let v = x[(i, j)];
                    if !v.is_nan() {
                        let b = comps.scale(c, j);
                        s -= ln2 + Float::ln(b) + Float::abs(v - comps.location(c)[j]) / b;
                    }
                }
                *o = if s.is_nan() { T::neg_infinity() } else { s };
            }
        });
        Ok(out)
    }

    /// `ln p(x_o)` of every row (complete rows: [`crate::Mixture::log_prob`]
    /// of the complete rows, bit for bit).
    ///
    /// # Errors
    /// As [`LaplaceMixtureModel::weighted_log_prob_incomplete`].
    pub fn log_prob_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Vec<T>, ModelError> {
        let w = self.weighted_log_prob_incomplete(data)?;
        let n = data.n_samples();
        let mut out = vec![T::zero(); n];
        let mut mx = vec![T::zero(); n];
        log_sum_exp_rows(w.as_ref(), &mut out, &mut mx);
        if let Some((complete, rows)) = data.complete_rows() {
            for (&i, v) in rows.iter().zip(self.log_prob(&complete)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// `P(k | x_o)` of every row (`n x K`).
    ///
    /// # Errors
    /// As [`LaplaceMixtureModel::weighted_log_prob_incomplete`].
    pub fn predict_proba_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Mat<T>, ModelError> {
        let w = self.weighted_log_prob_incomplete(data)?;
        Ok(crate::incomplete::responsibilities(
            w.as_ref(),
            self.weights(),
        ))
    }

    /// An anomaly score comparable across rows with different numbers of
    /// observed features: the tail score of
    /// [`GaussianMixtureModel::anomaly_scores_incomplete`](crate::GaussianMixtureModel::anomaly_scores_incomplete)
    /// with each component's Laplace tail. A component's density on the
    /// observed features falls `ℓ` below its peak where
    /// `s = Σ_{j observed} |xⱼ − μⱼ| / bⱼ = ℓ`, and under the component each
    /// term of `s` is a standard exponential, so `s` follows a Gamma(|o|, 1)
    /// distribution whose upper tail `Q(|o|, ℓ)` (the regularized incomplete
    /// gamma function) gives the term; for one component the score is
    /// `−ln Q(|o|, s)`, uniform whatever `|o|`. Complete rows are scored by
    /// the same rule with `|o| = D`.
    ///
    /// # Errors
    /// As [`LaplaceMixtureModel::weighted_log_prob_incomplete`].
    pub fn anomaly_scores_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Vec<T>, ModelError> {
        let w = self.weighted_log_prob_incomplete(data)?;
        let (k, d) = (self.n_components(), self.dim());
        let log_weights: Vec<f64> = self.log_weights[..k].iter().map(|v| v.as_f64()).collect();
        let comps = self.components();
        let x = data.view();
        let mut out = vec![T::zero(); data.n_samples()];
        out.par_chunks_mut(CHUNK_ROWS)
            .enumerate()
            .for_each(|(ci, chunk)| {
                let (mut weighted, mut dist) = (vec![0.0f64; k], vec![0.0f64; k]);
                for (a, slot) in chunk.iter_mut().enumerate() {
                    let i = ci * CHUNK_ROWS + a;
                    let mut observed = 0usize;
                    dist.fill(0.0);
                    for j in 0..d {
                        let v = x[(i, j)];
                        if v.is_nan() {
                            continue;
                        }
                        observed += 1;
                        for (c, s) in dist.iter_mut().enumerate() {
                            *s +=
                                (Float::abs(v - comps.location(c)[j]) / comps.scale(c, j)).as_f64();
                        }
                    }
                    for (c, v) in weighted.iter_mut().enumerate() {
                        *v = w[(i, c)].as_f64();
                    }
                    let p = observed as f64;
                    // A component's density is below level ℓ beyond s = ℓ.
                    *slot = T::c(crate::incomplete::mixture_tail_score(
                        &weighted,
                        &log_weights,
                        |c| dist[c],
                        |_, level| ln_gamma_q(p, level),
                    ));
                }
            });
        Ok(out)
    }

    /// The data with every missing cell replaced by its conditional mean,
    /// `Σₖ P(k | x_o) μₖⱼ` (a Laplace component's mean is its location).
    ///
    /// # Errors
    /// As [`LaplaceMixtureModel::weighted_log_prob_incomplete`].
    pub fn impute(&self, data: &IncompleteDataset<T>) -> Result<Dataset<T>, ModelError> {
        let r = self.predict_proba_incomplete(data)?;
        let comps = self.components();
        let x = data.view();
        let filled = Mat::from_fn(data.n_samples(), data.n_features(), |i, j| {
            let v = x[(i, j)];
            if v.is_nan() {
                (0..r.ncols())
                    .map(|c| r[(i, c)] * comps.location(c)[j])
                    .sum()
            } else {
                v
            }
        });
        crate::incomplete::filled_dataset(filled, data)
    }

    /// `draws` data sets, each with every missing cell drawn from its
    /// conditional distribution under the mixture: a component `k` from
    /// `P(k | x_o)`, then each missing feature from the component's own
    /// Laplace (the features are independent given the component).
    /// Multiple imputation; deterministic for a seed.
    ///
    /// # Errors
    /// As [`LaplaceMixtureModel::weighted_log_prob_incomplete`].
    pub fn impute_draws(
        &self,
        data: &IncompleteDataset<T>,
        draws: usize,
        seed: u64,
    ) -> Result<Vec<Dataset<T>>, ModelError> {
        use rand::{Rng, SeedableRng};
        let r = self.predict_proba_incomplete(data)?;
        let comps = self.components();
        let pats = data.patterns();
        let k = self.n_components();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(draws);
        for _ in 0..draws {
            let mut x = data.view().to_owned();
            for &(i, p) in data.incomplete_order() {
                let u: f64 = rng.random();
                let c = crate::incomplete::pick_component((0..k).map(|cc| r[(i, cc)].as_f64()), u);
                for &j in &pats[p].missing {
                    // The difference of two unit exponentials is a standard
                    // Laplace draw (as the family's sampler).
                    let e1: f64 = rng.sample(rand_distr::Exp1);
                    let e2: f64 = rng.sample(rand_distr::Exp1);
                    x[(i, j)] = comps.location(c)[j] + comps.scale(c, j) * T::c(e1 - e2);
                }
            }
            out.push(crate::incomplete::filled_dataset(x, data)?);
        }
        Ok(out)
    }
}
