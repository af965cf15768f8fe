//! The E-step of Gaussian EM on rows with missing features (Ghahramani &
//! Jordan 1994; Little & Rubin 2019, ch. 11). A row's responsibilities come
//! from its marginal density on its observed features; the statistics the
//! M-step reads are their conditional expectations given the observed
//! features: each missing feature is replaced by its conditional mean under
//! the component, and the conditional covariance `C` of the missing features
//! is added to their block of the scatter, `E[(x − c)(x − c)ᵀ | x_o] =
//! (x̂ − c)(x̂ − c)ᵀ + [0 0; 0 C]`. The M-step is then the complete-data one
//! (every covariance structure and constraint, the priors, the repair), so
//! the iteration is exact EM for the observed-data likelihood under
//! ignorable missingness, and the log-likelihood never decreases.
//!
//! What depends on a pattern is computed once per iteration, pattern and
//! component ([`mixtures_dist::IncompleteParts`]); the rows are then
//! evaluated and completed in blocks, and only those of positive
//! responsibility enter a component's scatter, as in the complete-data pass.
//! The conditional covariances enter the scatter once per pattern and
//! component, weighted by the pattern's summed responsibilities. Complete
//! rows take the complete-data pass unchanged.

use faer::linalg::matmul::triangular::{BlockStructure, matmul as tri_matmul};
use faer::prelude::ReborrowMut;
use faer::{Accum, Mat, Par};
use mixtures_core::kernels::{SMALL_DIM, col_slice};
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::par::{leaves, tree_reduce};
use mixtures_core::special::{digamma, ln_gamma_ratio};
use mixtures_core::{CHUNK_ROWS, Scalar};
use mixtures_dist::{GaussianMixtureModel, IncompleteBlock, IncompleteParts};

use crate::FitError;
use crate::pass::lane_dot;
use crate::stats::{EStep, GaussianStats, Stats};

/// A part of the statistics, with its least likely row's completed values.
struct Part<T: Scalar> {
    st: Stats<T>,
    worst_row: Vec<T>,
    /// The patterns of the leaf's rows, ascending, each once...
    cov_patterns: Vec<usize>,
    /// ...and for each, per component, the summed weights `Σ wᵢ rᵢₖ` of its
    /// rows: the weight of its conditional covariance in the scatter (added
    /// at the end of the leaf; a pattern whose rows span two leaves is added
    /// by each, for its own rows).
    cov_weights: Vec<T>,
}

impl<T: Scalar> Part<T> {
    fn merge(&mut self, other: Self) {
        let before = self.st.worst;
        self.st.merge(&other.st);
        if self.st.worst != before {
            self.worst_row = other.worst_row;
        }
    }

    /// Adds every pattern's conditional covariances, weighted by their
    /// rows' summed weights, to the scatter (once per pattern and component
    /// with rows, not per row), and forgets the patterns.
    fn add_conditional_covs(
        &mut self,
        parts: &IncompleteParts<T>,
        data: &IncompleteDataset<T>,
        layout: &Layout<'_, T>,
    ) {
        let (k, d) = (layout.k, layout.d);
        let pats = data.patterns();
        let mut cov = vec![0.0f64; d * d];
        let st = &mut self.st;
        for (t, &p) in self.cov_patterns.iter().enumerate() {
            let missing = &pats[p].missing;
            let nm = missing.len();
            for c in 0..k {
                let w = self.cov_weights[t * k + c];
                if !(w > T::zero()) {
                    continue;
                }
                parts.pattern(p).conditional_cov(c, &mut cov);
                for (b1, &j1) in missing.iter().enumerate() {
                    if layout.full {
                        // The lower triangle (the features ascend).
                        for (b2, &j2) in missing[..=b1].iter().enumerate() {
                            st.full[c][(j1, j2)] += w * T::c(cov[b1 * nm + b2]);
                        }
                    } else if layout.reference.is_some() {
                        st.axis[(c, d + j1)] += w.as_f64() * cov[b1 * nm + b1];
                    } else {
                        st.diag[(c, j1)] += w * T::c(cov[b1 * nm + b1]);
                    }
                }
            }
        }
        self.cov_patterns.clear();
        self.cov_weights.clear();
    }
}

