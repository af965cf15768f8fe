//! ROC AUC of a Gaussian mixture's two scores for rows with missing
//! features (issue 22, item 4), on the ODDS sets of `../shared/data`, with
//! 0, 10, 30 and 50 % of the cells removed at random:
//!
//! `cargo run --release --example missing_auc [K | bic] [DIR]` (default
//! K = 1, `detect --missing`'s default; `bic`: the mixture BIC chooses over
//! k 1..8 × full, tied, diag, spherical on the observed data, with sets of
//! more than 100 features left out, each grid there taking hours on 2 cores;
//! DIR: every `*.csv` or `*.csv.gz` file in that folder, such as
//! `../shared/data/adbench`, instead of the ODDS sets, with sets of more than
//! 300 features left out)
//!
//! Protocol: ADBench's unsupervised one as `examples/adbench.rs` runs it
//! (seeds 1, 2, 3: resampling to 1000 rows below 1000 and to 10 000 above,
//! a stratified 70/30 split, min-max scaling fitted on the training part;
//! the mean over the seeds), so the 0 % column of `-ln p` is that example's
//! `GMM k=1` figure. Then, in the scaled training and test parts alike,
//! every cell is removed with probability f (seeded by the data set, the
//! split's seed and f; a row left with no value gets one random cell back),
//! a detector on a mixture of K full-covariance components (one k-means
//! start, seed 0, `reg_covar` 1e-6, the same for every set: nothing tuned per
//! set) is fitted to the training part by EM on the observed data
//! (`DetectorParams::fit_incomplete`, anomalies left in, labels unused) and
//! the test part is scored by
//! - `-ln p`: `−ln p(x_o)`, the marginal log-density of the observed
//!   features, which grows with their number;
//! - `tail`: the detector's score `−ln Σₖ wₖ Q_{χ²(|o|)}(2 ℓₖ)`,
//!   `ℓₖ = ln(wₖ cₖ / p(x_o))`: the mixture's mass at lower density than the
//!   row on its observed features, each component taken on its own (for one
//!   component the χ² tail of the squared Mahalanobis distance), comparable
//!   across rows that observe different numbers of features.
//!
//! Prints one line per set (AUCROC × 100, mean over the seeds) and the mean
//! over the sets. A set whose file is absent is skipped with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/benchdata.rs"]
mod benchdata;

use std::time::Instant;

use benchdata::{data_dir, prepare, read_csv};
use mixtures::faer::Mat;
use mixtures::prelude::*;
use mixtures_anomaly::{Detector, IncompleteDetector};
use mixtures_core::missing::IncompleteDataset;
use mixtures_dist::ModelSpec;
use mixtures_em::{Covariance, GaussianMixture};
use mixtures_select::{Criterion, Grid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The data sets, in the manifest's order.
const SETS: [&str; 9] = [
    "cardio",
    "thyroid",
    "breastw",
    "pima",
    "mammography",
    "satellite",
    "arrhythmia",
    "wbc",
    "ionosphere",
];

/// The fractions of cells removed.
const FRACTIONS: [f64; 4] = [0.0, 0.1, 0.3, 0.5];

/// `x` with each cell removed (NaN) with probability `f`; a row left empty
/// gets one random cell back.
fn remove(x: &Mat<f64>, f: f64, seed: u64) -> Vec<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * d);
    for i in 0..n {
        let start = out.len();
        for j in 0..d {
            out.push(if rng.random::<f64>() < f {
                f64::NAN
            } else {
                x[(i, j)]
            });
        }
        if out[start..].iter().all(|v| v.is_nan()) {
            let j = rng.random_range(0..d);
            out[start + j] = x[(i, j)];
        }
    }
    out
}

/// A seed from the set's name, the split's seed and the fraction.
fn cell_seed(name: &str, seed: u32, f: f64, part: u64) -> u64 {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    h ^ (u64::from(seed) << 32) ^ ((f * 1000.0) as u64) << 8 ^ part
}

/// The model step: a fixed number of full components, or BIC's choice.
#[derive(Clone, Copy)]
enum Model {
    Fixed(usize),
    Bic,
}

/// The detector for incomplete data that `model` asks for.
fn fit_detector(
    model: Model,
    train: &IncompleteDataset<f64>,
) -> Result<IncompleteDetector<f64>, String> {
    let fit = match model {
        Model::Fixed(k) => Detector::params(
            GaussianMixture::params(k)
                .covariance(Covariance::Full)
                .seed(0),
        )
        .fit_incomplete(train),
        Model::Bic => Detector::params(
            Grid::new(1..=8)
                .structures(ModelSpec::SKLEARN)
                .criterion(Criterion::Bic)
                .seed(0),
        )
        .fit_incomplete(train),
    };
    fit.map(|f| f.detector).map_err(|e| e.to_string())
}

