//! Streaming: the quantile sketch's rank error against exact quantiles
//! (within its bound, merged or not), and the online detector on drifting
//! streams: its threshold follows a shifted distribution, the flagged share
//! stays near the contamination where a frozen detector's does not.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{normal, rng};
use mixtures_anomaly::{AnomalyError, Detector, OnlineDetector, QuantileSketch, ScoreWindow};
use mixtures_core::Dataset;
use mixtures_em::{Covariance, FitError, GaussianMixture, StepSize};
use proptest::prelude::*;
use rand::Rng;

/// `n` values in a scrambled order: a permutation of `0..n`, so that the
/// value `v` has exactly `v + 1` values at or below it.
fn scrambled(n: u64) -> Vec<f64> {
    // 2654435761 is odd and prime to any power of two; n below it: a
    // bijection on 0..n when n is a power of two. For other n, shuffle.
    let mut v: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut r = rng(n);
    for i in (1..v.len()).rev() {
        let j = r.random_range(0..=i);
        v.swap(i, j);
    }
    v
}

/// The largest distance, as a fraction of `n`, between the asked rank `q n`
/// and the true rank interval `[v, v + 1]` of the returned value.
fn worst_rank_error(sketch: &QuantileSketch, n: u64, qs: &[f64]) -> f64 {
    let n = n as f64;
    qs.iter()
        .map(|&q| {
            let v = sketch.quantile(q).unwrap();
            let target = q * n;
            if target < v {
                v - target
            } else if target > v + 1.0 {
                target - v - 1.0
            } else {
                0.0
            }
        })
        .fold(0.0, f64::max)
        / n
}

fn grid() -> Vec<f64> {
    let mut qs: Vec<f64> = (1..1000).map(|i| i as f64 / 1000.0).collect();
    qs.extend([0.995, 0.999, 0.9995, 0.9999]);
    qs
}

#[test]
fn the_sketch_is_within_its_bound_against_exact_quantiles() {
    let n = 1_000_000u64;
    let values = scrambled(n);
    let mut one = QuantileSketch::default();
    one.extend(values.iter().copied()).unwrap();
    // Seven parts merged in a tree: the same guarantee.
    let mut parts: Vec<QuantileSketch> = (0..7).map(|_| QuantileSketch::default()).collect();
    for (i, &v) in values.iter().enumerate() {
        parts[(i * 7) / values.len()].insert(v).unwrap();
    }
    while parts.len() > 1 {
        let b = parts.pop().unwrap();
        let a = parts.pop().unwrap();
        let mut m = a;
        m.merge(&b).unwrap();
        parts.insert(0, m);
    }
    let merged = parts.pop().unwrap();
    let bound = QuantileSketch::error_bound(n, one.capacity());
    for s in [&one, &merged] {
        assert_eq!(s.count(), n);
        assert_eq!((s.min(), s.max()), (Some(0.0), Some((n - 1) as f64)));
        let measured = worst_rank_error(s, n, &grid());
        // The sketch's own tracked error bounds what it does, and the
        // a-priori bound (0.2 % at a million values) bounds that.
        assert!(
            measured <= s.rank_error() + 1e-12,
            "{measured} {}",
            s.rank_error()
        );
        assert!(s.rank_error() <= bound, "{} {bound}", s.rank_error());
        // In practice well below (0.04 % against 0.2 %: the errors of
        // successive compactions partly cancel).
        eprintln!(
            "measured {measured}, tracked {}, bound {bound}",
            s.rank_error()
        );
        assert!(measured < 0.5 * bound, "measured {measured} bound {bound}");
    }
    assert!(bound < 0.0025);
}

#[test]
fn a_window_of_sketches_is_their_union() {
    let values = scrambled(50_000);
    let parts: Vec<QuantileSketch> = values
        .chunks(5000)
        .map(|c| {
            let mut s = QuantileSketch::new(512).unwrap();
            s.extend(c.iter().copied()).unwrap();
            s
        })
        .collect();
    let e = QuantileSketch::union_rank_error(&parts);
    for q in [0.01, 0.5, 0.9, 0.99, 0.999] {
        let v = QuantileSketch::union_quantile(&parts, q).unwrap();
        let target = q * 50_000.0;
        assert!(v <= target + e * 50_000.0 && v + 1.0 >= target - e * 50_000.0);
    }
    assert_eq!(QuantileSketch::union_quantile(&parts, 0.0), Some(0.0));
    assert_eq!(QuantileSketch::union_quantile(&parts, 1.0), Some(49_999.0));
    assert_eq!(QuantileSketch::union_quantile(&parts, 1.5), None);
    assert_eq!(QuantileSketch::union_quantile(&[], 0.5), None);
}

