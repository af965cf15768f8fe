//! Online (stepwise) EM on a stream of 10 million rows from a known mixture,
//! generated on the fly in batches (never all in memory), against the batch
//! fit of the same rows (out-of-core EM, one pass of the generator per
//! iteration, started from the truth): the distance of the online
//! parameters to the batch fit's and to the true ones as rows arrive, for
//! several step-size schedules fed the same stream.
//!
//! `cargo run --release --example online_convergence [ROWS] [BATCH]`
//! (defaults 10 000 000 and 10 000); docs/online.md has the results.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use mixtures::faer::{Mat, mat};
use mixtures_core::Dataset;
use mixtures_core::source::{Batch, RowSource, SourceError};
use mixtures_dist::{Gaussian, GaussianMixtureModel, Mixture};
use mixtures_em::{Batched, Covariance, GaussianMixture, OnlineGaussianMixture, StepSize};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Four overlapping components in three dimensions, full covariances.
fn truth() -> GaussianMixtureModel<f64> {
    Mixture::new(
        vec![0.4, 0.3, 0.2, 0.1],
        Gaussian::full(
            mat![
                [0.0, 0.0, 0.0],
                [3.0, 1.0, 0.0],
                [-1.0, 3.5, 1.0],
                [2.0, 2.0, 3.0]
            ],
            vec![
                mat![[1.0, 0.4, 0.0], [0.4, 1.0, 0.2], [0.0, 0.2, 0.5]],
                mat![[0.8, -0.3, 0.1], [-0.3, 1.2, 0.0], [0.1, 0.0, 0.7]],
                mat![[1.5, 0.0, 0.3], [0.0, 0.6, 0.0], [0.3, 0.0, 1.0]],
                mat![[0.5, 0.1, 0.1], [0.1, 0.5, 0.1], [0.1, 0.1, 0.5]],
            ],
        )
        .unwrap(),
    )
    .unwrap()
}

/// The stream: batch `b` is drawn from the truth with a generator seeded by
/// `b`, so every pass reads the same rows and any batch can be redrawn.
struct Stream {
    model: GaussianMixtureModel<f64>,
    batches: u64,
    rows: usize,
}

impl Stream {
    fn batch(&self, b: u64) -> Mat<f64> {
        let mut rng = StdRng::seed_from_u64(0x5eed ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        self.model.sample(self.rows, &mut rng).0
    }
}

impl RowSource<f64> for Stream {
    fn n_features(&self) -> usize {
        self.model.dim()
    }

    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, f64>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        for b in 0..self.batches {
            let x = self.batch(b);
            f(Batch {
                rows: x.as_ref(),
                weights: None,
                first: b * self.rows as u64,
            })?;
        }
        Ok(())
    }
}

/// Distances after matching components (every permutation; `k` is small):
/// largest weight difference, largest Euclidean distance of means, largest
/// relative Frobenius distance of covariances.
fn distance(a: &GaussianMixtureModel<f64>, b: &GaussianMixtureModel<f64>) -> [f64; 3] {
    let k = a.n_components();
    let mut best = [f64::INFINITY; 3];
    let mut perm: Vec<usize> = (0..k).collect();
    let mut score = f64::INFINITY;
    permutations(&mut perm, 0, &mut |p| {
        let mut d = [0.0f64; 3];
        for (i, &j) in p.iter().enumerate() {
            d[0] = d[0].max((a.weights()[i] - b.weights()[j]).abs());
            let m: f64 = a
                .components()
                .mean(i)
                .iter()
                .zip(b.components().mean(j))
                .map(|(x, y)| (x - y).powi(2))
                .sum();
            d[1] = d[1].max(m.sqrt());
            let (ca, cb) = (
                a.components().covariance_matrix(i),
                b.components().covariance_matrix(j),
            );
            d[2] = d[2].max((&ca - &cb).norm_l2() / cb.norm_l2());
        }
        if d[1] < score {
            score = d[1];
            best = d;
        }
    });
    best
}

fn permutations(p: &mut Vec<usize>, at: usize, f: &mut dyn FnMut(&[usize])) {
    if at == p.len() {
        f(p);
        return;
    }
    for i in at..p.len() {
        p.swap(at, i);
        permutations(p, at + 1, f);
        p.swap(at, i);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let total: u64 = args.get(1).map_or(10_000_000, |s| s.parse().unwrap());
    let rows: usize = args.get(2).map_or(10_000, |s| s.parse().unwrap());
    let stream = Stream {
        model: truth(),
        batches: total / rows as u64,
        rows,
    };
    let n = stream.batches * rows as u64;
    let params = GaussianMixture::params(4)
        .covariance(Covariance::Full)
        .seed(1);

    // The batch fit of all the rows, out of core: one pass of the generator
    // per iteration, from the truth to the maximum-likelihood estimate.
    let clock = Instant::now();
    let batch = params
        .clone()
        .tol(1e-12)
        .max_iter(1000)
        .fit_reduced_from(&stream.model, &Batched::new(&stream))
        .unwrap();
    println!(
        "batch EM over {n} rows: {} iterations, {:.1} s; distance to the truth {:?}",
        batch.report.n_iter,
        clock.elapsed().as_secs_f64(),
        distance(&batch.model, &stream.model)
    );
    let batch = batch.model;

    let schedules = [
        ("alpha 0.6, t0 2 (default)", StepSize::default()),
        ("default, averaged from batch 100", StepSize::default()),
        (
            "alpha 0.75, t0 2",
            StepSize::Decaying {
                alpha: 0.75,
                t0: 2.0,
            },
        ),
        (
            "alpha 1, t0 1 (average)",
            StepSize::Decaying {
                alpha: 1.0,
                t0: 1.0,
            },
        ),
        ("constant 0.01", StepSize::Constant(0.01)),
    ];
    let mut fits: Vec<OnlineGaussianMixture<f64>> = schedules
        .iter()
        .map(|(name, s)| {
            let f = params.online().step_size(*s);
            if name.contains("averaged") {
                f.averaging(100)
            } else {
                f
            }
        })
        .collect();
    let clock = Instant::now();
    let mut next_report = 1u64;
    println!(
        "\n| rows seen | schedule | weights to batch | means to batch | covariances to batch | means to truth |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for b in 0..stream.batches {
        let x = Dataset::from_mat(stream.batch(b).as_ref()).unwrap();
        for f in &mut fits {
            f.partial_fit(&x).unwrap();
        }
        let seen = (b + 1) * rows as u64;
        if b + 1 == next_report || b + 1 == stream.batches {
            next_report *= 4;
            for ((name, _), f) in schedules.iter().zip(&fits) {
                let m = f.averaged_model().or(f.model()).unwrap();
                let [w, mu, cov] = distance(m, &batch);
                let [_, mu_t, _] = distance(m, &stream.model);
                println!("| {seen} | {name} | {w:.2e} | {mu:.2e} | {cov:.2e} | {mu_t:.2e} |");
            }
        }
    }
    println!(
        "\nonline EM, {} schedules over {n} rows in batches of {rows}: {:.1} s",
        fits.len(),
        clock.elapsed().as_secs_f64()
    );
}
