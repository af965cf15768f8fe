//! What can go wrong when configuring, training, scoring, saving or loading.

use thiserror::Error;

/// A term of the training loss (named when it stops being finite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossTerm {
    /// Mean squared reconstruction error per row.
    Reconstruction,
    /// Mean sample energy under the batch's mixture.
    Energy,
    /// The penalty on small covariance diagonals (or Laplace scales).
    CovariancePenalty,
    /// The VAE's Kullback-Leibler term.
    KullbackLeibler,
    /// The VQ-VAE's codebook and commitment terms.
    Quantization,
    /// The term that pushes labelled anomalies to high energy.
    Anomaly,
}

impl std::fmt::Display for LossTerm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LossTerm::Reconstruction => "reconstruction",
            LossTerm::Energy => "energy",
            LossTerm::CovariancePenalty => "covariance penalty",
            LossTerm::KullbackLeibler => "Kullback-Leibler",
            LossTerm::Quantization => "quantization",
            LossTerm::Anomaly => "anomaly",
        })
    }
}

/// Errors of `mixtures-deep`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DeepError {
    /// A configuration value that cannot be used.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value, as given.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// The data cannot be used (empty, a non-finite value, a dimension that
    /// differs from the model's).
    #[error(transparent)]
    Data(#[from] mixtures_core::DataError),
    /// A value that is finite in the data but not after scaling to the
    /// network's single precision (far outside the training range).
    #[error(
        "row {row}, column {column}: {value} is outside the range single precision can hold after scaling by the training data's range"
    )]
    OutOfRange {
        /// Row of the value.
        row: usize,
        /// Column of the value.
        column: usize,
        /// The value.
        value: f64,
    },
    /// A loss term stopped being finite during training.
    #[error(
        "training diverged: the {term} term became {value} at epoch {epoch}, batch {batch} (try a smaller learning rate)"
    )]
    Diverged {
        /// The first non-finite term.
        term: LossTerm,
        /// Its value.
        value: f64,
        /// Epoch (from 1).
        epoch: usize,
        /// Batch within the epoch (from 1).
        batch: usize,
    },
    /// A saved model that does not fit its own configuration, or data of
    /// another width.
    #[error("incompatible model: {0}")]
    Incompatible(String),
    /// A model file that cannot be read as one.
    #[error("model file {path}: {reason}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The latent mixture could not be built (e.g. no mass on a component).
    #[error(transparent)]
    Model(#[from] mixtures_dist::ModelError),
    /// A threshold rule refused the scores.
    #[error(transparent)]
    Anomaly(#[from] mixtures_anomaly::AnomalyError),
    /// The tensor backend failed (reading a tensor back, a device error).
    #[error("tensor backend: {0}")]
    Backend(String),
}

/// A tensor's values, read back from its device.
pub(crate) fn read<const D: usize>(t: burn::tensor::Tensor<D>) -> Result<Vec<f32>, DeepError> {
    t.try_into_data()
        .map_err(|e| DeepError::Backend(format!("{e:?}")))?
        .try_into_vec::<f32>()
        .map_err(|e| DeepError::Backend(format!("{e:?}")))
}

impl DeepError {
    pub(crate) fn config(name: &'static str, value: impl ToString, reason: &'static str) -> Self {
        DeepError::InvalidConfig {
            name,
            value: value.to_string(),
            reason,
        }
    }
}
