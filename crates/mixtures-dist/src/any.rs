//! A fitted mixture of any family, for code that does not know the family in
//! advance: a model file read from disk, the winner of a selection grid, the
//! command line. The one list of families' model types; every method
//! forwards to [`Mixture`](crate::Mixture).

use faer::Mat;
use mixtures_core::{DataError, Dataset, Scalar};
use rand::Rng;

use crate::{
    Components, GaussianMixtureModel, LaplaceMixtureModel, ModelError, ModelSpec,
    StudentTMixtureModel,
};

/// A mixture of any family, with its exact structure ([`AnyMixture::spec`])
/// and feature names.
///
/// ```
/// use faer::mat;
/// use mixtures_core::Dataset;
/// use mixtures_dist::{AnyMixture, Covariance, Gaussian, Mixture, ModelSpec};
///
/// let g = Gaussian::diag(mat![[0.0_f64], [4.0]], mat![[1.0], [1.0]])?
///     .with_structure(Covariance::TiedDiag)?;
/// let any = AnyMixture::from(Mixture::new(vec![0.5, 0.5], g)?);
/// assert_eq!(any.spec(), ModelSpec::gaussian(Covariance::TiedDiag));
/// assert_eq!(any.n_parameters(), 2 + 1 + 1); // means, one shared variance, a weight
/// let x = Dataset::from_rows(&[[0.0], [4.0]])?;
/// assert_eq!(any.predict(&x)?, [0, 1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Matches over it are exhaustive on purpose: adding a family is a compile
/// error at every place that must learn about it (docs/architecture.md,
/// "Adding a family").
#[derive(Debug, Clone, PartialEq)]
pub enum AnyMixture<T: Scalar> {
    /// Gaussian components.
    Gaussian(GaussianMixtureModel<T>),
    /// Laplace components.
    Laplace(LaplaceMixtureModel<T>),
    /// Student-t components.
    StudentT(StudentTMixtureModel<T>),
}

/// Runs `$e` with `$m` bound to the mixture inside any variant.
macro_rules! dispatch {
    ($self:expr, $m:ident => $e:expr) => {
        match $self {
            $crate::AnyMixture::Gaussian($m) => $e,
            $crate::AnyMixture::Laplace($m) => $e,
            $crate::AnyMixture::StudentT($m) => $e,
        }
    };
}
#[allow(unused_imports)] // used by the model-file code (feature `serde`)
pub(crate) use dispatch;

/// Wraps the model of a family in [`AnyMixture`].
macro_rules! any_from {
    ($($variant:ident: $model:ident),*) => {$(
        impl<T: Scalar> From<$model<T>> for AnyMixture<T> {
            fn from(m: $model<T>) -> Self {
                Self::$variant(m)
            }
        }
    )*};
}
any_from!(
    Gaussian: GaussianMixtureModel,
    Laplace: LaplaceMixtureModel,
    StudentT: StudentTMixtureModel
);

impl<T: Scalar> AnyMixture<T> {
    /// The family and the exact structure.
    pub fn spec(&self) -> ModelSpec {
        dispatch!(self, m => m.components().spec())
    }

    /// `"gaussian"`, `"laplace"`, ...
    pub fn family(&self) -> &'static str {
        self.spec().family().as_str()
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        dispatch!(self, m => m.n_components())
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        dispatch!(self, m => m.dim())
    }

    /// Free parameters (see [`Mixture::n_parameters`](crate::Mixture::n_parameters)).
    pub fn n_parameters(&self) -> usize {
        dispatch!(self, m => m.n_parameters())
    }

    /// The mixing weights.
    pub fn weights(&self) -> &[T] {
        dispatch!(self, m => m.weights())
    }

    /// The noise component's weight and box, if any (see
    /// [`Mixture::noise`](crate::Mixture::noise)).
    pub fn noise(&self) -> Option<(T, &crate::UniformNoise<T>)> {
        dispatch!(self, m => m.noise())
    }

    /// Columns of the responsibilities: `K`, plus one for a noise component.
    pub fn n_columns(&self) -> usize {
        dispatch!(self, m => m.n_columns())
    }

    /// The feature names, if the model has them.
    pub fn feature_names(&self) -> Option<&[String]> {
        dispatch!(self, m => m.feature_names())
    }

    /// Attaches feature names (one per dimension).
    ///
    /// # Errors
    /// [`ModelError::FeatureNames`] if the count is not the dimension.
    pub fn with_feature_names(self, names: Vec<String>) -> Result<Self, ModelError> {
        Ok(dispatch!(self, m => m.with_feature_names(names)?.into()))
    }

    /// The Gaussian mixture, if the family is Gaussian.
    pub fn as_gaussian(&self) -> Option<&GaussianMixtureModel<T>> {
        match self {
            Self::Gaussian(m) => Some(m),
            _ => None,
        }
    }

    /// The Laplace mixture, if the family is Laplace.
    pub fn as_laplace(&self) -> Option<&LaplaceMixtureModel<T>> {
        match self {
            Self::Laplace(m) => Some(m),
            _ => None,
        }
    }

    /// The Student-t mixture, if the family is Student-t.
    pub fn as_student_t(&self) -> Option<&StudentTMixtureModel<T>> {
        match self {
            Self::StudentT(m) => Some(m),
            _ => None,
        }
    }

    /// See [`Mixture::log_prob`](crate::Mixture::log_prob).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        dispatch!(self, m => m.log_prob(data))
    }

    /// See [`Mixture::responsibilities`](crate::Mixture::responsibilities).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn responsibilities(&self, data: &Dataset<T>) -> Result<Mat<T>, DataError> {
        dispatch!(self, m => m.responsibilities(data))
    }

    /// See [`Mixture::log_prob_and_responsibilities`](crate::Mixture::log_prob_and_responsibilities).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn log_prob_and_responsibilities(
        &self,
        data: &Dataset<T>,
    ) -> Result<(Vec<T>, Mat<T>), DataError> {
        dispatch!(self, m => m.log_prob_and_responsibilities(data))
    }

    /// See [`Mixture::log_prob_and_predict`](crate::Mixture::log_prob_and_predict).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn log_prob_and_predict(
        &self,
        data: &Dataset<T>,
    ) -> Result<(Vec<T>, Vec<usize>), DataError> {
        dispatch!(self, m => m.log_prob_and_predict(data))
    }

    /// See [`Mixture::predict`](crate::Mixture::predict).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn predict(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        dispatch!(self, m => m.predict(data))
    }

    /// See [`Mixture::score`](crate::Mixture::score).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn score(&self, data: &Dataset<T>) -> Result<f64, DataError> {
        dispatch!(self, m => m.score(data))
    }

    /// See [`Mixture::sample`](crate::Mixture::sample).
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Mat<T>, Vec<usize>) {
        dispatch!(self, m => m.sample(n, rng))
    }

    /// See [`Mixture::try_sample`](crate::Mixture::try_sample).
    ///
    /// # Errors
    /// [`crate::ModelError::InvalidParameter`] for an `n` whose samples
    /// cannot be allocated.
    pub fn try_sample<R: Rng + ?Sized>(
        &self,
        n: usize,
        rng: &mut R,
    ) -> Result<(Mat<T>, Vec<usize>), crate::ModelError> {
        dispatch!(self, m => m.try_sample(n, rng))
    }
}
