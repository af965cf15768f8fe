//! Gaussian components with full, diagonal, spherical or tied covariance.

use faer::prelude::ReborrowMut;
use faer::{Mat, MatMut, MatRef};
use mixtures_core::kernels::{
    Kernel, col_slice, maha_work_len, sq_mahalanobis_block, vectorize, whiten_block,
};
use mixtures_core::{Cholesky, LN_2PI, Scalar};
use num_traits::Float;
use rand::Rng;

use crate::axis::{AXIS_TILE, AxisProducts, axis_block, product_block};
use crate::common::{check_count, check_finite, check_locations, check_shape, std_normal};
use crate::{Components, Covariance, FreeParameters, LogDensity, ModelError, ModelSpec, Sample};

/// Covariance parameters of `K` Gaussian components in `D` dimensions, in
/// scikit-learn's shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Covariances<T: Scalar> {
    /// `K` symmetric positive-definite `D x D` matrices.
    Full(Vec<Mat<T>>),
    /// A `K x D` matrix of positive variances.
    Diag(Mat<T>),
    /// `K` positive variances.
    Spherical(Vec<T>),
    /// One symmetric positive-definite `D x D` matrix shared by all components.
    Tied(Mat<T>),
}

impl<T: Scalar> Covariances<T> {
    /// How these covariances are stored (one of scikit-learn's four
    /// types; a tied diagonal structure is stored as [`Covariance::Diag`]).
    pub fn covariance_type(&self) -> Covariance {
        match self {
            Self::Full(_) => Covariance::Full,
            Self::Diag(_) => Covariance::Diag,
            Self::Spherical(_) => Covariance::Spherical,
            Self::Tied(_) => Covariance::Tied,
        }
    }

    /// Whether every component has the same parameters (diagonal rows or
    /// variances bit for bit equal; full matrices never are shared, a tied
    /// matrix always is).
    fn all_rows_equal(&self) -> bool {
        match self {
            Self::Diag(v) => (1..v.nrows()).all(|c| (0..v.ncols()).all(|j| v[(c, j)] == v[(0, j)])),
            Self::Spherical(v) => v.iter().all(|x| *x == v[0]),
            Self::Tied(_) => true,
            Self::Full(_) => false,
        }
    }
}

/// What density evaluation and sampling need, derived once from the parameters.
#[derive(Debug, Clone)]
enum Factors<T: Scalar> {
    Full(Vec<Cholesky<T>>),
    Tied {
        chol: Cholesky<T>,
        /// Mean of the component means: the data are whitened around it, once
        /// per block for all components.
        center: Vec<T>,
        /// Row-major `K x D`: `(μₖ − center)ᵀ L⁻ᵀ`.
        shifted: Vec<T>,
    },
    /// Row-major `K x D` standard deviations and their inverses, and the
    /// product form when it is accurate ([`AxisProducts`]).
    Diag {
        sd: Vec<T>,
        inv_sd: Vec<T>,
        products: Option<AxisProducts<T>>,
    },
    /// Per-component standard deviations and their inverses, and the product
    /// form when it is accurate.
    Spherical {
        sd: Vec<T>,
        inv_sd: Vec<T>,
        products: Option<AxisProducts<T>>,
    },
}

/// `K` Gaussian components in `D` dimensions: means and covariances, with the
/// Cholesky factors, inverse factors and log-determinants cached so that the
/// log-density of a block of samples is one matrix product per component.
///
/// ```
/// use mixtures_dist::{Gaussian, Components};
/// use faer::mat;
/// let g = Gaussian::diag(mat![[0.0_f64, 0.0], [5.0, 5.0]], mat![[1.0, 1.0], [2.0, 0.5]])?;
/// assert_eq!((g.n_components(), g.dim()), (2, 2));
/// # Ok::<(), mixtures_dist::ModelError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gaussian<T: Scalar> {
    means: Mat<T>,
    mean_rows: Vec<T>,
    covariances: Covariances<T>,
    /// The exact structure (tied diagonal and tied spherical are stored as
    /// diagonal and spherical with equal rows).
    structure: Covariance,
    factors: Factors<T>,
    /// `−½ (D ln 2π + ln det Σₖ)` per component.
    norm: Vec<T>,
}

