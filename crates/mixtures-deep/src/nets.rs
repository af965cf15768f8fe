//! The compression network (autoencoder, VAE or VQ-VAE) and the estimation
//! network.
//!
//! Weights are drawn from the run's own seeded generator rather than the
//! backend's, whose state is shared by everything on the device: two models
//! trained at once on the same device would otherwise draw from one stream
//! and neither would be repeatable.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand::rngs::StdRng;

use crate::DeepError;
use crate::config::{Compression, DagmmConfig};
use crate::tanh::tanh;

/// A dense layer initialized as PyTorch's `nn.Linear` (weights and bias
/// uniform in `±1/√fan_in`), the initialization DAGMM's reference
/// implementation trains from.
pub(crate) fn dense(d_in: usize, d_out: usize, rng: &mut StdRng, device: &Device) -> Linear {
    let k = 1.0 / (d_in as f32).sqrt();
    let w: Vec<f32> = (0..d_in * d_out).map(|_| rng.random_range(-k..k)).collect();
    let b: Vec<f32> = (0..d_out).map(|_| rng.random_range(-k..k)).collect();
    Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w, [d_in, d_out]), device)),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(b, [d_out]),
            device,
        ))),
    }
}

/// Dense layers with tanh after each.
#[derive(Module, Debug)]
pub(crate) struct TanhStack {
    pub(crate) layers: Vec<Linear>,
}

impl TanhStack {
    fn new(widths: &[usize], rng: &mut StdRng, device: &Device) -> Self {
        let layers = widths
            .windows(2)
            .map(|w| dense(w[0], w[1], rng, device))
            .collect();
        TanhStack { layers }
    }

    fn forward(&self, mut x: Tensor<2>) -> Result<Tensor<2>, DeepError> {
        for l in &self.layers {
            x = tanh(l.forward(x))?;
        }
        Ok(x)
    }
}

/// The compression network. The encoder is `d → hidden… → latent` with tanh
/// between layers and none after the code; the decoder mirrors it with a
/// linear output. A VAE has a second head for `ln σ²`, a VQ-VAE a codebook.
#[derive(Module, Debug)]
pub(crate) struct Compressor {
    pub(crate) encoder: TanhStack,
    pub(crate) code: Linear,
    pub(crate) log_var: Option<Linear>,
    pub(crate) codebook: Option<Param<Tensor<2>>>,
    pub(crate) decoder: TanhStack,
    pub(crate) output: Linear,
}

/// What the compression network gives for a batch.
pub(crate) struct Compressed {
    /// The code the decoder and the mixture see.
    pub(crate) code: Tensor<2>,
    /// The reconstruction.
    pub(crate) reconstruction: Tensor<2>,
    /// The VAE's KL term or the VQ-VAE's quantization loss (a scalar), if any.
    pub(crate) extra: Option<Tensor<1>>,
}

impl Compressed {
    /// The same outputs outside the autodiff graph.
    pub(crate) fn detached(&self) -> Compressed {
        Compressed {
            code: self.code.clone().detach(),
            reconstruction: self.reconstruction.clone().detach(),
            extra: None,
        }
    }
}

impl Compressor {
    pub(crate) fn new(d: usize, cfg: &DagmmConfig, rng: &mut StdRng, device: &Device) -> Self {
        let mut enc = vec![d];
        enc.extend(&cfg.hidden);
        let last = *enc.last().unwrap_or(&d);
        let encoder = TanhStack::new(&enc, rng, device);
        let code = dense(last, cfg.latent_dim, rng, device);
        let log_var = match cfg.compression {
            Compression::Variational { .. } => Some(dense(last, cfg.latent_dim, rng, device)),
            _ => None,
        };
        let codebook = match cfg.compression {
            Compression::VectorQuantized { codebook_size, .. } => {
                // van den Oord et al.'s initialization: uniform in ±1/C.
                let k = 1.0 / codebook_size as f32;
                let v: Vec<f32> = (0..codebook_size * cfg.latent_dim)
                    .map(|_| rng.random_range(-k..k))
                    .collect();
                Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(v, [codebook_size, cfg.latent_dim]),
                    device,
                )))
            }
            _ => None,
        };
        let mut dec = vec![cfg.latent_dim];
        dec.extend(cfg.hidden.iter().rev());
        let decoder = TanhStack::new(&dec, rng, device);
        let dec_last = *dec.last().unwrap_or(&cfg.latent_dim);
        let output = dense(dec_last, d, rng, device);
        Compressor {
            encoder,
            code,
            log_var,
            codebook,
            decoder,
            output,
        }
    }

    /// Compresses and reconstructs `x`. `noise` is the VAE's standard normal
    /// draw (`[batch, latent]`) when training; without it a VAE uses its
    /// mean.
    pub(crate) fn forward(
        &self,
        x: Tensor<2>,
        compression: &Compression,
        noise: Option<Tensor<2>>,
    ) -> Result<Compressed, DeepError> {
        self.forward_with(x, compression, noise, true)
    }

    /// As [`Compressor::forward`]; without `extra_loss` the VAE's or
    /// VQ-VAE's own loss term is not computed (a term no backward pass
    /// reaches would stay registered in the autodiff graph).
    pub(crate) fn forward_with(
        &self,
        x: Tensor<2>,
        compression: &Compression,
        noise: Option<Tensor<2>>,
        extra_loss: bool,
    ) -> Result<Compressed, DeepError> {
        let h = self.encoder.forward(x)?;
        let mean = self.code.forward(h.clone());
        // Nothing is computed that the loss will not use: an operation in the
        // graph that no backward pass reaches stays registered for good.
        let (code, extra) = match (compression, &self.log_var, &self.codebook) {
            (Compression::Variational { .. }, Some(lv), _) if extra_loss || noise.is_some() => {
                let log_var = lv.forward(h);
                let kl = extra_loss.then(|| {
                    (log_var.clone() + 1.0 - mean.clone().powi_scalar(2) - log_var.clone().exp())
                        .sum_dim(1)
                        .mean()
                        .mul_scalar(-0.5)
                });
                let code = match noise {
                    Some(eps) => mean + log_var.mul_scalar(0.5).exp() * eps,
                    None => mean,
                };
                (code, kl)
            }
            (Compression::VectorQuantized { commitment, .. }, _, Some(book)) => {
                let book = if extra_loss {
                    book.val()
                } else {
                    book.val().detach()
                };
                let q = nearest_code(mean.clone(), book);
                // Straight-through: the value of q, the gradient of the
                // encoder's output.
                let shift = q.clone().detach() - mean.clone().detach();
                let code = mean.clone() + shift;
                let loss = extra_loss.then(|| {
                    let codebook = (mean.clone().detach() - q.clone())
                        .powi_scalar(2)
                        .sum_dim(1)
                        .mean();
                    let commit = (mean - q.detach()).powi_scalar(2).sum_dim(1).mean();
                    codebook + commit.mul_scalar(*commitment)
                });
                (code, loss)
            }
            _ => (mean, None),
        };
        let reconstruction = self.output.forward(self.decoder.forward(code.clone())?);
        Ok(Compressed {
            code,
            reconstruction,
            extra,
        })
    }
}

