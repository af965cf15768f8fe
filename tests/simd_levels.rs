//! The kernels give the same bits at every SIMD level the processor has
//! (`kernels::set_simd_limit`): fits of every family and covariance
//! structure, their log-densities (near and far from the data) and the
//! default detector, in `f32` and `f64`, compared by `PartialEq` and by their
//! `Debug` text (shortest round-trip floats, so equal texts mean equal bits).
//!
//! On a processor with AVX-512 this compares the baseline (SSE2), AVX2 and
//! AVX-512 builds of the kernels; with AVX2 only, the first two. The limit is
//! process-wide, which is why this is a test binary of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use mixtures::ModelSpec;
use mixtures::mixtures_core::kernels::{SimdLevel, set_simd_limit};
use mixtures::mixtures_em::Covariance;
use mixtures::prelude::*;

/// Three overlapping groups in seven dimensions (more than the kernels'
/// small-dimension cut-off), 1,100 rows (three blocks, a partial tile),
/// offset from the origin.
fn data<T: Scalar>() -> Dataset<T> {
    let rows: Vec<[T; 7]> = (0..1100)
        .map(|i| {
            let t = i as f64;
            let u = |a: f64| (t * a).fract() - 0.5;
            let c = [0.0, 2.5, -1.5][i % 3];
            [
                T::c(100.0 + c + 2.0 * u(0.618_033_988_749_895)),
                T::c(c + 1.5 * u(0.414_213_562_373_095) + 0.5 * u(0.618_033_988_749_895)),
                T::c(-c + u(0.732_050_807_568_877)),
                T::c(0.3 * c + u(0.236_067_977_499_789)),
                T::c(u(0.645_751_311_064_590) * (1.0 + c.abs())),
                T::c(5.0 - c + 0.2 * u(0.316_624_790_355_399)),
                T::c(c * c + u(0.123_105_625_617_660)),
            ]
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

fn levels() -> Vec<SimdLevel> {
    [SimdLevel::Baseline, SimdLevel::Avx2, SimdLevel::Avx512]
        .into_iter()
        .filter(|&l| l <= SimdLevel::available())
        .collect()
}

/// Runs `f` at every level and checks that every result equals the widest's.
fn same_at_every_level<R: PartialEq + core::fmt::Debug>(what: &str, f: impl Fn() -> R) {
    let levels = levels();
    let results: Vec<R> = levels
        .iter()
        .map(|&l| {
            set_simd_limit(l);
            assert_eq!(SimdLevel::current(), l);
            f()
        })
        .collect();
    set_simd_limit(SimdLevel::Avx512);
    let last = results.len() - 1;
    for (r, l) in results.iter().zip(&levels) {
        assert!(
            r == &results[last],
            "{what}: {l:?} differs from {:?}",
            levels[last]
        );
        assert_eq!(
            format!("{r:?}"),
            format!("{:?}", results[last]),
            "{what}: {l:?} differs from {:?} in the bits",
            levels[last]
        );
    }
}

fn fits<T: Scalar>() {
    let x = data::<T>();
    let far = Dataset::<T>::from_rows(&[[T::c(1e4); 7], [T::c(-3e3); 7]]).unwrap();
    let mut specs: Vec<ModelSpec> = Covariance::ALL
        .into_iter()
        .map(ModelSpec::gaussian)
        .collect();
    specs.extend(ModelSpec::LAPLACE);
    specs.push(ModelSpec::student_t(Covariance::Full));
    specs.push(ModelSpec::student_t(Covariance::Diag));
    for spec in specs {
        same_at_every_level(&format!("{} {spec:?}", T::NAME), || {
            let selection = Grid::<T>::new(3..=3)
                .structures([spec])
                .max_iter(15)
                .seed(3)
                .fit(&x)
                .unwrap();
            let model = &selection.model;
            (
                format!("{selection:?}"),
                model.log_prob(&x).unwrap(),
                model.log_prob(&far).unwrap(),
            )
        });
    }
}

/// One test: the limit is process-wide, and tests run side by side.
#[test]
fn every_family_and_the_default_detector_give_the_same_bits_at_every_simd_level() {
    fits::<f64>();
    fits::<f32>();
    let x = data::<f64>();
    same_at_every_level("f64 Detector::auto()", || {
        let fit = Detector::<f64, Ensemble<f64>>::auto().fit(&x).unwrap();
        let scores = fit.detector.score(&x).unwrap();
        (format!("{fit:?}"), scores)
    });
}