impl<T: Scalar> PartialEq for Gaussian<T> {
    fn eq(&self, other: &Self) -> bool {
        // Everything else is derived from these.
        self.means == other.means
            && self.covariances == other.covariances
            && self.structure == other.structure
    }
}

/// Checks symmetry within `√ε` relative to the diagonal and returns the exactly
/// symmetric matrix (mean of the two triangles; a symmetric input is unchanged).
fn symmetrized<T: Scalar>(a: &Mat<T>, component: Option<usize>) -> Result<Mat<T>, ModelError> {
    let d = a.nrows();
    let tol = Float::sqrt(T::epsilon());
    let half = T::c(0.5);
    let mut out = a.clone();
    for j in 0..d {
        for i in (j + 1)..d {
            let (lo, up) = (a[(i, j)], a[(j, i)]);
            let scale = Float::sqrt(Float::abs(a[(i, i)] * a[(j, j)]));
            if !(Float::abs(lo - up) <= tol * scale) {
                return Err(ModelError::NotSymmetric {
                    component,
                    row: j,
                    col: i,
                    upper: up.as_f64(),
                    lower: lo.as_f64(),
                });
            }
            let avg = if lo == up { lo } else { (lo + up) * half };
            out[(i, j)] = avg;
            out[(j, i)] = avg;
        }
    }
    Ok(out)
}

fn factor_spd<T: Scalar>(
    what: &'static str,
    a: &Mat<T>,
    component: Option<usize>,
    d: usize,
) -> Result<(Mat<T>, Cholesky<T>), ModelError> {
    check_shape(what, component, a, d, d)?;
    check_finite(what, a)?;
    let a = symmetrized(a, component)?;
    let chol = Cholesky::new(a.as_ref())
        .map_err(|source| ModelError::NotPositiveDefinite { component, source })?;
    Ok((a, chol))
}

fn check_variance<T: Scalar>(component: usize, feature: usize, v: T) -> Result<(), ModelError> {
    // sqrt and its inverse must stay finite and positive for evaluation.
    let sd = Float::sqrt(v);
    if !(v.is_finite() && v > T::zero() && (T::one() / sd).is_finite() && sd > T::zero()) {
        return Err(ModelError::InvalidVariance {
            component,
            feature,
            value: v.as_f64(),
        });
    }
    Ok(())
}

