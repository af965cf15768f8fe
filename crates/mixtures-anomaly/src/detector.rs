//! Detectors: a density model plus a threshold, fitted in novelty mode (clean
//! training data) or outlier mode (contaminated training data, robust fit).

use std::sync::Arc;

use mixtures_core::{Dataset, Scalar};
use mixtures_em::{FitReport, Fitted};

use crate::metrics::Evaluation;
use crate::{
    AnomalyError, Contamination, DensityModel, Ensemble, EnsembleFitter, Explain, Explanations,
    Label, ModelChoice, ModelFit, ModelFitter, ScoreReference, ScoreSet, Threshold, ThresholdRule,
};

/// Rounds of a robust fit unless set otherwise.
pub const DEFAULT_MAX_ROUNDS: usize = 10;

/// False-alarm rate of the default threshold in novelty mode.
pub const DEFAULT_NOVELTY_CONTAMINATION: f64 = 0.01;

/// How the training data are treated.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Mode {
    /// The training data are assumed clean: the model is fitted once on all of
    /// them.
    Novelty,
    /// The training data contain about a fraction `contamination` of
    /// anomalies: fit, leave out the `⌊contamination · n⌋` highest-scoring
    /// rows, fit again on the rest (warm-started), and repeat until the set of
    /// rows left out stops changing, for at most `max_rounds` fits in all.
    Outlier {
        /// Expected fraction of anomalies, in `(0, 0.5]`.
        contamination: f64,
        /// Most model fits, the first (on all rows) included; at least 1.
        max_rounds: usize,
    },
}

/// Parameters of a detector fit: a model fitter, a threshold rule and a mode.
/// Checked before any work.
///
/// The threshold rule defaults to [`Contamination`] with the outlier mode's
/// fraction, or [`DEFAULT_NOVELTY_CONTAMINATION`] in novelty mode; it is fitted
/// on the anomaly scores of all training rows under the final model.
#[derive(Clone)]
pub struct DetectorParams<T: Scalar, F> {
    fitter: F,
    rule: Option<Arc<dyn ThresholdRule<T>>>,
    mode: Mode,
}

impl<T: Scalar, F: core::fmt::Debug> core::fmt::Debug for DetectorParams<T, F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DetectorParams")
            .field("fitter", &self.fitter)
            .field("rule", &self.rule)
            .field("mode", &self.mode)
            .finish()
    }
}

/// What a detector fit did besides producing the detector.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorReport<T: Scalar> {
    /// The report of the final model's fit.
    pub fit: FitReport,
    /// How the model step chose the final model, when it chooses (a grid,
    /// the default detector): the table of candidates and what was dropped.
    pub choice: Option<ModelChoice<T>>,
    /// The anomaly score of every training row under the final model (the
    /// rows left out of an outlier-mode fit included), from which the
    /// threshold and the score reference were computed.
    pub training_scores: Vec<T>,
    /// Model fits run (1 in novelty mode).
    pub rounds: usize,
    /// Novelty mode: true. Outlier mode: whether the set of rows left out
    /// stopped changing within `max_rounds`.
    pub converged: bool,
    /// Rows (in increasing order) left out of the final model's fit.
    pub excluded: Vec<usize>,
}

/// A fitted detector with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorFit<T: Scalar, M> {
    /// The detector.
    pub detector: Detector<T, M>,
    /// How the fit went.
    pub report: DetectorReport<T>,
}

impl<T: Scalar, F: ModelFitter<T>> DetectorParams<T, F> {
    /// Parameters with `fitter` as the model step, novelty mode and the default
    /// threshold rule.
    pub fn new(fitter: F) -> Self {
        Self {
            fitter,
            rule: None,
            mode: Mode::Novelty,
        }
    }

    /// The threshold rule, fitted on the training scores.
    #[must_use]
    pub fn threshold(mut self, rule: impl ThresholdRule<T> + 'static) -> Self {
        self.rule = Some(Arc::new(rule));
        self
    }

