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
use mixtures_core::kernels::{
    Kernel, SMALL_DIM, col_slice, col_slice_mut, softmax_rows, vectorize,
};
use mixtures_core::par::{leaves, tree_reduce};
use mixtures_core::{CHUNK_ROWS, Scalar};
use mixtures_dist::{
    GaussianMixtureModel, GaussianScratch, LogDensity, StudentT, StudentTMixtureModel,
};
use num_traits::Float;

use crate::Scatter;

/// Where the responsibilities of a pass come from.
#[derive(Clone, Copy)]
pub enum Source<'a, T: Scalar> {
    /// An E-step under this model.
    Model(&'a GaussianMixtureModel<T>),
    /// Given responsibilities (`n x K`), for the M-step that follows initialization.
    Resp(MatRef<'a, T>),
    /// An E-step under a Student-t mixture: the statistics are weighted by
    /// `rᵢₖ uᵢₖ` (the latent precision weights), and [`Stats::mass`] and
    /// [`Stats::u_term`] are accumulated too.
    StudentT(&'a StudentTMixtureModel<T>),
}

/// Weighted sufficient statistics of a block of rows (or of all of them).
pub struct Stats<T: Scalar> {
    /// `Σ wᵢ rᵢₖ`.
    pub nk: Vec<T>,
    /// `K x D`: `Σ wᵢ rᵢₖ (xᵢ − cₖ)`.
    pub s: Mat<T>,
    /// Per component, the lower triangle of `Σ wᵢ rᵢₖ (xᵢ − cₖ)(xᵢ − cₖ)ᵀ` (full
    /// scatter only). During the pass each is the `(D + 1) x (D + 1)` Gram matrix
    /// of the rows `√(wr)·[x − c, 1]`, whose last row holds `s` and `nk`; see
    /// `Stats::finish`.
    pub full: Vec<Mat<T>>,
    /// `K x D`: `Σ wᵢ rᵢₖ (xᵢ − cₖ)²` (diagonal scatter only).
    pub diag: Mat<T>,
    /// `Σ wᵢ ln p(xᵢ)` under the model of the E-step (0 for given responsibilities).
    pub ll: f64,
    /// The least likely row and its log-density (for re-seeding degenerate
    /// components); under given responsibilities, the row farthest from the shift.
    pub worst: (f64, usize),
    /// Student-t E-step only: `Σ wᵢ rᵢₖ` (`nk` is then `Σ wᵢ rᵢₖ uᵢₖ`).
    pub mass: Vec<T>,
    /// Student-t E-step only: `Σ wᵢ rᵢₖ (ln uᵢₖ − uᵢₖ)`, for the update of
    /// the degrees of freedom.
    pub u_term: Vec<f64>,
    /// `Σ wᵢ rᵢ₀`, the weight a noise component claims (0 without one).
    pub noise: f64,
}

impl<T: Scalar> Stats<T> {
    fn zeros(k: usize, d: usize, full: bool) -> Self {
        Self {
            nk: vec![T::zero(); k],
            s: Mat::zeros(k, d),
            full: if full {
                (0..k).map(|_| Mat::zeros(d + 1, d + 1)).collect()
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
            mass: vec![T::zero(); k],
            u_term: vec![0.0; k],
            noise: 0.0,
        }
    }

    /// Moves `s` and `nk` out of the augmented Gram matrices of a full-scatter
    /// pass and leaves the `D x D` scatter.
    fn finish(mut self) -> Self {
        for (c, g) in self.full.iter_mut().enumerate() {
            let d = g.nrows() - 1;
            for j in 0..d {
                self.s[(c, j)] = g[(d, j)];
            }
            self.nk[c] = g[(d, d)];
            *g = g.as_ref().submatrix(0, 0, d, d).to_owned();
        }
        self
    }

    /// The counts (with `10 ε` added, so that an empty component never divides
    /// by zero, as in scikit-learn), the weighted means and the scatter about
    /// them (full or diagonal), from statistics accumulated about `shifts`.
    pub fn moments(&self, shifts: &Mat<T>, full: bool) -> (Vec<T>, Mat<T>, Scatter<T>) {
        let (k, d) = (self.nk.len(), shifts.ncols());
        let guard = T::c(10.0) * T::epsilon();
        let nk: Vec<T> = self.nk.iter().map(|&v| v + guard).collect();
        let means = Mat::from_fn(k, d, |c, j| shifts[(c, j)] + self.s[(c, j)] / nk[c]);
        let scatter = if full {
            Scatter::Full(
                (0..k)
                    .map(|c| {
                        Mat::from_fn(d, d, |i, j| {
                            let (a, b) = if i >= j { (i, j) } else { (j, i) };
                            self.full[c][(a, b)] - self.s[(c, a)] * self.s[(c, b)] / nk[c]
                        })
                    })
                    .collect(),
            )
        } else {
            Scatter::Diagonal(Mat::from_fn(k, d, |c, j| {
                let v = self.diag[(c, j)] - self.s[(c, j)] * self.s[(c, j)] / nk[c];
                if v > T::zero() { v } else { T::zero() }
            }))
        };
        (nk, means, scatter)
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
        for (a, b) in self.mass.iter_mut().zip(&o.mass) {
            *a += *b;
        }
        for (a, b) in self.u_term.iter_mut().zip(&o.u_term) {
            *a += *b;
        }
        self.noise += o.noise;
        // Lowest value wins; ties go to the earlier row.
        if o.worst.0 < self.worst.0 || (o.worst.0 == self.worst.0 && o.worst.1 < self.worst.1) {
            self.worst = o.worst;
        }
    }
}

/// Per-thread buffers for one block.
struct Buffers<T: Scalar> {
    resp: Mat<T>,
    /// Gathered rows `√r (x − c)`, with a last column `√r` for full scatter.
    centered: Mat<T>,
    /// `√r` of the gathered rows.
    sqrt_r: Vec<T>,
    lse: Vec<T>,
    mx: Vec<T>,
    sum: Vec<T>,
    rows: Vec<usize>,
    scratch: Option<GaussianScratch<T>>,
    /// A Student-t E-step's scratch; its matrix holds the block's `uᵢₖ`.
    t_scratch: Option<<StudentT<T> as LogDensity<T>>::Scratch>,
}

/// Runs the fused pass over all rows; `shifts` is `K x D`. The result does not
/// depend on the number of threads.
pub fn gaussian_pass<T: Scalar>(
    x: MatRef<'_, T>,
    weights: Option<&[T]>,
    src: Source<'_, T>,
    shifts: &Mat<T>,
    full: bool,
) -> Stats<T> {
    let (n, d) = (x.nrows(), x.ncols());
    let k = shifts.nrows();
    // A noise component adds a last column to the responsibilities.
    let columns = match src {
        Source::Model(m) => m.n_columns(),
        Source::StudentT(m) => m.n_columns(),
        Source::Resp(_) => k,
    };
    let (rows, n_leaves) = leaves(n);
    let st = tree_reduce(
        n_leaves,
        &|leaf| {
            let lo = leaf * rows;
            let hi = (lo + rows).min(n);
            let mut st = Stats::zeros(k, d, full);
            let mut buf = Buffers {
                resp: Mat::zeros(CHUNK_ROWS, columns),
                // Only the full scatter gathers rows; the diagonal one reads the block.
                centered: Mat::zeros(
                    if full { CHUNK_ROWS } else { 0 },
                    if full { d + 1 } else { 0 },
                ),
                sqrt_r: vec![T::zero(); CHUNK_ROWS],
                lse: vec![T::zero(); CHUNK_ROWS],
                mx: vec![T::zero(); CHUNK_ROWS],
                sum: vec![T::zero(); CHUNK_ROWS],
                rows: Vec::with_capacity(CHUNK_ROWS),
                scratch: match src {
                    Source::Model(m) => Some(m.components().scratch(CHUNK_ROWS)),
                    Source::Resp(_) | Source::StudentT(_) => None,
                },
                t_scratch: match src {
                    Source::StudentT(m) => Some(m.components().scratch(CHUNK_ROWS)),
                    Source::Model(_) | Source::Resp(_) => None,
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
    );
    st.finish()
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
        Source::Model(_) | Source::StudentT(_) => {
            let weights = match src {
                Source::Model(model) => {
                    if let Some(scratch) = buf.scratch.as_mut() {
                        model.weighted_log_prob_block(xb, r.rb_mut(), scratch);
                    }
                    model.column_weights()
                }
                Source::StudentT(model) => {
                    if let Some(scratch) = buf.t_scratch.as_mut() {
                        model.weighted_log_prob_block(xb, r.rb_mut(), scratch);
                    }
                    model.column_weights()
                }
                Source::Resp(_) => &[],
            };
            let (lse, mx, sum) = (&mut buf.lse[..m], &mut buf.mx[..m], &mut buf.sum[..m]);
            // Responsibilities and ln p(xᵢ) with one exponential per entry.
            softmax_rows(r.rb_mut(), lse, mx, sum, weights);
            for (i, &l) in lse.iter().enumerate() {
                let wi = w.map_or(1.0, |w| w[i].as_f64());
                if wi > 0.0 {
                    st.ll += wi * l.as_f64();
                    if l.as_f64() < st.worst.0 {
                        st.worst = (l.as_f64(), start + i);
                    }
                }
            }
        }
        Source::Resp(resp) => {
            r.rb_mut()
                .subcols_mut(0, k)
                .copy_from(resp.subrows(start, m));
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
    if r.ncols() > k {
        // The noise's column: only its weighted sum is needed.
        let noise = r.rb().col(k);
        st.noise += match w {
            Some(w) => noise
                .iter()
                .zip(w)
                .map(|(&ri, &wi)| (ri * wi).as_f64())
                .sum::<f64>(),
            None => noise.iter().map(|ri| ri.as_f64()).sum::<f64>(),
        };
    }
    if let Some(w) = w {
        for c in 0..k {
            for (o, &wi) in r.rb_mut().col_mut(c).iter_mut().zip(w) {
                *o *= wi;
            }
        }
    }
    if let Some((_, u, ln_u)) = buf.t_scratch.as_ref() {
        // The t's M-step: the mass Σ w r and Σ w r (ln u − u) for the degrees
        // of freedom, then every statistic weighted by w r u.
        for c in 0..k {
            let (u, ln_u) = (u.as_ref().subrows(0, m), ln_u.as_ref().subrows(0, m));
            let (mass, term) =
                crate::student::weigh_by_u(r.rb_mut().col_mut(c), u.col(c), ln_u.col(c));
            st.mass[c] += mass;
            st.u_term[c] += term;
        }
    }
    let r = buf.resp.as_ref().subrows(0, m);
    if !full {
        // Diagonal scatter needs only per-column sums: straight passes over the
        // contiguous columns beat gathering the rows of positive responsibility
        // (rows with r = 0 add exactly 0 here).
        for c in 0..k {
            let Some(rc) = col_slice(r, c) else { continue };
            st.nk[c] += lane_sum(rc);
            for j in 0..d {
                let mu = shifts[(c, j)];
                let (s, q) = match col_slice(xb, j) {
                    Some(xs) => lane_moments(xs, mu, rc),
                    None => {
                        // The same lanes in the same order, without slices.
                        let (mut s, mut q) = ([T::zero(); LANES], [T::zero(); LANES]);
                        for (i, (&xv, &rv)) in xb.col(j).iter().zip(rc).enumerate() {
                            let z = xv - mu;
                            let t = rv * z;
                            s[i % LANES] += t;
                            q[i % LANES] += t * z;
                        }
                        (combine(s), combine(q))
                    }
                };
                st.s[(c, j)] += s;
                st.diag[(c, j)] += q;
            }
        }
        return;
    }
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
        if buf.rows.is_empty() {
            continue;
        }
        // Mostly positive: take every row (zeros add exactly nothing) and skip
        // the indexed gather, which does not vectorize.
        let dense = buf.rows.len() * 2 >= m;
        if dense {
            buf.rows.clear();
            buf.rows.extend(0..m);
        }
        let mm = buf.rows.len();
        let sr = &mut buf.sqrt_r[..mm];
        for (o, &i) in sr.iter_mut().zip(buf.rows.iter()) {
            *o = Float::sqrt(rc[i]);
        }
        let sr = &buf.sqrt_r[..mm];
        // Rows scaled by √r, so that their Gram matrix carries r once.
        let mut cen = buf.centered.as_mut().subrows_mut(0, mm);
        for j in 0..d {
            let mu = shifts[(c, j)];
            let Some(ds) = col_slice_mut(cen.rb_mut(), j) else {
                continue;
            };
            match col_slice(xb, j) {
                Some(xs) if dense => {
                    for ((o, &v), &q) in ds.iter_mut().zip(xs).zip(sr) {
                        *o = (v - mu) * q;
                    }
                }
                Some(xs) => {
                    for ((o, &i), &q) in ds.iter_mut().zip(buf.rows.iter()).zip(sr) {
                        *o = (xs[i] - mu) * q;
                    }
                }
                None => {
                    for ((o, &i), &q) in ds.iter_mut().zip(buf.rows.iter()).zip(sr) {
                        *o = (xb[(i, j)] - mu) * q;
                    }
                }
            }
        }
        // One Gram matrix gives Σ r z zᵀ, Σ r z (last row) and Σ r (corner):
        // that of [√r z, √r]. Only the lower triangle: half the work.
        if let Some(last) = col_slice_mut(cen.rb_mut(), d) {
            last.copy_from_slice(sr);
        }
        if d < SMALL_DIM {
            // Few columns: fixed-lane dot products beat a product's fixed cost.
            let g = &mut st.full[c];
            for a in 0..=d {
                for b in 0..=a {
                    if let (Some(ca), Some(cb)) = (col_slice(cen.rb(), a), col_slice(cen.rb(), b)) {
                        g[(a, b)] += lane_dot(ca, cb);
                    }
                }
            }
            continue;
        }
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

/// Independent partial sums per lane, combined in a fixed order: the compiler
/// may vectorize across the lanes (a plain running sum is a serial chain it
/// must not reorder), and the result is the same bits on every machine.
const LANES: usize = 8;

/// `Σ aᵢ bᵢ` over [`LANES`] fixed lanes.
#[inline(always)]
fn lane_dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[l] += *x * *y;
    }
    combine(acc)
}

/// `(Σ rᵢ zᵢ, Σ rᵢ zᵢ²)` with `zᵢ = xᵢ − mu`, over [`LANES`] fixed lanes.
#[inline(always)]
fn lane_moments<T: Scalar>(x: &[T], mu: T, r: &[T]) -> (T, T) {
    let (mut s, mut q) = ([T::zero(); LANES], [T::zero(); LANES]);
    let (cx, cr) = (x.chunks_exact(LANES), r.chunks_exact(LANES));
    let (rx, rr) = (cx.remainder(), cr.remainder());
    for (xc, rc) in cx.zip(cr) {
        for l in 0..LANES {
            let z = xc[l] - mu;
            let t = rc[l] * z;
            s[l] += t;
            q[l] += t * z;
        }
    }
    for (l, (&xv, &rv)) in rx.iter().zip(rr).enumerate() {
        let z = xv - mu;
        let t = rv * z;
        s[l] += t;
        q[l] += t * z;
    }
    (combine(s), combine(q))
}

/// `Σ aᵢ` over [`LANES`] fixed lanes.
#[inline(always)]
fn lane_sum<T: Scalar>(a: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let ca = a.chunks_exact(LANES);
    let ra = ca.remainder();
    for x in ca {
        for l in 0..LANES {
            acc[l] += x[l];
        }
    }
    for (l, x) in ra.iter().enumerate() {
        acc[l] += *x;
    }
    combine(acc)
}

#[inline(always)]
fn combine<T: Scalar>(a: [T; LANES]) -> T {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}
