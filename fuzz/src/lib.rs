//! Helpers shared by the fuzz targets: a byte reader that turns the fuzzer's
//! input into numbers, and the checks every target makes on a result.
//!
//! The targets decode their input by hand rather than through `arbitrary`'s
//! derive so that the value distribution can be steered: most values are small
//! numbers on a coarse grid (so duplicated rows and ties are common), some are
//! spread over many orders of magnitude, and a few are the awkward ones (±0,
//! subnormals, values near the overflow limit of `f32` and `f64`, NaN, ±∞).

use mixtures::prelude::*;

/// Reads numbers from the fuzzer's bytes. Once the bytes run out every read
/// returns values from a fixed sequence, so that a short input still describes
/// a complete (and varied) case rather than a wall of zeros.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Counter behind the values returned once the bytes are exhausted.
    filler: u64,
}

/// Awkward values: both zeros, the limits of `f32` and `f64`, subnormals,
/// values whose square over- or underflows, and the non-finite ones.
const SPECIALS: [f64; 24] = [
    0.0,
    -0.0,
    1e300,
    -1e300,
    1e-300,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    5e-324,
    1e150,
    -1e150,
    1e-150,
    1e30,
    -1e30,
    1e-30,
    3.4e38,
    -3.4e38,
    1.2e-38,
    1e-45,
    1e16,
    1.0 + f64::EPSILON,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

impl<'a> Reader<'a> {
    /// A reader over the fuzzer's input.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            filler: 0,
        }
    }

    /// Whether the input's bytes are all consumed.
    pub fn exhausted(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The next byte (from the filler sequence once the input is consumed).
    pub fn byte(&mut self) -> u8 {
        if let Some(&b) = self.bytes.get(self.pos) {
            self.pos += 1;
            b
        } else {
            // A small linear congruential sequence: varied, deterministic.
            self.filler = self
                .filler
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.filler >> 56) as u8
        }
    }

    /// The next little-endian `u64`.
    pub fn u64(&mut self) -> u64 {
        let mut v = 0u64;
        for i in 0..8 {
            v |= u64::from(self.byte()) << (8 * i);
        }
        v
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    /// A coin flip that comes up true with probability about `num / 256`.
    pub fn chance(&mut self, num: u8) -> bool {
        self.byte() < num
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A data value. `previous` holds the values drawn so far, so that exact
    /// duplicates can be produced.
    pub fn value(&mut self, previous: &[f64]) -> f64 {
        let tag = self.byte();
        match tag {
            // A coarse grid of small numbers: -16 .. 16 in steps of 1/8.
            0..=159 => f64::from(self.byte() as i8) / 8.0,
            // A mantissa on many scales: ±(1 .. 256) × 10^(-40 .. 40).
            160..=199 => {
                let m = f64::from(self.byte() as i8);
                let e = i32::from(self.byte() % 81) - 40;
                m * 10f64.powi(e)
            }
            // Repeat an earlier value exactly.
            200..=223 => {
                if previous.is_empty() {
                    0.0
                } else {
                    previous[self.below(previous.len().min(256)) % previous.len()]
                }
            }
            // A value near an earlier one (ties broken by one ulp or so).
            224..=231 => {
                let base = previous.last().copied().unwrap_or(1.0);
                base * (1.0 + f64::EPSILON * f64::from(self.byte() as i8))
            }
            // Arbitrary bits.
            232..=239 => f64::from_bits(self.u64()),
            _ => self.pick(&SPECIALS),
        }
    }

    /// A parameter value: mostly sensible, sometimes out of range or
    /// non-finite, to reach every parameter check.
    pub fn parameter(&mut self, sensible: &[f64]) -> f64 {
        let tag = self.byte();
        match tag {
            0..=199 => self.pick(sensible),
            200..=239 => {
                let e = i32::from(self.byte() % 61) - 40;
                f64::from(self.byte()) * 10f64.powi(e)
            }
            240..=247 => -f64::from(self.byte()),
            _ => self.pick(&SPECIALS),
        }
    }
}

/// Whether `FUZZ_DEBUG` is set: the targets then print the case they decoded
/// (for reproducing a crash in a test).
pub fn debug() -> bool {
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("FUZZ_DEBUG").is_some())
}

/// Whether every value is finite.
pub fn all_finite<T: Scalar>(values: impl IntoIterator<Item = T>) -> bool {
    values.into_iter().all(|v| v.is_finite())
}

/// Tolerance for a sum of `terms` probabilities to equal one, for the
/// precision `T` (a few ulps per term, plus room for the renormalization).
pub fn sum_tolerance<T: Scalar>(terms: usize) -> f64 {
    let eps = T::epsilon().as_f64();
    eps * (16.0 + 4.0 * terms as f64)
}

/// Asserts what every evaluation of a valid model must give on `data`:
/// log-densities that are never NaN or `+∞` (`−∞` only when the point is so far
/// away that its distance overflows, which `Mixture::log_prob` documents),
/// responsibilities in `[0, 1]` summing to one per row, labels below `K`
/// (`K + 1` columns and labels up to `K` with a noise component).
///
/// `finite_expected` says the data are the model's training data: every row
/// the fit saw (of positive weight) must then have a finite log-density. A
/// row of weight zero was not fitted and may lie infinitely far away.
pub fn check_evaluation<T: Scalar>(
    model: &AnyMixture<T>,
    data: &Dataset<T>,
    finite_expected: bool,
) {
    let k = model.n_columns();
    let lp = model.log_prob(data).expect("dimension matches");
    for (i, v) in lp.iter().enumerate() {
        assert!(!v.is_nan(), "NaN log-density at row {i}");
        assert!(*v != T::infinity(), "+inf log-density at row {i}");
        let fitted = data.weights().is_none_or(|w| w[i] > T::zero());
        if finite_expected && fitted {
            assert!(v.is_finite(), "log-density {v:?} at row {i}");
        }
    }
    let resp = model.responsibilities(data).expect("dimension matches");
    assert_eq!((resp.nrows(), resp.ncols()), (data.n_samples(), k));
    let tol = sum_tolerance::<T>(k);
    for i in 0..resp.nrows() {
        let row: Vec<f64> = resp.row(i).iter().map(|v| v.as_f64()).collect();
        assert!(
            row.iter().all(|&r| (0.0..=1.0).contains(&r)),
            "responsibilities {row:?} at row {i}"
        );
        let s: f64 = row.iter().sum();
        assert!(
            (s - 1.0).abs() <= tol,
            "responsibilities sum to {s} at row {i}"
        );
    }
    let labels = model.predict(data).expect("dimension matches");
    assert!(labels.iter().all(|&l| l < k));
}