impl<T: Scalar> Gaussian<T> {
    /// Builds `K` components from `K x D` means and covariances of any type.
    ///
    /// Covariance matrices must be symmetric (within `√ε` relative; they are then
    /// made exactly symmetric) and numerically positive definite; variances must
    /// be positive.
    ///
    /// # Errors
    /// [`ModelError::NoComponents`], [`ModelError::NoDimensions`],
    /// [`ModelError::NonFiniteParameter`], [`ModelError::WrongCount`],
    /// [`ModelError::WrongShape`], [`ModelError::NotSymmetric`],
    /// [`ModelError::NotPositiveDefinite`] or [`ModelError::InvalidVariance`],
    /// each naming the component.
    pub fn new(means: Mat<T>, covariances: Covariances<T>) -> Result<Self, ModelError> {
        let mean_rows = check_locations("means", &means)?;
        let (k, d) = (means.nrows(), means.ncols());
        let dd = T::from_usize(d);
        let ln2pi = T::c(LN_2PI);
        let half = T::c(0.5);
        let structure = covariances.covariance_type();
        let (covariances, factors, log_dets) = match covariances {
            Covariances::Full(covs) => {
                check_count("covariances", k, covs.len())?;
                let mut sym = Vec::with_capacity(k);
                let mut chols = Vec::with_capacity(k);
                for (c, a) in covs.iter().enumerate() {
                    let (a, chol) = factor_spd("covariance", a, Some(c), d)?;
                    sym.push(a);
                    chols.push(chol);
                }
                let log_dets = chols.iter().map(Cholesky::log_det).collect();
                (Covariances::Full(sym), Factors::Full(chols), log_dets)
            }
            Covariances::Tied(a) => {
                let (a, chol) = factor_spd("tied covariance", &a, None, d)?;
                let kk = T::from_usize(k);
                let center: Vec<T> = (0..d)
                    .map(|j| (0..k).map(|c| means[(c, j)]).sum::<T>() / kk)
                    .collect();
                // (μₖ − c)ᵀ L⁻ᵀ for every component, through the same kernel that
                // whitens the data so the two agree to the last bit.
                let mut centered = Mat::<T>::zeros(k, d);
                let mut shifted_m = Mat::<T>::zeros(k, d);
                whiten_block(
                    means.as_ref(),
                    &center,
                    chol.l_inv(),
                    centered.as_mut(),
                    shifted_m.as_mut(),
                );
                let shifted = crate::common::row_major(&shifted_m);
                let log_dets = vec![chol.log_det(); k];
                (
                    Covariances::Tied(a),
                    Factors::Tied {
                        chol,
                        center,
                        shifted,
                    },
                    log_dets,
                )
            }
            Covariances::Diag(v) => {
                check_shape("variances", None, &v, k, d)?;
                let mut sd = Vec::with_capacity(k * d);
                let mut log_dets = Vec::with_capacity(k);
                for c in 0..k {
                    let mut ld = T::zero();
                    for j in 0..d {
                        check_variance(c, j, v[(c, j)])?;
                        sd.push(Float::sqrt(v[(c, j)]));
                        ld += Float::ln(v[(c, j)]);
                    }
                    log_dets.push(ld);
                }
                let inv_sd = sd.iter().map(|&s| T::one() / s).collect();
                let factors = Factors::Diag {
                    sd,
                    inv_sd,
                    products: None,
                };
                (Covariances::Diag(v), factors, log_dets)
            }
            Covariances::Spherical(v) => {
                check_count("variances", k, v.len())?;
                for (c, &x) in v.iter().enumerate() {
                    check_variance(c, 0, x)?;
                }
                let sd: Vec<T> = v.iter().map(|&x| Float::sqrt(x)).collect();
                let inv_sd = sd.iter().map(|&s| T::one() / s).collect();
                let log_dets = v.iter().map(|&x| dd * Float::ln(x)).collect();
                (
                    Covariances::Spherical(v),
                    Factors::Spherical {
                        sd,
                        inv_sd,
                        products: None,
                    },
                    log_dets,
                )
            }
        };
        let norm: Vec<T> = log_dets
            .into_iter()
            .map(|ld: T| -half * (dd * ln2pi + ld))
            .collect();
        let mut factors = factors;
        match &mut factors {
            Factors::Diag {
                inv_sd, products, ..
            } => *products = AxisProducts::new(&mean_rows, inv_sd, true, &norm),
            Factors::Spherical {
                inv_sd, products, ..
            } => *products = AxisProducts::new(&mean_rows, inv_sd, false, &norm),
            Factors::Full(_) | Factors::Tied { .. } => {}
        }
        Ok(Self {
            means,
            mean_rows,
            covariances,
            structure,
            factors,
            norm,
        })
    }

