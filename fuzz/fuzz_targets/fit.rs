//! Fitting with arbitrary small data and arbitrary parameters: a fitted model
//! whose parameters, report and evaluation on the training data are finite, or
//! a typed error; never a panic, a NaN or a hang.
//!
//! Input layout (see `mixtures_fuzz::Reader`): a header of parameters (precision,
//! family, k, covariance structure, init, restarts, iterations, tol, reg_covar,
//! regularizers, seed, shape), then the data values row by row, then optional
//! sample weights, then optional family, trimming and noise settings. Bytes that
//! run out are filled from a fixed sequence.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixtures::mixtures_em::{
    Covariance, DegeneracyPolicy, DegreesOfFreedom, LaplaceMixture, Noise, ShrinkTarget, Shrinkage,
    StudentTMixture, VarianceFloor,
};
use mixtures::prelude::*;
use mixtures_fuzz::{Reader, all_finite, check_evaluation, sum_tolerance};

/// Most EM iterations: keeps one execution to well under a millisecond.
const MAX_ITER: usize = 20;
/// Largest data set: 64 rows of 6 features.
const MAX_ROWS: usize = 64;
const MAX_COLS: usize = 6;

/// Every way of naming a covariance structure, mclust's names included.
const COVARIANCE_NAMES: [&str; 14] = [
    "full",
    "diag",
    "spherical",
    "tied",
    "tied-diag",
    "tied-spherical",
    "VVV",
    "VVI",
    "VII",
    "EEE",
    "EEI",
    "EII",
    "eii",
    "XXX",
];

const INITS: [Init; 4] = [
    Init::KMeans,
    Init::KMeansPlusPlus,
    Init::RandomResponsibilities,
    Init::RandomPoints,
];

#[derive(Debug)]
struct Case {
    f32: bool,
    laplace: bool,
    k: usize,
    covariance: &'static str,
    laplace_spherical: bool,
    init: Init,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    reg_covar: f64,
    scale_floor: f64,
    drop_degenerate: bool,
    prior: Option<ConjugatePrior>,
    shrinkage: Option<(f64, ShrinkTarget)>,
    floor: Option<f64>,
    seed: u64,
    rows: usize,
    cols: usize,
    values: Vec<f64>,
    weights: Option<Vec<f64>>,
    /// A Student-t fit instead of the Gaussian one, with this treatment of
    /// the degrees of freedom.
    student: Option<DegreesOfFreedom>,
    /// Trimmed likelihood EM with this fraction (0: none).
    trim: f64,
    /// A uniform noise component.
    noise: Option<Noise>,
}

