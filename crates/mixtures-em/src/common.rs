//! Checks and data summaries shared by the families.

use faer::Mat;
use mixtures_core::{Dataset, Scalar};

use crate::FitError;
use crate::pass::{Source, Stats, gaussian_pass};
use crate::report::{
    DegeneracyAction, DegeneracyEvent, DegeneracyPolicy, DegeneracyReason, MAX_RESEEDS,
};

/// Refuses `k = 0` and data with fewer distinct rows (of positive weight) than
/// `k`. Stops looking once `k` distinct rows are found.
pub fn check_data<T: Scalar>(data: &Dataset<T>, k: usize) -> Result<(), FitError> {
    if k == 0 {
        return Err(FitError::InvalidParameter {
            name: "n_components",
            value: 0usize.into(),
            reason: "must be at least 1",
        });
    }
    let x = data.view();
    let (n, d) = (x.nrows(), x.ncols());
    // More components than rows can never be honoured: refused before the
    // list below is allocated, whose size would otherwise follow the user's
    // number (a `k` near `usize::MAX` overflowed the allocation).
    if k > n {
        return Err(FitError::TooFewDistinctPoints {
            distinct: count_distinct(data, n),
            k,
        });
    }
    let mut distinct: Vec<usize> = Vec::with_capacity(k);
    for i in 0..n {
        if data.weights().is_some_and(|w| w[i] == T::zero()) {
            continue;
        }
        let same = |r: &usize| (0..d).all(|j| x[(*r, j)] == x[(i, j)]);
        if !distinct.iter().any(same) {
            distinct.push(i);
            if distinct.len() >= k {
                return Ok(());
            }
        }
    }
    Err(FitError::TooFewDistinctPoints {
        distinct: distinct.len(),
        k,
    })
}

/// The number of distinct rows of positive weight among the first `n`, by
/// sorting row indices (`O(n log n)` comparisons, where the pairwise search
/// of [`check_data`] would be quadratic for a `k` beyond the rows). Rows
/// compare as `==` does, so `-0.0` and `0.0` are the same value.
fn count_distinct<T: Scalar>(data: &Dataset<T>, n: usize) -> usize {
    let x = data.view();
    let d = x.ncols();
    let mut rows: Vec<usize> = (0..n)
        .filter(|&i| !data.weights().is_some_and(|w| w[i] == T::zero()))
        .collect();
    let cmp = |a: &usize, b: &usize| {
        (0..d)
            .map(|j| {
                x[(*a, j)]
                    .partial_cmp(&x[(*b, j)])
                    .unwrap_or(core::cmp::Ordering::Equal)
            })
            .find(|o| o.is_ne())
            .unwrap_or(core::cmp::Ordering::Equal)
    };
    rows.sort_unstable_by(cmp);
    rows.dedup_by(|a, b| cmp(a, b).is_eq());
    rows.len()
}

/// The checks of [`check_data`] and [`check_scale`] for the rows of a fit,
/// and the settings a fit reading its rows in batches cannot honour. Out of
/// core, the distinct rows are counted in the initialization sample.
pub(crate) fn check_rows<T: Scalar>(
    rows: &crate::rows::Rows<'_, T>,
    k: usize,
    control: &crate::EmControl,
) -> Result<(), FitError> {
    check_rows_of(rows, k, control, true)
}

