//! Online detectors: the model updated batch by batch by stepwise EM
//! ([`OnlineGaussianMixture`]), and the threshold from a streaming quantile
//! sketch of the scores ([`QuantileSketch`]), so that both follow a stream
//! whose distribution drifts.
//!
//! Every batch is scored under the model as it was before the batch
//! (test-then-train): those are the scores a detector in service gives, and
//! the threshold is the `1 − contamination` quantile of such scores over a
//! window of recent batches. A batch is flagged with the threshold of the
//! batches before it; the first batch, which the model is fitted on, with
//! its own.

use std::collections::VecDeque;

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{DensityModel, GaussianMixtureModel};
use mixtures_em::{OnlineGaussianMixture, OnlineStep, StepSize};

use crate::sketch::{DEFAULT_SKETCH_CAPACITY, QuantileSketch};
use crate::{AnomalyError, DEFAULT_NOVELTY_CONTAMINATION, Detector, Threshold};

/// Which batches' scores the threshold of an [`OnlineDetector`] is the
/// quantile of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ScoreWindow {
    /// Follows the model's step size: the last `⌈1/η⌉` batches for a
    /// constant step `η` (about the batches the model itself remembers),
    /// every batch for a decaying one (a stationary stream).
    #[default]
    Auto,
    /// Every batch so far (one sketch, merged into).
    All,
    /// The last `n` batches (one sketch each).
    Batches(usize),
}

/// What one [`OnlineDetector::update`] found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineUpdate<T: Scalar> {
    /// The batch's anomaly scores `−ln p(x)` under the model before the
    /// update (for the first batch, under the model fitted on it).
    pub scores: Vec<T>,
    /// 1 where the score reaches `threshold`, else 0.
    pub flags: Vec<u8>,
    /// The threshold the batch was judged by.
    pub threshold: T,
    /// What the model's update did.
    pub step: OnlineStep,
}

/// An anomaly detector updated batch by batch: a Gaussian mixture by
/// stepwise EM and the threshold at which a fraction `contamination` of
/// recent scores are flagged, from mergeable quantile sketches (rank error
/// [`OnlineDetector::rank_error`]). With a constant step size both follow a
/// drifting stream; [`OnlineDetector::detector`] freezes the current state
/// into a [`Detector`] (for scoring elsewhere, or a detector file).
///
/// ```
/// use mixtures_anomaly::OnlineDetector;
/// use mixtures_core::Dataset;
/// use mixtures_em::{Covariance, GaussianMixture, StepSize};
///
/// // One cloud of points whose centre moves right by 0.1 per batch.
/// let batch = |b: usize| {
///     let rows: Vec<[f64; 2]> = (0..1000)
///         .map(|i| {
///             let t = (b * 1000 + i) as f64;
///             [0.1 * b as f64 + (t * 0.61).sin(), (t * 0.37).cos()]
///         })
///         .collect();
///     Dataset::from_rows(&rows)
/// };
/// let em = GaussianMixture::params(1).covariance(Covariance::Diag).online();
/// let mut detector = OnlineDetector::new(em.step_size(StepSize::Constant(0.1)))
///     .contamination(0.02);
/// for b in 0..100 {
///     let update = detector.update(&batch(b)?)?;
///     if b > 10 {
///         // The flagged share stays near 2 % although the data moved by 10.
///         let flagged = update.flags.iter().filter(|&&f| f == 1).count();
///         assert!(flagged < 100, "batch {b}: {flagged}");
///     }
/// }
/// // The estimate follows the centre (9.9 now), lagging by about
/// // (1 − η)/η = 9 batches, as an exponential average does.
/// let mean = detector.model().ok_or("no model")?.components().mean(0)[0];
/// assert!((mean - 9.0).abs() < 0.15, "{mean}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OnlineDetector<T: Scalar> {
    em: OnlineGaussianMixture<T>,
    contamination: f64,
    window: ScoreWindow,
    capacity: usize,
    sketches: VecDeque<QuantileSketch>,
    threshold: Option<T>,
}

impl<T: Scalar> OnlineDetector<T> {
    /// A detector on `em` (not yet fitted, or started from a model) with
    /// the default contamination ([`DEFAULT_NOVELTY_CONTAMINATION`]), score
    /// window ([`ScoreWindow::Auto`]) and sketch capacity
    /// ([`DEFAULT_SKETCH_CAPACITY`]).
    pub fn new(em: OnlineGaussianMixture<T>) -> Self {
        Self {
            em,
            contamination: DEFAULT_NOVELTY_CONTAMINATION,
            window: ScoreWindow::Auto,
            capacity: DEFAULT_SKETCH_CAPACITY,
            sketches: VecDeque::new(),
            threshold: None,
        }
    }

    /// The fraction of scores flagged, in `(0, 0.5]`.
    #[must_use]
    pub fn contamination(mut self, c: f64) -> Self {
        self.contamination = c;
        self
    }

    /// Which batches' scores the threshold comes from.
    #[must_use]
    pub fn window(mut self, w: ScoreWindow) -> Self {
        self.window = w;
        self
    }

    /// Values per level of the sketches (at least 2; the rank error falls
    /// as its inverse).
    #[must_use]
    pub fn sketch_capacity(mut self, b: usize) -> Self {
        self.capacity = b;
        self
    }

