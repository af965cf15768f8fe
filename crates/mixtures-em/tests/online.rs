//! Online (stepwise) EM: one step with `η = 1` is a batch EM step for every
//! structure (the same M-step), the cumulative-average schedule of one
//! component is the batch estimate exactly, a stream from a known mixture
//! approaches the batch fit, a constant step tracks a moving mean, the
//! invariants hold after every batch, results do not depend on the number
//! of threads, and bad batches are errors that leave the model as it was.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::{Mat, mat};
use mixtures_core::source::{Chunked, RowSource};
use mixtures_core::{DataError, Dataset};
use mixtures_dist::{Gaussian, GaussianMixtureModel, Mixture};
use mixtures_em::{
    ConjugatePrior, Covariance, FitError, GaussianMixture, ShrinkTarget, Shrinkage, StepSize,
    VarianceFloor,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Three 2-D components with full covariances.
fn truth() -> GaussianMixtureModel<f64> {
    Mixture::new(
        vec![0.5, 0.3, 0.2],
        Gaussian::full(
            mat![[0.0, 0.0], [5.0, 1.0], [-1.0, 6.0]],
            vec![
                mat![[1.0, 0.3], [0.3, 0.5]],
                mat![[0.6, -0.2], [-0.2, 1.2]],
                mat![[0.8, 0.0], [0.0, 0.8]],
            ],
        )
        .unwrap(),
    )
    .unwrap()
}

fn batch_of(model: &GaussianMixtureModel<f64>, n: usize, seed: u64) -> Dataset<f64> {
    let (x, _) = model.sample(n, &mut StdRng::seed_from_u64(seed));
    Dataset::from_mat(x.as_ref()).unwrap()
}

/// Largest difference of weights, means and covariance entries, components
/// matched by their order of first mean coordinate.
fn gap(a: &GaussianMixtureModel<f64>, b: &GaussianMixtureModel<f64>) -> f64 {
    let order = |m: &GaussianMixtureModel<f64>| {
        let mut o: Vec<usize> = (0..m.n_components()).collect();
        o.sort_by(|&i, &j| m.components().mean(i)[0].total_cmp(&m.components().mean(j)[0]));
        o
    };
    let (oa, ob) = (order(a), order(b));
    let mut g = 0.0f64;
    for (&i, &j) in oa.iter().zip(&ob) {
        g = g.max((a.weights()[i] - b.weights()[j]).abs());
        for (x, y) in a.components().mean(i).iter().zip(b.components().mean(j)) {
            g = g.max((x - y).abs());
        }
        let (ca, cb) = (
            a.components().covariance_matrix(i),
            b.components().covariance_matrix(j),
        );
        for r in 0..ca.nrows() {
            for c in 0..ca.ncols() {
                g = g.max((ca[(r, c)] - cb[(r, c)]).abs());
            }
        }
    }
    g
}

#[test]
fn a_unit_step_is_a_batch_em_step_for_every_structure() {
    let data = batch_of(&truth(), 600, 1);
    for cov in Covariance::ALL {
        for prior in [false, true] {
            let mut params = GaussianMixture::params(3)
                .covariance(cov)
                .seed(2)
                .max_iter(3);
            if prior {
                params = params.prior(ConjugatePrior::default());
            }
            let start = params.fit(&batch_of(&truth(), 300, 9)).unwrap().model;
            let (_, want) = params.step(&start, &data).unwrap();
            let mut online = params
                .online_from(start)
                .unwrap()
                .step_size(StepSize::Constant(1.0));
            online.partial_fit(&data).unwrap();
            let got = online.model().unwrap();
            assert!(
                gap(got, &want) < 1e-10,
                "{cov:?} prior {prior}: {}",
                gap(got, &want)
            );
        }
    }
}

#[test]
fn a_regularizer_acts_as_in_batch_em() {
    let data = batch_of(&truth(), 500, 3);
    let params = GaussianMixture::params(3)
        .covariance(Covariance::Full)
        .regularizer(Shrinkage {
            coefficient: 0.2,
            target: ShrinkTarget::Diagonal,
        })
        .regularizer(VarianceFloor(0.3))
        .seed(4);
    let start = params.fit(&batch_of(&truth(), 300, 8)).unwrap().model;
    let (_, want) = params.step(&start, &data).unwrap();
    // The regularizers' context comes from the first batch online, from all
    // rows in batch EM: the same rows here.
    let mut online = params
        .online_from(start)
        .unwrap()
        .step_size(StepSize::Constant(1.0));
    online.partial_fit(&data).unwrap();
    assert!(gap(online.model().unwrap(), &want) < 1e-10);
}

#[test]
fn the_cumulative_average_of_one_component_is_the_batch_estimate() {
    // With one component the responsibilities are all 1, so the running
    // statistics of `α = 1, t0 = 1` (the start counts as one batch) are the
    // statistics of every row: the model is the batch fit's exactly.
    let m = truth();
    let batches: Vec<Dataset<f64>> = (0..12).map(|b| batch_of(&m, 250, 100 + b)).collect();
    let params = GaussianMixture::params(1)
        .covariance(Covariance::Full)
        .reg_covar(0.0);
    let mut online = params.online().step_size(StepSize::Decaying {
        alpha: 1.0,
        t0: 1.0,
    });
    for b in &batches {
        online.partial_fit(b).unwrap();
    }
    let rows: Vec<f64> = batches.iter().flat_map(Dataset::to_row_major).collect();
    let all = Dataset::from_row_major(&rows, 3000, 2).unwrap();
    let batch = params.fit(&all).unwrap().model;
    assert!(
        gap(online.model().unwrap(), &batch) < 1e-12,
        "{}",
        gap(online.model().unwrap(), &batch)
    );
}

#[test]
fn a_stream_approaches_the_batch_fit() {
    let m = truth();
    let params = GaussianMixture::params(3)
        .covariance(Covariance::Full)
        .seed(3);
    let mut online = params.online();
    let mut averaged = params.online().averaging(20);
    let batches: Vec<Dataset<f64>> = (0..60).map(|b| batch_of(&m, 1000, 1000 + b)).collect();
    let mut gaps = Vec::new();
    for (t, b) in batches.iter().enumerate() {
        online.partial_fit(b).unwrap();
        averaged.partial_fit(b).unwrap();
        gaps.push(gap(online.model().unwrap(), &m));
        assert_eq!(averaged.averaged_model().is_some(), t >= 20);
        assert_eq!(averaged.model(), online.model());
    }
    let rows: Vec<f64> = batches.iter().flat_map(Dataset::to_row_major).collect();
    let all = Dataset::from_row_major(&rows, 60_000, 2).unwrap();
    // Restarts: one k-means start of this seed merges two components.
    let batch = params.clone().n_init(5).fit(&all).unwrap().model;
    let to_batch = gap(online.model().unwrap(), &batch);
    // The batch fit is within sampling error (about 0.01 here) of the truth;
    // the online fit within a few times that of the batch fit, and far
    // closer than after its first batch.
    assert!(
        to_batch < 0.04,
        "online to batch {to_batch}: {:?} {:?} {:?}",
        online.model().unwrap(),
        batch,
        gaps
    );
    assert!(gaps[59] < 0.5 * gaps[0], "{gaps:?}");
    // The average of the last 40 batches' statistics is closer still.
    let to_batch_averaged = gap(averaged.averaged_model().unwrap(), &batch);
    assert!(
        to_batch_averaged < 0.9 * to_batch,
        "{to_batch_averaged} {to_batch}"
    );
    assert_eq!(online.n_rows(), 60_000);
    assert_eq!(online.n_batches(), 60);
}

#[test]
fn a_constant_step_tracks_a_moving_mean() {
    // One component whose mean moves by 0.05 per batch (10 over the stream).
    let at = |b: u64| {
        let mut m = truth();
        let g = Gaussian::full(
            mat![[0.05 * b as f64, 0.0]],
            vec![mat![[1.0, 0.0], [0.0, 1.0]]],
        )
        .unwrap();
        m = Mixture::new(vec![1.0], g).unwrap_or(m);
        m
    };
    let params = GaussianMixture::params(1).covariance(Covariance::Diag);
    let mut tracking = params.online().step_size(StepSize::Constant(0.2));
    let mut settling = params.online();
    for b in 0..200 {
        let x = batch_of(&at(b), 500, b);
        tracking.partial_fit(&x).unwrap();
        settling.partial_fit(&x).unwrap();
    }
    let end = 0.05 * 199.0;
    let lag = |o: &mixtures_em::OnlineGaussianMixture<f64>| {
        end - o.model().unwrap().components().mean(0)[0]
    };
    // Exponential forgetting lags by about (1 − η)/η batches: 0.2 here;
    // the decaying schedule, which averages over an ever longer past, by
    // far more.
    assert!(lag(&tracking).abs() < 0.35, "{}", lag(&tracking));
    assert!(lag(&settling) > 1.0, "{}", lag(&settling));
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let m = truth();
    let batches: Vec<Dataset<f64>> = (0..8).map(|b| batch_of(&m, 3000, 50 + b)).collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut o = GaussianMixture::params(3).seed(11).n_init(2).online();
            for b in &batches {
                o.partial_fit(b).unwrap();
            }
            o.model().unwrap().clone()
        })
    };
    let one = run(1);
    assert_eq!(one, run(4));
    assert_eq!(one, run(1));
}

