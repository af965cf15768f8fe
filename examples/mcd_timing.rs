//! Times the minimum covariance determinant on a CSV file of numbers (no
//! header, comma separated), as benches/compare/mcd.py runs it beside
//! scikit-learn's `MinCovDet` on the same file:
//! `cargo run --release --example mcd_timing -- FILE.csv [REPEATS]`.
//! Prints one JSON line: the best wall time of the repeats and the MCD
//! objective (ln det of the raw subset's scatter).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use mixtures::prelude::*;
use mixtures_em::Mcd;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: mcd_timing FILE.csv [REPEATS]");
    let repeats: usize = args.next().map_or(3, |r| r.parse().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let data = Dataset::from_rows(&rows).unwrap();
    let mut best = f64::INFINITY;
    let mut objective = 0.0;
    for _ in 0..repeats {
        let t = Instant::now();
        let fit = Mcd::new().seed(0).fit(&data).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        objective = fit.raw_log_det;
    }
    println!(
        "{{\"n\": {}, \"d\": {}, \"seconds\": {best}, \"objective\": {objective}, \"threads\": {}}}",
        data.n_samples(),
        data.n_features(),
        rayon::current_num_threads()
    );
}
