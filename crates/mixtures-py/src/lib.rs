//! Python bindings of `mixtures`: the extension module `mixtures._native`,
//! which the pure-Python package in `python/mixtures` wraps in
//! scikit-learn- and PyOD-compatible classes (docs/python.md).
//!
//! The module is deliberately small: a fitted [`model::PyModel`] and
//! [`detector::PyDetector`] (both read and written as the command line's
//! files), the fits, and the metrics. Parameter checking that scikit-learn
//! users expect (`validate_data`, `random_state`, ...) is done in Python;
//! everything numeric is the library's, and every library error arrives as
//! a `ValueError` carrying the library's message.
//!
//! The crate builds without Python (PyO3's `abi3-py39` needs no
//! interpreter at build time); maturin turns on `extension-module`.

pub mod convert;
pub mod detector;
pub mod fit;
pub mod metrics;
pub mod model;
pub mod rules;

use pyo3::prelude::*;

/// Whether the workspace was built with optimizations: the benchmark and
/// the docs warn when timing a debug build.
#[pyfunction]
fn release_build() -> bool {
    !cfg!(debug_assertions)
}

/// Nothing, from Rust: the benchmark's measure of the cost of one call
/// through the binding.
#[pyfunction]
fn noop() {}

/// The native half of the `mixtures` Python package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::PyModel>()?;
    m.add_class::<detector::PyDetector>()?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(fit::fit_variational, m)?)?;
    m.add_function(wrap_pyfunction!(fit::initial_responsibilities, m)?)?;
    m.add_function(wrap_pyfunction!(detector::fit_detector, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::roc_auc, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::average_precision, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::roc_curve, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::precision_recall_curve, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::fit_threshold, m)?)?;
    m.add_function(wrap_pyfunction!(release_build, m)?)?;
    m.add_function(wrap_pyfunction!(noop, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("THRESHOLD_RULES", rules::RULES.to_vec())?;
    Ok(())
}
