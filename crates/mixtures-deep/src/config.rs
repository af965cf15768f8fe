//! The configuration of a DAGMM and its variants, with DAGMM's KDDCUP99
//! settings as defaults.

use serde::{Deserialize, Serialize};

use crate::DeepError;

/// The compression network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Compression {
    /// A deterministic autoencoder (DAGMM).
    Autoencoder,
    /// A variational autoencoder: the code is sampled from `N(μ(x), σ²(x))`
    /// while training (its mean when scoring) and the loss adds
    /// `kl_weight · KL(N(μ, σ²) ‖ N(0, I))`, averaged over the batch.
    Variational {
        /// Weight of the Kullback-Leibler term.
        kl_weight: f64,
    },
    /// A vector-quantized autoencoder: the encoder's output is replaced by its
    /// nearest codebook vector (gradients pass straight through), and the loss
    /// adds `‖sg(zₑ) − e‖² + commitment · ‖zₑ − sg(e)‖²` (mean over the batch).
    VectorQuantized {
        /// Number of codebook vectors.
        codebook_size: usize,
        /// The commitment weight β.
        commitment: f64,
    },
}

impl Compression {
    /// The study's VAE setting (`kl_weight` 1).
    pub fn variational() -> Self {
        Compression::Variational { kl_weight: 1.0 }
    }

    /// The VQ-VAE setting: 32 codes, β = 0.25 (van den Oord et al.).
    pub fn vector_quantized() -> Self {
        Compression::VectorQuantized {
            codebook_size: 32,
            commitment: 0.25,
        }
    }

    /// Short name (`ae`, `vae`, `vqvae`), as the command line spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Compression::Autoencoder => "ae",
            Compression::Variational { .. } => "vae",
            Compression::VectorQuantized { .. } => "vqvae",
        }
    }
}

/// The family of the mixture on the latent features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatentFamily {
    /// Full-covariance Gaussians (DAGMM).
    Gaussian,
    /// Laplace components with a scale per dimension.
    Laplace,
}

/// What the model's anomaly score is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inference {
    /// The sample energy `−ln p(z)` under the latent mixture (DAGMM).
    Energy,
    /// Energy plus reconstruction error, each centred on the median of its
    /// training values and divided by their IQR (as the default detector
    /// combines scores), so neither dominates by its units.
    EnergyAndReconstruction,
}

/// The unit of the reconstruction term of the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconstructionUnit {
    /// `‖x − x'‖²` per row, averaged over the batch: the paper's formula.
    RowSum,
    /// The same divided by the number of input columns (the mean squared
    /// error over every value of the batch): DAGMM's reference
    /// implementation, whose λ₁ and λ₂ weigh the energy against this
    /// smaller term.
    FeatureMean,
}

/// How the input columns are scaled before the network (fitted on the
/// training rows and stored with the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputScaling {
    /// To [0, 1] by the training minimum and maximum (a constant column
    /// becomes 0): tanh layers want inputs of order one.
    MinMax,
    /// To mean 0 and standard deviation 1 (a constant column becomes 0).
    Standard,
    /// As given.
    None,
}

/// Everything that defines a DAGMM training run. `Default` is DAGMM's
/// KDDCUP99 setting (Zong et al., 2018): compression `d-60-30-10-1` with
/// tanh, estimation `3-10-4` with dropout 0.5, λ₁ = 0.1, λ₂ = 0.005, Adam
/// with learning rate 1e-4, batches of 1024, 200 epochs; with one change:
/// it trains [`decoupled`](DagmmConfig::decoupled), which keeps seeds from
/// collapsing. [`DagmmConfig::paper`] is the paper's joint training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DagmmConfig {
    /// Widths of the encoder's hidden layers (the decoder mirrors them).
    pub hidden: Vec<usize>,
    /// Dimension of the code `z_c`.
    pub latent_dim: usize,
    /// Width of the estimation network's hidden layer.
    pub estimation_hidden: usize,
    /// Dropout probability in the estimation network.
    pub dropout: f64,
    /// Number of mixture components `K`.
    pub components: usize,
    /// The compression network.
    pub compression: Compression,
    /// The latent mixture's family.
    pub family: LatentFamily,
    /// The anomaly score.
    pub inference: Inference,
    /// λ₁, the weight of the mean energy.
    pub lambda_energy: f64,
    /// λ₂, the weight of the covariance penalty `Σₖ Σⱼ 1/Σₖ[j,j]`.
    pub lambda_cov: f64,
    /// Weight of the term `mean over labelled anomalies of 1/softplus(E)`,
    /// which pushes their energy up (used only when anomalies are given).
    pub anomaly_weight: f64,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Rows per batch.
    pub batch_size: usize,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Seed of the initialization, the batch order, dropout and sampling.
    pub seed: u64,
    /// Added to every covariance diagonal (and Laplace scale), in units of
    /// the latent features (which are of order one), so a batch whose codes
    /// coincide still has a positive-definite covariance.
    pub jitter: f64,
    /// Scaling of the input columns.
    pub scaling: InputScaling,
    /// Keep the energy and the covariance penalty out of the compression
    /// network's gradient: the codes and the reconstruction features are
    /// shaped by the reconstruction (and the VAE's or VQ-VAE's own term)
    /// alone, the estimation network by the energy. DAGMM trains jointly
    /// (`false`); over long training the joint gradient lets the encoder
    /// lower the energy by moving the training rows' features into denser
    /// places rather than by modelling them, and some seeds collapse. The
    /// default (`true`) was chosen by leave-one-data-set-out over KDDCUP99,
    /// Thyroid, Arrhythmia and ADBench's 25 sets (docs/benchmarks.md). Files
    /// written before this setting existed load as `false`, which is how
    /// they were trained.
    #[serde(default)]
    pub decoupled: bool,
    /// The gradient of each batch is scaled down to this global L2 norm when
    /// it is longer (`None`, the default and the paper's formula: never);
    /// DAGMM's reference implementation clips at 5. Files written before
    /// this setting existed load as `None`, which is how they were trained.
    #[serde(default)]
    pub max_grad_norm: Option<f64>,
    /// The unit of the reconstruction term (files written before this
    /// setting existed load as [`ReconstructionUnit::RowSum`]).
    #[serde(default = "row_sum")]
    pub reconstruction: ReconstructionUnit,
}

