//! Special functions that variational inference needs and faer does not have:
//! `ln Γ(x)`, the digamma function `ψ(x) = d/dx ln Γ(x)` and `ln B(a, b)`.
//!
//! Each is one implementation, evaluated in `f64` and rounded to `T` once at the
//! end: `f32` callers get correctly rounded results in all but rare cases, and
//! `f64` callers an absolute error of a few units in the last place of the
//! intermediate values (about 1e-14 near the zeros of `ln Γ` at 1 and 2).
//!
//! ```
//! use mixtures_core::special::{digamma, ln_gamma};
//! // ψ(1) = −γ (the Euler–Mascheroni constant), ln Γ(1/2) = ln √π.
//! assert!((digamma(1.0_f64) + 0.577_215_664_901_532_9).abs() < 1e-15);
//! assert!((ln_gamma(0.5_f32) - 0.572_364_9).abs() < 1e-6);
//! ```

use core::f64::consts::PI;

use crate::Scalar;

/// `ln |Γ(x)|`.
///
/// `+∞` at the poles (zero and the negative integers) and at `+∞`; NaN for NaN.
/// For negative non-integers the logarithm of the absolute value is returned,
/// as C's `lgamma` and SciPy's `gammaln` do.
#[inline]
pub fn ln_gamma<T: Scalar>(x: T) -> T {
    T::c(ln_gamma_f64(x.as_f64()))
}

/// The digamma function `ψ(x) = Γ'(x) / Γ(x)`.
///
/// NaN at the poles (zero and the negative integers) and for NaN; `+∞` at `+∞`.
#[inline]
pub fn digamma<T: Scalar>(x: T) -> T {
    T::c(digamma_f64(x.as_f64()))
}

