//! The Rust side of `benches/compare/compare.py --student-t`: the time of a
//! Student-t EM iteration against a Gaussian one of the same structure, `k`
//! and `d`, on the same data and from the same start, measured in one process.
//!
//! ```text
//! cargo run --release --example compare_student_t -- DATA.bin N D INIT.json ITERS THREADS PRECISION
//! ```
//!
//! `DATA.bin` holds `N x D` little-endian f64 values, row-major; `INIT.json` is a
//! Gaussian model file (docs/model-format.md). The Gaussian fit starts from it;
//! the Student-t fit from the same weights, locations and scale matrices with
//! every `ν` at `DEFAULT_INITIAL_DOF`. Both run exactly `ITERS` iterations
//! (`tol = 0`, `reg_covar = 1e-6`) in a rayon pool of `THREADS` threads, in
//! `PRECISION` (`f32` or `f64`).
//!
//! The machine these run on is shared, so the two sides are interleaved: each
//! repetition (`COMPARE_REPEATS`, default 5, after one warm-up of each) times
//! one fit of each side, the order alternating between repetitions, and the
//! medians are compared. Per-iteration time is the median fit divided by
//! `ITERS` (as `compare_em`); the marginal one, `(fit(ITERS) − fit(1)) /
//! (ITERS − 1)` from interleaved one-iteration fits, leaves out the per-fit
//! costs. One JSON object goes to stdout; it also gives, under each side's
//! fitted model, the share of the `n x K` responsibilities that are positive
//! and the share that are subnormal (the M-step's work depends on both).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;
use std::time::Instant;

use mixtures::prelude::*;
use mixtures_dist::{StudentT, StudentTMixtureModel};
use mixtures_em::{DEFAULT_INITIAL_DOF, StudentTMixture};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn seconds(f: &mut dyn FnMut()) -> f64 {
    let s = Instant::now();
    f();
    s.elapsed().as_secs_f64()
}

/// Medians of `reps` timings of `a` and of `b`, alternating which goes first,
/// after one warm-up call of each.
fn interleaved(reps: usize, a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> (f64, f64) {
    a();
    b();
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for rep in 0..reps {
        if rep % 2 == 0 {
            ta.push(seconds(a));
            tb.push(seconds(b));
        } else {
            tb.push(seconds(b));
            ta.push(seconds(a));
        }
    }
    (median(ta), median(tb))
}

/// The shares of the entries of `r` that are positive and that are
/// subnormal (positive, below the smallest normal number).
fn shares<T: Scalar>(r: &mixtures::faer::Mat<T>) -> (f64, f64) {
    let (mut pos, mut sub) = (0usize, 0usize);
    for j in 0..r.ncols() {
        for &v in r.col(j).iter() {
            pos += usize::from(v > T::zero());
            sub += usize::from(v > T::zero() && v < T::min_positive_value());
        }
    }
    let all = (r.nrows() * r.ncols()) as f64;
    (pos as f64 / all, sub as f64 / all)
}

fn run<T: Scalar>(args: &[String]) -> Res<()> {
    let bytes = std::fs::read(&args[1])?;
    let (n, d): (usize, usize) = (args[2].parse()?, args[3].parse()?);
    let values: Vec<T> = bytes
        .chunks_exact(8)
        .map(|b| T::c(f64::from_le_bytes(b.try_into().unwrap())))
        .collect();
    let data = Dataset::from_row_major(&values, n, d)?;
    let g_init = GaussianMixtureModel::<T>::load(&args[4])?;
    let k = g_init.n_components();
    let t_init: StudentTMixtureModel<T> = Mixture::new(
        g_init.weights().to_vec(),
        StudentT::from_scale(
            g_init.components().clone(),
            vec![T::c(DEFAULT_INITIAL_DOF); k],
        )?,
    )?;
    let iters: usize = args[5].parse()?;
    let reps: usize = std::env::var("COMPARE_REPEATS").map_or(Ok(5), |s| s.parse())?;
    let cov: Covariance = g_init.components().covariance_type().as_str().parse()?;
    let g = GaussianMixture::params::<T>(k)
        .covariance(cov)
        .reg_covar(1e-6)
        .tol(0.0)
        .max_iter(iters);
    let t = StudentTMixture::params::<T>(k)
        .covariance(cov)
        .reg_covar(1e-6)
        .tol(0.0)
        .max_iter(iters);
    let (mut g_fit, mut t_fit) = (None, None);
    let (g_s, t_s) = interleaved(
        reps,
        &mut || g_fit = Some(g.fit_from(&g_init, &data).unwrap()),
        &mut || t_fit = Some(t.fit_from(&t_init, &data).unwrap()),
    );
    let (g1, t1) = (g.clone().max_iter(1), t.clone().max_iter(1));
    let (g1_s, t1_s) = interleaved(
        reps,
        &mut || {
            std::hint::black_box(g1.fit_from(&g_init, &data).unwrap());
        },
        &mut || {
            std::hint::black_box(t1.fit_from(&t_init, &data).unwrap());
        },
    );
    let (g_fit, t_fit) = (g_fit.unwrap(), t_fit.unwrap());
    let (g_it, t_it) = (g_fit.report.n_iter, t_fit.report.n_iter);
    let marginal = |all: f64, one: f64, it: usize| (all - one) / (it.max(2) - 1) as f64;
    let (g_iter, t_iter) = (g_s / g_it as f64, t_s / t_it as f64);
    let (g_marg, t_marg) = (marginal(g_s, g1_s, g_it), marginal(t_s, t1_s, t_it));
    let (g_pos, g_sub) = shares(&g_fit.model.responsibilities(&data)?);
    let (t_pos, t_sub) = shares(&t_fit.model.responsibilities(&data)?);
    let dof = t_fit.model.components().dof();
    let dof_min = dof.iter().map(|v| v.as_f64()).fold(f64::INFINITY, f64::min);
    let dof_max = dof.iter().map(|v| v.as_f64()).fold(0.0, f64::max);
    println!(
        "{{\"gaussian_fit_s\": {g_s}, \"student_t_fit_s\": {t_s}, \
         \"gaussian_iterations\": {g_it}, \"student_t_iterations\": {t_it}, \
         \"gaussian_s_per_iter\": {g_iter}, \"student_t_s_per_iter\": {t_iter}, \
         \"ratio\": {}, \"gaussian_s_per_iter_marginal\": {g_marg}, \
         \"student_t_s_per_iter_marginal\": {t_marg}, \"ratio_marginal\": {}, \
         \"gaussian_mean_loglik\": {}, \"student_t_mean_loglik\": {}, \
         \"student_t_dof_min\": {dof_min}, \"student_t_dof_max\": {dof_max}, \
         \"gaussian_resp_positive\": {g_pos}, \"gaussian_resp_subnormal\": {g_sub}, \
         \"student_t_resp_positive\": {t_pos}, \"student_t_resp_subnormal\": {t_sub}, \
         \"repeats\": {reps}, \"threads\": {}}}",
        t_iter / g_iter,
        t_marg / g_marg,
        g_fit.model.score(&data)?,
        t_fit.model.score(&data)?,
        rayon::current_num_threads()
    );
    Ok(())
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 8 {
        return Err(
            "usage: compare_student_t DATA.bin N D INIT.json ITERS THREADS PRECISION".into(),
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
