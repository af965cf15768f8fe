//! Errors of scoring, thresholding, detection and metrics.

use mixtures_core::{DataError, ParamValue};
use mixtures_dist::ModelError;
use mixtures_em::FitError;
use mixtures_select::SelectError;
use thiserror::Error;

/// Why a score, threshold, detector or metric could not be computed. Indices are
/// zero-based positions in the slices that were passed in.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum AnomalyError {
    /// The data were rejected (wrong number of columns, say).
    #[error(transparent)]
    Data(#[from] DataError),
    /// Fitting the model failed.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// Choosing the model failed (no cell of the grid could be fitted, say).
    #[error(transparent)]
    Select(#[from] SelectError),
    /// A model or detector file was rejected.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An empty slice of scores.
    #[error("no scores given; at least one is needed")]
    NoScores,
    /// A NaN score: it cannot be ranked.
    #[error("score {index} is NaN; scores must be numbers")]
    NanScore {
        /// Position of the score.
        index: usize,
    },
    /// An infinite score where the rule needs arithmetic on the scores
    /// (quantiles, medians, a logistic fit).
    #[error("score {index} is {value}; {rule} needs finite scores")]
    NonFiniteScore {
        /// Position of the score.
        index: usize,
        /// The score.
        value: f64,
        /// The rule that needed finite scores.
        rule: String,
    },
    /// Labels whose count differs from the number of scores.
    #[error("{found} labels given for {expected} scores")]
    LabelsLength {
        /// Number of scores.
        expected: usize,
        /// Number of labels.
        found: usize,
    },
    /// A label (or a 0/1 prediction) other than 0 (normal) or 1 (anomaly).
    #[error("{what}[{index}] is {value}; {what} must be 0 (normal) or 1 (anomaly)")]
    InvalidLabel {
        /// `"labels"` or `"predictions"`.
        what: &'static str,
        /// Position of the label.
        index: usize,
        /// The label, printed.
        value: String,
    },
    /// A rule that needs labels was given unlabelled scores.
    #[error("{rule} needs labelled scores (0 = normal, 1 = anomaly)")]
    LabelsRequired {
        /// The rule.
        rule: String,
    },
    /// Labels without a single anomaly where one is needed.
    #[error("the labels contain no anomaly (no 1); {needed_by} needs at least one")]
    NoAnomalies {
        /// What needed an anomaly.
        needed_by: String,
    },
    /// Labels without a single normal point where one is needed.
    #[error("the labels contain no normal point (no 0); {needed_by} needs at least one")]
    NoNormals {
        /// What needed a normal point.
        needed_by: String,
    },
    /// A parameter out of its range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value, as given.
        value: ParamValue,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// No threshold reaches the requested precision.
    #[error("no threshold reaches {metric} {target}; the best reachable is {best}")]
    TargetUnreachable {
        /// `"precision"` or `"recall"`.
        metric: &'static str,
        /// The target.
        target: f64,
        /// The best value any threshold reaches.
        best: f64,
    },
    /// The scores do not allow the rule to choose a threshold (all equal, say).
    #[error("{rule} cannot choose a threshold: {reason}")]
    NoThreshold {
        /// The rule.
        rule: String,
        /// What is wrong with the scores.
        reason: String,
    },
    /// A threshold that is NaN or infinite (it could not be stored in a file,
    /// and an infinite threshold flags nothing or everything).
    #[error("threshold {value} chosen by {rule} is not finite")]
    NonFiniteThreshold {
        /// The value.
        value: f64,
        /// The rule that produced it.
        rule: String,
    },
    /// Normalized scores were asked of a detector that keeps no training scores.
    #[error(
        "this detector keeps no training scores (it was built from parts or read from a file without a `reference`), so it has no normalized scores"
    )]
    NoReference,
}

impl AnomalyError {
    /// [`AnomalyError::InvalidParameter`] for `name = value`, breaking `reason`.
    pub fn invalid(name: &'static str, value: impl Into<ParamValue>, reason: &'static str) -> Self {
        Self::InvalidParameter {
            name,
            value: value.into(),
            reason,
        }
    }
}
