//! Numeric kernels: log-sum-exp, Cholesky with the conditioning check, the
//! log-determinant, and the blocked squared Mahalanobis distance against a naive
//! computation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

use faer::{Mat, MatRef, mat};
use mixtures_core::kernels::{
    log_det_from_factor, log_sum_exp_rows, maha_work_len, sq_mahalanobis_block, sum_sq_cols,
};
use mixtures_core::{Cholesky, LinalgError, Scalar, log_sum_exp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn eps<T: Scalar>() -> f64 {
    T::epsilon().as_f64()
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol,
        "{what}: {a} vs {b} (diff {:e}, tol {tol:e})",
        (a - b).abs()
    );
}

// ---------------------------------------------------------------- log-sum-exp

fn lse_cases<T: Scalar>() {
    let e = eps::<T>();
    // A single value is returned unchanged.
    for v in [-1e4, -3.5, 0.0, 2.25, 1e4] {
        assert_eq!(log_sum_exp(&[T::c(v)]), T::c(v));
    }
    // Huge values do not overflow: ln(2 e^M) = M + ln 2.
    let big = T::max_value() / T::c(4.0);
    let l = log_sum_exp(&[big, big]);
    assert!(l.is_finite());
    close(
        l.as_f64(),
        big.as_f64() + 2f64.ln(),
        4.0 * e * big.as_f64(),
        "huge pair",
    );
    let l = log_sum_exp(&[T::c(1000.0), T::c(1000.0), T::c(1000.0)]);
    close(l.as_f64(), 1000.0 + 3f64.ln(), 4.0 * e * 1000.0, "1000 x 3");
    // Hugely negative values do not underflow to -inf.
    let l = log_sum_exp(&[T::c(-1000.0), T::c(-1001.0)]);
    close(
        l.as_f64(),
        -1000.0 + (1.0 + (-1f64).exp()).ln(),
        4.0 * e * 1000.0,
        "-1000",
    );
    // A dominating value absorbs a tiny one.
    let l = log_sum_exp(&[T::c(0.0), T::c(-200.0)]);
    close(l.as_f64(), 0.0, e, "dominant");
    // Moderate values agree with the direct formula.
    let v = [0.5, -1.25, 2.0, 0.0];
    let direct = v.iter().map(|x: &f64| x.exp()).sum::<f64>().ln();
    let vt: Vec<T> = v.iter().map(|&x| T::c(x)).collect();
    close(
        log_sum_exp(&vt).as_f64(),
        direct,
        8.0 * e * direct.abs(),
        "moderate",
    );
    // -inf entries are ignored; all -inf (and empty) gives -inf, never NaN.
    let l = log_sum_exp(&[T::neg_infinity(), T::c(1.5), T::neg_infinity()]);
    assert_eq!(l, T::c(1.5));
    assert_eq!(
        log_sum_exp(&[T::neg_infinity(), T::neg_infinity()]),
        T::neg_infinity()
    );
    assert_eq!(log_sum_exp(&[T::neg_infinity()]), T::neg_infinity());
    assert_eq!(log_sum_exp::<T>(&[]), T::neg_infinity());
}

#[test]
fn log_sum_exp_f64() {
    lse_cases::<f64>();
}

#[test]
fn log_sum_exp_f32() {
    lse_cases::<f32>();
}

