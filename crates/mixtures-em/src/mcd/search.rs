//! The search of FastMCD: random starts, C-steps, the nested stages, and
//! the estimates they pass along (in `f64`, with the factor of the scatter).
//! A [`Reg`] blends every scatter with a diagonal target (the regularized
//! MCD); without it the scatters are the plain maximum-likelihood ones.

use faer::{Mat, MatRef};
use mixtures_core::kernels::{maha_work_len, sq_mahalanobis_block};
use mixtures_core::seed::derive_seed;
use mixtures_core::{CHUNK_ROWS, Cholesky, Scalar};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use super::Mcd;

/// Rows of each subset of the nested starts.
const SUBSET_ROWS: usize = 300;
/// Most subsets of the nested starts.
const MAX_SUBSETS: usize = 5;
/// Candidates kept from each stage.
const KEEP: usize = 10;
/// C-steps at most in the final iterations (they converge in a few; the
/// bound only guards against cycling between equal determinants).
const MAX_C_STEPS: usize = 100;

/// A location and scatter in `f64`, with the factor of the scatter.
#[derive(Clone)]
pub(super) struct Estimate {
    pub(super) mean: Vec<f64>,
    pub(super) factor: Cholesky<f64>,
    pub(super) support: Vec<usize>,
    /// C-steps of the final iterations that led to it.
    pub(super) steps: usize,
}

impl Estimate {
    pub(super) fn log_det(&self) -> f64 {
        self.factor.log_det()
    }
}

/// The regularization of the scatters: `K = ρ diag(t) + (1 − ρ) c S`, with
/// `S` the maximum-likelihood scatter of a subset, `c` the consistency
/// factor and `t` the features' robust variances; `ρ = 0` is the plain MCD.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reg {
    pub(super) rho: f64,
    pub(super) consistency: f64,
    pub(super) target: Vec<f64>,
}

impl Reg {
    /// No regularization.
    pub(super) fn none() -> Self {
        Self {
            rho: 0.0,
            consistency: 1.0,
            target: Vec::new(),
        }
    }
}

impl Mcd {
    /// The candidates of the starts, refined by the nested stages.
    pub(super) fn candidates<T: Scalar>(
        &self,
        x: MatRef<'_, T>,
        h: usize,
        reg: &Reg,
    ) -> Vec<Estimate> {
        let n = x.nrows();
        let scaled = |m: usize| (m * h).div_ceil(n).max(x.ncols() + 1).min(m);
        if n <= 2 * SUBSET_ROWS {
            return self.starts(x, self.n_trials, h, 0, reg);
        }
        // Up to 5 subsets of at least 300 rows; together at most 1500 rows
        // (all of them below that).
        let subsets = (n / SUBSET_ROWS).min(MAX_SUBSETS);
        let size = n.min(SUBSET_ROWS * MAX_SUBSETS) / subsets;
        let mut rng = StdRng::seed_from_u64(derive_seed(self.seed, &[1]));
        let rows = rand::seq::index::sample(&mut rng, n, subsets * size).into_vec();
        let merged = gather(x, &rows);
        let per = self.n_trials.div_ceil(subsets);
        let firsts: Vec<Vec<Estimate>> = (0..subsets)
            .into_par_iter()
            .map(|s| {
                let part = merged.subrows(s * size, size);
                // Positions in the subset become positions in the union.
                let mut best = self.starts(part, per, scaled(size), s as u64 + 1, reg);
                for e in &mut best {
                    for i in &mut e.support {
                        *i += s * size;
                    }
                }
                best
            })
            .collect();
        let firsts: Vec<Estimate> = firsts.into_iter().flatten().collect();
        if n <= SUBSET_ROWS * MAX_SUBSETS {
            // The subsets hold (nearly) every row: every candidate goes on to
            // the final iterations on all rows.
            return firsts;
        }
        let hm = scaled(merged.nrows());
        let refined: Vec<Option<Estimate>> = firsts
            .par_iter()
            .map(|e| converge(merged.as_ref(), e, hm, reg))
            .collect();
        best_of(refined)
    }

