//! What a device calls: a model's log-density, or a detector's score, its
//! threshold and its decision.

use crate::{Mixture, Real, ScoreError};

/// One model of an ensemble detector and the scale of its scores: it adds
/// `weight · (−ln p(x) − centre)` to the ensemble's score, with `weight =
/// 1 / (J · spread)` for `J` parts (mixtures-anomaly's `Ensemble`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Part<'a, T> {
    /// The part's model.
    pub mixture: Mixture<'a, T>,
    /// The median of the part's training scores.
    pub centre: T,
    /// `1 / (J · spread)`: the part's weight in the average.
    pub weight: T,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Parts<'a, T> {
    /// One mixture: the score is `−ln p(x)`.
    Single(Mixture<'a, T>),
    /// An ensemble; `main` names the part whose components are reported.
    Ensemble {
        parts: &'a [Part<'a, T>],
        main: usize,
    },
}

/// Everything one point is scored to, from one evaluation of the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored<T> {
    /// `ln p(x)`; for an ensemble, minus its score (an unnormalized log
    /// density, as the library's `Ensemble::log_prob`).
    pub log_prob: T,
    /// The anomaly score: `−ln p(x)`, or the ensemble's mean scaled score.
    /// Higher is more anomalous.
    pub score: T,
    /// The most likely component (of the main part, for an ensemble); `K`
    /// for a point the noise component claims.
    pub component: usize,
    /// `score >= threshold` for a detector (`true` for a NaN score, so that a
    /// broken sensor reading is never passed as normal); `None` for a model.
    pub is_anomaly: Option<bool>,
}

/// A model or detector ready to score points: no allocation, no panics on
/// any input (a point of the wrong length is an error), safe to share
/// between threads and interrupt handlers (it is read only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scorer<'a, T> {
    parts: Parts<'a, T>,
    threshold: Option<T>,
    dim: usize,
}

impl<'a, T: Copy> Scorer<'a, T> {
    /// A plain model: the score is `−ln p(x)`, with no threshold.
    pub const fn model(mixture: Mixture<'a, T>) -> Self {
        let dim = mixture.dim();
        Self {
            parts: Parts::Single(mixture),
            threshold: None,
            dim,
        }
    }

    /// A detector of one model: a point is an anomaly when `−ln p(x) >=
    /// threshold`.
    pub const fn detector(mixture: Mixture<'a, T>, threshold: T) -> Self {
        let dim = mixture.dim();
        Self {
            parts: Parts::Single(mixture),
            threshold: Some(threshold),
            dim,
        }
    }

    /// An ensemble detector (the default detector's file): the score is
    /// `Σⱼ weightⱼ (−ln pⱼ(x) − centreⱼ)`; `main` names the part whose
    /// components [`Scorer::component`] reports.
    ///
    /// # Errors
    /// [`ScoreError::Empty`] for no parts, [`ScoreError::Length`] for a
    /// `main` out of range or a part of another dimension than the first.
    pub const fn ensemble(
        parts: &'a [Part<'a, T>],
        main: usize,
        threshold: T,
    ) -> Result<Self, ScoreError> {
        let Some(first) = parts.first() else {
            return Err(ScoreError::Empty { what: "parts" });
        };
        if main >= parts.len() {
            return Err(ScoreError::Length {
                what: "main (a part's index)",
                expected: parts.len(),
                found: main,
            });
        }
        let dim = first.mixture.dim();
        let mut j = 1;
        while j < parts.len() {
            if parts[j].mixture.dim() != dim {
                return Err(ScoreError::Length {
                    what: "the dimension of a part",
                    expected: dim,
                    found: parts[j].mixture.dim(),
                });
            }
            j += 1;
        }
        Ok(Self {
            parts: Parts::Ensemble { parts, main },
            threshold: Some(threshold),
            dim,
        })
    }

    /// The number of features a point has.
    pub const fn dim(&self) -> usize {
        self.dim
    }

    /// The threshold, for a detector.
    pub const fn threshold(&self) -> Option<&T> {
        self.threshold.as_ref()
    }

    /// The model (the main part, for an ensemble).
    pub const fn main(&self) -> &Mixture<'a, T> {
        match &self.parts {
            Parts::Single(m) => m,
            Parts::Ensemble { parts, main } => &parts[*main].mixture,
        }
    }
}

impl<T: Real> Scorer<'_, T> {
    /// Scores one point: its log-density, score, component and decision.
    ///
    /// # Errors
    /// [`ScoreError::Length`] when `x` does not have [`Scorer::dim`] values.
    pub fn evaluate(&self, x: &[T]) -> Result<Scored<T>, ScoreError> {
        if x.len() != self.dim {
            return Err(ScoreError::Length {
                what: "x",
                expected: self.dim,
                found: x.len(),
            });
        }
        let (log_prob, score, component) = match &self.parts {
            Parts::Single(m) => {
                let (lp, c) = m.evaluate(x);
                (lp, -lp, c)
            }
            Parts::Ensemble { parts, main } => {
                let (mut score, mut component) = (T::ZERO, 0);
                for (j, p) in parts.iter().enumerate() {
                    let (lp, c) = p.mixture.evaluate(x);
                    score += p.weight * (-lp - p.centre);
                    if j == *main {
                        component = c;
                    }
                }
                (-score, score, component)
            }
        };
        Ok(Scored {
            log_prob,
            score,
            component,
            is_anomaly: self.threshold.map(|t| !(score < t)),
        })
    }

    /// `ln p(x)` (see [`Scored::log_prob`]).
    ///
    /// # Errors
    /// As [`Scorer::evaluate`].
    pub fn log_prob(&self, x: &[T]) -> Result<T, ScoreError> {
        self.evaluate(x).map(|s| s.log_prob)
    }

    /// The anomaly score (see [`Scored::score`]).
    ///
    /// # Errors
    /// As [`Scorer::evaluate`].
    pub fn anomaly_score(&self, x: &[T]) -> Result<T, ScoreError> {
        self.evaluate(x).map(|s| s.score)
    }

    /// Whether `x` is an anomaly; `None` for a model without a threshold.
    ///
    /// # Errors
    /// As [`Scorer::evaluate`].
    pub fn is_anomaly(&self, x: &[T]) -> Result<Option<bool>, ScoreError> {
        self.evaluate(x).map(|s| s.is_anomaly)
    }

    /// The most likely component (see [`Scored::component`]).
    ///
    /// # Errors
    /// As [`Scorer::evaluate`].
    pub fn component(&self, x: &[T]) -> Result<usize, ScoreError> {
        self.evaluate(x).map(|s| s.component)
    }
}
