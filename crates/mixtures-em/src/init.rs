//! Initialization: starting responsibilities for the first M-step.

use faer::{Mat, MatRef};
use mixtures_core::par::{leaves, tree_reduce};
use mixtures_core::{CHUNK_ROWS, Dataset, Scalar};
use rand::Rng;
use rand::rngs::StdRng;
use rayon::prelude::*;

/// How the starting point of each restart is chosen (user-given parameters are a
/// warm start: see `fit_from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Init {
    /// k-means++ seeding followed by Lloyd's k-means (scikit-learn's `"kmeans"`):
    /// hard assignments to the final clusters.
    #[default]
    KMeans,
    /// k-means++ seeding alone (`"k-means++"`): hard assignments to the nearest seed.
    KMeansPlusPlus,
    /// Random responsibilities, uniform then normalized per row (`"random"`).
    RandomResponsibilities,
    /// `K` distinct random points as centres, each point assigned to the nearest
    /// (scikit-learn's `"random_from_data"` gives only the chosen points a
    /// responsibility; assigning all of them gives a usable first M-step).
    RandomPoints,
}

/// Most Lloyd iterations of the k-means initialization.
const LLOYD_MAX_ITER: usize = 100;

/// Squared distances of the rows `start..start + out.len()` to `c`, into
/// `out`. Column by column (the data are column-major: reading a row walks
/// `d` cache lines), each row's sum still taken over `j = 0, 1, ...` in
/// order, so every distance has the bits a row-wise sum gives.
fn sq_dists<T: Scalar>(x: MatRef<'_, T>, start: usize, c: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    let m = out.len();
    for (j, &cj) in c.iter().enumerate() {
        match mixtures_core::kernels::col_slice(x, j) {
            Some(col) => {
                for (a, v) in out.iter_mut().zip(&col[start..start + m]) {
                    let z = v.as_f64() - cj;
                    *a += z * z;
                }
            }
            None => {
                for (r, a) in out.iter_mut().enumerate() {
                    let z = x[(start + r, j)].as_f64() - cj;
                    *a += z * z;
                }
            }
        }
    }
}

/// Index drawn with probability proportional to `p` (all `p >= 0`, positive sum).
fn draw(p: &[f64], rng: &mut StdRng) -> usize {
    let total: f64 = p.iter().sum();
    let u = rng.random::<f64>() * total;
    let mut acc = 0.0;
    let mut last_pos = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > 0.0 {
            acc += v;
            last_pos = i;
            if acc > u {
                return i;
            }
        }
    }
    last_pos
}

fn weight<T: Scalar>(data: &Dataset<T>, i: usize) -> f64 {
    data.weights().map_or(1.0, |w| w[i].as_f64())
}

/// k-means++ seeds (row-major `K x D`, in f64).
fn kmeans_pp<T: Scalar>(data: &Dataset<T>, k: usize, rng: &mut StdRng) -> Vec<Vec<f64>> {
    let x = data.view();
    let (n, d) = (x.nrows(), x.ncols());
    let w: Vec<f64> = (0..n).map(|i| weight(data, i)).collect();
    let row = |i: usize| (0..d).map(|j| x[(i, j)].as_f64()).collect::<Vec<f64>>();
    let mut centers = vec![row(draw(&w, rng))];
    let mut d2 = vec![0.0; n];
    d2.par_chunks_mut(CHUNK_ROWS)
        .enumerate()
        .for_each(|(b, out)| sq_dists(x, b * CHUNK_ROWS, &centers[0], out));
    while centers.len() < k {
        let p: Vec<f64> = d2.iter().zip(&w).map(|(a, b)| a * b).collect();
        let i = if p.iter().any(|&v| v > 0.0) {
            draw(&p, rng)
        } else {
            draw(&w, rng)
        };
        let c = row(i);
        d2.par_chunks_mut(CHUNK_ROWS)
            .enumerate()
            .for_each(|(b, out)| {
                let mut acc = vec![0.0; out.len()];
                sq_dists(x, b * CHUNK_ROWS, &c, &mut acc);
                for (v, a) in out.iter_mut().zip(&acc) {
                    *v = v.min(*a);
                }
            });
        centers.push(c);
    }
    centers
}

fn assign<T: Scalar>(x: MatRef<'_, T>, centers: &[Vec<f64>], labels: &mut [usize]) {
    labels
        .par_chunks_mut(CHUNK_ROWS)
        .enumerate()
        .for_each(|(b, out)| {
            let start = b * CHUNK_ROWS;
            let m = out.len();
            let mut best = vec![f64::INFINITY; m];
            let mut acc = vec![0.0f64; m];
            out.fill(0);
            for (c, ctr) in centers.iter().enumerate() {
                sq_dists(x, start, ctr, &mut acc);
                for r in 0..m {
                    if acc[r] < best[r] {
                        best[r] = acc[r];
                        out[r] = c;
                    }
                }
            }
        });
}

