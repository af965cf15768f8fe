//! Models of every family and structure, points to score them on, and the
//! library's answers, for the export tests (`export_scorer.rs`,
//! `export_c.rs`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod footprint;

use faer::Mat;
use mixtures_anomaly::export::{Exported, Precision};
use mixtures_anomaly::{Detector, Ensemble, EnsemblePart, Threshold};
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{
    AnyMixture, Covariance, DensityModel, Gaussian, Laplace, Mixture, StudentT, UniformNoise,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Points per case: in range, far out and at the centres.
pub const N_POINTS: usize = 10_000;
/// Agreement with the library, relative (absolute below 1 in magnitude).
pub const TOL_F64: f64 = 1e-12;
/// The same in `f32`.
pub const TOL_F32: f64 = 1e-5;

const D: usize = 5;
const K: usize = 3;

fn normal(r: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - r.random::<f64>();
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * core::f64::consts::PI * u2).cos()
}

fn means(r: &mut StdRng) -> Mat<f64> {
    Mat::from_fn(K, D, |c, j| {
        4.0 * c as f64 * if j % 2 == 0 { 1.0 } else { -0.5 } + normal(r)
    })
}

fn spd(r: &mut StdRng) -> Mat<f64> {
    let a = Mat::from_fn(D, D, |_, _| normal(r));
    Mat::from_fn(D, D, |i, j| {
        (0..D).map(|l| a[(i, l)] * a[(j, l)]).sum::<f64>() * 0.3 + if i == j { 0.4 } else { 0.0 }
    })
}

fn variances(r: &mut StdRng, rows: usize) -> Mat<f64> {
    Mat::from_fn(rows, D, |_, _| 0.2 + 3.0 * r.random::<f64>())
}

fn gaussian(r: &mut StdRng, c: Covariance) -> Gaussian<f64> {
    let m = means(r);
    let g = match c {
        Covariance::Full => Gaussian::full(m, (0..K).map(|_| spd(r)).collect()),
        Covariance::Tied => Gaussian::tied(m, spd(r)),
        Covariance::Diag => Gaussian::diag(m, variances(r, K)),
        Covariance::Spherical => {
            Gaussian::spherical(m, (0..K).map(|_| 0.3 + 2.0 * r.random::<f64>()).collect())
        }
        Covariance::TiedDiag => {
            let row = variances(r, 1);
            Gaussian::diag(m, Mat::from_fn(K, D, |_, j| row[(0, j)]))
        }
        Covariance::TiedSpherical => Gaussian::spherical(m, vec![1.7; K]),
        other => panic!("a new structure, {other:?}: add it to the export tests"),
    };
    g.unwrap().with_structure(c).unwrap()
}

const WEIGHTS: [f64; K] = [0.5, 0.3, 0.2];

/// Every family and structure (and a noise component), as `(name, model)`.
pub fn cases() -> Vec<(String, AnyMixture<f64>)> {
    let r = &mut StdRng::seed_from_u64(23);
    let mut out = Vec::new();
    for c in Covariance::ALL {
        let g = gaussian(r, c);
        out.push((
            format!("gaussian {}", c.as_str()),
            Mixture::new(WEIGHTS.to_vec(), g).unwrap().into(),
        ));
    }
    for c in Covariance::ALL {
        // ν = 5000 takes the library's large-ν series for the constant.
        let t = StudentT::from_scale(gaussian(r, c), vec![3.0, 7.5, 5000.0]).unwrap();
        out.push((
            format!("student-t {}", c.as_str()),
            Mixture::new(WEIGHTS.to_vec(), t).unwrap().into(),
        ));
    }
    let loc = means(r);
    let l = Laplace::per_dimension(loc.clone(), variances(r, K)).unwrap();
    out.push((
        "laplace diag".into(),
        Mixture::new(WEIGHTS.to_vec(), l).unwrap().into(),
    ));
    let l = Laplace::spherical(loc, vec![0.5, 1.0, 2.0]).unwrap();
    out.push((
        "laplace spherical".into(),
        Mixture::new(WEIGHTS.to_vec(), l).unwrap().into(),
    ));
    let g = Mixture::new(WEIGHTS.to_vec(), gaussian(r, Covariance::Full)).unwrap();
    let noise = UniformNoise::new(vec![-10.0; D], vec![15.0; D]).unwrap();
    out.push((
        "gaussian full + noise".into(),
        g.add_noise(0.05, noise).unwrap().into(),
    ));
    out
}

