//! Information criteria: parameter counts against scikit-learn and mclust,
//! values against scikit-learn, the ICL entropy, signs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::mat;
use mixtures_core::Dataset;
use mixtures_dist::{Gaussian, Mixture};
use mixtures_em::{Covariance, GaussianMixture, LaplaceMixture};
use mixtures_select::criteria::{aic, bic, classification_entropy, icl};
use mixtures_select::{Criterion, Scores};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `n` points in `d` dimensions around `k` well-separated centres.
fn blobs(n: usize, d: usize, k: usize, seed: u64) -> Dataset<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..d)
                .map(|j| 10.0 * ((i % k) as f64) * ((j % 2) as f64 + 1.0) + rng.random::<f64>())
                .collect()
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

fn reported(c: Covariance, k: usize, d: usize) -> usize {
    let data = blobs((20 * d * k).max(60), d, k, 1);
    GaussianMixture::params::<f64>(k)
        .covariance(c)
        .max_iter(2)
        .fit(&data)
        .unwrap()
        .report
        .n_parameters
}

/// scikit-learn 1.9.1, `GaussianMixture(n_components=k, covariance_type=t)._n_parameters()`
/// with means of shape (k, d): `[full, tied, diag, spherical]` for each `(k, d)`
/// (printed by `tests/reference/make_criteria_values.py`).
const SKLEARN_COUNTS: [((usize, usize), [usize; 4]); 4] = [
    ((1, 1), [2, 2, 2, 2]),
    ((3, 2), [17, 11, 14, 11]),
    ((3, 4), [44, 24, 26, 17]),
    ((5, 10), [329, 109, 104, 59]),
];

#[test]
fn parameter_counts_match_sklearn() {
    for ((k, d), want) in SKLEARN_COUNTS {
        let got = [
            Covariance::Full,
            Covariance::Tied,
            Covariance::Diag,
            Covariance::Spherical,
        ]
        .map(|c| reported(c, k, d));
        assert_eq!(got, want, "k = {k}, d = {d}");
    }
}

/// mclust's `nMclustParams(model, d, G)`: `G − 1` proportions, `G d` means and
/// `nVarParams` (EII 1, VII G, EEI d, VVI G d, EEE d(d+1)/2, VVV G d(d+1)/2).
/// The d = 2, G = 3 row is mclust's own documentation example,
/// `mapply(nMclustParams, mclust.options("emModelNames"), d = 2, G = 3)`.
const MCLUST_COUNTS: [((usize, usize), [usize; 6]); 3] = [
    // (G, d): [EII, VII, EEI, VVI, EEE, VVV]
    ((3, 2), [9, 11, 10, 14, 11, 17]),
    ((4, 5), [24, 27, 28, 43, 38, 83]),
    ((2, 10), [22, 23, 31, 41, 76, 131]),
];

#[test]
fn parameter_counts_match_mclust() {
    for ((g, d), want) in MCLUST_COUNTS {
        let got = [
            Covariance::EII,
            Covariance::VII,
            Covariance::EEI,
            Covariance::VVI,
            Covariance::EEE,
            Covariance::VVV,
        ]
        .map(|c| reported(c, g, d));
        assert_eq!(got, want, "G = {g}, d = {d}");
    }
}

#[test]
fn laplace_counts() {
    // K − 1 weights, K D locations, and K D or K scales.
    let data = blobs(60, 3, 2, 2);
    for (s, want) in [
        (Covariance::Diag, 1 + 6 + 6),
        (Covariance::Spherical, 1 + 6 + 2),
    ] {
        let f = LaplaceMixture::params::<f64>(2)
            .structure(s)
            .max_iter(2)
            .fit(&data)
            .unwrap();
        assert_eq!(f.report.n_parameters, want);
    }
}

