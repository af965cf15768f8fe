//! Foundations of the `mixtures` workspace: the [`Scalar`] bound (`f32` or `f64`),
//! error types that say where a problem is, the validated [`Dataset`], and the
//! numeric kernels the mixture crates are built from.
//!
//! ```
//! use mixtures_core::{Cholesky, Dataset, log_sum_exp};
//! use faer::mat;
//!
//! // Data is checked once: shape, finiteness, weights.
//! let data = Dataset::from_row_major(&[0.0_f64, 1.0, 2.0, 3.0], 2, 2)?;
//! assert_eq!(data.n_samples(), 2);
//!
//! // Log-sum-exp never overflows.
//! let l = log_sum_exp(&[1000.0_f64, 1000.0]);
//! assert!((l - (1000.0 + 2f64.ln())).abs() < 1e-12);
//!
//! // Cholesky with a conditioning check and the log-determinant.
//! let chol = Cholesky::new(mat![[4.0_f64, 2.0], [2.0, 3.0]].as_ref())?;
//! assert!((chol.log_det() - 8f64.ln()).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod chi2;
mod dataset;
mod error;
pub mod io;
pub mod kernels;
mod ln1p;
pub mod missing;
pub mod par;
mod scalar;
pub mod seed;
#[cfg(feature = "serde")]
pub mod serde_mat;
pub mod source;
pub mod special;

pub use dataset::Dataset;
pub use error::{DataError, LinalgError, ParamValue};
pub use kernels::{CHUNK_ROWS, Cholesky, log_sum_exp};
pub use scalar::{LN_2PI, Scalar};

/// Re-export of faer, so that users name the same version the workspace uses.
pub use faer;
