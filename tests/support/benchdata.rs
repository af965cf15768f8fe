//! Support for the evaluations on the benchmark data of `../shared/data`
//! (shared by `examples/adbench.rs` and `tests/cardio_baseline.rs`, included
//! with `#[path]`; not a library API).
//!
//! - a small CSV reader for the benchmark files (a header row, numeric cells,
//!   a `label` column of 0/1);
//! - ADBench's unsupervised protocol (Han et al., 2022) with the same random
//!   draws as its Python code: NumPy's legacy `RandomState` (MT19937) seeded
//!   by `np.random.seed(seed)`, `np.random.choice` for the resampling to
//!   1000 or 10000 rows, scikit-learn's stratified `train_test_split` (30 %
//!   test) and min-max scaling fitted on the training part. Reproducing the
//!   draws makes our numbers comparable split for split with figures computed
//!   in Python under the protocol, instead of differing by the luck of the
//!   split.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mixtures::faer::Mat;

/// `../shared/data` next to the workspace root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data"))
}

/// `path` (a file or directory under [`data_dir`]) if it exists. If it does
/// not, a test returns early: on a developer's machine that is a skip, but a
/// skipped test passes, and libtest captures the printed reason, so under CI
/// (`CI=true`) a missing data set panics instead of passing unseen.
pub fn required(path: PathBuf) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let under_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !under_ci,
        "{} is absent; CI needs ../shared/data beside the workspace",
        path.display()
    );
    eprintln!("skipped: {} is absent", path.display());
    None
}

/// A benchmark file: features (row-major) and 0/1 labels.
#[derive(Debug, Clone)]
pub struct Table {
    /// Rows.
    pub n: usize,
    /// Feature columns (the `label` column excluded).
    pub d: usize,
    /// `n × d` values, row-major.
    pub x: Vec<f64>,
    /// 1 = anomaly, 0 = normal.
    pub labels: Vec<u8>,
}

impl Table {
    /// Value at row `i`, feature `j`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.x[i * self.d + j]
    }

    /// Number of anomalies.
    pub fn n_anomalies(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 1).count()
    }

    /// The given rows as a matrix, in that order.
    pub fn rows(&self, idx: &[usize]) -> Mat<f64> {
        Mat::from_fn(idx.len(), self.d, |i, j| self.at(idx[i], j))
    }

    /// The labels of the given rows.
    pub fn labels_of(&self, idx: &[usize]) -> Vec<u8> {
        idx.iter().map(|&i| self.labels[i]).collect()
    }
}

/// Reads a benchmark CSV file (gzipped when its name ends in `.gz`): a header
/// row naming the columns, one of them `label` (0 or 1); every other cell a
/// number.
pub fn read_csv(path: &Path) -> Result<Table, String> {
    let text = if path.extension().is_some_and(|e| e == "gz") {
        use std::io::Read;
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| format!("{}: empty file", path.display()))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let label_col = names
        .iter()
        .position(|&c| c == "label")
        .ok_or_else(|| format!("{}: no `label` column", path.display()))?;
    let d = names.len() - 1;
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    for (line_no, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            return Err(format!(
                "{}:{}: {} cells, the header has {}",
                path.display(),
                line_no + 1,
                cells.len(),
                names.len()
            ));
        }
        for (j, cell) in cells.iter().enumerate() {
            let v: f64 = cell.parse().map_err(|_| {
                format!(
                    "{}:{}: column {} is {cell:?}, not a number",
                    path.display(),
                    line_no + 1,
                    names[j]
                )
            })?;
            if j == label_col {
                labels.push(match v {
                    0.0 => 0,
                    1.0 => 1,
                    _ => {
                        return Err(format!(
                            "{}:{}: label {cell:?} is not 0 or 1",
                            path.display(),
                            line_no + 1
                        ));
                    }
                });
            } else {
                x.push(v);
            }
        }
    }
    if labels.is_empty() {
        return Err(format!("{}: no data rows", path.display()));
    }
    Ok(Table {
        n: labels.len(),
        d,
        x,
        labels,
    })
}

/// NumPy's legacy `RandomState`: MT19937 and the few draws the protocol
/// makes, bit for bit.
pub struct NumpyRandomState {
    mt: [u32; 624],
    pos: usize,
}

