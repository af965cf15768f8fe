//! Metrics of a detector on labelled data: the confusion matrix at a threshold,
//! precision, recall, F-beta, ROC AUC, average precision, and the ROC and
//! precision–recall curves as data.
//!
//! Everything that depends on the threshold is built on [`OperatingPoints`]:
//! the scores sorted once, from the most to the least anomalous, with the counts
//! of flagged anomalies and normal points at every distinct score. A threshold
//! flags the points whose score is `>=` it, so all points with equal scores are
//! always on the same side (ties are never split). The conventions are
//! scikit-learn's: [`roc_auc`] equals `roc_auc_score` (ties count one half),
//! [`average_precision`] equals `average_precision_score` (the step-wise sum
//! `Σ (Rᵢ − Rᵢ₋₁) Pᵢ`, no interpolation), and the curves hold the same points
//! as `roc_curve(drop_intermediate=False)` and `precision_recall_curve`, in order
//! of decreasing threshold.

use mixtures_core::Scalar;

use crate::labels::check_binary;
use crate::{AnomalyError, Label};

/// Counts of a binary decision against binary labels (anomaly = positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ConfusionMatrix {
    /// Anomalies flagged.
    pub true_positives: usize,
    /// Normal points flagged.
    pub false_positives: usize,
    /// Normal points not flagged.
    pub true_negatives: usize,
    /// Anomalies not flagged.
    pub false_negatives: usize,
}

/// `num / den`, and 0 when `den` is 0 (scikit-learn's `zero_division=0`).
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl ConfusionMatrix {
    /// Counts 0/1 predictions against 0/1 labels.
    ///
    /// # Errors
    /// [`AnomalyError::LabelsLength`] if the lengths differ,
    /// [`AnomalyError::InvalidLabel`] for a value other than 0 or 1.
    pub fn from_predictions<P: Label, L: Label>(
        predictions: &[P],
        labels: &[L],
    ) -> Result<Self, AnomalyError> {
        let truth = check_binary("labels", labels, labels.len())?;
        let pred = check_binary("predictions", predictions, labels.len())?;
        let mut cm = Self::default();
        for (&p, &t) in pred.iter().zip(&truth) {
            cm.add(p, t);
        }
        Ok(cm)
    }

    /// Counts the decision `score >= threshold` against 0/1 labels.
    ///
    /// # Errors
    /// [`AnomalyError::LabelsLength`], [`AnomalyError::InvalidLabel`] or
    /// [`AnomalyError::NanScore`].
    pub fn at_threshold<T: Scalar, L: Label>(
        scores: &[T],
        labels: &[L],
        threshold: T,
    ) -> Result<Self, AnomalyError> {
        let truth = check_binary("labels", labels, scores.len())?;
        check_not_nan(scores)?;
        let mut cm = Self::default();
        for (&s, &t) in scores.iter().zip(&truth) {
            cm.add(s >= threshold, t);
        }
        Ok(cm)
    }

    fn add(&mut self, flagged: bool, anomaly: bool) {
        match (flagged, anomaly) {
            (true, true) => self.true_positives += 1,
            (true, false) => self.false_positives += 1,
            (false, false) => self.true_negatives += 1,
            (false, true) => self.false_negatives += 1,
        }
    }

    /// Number of anomalies in the labels.
    pub fn positives(&self) -> usize {
        self.true_positives + self.false_negatives
    }

    /// Number of normal points in the labels.
    pub fn negatives(&self) -> usize {
        self.false_positives + self.true_negatives
    }

    /// Number of points flagged.
    pub fn flagged(&self) -> usize {
        self.true_positives + self.false_positives
    }

    /// `TP / (TP + FP)`: the fraction of flagged points that are anomalies; 0
    /// when nothing is flagged.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.flagged())
    }

    /// `TP / (TP + FN)`: the fraction of anomalies flagged (true positive
    /// rate); 0 when there are no anomalies.
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.positives())
    }

    /// `FP / (FP + TN)`: the fraction of normal points flagged; 0 when there are
    /// no normal points.
    pub fn false_positive_rate(&self) -> f64 {
        ratio(self.false_positives, self.negatives())
    }

    /// `(TP + TN) / n`; 0 for an empty matrix.
    pub fn accuracy(&self) -> f64 {
        ratio(
            self.true_positives + self.true_negatives,
            self.positives() + self.negatives(),
        )
    }

    /// F-beta: `(1 + β²) P R / (β² P + R)`, the weighted harmonic mean of
    /// precision and recall in which recall counts `β` times as much as
    /// precision. Computed from the counts as `(1 + β²) TP / ((1 + β²) TP +
    /// β² FN + FP)`, which needs no special case when precision is undefined;
    /// 0 when there is nothing to count (no anomaly and nothing flagged). A
    /// NaN `β` gives NaN.
    pub fn f_beta(&self, beta: f64) -> f64 {
        let b2 = beta * beta;
        let tp = self.true_positives as f64;
        let num = (1.0 + b2) * tp;
        let den = num + b2 * self.false_negatives as f64 + self.false_positives as f64;
        if den == 0.0 { 0.0 } else { num / den }
    }

    /// F1, the harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        self.f_beta(1.0)
    }
}