    /// The components `keep` (indices, in that order), with the same
    /// structure (a tied covariance stays tied).
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] for an empty `keep` or an index out
    /// of range.
    pub fn select(&self, keep: &[usize]) -> Result<Self, ModelError> {
        let k = self.means.nrows();
        if keep.is_empty() || keep.iter().any(|&i| i >= k) {
            return Err(ModelError::invalid(
                "keep",
                keep.len(),
                "must name at least one component, each below the number of components",
            ));
        }
        let d = self.means.ncols();
        let means = Mat::from_fn(keep.len(), d, |i, j| self.means[(keep[i], j)]);
        let rows = |v: &Mat<T>| Mat::from_fn(keep.len(), d, |i, j| v[(keep[i], j)]);
        let cov = match &self.covariances {
            Covariances::Full(cs) => {
                Covariances::Full(keep.iter().map(|&i| cs[i].clone()).collect())
            }
            Covariances::Tied(c) => Covariances::Tied(c.clone()),
            Covariances::Diag(v) => Covariances::Diag(rows(v)),
            Covariances::Spherical(v) => {
                Covariances::Spherical(keep.iter().map(|&i| v[i]).collect())
            }
        };
        Self::new(means, cov)?.with_structure(self.structure)
    }

    /// The same components declared to have the structure `s`: a tied
    /// diagonal (`s = TiedDiag`) or tied spherical (`TiedSpherical`)
    /// structure is stored as diagonal or spherical covariances whose rows are
    /// all equal, and is kept as such in model files and parameter counts.
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] when the covariances are not stored
    /// as `s` is ([`Covariance::storage`]) or, for a tied structure, differ
    /// between components.
    pub fn with_structure(mut self, s: Covariance) -> Result<Self, ModelError> {
        let stored = self.covariances.covariance_type();
        if s.storage() != stored {
            return Err(ModelError::invalid(
                "covariance",
                s.as_str(),
                "the covariances are stored in another shape",
            ));
        }
        if s != stored && !self.covariances.all_rows_equal() {
            return Err(ModelError::invalid(
                "covariance",
                s.as_str(),
                "a tied structure needs the same covariance in every component",
            ));
        }
        self.structure = s;
        Ok(self)
    }

    /// Components with full covariance matrices (`K` of `D x D`).
    ///
    /// # Errors
    /// As [`Gaussian::new`].
    pub fn full(means: Mat<T>, covariances: Vec<Mat<T>>) -> Result<Self, ModelError> {
        Self::new(means, Covariances::Full(covariances))
    }

    /// Components with diagonal covariances (`K x D` variances).
    ///
    /// # Errors
    /// As [`Gaussian::new`].
    pub fn diag(means: Mat<T>, variances: Mat<T>) -> Result<Self, ModelError> {
        Self::new(means, Covariances::Diag(variances))
    }

    /// Components with spherical covariances (`K` variances).
    ///
    /// # Errors
    /// As [`Gaussian::new`].
    pub fn spherical(means: Mat<T>, variances: Vec<T>) -> Result<Self, ModelError> {
        Self::new(means, Covariances::Spherical(variances))
    }

    /// Components sharing one covariance matrix (`D x D`).
    ///
    /// # Errors
    /// As [`Gaussian::new`].
    pub fn tied(means: Mat<T>, covariance: Mat<T>) -> Result<Self, ModelError> {
        Self::new(means, Covariances::Tied(covariance))
    }

    /// The common reference the rows are centred on when diagonal or
    /// spherical log-densities are evaluated by matrix products (the mean of
    /// the component means), or `None` when they are not: other structures,
    /// or a component whose mean lies farther from it than
    /// [`crate::product_form_limit`] allows (see `axis.rs`). The EM pass
    /// accumulates its moments about the same reference then.
    pub fn product_reference(&self) -> Option<&[T]> {
        match &self.factors {
            Factors::Diag { products, .. } | Factors::Spherical { products, .. } => {
                products.as_ref().map(|p| p.reference.as_slice())
            }
            Factors::Full(_) | Factors::Tied { .. } => None,
        }
    }

    /// The `K x D` means.
    pub fn means(&self) -> MatRef<'_, T> {
        self.means.as_ref()
    }

    /// The mean of component `k`.
    ///
    /// # Panics
    /// If `k >= K`.
    pub fn mean(&self, k: usize) -> &[T] {
        let d = self.dim();
        &self.mean_rows[k * d..(k + 1) * d]
    }

    /// The covariance parameters, in scikit-learn's shapes.
    pub fn covariances(&self) -> &Covariances<T> {
        &self.covariances
    }

    /// The covariance structure (the exact one: `TiedDiag` for a tied
    /// diagonal model; [`Covariances::covariance_type`] gives the storage).
    pub fn covariance_type(&self) -> Covariance {
        self.structure
    }

    /// The dense `D x D` covariance matrix of component `k`, whatever the type.
    ///
    /// # Panics
    /// If `k >= K`.
    pub fn covariance_matrix(&self, k: usize) -> Mat<T> {
        let d = self.dim();
        match &self.covariances {
            Covariances::Full(c) => c[k].clone(),
            Covariances::Tied(c) => c.clone(),
            Covariances::Diag(v) => {
                Mat::from_fn(d, d, |i, j| if i == j { v[(k, i)] } else { T::zero() })
            }
            Covariances::Spherical(v) => {
                Mat::from_fn(d, d, |i, j| if i == j { v[k] } else { T::zero() })
            }
        }
    }

    /// `ln det Σₖ`.
    ///
    /// # Panics
    /// If `k >= K`.
    pub fn log_det(&self, k: usize) -> T {
        let dd = T::from_usize(self.dim());
        // norm = −½ (D ln 2π + ln det)  ⇒  ln det = −2 norm − D ln 2π.
        -T::c(2.0) * self.norm[k] - dd * T::c(LN_2PI)
    }
}