    /// `count` random starts in `x`, two C-steps each, the best kept.
    fn starts<T: Scalar>(
        &self,
        x: MatRef<'_, T>,
        count: usize,
        h: usize,
        stage: u64,
        reg: &Reg,
    ) -> Vec<Estimate> {
        let found: Vec<Option<Estimate>> = (0..2 * count)
            .into_par_iter()
            .map(|t| {
                let mut rng = StdRng::seed_from_u64(derive_seed(self.seed, &[2, stage, t as u64]));
                // Small starts reach subsets away from the bulk; whole
                // random h-subsets start inside it. `count` of each.
                let start = if t % 2 == 0 {
                    random_start(x, &mut rng, reg)?
                } else {
                    let mut idx = rand::seq::index::sample(&mut rng, x.nrows(), h).into_vec();
                    idx.sort_unstable();
                    scatter(x, &idx, reg)?
                };
                c_step(x, &start, h, reg).and_then(|e| c_step(x, &e, h, reg))
            })
            .collect();
        best_of(found)
    }
}

/// An estimate from a location and a covariance; `None` if the covariance
/// cannot be factorized.
pub(super) fn with_covariance(mean: Vec<f64>, cov: &Mat<f64>) -> Option<Estimate> {
    let factor = Cholesky::new(cov.as_ref()).ok()?;
    Some(Estimate {
        mean,
        factor,
        support: Vec::new(),
        steps: 0,
    })
}

/// The full covariance of a factor, `L Lᵀ`.
pub(super) fn covariance(f: &Cholesky<f64>) -> Mat<f64> {
    let l = f.l();
    l * l.transpose()
}

pub(super) fn scaled(m: &Mat<f64>, c: f64) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] * c)
}

/// The distinct candidates found (starts often converge to the same subset,
/// which would crowd out the others), best (lowest determinant) first, at
/// most [`KEEP`]; ties keep their order.
fn best_of(found: Vec<Option<Estimate>>) -> Vec<Estimate> {
    let mut all: Vec<Estimate> = found.into_iter().flatten().collect();
    all.sort_by(|a, b| a.log_det().total_cmp(&b.log_det()));
    let mut kept: Vec<Estimate> = Vec::with_capacity(KEEP);
    for e in all {
        if kept.len() == KEEP {
            break;
        }
        if !kept.iter().any(|k| k.support == e.support) {
            kept.push(e);
        }
    }
    kept
}

/// The rows `idx` of `x`, in that order.
fn gather<T: Scalar>(x: MatRef<'_, T>, idx: &[usize]) -> Mat<T> {
    Mat::from_fn(idx.len(), x.ncols(), |i, j| x[(idx[i], j)])
}

/// A random `(d + 1)`-subset, grown one random row at a time while its
/// scatter is singular.
fn random_start<T: Scalar>(x: MatRef<'_, T>, rng: &mut StdRng, reg: &Reg) -> Option<Estimate> {
    let (n, d) = (x.nrows(), x.ncols());
    let order = rand::seq::index::sample(rng, n, (4 * (d + 1)).min(n)).into_vec();
    let mut size = (d + 1).min(n);
    loop {
        let mut idx = order[..size].to_vec();
        idx.sort_unstable();
        if let Some(e) = scatter(x, &idx, reg) {
            return Some(e);
        }
        if size == order.len() {
            return None;
        }
        size += 1;
    }
}

/// Keeps the `h` rows of `x` nearest to `e` and estimates from them; `None`
/// when their scatter is singular.
fn c_step<T: Scalar>(x: MatRef<'_, T>, e: &Estimate, h: usize, reg: &Reg) -> Option<Estimate> {
    let mut dist = vec![0.0; x.nrows()];
    sq_distances(x, e, &mut dist);
    let mut idx: Vec<usize> = (0..x.nrows()).collect();
    // The h smallest by (distance, row): the same set whatever the pivots.
    let order = |&a: &usize, &b: &usize| dist[a].total_cmp(&dist[b]).then(a.cmp(&b));
    if h < idx.len() {
        idx.select_nth_unstable_by(h, order);
        idx.truncate(h);
    }
    idx.sort_unstable();
    scatter(x, &idx, reg)
}

