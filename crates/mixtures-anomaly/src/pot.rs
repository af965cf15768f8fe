//! Peaks over threshold: a threshold for a false-alarm rate smaller than the
//! training quantiles resolve, from a generalized Pareto model of the tail of
//! the training scores (the extreme-value rule of Siffer et al., "Anomaly
//! detection in streams with extreme value theory", KDD 2017).

use mixtures_core::Scalar;

use crate::threshold::quantile_sorted;
use crate::{AnomalyError, ScoreSet, ThresholdRule};

const RULE: &str = "peaks_over_threshold";

/// Fewest exceedances of the initial level a tail fit accepts.
pub const MIN_EXCEEDANCES: usize = 10;

/// Smallest shape considered: below −1 the likelihood is unbounded, and below
/// −½ the maximum-likelihood estimator is not regular.
const MIN_SHAPE: f64 = -0.5;

/// The score exceeded with probability `rate`, from a generalized Pareto (GPD)
/// fit to the scores above their `level` quantile `u`:
/// `P(S > u + y | S > u) = (1 + ξ y / σ)^(−1/ξ)`, so the threshold is
/// `u + σ/ξ · ((rate · n / Nᵤ)^(−ξ) − 1)` (`u − σ ln(rate · n / Nᵤ)` when
/// `ξ = 0`), with `Nᵤ` the number of the `n` scores above `u`.
///
/// `ξ` and `σ` are maximum-likelihood estimates (Grimshaw's reduction to one
/// variable, maximized over a log-spaced grid then refined by golden-section
/// search), with `ξ >= −0.5`. Needs at least [`MIN_EXCEEDANCES`] scores above
/// `u`. `level` must lie in `(0, 1)` and `rate` in `(0, 1 − level)`: rates the
/// quantiles resolve need no tail model ([`crate::Contamination`] does that).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeaksOverThreshold {
    /// Target false-alarm rate: the probability that a normal point scores
    /// above the threshold.
    pub rate: f64,
    /// Quantile of the scores above which the tail is modelled (0.98 in
    /// [`PeaksOverThreshold::new`], as Siffer et al.).
    pub level: f64,
}

/// What a [`PeaksOverThreshold`] tail fit estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpdFit {
    /// The initial level `u` (the `level` quantile of the scores).
    pub level_score: f64,
    /// Number of scores above `u`.
    pub exceedances: usize,
    /// Number of scores.
    pub n: usize,
    /// Shape `ξ` (0: exponential tail; > 0: heavy tail; < 0: bounded tail).
    pub shape: f64,
    /// Scale `σ > 0`.
    pub scale: f64,
    /// The score exceeded with probability `rate`.
    pub threshold: f64,
}

/// Shape and scale of the GPD at Grimshaw's `θ = ξ / σ`, and the profile
/// log-likelihood per exceedance; `None` outside the admissible range.
fn profile(y: &[f64], mean: f64, theta: f64) -> Option<(f64, f64, f64)> {
    if theta == 0.0 {
        // The exponential limit: ξ = 0, σ = mean.
        return Some((0.0, mean, -(mean.ln() + 1.0)));
    }
    let mut acc = 0.0;
    for &v in y {
        let t = 1.0 + theta * v;
        if !(t > 0.0) {
            return None;
        }
        acc += t.ln();
    }
    let xi = acc / y.len() as f64;
    let sigma = xi / theta;
    if !(xi >= MIN_SHAPE && sigma > 0.0 && sigma.is_finite()) {
        return None;
    }
    // ℓ/N = −ln σ − (1 + 1/ξ) ξ = −(ln σ + ξ + 1).
    Some((xi, sigma, -(sigma.ln() + xi + 1.0)))
}

impl PeaksOverThreshold {
    /// A target false-alarm rate with the initial level at the 0.98 quantile.
    pub fn new(rate: f64) -> Self {
        Self { rate, level: 0.98 }
    }