#[test]
fn log_sum_exp_rows_matches_scalar_version() {
    let a = mat![
        [0.0_f64, 1.0, 2.0],
        [1e300, 1e300, -1e300],
        [f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
        [-1000.0, f64::NEG_INFINITY, -1000.0],
        [-5.0, 3.0, 0.25],
    ];
    let mut out = vec![0.0; 5];
    let mut scratch = vec![0.0; 5];
    log_sum_exp_rows(a.as_ref(), &mut out, &mut scratch);
    for (i, &o) in out.iter().enumerate() {
        let row: Vec<f64> = (0..3).map(|j| a[(i, j)]).collect();
        let want = log_sum_exp(&row);
        if want.is_infinite() {
            assert_eq!(o, want, "row {i}");
        } else {
            close(o, want, 4.0 * f64::EPSILON * want.abs().max(1.0), "row");
        }
    }
    assert_eq!(out[2], f64::NEG_INFINITY);
    close(out[3], -1000.0 + 2f64.ln(), 1e-12, "row 3");
    // A strided (row-major) view gives the same result.
    let rm: Vec<f64> = (0..5)
        .flat_map(|i| (0..3).map(move |j| (i, j)))
        .map(|(i, j)| a[(i, j)])
        .collect();
    let view = MatRef::from_row_major_slice(&rm, 5, 3);
    let mut out2 = vec![0.0; 5];
    log_sum_exp_rows(view, &mut out2, &mut scratch);
    for (x, y) in out.iter().zip(&out2) {
        assert_eq!(x.to_bits(), y.to_bits());
    }
}

// ------------------------------------------------------------------- Cholesky

fn cholesky_known<T: Scalar>() {
    let e = eps::<T>();
    // A = L Lᵀ with L = [[2, 0, 0], [1, 3, 0], [-1, 0.5, 1.5]], det A = (2·3·1.5)² = 81.
    let l_true = [[2.0, 0.0, 0.0], [1.0, 3.0, 0.0], [-1.0, 0.5, 1.5]];
    let a = Mat::<T>::from_fn(3, 3, |i, j| {
        T::c((0..3).map(|k| l_true[i][k] * l_true[j][k]).sum::<f64>())
    });
    let chol = Cholesky::new(a.as_ref()).unwrap();
    assert_eq!(chol.dim(), 3);
    for i in 0..3 {
        for j in 0..3 {
            close(
                chol.l()[(i, j)].as_f64(),
                l_true[i][j],
                16.0 * e,
                &format!("L[{i},{j}]"),
            );
        }
    }
    close(chol.log_det().as_f64(), 81f64.ln(), 16.0 * e, "log det");
    close(
        log_det_from_factor(chol.l()).as_f64(),
        81f64.ln(),
        16.0 * e,
        "log_det_from_factor",
    );
    // L⁻¹ is lower triangular and L⁻¹ L = I.
    let li = chol.l_inv();
    for i in 0..3 {
        for j in 0..3 {
            let p: f64 = (0..3)
                .map(|k| li[(i, k)].as_f64() * chol.l()[(k, j)].as_f64())
                .sum();
            close(p, if i == j { 1.0 } else { 0.0 }, 16.0 * e, "L⁻¹L");
            if j > i {
                assert_eq!(li[(i, j)], T::zero());
                assert_eq!(chol.l()[(i, j)], T::zero());
            }
        }
    }
    // Only the lower triangle is read: garbage above the diagonal is ignored.
    let mut b = a.clone();
    b[(0, 1)] = T::c(1e6);
    b[(0, 2)] = T::nan();
    let chol_b = Cholesky::new(b.as_ref()).unwrap();
    assert_eq!(chol_b, chol);

    // The doc example: det [[4, 2], [2, 3]] = 8.
    let c = Mat::<T>::from_fn(2, 2, |i, j| T::c([[4.0, 2.0], [2.0, 3.0]][i][j]));
    let chol = Cholesky::new(c.as_ref()).unwrap();
    close(chol.log_det().as_f64(), 8f64.ln(), 8.0 * e, "2x2 log det");
    close(chol.l()[(1, 0)].as_f64(), 1.0, 8.0 * e, "2x2 L10");
    close(chol.l()[(1, 1)].as_f64(), 2f64.sqrt(), 8.0 * e, "2x2 L11");

    // Identity and diagonal matrices.
    let id = Mat::<T>::identity(5, 5);
    let chol = Cholesky::new(id.as_ref()).unwrap();
    assert_eq!(chol.log_det(), T::zero());
    let dg = Mat::<T>::from_fn(4, 4, |i, j| {
        if i == j {
            T::c((i + 1) as f64)
        } else {
            T::zero()
        }
    });
    let chol = Cholesky::new(dg.as_ref()).unwrap();
    close(chol.log_det().as_f64(), 24f64.ln(), 8.0 * e, "diag log det");
    // Features of very different scales are not mistaken for singularity.
    let sc = Mat::<T>::from_fn(2, 2, |i, j| T::c([[1e-8, 0.0], [0.0, 1e8]][i][j]));
    let chol = Cholesky::new(sc.as_ref()).unwrap();
    // The two logs are ±18.4 each; their rounding errors do not cancel.
    close(
        chol.log_det().as_f64(),
        0.0,
        8.0 * e * 37.0,
        "scaled log det",
    );
    // 0 x 0 is the empty product.
    let z = Mat::<T>::zeros(0, 0);
    assert_eq!(Cholesky::new(z.as_ref()).unwrap().log_det(), T::zero());
}

#[test]
fn cholesky_known_factor_f64() {
    cholesky_known::<f64>();
}

#[test]
fn cholesky_known_factor_f32() {
    cholesky_known::<f32>();
}

fn cholesky_rejects<T: Scalar>() {
    let m = |rows: &[&[f64]]| Mat::<T>::from_fn(rows.len(), rows[0].len(), |i, j| T::c(rows[i][j]));
    // Indefinite: [[1, 2], [2, 1]] has eigenvalues 3 and -1.
    assert_eq!(
        Cholesky::new(m(&[&[1.0, 2.0], &[2.0, 1.0]]).as_ref()).unwrap_err(),
        LinalgError::NotPositiveDefinite { pivot: 1 }
    );
    // Negative definite fails at the first pivot.
    assert_eq!(
        Cholesky::new(m(&[&[-1.0, 0.0], &[0.0, -1.0]]).as_ref()).unwrap_err(),
        LinalgError::NotPositiveDefinite { pivot: 0 }
    );
    // Zero pivot in the middle of a 3x3.
    assert_eq!(
        Cholesky::new(m(&[&[1.0, 0.0, 0.0], &[0.0, 0.0, 0.0], &[0.0, 0.0, 1.0]]).as_ref())
            .unwrap_err(),
        LinalgError::NotPositiveDefinite { pivot: 1 }
    );
    // Exactly singular: rank one.
    let e = Cholesky::new(m(&[&[2.0, 2.0], &[2.0, 2.0]]).as_ref()).unwrap_err();
    assert!(
        matches!(
            e,
            LinalgError::NotPositiveDefinite { pivot: 1 }
                | LinalgError::IllConditioned { pivot: 1, .. }
        ),
        "{e:?}"
    );
    // Numerically singular: [[1, 1], [1, 1 + ε]] factors with a pivot of √ε,
    // positive but at the rounding level: refused by the conditioning check.
    let eps = T::epsilon();
    let mut a = Mat::<T>::from_fn(2, 2, |_, _| T::one());
    a[(1, 1)] = T::one() + eps;
    match Cholesky::new(a.as_ref()).unwrap_err() {
        LinalgError::IllConditioned {
            pivot,
            ratio,
            limit,
        } => {
            assert_eq!(pivot, 1);
            assert!(
                ratio <= limit && ratio > 0.0,
                "ratio {ratio:e} limit {limit:e}"
            );
            assert_eq!(limit, mixtures_core::kernels::conditioning_limit::<T>());
            assert_eq!(limit, 5.0 * eps.as_f64());
        }
        other => panic!("expected IllConditioned, got {other:?}"),
    }
    // Slightly better conditioned than the limit: accepted.
    a[(1, 1)] = T::one() + T::c(1e4) * eps;
    assert!(Cholesky::new(a.as_ref()).is_ok());
    // A 3x3 whose third variable is the sum of the first two, to rounding.
    let x = [
        [1.0, 0.5, 1.5],
        [0.25, 1.0, 1.25],
        [0.5, -0.5, 0.0],
        [1.0, 0.75, 1.75],
    ];
    let g = Mat::<T>::from_fn(3, 3, |i, j| {
        T::c(x.iter().map(|r| r[i] * r[j]).sum::<f64>())
    });
    let e = Cholesky::new(g.as_ref()).unwrap_err();
    assert!(
        matches!(
            e,
            LinalgError::IllConditioned { pivot: 2, .. }
                | LinalgError::NotPositiveDefinite { pivot: 2 }
        ),
        "{e:?}"
    );
    // Not square.
    assert_eq!(
        Cholesky::new(Mat::<T>::zeros(2, 3).as_ref()).unwrap_err(),
        LinalgError::NotSquare { rows: 2, cols: 3 }
    );
    // NaN and infinities in the lower triangle, named by position.
    for (i, j) in [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2)] {
        for bad in [T::nan(), T::infinity(), T::neg_infinity()] {
            let mut a = Mat::<T>::identity(3, 3);
            a[(i, j)] = bad;
            assert_eq!(
                Cholesky::new(a.as_ref()).unwrap_err(),
                LinalgError::NonFinite { row: i, col: j },
                "{bad} at ({i}, {j})"
            );
        }
    }
    // A tiny but positive 1x1 matrix is fine: its inverse factor stays finite.
    let tiny = Mat::<T>::from_fn(1, 1, |_, _| T::min_positive_value());
    let chol = Cholesky::new(tiny.as_ref()).unwrap();
    assert!(chol.l_inv()[(0, 0)].is_finite());
}

