//! The same fit in `f32` and `f64`.
//!
//! `cargo run --release --example single_precision`
//!
//! Everything in the workspace is generic over the `Scalar` bound (`f32` or
//! `f64`). Single precision halves the memory of the data and doubles the SIMD
//! width; the EM updates use centred second moments and log-space sums so that
//! `f32` loses little. This example fits the same data, from the same seed, in
//! both precisions and compares the results.

use std::error::Error;
use std::time::Instant;

use mixtures::faer::{Mat, mat};
use mixtures::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A fitted model and the seconds its fit took.
type Timed<T> = (Fitted<GaussianMixtureModel<T>>, f64);

/// Fits `k = 3` full-covariance components; generic over the precision.
fn fit<T: Scalar>(x: &Mat<T>) -> Result<Timed<T>, Box<dyn Error>> {
    let data = Dataset::from_mat(x.as_ref())?;
    let t = Instant::now();
    let fitted = GaussianMixture::params(3)
        .covariance(Covariance::Full)
        .seed(4)
        .fit(&data)?;
    Ok((fitted, t.elapsed().as_secs_f64()))
}

fn main() -> Result<(), Box<dyn Error>> {
    // Clusters far from the origin: an offset that would hurt an uncentred
    // second-moment formula in f32.
    let truth = Mixture::new(
        vec![0.5, 0.3, 0.2],
        Gaussian::full(
            mat![[100.0, 100.0], [106.0, 103.0], [97.0, 108.0]],
            vec![
                mat![[1.0, 0.6], [0.6, 1.0]],
                mat![[0.5, 0.0], [0.0, 2.0]],
                mat![[1.5, -0.7], [-0.7, 1.0]],
            ],
        )?,
    )?;
    let (x64, _) = truth.sample(50_000, &mut StdRng::seed_from_u64(8));
    // The f32 data are the f64 data rounded.
    let x32 = Mat::<f32>::from_fn(x64.nrows(), x64.ncols(), |i, j| x64[(i, j)] as f32);

    let (f64_fit, t64) = fit(&x64)?;
    let (f32_fit, t32) = fit(&x32)?;
    for (name, r, t) in [("f64", &f64_fit.report, t64), ("f32", &f32_fit.report, t32)] {
        println!(
            "{name}: {:>3} iterations, converged {}, mean log-likelihood {:.6}, {:.1} ms",
            r.n_iter,
            r.converged,
            r.log_likelihood,
            t * 1e3
        );
    }

    // Parameters agree to about f32's precision relative to their scale.
    let (m64, m32) = (
        f64_fit.model.components().means(),
        f32_fit.model.components().means(),
    );
    let mut worst_mean: f64 = 0.0;
    for k in 0..m64.nrows() {
        for j in 0..m64.ncols() {
            worst_mean = worst_mean.max((m64[(k, j)] - f64::from(m32[(k, j)])).abs());
        }
    }
    let dll = (f64_fit.report.log_likelihood - f32_fit.report.log_likelihood).abs();
    println!(
        "largest difference of a mean: {worst_mean:.2e}; of the mean log-likelihood: {dll:.2e}"
    );

    // A model fitted in one precision can be read in the other through its file.
    let widened = GaussianMixtureModel::<f64>::from_json(&f32_fit.model.to_json())?;
    let data64 = Dataset::from_mat(x64.as_ref())?;
    println!(
        "f32 model evaluated in f64: mean log-likelihood {:.6}",
        widened.score(&data64)?
    );
    if worst_mean > 1e-2 || dll > 1e-3 {
        return Err("f32 and f64 fits differ by more than expected".into());
    }
    Ok(())
}
