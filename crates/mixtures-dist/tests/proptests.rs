//! Property tests: on moderate points `log_prob` equals a naive
//! `ln Σₖ wₖ exp(ln pₖ)` computed in f64 from the model's own parameters, and
//! responsibilities lie in `[0, 1]` and sum to one, for every family, in f32 and
//! f64.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

mod common;

use common::{FAMILIES, Family, eps, random_model, row};
use mixtures_core::{Dataset, Scalar};
use proptest::prelude::*;

/// A model (family, k, d, seed) and `n` points in `[-6, 6]^d`.
fn case() -> impl Strategy<Value = (Family, usize, usize, u64, Vec<f64>)> {
    (
        0..FAMILIES.len(),
        1usize..=4,
        1usize..=5,
        any::<u64>(),
        1usize..=40,
    )
        .prop_flat_map(|(f, k, d, seed, n)| {
            (
                Just(FAMILIES[f]),
                Just(k),
                Just(d),
                Just(seed),
                prop::collection::vec(-6.0f64..6.0, n * d),
            )
        })
}

fn check_against_naive<T: Scalar>(
    fam: Family,
    k: usize,
    d: usize,
    seed: u64,
    raw: &[f64],
) -> Result<(), TestCaseError> {
    let m = random_model::<T>(fam, k, d, seed);
    let n = raw.len() / d;
    let vals: Vec<T> = raw.iter().map(|&v| T::c(v)).collect();
    let x = Dataset::from_row_major(&vals, n, d).unwrap();
    let naive = m.naive();
    let lp = m.log_prob(&x);
    let (lp2, resp) = m.log_prob_and_responsibilities(&x);
    let e = eps::<T>();
    for i in 0..n {
        let p = row(&x, i);
        let want = naive.log_prob(&p);
        prop_assert!(want.is_finite(), "naive reference not finite: {want}");
        // Rounding grows with the dimension and the size of the squared
        // distances (a condition number of at most ~40 here).
        let tol = 64.0 * (d * d) as f64 * e * (1.0 + want.abs());
        let got = lp[i].as_f64();
        prop_assert!(
            (got - want).abs() <= tol,
            "{} {fam:?} k={k} d={d} row {i}: log_prob {got} vs naive {want} (tol {tol:e})",
            T::NAME
        );
        prop_assert_eq!(lp2[i].as_f64().to_bits(), lp[i].as_f64().to_bits());

        let want_r = naive.responsibilities(&p);
        let mut sum = 0.0;
        for c in 0..k {
            let r = resp[(i, c)].as_f64();
            prop_assert!((0.0..=1.0).contains(&r), "responsibility {r}");
            // Absolute error of a probability computed in log space.
            let tol_r = 64.0 * (d * d) as f64 * e * (1.0 + want.abs());
            prop_assert!(
                (r - want_r[c]).abs() <= tol_r,
                "{fam:?} row {i} comp {c}: {r} vs {} (tol {tol_r:e})",
                want_r[c]
            );
            sum += r;
        }
        prop_assert!(
            (sum - 1.0).abs() <= 2.0 * k as f64 * e,
            "{fam:?} row {i}: responsibilities sum to {sum}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn log_prob_matches_naive_f64((fam, k, d, seed, raw) in case()) {
        check_against_naive::<f64>(fam, k, d, seed, &raw)?;
    }

    #[test]
    fn log_prob_matches_naive_f32((fam, k, d, seed, raw) in case()) {
        check_against_naive::<f32>(fam, k, d, seed, &raw)?;
    }

    /// Far from the components (up to 10⁴ away), responsibilities still lie in
    /// [0, 1] and sum to one, and the log-density is finite.
    #[test]
    fn responsibilities_are_probabilities_far_away(
        (fam, k, d, seed, raw) in case(),
        scale in prop_oneof![Just(1.0), Just(100.0), Just(1e4)],
    ) {
        for t in [0, 1] {
            let raw: Vec<f64> = raw.iter().map(|v| v * scale).collect();
            let n = raw.len() / d;
            let (sums, ok): (Vec<f64>, bool) = if t == 0 {
                let m = random_model::<f64>(fam, k, d, seed);
                let x = Dataset::from_row_major(&raw, n, d).unwrap();
                let (lp, r) = m.log_prob_and_responsibilities(&x);
                let ok = lp.iter().all(|v| v.is_finite())
                    && (0..n).all(|i| (0..k).all(|c| (0.0..=1.0).contains(&r[(i, c)])));
                ((0..n).map(|i| (0..k).map(|c| r[(i, c)]).sum()).collect(), ok)
            } else {
                let m = random_model::<f32>(fam, k, d, seed);
                let v: Vec<f32> = raw.iter().map(|&v| v as f32).collect();
                let x = Dataset::from_row_major(&v, n, d).unwrap();
                let (lp, r) = m.log_prob_and_responsibilities(&x);
                let ok = lp.iter().all(|v| v.is_finite())
                    && (0..n).all(|i| (0..k).all(|c| (0.0..=1.0).contains(&r[(i, c)])));
                (
                    (0..n).map(|i| (0..k).map(|c| f64::from(r[(i, c)])).sum()).collect(),
                    ok,
                )
            };
            let e = if t == 0 { f64::EPSILON } else { f64::from(f32::EPSILON) };
            prop_assert!(ok, "{fam:?} scale {scale}: non-finite or out of [0, 1]");
            for s in sums {
                prop_assert!((s - 1.0).abs() <= 2.0 * k as f64 * e, "sum {s}");
            }
        }
    }
}
