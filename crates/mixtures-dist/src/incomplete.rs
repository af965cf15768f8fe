//! Gaussian mixtures on rows with missing features: each row's density is
//! its marginal on the observed features `o`, and the missing features `m`
//! follow the conditional Gaussian given the observed ones.
//!
//! Everything goes through the precision `Λ = Σ⁻¹` of each component, so
//! that a pattern costs a Cholesky factorization `Λ_mm = L Lᵀ` (as small as
//! the number of missing features), never one of `Σ_oo`:
//! - a block of rows, centred and zero in its missing features (`δ`), is
//!   multiplied by `Λ` once per component (one block product, as complete
//!   rows are whitened); in a row's missing features this gives
//!   `y = Λ_mo (x_o − μ_o)`, and `z = L⁻¹ y`;
//! - the conditional mean is `x̂_m = μ_m − Λ_mm⁻¹ Λ_mo (x_o − μ_o) =
//!   μ_m − L⁻ᵀ z`, and the conditional covariance `C = Λ_mm⁻¹ = L⁻ᵀ L⁻¹`
//!   (formed only where the M-step weighs it, once per pattern and
//!   component);
//! - the completed row `x̂ = [x_o, x̂_m]` minimizes `(x − μ)ᵀ Λ (x − μ)` over
//!   the missing features, and the minimum is the marginal's
//!   `(x_o − μ_o)ᵀ Σ_oo⁻¹ (x_o − μ_o) = δᵀ Λ δ − ‖z‖²`;
//! - `ln det Σ_oo = ln det Σ − ln det C = ln det Σ + ln det Λ_mm`.
//!
//! ```
//! use mixtures_core::Dataset;
//! use mixtures_dist::{Gaussian, Mixture};
//! use faer::mat;
//!
//! // One component with correlation 0.8 between the two features.
//! let g = Gaussian::full(mat![[0.0, 0.0]], vec![mat![[1.0, 0.8], [0.8, 1.0]]])?;
//! let model = Mixture::new(vec![1.0_f64], g)?;
//! let data = Dataset::with_missing(&[1.0, f64::NAN], 1, 2)?;
//! // The density of x0 = 1 alone: a standard normal's.
//! let lp = model.log_prob_incomplete(&data)?;
//! assert!((lp[0] - (-0.5 - 0.5 * (2.0 * std::f64::consts::PI).ln())).abs() < 1e-12);
//! // The missing x1 is imputed by its conditional mean 0.8 x0.
//! let filled = model.impute(&data)?;
//! assert!((filled.view()[(0, 1)] - 0.8).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use mixtures_core::chi2::chi2_ln_sf;
use mixtures_core::kernels::log_sum_exp_rows;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{CHUNK_ROWS, Cholesky, DataError, Dataset, LN_2PI, Scalar};
use rayon::prelude::*;

use crate::{GaussianMixtureModel, ModelError};

/// Components per lane group: the patterns' factorizations and the rows'
/// triangular solves run on eight components at once (`[T; LANES]`, one
/// vector register of `f64` with AVX-512), so that their latency chains
/// overlap. The number of components is padded to a multiple.
const LANES: usize = 8;

/// One component, once per model: its mean and its precision.
#[derive(Debug, Clone)]
struct Component<T: Scalar> {
    mean: Vec<T>,
    /// `Λ = Σ⁻¹` (`D x D`): a block of centred rows times `Λ` gives, in
    /// each row's missing features, `Λ_mo (x_o − μ_o)`.
    lambda: Mat<T>,
    log_det: T,
}

/// One pattern under every component, in flat arrays (a pattern's parts
/// are computed every iteration, and most patterns serve a row or two: no
/// allocation per component).
///
/// Per component only the Cholesky factor `L` of `Λ_mm = L Lᵀ` is kept:
/// with `y = Λ_mo (x_o − μ_o)` and `z = L⁻¹ y`, the conditional mean is
/// `x̂_m − μ_m = −L⁻ᵀ z` and the squared Mahalanobis distance of the
/// observed features `(x_o − μ_o)ᵀ Λ_oo (x_o − μ_o) − ‖z‖²`; the
/// conditional covariance `C = Λ_mm⁻¹ = L⁻ᵀ L⁻¹` is formed only where it is
/// asked for ([`PatternParts::conditional_cov`]).
#[derive(Debug, Clone, Default)]
pub struct PatternParts<T: Scalar> {
    nm: usize,
    no: usize,
    /// The components padded to a multiple of [`LANES`].
    kp: usize,
    /// The lower triangle of every component's `L`, packed row by row (row
    /// `a` at `a (a + 1) / 2`) with each diagonal entry replaced by its
    /// reciprocal; entry by entry, the components side by side
    /// (`entry * kp + c`; padded components hold the identity).
    factors: Vec<T>,
    /// Per component, `ln wₖ − ½ (|o| ln 2π + ln det Σ_oo)`.
    log_norms: Vec<T>,
}

impl<T: Scalar> PatternParts<T> {
    /// Number of missing features.
    pub fn n_missing(&self) -> usize {
        self.nm
    }

    /// Number of observed features.
    pub fn n_observed(&self) -> usize {
        self.no
    }

    /// `ln wₖ − ½ (|o| ln 2π + ln det Σ_oo)` of component `c`.
    #[inline]
    pub fn log_norm(&self, c: usize) -> T {
        self.log_norms[c]
    }

