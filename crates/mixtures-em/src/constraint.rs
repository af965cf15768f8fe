//! Covariance constraints: how the M-step turns weighted scatter matrices into
//! covariance parameters. A constraint is a trait object, so a user can add one
//! without touching the EM loop.

use core::fmt;

use faer::Mat;
use mixtures_core::Scalar;
use mixtures_dist::{Covariance, Covariances};

use crate::FitError;

/// Weighted scatter of each component about its new mean:
/// `Wₖ = Σᵢ wᵢ rᵢₖ (xᵢ − μₖ)(xᵢ − μₖ)ᵀ` (plus the prior's mean term under a
/// conjugate prior).
#[derive(Debug, Clone, PartialEq)]
pub enum Scatter<T: Scalar> {
    /// `K` full, symmetric `D x D` matrices.
    Full(Vec<Mat<T>>),
    /// Only the diagonals, as a `K x D` matrix.
    Diagonal(Mat<T>),
}

/// What a conjugate (Normal-inverse-Wishart) prior adds to the covariance
/// estimate (Fraley & Raftery 2007): a prior scale and degrees of freedom.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorTerms<T: Scalar> {
    /// Degrees of freedom `ν`.
    pub dof: T,
    /// Prior scale matrix `Λ` (`D x D`) for ellipsoidal structures.
    pub scale: Mat<T>,
    /// Prior scale `ς²` (a scalar) for diagonal and spherical structures.
    pub scale_scalar: T,
}

/// The weighted statistics a covariance constraint estimates from.
#[derive(Debug, Clone, PartialEq)]
pub struct MStepStats<T: Scalar> {
    /// Effective number of points per component, `Σᵢ wᵢ rᵢₖ` (plus `10 ε` so that
    /// an empty component never divides by zero, as in scikit-learn).
    pub nk: Vec<T>,
    /// The new `K x D` means.
    pub means: Mat<T>,
    /// Scatter about the new means.
    pub scatter: Scatter<T>,
    /// The conjugate prior's terms, when a MAP fit was asked for.
    pub prior: Option<PriorTerms<T>>,
}

impl<T: Scalar> MStepStats<T> {
    /// Number of components.
    pub fn n_components(&self) -> usize {
        self.nk.len()
    }
    /// Dimension.
    pub fn dim(&self) -> usize {
        self.means.ncols()
    }
    /// Diagonal entry `j` of component `k`'s scatter.
    pub fn scatter_diag(&self, k: usize, j: usize) -> T {
        match &self.scatter {
            Scatter::Full(w) => w[k][(j, j)],
            Scatter::Diagonal(w) => w[(k, j)],
        }
    }
}

/// A covariance constraint: the structure that the M-step imposes.
///
/// Implement it to add a structure of your own: say which scatter you need
/// ([`CovarianceConstraint::needs_full_scatter`]) and turn [`MStepStats`] into
/// [`Covariances`]. The regularizers run afterwards on what you return.
pub trait CovarianceConstraint<T: Scalar>: fmt::Debug + Send + Sync {
    /// Name for reports (e.g. `"full"`, `"tied-diag"`).
    fn name(&self) -> String;
    /// Whether the M-step must accumulate full `D x D` scatter matrices (costly:
    /// one matrix product per chunk and component) or only their diagonals.
    fn needs_full_scatter(&self) -> bool;
    /// Covariance parameters from the statistics.
    ///
    /// # Errors
    /// A [`FitError`] when no covariance can be formed.
    fn estimate(&self, stats: &MStepStats<T>) -> Result<Covariances<T>, FitError>;
    /// Free covariance parameters for `k` components in `d` dimensions (for
    /// information criteria).
    fn n_free_parameters(&self, k: usize, d: usize) -> usize;
    /// The built-in structure this constraint is, if any: the fitted model
    /// then keeps it exactly (a tied diagonal model stays tied diagonal in
    /// model files and parameter counts). Default: none, and the model has
    /// the structure its covariances are stored in.
    fn structure(&self) -> Option<Covariance> {
        None
    }
}

