//! Diagonal and spherical log-densities of a block of rows, two ways.
//!
//! **Products** (the fast path). With every row centred once on a common
//! reference `c` (the mean of the component means), `y = x − c`, and
//! `mₖ = μₖ − c`,
//!
//! `ln pₖ(x) = normₖ − ½ Σⱼ pₖⱼ (yⱼ − mₖⱼ)² = (normₖ − ½ Bₖ) + Σⱼ (−½ pₖⱼ) yⱼ² + Σⱼ pₖⱼ mₖⱼ yⱼ`
//!
//! with `pₖⱼ = 1/σ²ₖⱼ` and `Bₖ = Σⱼ pₖⱼ mₖⱼ²`: one matrix product of the block's
//! `[y, y²]` (`m × 2D`) by a `2D × K` matrix for all components at once, where
//! the tiles below do three operations per row, component and feature.
//!
//! **Why the reference, and when products are not used.** Expanding the square
//! about the origin (scikit-learn's `E[x²] − μ²`) cancels catastrophically
//! for data far from it (an offset of 10⁶ with unit spread leaves nothing of an
//! `f32`); centring on `c` removes the offset, so what cancels is only the
//! distance of each component's mean from `c` in its own units: the terms are
//! of size `Bₖ` where the result is `‖x − μₖ‖²ₚ`, and rounding adds an absolute
//! error of at most about `(2D + 2) u (Bₖ + ‖x − μₖ‖²ₚ)` to `ln pₖ`, and the
//! moments of the M-step a relative `(2Bₖ + 3) u` (`u` the unit roundoff of
//! `f64`, see `mixtures_em`'s pass). The products are computed in `f64` for
//! `f32` data too (the rows are widened once per block): in `f32` that error
//! would be of the order of EM's convergence tolerance, and the log-likelihood
//! would jitter from one iteration to the next. Products are used only when
//! every component has `Bₖ ≤` [`product_form_limit`] `= 8.3 · 10⁴` (`u^(−1/3)/2`
//! in `f64`: at most a third of the digits can be lost, relative errors stay
//! below 2 · 10⁻¹¹). Otherwise the **tiles** evaluate `Σⱼ ((xⱼ − μₖⱼ) pₖⱼ^½)²`
//! exactly as written, in the data's precision, with no cancellation at all.

use faer::linalg::matmul::matmul;
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use mixtures_core::Scalar;
use mixtures_core::kernels::{col_slice, col_slice_mut};

/// The largest `Bₖ = Σⱼ (μₖⱼ − cⱼ)² / σ²ₖⱼ` (the squared distance of a
/// component's mean from the common reference, in its own standard deviations)
/// for which the diagonal and spherical log-densities are evaluated by matrix
/// products (in `f64`, whatever the data's precision): `ε^(−1/3) / 2` with
/// `f64`'s `ε`, 8.3 · 10⁴, so that the `(2Bₖ + 3) ε` relative error of the
/// moments loses at most a third of the digits. See the module documentation
/// of `axis.rs`.
pub fn product_form_limit() -> f64 {
    0.5 * f64::EPSILON.powf(-1.0 / 3.0)
}

/// What the product form needs, derived once from the parameters.
#[derive(Debug, Clone)]
pub(crate) struct AxisProducts<T: Scalar> {
    /// The common reference `c`: the mean of the component means.
    pub reference: Vec<T>,
    /// The reference in `f64`.
    reference_f64: Vec<f64>,
    /// `2D x K`: rows `0..D` hold `pₖⱼ mₖⱼ`, rows `D..2D` hold `−½ pₖⱼ`.
    weights: Mat<f64>,
    /// `normₖ − ½ Bₖ`.
    constant: Vec<f64>,
}

impl<T: Scalar> AxisProducts<T> {
    /// The product form of `K` components with means `means` (row-major
    /// `K x D`) and inverse standard deviations `inv_sd` (row-major `K x D`
    /// when `per_dim`, else one per component), or `None` when some
    /// component's `Bₖ` exceeds [`product_form_limit`].
    pub fn new(means: &[T], inv_sd: &[T], per_dim: bool, norm: &[T]) -> Option<Self> {
        let k = norm.len();
        let d = means.len() / k.max(1);
        let kk = T::from_usize(k);
        let reference: Vec<T> = (0..d)
            .map(|j| (0..k).map(|c| means[c * d + j]).sum::<T>() / kk)
            .collect();
        let reference_f64: Vec<f64> = reference.iter().map(|v| v.as_f64()).collect();
        let limit = product_form_limit();
        let mut weights = Mat::<f64>::zeros(2 * d, k);
        let mut constant = Vec::with_capacity(k);
        for c in 0..k {
            let mut b = 0.0_f64;
            for j in 0..d {
                let s = if per_dim {
                    inv_sd[c * d + j]
                } else {
                    inv_sd[c]
                }
                .as_f64();
                let p = s * s;
                let m = means[c * d + j].as_f64() - reference_f64[j];
                b += p * m * m;
                weights[(j, c)] = p * m;
                weights[(d + j, c)] = -0.5 * p;
            }
            if !(b <= limit) {
                return None;
            }
            constant.push(norm[c].as_f64() - 0.5 * b);
        }
        Some(Self {
            reference,
            reference_f64,
            weights,
            constant,
        })
    }
}

