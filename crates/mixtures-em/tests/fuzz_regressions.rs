//! Inputs found by the fuzz targets in `fuzz/` (see `fuzz/README.md`), kept as
//! regular tests: each failed before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mixtures_core::Dataset;
use mixtures_em::{FitError, LaplaceMixture};

/// `fuzz/corpus/fit/laplace-f32-huge-scale-floor`: a scale floor of 3.4e38 is
/// finite in `f32`, but the log-density's `ln(2b)` overflows, so the fit
/// returned a model whose log-likelihood was −∞. The floor is refused instead.
#[test]
fn a_scale_floor_beyond_the_precision_is_refused() {
    let data = Dataset::from_rows(&[[6.0_f32], [6.0], [6.375], [6.0]]).unwrap();
    let fit = LaplaceMixture::params::<f32>(2)
        .scale_floor(3.4e38)
        .fit(&data);
    assert!(
        matches!(
            fit,
            Err(FitError::InvalidParameter {
                name: "scale_floor",
                ..
            })
        ),
        "{fit:?}"
    );
    // In f64 the same floor is fine.
    let data = Dataset::from_rows(&[[6.0_f64], [6.0], [6.375], [6.0]]).unwrap();
    let fit = LaplaceMixture::params::<f64>(2)
        .scale_floor(3.4e38)
        .fit(&data)
        .unwrap();
    assert!(fit.report.log_likelihood.is_finite());
}

/// `fuzz/corpus/fit/laplace-f32-sum-overflow`: three rows at 3.4e38 in f32.
/// The range check bounded Laplace fits by squares in f64 only, but the mean
/// absolute deviation sums `|x − m|` in f32, which overflowed: the scale was
/// ∞ and the log-likelihood −∞. Refused now, before any work.
#[test]
fn laplace_f32_sums_of_deviations_that_overflow_are_refused() {
    let mut rows = vec![[9.75_f32]; 12];
    rows.extend([[3.4e38_f32]; 3]);
    let data = Dataset::from_rows(&rows).unwrap();
    let fit = LaplaceMixture::params::<f32>(1).fit(&data);
    assert!(
        matches!(fit, Err(FitError::DataScale { column: 0, .. })),
        "{fit:?}"
    );
    // Data well inside the range still fit.
    let rows: Vec<[f32; 1]> = (0..15).map(|i| [1e30 * i as f32]).collect();
    let fit = LaplaceMixture::params::<f32>(1)
        .fit(&Dataset::from_rows(&rows).unwrap())
        .unwrap();
    assert!(fit.report.log_likelihood.is_finite());
}