/// C-steps from `e` until the determinant stops decreasing.
pub(super) fn converge<T: Scalar>(
    x: MatRef<'_, T>,
    e: &Estimate,
    h: usize,
    reg: &Reg,
) -> Option<Estimate> {
    let mut current = c_step(x, e, h, reg)?;
    let mut steps = 1;
    for _ in 0..MAX_C_STEPS {
        let Some(next) = c_step(x, &current, h, reg) else {
            break;
        };
        steps += 1;
        let done = next.support == current.support || !(next.log_det() < current.log_det());
        if next.log_det() < current.log_det() {
            current = next;
        }
        if done {
            break;
        }
    }
    current.steps = steps;
    Some(current)
}

/// The estimate of rows `idx` (ascending) of `x`: their mean and scatter
/// ([`moments`]) blended as `reg` says; `None` when the result is singular.
pub(super) fn scatter<T: Scalar>(x: MatRef<'_, T>, idx: &[usize], reg: &Reg) -> Option<Estimate> {
    let d = x.ncols();
    // A plain scatter of no more rows than features is singular; a blend
    // needs two rows.
    if idx.len() < 2 || (reg.rho == 0.0 && idx.len() <= d) {
        return None;
    }
    let (mean, mut cov) = moments(x, idx);
    if reg.rho > 0.0 {
        let keep = (1.0 - reg.rho) * reg.consistency;
        for i in 0..d {
            for j in 0..d {
                cov[(i, j)] *= keep;
            }
            cov[(i, i)] += reg.rho * reg.target[i];
        }
    }
    let factor = Cholesky::new(cov.as_ref()).ok()?;
    factor.log_det().is_finite().then(|| Estimate {
        mean,
        factor,
        support: idx.to_vec(),
        steps: 0,
    })
}

/// The mean and maximum-likelihood scatter of rows `idx` (ascending) of `x`,
/// in `f64`, centred on the mean (two passes: no cancellation).
pub(super) fn moments<T: Scalar>(x: MatRef<'_, T>, idx: &[usize]) -> (Vec<f64>, Mat<f64>) {
    let d = x.ncols();
    let count = idx.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| idx.iter().map(|&i| x[(i, j)].as_f64()).sum::<f64>() / count)
        .collect();
    // Blocks of centred rows, one matrix product each, summed in order.
    const BLOCK: usize = 256;
    let mut cov = Mat::<f64>::zeros(d, d);
    let mut block = Mat::<f64>::zeros(BLOCK, d);
    for rows in idx.chunks(BLOCK) {
        let m = rows.len();
        for j in 0..d {
            for (r, &i) in rows.iter().enumerate() {
                block[(r, j)] = x[(i, j)].as_f64() - mean[j];
            }
        }
        let b = block.as_ref().subrows(0, m);
        faer::linalg::matmul::matmul(
            cov.as_mut(),
            faer::Accum::Add,
            b.transpose(),
            b,
            1.0 / count,
            faer::Par::Seq,
        );
    }
    (mean, cov)
}

/// Squared Mahalanobis distances of every row of `x` under `e`, computed in
/// `T` by the mixtures' block kernel, in parallel over fixed chunks of rows.
pub(super) fn sq_distances<T: Scalar>(x: MatRef<'_, T>, e: &Estimate, out: &mut [f64]) {
    let d = x.ncols();
    let l_inv = e.factor.l_inv();
    let l_inv = Mat::from_fn(d, d, |i, j| T::c(l_inv[(i, j)]));
    let mean: Vec<T> = e.mean.iter().map(|&m| T::c(m)).collect();
    out.par_chunks_mut(CHUNK_ROWS).enumerate().for_each_init(
        || {
            (
                vec![T::zero(); maha_work_len(CHUNK_ROWS, d)],
                vec![T::zero(); CHUNK_ROWS],
            )
        },
        |(work, tmp), (c, o)| {
            let start = c * CHUNK_ROWS;
            let rows = x.subrows(start, o.len());
            sq_mahalanobis_block(rows, &mean, l_inv.as_ref(), work, &mut tmp[..o.len()]);
            for (o, t) in o.iter_mut().zip(tmp.iter()) {
                *o = t.as_f64();
            }
        },
    );
}