/// `[y, y²]` of a block in `f64` (`m x 2D`, column-major, into `y2`) with
/// `y = x − c`: what both the E-step's and the M-step's products multiply.
#[inline(always)]
pub fn widen_centered<T: Scalar>(x: MatRef<'_, T>, c: &[f64], y2: &mut [f64]) {
    let (m, d) = (x.nrows(), x.ncols());
    let (lin, sq) = y2[..2 * m * d].split_at_mut(m * d);
    for (j, &cj) in c.iter().enumerate().take(d) {
        let (sq, lin) = (&mut sq[j * m..(j + 1) * m], &mut lin[j * m..(j + 1) * m]);
        match col_slice(x, j) {
            Some(src) => {
                for ((l, q), &v) in lin.iter_mut().zip(sq.iter_mut()).zip(src) {
                    let y = v.as_f64() - cj;
                    *l = y;
                    *q = y * y;
                }
            }
            None => {
                for (i, (l, q)) in lin.iter_mut().zip(sq.iter_mut()).enumerate() {
                    let y = x[(i, j)].as_f64() - cj;
                    *l = y;
                    *q = y * y;
                }
            }
        }
    }
}

/// Log-densities of a block by products: `out[i, k] = ln pₖ(xᵢ)`. `wide` holds
/// at least `m (2D + K)` values.
#[inline(always)]
pub(crate) fn product_block<T: Scalar>(
    x: MatRef<'_, T>,
    ap: &AxisProducts<T>,
    wide: &mut [f64],
    mut out: MatMut<'_, T>,
) {
    let (m, d) = (x.nrows(), x.ncols());
    let k = ap.constant.len();
    let (y2, rest) = wide.split_at_mut(2 * m * d);
    widen_centered(x, &ap.reference_f64, y2);
    let y2 = MatRef::from_column_major_slice(y2, m, 2 * d);
    let mut acc = MatMut::from_column_major_slice_mut(&mut rest[..m * k], m, k);
    for (c, &v) in ap.constant.iter().enumerate() {
        acc.rb_mut().col_mut(c).fill(v);
    }
    matmul(
        acc.rb_mut(),
        Accum::Add,
        y2,
        ap.weights.as_ref(),
        1.0,
        Par::Seq,
    );
    for c in 0..k {
        let src = acc.rb().col(c);
        match col_slice_mut(out.rb_mut(), c) {
            Some(o) => {
                for (o, &v) in o.iter_mut().zip(src.iter()) {
                    *o = T::c(v);
                }
            }
            None => {
                for (i, &v) in src.iter().enumerate() {
                    out[(i, c)] = T::c(v);
                }
            }
        }
    }
}

/// Rows per tile of [`axis_block`]: 16 running sums stay in registers.
pub(crate) const AXIS_TILE: usize = 16;

/// Diagonal and spherical log-densities of a block: the rows are copied into
/// tiles of [`AXIS_TILE`] rows (column after column within a tile), and for
/// each tile and component `Σⱼ ((xⱼ − μⱼ) pⱼ)²` is summed in registers over `j`
/// in increasing order (the same operations, in the same order, as one pass
/// over each column), instead of reading and writing a distance per row for
/// every column. `prec` holds `pₖⱼ` row-major when `per_dim`, else one `pₖ` per
/// component.
#[inline(always)]
pub(crate) fn axis_block<T: Scalar>(
    x: MatRef<'_, T>,
    means: &[T],
    prec: &[T],
    per_dim: bool,
    norm: &[T],
    work: &mut [T],
    mut out: MatMut<'_, T>,
) {
    const R: usize = AXIS_TILE;
    let (m, d) = (x.nrows(), x.ncols());
    let tiles = m.div_ceil(R);
    let c = &mut work[..tiles * R * d];
    for (t, tile) in c.chunks_exact_mut(R * d).enumerate() {
        let i0 = t * R;
        let rows = R.min(m - i0);
        for (j, dst) in tile.chunks_exact_mut(R).enumerate() {
            match col_slice(x, j) {
                Some(src) => dst[..rows].copy_from_slice(&src[i0..i0 + rows]),
                None => {
                    for (r, o) in dst.iter_mut().enumerate().take(rows) {
                        *o = x[(i0 + r, j)];
                    }
                }
            }
            dst[rows..].fill(T::zero());
        }
    }
    let half = T::c(0.5);
    for (t, tile) in c.chunks_exact(R * d).enumerate() {
        let i0 = t * R;
        let rows = R.min(m - i0);
        for (k, (mu, &nk)) in means.chunks_exact(d).zip(norm).enumerate() {
            let mut dist = [T::zero(); R];
            if per_dim {
                let pk = &prec[k * d..(k + 1) * d];
                for ((xv, &mj), &pj) in tile.chunks_exact(R).zip(mu).zip(pk) {
                    let Ok(xv) = <&[T; R]>::try_from(xv) else {
                        continue;
                    };
                    for r in 0..R {
                        let z = (xv[r] - mj) * pj;
                        dist[r] += z * z;
                    }
                }
            } else {
                let pk = prec[k];
                for (xv, &mj) in tile.chunks_exact(R).zip(mu) {
                    let Ok(xv) = <&[T; R]>::try_from(xv) else {
                        continue;
                    };
                    for r in 0..R {
                        let z = (xv[r] - mj) * pk;
                        dist[r] += z * z;
                    }
                }
            }
            if let Some(o) = col_slice_mut(out.rb_mut(), k) {
                for (o, &q) in o[i0..i0 + rows].iter_mut().zip(&dist) {
                    *o = nk - half * q;
                }
            } else {
                for (r, &q) in dist.iter().enumerate().take(rows) {
                    out[(i0 + r, k)] = nk - half * q;
                }
            }
        }
    }
}