/// The nearest codebook row of every row of `z` (squared Euclidean
/// distance; ties to the lower index).
pub(crate) fn nearest_code(z: Tensor<2>, book: Tensor<2>) -> Tensor<2> {
    // The choice has no gradient: it is made on detached copies, outside
    // the graph.
    let (z, b) = (z.detach(), book.clone().detach());
    let zz = z.clone().powi_scalar(2).sum_dim(1);
    let bb = b.clone().powi_scalar(2).sum_dim(1).transpose();
    let dist = zz + bb - z.matmul(b.transpose()).mul_scalar(2.0);
    let idx = dist.argmin(1).flatten::<1>(0, 1);
    book.select(0, idx)
}

/// The estimation network: `D → hidden (tanh) → dropout → K`, softmax.
#[derive(Module, Debug)]
pub(crate) struct Estimator {
    pub(crate) hidden: Linear,
    pub(crate) output: Linear,
}

impl Estimator {
    pub(crate) fn new(cfg: &DagmmConfig, rng: &mut StdRng, device: &Device) -> Self {
        Estimator {
            hidden: dense(cfg.feature_dim(), cfg.estimation_hidden, rng, device),
            output: dense(cfg.estimation_hidden, cfg.components, rng, device),
        }
    }

    /// Memberships `γ` (`[batch, K]`); `keep` is the dropout mask already
    /// divided by the keep probability (training only).
    pub(crate) fn forward(
        &self,
        z: Tensor<2>,
        keep: Option<Tensor<2>>,
    ) -> Result<Tensor<2>, DeepError> {
        let mut h = tanh(self.hidden.forward(z))?;
        if let Some(m) = keep {
            h = h * m;
        }
        Ok(softmax(self.output.forward(h), 1))
    }
}

/// Both networks: what is trained and saved.
#[derive(Module, Debug)]
pub(crate) struct Networks {
    pub(crate) compressor: Compressor,
    pub(crate) estimator: Estimator,
}

/// Added to squared norms before the square root: an all-zero input row would
/// otherwise divide by zero, and a perfect reconstruction would give the
/// square root an infinite derivative at 0 (0 · ∞ = NaN in the backward
/// pass). Norms are then at least 1e-8, the floor PyTorch's
/// `cosine_similarity` uses.
const SQUARED_NORM_FLOOR: f32 = 1e-16;

/// `[z_c, ‖x − x'‖ / ‖x‖, cos(x, x')]` and the per-row squared
/// reconstruction error as a column (`[N, 1]`, an ancestor of the features,
/// so a caller that drops it leaves nothing unreached in the graph).
pub(crate) fn latent_features(x: Tensor<2>, c: &Compressed) -> (Tensor<2>, Tensor<2>) {
    let xr = c.reconstruction.clone();
    let diff2 = (x.clone() - xr.clone()).powi_scalar(2).sum_dim(1);
    let nx = (x.clone().powi_scalar(2).sum_dim(1) + SQUARED_NORM_FLOOR).sqrt();
    let nr = (xr.clone().powi_scalar(2).sum_dim(1) + SQUARED_NORM_FLOOR).sqrt();
    let rel = (diff2.clone() + SQUARED_NORM_FLOOR).sqrt() / nx.clone();
    let cos = (x * xr).sum_dim(1) / (nx * nr);
    let z = Tensor::cat(vec![c.code.clone(), rel, cos], 1);
    (z, diff2)
}

/// `‖x − x'‖²` of every row.
pub(crate) fn squared_error(x: Tensor<2>, reconstruction: Tensor<2>) -> Tensor<1> {
    (x - reconstruction)
        .powi_scalar(2)
        .sum_dim(1)
        .flatten::<1>(0, 1)
}
