//! What a detector needs of a model (densities) and of a fitting procedure, and
//! the training-score reference behind normalized scores.

use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::{GaussianMixtureModel, LaplaceMixtureModel, LogDensity, Mixture};
use mixtures_em::{Fitted, GaussianParams, LaplaceParams};

use crate::AnomalyError;

/// A fitted density model that can score points: any [`Mixture`] (of any
/// component family) and [`mixtures_dist::AnyMixture`].
pub trait DensityModel<T: Scalar>: Clone + core::fmt::Debug + Send + Sync {
    /// Dimension of the points.
    fn dim(&self) -> usize;

    /// `ln p(x)` of every row.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError>;

    /// The most likely component of every row: the `k` maximizing
    /// `wₖ pₖ(x)` (ties go to the lower index).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError>;

    /// Anomaly scores `−ln p(x)`: higher is more anomalous.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    fn anomaly_scores(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        let mut s = self.log_prob(data)?;
        for v in &mut s {
            *v = -*v;
        }
        Ok(s)
    }
}

impl<T: Scalar, C: LogDensity<T>> DensityModel<T> for Mixture<T, C> {
    fn dim(&self) -> usize {
        Mixture::dim(self)
    }
    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        Mixture::log_prob(self, data)
    }
    fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        self.predict(data)
    }
}

#[cfg(feature = "serde")]
impl<T: Scalar> DensityModel<T> for mixtures_dist::AnyMixture<T> {
    fn dim(&self) -> usize {
        mixtures_dist::AnyMixture::dim(self)
    }
    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        mixtures_dist::AnyMixture::log_prob(self, data)
    }
    fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        self.predict(data)
    }
}

/// Anomaly scores `−ln p(x)` of every row under `model` (higher is more
/// anomalous).
///
/// # Errors
/// [`AnomalyError::Data`] if the data's dimension differs from the model's.
pub fn anomaly_scores<T: Scalar, M: DensityModel<T>>(
    model: &M,
    data: &Dataset<T>,
) -> Result<Vec<T>, AnomalyError> {
    Ok(model.anomaly_scores(data)?)
}

/// A way of fitting a density model to data: the model step of a detector.
///
/// Implemented for [`GaussianParams`] and [`LaplaceParams`] (one fixed model);
/// a model-selection procedure (compare candidate numbers of components or
/// covariance types, keep the best) plugs in by implementing it too.
pub trait ModelFitter<T: Scalar>: Send + Sync {
    /// The model it produces.
    type Model: DensityModel<T>;

    /// Fits a model to the data.
    ///
    /// # Errors
    /// Whatever stops the fit, as [`AnomalyError::Fit`] for EM errors.
    fn fit(&self, data: &Dataset<T>) -> Result<Fitted<Self::Model>, AnomalyError>;

    /// Fits again on a subset of the data (a robust fit's later rounds),
    /// knowing the previous model. The default fits from scratch; EM fitters
    /// warm-start from `previous`, which makes the rounds converge faster and
    /// keeps the components in place.
    ///
    /// # Errors
    /// As [`ModelFitter::fit`].
    fn refit(
        &self,
        data: &Dataset<T>,
        previous: &Self::Model,
    ) -> Result<Fitted<Self::Model>, AnomalyError> {
        let _ = previous;
        self.fit(data)
    }
}

impl<T: Scalar> ModelFitter<T> for GaussianParams<T> {
    type Model = GaussianMixtureModel<T>;
    fn fit(&self, data: &Dataset<T>) -> Result<Fitted<Self::Model>, AnomalyError> {
        Ok(GaussianParams::fit(self, data)?)
    }
    fn refit(
        &self,
        data: &Dataset<T>,
        previous: &Self::Model,
    ) -> Result<Fitted<Self::Model>, AnomalyError> {
        Ok(self.fit_from(previous, data)?)
    }
}

impl<T: Scalar> ModelFitter<T> for LaplaceParams<T> {
    type Model = LaplaceMixtureModel<T>;
    fn fit(&self, data: &Dataset<T>) -> Result<Fitted<Self::Model>, AnomalyError> {
        Ok(LaplaceParams::fit(self, data)?)
    }
    fn refit(
        &self,
        data: &Dataset<T>,
        previous: &Self::Model,
    ) -> Result<Fitted<Self::Model>, AnomalyError> {
        Ok(self.fit_from(previous, data)?)
    }
}

/// The anomaly scores of the training data, sorted, against which new scores
/// are normalized.
///
/// [`ScoreReference::tail_probability`] of a score `s` is the fraction of
/// training points that score at least as high, `#{sᵢ >= s} / n`: 1 for a point
/// as ordinary as the most ordinary training point, `0.01` for a point more
/// anomalous than 99 % of them, 0 beyond every training point. It is an
/// empirical p-value, readable without knowing the scale of `−ln p(x)` (which
/// shifts with the dimension and the units of the data).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreReference<T: Scalar> {
    sorted: Vec<T>,
}

impl<T: Scalar> ScoreReference<T> {
    /// A reference from training scores (any order).
    ///
    /// # Errors
    /// [`AnomalyError::NoScores`] or [`AnomalyError::NanScore`].
    pub fn new(scores: &[T]) -> Result<Self, AnomalyError> {
        crate::metrics::check_not_nan(scores)?;
        let mut sorted = scores.to_vec();
        sorted.sort_unstable_by(|a, b| a.as_f64().total_cmp(&b.as_f64()));
        Ok(Self { sorted })
    }

    /// The training scores in increasing order.
    pub fn sorted_scores(&self) -> &[T] {
        &self.sorted
    }

    /// Number of training scores.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always false: a reference holds at least one score.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// `#{training scores >= s} / n` (NaN for a NaN score).
    pub fn tail_probability(&self, s: T) -> f64 {
        if s.is_nan() {
            return f64::NAN;
        }
        let below = self.sorted.partition_point(|&v| v < s);
        (self.sorted.len() - below) as f64 / self.sorted.len() as f64
    }

    /// [`ScoreReference::tail_probability`] of every score.
    pub fn tail_probabilities(&self, scores: &[T]) -> Vec<f64> {
        scores.iter().map(|&s| self.tail_probability(s)).collect()
    }
}