    /// Novelty mode (the default): the training data are clean.
    #[must_use]
    pub fn novelty(mut self) -> Self {
        self.mode = Mode::Novelty;
        self
    }

    /// Outlier mode: about a fraction `contamination` of the training data are
    /// anomalies (see [`Mode::Outlier`]); at most [`DEFAULT_MAX_ROUNDS`] fits.
    #[must_use]
    pub fn outlier(mut self, contamination: f64) -> Self {
        self.mode = Mode::Outlier {
            contamination,
            max_rounds: DEFAULT_MAX_ROUNDS,
        };
        self
    }

    /// The most model fits of a robust fit (outlier mode only).
    #[must_use]
    pub fn max_rounds(mut self, n: usize) -> Self {
        if let Mode::Outlier { max_rounds, .. } = &mut self.mode {
            *max_rounds = n;
        }
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The model fitter.
    pub fn fitter(&self) -> &F {
        &self.fitter
    }

    pub(crate) fn rule(&self) -> Arc<dyn ThresholdRule<T>> {
        match (&self.rule, self.mode) {
            (Some(r), _) => Arc::clone(r),
            (None, Mode::Outlier { contamination, .. }) => Arc::new(Contamination(contamination)),
            (None, Mode::Novelty) => Arc::new(Contamination(DEFAULT_NOVELTY_CONTAMINATION)),
        }
    }

    /// Checks the mode and the threshold rule's parameters.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] naming the parameter.
    pub fn check(&self) -> Result<(), AnomalyError> {
        if let Mode::Outlier {
            contamination,
            max_rounds,
        } = self.mode
        {
            if !(contamination > 0.0 && contamination <= 0.5) {
                return Err(AnomalyError::invalid(
                    "contamination",
                    contamination,
                    "must lie in (0, 0.5]: the expected fraction of anomalies",
                ));
            }
            if max_rounds == 0 {
                return Err(AnomalyError::invalid(
                    "max_rounds",
                    0usize,
                    "must be at least 1",
                ));
            }
        }
        self.fitter.check()?;
        self.rule().check()
    }

    /// Fits the model (robustly in outlier mode) and the threshold on the
    /// training scores.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] before any work; fit errors; the
    /// threshold rule's errors ([`AnomalyError::LabelsRequired`] for a rule
    /// that needs labels: use [`DetectorParams::fit_validated`]).
    pub fn fit(&self, data: &Dataset<T>) -> Result<DetectorFit<T, F::Model>, AnomalyError> {
        self.check()?;
        let (model, report) = self.fit_model(data)?;
        let scores = &report.training_scores;
        let threshold = Threshold::fit(self.rule().as_ref(), &ScoreSet::new(scores)?)?;
        Ok(DetectorFit {
            detector: Detector {
                model,
                threshold,
                reference: Some(ScoreReference::new(scores)?),
            },
            report,
        })
    }

    /// Fits the model on `train` and the threshold on labelled validation data
    /// (for [`crate::BestF`], [`crate::TargetPrecision`],
    /// [`crate::TargetRecall`], [`crate::PositiveUnlabeled`]). The normalized
    /// scores still refer to the training scores.
    ///
    /// # Errors
    /// As [`DetectorParams::fit`], and the label errors of
    /// [`ScoreSet::labelled`].
    pub fn fit_validated<L: Label>(
        &self,
        train: &Dataset<T>,
        validation: &Dataset<T>,
        labels: &[L],
    ) -> Result<DetectorFit<T, F::Model>, AnomalyError> {
        self.check()?;
        let (model, report) = self.fit_model(train)?;
        let val = model.anomaly_scores(validation)?;
        let threshold = Threshold::fit(self.rule().as_ref(), &ScoreSet::labelled(&val, labels)?)?;
        Ok(DetectorFit {
            detector: Detector {
                model,
                threshold,
                reference: Some(ScoreReference::new(&report.training_scores)?),
            },
            report,
        })
    }

    /// The model (robust in outlier mode), the report, and the scores of every
    /// training row under the model.
    fn fit_model(&self, data: &Dataset<T>) -> Result<(F::Model, DetectorReport<T>), AnomalyError> {
        let ModelFit {
            fitted,
            choice,
            training_scores,
        } = self.fitter.fit_model(data)?;
        let scores = match training_scores {
            Some(s) => s,
            None => fitted.model.anomaly_scores(data)?,
        };
        robust_rounds(self.mode, (fitted, choice, scores), |kept, previous| {
            // The refit's own scores are of the kept rows; every row is scored.
            let ModelFit { fitted, choice, .. } =
                self.fitter.refit_model(&subset(data, kept)?, previous)?;
            let scores = fitted.model.anomaly_scores(data)?;
            Ok((fitted, choice, scores))
        })
    }
}

/// A model step's fit, how it chose, and the anomaly score of every
/// training row under it.
pub(crate) type Round<T, M> = (Fitted<M>, Option<ModelChoice<T>>, Vec<T>);

/// The rounds of a fit in `mode` from its first round: none more in novelty
/// mode; in outlier mode, refits (`refit(kept rows, previous model)`)
/// leaving out the highest-scoring rows until the rows left out stop
/// changing, for at most `max_rounds` fits in all.
///
/// # Errors
/// Those of `refit`.
pub(crate) fn robust_rounds<T: Scalar, M>(
    mode: Mode,
    first: Round<T, M>,
    mut refit: impl FnMut(&[bool], &M) -> Result<Round<T, M>, AnomalyError>,
) -> Result<(M, DetectorReport<T>), AnomalyError> {
    let (mut fitted, mut choice, mut scores) = first;
    let n = scores.len();
    let mut kept = vec![true; n];
    let (mut rounds, mut converged) = (1, true);
    if let Mode::Outlier {
        contamination,
        max_rounds,
    } = mode
    {
        let n_drop = (contamination * n as f64).floor() as usize;
        converged = loop {
            let next = keep_all_but_highest(&scores, n_drop);
            if next == kept {
                break true;
            }
            if rounds >= max_rounds {
                break false;
            }
            kept = next;
            (fitted, choice, scores) = refit(&kept, &fitted.model)?;
            rounds += 1;
        };
    }
    let report = DetectorReport {
        fit: fitted.report,
        choice,
        training_scores: scores,
        rounds,
        converged,
        excluded: (0..n).filter(|&i| !kept[i]).collect(),
    };
    Ok((fitted.model, report))
}

impl<T: Scalar> Default for DetectorParams<T, EnsembleFitter<T>> {
    /// [`Detector::auto`].
    fn default() -> Self {
        Detector::auto()
    }
}

/// A mask keeping every row but the `n_drop` highest-scoring ones (among equal
/// scores, the earlier row is dropped first, so the choice is deterministic).
fn keep_all_but_highest<T: Scalar>(scores: &[T], n_drop: usize) -> Vec<bool> {
    let mut keep = vec![true; scores.len()];
    if n_drop == 0 {
        return keep;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    let by_score_desc = |a: &usize, b: &usize| {
        scores[*b]
            .as_f64()
            .total_cmp(&scores[*a].as_f64())
            .then(a.cmp(b))
    };
    // Only the top n_drop are needed, not a full sort.
    order.select_nth_unstable_by(n_drop - 1, by_score_desc);
    for &i in &order[..n_drop] {
        keep[i] = false;
    }
    keep
}

/// The rows of `data` (and their weights) where `keep` is true.
pub(crate) fn subset<T: Scalar>(
    data: &Dataset<T>,
    keep: &[bool],
) -> Result<Dataset<T>, AnomalyError> {
    let rows: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    Ok(data.select_rows(&rows)?)
}

/// A density model and a threshold on its anomaly scores `−ln p(x)`: points
/// scoring at or above the threshold are anomalies. Keeps the sorted training
/// scores (when it was fitted, or read from a file that has them) for
/// normalized scores.
///
/// ```
/// use mixtures_anomaly::{Contamination, Detector};
/// use mixtures_core::Dataset;
/// use mixtures_em::GaussianMixture;
///
/// let rows: Vec<[f64; 2]> = (0..500)
///     .map(|i| { let t = i as f64 * 0.37; [t.sin() * 2.0, t.cos()] })
///     .collect();
/// let train = Dataset::from_rows(&rows)?;
/// let fit = Detector::params(GaussianMixture::params(1).seed(3))
///     .threshold(Contamination(0.02))
///     .fit(&train)?;
/// let detector = fit.detector;
/// let new = Dataset::from_rows(&[[0.0, 0.0], [9.0, 9.0]])?;
/// assert_eq!(detector.predict(&new)?, vec![0, 1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Detector<T: Scalar, M> {
    pub(crate) model: M,
    pub(crate) threshold: Threshold<T>,
    pub(crate) reference: Option<ScoreReference<T>>,
}

impl<T: Scalar> Detector<T, Ensemble<T>> {
    /// The default detector: an [`Ensemble`] of one Gaussian, the minimum
    /// covariance determinant and a Gaussian mixture chosen on the training
    /// data by [`crate::AutoFitter`], each part's scores centred and scaled by its
    /// training scores and averaged (see [`crate::ensemble`] for the rule and
    /// how it was chosen), novelty mode and the
    /// default threshold (the 99th percentile of the training scores). For
    /// contaminated training data with a known fraction `q` of anomalies, add
    /// `.outlier(q)`; for another threshold, `.threshold(..)`.
    ///
    /// ```
    /// use mixtures_anomaly::Detector;
    /// use mixtures_core::Dataset;
    ///
    /// // A rectangle of evenly spread points, 4 wide and 2 high.
    /// let rows: Vec<[f64; 2]> = (0..400)
    ///     .map(|i| {
    ///         let (u, v) = ((i as f64 * 0.618).fract(), (i as f64 * 0.377).fract());
    ///         [4.0 * u - 2.0, 2.0 * v - 1.0]
    ///     })
    ///     .collect();
    /// let fit = Detector::auto().fit(&Dataset::from_rows(&rows)?)?;
    /// let far = Dataset::from_rows(&[[0.0, 0.0], [0.0, 9.0]])?;
    /// assert_eq!(fit.detector.predict(&far)?, vec![0, 1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn auto() -> DetectorParams<T, EnsembleFitter<T>> {
        DetectorParams::new(EnsembleFitter::new())
    }
}

