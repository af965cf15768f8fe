//! A mergeable quantile sketch for streams of scores: the threshold of an
//! [`crate::OnlineDetector`] without keeping the scores.
//!
//! The sketch is a hierarchy of compactors (Manku, Rajagopalan & Lindsay
//! 1998; the structure KLL refines): level `h` holds values that stand for
//! `2^h` inserted values each, at most `b` (the capacity) of them. A full
//! level is sorted and every other value (alternately the odd and the even
//! ones) moves up a level with twice the weight; the rest are dropped.
//!
//! **Rank-error bound.** For any `y`, a compaction at level `h` changes the
//! estimated number of values `≤ y` by at most `2^h` (of the `p` compacted
//! values `≤ y`, `⌈p/2⌉` or `⌊p/2⌋` survive with double weight). Each
//! compaction at level `h` removes at least `b` values of weight `2^h`, and
//! at most `n` weight ever passes through a level, so level `h` compacts at
//! most `n / (b 2^h)` times and adds at most `n / b` to the error; only
//! levels with `2^h ≤ n / b` ever compact. Every estimated rank is therefore
//! within `(⌊log₂(n/b)⌋ + 1) n / b` of the true rank (0 while `n < b`),
//! deterministically, and the same holds after any sequence of merges (the
//! argument only counts weight). [`QuantileSketch::rank_error`] tracks the
//! sum of `2^h` over the compactions that actually happened, which is
//! usually far below the bound; [`QuantileSketch::quantile`] returns a
//! value whose true rank is within that error of the asked rank.

use crate::AnomalyError;

/// Values per level of a [`QuantileSketch`] unless set otherwise: 4096
/// (32 KiB a level). The bound is then 0.05 % of the count at 10 000
/// values, 0.2 % at a million and 0.37 % at a billion.
pub const DEFAULT_SKETCH_CAPACITY: usize = 4096;

/// A mergeable quantile sketch with a deterministic rank-error bound (see
/// the module documentation of `sketch.rs`).
///
/// ```
/// use mixtures_anomaly::QuantileSketch;
///
/// let mut a = QuantileSketch::new(256)?;
/// let mut b = QuantileSketch::new(256)?;
/// for i in 0..100_000u32 {
///     // The values 0..100 000 in a scrambled order, split between two sketches.
///     let v = f64::from(i.wrapping_mul(2_654_435_761) % 100_000);
///     if i % 3 == 0 { a.insert(v)?; } else { b.insert(v)?; }
/// }
/// a.merge(&b)?;
/// assert_eq!(a.count(), 100_000);
/// // The true rank of the 99th percentile's value is within the bound.
/// let v = a.quantile(0.99).ok_or("empty")?;
/// // (The value v has v + 1 values at or below it.)
/// assert!((v + 1.0 - 99_000.0).abs() <= a.rank_error() * 100_000.0 + 1.0);
/// assert!(a.rank_error() <= QuantileSketch::error_bound(100_000, 256));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct QuantileSketch {
    capacity: usize,
    /// `levels[h]`: values standing for `2^h` inserted values each.
    levels: Vec<Vec<f64>>,
    /// Per level, whether its next compaction keeps the even-ranked values.
    parity: Vec<bool>,
    count: u64,
    /// `Σ 2^h` over the compactions so far: no estimated rank is further off.
    error: u64,
    min: f64,
    max: f64,
}

impl Default for QuantileSketch {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_SKETCH_CAPACITY)
    }
}

