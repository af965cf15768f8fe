//! Every covariance constraint, by our name and by mclust's: each fits, the
//! fitted covariances have the constraint's structure, and one M-step matches
//! the closed-form constrained estimate computed here from the responsibilities.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use faer::Mat;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Covariances, GaussianMixtureModel};
use mixtures_em::{Covariance, CovarianceConstraint, FitError, GaussianMixture, MStepStats};

const NAMES: [(&str, Covariance); 12] = [
    ("full", Covariance::Full),
    ("diag", Covariance::Diag),
    ("spherical", Covariance::Spherical),
    ("tied", Covariance::Tied),
    ("tied-diag", Covariance::TiedDiag),
    ("tied-spherical", Covariance::TiedSpherical),
    ("EII", Covariance::TiedSpherical),
    ("VII", Covariance::Spherical),
    ("EEI", Covariance::TiedDiag),
    ("VVI", Covariance::Diag),
    ("EEE", Covariance::Tied),
    ("VVV", Covariance::Full),
];

fn truth() -> (Vec<Vec<f64>>, Vec<f64>) {
    (
        vec![
            vec![0.0, 0.0, 0.0],
            vec![9.0, 0.0, 1.0],
            vec![0.0, 9.0, -1.0],
        ],
        vec![0.5, 1.0, 1.5],
    )
}

fn clusters() -> Vec<Vec<f64>> {
    let (c, sd) = truth();
    blobs(41, &c, &sd, &[60, 60, 60]).0
}

