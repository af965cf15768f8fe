//! The training loop: Adam on mini-batches of the (scaled) training rows,
//! every loss term read back and checked after each batch.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::clip::clip_global_norm;
use crate::config::{Compression, DagmmConfig, ReconstructionUnit};
use crate::error::read;
use crate::latent::batch_mixture;
use crate::nets::{Compressor, Estimator, Networks, latent_features, squared_error};
use crate::{DeepError, LossTerm};

/// The mean loss terms of one epoch (each averaged over the epoch's rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// Epoch, from 1.
    pub epoch: usize,
    /// The whole loss. Under joint training one objective of both networks;
    /// under decoupled training the sum of two (the reconstruction, which
    /// the compression network minimizes, and the energy and penalty, which
    /// the estimation network minimizes on features that move under it), so
    /// it can rise: the penalty grows as the reconstruction features tighten.
    pub loss: f64,
    /// Mean squared reconstruction error per row (divided by the number of
    /// columns under [`ReconstructionUnit::FeatureMean`]).
    pub reconstruction: f64,
    /// Mean sample energy under the batch's mixture.
    pub energy: f64,
    /// The covariance (or Laplace scale) penalty.
    pub covariance_penalty: f64,
    /// The VAE's KL term or the VQ-VAE's quantization loss, unweighted (0
    /// for the plain autoencoder).
    pub compression: f64,
    /// The labelled anomalies' `mean 1/softplus(E)` (0 without them).
    pub anomaly: f64,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

/// Scaled rows in row-major order.
pub(crate) struct Rows<'a> {
    pub(crate) values: &'a [f32],
    pub(crate) cols: usize,
}

impl Rows<'_> {
    pub(crate) fn len(&self) -> usize {
        self.values.len() / self.cols.max(1)
    }

    fn gather(&self, idx: &[usize], device: &Device) -> Tensor<2> {
        let mut v = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            v.extend_from_slice(&self.values[i * self.cols..(i + 1) * self.cols]);
        }
        Tensor::from_data(TensorData::new(v, [idx.len(), self.cols]), device)
    }
}

fn shuffle(order: &mut [usize], rng: &mut StdRng) {
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
}

/// Batches of `order`: consecutive runs of `size`, where a last batch of a
/// single row joins the one before (a covariance needs two rows).
fn batches(order: &[usize], size: usize) -> Vec<&[usize]> {
    let mut out: Vec<&[usize]> = order.chunks(size).collect();
    if out.len() > 1 && out.last().is_some_and(|b| b.len() < 2) {
        out.pop();
        let n = order.len();
        let start = (out.len() - 1) * size;
        if let Some(last) = out.last_mut() {
            *last = &order[start..n];
        }
    }
    out
}

/// Weight of the compression network's own loss term.
fn extra_weight(cfg: &DagmmConfig) -> f64 {
    match cfg.compression {
        Compression::Autoencoder => 0.0,
        Compression::Variational { kl_weight } => kl_weight,
        Compression::VectorQuantized { .. } => 1.0,
    }
}

/// The loss of one batch `x` and its terms, detached, in the order of
/// [`LossTerm`]: reconstruction, energy, penalty, the compression's own
/// term, the anomaly term (zeros where a term does not apply). `noise` is
/// the VAE's draw, `mask` the dropout mask, `anomalies` a batch of labelled
/// anomalies.
pub(crate) fn batch_loss(
    nets: &Networks,
    cfg: &DagmmConfig,
    x: Tensor<2>,
    noise: Option<Tensor<2>>,
    mask: Option<Tensor<2>>,
    anomalies: Option<Tensor<2>>,
) -> Result<(Tensor<1>, Tensor<1>), DeepError> {
    let device = x.device();
    let cols = x.dims()[1];
    let comp = nets
        .compressor
        .forward(x.clone(), &cfg.compression, noise)?;
    let (z, rec) = if cfg.decoupled {
        // Features from detached outputs (detaching the features afterwards
        // would leave their operations in the graph, unreached).
        let (z, _) = latent_features(x.clone(), &comp.detached());
        (z, squared_error(x, comp.reconstruction.clone()))
    } else {
        let (z, rec) = latent_features(x, &comp);
        (z, rec.flatten::<1>(0, 1))
    };
    let gamma = nets.estimator.forward(z.clone(), mask)?;
    let mix = batch_mixture(gamma, z.clone(), cfg.family, cfg.jitter as f32);
    let rec = match cfg.reconstruction {
        ReconstructionUnit::RowSum => rec.mean(),
        ReconstructionUnit::FeatureMean => rec.mean().div_scalar(cols.max(1) as f32),
    };
    let energy = mix.energy(z).mean();
    let penalty = mix.penalty();
    let extra = comp.extra.unwrap_or_else(|| Tensor::zeros([1], &device));
    let anomaly = match anomalies {
        Some(xa) => {
            let ca = nets
                .compressor
                .forward_with(xa.clone(), &cfg.compression, None, false)?;
            let ca = if cfg.decoupled { ca.detached() } else { ca };
            let (za, _) = latent_features(xa, &ca);
            // 1/E as the study's term, through softplus: E can be negative
            // or zero, where 1/E would change sign or blow up.
            softplus(mix.energy(za), 1.0).recip().mean()
        }
        None => Tensor::zeros([1], &device),
    };
    // Detached: a branch of the graph that no backward pass reaches would
    // stay registered with the autodiff graph for good.
    let terms = Tensor::cat(
        vec![
            rec.clone().detach(),
            energy.clone().detach(),
            penalty.clone().detach(),
            extra.clone().detach(),
            anomaly.clone().detach(),
        ],
        0,
    );
    let loss = rec
        + energy.mul_scalar(cfg.lambda_energy)
        + penalty.mul_scalar(cfg.lambda_cov)
        + extra.mul_scalar(extra_weight(cfg))
        + anomaly.mul_scalar(cfg.anomaly_weight);
    Ok((loss, terms))
}

