//! Time per EM iteration of the DataFusion driver against the out-of-core
//! driver (`Batched` over a plain Parquet reader) and an in-memory pass, on
//! the same Parquet files: k = 8 full covariances, 16 features, f64.
//!
//! ```sh
//! cargo run --release -p mixtures-datafusion --example datafusion_timing -- \
//!     [ROWS (2000000)] [DIR (a temporary directory)] [REPEATS (5)] [PARTITIONS (cores)]
//! ```
//!
//! Writes ROWS rows from a known 8-component mixture into 4 Parquet files
//! (row groups of 131 072 rows, no compression, no dictionary) unless DIR
//! already holds them, fits a start model on the first 100 000 rows, then
//! times REPEATS E-steps (one pass over every row under the start model:
//! what each EM iteration reads; the M-step from the statistics is
//! microseconds) of:
//! - `memory`: every row in memory (one `GaussianStats::accumulate`);
//! - `batched`: `mixtures_em::Batched` over a Parquet reader (the parquet
//!   crate's synchronous reader, one file after the other, batches of 8192
//!   rows): the out-of-core driver;
//! - `datafusion`: `DataFusionReducer::reduce`, one aggregate query over
//!   the files registered as a table (PARTITIONS partitions);
//!
//! and a whole fit of 5 iterations through each driver
//! (`fit_reduced_from`, tol 0), whose models must agree within 1e-10.
//! The files stay in DIR when it is given, so that later runs read them
//! from the page cache.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use faer::Mat;
use mixtures_core::Dataset;
use mixtures_core::source::{Batch, RowSource, SourceError};
use mixtures_datafusion::DataFusionReducer;
use mixtures_em::{Batched, Covariance, EStep, GaussianMixture, GaussianStats, StatsReducer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

const D: usize = 16;
const K: usize = 8;
const FILES: usize = 4;
const GROUP: usize = 131_072;
const BATCH: usize = 8192;

/// Rows `[lo, hi)` of the data: row `i` from component `i % K` (a mean per
/// component, a scale per feature), drawn with a seed per block of rows.
fn rows(lo: usize, hi: usize) -> Vec<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(lo as u64);
    let mut centres = StdRng::seed_from_u64(12345);
    let means: Vec<Vec<f64>> = (0..K)
        .map(|_| (0..D).map(|_| centres.random_range(-10.0..10.0)).collect())
        .collect();
    (0..D)
        .map(|j| {
            (lo..hi)
                .map(|i| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    means[i % K][j] + (1.0 + 0.1 * j as f64) * z
                })
                .collect()
        })
        .collect()
}

fn write_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    let files: Vec<PathBuf> = (0..FILES)
        .map(|f| dir.join(format!("part-{f}.parquet")))
        .collect();
    if files.iter().all(|f| f.exists()) {
        println!("reading the existing files in {}", dir.display());
        return files;
    }
    let t = Instant::now();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(GROUP))
        .set_dictionary_enabled(false)
        .build();
    for (f, path) in files.iter().enumerate() {
        let (lo, hi) = (f * n / FILES, (f + 1) * n / FILES);
        // Written beside the destination and renamed into place, so an
        // interrupted run leaves no partial file that a later run would read.
        mixtures_core::io::write_atomic(path, |out| {
            let batch_of =
                |lo: usize, hi: usize| {
                    RecordBatch::try_from_iter(rows(lo, hi).into_iter().enumerate().map(
                        |(j, c)| (format!("f{j}"), Arc::new(Float64Array::from(c)) as ArrayRef),
                    ))
                    .map_err(std::io::Error::other)
                };
            let first = batch_of(lo, (lo + GROUP).min(hi))?;
            let mut w = ArrowWriter::try_new(out, first.schema(), Some(props.clone()))
                .map_err(std::io::Error::other)?;
            w.write(&first).map_err(std::io::Error::other)?;
            let mut start = (lo + GROUP).min(hi);
            while start < hi {
                let end = (start + GROUP).min(hi);
                w.write(&batch_of(start, end)?)
                    .map_err(std::io::Error::other)?;
                start = end;
            }
            w.close().map(drop).map_err(std::io::Error::other)
        })
        .unwrap();
    }
    println!(
        "wrote {n} rows into {} files in {:.1} s",
        FILES,
        t.elapsed().as_secs_f64()
    );
    files
}

/// The files read one after the other with the parquet crate's reader.
struct ParquetRows {
    files: Vec<PathBuf>,
}

