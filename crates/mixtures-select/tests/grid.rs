//! Grid selection: determinism, per-cell seeds, skipped cells, families, the
//! table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use faer::mat;
use mixtures_core::Dataset;
use mixtures_dist::AnyMixture;
use mixtures_dist::{Family, ModelSpec};
use mixtures_dist::{Gaussian, Laplace, Mixture};
use mixtures_em::{Covariance, FitError, GaussianMixture};
use mixtures_select::{CellOutcome, Criterion, Grid, SelectError};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn two_diag_clusters(n: usize, seed: u64) -> Dataset<f64> {
    let truth = Mixture::new(
        vec![0.4, 0.6],
        Gaussian::diag(
            mat![[0.0, 0.0, 0.0], [7.0, 7.0, 0.0]],
            mat![[1.0, 0.2, 2.0], [0.3, 2.0, 0.5]],
        )
        .unwrap(),
    )
    .unwrap();
    common::sample(&truth, n, &mut StdRng::seed_from_u64(seed))
}

#[test]
fn picks_the_truth_and_reports_every_cell() {
    let x = two_diag_clusters(400, 1);
    let sel = Grid::new([3, 1, 2, 2])
        .structures(ModelSpec::MCLUST)
        .seed(5)
        .fit(&x)
        .unwrap();
    // Sorted, deduplicated ks; every structure per k, in the order given.
    assert_eq!(sel.cells.len(), 3 * 6);
    for (i, c) in sel.cells.iter().enumerate() {
        assert_eq!(c.k, 1 + i / 6);
        assert_eq!(c.structure, ModelSpec::MCLUST[i % 6]);
        assert!(matches!(c.outcome, CellOutcome::Fitted { .. }));
    }
    let best = sel.best_cell();
    assert_eq!(
        (best.k, best.structure),
        (2, ModelSpec::gaussian(Covariance::VVI))
    );
    assert_eq!(sel.criterion, Criterion::Bic);
    let best_bic = best.criterion(Criterion::Bic).unwrap();
    for c in &sel.cells {
        assert!(c.criterion(Criterion::Bic).unwrap() >= best_bic);
    }
    // The best model is the best cell's fit.
    let model = sel.model.as_gaussian().unwrap();
    assert_eq!(model.n_components(), 2);
    assert_eq!(sel.report.n_parameters, best.scores().unwrap().n_parameters);
    assert_eq!(sel.report.structure, "diag");
    // The table prints one line per cell plus a header, the best starred.
    let table = sel.to_string();
    assert_eq!(table.lines().count(), 1 + 18);
    assert_eq!(table.lines().filter(|l| l.ends_with('*')).count(), 1);
}

#[test]
fn a_cell_is_the_fit_with_its_seed() {
    let x = two_diag_clusters(300, 2);
    let grid = Grid::new(1..=3)
        .structures([Covariance::Full, Covariance::Spherical])
        .seed(9);
    let sel = grid.fit(&x).unwrap();
    let cell = &sel.cells[sel.best];
    let alone = match cell.structure.family() {
        Family::Gaussian => GaussianMixture::params::<f64>(cell.k)
            .covariance(cell.structure.covariance())
            .seed(cell.seed)
            .fit(&x)
            .unwrap(),
        _ => panic!("Gaussian expected"),
    };
    assert_eq!(Some(&alone.model), sel.model.as_gaussian());
    assert_eq!(alone.report, sel.report);
}

#[test]
fn seeds_depend_on_the_cell_not_the_grid() {
    let x = two_diag_clusters(300, 3);
    let small = Grid::new(2..=3)
        .structures([Covariance::Diag])
        .seed(4)
        .fit(&x)
        .unwrap();
    let large = Grid::new(1..=4)
        .structures([Covariance::Full, Covariance::Diag, Covariance::Tied])
        .seed(4)
        .fit(&x)
        .unwrap();
    for c in &small.cells {
        let twin = large
            .cells
            .iter()
            .find(|o| o.k == c.k && o.structure == c.structure)
            .unwrap();
        assert_eq!(c, twin);
    }
    let other_seed = Grid::new(2..=3)
        .structures([Covariance::Diag])
        .seed(5)
        .fit(&x)
        .unwrap();
    assert_ne!(small.cells[0].seed, other_seed.cells[0].seed);
}

