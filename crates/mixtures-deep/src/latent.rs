//! The mixture on the latent features, in tensors, for the training loss:
//! its parameters as the `γ`-weighted statistics of a batch (no EM), the
//! sample energy `E(z) = −ln Σₖ φₖ pₖ(z)` and the penalty on small
//! variances.
//!
//! Numerics: the energy is a log-sum-exp with the row maximum taken out; a
//! Gaussian's density goes through the Cholesky factor of `Σₖ + εI` (no
//! inverse, no determinant: `ln|Σ| = 2 Σ ln Lⱼⱼ`, the Mahalanobis distance by
//! forward substitution), computed entry by entry on `[K]`-shaped tensors so
//! the backward pass flows through it. The latent dimension is small (the
//! code plus two), so the `O(D³)` entry operations are few. A mixing weight
//! or component mass is floored at `TINY` before a logarithm or a division,
//! so an empty component contributes nothing instead of NaN.

use burn::tensor::Tensor;

use crate::config::LatentFamily;

/// Floor on masses and weights before a division or a logarithm.
const TINY: f32 = 1e-12;

/// `γ`-weighted statistics of a batch.
pub(crate) struct BatchMixture {
    /// `ln φₖ` (`[1, K]`).
    pub(crate) log_weight: Tensor<2>,
    /// Means (`[K, D]`).
    pub(crate) mean: Tensor<2>,
    /// Covariances plus jitter (`[K, D, D]`) or Laplace scales plus jitter
    /// (`[K, D]` reshaped to `[K, D, 1]`).
    pub(crate) spread: Tensor<3>,
    family: LatentFamily,
}

/// The batch's mixture from memberships `gamma` (`[N, K]`) and features `z`
/// (`[N, D]`).
pub(crate) fn batch_mixture(
    gamma: Tensor<2>,
    z: Tensor<2>,
    family: LatentFamily,
    jitter: f32,
) -> BatchMixture {
    let [n, k] = gamma.dims();
    let d = z.dims()[1];
    let mass = gamma.clone().sum_dim(0); // [1, K]
    let log_weight = (mass.clone() / n as f32).clamp_min(TINY).log();
    let mass_col = mass.clamp_min(TINY).transpose(); // [K, 1]
    let mean = gamma.clone().transpose().matmul(z.clone()) / mass_col.clone();
    // [N, K, D]
    let centred = z.unsqueeze_dim::<3>(1) - mean.clone().unsqueeze_dim::<3>(0);
    let weighted = centred.clone() * gamma.unsqueeze_dim::<3>(2);
    let spread = match family {
        LatentFamily::Gaussian => {
            // Σₖ = Σₙ γₙₖ cₙₖ cₙₖᵀ / massₖ: [K, D, N] x [K, N, D].
            let scatter = weighted
                .permute([1, 2, 0])
                .matmul(centred.permute([1, 0, 2]));
            let eye = Tensor::<2>::eye(d, &mean.device())
                .mul_scalar(jitter)
                .unsqueeze_dim::<3>(0);
            scatter / mass_col.clone().unsqueeze_dim::<3>(2) + eye
        }
        LatentFamily::Laplace => {
            // bₖⱼ = Σₙ γₙₖ |cₙₖⱼ| / massₖ
            let abs = (weighted.abs()).sum_dim(0).reshape([k, d]);
            (abs / mass_col + jitter).unsqueeze_dim::<3>(2)
        }
    };
    BatchMixture {
        log_weight,
        mean,
        spread,
        family,
    }
}

/// Entry `(i, j)` of every component's `D x D` matrix, as `[K]`.
fn entry(m: &Tensor<3>, i: usize, j: usize) -> Tensor<1> {
    let k = m.dims()[0];
    m.clone().slice([0..k, i..i + 1, j..j + 1]).reshape([k])
}

