//! Multivariate Student-t components (McLachlan & Peel 2000, ch. 7): a
//! location `μₖ`, a scale matrix `Σₖ` and degrees of freedom `νₖ` each,
//!
//! `ln tₖ(x) = ln Γ((νₖ + D)/2) − ln Γ(νₖ/2) − (D/2) ln(νₖ π) − ½ ln |Σₖ|
//!            − ((νₖ + D)/2) ln(1 + δ²/νₖ)`,
//!
//! with `δ² = (x − μₖ)ᵀ Σₖ⁻¹ (x − μₖ)`. The locations and scale matrices are a
//! [`Gaussian`] family (every structure, the same validation and kernels): a
//! block's squared distances come from its log-densities, so a Student-t
//! block costs what a Gaussian block costs plus one `ln(1 + ·)` per entry.
//! As `ν → ∞` the density tends to the Gaussian's.

use faer::{Mat, MatMut, MatRef};
use mixtures_core::Scalar;
use mixtures_core::kernels::{Kernel, col_slice_mut, vectorize};
use mixtures_core::special::ln_gamma_ratio;
use num_traits::Float;
use rand::Rng;

use crate::{
    Components, Covariance, Covariances, FreeParameters, Gaussian, GaussianScratch, LogDensity,
    ModelError, ModelSpec, Sample,
};

/// `K` Student-t components in `D` dimensions.
///
/// ```
/// use faer::mat;
/// use mixtures_core::Dataset;
/// use mixtures_dist::{Mixture, StudentT};
///
/// let t = StudentT::full(mat![[0.0_f64, 0.0]], vec![mat![[1.0, 0.0], [0.0, 1.0]]], vec![3.0])?;
/// let model = Mixture::new(vec![1.0], t)?;
/// let x = Dataset::from_rows(&[[0.0, 0.0], [10.0, 0.0]])?;
/// let lp = model.log_prob(&x)?;
/// // ln Γ(5/2) − ln Γ(3/2) − ln(3π) at the centre.
/// assert!((lp[0] - (1.5f64.ln() - (3.0 * std::f64::consts::PI).ln())).abs() < 1e-12);
/// // Heavy tails: far more mass 10 scales out than a Gaussian's -51.8.
/// assert!(lp[1] > -12.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct StudentT<T: Scalar> {
    scale: Gaussian<T>,
    dof: Vec<T>,
    /// The t log-density at the centre, per component.
    norm: Vec<T>,
    /// The Gaussian log-density at the centre, per component (to recover
    /// `δ²` from the Gaussian kernels' output).
    gauss_norm: Vec<T>,
}

impl<T: Scalar> PartialEq for StudentT<T> {
    fn eq(&self, other: &Self) -> bool {
        // Everything else is derived from these.
        self.scale == other.scale && self.dof == other.dof
    }
}

impl<T: Scalar> StudentT<T> {
    /// Components from locations and scale matrices (a [`Gaussian`] family:
    /// any structure) and one positive, finite number of degrees of freedom
    /// per component.
    ///
    /// # Errors
    /// [`ModelError::WrongCount`] or [`ModelError::InvalidParameter`] for the
    /// degrees of freedom.
    pub fn from_scale(scale: Gaussian<T>, dof: Vec<T>) -> Result<Self, ModelError> {
        let (k, d) = (scale.n_components(), scale.dim());
        if dof.len() != k {
            return Err(ModelError::WrongCount {
                what: "degrees of freedom",
                expected: k,
                found: dof.len(),
            });
        }
        if let Some(c) = dof.iter().position(|v| !(v.is_finite() && *v > T::zero())) {
            return Err(ModelError::invalid(
                "degrees_of_freedom",
                dof[c].as_f64(),
                "must be positive and finite for every component",
            ));
        }
        let dd = d as f64;
        let gauss_norm: Vec<T> = (0..k)
            .map(|c| T::c(-0.5 * (dd * mixtures_core::LN_2PI + scale.log_det(c).as_f64())))
            .collect();
        let norm = (0..k)
            .map(|c| {
                let nu = dof[c].as_f64();
                T::c(
                    ln_gamma_ratio(0.5 * nu, 0.5 * dd)
                        - 0.5 * dd * (nu * core::f64::consts::PI).ln()
                        - 0.5 * scale.log_det(c).as_f64(),
                )
            })
            .collect();
        Ok(Self {
            scale,
            dof,
            norm,
            gauss_norm,
        })
    }