/// A two-part ensemble detector (a one-component full Gaussian and a tied
/// mixture, the default detector's shape) with its threshold at `t`.
pub fn ensemble(t: f64) -> Detector<f64, Ensemble<f64>> {
    let r = &mut StdRng::seed_from_u64(5);
    let one = Gaussian::full(Mat::from_fn(1, D, |_, _| 1.0), vec![spd(r)]).unwrap();
    let parts = vec![
        EnsemblePart {
            name: "gaussian".into(),
            model: Mixture::new(vec![1.0], one).unwrap().into(),
            centre: 7.25,
            spread: 2.5,
        },
        EnsemblePart {
            name: "mixture".into(),
            model: Mixture::new(WEIGHTS.to_vec(), gaussian(r, Covariance::Tied))
                .unwrap()
                .into(),
            centre: 9.5,
            spread: 3.25,
        },
    ];
    let e = Ensemble::new(parts, 1).unwrap();
    Detector::from_parts(e, Threshold::new(t, "fixed", []).unwrap())
}

/// The same ensemble in `f32` (each part read back from its model file).
pub fn ensemble32(d: &Detector<f64, Ensemble<f64>>) -> Detector<f32, Ensemble<f32>> {
    let e = d.model();
    let parts = e
        .parts()
        .iter()
        .map(|p| EnsemblePart {
            name: p.name.clone(),
            model: to_f32(&p.model),
            centre: p.centre,
            spread: p.spread,
        })
        .collect();
    let t = Threshold::new(d.threshold().value() as f32, "fixed", []).unwrap();
    Detector::from_parts(Ensemble::new(parts, e.main_index()).unwrap(), t)
}

/// The model in `f32`, as the library reads its file in `f32`.
pub fn to_f32(m: &AnyMixture<f64>) -> AnyMixture<f32> {
    AnyMixture::<f32>::from_model_file(&m.to_model_file()).unwrap()
}

/// `N_POINTS` rows: samples of the model, points far out (10 to 1000 times
/// the spread of the means, in random directions) and the centres
/// themselves (a third of them nudged by 1e-9).
pub fn points(model: &AnyMixture<f64>, seed: u64) -> Vec<Vec<f64>> {
    points_in(model, seed, D)
}

/// [`points`] for a model of dimension `d`.
pub fn points_in(model: &AnyMixture<f64>, seed: u64, d: usize) -> Vec<Vec<f64>> {
    let r = &mut StdRng::seed_from_u64(seed);
    let n_in = 4 * N_POINTS / 10;
    let n_far = 3 * N_POINTS / 10;
    let (x, _) = model.sample(n_in, r);
    let mut rows: Vec<Vec<f64>> = (0..n_in)
        .map(|i| (0..d).map(|j| x[(i, j)]).collect())
        .collect();
    let centres: Vec<Vec<f64>> = match model {
        AnyMixture::Gaussian(m) => rows_of(m.components().means()),
        AnyMixture::StudentT(m) => rows_of(m.components().means()),
        AnyMixture::Laplace(m) => rows_of(m.components().locations()),
    };
    let mid: Vec<f64> = (0..d)
        .map(|j| centres.iter().map(|c| c[j]).sum::<f64>() / centres.len() as f64)
        .collect();
    for _ in 0..n_far {
        let dir: Vec<f64> = (0..d).map(|_| normal(r)).collect();
        let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
        let radius = 10.0 * 100f64.powf(r.random::<f64>()) * 4.0;
        rows.push(
            mid.iter()
                .zip(&dir)
                .map(|(m, v)| m + radius * v / norm)
                .collect(),
        );
    }
    let mut i = 0;
    while rows.len() < N_POINTS {
        let c = &centres[i % centres.len()];
        let nudge = if i % 3 == 0 { 1e-9 } else { 0.0 };
        rows.push(c.iter().map(|v| v + nudge).collect());
        i += 1;
    }
    rows
}

