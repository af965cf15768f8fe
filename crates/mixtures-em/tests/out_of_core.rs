//! Fits that read their rows in batches against the in-memory fit of the
//! same rows from the same start: equal within 1e-10 relative for any batch
//! size and thread count; the initialization the same whatever the batches;
//! a source that changes between passes, a NaN and an empty source refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};

use faer::Mat;
use mixtures_core::Dataset;
use mixtures_core::source::{Batch, Chunked, RowSource, SourceError};
use mixtures_em::{
    Batched, Covariance, EStep, FitError, GaussianMixture, GaussianStats, StatsError,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

fn blobs(n: usize, d: usize, seed: u64) -> Dataset<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let c = (i % 3) as f64;
            (0..d)
                .map(|j| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    100.0 + 4.0 * c * ((j % 2) as f64 - 0.5) + (1.0 + 0.3 * c) * z + 0.2 * j as f64
                })
                .collect()
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn batched_fit_equals_in_memory_fit_from_the_same_start() {
    let data = blobs(3000, 4, 1);
    for cov in [
        Covariance::Full,
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::Tied,
    ] {
        let params = GaussianMixture::params(3)
            .covariance(cov)
            .seed(5)
            .tol(0.0)
            .max_iter(15);
        let start = GaussianMixture::params(3)
            .covariance(cov)
            .seed(5)
            .max_iter(2)
            .fit(&data)
            .unwrap()
            .model;
        let memory = params.fit_from(&start, &data).unwrap();
        for chunk in [7, 500, 3000] {
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let source = Chunked::new(&data, chunk);
                let batched = pool
                    .install(|| params.fit_reduced_from(&start, &Batched::new(&source)))
                    .unwrap();
                let gap = memory
                    .model
                    .largest_relative_difference(&batched.model)
                    .unwrap();
                assert!(
                    gap < 1e-10,
                    "{cov:?} chunk {chunk} threads {threads}: {gap:e}"
                );
                assert!(rel(memory.report.log_likelihood, batched.report.log_likelihood) < 1e-10);
                assert_eq!(memory.report.n_iter, batched.report.n_iter);
            }
        }
    }
}

#[test]
fn the_start_does_not_depend_on_the_batches() {
    let data = blobs(4000, 3, 2);
    // One restart: two restarts that reach the same optimum with the
    // components in another order differ in the last bits of their
    // log-likelihood, and which one wins may then depend on the batches.
    let params = GaussianMixture::params(3).seed(9);
    let whole = params.fit_source(&Chunked::new(&data, 4000)).unwrap();
    for chunk in [3, 64, 1999] {
        let other = params.fit_source(&Chunked::new(&data, chunk)).unwrap();
        let gap = whole
            .model
            .largest_relative_difference(&other.model)
            .unwrap();
        assert!(
            gap < 1e-10,
            "chunk {chunk}: {gap:e} {} {} {:?} {:?}",
            whole.report.n_iter,
            other.report.n_iter,
            whole.report.log_likelihood,
            other.report.log_likelihood
        );
    }
    // And it finds the three groups the in-memory fit finds.
    let memory = params.fit(&data).unwrap();
    assert!((memory.report.log_likelihood - whole.report.log_likelihood).abs() < 1e-6);
}

