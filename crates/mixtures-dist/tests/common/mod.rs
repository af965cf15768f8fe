//! Shared helpers of the mixtures-dist integration tests: seeded random models of
//! every family and covariance type, and a naive f64 reference implementation of
//! their densities that shares no code with the library.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop
)]

use faer::Mat;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{
    Covariance, Covariances, Gaussian, GaussianMixtureModel, Laplace, LaplaceMixtureModel,
    LaplaceScales, Mixture,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Machine epsilon of `T`, as f64.
pub fn eps<T: Scalar>() -> f64 {
    T::epsilon().as_f64()
}

/// Asserts `|a − b| <= tol` with a message.
#[track_caller]
pub fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol,
        "{what}: got {a}, want {b} (diff {:e} > tol {tol:e})",
        (a - b).abs()
    );
}

/// Every component family the tests cover.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    /// Gaussian with the given covariance type.
    Gauss(Covariance),
    /// Laplace with a scale per dimension.
    LaplaceDiag,
    /// Laplace with one scale per component.
    LaplaceSpherical,
}

pub const FAMILIES: [Family; 6] = [
    Family::Gauss(Covariance::Full),
    Family::Gauss(Covariance::Diag),
    Family::Gauss(Covariance::Spherical),
    Family::Gauss(Covariance::Tied),
    Family::LaplaceDiag,
    Family::LaplaceSpherical,
];

/// A model of either family, so that tests can loop over all of them.
#[derive(Debug, Clone)]
pub enum Model<T: Scalar> {
    G(GaussianMixtureModel<T>),
    L(LaplaceMixtureModel<T>),
}

macro_rules! both {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            Model::G($m) => $e,
            Model::L($m) => $e,
        }
    };
}

impl<T: Scalar> Model<T> {
    pub fn log_prob(&self, x: &Dataset<T>) -> Vec<T> {
        both!(self, m => m.log_prob(x).unwrap())
    }
    pub fn responsibilities(&self, x: &Dataset<T>) -> Mat<T> {
        both!(self, m => m.responsibilities(x).unwrap())
    }
    pub fn log_prob_and_responsibilities(&self, x: &Dataset<T>) -> (Vec<T>, Mat<T>) {
        both!(self, m => m.log_prob_and_responsibilities(x).unwrap())
    }
    pub fn weighted_log_prob(&self, x: &Dataset<T>) -> Mat<T> {
        both!(self, m => m.weighted_log_prob(x).unwrap())
    }
    pub fn predict(&self, x: &Dataset<T>) -> Vec<usize> {
        both!(self, m => m.predict(x).unwrap())
    }
    pub fn log_prob_and_predict(&self, x: &Dataset<T>) -> (Vec<T>, Vec<usize>) {
        both!(self, m => m.log_prob_and_predict(x).unwrap())
    }
    pub fn sample(&self, n: usize, seed: u64) -> (Mat<T>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        both!(self, m => m.sample(n, &mut rng))
    }
    pub fn weights(&self) -> &[T] {
        both!(self, m => m.weights())
    }
    pub fn dim(&self) -> usize {
        both!(self, m => m.dim())
    }
    pub fn n_components(&self) -> usize {
        both!(self, m => m.n_components())
    }
    /// The naive reference of this model, read from its (validated) parameters.
    pub fn naive(&self) -> Naive {
        match self {
            Model::G(m) => Naive::from_gaussian(m),
            Model::L(m) => Naive::from_laplace(m),
        }
    }
}

/// A symmetric positive-definite `d x d` matrix `B Bᵀ / d + ridge I`, with
/// entries rounded to the precision they will be used in.
pub fn random_spd(rng: &mut StdRng, d: usize, ridge: f64) -> Vec<Vec<f64>> {
    let b: Vec<Vec<f64>> = (0..d)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    (0..d)
        .map(|i| {
            (0..d)
                .map(|j| {
                    let s: f64 = (0..d).map(|k| b[i][k] * b[j][k]).sum::<f64>() / d as f64;
                    s + if i == j { ridge } else { 0.0 }
                })
                .collect()
        })
        .collect()
}

pub fn to_mat<T: Scalar>(a: &[Vec<f64>]) -> Mat<T> {
    Mat::from_fn(a.len(), a[0].len(), |i, j| T::c(a[i][j]))
}

/// Random positive weights summing to one (in f64; `Mixture::new` renormalizes
/// the rounding of `T`).
pub fn random_weights(rng: &mut StdRng, k: usize) -> Vec<f64> {
    let w: Vec<f64> = (0..k).map(|_| rng.random_range(0.2..1.0)).collect();
    let s: f64 = w.iter().sum();
    w.iter().map(|v| v / s).collect()
}