impl BatchMixture {
    /// `ln φₖ + ln pₖ(zₙ)` for every row and component (`[N, K]`).
    pub(crate) fn log_joint(&self, z: Tensor<2>) -> Tensor<2> {
        let [n, d] = z.dims();
        let k = self.mean.dims()[0];
        let centred = z.unsqueeze_dim::<3>(1) - self.mean.clone().unsqueeze_dim::<3>(0);
        let log_norm = (2.0 * std::f32::consts::PI).ln();
        let log_p = match self.family {
            LatentFamily::Gaussian => {
                // Cholesky factor row by row: Lᵣⱼ = (Σᵣⱼ − Σᵢ<ⱼ Lᵣᵢ Lⱼᵢ) / Lⱼⱼ and
                // Lᵣᵣ = √(Σᵣᵣ − Σᵢ<ᵣ Lᵣᵢ²). The jitter keeps the radicand
                // positive for any covariance; the floor guards rounding.
                let device = self.mean.device();
                let mut chol: Vec<Vec<Tensor<1>>> = Vec::with_capacity(d);
                let mut log_det_half = Tensor::<1>::zeros([k], &device);
                for r in 0..d {
                    let mut row: Vec<Tensor<1>> = Vec::with_capacity(r + 1);
                    // `j` reaches `r`, one past the finished rows in `chol`
                    // (the diagonal of the row being built): not an iterator.
                    #[allow(clippy::needless_range_loop)]
                    for j in 0..=r {
                        let mut s = entry(&self.spread, r, j);
                        let other: &[Tensor<1>] = if j < r { &chol[j] } else { &row };
                        for (a, b) in row.iter().zip(other).take(j) {
                            s = s - a.clone() * b.clone();
                        }
                        let v = if j == r {
                            let v = s.clamp_min(TINY).sqrt();
                            log_det_half = log_det_half + v.clone().log();
                            v
                        } else {
                            s / chol[j][j].clone()
                        };
                        row.push(v);
                    }
                    chol.push(row);
                }
                // Forward substitution, y = L⁻¹ (z − μ), on [N, K] slices.
                let mut ys: Vec<Tensor<2>> = Vec::with_capacity(d);
                let mut maha = Tensor::<2>::zeros([n, k], &device);
                for (j, lrow) in chol.iter().enumerate() {
                    let mut s = centred
                        .clone()
                        .slice([0..n, 0..k, j..j + 1])
                        .reshape([n, k]);
                    for (y, l) in ys.iter().zip(lrow) {
                        s = s - y.clone() * l.clone().unsqueeze_dim::<2>(0);
                    }
                    let y = s / lrow[j].clone().unsqueeze_dim::<2>(0);
                    maha = maha + y.clone().powi_scalar(2);
                    ys.push(y);
                }
                maha.mul_scalar(-0.5)
                    - log_det_half.unsqueeze_dim::<2>(0)
                    - 0.5 * d as f32 * log_norm
            }
            LatentFamily::Laplace => {
                let b = self.spread.clone().reshape([k, d]); // [K, D]
                let dist = (centred.abs() / b.clone().unsqueeze_dim::<3>(0))
                    .sum_dim(2)
                    .reshape([n, k]);
                let log_norm = (b.mul_scalar(2.0)).log().sum_dim(1).transpose(); // [1, K]
                dist.neg() - log_norm
            }
        };
        log_p + self.log_weight.clone()
    }

    /// The sample energy `−ln Σₖ φₖ pₖ(z)` of every row (`[N]`).
    pub(crate) fn energy(&self, z: Tensor<2>) -> Tensor<1> {
        let lj = self.log_joint(z);
        let n = lj.dims()[0];
        // The maximum is a constant shift: no gradient through it is needed,
        // and it is taken on a detached copy (an operation in the graph that
        // the backward pass never reaches stays registered for good).
        let m = lj.clone().detach().max_dim(1);
        let lse = (lj - m.clone()).exp().sum_dim(1).log() + m;
        lse.reshape([n]).neg()
    }

    /// `Σₖ Σⱼ 1 / Σₖ[j,j]` (a Laplace's scales in place of the variances).
    pub(crate) fn penalty(&self) -> Tensor<1> {
        let [k, d, _] = self.spread.dims();
        let diag = match self.family {
            LatentFamily::Gaussian => {
                let eye = Tensor::<2>::eye(d, &self.mean.device()).unsqueeze_dim::<3>(0);
                (self.spread.clone() * eye).sum_dim(2).reshape([k, d])
            }
            LatentFamily::Laplace => self.spread.clone().reshape([k, d]),
        };
        diag.recip().sum()
    }
}
