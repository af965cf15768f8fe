//! The default mixture step searched on a sample of the rows
//! (`AutoFitter::search_rows`): the same choice as on every row where the two
//! agree, the refit from the sample's winner, the limit's checks, and the
//! default detector untouched below its own row limit.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{dataset, normal, rng};
use mixtures_anomaly::{AnomalyError, AutoFitter, Detector, MAX_FIT_ROWS};
use mixtures_select::DEFAULT_SEARCH_ROWS;
use rand::Rng;

/// 4000 rows in 3-D from three groups of different sizes.
fn three_groups() -> Vec<Vec<f64>> {
    let mut r = rng(7);
    (0..4000)
        .map(|_| {
            let u: f64 = r.random();
            let c = if u < 0.5 {
                [0.0, 0.0, 0.0]
            } else if u < 0.8 {
                [8.0, 2.0, -3.0]
            } else {
                [-6.0, 7.0, 2.0]
            };
            (0..3).map(|j| c[j] + normal(&mut r)).collect()
        })
        .collect()
}

#[test]
fn a_search_on_a_sample_keeps_the_choice_and_climbs_from_it() {
    let data = dataset(&three_groups());
    let all = AutoFitter::new()
        .seed(3)
        .search_rows(None)
        .select(&data)
        .unwrap();
    assert!(all.selection.search.is_none());
    let searched = AutoFitter::new()
        .seed(3)
        .search_rows(Some(1000))
        .select(&data)
        .unwrap();
    let search = searched.selection.search.as_ref().unwrap();
    assert_eq!((search.rows, search.total_rows), (1000, 4000));
    assert_eq!(searched.chosen_components(), all.chosen_components());
    assert_eq!(searched.chosen_structure(), all.chosen_structure());
    assert_eq!(searched.model.n_components(), all.model.n_components());
    // Every row's log-likelihood of the two models agrees closely: the refit
    // converges to the fit on every row.
    let (a, b) = (
        searched.model.score(&data).unwrap(),
        all.model.score(&data).unwrap(),
    );
    assert!((a - b).abs() < 1e-3 * b.abs(), "{a} vs {b}");
}

#[test]
fn the_default_limit_leaves_the_default_detector_alone() {
    // The detector fits its parts on at most MAX_FIT_ROWS rows, below the
    // search's limit, so the default detector never searches on a sample.
    const { assert!(MAX_FIT_ROWS <= DEFAULT_SEARCH_ROWS) };
    let data = dataset(&three_groups());
    let fit = Detector::auto().fit(&data).unwrap();
    let choice = fit.report.choice.as_ref().unwrap();
    assert!(choice.selection.search.is_none());
}

#[test]
fn search_rows_zero_is_refused() {
    let e = AutoFitter::<f64>::new()
        .search_rows(Some(0))
        .check()
        .unwrap_err();
    assert!(
        matches!(
            e,
            AnomalyError::InvalidParameter {
                name: "search_rows",
                ..
            }
        ),
        "{e}"
    );
}
