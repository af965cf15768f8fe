//! Trimmed likelihood EM (Neykov, Filzmoser, Dimova & Neytchev 2007; the
//! "trimming" half of García-Escudero et al.'s TCLUST, without its
//! eigenvalue constraints), shared by every family.
//!
//! Each iteration first evaluates `ln p(xᵢ)` under the current model and
//! leaves out the least likely rows, up to a fraction `α` of the total
//! weight; the family's E- and M-step then run on the rows kept, as if the
//! others had weight zero. Choosing the rows is the C-step of FastMCD
//! applied to a mixture: for the current model, the kept set maximizes the
//! trimmed log-likelihood `Σ_kept wᵢ ln p(xᵢ)` over all sets of that weight,
//! and the EM step on the kept set does not decrease it; so the trimmed
//! log-likelihood never decreases. It is what the fit reports and converges
//! on, as a mean over the weight kept.
//!
//! The price is one more density pass per iteration (the selection must come
//! before the statistics are accumulated).

use std::borrow::Cow;

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{LogDensity, Mixture};

use crate::FitError;
use crate::common::final_log_likelihood;

/// The largest trimming fraction is below one half: trimming half the data
/// or more leaves a fit that the trimmed rows could have made instead.
pub const MAX_TRIM: f64 = 0.5;

/// Refuses a trimming fraction outside `[0, 0.5)`.
pub(crate) fn check_trim(alpha: f64) -> Result<(), FitError> {
    if (0.0..MAX_TRIM).contains(&alpha) {
        Ok(())
    } else {
        Err(FitError::invalid(
            "trim",
            alpha,
            "the fraction of rows left out must lie in [0, 0.5)",
        ))
    }
}

/// The row weights of one iteration and their total.
pub(crate) struct StepWeights<'a, T: Scalar> {
    /// `None`: every row has weight one.
    pub weights: Option<Cow<'a, [T]>>,
    /// `Σ wᵢ` over the rows kept.
    pub total: f64,
}

impl<T: Scalar> StepWeights<'_, T> {
    /// The weights as a pass takes them.
    pub fn as_deref(&self) -> Option<&[T]> {
        self.weights.as_deref()
    }
}

/// The weights of an iteration from `model`: the data's own without
/// trimming (no extra pass), otherwise with the least likely rows under
/// `model` left out.
///
/// # Errors
/// [`FitError::Data`] when the data's dimension is not the model's.
pub(crate) fn step_weights<'a, T: Scalar, C: LogDensity<T>>(
    model: &Mixture<T, C>,
    data: &'a Dataset<T>,
    alpha: f64,
) -> Result<StepWeights<'a, T>, FitError> {
    if alpha <= 0.0 {
        return Ok(StepWeights {
            weights: data.weights().map(Cow::Borrowed),
            total: data.total_weight(),
        });
    }
    let lp = model.log_prob(data)?;
    let kept = kept_weights(&lp, data, alpha);
    let total = kept.iter().map(|w| w.as_f64()).sum();
    Ok(StepWeights {
        weights: Some(Cow::Owned(kept)),
        total,
    })
}

/// A restart's final objective: the mean log-likelihood of the data, over
/// the rows kept when trimming.
///
/// # Errors
/// [`FitError::Degenerate`] when it is not finite.
pub(crate) fn objective<T: Scalar, C: LogDensity<T>>(
    model: &Mixture<T, C>,
    data: &Dataset<T>,
    alpha: f64,
) -> Result<f64, FitError> {
    let mean = if alpha <= 0.0 {
        model.score(data).unwrap_or(f64::NEG_INFINITY)
    } else {
        model
            .log_prob(data)
            .map_or(f64::NEG_INFINITY, |lp| trimmed_mean(&lp, data, alpha))
    };
    final_log_likelihood(mean)
}

/// The weight a trimmed fit keeps, for the report and the criteria: exactly
/// `n − ⌊α n⌋` for unit weights, nominally `(1 − α) W` with sample weights
/// (the rows left out weigh at most `α W`).
pub(crate) fn kept_total<T: Scalar>(data: &Dataset<T>, alpha: f64) -> f64 {
    if alpha <= 0.0 {
        return data.total_weight();
    }
    match data.weights() {
        None => {
            let n = data.n_samples();
            (n - ((alpha * n as f64).floor() as usize).min(n)) as f64
        }
        Some(_) => data.total_weight() * (1.0 - alpha),
    }
}