fn decode(r: &mut Reader<'_>) -> Case {
    let f32 = r.chance(64);
    let laplace = r.chance(64);
    // Mostly 1..=4 components; sometimes 0 (an error) or more than the rows.
    let k = r.pick(&[1, 1, 2, 2, 2, 3, 3, 4, 5, 8, 0]);
    let covariance = r.pick(&COVARIANCE_NAMES);
    let laplace_spherical = r.chance(128);
    let init = r.pick(&INITS);
    let n_init = r.pick(&[1, 1, 1, 2, 3, 0]);
    let max_iter = r.below(MAX_ITER + 1);
    let tol = r.parameter(&[1e-3, 1e-3, 0.0, 1e-10, 1.0]);
    let reg_covar = r.parameter(&[1e-6, 1e-6, 0.0, 1e-3, 1.0, 1e-12]);
    let scale_floor = r.parameter(&[1e-6, 1e-6, 0.0, 1e-3, 1.0]);
    let drop_degenerate = r.chance(64);
    let prior = r.chance(40).then(|| ConjugatePrior {
        shrinkage: r.parameter(&[0.01, 0.0, 1.0, 100.0]),
        mean: None,
        dof: r.chance(64).then(|| r.parameter(&[3.0, 10.0, 0.5, 1.0])),
        scale_factor: r.parameter(&[1.0, 0.1, 10.0]),
    });
    let shrinkage = r.chance(32).then(|| {
        (
            r.parameter(&[0.1, 0.5, 1.0, 0.0]),
            r.pick(&[ShrinkTarget::Diagonal, ShrinkTarget::ScaledIdentity]),
        )
    });
    let floor = r.chance(32).then(|| r.parameter(&[1e-3, 1.0, 0.0, 1e-9]));
    let seed = u64::from(r.byte());
    let rows = 1 + r.below(MAX_ROWS);
    let cols = 1 + r.below(MAX_COLS);
    let mut values = Vec::with_capacity(rows * cols);
    for _ in 0..rows * cols {
        let v = r.value(&values);
        values.push(v);
    }
    let weights = (!r.exhausted() && r.chance(64)).then(|| {
        let mut w = Vec::with_capacity(rows);
        for _ in 0..rows {
            // Mostly positive weights; zeros and the odd bad value.
            let v = match r.byte() {
                0..=31 => 0.0,
                32..=239 => f64::from(r.byte()) / 16.0,
                _ => r.value(&w),
            };
            w.push(v);
        }
        w
    });
    // Trailing bytes ask for a Student-t fit: inputs written before the
    // family existed end earlier and decode as they always did.
    let student = (!r.exhausted() && r.chance(96)).then(|| match r.byte() % 4 {
        0 => DegreesOfFreedom::Shared,
        1 => DegreesOfFreedom::Fixed(r.parameter(&[5.0, 0.5, 1e6, 0.0, 1e12])),
        _ => DegreesOfFreedom::PerComponent,
    });
    // Later still: trimming and a noise component (with bad values too).
    let trim = if !r.exhausted() && r.chance(96) {
        r.parameter(&[0.1, 0.25, 0.0, 0.49, 0.5, -0.1])
    } else {
        0.0
    };
    let noise = (!r.exhausted() && r.chance(96)).then(|| match r.byte() % 3 {
        0 => Noise::volume(r.parameter(&[1.0, 1e6, 0.0, 1e-300, 1e300])),
        1 => Noise::bounding_box().initial_weight(r.parameter(&[0.5, 0.99, 0.0, 1.0])),
        _ => Noise::bounding_box(),
    });
    Case {
        f32,
        laplace,
        k,
        covariance,
        laplace_spherical,
        init,
        n_init,
        max_iter,
        tol,
        reg_covar,
        scale_floor,
        drop_degenerate,
        prior,
        shrinkage,
        floor,
        seed,
        rows,
        cols,
        values,
        weights,
        student,
        trim,
        noise,
    }
}