fn rows_of(m: faer::MatRef<'_, f64>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
        .collect()
}

/// `|a − b|` relative to `|b|`, or absolute when `|b| < 1`.
pub fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    (a - b).abs() / b.abs().max(1.0)
}

/// What the library says of every row, in `T`: log-densities (minus the
/// detector's score for an ensemble), scores, components, and flags for a
/// detector.
pub struct Answers {
    pub log_prob: Vec<f64>,
    pub score: Vec<f64>,
    pub component: Vec<usize>,
    pub flags: Option<Vec<bool>>,
    pub threshold: Option<f64>,
}

pub fn library<T: Scalar, M: DensityModel<T>>(
    model: &M,
    threshold: Option<T>,
    rows: &[Vec<f64>],
) -> Answers {
    let rows_t: Vec<Vec<T>> = rows
        .iter()
        .map(|r| r.iter().map(|&v| T::c(v)).collect())
        .collect();
    let data = Dataset::from_rows(&rows_t).unwrap();
    let lp = model.log_prob(&data).unwrap();
    let score = model.anomaly_scores(&data).unwrap();
    let component = model.most_likely_component(&data).unwrap();
    Answers {
        log_prob: lp.iter().map(|v| v.as_f64()).collect(),
        score: score.iter().map(|v| v.as_f64()).collect(),
        component,
        flags: threshold.map(|t| score.iter().map(|&s| s >= t).collect()),
        threshold: threshold.map(|t| t.as_f64()),
    }
}

/// How far another scorer's answers are from the library's.
#[derive(Debug, Default)]
pub struct Agreement {
    pub max_rel_log_prob: f64,
    pub max_rel_score: f64,
    pub component_mismatches: usize,
    pub decision_mismatches: usize,
    pub decisions_near_threshold: usize,
}

/// Compares `(log_prob, score, component, flag)` per row with the library's;
/// a flag may differ only within `tol` of the threshold.
pub fn compare(lib: &Answers, ours: &[(f64, f64, usize, Option<bool>)], tol: f64) -> Agreement {
    let mut a = Agreement::default();
    for (i, &(lp, s, c, flag)) in ours.iter().enumerate() {
        a.max_rel_log_prob = a.max_rel_log_prob.max(rel(lp, lib.log_prob[i]));
        a.max_rel_score = a.max_rel_score.max(rel(s, lib.score[i]));
        a.component_mismatches += usize::from(c != lib.component[i]);
        if let (Some(flags), Some(t), Some(f)) = (&lib.flags, lib.threshold, flag)
            && f != flags[i]
        {
            if rel(lib.score[i], t) <= tol {
                a.decisions_near_threshold += 1;
            } else {
                a.decision_mismatches += 1;
            }
        }
    }
    a
}

/// The export of a case as a detector with its threshold at the median
/// library score (so that half the points are flagged).
pub fn detector_of(
    model: &AnyMixture<f64>,
    rows: &[Vec<f64>],
) -> mixtures_anomaly::AnyDetector<f64> {
    let lib = library::<f64, _>(model, None, rows);
    let mut s = lib.score.clone();
    s.sort_by(f64::total_cmp);
    let t = Threshold::new(s[s.len() / 2], "fixed", []).unwrap();
    Detector::from_parts(model.clone(), t)
}

/// The exports of one case in both precisions.
pub fn exports(det: &mixtures_anomaly::AnyDetector<f64>) -> [(Precision, Exported); 2] {
    [Precision::F64, Precision::F32].map(|p| (p, Exported::detector(det, p).unwrap()))
}
