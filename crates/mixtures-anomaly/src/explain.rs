//! Which features make a point anomalous: per-feature contributions to its score
//! under its most likely component.
//!
//! For a point `x` whose most likely component is `k` (the `k` maximizing
//! `wₖ pₖ(x)`), the contribution of feature `j` is:
//!
//! - **diagonal or spherical Gaussian** ([`Attribution::Exact`]):
//!   `½ (xⱼ − μₖⱼ)² / σ²ₖⱼ`;
//! - **Laplace** ([`Attribution::Exact`]): `|xⱼ − μₖⱼ| / bₖⱼ`;
//! - **full or tied Gaussian** ([`Attribution::Conditional`]):
//!   `½ (xⱼ − E[xⱼ | x₋ⱼ])² / Var[xⱼ | x₋ⱼ]` under component `k`, the drop in
//!   half the squared Mahalanobis distance when feature `j` is left out (the
//!   Mahalanobis distance of `x` splits as that of `x₋ⱼ` under the marginal plus
//!   this conditional term). With the precision matrix `P = Σₖ⁻¹` it is
//!   `½ (P (x − μₖ))ⱼ² / Pⱼⱼ`.
//!
//! Each contribution is zero when the feature sits at the component's centre
//! (given the others, for full covariance) and grows as the feature moves away,
//! in the units of the score (nats).
//!
//! When the components are diagonal the component's log-density is a sum over
//! features, so the decomposition is exact:
//! `score(x) = baseline + Σⱼ contributionⱼ`, with
//! `baseline = −ln(wₖ pₖ(μₖ)) + ln rₖ(x)`: the score of the component's centre
//! plus the log-responsibility of `k` for `x` (≤ 0, and ≈ 0 once `x` clearly
//! belongs to `k`). For full covariance the conditional terms do not add up to
//! the Mahalanobis distance (correlated features share it), so they rank the
//! features but [`Explanations::baseline`] is then only `score − Σ`.

use faer::{Mat, MatRef};
use mixtures_core::{Cholesky, Dataset, Scalar};
use mixtures_dist::{Covariances, Gaussian, Laplace, Mixture, ModelError};
use num_traits::Float;

use crate::{AnomalyError, DensityModel};

/// How per-feature contributions relate to the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Attribution {
    /// Diagonal components: `score = baseline + Σ contributions` exactly.
    Exact,
    /// Full or tied covariance: each contribution is the conditional term of
    /// one feature given the others; they do not sum to the score.
    Conditional,
}

/// Per-feature contributions for a set of points (see the [module
/// documentation](self) for exactly what they are).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanations<T: Scalar> {
    scores: Vec<T>,
    components: Vec<usize>,
    contributions: Mat<T>,
    attribution: Attribution,
}

impl<T: Scalar> Explanations<T> {
    /// Number of points explained.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Whether no point was explained.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Anomaly score `−ln p(x)` of every point.
    pub fn scores(&self) -> &[T] {
        &self.scores
    }

    /// The most likely component of every point (the one explained).
    pub fn components(&self) -> &[usize] {
        &self.components
    }

    /// The `n x d` contributions: row `i`, feature `j`.
    pub fn contributions(&self) -> MatRef<'_, T> {
        self.contributions.as_ref()
    }

    /// The contributions of point `i`, one per feature.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn row(&self, i: usize) -> Vec<T> {
        self.contributions.row(i).iter().copied().collect()
    }

    /// Whether the contributions decompose the score exactly.
    pub fn attribution(&self) -> Attribution {
        self.attribution
    }

    /// `score − Σⱼ contributionⱼ` of point `i`. For [`Attribution::Exact`] this
    /// is `−ln(wₖ pₖ(μₖ)) + ln rₖ(x)`.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn baseline(&self, i: usize) -> T {
        self.scores[i] - self.contributions.row(i).iter().copied().sum::<T>()
    }

    /// The features of point `i` from the largest contribution to the smallest.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn ranked_features(&self, i: usize) -> Vec<usize> {
        let row = self.contributions.row(i);
        let mut idx: Vec<usize> = (0..row.ncols()).collect();
        idx.sort_by(|&a, &b| row[b].as_f64().total_cmp(&row[a].as_f64()));
        idx
    }
}

/// Models whose scores can be explained per feature: Gaussian and Laplace
/// mixtures, and [`mixtures_dist::AnyMixture`].
pub trait Explain<T: Scalar>: DensityModel<T> {
    /// Per-feature contributions to the score of every row.
    ///
    /// # Errors
    /// [`AnomalyError::Data`] if the dimension differs from the model's.
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError>;
}

/// What the contributions of one family need, prepared once per call.
enum Explainer<T: Scalar> {
    /// `½ (x − μ)² · inv_var`; row-major `K x D`.
    Diag { centers: Vec<T>, inv_var: Vec<T> },
    /// `|x − μ| · inv_scale`; row-major `K x D`.
    Absolute { centers: Vec<T>, inv_scale: Vec<T> },
    /// `½ (P (x − μ))ⱼ² / Pⱼⱼ`; one precision per component (one shared when tied).
    Conditional {
        centers: Vec<T>,
        precisions: Vec<Mat<T>>,
        tied: bool,
    },
}

