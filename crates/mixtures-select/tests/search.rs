//! The grid searched on a sample of the rows ([`Grid::search_rows`]): the
//! table is the grid's on the sample, the winner is refitted on every row
//! from its fit there, and nothing depends on the number of threads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::mat;
use mixtures_core::Dataset;
use mixtures_dist::{Covariance, Gaussian, Mixture, ModelSpec};
use mixtures_em::{EmControl, fit_from};
use mixtures_select::{Criterion, Grid, SelectError};
use rand::{SeedableRng, rngs::StdRng};

/// 6000 rows from three well separated, differently shaped groups.
fn data() -> Dataset<f64> {
    let truth = Mixture::new(
        vec![0.5, 0.3, 0.2],
        Gaussian::diag(
            mat![[0.0, 0.0], [8.0, 1.0], [1.0, 9.0]],
            mat![[1.0, 0.3], [0.4, 2.0], [1.5, 1.5]],
        )
        .unwrap(),
    )
    .unwrap();
    let (x, _) = truth.sample(6000, &mut StdRng::seed_from_u64(19));
    Dataset::from_mat(x.as_ref()).unwrap()
}

fn grid() -> Grid<f64> {
    Grid::new(1..=5)
        .structures(ModelSpec::SKLEARN)
        .criterion(Criterion::Bic)
        .seed(4)
}

#[test]
fn the_search_chooses_as_every_row_does_and_refits_from_the_sample_winner() {
    let data = data();
    let all = grid().fit(&data).unwrap();
    assert!(all.search.is_none());
    let searched_grid = grid().search_rows(Some(1500));
    let searched = searched_grid.fit(&data).unwrap();
    let search = searched.search.as_ref().expect("a search on 1500 rows");
    assert_eq!((search.rows, search.total_rows), (1500, 6000));
    assert!(search.failed_refits.is_empty());
    // On these data the sample and every row agree on the cell.
    assert_eq!(searched.best_cell().k, all.best_cell().k);
    assert_eq!(searched.best_cell().structure, all.best_cell().structure);
    assert_eq!(searched.best_cell().k, 3);

    // The table is the grid on the sample, cell for cell.
    let sample = searched_grid.search_sample(&data).unwrap().unwrap();
    assert_eq!(sample.n_samples(), 1500);
    let on_sample = grid().fit(&sample).unwrap();
    assert_eq!(searched.cells, on_sample.cells);
    assert_eq!(searched.best, on_sample.best);

    // The model is the EM fit on every row from the sample's winner.
    let best = searched.best_cell();
    let direct = fit_from(
        best.structure,
        &on_sample.model,
        &EmControl::default().seed(best.seed),
        &data,
    )
    .unwrap();
    assert_eq!(searched.model, direct.model);
    assert_eq!(searched.report, direct.report);

    // EM from the sample's parameters only climbs on every row.
    let start = on_sample.model.score(&data).unwrap();
    assert!(searched.report.log_likelihood >= start - 1e-12 * start.abs());
    // The refit's criteria are on every row, and close to the full grid's.
    assert_eq!(search.scores.n_samples, 6000.0);
    let (bic, full_bic) = (
        search.scores.bic(),
        all.best_cell().criterion(Criterion::Bic).unwrap(),
    );
    assert!(
        (bic - full_bic).abs() < 1e-3 * full_bic.abs(),
        "{bic} vs {full_bic}"
    );
    assert_eq!(searched.chosen_scores(), Some(&search.scores));
    assert!(searched.to_string().contains("1500 of 6000 rows"));
}

#[test]
fn the_search_is_the_same_whatever_the_threads() {
    let data = data();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| grid().search_rows(Some(1000)).fit(&data).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    // Another seed draws another sample.
    let other = grid().seed(5).search_rows(Some(1000));
    let a = grid().search_rows(Some(1000)).search_sample(&data).unwrap();
    assert_ne!(a, other.search_sample(&data).unwrap());
}

#[test]
fn no_search_when_the_rows_fit_or_the_sample_is_too_poor() {
    let data = data();
    // No more rows than the limit: every cell sees every row.
    let plain = grid().fit(&data).unwrap();
    assert_eq!(grid().search_rows(Some(6000)).fit(&data).unwrap(), plain);
    assert!(
        grid()
            .search_rows(Some(6000))
            .search_sample(&data)
            .unwrap()
            .is_none()
    );
    // Four distinct rows, repeated: a sample of three cannot hold k = 4, so
    // the grid searches on every row instead of failing.
    let rows: Vec<[f64; 2]> = (0..400)
        .map(|i| [(i % 4) as f64, (i % 4) as f64 * 0.5])
        .collect();
    let four = Dataset::from_rows(&rows).unwrap();
    let g = Grid::new(1..=4)
        .structures([ModelSpec::gaussian(Covariance::Spherical)])
        .search_rows(Some(3));
    assert!(g.search_sample(&four).unwrap().is_none());
    assert!(g.fit(&four).unwrap().search.is_none());
}

#[test]
fn search_rows_zero_is_refused() {
    let e = grid().search_rows(Some(0)).fit(&data()).unwrap_err();
    match e {
        SelectError::InvalidParameter { name, .. } => assert_eq!(name, "search_rows"),
        other => panic!("expected InvalidParameter, got {other}"),
    }
}

#[test]
fn weights_travel_with_the_sample() {
    let data = data();
    let w: Vec<f64> = (0..data.n_samples())
        .map(|i| 1.0 + (i % 3) as f64)
        .collect();
    let weighted = data.clone().with_weights(w.clone()).unwrap();
    let g = grid().search_rows(Some(1200));
    let sample = g.search_sample(&weighted).unwrap().unwrap();
    let sw = sample.weights().unwrap();
    assert_eq!(sw.len(), 1200);
    assert!(sw.iter().all(|&v| (1.0..=3.0).contains(&v)));
    let sel = g.fit(&weighted).unwrap();
    assert_eq!(
        sel.search.as_ref().unwrap().scores.n_samples,
        weighted.total_weight()
    );
}