#[test]
fn statistics_merge_and_round_trip_through_bytes() {
    let data = blobs(900, 3, 3);
    let x = data.view();
    for cov in [Covariance::Full, Covariance::Diag] {
        let model = GaussianMixture::params(3)
            .covariance(cov)
            .seed(1)
            .fit(&data)
            .unwrap()
            .model;
        let full = cov == Covariance::Full;
        let e = EStep::Gaussian(&model);
        let mut whole = GaussianStats::new(e, full);
        whole
            .accumulate(
                e,
                Batch {
                    rows: x,
                    weights: None,
                    first: 0,
                },
            )
            .unwrap();
        let mut parts = GaussianStats::new(e, full);
        for (lo, m) in [(0, 100), (100, 450), (550, 350)] {
            let mut p = GaussianStats::new(e, full);
            p.accumulate(
                e,
                Batch {
                    rows: x.subrows(lo, m),
                    weights: None,
                    first: lo as u64,
                },
            )
            .unwrap();
            let bytes = p.to_bytes();
            let back = GaussianStats::<f64>::from_bytes(&bytes).unwrap();
            assert_eq!(back.to_bytes(), bytes, "round trip is exact");
            parts.merge(&back).unwrap();
        }
        assert_eq!(parts.n_rows(), 900);
        assert!(rel(parts.log_likelihood(), whole.log_likelihood()) < 1e-13);
        // Truncated, padded, of another scalar type, of another model: refused.
        let bytes = whole.to_bytes();
        for bad in [
            &bytes[..bytes.len() - 1],
            &bytes[..10],
            &[&bytes[..], &[0u8]].concat()[..],
        ] {
            assert!(matches!(
                GaussianStats::<f64>::from_bytes(bad),
                Err(StatsError::Format(_))
            ));
        }
        assert!(GaussianStats::<f32>::from_bytes(&bytes).is_err());
        let other = GaussianMixture::params(2)
            .covariance(cov)
            .seed(1)
            .fit(&data)
            .unwrap()
            .model;
        let o = GaussianStats::new(EStep::Gaussian(&other), full);
        assert!(matches!(parts.merge(&o), Err(StatsError::Mismatch(_))));
        assert!(
            parts
                .accumulate(
                    EStep::Gaussian(&other),
                    Batch {
                        rows: x,
                        weights: None,
                        first: 0
                    }
                )
                .is_err()
        );
    }
}

/// Rows that differ from pass `after` on (counting from 0).
struct Drifting {
    data: Dataset<f64>,
    passes: AtomicUsize,
    after: usize,
    change: fn(&mut Mat<f64>),
}

impl RowSource<f64> for Drifting {
    fn n_features(&self) -> usize {
        self.data.n_features()
    }
    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, f64>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let mut x = self.data.view().to_owned();
        if self.passes.fetch_add(1, Ordering::SeqCst) >= self.after {
            (self.change)(&mut x);
        }
        f(Batch {
            rows: x.as_ref(),
            weights: None,
            first: 0,
        })
    }
}

#[test]
fn a_source_that_changes_between_passes_is_refused() {
    let changes: [fn(&mut Mat<f64>); 3] = [
        |x| x[(17, 1)] += 1e-9,
        |x| {
            let (a, b) = (x[(3, 0)], x[(400, 0)]);
            x[(3, 0)] = b;
            x[(400, 0)] = a;
        },
        |x| *x = x.as_ref().subrows(0, x.nrows() - 1).to_owned(),
    ];
    // From the second pass on (the summary), and from each later pass:
    // the first E-steps are compared with the first pass too, not only with
    // each other.
    for change in changes {
        for after in 1..5 {
            let source = Drifting {
                data: blobs(600, 2, 4),
                passes: AtomicUsize::new(0),
                after,
                change,
            };
            let e = GaussianMixture::params(2).fit_source(&source).unwrap_err();
            assert!(
                matches!(e, FitError::Source(SourceError::Changed { .. })),
                "from pass {after}: {e}"
            );
        }
    }
}

