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
    /// Explanations from their parts (an ensemble's weighted sums).
    pub(crate) fn new(
        scores: Vec<T>,
        components: Vec<usize>,
        contributions: Mat<T>,
        attribution: Attribution,
    ) -> Self {
        Self {
            scores,
            components,
            contributions,
            attribution,
        }
    }

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

/// Models whose scores can be explained per feature: Gaussian, Laplace and
/// Student-t mixtures, and [`mixtures_dist::AnyMixture`].
pub trait Explain<T: Scalar>: DensityModel<T> {
    /// Per-feature contributions to the score of every row.
    ///
    /// # Errors
    /// [`AnomalyError::Data`] if the dimension differs from the model's.
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError>;
}

/// What the contributions of one family need, prepared once per call.
///
/// The Gaussian forms divide by a standard deviation rather than multiplying by
/// a variance's reciprocal or the precision: a valid model may have a variance
/// so small (subnormal) that its reciprocal overflows, and `0 × ∞` would make
/// the contribution of a feature sitting at the centre NaN instead of 0.
enum Explainer<T: Scalar> {
    /// `½ ((x − μ) / σ)²`; row-major `K x D` standard deviations.
    Diag { centers: Vec<T>, sd: Vec<T> },
    /// `|x − μ| · inv_scale`; row-major `K x D` (a Laplace scale's reciprocal
    /// is finite: the constructor refuses smaller scales).
    Absolute { centers: Vec<T>, inv_scale: Vec<T> },
    /// `½ (P (x − μ))ⱼ² / Pⱼⱼ` with `P = Aᵀ A`, `A = L⁻¹`, one per component
    /// (one shared when tied).
    Conditional {
        centers: Vec<T>,
        factors: Vec<Conditional<T>>,
        tied: bool,
    },
}

/// `A = L⁻¹` of one covariance and its columns scaled to a largest entry of
/// one: `(P d)ⱼ = sⱼ ãⱼᵀ (A d)` and `Pⱼⱼ = sⱼ² ‖ãⱼ‖²`, so the contribution is
/// `½ (ãⱼᵀ (A d))² / ‖ãⱼ‖²` and `sⱼ`, which can overflow when squared, cancels.
struct Conditional<T: Scalar> {
    l_inv: Mat<T>,
    unit_cols: Mat<T>,
    col_norms: Vec<T>,
}

fn rows_of<T: Scalar>(m: MatRef<'_, T>) -> Vec<T> {
    (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)]))
        .collect()
}

/// The factors of `Σ⁻¹ = L⁻ᵀ L⁻¹` from the Cholesky factor the core kernels
/// compute.
fn conditional<T: Scalar>(
    cov: &Mat<T>,
    component: Option<usize>,
) -> Result<Conditional<T>, AnomalyError> {
    let chol = Cholesky::new(cov.as_ref())
        .map_err(|source| ModelError::NotPositiveDefinite { component, source })?;
    let l_inv = chol.l_inv().to_owned();
    let d = l_inv.nrows();
    let mut unit_cols = Mat::<T>::zeros(d, d);
    let mut col_norms = vec![T::zero(); d];
    for j in 0..d {
        let s = (0..d).fold(T::zero(), |m, i| Float::max(m, Float::abs(l_inv[(i, j)])));
        for i in 0..d {
            // The diagonal of L⁻¹ is positive, so s > 0.
            unit_cols[(i, j)] = l_inv[(i, j)] / s;
        }
        col_norms[j] = (0..d).map(|i| unit_cols[(i, j)] * unit_cols[(i, j)]).sum();
    }
    Ok(Conditional {
        l_inv,
        unit_cols,
        col_norms,
    })
}