/// The sample weights with the least likely rows set to zero: rows in
/// increasing order of `lp` (ties: the later row first, so the choice is a
/// total order) are left out while the weight left out stays within
/// `α W`. For unit weights that is `⌊α n⌋` rows.
pub(crate) fn kept_weights<T: Scalar>(lp: &[T], data: &Dataset<T>, alpha: f64) -> Vec<T> {
    let weights = data.weights();
    let w = |i: usize| weights.map_or(T::one(), |w| w[i]);
    let mut order: Vec<usize> = (0..lp.len()).filter(|&i| w(i) > T::zero()).collect();
    // `total_cmp`: a total order even for a NaN (which a valid model never
    // gives), so the sort cannot see an inconsistent comparison.
    order.sort_unstable_by(|&a, &b| lp[a].as_f64().total_cmp(&lp[b].as_f64()).then(b.cmp(&a)));
    let budget = alpha * data.total_weight();
    let mut out: Vec<T> = (0..lp.len()).map(w).collect();
    let mut removed = 0.0;
    // Unit weights count exactly: ⌊α n⌋ without the rounding of a running sum.
    let count = weights
        .is_none()
        .then(|| (alpha * lp.len() as f64).floor() as usize);
    for (seen, &i) in order.iter().enumerate() {
        let wi = w(i).as_f64();
        let over = match count {
            Some(c) => seen >= c,
            None => removed + wi > budget,
        };
        if over {
            break;
        }
        removed += wi;
        out[i] = T::zero();
    }
    out
}

/// The trimmed mean log-likelihood of the data under a model whose
/// log-densities are `lp`: `Σ wᵢ ln p(xᵢ) / Σ wᵢ` over the rows kept (rows
/// of weight zero are skipped, not multiplied: `0 × −∞` is NaN).
pub(crate) fn trimmed_mean<T: Scalar>(lp: &[T], data: &Dataset<T>, alpha: f64) -> f64 {
    let kept = kept_weights(lp, data, alpha);
    kept_mean(lp, &kept)
}

/// `Σ wᵢ ln p(xᵢ) / Σ wᵢ` over the rows of positive weight `wᵢ = kept[i]`.
pub(crate) fn kept_mean<T: Scalar>(lp: &[T], kept: &[T]) -> f64 {
    let (mut s, mut total) = (0.0, 0.0);
    for (&l, &w) in lp.iter().zip(kept) {
        if w > T::zero() {
            s += w.as_f64() * l.as_f64();
            total += w.as_f64();
        }
    }
    s / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_weights_leave_out_the_floor_of_alpha_n_least_likely_rows() {
        let data = Dataset::from_rows(&[[0.0_f64]; 10]).unwrap();
        let lp = [5.0, -1.0, 3.0, -7.0, 2.0, 0.0, 1.0, 4.0, -2.0, 6.0];
        let kept = kept_weights(&lp, &data, 0.25);
        // ⌊2.5⌋ = 2 rows: the two smallest, -7 (row 3) and -2 (row 8).
        let zero: Vec<usize> = (0..10).filter(|&i| kept[i] == 0.0).collect();
        assert_eq!(zero, [3, 8]);
        assert!((trimmed_mean(&lp, &data, 0.25) - 20.0 / 8.0).abs() < 1e-15);
    }

    #[test]
    fn sample_weights_are_left_out_up_to_alpha_of_the_total() {
        let data = Dataset::from_rows(&[[0.0_f64]; 4])
            .unwrap()
            .with_weights(vec![1.0, 3.0, 1.0, 5.0])
            .unwrap();
        let lp = [0.0, -5.0, -1.0, 2.0];
        // Budget 0.3 x 10 = 3: row 1 (weight 3) fits exactly, row 2 not.
        let kept = kept_weights(&lp, &data, 0.3);
        assert_eq!(&kept[..], &[1.0, 0.0, 1.0, 5.0]);
        // Budget 2.9: row 1 does not fit, and nothing after it is tried.
        let kept = kept_weights(&lp, &data, 0.29);
        assert_eq!(&kept[..], &[1.0, 3.0, 1.0, 5.0]);
    }

    #[test]
    fn fractions_outside_zero_to_one_half_are_refused() {
        for a in [-0.1, 0.5, 0.7, f64::NAN, f64::INFINITY] {
            assert!(check_trim(a).is_err(), "{a}");
        }
        for a in [0.0, 0.05, 0.49] {
            assert!(check_trim(a).is_ok(), "{a}");
        }
    }
}