    /// Writes component `c`'s conditional covariance of the missing
    /// features, `C = Λ_mm⁻¹`, into `out` (`|m| x |m|`, row-major, both
    /// triangles), in `f64`.
    ///
    /// # Panics
    /// If `out` holds fewer than `|m|²` values.
    pub fn conditional_cov(&self, c: usize, out: &mut [f64]) {
        let (nm, kp) = (self.nm, self.kp);
        let l = |e: usize| self.factors[e * kp + c].as_f64();
        let out = &mut out[..nm * nm];
        // W = L⁻¹ (lower), row by row into the lower triangle of `out`.
        for a in 0..nm {
            let ra = a * (a + 1) / 2;
            for b in 0..=a {
                let mut v = if a == b { 1.0 } else { 0.0 };
                for t in b..a {
                    v -= l(ra + t) * out[t * nm + b];
                }
                out[a * nm + b] = v * l(ra + a);
            }
        }
        // C = Wᵀ W: C_ab = Σ_{t ≥ b} W_ta W_tb for a ≤ b, into the upper
        // triangle and the diagonal. W_bb is overwritten by C_bb only after
        // every C_ab with a < b has read it; the strict lower triangle is
        // never overwritten.
        for a in 0..nm {
            for b in a..nm {
                let mut v = 0.0;
                for t in b..nm {
                    v += out[t * nm + a] * out[t * nm + b];
                }
                out[a * nm + b] = v;
            }
        }
        for a in 0..nm {
            for b in 0..a {
                out[a * nm + b] = out[b * nm + a];
            }
        }
    }
}

/// What evaluating a data set's incomplete rows under a Gaussian mixture
/// needs, computed once per model and data set: per component its mean and
/// precision, per pattern and component its [`PatternParts`].
#[derive(Debug, Clone)]
pub struct IncompleteParts<T: Scalar> {
    components: Vec<Component<T>>,
    /// Per pattern (empty for the complete one).
    patterns: Vec<PatternParts<T>>,
}

/// Buffers for one block of [`IncompleteParts::block`].
pub struct IncompleteBlock<T: Scalar> {
    /// Per component, `m x D`: the completed rows minus the component's mean.
    pub centred: Vec<Mat<T>>,
    /// `m x K`: `ln wₖ + ln pₖ(x_o)`.
    pub weighted: Mat<T>,
    /// `m x K`: squared Mahalanobis distances of the observed features.
    pub quad: Mat<T>,
    /// `CHUNK_ROWS x (D + 1)` scratch, free for the caller's use between
    /// blocks.
    pub scratch: Mat<T>,
    /// Per row, its missing features under every component side by side
    /// (`(offset + a) * kp + c`): `y`, then `z`, then `−(x̂_m − μ_m)`.
    lanes: Vec<T>,
    /// Per row, its offset in `lanes` (in units of `kp`), and one past the
    /// last.
    offsets: Vec<usize>,
    /// `m x kp`, row by row: `δᵀ Λ δ`, then the distances.
    q: Vec<T>,
    /// One component's `δᵀ Λ δ` (`m`).
    qcol: Vec<T>,
}

impl<T: Scalar> IncompleteBlock<T> {
    /// Buffers for up to [`CHUNK_ROWS`] rows of `d` features, `k` components.
    pub fn new(k: usize, d: usize) -> Self {
        let kp = k.div_ceil(LANES) * LANES;
        Self {
            centred: (0..k).map(|_| Mat::zeros(CHUNK_ROWS, d)).collect(),
            weighted: Mat::zeros(CHUNK_ROWS, k),
            quad: Mat::zeros(CHUNK_ROWS, k),
            scratch: Mat::zeros(CHUNK_ROWS, d + 1),
            lanes: Vec::new(),
            offsets: Vec::with_capacity(CHUNK_ROWS + 1),
            q: vec![T::zero(); CHUNK_ROWS * kp],
            qcol: vec![T::zero(); CHUNK_ROWS],
        }
    }
}

/// `LANES` values at `at`.
#[inline(always)]
fn lanes<T: Scalar>(v: &[T], at: usize) -> [T; LANES] {
    let mut out = [T::zero(); LANES];
    out.copy_from_slice(&v[at..at + LANES]);
    out
}

impl<T: Scalar> IncompleteParts<T> {
    /// Pattern `p`'s parts.
    pub fn pattern(&self, p: usize) -> &PatternParts<T> {
        &self.patterns[p]
    }

    /// Component `c`'s mean.
    pub fn mean(&self, c: usize) -> &[T] {
        &self.components[c].mean
    }

