//! EM with missing values: exact against closed forms and a direct
//! maximization of the observed-data likelihood, equal to the complete-data
//! fit without missing cells, monotone, deterministic across thread counts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use mixtures_core::Dataset;
use mixtures_core::missing::IncompleteDataset;
use std::sync::{Arc, Mutex};

use mixtures_em::{Control, Covariance, FitError, GaussianMixture, Iteration};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// `n` rows of a bivariate Gaussian with correlation 0.6 (means 1 and −2).
fn bivariate(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut v = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let (a, b): (f64, f64) = (
            StandardNormal.sample(&mut rng),
            StandardNormal.sample(&mut rng),
        );
        v.push(1.0 + 2.0 * a);
        v.push(-2.0 + 0.6 * a + 0.8 * b);
    }
    v
}

/// Three well separated clusters in 4 dimensions.
fn clusters(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres = [
        [0.0, 0.0, 0.0, 0.0],
        [6.0, -4.0, 2.0, 1.0],
        [-5.0, 5.0, -3.0, 4.0],
    ];
    let mut v = Vec::with_capacity(4 * n);
    for i in 0..n {
        let c = centres[i % 3];
        let z: [f64; 4] = std::array::from_fn(|_| StandardNormal.sample(&mut rng));
        v.extend([
            c[0] + z[0],
            c[1] + 0.5 * z[0] + z[1],
            c[2] + 0.7 * z[2],
            c[3] + 0.3 * z[1] + 1.2 * z[3],
        ]);
    }
    v
}

/// An observer recording every iteration's lower bound, and the record.
fn recorder() -> (
    Arc<Mutex<Vec<f64>>>,
    impl Fn(&Iteration) -> Control + Send + Sync + 'static,
) {
    let trace = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&trace);
    (trace, move |it: &Iteration| {
        seen.lock().unwrap().push(it.lower_bound);
        Control::Continue
    })
}

/// The recorded bounds, over more than three iterations, never decrease by
/// more than `tol` relative.
fn assert_never_decreases(trace: &Mutex<Vec<f64>>, tol: f64, what: &str) {
    let lls = trace.lock().unwrap().clone();
    assert!(lls.len() > 3, "{what}: {} iterations", lls.len());
    for w in lls.windows(2) {
        assert!(
            w[1] >= w[0] - tol * w[0].abs(),
            "{what}: {} then {}",
            w[0],
            w[1]
        );
    }
}

/// Removes each cell with probability `p`, keeping one value per row.
fn remove(v: &[f64], d: usize, p: f64, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = v.to_vec();
    for row in out.chunks_mut(d) {
        for x in row.iter_mut() {
            if rng.random::<f64>() < p {
                *x = f64::NAN;
            }
        }
        if row.iter().all(|x| x.is_nan()) {
            let j = rng.random_range(0..d);
            row[j] = v[0]; // any observed value will do for the test
        }
    }
    out
}

#[test]
fn without_missing_cells_the_fit_is_the_complete_data_fit_bit_for_bit() {
    let v = clusters(600, 1);
    let complete = Dataset::from_row_major(&v, 600, 4).unwrap();
    let incomplete = Dataset::with_missing(&v, 600, 4).unwrap();
    for cov in [
        Covariance::Full,
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::Tied,
    ] {
        let params = GaussianMixture::params(3).covariance(cov).seed(3);
        let a = params.fit(&complete).unwrap();
        let b = params.fit_incomplete(&incomplete).unwrap();
        assert_eq!(a.model, b.model, "{cov:?}");
        assert_eq!(
            a.report.log_likelihood.to_bits(),
            b.report.log_likelihood.to_bits()
        );
    }
}