/// The layout of the statistics being filled.
struct Layout<'a, T: Scalar> {
    k: usize,
    d: usize,
    full: bool,
    /// The shifts the moments are taken about (`K x D`).
    shifts: &'a Mat<T>,
    /// The common reference of diagonal moments by products, if used.
    reference: Option<&'a [f64]>,
}

/// A thread's buffers: a block's evaluation and its statistics' scratch.
type Buffers<T> = (IncompleteBlock<T>, Scratch<T>);

/// Per-leaf buffers of [`block_stats`].
struct Scratch<T: Scalar> {
    /// `CHUNK_ROWS x K`: the weights `w r` of the block's rows.
    a: Mat<T>,
    lse: Vec<T>,
    mx: Vec<T>,
    sum: Vec<T>,
    /// The rows of positive weight under a component, and their `√(w r)`.
    idx: Vec<usize>,
    root: Vec<T>,
    /// The completed rows about the statistics' centre.
    offset: Vec<T>,
}

/// Adds the E-step statistics of `data`'s incomplete rows under `model` to
/// `st` (made by [`GaussianStats::new`] for `model`). The rows are cut into
/// leaves that depend only on their number and merged along a fixed tree,
/// so the result does not depend on the number of threads.
pub(crate) fn add_incomplete<T: Scalar>(
    st: &mut GaussianStats<T>,
    model: EStep<'_, T>,
    data: &IncompleteDataset<T>,
) -> Result<(), FitError> {
    // A Student-t's scale is a Gaussian's covariance: the patterns' parts
    // (conditional means, conditional scale, Mahalanobis distances) are the
    // same; only the density and the weights u differ.
    let scale_model;
    let (gaussian, dof) = match model {
        EStep::Gaussian(m) => (m, None),
        EStep::StudentT(m) => {
            scale_model =
                GaussianMixtureModel::new(m.weights().to_vec(), m.components().scale().clone())
                    .map_err(|e| FitError::Degenerate {
                        reason: e.to_string(),
                    })?;
            (&scale_model, Some(m.components().dof()))
        }
    };
    let parts = gaussian
        .incomplete_parts(data)
        .map_err(|e| FitError::Degenerate {
            reason: e.to_string(),
        })?;
    let order = data.incomplete_order();
    if order.is_empty() {
        return Ok(());
    }
    let layout = Layout {
        k: st.shifts.nrows(),
        d: st.shifts.ncols(),
        full: st.full,
        shifts: &st.shifts,
        reference: st.reference.as_deref(),
    };
    let (per_leaf, n_leaves) = leaves(order.len());
    let (k, d) = (layout.k, layout.d);
    let make_buffers = || {
        (
            IncompleteBlock::new(k, d),
            Scratch {
                a: Mat::zeros(CHUNK_ROWS, k),
                lse: vec![T::zero(); CHUNK_ROWS],
                mx: vec![T::zero(); CHUNK_ROWS],
                sum: vec![T::zero(); CHUNK_ROWS],
                idx: Vec::with_capacity(CHUNK_ROWS),
                root: vec![T::zero(); CHUNK_ROWS],
                offset: vec![T::zero(); d],
            },
        )
    };
    // One slot per thread of the pool (and slot 0 for a caller outside it),
    // as in the complete-data pass: a leaf's buffers are large next to its
    // work, and every value read from them is written first in the block.
    let slots: Vec<std::sync::Mutex<Option<Buffers<T>>>> = (0..=rayon::current_num_threads())
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    let part = tree_reduce(
        n_leaves,
        &|leaf| {
            let lo = leaf * per_leaf;
            let hi = (lo + per_leaf).min(order.len());
            let slot =
                &slots[rayon::current_thread_index().map_or(0, |i| (i + 1).min(slots.len() - 1))];
            let (mut buf, mut scratch) = slot
                .lock()
                .ok()
                .and_then(|mut b| b.take())
                .unwrap_or_else(make_buffers);
            let mut part = Part {
                st: Stats::zeros(k, d, layout.full, layout.reference.is_some()),
                worst_row: Vec::new(),
                cov_patterns: Vec::new(),
                cov_weights: Vec::new(),
            };
            for start in (lo..hi).step_by(CHUNK_ROWS) {
                let m = CHUNK_ROWS.min(hi - start);
                parts.block(data, start, m, &mut buf);
                let rows = &order[start..start + m];
                mixtures_core::kernels::vectorize(BlockStats {
                    parts: &parts,
                    data,
                    rows,
                    dof,
                    mixing: gaussian.weights(),
                    buf: &mut buf,
                    scratch: &mut scratch,
                    layout: &layout,
                    part: &mut part,
                });
            }
            part.add_conditional_covs(&parts, data, &layout);
            if let Ok(mut b) = slot.lock() {
                *b = Some((buf, scratch));
            }
            part
        },
        &|a: &mut Part<T>, b| a.merge(b),
    );
    let before = st.raw.worst;
    st.raw.merge(&part.st);
    if st.raw.worst != before {
        st.worst_row = part.worst_row;
    }
    st.rows += order.len() as u64;
    Ok(())
}

