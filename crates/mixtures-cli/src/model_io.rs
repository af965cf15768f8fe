//! Reading model and detector files: one read of the file, a look at its
//! `dtype` and `threshold` fields, then the library's validating readers.

use std::path::Path;

use mixtures_anomaly::{
    AnomalyError, AnyDetector, DensityModel, Detector, Ensemble, Explain, Explanations,
    IncompleteDetector, SCORE_TAIL, Threshold,
};
use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::AnyMixture;
use serde::Deserialize;

use crate::cli::Precision;
use crate::error::CliError;

/// The fields looked at before the file is read as a model: which precision
/// it was fitted in, and whether it is a detector.
#[derive(Debug, Deserialize)]
struct Peek {
    #[serde(default)]
    dtype: Option<String>,
    #[serde(default)]
    threshold: Option<PeekThreshold>,
    #[serde(default)]
    ensemble: Option<serde::de::IgnoredAny>,
}

/// The score kind of a detector file's threshold.
#[derive(Debug, Deserialize)]
struct PeekThreshold {
    #[serde(default)]
    score: Option<String>,
}

/// The text of a model file, and what a first look at it says.
#[derive(Debug)]
pub struct ModelText {
    text: String,
    /// The precision the model was fitted in (`dtype`), when it says.
    pub dtype: Option<Precision>,
    /// Whether the file has a `threshold` object (a detector file).
    pub is_detector: bool,
    /// Whether the file has an `ensemble` object (the default detector's).
    pub is_ensemble: bool,
    /// Whether the detector's threshold is on tail scores (`detect
    /// --missing`).
    pub is_tail: bool,
}

/// Reads a model file's text and looks at its `dtype` and `threshold`.
///
/// # Errors
/// [`CliError::Input`] when the file cannot be read. A malformed file is
/// reported by [`ModelText::model`], which says where.
pub fn read(path: &Path) -> Result<ModelText, CliError> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut crate::input::open(path)?, &mut text)
        .map_err(|e| CliError::input(path, format!("cannot read: {e}")))?;
    // A byte-order mark (some Windows editors write one) is not JSON.
    if let Some(rest) = text.strip_prefix('\u{feff}') {
        text = rest.to_owned();
    }
    match text.trim_start().chars().next() {
        Some('{') => {}
        Some('[') => {
            return Err(CliError::input(
                path,
                "the file holds a JSON array; a model or detector file is one JSON object \
                 (docs/model-format.md)",
            ));
        }
        None => {
            return Err(CliError::input(
                path,
                "the file is empty; expected a model file",
            ));
        }
        Some(_) => {
            return Err(CliError::input(
                path,
                "not a model file: a model or detector file is one JSON object \
                 (docs/model-format.md)",
            ));
        }
    }
    // A file that is not JSON is reported, with line and column, by the
    // library's reader below; the look here only needs what parses.
    let peek = serde_json::from_str::<Peek>(&text).ok();
    let dtype = peek
        .as_ref()
        .and_then(|p| p.dtype.as_deref())
        .and_then(|d| match d {
            "f32" => Some(Precision::F32),
            "f64" => Some(Precision::F64),
            _ => None,
        });
    let is_detector = peek.as_ref().is_some_and(|p| p.threshold.is_some());
    let is_ensemble = peek.as_ref().is_some_and(|p| p.ensemble.is_some());
    let is_tail = peek
        .as_ref()
        .and_then(|p| p.threshold.as_ref())
        .and_then(|t| t.score.as_deref())
        == Some(SCORE_TAIL);
    Ok(ModelText {
        text,
        dtype,
        is_detector,
        is_ensemble,
        is_tail,
    })
}

/// A model, and the detector when the file is one.
#[derive(Debug)]
pub struct Loaded<T: Scalar> {
    /// The model (an ensemble's main part).
    pub model: AnyMixture<T>,
    /// The detector (model + threshold), for a detector file.
    pub detector: Option<FileDetector<T>>,
}

/// The detector of a detector file: one model's, or an ensemble's (the
/// default detector).
#[derive(Debug, Clone)]
pub enum FileDetector<T: Scalar> {
    /// Scores `−ln p(x)` of one mixture.
    Single(Box<AnyDetector<T>>),
    /// Scores of an ensemble ([`Ensemble`]).
    Ensemble(Detector<T, Ensemble<T>>),
    /// Tail scores of one mixture (`detect --missing`;
    /// [`mixtures_anomaly::TailScored`]).
    Tail(Box<IncompleteDetector<T>>),
}

impl<T: Scalar> FileDetector<T> {
    /// The threshold.
    pub fn threshold(&self) -> &Threshold<T> {
        match self {
            Self::Single(d) => d.threshold(),
            Self::Ensemble(d) => d.threshold(),
            Self::Tail(d) => d.threshold(),
        }
    }

    /// The main model: the mixture, or the ensemble's main part.
    pub fn main(&self) -> &AnyMixture<T> {
        match self {
            Self::Single(d) => d.model(),
            Self::Ensemble(d) => d.model().main(),
            Self::Tail(d) => d.model().model(),
        }
    }

