//! The χ² distribution, for cut-offs on squared Mahalanobis distances (the
//! consistency factor and the reweighting of the minimum covariance
//! determinant, χ² thresholds): the regularized lower incomplete gamma
//! function `P(a, x)`, the χ² distribution function and its quantiles.
//!
//! Evaluated in `f64`: `P` by its power series below `x = a + 1` and by the
//! continued fraction of `Q = 1 − P` above (modified Lentz), each to a
//! relative error near 1e-14 (about `a ε` more for large `a`, from the
//! prefactor `x^a e^(−x) / Γ(a)`); quantiles by Newton steps
//! on `P` kept inside a bracket that bisection shrinks when a step leaves it,
//! to a relative error near 1e-14.
//!
//! ```
//! use mixtures_core::chi2::{chi2_cdf, chi2_quantile};
//! // The median of χ² with 2 degrees of freedom is 2 ln 2.
//! assert!((chi2_quantile(0.5, 2.0) - 2.0 * 2f64.ln()).abs() < 1e-13);
//! assert!((chi2_cdf(2.0 * 2f64.ln(), 2.0) - 0.5).abs() < 1e-14);
//! ```

use crate::special::ln_gamma;

/// Most terms of the series or the continued fraction; both converge in far
/// fewer for the arguments a χ² with up to millions of degrees of freedom
/// gives (about `√a` terms near the mode).
const MAX_TERMS: usize = 100_000;

/// The regularized lower incomplete gamma function
/// `P(a, x) = γ(a, x) / Γ(a)` for `a > 0`, `x ≥ 0`; NaN otherwise.
pub fn gamma_p(a: f64, x: f64) -> f64 {
    gamma_pq(a, x).0
}

/// The regularized upper incomplete gamma function `Q(a, x) = 1 − P(a, x)`,
/// accurate where it is small.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    gamma_pq(a, x).1
}

