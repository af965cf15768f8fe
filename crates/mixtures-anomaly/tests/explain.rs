//! Explanations: exact decompositions for diagonal Gaussian and Laplace
//! components, conditional terms for full and tied covariance checked against a
//! brute-force marginal Mahalanobis distance.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::needless_range_loop,
    missing_docs
)]

mod common;

use common::{dataset, normal, rng};
use faer::{Mat, mat};
use mixtures_anomaly::{Attribution, Explain};
use mixtures_core::Dataset;
use mixtures_dist::{AnyMixture, Gaussian, Laplace, Mixture};

fn points(seed: u64, n: usize, d: usize) -> Dataset<f64> {
    let mut r = rng(seed);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..d).map(|_| 3.0 * normal(&mut r)).collect())
        .collect();
    dataset(&rows)
}

/// `−ln(wₖ pₖ(μₖ)) + ln rₖ(x)`: what the baseline of an exact decomposition
/// must be.
fn expected_baseline<C>(
    m: &Mixture<f64, C>,
    centres: Mat<f64>,
    data: &Dataset<f64>,
    comps: &[usize],
) -> Vec<f64>
where
    C: mixtures_dist::LogDensity<f64>,
{
    let at_centre = m
        .weighted_log_prob(&Dataset::from_mat(centres.as_ref()).unwrap())
        .unwrap();
    let wlp = m.weighted_log_prob(data).unwrap();
    let lp = m.log_prob(data).unwrap();
    comps
        .iter()
        .enumerate()
        .map(|(i, &k)| -at_centre[(k, k)] + (wlp[(i, k)] - lp[i]))
        .collect()
}

#[test]
fn diagonal_gaussian_contributions_are_exact() {
    let g = Gaussian::diag(
        mat![[0.0, 0.0, 0.0], [4.0, -2.0, 1.0]],
        mat![[1.0, 0.25, 4.0], [2.0, 1.0, 0.5]],
    )
    .unwrap();
    let means = g.means().to_owned();
    let m = Mixture::new(vec![0.3, 0.7], g).unwrap();
    let data = points(1, 200, 3);
    let e = m.explain(&data).unwrap();
    assert_eq!(e.attribution(), Attribution::Exact);
    assert_eq!(e.components(), m.predict(&data).unwrap().as_slice());
    let want = expected_baseline(&m, means.clone(), &data, e.components());
    for i in 0..e.len() {
        assert!((e.baseline(i) - want[i]).abs() < 1e-10, "row {i}");
        let k = e.components()[i];
        let var = [[1.0, 0.25, 4.0], [2.0, 1.0, 0.5]];
        for j in 0..3 {
            let z = data.view()[(i, j)] - means[(k, j)];
            assert!((e.contributions()[(i, j)] - 0.5 * z * z / var[k][j]).abs() < 1e-12);
        }
    }
    // A point off in feature 1 only: feature 1 ranks first.
    let x = Dataset::from_rows(&[[0.0, 1.5, 0.0]]).unwrap();
    let e = m.explain(&x).unwrap();
    assert_eq!(e.components(), &[0]);
    assert_eq!(e.ranked_features(0)[0], 1);
    assert_eq!(e.row(0)[0], 0.0);
}

#[test]
fn spherical_gaussian_and_laplace_contributions_are_exact() {
    let g = Gaussian::spherical(mat![[0.0, 0.0], [5.0, 5.0]], vec![1.0, 3.0]).unwrap();
    let means = g.means().to_owned();
    let m = Mixture::new(vec![0.5, 0.5], g).unwrap();
    let data = points(2, 100, 2);
    let e = m.explain(&data).unwrap();
    let want = expected_baseline(&m, means, &data, e.components());
    for i in 0..e.len() {
        assert!((e.baseline(i) - want[i]).abs() < 1e-10);
    }

    let l = Laplace::per_dimension(mat![[0.0, 1.0], [-4.0, 3.0]], mat![[1.0, 0.5], [2.0, 2.0]])
        .unwrap();
    let locs = l.locations().to_owned();
    let m = Mixture::new(vec![0.4, 0.6], l).unwrap();
    let e = m.explain(&data).unwrap();
    assert_eq!(e.attribution(), Attribution::Exact);
    let want = expected_baseline(&m, locs.clone(), &data, e.components());
    let scale = [[1.0, 0.5], [2.0, 2.0]];
    for i in 0..e.len() {
        assert!((e.baseline(i) - want[i]).abs() < 1e-10);
        let k = e.components()[i];
        for j in 0..2 {
            let want = (data.view()[(i, j)] - locs[(k, j)]).abs() / scale[k][j];
            assert!((e.contributions()[(i, j)] - want).abs() < 1e-12);
        }
    }
    // The same through AnyMixture.
    let any = AnyMixture::Laplace(m.clone());
    assert_eq!(any.explain(&data).unwrap(), e);
}