impl RowSource<f64> for ParquetRows {
    fn n_features(&self) -> usize {
        D
    }

    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, f64>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let err = |e: &dyn std::fmt::Display| SourceError::Read {
            location: "parquet".into(),
            message: e.to_string(),
        };
        let mut buf = Mat::<f64>::zeros(BATCH, D);
        let mut first = 0u64;
        for path in &self.files {
            let file = File::open(path).map_err(|e| err(&e))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| err(&e))?
                .with_batch_size(BATCH)
                .build()
                .map_err(|e| err(&e))?;
            for b in reader {
                let b = b.map_err(|e| err(&e))?;
                let m = b.num_rows();
                for j in 0..D {
                    let c = b.column(j).as_any().downcast_ref::<Float64Array>().unwrap();
                    buf.col_as_slice_mut(j)[..m].copy_from_slice(c.values());
                }
                f(Batch {
                    rows: buf.as_ref().subrows(0, m),
                    weights: None,
                    first,
                })?;
                first += m as u64;
            }
        }
        Ok(())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(2_000_000, |s| s.parse().unwrap());
    let temp = tempfile::tempdir().unwrap();
    let dir = args
        .get(2)
        .map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let repeats: usize = args.get(3).map_or(5, |s| s.parse().unwrap());
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let partitions: usize = args.get(4).map_or(cores, |s| s.parse().unwrap());
    println!(
        "{n} rows x {D} features, k = {K} full, f64; {cores} cores, {partitions} DataFusion partitions, \
         rayon threads {}",
        rayon::current_num_threads()
    );

    let files = write_files(&dir, n);
    let sample = rows(0, 100_000);
    let sample = Dataset::from_col_major(&sample.concat(), 100_000, D).unwrap();
    let start = GaussianMixture::params(K)
        .covariance(Covariance::Full)
        .seed(1)
        .max_iter(3)
        .fit(&sample)
        .unwrap()
        .model;
    let e = EStep::Gaussian(&start);

    let parquet = ParquetRows {
        files: files.clone(),
    };
    let batched = Batched::new(&parquet);
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(ctx.register_parquet("t", dir.to_str().unwrap(), ParquetReadOptions::default()))
        .unwrap();
    let driver = DataFusionReducer::from_table(&ctx, "t").unwrap();

    // Warm the page cache and check that both passes agree.
    let a = batched.reduce(e, true).unwrap();
    let b = driver.reduce(e, true).unwrap();
    assert_eq!(a.n_rows(), n as u64);
    assert_eq!(b.n_rows(), n as u64);
    let gap = (a.log_likelihood() - b.log_likelihood()).abs() / a.log_likelihood().abs();
    println!("one E-step: batched and DataFusion log-likelihoods differ by {gap:.1e} relative");

    let times = |name: &str, f: &dyn Fn() -> GaussianStats<f64>| {
        let ts: Vec<f64> = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                let s = f();
                assert_eq!(s.n_rows(), n as u64);
                t.elapsed().as_secs_f64()
            })
            .collect();
        let m = median(ts.clone());
        println!(
            "{name:>11}: {m:.3} s per E-step (median of {repeats}; {:.0} ns per row; all: {})",
            m * 1e9 / n as f64,
            ts.iter()
                .map(|t| format!("{t:.3}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        m
    };
    let t_batched = times("batched", &|| batched.reduce(e, true).unwrap());
    let t_df = times("datafusion", &|| driver.reduce(e, true).unwrap());
    // In memory, if the rows fit (the files read once into one data set).
    let memory = (n <= 20_000_000).then(|| {
        let mut cols: Vec<Vec<f64>> = (0..D).map(|_| Vec::with_capacity(n)).collect();
        parquet
            .for_each_batch(&mut |b| {
                for (j, c) in cols.iter_mut().enumerate() {
                    c.extend(b.rows.col(j).iter().copied());
                }
                Ok(())
            })
            .unwrap();
        Dataset::from_col_major(&cols.concat(), n, D).unwrap()
    });
    let t_memory = memory.as_ref().map(|data| {
        times("memory", &|| {
            let mut s = GaussianStats::new(e, true);
            s.accumulate(
                e,
                Batch {
                    rows: data.view(),
                    weights: None,
                    first: 0,
                },
            )
            .unwrap();
            s
        })
    });
    println!(
        "DataFusion / batched: {:.2}x{}",
        t_df / t_batched,
        t_memory.map_or(String::new(), |m| format!(
            "; batched / memory: {:.2}x; DataFusion / memory: {:.2}x",
            t_batched / m,
            t_df / m
        ))
    );

    // Whole fits of 5 iterations from the start model.
    let params = GaussianMixture::params(K)
        .covariance(Covariance::Full)
        .tol(0.0)
        .max_iter(5);
    let t = Instant::now();
    let fb = params.fit_reduced_from(&start, &batched).unwrap();
    let tb = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let fd = params.fit_reduced_from(&start, &driver).unwrap();
    let td = t.elapsed().as_secs_f64();
    let rel = |x: f64, y: f64| (x - y).abs() / x.abs().max(y.abs());
    let (ma, mb) = (fb.model.components().means(), fd.model.components().means());
    let mut gap = rel(fb.report.log_likelihood, fd.report.log_likelihood);
    for i in 0..K {
        for j in 0..D {
            gap = gap.max(rel(ma[(i, j)], mb[(i, j)]));
        }
    }
    println!(
        "fit of {} iterations (with the first pass over the rows): batched {tb:.2} s, DataFusion {td:.2} s; \
         models differ by {gap:.1e} relative",
        fb.report.n_iter
    );
    assert!(gap < 1e-10);
}