fn run<T: Scalar>(case: &Case) {
    let values: Vec<T> = case.values.iter().map(|&v| T::c(v)).collect();
    let Ok(mut data) = Dataset::from_row_major(&values, case.rows, case.cols) else {
        return;
    };
    if let Some(w) = &case.weights {
        let w: Vec<T> = w.iter().map(|&v| T::c(v)).collect();
        data = match data.with_weights(w) {
            Ok(d) => d,
            Err(_) => return,
        };
    }
    let policy = if case.drop_degenerate {
        DegeneracyPolicy::Drop
    } else {
        DegeneracyPolicy::Reseed
    };
    // The settings every family takes, once.
    let control = EmControl {
        init: case.init,
        n_init: case.n_init,
        max_iter: case.max_iter,
        tol: case.tol,
        reg_covar: case.reg_covar,
        seed: case.seed,
        policy,
        observer: None,
        trim: case.trim,
        noise: case.noise,
    };
    let fitted: Result<(AnyMixture<T>, FitReport), FitError> = if case.laplace {
        let structure = if case.laplace_spherical {
            Covariance::Spherical
        } else {
            Covariance::Diag
        };
        LaplaceMixture::params::<T>(case.k)
            .structure(structure)
            .scale_floor(case.scale_floor)
            .control(control.clone())
            .fit(&data)
            .map(|f| (AnyMixture::Laplace(f.model), f.report))
    } else {
        let covariance: Covariance = match case.covariance.parse() {
            Ok(c) => c,
            // An unknown name is a typed error too; nothing to fit.
            Err(ModelError::InvalidParameter { .. }) => return,
            Err(e) => panic!("unexpected error for a covariance name: {e}"),
        };
        if let Some(dof) = case.student {
            StudentTMixture::params::<T>(case.k)
                .covariance(covariance)
                .degrees_of_freedom(dof)
                .control(control.clone())
                .fit(&data)
                .map(|f| (AnyMixture::StudentT(f.model), f.report))
        } else {
            let mut params = GaussianMixture::params::<T>(case.k)
                .covariance(covariance)
                .control(control.clone());
            if let Some(p) = &case.prior {
                params = params.prior(p.clone());
            }
            if let Some((coefficient, target)) = case.shrinkage {
                params = params.regularizer(Shrinkage {
                    coefficient,
                    target,
                });
            }
            if let Some(f) = case.floor {
                params = params.regularizer(VarianceFloor(f));
            }
            params
                .fit(&data)
                .map(|f| (AnyMixture::Gaussian(f.model), f.report))
        }
    };
    let (model, report) = match fitted {
        Ok(f) => f,
        // Every error is typed; its message must be printable.
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    check_model(&model, &report, case, &data);
}

fn check_model<T: Scalar>(
    model: &AnyMixture<T>,
    report: &FitReport,
    case: &Case,
    data: &Dataset<T>,
) {
    assert_eq!(model.dim(), case.cols);
    // Dropping degenerate components may leave fewer, never more.
    assert!(model.n_components() >= 1 && model.n_components() <= case.k);
    let w = model.weights();
    assert!(
        w.iter().all(|v| v.is_finite() && *v >= T::zero()),
        "weights {w:?}"
    );
    let noise = model.noise().map_or(0.0, |(w, _)| w.as_f64());
    assert!((0.0..1.0).contains(&noise), "noise weight {noise}");
    let s: f64 = w.iter().map(|v| v.as_f64()).sum::<f64>() + noise;
    assert!(
        (s - 1.0).abs() <= sum_tolerance::<T>(w.len()),
        "weights sum to {s}"
    );
    // A Student-t's scale is a Gaussian family: the same checks, and finite,
    // positive degrees of freedom.
    let gaussian = match model {
        AnyMixture::StudentT(m) => {
            let dof = m.components().dof();
            assert!(
                dof.iter().all(|v| v.is_finite() && *v > T::zero()),
                "{dof:?}"
            );
            Some(m.components().scale())
        }
        AnyMixture::Gaussian(m) => Some(m.components()),
        AnyMixture::Laplace(_) => None,
    };
    match model {
        AnyMixture::Gaussian(_) | AnyMixture::StudentT(_) => {
            let Some(c) = gaussian else { return };
            let means = c.means();
            assert!(all_finite(
                means.col_iter().flat_map(|col| col.iter().copied())
            ));
            for k in 0..model.n_components() {
                let cov = c.covariance_matrix(k);
                assert!(
                    all_finite(cov.col_iter().flat_map(|col| col.iter().copied())),
                    "covariance {k}: {cov:?}"
                );
                assert!(c.log_det(k).is_finite(), "log-determinant of component {k}");
            }
        }
        AnyMixture::Laplace(m) => {
            let c = m.components();
            assert!(all_finite(
                c.locations().col_iter().flat_map(|col| col.iter().copied())
            ));
            for k in 0..m.n_components() {
                for j in 0..case.cols {
                    let b = c.scale(k, j);
                    assert!(b.is_finite() && b > T::zero(), "scale ({k}, {j}) = {b:?}");
                }
            }
        }
    }
    assert!(
        report.log_likelihood.is_finite(),
        "log-likelihood {}",
        report.log_likelihood
    );
    // The trace is the history of the iterates: one (typically the first,
    // from an initialization with a tiny variance) may have given a point
    // zero density, −∞, before EM moved away from it. Never NaN or +∞.
    assert!(
        report
            .lower_bound_trace
            .iter()
            .all(|v| !v.is_nan() && *v != f64::INFINITY),
        "lower bound trace {:?}",
        report.lower_bound_trace
    );
    assert!(report.n_iter <= case.max_iter);
    assert!(report.restarts.len() <= case.n_init);
    // The model must evaluate its own training data to finite log-densities,
    // except the rows a trimmed fit left out: it never saw them, and one may
    // lie infinitely far from it in floating point.
    check_evaluation(model, data, case.trim == 0.0);
    // And survive its own model file.
    let back =
        AnyMixture::<T>::from_json(&model.to_json()).expect("a fitted model writes a valid file");
    assert_eq!(back.to_json(), model.to_json());
}

fuzz_target!(|bytes: &[u8]| {
    let mut r = Reader::new(bytes);
    let case = decode(&mut r);
    if mixtures_fuzz::debug() {
        eprintln!("{case:#?}");
    }
    if case.f32 {
        run::<f32>(&case);
    } else {
        run::<f64>(&case);
    }
});
