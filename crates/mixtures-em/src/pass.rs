//! The fused pass of a Gaussian EM iteration: for each block of rows, the E-step
//! (weighted log-densities, log-sum-exp, responsibilities) and the sufficient
//! statistics of the M-step are computed while the block is in cache. The data are
//! read once per iteration and the `n x K` responsibilities are never stored.
//!
//! Second moments are accumulated about a per-component shift (the current
//! means), so `Σ r (x − c)(x − c)ᵀ` stays accurate when data sit far from the
//! origin; the scatter about the new means follows exactly as
//! `Σ r (x − c)(x − c)ᵀ − s sᵀ / n` with `s = Σ r (x − c)`, and `c` is already
//! close to the new mean.

use faer::linalg::matmul::triangular::{BlockStructure, matmul as tri_matmul};
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatRef, Par};
use mixtures_core::kernels::{Kernel, col_slice, col_slice_mut, log_sum_exp_rows, vectorize};
use mixtures_core::par::{leaves, tree_reduce};
use mixtures_core::{CHUNK_ROWS, Scalar};
use mixtures_dist::{GaussianMixtureModel, GaussianScratch, LogDensity};
use num_traits::Float;

/// Where the responsibilities of a pass come from.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a, T: Scalar> {
    /// An E-step under this model.
    Model(&'a GaussianMixtureModel<T>),
    /// Given responsibilities (`n x K`), for the M-step that follows initialization.
    Resp(MatRef<'a, T>),
}

/// Weighted sufficient statistics of a block of rows (or of all of them).
pub(crate) struct Stats<T: Scalar> {
    /// `Σ wᵢ rᵢₖ`.
    pub nk: Vec<T>,
    /// `K x D`: `Σ wᵢ rᵢₖ (xᵢ − cₖ)`.
    pub s: Mat<T>,
    /// Per component, the lower triangle of `Σ wᵢ rᵢₖ (xᵢ − cₖ)(xᵢ − cₖ)ᵀ` (full
    /// scatter only).
    pub full: Vec<Mat<T>>,
    /// `K x D`: `Σ wᵢ rᵢₖ (xᵢ − cₖ)²` (diagonal scatter only).
    pub diag: Mat<T>,
    /// `Σ wᵢ ln p(xᵢ)` under the model of the E-step (0 for given responsibilities).
    pub ll: f64,
    /// The least likely row and its log-density (for re-seeding degenerate
    /// components); under given responsibilities, the row farthest from the shift.
    pub worst: (f64, usize),
}

impl<T: Scalar> Stats<T> {
    fn zeros(k: usize, d: usize, full: bool) -> Self {
        Self {
            nk: vec![T::zero(); k],
            s: Mat::zeros(k, d),
            full: if full {
                (0..k).map(|_| Mat::zeros(d, d)).collect()
            } else {
                Vec::new()
            },
            diag: if full {
                Mat::zeros(0, 0)
            } else {
                Mat::zeros(k, d)
            },
            ll: 0.0,
            worst: (f64::INFINITY, usize::MAX),
        }
    }

    fn merge(&mut self, o: Self) {
        for (a, b) in self.nk.iter_mut().zip(&o.nk) {
            *a += *b;
        }
        self.s += &o.s;
        for (a, b) in self.full.iter_mut().zip(&o.full) {
            *a += b;
        }
        self.diag += &o.diag;
        self.ll += o.ll;
        // Lowest value wins; ties go to the earlier row.
        if o.worst.0 < self.worst.0 || (o.worst.0 == self.worst.0 && o.worst.1 < self.worst.1) {
            self.worst = o.worst;
        }
    }
}

/// Per-thread buffers for one block.
struct Buffers<T: Scalar> {
    resp: Mat<T>,
    centered: Mat<T>,
    lse: Vec<T>,
    mx: Vec<T>,
    rows: Vec<usize>,
    scratch: Option<GaussianScratch<T>>,
}

/// Runs the fused pass over all rows; `shifts` is `K x D`. The result does not
/// depend on the number of threads.
pub(crate) fn gaussian_pass<T: Scalar>(
    x: MatRef<'_, T>,
    weights: Option<&[T]>,
    src: Source<'_, T>,
    shifts: &Mat<T>,
    full: bool,
) -> Stats<T> {
    let (n, d) = (x.nrows(), x.ncols());
    let k = shifts.nrows();
    let (rows, n_leaves) = leaves(n);
    tree_reduce(
        n_leaves,
        &|leaf| {
            let lo = leaf * rows;
            let hi = (lo + rows).min(n);
            let mut st = Stats::zeros(k, d, full);
            let mut buf = Buffers {
                resp: Mat::zeros(CHUNK_ROWS, k),
                centered: Mat::zeros(CHUNK_ROWS, d),
                lse: vec![T::zero(); CHUNK_ROWS],
                mx: vec![T::zero(); CHUNK_ROWS],
                rows: Vec::with_capacity(CHUNK_ROWS),
                scratch: match src {
                    Source::Model(m) => Some(m.components().scratch(CHUNK_ROWS)),
                    Source::Resp(_) => None,
                },
            };
            let mut start = lo;
            while start < hi {
                let m = CHUNK_ROWS.min(hi - start);
                vectorize(Block {
                    xb: x.subrows(start, m),
                    start,
                    weights,
                    src,
                    shifts,
                    full,
                    buf: &mut buf,
                    st: &mut st,
                });
                start += m;
            }
            st
        },
        &|a: &mut Stats<T>, b| a.merge(b),
    )
}

/// One block of the pass, compiled for the processor's SIMD width.
struct Block<'a, T: Scalar> {
    xb: MatRef<'a, T>,
    start: usize,
    weights: Option<&'a [T]>,
    src: Source<'a, T>,
    shifts: &'a Mat<T>,
    full: bool,
    buf: &'a mut Buffers<T>,
    st: &'a mut Stats<T>,
}