    /// The log-likelihood under the detector's mixture (for an ensemble,
    /// minus its score), and the most likely component (of the main part),
    /// of every row.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn log_prob_and_predict(
        &self,
        data: &Dataset<T>,
    ) -> Result<(Vec<T>, Vec<usize>), DataError> {
        match self {
            Self::Single(d) => d.model().log_prob_and_predict(data),
            Self::Ensemble(d) => Ok((
                d.model().log_prob(data)?,
                d.model().most_likely_component(data)?,
            )),
            // The model's own log-likelihood; its score is the tail score
            // (`anomaly_scores`).
            Self::Tail(d) => d.model().model().log_prob_and_predict(data),
        }
    }

    /// The detector's scores.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn anomaly_scores(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        match self {
            Self::Single(d) => d.model().anomaly_scores(data),
            Self::Ensemble(d) => d.model().anomaly_scores(data),
            Self::Tail(d) => d.model().anomaly_scores(data),
        }
    }

    /// Per-feature contributions to the detector's scores.
    ///
    /// # Errors
    /// As [`Explain::explain`].
    pub fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError> {
        match self {
            Self::Single(d) => d.model().explain(data),
            Self::Ensemble(d) => d.model().explain(data),
            Self::Tail(d) => d.model().explain(data),
        }
    }
}

impl<T: Scalar> Saved for FileDetector<T> {
    fn save_compact(&self, path: &Path) -> Result<(), mixtures_dist::ModelError> {
        match self {
            Self::Single(d) => d.save(path),
            Self::Ensemble(d) => d.save(path),
            Self::Tail(d) => d.save(path),
        }
    }
    fn save_indented(&self, path: &Path) -> Result<(), mixtures_dist::ModelError> {
        match self {
            Self::Single(d) => d.save_pretty(path),
            Self::Ensemble(d) => d.save_pretty(path),
            Self::Tail(d) => d.save_pretty(path),
        }
    }
}

impl ModelText {
    /// Builds the model (and the detector, for a detector file) in precision `T`.
    ///
    /// # Errors
    /// [`CliError::Model`] naming the file and what is wrong in it.
    pub fn model<T: Scalar>(&self, path: &Path) -> Result<Loaded<T>, CliError> {
        let loaded = self.build::<T>(path)?;
        if let Some(names) = loaded.model.feature_names()
            && let Some((i, name)) = names
                .iter()
                .enumerate()
                .find(|(i, n)| names[..*i].contains(n))
        {
            return Err(CliError::input(
                path,
                format!(
                    "feature_names names {name:?} twice (entry {}); each feature needs its own name",
                    i + 1
                ),
            ));
        }
        Ok(loaded)
    }

    fn build<T: Scalar>(&self, path: &Path) -> Result<Loaded<T>, CliError> {
        if self.is_detector {
            let detector = if self.is_tail {
                FileDetector::Tail(Box::new(
                    IncompleteDetector::<T>::from_json(&self.text)
                        .map_err(|e| CliError::model(path, e))?,
                ))
            } else if self.is_ensemble {
                FileDetector::Ensemble(
                    Detector::<T, Ensemble<T>>::from_json(&self.text)
                        .map_err(|e| CliError::model(path, e))?,
                )
            } else {
                FileDetector::Single(Box::new(
                    AnyDetector::<T>::from_json(&self.text)
                        .map_err(|e| CliError::model(path, e))?,
                ))
            };
            Ok(Loaded {
                model: detector.main().clone(),
                detector: Some(detector),
            })
        } else {
            let model =
                AnyMixture::<T>::from_json(&self.text).map_err(|e| CliError::model(path, e))?;
            Ok(Loaded {
                model,
                detector: None,
            })
        }
    }
}

/// A model or detector the CLI writes.
pub trait Saved {
    /// Writes compact JSON.
    ///
    /// # Errors
    /// [`mixtures_dist::ModelError::Io`].
    fn save_compact(&self, path: &Path) -> Result<(), mixtures_dist::ModelError>;
    /// Writes indented JSON.
    ///
    /// # Errors
    /// [`mixtures_dist::ModelError::Io`].
    fn save_indented(&self, path: &Path) -> Result<(), mixtures_dist::ModelError>;
}

impl<T: Scalar> Saved for AnyMixture<T> {
    fn save_compact(&self, path: &Path) -> Result<(), mixtures_dist::ModelError> {
        self.save(path)
    }
    fn save_indented(&self, path: &Path) -> Result<(), mixtures_dist::ModelError> {
        self.save_pretty(path)
    }
}

impl<T: Scalar> Saved for AnyDetector<T> {
    fn save_compact(&self, path: &Path) -> Result<(), mixtures_dist::ModelError> {
        self.save(path)
    }
    fn save_indented(&self, path: &Path) -> Result<(), mixtures_dist::ModelError> {
        self.save_pretty(path)
    }
}

/// Writes a model or detector file, compact or (with `--pretty`) indented,
/// timed as the `write` phase.
///
/// # Errors
/// [`CliError::Output`].
pub fn save(ui: &mut crate::ui::Ui, file: &impl Saved, path: &Path) -> Result<(), CliError> {
    let pretty = ui.pretty;
    ui.time("write", || {
        if pretty {
            file.save_indented(path)
        } else {
            file.save_compact(path)
        }
    })
    .map_err(|e| CliError::save(path, e))
}
