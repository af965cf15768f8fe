//! Fit control: warm starts, the report (convergence, termination, trace,
//! observers), and bad input refused with typed errors before any work.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::{Laplace, LaplaceMixtureModel, Mixture};
use mixtures_em::{
    Control, Covariance, FitError, GaussianMixture, GaussianParams, Iteration, LaplaceMixture,
    LaplaceParams, Termination,
};

fn clusters() -> Vec<Vec<f64>> {
    blobs(
        71,
        &[
            vec![0.0, 0.0, 0.0],
            vec![3.0, 1.0, 0.0],
            vec![0.0, 3.0, 1.0],
        ],
        &[1.0, 0.8, 1.2],
        &[40, 40, 40],
    )
    .0
}

// ---------------------------------------------------------------- warm start

/// Continuing a fit is exactly the same as running longer: `a` iterations then
/// `b` more from the model give the bits of `a + b` iterations, and the traces
/// join up.
fn continuation_is_exact<T: Scalar>() {
    let data = dataset::<T>(&clusters());
    for c in Covariance::ALL {
        let what = format!("{} {c}", T::NAME);
        let p = GaussianMixture::params::<T>(3)
            .covariance(c)
            .tol(0.0)
            .seed(8);
        let first = p.clone().max_iter(3).fit(&data).unwrap();
        let rest = p.clone().max_iter(5).fit_from(&first.model, &data).unwrap();
        let whole = p.clone().max_iter(8).fit(&data).unwrap();
        assert_eq!(rest.model, whole.model, "{what}");
        let joined: Vec<f64> = first
            .report
            .lower_bound_trace
            .iter()
            .chain(&rest.report.lower_bound_trace)
            .copied()
            .collect();
        assert_eq!(joined, whole.report.lower_bound_trace, "{what}");
        assert_eq!(rest.report.log_likelihood, whole.report.log_likelihood);
        // The continuation starts where the first fit left off.
        assert_eq!(
            rest.report.lower_bound_trace[0], first.report.log_likelihood,
            "{what}"
        );
        // A warm start is a single restart whatever n_init says.
        let many = p
            .n_init(4)
            .max_iter(5)
            .fit_from(&first.model, &data)
            .unwrap();
        assert_eq!(many.report.restarts.len(), 1, "{what}");
        assert_eq!(many.model, rest.model, "{what}");
    }
    let p = LaplaceMixture::params::<T>(3).tol(0.0).seed(8);
    let first = p.clone().max_iter(3).fit(&data).unwrap();
    let rest = p.clone().max_iter(5).fit_from(&first.model, &data).unwrap();
    let whole = p.max_iter(8).fit(&data).unwrap();
    assert_eq!(rest.model, whole.model, "{} laplace", T::NAME);
}

#[test]
fn warm_start_continues_a_fit_exactly_f64() {
    continuation_is_exact::<f64>();
}

#[test]
fn warm_start_continues_a_fit_exactly_f32() {
    continuation_is_exact::<f32>();
}

/// The number of components of a warm start is the model's, and a converged
/// model stays put.
fn warm_start_from_converged<T: Scalar>() {
    let data = dataset::<T>(&clusters());
    let done = GaussianMixture::params::<T>(3)
        .tol(1e-8)
        .max_iter(500)
        .fit(&data)
        .unwrap();
    assert!(done.report.converged);
    let again = GaussianMixture::params::<T>(7)
        .fit_from(&done.model, &data)
        .unwrap();
    assert_eq!(again.model.n_components(), 3);
    assert!(again.report.converged);
    assert!(again.report.n_iter <= 2, "{}", again.report);
    let drift = max_diff_slice(&means(&again.model).concat(), &means(&done.model).concat());
    assert!(drift < 1e-3, "{}: means moved by {drift}", T::NAME);
}

#[test]
fn warm_start_from_a_converged_model_stays_f64() {
    warm_start_from_converged::<f64>();
}

#[test]
fn warm_start_from_a_converged_model_stays_f32() {
    warm_start_from_converged::<f32>();
}

fn laplace_model<T: Scalar>(d: usize) -> LaplaceMixtureModel<T> {
    Mixture::new(
        vec![T::c(0.5), T::c(0.5)],
        Laplace::spherical(
            mat::<T>(&[vec![0.0; d], vec![1.0; d]]),
            vec![T::one(), T::one()],
        )
        .unwrap(),
    )
    .unwrap()
}

