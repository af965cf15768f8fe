//! TEMPORARY stand-in for `GaussianMixtureModel::anomaly_scores_incomplete`
//! (being written on main; this file goes when it lands): the score
//! `−ln Σₖ P(k | x_o) Q_{χ²(|o|)}(δ²ₖ(x_o))`, each component's χ² tail
//! probability of the row's squared Mahalanobis distance on its observed
//! features, weighted by the responsibilities. One factorization of each
//! component's `Σ_oo` per missingness pattern. Also included by
//! `examples/missing_auc.rs` (with `#[path]`).

use mixtures_core::missing::IncompleteDataset;
use mixtures_core::special::ln_gamma;
use mixtures_core::{Cholesky, Scalar};
use mixtures_dist::{GaussianMixtureModel, ModelError};

/// `ln Q(a, x)`, the log of the regularized upper incomplete gamma
/// function; where `Q` underflows, the leading term of its asymptotic
/// expansion, `(a − 1) ln x − x − ln Γ(a)`.
fn ln_gamma_q(a: f64, x: f64) -> f64 {
    let q = mixtures_core::chi2::gamma_q(a, x);
    if q > 1e-300 {
        q.ln()
    } else {
        (a - 1.0) * x.ln() - x - ln_gamma(a)
    }
}

/// The stand-in's trait (an inherent method of the same name, once on main,
/// takes precedence).
pub trait TailScores<T: Scalar> {
    /// The tail score of every row.
    ///
    /// # Errors
    /// The model's errors on the data.
    fn anomaly_scores_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Vec<T>, ModelError>;
}

impl<T: Scalar> TailScores<T> for GaussianMixtureModel<T> {
    fn anomaly_scores_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Vec<T>, ModelError> {
        let resp = self.predict_proba_incomplete(data)?;
        let k = self.n_components();
        let g = self.components();
        let x = data.view();
        let mut out = vec![T::zero(); data.n_samples()];
        for p in data.patterns() {
            let o = &p.observed;
            let a = 0.5 * o.len() as f64;
            let mut terms = vec![vec![f64::NEG_INFINITY; k]; p.rows.len()];
            for c in 0..k {
                let s = g.covariance_matrix(c);
                let s_oo = faer::Mat::from_fn(o.len(), o.len(), |i, j| s[(o[i], o[j])]);
                let chol =
                    Cholesky::new(s_oo.as_ref()).map_err(|e| ModelError::NotPositiveDefinite {
                        component: Some(c),
                        source: e,
                    })?;
                let l_inv = chol.l_inv();
                let mu = g.mean(c);
                for (r, &i) in p.rows.iter().enumerate() {
                    let e: Vec<f64> = o.iter().map(|&j| (x[(i, j)] - mu[j]).as_f64()).collect();
                    let mut d2 = 0.0;
                    for a_ in 0..o.len() {
                        let z: f64 = (0..=a_).map(|b| l_inv[(a_, b)].as_f64() * e[b]).sum();
                        d2 += z * z;
                    }
                    let rc = resp[(i, c)].as_f64();
                    if rc > 0.0 {
                        terms[r][c] = rc.ln() + ln_gamma_q(a, 0.5 * d2);
                    }
                }
            }
            for (r, &i) in p.rows.iter().enumerate() {
                let m = terms[r].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + terms[r].iter().map(|t| (t - m).exp()).sum::<f64>().ln();
                out[i] = T::c(-lse);
            }
        }
        Ok(out)
    }
}