#[test]
fn cholesky_rejections_f64() {
    cholesky_rejects::<f64>();
}

#[test]
fn cholesky_rejections_f32() {
    cholesky_rejects::<f32>();
}

#[test]
fn cholesky_of_random_spd_matrices_reconstructs_them() {
    let mut rng = StdRng::seed_from_u64(11);
    for d in [1, 2, 5, 9] {
        let b = Mat::<f64>::from_fn(d + 3, d, |_, _| rng.random_range(-1.0..1.0));
        let mut a = b.transpose() * &b;
        for i in 0..d {
            a[(i, i)] += 0.1;
        }
        let chol = Cholesky::new(a.as_ref()).unwrap();
        let r = chol.l() * chol.l().transpose();
        for i in 0..d {
            for j in 0..d {
                close(r[(i, j)], a[(i, j)], 1e-13 * d as f64, "L Lᵀ");
            }
        }
        // log det agrees with the product of eigenvalues.
        let ev = a.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        let want: f64 = ev.iter().map(|v| v.ln()).sum();
        close(chol.log_det(), want, 1e-11 * d as f64, "log det vs eigen");
    }
}

// ---------------------------------------------------------------- Mahalanobis

/// `(x − μ)ᵀ A⁻¹ (x − μ)` by Gaussian elimination in f64, independent of the
/// Cholesky code.
fn naive_mahalanobis(a: &[Vec<f64>], x: &[f64], mu: &[f64]) -> f64 {
    let d = x.len();
    let mut m: Vec<Vec<f64>> = a.to_vec();
    let mut v: Vec<f64> = x.iter().zip(mu).map(|(x, m)| x - m).collect();
    let r = v.clone();
    // Solve A z = r with partial pivoting.
    for c in 0..d {
        let p = (c..d)
            .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
            .unwrap();
        m.swap(c, p);
        v.swap(c, p);
        for i in c + 1..d {
            let f = m[i][c] / m[c][c];
            for k in c..d {
                m[i][k] -= f * m[c][k];
            }
            v[i] -= f * v[c];
        }
    }
    let mut z = vec![0.0; d];
    for i in (0..d).rev() {
        let s: f64 = (i + 1..d).map(|k| m[i][k] * z[k]).sum();
        z[i] = (v[i] - s) / m[i][i];
    }
    r.iter().zip(&z).map(|(a, b)| a * b).sum()
}

