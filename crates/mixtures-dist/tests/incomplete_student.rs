//! Student-t mixtures on rows with missing features: densities and
//! responsibilities against the marginal t mixture built by hand, the
//! complete-row path bit for bit, the tail score against closed forms and
//! its uniformity on sampled data, the imputation against the conditional
//! mean by hand, the conditional draws' moments; Laplace draws; the dispatch
//! through `AnyMixture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::Mat;
use mixtures_core::Dataset;
use mixtures_core::missing::IncompleteDataset;
use mixtures_dist::{
    AnyMixture, Covariances, Laplace, Mixture, ModelError, StudentT, StudentTMixtureModel,
};
use rand::{Rng, SeedableRng};

const NAN: f64 = f64::NAN;

fn full_scales() -> Vec<Mat<f64>> {
    vec![
        faer::mat![[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]],
        faer::mat![[1.0, -0.4, 0.1], [-0.4, 0.8, 0.0], [0.1, 0.0, 1.5]],
    ]
}

fn model(diag: bool) -> StudentTMixtureModel<f64> {
    let means = faer::mat![[0.0, 1.0, -1.0], [3.0, -2.0, 0.5]];
    let scales = if diag {
        Covariances::Diag(faer::mat![[2.0, 1.0, 0.5], [1.0, 0.8, 1.5]])
    } else {
        Covariances::Full(full_scales())
    };
    let t = StudentT::new(means, scales, vec![3.0, 7.5]).unwrap();
    Mixture::new(vec![0.3, 0.7], t).unwrap()
}

/// The mixture of the observed features' marginal t's, built by hand: the
/// same `ν`, the locations and scale blocks of the observed features.
fn marginal(m: &StudentTMixtureModel<f64>, observed: &[usize]) -> StudentTMixtureModel<f64> {
    let t = m.components();
    let k = m.n_components();
    let means = Mat::from_fn(k, observed.len(), |c, j| t.means()[(c, observed[j])]);
    let scales = (0..k)
        .map(|c| {
            let s = t.scale().covariance_matrix(c);
            Mat::from_fn(observed.len(), observed.len(), |i, j| {
                s[(observed[i], observed[j])]
            })
        })
        .collect();
    let marg = StudentT::full(means, scales, t.dof().to_vec()).unwrap();
    Mixture::new(m.weights().to_vec(), marg).unwrap()
}

fn dataset(rows: &[[f64; 3]]) -> IncompleteDataset<f64> {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    Dataset::with_missing(&flat, rows.len(), 3).unwrap()
}

#[test]
fn densities_are_the_marginal_t_mixtures_and_complete_rows_are_unchanged() {
    let rows = [
        [0.5, 0.2, -0.7],
        [NAN, 0.2, -0.7],
        [2.0, NAN, NAN],
        [NAN, -1.0, NAN],
        [1.0, 4.0, NAN],
        [9.0, -9.0, 9.0],
        [NAN, 300.0, -250.0],
    ];
    let data = dataset(&rows);
    for diag in [false, true] {
        let m = model(diag);
        let lp = m.log_prob_incomplete(&data).unwrap();
        let r = m.predict_proba_incomplete(&data).unwrap();
        // The complete rows (0 and 5) through the complete path, bit for bit.
        let (complete, at) = data.complete_rows().unwrap();
        assert_eq!(at, &[0, 5]);
        let (full_lp, full_r) = m.log_prob_and_responsibilities(&complete).unwrap();
        for (a, &i) in at.iter().enumerate() {
            assert_eq!(lp[i].to_bits(), full_lp[a].to_bits());
            for c in 0..2 {
                assert_eq!(r[(i, c)].to_bits(), full_r[(a, c)].to_bits());
            }
        }
        assert_eq!(
            m.log_prob(&complete).unwrap(),
            vec![lp[0], lp[5]],
            "log_prob itself"
        );
        for (i, row) in rows.iter().enumerate() {
            let observed: Vec<usize> = (0..3).filter(|&j| !row[j].is_nan()).collect();
            let x: Vec<f64> = observed.iter().map(|&j| row[j]).collect();
            let x = Dataset::from_row_major(&x, 1, observed.len()).unwrap();
            let hand = marginal(&m, &observed);
            let want = hand.log_prob(&x).unwrap()[0];
            assert!(
                (lp[i] - want).abs() < 1e-12 * want.abs().max(1.0),
                "diag {diag} row {i}: {} vs {want}",
                lp[i]
            );
            let want_r = hand.responsibilities(&x).unwrap();
            for c in 0..2 {
                assert!(
                    (r[(i, c)] - want_r[(0, c)]).abs() < 1e-12,
                    "diag {diag} row {i}"
                );
            }
        }
        // Heavy tails: the far row keeps a finite density, far above a
        // Gaussian's with the same scales.
        assert!(lp[6].is_finite() && lp[6] > -40.0, "{}", lp[6]);
    }
}