#[test]
fn nan_and_empty_sources_are_refused_with_their_place() {
    let data = blobs(300, 2, 5);
    let mut x = data.view().to_owned();
    x[(123, 1)] = f64::NAN;
    let bad = Drifting {
        data: Dataset::from_mat(data.view()).unwrap(),
        passes: AtomicUsize::new(0),
        after: 0,
        change: |x| x[(123, 1)] = f64::NAN,
    };
    let e = GaussianMixture::params(2).fit_source(&bad).unwrap_err();
    match e {
        FitError::Source(SourceError::NonFinite {
            location, column, ..
        }) => {
            assert_eq!(location, "row 123");
            assert_eq!(column, "1");
        }
        other => panic!("{other}"),
    }
    struct Empty;
    impl RowSource<f64> for Empty {
        fn n_features(&self) -> usize {
            2
        }
        fn for_each_batch(
            &self,
            _: &mut dyn FnMut(Batch<'_, f64>) -> Result<(), SourceError>,
        ) -> Result<(), SourceError> {
            Ok(())
        }
    }
    let e = GaussianMixture::params(2).fit_source(&Empty).unwrap_err();
    assert!(
        matches!(e, FitError::Source(SourceError::Empty { .. })),
        "{e}"
    );
    // Settings that need every row in memory are refused, not ignored.
    let chunked = Chunked::new(&data, 50);
    let e = GaussianMixture::params(2)
        .trim(0.1)
        .fit_source(&chunked)
        .unwrap_err();
    assert!(matches!(e, FitError::NeedsRowsInMemory { .. }), "{e}");
    let _ = StdRng::seed_from_u64(0).random::<u8>();
}

#[test]
fn student_t_batched_fit_equals_in_memory_fit() {
    use mixtures_em::{DegreesOfFreedom, StudentTMixture};
    let data = blobs(2000, 3, 6);
    for cov in [Covariance::Full, Covariance::Diag] {
        let params = StudentTMixture::params(2)
            .covariance(cov)
            .degrees_of_freedom(DegreesOfFreedom::PerComponent)
            .seed(2)
            .tol(0.0)
            .max_iter(10);
        let start = StudentTMixture::params(2)
            .covariance(cov)
            .seed(2)
            .max_iter(2)
            .fit(&data)
            .unwrap()
            .model;
        let memory = params.fit_from(&start, &data).unwrap();
        for chunk in [13, 700] {
            let source = Chunked::new(&data, chunk);
            let batched = params
                .fit_reduced(&Batched::new(&source), Some(&start))
                .unwrap();
            let (a, b) = (&memory.model, &batched.model);
            for (x, y) in a.components().dof().iter().zip(b.components().dof()) {
                assert!(rel(*x, *y) < 1e-10, "{cov:?} {chunk}: dof {x} {y}");
            }
            let (ma, mb) = (a.components().means(), b.components().means());
            for i in 0..ma.nrows() {
                for j in 0..ma.ncols() {
                    assert!(rel(ma[(i, j)], mb[(i, j)]) < 1e-10);
                }
            }
            assert!(rel(memory.report.log_likelihood, batched.report.log_likelihood) < 1e-10);
        }
        // From the sample's start, too.
        let a = params.fit_source(&Chunked::new(&data, 2000)).unwrap();
        let b = params.fit_source(&Chunked::new(&data, 77)).unwrap();
        assert!(rel(a.report.log_likelihood, b.report.log_likelihood) < 1e-10);
    }
}

#[test]
fn laplace_batched_fit_finds_the_exact_medians() {
    use mixtures_em::LaplaceMixture;
    // Many rows per median bin at first, so the brackets narrow over several
    // passes before the rows are collected.
    let data = blobs(30_000, 2, 7);
    for structure in [Covariance::Diag, Covariance::Spherical] {
        let params = LaplaceMixture::params(3)
            .structure(structure)
            .seed(4)
            .tol(0.0)
            .max_iter(6);
        let start = LaplaceMixture::params(3)
            .structure(structure)
            .seed(4)
            .max_iter(2)
            .fit(&data)
            .unwrap()
            .model;
        let memory = params.fit_from(&start, &data).unwrap();
        for chunk in [999, 30_000] {
            let source = Chunked::new(&data, chunk);
            let batched = params.fit_source(&source, Some(&start)).unwrap();
            let (a, b) = (&memory.model, &batched.model);
            let (la, lb) = (a.components().locations(), b.components().locations());
            for i in 0..la.nrows() {
                for j in 0..la.ncols() {
                    assert_eq!(
                        la[(i, j)],
                        lb[(i, j)],
                        "{structure:?} {chunk}: a median is exact"
                    );
                }
            }
            for (x, y) in a.weights().iter().zip(b.weights()) {
                assert!(rel(*x, *y) < 1e-10);
            }
            assert!(rel(memory.report.log_likelihood, batched.report.log_likelihood) < 1e-10);
        }
        let a = params
            .fit_source(&Chunked::new(&data, 30_000), None)
            .unwrap();
        let b = params
            .fit_source(&Chunked::new(&data, 4_321), None)
            .unwrap();
        assert!(rel(a.report.log_likelihood, b.report.log_likelihood) < 1e-10);
    }
}