/// [`block_stats`], compiled for the processor's SIMD width.
struct BlockStats<'a, T: Scalar> {
    parts: &'a IncompleteParts<T>,
    data: &'a IncompleteDataset<T>,
    rows: &'a [(usize, usize)],
    dof: Option<&'a [T]>,
    mixing: &'a [T],
    buf: &'a mut IncompleteBlock<T>,
    scratch: &'a mut Scratch<T>,
    layout: &'a Layout<'a, T>,
    part: &'a mut Part<T>,
}

impl<T: Scalar> mixtures_core::kernels::Kernel for BlockStats<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        block_stats(
            self.parts,
            self.data,
            self.rows,
            self.dof,
            self.mixing,
            self.buf,
            self.scratch,
            self.layout,
            self.part,
        );
    }
}

/// Adds one evaluated block's statistics to `part`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn block_stats<T: Scalar>(
    parts: &IncompleteParts<T>,
    data: &IncompleteDataset<T>,
    rows: &[(usize, usize)],
    dof: Option<&[T]>,
    mixing: &[T],
    buf: &mut IncompleteBlock<T>,
    sc: &mut Scratch<T>,
    layout: &Layout<'_, T>,
    part: &mut Part<T>,
) {
    let (k, d, m) = (layout.k, layout.d, rows.len());
    let pats = data.patterns();
    // A Student-t E-step: the t's marginal densities and the weights u.
    let u = dof.map(|dof| student_t(buf, rows, pats, dof));
    // Responsibilities times the rows' weights, and ln p(x_o).
    // The responsibilities through the kernel of every E-step (a row whose
    // every density underflows gets the mixing weights, never NaN).
    let mut a = sc.a.as_mut().subrows_mut(0, m);
    a.copy_from(buf.weighted.as_ref().subrows(0, m));
    let lse = &mut sc.lse[..m];
    mixtures_core::kernels::softmax_rows(
        a.rb_mut(),
        lse,
        &mut sc.mx[..m],
        &mut sc.sum[..m],
        mixing,
    );
    let w = |i: usize| data.weights().map_or(T::one(), |w| w[rows[i].0]);
    if data.weights().is_some() {
        for c in 0..k {
            for (i, v) in a.rb_mut().col_mut(c).iter_mut().enumerate() {
                *v *= w(i);
            }
        }
    }
    let a = sc.a.as_ref().subrows(0, m);
    // The weights of the statistics: w r, times u for a Student-t (whose
    // conditional scale C is added with w r alone: given u, the missing
    // features' covariance is C / u, and E[u · C / u] = C).
    let au = match &u {
        Some((u, ln_u)) => {
            let st = &mut part.st;
            for c in 0..k {
                let nu = dof.map_or(0.0, |v| v[c].as_f64());
                for (i, &(_, p)) in rows.iter().enumerate() {
                    let ai = a[(i, c)].as_f64();
                    let p = pats[p].observed.len() as f64;
                    st.mass[c] += a[(i, c)];
                    // E[ln u] = ln u + ψ((ν + |o|)/2) − ln((ν + |o|)/2); the
                    // M-step adds the term for |o| = D, so the difference is
                    // folded in here.
                    st.u_term[c] += ai
                        * (ln_u[(i, c)].as_f64() - u[(i, c)].as_f64() + tail(nu, p)
                            - tail(nu, d as f64));
                }
            }
            Some(Mat::from_fn(m, k, |i, c| a[(i, c)] * u[(i, c)]))
        }
        None => None,
    };
    let stat_w = |i: usize, c: usize| au.as_ref().map_or(a[(i, c)], |au| au[(i, c)]);
    let st = &mut part.st;
    let mut worst = None;
    for (i, &l) in sc.lse[..m].iter().enumerate() {
        let wi = w(i).as_f64();
        if wi > 0.0 {
            st.ll += wi * l.as_f64();
            if l.as_f64() < st.worst.0 {
                st.worst = (l.as_f64(), rows[i].0);
                worst = Some(i);
            }
        }
    }
    for c in 0..k {
        // The completed rows about the statistics' centre: the shift, or the
        // common reference of the diagonal moments by products.
        for (j, off) in sc.offset.iter_mut().enumerate() {
            let centre = layout
                .reference
                .map_or(layout.shifts[(c, j)], |r| T::c(r[j]));
            *off = parts.mean(c)[j] - centre;
        }
        // Rows of zero weight add exactly nothing: only the others are
        // gathered (for well-separated components most rows of a block are
        // zero), all of them when most are positive.
        // The statistics' weights of component c.
        let wc: &[T] = match &au {
            Some(au) => &au.col_as_slice(c)[..m],
            None => &sc.a.col_as_slice(c)[..m],
        };
        sc.idx.clear();
        sc.idx
            .extend((0..m).filter(|&i| sc.a.col_as_slice(c)[i] > T::zero()));
        if sc.idx.is_empty() {
            continue;
        }
        if sc.idx.len() * 2 >= m {
            sc.idx.clear();
            sc.idx.extend(0..m);
        }
        let e = &buf.centred[c];
        let mm = sc.idx.len();
        if layout.full {
            // The Gram matrix of √a [x̂ − c, 1] (its last row holds s and n),
            // gathered in the block's scratch; its lower triangle.
            let root = &mut sc.root[..mm];
            if mm == m {
                for (r, &v) in root.iter_mut().zip(wc) {
                    *r = v.sqrt();
                }
            } else {
                for (r, &i) in root.iter_mut().zip(&sc.idx) {
                    *r = wc[i].sqrt();
                }
            }
            let g = &mut buf.scratch;
            for (j, &off) in sc.offset.iter().enumerate() {
                let (gj, ej) = (&mut g.col_as_slice_mut(j)[..mm], &e.col_as_slice(j)[..m]);
                if mm == m {
                    // Every row: no indexed gather (which does not vectorize).
                    for ((v, &x), &r) in gj.iter_mut().zip(ej).zip(root.iter()) {
                        *v = (x + off) * r;
                    }
                } else {
                    for ((v, &i), &r) in gj.iter_mut().zip(&sc.idx).zip(root.iter()) {
                        *v = (ej[i] + off) * r;
                    }
                }
            }
            g.col_as_slice_mut(d)[..mm].copy_from_slice(root);
            let g = g.as_ref().subrows(0, mm);
            if d < SMALL_DIM {
                // Few columns: fixed-lane dot products beat a product's
                // fixed cost.
                let full = &mut st.full[c];
                for p in 0..=d {
                    for q in 0..=p {
                        if let (Some(cp), Some(cq)) = (col_slice(g, p), col_slice(g, q)) {
                            full[(p, q)] += lane_dot(cp, cq);
                        }
                    }
                }
            } else {
                tri_matmul(
                    st.full[c].as_mut(),
                    BlockStructure::TriangularLower,
                    Accum::Add,
                    g.transpose(),
                    BlockStructure::Rectangular,
                    g,
                    BlockStructure::Rectangular,
                    T::one(),
                    Par::Seq,
                );
            }
        } else {
            let mass: T = sc.idx.iter().map(|&i| stat_w(i, c)).sum();
            st.nk[c] += mass;
            for j in 0..d {
                let (mut s1, mut s2) = (0.0f64, 0.0f64);
                for &i in &sc.idx {
                    let (ai, v) = (stat_w(i, c).as_f64(), (e[(i, j)] + sc.offset[j]).as_f64());
                    s1 += ai * v;
                    s2 += ai * v * v;
                }
                match layout.reference {
                    Some(_) => {
                        st.axis[(c, j)] += s1;
                        st.axis[(c, d + j)] += s2;
                    }
                    None => {
                        st.s[(c, j)] += T::c(s1);
                        st.diag[(c, j)] += T::c(s2);
                    }
                }
            }
        }
    }
    if let Some(i) = worst {
        // The least likely row, completed with its conditional mean under the
        // mixture, stands in for it when a component is re-seeded.
        let total: T = (0..k).map(|c| a[(i, c)]).sum();
        part.worst_row = (0..d)
            .map(|j| {
                (0..k)
                    .filter(|&c| a[(i, c)] > T::zero())
                    .map(|c| a[(i, c)] * (buf.centred[c][(i, j)] + parts.mean(c)[j]))
                    .sum::<T>()
                    / total
            })
            .collect();
    }
    // Each pattern's summed weights, for its conditional covariances.
    let mut i = 0;
    while i < m {
        let p = rows[i].1;
        if part.cov_patterns.last() != Some(&p) {
            part.cov_patterns.push(p);
            part.cov_weights.extend(std::iter::repeat_n(T::zero(), k));
        }
        let at = part.cov_weights.len() - k;
        while i < m && rows[i].1 == p {
            for c in 0..k {
                part.cov_weights[at + c] += a[(i, c)];
            }
            i += 1;
        }
    }
}

