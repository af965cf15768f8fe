//! The boundary: NumPy arrays in (read in place), errors out as Python
//! exceptions, and the work run without the GIL in a pool of the requested
//! size.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use mixtures_core::{Dataset, Scalar};
use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// The two precisions the library fits in, as NumPy elements.
pub trait Float: Scalar + numpy::Element {
    /// NumPy's name of the type, as the Python layer spells `dtype`.
    const DTYPE: &'static str;
}

impl Float for f32 {
    const DTYPE: &'static str = "float32";
}

impl Float for f64 {
    const DTYPE: &'static str = "float64";
}

/// A `ValueError` carrying the library's message.
pub fn value_error(e: impl Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A model-file error: I/O failures become `OSError` (`FileNotFoundError`
/// when the file is absent, checked by the caller), everything else a
/// `ValueError`.
pub fn model_error(e: mixtures_dist::ModelError) -> PyErr {
    match e {
        mixtures_dist::ModelError::Io { .. } => PyOSError::new_err(e.to_string()),
        other => value_error(other),
    }
}

/// `FileNotFoundError` before the library reports the same as a generic I/O
/// error, so that Python code can catch the usual exception.
fn require_file(path: &str) -> PyResult<()> {
    if std::path::Path::new(path).exists() {
        Ok(())
    } else {
        Err(PyFileNotFoundError::new_err(format!(
            "no such file: {path}"
        )))
    }
}

/// The text of a model or detector file: `FileNotFoundError` when it does
/// not exist, `OSError` when it cannot be read.
///
/// # Errors
/// As said.
pub fn read_text(path: &str) -> PyResult<String> {
    require_file(path)?;
    std::fs::read_to_string(path)
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{path}: {e}")))
}

/// A 2-D array borrowed from NumPy, in whichever contiguous layout it has.
/// The slices are `Send`, so the data set can be built after the GIL is
/// released.
pub enum Rows<'a, T> {
    /// C order: row-major.
    RowMajor(&'a [T], usize, usize),
    /// Fortran order: column-major, the library's own layout.
    ColMajor(&'a [T], usize, usize),
    /// Neither: copied once here (a strided view, a negative step).
    Copied(Vec<T>, usize, usize),
}

impl<'a, T: Float> Rows<'a, T> {
    /// Reads `x` in place when it is C- or Fortran-contiguous.
    pub fn new(x: &'a PyReadonlyArray2<'_, T>) -> Self {
        let shape = x.shape();
        let (n, d) = (shape[0], shape[1]);
        if let Ok(s) = x.as_slice() {
            // One row or one column is both C and F contiguous: the same
            // order of values either way.
            if x.is_c_contiguous() {
                return Self::RowMajor(s, n, d);
            }
            if x.is_fortran_contiguous() {
                return Self::ColMajor(s, n, d);
            }
        }
        let view = x.as_array();
        let mut v = Vec::with_capacity(n * d);
        for j in 0..d {
            v.extend(view.column(j).iter().copied());
        }
        Self::Copied(v, n, d)
    }

    /// The library's checked data set (its one copy, into the column-major
    /// layout every kernel reads; the check names the first bad value).
    pub fn dataset(&self) -> PyResult<Dataset<T>> {
        match self {
            Self::RowMajor(s, n, d) => Dataset::from_row_major(s, *n, *d),
            Self::ColMajor(s, n, d) => Dataset::from_col_major(s, *n, *d),
            Self::Copied(v, n, d) => Dataset::from_col_major(v, *n, *d),
        }
        .map_err(value_error)
    }
}

/// A 1-D array borrowed from NumPy (contiguous) or copied (strided).
pub fn vector<T: numpy::Element + Copy>(x: &PyReadonlyArray1<'_, T>) -> Vec<T> {
    match x.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => x.as_array().iter().copied().collect(),
    }
}

/// Rayon pools by size, kept for the life of the process: building one
/// costs more than a small fit, and programs ask for few sizes.
static POOLS: Mutex<BTreeMap<usize, Arc<rayon::ThreadPool>>> = Mutex::new(BTreeMap::new());

fn pool(n: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    let mut pools = POOLS
        .lock()
        .map_err(|_| PyRuntimeError::new_err("the thread-pool registry is poisoned"))?;
    if let Some(p) = pools.get(&n) {
        return Ok(Arc::clone(p));
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("mixtures-{i}"))
            .build()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start {n} threads: {e}")))?,
    );
    pools.insert(n, Arc::clone(&p));
    Ok(p)
}

/// Runs `work` with the GIL released, in a pool of `n_threads` threads
/// (`None` or 0: rayon's global pool, one thread per core). A panic (a bug:
/// the library returns errors for bad input) is turned into a
/// `RuntimeError` here rather than crossing into Python as pyo3's
/// `PanicException`, which `except Exception` does not catch.
pub fn run<R: Send>(
    py: Python<'_>,
    n_threads: Option<usize>,
    work: impl FnOnce() -> PyResult<R> + Send,
) -> PyResult<R> {
    let pool = match n_threads {
        None | Some(0) => None,
        Some(n) => Some(pool(n)?),
    };
    py.detach(move || {
        let guarded = AssertUnwindSafe(work);
        let result = match &pool {
            Some(p) => p.install(|| catch_unwind(guarded)),
            None => catch_unwind(guarded),
        };
        result.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(PyRuntimeError::new_err(format!(
                "internal error in mixtures (please report it): {what}"
            )))
        })
    })
}

/// The seed of a fit from Python's integer (any `u64`).
pub fn seed(s: Option<u64>) -> u64 {
    s.unwrap_or(mixtures_em::DEFAULT_SEED)
}