#[test]
fn names_parse_and_round_trip() {
    for (name, c) in NAMES {
        assert_eq!(name.parse::<Covariance>().unwrap(), c, "{name}");
        // mclust names are case-insensitive.
        assert_eq!(
            name.to_ascii_lowercase().parse::<Covariance>().unwrap(),
            c,
            "{name}"
        );
    }
    for c in Covariance::ALL {
        assert_eq!(c.to_string().parse::<Covariance>().unwrap(), c);
        assert_eq!(c.as_str().parse::<Covariance>().unwrap(), c);
        assert_eq!(c.mclust_name().parse::<Covariance>().unwrap(), c);
    }
    assert_eq!(
        "tied_diag".parse::<Covariance>().unwrap(),
        Covariance::TiedDiag
    );
    assert_eq!(
        "tied_spherical".parse::<Covariance>().unwrap(),
        Covariance::TiedSpherical
    );
    assert_eq!(Covariance::EII, Covariance::TiedSpherical);
    assert_eq!(Covariance::VII, Covariance::Spherical);
    assert_eq!(Covariance::EEI, Covariance::TiedDiag);
    assert_eq!(Covariance::VVI, Covariance::Diag);
    assert_eq!(Covariance::EEE, Covariance::Tied);
    assert_eq!(Covariance::VVV, Covariance::Full);
    for bad in ["", "FULL", "VEV", "tied diag", "ellipsoidal"] {
        match bad.parse::<Covariance>() {
            Err(mixtures_dist::ModelError::InvalidParameter { name, value, .. }) => {
                assert_eq!(name, "covariance");
                assert_eq!(value, bad);
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

/// Free covariance parameters for `k` components in `d` dimensions.
fn free_cov(c: Covariance, k: usize, d: usize) -> usize {
    match c {
        Covariance::Full => k * d * (d + 1) / 2,
        Covariance::Tied => d * (d + 1) / 2,
        Covariance::Diag => k * d,
        Covariance::TiedDiag => d,
        Covariance::Spherical => k,
        _ => 1,
    }
}

fn all_equal(v: &[f64]) -> bool {
    v.iter().all(|x| *x == v[0])
}

fn every_constraint_fits<T: Scalar>() {
    let rows = clusters();
    let data = dataset::<T>(&rows);
    let (centers, sd) = truth();
    let (k, d) = (3, 3);
    for (name, c) in NAMES {
        let what = format!("{} {name}", T::NAME);
        let fitted = GaussianMixture::params::<T>(k)
            .covariance(name.parse().unwrap())
            .seed(3)
            .fit(&data)
            .unwrap();
        let m = &fitted.model;
        assert_valid_gaussian(m);
        assert!(fitted.report.converged, "{what}");
        assert_eq!(fitted.report.structure, c.as_str(), "{what}");
        assert_eq!(
            fitted.report.n_parameters,
            free_cov(c, k, d) + k * d + k - 1,
            "{what}"
        );
        let (dist, perm) = match_rows(&means(m), &centers);
        assert!(dist < 0.5, "{what}: means {:?}", means(m));
        let covs = cov_matrices(m);
        // Diagonal entries in the order of the true clusters.
        let diag: Vec<Vec<f64>> = perm
            .iter()
            .map(|&p| (0..d).map(|j| covs[p][(j, j)]).collect())
            .collect();
        let off_diag_zero =
            |a: &Mat<f64>| (0..d).all(|i| (0..d).all(|j| i == j || a[(i, j)] == 0.0));
        match (c, m.components().covariances()) {
            (Covariance::Full, Covariances::Full(v)) => {
                assert_eq!(v.len(), k, "{what}");
                // One matrix per component, following each cluster's spread.
                for (t, row) in diag.iter().enumerate() {
                    let want = sd[t] * sd[t];
                    assert!(
                        row.iter().all(|v| (v / want - 1.0).abs() < 0.4),
                        "{what}: cluster {t} variances {row:?}, true {want}"
                    );
                }
                assert!(covs.iter().any(|a| !off_diag_zero(a)), "{what}");
            }
            (Covariance::Tied, Covariances::Tied(_)) => {
                // One shared full matrix: the pooled within-cluster covariance.
                let pooled = sd.iter().map(|s| s * s).sum::<f64>() / 3.0;
                assert!(
                    diag[0].iter().all(|v| (v / pooled - 1.0).abs() < 0.3),
                    "{what}: {diag:?} vs pooled {pooled}"
                );
                assert!(!off_diag_zero(&covs[0]), "{what}");
            }
            (Covariance::Diag, Covariances::Diag(v)) => {
                assert_eq!((v.nrows(), v.ncols()), (k, d), "{what}");
                for (t, row) in diag.iter().enumerate() {
                    let want = sd[t] * sd[t];
                    assert!(
                        row.iter().all(|v| (v / want - 1.0).abs() < 0.4),
                        "{what}: cluster {t} variances {row:?}, true {want}"
                    );
                    // Variances differ across features within a component.
                    assert!(!all_equal(row), "{what}");
                }
            }
            (Covariance::TiedDiag, Covariances::Diag(v)) => {
                // EEI: one diagonal shared by every component, varying by feature.
                assert_eq!((v.nrows(), v.ncols()), (k, d), "{what}");
                for c in 1..k {
                    for j in 0..d {
                        assert_eq!(v[(c, j)], v[(0, j)], "{what}: row {c} differs");
                    }
                }
                assert!(!all_equal(&diag[0]), "{what}: {diag:?}");
            }
            (Covariance::Spherical, Covariances::Spherical(v)) => {
                // VII: a scalar per component, following each cluster's spread.
                assert_eq!(v.len(), k, "{what}");
                for (t, row) in diag.iter().enumerate() {
                    assert!(all_equal(row), "{what}");
                    let want = sd[t] * sd[t];
                    assert!(
                        (row[0] / want - 1.0).abs() < 0.3,
                        "{what}: cluster {t} variance {}, true {want}",
                        row[0]
                    );
                }
            }
            (Covariance::TiedSpherical, Covariances::Spherical(v)) => {
                // EII: one scalar shared by all components.
                assert_eq!(v.len(), k, "{what}");
                assert!(v.iter().all(|x| *x == v[0]), "{what}: {v:?}");
                let pooled = sd.iter().map(|s| s * s).sum::<f64>() / 3.0;
                assert!((v[0].as_f64() / pooled - 1.0).abs() < 0.3, "{what}");
            }
            (_, other) => panic!("{what}: covariances of the wrong kind: {other:?}"),
        }
        for a in &covs {
            if matches!(c, Covariance::Full | Covariance::Tied) {
                continue;
            }
            assert!(off_diag_zero(a), "{what}: off-diagonal entries");
        }
    }
}

#[test]
fn every_constraint_fits_and_has_its_structure_f64() {
    every_constraint_fits::<f64>();
}

#[test]
fn every_constraint_fits_and_has_its_structure_f32() {
    every_constraint_fits::<f32>();
}

/// The constrained maximum-likelihood covariances from responsibilities `r`
/// (`n x K`), with the ridge `reg` added: the closed forms of each structure.
fn reference_m_step(
    c: Covariance,
    rows: &[Vec<f64>],
    w: &[f64],
    r: &Mat<f64>,
    reg: f64,
) -> (Vec<f64>, Vec<Vec<f64>>, Vec<Mat<f64>>) {
    let (n, k, d) = (rows.len(), r.ncols(), rows[0].len());
    let nk: Vec<f64> = (0..k)
        .map(|c| (0..n).map(|i| w[i] * r[(i, c)]).sum())
        .collect();
    let total: f64 = nk.iter().sum();
    let mu: Vec<Vec<f64>> = (0..k)
        .map(|c| {
            (0..d)
                .map(|j| (0..n).map(|i| w[i] * r[(i, c)] * rows[i][j]).sum::<f64>() / nk[c])
                .collect()
        })
        .collect();
    let scatter: Vec<Mat<f64>> = (0..k)
        .map(|c| {
            Mat::from_fn(d, d, |a, b| {
                (0..n)
                    .map(|i| w[i] * r[(i, c)] * (rows[i][a] - mu[c][a]) * (rows[i][b] - mu[c][b]))
                    .sum()
            })
        })
        .collect();
    let pooled = Mat::from_fn(d, d, |a, b| scatter.iter().map(|s| s[(a, b)]).sum::<f64>());
    let tr = |m: &Mat<f64>| (0..d).map(|j| m[(j, j)]).sum::<f64>();
    let diag_of = |m: &Mat<f64>, den: f64| {
        Mat::from_fn(d, d, |a, b| if a == b { m[(a, a)] / den } else { 0.0 })
    };
    let scalar = |v: f64| Mat::from_fn(d, d, |a, b| if a == b { v } else { 0.0 });
    let mut cov: Vec<Mat<f64>> = (0..k)
        .map(|c_| match c {
            Covariance::Full => Mat::from_fn(d, d, |a, b| scatter[c_][(a, b)] / nk[c_]),
            Covariance::Tied => Mat::from_fn(d, d, |a, b| pooled[(a, b)] / total),
            Covariance::Diag => diag_of(&scatter[c_], nk[c_]),
            Covariance::TiedDiag => diag_of(&pooled, total),
            Covariance::Spherical => scalar(tr(&scatter[c_]) / (nk[c_] * d as f64)),
            _ => scalar(tr(&pooled) / (total * d as f64)),
        })
        .collect();
    for m in &mut cov {
        for j in 0..d {
            m[(j, j)] += reg;
        }
    }
    (nk.iter().map(|v| v / total).collect(), mu, cov)
}

fn m_step_matches_closed_form<T: Scalar>(weighted_data: bool) {
    let raw = clusters();
    let rows = seen::<T>(&raw);
    let n = rows.len();
    let w: Vec<f64> = if weighted_data {
        (0..n).map(|i| 0.5 + (i % 4) as f64 * 0.5).collect()
    } else {
        vec![1.0; n]
    };
    let data: Dataset<T> = if weighted_data {
        weighted::<T>(&raw, &w)
    } else {
        dataset::<T>(&raw)
    };
    // A model that overlaps the clusters, so that responsibilities are soft.
    let model: GaussianMixtureModel<T> = gaussian_model(
        &[0.2, 0.3, 0.5],
        &[
            vec![1.0, 1.0, 0.0],
            vec![6.0, 1.0, 0.0],
            vec![1.0, 6.0, 0.0],
        ],
        spherical::<T>(&[4.0, 9.0, 16.0]),
    );
    let r = widen(model.responsibilities(&data).unwrap().as_ref());
    let reg = 1e-3;
    for c in Covariance::ALL {
        let what = format!("{} {c} weighted {weighted_data}", T::NAME);
        let (ll, next) = GaussianMixture::params::<T>(3)
            .covariance(c)
            .reg_covar(reg)
            .step(&model, &data)
            .unwrap();
        let score = model.score(&data).unwrap();
        assert!(
            (ll - score).abs() <= 1e3 * eps::<T>() * score.abs(),
            "{what}: step's log-likelihood {ll} vs the model's score {score}"
        );
        let (wts, mu, cov) = reference_m_step(c, &rows, &w, &r, reg);
        let rel = 1e3 * eps::<T>();
        let dw = max_diff_slice(&weights(next.weights()), &wts);
        assert!(dw <= rel, "{what}: weights {:?} vs {wts:?}", next.weights());
        let dm = max_diff_slice(&means(&next).concat(), &mu.concat());
        assert!(
            dm <= rel * 10.0,
            "{what}: means {:?} vs {mu:?}",
            means(&next)
        );
        for (kk, (got, want)) in cov_matrices(&next).iter().zip(&cov).enumerate() {
            let dc = max_diff(got, want);
            assert!(
                dc <= rel * max_abs(want),
                "{what}: component {kk}: {got:?} vs {want:?} ({dc:e})"
            );
        }
    }
}

#[test]
fn m_step_matches_closed_form_f64() {
    m_step_matches_closed_form::<f64>(false);
    m_step_matches_closed_form::<f64>(true);
}

#[test]
fn m_step_matches_closed_form_f32() {
    m_step_matches_closed_form::<f32>(false);
    m_step_matches_closed_form::<f32>(true);
}

/// A constraint of the user's own plugs into the EM loop: unit variances,
/// whatever the data.
#[derive(Debug)]
struct UnitSpherical;

impl<T: Scalar> CovarianceConstraint<T> for UnitSpherical {
    fn name(&self) -> String {
        "unit".into()
    }
    fn needs_full_scatter(&self) -> bool {
        false
    }
    fn estimate(&self, stats: &MStepStats<T>) -> Result<Covariances<T>, FitError> {
        Ok(Covariances::Spherical(vec![T::one(); stats.n_components()]))
    }
    fn n_free_parameters(&self, _: usize, _: usize) -> usize {
        0
    }
}

fn custom_constraint<T: Scalar>() {
    let data = dataset::<T>(&clusters());
    let fitted = GaussianMixture::params::<T>(3)
        .constraint(UnitSpherical)
        .reg_covar(0.0)
        .seed(1)
        .fit(&data)
        .unwrap();
    assert_eq!(fitted.report.structure, "unit");
    assert_eq!(fitted.report.n_parameters, 3 * 3 + 2);
    match fitted.model.components().covariances() {
        Covariances::Spherical(v) => assert!(v.iter().all(|x| *x == T::one()), "{v:?}"),
        other => panic!("{other:?}"),
    }
    let (dist, _) = match_rows(&means(&fitted.model), &truth().0);
    assert!(dist < 0.5, "{:?}", means(&fitted.model));
}

#[test]
fn custom_constraint_plugs_in_f64() {
    custom_constraint::<f64>();
}

#[test]
fn custom_constraint_plugs_in_f32() {
    custom_constraint::<f32>();
}
