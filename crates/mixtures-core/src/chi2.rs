//! The χ² distribution, for cut-offs on squared Mahalanobis distances (the
//! consistency factor and the reweighting of the minimum covariance
//! determinant, χ² thresholds): the regularized lower incomplete gamma
//! function `P(a, x)`, the χ² distribution function and its quantiles; and
//! the tail of a Student-t's squared Mahalanobis distance through the
//! regularized incomplete beta function `I_x(a, b)`.
//!
//! Evaluated in `f64`: `P` by its power series below `x = a + 1` and by the
//! continued fraction of `Q = 1 − P` above (modified Lentz), each to a
//! relative error near 1e-14 (about `a ε` more for large `a`, from the
//! prefactor `x^a e^(−x) / Γ(a)`); quantiles by Newton steps
//! on `P` kept inside a bracket that bisection shrinks when a step leaves it,
//! to a relative error near 1e-14. `ln I_x(a, b)` by the continued fraction
//! of `I_x(a, b)` below `x = (a + 1) / (a + b + 2)` and of
//! `1 − I_x(a, b) = I_{1−x}(b, a)` above, in log space (finite where `I`
//! underflows).
//!
//! ```
//! use mixtures_core::chi2::{chi2_cdf, chi2_quantile};
//! // The median of χ² with 2 degrees of freedom is 2 ln 2.
//! assert!((chi2_quantile(0.5, 2.0) - 2.0 * 2f64.ln()).abs() < 1e-13);
//! assert!((chi2_cdf(2.0 * 2f64.ln(), 2.0) - 0.5).abs() < 1e-14);
//! ```

use crate::special::{ln_gamma, ln_gamma_ratio};

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

/// `ln I_x(a, b)`, the logarithm of the regularized incomplete beta function
/// `I_x(a, b) = B(x; a, b) / B(a, b)`, for `a, b > 0` and `0 ≤ x ≤ 1`; NaN
/// otherwise. Finite where `I` itself underflows (for small `x`, about
/// `a ln x − ln(a B(a, b))`). An `x` near one carries its own rounding
/// into `1 − x`: [`t_distance_ln_sf`] forms both from the distance instead.
pub fn ln_beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    let y = 1.0 - x;
    ln_beta_inc_xy(a, b, x, y, x.ln(), ln_of_complement(x, y))
}

/// `ln Pr(δ² ≥ q)` for `δ²` the squared Mahalanobis distance of a
/// `p`-variate Student-t with `ν` degrees of freedom under its own location
/// and scale: `δ² / p` follows an `F(p, ν)` distribution, so the tail is
/// `I_{ν/(ν+q)}(ν/2, p/2)`. Finite far in the tail; tends to
/// [`chi2_ln_sf`]`(q, p)` as `ν → ∞` (and is that for `ν = ∞`). NaN for
/// `p` or `ν` not positive, or `q` negative or NaN.
pub fn t_distance_ln_sf(q: f64, p: f64, nu: f64) -> f64 {
    if !(p > 0.0) || !(nu > 0.0) || !(q >= 0.0) || p.is_infinite() {
        return f64::NAN;
    }
    if nu == f64::INFINITY {
        return chi2_ln_sf(q, p);
    }
    if q == 0.0 {
        return 0.0;
    }
    if q == f64::INFINITY {
        return f64::NEG_INFINITY;
    }
    // x = ν/(ν+q) and y = q/(ν+q), and their logarithms, each without the
    // cancellation of 1 − the other.
    let (x, y) = if q <= nu {
        let r = q / nu;
        (1.0 / (1.0 + r), r / (1.0 + r))
    } else {
        let r = nu / q;
        (r / (1.0 + r), 1.0 / (1.0 + r))
    };
    let (lx, ly) = (-(q / nu).ln_1p(), -(nu / q).ln_1p());
    ln_beta_inc_xy(0.5 * nu, 0.5 * p, x, y, lx, ly)
}

/// `ln y` for `y = 1 − x`, through `ln_1p` where `x` is small.
fn ln_of_complement(x: f64, y: f64) -> f64 {
    if x < 0.5 { (-x).ln_1p() } else { y.ln() }
}

