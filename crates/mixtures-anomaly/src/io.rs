//! Detector files: the model file of `docs/model-format.md` with one more field,
//! a `threshold` object. A detector file is therefore also a model file (readers
//! of models ignore the field), and the command line reads the threshold from
//! it.

use std::collections::BTreeMap;
use std::path::Path;

use mixtures_core::Scalar;
use mixtures_dist::{AnyMixture, Mixture, ModelError, ModelFile, Persist};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{DensityModel, Detector, Ensemble, EnsemblePart, ScoreReference, Threshold};

/// The score kind of a single mixture's detector: `−ln p(x)`.
pub const SCORE_NEGATIVE_LOG_DENSITY: &str = "negative_log_density";

fn default_score() -> String {
    SCORE_NEGATIVE_LOG_DENSITY.to_owned()
}

/// The training scores of a detector file, summarized (`reference` in the
/// `threshold` object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRecord {
    /// Number of training scores summarized.
    pub n: u64,
    /// Order statistics of the training scores at ranks
    /// `⌊j (n − 1) / (m − 1)⌋`, `j = 0..m`, `m` at most
    /// [`crate::REFERENCE_QUANTILES`] (every score when `m = n`); an infinite
    /// score is the string `"inf"` (`mixtures_dist::json`).
    #[serde(with = "mixtures_dist::json::floats")]
    pub quantiles: Vec<f64>,
}

/// The `threshold` object of a detector file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRecord {
    /// The threshold: a point is an anomaly when its score is `>=` it.
    #[serde(with = "mixtures_dist::json::float")]
    pub value: f64,
    /// What is compared with the value: `"negative_log_density"` (`−ln p(x)`,
    /// the default when absent), `"ensemble_mean_scaled_score"` (the default
    /// detector) or `"negative_log_tail_probability"` (a detector for data
    /// with missing values, [`crate::missing`]).
    #[serde(default = "default_score")]
    pub score: String,
    /// The rule that chose the value (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The rule's parameters (informative).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, f64>,
    /// The summary of the training scores, for normalized scores (optional;
    /// what this library writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceRecord>,
    /// Every training score in increasing order: files written before the
    /// summary. Read (and summarized), never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_scores: Option<Vec<f64>>,
}

/// A model file with a `threshold` object (and, for an ensemble, an
/// `ensemble` object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DetectorFile {
    #[serde(flatten)]
    model: ModelFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ensemble: Option<EnsembleRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    threshold: Option<ThresholdRecord>,
}

/// The score kind of an ensemble detector: the mean of the parts' scaled
/// scores ([`crate::Ensemble`]).
pub const SCORE_ENSEMBLE: &str = "ensemble_mean_scaled_score";

/// One part of an `ensemble` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartRecord {
    /// What the part is.
    pub name: String,
    /// The median of the part's training scores.
    #[serde(with = "mixtures_dist::json::float")]
    pub centre: f64,
    /// The spread its scores are divided by.
    #[serde(with = "mixtures_dist::json::float")]
    pub spread: f64,
    /// The part's model file; absent for the main part, which is the file's
    /// own model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelFile>,
}

/// The `ensemble` object of an ensemble detector file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleRecord {
    /// The index of the main part (the file's own model) in `parts`.
    pub main: usize,
    /// The parts, in order.
    pub parts: Vec<PartRecord>,
    /// Parts that were not fitted: `[name, reason]` (informative).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<(String, String)>,
}

/// A model that is stored as a model file: any [`Mixture`] of a family with a
/// file format, [`AnyMixture`], and an [`Ensemble`] (its main part as the
/// model file, the others in an `ensemble` object).
pub trait StoredModel<T: Scalar>: Sized {
    /// The model-file contents.
    fn to_model_file(&self) -> ModelFile;
    /// Builds the model from model-file contents.
    ///
    /// # Errors
    /// As [`Mixture::from_model_file`].
    fn from_model_file(file: &ModelFile) -> Result<Self, ModelError>;
    /// The `ensemble` object, for an ensemble.
    fn ensemble_record(&self) -> Option<EnsembleRecord> {
        None
    }
    /// What the detector's scores are (`threshold.score`).
    fn score_kind() -> &'static str {
        SCORE_NEGATIVE_LOG_DENSITY
    }
    /// Builds the model from a detector file's model and `ensemble` object.
    ///
    /// # Errors
    /// As [`StoredModel::from_model_file`]; [`ModelError::InvalidField`] for
    /// an `ensemble` object this model cannot hold.
    fn from_stored(
        file: &ModelFile,
        ensemble: Option<&EnsembleRecord>,
    ) -> Result<Self, ModelError> {
        if ensemble.is_some() {
            return Err(invalid(
                "ensemble",
                "the file is an ensemble detector (the default detector); read it as a \
                 Detector<T, Ensemble<T>>",
            ));
        }
        Self::from_model_file(file)
    }
}

