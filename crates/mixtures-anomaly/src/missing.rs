//! Detectors on data with missing values.
//!
//! A row with missing features has a density only on its observed features,
//! and `−ln p(x_o)` is not comparable between rows that observe different
//! features: every observed feature adds about `½ ln(2πe σ²)` to it, so a row
//! with half its features missing would look more normal than a complete one
//! at the same distance from the data. A detector for incomplete data
//! therefore scores every row, complete or not, by the mixture's **tail
//! score** `−ln P`: `P` is the mass of the mixture, on the same observed
//! features, where the components' densities are below the row's, each
//! component taken on its own (`Σₖ wₖ` times component `k`'s probability of
//! a density that far below its peak: a chi-square tail for Gaussian
//! components, a gamma tail for Laplace ones, an F tail for Student-t ones;
//! see [`mixtures_dist::GaussianMixtureModel::anomaly_scores_incomplete`]).
//! For one component `P` is uniform under the model whatever features are
//! observed, so one threshold serves every row.
//!
//! [`TailScored`] is the model of such a detector: a mixture whose
//! [`DensityModel::anomaly_scores`] are tail scores. A
//! `Detector<T, TailScored<T>>` ([`IncompleteDetector`]) is fitted by
//! [`DetectorParams::fit_incomplete`](crate::DetectorParams::fit_incomplete)
//! and scores, flags, explains and evaluates incomplete rows with the
//! `*_incomplete` methods; on complete data it is an ordinary detector. Its
//! file's threshold object says `"score": "negative_log_tail_probability"`.
//!
//! ```
//! use mixtures_anomaly::{Contamination, Detector};
//! use mixtures_core::Dataset;
//! use mixtures_em::GaussianMixture;
//!
//! // Two correlated features; every third row has lost its second feature.
//! let mut values = Vec::new();
//! for i in 0..600 {
//!     let t = (i as f64 * 0.618).fract() * 4.0 - 2.0;
//!     let y = if i % 3 == 0 { f64::NAN } else { 0.9 * t + 0.1 * (i as f64).sin() };
//!     values.extend([t, y]);
//! }
//! let train = Dataset::with_missing(&values, 600, 2)?;
//! let fit = Detector::params(GaussianMixture::params(1).seed(1))
//!     .threshold(Contamination(0.01))
//!     .fit_incomplete(&train)?;
//! // Far off the line: flagged whether or not the second feature is known.
//! let new = Dataset::with_missing(&[0.5, 0.45, 1.0, -1.0, 9.0, f64::NAN], 3, 2)?;
//! assert_eq!(fit.detector.predict_incomplete(&new)?, vec![0, 1, 1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use faer::Mat;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::{AnyMixture, DensityModel, Marginal, ModelError};

use crate::metrics::Evaluation;
use crate::{
    AnomalyError, Attribution, Detector, Explain, Explanations, Label, ScoreSet, Threshold,
    ThresholdRule,
};

/// The score kind of a detector on [`TailScored`] models in detector files.
pub const SCORE_TAIL: &str = "negative_log_tail_probability";

/// A detector for data with missing values: tail scores, one threshold.
pub type IncompleteDetector<T> = Detector<T, TailScored<T>>;

/// A mixture scored by its tail score (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct TailScored<T: Scalar> {
    model: AnyMixture<T>,
}

impl<T: Scalar> TailScored<T> {
    /// Wraps a mixture.
    ///
    /// # Errors
    /// [`AnomalyError::Model`] with [`ModelError::Unsupported`] for a mixture
    /// with a noise component (its uniform box has no tail probability).
    pub fn new(model: impl Into<AnyMixture<T>>) -> Result<Self, AnomalyError> {
        let model = model.into();
        if model.noise().is_some() {
            return Err(ModelError::Unsupported {
                what: "a tail score for a mixture with a noise component".into(),
            }
            .into());
        }
        Ok(Self { model })
    }