#[test]
fn bad_batches_are_errors_that_change_nothing() {
    let m = truth();
    let mut o = GaussianMixture::params(3).seed(1).online();
    // Fewer distinct rows than components in the first batch.
    let few = Dataset::from_rows(&[[0.0, 0.0], [1.0, 1.0]]).unwrap();
    assert!(matches!(
        o.partial_fit(&few),
        Err(FitError::TooFewDistinctPoints { .. })
    ));
    assert!(o.model().is_none());
    o.partial_fit(&batch_of(&m, 500, 1)).unwrap();
    let before = o.model().unwrap().clone();
    let wide = Dataset::from_rows(&[[0.0, 0.0, 0.0]]).unwrap();
    assert!(matches!(
        o.partial_fit(&wide),
        Err(FitError::Data(DataError::DimensionMismatch { .. }))
    ));
    // Values whose squares overflow.
    let huge = Dataset::from_rows(&[[1e300, 0.0], [-1e300, 1.0]]).unwrap();
    assert!(matches!(
        o.partial_fit(&huge),
        Err(FitError::DataScale { .. })
    ));
    assert_eq!(o.model().unwrap(), &before);
    assert_eq!(o.n_batches(), 1);

    // A NaN in a source: named by its place in the source.
    let mut values = batch_of(&m, 100, 2).to_row_major();
    values[2 * 73 + 1] = f64::NAN;
    let with_nan = NanSource(values);
    let err = o.partial_fit_source(&with_nan).unwrap_err();
    assert!(err.to_string().contains("row 73"), "{err}");

    // Settings and schedules out of range.
    for s in [
        StepSize::Constant(0.0),
        StepSize::Constant(1.5),
        StepSize::Decaying {
            alpha: 0.5,
            t0: 1.0,
        },
        StepSize::Decaying {
            alpha: 0.7,
            t0: -1.0,
        },
    ] {
        let mut bad = GaussianMixture::params(3).online().step_size(s);
        assert!(matches!(
            bad.partial_fit(&batch_of(&m, 100, 3)),
            Err(FitError::InvalidParameter { .. })
        ));
    }
    let mut trimmed = GaussianMixture::params(3).trim(0.1).online();
    assert!(matches!(
        trimmed.partial_fit(&batch_of(&m, 100, 3)),
        Err(FitError::InvalidParameter { name: "trim", .. })
    ));
}