/// Scratch for one block of Gaussian evaluation: `m x D` centred rows, their
/// whitened image and one distance per row.
#[derive(Debug)]
pub struct GaussianScratch<T: Scalar> {
    centered: Mat<T>,
    y: Mat<T>,
    /// Centred rows of a block, column after column (full covariances).
    flat: Vec<T>,
    /// `[y, y²]` and the log-densities of a block in `f64` (diagonal and
    /// spherical covariances by products).
    wide: Vec<f64>,
    dist: Vec<T>,
}

impl<T: Scalar> Components<T> for Gaussian<T> {
    fn n_components(&self) -> usize {
        self.means.nrows()
    }
    fn dim(&self) -> usize {
        self.means.ncols()
    }
    fn spec(&self) -> ModelSpec {
        ModelSpec::gaussian(self.structure)
    }
}

/// `out[i] = norm − ½ dist[i]` into column `k` of `out`.
#[inline(always)]
fn write_log_density<T: Scalar>(out: MatMut<'_, T>, k: usize, norm: T, dist: &[T]) {
    let half = T::c(0.5);
    let col = out.col_mut(k);
    if col.row_stride() == 1 {
        if let Some(o) = col.try_as_col_major_mut() {
            for (o, &q) in o.as_slice_mut().iter_mut().zip(dist) {
                *o = norm - half * q;
            }
        }
    } else {
        for (o, &q) in col.iter_mut().zip(dist) {
            *o = norm - half * q;
        }
    }
}

impl<T: Scalar> LogDensity<T> for Gaussian<T> {
    type Scratch = GaussianScratch<T>;

    fn scratch(&self, max_rows: usize) -> GaussianScratch<T> {
        let d = self.dim();
        let (m, wide, flat) = match self.factors {
            Factors::Full(_) => (0, 0, maha_work_len(max_rows, d)),
            Factors::Tied { .. } => (max_rows, d, 0),
            // The tiles only when the products are not used.
            Factors::Diag { .. } | Factors::Spherical { .. } => match self.product_reference() {
                Some(_) => (0, 0, 0),
                None => (0, 0, max_rows.div_ceil(AXIS_TILE) * AXIS_TILE * d),
            },
        };
        let wide_f64 = match self.product_reference() {
            Some(_) => max_rows * (2 * d + self.n_components()),
            None => 0,
        };
        GaussianScratch {
            centered: Mat::zeros(m, wide),
            y: Mat::zeros(m, wide),
            flat: vec![T::zero(); flat],
            wide: vec![0.0; wide_f64],
            dist: vec![T::zero(); max_rows],
        }
    }

    fn log_density_block(&self, x: MatRef<'_, T>, out: MatMut<'_, T>, s: &mut GaussianScratch<T>) {
        vectorize(Block { g: self, x, out, s });
    }
}

/// One block of Gaussian evaluation, compiled for the processor's SIMD width.
struct Block<'a, T: Scalar> {
    g: &'a Gaussian<T>,
    x: MatRef<'a, T>,
    out: MatMut<'a, T>,
    s: &'a mut GaussianScratch<T>,
}