    /// Evaluates the incomplete rows `lo..lo + m` (positions in
    /// [`IncompleteDataset::incomplete_order`], `m` at most [`CHUNK_ROWS`])
    /// into `buf`'s first `m` rows, every row completed under every
    /// component.
    pub fn block(
        &self,
        data: &IncompleteDataset<T>,
        lo: usize,
        m: usize,
        buf: &mut IncompleteBlock<T>,
    ) {
        // Compiled for the processor's SIMD width (the gathers, the
        // distances and the components' lanes are element-wise loops).
        struct Block<'a, T: Scalar> {
            parts: &'a IncompleteParts<T>,
            data: &'a IncompleteDataset<T>,
            lo: usize,
            m: usize,
            buf: &'a mut IncompleteBlock<T>,
        }
        impl<T: Scalar> mixtures_core::kernels::Kernel for Block<'_, T> {
            type Output = ();
            #[inline(always)]
            fn run(self) {
                self.parts.block_impl(self.data, self.lo, self.m, self.buf);
            }
        }
        mixtures_core::kernels::vectorize(Block {
            parts: self,
            data,
            lo,
            m,
            buf,
        });
    }

    #[inline(always)]
    fn block_impl(
        &self,
        data: &IncompleteDataset<T>,
        lo: usize,
        m: usize,
        buf: &mut IncompleteBlock<T>,
    ) {
        let k = self.components.len();
        let kp = k.div_ceil(LANES) * LANES;
        let rows = &data.incomplete_order()[lo..lo + m];
        let x = data.incomplete_values().subrows(lo, m);
        let d = x.ncols();
        let pats = data.patterns();
        buf.offsets.clear();
        let mut at = 0;
        for &(_, p) in rows {
            buf.offsets.push(at);
            at += pats[p].missing.len();
        }
        buf.offsets.push(at);
        buf.lanes.clear();
        buf.lanes.resize(at * kp, T::zero());
        let q = &mut buf.q[..m * kp];
        for (c, comp) in self.components.iter().enumerate() {
            let e = &mut buf.centred[c];
            // Every column gathered and centred, missing cells (NaN here)
            // set to zero, column by column.
            for j in 0..d {
                let mu = comp.mean[j];
                let xj = x.col(j).try_as_col_major().map(|c| c.as_slice());
                let out = &mut e.col_as_slice_mut(j)[..m];
                match xj {
                    Some(xj) => {
                        for (v, &xv) in out.iter_mut().zip(xj) {
                            *v = if xv.is_nan() { T::zero() } else { xv - mu };
                        }
                    }
                    None => {
                        for (i, v) in out.iter_mut().enumerate() {
                            let xv = x[(i, j)];
                            *v = if xv.is_nan() { T::zero() } else { xv - mu };
                        }
                    }
                }
            }
            // y = Λ δ with δ zero in the missing features: y_m = Λ_mo δ_o.
            let y = &mut buf.scratch;
            matmul(
                y.as_mut().subrows_mut(0, m).subcols_mut(0, d),
                Accum::Replace,
                e.as_ref().subrows(0, m),
                comp.lambda.as_ref(),
                T::one(),
                Par::Seq,
            );
            // δᵀ Λ δ = δ_oᵀ Λ_oo δ_o, column by column.
            let qc = &mut buf.qcol[..m];
            qc.fill(T::zero());
            for j in 0..d {
                for ((qi, &v), &w) in qc
                    .iter_mut()
                    .zip(&y.col_as_slice(j)[..m])
                    .zip(&e.col_as_slice(j)[..m])
                {
                    *qi += v * w;
                }
            }
            for (i, &v) in qc.iter().enumerate() {
                q[i * kp + c] = v;
            }
            // Each row's y_m into its lanes.
            for (i, &(_, p)) in rows.iter().enumerate() {
                let base = buf.offsets[i];
                for (a, &j) in pats[p].missing.iter().enumerate() {
                    buf.lanes[(base + a) * kp + c] = y.col_as_slice(j)[i];
                }
            }
        }
        // Per row and group of components: z = L⁻¹ y_m, the distance
        // δᵀ Λ δ − ‖z‖², and −(x̂_m − μ_m) = L⁻ᵀ z, in place.
        for (i, &(_, p)) in rows.iter().enumerate() {
            let nm = pats[p].missing.len();
            let f = &self.patterns[p].factors;
            let v = &mut buf.lanes[buf.offsets[i] * kp..buf.offsets[i + 1] * kp];
            for g in (0..kp).step_by(LANES) {
                let mut zz = [T::zero(); LANES];
                let mut ra = 0;
                for a in 0..nm {
                    let mut s = lanes(v, a * kp + g);
                    for t in 0..a {
                        let (lt, zt) = (lanes(f, (ra + t) * kp + g), lanes(v, t * kp + g));
                        for l in 0..LANES {
                            s[l] -= lt[l] * zt[l];
                        }
                    }
                    let inv = lanes(f, (ra + a) * kp + g);
                    for l in 0..LANES {
                        s[l] *= inv[l];
                        zz[l] += s[l] * s[l];
                    }
                    v[a * kp + g..a * kp + g + LANES].copy_from_slice(&s);
                    ra += a + 1;
                }
                let qi = &mut q[i * kp + g..i * kp + g + LANES];
                for l in 0..LANES {
                    qi[l] -= zz[l];
                }
                // Lᵀ u = z from the last feature up, u over z.
                for a in (0..nm).rev() {
                    let mut s = lanes(v, a * kp + g);
                    for t in a + 1..nm {
                        let (lt, ut) = (
                            lanes(f, (t * (t + 1) / 2 + a) * kp + g),
                            lanes(v, t * kp + g),
                        );
                        for l in 0..LANES {
                            s[l] -= lt[l] * ut[l];
                        }
                    }
                    let inv = lanes(f, (a * (a + 1) / 2 + a) * kp + g);
                    for l in 0..LANES {
                        s[l] *= inv[l];
                    }
                    v[a * kp + g..a * kp + g + LANES].copy_from_slice(&s);
                }
            }
        }
        for (c, e) in buf.centred.iter_mut().enumerate() {
            for (i, &(_, p)) in rows.iter().enumerate() {
                let base = buf.offsets[i];
                for (a, &j) in pats[p].missing.iter().enumerate() {
                    e.col_as_slice_mut(j)[i] = -buf.lanes[(base + a) * kp + c];
                }
                // Rounding can leave a tiny negative difference.
                let qi = q[i * kp + c];
                let qi = if qi < T::zero() { T::zero() } else { qi };
                buf.quad[(i, c)] = qi;
                let v = self.patterns[p].log_norm(c) - T::c(0.5) * qi;
                buf.weighted[(i, c)] = if v.is_nan() { T::neg_infinity() } else { v };
            }
        }
    }
}

