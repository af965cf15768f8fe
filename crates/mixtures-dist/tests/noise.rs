//! The uniform noise component: its density against the closed form, inside
//! and outside its box; responsibilities and labels with the noise column;
//! sampling; the box's volume; the model file; bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::mat;
use mixtures_core::Dataset;
use mixtures_dist::{AnyMixture, Gaussian, Laplace, LaplaceScales, Mixture, UniformNoise};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Two 1-D Gaussians (weights 0.3 and 0.6 of the total) and noise of weight
/// 0.1 over [-10, 30].
fn model() -> Mixture<f64, Gaussian<f64>> {
    let g = Gaussian::spherical(mat![[0.0], [10.0]], vec![1.0, 4.0]).unwrap();
    let region = UniformNoise::new(vec![-10.0], vec![30.0]).unwrap();
    Mixture::with_noise(vec![0.3, 0.6], 0.1, g, region).unwrap()
}

fn log_normal(x: f64, m: f64, v: f64) -> f64 {
    -(x - m) * (x - m) / (2.0 * v) - 0.5 * (2.0 * std::f64::consts::PI * v).ln()
}

/// `ln Σ exp(aᵢ)`, the largest term factored out.
fn log_sum(a: &[f64]) -> f64 {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + a.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

#[test]
fn the_density_is_the_closed_form_inside_and_outside_the_box() {
    let m = model();
    let xs = [-30.0, -10.0, -3.0, 0.0, 5.0, 10.0, 29.0, 30.0, 31.0, 100.0];
    let x = Dataset::from_rows(&xs.map(|v| [v])).unwrap();
    let lp = m.log_prob(&x).unwrap();
    for (i, &v) in xs.iter().enumerate() {
        let inside = (-10.0..=30.0).contains(&v);
        let mut terms = vec![
            0.3f64.ln() + log_normal(v, 0.0, 1.0),
            0.6f64.ln() + log_normal(v, 10.0, 4.0),
        ];
        if inside {
            terms.push((0.1f64 / 40.0).ln());
        }
        let want = log_sum(&terms);
        let tol = 1e-13 * want.abs().max(1.0);
        assert!((lp[i] - want).abs() < tol, "x = {v}: {} vs {want}", lp[i]);
    }
    // The noise is what keeps a far point's density up inside the box only.
    assert!(lp[6] > lp[8] + 5.0);
    assert_eq!(m.n_columns(), 3);
    assert_eq!(m.weights(), &[0.3, 0.6]);
    assert_eq!(m.noise().map(|(w, _)| w), Some(0.1));
    // Two means, two variances, two free weights (one per component and the
    // noise, less one).
    assert_eq!(m.n_parameters(), 2 + 2 + 2);
}

#[test]
fn responsibilities_have_a_noise_column_and_the_noise_has_its_own_label() {
    let m = model();
    let x = Dataset::from_rows(&[[0.0], [10.0], [25.0], [-9.0], [50.0]]).unwrap();
    let (lp, r) = m.log_prob_and_responsibilities(&x).unwrap();
    assert_eq!(r.ncols(), 3);
    for i in 0..5 {
        let s: f64 = (0..3).map(|c| r[(i, c)]).sum();
        assert!((s - 1.0).abs() < 1e-14);
    }
    // Outside the box the noise has no share.
    assert_eq!(r[(4, 2)], 0.0);
    let labels = m.predict(&x).unwrap();
    assert_eq!(labels, [0, 1, 2, 2, 1]);
    let (lp2, labels2) = m.log_prob_and_predict(&x).unwrap();
    assert_eq!(lp, lp2);
    assert_eq!(labels, labels2);
    // The components alone, renormalized.
    let bare = m.without_noise();
    assert!(bare.noise().is_none());
    assert!((bare.weights()[0] - 1.0 / 3.0).abs() < 1e-15);
}

#[test]
fn samples_of_the_noise_are_uniform_over_the_box() {
    let m = model();
    let (x, labels) = m.sample(200_000, &mut StdRng::seed_from_u64(3));
    let noise: Vec<f64> = (0..x.nrows())
        .filter(|&i| labels[i] == 2)
        .map(|i| x[(i, 0)])
        .collect();
    let share = noise.len() as f64 / 200_000.0;
    // Binomial standard error of the share: sqrt(0.1 x 0.9 / 200 000) = 6.7e-4.
    assert!((share - 0.1).abs() < 4e-3, "{share}");
    assert!(noise.iter().all(|v| (-10.0..=30.0).contains(v)));
    // Uniform on [-10, 30]: mean 10, variance 1600/12.
    let mean = noise.iter().sum::<f64>() / noise.len() as f64;
    let var = noise.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / noise.len() as f64;
    assert!((mean - 10.0).abs() < 0.3, "{mean}");
    assert!((var / (1600.0 / 12.0) - 1.0).abs() < 0.03, "{var}");
}

#[test]
fn the_bounding_box_and_a_given_volume() {
    let x = Dataset::<f64>::from_rows(&[[1.0, -2.0], [3.0, 5.0], [2.0, 0.0]]).unwrap();
    let b = UniformNoise::bounding_box(&x).unwrap();
    assert_eq!(b.lower(), &[1.0, -2.0]);
    assert_eq!(b.upper(), &[3.0, 5.0]);
    assert!((b.log_volume() - 14f64.ln()).abs() < 1e-15);
    // Widened about the centre (2, 1.5) to volume 56: every side doubles.
    let v = b.with_volume(56.0).unwrap();
    assert!((v.log_volume() - 56f64.ln()).abs() < 1e-14);
    assert!((v.lower()[0] - 0.0).abs() < 1e-14 && (v.upper()[1] - 8.5).abs() < 1e-14);
    // Rows of weight zero do not widen the box.
    let w = x.with_weights(vec![1.0, 0.0, 1.0]).unwrap();
    let b = UniformNoise::bounding_box(&w).unwrap();
    assert_eq!(b.upper(), &[2.0, 0.0]);
}

#[test]
fn boxes_without_volume_and_bad_volumes_are_refused() {
    let flat = Dataset::<f64>::from_rows(&[[1.0, 4.0], [3.0, 4.0]]).unwrap();
    let err = UniformNoise::bounding_box(&flat).unwrap_err();
    assert!(err.to_string().contains("feature 1"), "{err}");
    // With a volume, the constant side first gets the others' geometric
    // mean (2), about its value, then the box is scaled to the volume.
    let v = UniformNoise::bounding_box_with_volume(&flat, 16.0).unwrap();
    assert!((v.log_volume() - 16f64.ln()).abs() < 1e-14);
    assert!((v.lower()[1] - 2.0).abs() < 1e-14 && (v.upper()[1] - 6.0).abs() < 1e-14);
    let point = Dataset::<f64>::from_rows(&[[1.0, 4.0]]).unwrap();
    let v = UniformNoise::bounding_box_with_volume(&point, 9.0).unwrap();
    assert!((v.upper()[0] - v.lower()[0] - 3.0).abs() < 1e-14);
    let b = UniformNoise::new(vec![0.0], vec![1.0]).unwrap();
    for v in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(b.with_volume(v).is_err(), "{v}");
    }
    assert!(UniformNoise::new(vec![0.0, 1.0], vec![1.0]).is_err());
    assert!(UniformNoise::<f64>::new(vec![], vec![]).is_err());
    assert!(UniformNoise::new(vec![0.0], vec![f64::INFINITY]).is_err());
    // Weights must sum to one with the noise's.
    let g = Gaussian::spherical(mat![[0.0]], vec![1.0]).unwrap();
    assert!(Mixture::with_noise(vec![1.0], 0.1, g.clone(), b.clone()).is_err());
    assert!(
        Mixture::new(vec![1.0], g.clone())
            .unwrap()
            .add_noise(1.0, b.clone())
            .is_err()
    );
    // A box of another dimension.
    let b2 = UniformNoise::new(vec![0.0, 0.0], vec![1.0, 1.0]).unwrap();
    assert!(Mixture::with_noise(vec![0.9], 0.1, g, b2).is_err());
}