/// `ln I_x(a, b)` from `x`, `y = 1 − x` and their logarithms.
fn ln_beta_inc_xy(a: f64, b: f64, x: f64, y: f64, lx: f64, ly: f64) -> f64 {
    if !(a > 0.0) || !(b > 0.0) || a.is_infinite() || b.is_infinite() || x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if y <= 0.0 {
        return 0.0;
    }
    if x < (a + 1.0) / (a + b + 2.0) {
        beta_front(a, b, lx, ly) + beta_continued_fraction(a, b, x).ln() - a.ln()
    } else {
        // ln(1 − I_y(b, a)), the complement small where I is near one.
        let lc = beta_front(b, a, ly, lx) + beta_continued_fraction(b, a, y).ln() - b.ln();
        if lc > -core::f64::consts::LN_2 {
            (-lc.exp_m1()).ln()
        } else {
            (-lc.exp()).ln_1p()
        }
    }
}

/// `ln(x^a y^b / B(a, b))`, with `ln B` through [`ln_gamma_ratio`] (no
/// cancellation of two huge `ln Γ` when one argument is large).
fn beta_front(a: f64, b: f64, lx: f64, ly: f64) -> f64 {
    let (big, small) = if a >= b { (a, b) } else { (b, a) };
    let ln_b = ln_gamma(small) - ln_gamma_ratio(big, small);
    a * lx + b * ly - ln_b
}