impl NumpyRandomState {
    /// `np.random.seed(seed)`.
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Self { mt, pos: 624 }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= 624 {
            for i in 0..624 {
                let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % 624] & 0x7fff_ffff);
                let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
                if y & 1 == 1 {
                    v ^= 0x9908_b0df;
                }
                self.mt[i] = v;
            }
            self.pos = 0;
        }
        let mut y = self.mt[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A uniform integer in `0..=max` by masked rejection (NumPy's
    /// `random_interval`, and its masked bounded integers below 2³²).
    fn interval(&mut self, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let max = u32::try_from(max).unwrap_or(u32::MAX);
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v as usize;
            }
        }
    }

    /// `shuffle(x)` of a one-dimensional array (Fisher–Yates from the end).
    pub fn shuffle<V>(&mut self, x: &mut [V]) {
        for i in (1..x.len()).rev() {
            let j = self.interval(i);
            x.swap(i, j);
        }
    }

    /// `permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        self.shuffle(&mut v);
        v
    }

    /// `choice(n, size, replace=True)`, i.e. `randint(0, n, size)`.
    pub fn choice_with_replacement(&mut self, n: usize, size: usize) -> Vec<usize> {
        (0..size).map(|_| self.interval(n - 1)).collect()
    }

    /// `choice(n, size, replace=False)`, i.e. `permutation(n)[:size]`.
    pub fn choice_without_replacement(&mut self, n: usize, size: usize) -> Vec<usize> {
        let mut p = self.permutation(n);
        p.truncate(size);
        p
    }
}

/// scikit-learn's `_approximate_mode`: per-class counts of `n_draws` rows in
/// proportion to `counts`, the rows left over going to the largest remainders
/// (ties broken by the generator).
fn approximate_mode(counts: &[usize], n_draws: usize, rng: &mut NumpyRandomState) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    let cont: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 / total as f64 * n_draws as f64)
        .collect();
    let mut floored: Vec<usize> = cont.iter().map(|c| c.floor() as usize).collect();
    let mut need = n_draws - floored.iter().sum::<usize>();
    let rem: Vec<f64> = cont
        .iter()
        .zip(&floored)
        .map(|(c, &f)| c - f as f64)
        .collect();
    let mut values = rem.clone();
    values.sort_by(|a, b| b.total_cmp(a));
    values.dedup();
    for v in values {
        if need == 0 {
            break;
        }
        let inds: Vec<usize> = (0..rem.len()).filter(|&i| rem[i] == v).collect();
        let add = inds.len().min(need);
        for p in rng.choice_without_replacement(inds.len(), add) {
            floored[inds[p]] += 1;
        }
        need -= add;
    }
    floored
}

/// scikit-learn's `train_test_split(…, test_size, stratify=labels)` drawing
/// from `rng`: the train and test positions, each in its drawn order.
pub fn stratified_split(
    labels: &[u8],
    test_size: f64,
    rng: &mut NumpyRandomState,
) -> (Vec<usize>, Vec<usize>) {
    let n = labels.len();
    let n_test = (test_size * n as f64).ceil() as usize;
    let n_train = n - n_test;
    // Classes in sorted order (0, then 1), each with its positions in order.
    let class_rows: Vec<Vec<usize>> = [0u8, 1]
        .iter()
        .map(|&c| (0..n).filter(|&i| labels[i] == c).collect::<Vec<_>>())
        .filter(|rows| !rows.is_empty())
        .collect();
    let counts: Vec<usize> = class_rows.iter().map(Vec::len).collect();
    let n_i = approximate_mode(&counts, n_train, rng);
    let remaining: Vec<usize> = counts.iter().zip(&n_i).map(|(c, t)| c - t).collect();
    let t_i = approximate_mode(&remaining, n_test, rng);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (c, rows) in class_rows.iter().enumerate() {
        let perm = rng.permutation(rows.len());
        train.extend(perm[..n_i[c]].iter().map(|&p| rows[p]));
        test.extend(perm[n_i[c]..n_i[c] + t_i[c]].iter().map(|&p| rows[p]));
    }
    rng.shuffle(&mut train);
    rng.shuffle(&mut test);
    (train, test)
}

