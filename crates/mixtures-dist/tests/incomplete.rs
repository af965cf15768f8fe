//! Densities, responsibilities and imputation of rows with missing features:
//! against the marginal mixture built by hand, the complete-row path bit for
//! bit, and the conditional distribution's moments.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::Mat;
use mixtures_core::Dataset;
use mixtures_dist::{Covariance, Gaussian, GaussianMixtureModel, Mixture, ModelError};

fn model(structure: Covariance) -> GaussianMixtureModel<f64> {
    let means = faer::mat![[0.0, 1.0, -1.0], [3.0, -2.0, 0.5]];
    let a = faer::mat![[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]];
    let b = faer::mat![[1.0, -0.4, 0.1], [-0.4, 0.8, 0.0], [0.1, 0.0, 1.5]];
    let g = Gaussian::full(means, vec![a, b]).unwrap();
    let g = match structure {
        Covariance::Full => g,
        other => {
            // The same means with the structure's own covariances.
            let means = g.means().to_owned();
            match other {
                Covariance::Diag => {
                    Gaussian::diag(means, faer::mat![[2.0, 1.0, 0.5], [1.0, 0.8, 1.5]]).unwrap()
                }
                Covariance::Spherical => Gaussian::spherical(means, vec![1.2, 0.7]).unwrap(),
                _ => Gaussian::tied(
                    means,
                    faer::mat![[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]],
                )
                .unwrap(),
            }
        }
    };
    Mixture::new(vec![0.3, 0.7], g).unwrap()
}

/// The mixture of the observed features' marginals, built by hand.
fn marginal(m: &GaussianMixtureModel<f64>, observed: &[usize]) -> GaussianMixtureModel<f64> {
    let g = m.components();
    let means = Mat::from_fn(2, observed.len(), |c, j| g.means()[(c, observed[j])]);
    let covs = (0..2)
        .map(|c| {
            let s = g.covariance_matrix(c);
            Mat::from_fn(observed.len(), observed.len(), |i, j| {
                s[(observed[i], observed[j])]
            })
        })
        .collect();
    Mixture::new(m.weights().to_vec(), Gaussian::full(means, covs).unwrap()).unwrap()
}