/// Lloyd's iterations from the given centres; returns the final centres.
fn lloyd<T: Scalar>(data: &Dataset<T>, mut centers: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let x = data.view();
    let (n, d) = (x.nrows(), x.ncols());
    let k = centers.len();
    // scikit-learn's tolerance: 1e-4 times the mean feature variance.
    let mean_var = (0..d)
        .map(|j| {
            let col = data.column(j);
            let m = col.iter().map(|v| v.as_f64()).sum::<f64>() / n as f64;
            col.iter().map(|v| (v.as_f64() - m).powi(2)).sum::<f64>() / n as f64
        })
        .sum::<f64>()
        / d as f64;
    let tol = 1e-4 * mean_var;
    let mut labels = vec![0usize; n];
    let (rows, n_leaves) = leaves(n);
    for _ in 0..LLOYD_MAX_ITER {
        assign(x, &centers, &mut labels);
        let (sums, counts) = tree_reduce(
            n_leaves,
            &|l| {
                let mut sums = vec![vec![0.0f64; d]; k];
                let mut counts = vec![0.0f64; k];
                let leaf = l * rows..((l + 1) * rows).min(n);
                for i in leaf.clone() {
                    counts[labels[i]] += weight(data, i);
                }
                // Column by column (as `sq_dists`); each sum still adds
                // its rows in increasing order.
                for j in 0..d {
                    for i in leaf.clone() {
                        sums[labels[i]][j] += weight(data, i) * x[(i, j)].as_f64();
                    }
                }
                (sums, counts)
            },
            &|a: &mut (Vec<Vec<f64>>, Vec<f64>), b| {
                for (sa, sb) in a.0.iter_mut().zip(&b.0) {
                    for (u, v) in sa.iter_mut().zip(sb) {
                        *u += v;
                    }
                }
                for (u, v) in a.1.iter_mut().zip(&b.1) {
                    *u += v;
                }
            },
        );
        let mut shift = 0.0;
        for c in 0..k {
            // An empty cluster keeps its centre.
            if counts[c] > 0.0 {
                let new: Vec<f64> = sums[c].iter().map(|s| s / counts[c]).collect();
                shift += new
                    .iter()
                    .zip(&centers[c])
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>();
                centers[c] = new;
            }
        }
        if shift <= tol {
            break;
        }
    }
    centers
}

/// Every row's label: its nearest centre.
fn labels<T: Scalar>(x: MatRef<'_, T>, centers: &[Vec<f64>]) -> Vec<usize> {
    let mut labels = vec![0; x.nrows()];
    assign(x, centers, &mut labels);
    labels
}

/// The centres of a start drawn from `sample` (k-means, k-means++ or random
/// rows, as [`initial_responsibilities`] draws them), for a fit that then
/// assigns every row to its nearest centre; `None` for
/// [`Init::RandomResponsibilities`], which has no centres.
pub(crate) fn initial_centers<T: Scalar>(
    init: Init,
    sample: &Dataset<T>,
    k: usize,
    rng: &mut StdRng,
) -> Option<Vec<Vec<f64>>> {
    match init {
        Init::KMeans => Some(lloyd(sample, kmeans_pp(sample, k, rng))),
        Init::KMeansPlusPlus => Some(kmeans_pp(sample, k, rng)),
        Init::RandomPoints => Some(random_points(sample, k, rng)),
        Init::RandomResponsibilities => None,
    }
}

/// One-hot responsibilities of the rows for their nearest centre.
pub(crate) fn nearest_one_hot<T: Scalar>(x: MatRef<'_, T>, centers: &[Vec<f64>]) -> Mat<T> {
    one_hot(&labels(x, centers), centers.len())
}

/// `K` distinct rows drawn at random (by weight), fewer when the rows have
/// fewer distinct values.
fn random_points<T: Scalar>(data: &Dataset<T>, k: usize, rng: &mut StdRng) -> Vec<Vec<f64>> {
    let x = data.view();
    let (n, d) = (x.nrows(), x.ncols());
    let mut w: Vec<f64> = (0..n).map(|i| weight(data, i)).collect();
    let mut centers: Vec<Vec<f64>> = Vec::with_capacity(k);
    while centers.len() < k && w.iter().any(|&v| v > 0.0) {
        let i = draw(&w, rng);
        w[i] = 0.0;
        let c: Vec<f64> = (0..d).map(|j| x[(i, j)].as_f64()).collect();
        if !centers.contains(&c) {
            centers.push(c);
        }
    }
    centers
}

fn one_hot<T: Scalar>(labels: &[usize], k: usize) -> Mat<T> {
    Mat::from_fn(labels.len(), k, |i, c| {
        if labels[i] == c { T::one() } else { T::zero() }
    })
}

/// Starting responsibilities (`n x K`) for one restart.
pub fn initial_responsibilities<T: Scalar>(
    init: Init,
    data: &Dataset<T>,
    k: usize,
    rng: &mut StdRng,
) -> Mat<T> {
    let x = data.view();
    let n = x.nrows();
    match init {
        Init::KMeans => one_hot(&labels(x, &lloyd(data, kmeans_pp(data, k, rng))), k),
        Init::KMeansPlusPlus => one_hot(&labels(x, &kmeans_pp(data, k, rng)), k),
        Init::RandomResponsibilities => {
            let mut r = Mat::<T>::zeros(n, k);
            for i in 0..n {
                let u: Vec<f64> = (0..k).map(|_| rng.random::<f64>()).collect();
                let s: f64 = u.iter().sum();
                for (c, v) in u.iter().enumerate() {
                    r[(i, c)] = T::c(v / s);
                }
            }
            r
        }
        Init::RandomPoints => one_hot(&labels(x, &random_points(data, k, rng)), k),
    }
}