/// The continued fraction of `I_x(a, b)` without its prefactor
/// `x^a (1 − x)^b / (a B(a, b))`, by the modified Lentz method; converges
/// quickly for `x < (a + 1) / (a + b + 2)`.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let clamp = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / clamp(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..MAX_TERMS {
        let m = m as f64;
        let m2 = 2.0 * m;
        // The even step.
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / clamp(1.0 + aa * d);
        c = clamp(1.0 + aa / c);
        h *= d * c;
        // The odd step.
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / clamp(1.0 + aa * d);
        c = clamp(1.0 + aa / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < f64::EPSILON {
            break;
        }
    }
    h
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

    /// mpmath 1.3 at 50 digits: `log(betainc(a, b, 0, x, regularized=True))`.
    const LN_BETA_INC: [(f64, f64, f64, f64); 12] = [
        (0.5, 0.5, 0.1, -1.585_561_414_730_353_3),
        (2.5, 1.5, 0.3, -2.419_751_433_176_190_8),
        (1.5, 0.5, 0.9, -0.503_880_954_582_172_7),
        (10.0, 3.0, 0.2, -12.305_654_335_257_35),
        (10.0, 3.0, 0.95, -0.019_762_255_348_235_45),
        (50.0, 0.5, 0.999, -0.284_528_357_355_954_9),
        (0.05, 2.0, 0.5, -0.009_964_746_437_625_765),
        (3.0, 20.0, 1e-5, -27.199_381_199_396_12),
        (5.0, 2.5, 1e-300, -3_451.415_449_867_565),
        (0.7, 0.3, 0.999_999, -0.013_698_015_018_544_853),
        (200.0, 300.0, 0.45, -0.011_924_469_105_979_992),
        (200.0, 300.0, 0.3, -13.767_007_554_707_977),
    ];

    /// mpmath 1.3 at 50 digits, `(q, p, ν, ln I_{ν/(ν+q)}(ν/2, p/2))` with
    /// `ν/(ν+q)` exact.
    const T_DISTANCE: [(f64, f64, f64, f64); 13] = [
        (5.0, 1.0, 1.0, -1.317_811_854_722_456_2),
        (3.0, 2.0, 4.0, -1.119_231_575_870_845_4),
        (1e4, 3.0, 2.5, -9.896_818_753_915_404),
        (1e6, 3.0, 5.0, -29.803_627_794_986_646),
        (1e6, 10.0, 300.0, -1_199.874_900_569_442),
        (4.0, 3.0, 1e8, -1.341_458_150_473_196_7),
        (2.5, 30.0, 0.01, -0.011_663_073_635_380_88),
        (1e3, 5.0, 1e4, -467.653_262_167_015_26),
        (5.0, 3.0, 1e6, -1.761_436_629_549_783),
        (30.0, 4.0, 1e5, -12.225_442_932_843_77),
        (2.0, 1.0, 5e5, -1.849_601_551_491_680_8),
        (0.5, 2.0, 1e3, -0.249_937_520_825_523_96),
        (1e-3, 3.0, 7.0, -9.271_877_343_931_175e-6),
    ];

    #[test]
    fn log_incomplete_beta_matches_mpmath() {
        for (a, b, x, want) in LN_BETA_INC {
            let got = ln_beta_inc(a, b, x);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1e-3),
                "ln I_{x}({a}, {b}) = {got}, mpmath {want}"
            );
        }
        for (q, p, nu, want) in T_DISTANCE {
            let got = t_distance_ln_sf(q, p, nu);
            // ν in the millions: ln B(ν/2, p/2) and the continued fraction
            // lose about (ν/2) ε.
            let tol = 1e-12_f64.max(nu * 1e-16);
            assert!(
                (got - want).abs() <= tol * want.abs().max(1e-3),
                "t_distance_ln_sf({q}, {p}, {nu}) = {got}, mpmath {want}"
            );
        }
    }

    #[test]
    fn log_incomplete_beta_closed_forms() {
        for x in [1e-200, 1e-9, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0 - 1e-9] {
            for a in [0.3, 1.0, 2.5, 40.0] {
                // I_x(a, 1) = x^a and I_x(1, a) = 1 − (1 − x)^a.
                let got = ln_beta_inc(a, 1.0, x);
                let want = a * x.ln();
                assert!(
                    (got - want).abs() <= 1e-13 * want.abs().max(1e-2),
                    "I_{x}({a}, 1): {got} vs {want}"
                );
                let got = ln_beta_inc(1.0, a, x);
                let want = (-(a * (-x).ln_1p()).exp_m1()).ln();
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1e-2),
                    "I_{x}(1, {a}): {got} vs {want}"
                );
            }
        }
        // The t's tails: ν = 1 (Cauchy), Pr(|T| ≥ t) = 1 − 2 atan(t)/π, and
        // ν = 2, Pr(|T| ≥ t) = 1 − t/√(2 + t²); q = t².
        for t in [0.01_f64, 0.5, 1.0, 3.0, 40.0, 1e5, 1e150] {
            let cauchy = t_distance_ln_sf(t * t, 1.0, 1.0);
            let want = (2.0 / core::f64::consts::PI * (1.0 / t).atan()).ln();
            assert!(
                (cauchy - want).abs() <= 1e-13 * want.abs().max(1e-2),
                "Cauchy {t}: {cauchy} vs {want}"
            );
            let two = t_distance_ln_sf(t * t, 1.0, 2.0);
            // 1 − t/√(2 + t²) = 2 / (√(2 + t²) (√(2 + t²) + t)).
            let r = (2.0 + t * t).sqrt();
            let want = (2.0 / (r * (r + t))).ln();
            assert!(
                (two - want).abs() <= 1e-13 * want.abs().max(1e-2),
                "ν = 2, {t}: {two} vs {want}"
            );
        }
        assert_eq!(ln_beta_inc(2.0, 3.0, 0.0), f64::NEG_INFINITY);
        assert_eq!(ln_beta_inc(2.0, 3.0, 1.0), 0.0);
        assert_eq!(t_distance_ln_sf(0.0, 3.0, 4.0), 0.0);
        assert_eq!(t_distance_ln_sf(f64::INFINITY, 3.0, 4.0), f64::NEG_INFINITY);
        for (a, b, x) in [
            (0.0, 1.0, 0.5),
            (1.0, -1.0, 0.5),
            (1.0, 1.0, 1.5),
            (1.0, 1.0, f64::NAN),
        ] {
            assert!(ln_beta_inc(a, b, x).is_nan(), "{a} {b} {x}");
        }
        assert!(t_distance_ln_sf(-1.0, 3.0, 4.0).is_nan());
        assert!(t_distance_ln_sf(1.0, 0.0, 4.0).is_nan());
        assert!(t_distance_ln_sf(1.0, 3.0, 0.0).is_nan());
    }

    #[test]
    fn the_t_distance_tail_tends_to_the_chi_square_tail() {
        for (q, p) in [(0.5, 1.0), (3.0, 3.0), (20.0, 5.0), (200.0, 10.0)] {
            let chi = chi2_ln_sf(q, p);
            assert_eq!(t_distance_ln_sf(q, p, f64::INFINITY), chi);
            // The F(p, ν) tail approaches the χ²(p)/p tail as O(1/ν); far in
            // the tail the t's stays heavier.
            let mut last = f64::INFINITY;
            for nu in [1e2, 1e4, 1e6] {
                let t = t_distance_ln_sf(q, p, nu);
                let gap = (t - chi).abs() / chi.abs().max(1e-2);
                assert!(gap < last, "{q} {p} {nu}: {t} vs {chi}");
                assert!(t >= chi, "{q} {p} {nu}: {t} vs {chi}");
                last = gap;
            }
            assert!(last < 1e-3, "{q} {p}: {last}");
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
