//! Threshold strategies: rules that turn scores (and labels, when a rule needs
//! them) into the score above which a point is an anomaly.
//!
//! Every threshold in this crate means the same decision: a point is an anomaly
//! when `score >= threshold`. Points with equal scores are therefore always on
//! the same side, and a threshold chosen from labelled scores is one of those
//! scores.

use std::collections::BTreeMap;

use mixtures_core::Scalar;

use crate::labels::check_binary;
use crate::metrics::check_not_nan;
use crate::{AnomalyError, Label, OperatingPoints};

/// Scores a threshold rule chooses from: the anomaly scores of a sample
/// (training or validation data) and, for the rules that need them, 0/1 labels
/// (1 = anomaly). Checked on construction: at least one score, no NaN, labels
/// of the same length and each 0 or 1.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSet<'a, T: Scalar> {
    scores: &'a [T],
    labels: Option<Vec<bool>>,
}

impl<'a, T: Scalar> ScoreSet<'a, T> {
    /// Unlabelled scores.
    ///
    /// # Errors
    /// [`AnomalyError::NoScores`] or [`AnomalyError::NanScore`].
    pub fn new(scores: &'a [T]) -> Result<Self, AnomalyError> {
        check_not_nan(scores)?;
        Ok(Self {
            scores,
            labels: None,
        })
    }

    /// Scores with 0/1 labels (1 = anomaly; for [`crate::PositiveUnlabeled`],
    /// 1 = labelled anomaly and 0 = unlabelled).
    ///
    /// # Errors
    /// As [`ScoreSet::new`], and [`AnomalyError::LabelsLength`] or
    /// [`AnomalyError::InvalidLabel`].
    pub fn labelled<L: Label>(scores: &'a [T], labels: &[L]) -> Result<Self, AnomalyError> {
        check_not_nan(scores)?;
        let labels = check_binary("labels", labels, scores.len())?;
        Ok(Self {
            scores,
            labels: Some(labels),
        })
    }

    /// The scores.
    pub fn scores(&self) -> &'a [T] {
        self.scores
    }

    /// Number of scores (at least 1).
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Always false: a score set holds at least one score.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// The labels (`true` = anomaly), if any.
    pub fn labels(&self) -> Option<&[bool]> {
        self.labels.as_deref()
    }

    /// The labels, or [`AnomalyError::LabelsRequired`] naming `rule`.
    ///
    /// # Errors
    /// [`AnomalyError::LabelsRequired`].
    pub fn require_labels(&self, rule: &str) -> Result<&[bool], AnomalyError> {
        self.labels()
            .ok_or_else(|| AnomalyError::LabelsRequired { rule: rule.into() })
    }

    /// The labelled scores ranked once, with the confusion matrix of every
    /// distinct threshold.
    ///
    /// # Errors
    /// [`AnomalyError::LabelsRequired`] naming `rule`.
    pub fn operating_points(&self, rule: &str) -> Result<OperatingPoints<T>, AnomalyError> {
        let labels = self.require_labels(rule)?;
        Ok(OperatingPoints::from_checked(self.scores, labels))
    }

    /// The scores in increasing order, widened to `f64`, for rules that compute
    /// with them (quantiles, medians, fits).
    ///
    /// # Errors
    /// [`AnomalyError::NonFiniteScore`] naming `rule` for an infinite score.
    pub fn sorted_finite(&self, rule: &str) -> Result<Vec<f64>, AnomalyError> {
        self.check_finite(rule)?;
        let mut s: Vec<f64> = self.scores.iter().map(|v| v.as_f64()).collect();
        s.sort_unstable_by(f64::total_cmp);
        Ok(s)
    }

    /// Refuses infinite scores (NaN was refused on construction).
    ///
    /// # Errors
    /// [`AnomalyError::NonFiniteScore`] naming `rule`.
    pub fn check_finite(&self, rule: &str) -> Result<(), AnomalyError> {
        match self.scores.iter().position(|v| !v.is_finite()) {
            Some(index) => Err(AnomalyError::NonFiniteScore {
                index,
                value: self.scores[index].as_f64(),
                rule: rule.into(),
            }),
            None => Ok(()),
        }
    }
}

