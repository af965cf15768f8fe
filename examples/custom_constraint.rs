//! A covariance structure of your own: implement `CovarianceConstraint` and fit
//! with `.constraint(..)`.
//!
//! `cargo run --release --example custom_constraint`
//!
//! The structure here is "isotropic per block": the features fall into known
//! groups (say, the x/y/z readings of one sensor), and each component has one
//! variance per group, shared by that group's features, with no correlation.
//! It sits between `spherical` (one variance per component) and `diag` (one per
//! feature). When it is true, it needs fewer parameters than `diag` and so wins
//! on BIC.

use std::error::Error;

use mixtures::faer::{Mat, mat};
use mixtures::mixtures_em::MStepStats;
use mixtures::prelude::*;
use mixtures::{CovarianceConstraint, Covariances};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// One variance per component and block; `block[j]` is feature `j`'s block.
#[derive(Debug, Clone)]
struct BlockIsotropic {
    block: Vec<usize>,
    n_blocks: usize,
}

impl<T: Scalar> CovarianceConstraint<T> for BlockIsotropic {
    fn name(&self) -> String {
        format!("block-isotropic({} blocks)", self.n_blocks)
    }

    // Only the diagonal of each component's scatter is needed: far cheaper than
    // the full D x D scatter matrices.
    fn needs_full_scatter(&self) -> bool {
        false
    }

    // Maximum likelihood: a block's variance is its features' scatter summed,
    // divided by the component's weight times the block's size.
    fn estimate(&self, s: &MStepStats<T>) -> Result<Covariances<T>, FitError> {
        if s.prior.is_some() {
            // Keeping the example short: no MAP version of this structure.
            return Err(FitError::InvalidParameter {
                name: "prior",
                value: "conjugate".into(),
                reason: "block-isotropic covariances have no conjugate-prior estimate here",
            });
        }
        let (k, d) = (s.n_components(), s.dim());
        let mut size = vec![0usize; self.n_blocks];
        for &b in &self.block {
            size[b] += 1;
        }
        let mut var = Mat::<T>::zeros(k, self.n_blocks);
        for c in 0..k {
            for j in 0..d {
                var[(c, self.block[j])] += s.scatter_diag(c, j);
            }
            for b in 0..self.n_blocks {
                var[(c, b)] /= s.nk[c] * T::from_usize(size[b]);
            }
        }
        // Written as a diagonal covariance: the model file and every scorer
        // already know that shape. The regularizers (reg_covar) run afterwards.
        Ok(Covariances::Diag(Mat::from_fn(k, d, |c, j| {
            var[(c, self.block[j])]
        })))
    }

    fn n_free_parameters(&self, k: usize, _d: usize) -> usize {
        k * self.n_blocks
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // Six features in two blocks of three; the truth is block-isotropic.
    let block = vec![0, 0, 0, 1, 1, 1];
    let truth = Mixture::new(
        vec![0.5, 0.5],
        Gaussian::diag(
            mat![
                [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                [4.0, 4.0, 4.0, -3.0, -3.0, -3.0]
            ],
            mat![
                [1.0, 1.0, 1.0, 0.2, 0.2, 0.2],
                [0.3, 0.3, 0.3, 2.0, 2.0, 2.0]
            ],
        )?,
    )?;
    let (x, _) = truth.sample(3000, &mut StdRng::seed_from_u64(21));
    let data = Dataset::from_mat(x.as_ref())?;

    let custom = BlockIsotropic { block, n_blocks: 2 };
    println!(
        "{:<28} {:>8} {:>14} {:>12}",
        "structure", "params", "mean ll", "BIC"
    );
    for (name, fitted) in [
        (
            "spherical",
            GaussianMixture::params(2)
                .covariance(Covariance::Spherical)
                .seed(2)
                .fit(&data)?,
        ),
        (
            "diag",
            GaussianMixture::params(2)
                .covariance(Covariance::Diag)
                .seed(2)
                .fit(&data)?,
        ),
        // A user constraint goes in where a built-in one would.
        (
            "custom",
            GaussianMixture::params(2)
                .constraint(custom.clone())
                .seed(2)
                .fit(&data)?,
        ),
    ] {
        let r = &fitted.report;
        println!(
            "{:<28} {:>8} {:>14.4} {:>12.1}",
            if name == "custom" {
                r.structure.as_str()
            } else {
                name
            },
            r.n_parameters,
            r.log_likelihood,
            Scores::from_report(r).bic()
        );
        if name == "custom" {
            // Per-component variances, one column per feature (equal within a block).
            if let Covariances::Diag(v) = fitted.model.components().covariances() {
                for c in 0..v.nrows() {
                    let row: Vec<f64> = (0..v.ncols()).map(|j| v[(c, j)]).collect();
                    println!("  component {c} variances {row:.3?}");
                }
            }
        }
    }
    Ok(())
}
