//! Regularization of the M-step: what keeps covariances positive definite and
//! estimates stable when data are scarce, collinear or duplicated.

use core::fmt;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Mat, Par};
use mixtures_core::Scalar;
use mixtures_dist::Covariances;
use num_traits::Float;

use crate::FitError;

/// What a regularizer may look at: a summary of the data being fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct RegContext<T: Scalar> {
    /// Per-feature (weighted) variance of the data.
    pub data_variance: Vec<T>,
    /// Number of components.
    pub n_components: usize,
}

/// A regularizer acts on the covariance parameters after the constraint has
/// estimated them (ridge, shrinkage, floors), or supplies a conjugate prior that
/// the constraint folds into the estimate (MAP).
pub trait Regularizer<T: Scalar>: fmt::Debug + Send + Sync {
    /// Adjusts the covariances in place.
    fn regularize(&self, cov: &mut Covariances<T>, ctx: &RegContext<T>);
    /// The conjugate prior this regularizer stands for, if any.
    fn prior(&self) -> Option<&ConjugatePrior> {
        None
    }
    /// Checks the regularizer's settings; called before any work.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] naming the setting and its value.
    fn check(&self) -> Result<(), FitError> {
        Ok(())
    }
}

/// `Err` unless `v` is finite and within `[lo, hi]`.
fn check_range(
    name: &'static str,
    v: f64,
    lo: f64,
    hi: f64,
    reason: &'static str,
) -> Result<(), FitError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(FitError::InvalidParameter {
            name,
            value: v.into(),
            reason,
        })
    }
}

fn for_each_variance<T: Scalar>(cov: &mut Covariances<T>, mut f: impl FnMut(usize, T) -> T) {
    match cov {
        Covariances::Full(m) => {
            for a in m {
                for j in 0..a.nrows() {
                    a[(j, j)] = f(j, a[(j, j)]);
                }
            }
        }
        Covariances::Tied(a) => {
            for j in 0..a.nrows() {
                a[(j, j)] = f(j, a[(j, j)]);
            }
        }
        Covariances::Diag(v) => {
            for c in 0..v.nrows() {
                for j in 0..v.ncols() {
                    v[(c, j)] = f(j, v[(c, j)]);
                }
            }
        }
        Covariances::Spherical(v) => {
            for x in v {
                *x = f(0, *x);
            }
        }
    }
}

/// Adds `r` to every variance (the diagonal): scikit-learn's `reg_covar`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ridge(pub f64);

impl Ridge {
    /// Adds the ridge to every variance (needs no data summary).
    pub fn apply<T: Scalar>(&self, cov: &mut Covariances<T>) {
        let r = T::c(self.0);
        for_each_variance(cov, |_, v| v + r);
    }
}

impl<T: Scalar> Regularizer<T> for Ridge {
    fn regularize(&self, cov: &mut Covariances<T>, _: &RegContext<T>) {
        self.apply(cov);
    }
    fn check(&self) -> Result<(), FitError> {
        check_range(
            "ridge",
            self.0,
            0.0,
            f64::INFINITY,
            "must be finite and >= 0",
        )
    }
}

/// The target a [`Shrinkage`] pulls covariances towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShrinkTarget {
    /// The covariance's own diagonal (correlations shrink towards zero).
    Diagonal,
    /// `(tr Σ / D) I` (variances also pull towards their mean).
    ScaledIdentity,
}

/// `Σ ← (1 − λ) Σ + λ T` with a target `T` and coefficient `λ ∈ [0, 1]`
/// (Ledoit–Wolf style, with a fixed coefficient).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shrinkage {
    /// The coefficient `λ`.
    pub coefficient: f64,
    /// The target.
    pub target: ShrinkTarget,
}

fn shrink_matrix<T: Scalar>(a: &mut Mat<T>, lam: T, target: ShrinkTarget) {
    let d = a.nrows();
    let one = T::one();
    let mean_var = (0..d).map(|j| a[(j, j)]).sum::<T>() / T::from_usize(d);
    for j in 0..d {
        for i in 0..d {
            let t = if i != j {
                T::zero()
            } else {
                match target {
                    ShrinkTarget::Diagonal => a[(i, i)],
                    ShrinkTarget::ScaledIdentity => mean_var,
                }
            };
            a[(i, j)] = (one - lam) * a[(i, j)] + lam * t;
        }
    }
}

impl<T: Scalar> Regularizer<T> for Shrinkage {
    fn regularize(&self, cov: &mut Covariances<T>, _: &RegContext<T>) {
        let lam = T::c(self.coefficient);
        let one = T::one();
        match cov {
            Covariances::Full(m) => m
                .iter_mut()
                .for_each(|a| shrink_matrix(a, lam, self.target)),
            Covariances::Tied(a) => shrink_matrix(a, lam, self.target),
            Covariances::Diag(v) => {
                if self.target == ShrinkTarget::ScaledIdentity {
                    let d = v.ncols();
                    for c in 0..v.nrows() {
                        let mean = (0..d).map(|j| v[(c, j)]).sum::<T>() / T::from_usize(d);
                        for j in 0..d {
                            v[(c, j)] = (one - lam) * v[(c, j)] + lam * mean;
                        }
                    }
                }
            }
            // A spherical covariance already equals both targets.
            Covariances::Spherical(_) => {}
        }
    }
    fn check(&self) -> Result<(), FitError> {
        check_range(
            "shrinkage.coefficient",
            self.coefficient,
            0.0,
            1.0,
            "must be in [0, 1]",
        )
    }
}

