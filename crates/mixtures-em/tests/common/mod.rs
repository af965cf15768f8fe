//! Helpers shared by the EM integration tests: seeded data, conversions between
//! `f64` reference values and the scalar under test, and model checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use faer::{Mat, Side};
use mixtures_core::{Cholesky, Dataset, Scalar};
use mixtures_dist::{
    Covariances, Gaussian, GaussianMixtureModel, LaplaceMixtureModel, LaplaceScales, Mixture,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * core::f64::consts::PI * u2).cos()
}

/// A standard Laplace draw (scale 1).
pub fn laplace(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.random::<f64>() - 0.5;
    -u.signum() * (1.0 - 2.0 * u.abs()).max(1e-300).ln()
}

/// Isotropic Gaussian blobs: `n[c]` points around `centers[c]` with standard
/// deviation `sd[c]`, cluster after cluster. Returns the rows and labels.
pub fn blobs(
    seed: u64,
    centers: &[Vec<f64>],
    sd: &[f64],
    n: &[usize],
) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut r = rng(seed);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (c, ctr) in centers.iter().enumerate() {
        for _ in 0..n[c] {
            rows.push(ctr.iter().map(|&m| m + sd[c] * normal(&mut r)).collect());
            labels.push(c);
        }
    }
    (rows, labels)
}

/// Rows with correlated features: `x = offset + A z`, `z` standard normal.
pub fn correlated(seed: u64, n: usize, offset: &[f64], a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut r = rng(seed);
    let d = offset.len();
    (0..n)
        .map(|_| {
            let z: Vec<f64> = (0..d).map(|_| normal(&mut r)).collect();
            (0..d)
                .map(|i| offset[i] + (0..d).map(|j| a[i][j] * z[j]).sum::<f64>())
                .collect()
        })
        .collect()
}

/// Rounds `f64` rows to `T`.
pub fn to_t<T: Scalar>(rows: &[Vec<f64>]) -> Vec<Vec<T>> {
    rows.iter()
        .map(|r| r.iter().map(|&v| T::c(v)).collect())
        .collect()
}

/// The rows as `T`, widened back to `f64` (what the fit actually sees).
pub fn seen<T: Scalar>(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|r| r.iter().map(|&v| T::c(v).as_f64()).collect())
        .collect()
}

/// A data set of `T` from `f64` rows.
pub fn dataset<T: Scalar>(rows: &[Vec<f64>]) -> Dataset<T> {
    Dataset::from_rows(&to_t::<T>(rows)).unwrap()
}

/// A weighted data set of `T` from `f64` rows and weights.
pub fn weighted<T: Scalar>(rows: &[Vec<f64>], w: &[f64]) -> Dataset<T> {
    dataset::<T>(rows)
        .with_weights(w.iter().map(|&v| T::c(v)).collect())
        .unwrap()
}

/// Machine epsilon of `T` as `f64`.
pub fn eps<T: Scalar>() -> f64 {
    T::epsilon().as_f64()
}

/// `K x D` matrix of `T` from `f64` rows.
pub fn mat<T: Scalar>(rows: &[Vec<f64>]) -> Mat<T> {
    Mat::from_fn(rows.len(), rows[0].len(), |i, j| T::c(rows[i][j]))
}

/// A `T` matrix widened to `f64`.
pub fn widen<T: Scalar>(m: faer::MatRef<'_, T>) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].as_f64())
}

/// Rows of a `T` matrix as `f64`.
pub fn rows_of<T: Scalar>(m: faer::MatRef<'_, T>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)].as_f64()).collect())
        .collect()
}

/// Weighted mean of the rows.
pub fn weighted_mean(rows: &[Vec<f64>], w: &[f64]) -> Vec<f64> {
    let d = rows[0].len();
    let tw: f64 = w.iter().sum();
    (0..d)
        .map(|j| rows.iter().zip(w).map(|(r, w)| w * r[j]).sum::<f64>() / tw)
        .collect()
}

/// Weighted biased (maximum-likelihood) covariance of the rows.
pub fn weighted_cov(rows: &[Vec<f64>], w: &[f64]) -> Mat<f64> {
    let d = rows[0].len();
    let m = weighted_mean(rows, w);
    let tw: f64 = w.iter().sum();
    Mat::from_fn(d, d, |a, b| {
        rows.iter()
            .zip(w)
            .map(|(r, w)| w * (r[a] - m[a]) * (r[b] - m[b]))
            .sum::<f64>()
            / tw
    })
}

/// Largest absolute entry of a matrix.
pub fn max_abs(m: &Mat<f64>) -> f64 {
    let mut v = 0.0f64;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            v = v.max(m[(i, j)].abs());
        }
    }
    v
}

/// Largest absolute difference of two matrices of the same shape.
pub fn max_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()), "shapes");
    let mut v = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            v = v.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    v
}