// The built-in structures are the names of `mixtures_dist::Covariance`; this
// crate gives them their M-step.
impl<T: Scalar> CovarianceConstraint<T> for Covariance {
    fn name(&self) -> String {
        self.as_str().to_owned()
    }

    fn needs_full_scatter(&self) -> bool {
        self.is_full()
    }

    fn estimate(&self, s: &MStepStats<T>) -> Result<Covariances<T>, FitError> {
        let (k, d) = (s.n_components(), s.dim());
        let kk = T::from_usize(k);
        let dd = T::from_usize(d);
        let n: T = s.nk.iter().copied().sum();
        // Denominators follow Fraley & Raftery (2007): the maximum-likelihood
        // counts, plus the prior's degrees of freedom and one count per mean prior.
        let prior = s.prior.as_ref();
        let two = T::c(2.0);
        Ok(match self {
            Self::Full => {
                let Scatter::Full(w) = &s.scatter else {
                    return Err(scatter_kind_error());
                };
                let covs = w
                    .iter()
                    .zip(&s.nk)
                    .map(|(wk, &nk)| match prior {
                        Some(p) => Mat::from_fn(d, d, |i, j| {
                            (wk[(i, j)] + p.scale[(i, j)]) / (nk + p.dof + dd + two)
                        }),
                        None => Mat::from_fn(d, d, |i, j| wk[(i, j)] / nk),
                    })
                    .collect();
                Covariances::Full(covs)
            }
            Self::Tied => {
                let Scatter::Full(w) = &s.scatter else {
                    return Err(scatter_kind_error());
                };
                let (extra, den) = match prior {
                    Some(p) => (Some(&p.scale), n + kk + p.dof + dd + T::one()),
                    None => (None, n),
                };
                Covariances::Tied(Mat::from_fn(d, d, |i, j| {
                    let sum: T = w.iter().map(|wk| wk[(i, j)]).sum();
                    (sum + extra.map_or(T::zero(), |e| e[(i, j)])) / den
                }))
            }
            Self::Diag => Covariances::Diag(Mat::from_fn(k, d, |c, j| match prior {
                Some(p) => (s.scatter_diag(c, j) + p.scale_scalar) / (s.nk[c] + p.dof + T::c(3.0)),
                None => s.scatter_diag(c, j) / s.nk[c],
            })),
            Self::TiedDiag => {
                let row: Vec<T> = (0..d)
                    .map(|j| {
                        let sum: T = (0..k).map(|c| s.scatter_diag(c, j)).sum();
                        match prior {
                            Some(p) => (sum + p.scale_scalar) / (n + kk + p.dof + two),
                            None => sum / n,
                        }
                    })
                    .collect();
                Covariances::Diag(Mat::from_fn(k, d, |_, j| row[j]))
            }
            Self::Spherical => Covariances::Spherical(
                (0..k)
                    .map(|c| {
                        let tr: T = (0..d).map(|j| s.scatter_diag(c, j)).sum();
                        match prior {
                            Some(p) => {
                                (tr + p.scale_scalar) / ((s.nk[c] + T::one()) * dd + p.dof + two)
                            }
                            None => tr / (s.nk[c] * dd),
                        }
                    })
                    .collect(),
            ),
            Self::TiedSpherical => {
                let tr: T = (0..k)
                    .flat_map(|c| (0..d).map(move |j| (c, j)))
                    .map(|(c, j)| s.scatter_diag(c, j))
                    .sum();
                let v = match prior {
                    Some(p) => (tr + p.scale_scalar) / ((n + kk) * dd + p.dof + two),
                    None => tr / (n * dd),
                };
                Covariances::Spherical(vec![v; k])
            }
            _ => {
                return Err(FitError::invalid(
                    "covariance",
                    self.as_str(),
                    "this structure has no M-step in this version",
                ));
            }
        })
    }

    fn n_free_parameters(&self, k: usize, d: usize) -> usize {
        Covariance::n_free_parameters(*self, k, d)
    }

    fn structure(&self) -> Option<Covariance> {
        Some(*self)
    }
}

fn scatter_kind_error() -> FitError {
    FitError::Degenerate {
        reason: "internal: a full-covariance constraint received diagonal scatter".to_owned(),
    }
}