fn rows_of<T: Scalar>(m: MatRef<'_, T>) -> Vec<T> {
    (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)]))
        .collect()
}

/// `Σ⁻¹ = L⁻ᵀ L⁻¹` from the Cholesky factor the core kernels compute.
fn precision<T: Scalar>(cov: &Mat<T>, component: Option<usize>) -> Result<Mat<T>, AnomalyError> {
    let chol = Cholesky::new(cov.as_ref())
        .map_err(|source| ModelError::NotPositiveDefinite { component, source })?;
    let li = chol.l_inv();
    Ok(li.transpose() * li)
}

impl<T: Scalar> Explainer<T> {
    fn gaussian(g: &Gaussian<T>) -> Result<Self, AnomalyError> {
        let (k, d) = (g.means().nrows(), g.means().ncols());
        let centers = rows_of(g.means());
        Ok(match g.covariances() {
            Covariances::Diag(v) => Self::Diag {
                centers,
                inv_var: rows_of(v.as_ref()).iter().map(|&x| x.recip()).collect(),
            },
            Covariances::Spherical(v) => Self::Diag {
                centers,
                inv_var: (0..k * d).map(|i| v[i / d].recip()).collect(),
            },
            Covariances::Full(c) => Self::Conditional {
                centers,
                precisions: c
                    .iter()
                    .enumerate()
                    .map(|(kk, m)| precision(m, Some(kk)))
                    .collect::<Result<_, _>>()?,
                tied: false,
            },
            Covariances::Tied(c) => Self::Conditional {
                centers,
                precisions: vec![precision(c, None)?],
                tied: true,
            },
        })
    }

    fn laplace(l: &Laplace<T>) -> Self {
        let (k, d) = (l.locations().nrows(), l.locations().ncols());
        Self::Absolute {
            centers: rows_of(l.locations()),
            inv_scale: (0..k * d).map(|i| l.scale(i / d, i % d).recip()).collect(),
        }
    }

    fn attribution(&self) -> Attribution {
        match self {
            Self::Diag { .. } | Self::Absolute { .. } => Attribution::Exact,
            Self::Conditional { .. } => Attribution::Conditional,
        }
    }

    /// Contributions of `x` under component `k` into `out`; `diff` is scratch
    /// of length `D`.
    fn row(&self, k: usize, x: &[T], out: &mut [T], diff: &mut [T]) {
        let d = x.len();
        let half = T::c(0.5);
        match self {
            Self::Diag { centers, inv_var } => {
                for j in 0..d {
                    let z = x[j] - centers[k * d + j];
                    out[j] = half * z * z * inv_var[k * d + j];
                }
            }
            Self::Absolute { centers, inv_scale } => {
                for j in 0..d {
                    out[j] = Float::abs(x[j] - centers[k * d + j]) * inv_scale[k * d + j];
                }
            }
            Self::Conditional {
                centers,
                precisions,
                tied,
            } => {
                let p = &precisions[if *tied { 0 } else { k }];
                for j in 0..d {
                    diff[j] = x[j] - centers[k * d + j];
                }
                for j in 0..d {
                    let v: T = (0..d).map(|m| p[(j, m)] * diff[m]).sum();
                    out[j] = half * v * v / p[(j, j)];
                }
            }
        }
    }
}

fn explain_with<T: Scalar, M: DensityModel<T>>(
    model: &M,
    explainer: &Explainer<T>,
    data: &Dataset<T>,
) -> Result<Explanations<T>, AnomalyError> {
    let scores = model.anomaly_scores(data)?;
    let components = model.most_likely_component(data)?;
    let (n, d) = (data.n_samples(), data.n_features());
    let x = data.view();
    let mut contributions = Mat::<T>::zeros(n, d);
    let (mut row, mut out, mut diff) = (vec![T::zero(); d], vec![T::zero(); d], vec![T::zero(); d]);
    for (i, &k) in components.iter().enumerate() {
        for (j, r) in row.iter_mut().enumerate() {
            *r = x[(i, j)];
        }
        explainer.row(k, &row, &mut out, &mut diff);
        for (j, &o) in out.iter().enumerate() {
            contributions[(i, j)] = o;
        }
    }
    Ok(Explanations {
        scores,
        components,
        contributions,
        attribution: explainer.attribution(),
    })
}

impl<T: Scalar> Explain<T> for Mixture<T, Gaussian<T>> {
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError> {
        data.check_dim(self.dim())?;
        explain_with(self, &Explainer::gaussian(self.components())?, data)
    }
}

impl<T: Scalar> Explain<T> for Mixture<T, Laplace<T>> {
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError> {
        data.check_dim(self.dim())?;
        explain_with(self, &Explainer::laplace(self.components()), data)
    }
}

#[cfg(feature = "serde")]
impl<T: Scalar> Explain<T> for mixtures_dist::AnyMixture<T> {
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError> {
        match self {
            Self::Gaussian(m) => m.explain(data),
            Self::Laplace(m) => m.explain(data),
        }
    }
}