    /// Components from `K x D` locations, scale matrices of any structure and
    /// degrees of freedom.
    ///
    /// # Errors
    /// As [`Gaussian::new`] and [`StudentT::from_scale`].
    pub fn new(means: Mat<T>, scales: Covariances<T>, dof: Vec<T>) -> Result<Self, ModelError> {
        Self::from_scale(Gaussian::new(means, scales)?, dof)
    }

    /// Components with full scale matrices.
    ///
    /// # Errors
    /// As [`StudentT::new`].
    pub fn full(means: Mat<T>, scales: Vec<Mat<T>>, dof: Vec<T>) -> Result<Self, ModelError> {
        Self::new(means, Covariances::Full(scales), dof)
    }

    /// The same components declared to have the structure `s` (see
    /// [`Gaussian::with_structure`]).
    ///
    /// # Errors
    /// As [`Gaussian::with_structure`].
    pub fn with_structure(self, s: Covariance) -> Result<Self, ModelError> {
        Ok(Self {
            scale: self.scale.with_structure(s)?,
            ..self
        })
    }

    /// The locations and scale matrices, as a Gaussian family (whose
    /// "covariances" are the scale matrices; the t's covariance is
    /// `ν / (ν − 2) Σ` for `ν > 2`).
    pub fn scale(&self) -> &Gaussian<T> {
        &self.scale
    }

    /// The `K x D` locations.
    pub fn means(&self) -> MatRef<'_, T> {
        self.scale.means()
    }

    /// The degrees of freedom of each component.
    pub fn dof(&self) -> &[T] {
        &self.dof
    }

    /// The log-density of each component at its centre (`δ² = 0`):
    /// `ln Γ((ν+D)/2) − ln Γ(ν/2) − (D/2) ln(νπ) − ½ ln |Σ|`, computed in
    /// `f64` without the cancellation of two large `ln Γ` when `ν` is large.
    /// What an exported scorer (`mixtures_anomaly::export`) starts from.
    pub fn log_norms(&self) -> &[T] {
        &self.norm
    }

    /// Writes the t log-densities of a block of rows into `out` (`m x K`),
    /// the E-step's latent weights `uᵢₖ = (νₖ + D) / (νₖ + δ²ᵢₖ)` into `u`
    /// (`m x K`: the expected precision scaling of row `i` were it drawn from
    /// component `k`) and `ln uᵢₖ` into `ln_u`, from the logarithm the density
    /// takes anyway (`ln u = ln((ν + D)/ν) − ln(1 + δ²/ν)`).
    pub fn log_density_and_weights_block(
        &self,
        x: MatRef<'_, T>,
        mut out: MatMut<'_, T>,
        mut u: MatMut<'_, T>,
        mut ln_u: MatMut<'_, T>,
        scratch: &mut GaussianScratch<T>,
    ) {
        self.scale.log_density_block(x, out.as_mut(), scratch);
        let dd = T::from_usize(self.dim());
        for c in 0..self.dof.len() {
            let nu = self.dof[c];
            let col = TColumn {
                nu,
                dd,
                norm: self.norm[c],
                gauss_norm: self.gauss_norm[c],
                ln_u0: Float::ln_1p(dd / nu),
            };
            match (
                col_slice_mut(out.as_mut(), c),
                col_slice_mut(u.as_mut(), c),
                col_slice_mut(ln_u.as_mut(), c),
            ) {
                (Some(out), Some(u), Some(ln_u)) => vectorize(TEntries { col, out, u, ln_u }),
                _ => {
                    // A strided view: through contiguous copies, so that the
                    // arithmetic (and its bits) is the same.
                    let mut oc: Vec<T> = out.as_ref().col(c).iter().copied().collect();
                    let (mut uc, mut lc) = (vec![T::zero(); oc.len()], vec![T::zero(); oc.len()]);
                    vectorize(TEntries {
                        col,
                        out: &mut oc,
                        u: &mut uc,
                        ln_u: &mut lc,
                    });
                    for (dst, src) in [(out.as_mut(), oc), (u.as_mut(), uc), (ln_u.as_mut(), lc)] {
                        for (o, v) in dst.col_mut(c).iter_mut().zip(src) {
                            *o = v;
                        }
                    }
                }
            }
        }
    }
}

/// One component's constants for [`TEntries`].
#[derive(Clone, Copy)]
struct TColumn<T> {
    nu: T,
    dd: T,
    norm: T,
    gauss_norm: T,
    /// `ln(1 + D/ν)`.
    ln_u0: T,
}