impl<T: Scalar> StoredModel<T> for Ensemble<T> {
    fn to_model_file(&self) -> ModelFile {
        self.main().to_model_file()
    }
    fn from_model_file(file: &ModelFile) -> Result<Self, ModelError> {
        Self::from_stored(file, None)
    }
    fn ensemble_record(&self) -> Option<EnsembleRecord> {
        Some(EnsembleRecord {
            main: self.main_index(),
            parts: self
                .parts()
                .iter()
                .enumerate()
                .map(|(j, p)| PartRecord {
                    name: p.name.clone(),
                    centre: p.centre,
                    spread: p.spread,
                    model: (j != self.main_index()).then(|| p.model.to_model_file()),
                })
                .collect(),
            left_out: self.left_out().to_vec(),
        })
    }
    fn score_kind() -> &'static str {
        SCORE_ENSEMBLE
    }
    fn from_stored(
        file: &ModelFile,
        ensemble: Option<&EnsembleRecord>,
    ) -> Result<Self, ModelError> {
        let record = ensemble.ok_or_else(|| {
            invalid(
                "ensemble",
                "missing: the file is a single model's detector, not an ensemble",
            )
        })?;
        let mut parts = Vec::with_capacity(record.parts.len());
        for (j, p) in record.parts.iter().enumerate() {
            let model = match (&p.model, j == record.main) {
                (None, true) => AnyMixture::from_model_file(file)?,
                (Some(m), false) => AnyMixture::from_model_file(m)?,
                (Some(_), true) => {
                    return Err(invalid(
                        "ensemble.parts",
                        format!(
                            "part {j} is the main part, whose model is the file's own: it has no `model`"
                        ),
                    ));
                }
                (None, false) => {
                    return Err(invalid(
                        "ensemble.parts",
                        format!("part {j} ({}) has no `model`", p.name),
                    ));
                }
            };
            parts.push(EnsemblePart {
                name: p.name.clone(),
                model,
                centre: p.centre,
                spread: p.spread,
            });
        }
        Ok(Ensemble::new(parts, record.main)
            .map_err(|e| invalid("ensemble", e.to_string()))?
            .with_left_out(record.left_out.clone()))
    }
}

impl<T: Scalar, C: Persist<T>> StoredModel<T> for Mixture<T, C> {
    fn to_model_file(&self) -> ModelFile {
        Mixture::to_model_file(self)
    }
    fn from_model_file(file: &ModelFile) -> Result<Self, ModelError> {
        Mixture::from_model_file(file)
    }
}

impl<T: Scalar> StoredModel<T> for AnyMixture<T> {
    fn to_model_file(&self) -> ModelFile {
        AnyMixture::to_model_file(self)
    }
    fn from_model_file(file: &ModelFile) -> Result<Self, ModelError> {
        AnyMixture::from_model_file(file)
    }
}

/// Models that convert to [`AnyMixture`] (for a detector of either family).
pub trait IntoAnyMixture<T: Scalar> {
    /// The model as an [`AnyMixture`].
    fn into_any(self) -> AnyMixture<T>;
}

impl<T: Scalar, M: Into<AnyMixture<T>>> IntoAnyMixture<T> for M {
    fn into_any(self) -> AnyMixture<T> {
        self.into()
    }
}

/// A detector over a mixture of either family, as read from a file whose
/// family is not known in advance.
pub type AnyDetector<T> = Detector<T, AnyMixture<T>>;