/// `ln Γ(a + h) − ln Γ(a)` without the cancellation of two huge logarithms
/// when `a` is large (a Student-t with `ν` in the millions is a Gaussian, and
/// its density must say so): Stirling's series, whose leading terms
/// `(a − ½) ln(1 + h/a) + h ln(a + h) − h` are formed with `ln_1p`.
pub fn ln_gamma_ratio(a: f64, h: f64) -> f64 {
    if a < 1e3 {
        return ln_gamma_f64(a + h) - ln_gamma_f64(a);
    }
    let b = a + h;
    let series = |x: f64| {
        let x2 = x * x;
        1.0 / (12.0 * x) - 1.0 / (360.0 * x * x2) + 1.0 / (1260.0 * x * x2 * x2)
    };
    (a - 0.5) * (h / a).ln_1p() + h * b.ln() - h + (series(b) - series(a))
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b)` for positive `a` and `b`.
#[inline]
pub fn ln_beta<T: Scalar>(a: T, b: T) -> T {
    let (a, b) = (a.as_f64(), b.as_f64());
    T::c(ln_gamma_f64(a) + ln_gamma_f64(b) - ln_gamma_f64(a + b))
}

/// Below this, arguments are shifted up by the recurrences before the
/// asymptotic series is used; at 12 the first omitted Stirling term is below
/// 2e-18 and the first omitted digamma term below 1e-17.
const ASYMPTOTIC_FROM: f64 = 12.0;

/// `½ ln 2π`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

fn ln_gamma_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x == f64::INFINITY {
        return x;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::INFINITY;
        }
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let s = (PI * x).sin().abs();
        return (PI / s).ln() - ln_gamma_f64(1.0 - x);
    }
    if x < ASYMPTOTIC_FROM {
        // ln Γ(x) = ln Γ(x + m) − ln(x (x + 1) ⋯ (x + m − 1)); the product is
        // formed first so that only one logarithm is taken. It stays far from
        // overflow: at most about 24¹² for x < 12 (for tiny x it is tiny, and
        // its logarithm carries the −ln x that dominates).
        let mut prod = 1.0;
        let mut z = x;
        while z < ASYMPTOTIC_FROM {
            prod *= z;
            z += 1.0;
        }
        return stirling(z) - prod.ln();
    }
    stirling(x)
}

/// Stirling's series for `ln Γ(x)`, `x ≥ 12`.
fn stirling(x: f64) -> f64 {
    // Coefficients B₂ₖ / (2k (2k − 1)) for k = 1..7.
    const C: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
    ];
    let r = 1.0 / x;
    let r2 = r * r;
    let series = C.iter().rev().fold(0.0, |acc, &c| acc * r2 + c) * r;
    (x - 0.5) * x.ln() - x + HALF_LN_2PI + series
}

fn digamma_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x == f64::INFINITY {
        return x;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // Reflection: ψ(1 − x) − ψ(x) = π / tan(πx).
        return digamma_f64(1.0 - x) - PI / (PI * x).tan();
    }
    // ψ(x) = ψ(x + m) − Σᵢ 1/(x + i).
    let mut shift = 0.0;
    let mut z = x;
    while z < ASYMPTOTIC_FROM {
        shift += 1.0 / z;
        z += 1.0;
    }
    // Asymptotic series: ln z − 1/(2z) − Σ B₂ₖ / (2k z²ᵏ), k = 1..7.
    const C: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 120.0,
        1.0 / 252.0,
        -1.0 / 240.0,
        1.0 / 132.0,
        -691.0 / 32_760.0,
        1.0 / 12.0,
    ];
    let r2 = 1.0 / (z * z);
    let series = C.iter().rev().fold(0.0, |acc, &c| acc * r2 + c) * r2;
    z.ln() - 0.5 / z - series - shift
}

#[cfg(test)]
mod tests {
    #[test]
    fn gamma_ratio_is_continuous_at_the_switch_and_tends_to_the_gaussian() {
        for h in [0.5, 1.0, 1.5, 4.0, 25.0] {
            let direct = ln_gamma_f64(1e3 + h) - ln_gamma_f64(1e3);
            let series = {
                let (a, b) = (1e3_f64, 1e3 + h);
                let s = |x: f64| {
                    1.0 / (12.0 * x) - 1.0 / (360.0 * x.powi(3)) + 1.0 / (1260.0 * x.powi(5))
                };
                (a - 0.5) * (h / a).ln_1p() + h * b.ln() - h + (s(b) - s(a))
            };
            assert!(
                (direct - series).abs() < 1e-10 * direct.abs(),
                "{h}: {direct} {series}"
            );
        }
        // ln Γ(a + h) − ln Γ(a) − h ln a → 0 as a → ∞.
        let a = 1e12;
        assert!((ln_gamma_ratio(a, 1.5) - 1.5 * a.ln()).abs() < 1e-9);
    }

    use super::*;

    /// (x, ψ(x), ln Γ(x)) from SciPy 1.17.1 (`scipy.special.digamma`, `gammaln`),
    /// printed by `tests/reference/make_special_values.py` at the workspace root.
    const SCIPY: [(f64, f64, f64); 19] = [
        (1e-10, -10000000000.577215, 23.025850929882733),
        (0.001, -1000.5755719318103, 6.907178885383853),
        (0.1, -10.423754940411076, 2.252712651734206),
        (0.5, -1.9635100260214235, 0.5723649429247),
        (1.0, -0.5772156649015329, 0.0),
        (
            1.4616321449683622,
            -9.241265521729427e-17,
            -0.1214862905358497,
        ),
        (2.0, 0.42278433509846713, 0.0),
        (2.5, 0.7031566406452432, 0.2846828704729192),
        (3.0, 0.9227843350984671, core::f64::consts::LN_2),
        (7.25, 1.9104535268837362, 7.0521854507385395),
        (10.0, 2.251752589066721, 12.801827480081469),
        (33.3, 3.490467238520243, 82.60372358165493),
        (100.0, 4.600161852738088, 359.1342053695754),
        (1e5, 11.512920464961896, 1051287.7089736569),
        (1e10, 23.025850929890456, 220258509288.81058),
        (-0.5, 0.03648997397857651, 1.2655121234846454),
        (-2.5, 1.1031566406452433, -0.05624371649767401),
        (-7.3, 4.33730730551005, -7.779101629826853),
        (12.0, 2.4426616799758123, 17.502307845873887),
    ];

    fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
        (got - want).abs() <= abs.max(rel * want.abs())
    }

    #[test]
    fn f64_matches_scipy() {
        for &(x, psi, lg) in &SCIPY {
            let (p, l) = (digamma(x), ln_gamma(x));
            assert!(
                close(p, psi, 4e-15, 4e-15),
                "digamma({x}) = {p}, want {psi}"
            );
            assert!(close(l, lg, 4e-15, 1e-14), "ln_gamma({x}) = {l}, want {lg}");
        }
    }

    #[test]
    fn f32_is_rounded_f64() {
        for &(x, psi, lg) in &SCIPY {
            let xf = x as f32;
            if f64::from(xf) != x {
                continue;
            }
            let (p, l) = (digamma(xf), ln_gamma(xf));
            assert!(close(f64::from(p), psi, 1.2e-7, 1e-7), "digamma({x})");
            assert!(close(f64::from(l), lg, 1.2e-7, 1e-7), "ln_gamma({x})");
        }
    }

    #[test]
    fn beta() {
        // scipy.special.betaln(0.3, 7.5), betaln(120.0, 3.25)
        // (tests/reference/make_special_values.py).
        assert!(close(ln_beta(0.3, 7.5), 0.5054425080272839, 1e-14, 0.0));
        assert!(close(ln_beta(120.0, 3.25), -14.653784780911783, 1e-14, 0.0));
    }

    #[test]
    fn recurrences_hold() {
        for i in 1..400 {
            let x = i as f64 * 0.137;
            let dl = ln_gamma(x + 1.0) - ln_gamma(x) - x.ln();
            assert!(dl.abs() < 2e-14 * (1.0 + ln_gamma(x).abs()), "ln Γ at {x}");
            let dp = digamma(x + 1.0) - digamma(x) - 1.0 / x;
            assert!(dp.abs() < 2e-14 * (1.0 + 1.0 / x), "ψ at {x}");
        }
    }

    #[test]
    fn poles_and_edges() {
        assert_eq!(ln_gamma(0.0_f64), f64::INFINITY);
        assert_eq!(ln_gamma(-3.0_f64), f64::INFINITY);
        assert!(digamma(0.0_f64).is_nan());
        assert!(digamma(-2.0_f32).is_nan());
        assert!(ln_gamma(f64::NAN).is_nan());
        assert_eq!(digamma(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln_gamma(f32::INFINITY), f32::INFINITY);
    }
}