/// `ψ((ν + p)/2) − ln((ν + p)/2)`.
fn tail(nu: f64, p: f64) -> f64 {
    digamma(0.5 * (nu + p)) - (0.5 * (nu + p)).ln()
}

/// Turns a block's Gaussian marginal log-densities into the Student-t's
/// (same scale, `ν` per component) in place, and returns `u` and `ln u`
/// (`m x K`): `u = (ν + |o|)/(ν + δ²)`.
fn student_t<T: Scalar>(
    buf: &mut IncompleteBlock<T>,
    rows: &[(usize, usize)],
    pats: &[mixtures_core::missing::Pattern],
    dof: &[T],
) -> (Mat<T>, Mat<T>) {
    let (m, k) = (rows.len(), dof.len());
    let mut u = Mat::<T>::zeros(m, k);
    let mut ln_u = Mat::<T>::zeros(m, k);
    for (c, nu) in dof.iter().enumerate() {
        let nu = nu.as_f64();
        for (i, &(_, p)) in rows.iter().enumerate() {
            let p = pats[p].observed.len() as f64;
            let q = buf.quad[(i, c)].as_f64();
            let l1p = (q / nu).ln_1p();
            // ln N = norm − δ²/2 with norm = ln w − ½ (p ln 2π + ln det Σ_oo);
            // ln t = ln w + ln Γ((ν+p)/2) − ln Γ(ν/2) − (p/2) ln(νπ)
            //        − ½ ln det Σ_oo − ((ν+p)/2) ln(1 + δ²/ν).
            let g = buf.weighted[(i, c)].as_f64();
            let t = g + 0.5 * q + 0.5 * p * (2.0 / nu).ln() + ln_gamma_ratio(0.5 * nu, 0.5 * p)
                - 0.5 * (nu + p) * l1p;
            buf.weighted[(i, c)] = if t.is_nan() {
                T::neg_infinity()
            } else {
                T::c(t)
            };
            u[(i, c)] = T::c((nu + p) / (nu + q));
            ln_u[(i, c)] = T::c((p / nu).ln_1p() - l1p);
        }
    }
    (u, ln_u)
}