/// A fixed two-component model on eight points; the expected values are
/// scikit-learn 1.9.1's `bic(X)`, `aic(X)` and `score(X) * n` for the same
/// parameters (weights_, means_, covariances_ and precisions_cholesky_ set by
/// hand; `tests/reference/make_criteria_values.py` prints them).
#[test]
fn values_match_sklearn() {
    let x = Dataset::from_rows(&[
        [0.0, 0.5],
        [1.0, -0.3],
        [-0.7, 0.2],
        [5.0, 5.5],
        [6.1, 4.8],
        [5.4, 6.2],
        [0.3, 0.1],
        [5.9, 5.1],
    ])
    .unwrap();
    let means = || mat![[0.1, 0.2], [5.5, 5.4]];
    let full = Mixture::new(
        vec![0.45, 0.55],
        Gaussian::full(
            means(),
            vec![mat![[1.0, 0.3], [0.3, 0.5]], mat![[0.8, -0.2], [-0.2, 1.2]]],
        )
        .unwrap(),
    )
    .unwrap();
    let s = Scores::of_model(&full, &x).unwrap();
    assert!((s.log_likelihood - -20.900100761978038).abs() < 1e-12);
    assert!((s.bic() - 64.67405848243428).abs() < 1e-11);
    assert!((s.aic() - 63.800201523956076).abs() < 1e-11);
    assert_eq!(s.n_samples, 8.0);
    let spherical = Mixture::new(
        vec![0.45, 0.55],
        Gaussian::spherical(means(), vec![0.6, 0.9]).unwrap(),
    )
    .unwrap();
    let s = Scores::of_model(&spherical, &x).unwrap();
    assert!((s.bic() - 55.37561453692621).abs() < 1e-11);
    assert!((s.aic() - 54.81952374516736).abs() < 1e-11);
    // Well-separated points: almost no classification entropy, ICL ≈ BIC.
    let e = s.entropy.unwrap();
    assert!((0.0..1e-9).contains(&e), "entropy {e}");
    assert!((s.icl().unwrap() - s.bic()).abs() < 1e-8);
}

#[test]
fn formulas_and_signs() {
    assert_eq!(aic(-100.0, 7), 214.0);
    assert!((bic(-100.0, 7, 50.0) - (200.0 + 7.0 * 50f64.ln())).abs() < 1e-12);
    assert_eq!(icl(10.0, 2.5), 15.0);
    let s = Scores {
        log_likelihood: -100.0,
        n_parameters: 7,
        n_samples: 50.0,
        entropy: Some(2.5),
    };
    assert_eq!(s.mclust_bic(), -s.bic());
    assert_eq!(s.mclust_icl(), Some(-(s.bic() + 5.0)));
    assert_eq!(s.get(Criterion::Aic), Some(214.0));
    assert_eq!(s.get(Criterion::Icl), s.icl());
    let no_entropy = Scores { entropy: None, ..s };
    assert_eq!(no_entropy.get(Criterion::Icl), None);
    assert_eq!("BIC".parse::<Criterion>().unwrap(), Criterion::Bic);
    assert!("bayes".parse::<Criterion>().is_err());
}

#[test]
fn entropy_of_indistinguishable_components_is_ln_2_per_point() {
    // Two identical components with equal weights: r = ½ everywhere.
    let g = Gaussian::spherical(mat![[0.0_f64, 0.0], [0.0, 0.0]], vec![1.0, 1.0]).unwrap();
    let m = Mixture::new(vec![0.5, 0.5], g).unwrap();
    let x = blobs(40, 2, 1, 3);
    let e = classification_entropy(&m, &x).unwrap();
    assert!((e - 40.0 * 2f64.ln()).abs() < 1e-10);
    // Weighted: the weights multiply each row's entropy.
    let w = x.clone().with_weights(vec![0.5; 40]).unwrap();
    let ew = classification_entropy(&m, &w).unwrap();
    assert!((ew - 20.0 * 2f64.ln()).abs() < 1e-10);
    // f32 gives the same to single precision.
    let m32 = Mixture::new(
        vec![0.5f32, 0.5],
        Gaussian::spherical(mat![[0.0f32, 0.0], [0.0, 0.0]], vec![1.0, 1.0]).unwrap(),
    )
    .unwrap();
    let x32 = Dataset::from_rows(&[[0.0f32, 1.0], [2.0, -1.0]]).unwrap();
    let e32 = classification_entropy(&m32, &x32).unwrap();
    assert!((e32 - 2.0 * 2f64.ln()).abs() < 1e-6);
}

#[test]
fn scores_of_a_fit_use_the_report() {
    let data = blobs(90, 3, 3, 4);
    let fitted = GaussianMixture::params::<f64>(3)
        .covariance(Covariance::TiedDiag)
        .fit(&data)
        .unwrap();
    let s = Scores::of_fit(&fitted, &data).unwrap();
    // The report knows the constraint (3 shared variances), and so does the
    // model: a tied diagonal fit keeps its structure.
    assert_eq!(s.n_parameters, 3 - 1 + 9 + 3);
    assert_eq!(
        Scores::of_model(&fitted.model, &data).unwrap().n_parameters,
        2 + 9 + 3
    );
    assert!((s.log_likelihood - fitted.report.log_likelihood * 90.0).abs() < 1e-9);
    assert!(s.icl().unwrap() >= s.bic());
}