#[test]
fn sketch_errors() {
    assert!(matches!(
        QuantileSketch::new(1),
        Err(AnomalyError::InvalidParameter { .. })
    ));
    let mut s = QuantileSketch::new(3).unwrap();
    assert_eq!(s.capacity(), 4);
    assert!(matches!(
        s.extend([1.0, f64::NAN]),
        Err(AnomalyError::NonFiniteScore { index: 1, .. })
    ));
    assert_eq!(s.count(), 1);
    assert!(s.merge(&QuantileSketch::new(8).unwrap()).is_err());
    assert!(QuantileSketch::default().quantile(0.5).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_rank_is_within_the_tracked_error(
        values in prop::collection::vec(-1e3f64..1e3, 1..3000),
        capacity in 2usize..64,
        split in 0usize..3000,
        ys in prop::collection::vec(-1.1e3f64..1.1e3, 1..20),
    ) {
        let cut = split.min(values.len());
        let mut a = QuantileSketch::new(capacity).unwrap();
        let mut b = QuantileSketch::new(capacity).unwrap();
        a.extend(values[..cut].iter().copied()).unwrap();
        b.extend(values[cut..].iter().copied()).unwrap();
        a.merge(&b).unwrap();
        let n = values.len() as u64;
        prop_assert_eq!(a.count(), n);
        let e = a.rank_error() * n as f64;
        prop_assert!(a.rank_error() <= QuantileSketch::error_bound(n, capacity) + 1e-12);
        for y in ys {
            let exact = values.iter().filter(|&&v| v <= y).count() as f64;
            prop_assert!((a.rank(y) - exact).abs() <= e + 1e-9);
        }
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.1, 0.5, 0.9, 0.99] {
            let v = a.quantile(q).unwrap();
            let below = sorted.iter().filter(|&&x| x < v).count() as f64;
            let at_or_below = sorted.iter().filter(|&&x| x <= v).count() as f64;
            let target = q * n as f64;
            prop_assert!(below <= target + e + 1e-9 && at_or_below >= target - e - 1e-9);
        }
    }
}