/// Largest absolute difference of two slices of the same length.
pub fn max_diff_slice(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths");
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

/// Eigenvalues (ascending) of a symmetric `f64` matrix.
pub fn eigenvalues(m: &Mat<f64>) -> Vec<f64> {
    m.self_adjoint_eigenvalues(Side::Lower).unwrap()
}

/// The dense covariance matrix of every component, widened to `f64`.
pub fn cov_matrices<T: Scalar>(model: &GaussianMixtureModel<T>) -> Vec<Mat<f64>> {
    (0..model.n_components())
        .map(|k| widen(model.components().covariance_matrix(k).as_ref()))
        .collect()
}

/// Means as `f64` rows.
pub fn means<T: Scalar>(model: &GaussianMixtureModel<T>) -> Vec<Vec<f64>> {
    rows_of(model.components().means())
}

/// Weights as `f64`.
pub fn weights<T: Scalar>(w: &[T]) -> Vec<f64> {
    w.iter().map(|v| v.as_f64()).collect()
}

/// Every covariance parameter, flattened, as `f64`.
pub fn flat_cov<T: Scalar>(c: &Covariances<T>) -> Vec<f64> {
    let m = |a: &Mat<T>| -> Vec<f64> {
        (0..a.nrows())
            .flat_map(|i| (0..a.ncols()).map(move |j| a[(i, j)].as_f64()))
            .collect()
    };
    match c {
        Covariances::Full(v) => v.iter().flat_map(m).collect(),
        Covariances::Tied(a) | Covariances::Diag(a) => m(a),
        Covariances::Spherical(v) => v.iter().map(|x| x.as_f64()).collect(),
    }
}

/// Every Laplace scale, flattened, as `f64`.
pub fn flat_scales<T: Scalar>(s: &LaplaceScales<T>) -> Vec<f64> {
    match s {
        LaplaceScales::PerDimension(b) => (0..b.nrows())
            .flat_map(|i| (0..b.ncols()).map(move |j| b[(i, j)].as_f64()))
            .collect(),
        LaplaceScales::Spherical(b) => b.iter().map(|x| x.as_f64()).collect(),
    }
}

/// Checks that a Gaussian mixture is well formed: every parameter finite,
/// weights positive and summing to one, every covariance exactly symmetric and
/// positive definite (our own Cholesky, with its conditioning check, accepts it,
/// and its eigenvalues are positive).
pub fn assert_valid_gaussian<T: Scalar>(model: &GaussianMixtureModel<T>) {
    let w = weights(model.weights());
    assert!(
        w.iter().all(|v| v.is_finite() && *v >= 0.0),
        "weights {w:?}"
    );
    let s: f64 = w.iter().sum();
    assert!(
        (s - 1.0).abs() < 1e3 * eps::<T>(),
        "weights sum to {s}, not 1: {w:?}"
    );
    for row in means(model) {
        assert!(row.iter().all(|v| v.is_finite()), "non-finite mean {row:?}");
    }
    match model.components().covariances() {
        Covariances::Full(v) => v.iter().enumerate().for_each(|(k, a)| check_spd(a, k)),
        Covariances::Tied(a) => check_spd(a, usize::MAX),
        Covariances::Diag(v) => {
            for k in 0..v.nrows() {
                for j in 0..v.ncols() {
                    let x = v[(k, j)].as_f64();
                    assert!(x.is_finite() && x > 0.0, "variance ({k}, {j}) = {x}");
                }
            }
        }
        Covariances::Spherical(v) => {
            for (k, x) in v.iter().enumerate() {
                let x = x.as_f64();
                assert!(x.is_finite() && x > 0.0, "variance {k} = {x}");
            }
        }
    }
}

fn check_spd<T: Scalar>(a: &Mat<T>, k: usize) {
    let d = a.nrows();
    for i in 0..d {
        for j in 0..d {
            assert!(
                a[(i, j)].is_finite(),
                "component {k}: non-finite covariance"
            );
            assert_eq!(
                a[(i, j)],
                a[(j, i)],
                "component {k}: covariance not symmetric at ({i}, {j})"
            );
        }
    }
    assert!(
        Cholesky::new(a.as_ref()).is_ok(),
        "component {k}: covariance not positive definite"
    );
    let ev = eigenvalues(&widen(a.as_ref()));
    assert!(ev[0] > 0.0, "component {k}: eigenvalues {ev:?}");
}

/// Checks that a Laplace mixture is well formed: finite locations, positive
/// finite scales, weights summing to one.
pub fn assert_valid_laplace<T: Scalar>(model: &LaplaceMixtureModel<T>) {
    let w = weights(model.weights());
    assert!(
        w.iter().all(|v| v.is_finite() && *v >= 0.0),
        "weights {w:?}"
    );
    let s: f64 = w.iter().sum();
    assert!(
        (s - 1.0).abs() < 1e3 * eps::<T>(),
        "weights sum to {s}, not 1"
    );
    let loc = widen(model.components().locations());
    assert!(max_abs(&loc).is_finite(), "non-finite location");
    for b in flat_scales(model.components().scales()) {
        assert!(b.is_finite() && b > 0.0, "scale {b}");
    }
}

/// Asserts that the trace never decreases by more than `tol(value)`, skipping
/// the steps after iterations listed in `skip` (M-steps that re-seeded or
/// dropped a component, where the likelihood may legitimately fall).
pub fn assert_non_decreasing(trace: &[f64], skip: &[usize], tol: impl Fn(f64) -> f64, what: &str) {
    for (i, w) in trace.windows(2).enumerate() {
        // trace[i] is the E-step of iteration i + 1; its M-step builds the model
        // that trace[i + 1] evaluates.
        if skip.contains(&(i + 1)) {
            continue;
        }
        assert!(
            w[1] >= w[0] - tol(w[0]),
            "{what}: lower bound fell from {} to {} (by {:e}) at iteration {}; trace {trace:?}",
            w[0],
            w[1],
            w[0] - w[1],
            i + 2
        );
    }
}

/// Greedy matching of fitted rows to true rows: for each true row, the distance
/// to the nearest fitted row not yet taken; returns the largest such distance
/// and the permutation (true index -> fitted index).
pub fn match_rows(fitted: &[Vec<f64>], truth: &[Vec<f64>]) -> (f64, Vec<usize>) {
    assert_eq!(fitted.len(), truth.len(), "number of components");
    let dist = |a: &[f64], b: &[f64]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    };
    let mut taken = vec![false; fitted.len()];
    let mut perm = Vec::with_capacity(truth.len());
    let mut worst = 0.0f64;
    for t in truth {
        let (best, d) = fitted
            .iter()
            .enumerate()
            .filter(|(i, _)| !taken[*i])
            .map(|(i, f)| (i, dist(f, t)))
            .fold(
                (usize::MAX, f64::INFINITY),
                |a, b| if b.1 < a.1 { b } else { a },
            );
        taken[best] = true;
        perm.push(best);
        worst = worst.max(d);
    }
    (worst, perm)
}