#[test]
fn densities_are_the_marginal_mixtures_and_complete_rows_are_unchanged() {
    let nan = f64::NAN;
    let rows = [
        [0.5, 0.2, -0.7],
        [nan, 0.2, -0.7],
        [2.0, nan, nan],
        [nan, -1.0, nan],
        [1.0, 4.0, nan],
        [9.0, -9.0, 9.0],
    ];
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let data = Dataset::with_missing(&flat, rows.len(), 3).unwrap();
    for structure in [
        Covariance::Full,
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::Tied,
    ] {
        let m = model(structure);
        let lp = m.log_prob_incomplete(&data).unwrap();
        // The complete rows (0 and 5) through log_prob, bit for bit.
        let (complete, at) = data.complete_rows().unwrap();
        assert_eq!(at, &[0, 5]);
        for (a, v) in at.iter().zip(m.log_prob(&complete).unwrap()) {
            assert_eq!(lp[*a].to_bits(), v.to_bits());
        }
        let r = m.predict_proba_incomplete(&data).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let observed: Vec<usize> = (0..3).filter(|&j| !row[j].is_nan()).collect();
            let x: Vec<f64> = observed.iter().map(|&j| row[j]).collect();
            let x = Dataset::from_row_major(&x, 1, observed.len()).unwrap();
            let want = marginal(&m, &observed).log_prob(&x).unwrap()[0];
            assert!(
                (lp[i] - want).abs() < 1e-12 * want.abs().max(1.0),
                "{structure:?} row {i}"
            );
            let want_r = marginal(&m, &observed).responsibilities(&x).unwrap();
            for c in 0..2 {
                assert!((r[(i, c)] - want_r[(0, c)]).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn imputation_is_the_conditional_mean_and_draws_scatter_around_it() {
    let nan = f64::NAN;
    let m = model(Covariance::Full);
    let data = Dataset::with_missing(&[0.5, nan, -0.7, nan, nan, 0.1], 2, 3).unwrap();
    let filled = m.impute(&data).unwrap();
    // Observed cells are kept.
    assert_eq!(filled.view()[(0, 0)], 0.5);
    assert_eq!(filled.view()[(1, 2)], 0.1);
    // Row 0: Σₖ P(k | x_o) (μ_m + Σ_mo Σ_oo⁻¹ (x_o − μ_o)), by hand.
    let r = m.predict_proba_incomplete(&data).unwrap();
    let g = m.components();
    let mut want = 0.0;
    for c in 0..2 {
        let s = g.covariance_matrix(c);
        let mu = g.mean(c);
        let (a, b, d) = (s[(0, 0)], s[(0, 2)], s[(2, 2)]);
        let det = a * d - b * b;
        let (y0, y2) = (0.5 - mu[0], -0.7 - mu[2]);
        let (z0, z2) = ((d * y0 - b * y2) / det, (-b * y0 + a * y2) / det);
        want += r[(0, c)] * (mu[1] + s[(1, 0)] * z0 + s[(1, 2)] * z2);
    }
    assert!((filled.view()[(0, 1)] - want).abs() < 1e-12);
    let draws = m.impute_draws(&data, 4000, 7).unwrap();
    assert_eq!(draws, m.impute_draws(&data, 4000, 7).unwrap());
    let mean: f64 = draws.iter().map(|d| d.view()[(0, 1)]).sum::<f64>() / 4000.0;
    assert!((mean - want).abs() < 0.05, "{mean} vs {want}");
    assert!(draws.iter().all(|d| d.view()[(0, 0)] == 0.5));
}

#[test]
fn other_dimensions_and_noise_are_refused() {
    let m = model(Covariance::Full);
    let two = Dataset::with_missing(&[1.0, f64::NAN], 1, 2).unwrap();
    assert!(matches!(
        m.log_prob_incomplete(&two),
        Err(ModelError::Data(_))
    ));
    let noisy = Mixture::with_noise(
        vec![0.27, 0.63],
        0.1,
        m.components().clone(),
        mixtures_dist::UniformNoise::new(vec![-10.0; 3], vec![10.0; 3]).unwrap(),
    )
    .unwrap();
    let data = Dataset::with_missing(&[1.0, f64::NAN, 0.0], 1, 3).unwrap();
    assert!(matches!(
        noisy.impute(&data),
        Err(ModelError::Unsupported { .. })
    ));
}

#[test]
fn the_tail_score_is_a_chi_square_tail_whatever_the_observed_features() {
    use mixtures_core::chi2::chi2_ln_sf;
    // One standard Gaussian in 3 dimensions: the score is −ln Pr(χ²(|o|) ≥ |x_o|²).
    let g = Gaussian::spherical(faer::mat![[0.0, 0.0, 0.0]], vec![1.0]).unwrap();
    let m = Mixture::new(vec![1.0_f64], g).unwrap();
    let nan = f64::NAN;
    let rows = [
        [1.0, 2.0, 0.5],
        [1.0, nan, 0.5],
        [nan, nan, 3.0],
        [40.0, nan, nan],
    ];
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let data = Dataset::with_missing(&flat, 4, 3).unwrap();
    let s = m.anomaly_scores_incomplete(&data).unwrap();
    for (i, row) in rows.iter().enumerate() {
        let obs: Vec<f64> = row.iter().copied().filter(|v| !v.is_nan()).collect();
        let q: f64 = obs.iter().map(|v| v * v).sum();
        let want = -chi2_ln_sf(q, obs.len() as f64);
        assert!(
            (s[i] - want).abs() < 1e-10 * want.max(1.0),
            "row {i}: {} vs {want}",
            s[i]
        );
    }
    // Far out: finite (the tail probability itself underflows).
    assert!(s[3].is_finite() && s[3] > 700.0);
}

#[test]
fn laplace_rows_with_missing_features_use_the_observed_features_alone() {
    use mixtures_dist::Laplace;
    let loc = faer::mat![[0.0, 1.0, -1.0], [3.0, -2.0, 0.5]];
    let scale = faer::mat![[1.0, 0.5, 2.0], [0.7, 1.5, 1.0]];
    let m = Mixture::new(
        vec![0.4, 0.6],
        Laplace::per_dimension(loc.clone(), scale.clone()).unwrap(),
    )
    .unwrap();
    let nan = f64::NAN;
    let data =
        Dataset::with_missing(&[0.5, nan, 2.0, nan, -1.0, nan, 1.0, 2.0, 3.0], 3, 3).unwrap();
    let lp = m.log_prob_incomplete(&data).unwrap();
    let sub = |cols: &[usize], x: &[f64]| {
        let l = Mat::from_fn(2, cols.len(), |c, j| loc[(c, cols[j])]);
        let s = Mat::from_fn(2, cols.len(), |c, j| scale[(c, cols[j])]);
        let mm = Mixture::new(vec![0.4, 0.6], Laplace::per_dimension(l, s).unwrap()).unwrap();
        mm.log_prob(&Dataset::from_row_major(x, 1, cols.len()).unwrap())
            .unwrap()[0]
    };
    assert!((lp[0] - sub(&[0, 2], &[0.5, 2.0])).abs() < 1e-12);
    assert!((lp[1] - sub(&[1], &[-1.0])).abs() < 1e-12);
    let full = m
        .log_prob(&Dataset::from_row_major(&[1.0, 2.0, 3.0], 1, 3).unwrap())
        .unwrap()[0];
    assert_eq!(lp[2].to_bits(), full.to_bits());
    let filled = m.impute(&data).unwrap();
    let r = m.predict_proba_incomplete(&data).unwrap();
    let want = r[(0, 0)] * 1.0 + r[(0, 1)] * -2.0;
    assert!((filled.view()[(0, 1)] - want).abs() < 1e-12);
}

#[test]
fn many_missing_features_take_the_blocked_path_and_agree() {
    // 30 features, rows with 26 missing (above the blocked threshold) and
    // with 3 missing (the scalar path): both against the marginal built by
    // hand, and the imputation against Σ_mo Σ_oo⁻¹ (x_o − μ_o) by hand.
    let d = 30;
    let cov = |s: f64| {
        Mat::from_fn(d, d, |i, j| {
            let base = (-((i as f64 - j as f64).abs()) / 4.0).exp();
            if i == j { base + s } else { 0.8 * base }
        })
    };
    let means = Mat::from_fn(2, d, |c, j| (c as f64) * 2.0 + 0.1 * j as f64);
    let g = Gaussian::full(means, vec![cov(0.5), cov(1.5)]).unwrap();
    let m = Mixture::new(vec![0.35, 0.65], g).unwrap();
    let nan = f64::NAN;
    let mut flat = Vec::new();
    let keep: [&[usize]; 2] = [
        &[0, 7, 13, 29],
        &[
            0, 1, 2, 3, 5, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
            28, 29, 6, 4,
        ],
    ];
    for obs in keep {
        for j in 0..d {
            flat.push(if obs.contains(&j) {
                0.3 * j as f64 - 1.0
            } else {
                nan
            });
        }
    }
    let data = Dataset::with_missing(&flat, 2, d).unwrap();
    let lp = m.log_prob_incomplete(&data).unwrap();
    let filled = m.impute(&data).unwrap();
    let r = m.predict_proba_incomplete(&data).unwrap();
    for (i, obs) in keep.iter().enumerate() {
        let mut observed: Vec<usize> = obs.to_vec();
        observed.sort_unstable();
        let x: Vec<f64> = observed.iter().map(|&j| 0.3 * j as f64 - 1.0).collect();
        let xd = Dataset::from_row_major(&x, 1, observed.len()).unwrap();
        let want = marginal_of(&m, &observed).log_prob(&xd).unwrap()[0];
        assert!(
            (lp[i] - want).abs() < 1e-10 * want.abs().max(1.0),
            "row {i}: {} vs {want}",
            lp[i]
        );
        // E[x_j | x_o] for a missing j, by hand through Σ_oo's Cholesky.
        let j = (0..d).find(|j| !observed.contains(j)).unwrap();
        let mut want_j = 0.0;
        for c in 0..2 {
            let s = m.components().covariance_matrix(c);
            let mu = m.components().mean(c);
            let soo = Mat::from_fn(observed.len(), observed.len(), |a, b| {
                s[(observed[a], observed[b])]
            });
            let y = Mat::from_fn(observed.len(), 1, |a, _| x[a] - mu[observed[a]]);
            let z = faer::linalg::solvers::Solve::solve(&soo.llt(faer::Side::Lower).unwrap(), &y);
            let v: f64 = (0..observed.len())
                .map(|a| s[(j, observed[a])] * z[(a, 0)])
                .sum();
            want_j += r[(i, c)] * (mu[j] + v);
        }
        assert!((filled.view()[(i, j)] - want_j).abs() < 1e-9 * want_j.abs().max(1.0));
    }
}

fn marginal_of(m: &GaussianMixtureModel<f64>, observed: &[usize]) -> GaussianMixtureModel<f64> {
    let g = m.components();
    let k = m.n_components();
    let means = Mat::from_fn(k, observed.len(), |c, j| g.means()[(c, observed[j])]);
    let covs = (0..k)
        .map(|c| {
            let s = g.covariance_matrix(c);
            Mat::from_fn(observed.len(), observed.len(), |i, j| {
                s[(observed[i], observed[j])]
            })
        })
        .collect();
    Mixture::new(m.weights().to_vec(), Gaussian::full(means, covs).unwrap()).unwrap()
}

#[test]
fn the_laplace_tail_score_is_a_gamma_tail_whatever_the_observed_features() {
    use mixtures_dist::{AnyMixture, Laplace};
    // One standard Laplace in 3 dimensions: s = Σ|x_o| follows Gamma(|o|, 1),
    // whose upper tail is e^{-s} for one feature, e^{-s} (1 + s) for two and
    // e^{-s} (1 + s + s²/2) for three.
    let m = Mixture::new(
        vec![1.0_f64],
        Laplace::per_dimension(faer::mat![[0.0, 0.0, 0.0]], faer::mat![[1.0, 1.0, 1.0]]).unwrap(),
    )
    .unwrap();
    let nan = f64::NAN;
    let rows = [
        [1.5, nan, nan],
        [nan, -2.0, 0.5],
        [1.0, -1.0, 2.0],
        [nan, 900.0, nan],
    ];
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let data = Dataset::with_missing(&flat, 4, 3).unwrap();
    let any = AnyMixture::from(m.clone());
    let s = any.anomaly_scores_incomplete(&data).unwrap();
    assert_eq!(s, m.anomaly_scores_incomplete(&data).unwrap());
    let want = [
        1.5,
        2.5 - (1.0f64 + 2.5).ln(),
        4.0 - (1.0f64 + 4.0 + 8.0).ln(),
        900.0,
    ];
    for (i, w) in want.iter().enumerate() {
        assert!(
            (s[i] - w).abs() < 1e-10 * w.max(1.0),
            "row {i}: {} vs {w}",
            s[i]
        );
    }
    // Two components: P = Σₖ wₖ Pr_k(wₖ pₖ(Y) ≤ p(x)). In one dimension a
    // Laplace component's density is below level p/(wₖ cₖ) of its peak
    // cₖ = 1/(2bₖ) with probability p/(wₖ cₖ), so P = p Σₖ 2bₖ while p(x) is
    // below every weighted peak (here p(3) ≈ 0.040 < 0.125).
    let two = Mixture::new(
        vec![0.5_f64, 0.5],
        Laplace::per_dimension(faer::mat![[0.0], [0.0]], faer::mat![[1.0], [2.0]]).unwrap(),
    )
    .unwrap();
    let one = Dataset::with_missing(&[3.0], 1, 1).unwrap();
    let density = 0.5 * 0.5 * (-3.0f64).exp() + 0.5 * 0.25 * (-1.5f64).exp();
    let p = density * (2.0 * 1.0 + 2.0 * 2.0);
    let got = two.anomaly_scores_incomplete(&one).unwrap()[0];
    assert!((got + p.ln()).abs() < 1e-12, "{got} vs {}", -p.ln());
    // Near the centre the density is above the light, broad component's
    // peak: all of that component's mass lies lower, P ≥ its weight.
    let centre = Dataset::with_missing(&[0.1], 1, 1).unwrap();
    let got = two.anomaly_scores_incomplete(&centre).unwrap()[0];
    assert!(got < -(0.5f64).ln(), "{got}");
    // The dispatch agrees with the family's own methods.
    assert_eq!(any.predict_incomplete(&data).unwrap(), vec![0usize; 4]);
    assert_eq!(
        any.log_prob_incomplete(&data).unwrap(),
        m.log_prob_incomplete(&data).unwrap()
    );
}

#[test]
fn marginals_keep_the_family_and_structure_and_refuse_bad_feature_lists() {
    use mixtures_dist::{AnyMixture, Marginal};
    let x = Dataset::from_row_major(&[0.5, -1.0, 2.0, 1.5], 2, 2).unwrap();
    for s in [
        Covariance::Full,
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::Tied,
    ] {
        let m = model(s);
        let sub = m.marginal(&[2, 0]).unwrap();
        assert_eq!(sub.components().covariance_type(), s);
        let want = marginal(&m, &[2, 0]).log_prob(&x).unwrap();
        let got = sub.log_prob(&x).unwrap();
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-12, "{s:?}: {a} vs {b}");
        }
        // Through AnyMixture, with the feature names carried along.
        let named = AnyMixture::from(m.clone())
            .with_feature_names(vec!["a".into(), "b".into(), "c".into()])
            .unwrap();
        let sub = named.marginal(&[2, 0]).unwrap();
        assert_eq!(sub.feature_names().unwrap(), ["c", "a"]);
        for bad in [&[][..], &[3][..], &[1, 1][..]] {
            assert!(matches!(
                m.marginal(bad),
                Err(ModelError::InvalidParameter { .. })
            ));
        }
    }
}

#[test]
fn f32_keeps_its_digits_when_observed_features_are_strongly_correlated_with_missing_ones() {
    // Correlation 0.995 between features 0 and 1, 0.9 with feature 2: the
    // observed features' distance is δᵀΛδ − ‖z‖², a difference of two large
    // terms when the missing feature is nearly determined by the others.
    let cov = faer::mat![[1.0, 0.995, 0.9], [0.995, 1.0, 0.9], [0.9, 0.9, 1.0]];
    let mean = faer::mat![[0.5, -0.25, 1.0]];
    let m64 = Mixture::new(
        vec![1.0f64],
        Gaussian::full(mean.clone(), vec![cov.clone()]).unwrap(),
    )
    .unwrap();
    let m32 = Mixture::new(
        vec![1.0f32],
        Gaussian::full(
            Mat::from_fn(1, 3, |i, j| mean[(i, j)] as f32),
            vec![Mat::from_fn(3, 3, |i, j| cov[(i, j)] as f32)],
        )
        .unwrap(),
    )
    .unwrap();
    let nan = f64::NAN;
    let rows = [
        [0.6, nan, 1.1],
        [nan, 3.0, 1.0],
        [2.0, nan, nan],
        [0.4, -0.3, nan],
        [nan, nan, -2.0],
        [1.5, 1.4, nan],
    ];
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let d64 = Dataset::with_missing(&flat, rows.len(), 3).unwrap();
    let flat32: Vec<f32> = flat.iter().map(|&v| v as f32).collect();
    let d32 = Dataset::with_missing(&flat32, rows.len(), 3).unwrap();
    let (a, b) = (
        m64.log_prob_incomplete(&d64).unwrap(),
        m32.log_prob_incomplete(&d32).unwrap(),
    );
    let (ta, tb) = (
        m64.anomaly_scores_incomplete(&d64).unwrap(),
        m32.anomaly_scores_incomplete(&d32).unwrap(),
    );
    for i in 0..rows.len() {
        let tol = 1e-4 * a[i].abs().max(1.0);
        assert!(
            (a[i] - f64::from(b[i])).abs() < tol,
            "row {i}: {} vs {}",
            a[i],
            b[i]
        );
        let tol = 1e-4 * ta[i].abs().max(1.0);
        assert!(
            (ta[i] - f64::from(tb[i])).abs() < tol,
            "row {i}: {} vs {}",
            ta[i],
            tb[i]
        );
    }
}