impl QuantileSketch {
    /// An empty sketch of `capacity` values per level (rounded up to even).
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] for a capacity below 2.
    pub fn new(capacity: usize) -> Result<Self, AnomalyError> {
        if capacity < 2 {
            return Err(AnomalyError::invalid(
                "sketch_capacity",
                capacity,
                "must be at least 2",
            ));
        }
        Ok(Self::with_capacity(capacity + capacity % 2))
    }

    fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            levels: vec![Vec::new()],
            parity: vec![false],
            count: 0,
            error: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// The a-priori bound on the rank error of a sketch of capacity `b`
    /// over `n` values, as a fraction of `n`: `(⌊log₂(n/b)⌋ + 1) / b`, 0
    /// while `n < b`.
    pub fn error_bound(n: u64, b: usize) -> f64 {
        let b = (b + b % 2).max(2) as f64;
        let n = n as f64;
        if n < b {
            0.0
        } else {
            ((n / b).log2().floor() + 1.0) / b
        }
    }

    /// Adds a value.
    ///
    /// # Errors
    /// [`AnomalyError::NonFiniteScore`] for a NaN or infinite value (the
    /// sketch is unchanged).
    pub fn insert(&mut self, v: f64) -> Result<(), AnomalyError> {
        if !v.is_finite() {
            return Err(AnomalyError::NonFiniteScore {
                index: usize::try_from(self.count).unwrap_or(usize::MAX),
                value: v,
                rule: "a quantile sketch".into(),
            });
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.count += 1;
        self.levels[0].push(v);
        self.compress();
        Ok(())
    }

    /// Adds every value of `values`, stopping at the first that is not
    /// finite (the values before it stay added).
    ///
    /// # Errors
    /// As [`QuantileSketch::insert`], with the value's index in `values`.
    pub fn extend(&mut self, values: impl IntoIterator<Item = f64>) -> Result<(), AnomalyError> {
        for (index, v) in values.into_iter().enumerate() {
            self.insert(v).map_err(|e| match e {
                AnomalyError::NonFiniteScore { value, rule, .. } => {
                    AnomalyError::NonFiniteScore { index, value, rule }
                }
                other => other,
            })?;
        }
        Ok(())
    }

    /// Adds the values another sketch stands for.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] when the capacities differ.
    pub fn merge(&mut self, other: &Self) -> Result<(), AnomalyError> {
        if other.capacity != self.capacity {
            return Err(AnomalyError::invalid(
                "sketch_capacity",
                other.capacity,
                "sketches merge only with sketches of the same capacity",
            ));
        }
        for (h, level) in other.levels.iter().enumerate() {
            self.level(h).extend_from_slice(level);
        }
        self.count += other.count;
        self.error += other.error;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.compress();
        Ok(())
    }

    fn level(&mut self, h: usize) -> &mut Vec<f64> {
        while self.levels.len() <= h {
            self.levels.push(Vec::new());
            self.parity.push(false);
        }
        &mut self.levels[h]
    }

    /// Compacts every full level, from the bottom up.
    fn compress(&mut self) {
        let mut h = 0;
        while h < self.levels.len() {
            if self.levels[h].len() >= self.capacity {
                self.compact(h);
            }
            h += 1;
        }
    }

    /// Sorts level `h` and moves every other value up; an odd value out (the
    /// largest) stays, so that an even number is compacted.
    fn compact(&mut self, h: usize) {
        let mut items = std::mem::take(&mut self.levels[h]);
        items.sort_unstable_by(f64::total_cmp);
        let keep_back = items.len() % 2 == 1;
        let held = if keep_back { items.pop() } else { None };
        let offset = usize::from(self.parity[h]);
        self.parity[h] = !self.parity[h];
        let up: Vec<f64> = items.iter().skip(offset).step_by(2).copied().collect();
        self.error += 1u64 << h.min(63);
        self.levels[h].extend(held);
        self.level(h + 1).extend(up);
    }

    /// Values inserted (or merged in).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether no value was inserted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The capacity per level.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The smallest value inserted (exact).
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    /// The largest value inserted (exact).
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// The rank error this sketch guarantees, as a fraction of the count:
    /// no estimated rank is further from the true one (at most
    /// [`QuantileSketch::error_bound`]).
    pub fn rank_error(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.error as f64 / self.count as f64
        }
    }

    /// The estimated number of values `≤ y`.
    pub fn rank(&self, y: f64) -> f64 {
        self.levels
            .iter()
            .enumerate()
            .map(|(h, l)| l.iter().filter(|&&v| v <= y).count() as f64 * weight(h))
            .sum()
    }

    /// The `q`-quantile: a stored value whose estimated rank first reaches
    /// `q n` (the exact minimum for `q = 0`, maximum for `q = 1`); its true
    /// rank is within [`rank_error`](Self::rank_error)` · n` of `q n`.
    /// `None` when empty or `q` is not in `[0, 1]`.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        Self::union_quantile([self], q)
    }

    /// The `q`-quantile of the values of several sketches together, without
    /// merging them (so without further compactions): its true rank is
    /// within [`union_rank_error`](Self::union_rank_error) of `q n`. What a
    /// sliding window of sketches asks; `None` when all are empty or `q` is
    /// not in `[0, 1]`.
    pub fn union_quantile<'a>(
        sketches: impl IntoIterator<Item = &'a QuantileSketch>,
        q: f64,
    ) -> Option<f64> {
        let sketches: Vec<&QuantileSketch> = sketches.into_iter().filter(|s| s.count > 0).collect();
        let n: u64 = sketches.iter().map(|s| s.count).sum();
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let lo = sketches.iter().map(|s| s.min).fold(f64::INFINITY, f64::min);
        let hi = sketches
            .iter()
            .map(|s| s.max)
            .fold(f64::NEG_INFINITY, f64::max);
        if q == 0.0 {
            return Some(lo);
        }
        if q == 1.0 {
            return Some(hi);
        }
        let mut items: Vec<(f64, f64)> = sketches
            .iter()
            .flat_map(|s| {
                s.levels
                    .iter()
                    .enumerate()
                    .flat_map(|(h, l)| l.iter().map(move |&v| (v, weight(h))))
            })
            .collect();
        items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let target = q * n as f64;
        let mut acc = 0.0;
        for (v, w) in &items {
            acc += w;
            if acc >= target {
                return Some(*v);
            }
        }
        // Rounding of the sum; the exact maximum is the answer.
        Some(hi)
    }

    /// The rank error of [`union_quantile`](Self::union_quantile) over these
    /// sketches, as a fraction of their total count.
    pub fn union_rank_error<'a>(sketches: impl IntoIterator<Item = &'a QuantileSketch>) -> f64 {
        let (n, e) = sketches
            .into_iter()
            .fold((0u64, 0u64), |(n, e), s| (n + s.count, e + s.error));
        if n == 0 { 0.0 } else { e as f64 / n as f64 }
    }
}

/// The weight of a value at level `h`.
fn weight(h: usize) -> f64 {
    2f64.powi(i32::try_from(h).unwrap_or(i32::MAX))
}
