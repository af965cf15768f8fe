//! The latent mixture in tensors against the library's densities, and its
//! gradient against finite differences.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burn::tensor::{Tensor, TensorData};
use mixtures_core::Dataset;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::{DagmmConfig, LatentFamily};
use crate::latent::batch_mixture;
use crate::model::{Pass, latent_mixture};

fn random_batch(n: usize, d: usize, k: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let z: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut g = Vec::with_capacity(n * k);
    for _ in 0..n {
        let raw: Vec<f32> = (0..k)
            .map(|_| rng.random_range(-2.0f32..2.0).exp())
            .collect();
        let s: f32 = raw.iter().sum();
        g.extend(raw.iter().map(|v| v / s));
    }
    (z, g)
}

fn tensor(v: &[f32], r: usize, c: usize) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [r, c]), &crate::cpu())
}

fn values(t: Tensor<1>) -> Vec<f32> {
    t.try_into_data().unwrap().try_into_vec::<f32>().unwrap()
}

/// The batch mixture's energies (Cholesky entry by entry, log-sum-exp, in
/// f32 tensors) equal the library's `−ln p` of the mixture built from the
/// same memberships in double precision.
fn energies_match(family: LatentFamily) {
    for (n, d, k, seed) in [(64, 3, 4, 1), (40, 5, 2, 2), (30, 1, 3, 3), (16, 3, 1, 4)] {
        let (z, g) = random_batch(n, d, k, seed);
        let jitter = 1e-3;
        let mix = batch_mixture(tensor(&g, n, k), tensor(&z, n, d), family, jitter);
        let ours = values(mix.energy(tensor(&z, n, d)));
        let cfg = DagmmConfig {
            components: k,
            family,
            jitter: f64::from(jitter),
            ..DagmmConfig::default()
        };
        let pass = Pass {
            features: z.iter().map(|&v| f64::from(v)).collect(),
            gamma: g.iter().map(|&v| f64::from(v)).collect(),
            reconstruction: vec![0.0; n],
            dim: d,
        };
        let lib = latent_mixture(&pass, &cfg).unwrap();
        let zd = Dataset::from_row_major(&pass.features, n, d).unwrap();
        let reference: Vec<f64> = lib.log_prob(&zd).unwrap().iter().map(|v| -v).collect();
        for (a, b) in ours.iter().zip(&reference) {
            assert!(
                (f64::from(*a) - b).abs() < 2e-4 * (1.0 + b.abs()),
                "{family:?} n={n} d={d} k={k}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn gaussian_energies_match_the_library() {
    energies_match(LatentFamily::Gaussian);
}

#[test]
fn laplace_energies_match_the_library() {
    energies_match(LatentFamily::Laplace);
}

/// One component holding every row: the energy is minus the log density of
/// the sample mean and covariance (plus jitter), worked out by hand in 2-D.
#[test]
fn one_component_is_the_sample_gaussian() {
    let z = [0.0f32, 0.0, 2.0, 0.0, 0.0, 2.0, 2.0, 2.0];
    let g = [1.0f32; 4];
    let mix = batch_mixture(
        tensor(&g, 4, 1),
        tensor(&z, 4, 2),
        LatentFamily::Gaussian,
        0.0,
    );
    let e = values(mix.energy(tensor(&[1.0, 1.0, 3.0, 1.0], 2, 2)));
    // Mean (1, 1), covariance I: E(μ) = ln 2π, E(μ + 2e₁) = ln 2π + 2.
    let l2pi = (2.0 * std::f64::consts::PI).ln();
    assert!((f64::from(e[0]) - l2pi).abs() < 1e-5, "{e:?}");
    assert!((f64::from(e[1]) - l2pi - 2.0).abs() < 1e-5, "{e:?}");
    let p = values(mix.penalty());
    assert!((p[0] - 2.0).abs() < 1e-6, "{p:?}");
}

/// Coinciding codes: the covariance is the jitter alone, still positive
/// definite, and every energy and the penalty are finite.
#[test]
fn coinciding_rows_stay_finite() {
    let z = [0.5f32; 30];
    let g: Vec<f32> = (0..30)
        .map(|i| if i % 3 == 0 { 1.0 } else { 0.0 })
        .collect();
    for family in [LatentFamily::Gaussian, LatentFamily::Laplace] {
        let mix = batch_mixture(tensor(&g, 10, 3), tensor(&z, 10, 3), family, 1e-6);
        let e = values(mix.energy(tensor(&z, 10, 3)));
        assert!(e.iter().all(|v| v.is_finite()), "{family:?} {e:?}");
        assert!(values(mix.penalty())[0].is_finite());
    }
}

/// The gradient of the mean energy with respect to the features, through
/// the statistics, the Cholesky entries and the substitution, against
/// central differences.
#[test]
fn energy_gradient_matches_finite_differences() {
    let (n, d, k) = (12, 3, 2);
    let (z, g) = random_batch(n, d, k, 9);
    let device = crate::cpu().autodiff();
    let loss = |zv: &[f32]| -> f64 {
        let zt = tensor(zv, n, d);
        let mix = batch_mixture(tensor(&g, n, k), zt.clone(), LatentFamily::Gaussian, 1e-2);
        f64::from(values(mix.energy(zt).mean())[0])
    };
    let zt = Tensor::<2>::from_data(TensorData::new(z.clone(), [n, d]), &device).require_grad();
    let gt = Tensor::<2>::from_data(TensorData::new(g.clone(), [n, k]), &device);
    let mix = batch_mixture(gt, zt.clone(), LatentFamily::Gaussian, 1e-2);
    let grads = mix.energy(zt.clone()).mean().backward();
    let grad = zt
        .grad(&grads)
        .unwrap()
        .try_into_data()
        .unwrap()
        .try_into_vec::<f32>()
        .unwrap();
    let h = 1e-2f32;
    for i in [0, 5, 17, 35] {
        let mut up = z.clone();
        up[i] += h;
        let mut down = z.clone();
        down[i] -= h;
        let fd = (loss(&up) - loss(&down)) / (2.0 * f64::from(h));
        assert!(
            (fd - f64::from(grad[i])).abs() < 2e-2 * (1.0 + fd.abs()),
            "entry {i}: finite difference {fd}, autodiff {}",
            grad[i]
        );
    }
}

/// The CPU kernel's tanh carries tanh's derivative, `1 − tanh²`.
#[test]
fn tanh_gradient_is_one_minus_the_square() {
    let device = crate::cpu().autodiff();
    let xs = vec![-3.0f32, -0.5, 0.0, 0.3, 0.6, 2.0, 10.0, 1e-3];
    let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [2, 4]), &device).require_grad();
    let y = crate::tanh::tanh(x.clone()).unwrap();
    let grads = y.clone().sum().backward();
    let g = x
        .grad(&grads)
        .unwrap()
        .try_into_data()
        .unwrap()
        .try_into_vec::<f32>()
        .unwrap();
    let y = y.try_into_data().unwrap().try_into_vec::<f32>().unwrap();
    for ((x, y), g) in xs.iter().zip(&y).zip(&g) {
        assert!(
            (y - x.tanh()).abs() <= 2.0 * f32::EPSILON * x.tanh().abs().max(1e-30),
            "{x}"
        );
        let want = 1.0 - x.tanh() * x.tanh();
        assert!((g - want).abs() < 1e-6, "{x}: {g} vs {want}");
    }
}

/// One backward pass of the training loss reaches every weight and bias of
/// both networks, for every compression (a graph cut anywhere would leave
/// the layers before it untrained).
#[test]
fn the_loss_reaches_every_parameter() {
    use burn::nn::Linear;

    use crate::config::Compression;
    use crate::nets::{Compressor, Estimator, Networks};

    let device = crate::cpu().autodiff();
    for compression in [
        Compression::Autoencoder,
        Compression::variational(),
        Compression::vector_quantized(),
    ] {
        let cfg = DagmmConfig {
            hidden: vec![6, 4],
            latent_dim: 2,
            components: 3,
            compression,
            ..DagmmConfig::default()
        };
        let mut rng = StdRng::seed_from_u64(5);
        let nets = Networks {
            compressor: Compressor::new(5, &cfg, &mut rng, &device),
            estimator: Estimator::new(&cfg, &mut rng, &device),
        };
        let (x, _) = random_batch(32, 5, 1, 6);
        let x = Tensor::<2>::from_data(TensorData::new(x, [32, 5]), &device);
        let noise = Tensor::<2>::from_data(TensorData::new(vec![0.3f32; 64], [32, 2]), &device);
        let xa = x.clone().mul_scalar(3.0);
        let (loss, _) =
            crate::train::batch_loss(&nets, &cfg, x, Some(noise), None, Some(xa)).unwrap();
        let grads = loss.backward();
        let nonzero = |l: &Linear, name: &str| {
            let g = l.weight.val().grad(&grads).expect(name);
            let g = g.try_into_data().unwrap().try_into_vec::<f32>().unwrap();
            assert!(g.iter().any(|v| *v != 0.0), "{compression:?}: {name}");
            assert!(
                l.bias.as_ref().unwrap().val().grad(&grads).is_some(),
                "{name}"
            );
        };
        let c = &nets.compressor;
        for (i, l) in c.encoder.layers.iter().enumerate() {
            nonzero(l, &format!("encoder {i}"));
        }
        nonzero(&c.code, "code");
        if let Some(l) = &c.log_var {
            nonzero(l, "log_var");
        }
        for (i, l) in c.decoder.layers.iter().enumerate() {
            nonzero(l, &format!("decoder {i}"));
        }
        nonzero(&c.output, "output");
        nonzero(&nets.estimator.hidden, "estimation hidden");
        nonzero(&nets.estimator.output, "estimation output");
        if let Some(b) = &c.codebook {
            assert!(b.val().grad(&grads).is_some(), "codebook");
        }
    }
}

#[test]
fn configurations_saved_before_the_training_settings_existed_load_as_trained() {
    let mut v = serde_json::to_value(DagmmConfig::default()).unwrap();
    let obj = v.as_object_mut().unwrap();
    for key in ["decoupled", "max_grad_norm", "reconstruction"] {
        assert!(obj.remove(key).is_some(), "{key}");
    }
    let old: DagmmConfig = serde_json::from_value(v).unwrap();
    assert_eq!(old.max_grad_norm, None);
    assert_eq!(old.reconstruction, crate::ReconstructionUnit::RowSum);
    assert!(!old.decoupled);

    // The paper's training differs from the default in that one setting.
    let paper = DagmmConfig::paper();
    assert!(!paper.decoupled && DagmmConfig::default().decoupled);
    assert_eq!(
        DagmmConfig {
            decoupled: true,
            ..paper
        },
        DagmmConfig::default()
    );
    let bad = DagmmConfig {
        max_grad_norm: Some(f64::NAN),
        ..DagmmConfig::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn the_feature_mean_reconstruction_term_is_the_row_sum_over_the_columns() {
    use crate::ReconstructionUnit;
    use crate::nets::{Compressor, Estimator, Networks};

    let device = crate::cpu().autodiff();
    let cfg = DagmmConfig {
        hidden: vec![6, 4],
        components: 2,
        ..DagmmConfig::default()
    };
    let mut rng = StdRng::seed_from_u64(7);
    let nets = Networks {
        compressor: Compressor::new(5, &cfg, &mut rng, &device),
        estimator: Estimator::new(&cfg, &mut rng, &device),
    };
    let (x, _) = random_batch(16, 5, 1, 8);
    let x = Tensor::<2>::from_data(TensorData::new(x, [16, 5]), &device);
    let terms = |unit| {
        let c = DagmmConfig {
            reconstruction: unit,
            ..cfg.clone()
        };
        let (_, t) = crate::train::batch_loss(&nets, &c, x.clone(), None, None, None).unwrap();
        values(t)
    };
    let sum = terms(ReconstructionUnit::RowSum);
    let mean = terms(ReconstructionUnit::FeatureMean);
    assert!(sum[0] > 0.0);
    assert!(
        (mean[0] - sum[0] / 5.0).abs() < 1e-6 * sum[0],
        "{sum:?} {mean:?}"
    );
    assert_eq!(mean[1..], sum[1..]);
}