#[test]
fn model_files_keep_the_noise_bit_for_bit() {
    let m = model();
    let text = m.to_json();
    assert!(text.contains(r#""noise":{"#), "{text}");
    let back = Mixture::<f64, Gaussian<f64>>::from_json(&text).unwrap();
    assert_eq!(back, m);
    // Any family; through AnyMixture too.
    let l = Laplace::new(mat![[0.0, 1.0]], LaplaceScales::Spherical(vec![2.0])).unwrap();
    let region = UniformNoise::new(vec![-5.0, -5.0], vec![5.0, 6.0]).unwrap();
    let lm = Mixture::new(vec![1.0], l)
        .unwrap()
        .add_noise(0.25, region)
        .unwrap();
    let any = AnyMixture::from_json(&lm.to_json()).unwrap();
    assert_eq!(any.noise().map(|(w, _)| w), Some(0.25));
    assert_eq!(any.n_columns(), 2);
    assert_eq!(any.to_json(), lm.to_json());
}

#[test]
fn bad_noise_fields_in_a_model_file_are_named() {
    let good = model().to_json();
    for (from, to, field) in [
        (
            r#""lower":[-10.0]"#,
            r#""lower":[-10.0,1.0]"#,
            "noise.lower",
        ),
        (r#""upper":[30.0]"#, r#""upper":[-20.0]"#, "noise"),
        (r#""weight":0.1"#, r#""weight":"x""#, "noise.weight"),
        (r#""weight":0.1"#, r#""weight":0.5"#, "sum"),
        (r#","upper":[30.0]"#, "", "noise.upper"),
    ] {
        assert!(good.contains(from), "{good}");
        let bad = good.replace(from, to);
        let err = Mixture::<f64, Gaussian<f64>>::from_json(&bad).unwrap_err();
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
}
