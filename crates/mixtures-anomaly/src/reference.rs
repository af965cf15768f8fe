//! The training scores behind normalized scores, kept as a bounded summary:
//! every score up to [`REFERENCE_QUANTILES`] of them, otherwise that many
//! order statistics at evenly spaced ranks, with a proven bound on the error
//! of every tail probability (`docs/model-format.md`, "Reference scores").

use mixtures_core::Scalar;

use crate::AnomalyError;

/// The most scores a [`ScoreReference`] keeps: `4097 = 2¹² + 1` order
/// statistics, at ranks `⌊j (n − 1) / 4096⌋` (the minimum, every 1/4096th
/// quantile and the maximum). A tail probability from them is off by less
/// than `1 / 8192 ≈ 1.2e-4` (half a gap between kept ranks), finer than any
/// contamination a threshold is set at, and a detector file holds about 80 kB
/// of them whatever the training rows (every score of 2 M rows was 51 MB).
pub const REFERENCE_QUANTILES: usize = 4097;

/// The anomaly scores of the training data, summarized, against which new
/// scores are normalized.
///
/// [`ScoreReference::tail_probability`] of a score `s` is the fraction of
/// training points that score at least as high, `#{sᵢ >= s} / n`: 1 for a point
/// as ordinary as the most ordinary training point, `0.01` for a point more
/// anomalous than 99 % of them, 0 beyond every training point. It is an
/// empirical p-value, readable without knowing the scale of `−ln p(x)` (which
/// shifts with the dimension and the units of the data). It is exact for at
/// most [`REFERENCE_QUANTILES`] training scores and within
/// [`ScoreReference::max_error`] (`< 1/8192`) otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreReference<T: Scalar> {
    /// Training scores summarized.
    n: usize,
    /// The order statistics at ranks `rank(j)`, increasing; every score when
    /// `kept.len() == n`.
    kept: Vec<T>,
}

impl<T: Scalar> ScoreReference<T> {
    /// A reference from training scores (any order), summarized to at most
    /// [`REFERENCE_QUANTILES`] order statistics.
    ///
    /// # Errors
    /// [`AnomalyError::NoScores`] or [`AnomalyError::NanScore`].
    pub fn new(scores: &[T]) -> Result<Self, AnomalyError> {
        crate::metrics::check_not_nan(scores)?;
        let mut sorted = scores.to_vec();
        sorted.sort_unstable_by(|a, b| a.as_f64().total_cmp(&b.as_f64()));
        let n = sorted.len();
        if n <= REFERENCE_QUANTILES {
            return Ok(Self { n, kept: sorted });
        }
        let kept = (0..REFERENCE_QUANTILES)
            .map(|j| sorted[rank(j, n, REFERENCE_QUANTILES)])
            .collect();
        Ok(Self { n, kept })
    }

    /// A reference from a summary as a detector file stores it: `n` training
    /// scores, of which `kept` are the order statistics at ranks
    /// `⌊j (n − 1) / (m − 1)⌋`, `m = kept.len()` (every score when `m = n`).
    ///
    /// # Errors
    /// [`AnomalyError::NoScores`] for no scores, [`AnomalyError::NanScore`];
    /// [`AnomalyError::InvalidParameter`] (`reference`) when `m` exceeds `n`,
    /// when a summary of several scores keeps fewer than 2 (the minimum and
    /// the maximum), or when the values decrease.
    pub fn from_quantiles(n: usize, kept: &[T]) -> Result<Self, AnomalyError> {
        crate::metrics::check_not_nan(kept)?;
        if kept.len() > n {
            return Err(AnomalyError::invalid(
                "reference",
                kept.len(),
                "keeps more values than the number of scores it summarizes",
            ));
        }
        if n > 1 && kept.len() < 2 {
            return Err(AnomalyError::invalid(
                "reference",
                kept.len(),
                "a summary of several scores keeps at least the minimum and the maximum",
            ));
        }
        if kept.windows(2).any(|w| w[1] < w[0]) {
            return Err(AnomalyError::invalid(
                "reference",
                n,
                "the kept scores must be in increasing order",
            ));
        }
        Ok(Self {
            n,
            kept: kept.to_vec(),
        })
    }

    /// The scores kept, in increasing order: every training score when there
    /// are at most [`REFERENCE_QUANTILES`], otherwise the order statistics at
    /// ranks `⌊j (n − 1) / (m − 1)⌋`.
    pub fn sorted_scores(&self) -> &[T] {
        &self.kept
    }

    /// Number of training scores summarized.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a reference holds at least one score.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether every training score is kept (tail probabilities are exact).
    pub fn is_exact(&self) -> bool {
        self.kept.len() == self.n
    }

    /// The largest error of [`ScoreReference::tail_probability`]: 0 when
    /// exact, otherwise half the largest gap between kept ranks over `n`,
    /// `(⌈(n − 1) / (m − 1)⌉ − 1) / (2n) < 1 / (2 (m − 1))`.
    pub fn max_error(&self) -> f64 {
        let m = self.kept.len();
        if self.is_exact() {
            return 0.0;
        }
        let gap = (1..m)
            .map(|j| rank(j, self.n, m) - rank(j - 1, self.n, m) - 1)
            .max()
            .unwrap_or(0);
        gap as f64 / (2.0 * self.n as f64)
    }

    /// `#{training scores >= s} / n` (NaN for a NaN score), within
    /// [`ScoreReference::max_error`]; exactly 1 at or below the smallest
    /// training score and exactly 0 above the largest.
    pub fn tail_probability(&self, s: T) -> f64 {
        if s.is_nan() {
            return f64::NAN;
        }
        let (n, m) = (self.n, self.kept.len());
        // Kept values below s: j of them, so rank(j − 1) < s <= rank(j).
        let j = self.kept.partition_point(|&v| v < s);
        if self.is_exact() {
            return (n - j) as f64 / n as f64;
        }
        if j == 0 {
            return 1.0;
        }
        if j == m {
            return 0.0;
        }
        // The scores below s number between rank(j − 1) + 1 and rank(j):
        // the midpoint is off by at most half that range.
        let (lo, hi) = (rank(j - 1, n, m) + 1, rank(j, n, m));
        let below = (lo + hi) as f64 / 2.0;
        (n as f64 - below) / n as f64
    }

    /// [`ScoreReference::tail_probability`] of every score.
    pub fn tail_probabilities(&self, scores: &[T]) -> Vec<f64> {
        scores.iter().map(|&s| self.tail_probability(s)).collect()
    }
}

/// The rank (from 0) of the `j`-th of `m` kept order statistics of `n`
/// scores, `⌊j (n − 1) / (m − 1)⌋`, in 128 bits so it cannot overflow.
fn rank(j: usize, n: usize, m: usize) -> usize {
    if m < 2 {
        return 0;
    }
    let r = (j as u128 * (n as u128 - 1)) / (m as u128 - 1);
    usize::try_from(r).unwrap_or(n - 1)
}
