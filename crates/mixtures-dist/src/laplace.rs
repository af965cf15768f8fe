//! Laplace components: independent per dimension, with a location and a scale per
//! dimension, or one scale per component ("spherical").

use faer::prelude::ReborrowMut;
use faer::{Mat, MatMut, MatRef};
use mixtures_core::Scalar;
use mixtures_core::kernels::col_slice;
use num_traits::Float;
use rand::Rng;

use crate::common::{check_count, check_locations, check_shape};
use crate::{Components, FreeParameters, LogDensity, ModelError, Sample};

/// Scale parameters of `K` Laplace components in `D` dimensions.
#[derive(Debug, Clone, PartialEq)]
pub enum LaplaceScales<T: Scalar> {
    /// A `K x D` matrix: one scale per component and dimension (model files call
    /// this covariance type `"diag"`).
    PerDimension(Mat<T>),
    /// One scale per component, shared by its dimensions (`"spherical"`).
    Spherical(Vec<T>),
}

/// `K` Laplace components: `p(x) = Πⱼ exp(−|xⱼ − μⱼ| / bⱼ) / (2 bⱼ)`.
///
/// Heavier tails than a Gaussian make a Laplace mixture less sensitive to
/// outliers in the data it is fitted on.
///
/// ```
/// use mixtures_dist::{Laplace, Components};
/// use faer::mat;
/// let l = Laplace::spherical(mat![[0.0_f64, 1.0]], vec![0.5])?;
/// assert_eq!(l.dim(), 2);
/// # Ok::<(), mixtures_dist::ModelError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Laplace<T: Scalar> {
    locations: Mat<T>,
    loc_rows: Vec<T>,
    scales: LaplaceScales<T>,
    /// Row-major `K x D` inverse scales (repeated across `D` when spherical).
    inv_scale: Vec<T>,
    /// `−Σⱼ ln(2 bₖⱼ)` per component.
    norm: Vec<T>,
}

impl<T: Scalar> PartialEq for Laplace<T> {
    fn eq(&self, other: &Self) -> bool {
        self.locations == other.locations && self.scales == other.scales
    }
}

fn check_scale<T: Scalar>(component: usize, feature: usize, b: T) -> Result<(), ModelError> {
    if !(b.is_finite() && b > T::zero() && (T::one() / b).is_finite()) {
        return Err(ModelError::InvalidScale {
            component,
            feature,
            value: b.as_f64(),
        });
    }
    Ok(())
}

impl<T: Scalar> Laplace<T> {
    /// Builds `K` components from `K x D` locations and scales.
    ///
    /// # Errors
    /// [`ModelError::NoComponents`], [`ModelError::NoDimensions`],
    /// [`ModelError::NonFiniteParameter`], [`ModelError::WrongShape`],
    /// [`ModelError::WrongCount`] or [`ModelError::InvalidScale`].
    pub fn new(locations: Mat<T>, scales: LaplaceScales<T>) -> Result<Self, ModelError> {
        let loc_rows = check_locations("locations", &locations)?;
        let (k, d) = (locations.nrows(), locations.ncols());
        let two = T::c(2.0);
        let mut inv_scale = Vec::with_capacity(k * d);
        let mut norm = Vec::with_capacity(k);
        match &scales {
            LaplaceScales::PerDimension(b) => {
                check_shape("scales", None, b, k, d)?;
                for c in 0..k {
                    let mut n = T::zero();
                    for j in 0..d {
                        check_scale(c, j, b[(c, j)])?;
                        inv_scale.push(T::one() / b[(c, j)]);
                        n -= Float::ln(two * b[(c, j)]);
                    }
                    norm.push(n);
                }
            }
            LaplaceScales::Spherical(b) => {
                check_count("scales", k, b.len())?;
                for (c, &s) in b.iter().enumerate() {
                    check_scale(c, 0, s)?;
                    inv_scale.extend(core::iter::repeat_n(T::one() / s, d));
                    norm.push(-T::from_usize(d) * Float::ln(two * s));
                }
            }
        }
        Ok(Self {
            locations,
            loc_rows,
            scales,
            inv_scale,
            norm,
        })
    }

    /// Components with one scale per dimension (`K x D` scales).
    ///
    /// # Errors
    /// As [`Laplace::new`].
    pub fn per_dimension(locations: Mat<T>, scales: Mat<T>) -> Result<Self, ModelError> {
        Self::new(locations, LaplaceScales::PerDimension(scales))
    }

