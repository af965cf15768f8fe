//! The exported C99 header, compiled with the system's `cc` (`-std=c99
//! -Wall -Wextra -pedantic -Werror`) with a small driver and run, gives the
//! library's log-densities, scores, components and decisions on the same
//! 10 000 points per model as the Rust scorer (`export_scorer.rs`): within
//! 1e-12 relative in `double` and 1e-5 in `float`. Without a `cc` the test
//! prints why and passes, except under CI (`CI=true`), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod export_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use export_common::*;
use mixtures_anomaly::export::{Exported, Precision};

/// The C compiler, or `None` (with the reason printed) when there is none.
fn compiler() -> Option<String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    if Command::new(&cc)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some(cc);
    }
    let under_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !under_ci,
        "no C compiler ({cc}); CI needs one for the C export test"
    );
    eprintln!("skipped: no C compiler ({cc}) to compile the exported header with");
    None
}

const DRIVER: &str = r#"
#include <stdio.h>
#include "model.h"

/* Reads points (MODEL_DIM numbers each) from stdin and prints, per point,
   log_prob, anomaly_score, component and is_anomaly (-1 for a model). */
int main(void)
{
    REAL x[MODEL_DIM];
    int i;
    for (;;) {
        for (i = 0; i < MODEL_DIM; i++) {
            double v;
            if (scanf("%lf", &v) != 1) return 0;
            x[i] = (REAL)v;
        }
#ifdef MODEL_THRESHOLD
        printf("%.17g %.17g %d %d\n", (double)model_log_prob(x),
               (double)model_anomaly_score(x), model_component(x), model_is_anomaly(x));
#else
        printf("%.17g %.17g %d -1\n", (double)model_log_prob(x),
               (double)model_anomaly_score(x), model_component(x));
#endif
    }
}
"#;

/// Writes the header and the driver into `dir`, compiles and runs them on
/// `rows`, and returns what they printed per row.
fn run_c(
    cc: &str,
    dir: &Path,
    e: &Exported,
    rows: &[Vec<f64>],
) -> Vec<(f64, f64, usize, Option<bool>)> {
    std::fs::write(dir.join("model.h"), e.to_c("model").unwrap()).unwrap();
    let real = match e.precision {
        Precision::F32 => "float",
        Precision::F64 => "double",
    };
    std::fs::write(
        dir.join("driver.c"),
        format!("#define REAL {real}\n{DRIVER}"),
    )
    .unwrap();
    let exe = dir.join("driver");
    let out = Command::new(cc)
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-pedantic",
            "-Werror",
            "-O2",
            "-o",
        ])
        .arg(&exe)
        .arg(dir.join("driver.c"))
        .arg("-lm")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cc failed on the exported header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every value in its shortest round-trip text: the driver reads it
    // exactly (then rounds it to float, as the library rounds it to f32).
    let input: String = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(" ")
                + "\n"
        })
        .collect();
    let points = dir.join("points.txt");
    std::fs::write(&points, input).unwrap();
    let out = Command::new(&exe)
        .stdin(std::fs::File::open(&points).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let parse = |s: &str| match s {
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        s => s.parse::<f64>().unwrap(),
    };
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let flag = match f[3] {
                "-1" => None,
                v => Some(v == "1"),
            };
            (parse(f[0]), parse(f[1]), f[2].parse().unwrap(), flag)
        })
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mixtures-export-c-{}-{}",
        std::process::id(),
        name.replace([' ', '+'], "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check(name: &str, p: Precision, lib: &Answers, ours: &[(f64, f64, usize, Option<bool>)]) {
    assert_eq!(
        ours.len(),
        lib.log_prob.len(),
        "{name}: the driver stopped early"
    );
    let tol = match p {
        Precision::F64 => TOL_F64,
        Precision::F32 => TOL_F32,
    };
    let a = compare(lib, ours, tol);
    eprintln!(
        "C header {name:<28} {}: max rel log_prob {:.2e}, score {:.2e}; components differ {}, \
         decisions differ {} (+{} within tol of the threshold)",
        p.as_str(),
        a.max_rel_log_prob,
        a.max_rel_score,
        a.component_mismatches,
        a.decision_mismatches,
        a.decisions_near_threshold
    );
    assert!(
        a.max_rel_log_prob <= tol && a.max_rel_score <= tol,
        "{name} {p:?}: {a:?}"
    );
    assert_eq!(a.decision_mismatches, 0, "{name} {p:?}: {a:?}");
    let allowed = if p == Precision::F64 {
        0
    } else {
        N_POINTS / 1000
    };
    assert!(a.component_mismatches <= allowed, "{name} {p:?}: {a:?}");
}

#[test]
fn the_c_header_agrees_with_the_library() {
    let Some(cc) = compiler() else { return };
    for (seed, (name, model)) in cases().into_iter().enumerate() {
        let rows = points(&model, seed as u64);
        let det = detector_of(&model, &rows);
        let t = det.threshold().value();
        let lib64 = library::<f64, _>(&model, Some(t), &rows);
        let lib32 = library::<f32, _>(&to_f32(&model), Some(t as f32), &rows);
        let dir = scratch(&name);
        for (p, e) in exports(&det) {
            let ours = run_c(&cc, &dir, &e, &rows);
            check(
                &name,
                p,
                if p == Precision::F64 { &lib64 } else { &lib32 },
                &ours,
            );
        }
        // A plain model's header: no threshold and no is_anomaly.
        let plain = Exported::model(&model, Precision::F64).unwrap();
        let ours = run_c(&cc, &dir, &plain, &rows[..50]);
        assert!(ours.iter().all(|o| o.3.is_none() && o.1 == -o.0));
        assert!(!plain.to_c("model").unwrap().contains("is_anomaly"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn the_c_header_of_an_ensemble_agrees_with_the_library() {
    let Some(cc) = compiler() else { return };
    let probe = ensemble(0.0);
    let rows = points(&probe.model().parts()[1].model, 99);
    let mut s = library::<f64, _>(probe.model(), None, &rows).score;
    s.sort_by(f64::total_cmp);
    let det = ensemble(s[s.len() / 2]);
    let t = det.threshold().value();
    let lib64 = library::<f64, _>(det.model(), Some(t), &rows);
    let lib32 = library::<f32, _>(ensemble32(&det).model(), Some(t as f32), &rows);
    let dir = scratch("ensemble");
    for p in [Precision::F64, Precision::F32] {
        let e = Exported::ensemble(&det, p).unwrap();
        let ours = run_c(&cc, &dir, &e, &rows);
        check(
            "ensemble",
            p,
            if p == Precision::F64 { &lib64 } else { &lib32 },
            &ours,
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