/// A batch of `n` rows of a 2-D normal with mean `(m, 0)` and standard
/// deviation `sd` in both features.
fn normal_batch(n: usize, m: f64, sd: f64, seed: u64) -> Dataset<f64> {
    let mut r = rng(seed);
    let rows: Vec<[f64; 2]> = (0..n)
        .map(|_| [m + sd * normal(&mut r), sd * normal(&mut r)])
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

fn share(flags: &[u8]) -> f64 {
    flags.iter().map(|&f| f64::from(f)).sum::<f64>() / flags.len() as f64
}

#[test]
fn the_detector_tracks_a_moving_mean() {
    let c = 0.01;
    let em = GaussianMixture::params(1)
        .covariance(Covariance::Full)
        .online()
        .step_size(StepSize::Constant(0.1));
    let mut online = OnlineDetector::new(em).contamination(c);
    assert_eq!(online.window_batches(), Some(10));
    let mut frozen: Option<Detector<f64, _>> = None;
    let mut late = Vec::new();
    let mut frozen_late = Vec::new();
    for b in 0..150u64 {
        // The mean moves by 0.05 standard deviations per batch: 7.5 in all.
        let x = normal_batch(2000, 0.05 * b as f64, 1.0, b);
        let up = online.update(&x).unwrap();
        if b == 0 {
            frozen = Some(online.detector().unwrap().unwrap());
        }
        if b >= 100 {
            late.push(share(&up.flags));
            frozen_late.push(share(&frozen.as_ref().unwrap().predict(&x).unwrap()));
        }
    }
    let mean_share = late.iter().sum::<f64>() / late.len() as f64;
    let frozen_share = frozen_late.iter().sum::<f64>() / frozen_late.len() as f64;
    // A model lagging by (1 − η)/η = 9 batches (0.45 sd) flags a little more
    // than 1 %; the frozen detector flags most of the moved cloud.
    assert!(mean_share > 0.005 && mean_share < 0.03, "{mean_share}");
    assert!(frozen_share > 0.9, "{frozen_share}");
    let mean = online.model().unwrap().components().mean(0)[0];
    assert!((mean - 0.05 * 149.0).abs() < 0.6, "{mean}");
    assert!(online.rank_error() < 1e-3);
}

#[test]
fn the_threshold_follows_a_change_of_spread() {
    // The standard deviation doubles at batch 60: in two dimensions every
    // score −ln p(x) shifts by ln 4 in distribution, and so must the
    // threshold once the window holds only batches after the change.
    let em = GaussianMixture::params(1)
        .covariance(Covariance::Diag)
        .online();
    let mut online = OnlineDetector::new(em.step_size(StepSize::Constant(0.05)))
        .contamination(0.02)
        .window(ScoreWindow::Batches(10));
    let mut before = Vec::new();
    let mut after = Vec::new();
    for b in 0..160u64 {
        let sd = if b < 60 { 1.0 } else { 2.0 };
        online
            .update(&normal_batch(2000, 3.0, sd, 1000 + b))
            .unwrap();
        let t = online.threshold().unwrap();
        if (40..60).contains(&b) {
            before.push(t);
        }
        if b >= 140 {
            after.push(t);
        }
    }
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let shift = avg(&after) - avg(&before);
    assert!((shift - 4f64.ln()).abs() < 0.2, "shift {shift}");
}

#[test]
fn updates_are_deterministic_whatever_the_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let em = GaussianMixture::params(2).seed(4).online();
            let mut d = OnlineDetector::new(em.step_size(StepSize::Constant(0.2)));
            let mut out = Vec::new();
            for b in 0..12u64 {
                let up = d
                    .update(&normal_batch(3000, 0.1 * b as f64, 1.0, b))
                    .unwrap();
                out.push((up.threshold, up.flags));
            }
            (out, d.model().unwrap().clone())
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn bad_input_is_an_error_that_changes_nothing() {
    let em = GaussianMixture::params(1).online();
    let mut d = OnlineDetector::new(em);
    d.update(&normal_batch(500, 0.0, 1.0, 1)).unwrap();
    let (t, n) = (d.threshold(), d.window_count());
    let wide = Dataset::from_rows(&[[0.0, 0.0, 0.0]]).unwrap();
    assert!(matches!(d.update(&wide), Err(AnomalyError::Data(_))));
    assert_eq!((d.threshold(), d.window_count()), (t, n));
    for bad in [
        OnlineDetector::new(GaussianMixture::params(1).online()).contamination(0.0),
        OnlineDetector::new(GaussianMixture::params(1).online()).contamination(0.7),
        OnlineDetector::new(GaussianMixture::params(1).online()).window(ScoreWindow::Batches(0)),
        OnlineDetector::new(GaussianMixture::params(1).online()).sketch_capacity(1),
    ] {
        let mut bad = bad;
        assert!(matches!(
            bad.update(&normal_batch(100, 0.0, 1.0, 2)),
            Err(AnomalyError::InvalidParameter { .. })
        ));
    }
    let mut schedule = OnlineDetector::new(
        GaussianMixture::params(1)
            .online()
            .step_size(StepSize::Constant(2.0)),
    );
    assert!(matches!(
        schedule.update(&normal_batch(100, 0.0, 1.0, 2)),
        Err(AnomalyError::Fit(FitError::InvalidParameter { .. }))
    ));
}

#[test]
fn the_snapshot_flags_what_the_threshold_flags() {
    let em = GaussianMixture::params(2).seed(1).online();
    let mut d = OnlineDetector::new(em).contamination(0.05);
    for b in 0..5 {
        d.update(&normal_batch(1000, 0.0, 1.0, b)).unwrap();
    }
    let x = normal_batch(1000, 0.5, 1.0, 99);
    let snap = d.detector().unwrap().unwrap();
    let t = d.threshold().unwrap();
    let want: Vec<u8> = snap
        .score(&x)
        .unwrap()
        .iter()
        .map(|&s| u8::from(s >= t))
        .collect();
    assert_eq!(snap.predict(&x).unwrap(), want);
    assert_eq!(snap.threshold().value(), t);
    // The window of a decaying schedule holds every batch so far.
    assert_eq!(d.window_batches(), None);
    assert_eq!(d.window_count(), 5000);
}