    /// Components with one scale each (`K` scales).
    ///
    /// # Errors
    /// As [`Laplace::new`].
    pub fn spherical(locations: Mat<T>, scales: Vec<T>) -> Result<Self, ModelError> {
        Self::new(locations, LaplaceScales::Spherical(scales))
    }

    /// The `K x D` locations (per-dimension medians).
    pub fn locations(&self) -> MatRef<'_, T> {
        self.locations.as_ref()
    }

    /// The location of component `k`.
    ///
    /// # Panics
    /// If `k >= K`.
    pub fn location(&self, k: usize) -> &[T] {
        let d = self.dim();
        &self.loc_rows[k * d..(k + 1) * d]
    }

    /// The scale parameters.
    pub fn scales(&self) -> &LaplaceScales<T> {
        &self.scales
    }

    /// The scale of component `k` in dimension `j`.
    ///
    /// # Panics
    /// If `k >= K` or `j >= D`.
    pub fn scale(&self, k: usize, j: usize) -> T {
        // The stored scale, not 1 / inv_scale: near the top of the range the
        // round trip through the reciprocal overflows (1 / (1 / f64::MAX) = ∞).
        match &self.scales {
            LaplaceScales::PerDimension(b) => b[(k, j)],
            LaplaceScales::Spherical(b) => {
                assert!(j < self.dim(), "feature {j} of {}", self.dim());
                b[k]
            }
        }
    }
}

impl<T: Scalar> Components<T> for Laplace<T> {
    fn n_components(&self) -> usize {
        self.locations.nrows()
    }
    fn dim(&self) -> usize {
        self.locations.ncols()
    }
    fn spec(&self) -> crate::ModelSpec {
        match self.scales {
            LaplaceScales::PerDimension(_) => crate::ModelSpec::LAPLACE_DIAG,
            LaplaceScales::Spherical(_) => crate::ModelSpec::LAPLACE_SPHERICAL,
        }
    }
}

impl<T: Scalar> LogDensity<T> for Laplace<T> {
    /// One L1 distance per row.
    type Scratch = Vec<T>;

    fn scratch(&self, max_rows: usize) -> Vec<T> {
        vec![T::zero(); max_rows]
    }

    fn log_density_block(&self, x: MatRef<'_, T>, mut out: MatMut<'_, T>, s: &mut Vec<T>) {
        let (m, d) = (x.nrows(), self.dim());
        let dist = &mut s[..m];
        for k in 0..self.n_components() {
            dist.fill(T::zero());
            for j in 0..d {
                let (mu, p) = (self.loc_rows[k * d + j], self.inv_scale[k * d + j]);
                match col_slice(x, j) {
                    Some(c) => {
                        for (o, &v) in dist.iter_mut().zip(c) {
                            *o += Float::abs(v - mu) * p;
                        }
                    }
                    None => {
                        for (o, &v) in dist.iter_mut().zip(x.col(j).iter()) {
                            *o += Float::abs(v - mu) * p;
                        }
                    }
                }
            }
            let norm = self.norm[k];
            for (o, &q) in out.rb_mut().col_mut(k).iter_mut().zip(dist.iter()) {
                *o = norm - q;
            }
        }
    }
}

impl<T: Scalar> Sample<T> for Laplace<T> {
    fn sample_component<R: Rng + ?Sized>(&self, k: usize, rng: &mut R, out: &mut [T]) {
        let d = self.dim();
        for (j, o) in out.iter_mut().enumerate().take(d) {
            // The difference of two unit exponentials is a standard Laplace draw.
            let e1: f64 = rng.sample(rand_distr::Exp1);
            let e2: f64 = rng.sample(rand_distr::Exp1);
            *o = self.loc_rows[k * d + j] + self.scale(k, j) * T::c(e1 - e2);
        }
    }
}

impl<T: Scalar> FreeParameters for Laplace<T> {
    fn n_free_parameters(&self) -> usize {
        let (k, d) = (self.n_components(), self.dim());
        let scales = match self.scales {
            LaplaceScales::PerDimension(_) => k * d,
            LaplaceScales::Spherical(_) => k,
        };
        k * d + scales
    }
}