/// Anderson's (1957) closed form for a bivariate Gaussian whose first
/// feature is always observed and whose second is missing in some rows: the
/// first feature's moments from every row, the regression of the second on
/// the first from the complete rows.
#[test]
fn one_gaussian_with_a_monotone_pattern_reaches_andersons_closed_form() {
    let n = 3000;
    let mut v = bivariate(n, 7);
    for i in (0..n).filter(|i| i % 3 == 0) {
        v[2 * i + 1] = f64::NAN;
    }
    let data = Dataset::with_missing(&v, n, 2).unwrap();
    assert_eq!(data.patterns().len(), 2);
    let fit = GaussianMixture::params(1)
        .covariance(Covariance::Full)
        .tol(0.0)
        .max_iter(2000)
        .reg_covar(0.0)
        .fit_incomplete(&data)
        .unwrap();
    let x1: Vec<f64> = (0..n).map(|i| v[2 * i]).collect();
    let m1 = x1.iter().sum::<f64>() / n as f64;
    let s11 = x1.iter().map(|x| (x - m1).powi(2)).sum::<f64>() / n as f64;
    let pairs: Vec<(f64, f64)> = (0..n)
        .filter(|i| i % 3 != 0)
        .map(|i| (v[2 * i], v[2 * i + 1]))
        .collect();
    let nc = pairs.len() as f64;
    let (a1, a2) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / nc,
        pairs.iter().map(|p| p.1).sum::<f64>() / nc,
    );
    let c11 = pairs.iter().map(|p| (p.0 - a1).powi(2)).sum::<f64>() / nc;
    let c12 = pairs.iter().map(|p| (p.0 - a1) * (p.1 - a2)).sum::<f64>() / nc;
    let c22 = pairs.iter().map(|p| (p.1 - a2).powi(2)).sum::<f64>() / nc;
    let beta = c12 / c11;
    let resid = c22 - beta * c12;
    let m2 = a2 + beta * (m1 - a1);
    let (s12, s22) = (beta * s11, resid + beta * beta * s11);
    let g = fit.model.components();
    let cov = g.covariance_matrix(0);
    for (got, want) in [
        (g.means()[(0, 0)], m1),
        (g.means()[(0, 1)], m2),
        (cov[(0, 0)], s11),
        (cov[(0, 1)], s12),
        (cov[(1, 1)], s22),
    ] {
        assert!(
            (got - want).abs() < 1e-8 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
}

/// The observed-data log-likelihood of one bivariate Gaussian, parameters
/// `(μ₁, μ₂, ln L₁₁, L₂₁, ln L₂₂)` with `Σ = L Lᵀ`.
fn observed_ll(v: &[f64], p: &[f64]) -> f64 {
    let (l11, l21, l22) = (p[2].exp(), p[3], p[4].exp());
    let (s11, s12, s22) = (l11 * l11, l11 * l21, l21 * l21 + l22 * l22);
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let mut ll = 0.0;
    for r in v.chunks(2) {
        ll += match (r[0].is_nan(), r[1].is_nan()) {
            (false, false) => {
                let (y1, y2) = (r[0] - p[0], r[1] - p[1]);
                let det = s11 * s22 - s12 * s12;
                let q = (s22 * y1 * y1 - 2.0 * s12 * y1 * y2 + s11 * y2 * y2) / det;
                -0.5 * (2.0 * ln2pi + det.ln() + q)
            }
            (false, true) => -0.5 * (ln2pi + s11.ln() + (r[0] - p[0]).powi(2) / s11),
            (true, false) => -0.5 * (ln2pi + s22.ln() + (r[1] - p[1]).powi(2) / s22),
            (true, true) => 0.0,
        };
    }
    ll
}

/// Nelder–Mead, restarted until it stops improving: a maximizer that knows
/// nothing of EM.
fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, start: &[f64]) -> Vec<f64> {
    let n = start.len();
    let mut best = start.to_vec();
    for _ in 0..30 {
        let mut simplex: Vec<Vec<f64>> = vec![best.clone()];
        for i in 0..n {
            let mut p = best.clone();
            p[i] += 0.05;
            simplex.push(p);
        }
        let mut vals: Vec<f64> = simplex.iter().map(|p| -f(p)).collect();
        for _ in 0..4000 {
            let mut idx: Vec<usize> = (0..=n).collect();
            idx.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
            simplex = idx.iter().map(|&i| simplex[i].clone()).collect();
            vals = idx.iter().map(|&i| vals[i]).collect();
            let centroid: Vec<f64> = (0..n)
                .map(|j| simplex[..n].iter().map(|p| p[j]).sum::<f64>() / n as f64)
                .collect();
            let along = |t: f64| -> Vec<f64> {
                (0..n)
                    .map(|j| centroid[j] + t * (simplex[n][j] - centroid[j]))
                    .collect()
            };
            let r = along(-1.0);
            let fr = -f(&r);
            if fr < vals[0] {
                let e = along(-2.0);
                let fe = -f(&e);
                (simplex[n], vals[n]) = if fe < fr { (e, fe) } else { (r, fr) };
            } else if fr < vals[n - 1] {
                (simplex[n], vals[n]) = (r, fr);
            } else {
                let c = along(0.5);
                let fc = -f(&c);
                if fc < vals[n] {
                    (simplex[n], vals[n]) = (c, fc);
                } else {
                    for i in 1..=n {
                        simplex[i] = (0..n)
                            .map(|j| simplex[0][j] + 0.5 * (simplex[i][j] - simplex[0][j]))
                            .collect();
                        vals[i] = -f(&simplex[i]);
                    }
                }
            }
        }
        let i = (0..=n)
            .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
            .unwrap();
        if -vals[i] <= f(&best) + 1e-13 {
            break;
        }
        best = simplex[i].clone();
    }
    best
}

