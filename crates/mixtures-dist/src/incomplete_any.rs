//! [`AnyMixture`] on rows with missing features: each family's own methods
//! (`incomplete.rs` for Gaussian mixtures, `incomplete_laplace.rs` for
//! Laplace mixtures, `incomplete_student.rs` for Student-t mixtures), so that code holding a mixture of a family known only
//! at run time (a model file, the command line, a detector) scores, predicts
//! and imputes incomplete rows through one call.

use faer::Mat;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{Dataset, Scalar};

use crate::{AnyMixture, ModelError};

impl<T: Scalar> AnyMixture<T> {
    /// `ln p(x_o)`: the log-density of every row's observed features.
    ///
    /// # Errors
    /// The family's errors ([`ModelError::Unsupported`] for a mixture with a
    /// noise component).
    pub fn log_prob_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Vec<T>, ModelError> {
        match self {
            Self::Gaussian(m) => m.log_prob_incomplete(data),
            Self::Laplace(m) => m.log_prob_incomplete(data),
            Self::StudentT(m) => m.log_prob_incomplete(data),
        }
    }

    /// The family's anomaly score for incomplete rows, comparable across rows
    /// with different numbers of observed features (a mixture of each
    /// component's tail probability at the row, see
    /// [`crate::GaussianMixtureModel::anomaly_scores_incomplete`]).
    ///
    /// # Errors
    /// As [`AnyMixture::log_prob_incomplete`].
    pub fn anomaly_scores_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Vec<T>, ModelError> {
        match self {
            Self::Gaussian(m) => m.anomaly_scores_incomplete(data),
            Self::Laplace(m) => m.anomaly_scores_incomplete(data),
            Self::StudentT(m) => m.anomaly_scores_incomplete(data),
        }
    }

    /// `P(k | x_o)` of every row (`n x K`).
    ///
    /// # Errors
    /// As [`AnyMixture::log_prob_incomplete`].
    pub fn predict_proba_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Mat<T>, ModelError> {
        match self {
            Self::Gaussian(m) => m.predict_proba_incomplete(data),
            Self::Laplace(m) => m.predict_proba_incomplete(data),
            Self::StudentT(m) => m.predict_proba_incomplete(data),
        }
    }

    /// The most likely component of every row given its observed features
    /// (ties go to the lower index).
    ///
    /// # Errors
    /// As [`AnyMixture::log_prob_incomplete`].
    pub fn predict_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Vec<usize>, ModelError> {
        let r = self.predict_proba_incomplete(data)?;
        Ok((0..r.nrows())
            .map(|i| {
                (0..r.ncols()).fold(0, |best, c| {
                    if r[(i, c)].as_f64() > r[(i, best)].as_f64() {
                        c
                    } else {
                        best
                    }
                })
            })
            .collect())
    }

    /// The data with every missing cell replaced by its conditional mean
    /// under the mixture.
    ///
    /// # Errors
    /// As [`AnyMixture::log_prob_incomplete`].
    pub fn impute(&self, data: &IncompleteDataset<T>) -> Result<Dataset<T>, ModelError> {
        match self {
            Self::Gaussian(m) => m.impute(data),
            Self::Laplace(m) => m.impute(data),
            Self::StudentT(m) => m.impute(data),
        }
    }

    /// `draws` data sets, each with every missing cell drawn from its
    /// conditional distribution under the mixture (multiple imputation);
    /// deterministic for a seed.
    ///
    /// # Errors
    /// As [`AnyMixture::log_prob_incomplete`].
    pub fn impute_draws(
        &self,
        data: &IncompleteDataset<T>,
        draws: usize,
        seed: u64,
    ) -> Result<Vec<Dataset<T>>, ModelError> {
        match self {
            Self::Gaussian(m) => m.impute_draws(data, draws, seed),
            Self::Laplace(m) => m.impute_draws(data, draws, seed),
            Self::StudentT(m) => m.impute_draws(data, draws, seed),
        }
    }
}