#[test]
fn f32_agrees_with_f64() {
    let m = model(false);
    let t = m.components();
    let m32: StudentTMixtureModel<f32> = Mixture::new(
        vec![0.3f32, 0.7],
        StudentT::full(
            Mat::from_fn(2, 3, |c, j| t.means()[(c, j)] as f32),
            full_scales()
                .iter()
                .map(|s| Mat::from_fn(3, 3, |i, j| s[(i, j)] as f32))
                .collect(),
            vec![3.0, 7.5],
        )
        .unwrap(),
    )
    .unwrap();
    let rows = [[0.5, NAN, -0.7], [NAN, NAN, 2.0], [1.0, 2.0, 3.0]];
    let flat: Vec<f32> = rows.iter().flatten().map(|&v| v as f32).collect();
    let d32 = Dataset::with_missing(&flat, 3, 3).unwrap();
    let d64 = dataset(&rows);
    let (a, b) = (
        m32.log_prob_incomplete(&d32).unwrap(),
        m.log_prob_incomplete(&d64).unwrap(),
    );
    let (sa, sb) = (
        m32.anomaly_scores_incomplete(&d32).unwrap(),
        m.anomaly_scores_incomplete(&d64).unwrap(),
    );
    for i in 0..3 {
        assert!((f64::from(a[i]) - b[i]).abs() < 1e-4 * b[i].abs().max(1.0));
        assert!((f64::from(sa[i]) - sb[i]).abs() < 1e-4 * sb[i].abs().max(1.0));
    }
}