impl<T: Scalar> Kernel for Block<'_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let Block { g, x, mut out, s } = self;
        let (m, d) = (x.nrows(), g.dim());
        let dist = &mut s.dist[..m];
        match &g.factors {
            Factors::Full(chols) => {
                for (k, chol) in chols.iter().enumerate() {
                    sq_mahalanobis_block(x, g.mean(k), chol.l_inv(), &mut s.flat, dist);
                    write_log_density(out.rb_mut(), k, g.norm[k], dist);
                }
            }
            Factors::Tied {
                chol,
                center,
                shifted,
            } => {
                // One product for all components: y = (x − c) L⁻ᵀ, then
                // ‖y − (μₖ − c) L⁻ᵀ‖² per component.
                whiten_block(x, center, chol.l_inv(), s.centered.as_mut(), s.y.as_mut());
                let y = s.y.as_ref().subrows(0, m);
                for k in 0..g.n_components() {
                    dist.fill(T::zero());
                    for j in 0..d {
                        let b = shifted[k * d + j];
                        accumulate_sq(y, j, b, T::one(), dist);
                    }
                    write_log_density(out.rb_mut(), k, g.norm[k], dist);
                }
            }
            Factors::Diag {
                products: Some(ap), ..
            }
            | Factors::Spherical {
                products: Some(ap), ..
            } => product_block(x, ap, &mut s.wide, out),
            Factors::Diag { inv_sd, .. } => {
                axis_block(x, &g.mean_rows, inv_sd, true, &g.norm, &mut s.flat, out);
            }
            Factors::Spherical { inv_sd, .. } => {
                axis_block(x, &g.mean_rows, inv_sd, false, &g.norm, &mut s.flat, out);
            }
        }
    }
}

/// `dist[i] += ((x[i, j] − mu) · p)²`, over contiguous rows when possible.
#[inline(always)]
fn accumulate_sq<T: Scalar>(x: MatRef<'_, T>, j: usize, mu: T, p: T, dist: &mut [T]) {
    match col_slice(x, j) {
        Some(c) => {
            for (o, &v) in dist.iter_mut().zip(c) {
                let z = (v - mu) * p;
                *o += z * z;
            }
        }
        None => {
            for (o, &v) in dist.iter_mut().zip(x.col(j).iter()) {
                let z = (v - mu) * p;
                *o += z * z;
            }
        }
    }
}

impl<T: Scalar> Sample<T> for Gaussian<T> {
    fn sample_component<R: Rng + ?Sized>(&self, k: usize, rng: &mut R, out: &mut [T]) {
        let d = self.dim();
        let mu = self.mean(k);
        match &self.factors {
            Factors::Full(_) | Factors::Tied { .. } => {
                let l = match &self.factors {
                    Factors::Full(c) => c[k].l(),
                    Factors::Tied { chol, .. } => chol.l(),
                    _ => return,
                };
                // x = μ + L z; z drawn first so the stream does not depend on L.
                for o in out.iter_mut().take(d) {
                    *o = std_normal(rng);
                }
                for i in (0..d).rev() {
                    let mut acc = T::zero();
                    for (j, &z) in out.iter().enumerate().take(i + 1) {
                        acc += l[(i, j)] * z;
                    }
                    out[i] = acc;
                }
                for (o, &m) in out.iter_mut().zip(mu) {
                    *o += m;
                }
            }
            Factors::Diag { sd, .. } => {
                for (j, o) in out.iter_mut().enumerate().take(d) {
                    *o = mu[j] + sd[k * d + j] * std_normal::<T, R>(rng);
                }
            }
            Factors::Spherical { sd, .. } => {
                for (j, o) in out.iter_mut().enumerate().take(d) {
                    *o = mu[j] + sd[k] * std_normal::<T, R>(rng);
                }
            }
        }
    }
}

impl<T: Scalar> FreeParameters for Gaussian<T> {
    fn n_free_parameters(&self) -> usize {
        let (k, d) = (self.n_components(), self.dim());
        self.structure.n_free_parameters(k, d) + k * d
    }
}