#[test]
fn one_gaussian_agrees_with_a_direct_maximization_of_the_observed_likelihood() {
    let n = 400;
    let v = remove(&bivariate(n, 11), 2, 0.3, 12);
    let data = Dataset::with_missing(&v, n, 2).unwrap();
    let fit = GaussianMixture::params(1)
        .covariance(Covariance::Full)
        .tol(0.0)
        .max_iter(5000)
        .reg_covar(0.0)
        .fit_incomplete(&data)
        .unwrap();
    let f = |p: &[f64]| observed_ll(&v, p);
    let direct = nelder_mead(&f, &[0.0, 0.0, 0.0, 0.0, 0.0]);
    let g = fit.model.components();
    let cov = g.covariance_matrix(0);
    let l11 = cov[(0, 0)].sqrt();
    let l21 = cov[(0, 1)] / l11;
    let em = [
        g.means()[(0, 0)],
        g.means()[(0, 1)],
        l11.ln(),
        l21,
        (cov[(1, 1)] - l21 * l21).sqrt().ln(),
    ];
    // The same maximum: the reported log-likelihood is the direct one's, and
    // the parameters agree to the optimizer's accuracy.
    assert!((fit.report.log_likelihood * n as f64 - f(&em)).abs() < 1e-9 * f(&em).abs());
    assert!(
        f(&em) >= f(&direct) - 1e-9,
        "EM {} < direct {}",
        f(&em),
        f(&direct)
    );
    for (a, b) in em.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-4, "{em:?} vs {direct:?}");
    }
}

#[test]
fn the_log_likelihood_never_decreases_for_every_structure() {
    let n = 900;
    let v = remove(&clusters(n, 2), 4, 0.25, 3);
    let data = Dataset::with_missing(&v, n, 4).unwrap();
    for cov in [
        Covariance::Full,
        Covariance::Diag,
        Covariance::Spherical,
        Covariance::Tied,
    ] {
        let (trace, observer) = recorder();
        let fit = GaussianMixture::params(3)
            .covariance(cov)
            .seed(5)
            .tol(1e-12)
            .max_iter(300)
            .observer(observer)
            .fit_incomplete(&data)
            .unwrap();
        assert_never_decreases(&trace, 1e-12, &format!("{cov:?}"));
        assert!(fit.report.log_likelihood.is_finite());
    }
}

