//! The regularized MCD (Boudt, Rousseeuw, Vanduffel & Verdonck 2020, "The
//! minimum regularized covariance determinant estimator"), for data on which
//! the plain MCD finds a subset of zero determinant: a feature that takes one
//! value on more than `n − h` rows, or more features than a subset can span.
//! Every scatter is blended with a diagonal target of the features' robust
//! variances, `K = ρ diag(t) + (1 − ρ) c S`, with `ρ` the smallest weight
//! that brings the condition number of the blend of a central subset, in
//! robust units, down to [`MAX_CONDITION`] (the paper's rule, with the
//! identity as the target in those units). C-steps keep `ρ` fixed, which
//! keeps them monotone; the subset they end on can need more weight than the
//! central one it was chosen for (it has shed the rows that gave a feature
//! its spread), so the search is repeated with the `ρ` the best subset needs
//! until that stops growing ([`MAX_ROUNDS`] at most).

use faer::{MatRef, Side};
use mixtures_core::Scalar;

use super::search::{Reg, moments};
use crate::FitError;

/// The condition number the regularization brings the central subset's
/// scatter down to (the paper's choice).
pub const MAX_CONDITION: f64 = 50.0;

/// The target variance of a feature with one value on every row: the EM's
/// default `reg_covar`.
const CONSTANT_FEATURE_VARIANCE: f64 = crate::DEFAULT_REG_COVAR;

/// Searches at most, each with the `ρ` the previous one's subset needed.
pub(super) const MAX_ROUNDS: usize = 4;

/// `1 / Φ⁻¹(3/4)`: the MAD times this estimates a normal standard deviation.
const MAD_TO_SD: f64 = 1.482_602_218_505_602;

/// The median of `v` (sorted in place; the mean of the middle two for an
/// even length).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The medians of the features and their robust variances: the scaled MAD
/// squared, the variance where more than half of the rows share one value
/// (a MAD of zero), or [`CONSTANT_FEATURE_VARIANCE`] for a constant feature.
///
/// # Errors
/// [`FitError::InvalidParameter`] for a feature whose variance overflows.
fn robust_scales<T: Scalar>(x: MatRef<'_, T>) -> Result<(Vec<f64>, Vec<f64>), FitError> {
    let n = x.nrows();
    let mut medians = Vec::with_capacity(x.ncols());
    let mut variances = Vec::with_capacity(x.ncols());
    let mut col = vec![0.0; n];
    for j in 0..x.ncols() {
        for (i, c) in col.iter_mut().enumerate() {
            *c = x[(i, j)].as_f64();
        }
        let med = median(&mut col);
        let mean = col.iter().sum::<f64>() / n as f64;
        let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
        for c in &mut col {
            *c = (*c - med).abs();
        }
        let mad = MAD_TO_SD * median(&mut col);
        // A feature with one value on every row gets the EM's default ridge
        // as its variance: any other value is then far out, not impossible.
        let robust = if mad > 0.0 {
            mad * mad
        } else if var > 0.0 {
            var
        } else {
            CONSTANT_FEATURE_VARIANCE
        };
        if !robust.is_finite() {
            return Err(FitError::invalid(
                "data",
                j,
                "this feature's (numbered from 0) spread overflows",
            ));
        }
        medians.push(med);
        variances.push(robust);
    }
    Ok((medians, variances))
}

/// The regularization for `x` with subsets of `h` rows and consistency
/// factor `c`, starting from the `h` rows nearest to the coordinatewise
/// median in robust units.
///
/// # Errors
/// As [`robust_scales`]; [`FitError::Degenerate`] if the eigenvalues of the
/// central scatter cannot be computed.
pub(super) fn regularization<T: Scalar>(
    x: MatRef<'_, T>,
    h: usize,
    c: f64,
) -> Result<Reg, FitError> {
    let (n, d) = (x.nrows(), x.ncols());
    let (medians, target) = robust_scales(x)?;
    let radius = |i: usize| {
        (0..d)
            .map(|j| {
                let z = (x[(i, j)].as_f64() - medians[j]) / target[j].sqrt();
                z * z
            })
            .sum::<f64>()
    };
    let r: Vec<f64> = (0..n).map(radius).collect();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| r[a].total_cmp(&r[b]).then(a.cmp(&b)));
    idx.truncate(h);
    idx.sort_unstable();
    let mut reg = Reg {
        rho: 0.0,
        consistency: c,
        target,
    };
    reg.rho = rho_for(x, &idx, &reg)?;
    Ok(reg)
}

/// The smallest `ρ` (at least √ε) at which the blend of the rows `idx`
/// has a condition number of at most [`MAX_CONDITION`] in robust units.
///
/// # Errors
/// [`FitError::Degenerate`] if the eigenvalues cannot be computed.
pub(super) fn rho_for<T: Scalar>(
    x: MatRef<'_, T>,
    idx: &[usize],
    reg: &Reg,
) -> Result<f64, FitError> {
    let d = x.ncols();
    let (c, target) = (reg.consistency, &reg.target);
    let (_, s) = moments(x, idx);
    let unit = faer::Mat::from_fn(d, d, |i, j| c * s[(i, j)] / (target[i] * target[j]).sqrt());
    let eig = unit
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| FitError::Degenerate {
            reason: format!("the eigenvalues of a subset's scatter: {e:?}"),
        })?;
    let lo = eig.iter().copied().fold(f64::INFINITY, f64::min).max(0.0);
    let hi = eig.iter().copied().fold(0.0, f64::max);
    // Eigenvalues of ρ I + (1 − ρ) S are ρ + (1 − ρ) λ: the condition
    // number is MAX_CONDITION at this ρ. At least √ε: the plain search
    // failed, and any positive weight on the target makes every blend
    // positive definite.
    let rho = if hi <= MAX_CONDITION * lo {
        0.0
    } else {
        (hi - MAX_CONDITION * lo) / (hi - MAX_CONDITION * lo + MAX_CONDITION - 1.0)
    };
    Ok(rho.max(f64::EPSILON.sqrt()))
}