/// A Gaussian mixture from `f64` parameters.
pub fn gaussian_model<T: Scalar>(
    w: &[f64],
    means: &[Vec<f64>],
    cov: Covariances<T>,
) -> GaussianMixtureModel<T> {
    let g = Gaussian::new(mat::<T>(means), cov).unwrap();
    Mixture::new(w.iter().map(|&v| T::c(v)).collect(), g).unwrap()
}

/// Spherical covariances of `T` from `f64` variances.
pub fn spherical<T: Scalar>(v: &[f64]) -> Covariances<T> {
    Covariances::Spherical(v.iter().map(|&x| T::c(x)).collect())
}

/// Lower Cholesky factor of a small symmetric positive-definite `f64` matrix.
pub fn chol(a: &Mat<f64>) -> Mat<f64> {
    let d = a.nrows();
    let mut l = Mat::<f64>::zeros(d, d);
    for j in 0..d {
        let s: f64 = (0..j).map(|p| l[(j, p)] * l[(j, p)]).sum();
        let pivot = a[(j, j)] - s;
        assert!(pivot > 0.0, "chol: matrix not positive definite");
        l[(j, j)] = pivot.sqrt();
        for i in j + 1..d {
            let s: f64 = (0..j).map(|p| l[(i, p)] * l[(j, p)]).sum();
            l[(i, j)] = (a[(i, j)] - s) / l[(j, j)];
        }
    }
    l
}

/// Weighted mean Gaussian log-density of the rows under `N(mean, cov)`, in `f64`.
pub fn gauss_mean_loglik(rows: &[Vec<f64>], w: &[f64], mean: &[f64], cov: &Mat<f64>) -> f64 {
    let d = mean.len();
    let l = chol(cov);
    let log_det: f64 = (0..d).map(|j| 2.0 * l[(j, j)].ln()).sum();
    let tw: f64 = w.iter().sum();
    let mut acc = 0.0;
    for (r, &wi) in rows.iter().zip(w) {
        // Forward substitution: y = L⁻¹ (x − μ).
        let mut y = vec![0.0; d];
        for i in 0..d {
            let s: f64 = (0..i).map(|p| l[(i, p)] * y[p]).sum();
            y[i] = (r[i] - mean[i] - s) / l[(i, i)];
        }
        let m: f64 = y.iter().map(|v| v * v).sum();
        acc += wi * -0.5 * (d as f64 * mixtures_core::LN_2PI + log_det + m);
    }
    acc / tw
}

/// Index of the row nearest to `p`.
pub fn nearest_row(rows: &[Vec<f64>], p: &[f64]) -> usize {
    let d2 = |r: &Vec<f64>| r.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
    (0..rows.len())
        .min_by(|&a, &b| d2(&rows[a]).total_cmp(&d2(&rows[b])))
        .unwrap()
}