impl<T: Scalar> GaussianMixtureModel<T> {
    /// The [`IncompleteParts`] of `data` under the mixture.
    ///
    /// # Errors
    /// [`ModelError::Data`] for data of another dimension;
    /// [`ModelError::Unsupported`] for a mixture with a noise component;
    /// [`ModelError::NotPositiveDefinite`] if a precision block cannot be
    /// factorized (a component too close to singular).
    pub fn incomplete_parts(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<IncompleteParts<T>, ModelError> {
        if data.n_features() != self.dim() {
            return Err(ModelError::Data(DataError::DimensionMismatch {
                expected: self.dim(),
                found: data.n_features(),
            }));
        }
        if self.noise().is_some() {
            return Err(ModelError::Unsupported {
                what: "a noise component with missing values".into(),
            });
        }
        let g = self.components();
        let components = (0..self.n_components())
            .map(|c| {
                let sigma = g.covariance_matrix(c);
                let chol =
                    Cholesky::new(sigma.as_ref()).map_err(|e| ModelError::NotPositiveDefinite {
                        component: Some(c),
                        source: e,
                    })?;
                let mut lambda = Mat::<T>::zeros(self.dim(), self.dim());
                matmul(
                    lambda.as_mut(),
                    Accum::Replace,
                    chol.l_inv().transpose(),
                    chol.l_inv(),
                    T::one(),
                    Par::Seq,
                );
                Ok(Component {
                    mean: g.mean(c).to_vec(),
                    lambda,
                    log_det: chol.log_det(),
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        // Every Λ entry by entry in f64, the components side by side, padded
        // with the identity (what the patterns' factorizations read).
        let (d, k) = (self.dim(), components.len());
        let kp = k.div_ceil(LANES) * LANES;
        let mut precision = vec![0.0f64; d * d * kp];
        for i in 0..d {
            for j in 0..d {
                for c in 0..kp {
                    precision[(i * d + j) * kp + c] = match components.get(c) {
                        Some(comp) => comp.lambda[(i, j)].as_f64(),
                        None if i == j => 1.0,
                        None => 0.0,
                    };
                }
            }
        }
        // The patterns' parts, compiled for the processor's SIMD width (the
        // components' lanes).
        struct Parts<'a, T: Scalar> {
            components: &'a [Component<T>],
            precision: &'a [f64],
            pattern: &'a mixtures_core::missing::Pattern,
            log_weights: &'a [T],
        }
        impl<T: Scalar> mixtures_core::kernels::Kernel for Parts<'_, T> {
            type Output = Result<PatternParts<T>, ModelError>;
            #[inline(always)]
            fn run(self) -> Self::Output {
                pattern_parts(
                    self.components,
                    self.precision,
                    &self.pattern.observed,
                    &self.pattern.missing,
                    self.log_weights,
                )
            }
        }
        let patterns = data
            .patterns()
            .par_iter()
            .map(|p| {
                if p.is_complete() {
                    return Ok(PatternParts::default());
                }
                mixtures_core::kernels::vectorize(Parts {
                    components: &components,
                    precision: &precision,
                    pattern: p,
                    log_weights: &self.log_weights,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(IncompleteParts {
            components,
            patterns,
        })
    }

    /// Runs `f(block rows, evaluated block)` over the incomplete rows in
    /// blocks, in parallel; each block's output is written by `f` into the
    /// slots it is given (one per row of the block, in block order).
    fn per_block<O: Send + Default + Clone>(
        &self,
        data: &IncompleteDataset<T>,
        f: impl Fn(&IncompleteParts<T>, &[(usize, usize)], &IncompleteBlock<T>, &mut [O]) + Sync,
    ) -> Result<(IncompleteParts<T>, Vec<O>), ModelError> {
        let parts = self.incomplete_parts(data)?;
        let out = in_blocks(&parts, data, |_, _| {}, f);
        Ok((parts, out))
    }

    /// `ln p(x_o)` of every row: the marginal density of its observed
    /// features (complete rows: [`crate::Mixture::log_prob`] of the complete
    /// rows, bit for bit).
    ///
    /// # Errors
    /// As [`GaussianMixtureModel::incomplete_parts`].
    pub fn log_prob_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Vec<T>, ModelError> {
        let mut out = vec![T::zero(); data.n_samples()];
        if let Some((complete, rows)) = data.complete_rows() {
            for (&i, v) in rows.iter().zip(self.log_prob(&complete)?) {
                out[i] = v;
            }
        }
        let (_, lp) = self.per_block(data, |_, rows, b, o: &mut [T]| {
            let m = rows.len();
            let mut mx = vec![T::zero(); m];
            log_sum_exp_rows(b.weighted.as_ref().subrows(0, m), o, &mut mx);
        })?;
        for (&(i, _), v) in data.incomplete_order().iter().zip(lp) {
            out[i] = v;
        }
        Ok(out)
    }

    /// An anomaly score that stays comparable across rows with different
    /// numbers of observed features, the **tail score** `−ln P` with
    /// `P = Σₖ wₖ Pr(χ²(|o|) ≥ 2 ℓₖ)`, `ℓₖ = ln(wₖ cₖ / p(x_o))` (`cₖ` the
    /// peak of component `k`'s marginal density on the `|o|` observed
    /// features): the mass of the mixture where the components' densities
    /// are below the row's, each component taken on its own (a
    /// highest-density-region p-value that ignores the components' overlap;
    /// a term is `wₖ` when `ℓₖ ≤ 0`). For one component it is the chi-square
    /// tail of the row's squared Mahalanobis distance, uniform on `(0, 1)`
    /// under the model whatever `|o|`, so a row with three observed features
    /// is judged on the same scale as one with thirty; `−ln p(x_o)` instead
    /// grows with the number of observed features (each adds about
    /// `½ ln(2πe σ²)`), and rows with more missing features would look more
    /// normal. With several components the weights count: a row in the tail
    /// of a light, broad component is as unusual as that component's weight
    /// makes it. Computed in log space: finite far in the tail. Complete rows
    /// get the same score from their full densities.
    ///
    /// # Errors
    /// As [`GaussianMixtureModel::incomplete_parts`].
    pub fn anomaly_scores_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Vec<T>, ModelError> {
        let (k, d) = (self.n_components(), self.dim());
        let log_weights: Vec<f64> = self.log_weights[..k].iter().map(|v| v.as_f64()).collect();
        let mut out = vec![T::zero(); data.n_samples()];
        if let Some((complete, rows)) = data.complete_rows() {
            if self.noise().is_some() {
                return Err(ModelError::Unsupported {
                    what: "a noise component with missing values".into(),
                });
            }
            let w = self.weighted_log_prob(&complete)?;
            let g = self.components();
            let mut quad = vec![0.0f64; k];
            let mut weighted = vec![0.0f64; k];
            for (a, &i) in rows.iter().enumerate() {
                for c in 0..k {
                    weighted[c] = w[(a, c)].as_f64();
                    // ln pₖ(x) = −½ (D ln 2π + ln det Σₖ + δ²).
                    let lp = weighted[c] - self.log_weights[c].as_f64();
                    quad[c] = -2.0 * lp - d as f64 * LN_2PI - g.log_det(c).as_f64();
                }
                out[i] = T::c(tail_score(&weighted, &log_weights, &quad, d));
            }
        }
        let (_, scores) = self.per_block(data, |_, rows, b, o: &mut [T]| {
            let pats = data.patterns();
            let mut quad = vec![0.0f64; k];
            let mut weighted = vec![0.0f64; k];
            for (i, (&(_, p), slot)) in rows.iter().zip(o.iter_mut()).enumerate() {
                for c in 0..k {
                    weighted[c] = b.weighted[(i, c)].as_f64();
                    quad[c] = b.quad[(i, c)].as_f64();
                }
                *slot = T::c(tail_score(
                    &weighted,
                    &log_weights,
                    &quad,
                    pats[p].observed.len(),
                ));
            }
        })?;
        for (&(i, _), v) in data.incomplete_order().iter().zip(scores) {
            out[i] = v;
        }
        Ok(out)
    }

    /// `P(k | x_o)` of every row (`n x K`).
    ///
    /// # Errors
    /// As [`GaussianMixtureModel::incomplete_parts`].
    pub fn predict_proba_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Mat<T>, ModelError> {
        let k = self.n_components();
        let mut out = Mat::<T>::zeros(data.n_samples(), k);
        if let Some((complete, rows)) = data.complete_rows() {
            let (_, r) = self.log_prob_and_responsibilities(&complete)?;
            for (a, &i) in rows.iter().enumerate() {
                for c in 0..k {
                    out[(i, c)] = r[(a, c)];
                }
            }
        }
        let (_, r) = self.per_block(data, |_, rows, b, o: &mut [Vec<T>]| {
            let resp = responsibilities(b.weighted.as_ref().subrows(0, rows.len()), self.weights());
            for (i, slot) in o.iter_mut().enumerate() {
                *slot = resp.row(i).iter().copied().collect();
            }
        })?;
        for (&(i, _), row) in data.incomplete_order().iter().zip(r) {
            for (c, v) in row.into_iter().enumerate() {
                out[(i, c)] = v;
            }
        }
        Ok(out)
    }

    /// The data with every missing cell replaced by its conditional mean
    /// under the mixture, `E[x_m | x_o] = Σₖ P(k | x_o) E[x_m | x_o, k]`
    /// (observed cells are kept as they are).
    ///
    /// # Errors
    /// As [`GaussianMixtureModel::incomplete_parts`].
    pub fn impute(&self, data: &IncompleteDataset<T>) -> Result<Dataset<T>, ModelError> {
        let (_, filled) = self.per_block(data, |parts, rows, b, o: &mut [Vec<T>]| {
            conditional_means(parts, rows, b, o, data.patterns(), self.weights());
        })?;
        fill_missing(data, filled)
    }

    /// `draws` data sets, each with every missing cell drawn from its
    /// conditional distribution under the mixture (a component from
    /// `P(k | x_o)`, then `x_m` from that component's conditional Gaussian):
    /// multiple imputation. Deterministic for a seed.
    ///
    /// # Errors
    /// As [`GaussianMixtureModel::incomplete_parts`].
    pub fn impute_draws(
        &self,
        data: &IncompleteDataset<T>,
        draws: usize,
        seed: u64,
    ) -> Result<Vec<Dataset<T>>, ModelError> {
        let (parts, rows) = self.per_block(data, |parts, rows, b, o: &mut [RowDraw<T>]| {
            row_draws(parts, rows, b, o, data.patterns(), self.weights());
        })?;
        draw_missing(data, &parts, &rows, (draws, seed), |_, _, _, _| 1.0)
    }
}

/// A pattern's parts under every component, from the precisions
/// (`precision`: `Λ` of every component entry by entry, the components
/// side by side, padded with the identity), in `f64` and [`LANES`]
/// components at a time (the matrices are as small as the number of
/// missing features, and a pattern's parts are computed every iteration: no
/// general factorization, no allocation per component).
#[inline(always)]
fn pattern_parts<T: Scalar>(
    components: &[Component<T>],
    precision: &[f64],
    observed: &[usize],
    missing: &[usize],
    log_weights: &[T],
) -> Result<PatternParts<T>, ModelError> {
    let (no, nm, k) = (observed.len(), missing.len(), components.len());
    let kp = k.div_ceil(LANES) * LANES;
    let d = no + nm;
    let tri = nm * (nm + 1) / 2;
    let mut out = PatternParts {
        nm,
        no,
        kp,
        factors: vec![T::zero(); tri * kp],
        log_norms: Vec::with_capacity(k),
    };
    let mut log_det_mm = vec![0.0f64; kp];
    if nm > BLOCKED_MISSING {
        for (c, comp) in components.iter().enumerate() {
            log_det_mm[c] = blocked_factor(comp, precision, kp, c, missing, &mut out.factors)?;
        }
    } else {
        let mut l = vec![0.0f64; tri * LANES];
        for g in (0..kp).step_by(LANES) {
            // Λ_mm = L Lᵀ, packed row by row, the pivots' reciprocals on the
            // diagonal (a division's latency dominated the cost). ln det Λ_mm
            // from the product of the pivots, renormalized when it leaves
            // [1e-150, 1e150] (one logarithm per pattern and component).
            let (mut prod, mut log_det) = ([1.0f64; LANES], [0.0f64; LANES]);
            for i in 0..nm {
                let ri = i * (i + 1) / 2;
                for j in 0..=i {
                    let rj = j * (j + 1) / 2;
                    let mut v = lanes(precision, (missing[i] * d + missing[j]) * kp + g);
                    for t in 0..j {
                        let (a, b) = (lanes(&l, (ri + t) * LANES), lanes(&l, (rj + t) * LANES));
                        for s in 0..LANES {
                            v[s] -= a[s] * b[s];
                        }
                    }
                    let inv = lanes(&l, (rj + j) * LANES);
                    let out_l = &mut l[(ri + j) * LANES..(ri + j + 1) * LANES];
                    if i == j {
                        if let Some(s) = (0..LANES).find(|&s| !(v[s] > 0.0 && v[s].is_finite())) {
                            return Err(ModelError::NotPositiveDefinite {
                                component: Some(g + s),
                                source: mixtures_core::LinalgError::NotPositiveDefinite {
                                    pivot: i,
                                },
                            });
                        }
                        let mut far = false;
                        for s in 0..LANES {
                            out_l[s] = 1.0 / v[s].sqrt();
                            prod[s] *= v[s];
                            far |= !(1e-150..=1e150).contains(&prod[s]);
                        }
                        if far {
                            for s in 0..LANES {
                                log_det[s] += prod[s].ln();
                                prod[s] = 1.0;
                            }
                        }
                    } else {
                        for s in 0..LANES {
                            out_l[s] = v[s] * inv[s];
                        }
                    }
                }
            }
            for e in 0..tri {
                for s in 0..LANES {
                    out.factors[e * kp + g + s] = T::c(l[e * LANES + s]);
                }
            }
            for s in 0..LANES {
                log_det_mm[g + s] = log_det[s] + prod[s].ln();
            }
        }
    }
    for (c, comp) in components.iter().enumerate() {
        // ln det Σ_oo = ln det Σ − ln det C = ln det Σ + ln det Λ_mm.
        let log_det_oo = comp.log_det.as_f64() + log_det_mm[c];
        let log_norm = log_weights[c].as_f64() - 0.5 * (no as f64 * LN_2PI + log_det_oo);
        out.log_norms.push(T::c(log_norm));
    }
    Ok(out)
}

/// Above this many missing features a pattern's factor is computed by
/// faer's blocked factorization (many missing features in wide data: every
/// row its own pattern, and `|m|³` scalar steps per pattern were the whole
/// fit's cost).
const BLOCKED_MISSING: usize = 24;

/// [`pattern_parts`]' factor of component `c` by faer, into `factors` (as
/// [`PatternParts::factors`]); returns `ln det Λ_mm`.
fn blocked_factor<T: Scalar>(
    comp: &Component<T>,
    precision: &[f64],
    kp: usize,
    c: usize,
    missing: &[usize],
    factors: &mut [T],
) -> Result<f64, ModelError> {
    let (nm, d) = (missing.len(), comp.mean.len());
    let lam = |i: usize, j: usize| precision[(i * d + j) * kp + c];
    let lmm = Mat::from_fn(nm, nm, |a, b| lam(missing[a], missing[b]));
    let f = Cholesky::new(lmm.as_ref()).map_err(|e| ModelError::NotPositiveDefinite {
        component: Some(c),
        source: e,
    })?;
    let lf = f.l();
    for a in 0..nm {
        let ra = a * (a + 1) / 2;
        for b in 0..a {
            factors[(ra + b) * kp + c] = T::c(lf[(a, b)]);
        }
        factors[(ra + a) * kp + c] = T::c(1.0 / lf[(a, a)]);
    }
    Ok(f.log_det())
}

/// Component `c`'s conditional covariance of a pattern, as a matrix.
pub(crate) fn cov_of<T: Scalar>(parts: &PatternParts<T>, c: usize) -> Mat<T> {
    let nm = parts.nm;
    let mut cov = vec![0.0; nm * nm];
    parts.conditional_cov(c, &mut cov);
    Mat::from_fn(nm, nm, |a, b| T::c(cov[a * nm + b]))
}

/// The Gaussian tail score of a row from its weighted log-densities
/// (`ln wₖ + ln pₖ(x_o)`) and squared distances on `dims` observed features:
/// a component's density is below level `ℓ` beyond `δ² = 2 ℓ`.
fn tail_score(weighted: &[f64], log_weights: &[f64], quad: &[f64], dims: usize) -> f64 {
    mixture_tail_score(
        weighted,
        log_weights,
        |c| 0.5 * quad[c],
        |_, level| chi2_ln_sf(2.0 * level, dims as f64),
    )
}

/// The tail score `−ln P` of every family, with
/// `P = Σₖ wₖ Pr_{Y∼k}(wₖ pₖ(Y) ≤ p(x_o))`: the mass of the mixture lying
/// where its components' densities are below the row's (each component
/// taken on its own), the highest-density-region p-value with the overlap of
/// the components ignored. For one component it is the tail of the row's
/// distance (chi-square for a Gaussian); with several, a row in the broad
/// tail of a light component scores by that component's weight as well,
/// where a responsibility-weighted tail would judge it by that component
/// alone.
///
/// `weighted` are the row's `ln wₖ + ln pₖ(x_o)`; `excess(c)` is
/// `ln(wₖ cₖ) − weighted[c]`, the log of the component's peak density `cₖ`
/// (with its weight) over its density at the row (`δ²/2` for a Gaussian);
/// `ln_tail(c, ℓ)` is the log-probability under component `c` of a density
/// below `e^{−ℓ}` times its peak (`ℓ > 0`).
pub(crate) fn mixture_tail_score(
    weighted: &[f64],
    log_weights: &[f64],
    excess: impl Fn(usize) -> f64,
    ln_tail: impl Fn(usize, f64) -> f64,
) -> f64 {
    let ln_p = mixtures_core::log_sum_exp(weighted);
    let terms: Vec<f64> = weighted
        .iter()
        .enumerate()
        .map(|(c, &w)| {
            // The component's weighted peak over the row's mixture density;
            // an underflowed density (−∞) leaves the component out.
            let level = w + excess(c) - ln_p;
            if level.is_nan() || w == f64::NEG_INFINITY {
                f64::NEG_INFINITY
            } else if level <= 0.0 {
                log_weights[c]
            } else {
                log_weights[c] + ln_tail(c, level)
            }
        })
        .collect();
    -mixtures_core::log_sum_exp(&terms)
}

/// Responsibilities from weighted log-densities, row by row.
/// Through the kernel of every E-step, so a row whose every density
/// underflows gets the mixing weights, never NaN.
pub(crate) fn responsibilities<T: Scalar>(weighted: faer::MatRef<'_, T>, fallback: &[T]) -> Mat<T> {
    let n = weighted.nrows();
    let mut r = weighted.to_owned();
    let (mut lse, mut mx, mut sum) = (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
    mixtures_core::kernels::softmax_rows(r.as_mut(), &mut lse, &mut mx, &mut sum, fallback);
    r
}

pub(crate) fn filled_dataset<T: Scalar>(
    x: Mat<T>,
    data: &IncompleteDataset<T>,
) -> Result<Dataset<T>, ModelError> {
    let out = Dataset::from_mat(x.as_ref())?;
    Ok(match data.weights() {
        Some(w) => out.with_weights(w.to_vec())?,
        None => out,
    })
}

/// Runs `f(parts, block rows, evaluated block, slots)` over the incomplete
/// rows of `data` in blocks, in parallel, after `adjust(block, rows)` (a
/// family's change of the Gaussian block quantities; nothing for Gaussian
/// mixtures); each block's output is written by `f` into the slots it is
/// given (one per row of the block, in block order).
pub(crate) fn in_blocks<T: Scalar, O: Send + Default + Clone>(
    parts: &IncompleteParts<T>,
    data: &IncompleteDataset<T>,
    adjust: impl Fn(&mut IncompleteBlock<T>, &[(usize, usize)]) + Sync,
    f: impl Fn(&IncompleteParts<T>, &[(usize, usize)], &IncompleteBlock<T>, &mut [O]) + Sync,
) -> Vec<O> {
    let order = data.incomplete_order();
    let mut out = vec![O::default(); order.len()];
    let (k, d) = (parts.components.len(), data.n_features());
    out.par_chunks_mut(CHUNK_ROWS).enumerate().for_each_init(
        || IncompleteBlock::new(k, d),
        |buf, (b, o)| {
            let lo = b * CHUNK_ROWS;
            let rows = &order[lo..lo + o.len()];
            parts.block(data, lo, o.len(), buf);
            adjust(buf, rows);
            f(parts, rows, buf, o);
        },
    );
    out
}

/// Each block row's missing cells' conditional mean under the mixture:
/// `Σₖ P(k | x_o) x̂ₖ,m`, the completed rows of the block weighted by the
/// responsibilities its `weighted` gives.
pub(crate) fn conditional_means<T: Scalar>(
    parts: &IncompleteParts<T>,
    rows: &[(usize, usize)],
    b: &IncompleteBlock<T>,
    out: &mut [Vec<T>],
    pats: &[mixtures_core::missing::Pattern],
    weights: &[T],
) {
    let resp = responsibilities(b.weighted.as_ref().subrows(0, rows.len()), weights);
    for (i, (&(_, p), slot)) in rows.iter().zip(out.iter_mut()).enumerate() {
        *slot = pats[p]
            .missing
            .iter()
            .map(|&j| {
                (0..resp.ncols())
                    .map(|c| resp[(i, c)] * (b.centred[c][(i, j)] + parts.mean(c)[j]))
                    .sum()
            })
            .collect();
    }
}

/// `data` with the missing cells of its incomplete rows (in
/// `incomplete_order`) replaced by `filled`, as a data set with its weights.
pub(crate) fn fill_missing<T: Scalar>(
    data: &IncompleteDataset<T>,
    filled: Vec<Vec<T>>,
) -> Result<Dataset<T>, ModelError> {
    let pats = data.patterns();
    let mut x = data.view().to_owned();
    for (&(i, p), values) in data.incomplete_order().iter().zip(filled) {
        for (&j, v) in pats[p].missing.iter().zip(values) {
            x[(i, j)] = v;
        }
    }
    filled_dataset(x, data)
}

/// What a draw of an incomplete row's missing cells needs: its
/// responsibilities, every component's conditional mean of the missing
/// features and squared distance on the observed ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowDraw<T> {
    resp: Vec<f64>,
    means: Vec<Vec<T>>,
    pub(crate) quad: Vec<f64>,
}

/// [`RowDraw`]s of a block's rows (a block callback).
pub(crate) fn row_draws<T: Scalar>(
    parts: &IncompleteParts<T>,
    rows: &[(usize, usize)],
    b: &IncompleteBlock<T>,
    out: &mut [RowDraw<T>],
    pats: &[mixtures_core::missing::Pattern],
    weights: &[T],
) {
    let resp = responsibilities(b.weighted.as_ref().subrows(0, rows.len()), weights);
    let k = resp.ncols();
    for (i, (&(_, p), slot)) in rows.iter().zip(out.iter_mut()).enumerate() {
        *slot = RowDraw {
            resp: resp.row(i).iter().map(|v| v.as_f64()).collect(),
            means: (0..k)
                .map(|c| {
                    pats[p]
                        .missing
                        .iter()
                        .map(|&j| b.centred[c][(i, j)] + parts.mean(c)[j])
                        .collect()
                })
                .collect(),
            quad: (0..k).map(|c| b.quad[(i, c)].as_f64().max(0.0)).collect(),
        };
    }
}

/// The component drawn for uniform `u` from probabilities `r` (the last
/// one when rounding leaves their sum below `u`).
pub(crate) fn pick_component(r: impl ExactSizeIterator<Item = f64>, u: f64) -> usize {
    let last = r.len().saturating_sub(1);
    let mut acc = 0.0;
    for (c, rc) in r.enumerate() {
        acc += rc;
        if u < acc {
            return c;
        }
    }
    last
}

/// `draws` data sets with every missing cell drawn from its conditional
/// distribution: a component from the row's responsibilities, then
/// `mean + s · L z`, `L` the factor of the component's conditional
/// covariance for the pattern and `z` standard normal, where
/// `s = scale(rng, component, pattern, row)` (1 for a Gaussian; drawn after
/// `z`). A pattern and component whose conditional covariance cannot be
/// factorized draw the conditional mean. Deterministic for a seed.
pub(crate) fn draw_missing<T: Scalar>(
    data: &IncompleteDataset<T>,
    parts: &IncompleteParts<T>,
    rows: &[RowDraw<T>],
    (draws, seed): (usize, u64),
    scale: impl Fn(&mut rand::rngs::StdRng, usize, usize, &RowDraw<T>) -> f64,
) -> Result<Vec<Dataset<T>>, ModelError> {
    use rand::{Rng, SeedableRng};
    let pats = data.patterns();
    let k = parts.components.len();
    // The factors once per pattern and component.
    let factors: Vec<Vec<Option<Mat<T>>>> = (0..pats.len())
        .map(|p| {
            if pats[p].is_complete() {
                return Vec::new();
            }
            (0..k)
                .map(|c| {
                    Cholesky::new(cov_of(parts.pattern(p), c).as_ref())
                        .ok()
                        .map(|f| f.l().to_owned())
                })
                .collect()
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(draws);
    let mut z = Vec::new();
    for _ in 0..draws {
        let mut x = data.view().to_owned();
        for (&(i, p), row) in data.incomplete_order().iter().zip(rows) {
            let u: f64 = rng.random();
            let c = pick_component(row.resp.iter().copied(), u);
            z.clear();
            z.extend((0..pats[p].missing.len()).map(|_| {
                rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng)
            }));
            let s = scale(&mut rng, c, p, row);
            for (b, &j) in pats[p].missing.iter().enumerate() {
                let noise: f64 = factors[p][c]
                    .as_ref()
                    .map_or(0.0, |l| (0..=b).map(|t| l[(b, t)].as_f64() * z[t]).sum());
                x[(i, j)] = row.means[c][b] + T::c(s * noise);
            }
        }
        out.push(filled_dataset(x, data)?);
    }
    Ok(out)
}