/// A random model of the given family: `k` components in `d` dimensions, means in
/// `[-3, 3]`, covariances with eigenvalues at least `0.3`, scales in `[0.4, 2]`.
pub fn random_model<T: Scalar>(family: Family, k: usize, d: usize, seed: u64) -> Model<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    let w: Vec<T> = random_weights(&mut rng, k).into_iter().map(T::c).collect();
    let means = Mat::<T>::from_fn(k, d, |_, _| T::c(rng.random_range(-3.0..3.0)));
    match family {
        Family::Gauss(ct) => {
            let covs = match ct {
                Covariance::Full => Covariances::Full(
                    (0..k)
                        .map(|_| to_mat(&random_spd(&mut rng, d, 0.3)))
                        .collect(),
                ),
                Covariance::Diag => {
                    Covariances::Diag(Mat::from_fn(k, d, |_, _| T::c(rng.random_range(0.3..3.0))))
                }
                Covariance::Spherical => Covariances::Spherical(
                    (0..k).map(|_| T::c(rng.random_range(0.3..3.0))).collect(),
                ),
                _ => Covariances::Tied(to_mat(&random_spd(&mut rng, d, 0.3))),
            };
            Model::G(Mixture::new(w, Gaussian::new(means, covs).unwrap()).unwrap())
        }
        Family::LaplaceDiag => {
            let b = Mat::<T>::from_fn(k, d, |_, _| T::c(rng.random_range(0.4..2.0)));
            Model::L(Mixture::new(w, Laplace::per_dimension(means, b).unwrap()).unwrap())
        }
        Family::LaplaceSpherical => {
            let b = (0..k).map(|_| T::c(rng.random_range(0.4..2.0))).collect();
            Model::L(Mixture::new(w, Laplace::spherical(means, b).unwrap()).unwrap())
        }
    }
}

/// `n x d` points uniform in `[lo, hi]`, rounded to `T`.
pub fn random_points<T: Scalar>(n: usize, d: usize, lo: f64, hi: f64, seed: u64) -> Dataset<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    let raw: Vec<T> = (0..n * d).map(|_| T::c(rng.random_range(lo..hi))).collect();
    Dataset::from_row_major(&raw, n, d).unwrap()
}

/// A row of a data set as f64.
pub fn row<T: Scalar>(x: &Dataset<T>, i: usize) -> Vec<f64> {
    (0..x.n_features())
        .map(|j| x.view()[(i, j)].as_f64())
        .collect()
}

/// One component of the naive reference.
#[derive(Debug, Clone)]
pub enum NaiveComp {
    Gauss { mean: Vec<f64>, cov: Vec<Vec<f64>> },
    Laplace { loc: Vec<f64>, scale: Vec<f64> },
}

/// Textbook Cholesky in f64 (no pivoting, no blocking).
pub fn naive_cholesky(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = a.len();
    let mut l = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                l[i][i] = (a[i][i] - s).sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    l
}

impl NaiveComp {
    pub fn log_pdf(&self, x: &[f64]) -> f64 {
        match self {
            NaiveComp::Gauss { mean, cov } => {
                let d = x.len();
                let l = naive_cholesky(cov);
                // Forward substitution: z = L⁻¹ (x − μ).
                let mut z = vec![0.0; d];
                for i in 0..d {
                    let s: f64 = (0..i).map(|k| l[i][k] * z[k]).sum();
                    z[i] = (x[i] - mean[i] - s) / l[i][i];
                }
                let q: f64 = z.iter().map(|v| v * v).sum();
                let log_det: f64 = 2.0 * (0..d).map(|i| l[i][i].ln()).sum::<f64>();
                -0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det + q)
            }
            NaiveComp::Laplace { loc, scale } => x
                .iter()
                .zip(loc)
                .zip(scale)
                .map(|((x, m), b)| -(2.0 * b).ln() - (x - m).abs() / b)
                .sum(),
        }
    }
}

/// The naive reference of a mixture.
#[derive(Debug, Clone)]
pub struct Naive {
    pub weights: Vec<f64>,
    pub comps: Vec<NaiveComp>,
}

impl Naive {
    pub fn from_gaussian<T: Scalar>(m: &GaussianMixtureModel<T>) -> Self {
        let g = m.components();
        let d = m.dim();
        let comps = (0..m.n_components())
            .map(|k| {
                let c = g.covariance_matrix(k);
                NaiveComp::Gauss {
                    mean: g.mean(k).iter().map(|v| v.as_f64()).collect(),
                    cov: (0..d)
                        .map(|i| (0..d).map(|j| c[(i, j)].as_f64()).collect())
                        .collect(),
                }
            })
            .collect();
        Self {
            weights: m.weights().iter().map(|w| w.as_f64()).collect(),
            comps,
        }
    }

    pub fn from_laplace<T: Scalar>(m: &LaplaceMixtureModel<T>) -> Self {
        let l = m.components();
        let d = m.dim();
        let comps = (0..m.n_components())
            .map(|k| NaiveComp::Laplace {
                loc: l.location(k).iter().map(|v| v.as_f64()).collect(),
                scale: match l.scales() {
                    LaplaceScales::PerDimension(b) => (0..d).map(|j| b[(k, j)].as_f64()).collect(),
                    LaplaceScales::Spherical(b) => vec![b[k].as_f64(); d],
                },
            })
            .collect();
        Self {
            weights: m.weights().iter().map(|w| w.as_f64()).collect(),
            comps,
        }
    }

    /// `ln Σₖ wₖ exp(ln pₖ(x))`, computed directly (no max shift): valid for
    /// moderate points only.
    pub fn log_prob(&self, x: &[f64]) -> f64 {
        self.weights
            .iter()
            .zip(&self.comps)
            .map(|(w, c)| w * c.log_pdf(x).exp())
            .sum::<f64>()
            .ln()
    }

    /// `P(k | x)`, directly.
    pub fn responsibilities(&self, x: &[f64]) -> Vec<f64> {
        let p: Vec<f64> = self
            .weights
            .iter()
            .zip(&self.comps)
            .map(|(w, c)| w * c.log_pdf(x).exp())
            .collect();
        let s: f64 = p.iter().sum();
        p.iter().map(|v| v / s).collect()
    }
}