/// The `p`-quantile of sorted values by linear interpolation between order
/// statistics (NumPy's default `"linear"` method, the one scikit-learn and
/// PyOD use for contamination thresholds): position `h = (n − 1) p`.
pub(crate) fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    // Callers refuse empty score sets first; NaN rather than an index out of
    // bounds if one ever does not.
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let frac = h - lo as f64;
    if frac == 0.0 || sorted[lo] == sorted[hi] {
        sorted[lo]
    } else {
        sorted[lo] + frac * (sorted[hi] - sorted[lo])
    }
}

/// A strategy that chooses a threshold from scores (and labels, if it needs
/// them). Implement it to add a rule of your own; a detector records
/// [`ThresholdRule::name`] and [`ThresholdRule::parameters`] in its file.
///
/// ```
/// use mixtures_anomaly::{AnomalyError, ScoreSet, Threshold, ThresholdRule};
/// use mixtures_core::Scalar;
///
/// /// Flags everything above the largest training score.
/// #[derive(Debug)]
/// struct AboveMax;
///
/// impl<T: Scalar> ThresholdRule<T> for AboveMax {
///     fn name(&self) -> &str {
///         "above_max"
///     }
///     fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
///         let max = data.sorted_finite("above_max")?.last().copied().unwrap_or(0.0);
///         // The next representable value, so that the maximum itself is not flagged.
///         Ok(T::c(max + max.abs() * 1e-12 + f64::MIN_POSITIVE))
///     }
/// }
///
/// let t = Threshold::fit(&AboveMax, &ScoreSet::new(&[1.0_f64, 3.0, 2.0])?)?;
/// assert!(!t.is_anomaly(3.0) && t.is_anomaly(3.1));
/// # Ok::<(), AnomalyError>(())
/// ```
pub trait ThresholdRule<T: Scalar>: core::fmt::Debug + Send + Sync {
    /// Short name, recorded in detector files (`"contamination"`, ...).
    fn name(&self) -> &str;

    /// The rule's parameters by name, recorded in detector files.
    fn parameters(&self) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// Checks the parameters before any work (a detector calls it before
    /// fitting its model).
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] naming the parameter.
    fn check(&self) -> Result<(), AnomalyError> {
        Ok(())
    }

    /// Chooses the threshold: points with `score >=` the returned value are
    /// anomalies.
    ///
    /// # Errors
    /// Whatever prevents the choice: missing labels, no anomaly among them,
    /// invalid parameters, degenerate scores.
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError>;
}

/// A chosen threshold and the rule that chose it. A point is an anomaly when its
/// score is `>=` the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold<T: Scalar> {
    value: T,
    rule: String,
    parameters: BTreeMap<String, f64>,
}

impl<T: Scalar> Threshold<T> {
    /// A threshold from its parts.
    ///
    /// # Errors
    /// [`AnomalyError::NonFiniteThreshold`] for a NaN or infinite value.
    pub fn new(
        value: T,
        rule: impl Into<String>,
        parameters: impl IntoIterator<Item = (String, f64)>,
    ) -> Result<Self, AnomalyError> {
        let rule = rule.into();
        if !value.is_finite() {
            return Err(AnomalyError::NonFiniteThreshold {
                value: value.as_f64(),
                rule,
            });
        }
        Ok(Self {
            value,
            rule,
            parameters: parameters.into_iter().collect(),
        })
    }

    /// Runs `rule` on `data`.
    ///
    /// # Errors
    /// As [`ThresholdRule::check`] and [`ThresholdRule::choose`], and
    /// [`AnomalyError::NonFiniteThreshold`].
    pub fn fit<R: ThresholdRule<T> + ?Sized>(
        rule: &R,
        data: &ScoreSet<'_, T>,
    ) -> Result<Self, AnomalyError> {
        rule.check()?;
        let value = rule.choose(data)?;
        Self::new(value, rule.name(), rule.parameters())
    }