/// Refuses an empty slice of scores or a NaN score.
pub(crate) fn check_not_nan<T: Scalar>(scores: &[T]) -> Result<(), AnomalyError> {
    if scores.is_empty() {
        return Err(AnomalyError::NoScores);
    }
    match scores.iter().position(|s| s.is_nan()) {
        Some(index) => Err(AnomalyError::NanScore { index }),
        None => Ok(()),
    }
}

/// Labelled scores sorted once, from the most to the least anomalous, with the
/// confusion matrix of every distinct threshold.
///
/// Entry `i` describes the threshold `thresholds()[i]` (the `i`-th largest
/// distinct score): the decision "anomaly when `score >= thresholds()[i]`".
/// Everything label-based in this crate (the curves, AUC, average precision,
/// [`crate::BestF`], [`crate::TargetPrecision`], [`crate::TargetRecall`]) reads
/// these counts, so a threshold rule of your own can too.
///
/// ```
/// use mixtures_anomaly::OperatingPoints;
/// let points = OperatingPoints::new(&[0.1_f64, 0.9, 0.4, 0.9], &[0, 1, 0, 0])?;
/// assert_eq!(points.thresholds(), &[0.9, 0.4, 0.1]);
/// let cm = points.confusion(0); // flag score >= 0.9: both tied points
/// assert_eq!((cm.true_positives, cm.false_positives), (1, 1));
/// # Ok::<(), mixtures_anomaly::AnomalyError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OperatingPoints<T: Scalar> {
    thresholds: Vec<T>,
    tp: Vec<usize>,
    fp: Vec<usize>,
    positives: usize,
    negatives: usize,
}

impl<T: Scalar> OperatingPoints<T> {
    /// Sorts the scores (O(n log n)) and counts, in one pass, the anomalies and
    /// normal points at or above every distinct score.
    ///
    /// # Errors
    /// [`AnomalyError::NoScores`], [`AnomalyError::NanScore`],
    /// [`AnomalyError::LabelsLength`] or [`AnomalyError::InvalidLabel`].
    pub fn new<L: Label>(scores: &[T], labels: &[L]) -> Result<Self, AnomalyError> {
        check_not_nan(scores)?;
        let truth = check_binary("labels", labels, scores.len())?;
        Ok(Self::from_checked(scores, &truth))
    }

    /// As [`OperatingPoints::new`] for scores already checked (non-empty, no
    /// NaN) and labels already converted.
    pub(crate) fn from_checked(scores: &[T], labels: &[bool]) -> Self {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        // Descending. `total_cmp` puts −0.0 right after +0.0, so equal scores
        // stay adjacent and are grouped below by `==`.
        order.sort_unstable_by(|&a, &b| scores[b].as_f64().total_cmp(&scores[a].as_f64()));
        let mut thresholds = Vec::new();
        let (mut tp, mut fp) = (Vec::new(), Vec::new());
        let (mut t, mut f) = (0usize, 0usize);
        for (pos, &i) in order.iter().enumerate() {
            if labels[i] {
                t += 1;
            } else {
                f += 1;
            }
            // Close a group at the last point of a run of equal scores.
            let last = order
                .get(pos + 1)
                .is_none_or(|&next| scores[next] != scores[i]);
            if last {
                thresholds.push(scores[i]);
                tp.push(t);
                fp.push(f);
            }
        }
        Self {
            thresholds,
            tp,
            fp,
            positives: t,
            negatives: f,
        }
    }

    /// Number of distinct scores (at least 1).
    pub fn len(&self) -> usize {
        self.thresholds.len()
    }

    /// Always false: there is at least one score.
    pub fn is_empty(&self) -> bool {
        self.thresholds.is_empty()
    }

    /// The distinct scores, in decreasing order.
    pub fn thresholds(&self) -> &[T] {
        &self.thresholds
    }

    /// Number of anomalies in the labels.
    pub fn positives(&self) -> usize {
        self.positives
    }

    /// Number of normal points in the labels.
    pub fn negatives(&self) -> usize {
        self.negatives
    }