impl<T: Scalar> Explainer<T> {
    fn gaussian(g: &Gaussian<T>) -> Result<Self, AnomalyError> {
        let (k, d) = (g.means().nrows(), g.means().ncols());
        let centers = rows_of(g.means());
        Ok(match g.covariances() {
            Covariances::Diag(v) => Self::Diag {
                centers,
                sd: rows_of(v.as_ref())
                    .iter()
                    .map(|&x| Float::sqrt(x))
                    .collect(),
            },
            Covariances::Spherical(v) => Self::Diag {
                centers,
                sd: (0..k * d).map(|i| Float::sqrt(v[i / d])).collect(),
            },
            Covariances::Full(c) => Self::Conditional {
                centers,
                factors: c
                    .iter()
                    .enumerate()
                    .map(|(kk, m)| conditional(m, Some(kk)))
                    .collect::<Result<_, _>>()?,
                tied: false,
            },
            Covariances::Tied(c) => Self::Conditional {
                centers,
                factors: vec![conditional(c, None)?],
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

    /// Contributions of `x` under component `k` into `out`; `diff` and `white`
    /// are scratch of length `D`.
    fn row(&self, k: usize, x: &[T], out: &mut [T], diff: &mut [T], white: &mut [T]) {
        let d = x.len();
        let half = T::c(0.5);
        match self {
            Self::Diag { centers, sd } => {
                for j in 0..d {
                    let z = (x[j] - centers[k * d + j]) / sd[k * d + j];
                    out[j] = half * z * z;
                }
            }
            Self::Absolute { centers, inv_scale } => {
                for j in 0..d {
                    out[j] = Float::abs(x[j] - centers[k * d + j]) * inv_scale[k * d + j];
                }
            }
            Self::Conditional {
                centers,
                factors,
                tied,
            } => {
                let f = &factors[if *tied { 0 } else { k }];
                for j in 0..d {
                    diff[j] = x[j] - centers[k * d + j];
                }
                // A d, A lower triangular. A zero coefficient contributes zero
                // even against an overflowed (infinite) offset, so that
                // uncorrelated features stay apart.
                let times = |a: T, b: T| if a == T::zero() { a } else { a * b };
                for (m, w) in white.iter_mut().enumerate() {
                    *w = (0..=m).map(|l| times(f.l_inv[(m, l)], diff[l])).sum();
                }
                for (j, o) in out.iter_mut().enumerate() {
                    let v: T = (j..d).map(|m| times(f.unit_cols[(m, j)], white[m])).sum();
                    let c = half * v * v / f.col_norms[j];
                    // NaN only from ∞ − ∞ once the whitened offset overflowed:
                    // the point is infinitely far along this feature.
                    *o = if c.is_nan() { T::infinity() } else { c };
                }
            }
        }
    }
}

/// Scores under `model`; contributions under the most likely of its
/// components (a noise component, which has no centre to be far from, is
/// never the one explained: a point it claims is explained by the nearest
/// component in the sense of `wₖ pₖ(x)`).
fn explain_with<T: Scalar, C: mixtures_dist::LogDensity<T>>(
    model: &Mixture<T, C>,
    explainer: &Explainer<T>,
    data: &Dataset<T>,
) -> Result<Explanations<T>, AnomalyError> {
    let scores = model.anomaly_scores(data)?;
    let components = match model.noise() {
        None => model.most_likely_component(data)?,
        Some(_) => model.without_noise().most_likely_component(data)?,
    };
    let (n, d) = (data.n_samples(), data.n_features());
    let x = data.view();
    let mut contributions = Mat::<T>::zeros(n, d);
    let (mut row, mut out) = (vec![T::zero(); d], vec![T::zero(); d]);
    let (mut diff, mut white) = (vec![T::zero(); d], vec![T::zero(); d]);
    for (i, &k) in components.iter().enumerate() {
        for (j, r) in row.iter_mut().enumerate() {
            *r = x[(i, j)];
        }
        explainer.row(k, &row, &mut out, &mut diff, &mut white);
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

/// A Student-t component's score grows with the same squared distance
/// `δ² = (x − μ)ᵀ Σ⁻¹ (x − μ)` as a Gaussian's with covariance `Σ` (through
/// `((ν + D)/2) ln(1 + δ²/ν)`, increasing in `δ²`): the contributions are the
/// scale matrix's Gaussian ones, which split `½ δ²`, and rank the features
/// the same way the t's score does.
impl<T: Scalar> Explain<T> for Mixture<T, mixtures_dist::StudentT<T>> {
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError> {
        data.check_dim(self.dim())?;
        explain_with(self, &Explainer::gaussian(self.components().scale())?, data)
    }
}

impl<T: Scalar> Explain<T> for mixtures_dist::AnyMixture<T> {
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError> {
        match self {
            Self::Gaussian(m) => m.explain(data),
            Self::Laplace(m) => m.explain(data),
            Self::StudentT(m) => m.explain(data),
        }
    }
}
