//! Laplace mixtures: well-separated Laplace clusters are recovered (locations,
//! scales, weights) with both scale structures, EM's bound never decreases
//! (the M-step is exact maximum likelihood), and on Laplace data a Laplace
//! mixture beats a Gaussian one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Laplace, LaplaceScales, Mixture};
use mixtures_em::{Covariance, GaussianMixture, LaplaceMixture};

const LOC: [[f64; 2]; 3] = [[0.0, 0.0], [12.0, 0.0], [0.0, 12.0]];
const WEIGHTS: [f64; 3] = [0.3, 0.3, 0.4];

fn scales(structure: Covariance) -> Vec<Vec<f64>> {
    match structure {
        Covariance::Diag => vec![vec![1.0, 0.5], vec![0.7, 1.5], vec![2.0, 1.0]],
        _ => vec![vec![0.5; 2], vec![1.0; 2], vec![1.5; 2]],
    }
}

fn sample<T: Scalar>(structure: Covariance, n: usize, seed: u64) -> Dataset<T> {
    let loc: Vec<Vec<f64>> = LOC.iter().map(|r| r.to_vec()).collect();
    let b = scales(structure);
    let l = Laplace::per_dimension(mat::<T>(&loc), mat::<T>(&b)).unwrap();
    let m = Mixture::new(WEIGHTS.iter().map(|&w| T::c(w)).collect(), l).unwrap();
    let (x, _) = m.sample(n, &mut rng(seed));
    Dataset::from_mat(x.as_ref()).unwrap()
}

fn recovers<T: Scalar>(structure: Covariance) {
    let what = format!("{} {structure:?}", T::NAME);
    let data = sample::<T>(structure, 900, 81);
    let fitted = LaplaceMixture::params::<T>(3)
        .structure(structure)
        .n_init(2)
        .tol(0.0)
        .max_iter(60)
        .seed(3)
        .fit(&data)
        .unwrap();
    let m = &fitted.model;
    assert_valid_laplace(m);
    let r = &fitted.report;
    assert_non_decreasing(
        &r.lower_bound_trace,
        &[],
        |v| 200.0 * eps::<T>() * (1.0 + v.abs()),
        &what,
    );
    assert!(r.degeneracies.is_empty(), "{what}");
    let truth: Vec<Vec<f64>> = LOC.iter().map(|r| r.to_vec()).collect();
    let (dist, perm) = match_rows(&rows_of(m.components().locations()), &truth);
    assert!(
        dist < 0.3,
        "{what}: locations {:?}",
        m.components().locations()
    );
    let b = scales(structure);
    for (t, &k) in perm.iter().enumerate() {
        let w = m.weights()[k].as_f64();
        assert!((w - WEIGHTS[t]).abs() < 0.05, "{what}: weight {w}");
        for (j, &want) in b[t].iter().enumerate() {
            let got = m.components().scale(k, j).as_f64();
            assert!(
                (got / want - 1.0).abs() < 0.2,
                "{what}: scale ({t}, {j}) = {got}, true {want}"
            );
        }
    }
    match (structure, m.components().scales()) {
        (Covariance::Diag, LaplaceScales::PerDimension(_))
        | (Covariance::Spherical, LaplaceScales::Spherical(_)) => {}
        (_, other) => panic!("{what}: {other:?}"),
    }
    // Heavier tails than a Gaussian: the Laplace mixture fits better.
    let g = GaussianMixture::params::<T>(3)
        .covariance(Covariance::Diag)
        .seed(3)
        .fit(&data)
        .unwrap();
    assert!(
        r.log_likelihood > g.report.log_likelihood,
        "{what}: laplace {} vs gaussian {}",
        r.log_likelihood,
        g.report.log_likelihood
    );
}

#[test]
fn laplace_clusters_are_recovered_f64() {
    recovers::<f64>(Covariance::Diag);
    recovers::<f64>(Covariance::Spherical);
}

#[test]
fn laplace_clusters_are_recovered_f32() {
    recovers::<f32>(Covariance::Diag);
    recovers::<f32>(Covariance::Spherical);
}

/// The scale floor is respected: a cluster of identical points gets the floor
/// as its scale, the other clusters their own.
fn scale_floor<T: Scalar>() {
    let (mut rows, _) = blobs(82, &[vec![0.0, 0.0]], &[1.0], &[60]);
    rows.extend(std::iter::repeat_n(vec![20.0, 20.0], 30));
    let data = dataset::<T>(&rows);
    for floor in [1e-6, 0.05] {
        let fitted = LaplaceMixture::params::<T>(2)
            .scale_floor(floor)
            .seed(1)
            .fit(&data)
            .unwrap();
        assert_valid_laplace(&fitted.model);
        let locs = rows_of(fitted.model.components().locations());
        let k = nearest_row(&locs, &[20.0, 20.0]);
        assert_eq!(locs[k], vec![20.0, 20.0]);
        for j in 0..2 {
            assert_eq!(
                fitted.model.components().scale(k, j),
                T::c(floor),
                "{} floor {floor}",
                T::NAME
            );
            let other = fitted.model.components().scale(1 - k, j).as_f64();
            assert!(other > 0.5 && other < 1.5, "{other}");
        }
    }
}

#[test]
fn laplace_scale_floor_is_respected_f64() {
    scale_floor::<f64>();
}

#[test]
fn laplace_scale_floor_is_respected_f32() {
    scale_floor::<f32>();
}