    /// The threshold.
    pub fn value(&self) -> T {
        self.value
    }

    /// Name of the rule that chose it.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The rule's parameters.
    pub fn parameters(&self) -> &BTreeMap<String, f64> {
        &self.parameters
    }

    /// Whether a score is at or above the threshold.
    pub fn is_anomaly(&self, score: T) -> bool {
        score >= self.value
    }

    /// 1 for every score at or above the threshold, 0 otherwise (NaN gives 0).
    pub fn predict(&self, scores: &[T]) -> Vec<u8> {
        scores
            .iter()
            .map(|&s| u8::from(self.is_anomaly(s)))
            .collect()
    }
}

/// The `(1 − q)` quantile of the scores (linear interpolation, as NumPy's
/// `percentile` and PyOD's `contamination`): about a fraction `q` of points
/// like these score at or above it. `q` must lie in `(0, 0.5]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contamination(pub f64);

impl<T: Scalar> ThresholdRule<T> for Contamination {
    fn name(&self) -> &str {
        "contamination"
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("q".into(), self.0)]
    }
    fn check(&self) -> Result<(), AnomalyError> {
        if !(self.0 > 0.0 && self.0 <= 0.5) {
            return Err(AnomalyError::invalid(
                "contamination",
                self.0,
                "must lie in (0, 0.5]: the expected fraction of anomalies",
            ));
        }
        Ok(())
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        ThresholdRule::<T>::check(self)?;
        let sorted = data.sorted_finite("contamination")?;
        Ok(T::c(quantile_sorted(&sorted, 1.0 - self.0)))
    }
}

/// A given threshold, whatever the scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed(pub f64);

impl<T: Scalar> ThresholdRule<T> for Fixed {
    fn name(&self) -> &str {
        "fixed"
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("value".into(), self.0)]
    }
    fn check(&self) -> Result<(), AnomalyError> {
        if !self.0.is_finite() {
            return Err(AnomalyError::invalid(
                "fixed threshold",
                self.0,
                "must be finite",
            ));
        }
        Ok(())
    }
    fn choose(&self, _data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        ThresholdRule::<T>::check(self)?;
        Ok(T::c(self.0))
    }
}

/// The threshold that maximizes F-beta on labelled scores, exactly: every
/// distinct score is tried as a threshold, in one pass over the scores sorted
/// once (O(n log n)). Among thresholds with the same (largest) F-beta, the
/// highest wins (fewest points flagged). `beta` must be finite and `> 0`;
/// `BestF::f1()` is `beta = 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestF {
    /// Weight of recall relative to precision.
    pub beta: f64,
}

impl BestF {
    /// F1: precision and recall weighted equally.
    pub fn f1() -> Self {
        Self { beta: 1.0 }
    }

    /// The best threshold's index in `points` and its F-beta. `points` must
    /// contain an anomaly.
    pub(crate) fn best(&self, points: &OperatingPoints<impl Scalar>) -> (usize, f64) {
        let mut best = (0, f64::NEG_INFINITY);
        for i in 0..points.len() {
            let f = points.confusion(i).f_beta(self.beta);
            // Strictly greater: the first (highest) threshold wins a tie.
            if f > best.1 {
                best = (i, f);
            }
        }
        best
    }
}

impl<T: Scalar> ThresholdRule<T> for BestF {
    fn name(&self) -> &str {
        "best_f"
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("beta".into(), self.beta)]
    }
    fn check(&self) -> Result<(), AnomalyError> {
        if !(self.beta > 0.0 && self.beta.is_finite()) {
            return Err(AnomalyError::invalid(
                "beta",
                self.beta,
                "must be finite and > 0",
            ));
        }
        Ok(())
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        ThresholdRule::<T>::check(self)?;
        let points = data.operating_points("best_f")?;
        points.require_anomalies("best_f")?;
        let (i, _) = self.best(&points);
        Ok(points.thresholds()[i])
    }
}