fn invalid(field: &str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

impl<T: Scalar> Threshold<T> {
    /// The `threshold` object of a detector file (without reference scores).
    pub fn to_record(&self) -> ThresholdRecord {
        ThresholdRecord {
            value: self.value().as_f64(),
            score: default_score(),
            rule: Some(self.rule().to_owned()),
            parameters: self.parameters().clone(),
            reference: None,
            reference_scores: None,
        }
    }

    /// A threshold from the `threshold` object of a detector file.
    ///
    /// # Errors
    /// [`ModelError::InvalidField`] for an unknown `score` kind or a value that
    /// is not finite in `T`.
    pub fn from_record(record: &ThresholdRecord) -> Result<Self, ModelError> {
        if ![
            SCORE_NEGATIVE_LOG_DENSITY,
            SCORE_ENSEMBLE,
            crate::SCORE_TAIL,
        ]
        .contains(&record.score.as_str())
        {
            return Err(invalid(
                "threshold.score",
                format!(
                    "unknown score kind {:?} (expected {SCORE_NEGATIVE_LOG_DENSITY:?}, \
                     {SCORE_ENSEMBLE:?} or {:?})",
                    record.score,
                    crate::SCORE_TAIL
                ),
            ));
        }
        let rule = record.rule.clone().unwrap_or_else(|| "unknown".to_owned());
        Threshold::new(T::c(record.value), rule, record.parameters.clone())
            .map_err(|e| invalid("threshold.value", e.to_string()))
    }
}

impl<T: Scalar, M> Detector<T, M> {
    /// The model as an [`AnyMixture`], for a detector of either family.
    pub fn into_any(self) -> AnyDetector<T>
    where
        M: IntoAnyMixture<T>,
    {
        let Ok(detector) = self.map_model(|m| Ok::<_, core::convert::Infallible>(m.into_any()));
        detector
    }
}

impl<T: Scalar, M: DensityModel<T> + StoredModel<T>> Detector<T, M> {
    fn to_file(&self) -> DetectorFile {
        let mut record = self.threshold.to_record();
        record.reference = self.reference.as_ref().map(|r| ReferenceRecord {
            n: r.len() as u64,
            quantiles: r
                .sorted_scores()
                .iter()
                .map(|&s| mixtures_dist::json::shortest(s))
                .collect(),
        });
        record.score = M::score_kind().to_owned();
        DetectorFile {
            model: self.model.to_model_file(),
            ensemble: self.model.ensemble_record(),
            threshold: Some(record),
        }
    }

    fn from_file(file: &DetectorFile) -> Result<Self, ModelError> {
        let record = file.threshold.as_ref().ok_or_else(|| {
            invalid(
                "threshold",
                "missing: a detector file is a model file with a `threshold` object",
            )
        })?;
        if record.score != M::score_kind() {
            return Err(invalid(
                "threshold.score",
                format!(
                    "{:?}: this reader takes {:?} (an ensemble detector, the default detector's \
                     file, has an `ensemble` object)",
                    record.score,
                    M::score_kind()
                ),
            ));
        }
        let model = M::from_stored(&file.model, file.ensemble.as_ref())?;
        let threshold = Threshold::from_record(record)?;
        let reference = match (&record.reference, &record.reference_scores) {
            (Some(r), _) => {
                let kept: Vec<T> = r.quantiles.iter().map(|&v| T::c(v)).collect();
                let n = usize::try_from(r.n).unwrap_or(usize::MAX);
                Some(
                    ScoreReference::from_quantiles(n, &kept)
                        .map_err(|e| invalid("threshold.reference", e.to_string()))?,
                )
            }
            // An older file with every score: summarized as a fit would.
            (None, Some(s)) => {
                let s: Vec<T> = s.iter().map(|&v| T::c(v)).collect();
                Some(
                    ScoreReference::new(&s)
                        .map_err(|e| invalid("threshold.reference_scores", e.to_string()))?,
                )
            }
            (None, None) => None,
        };
        Ok(Self {
            model,
            threshold,
            reference,
        })
    }

    /// The detector as compact JSON: the model file plus a `threshold`
    /// object (see `docs/model-format.md`).
    pub fn to_json(&self) -> String {
        // Numbers, strings and arrays always serialize.
        serde_json::to_string(&self.to_file()).unwrap_or_default()
    }

    /// The detector as indented JSON, for people; the same values as
    /// [`Detector::to_json`].
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_file()).unwrap_or_default()
    }

    /// Reads a detector from JSON text.
    ///
    /// # Errors
    /// [`ModelError::Json`] with line and column for malformed text;
    /// [`ModelError::InvalidField`] for a missing or invalid `threshold`; the
    /// model's own errors.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let file: DetectorFile = serde_json::from_str(text).map_err(|e| ModelError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Self::from_file(&file)
    }

    /// Writes the detector to a compact JSON file (atomically: a temporary
    /// file renamed over `path`).
    ///
    /// # Errors
    /// [`ModelError::Io`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        write_text(path.as_ref(), &self.to_json())
    }

    /// [`Detector::save`] with indented JSON, for people.
    ///
    /// # Errors
    /// [`ModelError::Io`].
    pub fn save_pretty(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        write_text(path.as_ref(), &self.to_json_pretty())
    }

    /// Reads a detector from a JSON file.
    ///
    /// # Errors
    /// [`ModelError::Io`], or as [`Detector::from_json`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_json(&text)
    }
}

fn write_text(path: &Path, text: &str) -> Result<(), ModelError> {
    mixtures_core::io::write_bytes_atomic(path, text.as_bytes()).map_err(|e| ModelError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

impl<T: Scalar, M: DensityModel<T> + StoredModel<T>> Serialize for Detector<T, M> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_file().serialize(s)
    }
}

impl<'de, T: Scalar, M: DensityModel<T> + StoredModel<T>> Deserialize<'de> for Detector<T, M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let file = DetectorFile::deserialize(d)?;
        Self::from_file(&file).map_err(D::Error::custom)
    }
}