/// Turns one column of Gaussian log-densities into the t log-densities, `u`
/// and `ln u`, in strips: the distances and `δ²/ν` in one vectorized loop,
/// `ln(1 + δ²/ν)` by [`Scalar::ln_1p_in_place`] (libm's `ln_1p` is a call per
/// entry that no loop vectorizes: it cost the t as much as the rest of its
/// E-step), then the three outputs in another loop.
struct TEntries<'a, T> {
    col: TColumn<T>,
    out: &'a mut [T],
    u: &'a mut [T],
    ln_u: &'a mut [T],
}

/// Rows per strip of [`TEntries`]: vectorizes, stays on the stack and in L1.
const T_STRIP: usize = 128;

impl<T: Scalar> Kernel for TEntries<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let TEntries { col, out, u, ln_u } = self;
        let TColumn {
            nu,
            dd,
            norm,
            gauss_norm,
            ln_u0,
        } = col;
        let (two, e) = (T::c(2.0), T::c(0.5) * (nu + dd));
        let mut l = [T::zero(); T_STRIP];
        for ((o, u), lu) in out
            .chunks_mut(T_STRIP)
            .zip(u.chunks_mut(T_STRIP))
            .zip(ln_u.chunks_mut(T_STRIP))
        {
            let l = &mut l[..o.len()];
            // δ² from the Gaussian log-density, kept in `u` until the end.
            // Rounding can make a distance near the centre slightly negative.
            for ((&g, d2), l) in o.iter().zip(u.iter_mut()).zip(l.iter_mut()) {
                *d2 = Float::max(two * (gauss_norm - g), T::zero());
                *l = *d2 / nu;
            }
            T::ln_1p_in_place(l);
            for (((o, u), lu), &l) in o.iter_mut().zip(u.iter_mut()).zip(lu).zip(l.iter()) {
                *o = norm - e * l;
                *lu = ln_u0 - l;
                *u = (nu + dd) / (nu + *u);
            }
        }
    }
}

/// Scratch of a Student-t block: the Gaussian kernels' scratch.
pub type StudentTScratch<T> = GaussianScratch<T>;

impl<T: Scalar> Components<T> for StudentT<T> {
    fn n_components(&self) -> usize {
        self.scale.n_components()
    }
    fn dim(&self) -> usize {
        self.scale.dim()
    }
    fn spec(&self) -> ModelSpec {
        ModelSpec::student_t(self.scale.covariance_type())
    }
}

impl<T: Scalar> LogDensity<T> for StudentT<T> {
    /// The Gaussian kernels' scratch, and the block's `u` and `ln u`.
    type Scratch = (GaussianScratch<T>, Mat<T>, Mat<T>);

    fn scratch(&self, max_rows: usize) -> Self::Scratch {
        (
            self.scale.scratch(max_rows),
            Mat::zeros(max_rows, self.n_components()),
            Mat::zeros(max_rows, self.n_components()),
        )
    }

    fn log_density_block(&self, x: MatRef<'_, T>, out: MatMut<'_, T>, s: &mut Self::Scratch) {
        let (g, u, ln_u) = s;
        let m = x.nrows();
        let (u, ln_u) = (
            u.as_mut().subrows_mut(0, m),
            ln_u.as_mut().subrows_mut(0, m),
        );
        self.log_density_and_weights_block(x, out, u, ln_u, g);
    }
}

impl<T: Scalar> Sample<T> for StudentT<T> {
    /// A Gaussian draw `g` from the scale, then `μ + (g − μ) / √w` with
    /// `w ~ Gamma(ν/2, rate ν/2)`.
    fn sample_component<R: Rng + ?Sized>(&self, k: usize, rng: &mut R, out: &mut [T]) {
        self.scale.sample_component(k, rng, out);
        let nu = self.dof[k].as_f64();
        let w = rand_distr::Gamma::new(0.5 * nu, 2.0 / nu)
            .map(|g| rand::Rng::sample(rng, g))
            .unwrap_or(1.0);
        let f = T::c(1.0 / w.sqrt());
        for (o, &m) in out.iter_mut().zip(self.scale.mean(k)) {
            *o = m + (*o - m) * f;
        }
    }
}

impl<T: Scalar> FreeParameters for StudentT<T> {
    /// The locations and scale matrices as a Gaussian's, plus one degree of
    /// freedom per component.
    fn n_free_parameters(&self) -> usize {
        self.scale.n_free_parameters() + self.dof.len()
    }
}