fn mahalanobis_case<T: Scalar>(d: usize, n: usize, seed: u64, offset: f64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let b: Vec<Vec<f64>> = (0..d + 2)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let a64: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| {
                    b.iter().map(|r| r[i] * r[j]).sum::<f64>() + if i == j { 0.5 } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let mu64: Vec<f64> = (0..d)
        .map(|_| offset + rng.random_range(-2.0..2.0))
        .collect();
    let x64: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            mu64.iter()
                .map(|m| m + rng.random_range(-3.0..3.0))
                .collect()
        })
        .collect();
    // Round the inputs to T first so that both computations see the same numbers.
    let a = Mat::<T>::from_fn(d, d, |i, j| T::c(a64[i][j]));
    let mu: Vec<T> = mu64.iter().map(|&v| T::c(v)).collect();
    let x = Mat::<T>::from_fn(n, d, |i, j| T::c(x64[i][j]));
    let a_r: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| a[(i, j)].as_f64()).collect())
        .collect();
    let mu_r: Vec<f64> = mu.iter().map(|v| v.as_f64()).collect();

    let chol = Cholesky::new(a.as_ref()).unwrap();
    // Scratch larger than the block, as the chunked callers pass it.
    let mut centered = vec![T::zero(); maha_work_len(n + 7, d)];
    let mut out = vec![T::c(-1.0); n + 3];
    sq_mahalanobis_block(x.as_ref(), &mu, chol.l_inv(), &mut centered, &mut out);
    let e = eps::<T>();
    for i in 0..n {
        let xi: Vec<f64> = (0..d).map(|j| x[(i, j)].as_f64()).collect();
        let want = naive_mahalanobis(&a_r, &xi, &mu_r);
        let got = out[i].as_f64();
        // Relative error grows with d and the conditioning (bounded here by the
        // ridge of 0.5).
        let tol = 200.0 * e * (d * d) as f64 * want.max(1.0);
        close(got, want, tol, &format!("d={d} row {i}"));
    }
    // Only the leading n entries are written.
    assert_eq!(&out[n..], &[T::c(-1.0); 3]);
    // A row's distance has the same bits wherever the block starts (rows move
    // between full register tiles and the remainder).
    if n > 1 {
        let mut shifted = vec![T::zero(); n - 1];
        sq_mahalanobis_block(
            x.as_ref().subrows(1, n - 1),
            &mu,
            chol.l_inv(),
            &mut centered,
            &mut shifted,
        );
        for i in 1..n {
            assert_eq!(
                shifted[i - 1].as_f64().to_bits(),
                out[i].as_f64().to_bits(),
                "d={d} row {i} moved in the block"
            );
        }
    }

    // A row-major (strided) input view gives the same distances to rounding.
    let rm: Vec<T> = (0..n)
        .flat_map(|i| (0..d).map(move |j| (i, j)))
        .map(|(i, j)| x[(i, j)])
        .collect();
    let mut out2 = vec![T::zero(); n];
    sq_mahalanobis_block(
        MatRef::from_row_major_slice(&rm, n, d),
        &mu,
        chol.l_inv(),
        &mut centered,
        &mut out2,
    );
    for i in 0..n {
        close(
            out2[i].as_f64(),
            out[i].as_f64(),
            64.0 * e * out[i].as_f64().max(1.0),
            "strided",
        );
    }
}

