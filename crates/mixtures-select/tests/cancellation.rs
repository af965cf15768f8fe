//! Cancellation through an observer: the variational fit and the grid see
//! every iteration, and `Control::Stop` ends the fit (every restart, every
//! cell) with the best model so far and `Termination::Stopped`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use mixtures_dist::ModelSpec;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mixtures_core::{Dataset, Scalar};
use mixtures_em::{Control, Covariance, Iteration, Termination};
use mixtures_select::{CellOutcome, Grid, VariationalGaussianMixture};

/// Three groups in two dimensions, 300 rows.
fn data<T: Scalar>() -> Dataset<T> {
    let rows: Vec<[T; 2]> = (0..300)
        .map(|i| {
            let t = i as f64;
            let u = (t * 0.618_033_988_749_895).fract() - 0.5;
            let v = (t * 0.414_213_562_373_095).fract() - 0.5;
            let c = [[0.0, 0.0], [3.0, 1.0], [0.5, 3.5]][i % 3];
            [T::c(c[0] + 2.0 * u), T::c(c[1] + 1.5 * v + 0.3 * u)]
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

fn stop_after(j: usize) -> impl Fn(&Iteration) -> Control + Send + Sync + 'static {
    move |it: &Iteration| {
        if it.iteration >= j {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Stopping after iteration `j` gives, bit for bit, the fit limited to `j`
/// iterations; the observer sees every iteration with the trace's values;
/// with restarts every restart stops within one iteration of the stop.
fn variational<T: Scalar>() {
    let x = data::<T>();
    for ct in [Covariance::Full, Covariance::Diag] {
        let what = format!("{} {ct}", T::NAME);
        let p = VariationalGaussianMixture::params::<T>(4)
            .covariance(ct)
            .tol(0.0)
            .seed(3);
        for j in [1, 5] {
            let limited = p.clone().max_iter(j).fit(&x).unwrap();
            let stopped = p
                .clone()
                .max_iter(200)
                .observer(stop_after(j))
                .fit(&x)
                .unwrap();
            assert_eq!(stopped.report.termination, Termination::Stopped, "{what}");
            assert!(!stopped.report.converged);
            assert_eq!(stopped.report.n_iter, j, "{what}");
            assert_eq!(stopped.model, limited.model, "{what} j={j}");
            assert_eq!(stopped.posterior, limited.posterior, "{what} j={j}");
            assert_eq!(stopped.lower_bound.to_bits(), limited.lower_bound.to_bits());
        }
        // Every iteration is seen, numbered from 1, with the trace's values.
        let seen = Arc::new(Mutex::new(Vec::<Iteration>::new()));
        let s = Arc::clone(&seen);
        let fit = p
            .clone()
            .max_iter(6)
            .observer(move |it: &Iteration| {
                s.lock().unwrap().push(*it);
                Control::Continue
            })
            .fit(&x)
            .unwrap();
        let its = seen.lock().unwrap().clone();
        assert_eq!(its.len(), 6, "{what}");
        for (i, it) in its.iter().enumerate() {
            assert_eq!((it.restart, it.iteration), (0, i + 1));
            assert_eq!(it.lower_bound, fit.report.lower_bound_trace[i]);
        }
        assert_eq!(fit.report.termination, Termination::MaxIterations);
        // Restarts: the first stop ends them all.
        let all = p
            .clone()
            .max_iter(200)
            .n_init(4)
            .observer(stop_after(2))
            .fit(&x)
            .unwrap();
        assert_eq!(all.report.termination, Termination::Stopped, "{what}");
        assert_eq!(all.report.restarts.len(), 4);
        for r in &all.report.restarts {
            assert!(r.n_iter <= 3, "{what}: a restart ran {}", r.n_iter);
        }
        assert!(all.lower_bound.is_finite());
    }
}

#[test]
fn the_variational_fit_stops_with_the_model_so_far() {
    variational::<f64>();
    variational::<f32>();
}

/// An observer that says stop at once stops every cell of the grid after its
/// first iteration; the grid still returns the best of the cells, each with
/// a finite criterion. An observer that never stops sees every iteration of
/// every cell and changes nothing.
fn grid<T: Scalar>() {
    let x = data::<T>();
    let g = Grid::<T>::new(1..=4)
        .structures([
            ModelSpec::gaussian(Covariance::Full),
            ModelSpec::gaussian(Covariance::Diag),
            ModelSpec::LAPLACE_DIAG,
        ])
        .tol(0.0)
        .max_iter(50)
        .seed(2);
    let stopped = g
        .clone()
        .observer(|_: &Iteration| Control::Stop)
        .fit(&x)
        .unwrap();
    for c in &stopped.cells {
        match &c.outcome {
            CellOutcome::Fitted {
                n_iter,
                converged,
                scores,
            } => {
                assert_eq!(*n_iter, 1, "{} k={} {}", T::NAME, c.k, c.structure);
                assert!(!converged);
                assert!(scores.bic().is_finite());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(stopped.report.termination, Termination::Stopped);

    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let watched = g
        .clone()
        .observer(move |_: &Iteration| {
            c.fetch_add(1, Ordering::Relaxed);
            Control::Continue
        })
        .fit(&x)
        .unwrap();
    let plain = g.fit(&x).unwrap();
    assert_eq!(watched, plain, "{}: an observer changed the grid", T::NAME);
    let iterations: usize = plain
        .cells
        .iter()
        .map(|c| match c.outcome {
            CellOutcome::Fitted { n_iter, .. } => n_iter,
            _ => 0,
        })
        .sum();
    assert_eq!(calls.load(Ordering::Relaxed), iterations);
}

#[test]
fn the_grid_stops_every_cell() {
    grid::<f64>();
    grid::<f32>();
}