fn row_sum() -> ReconstructionUnit {
    ReconstructionUnit::RowSum
}

impl Default for DagmmConfig {
    fn default() -> Self {
        DagmmConfig {
            hidden: vec![60, 30, 10],
            latent_dim: 1,
            estimation_hidden: 10,
            dropout: 0.5,
            components: 4,
            compression: Compression::Autoencoder,
            family: LatentFamily::Gaussian,
            inference: Inference::Energy,
            lambda_energy: 0.1,
            lambda_cov: 0.005,
            anomaly_weight: 1.0,
            learning_rate: 1e-4,
            batch_size: 1024,
            epochs: 200,
            seed: 0,
            jitter: 1e-6,
            scaling: InputScaling::MinMax,
            decoupled: true,
            max_grad_norm: None,
            reconstruction: ReconstructionUnit::RowSum,
        }
    }
}

/// Upper bounds that keep a configuration from asking for more memory than
/// any machine has before anything is allocated.
const MAX_WIDTH: usize = 1 << 16;
const MAX_COMPONENTS: usize = 1 << 10;
const MAX_CODES: usize = 1 << 16;
const MAX_BATCH: usize = 1 << 22;

fn finite_at_least(name: &'static str, v: f64, min: f64) -> Result<(), DeepError> {
    if !(v >= min) || !v.is_finite() {
        return Err(DeepError::config(
            name,
            v,
            "must be finite and not negative",
        ));
    }
    Ok(())
}

fn width(name: &'static str, v: usize) -> Result<(), DeepError> {
    if v == 0 || v > MAX_WIDTH {
        return Err(DeepError::config(name, v, "must be between 1 and 65536"));
    }
    Ok(())
}

impl DagmmConfig {
    /// DAGMM exactly as published: [`Default`] with joint training (the
    /// energy's gradient reaches the compression network).
    pub fn paper() -> Self {
        DagmmConfig {
            decoupled: false,
            ..DagmmConfig::default()
        }
    }

    /// Dimension of the features the mixture sees: the code, the relative
    /// Euclidean distance and the cosine similarity.
    pub fn feature_dim(&self) -> usize {
        self.latent_dim + 2
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`DeepError::InvalidConfig`] naming the first bad setting.
    pub fn validate(&self) -> Result<(), DeepError> {
        for &h in &self.hidden {
            width("hidden layer width", h)?;
        }
        if self.hidden.len() > 64 {
            return Err(DeepError::config(
                "hidden layers",
                self.hidden.len(),
                "at most 64",
            ));
        }
        width("latent dimension", self.latent_dim)?;
        width("estimation hidden width", self.estimation_hidden)?;
        if self.components == 0 || self.components > MAX_COMPONENTS {
            return Err(DeepError::config(
                "components",
                self.components,
                "must be between 1 and 1024",
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(DeepError::config(
                "dropout",
                self.dropout,
                "must be in [0, 1)",
            ));
        }
        finite_at_least("lambda_energy", self.lambda_energy, 0.0)?;
        finite_at_least("lambda_cov", self.lambda_cov, 0.0)?;
        finite_at_least("anomaly_weight", self.anomaly_weight, 0.0)?;
        if !(self.learning_rate > 0.0) || !self.learning_rate.is_finite() {
            return Err(DeepError::config(
                "learning_rate",
                self.learning_rate,
                "must be positive and finite",
            ));
        }
        if self.batch_size < 2 || self.batch_size > MAX_BATCH {
            return Err(DeepError::config(
                "batch_size",
                self.batch_size,
                "must be between 2 and 4194304",
            ));
        }
        if self.epochs == 0 {
            return Err(DeepError::config(
                "epochs",
                self.epochs,
                "must be at least 1",
            ));
        }
        if !(self.jitter > 0.0) || !self.jitter.is_finite() {
            return Err(DeepError::config(
                "jitter",
                self.jitter,
                "must be positive and finite",
            ));
        }
        if let Some(m) = self.max_grad_norm
            && (!(m > 0.0) || !m.is_finite())
        {
            return Err(DeepError::config(
                "max_grad_norm",
                m,
                "must be positive and finite",
            ));
        }
        match self.compression {
            Compression::Autoencoder => {}
            Compression::Variational { kl_weight } => finite_at_least("kl_weight", kl_weight, 0.0)?,
            Compression::VectorQuantized {
                codebook_size,
                commitment,
            } => {
                if codebook_size == 0 || codebook_size > MAX_CODES {
                    return Err(DeepError::config(
                        "codebook_size",
                        codebook_size,
                        "must be between 1 and 65536",
                    ));
                }
                finite_at_least("commitment", commitment, 0.0)?;
            }
        }
        Ok(())
    }
}