impl<T: Scalar, M> Detector<T, M> {
    /// The same threshold and reference around the model `f` makes of this
    /// one (another type holding the same scores: feature names added, a
    /// family erased). The caller keeps the scores the same.
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn map_model<N, E>(self, f: impl FnOnce(M) -> Result<N, E>) -> Result<Detector<T, N>, E> {
        Ok(Detector {
            model: f(self.model)?,
            threshold: self.threshold,
            reference: self.reference,
        })
    }
}

impl<T: Scalar, M: DensityModel<T>> Detector<T, M> {
    /// Parameters of a detector fit with `fitter` as the model step (see
    /// [`DetectorParams`]).
    pub fn params<F: ModelFitter<T, Model = M>>(fitter: F) -> DetectorParams<T, F> {
        DetectorParams::new(fitter)
    }

    /// A detector from a model and a threshold, without training scores.
    pub fn from_parts(model: M, threshold: Threshold<T>) -> Self {
        Self {
            model,
            threshold,
            reference: None,
        }
    }

    /// Replaces the training-score reference behind normalized scores.
    #[must_use]
    pub fn with_reference(mut self, reference: ScoreReference<T>) -> Self {
        self.reference = Some(reference);
        self
    }

    /// Drops the training scores (a smaller file; no normalized scores).
    #[must_use]
    pub fn without_reference(mut self) -> Self {
        self.reference = None;
        self
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The threshold.
    pub fn threshold(&self) -> &Threshold<T> {
        &self.threshold
    }

    /// The training-score reference, if kept.
    pub fn reference(&self) -> Option<&ScoreReference<T>> {
        self.reference.as_ref()
    }

    /// Splits into the model, the threshold and the reference.
    pub fn into_parts(self) -> (M, Threshold<T>, Option<ScoreReference<T>>) {
        (self.model, self.threshold, self.reference)
    }

    /// Anomaly scores `−ln p(x)` of every row (higher is more anomalous).
    ///
    /// # Errors
    /// [`AnomalyError::Data`] for data of another dimension.
    pub fn score(&self, data: &Dataset<T>) -> Result<Vec<T>, AnomalyError> {
        Ok(self.model.anomaly_scores(data)?)
    }

    /// 1 for every row scoring at or above the threshold, 0 otherwise.
    ///
    /// # Errors
    /// As [`Detector::score`].
    pub fn predict(&self, data: &Dataset<T>) -> Result<Vec<u8>, AnomalyError> {
        Ok(self.threshold.predict(&self.score(data)?))
    }

    /// Normalized scores: for every row, the fraction of training rows that
    /// score at least as high (see [`ScoreReference::tail_probability`]).
    ///
    /// # Errors
    /// [`AnomalyError::NoReference`] if the detector keeps no training scores;
    /// as [`Detector::score`].
    pub fn tail_probability(&self, data: &Dataset<T>) -> Result<Vec<f64>, AnomalyError> {
        let reference = self.reference.as_ref().ok_or(AnomalyError::NoReference)?;
        Ok(reference.tail_probabilities(&self.score(data)?))
    }

    /// The most likely component of every row.
    ///
    /// # Errors
    /// As [`Detector::score`].
    pub fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, AnomalyError> {
        Ok(self.model.most_likely_component(data)?)
    }

    /// Per-feature contributions to the scores (see [`crate::explain`]).
    ///
    /// # Errors
    /// As [`Detector::score`].
    pub fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError>
    where
        M: Explain<T>,
    {
        self.model.explain(data)
    }

    /// Chooses a new threshold with `rule` from the scores of (unlabelled)
    /// data.
    ///
    /// # Errors
    /// As [`Threshold::fit`]; the detector is unchanged on error.
    pub fn calibrate<R: ThresholdRule<T> + ?Sized>(
        &mut self,
        rule: &R,
        data: &Dataset<T>,
    ) -> Result<(), AnomalyError> {
        let scores = self.score(data)?;
        self.threshold = Threshold::fit(rule, &ScoreSet::new(&scores)?)?;
        Ok(())
    }

    /// Chooses a new threshold with `rule` from the scores of labelled data
    /// (validation data for [`crate::BestF`] and the other label-based rules).
    ///
    /// # Errors
    /// As [`Threshold::fit`] and [`ScoreSet::labelled`]; the detector is
    /// unchanged on error.
    pub fn calibrate_labelled<R: ThresholdRule<T> + ?Sized, L: Label>(
        &mut self,
        rule: &R,
        data: &Dataset<T>,
        labels: &[L],
    ) -> Result<(), AnomalyError> {
        let scores = self.score(data)?;
        self.threshold = Threshold::fit(rule, &ScoreSet::labelled(&scores, labels)?)?;
        Ok(())
    }

    /// ROC AUC, average precision and the confusion matrix at the detector's
    /// threshold on labelled data.
    ///
    /// # Errors
    /// As [`crate::evaluate`].
    pub fn evaluate<L: Label>(
        &self,
        data: &Dataset<T>,
        labels: &[L],
    ) -> Result<Evaluation, AnomalyError> {
        crate::evaluate(&self.score(data)?, labels, self.threshold.value())
    }
}
