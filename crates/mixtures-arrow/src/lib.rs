//! Parquet and Arrow IPC files as rows for the mixtures workspace: a
//! [`RowSource`](mixtures_core::source::RowSource) that an out-of-core fit
//! reads once per EM iteration, in batches of a bounded number of rows, and
//! a full read into a [`Dataset`](mixtures_core::Dataset) for what needs
//! every row in memory.
//!
//! - [`ParquetSource`] and [`ArrowIpcSource`] (or [`ArrowFiles`], whose
//!   format is chosen at run time by [`Format::of`]): one file or many, in
//!   order; [`expand`] turns a directory or a glob into the list.
//! - Columns ([`Columns`]): by default every column is a feature except a
//!   label column; integer, float and decimal columns are read, cast to the
//!   scalar type; a feature that is not numeric is an error naming it.
//! - Every file must have the first file's columns (names and types, in any
//!   order); a null, NaN or infinity is an error naming the file, the row
//!   (counted from 0 within the file) and the column.
//! - Missing values ([`Columns::nulls_as_missing`]): a null or NaN in a
//!   feature column is read as NaN, for
//!   [`Dataset::with_missing`](mixtures_core::Dataset::with_missing),
//!   instead of an error (an infinity and a null label still are errors).
//!
//! ```
//! use std::sync::Arc;
//! use mixtures_arrow::arrow::array::{Float64Array, Int64Array, RecordBatch};
//! use mixtures_arrow::arrow::datatypes::{DataType, Field, Schema};
//! use mixtures_arrow::parquet::arrow::ArrowWriter;
//! use mixtures_arrow::{ArrowFiles, Columns, Format, ParquetSource};
//! use mixtures_em::GaussianMixture;
//!
//! // A small Parquet file: two features and a label column.
//! let dir = std::env::temp_dir().join(format!("mixtures-arrow-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("train.parquet");
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("x", DataType::Float64, false),
//!     Field::new("y", DataType::Float64, false),
//!     Field::new("label", DataType::Int64, false),
//! ]));
//! let x: Vec<f64> = (0..200).map(|i| if i % 2 == 0 { (i as f64 * 0.37).sin() } else { 8.0 + (i as f64).cos() }).collect();
//! let y: Vec<f64> = (0..200).map(|i| (i as f64 * 0.61).cos() + (i % 2) as f64 * 5.0).collect();
//! let batch = RecordBatch::try_new(schema.clone(), vec![
//!     Arc::new(Float64Array::from(x)),
//!     Arc::new(Float64Array::from(y)),
//!     Arc::new(Int64Array::from(vec![0i64; 200])),
//! ])?;
//! // Written to a temporary file and renamed into place, as every file is.
//! mixtures_core::io::write_atomic(&path, |out| {
//!     let mut writer = ArrowWriter::try_new(out, schema, None).map_err(std::io::Error::other)?;
//!     writer.write(&batch).map_err(std::io::Error::other)?;
//!     writer.close().map(drop).map_err(std::io::Error::other)
//! })?;
//!
//! // Read it in batches of 64 rows; the column named `label` is left out.
//! let columns = Columns { label_by_name: true, ..Columns::default() };
//! let source = ParquetSource::open(&[&path], &columns)?.batch_rows(64);
//! assert_eq!(source.features(), ["x", "y"]);
//! let fitted = GaussianMixture::params::<f64>(2).seed(1).fit_source(&source)?;
//! assert_eq!(fitted.model.n_components(), 2);
//!
//! // Or every row in memory, with the labels.
//! let labelled = Columns { label: Some("label".into()), ..Columns::default() };
//! let table = ArrowFiles::open(&[&path], Format::Parquet, &labelled)?.read_table::<f64>()?;
//! assert_eq!(table.data.n_samples(), 200);
//! assert_eq!(table.labels.as_deref().map(<[u8]>::len), Some(200));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod columns;
mod convert;
mod files;
mod source;
mod table;
mod typed;

pub use arrow;
pub use parquet;

pub use columns::{Columns, LABEL_NAME, Layout, is_numeric, schema_difference};
pub use files::{Format, expand};
pub use source::{ArrowFiles, Chunk, DEFAULT_BATCH_ROWS};
pub use table::Table;
pub use typed::{ArrowIpcSource, ParquetSource};
