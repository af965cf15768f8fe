//! The Gaussian M-step from per-component moments: counts, means and the
//! scatter about the means. Batch EM gets the moments from one E-step's
//! statistics; stepwise (online) EM from its running statistics. Both go
//! through [`gaussian_m_step`], so the covariance constraint, the conjugate
//! prior, the ridge, the regularizers and the degeneracy repair are the same
//! code whichever way the moments were gathered.

use faer::Mat;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::GaussianMixtureModel;

use crate::FitError;
use crate::common::Summary;
use crate::constraint::{MStepStats, PriorTerms, Scatter};
use crate::engine::Restart;
use crate::gaussian::{GaussianParams, ScaleParts};
use crate::pass::Stats;
use crate::regularize::{ConjugatePrior, RegContext, Ridge};
use crate::repair::{Site, repair};

/// Effective number of points below which a component counts as collapsed,
/// relative to the total weight.
const COLLAPSE_REL: f64 = 1e-8;

/// A conjugate prior with its mean and scale resolved from the data.
pub(crate) struct ResolvedPrior<T: Scalar> {
    pub kappa: T,
    pub mean: Vec<T>,
    pub terms: PriorTerms<T>,
}

impl<T: Scalar> ResolvedPrior<T> {
    /// mclust's defaults (Fraley & Raftery 2007) for `k` components: the
    /// prior mean is the data mean unless given; the scale is the data's
    /// covariance (or its diagonal, with no more rows than features) times
    /// `K^(−2/D)` and the prior's scale factor.
    pub(crate) fn resolve(
        ps: &ConjugatePrior,
        summary: &Summary<T>,
        k: usize,
        n_rows: usize,
    ) -> Self {
        let d = summary.var.len();
        let fac = (1.0 / k as f64).powf(2.0 / d as f64);
        let mean = match &ps.mean {
            Some(m) => m.iter().map(|&v| T::c(v)).collect(),
            None => summary.mean.clone(),
        };
        let mean_var = summary.var.iter().map(|v| v.as_f64()).sum::<f64>() / d as f64;
        let scale = match (&summary.cov, n_rows > d) {
            (Some(c), true) => Mat::from_fn(d, d, |i, j| {
                T::c(c[(i, j)].as_f64() * fac * ps.scale_factor)
            }),
            _ => Mat::from_fn(d, d, |i, j| {
                if i == j {
                    T::c(summary.var[i].as_f64() * fac * ps.scale_factor)
                } else {
                    T::zero()
                }
            }),
        };
        Self {
            kappa: T::c(ps.shrinkage),
            mean,
            terms: PriorTerms {
                dof: T::c(ps.dof.unwrap_or(d as f64 + 2.0)),
                scale,
                scale_scalar: T::c(mean_var * fac * ps.scale_factor),
            },
        }
    }
}

/// Per-component moments, what the M-step reads.
pub(crate) struct Moments<T: Scalar> {
    /// `Σ wᵢ rᵢₖ` as accumulated (the collapse test reads these).
    pub raw_nk: Vec<T>,
    /// The counts with `10 ε` added, so that an empty component never
    /// divides by zero (as scikit-learn).
    pub nk: Vec<T>,
    /// The weighted means.
    pub means: Mat<T>,
    /// The scatter about the means.
    pub scatter: Scatter<T>,
}

impl<T: Scalar> Moments<T> {
    /// The moments of one E-step's statistics accumulated about `shifts`.
    pub(crate) fn from_stats(st: &Stats<T>, shifts: &Mat<T>, full: bool) -> Self {
        let (nk, means, scatter) = st.moments(shifts, full);
        Self {
            raw_nk: st.nk.clone(),
            nk,
            means,
            scatter,
        }
    }
}

/// What an M-step reads besides the moments: the data-dependent context of
/// the regularizers, the variance a re-seeded component gets, the total
/// weight the collapse test compares with, and the rows re-seeds come from.
pub(crate) trait MStepEnv<T: Scalar> {
    /// The regularizers' context.
    fn ctx(&self) -> &RegContext<T>;
    /// The variance of a re-seeded component along feature `j`.
    fn fallback(&self, j: usize) -> T;
    /// The total weight the moments stand for.
    fn total_weight(&self) -> f64;
    /// Rows a re-seeded component may be moved to.
    fn reseed_rows(&self) -> &Dataset<T>;
}

/// The Gaussian M-step: the prior's shrinkage of the means, the covariance
/// constraint's estimate, the ridge, the regularizers in order, the weights,
/// and the repair of collapsed or invalid components (the first re-seed at
/// `worst`, the least likely row of the E-step, when known).
pub(crate) fn gaussian_m_step<T: Scalar>(
    p: &GaussianParams<T>,
    prior: Option<&ResolvedPrior<T>>,
    m: Moments<T>,
    env: &dyn MStepEnv<T>,
    worst: Option<Vec<T>>,
    cx: &mut Restart,
) -> Result<GaussianMixtureModel<T>, FitError> {
    let Moments {
        raw_nk,
        nk,
        means: ml_means,
        mut scatter,
    } = m;
    let (k, d) = (nk.len(), ml_means.ncols());
    let means = match prior {
        None => ml_means,
        Some(p) => {
            // Fraley & Raftery (2007): means shrink towards the prior mean and
            // the scatter gains κ nₖ/(κ + nₖ) (x̄ₖ − μₚ)(x̄ₖ − μₚ)ᵀ.
            for c in 0..k {
                let f = p.kappa * nk[c] / (p.kappa + nk[c]);
                let dev: Vec<T> = (0..d).map(|j| ml_means[(c, j)] - p.mean[j]).collect();
                match &mut scatter {
                    Scatter::Full(w) => {
                        for i in 0..d {
                            for j in 0..d {
                                w[c][(i, j)] += f * dev[i] * dev[j];
                            }
                        }
                    }
                    Scatter::Diagonal(w) => {
                        for j in 0..d {
                            w[(c, j)] += f * dev[j] * dev[j];
                        }
                    }
                }
            }
            Mat::from_fn(k, d, |c, j| {
                (nk[c] * ml_means[(c, j)] + p.kappa * p.mean[j]) / (nk[c] + p.kappa)
            })
        }
    };
    let stats = MStepStats {
        nk: nk.clone(),
        means,
        scatter,
        prior: prior.map(|p| p.terms.clone()),
    };
    let mut cov = p.constraint.estimate(&stats)?;
    Ridge(p.control.reg_covar).apply(&mut cov);
    for r in &p.regularizers {
        r.regularize(&mut cov, env.ctx());
    }
    let total: T = nk.iter().copied().sum();
    let weights: Vec<T> = nk.iter().map(|&v| v / total).collect();
    let collapsed: Vec<(usize, f64)> = (0..k)
        .filter(|&c| raw_nk[c].as_f64() < COLLAPSE_REL * env.total_weight())
        .map(|c| (c, raw_nk[c].as_f64()))
        .collect();
    let parts = ScaleParts {
        means: stats.means,
        cov,
        fallback: &|j| env.fallback(j),
        structure: p.constraint.structure(),
    };
    let site = Site {
        data: env.reseed_rows(),
        policy: p.control.policy,
        cx,
    };
    repair(parts, weights, &collapsed, worst, site)
}