    /// The mixture.
    pub fn model(&self) -> &AnyMixture<T> {
        &self.model
    }

    /// The mixture, unwrapped.
    pub fn into_inner(self) -> AnyMixture<T> {
        self.model
    }

    /// Tail scores of rows with missing features (complete rows score as
    /// [`DensityModel::anomaly_scores`] scores them).
    ///
    /// # Errors
    /// [`AnomalyError::Data`] for data of another dimension; the family's
    /// errors.
    pub fn anomaly_scores_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Vec<T>, AnomalyError> {
        Ok(self.model.anomaly_scores_incomplete(data)?)
    }
}

/// A model error met while scoring valid data, as the data error the
/// [`DensityModel`] contract returns.
fn as_data_error(e: ModelError) -> DataError {
    match e {
        ModelError::Data(d) => d,
        other => DataError::Evaluation {
            message: other.to_string(),
        },
    }
}

impl<T: Scalar> DensityModel<T> for TailScored<T> {
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        self.model.log_prob(data)
    }
    fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        self.model.most_likely_component(data)
    }
    /// Tail scores `−ln Σₖ P(k | x) Tₖ(x)`.
    fn anomaly_scores(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        data.check_dim(self.model.dim())?;
        self.model
            .anomaly_scores_incomplete(&IncompleteDataset::from_complete(data))
            .map_err(as_data_error)
    }
}

/// Explanations of the mixture's log-density (see [`explain_incomplete`]):
/// their scores are `−ln p(x)`, not the tail scores, and the contributions
/// rank the features.
impl<T: Scalar> Explain<T> for TailScored<T> {
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError> {
        self.model.explain(data)
    }
}

/// Per-feature contributions for rows with missing features: each row is
/// explained by the marginal mixture of its observed features (the same
/// contributions as [`Explain::explain`] gives a complete row, computed
/// under `p(x_o)`), and a missing feature contributes 0. The scores are
/// `−ln p(x_o)`; the components are the most likely given `x_o`. The
/// attribution is exact only when every pattern's is.
///
/// # Errors
/// [`AnomalyError::Data`] for data of another dimension; the model errors of
/// [`Marginal::marginal`] (a noise component).
pub fn explain_incomplete<T: Scalar>(
    model: &AnyMixture<T>,
    data: &IncompleteDataset<T>,
) -> Result<Explanations<T>, AnomalyError> {
    let (n, d) = (data.n_samples(), data.n_features());
    if d != model.dim() {
        return Err(DataError::DimensionMismatch {
            expected: model.dim(),
            found: d,
        }
        .into());
    }
    let mut scores = vec![T::zero(); n];
    let mut components = vec![0usize; n];
    let mut contributions = Mat::<T>::zeros(n, d);
    let mut exact = true;
    for pattern in data.patterns() {
        let block = Dataset::from_mat(pattern.observed_block(data).as_ref())?;
        let e = if pattern.is_complete() {
            model.explain(&block)?
        } else {
            model.marginal(&pattern.observed)?.explain(&block)?
        };
        exact &= e.attribution() == Attribution::Exact;
        for (a, &i) in pattern.rows.iter().enumerate() {
            scores[i] = e.scores()[a];
            components[i] = e.components()[a];
            for (b, &j) in pattern.observed.iter().enumerate() {
                contributions[(i, j)] = e.contributions()[(a, b)];
            }
        }
    }
    let attribution = if exact {
        Attribution::Exact
    } else {
        Attribution::Conditional
    };
    Ok(Explanations::new(
        scores,
        components,
        contributions,
        attribution,
    ))
}

impl<T: Scalar> Detector<T, TailScored<T>> {
    /// Tail scores of every row, complete or not (higher is more
    /// anomalous).
    ///
    /// # Errors
    /// [`AnomalyError::Data`] for data of another dimension.
    pub fn score_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Vec<T>, AnomalyError> {
        self.model.anomaly_scores_incomplete(data)
    }

