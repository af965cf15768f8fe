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

use faer::linalg::matmul::matmul;
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
    widen_centered,
};
use num_traits::Float;

pub(crate) use crate::stats::Stats;

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

/// Per-thread buffers for one block.
struct Buffers<T: Scalar> {
    resp: Mat<T>,
    /// Gathered rows `√r (x − c)`, with a last column `√r` for full scatter.
    centered: Mat<T>,
    /// `√r` of the gathered rows.
    sqrt_r: Vec<T>,
    /// `[y, y²]` and the responsibilities of a block in `f64` (diagonal
    /// moments by products).
    wide: Vec<f64>,
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
    let reference: Option<Vec<f64>> =
        product_reference(src, shifts, full).map(|c| c.iter().map(|v| v.as_f64()).collect());
    let mut st = raw_pass(x, weights, src, shifts, full, reference.as_deref()).finish();
    if let Some(c) = reference.as_deref() {
        st.shift_from(c, shifts);
    }
    st
}

/// The pass's statistics as accumulated, before [`Stats::finish`] and
/// [`Stats::shift_from`] (so that partial statistics of other rows can still
/// be merged into them); `reference` is [`product_reference`]'s.
pub(crate) fn raw_pass<T: Scalar>(
    x: MatRef<'_, T>,
    weights: Option<&[T]>,
    src: Source<'_, T>,
    shifts: &Mat<T>,
    full: bool,
    reference: Option<&[f64]>,
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
    let make_buffers = || {
        Buffers {
            resp: Mat::zeros(CHUNK_ROWS, columns),
            // The full scatter gathers rows; the diagonal one by products
            // holds the block's [y, y²]; the exact diagonal one reads the block.
            centered: Mat::zeros(
                if full { CHUNK_ROWS } else { 0 },
                if full { d + 1 } else { 0 },
            ),
            wide: match reference {
                Some(_) => vec![0.0; CHUNK_ROWS * (2 * d + k)],
                None => Vec::new(),
            },
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
        }
    };
    // One slot per thread of the pool (and slot 0 for a caller outside it).
    let slots: Vec<std::sync::Mutex<Option<Buffers<T>>>> = (0..=rayon::current_num_threads())
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    tree_reduce(
        n_leaves,
        &|leaf| {
            let lo = leaf * rows;
            let hi = (lo + rows).min(n);
            let mut st = Stats::zeros(k, d, full, reference.is_some());
            // This thread's buffers from an earlier leaf of this pass, if any:
            // leaves are many (up to 64) and their buffers large (the diagonal
            // products' [y, y²]), and allocating them per leaf cost more page
            // faults than the leaf's work at 20 000 rows. Every value read
            // from them is written first in the same block.
            let slot =
                &slots[rayon::current_thread_index().map_or(0, |i| (i + 1).min(slots.len() - 1))];
            let mut buf = slot
                .lock()
                .ok()
                .and_then(|mut b| b.take())
                .unwrap_or_else(make_buffers);
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
                    reference,
                    buf: &mut buf,
                    st: &mut st,
                });
                start += m;
            }
            if let Ok(mut b) = slot.lock() {
                *b = Some(buf);
            }
            st
        },
        &|a: &mut Stats<T>, b| a.merge(&b),
    )
}

/// The common reference the diagonal moments are accumulated about by matrix
/// products, if they can be: the model's own ([`mixtures_dist::Gaussian::product_reference`],
/// which also vouches for the accuracy) when the shifts are its means, or the
/// shift when every component has the same one (the M-step after
/// initialization, where nothing cancels).
pub(crate) fn product_reference<T: Scalar>(
    src: Source<'_, T>,
    shifts: &Mat<T>,
    full: bool,
) -> Option<Vec<T>> {
    if full || shifts.nrows() == 0 {
        return None;
    }
    match src {
        Source::Model(model) => {
            let g = model.components();
            let c = g.product_reference()?;
            (g.means() == shifts.as_ref()).then(|| c.to_vec())
        }
        Source::Resp(_) => {
            let first: Vec<T> = shifts.row(0).iter().copied().collect();
            let same =
                (1..shifts.nrows()).all(|r| shifts.row(r).iter().zip(&first).all(|(a, b)| a == b));
            same.then_some(first)
        }
        Source::StudentT(_) => None,
    }
}

/// One block of the pass, compiled for the processor's SIMD width.
struct Block<'a, T: Scalar> {
    xb: MatRef<'a, T>,
    start: usize,
    weights: Option<&'a [T]>,
    src: Source<'a, T>,
    shifts: &'a Mat<T>,
    full: bool,
    reference: Option<&'a [f64]>,
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
            reference,
            buf,
            st,
        } = self;
        block(xb, start, weights, src, shifts, full, reference, buf, st);
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
    reference: Option<&[f64]>,
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
    if let (false, Some(c)) = (full, reference) {
        axis_moments(xb, c, r.subcols(0, k), &mut buf.wide, st);
        return;
    }
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

/// Diagonal moments about the common reference `c` by one matrix product in
/// `f64`: with `y = x − c`, `[Σ r y, Σ r y²] = Rᵀ [y, y²]` for all components
/// at once (see [`Stats::shift_from`] for the way back to each component's
/// shift). `wide` holds at least `m (2D + K)` values.
#[inline(always)]
fn axis_moments<T: Scalar>(
    xb: MatRef<'_, T>,
    c: &[f64],
    r: MatRef<'_, T>,
    wide: &mut [f64],
    st: &mut Stats<T>,
) {
    let (m, d, k) = (xb.nrows(), xb.ncols(), r.ncols());
    let (y2, rest) = wide.split_at_mut(2 * m * d);
    widen_centered(xb, c, y2);
    let y2 = MatRef::from_column_major_slice(y2, m, 2 * d);
    let mut r64 = faer::MatMut::from_column_major_slice_mut(&mut rest[..m * k], m, k);
    for (c, nk) in st.nk.iter_mut().enumerate() {
        if let Some(rc) = col_slice(r, c) {
            *nk += lane_sum(rc);
            for (o, &v) in r64.rb_mut().col_mut(c).iter_mut().zip(rc) {
                *o = v.as_f64();
            }
        }
    }
    matmul(
        st.axis.as_mut(),
        Accum::Add,
        r64.rb().transpose(),
        y2,
        1.0,
        Par::Seq,
    );
}

/// Independent partial sums per lane, combined in a fixed order: the compiler
/// may vectorize across the lanes (a plain running sum is a serial chain it
/// must not reorder), and the result is the same bits on every machine.
const LANES: usize = 8;

/// `Σ aᵢ bᵢ` over [`LANES`] fixed lanes.
#[inline(always)]
pub(crate) fn lane_dot<T: Scalar>(a: &[T], b: &[T]) -> T {
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
