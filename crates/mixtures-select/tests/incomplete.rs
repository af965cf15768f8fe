//! Selection on data with missing values: the same table as on complete
//! data when nothing is missing; the observed-data likelihood in the
//! criteria; the true number of components found with cells missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use mixtures_core::Dataset;
use mixtures_dist::{Covariance, ModelSpec};
use mixtures_select::{Criterion, Grid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

fn three_clusters(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres = [[0.0, 0.0, 0.0], [7.0, -5.0, 2.0], [-6.0, 6.0, -4.0]];
    let mut v = Vec::with_capacity(3 * n);
    for i in 0..n {
        let c = centres[i % 3];
        for &cj in &c {
            let z: f64 = StandardNormal.sample(&mut rng);
            v.push(cj + z);
        }
    }
    v
}

#[test]
fn without_missing_cells_the_table_is_the_complete_datas() {
    let v = three_clusters(450, 1);
    let grid = Grid::new(1..=4)
        .structures([
            ModelSpec::gaussian(Covariance::Full),
            ModelSpec::gaussian(Covariance::Diag),
        ])
        .criterion(Criterion::Bic)
        .seed(2);
    let a = grid
        .fit(&Dataset::from_row_major(&v, 450, 3).unwrap())
        .unwrap();
    let b = grid
        .fit_incomplete(&Dataset::with_missing(&v, 450, 3).unwrap())
        .unwrap();
    assert_eq!(a.best, b.best);
    assert_eq!(a.model, b.model);
    for (x, y) in a.cells.iter().zip(&b.cells) {
        assert_eq!(x.criterion(Criterion::Bic), y.criterion(Criterion::Bic));
        assert_eq!(
            x.criterion(Criterion::Icl).is_some(),
            y.criterion(Criterion::Icl).is_some()
        );
    }
}

#[test]
fn with_missing_cells_bic_counts_the_observed_likelihood_and_finds_three() {
    let mut v = three_clusters(600, 3);
    let mut rng = StdRng::seed_from_u64(4);
    for row in v.chunks_mut(3) {
        let j = rng.random_range(0..3);
        if rng.random::<f64>() < 0.4 {
            row[j] = f64::NAN;
        }
    }
    let data = Dataset::with_missing(&v, 600, 3).unwrap();
    let sel = Grid::new(1..=5)
        .criterion(Criterion::Bic)
        .seed(5)
        .fit_incomplete(&data)
        .unwrap();
    assert_eq!(sel.best_cell().k, 3);
    // The chosen cell's BIC from the observed-data log-likelihood of its model.
    let lp = sel
        .model
        .as_gaussian()
        .unwrap()
        .log_prob_incomplete(&data)
        .unwrap();
    let ll: f64 = lp.iter().sum();
    let scores = sel.best_cell().scores().unwrap();
    assert!(
        (scores.log_likelihood - ll).abs() < 1e-6 * ll.abs(),
        "{} vs {ll}",
        scores.log_likelihood
    );
    let bic = -2.0 * ll + scores.n_parameters as f64 * 600f64.ln();
    assert!((sel.best_cell().criterion(Criterion::Bic).unwrap() - bic).abs() < 1e-6 * bic.abs());
}
