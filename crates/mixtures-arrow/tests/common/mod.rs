//! Small files written for the tests: Parquet through `ArrowWriter`, Arrow
//! IPC through the file and stream writers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    dead_code
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mixtures_arrow::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use mixtures_arrow::arrow::datatypes::{Field, Schema};
use mixtures_arrow::arrow::ipc::writer::{FileWriter, StreamWriter};
use mixtures_arrow::parquet::arrow::ArrowWriter;
use mixtures_arrow::parquet::basic::Compression;
use mixtures_arrow::parquet::file::properties::WriterProperties;
use mixtures_core::Dataset;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// A fresh directory for one test.
pub fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixtures-arrow-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Three groups of rows in `d` features, far from the origin.
pub fn blobs(n: usize, d: usize, seed: u64) -> Dataset<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let c = (i % 3) as f64;
            (0..d)
                .map(|j| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    50.0 + 4.0 * c * ((j % 2) as f64 - 0.5) + (1.0 + 0.3 * c) * z + 0.2 * j as f64
                })
                .collect()
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

/// The feature names `x0, x1, ...`.
pub fn names(d: usize) -> Vec<String> {
    (0..d).map(|j| format!("x{j}")).collect()
}

/// Rows `range` of `data` as a record batch of Float64 columns `x0..`.
pub fn batch_of(data: &Dataset<f64>, range: std::ops::Range<usize>) -> RecordBatch {
    let cols: Vec<(String, ArrayRef)> = names(data.n_features())
        .into_iter()
        .enumerate()
        .map(|(j, n)| {
            let a: ArrayRef = Arc::new(Float64Array::from(data.column(j)[range.clone()].to_vec()));
            (n, a)
        })
        .collect();
    batch(cols)
}

/// A record batch of named columns (every field nullable).
pub fn batch(cols: Vec<(String, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

/// Writes batches to a Parquet file with row groups of `group` rows,
/// snappy-compressed.
pub fn write_parquet(path: &Path, batches: &[RecordBatch], group: usize) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .set_compression(Compression::SNAPPY)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

/// Writes batches to an Arrow IPC file (`stream`: the stream format).
pub fn write_ipc(path: &Path, batches: &[RecordBatch], stream: bool) {
    let file = std::fs::File::create(path).unwrap();
    if stream {
        let mut w = StreamWriter::try_new(file, &batches[0].schema()).unwrap();
        for b in batches {
            w.write(b).unwrap();
        }
        w.finish().unwrap();
    } else {
        let mut w = FileWriter::try_new(file, &batches[0].schema()).unwrap();
        for b in batches {
            w.write(b).unwrap();
        }
        w.finish().unwrap();
    }
}

/// `data` split into record batches of `per` rows.
pub fn batches(data: &Dataset<f64>, per: usize) -> Vec<RecordBatch> {
    let n = data.n_samples();
    (0..n.div_ceil(per))
        .map(|b| batch_of(data, b * per..((b + 1) * per).min(n)))
        .collect()
}
