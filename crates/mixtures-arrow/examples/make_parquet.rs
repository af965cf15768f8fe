//! Writes a Parquet file of rows drawn from a known Gaussian mixture, for
//! benchmarks and tests of the out-of-core fit:
//!
//! ```sh
//! cargo run --release -p mixtures-arrow --example make_parquet -- \
//!     data.parquet 20000000 16 8 7 1000000
//! #   PATH ROWS FEATURES COMPONENTS SEED ROW_GROUP_ROWS
//! ```
//!
//! The columns are `x0, x1, ...` (Float64), snappy-compressed. Memory holds
//! one row group, never the file, so any number of rows can be written. The
//! file is written under a temporary name beside `PATH` and renamed when
//! complete: no half-written file ever has the final name. The mixture
//! (weights, means, covariance factors) is printed to standard error as JSON,
//! so a fit can be compared with the truth.

use std::path::PathBuf;
use std::sync::Arc;

use mixtures_arrow::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use mixtures_arrow::arrow::datatypes::{DataType, Field, Schema};
use mixtures_arrow::parquet::arrow::ArrowWriter;
use mixtures_arrow::parquet::basic::Compression;
use mixtures_arrow::parquet::file::properties::WriterProperties;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// A Gaussian mixture to draw from: weights, means and lower-triangular
/// factors `L` of the covariances `L Lᵀ` (row-major `d x d`).
struct Truth {
    weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    factors: Vec<Vec<f64>>,
}

impl Truth {
    /// `k` components in `d` features: means spread over a cube of side 20,
    /// factors with diagonals in [0.5, 1.5] and small correlations, weights
    /// between 1 and 3 before normalizing.
    fn new(k: usize, d: usize, rng: &mut StdRng) -> Self {
        let raw: Vec<f64> = (0..k).map(|_| rng.random_range(1.0..3.0)).collect();
        let total: f64 = raw.iter().sum();
        let means = (0..k)
            .map(|_| (0..d).map(|_| rng.random_range(-10.0..10.0)).collect())
            .collect();
        let factors = (0..k)
            .map(|_| {
                let mut l = vec![0.0; d * d];
                for i in 0..d {
                    for j in 0..i {
                        l[i * d + j] = 0.3 * rng.sample::<f64, _>(StandardNormal);
                    }
                    l[i * d + i] = rng.random_range(0.5..1.5);
                }
                l
            })
            .collect();
        Self {
            weights: raw.iter().map(|w| w / total).collect(),
            means,
            factors,
        }
    }

    /// Draws `n` rows into `cols` (one vector per feature, cleared first).
    fn draw(&self, n: usize, rng: &mut StdRng, cols: &mut [Vec<f64>]) {
        let d = cols.len();
        for c in cols.iter_mut() {
            c.clear();
        }
        let mut z = vec![0.0; d];
        for _ in 0..n {
            let u: f64 = rng.random();
            let mut k = 0;
            let mut acc = self.weights[0];
            while u >= acc && k + 1 < self.weights.len() {
                k += 1;
                acc += self.weights[k];
            }
            for v in &mut z {
                *v = rng.sample(StandardNormal);
            }
            let l = &self.factors[k];
            for (i, col) in cols.iter_mut().enumerate() {
                let dot: f64 = (0..=i).map(|j| l[i * d + j] * z[j]).sum();
                col.push(self.means[k][i] + dot);
            }
        }
    }

    fn json(&self) -> String {
        let list = |v: &[f64]| {
            let parts: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
            format!("[{}]", parts.join(","))
        };
        let nested = |vs: &[Vec<f64>]| {
            let parts: Vec<String> = vs.iter().map(|v| list(v)).collect();
            format!("[{}]", parts.join(","))
        };
        format!(
            "{{\"weights\":{},\"means\":{},\"factors\":{}}}",
            list(&self.weights),
            nested(&self.means),
            nested(&self.factors)
        )
    }
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, name: &str) -> T {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| usage(&format!("{name} is missing or not a number")))
}

fn usage(why: &str) -> ! {
    eprintln!(
        "make_parquet: {why}\nusage: make_parquet PATH ROWS FEATURES COMPONENTS SEED ROW_GROUP_ROWS"
    );
    std::process::exit(2)
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn write(
    out: &mut (dyn std::io::Write + Send),
    rows: usize,
    d: usize,
    truth: &Truth,
    seed: u64,
    group: usize,
) -> Result<(), Failure> {
    let fields: Vec<Field> = (0..d)
        .map(|j| Field::new(format!("x{j}"), DataType::Float64, false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(group))
        .build();
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cols = vec![Vec::with_capacity(group); d];
    // Batches of at most 64 Ki rows into row groups of `group` rows: the
    // writer holds one row group's encoded pages, the loop one batch.
    let step = group.min(65_536);
    let mut written = 0;
    while written < rows {
        let m = step.min(rows - written);
        truth.draw(m, &mut rng, &mut cols);
        let arrays: Vec<ArrayRef> = cols
            .iter()
            .map(|c| Arc::new(Float64Array::from(c.clone())) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        writer.write(&batch)?;
        written += m;
    }
    writer.close()?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 6 {
        usage("six arguments are needed");
    }
    let path = PathBuf::from(&args[0]);
    let rows: usize = arg(&args, 1, "ROWS");
    let d: usize = arg(&args, 2, "FEATURES");
    let k: usize = arg(&args, 3, "COMPONENTS");
    let seed: u64 = arg(&args, 4, "SEED");
    let group: usize = arg(&args, 5, "ROW_GROUP_ROWS");
    if d == 0 || k == 0 || group == 0 {
        usage("FEATURES, COMPONENTS and ROW_GROUP_ROWS must be at least 1");
    }
    // The mixture depends on the seed alone, the rows on the seed and the
    // row count: the same arguments write the same file.
    let truth = Truth::new(k, d, &mut StdRng::seed_from_u64(seed ^ 0x5eed));
    // Written beside the destination and renamed into place: the final
    // name never holds a partial file, whatever fails.
    let done = mixtures_core::io::write_atomic(&path, |out| {
        write(out, rows, d, &truth, seed, group).map_err(std::io::Error::other)
    });
    if let Err(e) = done {
        eprintln!("make_parquet: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    eprintln!("{}", truth.json());
    println!(
        "wrote {} ({rows} rows x {d} features, {k} components)",
        path.display()
    );
}