/// Row-major values of two columns, read as one batch whatever their values
/// (a `Dataset` would refuse the NaN before the fit sees it).
struct NanSource(Vec<f64>);

impl RowSource<f64> for NanSource {
    fn n_features(&self) -> usize {
        2
    }
    fn for_each_batch(
        &self,
        f: &mut dyn FnMut(
            mixtures_core::source::Batch<'_, f64>,
        ) -> Result<(), mixtures_core::source::SourceError>,
    ) -> Result<(), mixtures_core::source::SourceError> {
        let n = self.0.len() / 2;
        let x = Mat::from_fn(n, 2, |i, j| self.0[2 * i + j]);
        f(mixtures_core::source::Batch {
            rows: x.as_ref(),
            weights: None,
            first: 0,
        })
    }
}

#[test]
fn a_source_is_read_batch_by_batch() {
    let data = batch_of(&truth(), 4000, 5);
    let params = GaussianMixture::params(3).seed(2);
    let mut by_source = params.online();
    let steps = by_source
        .partial_fit_source(&Chunked::new(&data, 500))
        .unwrap();
    assert_eq!(steps.len(), 8);
    assert_eq!(steps[0].step_size, 1.0);
    let mut by_hand = params.online();
    for b in 0..8 {
        let rows: Vec<usize> = (b * 500..(b + 1) * 500).collect();
        by_hand
            .partial_fit(&data.select_rows(&rows).unwrap())
            .unwrap();
    }
    assert_eq!(by_source.model(), by_hand.model());
}