    /// The confusion matrix of the decision `score >= thresholds()[i]`.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn confusion(&self, i: usize) -> ConfusionMatrix {
        ConfusionMatrix {
            true_positives: self.tp[i],
            false_positives: self.fp[i],
            true_negatives: self.negatives - self.fp[i],
            false_negatives: self.positives - self.tp[i],
        }
    }

    /// `(threshold, confusion matrix)` for every distinct score, from the
    /// highest threshold (fewest points flagged) to the lowest (all flagged).
    pub fn iter(&self) -> impl Iterator<Item = (T, ConfusionMatrix)> + '_ {
        (0..self.len()).map(|i| (self.thresholds[i], self.confusion(i)))
    }

    pub(crate) fn require_anomalies(&self, needed_by: &str) -> Result<(), AnomalyError> {
        if self.positives == 0 {
            return Err(AnomalyError::NoAnomalies {
                needed_by: needed_by.to_owned(),
            });
        }
        Ok(())
    }

    fn require_both(&self, needed_by: &str) -> Result<(), AnomalyError> {
        self.require_anomalies(needed_by)?;
        if self.negatives == 0 {
            return Err(AnomalyError::NoNormals {
                needed_by: needed_by.to_owned(),
            });
        }
        Ok(())
    }

    /// Area under the ROC curve: the probability that a random anomaly scores
    /// higher than a random normal point, ties counting one half (the
    /// Mann–Whitney statistic). Computed exactly in integers as the trapezoids
    /// between consecutive operating points, with a single division at the end.
    ///
    /// # Errors
    /// [`AnomalyError::NoAnomalies`] or [`AnomalyError::NoNormals`]: AUC needs
    /// both classes (as scikit-learn).
    pub fn roc_auc(&self) -> Result<f64, AnomalyError> {
        self.require_both("ROC AUC")?;
        // Twice the area in units of 1/(P·N): Σ Δfp · (tpᵢ + tpᵢ₋₁).
        let mut twice: u128 = 0;
        let (mut tp0, mut fp0) = (0u128, 0u128);
        for (&t, &f) in self.tp.iter().zip(&self.fp) {
            let (t, f) = (t as u128, f as u128);
            twice += (f - fp0) * (t + tp0);
            (tp0, fp0) = (t, f);
        }
        let den = 2.0 * self.positives as f64 * self.negatives as f64;
        Ok(twice as f64 / den)
    }

    /// Average precision `Σ (Rᵢ − Rᵢ₋₁) Pᵢ` over the distinct thresholds in
    /// decreasing order (the step-wise area under the precision–recall curve,
    /// without interpolation, as scikit-learn's `average_precision_score`).
    ///
    /// # Errors
    /// [`AnomalyError::NoAnomalies`].
    pub fn average_precision(&self) -> Result<f64, AnomalyError> {
        self.require_anomalies("average precision")?;
        // Σ Δtpᵢ · precisionᵢ, divided by P once at the end.
        let mut sum = 0.0;
        let mut tp0 = 0usize;
        for (&t, &f) in self.tp.iter().zip(&self.fp) {
            sum += (t - tp0) as f64 * (t as f64 / (t + f) as f64);
            tp0 = t;
        }
        Ok(sum / self.positives as f64)
    }

    /// The ROC curve: the point (0, 0) at threshold `+∞` (nothing flagged),
    /// then (false positive rate, true positive rate) at every distinct score
    /// in decreasing order, ending at (1, 1).
    ///
    /// # Errors
    /// [`AnomalyError::NoAnomalies`] or [`AnomalyError::NoNormals`].
    pub fn roc_curve(&self) -> Result<RocCurve<T>, AnomalyError> {
        self.require_both("the ROC curve")?;
        let (p, n) = (self.positives as f64, self.negatives as f64);
        let mut curve = RocCurve {
            thresholds: vec![T::infinity()],
            false_positive_rate: vec![0.0],
            true_positive_rate: vec![0.0],
        };
        curve.thresholds.extend_from_slice(&self.thresholds);
        curve
            .false_positive_rate
            .extend(self.fp.iter().map(|&f| f as f64 / n));
        curve
            .true_positive_rate
            .extend(self.tp.iter().map(|&t| t as f64 / p));
        Ok(curve)
    }

    /// The precision–recall curve: precision 1 at recall 0 and threshold `+∞`
    /// (nothing flagged), then (precision, recall) at every distinct score in
    /// decreasing order.
    ///
    /// # Errors
    /// [`AnomalyError::NoAnomalies`].
    pub fn precision_recall_curve(&self) -> Result<PrecisionRecallCurve<T>, AnomalyError> {
        self.require_anomalies("the precision-recall curve")?;
        let mut curve = PrecisionRecallCurve {
            thresholds: vec![T::infinity()],
            precision: vec![1.0],
            recall: vec![0.0],
        };
        curve.thresholds.extend_from_slice(&self.thresholds);
        for i in 0..self.len() {
            let cm = self.confusion(i);
            curve.precision.push(cm.precision());
            curve.recall.push(cm.recall());
        }
        Ok(curve)
    }
}