/// `ln Q(a, x)`, finite where `Q` itself underflows (far in the tail, `Q`
/// below `1e-308`, the logarithm is still about `−x + (a − 1) ln x`).
pub fn ln_gamma_q(a: f64, x: f64) -> f64 {
    if !(a > 0.0) || !(x >= 0.0) || a.is_infinite() {
        return f64::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    if x == f64::INFINITY {
        return f64::NEG_INFINITY;
    }
    if x < a + 1.0 {
        (-series(a, x)).ln_1p()
    } else {
        a * x.ln() - x - ln_gamma(a) + continued_fraction_factor(a, x).ln()
    }
}

/// `ln P(X ≥ x)` for `X ~ χ²(k)`: the log tail probability of a squared
/// Mahalanobis distance in `k` dimensions, finite far in the tail.
pub fn chi2_ln_sf(x: f64, k: f64) -> f64 {
    ln_gamma_q(0.5 * k, 0.5 * x)
}

/// `(P, Q)`: the one the expansion computes directly, and the other as its
/// complement.
fn gamma_pq(a: f64, x: f64) -> (f64, f64) {
    if !(a > 0.0) || !(x >= 0.0) || a.is_infinite() {
        return (f64::NAN, f64::NAN);
    }
    if x == 0.0 {
        return (0.0, 1.0);
    }
    if x == f64::INFINITY {
        return (1.0, 0.0);
    }
    if x < a + 1.0 {
        let p = series(a, x);
        (p, 1.0 - p)
    } else {
        let q = continued_fraction(a, x);
        (1.0 - q, q)
    }
}

/// `x^a e^(−x) / Γ(a)`, the factor both expansions share, from logarithms.
fn prefactor(a: f64, x: f64) -> f64 {
    (a * x.ln() - x - ln_gamma(a)).exp()
}

/// `P(a, x) = x^a e^(−x) / Γ(a + 1) · Σₙ xⁿ / ((a + 1) ⋯ (a + n))`.
fn series(a: f64, x: f64) -> f64 {
    let mut term = 1.0 / a;
    let mut sum = term;
    let mut ap = a;
    for _ in 0..MAX_TERMS {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if term.abs() < sum.abs() * f64::EPSILON {
            break;
        }
    }
    (sum * prefactor(a, x)).min(1.0)
}

/// `Q(a, x)` by its continued fraction, evaluated by the modified Lentz
/// method.
fn continued_fraction(a: f64, x: f64) -> f64 {
    (prefactor(a, x) * continued_fraction_factor(a, x)).clamp(0.0, 1.0)
}

/// The continued fraction of `Q(a, x)` without its prefactor
/// `x^a e^(−x) / Γ(a)`.
fn continued_fraction_factor(a: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_TERMS {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < f64::EPSILON {
            break;
        }
    }
    h
}

/// The χ² distribution function with `k > 0` degrees of freedom at `x`.
pub fn chi2_cdf(x: f64, k: f64) -> f64 {
    if x <= 0.0 {
        return if x.is_nan() || !(k > 0.0) {
            f64::NAN
        } else {
            0.0
        };
    }
    gamma_p(0.5 * k, 0.5 * x)
}

/// The `p`-quantile of the χ² distribution with `k > 0` degrees of freedom:
/// the `x` with `chi2_cdf(x, k) = p`. `0` for `p = 0`, `+∞` for `p = 1`,
/// NaN for `p` outside `[0, 1]` or a `k` that is not positive and finite.
pub fn chi2_quantile(p: f64, k: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || !(k > 0.0) || !k.is_finite() {
        return f64::NAN;
    }
    if p == 0.0 {
        return 0.0;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let a = 0.5 * k;
    // The distribution function of y = x / 2 is P(a, y); find y.
    let f = |y: f64| {
        if p < 0.5 {
            gamma_p(a, y) - p
        } else {
            (1.0 - p) - gamma_q(a, y)
        }
    };
    // A bracket: 0 below, and a value above found by doubling.
    let (mut lo, mut hi) = (0.0_f64, a.max(1.0));
    while f(hi) < 0.0 {
        lo = hi;
        hi *= 2.0;
        if !hi.is_finite() {
            return f64::INFINITY;
        }
    }
    // Wilson–Hilferty as the first guess, kept inside the bracket.
    let z = normal_quantile(p);
    let h = 2.0 / (9.0 * k);
    let mut y = 0.5 * k * (1.0 - h + z * h.sqrt()).powi(3);
    if !(y > lo && y < hi) {
        y = 0.5 * (lo + hi);
    }
    for _ in 0..200 {
        let fy = f(y);
        if fy == 0.0 {
            break;
        }
        if fy < 0.0 {
            lo = y;
        } else {
            hi = y;
        }
        // The density of y: dP/dy = y^(a−1) e^(−y) / Γ(a).
        let density = ((a - 1.0) * y.ln() - y - ln_gamma(a)).exp();
        let newton = y - fy / density;
        let next = if newton > lo && newton < hi && newton.is_finite() {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - y).abs() <= 1e-15 * y.abs() || hi - lo <= 1e-15 * hi {
            y = next;
            break;
        }
        y = next;
    }
    2.0 * y
}

/// The standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9): only a starting point for [`chi2_quantile`].
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        let q = (-2.0 * q.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail(p)
    } else if p > 1.0 - 0.024_25 {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_is_exact_for_even_degrees_and_finite_far_out() {
        // k = 2: Q = e^(−x/2); k = 4: Q = e^(−x/2) (1 + x/2). Both branches
        // (series below a + 1, continued fraction above), and far past the
        // underflow of Q itself.
        for x in [0.01, 0.5, 1.0, 3.0, 10.0, 100.0, 2000.0, 1e5] {
            let two = chi2_ln_sf(x, 2.0);
            assert!(
                (two - (-x / 2.0)).abs() <= 1e-13 * (x / 2.0).max(1.0),
                "{x}: {two}"
            );
            let four = chi2_ln_sf(x, 4.0);
            let want = -x / 2.0 + (x / 2.0).ln_1p();
            assert!(
                (four - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{x}: {four}"
            );
        }
        assert_eq!(chi2_ln_sf(0.0, 3.0), 0.0);
        assert_eq!(chi2_ln_sf(f64::INFINITY, 3.0), f64::NEG_INFINITY);
        assert!(chi2_ln_sf(1.0, 0.0).is_nan());
    }

    /// SciPy 1.x: `scipy.stats.chi2.ppf(p, k)` and `scipy.special.gammainc`
    /// (tests/reference/make_chi2_fixtures.py prints these).
    const QUANTILES: [(f64, f64, f64); 8] = [
        (0.5, 1.0, 0.454936423119572),
        (0.975, 1.0, 5.023886187314888),
        (0.5, 16.0, 15.338498885001608),
        (0.975, 16.0, 28.845350723404753),
        (0.025, 3.0, 0.21579528262389785),
        (0.999999, 2.0, 27.631021115871036),
        (1e-10, 5.0, 0.00032335571462496966),
        (0.5, 1000.0, 999.333412403381),
    ];

    #[test]
    fn quantiles_match_scipy() {
        for (p, k, want) in QUANTILES {
            let got = chi2_quantile(p, k);
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "chi2_quantile({p}, {k}) = {got}, scipy {want}"
            );
            // The prefactor x^a e^(−x) / Γ(a) loses about a ε to cancellation
            // for large a (2e-13 at k = 1000).
            let back = chi2_cdf(got, k);
            assert!((back - p).abs() <= 1e-12 * p + 1e-16, "{p} {k}: {back}");
        }
    }

    #[test]
    fn edges_and_bad_arguments() {
        assert_eq!(chi2_quantile(0.0, 3.0), 0.0);
        assert_eq!(chi2_quantile(1.0, 3.0), f64::INFINITY);
        for (p, k) in [
            (-0.1, 3.0),
            (1.1, 3.0),
            (0.5, 0.0),
            (0.5, f64::NAN),
            (f64::NAN, 2.0),
        ] {
            assert!(chi2_quantile(p, k).is_nan(), "{p} {k}");
        }
        assert_eq!(chi2_cdf(0.0, 4.0), 0.0);
        assert_eq!(chi2_cdf(f64::INFINITY, 4.0), 1.0);
        assert!(gamma_p(-1.0, 1.0).is_nan());
        // P(1, x) = 1 − e^(−x), both branches.
        for x in [0.1_f64, 1.5, 2.5, 40.0] {
            let want = -(-x).exp_m1();
            assert!((gamma_p(1.0, x) - want).abs() < 1e-14, "{x}");
            let q = (-x).exp();
            assert!((gamma_q(1.0, x) - q).abs() < 1e-13 * q, "{x}");
        }
    }
}