#[test]
fn a_repaired_component_restarts_its_statistics() {
    // Two components started far apart, then only rows of the first: the
    // second's weight decays towards zero under a constant step until it
    // collapses and is re-seeded; the model stays valid throughout.
    let start = Mixture::new(
        vec![0.5, 0.5],
        Gaussian::diag(mat![[0.0, 0.0], [50.0, 50.0]], mat![[1.0, 1.0], [1.0, 1.0]]).unwrap(),
    )
    .unwrap();
    let one = Mixture::new(
        vec![1.0],
        Gaussian::diag(mat![[0.0, 0.0]], mat![[1.0, 1.0]]).unwrap(),
    )
    .unwrap();
    let mut o = GaussianMixture::params(2)
        .covariance(Covariance::Diag)
        .online_from(start)
        .unwrap()
        .step_size(StepSize::Constant(0.9));
    for b in 0..20 {
        o.partial_fit(&batch_of(&one, 200, b)).unwrap();
        let w: f64 = o.model().unwrap().weights().iter().sum();
        assert!((w - 1.0).abs() < 1e-12);
    }
    assert!(!o.degeneracies().is_empty());
}

fn structure() -> impl Strategy<Value = Covariance> {
    prop::sample::select(Covariance::ALL.to_vec())
}

fn schedule() -> impl Strategy<Value = StepSize> {
    prop_oneof![
        (0.51f64..=1.0, 0.0f64..5.0).prop_map(|(alpha, t0)| StepSize::Decaying { alpha, t0 }),
        (0.01f64..=1.0).prop_map(StepSize::Constant),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn invariants_hold_after_every_batch(
        cov in structure(),
        s in schedule(),
        k in 1usize..4,
        sizes in prop::collection::vec(20usize..200, 2..8),
        seed in 0u64..1000,
    ) {
        let m = truth();
        let mut o = GaussianMixture::params(k).covariance(cov).seed(seed).online().step_size(s);
        let mut last = f64::INFINITY;
        for (b, &n) in sizes.iter().enumerate() {
            let step = o.partial_fit(&batch_of(&m, n, seed * 31 + b as u64)).unwrap();
            prop_assert!(step.step_size > 0.0 && step.step_size <= 1.0);
            if b > 0 {
                prop_assert_eq!(step.step_size, s.at(b as u64));
                prop_assert!(step.step_size <= last);
                prop_assert!((step.effective_weight - n as f64 / step.step_size).abs() < 1e-9 * step.effective_weight);
            }
            last = step.step_size;
            let model = o.model().unwrap();
            let w: f64 = model.weights().iter().sum();
            prop_assert!((w - 1.0).abs() < 1e-12);
            prop_assert!(model.weights().iter().all(|&w| w > 0.0));
            for c in 0..model.n_components() {
                let cov = model.components().covariance_matrix(c);
                prop_assert!(cov.llt(faer::Side::Lower).is_ok());
            }
        }
    }
}

#[test]
fn single_precision_follows_double() {
    let m = truth();
    let params64 = GaussianMixture::params(3)
        .covariance(Covariance::Diag)
        .seed(6);
    let params32 = GaussianMixture::params::<f32>(3)
        .covariance(Covariance::Diag)
        .seed(6);
    let (mut o64, mut o32) = (params64.online(), params32.online());
    for b in 0..10 {
        let x = batch_of(&m, 2000, 300 + b);
        let rows: Vec<f32> = x.to_row_major().iter().map(|&v| v as f32).collect();
        o64.partial_fit(&x).unwrap();
        o32.partial_fit(&Dataset::from_row_major(&rows, 2000, 2).unwrap())
            .unwrap();
    }
    let (a, b) = (o64.model().unwrap(), o32.model().unwrap());
    for c in 0..3 {
        assert!((a.weights()[c] - f64::from(b.weights()[c])).abs() < 1e-3);
        for (x, y) in a.components().mean(c).iter().zip(b.components().mean(c)) {
            assert!((x - f64::from(*y)).abs() < 1e-3, "{x} {y}");
        }
    }
}