#[test]
fn same_table_whatever_the_thread_count() {
    let x = two_diag_clusters(1200, 4);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                Grid::new(1..=3)
                    .structures(ModelSpec::SKLEARN)
                    .n_init(2)
                    .seed(1)
                    .fit(&x)
                    .unwrap()
            })
    };
    let one = run(1);
    for t in [2, 7] {
        assert_eq!(one, run(t), "{t} threads");
    }
}

#[test]
fn laplace_data_choose_the_laplace_family() {
    let truth = Mixture::new(
        vec![0.5, 0.5],
        Laplace::per_dimension(mat![[0.0, 0.0], [10.0, 10.0]], mat![[1.0, 0.5], [0.7, 1.2]])
            .unwrap(),
    )
    .unwrap();
    let (xm, _) = truth.sample(1500, &mut StdRng::seed_from_u64(5));
    let x = Dataset::from_mat(xm.as_ref()).unwrap();
    let sel = Grid::new(1..=3)
        .structures([
            ModelSpec::gaussian(Covariance::Diag),
            ModelSpec::gaussian(Covariance::Full),
            ModelSpec::LAPLACE_DIAG,
            ModelSpec::LAPLACE_SPHERICAL,
        ])
        .criterion(Criterion::Icl)
        .seed(2)
        .fit(&x)
        .unwrap();
    let best = sel.best_cell();
    assert_eq!(best.k, 2);
    assert_eq!(best.structure, ModelSpec::LAPLACE_DIAG);
    assert!(matches!(sel.model, AnyMixture::Laplace(_)));
    assert_eq!(sel.model.predict(&x).unwrap().len(), 1500);
    assert!(sel.model.as_laplace().is_some());
    assert_eq!(sel.model.log_prob(&x).unwrap().len(), 1500);
}

/// A constant second feature: without regularization every Gaussian
/// covariance is singular (a zero variance), while Laplace scales have a floor.
fn flat() -> Dataset<f64> {
    let rows: Vec<[f64; 2]> = (0..60)
        .map(|i| [(i % 30) as f64 * 0.1 + if i < 30 { 0.0 } else { 10.0 }, 5.0])
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

#[test]
fn failed_cells_are_skipped() {
    let x = flat();
    let sel = Grid::new(1..=2)
        .structures([
            ModelSpec::gaussian(Covariance::Full),
            ModelSpec::LAPLACE_DIAG,
        ])
        .reg_covar(0.0)
        .fit(&x)
        .unwrap();
    for c in &sel.cells {
        match (c.structure.family(), &c.outcome) {
            (Family::Gaussian, CellOutcome::Skipped { reason }) => {
                assert_eq!(c.structure, ModelSpec::gaussian(Covariance::Full));
                assert!(matches!(reason, FitError::Degenerate { .. }), "{reason}");
            }
            (Family::Laplace, CellOutcome::Fitted { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(sel.best_cell().structure, ModelSpec::LAPLACE_DIAG);
    assert!(sel.to_string().contains("skipped"));
}

#[test]
fn all_cells_failed_is_an_error() {
    let x = flat();
    let err = Grid::new(1..=2)
        .structures([Covariance::Full, Covariance::Tied, Covariance::Diag])
        .reg_covar(0.0)
        .fit(&x)
        .unwrap_err();
    match err {
        SelectError::AllCellsFailed {
            cells,
            k,
            structure,
            reason,
        } => {
            assert_eq!((cells, k), (6, 1));
            assert!(structure.contains("full"));
            assert!(matches!(reason, FitError::Degenerate { .. }));
        }
        other => panic!("unexpected {other}"),
    }
}