/// One split of the protocol: rows of the original table (a row may repeat
/// after resampling).
#[derive(Debug, Clone)]
pub struct Split {
    /// Training rows.
    pub train: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

/// ADBench's split for a seed: `np.random.seed(seed)`; fewer than 1000 rows
/// are resampled with replacement to 1000, more than 10000 subsampled to
/// 10000; then a stratified 70/30 split.
pub fn adbench_split(labels: &[u8], seed: u32) -> Split {
    let mut rng = NumpyRandomState::new(seed);
    let n = labels.len();
    let rows: Vec<usize> = if n < 1000 {
        rng.choice_with_replacement(n, 1000)
    } else if n > 10000 {
        rng.choice_without_replacement(n, 10000)
    } else {
        (0..n).collect()
    };
    let y: Vec<u8> = rows.iter().map(|&i| labels[i]).collect();
    let (train, test) = stratified_split(&y, 0.3, &mut rng);
    Split {
        train: train.iter().map(|&p| rows[p]).collect(),
        test: test.iter().map(|&p| rows[p]).collect(),
    }
}

/// scikit-learn's `MinMaxScaler` fitted on `train` and applied to both (a
/// constant column is shifted to 0 and not scaled; test values may fall
/// outside [0, 1]).
pub fn min_max(train: &Mat<f64>, test: &Mat<f64>) -> (Mat<f64>, Mat<f64>) {
    let d = train.ncols();
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    for j in 0..d {
        for i in 0..train.nrows() {
            lo[j] = lo[j].min(train[(i, j)]);
            hi[j] = hi[j].max(train[(i, j)]);
        }
    }
    // scikit-learn's arithmetic, for the same bits: `x · s + (−lo · s)` with
    // `s = 1 / range`, and a range of (numerically) zero replaced by 1.
    let s: Vec<f64> = (0..d)
        .map(|j| {
            let r = hi[j] - lo[j];
            1.0 / if r < 10.0 * f64::EPSILON { 1.0 } else { r }
        })
        .collect();
    let scale =
        |m: &Mat<f64>| Mat::from_fn(m.nrows(), d, |i, j| m[(i, j)] * s[j] + -(lo[j] * s[j]));
    (scale(train), scale(test))
}

/// One seed's data under the protocol, scaled.
pub struct Prepared {
    /// Scaled training rows.
    pub train: Mat<f64>,
    /// Their labels (not used for fitting).
    pub train_labels: Vec<u8>,
    /// Scaled test rows.
    pub test: Mat<f64>,
    /// Their labels.
    pub test_labels: Vec<u8>,
}

/// The split of `seed`, scaled on its training part.
pub fn prepare(table: &Table, seed: u32) -> Prepared {
    let split = adbench_split(&table.labels, seed);
    let (train, test) = min_max(&table.rows(&split.train), &table.rows(&split.test));
    Prepared {
        train,
        train_labels: table.labels_of(&split.train),
        test,
        test_labels: table.labels_of(&split.test),
    }
}

/// The published baseline's experiment on cardio (a from-scratch GMM notebook,
/// Cinnamon AI Bootcamp, F1 = 0.607): for a seed, a stratified 70/30 split
/// (the protocol's draws, min-max scaling fitted on the training part), the
/// detector whose model step is `fitter` (the default detector's:
/// `EnsembleFitter::new()`) fitted on the normal rows of the training part
/// (novelty mode), the threshold chosen for the best F1 on the whole labelled
/// training part, and the F1 of that threshold on the test part.
pub fn cardio_f1<F: mixtures::ModelFitter<f64>>(
    table: &Table,
    seed: u32,
    fitter: F,
) -> Result<f64, Box<dyn std::error::Error>> {
    use mixtures::mixtures_anomaly::{BestF, Detector};
    use mixtures::mixtures_core::Dataset;

    let p = prepare(table, seed);
    let normal_rows: Vec<usize> = (0..p.train.nrows())
        .filter(|&i| p.train_labels[i] == 0)
        .collect();
    let normal = Mat::from_fn(normal_rows.len(), p.train.ncols(), |i, j| {
        p.train[(normal_rows[i], j)]
    });
    let fit = Detector::params(fitter)
        .threshold(BestF::f1())
        .fit_validated(
            &Dataset::from_mat(normal.as_ref())?,
            &Dataset::from_mat(p.train.as_ref())?,
            &p.train_labels,
        )?;
    let eval = fit
        .detector
        .evaluate(&Dataset::from_mat(p.test.as_ref())?, &p.test_labels)?;
    Ok(eval.confusion.f1())
}