/// [`check_rows`] with `squares_in_t` as [`check_scale`] takes it.
pub(crate) fn check_rows_of<T: Scalar>(
    rows: &crate::rows::Rows<'_, T>,
    k: usize,
    control: &crate::EmControl,
    squares_in_t: bool,
) -> Result<(), FitError> {
    if let Some(data) = rows.memory() {
        check_data(data, k)?;
        return check_scale(data, squares_in_t);
    }
    if rows.incomplete_data().is_some() {
        if control.trim > 0.0 {
            return Err(FitError::MissingValues { what: "trimming" });
        }
        if control.noise.is_some() {
            return Err(FitError::MissingValues {
                what: "a noise component",
            });
        }
        // The filled rows have the observed rows' ranges.
        let filled = rows.reseed_rows();
        check_data(filled, k)?;
        return check_scale(filled, squares_in_t);
    }
    if control.trim > 0.0 {
        return Err(FitError::NeedsRowsInMemory { what: "trimming" });
    }
    if control.noise.is_some() {
        return Err(FitError::NeedsRowsInMemory {
            what: "a noise component",
        });
    }
    if control.init == crate::Init::RandomResponsibilities {
        return Err(FitError::NeedsRowsInMemory {
            what: "random initial responsibilities",
        });
    }
    check_data(rows.reseed_rows(), k)?;
    check_ranges::<T>(
        &rows.ranges(),
        rows.n_rows() as f64,
        rows.total_weight(),
        true,
    )
}

/// Refuses data whose spread would overflow the fit's arithmetic, before any
/// work.
///
/// The widest sum a fit forms is of squared deviations over the rows: a
/// covariance's scatter `Σ wᵢ rᵢₖ (xᵢⱼ − cⱼ)²` in `T` (Gaussian families,
/// `squares_in_t`), and the k-means distances `Σⱼ (xᵢⱼ − cⱼ)²` weighted over
/// the rows in `f64` (every family's initialization). With `R` a column's
/// spread (largest minus smallest value), `W` the larger of the total weight
/// and the number of rows, and `d` the number of columns, every such sum is
/// at most `d W R²`; it must stay below the largest number of its precision
/// with a margin of 64. Laplace fits sum absolute deviations in `T`, at most
/// `d W R`, which must stay below the largest number of `T` with the same
/// margin (it binds for `f32` data near 1e36).
///
/// Very small values need no check: their squares underflow towards zero,
/// the ridge (or the Laplace scale floor) then sets the variance, and
/// without one the component is degenerate (a typed error).
pub fn check_scale<T: Scalar>(data: &Dataset<T>, squares_in_t: bool) -> Result<(), FitError> {
    let ranges: Vec<(f64, f64)> = (0..data.n_features())
        .map(|j| data.column_range(j))
        .collect();
    check_ranges::<T>(
        &ranges,
        data.n_samples() as f64,
        data.total_weight(),
        squares_in_t,
    )
}

/// [`check_scale`] from the columns' ranges, the number of rows and their
/// total weight.
pub(crate) fn check_ranges<T: Scalar>(
    ranges: &[(f64, f64)],
    n: f64,
    total: f64,
    squares_in_t: bool,
) -> Result<(), FitError> {
    let d = ranges.len();
    let w = total.max(n);
    let max_sum = if squares_in_t {
        T::max_value().as_f64()
    } else {
        f64::MAX
    };
    let mut limit = (max_sum / 64.0 / (d as f64 * w)).sqrt();
    if !squares_in_t {
        // Laplace fits sum weighted absolute deviations `Σ wᵢ rᵢₖ |xᵢⱼ − mⱼ|`
        // (over the features too, for a spherical scale) in T: at most `d W R`,
        // which overflows f32 long before the f64 bound on squares binds.
        limit = limit.min(T::max_value().as_f64() / 64.0 / (d as f64 * w));
    }
    for (j, &(lo, hi)) in ranges.iter().enumerate() {
        let spread = hi - lo;
        if !(spread <= limit) {
            let f32_data = T::NAME == "f32";
            return Err(FitError::DataScale {
                column: j,
                spread,
                limit,
                precision: if squares_in_t { T::NAME } else { "f64" },
                hint: if f32_data { ", or fit in f64" } else { "" },
            });
        }
    }
    Ok(())
}