/// Trains both networks from a fresh seeded initialization.
pub(crate) fn train(
    cfg: &DagmmConfig,
    rows: &Rows<'_>,
    anomalies: Option<&Rows<'_>>,
    device: &Device,
    progress: &mut dyn FnMut(&EpochReport),
) -> Result<(Networks, Vec<EpochReport>), DeepError> {
    let device = device.clone().autodiff();
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut nets = Networks {
        compressor: Compressor::new(rows.cols, cfg, &mut rng, &device),
        estimator: Estimator::new(cfg, &mut rng, &device),
    };
    // PyTorch's ε, which DAGMM's reference implementation trains with.
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let n = rows.len();
    let mut order: Vec<usize> = (0..n).collect();
    let anomalies = anomalies.filter(|a| a.len() > 0 && cfg.anomaly_weight > 0.0);
    let mut anomaly_order: Vec<usize> = (0..anomalies.map_or(0, |a| a.len())).collect();
    let mut anomaly_pos = anomaly_order.len();
    let keep = 1.0 - cfg.dropout as f32;
    let extra_weight = extra_weight(cfg);
    let mut history = Vec::with_capacity(cfg.epochs);
    for epoch in 1..=cfg.epochs {
        let start = Instant::now();
        shuffle(&mut order, &mut rng);
        let mut sums = [0.0f64; 6];
        for (b, idx) in batches(&order, cfg.batch_size).into_iter().enumerate() {
            let m = idx.len();
            let x = rows.gather(idx, &device);
            let noise = matches!(cfg.compression, Compression::Variational { .. }).then(|| {
                let v: Vec<f32> = (0..m * cfg.latent_dim)
                    .map(|_| rng.sample(StandardNormal))
                    .collect();
                Tensor::from_data(TensorData::new(v, [m, cfg.latent_dim]), &device)
            });
            let mask = (cfg.dropout > 0.0).then(|| {
                let v: Vec<f32> = (0..m * cfg.estimation_hidden)
                    .map(|_| {
                        if rng.random::<f32>() < keep {
                            1.0 / keep
                        } else {
                            0.0
                        }
                    })
                    .collect();
                Tensor::from_data(TensorData::new(v, [m, cfg.estimation_hidden]), &device)
            });
            let xa = anomalies.map(|a| {
                let take = cfg.batch_size.min(a.len());
                if anomaly_pos + take > anomaly_order.len() {
                    shuffle(&mut anomaly_order, &mut rng);
                    anomaly_pos = 0;
                }
                let ai = &anomaly_order[anomaly_pos..anomaly_pos + take];
                anomaly_pos += take;
                a.gather(ai, &device)
            });
            let (loss, terms) = batch_loss(&nets, cfg, x, noise, mask, xa)?;
            let values = read(terms)?;
            let names = [
                LossTerm::Reconstruction,
                LossTerm::Energy,
                LossTerm::CovariancePenalty,
                if matches!(cfg.compression, Compression::Variational { .. }) {
                    LossTerm::KullbackLeibler
                } else {
                    LossTerm::Quantization
                },
                LossTerm::Anomaly,
            ];
            for (t, v) in names.iter().zip(&values) {
                if !v.is_finite() {
                    return Err(DeepError::Diverged {
                        term: *t,
                        value: f64::from(*v),
                        epoch,
                        batch: b + 1,
                    });
                }
            }
            let total = values[0] as f64
                + cfg.lambda_energy * values[1] as f64
                + cfg.lambda_cov * values[2] as f64
                + extra_weight * values[3] as f64
                + cfg.anomaly_weight * values[4] as f64;
            for (s, v) in sums
                .iter_mut()
                .zip(std::iter::once(total).chain(values.iter().map(|&v| v as f64)))
            {
                *s += v * m as f64;
            }
            let mut grads = GradientsParams::from_grads(loss.backward(), &nets);
            if let Some(max) = cfg.max_grad_norm {
                clip_global_norm(&mut grads, &nets, max)?;
            }
            nets = optim.step(cfg.learning_rate, nets, grads);
        }
        let nf = n as f64;
        let report = EpochReport {
            epoch,
            loss: sums[0] / nf,
            reconstruction: sums[1] / nf,
            energy: sums[2] / nf,
            covariance_penalty: sums[3] / nf,
            compression: sums[4] / nf,
            anomaly: sums[5] / nf,
            seconds: start.elapsed().as_secs_f64(),
        };
        progress(&report);
        history.push(report);
    }
    Ok((nets.valid(), history))
}

#[cfg(test)]
mod tests {
    use super::batches;

    #[test]
    fn a_last_single_row_joins_the_batch_before() {
        let order: Vec<usize> = (0..9).collect();
        let b = batches(&order, 4);
        assert_eq!(b.len(), 2);
        assert_eq!(b[1], &[4, 5, 6, 7, 8]);
        let b = batches(&order[..8], 4);
        assert_eq!(b.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![4, 4]);
        let b = batches(&order[..1], 4);
        assert_eq!(b.len(), 1);
    }
}
