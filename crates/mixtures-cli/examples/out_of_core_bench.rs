//! The out-of-core benchmark of issue 20, item 5: EM iterations over Parquet
//! files read in batches against the same iterations in memory, the read
//! speed of Parquet against CSV, and the process's peak memory (`VmHWM`).
//!
//! ```sh
//! cargo run --release -p mixtures-arrow --example make_parquet -- /tmp/b20.parquet 20000000 16 8 7 1000000
//! cargo run --release -p mixtures-cli --example out_of_core_bench -- batched /tmp/b20.parquet
//! cargo run --release -p mixtures-cli --example out_of_core_bench -- memory /tmp/b20.parquet
//! cargo run --release -p mixtures-cli --example out_of_core_bench -- read /tmp/b20.parquet
//! ```
//!
//! `batched` fits k = 8 full covariances in f64 out of core (batches of
//! `BATCH_ROWS`, default 65 536) for 1 + `ITERS` iterations (default 3) and
//! reports the median time between the ends of consecutive iterations (so
//! the passes before the first iteration and after the last are left out),
//! and the peak memory. `memory` loads every row first (its load time per row) and
//! times the same iterations in memory. `read` times one pass that only reads
//! the rows (Parquet, or CSV for a `.csv` path), per row. Run each mode in its
//! own process: the peak memory is the process's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use mixtures_arrow::{Columns, ParquetSource};
use mixtures_core::source::{RowSource, SourceError};
use mixtures_em::{Batched, Control, Covariance, GaussianMixture, Iteration};

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("batched");
    let path = args.get(1).expect("a Parquet file");
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (k, iters, batch) = (env("K", 8), env("ITERS", 3), env("BATCH_ROWS", 65_536));
    // Each iteration's end, stamped by an observer: the time of an
    // iteration is the median gap between consecutive stamps, which leaves
    // out the passes before the first iteration and after the last.
    let stamps: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let params = |it| {
        let stamps = Arc::clone(&stamps);
        GaussianMixture::params::<f64>(k)
            .covariance(Covariance::Full)
            .tol(0.0)
            .max_iter(it)
            .seed(7)
            .observer(move |_: &Iteration| {
                stamps.lock().unwrap().push(Instant::now());
                Control::Continue
            })
    };
    let per_iteration = || {
        let s = stamps.lock().unwrap();
        let mut gaps: Vec<f64> = s.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
        gaps.sort_by(f64::total_cmp);
        gaps.get(gaps.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let threads = rayon::current_num_threads();
    match mode {
        "read" => {
            let t = Instant::now();
            let mut rows = 0u64;
            if path.ends_with(".csv") {
                let sel = mixtures_cli::input::Selection::for_model(None, Vec::new(), false);
                let table =
                    mixtures_cli::input::read_csv::<f64>(std::path::Path::new(path), b',', &sel)
                        .unwrap();
                rows = table.data.n_samples() as u64;
            } else {
                let source = ParquetSource::open(&[path], &Columns::default())
                    .unwrap()
                    .batch_rows(batch);
                RowSource::<f64>::for_each_batch(&source, &mut |b| {
                    rows += b.rows.nrows() as u64;
                    Ok(())
                })
                .unwrap();
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "read {path}: {rows} rows in {s:.2} s, {:.1} ns per row, peak {:.0} MiB",
                s * 1e9 / rows as f64,
                peak_mib()
            );
        }
        "batched" => {
            let source = ParquetSource::open(&[path], &Columns::default())
                .unwrap()
                .batch_rows(batch);
            let t = Instant::now();
            let f = params(1 + iters)
                .fit_reduced(&Batched::new(&source))
                .unwrap();
            let all = t.elapsed().as_secs_f64();
            println!(
                "batched {path}: k={k} full f64, batches of {batch}, {threads} threads: {:.2} s per iteration (median of {iters}); whole fit {all:.2} s; log-likelihood {:.6}; peak {:.0} MiB",
                per_iteration(),
                f.report.log_likelihood,
                peak_mib()
            );
        }
        "memory" => {
            let t = Instant::now();
            let files = ParquetSource::open(&[path], &Columns::default()).unwrap();
            let table = files.files().read_table::<f64>().unwrap();
            let data = table.data;
            let load = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let f = params(1 + iters).fit(&data).unwrap();
            let all = t.elapsed().as_secs_f64();
            println!(
                "memory {path}: load {load:.2} s ({:.1} ns per row); k={k} full f64, {threads} threads: {:.2} s per iteration (median of {iters}); whole fit {all:.2} s; log-likelihood {:.6}; peak {:.0} MiB",
                load * 1e9 / data.n_samples() as f64,
                per_iteration(),
                f.report.log_likelihood,
                peak_mib()
            );
        }
        "csv" => {
            // The first ROWS rows of the Parquet file as CSV (for `read`).
            let out = args.get(2).expect("an output CSV path");
            let limit = env("ROWS", 2_000_000) as u64;
            let source = ParquetSource::open(&[path], &Columns::default()).unwrap();
            let mut seen = 0u64;
            mixtures_core::io::write_atomic(std::path::Path::new(out), |w| {
                writeln!(w, "{}", source.features().join(","))?;
                RowSource::<f64>::for_each_batch(&source, &mut |b| {
                    for i in 0..b.rows.nrows() {
                        if seen >= limit {
                            break;
                        }
                        let row: Vec<String> =
                            b.rows.row(i).iter().map(|v| format!("{v}")).collect();
                        writeln!(w, "{}", row.join(","))
                            .map_err(|e| SourceError::Consumer(e.to_string()))?;
                        seen += 1;
                    }
                    Ok(())
                })
                .map_err(std::io::Error::other)
            })
            .unwrap();
            println!("wrote {seen} rows to {out}");
        }
        other => panic!("unknown mode {other}: read, batched, memory or csv"),
    }
}