fn check_unit(name: &'static str, v: f64) -> Result<(), AnomalyError> {
    if !(v > 0.0 && v <= 1.0) {
        return Err(AnomalyError::invalid(name, v, "must lie in (0, 1]"));
    }
    Ok(())
}

/// The lowest threshold whose precision on labelled scores is at least `p`,
/// which gives the largest recall at that precision. `p` must lie in `(0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetPrecision(pub f64);

impl<T: Scalar> ThresholdRule<T> for TargetPrecision {
    fn name(&self) -> &str {
        "target_precision"
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("precision".into(), self.0)]
    }
    fn check(&self) -> Result<(), AnomalyError> {
        check_unit("target precision", self.0)
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        ThresholdRule::<T>::check(self)?;
        let points = data.operating_points("target_precision")?;
        points.require_anomalies("target_precision")?;
        // Recall grows as the threshold falls, so the last threshold (in
        // decreasing order) that reaches the precision has the most recall.
        let mut chosen = None;
        let mut best = 0.0_f64;
        for (t, cm) in points.iter() {
            let p = cm.precision();
            best = best.max(p);
            if p >= self.0 {
                chosen = Some(t);
            }
        }
        chosen.ok_or(AnomalyError::TargetUnreachable {
            metric: "precision",
            target: self.0,
            best,
        })
    }
}

/// The highest threshold whose recall on labelled scores is at least `r` (the
/// fewest points flagged for that recall). `r` must lie in `(0, 1]`; flagging
/// every point reaches any recall, so a threshold always exists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetRecall(pub f64);

impl<T: Scalar> ThresholdRule<T> for TargetRecall {
    fn name(&self) -> &str {
        "target_recall"
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("recall".into(), self.0)]
    }
    fn check(&self) -> Result<(), AnomalyError> {
        check_unit("target recall", self.0)
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        ThresholdRule::<T>::check(self)?;
        let points = data.operating_points("target_recall")?;
        points.require_anomalies("target_recall")?;
        points
            .iter()
            .find(|(_, cm)| cm.recall() >= self.0)
            .map(|(t, _)| t)
            .ok_or(AnomalyError::TargetUnreachable {
                metric: "recall",
                target: self.0,
                best: 1.0,
            })
    }
}

/// `median + k · MAD` of the scores, where MAD is the raw median absolute
/// deviation `median(|s − median(s)|)` (not rescaled: for normally distributed
/// scores MAD ≈ 0.674 σ, so `k = 3 / 0.674 ≈ 4.45` is "three standard
/// deviations"). Robust to the anomalies among the scores and needs no labels.
/// `k` must be finite and `>= 0`. Refused (as [`AnomalyError::NoThreshold`])
/// when more than half the scores are equal, which makes the MAD zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mad(pub f64);

impl<T: Scalar> ThresholdRule<T> for Mad {
    fn name(&self) -> &str {
        "mad"
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("k".into(), self.0)]
    }
    fn check(&self) -> Result<(), AnomalyError> {
        if !(self.0 >= 0.0 && self.0.is_finite()) {
            return Err(AnomalyError::invalid(
                "MAD multiplier k",
                self.0,
                "must be finite and >= 0",
            ));
        }
        Ok(())
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        ThresholdRule::<T>::check(self)?;
        let sorted = data.sorted_finite("mad")?;
        let median = quantile_sorted(&sorted, 0.5);
        let mut dev: Vec<f64> = sorted.iter().map(|s| (s - median).abs()).collect();
        dev.sort_unstable_by(f64::total_cmp);
        let mad = quantile_sorted(&dev, 0.5);
        if !(mad > 0.0) {
            return Err(AnomalyError::NoThreshold {
                rule: "mad".into(),
                reason: format!(
                    "the median absolute deviation is 0 (at least half of the {} scores equal the median {median})",
                    sorted.len()
                ),
            });
        }
        Ok(T::c(median + self.0 * mad))
    }
}