impl<T: Scalar> Kernel for Block<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Block {
            xb,
            start,
            weights,
            src,
            shifts,
            full,
            buf,
            st,
        } = self;
        block(xb, start, weights, src, shifts, full, buf, st);
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn block<T: Scalar>(
    xb: MatRef<'_, T>,
    start: usize,
    weights: Option<&[T]>,
    src: Source<'_, T>,
    shifts: &Mat<T>,
    full: bool,
    buf: &mut Buffers<T>,
    st: &mut Stats<T>,
) {
    let (m, d) = (xb.nrows(), xb.ncols());
    let k = shifts.nrows();
    let w = weights.map(|w| &w[start..start + m]);
    let mut r = buf.resp.as_mut().subrows_mut(0, m);
    match src {
        Source::Model(model) => {
            if let Some(scratch) = buf.scratch.as_mut() {
                model.weighted_log_prob_block(xb, r.rb_mut(), scratch);
            }
            let (lse, mx) = (&mut buf.lse[..m], &mut buf.mx[..m]);
            log_sum_exp_rows(r.rb(), lse, mx);
            for (i, &l) in lse.iter().enumerate() {
                let wi = w.map_or(1.0, |w| w[i].as_f64());
                if wi > 0.0 {
                    st.ll += wi * l.as_f64();
                    if l.as_f64() < st.worst.0 {
                        st.worst = (l.as_f64(), start + i);
                    }
                }
            }
            // rᵢₖ = exp(ln wₖpₖ(xᵢ) − ln p(xᵢ)), a column at a time so that the
            // exponentials vectorize.
            let lost = lse.iter().any(|&l| l == T::neg_infinity());
            for c in 0..k {
                if let Some(col) = col_slice_mut(r.rb_mut(), c) {
                    for (o, &l) in col.iter_mut().zip(lse.iter()) {
                        *o -= l;
                    }
                    T::exp_in_place(col);
                }
            }
            if lost {
                // A row of zero density under every component (only when its
                // distances overflow) is shared by the prior weights.
                for (c, &wk) in model.weights().iter().enumerate() {
                    for (o, &l) in r.rb_mut().col_mut(c).iter_mut().zip(lse.iter()) {
                        if l == T::neg_infinity() {
                            *o = wk;
                        }
                    }
                }
            }
        }
        Source::Resp(resp) => {
            r.copy_from(resp.subrows(start, m));
            // The row farthest from the first shift stands in for "least likely".
            for i in 0..m {
                let dist: f64 = (0..d)
                    .map(|j| (xb[(i, j)] - shifts[(0, j)]).as_f64().powi(2))
                    .sum();
                if -dist < st.worst.0 {
                    st.worst = (-dist, start + i);
                }
            }
        }
    }
    if let Some(w) = w {
        for c in 0..k {
            for (o, &wi) in r.rb_mut().col_mut(c).iter_mut().zip(w) {
                *o *= wi;
            }
        }
    }
    let r = buf.resp.as_ref().subrows(0, m);
    for c in 0..k {
        let Some(rc) = col_slice(r, c) else { continue };
        // Rows with zero responsibility add exactly nothing: gather the others
        // (for well-separated components most rows of a block are zero).
        buf.rows.clear();
        buf.rows.extend(
            rc.iter()
                .enumerate()
                .filter(|(_, v)| **v > T::zero())
                .map(|(i, _)| i),
        );
        let mm = buf.rows.len();
        if mm == 0 {
            continue;
        }
        st.nk[c] += buf.rows.iter().map(|&i| rc[i]).sum::<T>();
        let mut cen = buf.centered.as_mut().subrows_mut(0, mm);
        for j in 0..d {
            let mu = shifts[(c, j)];
            let (mut s, mut q) = (T::zero(), T::zero());
            let xs = col_slice(xb, j);
            let Some(ds) = col_slice_mut(cen.rb_mut(), j) else {
                continue;
            };
            for (o, &i) in ds.iter_mut().zip(buf.rows.iter()) {
                let v = match xs {
                    Some(xs) => xs[i],
                    None => xb[(i, j)],
                };
                let z = v - mu;
                let t = rc[i] * z;
                s += t;
                q += t * z;
                if full {
                    // Scaled by √r so that one product BᵀB gives Σ r z zᵀ.
                    *o = z * Float::sqrt(rc[i]);
                }
            }
            st.s[(c, j)] += s;
            if !full {
                st.diag[(c, j)] += q;
            }
        }
        if full {
            // Only the lower triangle: half the work of a dense product.
            tri_matmul(
                st.full[c].as_mut(),
                BlockStructure::TriangularLower,
                Accum::Add,
                cen.rb().transpose(),
                BlockStructure::Rectangular,
                cen.rb(),
                BlockStructure::Rectangular,
                T::one(),
                Par::Seq,
            );
        }
    }
}
