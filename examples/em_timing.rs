//! Times EM iterations at (n, d, k) = (100 000, 16, 8) for every covariance
//! structure in f64 and f32, Gaussian and Student-t (ECM, ν per component)
//! from the same model: `cargo run --release --example em_timing`.
//! Arguments narrow it down (for profiling one kernel):
//! `em_timing [N D K] [full|tied|diag|spherical] [f64|f32]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use mixtures::StudentT;
use mixtures::faer::Mat;
use mixtures::prelude::*;
use mixtures_em::{Covariance, GaussianMixture, StudentTMixture};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn run<T: Scalar>(n: usize, d: usize, k: usize, only: Option<Covariance>) {
    let mut rng = StdRng::seed_from_u64(0);
    // Overlapping components (as in benches/compare), so that every row has
    // some responsibility for several components.
    let spread = 1.0;
    let centers: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| rng.random::<f64>() * spread).collect())
        .collect();
    let x = Mat::from_fn(n, d, |i, j| {
        T::c(centers[i % k][j] + rng.random::<f64>() - 0.5)
    });
    let data = Dataset::from_mat(x.as_ref()).unwrap();
    for cov in [
        Covariance::Full,
        Covariance::Tied,
        Covariance::Diag,
        Covariance::Spherical,
    ]
    .into_iter()
    .filter(|c| only.is_none_or(|o| o == *c))
    {
        let params = GaussianMixture::params::<T>(k)
            .covariance(cov)
            .max_iter(2)
            .tol(0.0);
        let model = params.fit(&data).unwrap().model;
        // (time of 21 iterations − time of 1) / 20: the fit's fixed costs cancel.
        let time = |iters: usize| {
            let p = params.clone().max_iter(iters);
            let (t, c) = (Instant::now(), cpu_seconds());
            std::hint::black_box(p.fit_from(&model, &data).unwrap());
            (t.elapsed().as_secs_f64(), cpu_seconds() - c)
        };
        let reps = 10;
        let ((w21, c21), (w1, c1)) = (time(21), time(1));
        let (per, cpu) = ((w21 - w1) / 20.0, (c21 - c1) / 20.0);
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(model.log_prob(&data).unwrap());
        }
        let lp = t.elapsed().as_secs_f64() / reps as f64;
        println!(
            "{} n={n} d={d} k={k} {:9}: EM iteration {:7.2} ms (CPU {:7.2} ms), log_prob {:7.2} ms",
            T::NAME,
            cov.as_str(),
            per * 1e3,
            cpu * 1e3,
            lp * 1e3
        );
        // The same model as Student-t components with ν = 5, and ECM from it.
        let (w, g) = model.clone().into_parts();
        let t_model =
            Mixture::new(w, StudentT::from_scale(g, vec![T::c(5.0); k]).unwrap()).unwrap();
        let t_params = StudentTMixture::params::<T>(k).covariance(cov).tol(0.0);
        let t_time = |iters: usize| {
            let p = t_params.clone().max_iter(iters);
            let (t, c) = (Instant::now(), cpu_seconds());
            std::hint::black_box(p.fit_from(&t_model, &data).unwrap());
            (t.elapsed().as_secs_f64(), cpu_seconds() - c)
        };
        let ((tw21, tc21), (tw1, tc1)) = (t_time(21), t_time(1));
        let (t_per, t_cpu) = ((tw21 - tw1) / 20.0, (tc21 - tc1) / 20.0);
        println!(
            "{} n={n} d={d} k={k} {:9}: Student-t iteration {:7.2} ms (CPU {:7.2} ms), {:.2}x the Gaussian's",
            T::NAME,
            cov.as_str(),
            t_per * 1e3,
            t_cpu * 1e3,
            t_per / per
        );
    }
}

/// CPU seconds of the whole process (all threads) from /proc/self/stat, at the
/// kernel's tick resolution (10 ms); 0 where that file does not exist. On a
/// loaded machine this is steadier than the wall clock for one-thread runs.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which ends with the last ')'): utime and
    // stime are the 12th and 13th.
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

fn main() {
    let threads = rayon::current_num_threads();
    println!("rayon threads: {threads}");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: usize| args.get(i).map_or(default, |a| a.parse().unwrap());
    let (n, d, k) = (num(0, 100_000), num(1, 16), num(2, 8));
    let only = args.get(3).map(|c| match c.as_str() {
        "full" => Covariance::Full,
        "tied" => Covariance::Tied,
        "diag" => Covariance::Diag,
        "spherical" => Covariance::Spherical,
        other => panic!("unknown covariance {other}"),
    });
    let precision = args.get(4).map_or("both", String::as_str);
    if precision != "f32" {
        run::<f64>(n, d, k, only);
    }
    if precision != "f64" {
        run::<f32>(n, d, k, only);
    }
}