/// No eigenvalue of a covariance below `floor` (for diagonal and spherical
/// covariances: no variance below it). Full matrices are eigen-decomposed and
/// their small eigenvalues raised, which keeps them positive definite whatever
/// the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarianceFloor(pub f64);

fn floor_matrix<T: Scalar>(a: &mut Mat<T>, floor: T) {
    let d = a.nrows();
    let mut s = faer::diag::Diag::<T>::zeros(d);
    let mut u = Mat::<T>::zeros(d, d);
    let mut mem = MemBuffer::new(evd::self_adjoint_evd_scratch::<T>(
        d,
        ComputeEigenvectors::Yes,
        Par::Seq,
        Default::default(),
    ));
    let ok = evd::self_adjoint_evd(
        a.as_ref(),
        s.as_mut(),
        Some(u.as_mut()),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .is_ok();
    let vals: Vec<T> = (0..d).map(|i| s[i]).collect();
    if !ok || vals.iter().any(|v| !v.is_finite()) {
        // A matrix the decomposition cannot handle: fall back to the diagonal.
        for j in 0..d {
            a[(j, j)] = Float::max(a[(j, j)], floor);
        }
        return;
    }
    if vals.iter().all(|&v| v >= floor) {
        return;
    }
    let clamped: Vec<T> = vals.iter().map(|&v| Float::max(v, floor)).collect();
    for j in 0..d {
        for i in j..d {
            let v: T = (0..d).map(|l| u[(i, l)] * clamped[l] * u[(j, l)]).sum();
            a[(i, j)] = v;
            a[(j, i)] = v;
        }
    }
}

impl<T: Scalar> Regularizer<T> for VarianceFloor {
    fn regularize(&self, cov: &mut Covariances<T>, _: &RegContext<T>) {
        let f = T::c(self.0);
        match cov {
            Covariances::Full(m) => m.iter_mut().for_each(|a| floor_matrix(a, f)),
            Covariances::Tied(a) => floor_matrix(a, f),
            Covariances::Diag(_) | Covariances::Spherical(_) => {
                for_each_variance(cov, |_, v| Float::max(v, f));
            }
        }
    }
    fn check(&self) -> Result<(), FitError> {
        check_range(
            "variance_floor",
            self.0,
            0.0,
            f64::INFINITY,
            "must be finite and >= 0",
        )
    }
}

/// The conjugate Normal-inverse-Wishart prior of Fraley & Raftery (2007), for
/// maximum a posteriori estimation; unset fields take mclust's defaults.
///
/// - `shrinkage` `κ` (default 0.01): the prior mean counts as `κ` points;
/// - `mean` (default: the data mean);
/// - `dof` `ν` (default `D + 2`);
/// - `scale`: `var(data) / K^(2/D)` — the covariance matrix for ellipsoidal
///   structures, the mean variance `Σⱼ var(xⱼ) / D` for diagonal and spherical ones.
///
/// With a prior the EM iterations increase the log posterior; the reported mean
/// log-likelihood may then decrease slightly.
#[derive(Debug, Clone, PartialEq)]
pub struct ConjugatePrior {
    /// `κ`, the weight of the prior mean, in points.
    pub shrinkage: f64,
    /// The prior mean (`None`: the data mean).
    pub mean: Option<Vec<f64>>,
    /// Degrees of freedom (`None`: `D + 2`).
    pub dof: Option<f64>,
    /// Scale multiplier applied to mclust's default scale (1 = mclust).
    pub scale_factor: f64,
}

impl Default for ConjugatePrior {
    fn default() -> Self {
        Self {
            shrinkage: 0.01,
            mean: None,
            dof: None,
            scale_factor: 1.0,
        }
    }
}

impl ConjugatePrior {
    /// Checks the prior against the data dimension.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`].
    pub fn check(&self, d: usize) -> Result<(), FitError> {
        if !(self.shrinkage.is_finite() && self.shrinkage >= 0.0) {
            return Err(FitError::InvalidParameter {
                name: "prior.shrinkage",
                value: self.shrinkage.into(),
                reason: "must be finite and >= 0",
            });
        }
        if let Some(dof) = self.dof
            && !(dof.is_finite() && dof > d as f64 - 1.0)
        {
            return Err(FitError::InvalidParameter {
                name: "prior.dof",
                value: dof.into(),
                reason: "must exceed D - 1",
            });
        }
        if let Some(m) = &self.mean
            && (m.len() != d || m.iter().any(|v| !v.is_finite()))
        {
            return Err(FitError::InvalidParameter {
                name: "prior.mean",
                value: format!("{m:?}").into(),
                reason: "must have one finite value per feature",
            });
        }
        if !(self.scale_factor.is_finite() && self.scale_factor > 0.0) {
            return Err(FitError::InvalidParameter {
                name: "prior.scale_factor",
                value: self.scale_factor.into(),
                reason: "must be finite and > 0",
            });
        }
        Ok(())
    }
}

impl<T: Scalar> Regularizer<T> for ConjugatePrior {
    fn regularize(&self, _: &mut Covariances<T>, _: &RegContext<T>) {}
    fn prior(&self) -> Option<&ConjugatePrior> {
        Some(self)
    }
}