fn warm_start_dimension<T: Scalar>() {
    let data = dataset::<T>(&clusters());
    let model2 = gaussian_model::<T>(
        &[0.5, 0.5],
        &[vec![0.0, 0.0], vec![1.0, 1.0]],
        spherical(&[1.0, 1.0]),
    );
    let (count, obs) = counting_observer();
    let p = GaussianMixture::params::<T>(2).observer(obs);
    match p.fit_from(&model2, &data) {
        Err(FitError::WarmStartDimension { model: 2, data: 3 }) => {}
        other => panic!("{other:?}"),
    }
    match p.step(&model2, &data) {
        Err(FitError::WarmStartDimension { model: 2, data: 3 }) => {}
        other => panic!("{other:?}"),
    }
    match LaplaceMixture::params::<T>(2).fit_from(&laplace_model::<T>(4), &data) {
        Err(e @ FitError::WarmStartDimension { model: 4, data: 3 }) => {
            let msg = e.to_string();
            assert!(msg.contains('4') && msg.contains('3'), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(count.load(Ordering::Relaxed), 0);
}

#[test]
fn warm_start_of_another_dimension_is_a_typed_error_f64() {
    warm_start_dimension::<f64>();
}

#[test]
fn warm_start_of_another_dimension_is_a_typed_error_f32() {
    warm_start_dimension::<f32>();
}

// -------------------------------------------------------------------- report

fn report_fields<T: Scalar>() {
    let rows = clusters();
    let w: Vec<f64> = (0..rows.len()).map(|i| 1.0 + (i % 2) as f64).collect();
    let data = weighted::<T>(&rows, &w);
    let tol = 1e-4;
    let fitted = GaussianMixture::params::<T>(3)
        .covariance(Covariance::Diag)
        .tol(tol)
        .max_iter(500)
        .seed(2)
        .fit(&data)
        .unwrap();
    let r = &fitted.report;
    assert!(r.converged);
    assert_eq!(r.termination, Termination::Converged);
    assert_eq!(r.n_iter, r.lower_bound_trace.len());
    let t = &r.lower_bound_trace;
    // Converged at the first change below tol, not before.
    assert!(t.len() >= 2);
    assert!((t[t.len() - 1] - t[t.len() - 2]).abs() < tol);
    for pair in t[..t.len() - 1].windows(2) {
        assert!((pair[1] - pair[0]).abs() >= tol, "{t:?}");
    }
    assert_eq!(r.log_likelihood, fitted.model.score(&data).unwrap());
    assert_eq!(r.total_weight, w.iter().sum::<f64>());
    assert_eq!(r.structure, "diag");
    assert_eq!(r.n_parameters, 3 * 3 + 3 * 3 + 2);
    assert_eq!(r.best_restart, 0);
    assert_eq!(r.restarts.len(), 1);
    let text = r.to_string();
    assert!(text.starts_with("converged after"), "{text}");

    // max_iter reached: a report field, not an error.
    let short = GaussianMixture::params::<T>(3)
        .tol(0.0)
        .max_iter(2)
        .fit(&data)
        .unwrap();
    assert!(!short.report.converged);
    assert_eq!(short.report.termination, Termination::MaxIterations);
    assert_eq!(short.report.n_iter, 2);
    assert_eq!(short.report.lower_bound_trace.len(), 2);
    assert!(!short.report.restarts[0].converged);
    assert!(short.report.to_string().starts_with("not converged"));
    assert_valid_gaussian(&short.model);

    let lap = LaplaceMixture::params::<T>(3)
        .structure(Covariance::Diag)
        .tol(0.0)
        .max_iter(4)
        .fit(&data)
        .unwrap();
    assert_eq!(lap.report.termination, Termination::MaxIterations);
    assert_eq!(lap.report.n_iter, 4);
    assert_eq!(lap.report.structure, "laplace-diag");
    assert_eq!(lap.report.n_parameters, 3 * 3 + 3 * 3 + 2);
    assert_eq!(lap.report.log_likelihood, lap.model.score(&data).unwrap());
    let lap = LaplaceMixture::params::<T>(3)
        .structure(Covariance::Spherical)
        .fit(&data)
        .unwrap();
    assert_eq!(lap.report.structure, "laplace-spherical");
    assert_eq!(lap.report.n_parameters, 3 * 3 + 3 + 2);
}

#[test]
fn report_fields_f64() {
    report_fields::<f64>();
}

#[test]
fn report_fields_f32() {
    report_fields::<f32>();
}

fn observers<T: Scalar>() {
    let data = dataset::<T>(&clusters());
    // Every iteration is seen, numbered from 1, with the trace's values.
    let seen_its = Arc::new(Mutex::new(Vec::<Iteration>::new()));
    let s = Arc::clone(&seen_its);
    let fitted = GaussianMixture::params::<T>(3)
        .tol(0.0)
        .max_iter(6)
        .observer(move |it: &Iteration| {
            s.lock().unwrap().push(*it);
            Control::Continue
        })
        .fit(&data)
        .unwrap();
    let its = seen_its.lock().unwrap().clone();
    assert_eq!(its.len(), 6);
    for (i, it) in its.iter().enumerate() {
        assert_eq!((it.restart, it.iteration), (0, i + 1));
        assert_eq!(it.lower_bound, fitted.report.lower_bound_trace[i]);
        if i == 0 {
            assert_eq!(it.change, f64::INFINITY);
        } else {
            assert_eq!(it.change, it.lower_bound - its[i - 1].lower_bound);
        }
    }
    // An observer that says stop: the best model so far, not an error.
    let stopped = GaussianMixture::params::<T>(3)
        .tol(0.0)
        .max_iter(50)
        .observer(|it: &Iteration| {
            if it.iteration == 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .fit(&data)
        .unwrap();
    assert_eq!(stopped.report.termination, Termination::Stopped);
    assert!(!stopped.report.converged);
    assert_eq!(stopped.report.n_iter, 3);
    assert_eq!(stopped.report.lower_bound_trace.len(), 3);
    assert_valid_gaussian(&stopped.model);
    // Stop reaches every restart running in parallel.
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let all = LaplaceMixture::params::<T>(3)
        .tol(0.0)
        .max_iter(50)
        .n_init(4)
        .observer(move |_: &Iteration| {
            c.fetch_add(1, Ordering::Relaxed);
            Control::Stop
        })
        .fit(&data)
        .unwrap();
    assert_eq!(all.report.termination, Termination::Stopped);
    assert!(calls.load(Ordering::Relaxed) <= 4);
    for r in &all.report.restarts {
        assert!(r.n_iter <= 1);
    }
}

#[test]
fn observers_see_every_iteration_and_can_stop_f64() {
    observers::<f64>();
}

#[test]
fn observers_see_every_iteration_and_can_stop_f32() {
    observers::<f32>();
}

// ----------------------------------------------------------------- bad input

fn counting_observer() -> (
    Arc<AtomicUsize>,
    impl Fn(&Iteration) -> Control + Send + Sync + 'static,
) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    (count, move |_: &Iteration| {
        c.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    })
}

/// `p` must be refused with `InvalidParameter { name }` naming the value, and
/// no iteration may run.
fn gaussian_rejects<T: Scalar>(p: GaussianParams<T>, data: &Dataset<T>, name: &str, value: &str) {
    let (count, obs) = counting_observer();
    match p.observer(obs).fit(data) {
        Err(e @ FitError::InvalidParameter { .. }) => {
            let FitError::InvalidParameter {
                name: n, value: v, ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!((*n, v.to_string().as_str()), (name, value));
            let msg = e.to_string();
            assert!(msg.contains(name) && msg.contains(value), "{msg}");
        }
        other => panic!("{name} = {value}: expected InvalidParameter, got {other:?}"),
    }
    assert_eq!(count.load(Ordering::Relaxed), 0, "{name}: work was done");
}

fn laplace_rejects<T: Scalar>(p: LaplaceParams<T>, data: &Dataset<T>, name: &str) {
    let (count, obs) = counting_observer();
    match p.observer(obs).fit(data) {
        Err(FitError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("{name}: expected InvalidParameter, got {other:?}"),
    }
    assert_eq!(count.load(Ordering::Relaxed), 0, "{name}: work was done");
}

fn bad_parameters<T: Scalar>() {
    let data = dataset::<T>(&clusters());
    let g = || GaussianMixture::params::<T>(2);
    let l = || LaplaceMixture::params::<T>(2);
    gaussian_rejects(g().n_components(0), &data, "n_components", "0");
    laplace_rejects(LaplaceMixture::params::<T>(0), &data, "n_components");
    for (tol, text) in [(-1e-3, "-0.001"), (f64::NAN, "NaN"), (f64::INFINITY, "inf")] {
        gaussian_rejects(g().tol(tol), &data, "tol", text);
        laplace_rejects(l().tol(tol), &data, "tol");
    }
    // tol = 0 is allowed (documented): exactly max_iter iterations.
    let exact = g().tol(0.0).max_iter(7).fit(&data).unwrap();
    assert_eq!(exact.report.n_iter, 7);
    for (r, text) in [
        (-1e-9, "-0.000000001"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
    ] {
        gaussian_rejects(g().reg_covar(r), &data, "reg_covar", text);
    }
    gaussian_rejects(g().max_iter(0), &data, "max_iter", "0");
    laplace_rejects(l().max_iter(0), &data, "max_iter");
    gaussian_rejects(g().n_init(0), &data, "n_init", "0");
    laplace_rejects(l().n_init(0), &data, "n_init");
    for f in [-1.0, f64::NAN, f64::INFINITY] {
        laplace_rejects(l().scale_floor(f), &data, "scale_floor");
    }
    // A warm start checks its parameters too.
    let model = gaussian_model::<T>(
        &[0.5, 0.5],
        &[vec![0.0; 3], vec![1.0; 3]],
        spherical(&[1.0, 1.0]),
    );
    match g().tol(f64::NAN).fit_from(&model, &data) {
        Err(FitError::InvalidParameter { name: "tol", .. }) => {}
        other => panic!("{other:?}"),
    }
    match g().reg_covar(-1.0).step(&model, &data) {
        Err(FitError::InvalidParameter {
            name: "reg_covar", ..
        }) => {}
        other => panic!("{other:?}"),
    }
    match l()
        .scale_floor(-1.0)
        .fit_from(&laplace_model::<T>(3), &data)
    {
        Err(FitError::InvalidParameter {
            name: "scale_floor",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_parameters_are_typed_errors_before_any_work_f64() {
    bad_parameters::<f64>();
}

#[test]
fn bad_parameters_are_typed_errors_before_any_work_f32() {
    bad_parameters::<f32>();
}

fn too_few_distinct<T: Scalar>() {
    // Five rows, two distinct values.
    let rows = vec![
        vec![0.0, 1.0],
        vec![0.0, 1.0],
        vec![2.0, 1.0],
        vec![0.0, 1.0],
        vec![2.0, 1.0],
    ];
    let data = dataset::<T>(&rows);
    let (count, obs) = counting_observer();
    match GaussianMixture::params::<T>(3).observer(obs).fit(&data) {
        Err(e @ FitError::TooFewDistinctPoints { distinct: 2, k: 3 }) => {
            assert!(e.to_string().contains("at most 2"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(count.load(Ordering::Relaxed), 0);
    match LaplaceMixture::params::<T>(3).fit(&data) {
        Err(FitError::TooFewDistinctPoints { distinct: 2, k: 3 }) => {}
        other => panic!("{other:?}"),
    }
    // Two distinct points suffice for two components.
    assert!(GaussianMixture::params::<T>(2).fit(&data).is_ok());
    // Rows of zero weight do not count.
    let rows = vec![vec![0.0], vec![1.0], vec![2.0], vec![3.0]];
    let data = weighted::<T>(&rows, &[1.0, 0.0, 2.0, 0.0]);
    match GaussianMixture::params::<T>(3).fit(&data) {
        Err(FitError::TooFewDistinctPoints { distinct: 2, k: 3 }) => {}
        other => panic!("{other:?}"),
    }
    // A warm start with more components than distinct points.
    let model = gaussian_model::<T>(
        &[0.3, 0.3, 0.4],
        &[vec![0.0], vec![1.0], vec![2.0]],
        spherical(&[1.0, 1.0, 1.0]),
    );
    match GaussianMixture::params::<T>(3).fit_from(&model, &data) {
        Err(FitError::TooFewDistinctPoints { distinct: 2, k: 3 }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn fewer_distinct_points_than_components_is_a_typed_error_f64() {
    too_few_distinct::<f64>();
}

#[test]
fn fewer_distinct_points_than_components_is_a_typed_error_f32() {
    too_few_distinct::<f32>();
}

/// Sample weights are attached to the data set, which refuses a wrong count
/// (or a negative, non-finite or all-zero weight) before any fit; the error
/// converts into a `FitError`.
#[test]
fn bad_sample_weights_are_typed_errors() {
    let data = dataset::<f64>(&clusters());
    let n = data.n_samples();
    let cases: [(Vec<f64>, DataError); 4] = [
        (
            vec![1.0; n - 1],
            DataError::WeightsLength {
                expected: n,
                found: n - 1,
            },
        ),
        (
            vec![1.0; n + 3],
            DataError::WeightsLength {
                expected: n,
                found: n + 3,
            },
        ),
        (vec![0.0; n], DataError::BadWeightSum { sum: 0.0 }),
        (
            {
                let mut w = vec![1.0; n];
                w[5] = -1.0;
                w
            },
            DataError::InvalidWeight {
                row: 5,
                value: -1.0,
            },
        ),
    ];
    for (w, want) in cases {
        let err = data.clone().with_weights(w).unwrap_err();
        assert_eq!(err, want);
    }
    let fit = |d: Dataset<f64>| GaussianMixture::params(2).fit(&d);
    let via: Result<_, FitError> = data
        .clone()
        .with_weights(vec![1.0; n + 3])
        .map_err(FitError::from)
        .and_then(fit);
    assert!(matches!(
        via,
        Err(FitError::Data(DataError::WeightsLength { .. }))
    ));
    let mut w = vec![1.0; n];
    w[2] = f64::NAN;
    assert!(matches!(
        data.with_weights(w),
        Err(DataError::InvalidWeight { row: 2, .. })
    ));
}

// -------------------------------------------------------------- cancellation

/// An observer that says stop after iteration `j` gets the best model so far:
/// bit for bit the model of a fit limited to `j` iterations, with
/// `Termination::Stopped`; with restarts, every restart stops (none runs past
/// the iteration at which the stop was seen) and the best of them is returned.
fn cancellation<T: Scalar>() {
    let data = dataset::<T>(&clusters());
    for c in [Covariance::Full, Covariance::Diag, Covariance::Tied] {
        for j in [1, 4] {
            let what = format!("{} {c} stop after {j}", T::NAME);
            let p = GaussianMixture::params::<T>(3)
                .covariance(c)
                .tol(0.0)
                .seed(6);
            let limited = p.clone().max_iter(j).fit(&data).unwrap();
            let stopped = p
                .clone()
                .max_iter(100)
                .observer(move |it: &Iteration| {
                    if it.iteration >= j {
                        Control::Stop
                    } else {
                        Control::Continue
                    }
                })
                .fit(&data)
                .unwrap();
            assert_eq!(stopped.report.termination, Termination::Stopped, "{what}");
            assert_eq!(stopped.model, limited.model, "{what}");
            assert_eq!(
                stopped.report.lower_bound_trace, limited.report.lower_bound_trace,
                "{what}"
            );
            assert_eq!(
                stopped.report.log_likelihood, limited.report.log_likelihood,
                "{what}"
            );
        }
        // Restarts: the first restart to reach iteration 2 stops them all.
        let seen = Arc::new(Mutex::new(Vec::<Iteration>::new()));
        let s = Arc::clone(&seen);
        let all = GaussianMixture::params::<T>(3)
            .covariance(c)
            .tol(0.0)
            .max_iter(100)
            .n_init(4)
            .seed(6)
            .observer(move |it: &Iteration| {
                s.lock().unwrap().push(*it);
                if it.iteration >= 2 {
                    Control::Stop
                } else {
                    Control::Continue
                }
            })
            .fit(&data)
            .unwrap();
        let what = format!("{} {c} restarts", T::NAME);
        assert_eq!(all.report.termination, Termination::Stopped, "{what}");
        assert_eq!(all.report.restarts.len(), 4, "{what}");
        // A restart may finish the iteration it is in when the stop arrives,
        // and see the stop only before its next one.
        for r in &all.report.restarts {
            assert!(
                r.n_iter <= 3,
                "{what}: a restart ran {} iterations",
                r.n_iter
            );
            assert!(!r.converged, "{what}");
        }
        let its = seen.lock().unwrap();
        assert!(its.iter().all(|it| it.iteration <= 3), "{what}");
        // The best restart so far is the one returned.
        let best = all
            .report
            .restarts
            .iter()
            .map(|r| r.log_likelihood)
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(all.report.log_likelihood, best, "{what}");
        assert_eq!(
            all.report.restarts[all.report.best_restart].log_likelihood,
            best
        );
        assert_valid_gaussian(&all.model);
    }
    // Laplace: the same, bit for bit.
    let p = LaplaceMixture::params::<T>(3).tol(0.0).seed(6);
    let limited = p.clone().max_iter(3).fit(&data).unwrap();
    let stopped = p
        .max_iter(100)
        .observer(|it: &Iteration| {
            if it.iteration >= 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .fit(&data)
        .unwrap();
    assert_eq!(stopped.report.termination, Termination::Stopped);
    assert_eq!(stopped.model, limited.model);
}

#[test]
fn stopping_returns_the_model_of_the_iterations_run_f64() {
    cancellation::<f64>();
}

#[test]
fn stopping_returns_the_model_of_the_iterations_run_f32() {
    cancellation::<f32>();
}