/// Weighted per-feature mean and variance (denominator `W − 1` when the total
/// weight `W` exceeds 1, as R's `var`), and the full covariance on request.
pub struct Summary<T: Scalar> {
    /// Weighted per-feature means.
    pub mean: Vec<T>,
    /// Weighted per-feature variances.
    pub var: Vec<T>,
    /// The weighted `D x D` covariance, when asked for.
    pub cov: Option<Mat<T>>,
}

/// The weighted summary of the data (one pass); the full covariance when
/// `full` is set.
pub fn summarize<T: Scalar>(data: &Dataset<T>, full: bool) -> Summary<T> {
    let x = data.view();
    let (n, d) = (x.nrows(), x.ncols());
    let total = data.total_weight();
    let mean: Vec<T> = (0..d)
        .map(|j| {
            let col = data.column(j);
            let s: f64 = match data.weights() {
                Some(w) => col
                    .iter()
                    .zip(w)
                    .map(|(v, w)| v.as_f64() * w.as_f64())
                    .sum(),
                None => col.iter().map(|v| v.as_f64()).sum(),
            };
            T::c(s / total)
        })
        .collect();
    let ones = Mat::<T>::from_fn(n, 1, |_, _| T::one());
    let shifts = Mat::from_fn(1, d, |_, j| mean[j]);
    let st = gaussian_pass(
        x,
        data.weights(),
        Source::Resp(ones.as_ref()),
        &shifts,
        full,
    );
    summary_from(mean, &st, total, full)
}

/// The summary from the means and the finished statistics of one component
/// of responsibility 1 shifted to the means (total weight `total`).
pub(crate) fn summary_from<T: Scalar>(
    mean: Vec<T>,
    st: &Stats<T>,
    total: f64,
    full: bool,
) -> Summary<T> {
    let d = mean.len();
    let den = if total > 1.0 { total - 1.0 } else { total };
    let nk = st.nk[0];
    let var = (0..d)
        .map(|j| {
            let q = if full {
                st.full[0][(j, j)]
            } else {
                st.diag[(0, j)]
            };
            let s = st.s[(0, j)];
            T::c(((q - s * s / nk).as_f64() / den).max(0.0))
        })
        .collect();
    let cov = full.then(|| {
        Mat::from_fn(d, d, |i, j| {
            let (a, b) = if i >= j { (i, j) } else { (j, i) };
            let v = st.full[0][(a, b)] - st.s[(0, a)] * st.s[(0, b)] / nk;
            T::c(v.as_f64() / den)
        })
    });
    Summary { mean, var, cov }
}

/// Decides and logs what happens to degenerate component `component` (its
/// original index): drop it under [`DegeneracyPolicy::Drop`] or after
/// [`MAX_RESEEDS`] re-seeds in this restart, re-seed it otherwise.
pub(crate) fn degeneracy_action(
    policy: DegeneracyPolicy,
    log: &mut Vec<DegeneracyEvent>,
    restart: usize,
    iteration: usize,
    component: usize,
    reason: DegeneracyReason,
) -> DegeneracyAction {
    let reseeds = log
        .iter()
        .filter(|e| e.component == component && e.action == DegeneracyAction::Reseeded)
        .count();
    let action = if policy == DegeneracyPolicy::Drop || reseeds >= MAX_RESEEDS {
        DegeneracyAction::Dropped
    } else {
        DegeneracyAction::Reseeded
    };
    log.push(DegeneracyEvent {
        restart,
        iteration,
        component,
        reason,
        action,
    });
    action
}

/// Gives a re-seeded component weight `1/K` and scales the others to keep the sum.
pub(crate) fn reweight_reseeded<T: Scalar>(weights: &mut [T], c: usize) {
    let kk = T::from_usize(weights.len());
    let rest: T = weights
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != c)
        .map(|(_, w)| *w)
        .sum();
    let scale = if rest > T::zero() {
        (T::one() - T::one() / kk) / rest
    } else {
        T::zero()
    };
    for (i, w) in weights.iter_mut().enumerate() {
        *w = if i == c { T::one() / kk } else { *w * scale };
    }
}

