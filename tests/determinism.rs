//! The same seed gives bit-identical results whatever the number of threads:
//! each procedure runs in rayon pools of 1, 2 and 7 threads, in `f32` and
//! `f64`, on more rows than one block (1,100 rows: three blocks of 512), and
//! every result must equal the one-thread result exactly: equal under
//! `PartialEq` and with the same `Debug` text. `PartialEq` alone compares
//! numbers, not bits (−0.0 equals 0.0); `Debug` writes every float in its
//! shortest round-trip form, sign included, so equal texts mean equal bits
//! (NaN payloads aside).
//!
//! EM alone is covered by `crates/mixtures-em/tests/initialization.rs`
//! (every initializer, restarts, weights) and evaluation by
//! `crates/mixtures-dist/tests/determinism.rs`; here are the model
//! selection grid, the variational fit and the default detector.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use mixtures::ModelSpec;
use mixtures::mixtures_em::Covariance;
use mixtures::prelude::*;

const THREADS: [usize; 3] = [1, 2, 7];

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// Three overlapping groups in three dimensions, 1,100 rows.
fn data<T: Scalar>() -> Dataset<T> {
    let rows: Vec<[T; 3]> = (0..1100)
        .map(|i| {
            let t = i as f64;
            let u = (t * 0.618_033_988_749_895).fract() - 0.5;
            let v = (t * 0.414_213_562_373_095).fract() - 0.5;
            let w = (t * 0.732_050_807_568_877).fract() - 0.5;
            let c = [[0.0, 0.0, 0.0], [2.5, 1.0, -1.0], [0.0, 3.0, 1.0]][i % 3];
            [
                T::c(c[0] + 2.0 * u),
                T::c(c[1] + 1.5 * v + 0.5 * u),
                T::c(c[2] + w),
            ]
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

/// Runs `f` in every pool and checks that every result equals the first.
fn same_in_every_pool<R>(what: &str, f: impl Fn() -> R + Sync)
where
    R: PartialEq + core::fmt::Debug + Send,
{
    let results: Vec<R> = THREADS.iter().map(|&t| pool(t).install(&f)).collect();
    for (r, t) in results.iter().zip(THREADS).skip(1) {
        assert!(r == &results[0], "{what}: {t} threads differ from 1 thread");
        assert_eq!(
            format!("{r:?}"),
            format!("{:?}", results[0]),
            "{what}: {t} threads differ from 1 thread in the bits"
        );
    }
}

fn grid<T: Scalar>() {
    let x = data::<T>();
    same_in_every_pool(&format!("{} grid", T::NAME), || {
        Grid::<T>::new(1..=3)
            .structures([
                ModelSpec::gaussian(Covariance::Full),
                ModelSpec::gaussian(Covariance::Diag),
                ModelSpec::gaussian(Covariance::Tied),
                ModelSpec::LAPLACE_DIAG,
            ])
            .n_init(2)
            .max_iter(20)
            .seed(5)
            .fit(&x)
            .unwrap()
    });
}

#[test]
fn the_selection_grid_is_bit_identical_for_1_2_and_7_threads() {
    grid::<f64>();
    grid::<f32>();
}

fn variational<T: Scalar>() {
    let x = data::<T>();
    same_in_every_pool(&format!("{} variational", T::NAME), || {
        let f = VariationalGaussianMixture::params::<T>(4)
            .n_init(2)
            .max_iter(15)
            .seed(11)
            .fit(&x)
            .unwrap();
        (f.lower_bound.to_bits(), f.model, f.posterior, f.report)
    });
}

#[test]
fn the_variational_fit_is_bit_identical_for_1_2_and_7_threads() {
    variational::<f64>();
    variational::<f32>();
}

fn auto<T: Scalar>() {
    let x = data::<T>();
    same_in_every_pool(&format!("{} Detector::auto()", T::NAME), || {
        let fit = Detector::<T, Ensemble<T>>::auto().fit(&x).unwrap();
        let scores: Vec<u64> = fit
            .detector
            .score(&x)
            .unwrap()
            .iter()
            .map(|s| s.as_f64().to_bits())
            .collect();
        (fit, scores)
    });
}

#[test]
fn the_default_detector_is_bit_identical_for_1_2_and_7_threads() {
    auto::<f64>();
    auto::<f32>();
}