/// Points of a ROC curve, for plotting: entry `i` is the decision `score >=
/// thresholds[i]`. Thresholds decrease; the first is `+∞` (the point (0, 0)).
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve<T> {
    /// The thresholds, decreasing, starting at `+∞`.
    pub thresholds: Vec<T>,
    /// False positive rate at each threshold (non-decreasing, 0 to 1).
    pub false_positive_rate: Vec<f64>,
    /// True positive rate (recall) at each threshold (non-decreasing, 0 to 1).
    pub true_positive_rate: Vec<f64>,
}

/// Points of a precision–recall curve, for plotting: entry `i` is the decision
/// `score >= thresholds[i]`. Thresholds decrease; the first is `+∞` with
/// precision 1 and recall 0 (scikit-learn's final point, listed first here).
#[derive(Debug, Clone, PartialEq)]
pub struct PrecisionRecallCurve<T> {
    /// The thresholds, decreasing, starting at `+∞`.
    pub thresholds: Vec<T>,
    /// Precision at each threshold.
    pub precision: Vec<f64>,
    /// Recall at each threshold (non-decreasing, 0 to 1).
    pub recall: Vec<f64>,
}

/// ROC AUC of anomaly scores against 0/1 labels (higher score = more anomalous);
/// equals scikit-learn's `roc_auc_score(labels, scores)`. See
/// [`OperatingPoints::roc_auc`].
///
/// ```
/// use mixtures_anomaly::roc_auc;
/// // One tie between an anomaly and a normal point counts one half.
/// let auc = roc_auc(&[0.1_f64, 0.5, 0.5, 0.9], &[0, 0, 1, 1])?;
/// assert!((auc - 0.875).abs() < 1e-15);
/// # Ok::<(), mixtures_anomaly::AnomalyError>(())
/// ```
///
/// # Errors
/// As [`OperatingPoints::new`], and [`AnomalyError::NoAnomalies`] or
/// [`AnomalyError::NoNormals`].
pub fn roc_auc<T: Scalar, L: Label>(scores: &[T], labels: &[L]) -> Result<f64, AnomalyError> {
    OperatingPoints::new(scores, labels)?.roc_auc()
}

/// Average precision of anomaly scores against 0/1 labels; equals
/// scikit-learn's `average_precision_score(labels, scores)`. See
/// [`OperatingPoints::average_precision`].
///
/// # Errors
/// As [`OperatingPoints::new`], and [`AnomalyError::NoAnomalies`].
pub fn average_precision<T: Scalar, L: Label>(
    scores: &[T],
    labels: &[L],
) -> Result<f64, AnomalyError> {
    OperatingPoints::new(scores, labels)?.average_precision()
}

/// The ROC curve of anomaly scores against 0/1 labels. See
/// [`OperatingPoints::roc_curve`].
///
/// # Errors
/// As [`roc_auc`].
pub fn roc_curve<T: Scalar, L: Label>(
    scores: &[T],
    labels: &[L],
) -> Result<RocCurve<T>, AnomalyError> {
    OperatingPoints::new(scores, labels)?.roc_curve()
}

/// The precision–recall curve of anomaly scores against 0/1 labels. See
/// [`OperatingPoints::precision_recall_curve`].
///
/// # Errors
/// As [`average_precision`].
pub fn precision_recall_curve<T: Scalar, L: Label>(
    scores: &[T],
    labels: &[L],
) -> Result<PrecisionRecallCurve<T>, AnomalyError> {
    OperatingPoints::new(scores, labels)?.precision_recall_curve()
}

/// The usual figures of a detector on labelled data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// ROC AUC of the scores (threshold-free).
    pub roc_auc: f64,
    /// Average precision of the scores (threshold-free).
    pub average_precision: f64,
    /// Counts at the threshold (`score >= threshold` flagged).
    pub confusion: ConfusionMatrix,
}

/// ROC AUC, average precision and the confusion matrix at `threshold`, from one
/// sort of the scores.
///
/// # Errors
/// As [`roc_auc`].
pub fn evaluate<T: Scalar, L: Label>(
    scores: &[T],
    labels: &[L],
    threshold: T,
) -> Result<Evaluation, AnomalyError> {
    let points = OperatingPoints::new(scores, labels)?;
    // The operating point of `threshold` is the last distinct score >= it.
    let flagged = points.thresholds().partition_point(|&t| t >= threshold);
    let confusion = match flagged {
        0 => ConfusionMatrix {
            true_positives: 0,
            false_positives: 0,
            true_negatives: points.negatives(),
            false_negatives: points.positives(),
        },
        i => points.confusion(i - 1),
    };
    Ok(Evaluation {
        roc_auc: points.roc_auc()?,
        average_precision: points.average_precision()?,
        confusion,
    })
}