#[test]
fn a_diagonal_gaussian_takes_each_features_observed_moments() {
    // Independent features: the maximum is per feature, on its observed values.
    let n = 500;
    let v = remove(&bivariate(n, 4), 2, 0.4, 9);
    let data = Dataset::with_missing(&v, n, 2).unwrap();
    let fit = GaussianMixture::params(1)
        .covariance(Covariance::Diag)
        .tol(0.0)
        .max_iter(3000)
        .reg_covar(0.0)
        .fit_incomplete(&data)
        .unwrap();
    for j in 0..2 {
        let obs: Vec<f64> = v.chunks(2).map(|r| r[j]).filter(|x| !x.is_nan()).collect();
        let m = obs.iter().sum::<f64>() / obs.len() as f64;
        let s = obs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / obs.len() as f64;
        let g = fit.model.components();
        assert!((g.means()[(0, j)] - m).abs() < 1e-9);
        assert!((g.covariance_matrix(0)[(j, j)] - s).abs() < 1e-9 * s);
    }
}

#[test]
fn rows_with_one_value_a_large_pattern_and_weights() {
    let n = 20_000; // one pattern with more rows than a block
    let mut v = clusters(n, 8);
    for (i, row) in v.chunks_mut(4).enumerate() {
        match i % 4 {
            0 => row[1] = f64::NAN,
            1 => {
                row[0] = f64::NAN;
                row[1] = f64::NAN;
                row[3] = f64::NAN;
            }
            _ => {}
        }
    }
    let data = Dataset::with_missing(&v, n, 4).unwrap();
    let fit = GaussianMixture::params(3)
        .seed(1)
        .fit_incomplete(&data)
        .unwrap();
    let lp = fit.model.log_prob_incomplete(&data).unwrap();
    assert!(lp.iter().all(|l| l.is_finite()));
    let r = fit.model.predict_proba_incomplete(&data).unwrap();
    for i in 0..n {
        let s: f64 = (0..3).map(|c| r[(i, c)]).sum();
        assert!((s - 1.0).abs() < 1e-12);
    }
    // Weights of 2 on every row: the same model as without weights.
    let weighted = data.clone().with_weights(vec![2.0; n]).unwrap();
    let w = GaussianMixture::params(3)
        .seed(1)
        .fit_incomplete(&weighted)
        .unwrap();
    let gap = fit.model.largest_relative_difference(&w.model).unwrap();
    assert!(gap < 1e-9, "{gap}");
}

#[test]
fn the_fit_does_not_depend_on_the_thread_count() {
    let n = 3000;
    let v = remove(&clusters(n, 21), 4, 0.2, 22);
    let data = Dataset::with_missing(&v, n, 4).unwrap();
    let fit = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                GaussianMixture::params(3)
                    .seed(2)
                    .n_init(2)
                    .fit_incomplete(&data)
                    .unwrap()
            })
    };
    let one = fit(1);
    for t in [2, 3] {
        let other = fit(t);
        assert_eq!(one.model, other.model);
        assert_eq!(
            one.report.log_likelihood.to_bits(),
            other.report.log_likelihood.to_bits()
        );
    }
}

#[test]
fn a_column_never_observed_is_refused() {
    let nan = f64::NAN;
    let data = Dataset::with_missing(&[1.0, nan, 2.0, nan, 3.0, nan], 3, 2).unwrap();
    let e = GaussianMixture::params(1)
        .fit_incomplete(&data)
        .unwrap_err();
    assert!(
        matches!(
            e,
            FitError::Data(mixtures_core::DataError::NeverObserved { col: 1 })
        ),
        "{e}"
    );
}

#[test]
fn settings_that_need_complete_rows_are_refused() {
    let v = remove(&clusters(300, 5), 4, 0.2, 6);
    let data: IncompleteDataset<f64> = Dataset::with_missing(&v, 300, 4).unwrap();
    let e = GaussianMixture::params(2)
        .trim(0.1)
        .fit_incomplete(&data)
        .unwrap_err();
    assert!(matches!(e, FitError::MissingValues { .. }), "{e}");
}