    /// Checks the detector's own parameters and the step-size schedule.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] naming the parameter.
    pub fn check(&self) -> Result<(), AnomalyError> {
        if !(self.contamination > 0.0 && self.contamination <= 0.5) {
            return Err(AnomalyError::invalid(
                "contamination",
                self.contamination,
                "must lie in (0, 0.5]: the fraction of scores flagged",
            ));
        }
        if self.window == ScoreWindow::Batches(0) {
            return Err(AnomalyError::invalid(
                "window",
                0usize,
                "must hold at least one batch",
            ));
        }
        QuantileSketch::new(self.capacity)?;
        Ok(self.em.schedule().check()?)
    }

    /// The number of batches in the window (`None`: every batch).
    pub fn window_batches(&self) -> Option<usize> {
        match (self.window, self.em.schedule()) {
            (ScoreWindow::Batches(n), _) => Some(n),
            (ScoreWindow::Auto, StepSize::Constant(eta)) => Some((1.0 / eta).ceil() as usize),
            _ => None,
        }
    }

    /// Judges a batch and learns from it: scores under the current model,
    /// flags with the current threshold, then the model's update
    /// ([`OnlineGaussianMixture::partial_fit`]) and the threshold's.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] before any work; the model's
    /// errors as [`AnomalyError::Fit`], a batch of another dimension as
    /// [`AnomalyError::Data`]. A failed update changes nothing.
    pub fn update(&mut self, batch: &Dataset<T>) -> Result<OnlineUpdate<T>, AnomalyError> {
        self.check()?;
        let before = match self.em.model() {
            Some(m) => Some(m.anomaly_scores(batch)?),
            None => None,
        };
        let mut sketch = QuantileSketch::new(self.capacity)?;
        if let Some(s) = &before {
            sketch.extend(s.iter().map(|v| v.as_f64()))?;
        }
        let step = self.em.partial_fit(batch)?;
        let scores = match before {
            Some(s) => s,
            None => {
                let model = self.em.model().ok_or(AnomalyError::NoThreshold {
                    rule: "an online detector".into(),
                    reason: "the model was not fitted".into(),
                })?;
                let s = model.anomaly_scores(batch)?;
                sketch.extend(s.iter().map(|v| v.as_f64()))?;
                s
            }
        };
        self.push(sketch)?;
        let after =
            QuantileSketch::union_quantile(&self.sketches, 1.0 - self.contamination).map(T::c);
        let threshold = match self.threshold.or(after) {
            Some(t) => t,
            None => {
                return Err(AnomalyError::NoThreshold {
                    rule: "an online detector".into(),
                    reason: "no scores yet".into(),
                });
            }
        };
        self.threshold = after;
        let flags = scores.iter().map(|&s| u8::from(s >= threshold)).collect();
        Ok(OnlineUpdate {
            scores,
            flags,
            threshold,
            step,
        })
    }

    /// Adds a batch's sketch to the window.
    fn push(&mut self, sketch: QuantileSketch) -> Result<(), AnomalyError> {
        match self.window_batches() {
            None => {
                // One sketch of every batch (after a window of several, the
                // window's batches are all that is left to merge).
                while self.sketches.len() > 1 {
                    if let Some(b) = self.sketches.pop_back() {
                        if let Some(a) = self.sketches.back_mut() {
                            a.merge(&b)?;
                        }
                    }
                }
                match self.sketches.front_mut() {
                    Some(all) => all.merge(&sketch)?,
                    None => self.sketches.push_back(sketch),
                }
            }
            Some(n) => {
                self.sketches.push_back(sketch);
                while self.sketches.len() > n {
                    self.sketches.pop_front();
                }
            }
        }
        Ok(())
    }

    /// The current threshold (none before the first batch).
    pub fn threshold(&self) -> Option<T> {
        self.threshold
    }

    /// The rank error of the current threshold as a fraction of the scores
    /// in the window: the threshold flags a fraction within this of
    /// `contamination` of them.
    pub fn rank_error(&self) -> f64 {
        QuantileSketch::union_rank_error(&self.sketches)
    }

    /// Scores in the current window.
    pub fn window_count(&self) -> u64 {
        self.sketches.iter().map(QuantileSketch::count).sum()
    }

    /// The current model (none before the first batch).
    pub fn model(&self) -> Option<&GaussianMixtureModel<T>> {
        self.em.model()
    }

    /// The online fit.
    pub fn online(&self) -> &OnlineGaussianMixture<T> {
        &self.em
    }

    /// The current model and threshold as a [`Detector`] (none before the
    /// first batch), its threshold recorded as a `contamination` rule.
    ///
    /// # Errors
    /// [`AnomalyError::NonFiniteThreshold`] (not expected: scores are
    /// finite).
    pub fn detector(&self) -> Result<Option<Detector<T, GaussianMixtureModel<T>>>, AnomalyError> {
        let (Some(model), Some(value)) = (self.em.model(), self.threshold) else {
            return Ok(None);
        };
        let threshold = Threshold::new(
            value,
            "contamination",
            [("contamination".to_owned(), self.contamination)],
        )?;
        Ok(Some(Detector::from_parts(model.clone(), threshold)))
    }
}
