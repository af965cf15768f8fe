//! The generated Rust files of the footprint model
//! (`crates/mixtures-score/footprint/src/model_*.rs`) are what
//! `Exported::to_rust` writes today, compile as modules of this test, and
//! their `static` scorers agree with the library on 10 000 points. After a
//! change to the generator, regenerate them with
//! `MIXTURES_BLESS=1 cargo test -p mixtures-anomaly --test export_rust`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod export_common;

// Generated: formatted by the generator, not rustfmt.
#[rustfmt::skip]
#[path = "../../mixtures-score/footprint/src/model_f32.rs"]
mod model_f32;
#[rustfmt::skip]
#[path = "../../mixtures-score/footprint/src/model_f64.rs"]
mod model_f64;

use export_common::footprint::footprint_detector;
use export_common::*;
use mixtures_anomaly::export::{Exported, Precision};
use mixtures_core::Scalar;
use mixtures_score::{Real, Scorer};

fn generated_file(precision: Precision) -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../mixtures-score/footprint/src"
    ))
    .join(format!("model_{}.rs", precision.as_str()))
}

#[test]
fn the_committed_files_are_what_the_generator_writes() {
    let det = footprint_detector();
    for p in [Precision::F32, Precision::F64] {
        let text = Exported::detector(&det, p).unwrap().to_rust();
        let path = generated_file(p);
        if std::env::var("MIXTURES_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(
            committed == text,
            "{} is not what the generator writes; regenerate it with MIXTURES_BLESS=1",
            path.display()
        );
    }
}

fn scored<T: Scalar + Real>(
    s: &Scorer<'_, T>,
    rows: &[Vec<f64>],
) -> Vec<(f64, f64, usize, Option<bool>)> {
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
}

#[test]
fn the_generated_static_scorers_agree_with_the_library() {
    let det = footprint_detector();
    let model = det.model().clone();
    let rows = points_in(&model, 7, footprint::D);
    let t = det.threshold().value();
    let lib64 = library::<f64, _>(&model, Some(t), &rows);
    let lib32 = library::<f32, _>(&to_f32(&model), Some(t as f32), &rows);
    assert_eq!(model_f64::DIM, footprint::D);
    let a = compare(&lib64, &scored(&model_f64::SCORER, &rows), TOL_F64);
    eprintln!("generated f64: {a:?}");
    assert!(
        a.max_rel_log_prob <= TOL_F64 && a.decision_mismatches == 0 && a.component_mismatches == 0
    );
    let a = compare(&lib32, &scored(&model_f32::SCORER, &rows), TOL_F32);
    eprintln!("generated f32: {a:?}");
    assert!(a.max_rel_log_prob <= TOL_F32 && a.decision_mismatches == 0);
    assert_eq!(model_f32::THRESHOLD, 40.0);
    assert_eq!(model_f32::DIM, footprint::D);
}

use export_common::footprint;
