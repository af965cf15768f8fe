//! EM for mixture models on [Apache DataFusion](https://datafusion.apache.org):
//! fit a Gaussian mixture to a table that does not fit in memory (Parquet or
//! CSV files, a SQL view), with DataFusion reading and aggregating the
//! partitions in parallel, and score rows in SQL with the fitted model.
//!
//! - [`EmStep`]: the aggregate UDF `mixture_em_step(f1, ..., fD)`, the
//!   statistics of one E-step under a fixed model; its partial state is the
//!   bytes of [`mixtures_em::GaussianStats`] and merging partial states is
//!   their merge.
//! - [`DataFusionReducer`]: a [`mixtures_em::StatsReducer`] over any
//!   DataFrame that runs one aggregate query per EM iteration;
//!   [`mixtures_em::GaussianParams::fit_reduced`] with it is the fit.
//! - [`MixtureScore`]: the scalar UDF `mixture_score(f1, ..., fD)`, the
//!   anomaly score `−ln p(x)` of each row under a fitted model.
//!
//! The fit equals the in-memory fit of the same rows from the same start
//! (within 1e-10 relative; the sums are added in another order) whatever the
//! number of partitions and files. See docs/distributed.md for SQL, views,
//! casts, Ballista and Spark.
//!
//! ```
//! use std::sync::Arc;
//! use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
//! use datafusion::prelude::SessionContext;
//! use mixtures_datafusion::{DataFusionReducer, MixtureScore};
//! use mixtures_em::{Covariance, GaussianMixture};
//!
//! // A table of two groups of points (here in memory; Parquet and CSV files
//! // register the same way: ctx.register_parquet("points", "dir/", ...)).
//! let (x, y): (Vec<f64>, Vec<f64>) = (0..2000)
//!     .map(|i| {
//!         let t = i as f64 * 0.37;
//!         if i % 2 == 0 { (t.sin(), t.cos()) } else { (6.0 + t.cos(), 4.0 + 0.5 * t.sin()) }
//!     })
//!     .unzip();
//! let ctx = SessionContext::new();
//! ctx.register_batch("points", RecordBatch::try_from_iter([
//!     ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
//!     ("y", Arc::new(Float64Array::from(y)) as ArrayRef),
//! ])?)?;
//!
//! // Fit: one aggregate query per EM iteration.
//! let driver = DataFusionReducer::from_sql(&ctx, "SELECT x, y FROM points")?;
//! let fitted = GaussianMixture::params(2)
//!     .covariance(Covariance::Full)
//!     .seed(7)
//!     .fit_reduced(&driver)?;
//! assert!(fitted.report.converged);
//!
//! // Score in SQL: −ln p(x, y) under the fitted model.
//! ctx.register_udf(MixtureScore::new(fitted.model).udf());
//! let c = ctx.clone();
//! let out = driver.run(async move {
//!     c.sql("SELECT mixture_score(x, y) AS score FROM (VALUES (0.0, 1.0), (20.0, -20.0)) AS t(x, y)")
//!         .await?
//!         .collect()
//!         .await
//! })??;
//! let score = out[0].column(0).as_any().downcast_ref::<Float64Array>().unwrap();
//! assert!(score.value(1) > score.value(0) + 50.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod convert;
mod driver;
mod pool;
mod score;
mod udaf;

pub use driver::{DataFusionReducer, DataFusionRows};
pub use score::{MixtureScore, SCORE_NAME};
pub use udaf::{EM_STEP_NAME, EmStep};

/// The DataFusion this crate is built with (its `SessionContext`,
/// `DataFrame`, arrow and parquet), re-exported so that callers use the
/// same version.
pub use datafusion;