    /// Fits the tail and returns everything it estimated.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`], [`AnomalyError::NonFiniteScore`],
    /// and [`AnomalyError::NoThreshold`] when fewer than [`MIN_EXCEEDANCES`]
    /// scores exceed the level.
    pub fn fit_tail<T: Scalar>(&self, data: &ScoreSet<'_, T>) -> Result<GpdFit, AnomalyError> {
        ThresholdRule::<T>::check(self)?;
        let sorted = data.sorted_finite(RULE)?;
        let n = sorted.len();
        let u = quantile_sorted(&sorted, self.level);
        let y: Vec<f64> = sorted.iter().filter(|&&s| s > u).map(|s| s - u).collect();
        if y.len() < MIN_EXCEEDANCES {
            return Err(AnomalyError::NoThreshold {
                rule: RULE.into(),
                reason: format!(
                    "only {} of {n} scores exceed the {} quantile; the tail fit needs at least {MIN_EXCEEDANCES} (lower `level` or give more scores)",
                    y.len(),
                    self.level
                ),
            });
        }
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let y_max = y.iter().copied().fold(0.0, f64::max);
        // θ on two log-spaced branches: θ = 10^b / mean for b in [−6, 6]
        // (heavy tails), θ = −10^b / y_max for b in [−6, 0) (bounded tails).
        let theta_of = |positive: bool, b: f64| {
            if positive {
                10f64.powf(b) / mean
            } else {
                -10f64.powf(b) / y_max
            }
        };
        let eval = |positive: bool, b: f64| {
            profile(&y, mean, theta_of(positive, b)).map_or(f64::NEG_INFINITY, |p| p.2)
        };
        // Start from the exponential (θ = 0).
        let mut best = (
            None::<(bool, f64)>,
            profile(&y, mean, 0.0).map_or(f64::NEG_INFINITY, |p| p.2),
        );
        let branches = [(true, -6.0, 6.0, 241), (false, -6.0, -1e-9, 121)];
        for &(positive, lo, hi, m) in &branches {
            let step = (hi - lo) / (m - 1) as f64;
            for i in 0..m {
                let b = lo + step * i as f64;
                let l = eval(positive, b);
                if l > best.1 {
                    best = (Some((positive, b)), l);
                }
            }
            // Golden-section refinement around the best grid point of the
            // whole search, once its branch is known.
            if let Some((p, b)) = best.0
                && p == positive
            {
                let (mut a, mut c) = ((b - step).max(lo), (b + step).min(hi));
                let g = 0.5 * (5f64.sqrt() - 1.0);
                for _ in 0..80 {
                    let x1 = c - g * (c - a);
                    let x2 = a + g * (c - a);
                    if eval(positive, x1) >= eval(positive, x2) {
                        c = x2;
                    } else {
                        a = x1;
                    }
                }
                let bm = 0.5 * (a + c);
                let l = eval(positive, bm);
                if l > best.1 {
                    best = (Some((positive, bm)), l);
                }
            }
        }
        let theta = best.0.map_or(0.0, |(p, b)| theta_of(p, b));
        let (shape, scale, _) = profile(&y, mean, theta).unwrap_or((0.0, mean, 0.0));
        let ratio = self.rate * n as f64 / y.len() as f64;
        let threshold = if shape.abs() < 1e-12 {
            u - scale * ratio.ln()
        } else {
            u + scale / shape * (ratio.powf(-shape) - 1.0)
        };
        Ok(GpdFit {
            level_score: u,
            exceedances: y.len(),
            n,
            shape,
            scale,
            threshold,
        })
    }
}

impl<T: Scalar> ThresholdRule<T> for PeaksOverThreshold {
    fn name(&self) -> &str {
        RULE
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("rate".into(), self.rate), ("level".into(), self.level)]
    }
    fn check(&self) -> Result<(), AnomalyError> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(AnomalyError::invalid(
                "level",
                self.level,
                "must lie in (0, 1): the quantile above which the tail is modelled",
            ));
        }
        if !(self.rate > 0.0 && self.rate < 1.0 - self.level) {
            return Err(AnomalyError::invalid(
                "rate",
                self.rate,
                "must lie in (0, 1 - level): rates the quantiles resolve need no tail model",
            ));
        }
        Ok(())
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        Ok(T::c(self.fit_tail(data)?.threshold))
    }
}