/// AUCROC × 100 of both scores, mean over the seeds; `None` if a fit failed.
fn run(table: &benchdata::Table, name: &str, model: Model, f: f64) -> Result<(f64, f64), String> {
    let (mut a, mut b) = (0.0, 0.0);
    for seed in 1..=3u32 {
        let p = prepare(table, seed);
        let d = p.train.ncols();
        let train = remove(&p.train, f, cell_seed(name, seed, f, 0));
        let test = remove(&p.test, f, cell_seed(name, seed, f, 1));
        let train = Dataset::with_missing(&train, p.train.nrows(), d).map_err(|e| e.to_string())?;
        let test: IncompleteDataset<f64> =
            Dataset::with_missing(&test, p.test.nrows(), d).map_err(|e| e.to_string())?;
        // The detector for incomplete data (novelty mode: its scores do not
        // depend on the threshold rule).
        let detector = fit_detector(model, &train).map_err(|e| format!("seed {seed}: {e}"))?;
        let ll = detector
            .model()
            .model()
            .log_prob_incomplete(&test)
            .map_err(|e| e.to_string())?;
        let neg: Vec<f64> = ll.iter().map(|v| -v).collect();
        let tail = detector
            .score_incomplete(&test)
            .map_err(|e| e.to_string())?;
        a += 100.0 * roc_auc(&neg, &p.test_labels).map_err(|e| e.to_string())? / 3.0;
        b += 100.0 * roc_auc(&tail, &p.test_labels).map_err(|e| e.to_string())? / 3.0;
    }
    Ok((a, b))
}

fn main() {
    let model = match std::env::args().nth(1).as_deref() {
        None => Model::Fixed(1),
        Some("bic") => Model::Bic,
        Some(s) => Model::Fixed(s.parse().expect("K, a number of components, or bic")),
    };
    let folder = std::env::args().nth(2).map(std::path::PathBuf::from);
    let dir = data_dir();
    if folder.is_none() && !dir.join("MANIFEST.md").exists() {
        println!(
            "skipped: the benchmark data ({}) are absent; they live next to the workspace",
            dir.display()
        );
        return;
    }
    let what = match model {
        Model::Fixed(k) => format!("GMM k={k} full"),
        Model::Bic => "the mixture BIC chooses (k 1..8 x full, tied, diag, spherical)".to_owned(),
    };
    println!(
        "ADBench unsupervised protocol (seeds 1-3), cells removed at random from train and \
         test; {what}, DetectorParams::fit_incomplete; AUCROC x 100 on the test part, mean over \
         seeds"
    );
    print!("{:<12}", "data set");
    for f in FRACTIONS {
        let pct = format!("{:.0}%", 100.0 * f);
        print!(" | {:>9} {:>6}", format!("-lnp {pct}"), "tail");
    }
    println!(" | {:>5}", "s");
    let mut sums = vec![(0.0, 0.0); FRACTIONS.len()];
    let mut counted = 0usize;
    let files: Vec<(String, std::path::PathBuf)> = match &folder {
        None => SETS
            .iter()
            .map(|n| ((*n).to_owned(), dir.join(format!("{n}.csv"))))
            .collect(),
        Some(f) => {
            let mut v: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(f)
                .expect("DIR, a folder of data sets")
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    let name = path.file_name()?.to_str()?.to_owned();
                    let stem = name
                        .strip_suffix(".csv.gz")
                        .or_else(|| name.strip_suffix(".csv"))?
                        .to_owned();
                    Some((stem, path))
                })
                .collect();
            v.sort();
            v
        }
    };
    for (name, path) in &files {
        let name = name.as_str();
        let table = match read_csv(path) {
            Ok(t) => t,
            Err(e) => {
                println!("{name:<12} skipped: {e}");
                continue;
            }
        };
        if folder.is_some() && table.d > 300 {
            println!(
                "{name:<12} left out: {} features (every row its own pattern of hundreds of missing \
                 features: hours on 2 cores)",
                table.d
            );
            continue;
        }
        if matches!(model, Model::Bic) && table.d > 100 {
            println!(
                "{name:<12} left out: {} features (the grid's full-covariance cells on rows that \
                 are each their own pattern take hours on 2 cores)",
                table.d
            );
            continue;
        }
        let start = Instant::now();
        let mut row = Vec::new();
        for f in FRACTIONS {
            row.push(run(&table, name, model, f));
        }
        if let Some(Err(e)) = row.iter().find(|r| r.is_err()) {
            println!("{name:<12} left out of the mean: {e}");
            continue;
        }
        print!("{name:<12}");
        for (s, r) in sums.iter_mut().zip(&row) {
            let (a, b) = r.clone().unwrap();
            print!(" | {a:>9.2} {b:>6.2}");
            s.0 += a;
            s.1 += b;
        }
        println!(" | {:>5.1}", start.elapsed().as_secs_f64());
        counted += 1;
    }
    if counted > 0 {
        print!("{:<12}", format!("mean ({counted})"));
        for (a, b) in &sums {
            print!(" | {:>9.2} {:>6.2}", a / counted as f64, b / counted as f64);
        }
        println!();
    }
}
