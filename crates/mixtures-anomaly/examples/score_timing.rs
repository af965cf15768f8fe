//! Time per scored point of the `no_std` scorer (`mixtures-score`) on the
//! footprint model (4 full-covariance Gaussian components in 16 features,
//! a detector), in f32 and f64, one point at a time as a device scores
//! them; and the library's batched `log_prob` on the same points for
//! comparison. docs/benchmarks.md, "Scoring on devices", has the figures.
//!
//! ```sh
//! cargo run --release -p mixtures-anomaly --example score_timing
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/export_common/footprint.rs"]
mod footprint;

use std::hint::black_box;
use std::time::Instant;

use mixtures_anomaly::export::{Exported, Precision};
use mixtures_core::{Dataset, Scalar};
use mixtures_score::{Real, Scorer};
use rand::SeedableRng;

const N: usize = 200_000;
const REPEATS: usize = 5;

/// The best of `REPEATS` passes over the points, in ns per point.
fn per_point<T: Scalar + Real>(s: &Scorer<'_, T>, rows: &[T]) -> f64 {
    let d = s.dim();
    let mut best = f64::INFINITY;
    for _ in 0..REPEATS {
        let start = Instant::now();
        let mut flagged = 0usize;
        for x in rows.chunks_exact(d) {
            let o = s.evaluate(black_box(x)).unwrap();
            flagged += usize::from(o.is_anomaly == Some(true));
        }
        black_box(flagged);
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / (rows.len() / d) as f64);
    }
    best
}

fn main() {
    let det = footprint::footprint_detector();
    let (x, _) = det
        .model()
        .sample(N, &mut rand::rngs::StdRng::seed_from_u64(1));
    let rows64: Vec<f64> = (0..N)
        .flat_map(|i| (0..footprint::D).map(move |j| (i, j)))
        .map(|(i, j)| x[(i, j)])
        .collect();
    let rows32: Vec<f32> = rows64.iter().map(|&v| v as f32).collect();
    let e32 = Exported::detector(&det, Precision::F32).unwrap();
    let e64 = Exported::detector(&det, Precision::F64).unwrap();
    let t32 = e32
        .with_scorer::<f32, _>(|s| per_point(s, &rows32))
        .unwrap();
    let t64 = e64
        .with_scorer::<f64, _>(|s| per_point(s, &rows64))
        .unwrap();
    let data = Dataset::from_row_major(&rows64, N, footprint::D).unwrap();
    let mut lib = f64::INFINITY;
    for _ in 0..REPEATS {
        let start = Instant::now();
        black_box(det.model().log_prob(&data).unwrap());
        lib = lib.min(start.elapsed().as_secs_f64() * 1e9 / N as f64);
    }
    println!(
        "k = {}, d = {}, full covariance, {N} points, best of {REPEATS}",
        footprint::K,
        footprint::D
    );
    println!("mixtures-score f32: {t32:.1} ns per point (one point at a time)");
    println!("mixtures-score f64: {t64:.1} ns per point (one point at a time)");
    println!(
        "library log_prob f64: {lib:.1} ns per point (batched, {} threads)",
        rayon::current_num_threads()
    );
}