/// Removes entry `c` and renormalizes.
pub(crate) fn remove_weight<T: Scalar>(weights: &[T], c: usize) -> Vec<T> {
    let total: T = weights
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != c)
        .map(|(_, w)| *w)
        .sum();
    weights
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != c)
        .map(|(_, &w)| w / total)
        .collect()
}

/// A row of positive weight chosen at random.
pub(crate) fn random_row<T: Scalar>(data: &Dataset<T>, rng: &mut rand::rngs::StdRng) -> usize {
    use rand::Rng;
    let n = data.n_samples();
    loop {
        let i = rng.random_range(0..n);
        if data.weights().is_none_or(|w| w[i] > T::zero()) {
            return i;
        }
    }
}

/// The final mean log-likelihood of an EM fit, refused when it is not
/// finite. The last line of defence: whatever slipped past the range and
/// conditioning checks (a variance rebuilt below the precision's smallest
/// normal number by a floor, an extreme weight with a ridge of 5e-324, ...),
/// a model that gives the data it was fitted on a log-likelihood of ±∞ or NaN
/// is not returned as a fit.
pub(crate) fn final_log_likelihood(ll: f64) -> Result<f64, FitError> {
    if ll.is_finite() {
        Ok(ll)
    } else {
        Err(FitError::Degenerate {
            reason: format!(
                "the fitted model gives the data a mean log-likelihood of {ll} \
                 (a variance or scale collapsed or overflowed in this precision)"
            ),
        })
    }
}

/// The values of row `i`, if there is one.
pub(crate) fn row_of<T: Scalar>(data: &Dataset<T>, i: usize) -> Option<Vec<T>> {
    (i < data.n_samples()).then(|| data.view().row(i).iter().copied().collect())
}

/// The matrix without row `c` (a dropped component's parameters).
pub(crate) fn without_row<T: Scalar>(m: &Mat<T>, c: usize) -> Mat<T> {
    let keep: Vec<usize> = (0..m.nrows()).filter(|&i| i != c).collect();
    Mat::from_fn(keep.len(), m.ncols(), |i, j| m[(keep[i], j)])
}

/// The variance along feature `j` of a re-seeded component: the data's
/// variance shrunk by `K^(2/D)` (mclust's prior scale) plus the ridge; 1 when
/// that is not positive (a constant feature without a ridge).
pub(crate) fn fallback_variance<T: Scalar>(
    summary: &Summary<T>,
    k: usize,
    ridge: f64,
    j: usize,
) -> T {
    let d = summary.var.len() as f64;
    let fac = (1.0 / k as f64).powf(2.0 / d);
    let v = summary.var[j].as_f64() * fac + ridge;
    T::c(if v > 0.0 { v } else { 1.0 })
}

/// The largest uncertainty, per row, that rounding may leave in a fitted
/// Gaussian model's mean log-likelihood before [`check_precision`] refuses
/// it: 1e-2, ten times the default convergence threshold. Small components
/// of `f32` fits (a few points in a few dimensions, whose smallest variance
/// is mostly the ridge) carry estimates of a few 1e-3 and are fitted, as the
/// documented `f32` behaviour promises; cardio's single component in `f32`
/// (3.7e-2) is refused.
pub const PRECISION_TOLERANCE: f64 = 1e-2;