#[test]
fn the_tail_score_is_the_f_tail_of_the_observed_features() {
    // One component, identity scale, ν = 2 in 3 dimensions: δ² = |x_o|², and
    // Pr(δ² ≥ q) = I_{2/(2+q)}(1, p/2) = 1 − (q / (2 + q))^{p/2}.
    let t = StudentT::new(
        faer::mat![[0.0, 0.0, 0.0]],
        Covariances::Spherical(vec![1.0]),
        vec![2.0],
    )
    .unwrap();
    let m = Mixture::new(vec![1.0_f64], t).unwrap();
    let rows = [
        [1.0, 2.0, 0.5],
        [1.0, NAN, 0.5],
        [NAN, NAN, 3.0],
        [0.01, NAN, NAN],
        [1e120, NAN, 1e120],
    ];
    let data = dataset(&rows);
    let s = m.anomaly_scores_incomplete(&data).unwrap();
    for (i, row) in rows.iter().enumerate().take(4) {
        let obs: Vec<f64> = row.iter().copied().filter(|v| !v.is_nan()).collect();
        let q: f64 = obs.iter().map(|v| v * v).sum();
        let p = obs.len() as f64;
        let want = -(-(q / (2.0 + q)).powf(0.5 * p)).ln_1p();
        assert!(
            (s[i] - want).abs() < 1e-10 * want.max(1e-3),
            "row {i}: {} vs {want}",
            s[i]
        );
    }
    // Far out: the tail 1 − (q/(2+q)) ≈ 2/q underflows no float, but q
    // itself is 2e240: −ln T ≈ ln(q/2) = 552.6.
    let want = (1e240f64).ln();
    assert!((s[4] - want).abs() < 1e-9 * want, "{} vs {want}", s[4]);

    // ν = 1, one observed feature: the Cauchy tail 2 (1/2 − atan|x|/π), in a
    // 2-dimensional Cauchy with one cell missing (its marginal is a
    // standard Cauchy).
    let cauchy = StudentT::full(
        faer::mat![[0.0, 0.0]],
        vec![faer::mat![[1.0, 0.6], [0.6, 1.0]]],
        vec![1.0],
    )
    .unwrap();
    let m = Mixture::new(vec![1.0_f64], cauchy).unwrap();
    let xs = [0.3, -2.0, 50.0, -1e6, 1e150];
    let flat: Vec<f64> = xs.iter().flat_map(|&x| [NAN, x]).collect();
    let data = Dataset::with_missing(&flat, xs.len(), 2).unwrap();
    let s = m.anomaly_scores_incomplete(&data).unwrap();
    for (i, &x) in xs.iter().enumerate() {
        // 1/2 − atan|x|/π = atan(1/|x|)/π.
        let want = -(2.0 * (1.0 / x.abs()).atan() / core::f64::consts::PI).ln();
        assert!(
            (s[i] - want).abs() < 1e-12 * want.max(1e-2),
            "x = {x}: {} vs {want}",
            s[i]
        );
    }

    // Two components: P = Σₖ wₖ Pr_k(wₖ tₖ(Y) ≤ p(x)). A one-dimensional t
    // with scale σ has peak cₖ = Γ((ν+1)/2) / (Γ(ν/2) √(νπ) σ) and falls
    // below e^{−ℓ} of it beyond δ² = ν (e^{2ℓ/(ν+1)} − 1).
    let two = StudentT::new(
        faer::mat![[0.0], [0.0]],
        Covariances::Spherical(vec![1.0, 4.0]),
        vec![1.0, 2.0],
    )
    .unwrap();
    let two = Mixture::new(vec![0.5_f64, 0.5], two).unwrap();
    let one = Dataset::with_missing(&[3.0], 1, 1).unwrap();
    let pi = core::f64::consts::PI;
    // Component 0: Cauchy, peak 1/π; component 1: ν = 2, σ = 2, peak 1/(4√2).
    let (c0, c1) = (1.0 / pi, 1.0 / (4.0 * 2f64.sqrt()));
    let pdf0 = c0 / (1.0 + 9.0);
    let pdf1 = c1 * (1.0 + 2.25 / 2.0f64).powf(-1.5);
    let density = 0.5 * pdf0 + 0.5 * pdf1;
    let (l0, l1) = ((0.5 * c0 / density).ln(), (0.5 * c1 / density).ln());
    assert!(l0 > 0.0 && l1 > 0.0);
    let q0 = l0.exp() - 1.0;
    let q1 = 2.0 * ((2.0 * l1 / 3.0).exp() - 1.0);
    // Two-sided tails: Cauchy 2 atan(1/t)/π, ν = 2: 1 − t/√(2 + t²).
    let t0 = 2.0 * (1.0 / q0.sqrt()).atan() / pi;
    let t1 = 1.0 - q1.sqrt() / (2.0 + q1).sqrt();
    let want = -(0.5 * t0 + 0.5 * t1).ln();
    let got = two.anomaly_scores_incomplete(&one).unwrap()[0];
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

/// The Kolmogorov–Smirnov distance of `u` from the uniform distribution.
fn ks_uniform(mut u: Vec<f64>) -> f64 {
    u.sort_by(f64::total_cmp);
    let n = u.len() as f64;
    u.iter()
        .enumerate()
        .map(|(i, &v)| (v - i as f64 / n).abs().max(((i + 1) as f64 / n - v).abs()))
        .fold(0.0, f64::max)
}

#[test]
fn the_tail_probability_is_uniform_on_sampled_data_with_cells_removed() {
    // Two well-separated t components (ν = 3 and 5) in 4 dimensions; about
    // half the cells removed at random, every row keeping at least one.
    let s0 = faer::mat![
        [1.0, 0.5, 0.2, 0.0],
        [0.5, 1.5, 0.3, 0.1],
        [0.2, 0.3, 1.0, -0.2],
        [0.0, 0.1, -0.2, 0.8]
    ];
    let s1 = Mat::from_fn(4, 4, |i, j| if i == j { 0.5 } else { 0.1 });
    let t = StudentT::full(
        faer::mat![[0.0, 0.0, 0.0, 0.0], [40.0, -40.0, 40.0, -40.0]],
        vec![s0, s1],
        vec![3.0, 5.0],
    )
    .unwrap();
    let m = Mixture::new(vec![0.4_f64, 0.6], t).unwrap();
    let n = 6000;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let (x, _) = m.sample(n, &mut rng);
    let mut flat = Vec::with_capacity(n * 4);
    let mut n_obs = Vec::with_capacity(n);
    for i in 0..n {
        let keep: Vec<bool> = (0..4).map(|_| rng.random::<f64>() < 0.5).collect();
        let keep_first = !keep.iter().any(|&k| k);
        let mut count = 0;
        for j in 0..4 {
            let kept = keep[j] || (keep_first && j == 0);
            count += usize::from(kept);
            flat.push(if kept { x[(i, j)] } else { NAN });
        }
        n_obs.push(count);
    }
    let data = Dataset::with_missing(&flat, n, 4).unwrap();
    let s = m.anomaly_scores_incomplete(&data).unwrap();
    let u: Vec<f64> = s.iter().map(|v| (-v).exp()).collect();
    // 1.63/√n is the 1% critical value; the components' overlap is nil.
    let bound = 1.63 / (n as f64).sqrt();
    let d = ks_uniform(u.clone());
    assert!(d < bound, "KS {d} vs {bound}");
    // Within each number of observed features as well (looser: fewer rows).
    for p in 1..=4 {
        let group: Vec<f64> = (0..n).filter(|&i| n_obs[i] == p).map(|i| u[i]).collect();
        let b = 1.95 / (group.len() as f64).sqrt();
        let d = ks_uniform(group.clone());
        assert!(d < b, "|o| = {p}: KS {d} vs {b} ({} rows)", group.len());
    }
    // The test can fail: the Gaussian chi-square tail of the same scale
    // matrices is far from uniform on t data.
    let g = Mixture::new(m.weights().to_vec(), m.components().scale().clone()).unwrap();
    let gs = g.anomaly_scores_incomplete(&data).unwrap();
    let d = ks_uniform(gs.iter().map(|v| (-v).exp()).collect());
    assert!(d > 3.0 * bound, "the Gaussian tail: KS {d}");
}

#[test]
fn imputation_is_the_responsibility_weighted_conditional_mean() {
    let m = model(false);
    let rows = [[0.5, NAN, -0.7], [NAN, NAN, 0.1], [1.0, 2.0, 3.0]];
    let data = dataset(&rows);
    let filled = m.impute(&data).unwrap();
    // Observed cells are kept, complete rows untouched.
    assert_eq!(filled.view()[(0, 0)], 0.5);
    assert_eq!(filled.view()[(1, 2)], 0.1);
    for (j, &v) in rows[2].iter().enumerate() {
        assert_eq!(filled.view()[(2, j)], v);
    }
    // Row 0: Σₖ P(k | x_o) (μ_m + Σ_mo Σ_oo⁻¹ (x_o − μ_o)), the
    // responsibilities of the marginal t mixture built by hand.
    let hand = marginal(&m, &[0, 2]);
    let r = hand
        .responsibilities(&Dataset::from_row_major(&[0.5, -0.7], 1, 2).unwrap())
        .unwrap();
    let t = m.components();
    let mut want = 0.0;
    for (c, s) in full_scales().iter().enumerate() {
        let mu = t.scale().mean(c);
        let (a, b, d) = (s[(0, 0)], s[(0, 2)], s[(2, 2)]);
        let det = a * d - b * b;
        let (y0, y2) = (0.5 - mu[0], -0.7 - mu[2]);
        let (z0, z2) = ((d * y0 - b * y2) / det, (-b * y0 + a * y2) / det);
        want += r[(0, c)] * (mu[1] + s[(1, 0)] * z0 + s[(1, 2)] * z2);
    }
    assert!((filled.view()[(0, 1)] - want).abs() < 1e-12);
    // The responsibilities are the t's, not the Gaussian's of the scales.
    let g = Mixture::new(m.weights().to_vec(), t.scale().clone()).unwrap();
    let gr = g.predict_proba_incomplete(&data).unwrap();
    assert!((gr[(0, 0)] - r[(0, 0)]).abs() > 1e-3);
    // Row 1 (one observed feature): x_j = μ_j + Σ_j2 / Σ_22 (x_2 − μ_2).
    let hand = marginal(&m, &[2]);
    let r = hand
        .responsibilities(&Dataset::from_row_major(&[0.1], 1, 1).unwrap())
        .unwrap();
    for j in 0..2 {
        let want: f64 = (0..2)
            .map(|c| {
                let s = &full_scales()[c];
                let mu = t.scale().mean(c);
                r[(0, c)] * (mu[j] + s[(j, 2)] / s[(2, 2)] * (0.1 - mu[2]))
            })
            .sum();
        assert!((filled.view()[(1, j)] - want).abs() < 1e-12, "{j}");
    }
}

#[test]
fn draws_follow_the_conditional_t() {
    // One component, ν = 6: x_1 | x_0, x_2 is a t with ν + 2 = 8 degrees of
    // freedom, location μ_1 + Σ_1o Σ_oo⁻¹ (x_o − μ_o) and scale
    // (ν + δ²)/(ν + 2) · C, so variance (ν + δ²)/(ν + 2 − 2) · C with
    // C = Σ_11 − Σ_1o Σ_oo⁻¹ Σ_o1. A far row (δ² = 20 or so) has a
    // conditional variance over four times the Gaussian's C.
    let s = full_scales()[0].clone();
    let mu = [0.0, 1.0, -1.0];
    let nu = 6.0;
    let t = StudentT::full(faer::mat![[0.0, 1.0, -1.0]], vec![s.clone()], vec![nu]).unwrap();
    let m = Mixture::new(vec![1.0_f64], t).unwrap();
    let xo = [6.0, -3.0];
    let data = Dataset::with_missing(&[xo[0], NAN, xo[1]], 1, 3).unwrap();
    let (a, b, d) = (s[(0, 0)], s[(0, 2)], s[(2, 2)]);
    let det = a * d - b * b;
    let (y0, y2) = (xo[0] - mu[0], xo[1] - mu[2]);
    let (z0, z2) = ((d * y0 - b * y2) / det, (-b * y0 + a * y2) / det);
    let mean = mu[1] + s[(1, 0)] * z0 + s[(1, 2)] * z2;
    let delta2 = y0 * z0 + y2 * z2;
    // Σ_1o Σ_oo⁻¹ Σ_o1.
    let (w0, w2) = (
        (d * s[(1, 0)] - b * s[(1, 2)]) / det,
        (-b * s[(1, 0)] + a * s[(1, 2)]) / det,
    );
    let c = s[(1, 1)] - (s[(1, 0)] * w0 + s[(1, 2)] * w2);
    let var = (nu + delta2) / nu * c;
    assert!(delta2 > 15.0, "{delta2}");
    let n = 20_000;
    let draws = m.impute_draws(&data, n, 3).unwrap();
    assert_eq!(draws.len(), n);
    assert_eq!(draws[..10], m.impute_draws(&data, 10, 3).unwrap()[..]);
    assert_ne!(draws[..10], m.impute_draws(&data, 10, 4).unwrap()[..]);
    assert!(draws.iter().all(|x| x.view()[(0, 0)] == 6.0));
    let v: Vec<f64> = draws.iter().map(|x| x.view()[(0, 1)]).collect();
    let got_mean = v.iter().sum::<f64>() / n as f64;
    let got_var = v.iter().map(|x| (x - got_mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    assert!(
        (got_mean - mean).abs() < 5.0 * se,
        "mean {got_mean} vs {mean}"
    );
    assert!(
        (got_var / var - 1.0).abs() < 0.1,
        "variance {got_var} vs {var} (Gaussian C = {c})"
    );
    // The draws' mean is the imputation's value.
    let filled = m.impute(&data).unwrap();
    assert!((filled.view()[(0, 1)] - mean).abs() < 1e-12);

    // Two components: the draws' mean is the responsibility-weighted mean.
    let m = model(false);
    let data = dataset(&[[0.5, NAN, -0.7], [NAN, NAN, 0.1], [1.0, 2.0, 3.0]]);
    let want = m.impute(&data).unwrap();
    let draws = m.impute_draws(&data, 20_000, 7).unwrap();
    for (i, j) in [(0, 1), (1, 0), (1, 1)] {
        let mean = draws.iter().map(|x| x.view()[(i, j)]).sum::<f64>() / 20_000.0;
        assert!(
            (mean - want.view()[(i, j)]).abs() < 0.06,
            "({i}, {j}): {mean} vs {}",
            want.view()[(i, j)]
        );
    }
    assert!(draws.iter().all(|x| x.view()[(2, 1)] == 2.0));
}

#[test]
fn laplace_draws_follow_each_components_own_laplace() {
    let loc = faer::mat![[0.0, 1.0, -1.0], [3.0, -2.0, 0.5]];
    let scale = faer::mat![[1.0, 0.5, 2.0], [0.7, 1.5, 1.0]];
    let m = Mixture::new(
        vec![0.4, 0.6],
        Laplace::per_dimension(loc.clone(), scale.clone()).unwrap(),
    )
    .unwrap();
    let data = dataset(&[[0.5, NAN, 2.0], [NAN, -1.0, NAN], [1.0, 2.0, 3.0]]);
    let n = 20_000;
    let draws = m.impute_draws(&data, n, 5).unwrap();
    assert_eq!(draws[..5], m.impute_draws(&data, 5, 5).unwrap()[..]);
    assert_ne!(draws[..5], m.impute_draws(&data, 5, 6).unwrap()[..]);
    let r = m.predict_proba_incomplete(&data).unwrap();
    let filled = m.impute(&data).unwrap();
    for (i, j) in [(0, 1), (1, 0), (1, 2)] {
        let v: Vec<f64> = draws.iter().map(|x| x.view()[(i, j)]).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        // The mixture of Laplaces: mean Σ rₖ μₖ, variance Σ rₖ (2 bₖ² + μₖ²) − mean².
        let want = filled.view()[(i, j)];
        let second: f64 = (0..2)
            .map(|c| r[(i, c)] * (2.0 * scale[(c, j)].powi(2) + loc[(c, j)].powi(2)))
            .sum();
        let var_want = second - want * want;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!(
            (mean - want).abs() < 5.0 * (var_want / n as f64).sqrt(),
            "({i}, {j}): {mean} vs {want}"
        );
        assert!(
            (var / var_want - 1.0).abs() < 0.08,
            "({i}, {j}): {var} vs {var_want}"
        );
    }
    assert!(
        draws
            .iter()
            .all(|x| x.view()[(0, 0)] == 0.5 && x.view()[(2, 1)] == 2.0)
    );
}

#[test]
fn any_mixture_dispatches_to_the_student_t_and_laplace_methods() {
    let m = model(false);
    let any = AnyMixture::from(m.clone());
    let data = dataset(&[[0.5, NAN, -0.7], [NAN, NAN, 0.1], [1.0, 2.0, 3.0]]);
    assert_eq!(
        any.log_prob_incomplete(&data).unwrap(),
        m.log_prob_incomplete(&data).unwrap()
    );
    assert_eq!(
        any.anomaly_scores_incomplete(&data).unwrap(),
        m.anomaly_scores_incomplete(&data).unwrap()
    );
    assert_eq!(
        any.predict_proba_incomplete(&data).unwrap(),
        m.predict_proba_incomplete(&data).unwrap()
    );
    assert_eq!(any.impute(&data).unwrap(), m.impute(&data).unwrap());
    assert_eq!(
        any.impute_draws(&data, 3, 9).unwrap(),
        m.impute_draws(&data, 3, 9).unwrap()
    );
    let labels = any.predict_incomplete(&data).unwrap();
    let r = m.predict_proba_incomplete(&data).unwrap();
    for (i, &l) in labels.iter().enumerate() {
        assert!(r[(i, l)] >= r[(i, 1 - l)]);
    }
    let lap = Mixture::new(
        vec![0.4, 0.6],
        Laplace::per_dimension(
            faer::mat![[0.0, 1.0, -1.0], [3.0, -2.0, 0.5]],
            faer::mat![[1.0, 0.5, 2.0], [0.7, 1.5, 1.0]],
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        AnyMixture::from(lap.clone())
            .impute_draws(&data, 3, 9)
            .unwrap(),
        lap.impute_draws(&data, 3, 9).unwrap()
    );
}

#[test]
fn other_dimensions_and_noise_are_refused() {
    let m = model(false);
    let two = Dataset::with_missing(&[1.0, NAN], 1, 2).unwrap();
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
    let data = dataset(&[[1.0, NAN, 0.0], [1.0, 2.0, 3.0]]);
    let complete = dataset(&[[1.0, 2.0, 3.0]]);
    for d in [&data, &complete] {
        assert!(matches!(
            noisy.log_prob_incomplete(d),
            Err(ModelError::Unsupported { .. })
        ));
        assert!(matches!(
            noisy.anomaly_scores_incomplete(d),
            Err(ModelError::Unsupported { .. })
        ));
        assert!(matches!(
            noisy.predict_proba_incomplete(d),
            Err(ModelError::Unsupported { .. })
        ));
        assert!(matches!(
            noisy.impute(d),
            Err(ModelError::Unsupported { .. })
        ));
        assert!(matches!(
            noisy.impute_draws(d, 2, 1),
            Err(ModelError::Unsupported { .. })
        ));
    }
}