/// Squared Mahalanobis distance of `diff` under `cov`, by plain Gaussian
/// elimination (a reference independent of the library's Cholesky).
fn sq_mahalanobis(cov: &[Vec<f64>], diff: &[f64]) -> f64 {
    let d = diff.len();
    let mut a: Vec<Vec<f64>> = cov.to_vec();
    let mut b = diff.to_vec();
    for p in 0..d {
        for r in (p + 1)..d {
            let f = a[r][p] / a[p][p];
            for c in p..d {
                a[r][c] -= f * a[p][c];
            }
            b[r] -= f * b[p];
        }
    }
    let mut x = vec![0.0; d];
    for p in (0..d).rev() {
        let s: f64 = ((p + 1)..d).map(|c| a[p][c] * x[c]).sum();
        x[p] = (b[p] - s) / a[p][p];
    }
    diff.iter().zip(&x).map(|(u, v)| u * v).sum()
}

/// `½ (d²(x) − d²(x₋ⱼ))` with the marginal covariance of the other features.
fn conditional_terms(cov: &[Vec<f64>], diff: &[f64]) -> Vec<f64> {
    let d = diff.len();
    let full = sq_mahalanobis(cov, diff);
    (0..d)
        .map(|j| {
            let keep: Vec<usize> = (0..d).filter(|&m| m != j).collect();
            let sub: Vec<Vec<f64>> = keep
                .iter()
                .map(|&r| keep.iter().map(|&c| cov[r][c]).collect())
                .collect();
            let sd: Vec<f64> = keep.iter().map(|&r| diff[r]).collect();
            0.5 * (full - sq_mahalanobis(&sub, &sd))
        })
        .collect()
}

#[test]
fn full_and_tied_contributions_are_the_conditional_terms() {
    let c0 = vec![
        vec![2.0, 0.8, 0.3],
        vec![0.8, 1.0, -0.4],
        vec![0.3, -0.4, 1.5],
    ];
    let c1 = vec![
        vec![1.0, -0.5, 0.0],
        vec![-0.5, 3.0, 0.9],
        vec![0.0, 0.9, 0.7],
    ];
    let to_mat = |c: &Vec<Vec<f64>>| Mat::from_fn(3, 3, |i, j| c[i][j]);
    let means = mat![[0.0, 0.0, 0.0], [3.0, 1.0, -2.0]];
    let full = Mixture::new(
        vec![0.5, 0.5],
        Gaussian::full(means.clone(), vec![to_mat(&c0), to_mat(&c1)]).unwrap(),
    )
    .unwrap();
    let tied = Mixture::new(
        vec![0.5, 0.5],
        Gaussian::tied(means.clone(), to_mat(&c1)).unwrap(),
    )
    .unwrap();
    let data = points(3, 100, 3);
    for (m, covs) in [(&full, [&c0, &c1]), (&tied, [&c1, &c1])] {
        let e = m.explain(&data).unwrap();
        assert_eq!(e.attribution(), Attribution::Conditional);
        for i in 0..e.len() {
            let k = e.components()[i];
            let diff: Vec<f64> = (0..3)
                .map(|j| data.view()[(i, j)] - means[(k, j)])
                .collect();
            let want = conditional_terms(covs[k], &diff);
            for j in 0..3 {
                let got = e.contributions()[(i, j)];
                assert!(
                    (got - want[j]).abs() < 1e-9 * (1.0 + want[j]),
                    "row {i} feature {j}: {got} vs {want:?}"
                );
                assert!(got >= 0.0);
            }
        }
    }
    // A point that keeps feature 1's usual relation to feature 0 but has an
    // unusual feature 2: feature 2 explains it.
    let x = Dataset::from_rows(&[[1.6, 0.8, 4.0]]).unwrap();
    let e = full.explain(&x).unwrap();
    assert_eq!(e.components(), &[0]);
    assert_eq!(e.ranked_features(0)[0], 2);
}

#[test]
fn diagonal_full_covariance_agrees_with_diag() {
    let var = mat![[1.0, 0.5], [2.0, 0.25]];
    let means = mat![[0.0, 0.0], [3.0, 3.0]];
    let full_covs = (0..2)
        .map(|k| Mat::from_fn(2, 2, |i, j| if i == j { var[(k, i)] } else { 0.0 }))
        .collect();
    let diag = Mixture::new(
        vec![0.5, 0.5],
        Gaussian::diag(means.clone(), var.clone()).unwrap(),
    )
    .unwrap();
    let full = Mixture::new(vec![0.5, 0.5], Gaussian::full(means, full_covs).unwrap()).unwrap();
    let data = points(4, 50, 2);
    let (a, b) = (diag.explain(&data).unwrap(), full.explain(&data).unwrap());
    for i in 0..50 {
        for j in 0..2 {
            assert!((a.contributions()[(i, j)] - b.contributions()[(i, j)]).abs() < 1e-12);
        }
    }
}

#[test]
fn explanations_in_f32_and_bad_dimensions() {
    let g = Gaussian::<f32>::diag(mat![[0.0f32, 0.0]], mat![[1.0f32, 4.0]]).unwrap();
    let m = Mixture::new(vec![1.0f32], g).unwrap();
    let x = Dataset::from_rows(&[[1.0f32, 2.0]]).unwrap();
    let e = m.explain(&x).unwrap();
    assert_eq!(e.row(0), vec![0.5f32, 0.5]);
    let wide = Dataset::from_rows(&[[1.0f32, 2.0, 3.0]]).unwrap();
    assert!(m.explain(&wide).is_err());
}