/// Refuses a fitted Gaussian model whose full or tied covariances are too
/// ill-conditioned for `T` (`FitError::Precision`).
///
/// The estimate: a covariance held in `T` carries a relative rounding error
/// of about `ε` in each entry, and the residual variance of a feature
/// regressed on the others, relative to its own, `r = 1 / (Aᵢᵢ (A⁻¹)ᵢᵢ)`, is
/// what is left after the entries of size 1 (in correlation units) cancel
/// down to `r`: it carries a relative error of about `ε / r`. The log-density
/// of a row under that component has `½ ln r`-type terms, so it moves by
/// about `ε / (2r)`, and the mean log-likelihood by the weighted sum
/// `u = ε/2 Σₖ wₖ / rₖ` (the worst feature of each component). A model is
/// refused when `u` exceeds `τ =` [`PRECISION_TOLERANCE`]. Components of
/// fewer than `2 (d + 1)` points (by weight, of `total_weight`) are left out:
/// their covariance is mostly the ridge in any precision. On cardio (21
/// features, nearly collinear; one component, ridge 1e-6 on unit variances)
/// `r = 1.6e-6` in `f32`, `u = 0.037`, and the `f32` evaluation of the `f64`
/// fit's model is off by exactly that much (0.037), while the `f32` fit ended
/// 0.019 above the `f64` fit's log-likelihood. The same rule holds in `f64`,
/// where `ε` is `2²⁹` times smaller: a one-component model is refused only
/// for `r` below `ε / (2τ) ≈ 1.1e-14`, which the default ridge keeps away
/// on features of variance below about 9e7.
///
/// # Errors
/// [`FitError::Precision`] naming the worst component and feature.
pub fn check_precision<T: Scalar>(
    model: &mixtures_dist::GaussianMixtureModel<T>,
    total_weight: f64,
) -> Result<(), FitError> {
    use mixtures_dist::Covariances;
    let weights = model.weights();
    let d = model.dim() as f64;
    let worst: Vec<(usize, f64, f64)> = match model.components().covariances() {
        Covariances::Full(c) => c
            .iter()
            .zip(weights)
            .map(|(a, w)| {
                // A component of fewer than 2 (d + 1) points (by weight) has
                // a covariance its data hardly determine: its smallest
                // directions are the ridge in any precision, and the
                // degeneracy policy, not this check, is what watches it.
                if w.as_f64() * total_weight < 2.0 * (d + 1.0) {
                    return (0, f64::INFINITY, 0.0);
                }
                let (f, r) = worst_residual(a);
                (f, r, w.as_f64())
            })
            .collect(),
        Covariances::Tied(a) => {
            let (f, r) = worst_residual(a);
            vec![(f, r, 1.0)]
        }
        // Variances alone carry no cancellation between features.
        _ => return Ok(()),
    };
    let half_eps = 0.5 * T::epsilon().as_f64();
    let uncertainty: f64 = worst.iter().map(|&(_, r, w)| half_eps * w / r).sum();
    if uncertainty <= PRECISION_TOLERANCE {
        return Ok(());
    }
    // The component that contributes most to the uncertainty.
    let (component, &(feature, ratio, _)) = worst
        .iter()
        .enumerate()
        .max_by(|a, b| (a.1.2 / a.1.1).total_cmp(&(b.1.2 / b.1.1)))
        .unwrap_or((0, &(0, 0.0, 1.0)));
    Err(FitError::Precision {
        component,
        feature,
        ratio,
        uncertainty,
        precision: T::NAME,
    })
}

/// The feature with the smallest residual variance relative to its own,
/// `1 / (Aᵢᵢ (A⁻¹)ᵢᵢ)`, computed in `f64` from the matrix as stored (0 when
/// even `f64` cannot factor it).
fn worst_residual<T: Scalar>(a: &Mat<T>) -> (usize, f64) {
    let d = a.nrows();
    let wide = Mat::<f64>::from_fn(d, d, |i, j| a[(i, j)].as_f64());
    let Ok(chol) = mixtures_core::Cholesky::<f64>::new(wide.as_ref()) else {
        return (0, 0.0);
    };
    let l_inv = chol.l_inv();
    (0..d)
        .map(|i| {
            let inv_ii: f64 = (i..d).map(|j| l_inv[(j, i)] * l_inv[(j, i)]).sum();
            (i, 1.0 / (wide[(i, i)] * inv_ii))
        })
        .fold((0, f64::INFINITY), |w, c| if c.1 < w.1 { c } else { w })
}
