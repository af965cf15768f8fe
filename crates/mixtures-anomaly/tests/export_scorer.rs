//! The no_std scorer (`mixtures-score`) over exported arrays gives the
//! library's log-densities, scores, components and decisions: within 1e-12
//! relative in f64 and 1e-5 in f32, on 10 000 points per model (in range,
//! far out, at the centres), for every family and structure, a noise
//! component and an ensemble detector. Run with `--nocapture` for the
//! figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod export_common;

use export_common::*;
use mixtures_anomaly::export::{Exported, Precision};
use mixtures_score::Scorer;

fn scored<T: mixtures_core::Scalar + mixtures_score::Real>(
    e: &Exported,
    rows: &[Vec<f64>],
) -> Vec<(f64, f64, usize, Option<bool>)> {
    e.with_scorer::<T, _>(|s: &Scorer<'_, T>| {
        rows.iter()
            .map(|r| {
                let x: Vec<T> = r.iter().map(|&v| T::c(v)).collect();
                let o = s.evaluate(&x).unwrap();
                (
                    o.log_prob.as_f64(),
                    o.score.as_f64(),
                    o.component,
                    o.is_anomaly,
                )
            })
            .collect()
    })
    .unwrap()
}

fn check(
    name: &str,
    precision: Precision,
    lib: &Answers,
    ours: &[(f64, f64, usize, Option<bool>)],
) {
    let tol = match precision {
        Precision::F64 => TOL_F64,
        Precision::F32 => TOL_F32,
    };
    let a = compare(lib, ours, tol);
    eprintln!(
        "scorer {name:<28} {}: max rel log_prob {:.2e}, score {:.2e}; components differ {}, \
         decisions differ {} (+{} within tol of the threshold)",
        precision.as_str(),
        a.max_rel_log_prob,
        a.max_rel_score,
        a.component_mismatches,
        a.decision_mismatches,
        a.decisions_near_threshold
    );
    assert!(a.max_rel_log_prob <= tol, "{name} {precision:?}: {a:?}");
    assert!(a.max_rel_score <= tol, "{name} {precision:?}: {a:?}");
    assert_eq!(a.decision_mismatches, 0, "{name} {precision:?}: {a:?}");
    // Components are the argmax of the same values: in f64 identical, in
    // f32 at most a few near-ties of far-out points.
    let allowed = match precision {
        Precision::F64 => 0,
        Precision::F32 => N_POINTS / 1000,
    };
    assert!(
        a.component_mismatches <= allowed,
        "{name} {precision:?}: {a:?}"
    );
}

#[test]
fn every_family_and_structure_agrees_with_the_library() {
    for (seed, (name, model)) in cases().into_iter().enumerate() {
        let rows = points(&model, seed as u64);
        let det = detector_of(&model, &rows);
        let t = det.threshold().value();
        let lib64 = library::<f64, _>(&model, Some(t), &rows);
        let lib32 = library::<f32, _>(&to_f32(&model), Some(t as f32), &rows);
        for (p, e) in exports(&det) {
            match p {
                Precision::F64 => check(&name, p, &lib64, &scored::<f64>(&e, &rows)),
                Precision::F32 => check(&name, p, &lib32, &scored::<f32>(&e, &rows)),
            }
        }
        // A plain model: no threshold, the score is −ln p.
        let plain = Exported::model(&model, Precision::F64).unwrap();
        let ours = scored::<f64>(&plain, &rows[..100]);
        assert!(ours.iter().all(|o| o.3.is_none() && o.1 == -o.0));
    }
}

#[test]
fn an_ensemble_detector_agrees_with_the_library() {
    let det = ensemble(0.0);
    let model = det.model().parts()[1].model.clone();
    let rows = points(&model, 99);
    // The threshold at the median ensemble score.
    let mut s = library::<f64, _>(det.model(), None, &rows).score;
    s.sort_by(f64::total_cmp);
    let det = ensemble(s[s.len() / 2]);
    let t = det.threshold().value();
    let det32 = ensemble32(&det);
    let lib64 = library::<f64, _>(det.model(), Some(t), &rows);
    let lib32 = library::<f32, _>(det32.model(), Some(t as f32), &rows);
    for p in [Precision::F64, Precision::F32] {
        let e = Exported::ensemble(&det, p).unwrap();
        match p {
            Precision::F64 => check("ensemble", p, &lib64, &scored::<f64>(&e, &rows)),
            Precision::F32 => check("ensemble", p, &lib32, &scored::<f32>(&e, &rows)),
        }
    }
}
