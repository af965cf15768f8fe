//! Counts from a user that cannot be honoured (components, restarts, samples)
//! are typed errors found before anything proportional to them is allocated.
//! On the code before these checks, each of these tests aborted the process
//! ("capacity overflow", or an allocation of tens of gigabytes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, Instant};

use mixtures_core::Dataset;
use mixtures_dist::{Covariance, ModelError, ModelSpec};
use mixtures_em::{EmControl, FitError, GaussianMixture, LaplaceMixture, MAX_N_INIT, fit};

/// Forty rows, twenty distinct (every row appears twice).
fn data() -> Dataset<f64> {
    let rows: Vec<[f64; 2]> = (0..40)
        .map(|i| {
            let i = (i % 20) as f64;
            [(i * 0.37).sin(), (i * 0.11).cos()]
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

/// A check that allocates nothing proportional to the count answers at once;
/// a second is far above what the checks need and far below a fit of
/// millions of restarts.
fn quickly<R>(f: impl FnOnce() -> R) -> R {
    let t = Instant::now();
    let r = f();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    r
}

const ABSURD_K: [usize; 3] = [4_611_686_018_427_387_904, usize::MAX, 41];

#[test]
fn more_components_than_rows_is_too_few_distinct_points() {
    for k in ABSURD_K {
        for spec in ModelSpec::all() {
            let e = quickly(|| fit(spec, k, &EmControl::default(), &data())).unwrap_err();
            match e {
                // The count is exact even though k exceeds the rows: every
                // row appears twice.
                FitError::TooFewDistinctPoints { distinct, k: asked } => {
                    assert_eq!((distinct, asked), (20, k), "{spec}")
                }
                other => panic!("{spec}, k = {k}: expected TooFewDistinctPoints, got {other}"),
            }
        }
    }
    let e = GaussianMixture::params::<f64>(usize::MAX)
        .fit(&data())
        .unwrap_err();
    assert!(matches!(
        e,
        FitError::TooFewDistinctPoints { distinct: 20, .. }
    ));
    let e = LaplaceMixture::params::<f64>(usize::MAX)
        .fit(&data())
        .unwrap_err();
    assert!(matches!(
        e,
        FitError::TooFewDistinctPoints { distinct: 20, .. }
    ));
}

#[test]
fn zero_weight_rows_are_not_counted_when_k_exceeds_the_rows() {
    let x = data();
    let w: Vec<f64> = (0..40).map(|i| if i < 20 { 1.0 } else { 0.0 }).collect();
    let weighted = x.with_weights(w).unwrap();
    let e = fit(
        ModelSpec::gaussian(Covariance::Full),
        1000,
        &EmControl::default(),
        &weighted,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            FitError::TooFewDistinctPoints {
                distinct: 20,
                k: 1000
            }
        ),
        "{e}"
    );
}

#[test]
fn absurd_restart_counts_are_refused_before_any_work() {
    for n in [MAX_N_INIT + 1, 100_000_000, usize::MAX] {
        let control = EmControl::default().n_init(n);
        let e = quickly(|| fit(ModelSpec::gaussian(Covariance::Full), 2, &control, &data()))
            .unwrap_err();
        match e {
            FitError::InvalidParameter { name, value, .. } => {
                assert_eq!(name, "n_init");
                assert_eq!(value.to_string(), n.to_string());
            }
            other => panic!("n_init = {n}: expected InvalidParameter, got {other}"),
        }
        let e = quickly(|| {
            GaussianMixture::params::<f64>(2)
                .n_init(n)
                .covariance(Covariance::Diag)
                .fit(&data())
        })
        .unwrap_err();
        assert!(matches!(
            e,
            FitError::InvalidParameter { name: "n_init", .. }
        ));
    }
    assert!(EmControl::default().n_init(MAX_N_INIT).check().is_ok());
}

/// Many restarts run in batches: the result is the one a single pass over
/// every restart picks (the best objective, ties to the lowest index), with
/// a summary for each.
#[test]
fn restarts_beyond_one_batch_keep_the_best_and_every_summary() {
    let control = EmControl::default().n_init(150).max_iter(5).seed(3);
    let fitted = fit(ModelSpec::gaussian(Covariance::Full), 3, &control, &data()).unwrap();
    let r = &fitted.report;
    assert_eq!(r.restarts.len(), 150);
    let best = r
        .restarts
        .iter()
        .map(|s| s.log_likelihood)
        .fold(f64::NEG_INFINITY, f64::max);
    let first_best = r
        .restarts
        .iter()
        .position(|s| s.log_likelihood == best)
        .unwrap();
    assert_eq!(r.best_restart, first_best);
    assert_eq!(r.log_likelihood, best);
}

#[test]
fn sample_counts_beyond_the_address_space_are_refused() {
    let model = fit(
        ModelSpec::gaussian(Covariance::Full),
        2,
        &EmControl::default(),
        &data(),
    )
    .unwrap()
    .model;
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    for n in [usize::MAX, usize::MAX / 2, 1 << 62] {
        let e = quickly(|| model.try_sample(n, &mut rng)).unwrap_err();
        assert!(
            matches!(
                e,
                ModelError::InvalidParameter {
                    name: "n_samples",
                    ..
                }
            ),
            "{e}"
        );
    }
    let (x, labels) = model.try_sample(7, &mut rng).unwrap();
    assert_eq!((x.nrows(), x.ncols(), labels.len()), (7, 2, 7));
}