#[test]
fn one_laplace_takes_each_features_observed_median_and_deviation() {
    use mixtures_em::LaplaceMixture;
    let n = 501;
    let v = remove(&bivariate(n, 31), 2, 0.3, 32);
    let data = Dataset::with_missing(&v, n, 2).unwrap();
    let fit = LaplaceMixture::params(1)
        .tol(0.0)
        .max_iter(5)
        .fit_incomplete(&data)
        .unwrap();
    let comps = fit.model.components();
    for j in 0..2 {
        let mut obs: Vec<f64> = v.chunks(2).map(|r| r[j]).filter(|x| !x.is_nan()).collect();
        obs.sort_by(f64::total_cmp);
        // The lower weighted median (the first value whose cumulative weight
        // reaches half), as the M-step takes it.
        let med = obs[obs.len().div_ceil(2) - 1];
        let dev = obs.iter().map(|x| (x - med).abs()).sum::<f64>() / obs.len() as f64;
        assert_eq!(comps.location(0)[j], med);
        assert!(
            (comps.scale(0, j) - dev).abs() < 1e-12 * dev,
            "{} vs {dev}",
            comps.scale(0, j)
        );
    }
}

#[test]
fn laplace_with_missing_values_is_monotone_and_equal_without_them() {
    use mixtures_em::LaplaceMixture;
    let n = 900;
    let v = clusters(n, 41);
    let complete = Dataset::from_row_major(&v, n, 4).unwrap();
    let params = LaplaceMixture::params(3).seed(2);
    let a = params.fit(&complete).unwrap();
    let b = params
        .fit_incomplete(&Dataset::with_missing(&v, n, 4).unwrap())
        .unwrap();
    assert_eq!(a.model, b.model);
    let data = Dataset::with_missing(&remove(&v, 4, 0.25, 42), n, 4).unwrap();
    for structure in [Covariance::Diag, Covariance::Spherical] {
        let (trace, observer) = recorder();
        LaplaceMixture::params(3)
            .structure(structure)
            .seed(3)
            .tol(1e-12)
            .max_iter(200)
            .observer(observer)
            .fit_incomplete(&data)
            .unwrap();
        assert_never_decreases(&trace, 1e-12, &format!("{structure:?}"));
    }
}

#[test]
fn student_t_with_missing_values_is_monotone_and_near_the_gaussian_for_large_dof() {
    use mixtures_em::{DegreesOfFreedom, StudentTMixture};
    let n = 900;
    let v = clusters(n, 51);
    let params = StudentTMixture::params(3).seed(2);
    let complete = Dataset::from_row_major(&v, n, 4).unwrap();
    let same = params
        .fit_incomplete(&Dataset::with_missing(&v, n, 4).unwrap())
        .unwrap();
    assert_eq!(params.fit(&complete).unwrap().model, same.model);
    let data = Dataset::with_missing(&remove(&v, 4, 0.25, 52), n, 4).unwrap();
    for cov in [Covariance::Full, Covariance::Diag] {
        let (trace, observer) = recorder();
        let fit = StudentTMixture::params(3)
            .covariance(cov)
            .seed(3)
            .tol(1e-12)
            .max_iter(200)
            .observer(observer)
            .fit_incomplete(&data)
            .unwrap();
        assert_never_decreases(&trace, 1e-10, &format!("{cov:?}"));
        assert!(
            fit.model
                .components()
                .dof()
                .iter()
                .all(|v| v.is_finite() && *v > 0.0)
        );
    }
    // With ν fixed very large the t is the Gaussian: the same fit from the
    // same start.
    let start = GaussianMixture::params(3)
        .seed(4)
        .max_iter(2)
        .fit_incomplete(&data)
        .unwrap();
    let gauss = GaussianMixture::params(3)
        .tol(0.0)
        .max_iter(30)
        .fit_incomplete_from(&start.model, &data)
        .unwrap();
    let t_start = mixtures_dist::Mixture::new(
        start.model.weights().to_vec(),
        mixtures_dist::StudentT::from_scale(start.model.components().clone(), vec![1e6; 3])
            .unwrap(),
    )
    .unwrap();
    let t = StudentTMixture::params(3)
        .degrees_of_freedom(DegreesOfFreedom::Fixed(1e6))
        .tol(0.0)
        .max_iter(30)
        .fit_incomplete_from(&t_start, &data)
        .unwrap();
    let g = gauss.model.components();
    let s = t.model.components().scale();
    for c in 0..3 {
        for j in 0..4 {
            assert!((g.means()[(c, j)] - s.means()[(c, j)]).abs() < 1e-3);
        }
    }
}
