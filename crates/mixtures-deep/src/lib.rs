//! DAGMM, the deep autoencoding Gaussian mixture model (Zong et al., ICLR
//! 2018), and its variants, on [burn](https://burn.dev): the CPU by default
//! (burn's pure-Rust flex backend), a GPU with the `cuda` or `wgpu` feature.
//!
//! A **compression network** (an autoencoder, a VAE or a VQ-VAE) maps each
//! row `x` to a code `z_c` and a reconstruction `x'`; the mixture sees
//! `z = [z_c, ‖x − x'‖/‖x‖, cos(x, x')]`. An **estimation network** gives
//! memberships `γ`, and the batch's mixture is the `γ`-weighted statistics of
//! `z` (no EM). The loss is the reconstruction error plus `λ₁` times the mean
//! sample energy `E(z) = −ln Σₖ φₖ N(z | μₖ, Σₖ)` plus `λ₂ Σₖ Σⱼ 1/Σₖ[j,j]`.
//! The paper trains both networks on that one loss
//! ([`DagmmConfig::paper`]); by default the energy and the penalty train only
//! the estimation network and the compression network learns from the
//! reconstruction ([`DagmmConfig::decoupled`]): jointly, over long training,
//! the encoder lowers the energy by crowding the features and some seeds
//! collapse. After training, the mixture is estimated on all training rows and kept as
//! this project's [`AnyMixture`](mixtures_dist::AnyMixture), so thresholds,
//! metrics and explanations apply to the latent features, and a [`Dagmm`] is
//! itself a [`DensityModel`](mixtures_dist::DensityModel) of its inputs.
//!
//! Variants, each a setting of [`DagmmConfig`]: [`Compression`] (AE, VAE,
//! VQ-VAE), [`LatentFamily`] (Gaussian or Laplace), [`Inference`] (energy, or
//! energy plus reconstruction error), labelled anomalies pushed to high
//! energy ([`DagmmTrainer::fit_with_anomalies`]); the positive-unlabelled
//! threshold is `mixtures_anomaly::PositiveUnlabeled::on_ranks()` on the
//! scores (energies are heavy-tailed; on their values the rule flags nearly
//! everything). [`DagmmConfig::max_grad_norm`] caps each step's gradient, as
//! DAGMM's reference implementation does.
//!
//! ```
//! use mixtures_core::Dataset;
//! use mixtures_deep::{DagmmConfig, DagmmTrainer};
//!
//! // Normal rows near a circle; one far point to score.
//! let rows: Vec<Vec<f64>> = (0..200)
//!     .map(|i| {
//!         let t = i as f64 * 0.0314;
//!         vec![t.cos(), t.sin(), 0.5 * t.cos()]
//!     })
//!     .collect();
//! let data = Dataset::try_from(rows)?;
//! let config = DagmmConfig {
//!     hidden: vec![8],
//!     components: 2,
//!     epochs: 20,
//!     batch_size: 64,
//!     learning_rate: 1e-2,
//!     ..DagmmConfig::default()
//! };
//! let model = DagmmTrainer::new(config).fit(&data)?;
//! let far = Dataset::try_from(vec![vec![3.0, -3.0, 3.0]])?;
//! let normal = Dataset::try_from(vec![vec![1.0, 0.0, 0.5]])?;
//! assert!(model.score(&far)?[0] > model.score(&normal)?[0]);
//! assert_eq!(model.history().len(), 20);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod clip;
mod config;
mod error;
mod format;
mod latent;
mod model;
mod nets;
mod scaling;
mod tanh;
mod train;

#[cfg(test)]
mod tests;

pub use burn::tensor::Device;
pub use config::{
    Compression, DagmmConfig, Inference, InputScaling, LatentFamily, ReconstructionUnit,
};
pub use error::{DeepError, LossTerm};
pub use format::DAGMM_FORMAT_VERSION;
pub use model::{Dagmm, DagmmTrainer, Latent, Scored};
pub use scaling::Scaler;
pub use train::EpochReport;

/// The CPU device (burn's flex backend, multithreaded).
pub fn cpu() -> Device {
    Device::flex()
}

/// A device by name: `cpu`, `cuda` (the first CUDA GPU; the `cuda`
/// feature) or `wgpu` (the default wgpu adapter; the `wgpu` feature).
///
/// # Errors
/// [`DeepError::InvalidConfig`] for another name or a backend this build
/// does not have.
pub fn device(name: &str) -> Result<Device, DeepError> {
    match name {
        "cpu" => Ok(cpu()),
        #[cfg(feature = "cuda")]
        "cuda" => Ok(Device::cuda(0)),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        "cuda" | "wgpu" => Err(DeepError::config(
            "device",
            name,
            "this build has no such backend (build with the cuda or wgpu feature)",
        )),
        _ => Err(DeepError::config(
            "device",
            name,
            "must be cpu, cuda or wgpu",
        )),
    }
}
