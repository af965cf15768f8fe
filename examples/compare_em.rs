//! The Rust side of `benches/compare/compare.py`: times EM iterations and
//! `log_prob` from given data and initial parameters, and writes the fitted model.
//!
//! ```text
//! cargo run --release --example compare_em -- DATA.bin N D INIT.json ITERS THREADS PRECISION OUT.json
//! ```
//!
//! `DATA.bin` holds `N x D` little-endian f64 values, row-major; `INIT.json` is a
//! model file (docs/model-format.md) with the initial weights, means and
//! covariances. EM runs exactly `ITERS` iterations (`tol = 0`) in a rayon pool of
//! `THREADS` threads, in `PRECISION` (`f32` or `f64`). One JSON object with the
//! timings goes to stdout; the fitted model goes to `OUT.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;
use std::time::Instant;

use mixtures::prelude::*;
use mixtures_em::GaussianMixture;

/// Median of `reps` timings of `f` after one warm-up call.
fn timed(reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[0])
}

fn run<T: Scalar>(args: &[String]) -> Result<(), Box<dyn Error + Send + Sync>> {
    let bytes = std::fs::read(&args[1])?;
    let (n, d): (usize, usize) = (args[2].parse()?, args[3].parse()?);
    let values: Vec<T> = bytes
        .chunks_exact(8)
        .map(|b| T::c(f64::from_le_bytes(b.try_into().unwrap())))
        .collect();
    let data = Dataset::from_row_major(&values, n, d)?;
    let init = GaussianMixtureModel::<T>::load(&args[4])?;
    let iters: usize = args[5].parse()?;
    let reps: usize = std::env::var("COMPARE_REPEATS").map_or(Ok(5), |s| s.parse())?;
    let cov: Covariance = init.components().covariance_type().as_str().parse()?;
    let params = GaussianMixture::params::<T>(init.n_components())
        .covariance(cov)
        .reg_covar(1e-6)
        .tol(0.0)
        .max_iter(iters);
    let mut fitted = None;
    let (fit_s, fit_min) = timed(reps, || {
        fitted = Some(params.fit_from(&init, &data).unwrap());
    });
    let fitted = fitted.unwrap();
    let one = params.clone().max_iter(1);
    let (one_s, _) = timed(reps, || {
        std::hint::black_box(one.fit_from(&init, &data).unwrap());
    });
    let (lp_s, lp_min) = timed(reps, || {
        std::hint::black_box(fitted.model.log_prob(&data).unwrap());
    });
    fitted.model.save(&args[8])?;
    println!(
        "{{\"fit_s\": {fit_s}, \"fit_s_min\": {fit_min}, \"iterations\": {}, \
         \"s_per_iter\": {}, \"s_per_iter_marginal\": {}, \"log_prob_s\": {lp_s}, \
         \"log_prob_s_min\": {lp_min}, \"mean_loglik\": {}, \"threads\": {}}}",
        fitted.report.n_iter,
        fit_s / fitted.report.n_iter as f64,
        (fit_s - one_s) / (fitted.report.n_iter.max(2) - 1) as f64,
        fitted.model.score(&data)?,
        rayon::current_num_threads()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 9 {
        return Err(
            "usage: compare_em DATA.bin N D INIT.json ITERS THREADS PRECISION OUT.json".into(),
        );
    }
    let threads: usize = args[6].parse()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    pool.install(|| match args[7].as_str() {
        "f32" => run::<f32>(&args),
        _ => run::<f64>(&args),
    })
}