    /// 1 for every row scoring at or above the threshold, 0 otherwise.
    ///
    /// # Errors
    /// As [`Detector::score_incomplete`].
    pub fn predict_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Vec<u8>, AnomalyError> {
        Ok(self.threshold.predict(&self.score_incomplete(data)?))
    }

    /// Normalized scores: for every row, the fraction of training rows that
    /// score at least as high.
    ///
    /// # Errors
    /// [`AnomalyError::NoReference`] without training scores; as
    /// [`Detector::score_incomplete`].
    pub fn tail_probability_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Vec<f64>, AnomalyError> {
        let reference = self.reference.as_ref().ok_or(AnomalyError::NoReference)?;
        Ok(reference.tail_probabilities(&self.score_incomplete(data)?))
    }

    /// The most likely component of every row given its observed features.
    ///
    /// # Errors
    /// As [`Detector::score_incomplete`].
    pub fn most_likely_component_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Vec<usize>, AnomalyError> {
        Ok(self.model.model.predict_incomplete(data)?)
    }

    /// Per-feature contributions over the observed features (see
    /// [`explain_incomplete`]).
    ///
    /// # Errors
    /// As [`explain_incomplete`].
    pub fn explain_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Explanations<T>, AnomalyError> {
        explain_incomplete(&self.model.model, data)
    }

    /// Chooses a new threshold with `rule` from the tail scores of
    /// (unlabelled) incomplete data.
    ///
    /// # Errors
    /// As [`Threshold::fit`]; the detector is unchanged on error.
    pub fn calibrate_incomplete<R: ThresholdRule<T> + ?Sized>(
        &mut self,
        rule: &R,
        data: &IncompleteDataset<T>,
    ) -> Result<(), AnomalyError> {
        let scores = self.score_incomplete(data)?;
        self.threshold = Threshold::fit(rule, &ScoreSet::new(&scores)?)?;
        Ok(())
    }

    /// Chooses a new threshold with `rule` from the tail scores of labelled
    /// incomplete data (for [`crate::BestF`] and the other label-based
    /// rules).
    ///
    /// # Errors
    /// As [`Threshold::fit`] and [`ScoreSet::labelled`]; the detector is
    /// unchanged on error.
    pub fn calibrate_labelled_incomplete<R: ThresholdRule<T> + ?Sized, L: Label>(
        &mut self,
        rule: &R,
        data: &IncompleteDataset<T>,
        labels: &[L],
    ) -> Result<(), AnomalyError> {
        let scores = self.score_incomplete(data)?;
        self.threshold = Threshold::fit(rule, &ScoreSet::labelled(&scores, labels)?)?;
        Ok(())
    }

    /// ROC AUC, average precision and the confusion matrix at the threshold
    /// on labelled incomplete data.
    ///
    /// # Errors
    /// As [`crate::evaluate`].
    pub fn evaluate_incomplete<L: Label>(
        &self,
        data: &IncompleteDataset<T>,
        labels: &[L],
    ) -> Result<Evaluation, AnomalyError> {
        crate::evaluate(
            &self.score_incomplete(data)?,
            labels,
            self.threshold.value(),
        )
    }
}

#[cfg(feature = "serde")]
impl<T: Scalar> crate::StoredModel<T> for TailScored<T> {
    fn to_model_file(&self) -> mixtures_dist::ModelFile {
        self.model.to_model_file()
    }
    fn from_model_file(file: &mixtures_dist::ModelFile) -> Result<Self, ModelError> {
        let model = AnyMixture::from_model_file(file)?;
        if model.noise().is_some() {
            return Err(ModelError::InvalidField {
                field: "noise".into(),
                reason: "a detector on tail scores has no noise component".into(),
            });
        }
        Ok(Self { model })
    }
    fn score_kind() -> &'static str {
        SCORE_TAIL
    }
}