#[test]
fn sq_mahalanobis_matches_naive_f64() {
    for (d, n, seed) in [(1, 5, 1), (2, 17, 2), (5, 40, 3), (12, 33, 4), (20, 70, 10)] {
        mahalanobis_case::<f64>(d, n, seed, 0.0);
    }
    // Data far from the origin: centring first keeps it accurate.
    mahalanobis_case::<f64>(3, 20, 5, 1e6);
}

#[test]
fn sq_mahalanobis_matches_naive_f32() {
    for (d, n, seed) in [(1, 5, 6), (2, 17, 7), (5, 40, 8), (17, 50, 11)] {
        mahalanobis_case::<f32>(d, n, seed, 0.0);
    }
    mahalanobis_case::<f32>(3, 20, 9, 1e3);
}

#[test]
fn sq_mahalanobis_known_values() {
    // Σ = diag(4, 9): distance of (2, 3) from 0 is 1 + 1 = 2.
    let a = mat![[4.0_f64, 0.0], [0.0, 9.0]];
    let chol = Cholesky::new(a.as_ref()).unwrap();
    let x = mat![[2.0, 3.0], [0.0, 0.0], [-4.0, 0.0], [1.0, 1.0]];
    let mut c = vec![0.0; maha_work_len(4, 2)];
    let mut out = vec![0.0; 4];
    sq_mahalanobis_block(x.as_ref(), &[0.0, 0.0], chol.l_inv(), &mut c, &mut out);
    let want = [2.0, 0.0, 4.0, 0.25 + 1.0 / 9.0];
    for (g, w) in out.iter().zip(want) {
        close(*g, w, 1e-15, "known");
    }
    // Correlated: Σ = [[1, ρ], [ρ, 1]], q = (x² − 2ρxy + y²) / (1 − ρ²).
    let rho = 0.6;
    let a = mat![[1.0_f64, rho], [rho, 1.0]];
    let chol = Cholesky::new(a.as_ref()).unwrap();
    let x = mat![[1.0, 2.0], [-1.5, 0.5]];
    let mut out = vec![0.0; 2];
    sq_mahalanobis_block(x.as_ref(), &[0.0, 0.0], chol.l_inv(), &mut c, &mut out);
    for i in 0..2 {
        let (u, v) = (x[(i, 0)], x[(i, 1)]);
        let want = (u * u - 2.0 * rho * u * v + v * v) / (1.0 - rho * rho);
        close(out[i], want, 1e-14, "correlated");
    }
}

#[test]
fn sum_sq_cols_matches_definition() {
    let a = mat![[1.0_f64, 2.0, -2.0], [0.5, 0.0, 3.0]];
    let mut out = vec![9.0; 3];
    sum_sq_cols(a.as_ref(), &mut out);
    assert_eq!(out, [9.0, 9.25, 9.0]);
    let t = a.transpose();
    let mut out = vec![0.0; 3];
    sum_sq_cols(t, &mut out);
    assert_eq!(out, [1.25, 4.0, 13.0]);
}
