//! The one scalar bound shared by every crate of the workspace.

use core::fmt::{Debug, Display};
use core::iter::Sum;

use faer::traits::RealField;
use num_traits::Float;

/// A floating-point type the library computes in: `f32` or `f64`, nothing else.
///
/// faer's [`RealField`] supplies the linear algebra, [`num_traits::Float`] the
/// elementary functions (`ln`, `exp`, `sqrt`) that faer does not have. The trait is
/// sealed so that every generic algorithm can rely on IEEE-754 binary32/binary64
/// behaviour (rounding, `epsilon`, `max_value`).
pub trait Scalar:
    RealField + Float + Copy + Send + Sync + Debug + Display + Default + Sum + sealed::Sealed + 'static
{
    /// Short name of the type, `"f32"` or `"f64"`, for messages and file formats.
    const NAME: &'static str;

    /// Converts an `f64` constant or statistic to this type (rounding for `f32`).
    fn c(x: f64) -> Self;

    /// Widens the value to `f64` (exact for both types).
    fn as_f64(self) -> f64;

    /// Converts a count to this type (rounding above 2^24 for `f32`).
    fn from_usize(n: usize) -> Self {
        Self::c(n as f64)
    }

    /// `vᵢ ← exp(vᵢ)` for every element, in a form the compiler vectorizes (no
    /// call into libm per element; compiled for the processor's SIMD width, see
    /// [`crate::kernels::vectorize`]). Accurate to a few units in the last place
    /// (plus one unit of the smallest subnormal where the result is subnormal).
    /// It underflows and overflows where the exact value does: 0 below
    /// −745.133 (f64) or −103.972 (f32), where `exp` rounds to zero, subnormals
    /// between that and −708.396 or −87.337, `+inf` above 709.783 or 88.723;
    /// NaN stays NaN. The same bits come out on every instruction set.
    fn exp_in_place(v: &mut [Self]);

    /// `vᵢ ← ln(1 + vᵢ)` for every element, vectorized as
    /// [`Scalar::exp_in_place`] (the Student-t density takes one per entry of
    /// a block). Within 2 units in the last place of libm's `ln_1p` over the
    /// whole range; −1 gives `−∞`, below −1 and NaN give NaN, `+∞` stays
    /// `+∞`. The same bits come out on every instruction set.
    fn ln_1p_in_place(v: &mut [Self]);
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";
    fn exp_in_place(v: &mut [Self]) {
        crate::kernels::vectorize(ExpSlice(v));
    }
    fn ln_1p_in_place(v: &mut [Self]) {
        crate::kernels::vectorize(crate::ln1p::Ln1pSlice(v));
    }
    #[inline(always)]
    fn c(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";
    fn exp_in_place(v: &mut [Self]) {
        crate::kernels::vectorize(ExpSlice(v));
    }
    fn ln_1p_in_place(v: &mut [Self]) {
        crate::kernels::vectorize(crate::ln1p::Ln1pSlice(v));
    }
    #[inline(always)]
    fn c(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

/// `exp` over a slice, as a [`crate::kernels::Kernel`] so that it is compiled
/// for the processor's SIMD width.
struct ExpSlice<'a, T>(&'a mut [T]);

impl crate::kernels::Kernel for ExpSlice<'_, f64> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for x in self.0 {
            *x = exp_f64(*x);
        }
    }
}

impl crate::kernels::Kernel for ExpSlice<'_, f32> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for x in self.0 {
            *x = exp_f32(*x);
        }
    }
}

/// ln(2π), used by every Gaussian normalizing constant.
pub const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// exp for f64 without branches in the common path: `2ᵏ · exp(r)` with
/// `k = round(x / ln 2)` (Cody–Waite reduction, `|r| ≤ ln 2 / 2`) and the
/// degree-13 Taylor polynomial of `exp(r)` (truncation below 1e-17 relative),
/// evaluated by Estrin's scheme: pairs of terms, then pairs of pairs, so the
/// chain of dependent operations is four multiply-adds long instead of
/// thirteen (the vectorized loop is bound by that latency otherwise).
#[inline(always)]
fn exp_f64(x: f64) -> f64 {
    let (r, k) = exp_reduce(x);
    let a = &EXP_F64_COEFFS;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let q0 = a[0] + a[1] * r;
    let q1 = a[2] + a[3] * r;
    let q2 = a[4] + a[5] * r;
    let q3 = a[6] + a[7] * r;
    let q4 = a[8] + a[9] * r;
    let q5 = a[10] + a[11] * r;
    let q6 = a[12] + a[13] * r;
    let s0 = q0 + q1 * r2;
    let s1 = q2 + q3 * r2;
    let s2 = q4 + q5 * r2;
    let u0 = s0 + s1 * r4;
    let u1 = s2 + q6 * r4;
    exp_finish(x, u0 + u1 * r8, k)
}

/// `1/i!` for `i = 0..=13`.
const EXP_F64_COEFFS: [f64; 14] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// exp for f32, as [`exp_f64`] with a degree-7 polynomial.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let (r, k) = exp_reduce(x);
    let a = &EXP_F32_COEFFS;
    let r2 = r * r;
    let r4 = r2 * r2;
    let q0 = a[0] + a[1] * r;
    let q1 = a[2] + a[3] * r;
    let q2 = a[4] + a[5] * r;
    let q3 = a[6] + a[7] * r;
    let s0 = q0 + q1 * r2;
    let s1 = q2 + q3 * r2;
    exp_finish(x, s0 + s1 * r4, k)
}

/// `1/i!` for `i = 0..=7`.
const EXP_F32_COEFFS: [f32; 8] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
];

/// The parts of `exp` that differ between `f32` and `f64` only in constants
/// and in the layout of the exponent bits; [`exp_reduce`] and [`exp_finish`]
/// are written once over them.
trait ExpParts: Float {
    /// `log2 e`.
    const LOG2E: Self;
    /// `ln 2` split in a high part with trailing zero bits and the rest
    /// (Cody–Waite), so that `k · LN2_HI` is exact.
    const LN2_HI: Self;
    /// See [`ExpParts::LN2_HI`].
    const LN2_LO: Self;
    /// 0.5.
    const HALF: Self;
    /// 1.5 · 2^(mantissa bits): adding it rounds to an integer held in the low
    /// mantissa bits.
    const MAGIC: Self;
    /// The smallest argument whose exact `exp` rounds to a positive number (the
    /// smallest subnormal); below it `exp` is 0.
    ///
    /// The cut-off is where `exp` underflows to zero, not where it leaves the
    /// normal range (`ln MIN_POSITIVE`, −708.40 / −87.34): flushing the
    /// subnormal range to 0 would make this `exp` disagree with libm and with
    /// IEEE gradual underflow over 37 (f64) or 17 (f32) units of argument,
    /// and it costs nothing to keep them, since [`exp_finish`] scales in two
    /// steps anyway so that `2ᵏ` is never built outside the normal range.
    const LO: Self;
    /// The largest argument whose exact `exp` is below `MAX`; above it `exp`
    /// is `+inf`.
    const HI: Self;
    /// `2ᵏ` from `t = k + MAGIC`, by writing `k` into the exponent bits; `k`
    /// must lie in the normal range of exponents.
    fn two_to(t: Self) -> Self;
}

impl ExpParts for f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const HALF: f64 = 0.5;
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    const LO: f64 = -745.133_219_101_941_1;
    const HI: f64 = 709.782_712_893_384;
    #[inline(always)]
    fn two_to(t: f64) -> f64 {
        let ki = (t.to_bits() as i64).wrapping_sub(Self::MAGIC.to_bits() as i64);
        f64::from_bits(((ki + 1023) as u64) << 52)
    }
}

impl ExpParts for f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const HALF: f32 = 0.5;
    const MAGIC: f32 = 12_582_912.0;
    const LO: f32 = -103.972_08;
    const HI: f32 = 88.722_83;
    #[inline(always)]
    fn two_to(t: f32) -> f32 {
        let ki = (t.to_bits() as i32).wrapping_sub(Self::MAGIC.to_bits() as i32);
        f32::from_bits(((ki + 127) as u32) << 23)
    }
}

/// Range reduction: `(r, k)` with `x = k ln 2 + r`, `|r| ≤ ln 2 / 2` and `k` an
/// integer held as a float.
#[inline(always)]
fn exp_reduce<T: ExpParts>(x: T) -> (T, T) {
    let xc = x.max(T::LO).min(T::HI);
    let t = xc * T::LOG2E + T::MAGIC;
    let k = t - T::MAGIC;
    let r = (xc - k * T::LN2_HI) - k * T::LN2_LO;
    (r, k)
}

/// `p · 2ᵏ`, with the out-of-range and NaN cases.
///
/// Between [`ExpParts::LO`] and [`ExpParts::HI`], `k` runs from −1075 to 1024
/// (f64) or −150 to 128 (f32), beyond the exponents a single `2ᵏ` can hold.
/// Splitting `k = k₁ + k₂` with both halves well inside the normal range
/// makes `p · 2^k₁` exact and leaves a single rounding, in `· 2^k₂`, which is
/// IEEE gradual underflow or overflow.
#[inline(always)]
fn exp_finish<T: ExpParts>(x: T, p: T, k: T) -> T {
    let t1 = k * T::HALF + T::MAGIC;
    let k1 = t1 - T::MAGIC;
    let t2 = (k - k1) + T::MAGIC;
    let y = p * T::two_to(t1) * T::two_to(t2);
    if x < T::LO {
        T::zero()
    } else if x > T::HI {
        T::infinity()
    } else if x.is_nan() {
        x
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long enough that [`Scalar::exp_in_place`] runs its vector body as well as
    /// its scalar tail, and odd so that the tail is not empty.
    const STRIP: usize = 67;

    /// `exp` of every `x` through the vectorized path: each `x` is put at every
    /// position of a strip, and all positions must give the same bits as a call
    /// on `x` alone (the scalar tail).
    fn exp_checked<T: Scalar>(x: T) -> T {
        let mut one = [x];
        T::exp_in_place(&mut one);
        for at in 0..STRIP {
            let mut v = [T::zero(); STRIP];
            v[at] = x;
            T::exp_in_place(&mut v);
            assert!(
                v[at] == one[0] || (v[at].is_nan() && one[0].is_nan()),
                "exp({x:?}) at {at} of {STRIP}: {:?}, alone: {:?}",
                v[at],
                one[0]
            );
        }
        one[0]
    }

    fn next_down(x: f64) -> f64 {
        // Only used below on negative or positive non-zero finite values.
        if x > 0.0 {
            f64::from_bits(x.to_bits() - 1)
        } else {
            f64::from_bits(x.to_bits() + 1)
        }
    }

    fn next_up(x: f64) -> f64 {
        if x > 0.0 {
            f64::from_bits(x.to_bits() + 1)
        } else {
            f64::from_bits(x.to_bits() - 1)
        }
    }

    fn next_down32(x: f32) -> f32 {
        if x > 0.0 {
            f32::from_bits(x.to_bits() - 1)
        } else {
            f32::from_bits(x.to_bits() + 1)
        }
    }

    fn next_up32(x: f32) -> f32 {
        if x > 0.0 {
            f32::from_bits(x.to_bits() + 1)
        } else {
            f32::from_bits(x.to_bits() - 1)
        }
    }

    /// Every argument from below the zero cut-off to above the overflow one, in
    /// strips, against libm: within 4 ulp where the result is normal, within one
    /// smallest subnormal plus those 4 ulp where it is subnormal, and 0 / `+inf`
    /// exactly where libm gives them.
    #[test]
    fn exp_matches_libm_over_the_whole_range() {
        let (mut worst64, mut worst_sub64) = (0.0f64, 0.0f64);
        let xs: Vec<f64> = (-213_200..=203_100).map(|i| i as f64 * 3.5e-3).collect();
        assert!(xs[0] < -746.0 && xs[xs.len() - 1] > 710.0);
        for chunk in xs.chunks(256) {
            let mut v = chunk.to_vec();
            f64::exp_in_place(&mut v);
            for (&x, &y) in chunk.iter().zip(&v) {
                let want = x.exp();
                if want == 0.0 || want.is_infinite() {
                    assert_eq!(y, want, "exp({x})");
                } else if want >= f64::MIN_POSITIVE {
                    worst64 = worst64.max(((y - want) / want).abs());
                } else {
                    // A subnormal keeps fewer bits: half a unit of the smallest
                    // subnormal from rounding, on top of the polynomial's own
                    // relative error, which can be worth a few units near the
                    // normal range.
                    let allowed = f64::from_bits(1) + 4.0 * f64::EPSILON * want;
                    worst_sub64 = worst_sub64.max((y - want).abs() / allowed);
                }
            }
        }
        assert!(
            worst64 < 4.0 * f64::EPSILON,
            "f64 exp relative error {worst64:e}"
        );
        assert!(
            worst_sub64 <= 1.0,
            "f64 subnormal exp error {worst_sub64} of allowed"
        );

        let (mut worst32, mut worst_sub32) = (0.0f64, 0.0f64);
        let xs: Vec<f32> = (-243_000..=207_000).map(|i| i as f32 * 4.3e-4).collect();
        assert!(xs[0] < -104.0 && xs[xs.len() - 1] > 89.0);
        for chunk in xs.chunks(256) {
            let mut v = chunk.to_vec();
            f32::exp_in_place(&mut v);
            for (&x, &y) in chunk.iter().zip(&v) {
                // exp in f64 then rounded: the correctly rounded f32 result.
                let exact = f64::from(x).exp();
                let want = exact as f32;
                if want == 0.0 || want.is_infinite() {
                    assert_eq!(y, want, "exp({x})");
                } else if want >= f32::MIN_POSITIVE {
                    worst32 = worst32.max(((f64::from(y) - exact) / exact).abs());
                } else {
                    let unit = f64::from(f32::from_bits(1));
                    let allowed = unit + 4.0 * f64::from(f32::EPSILON) * exact;
                    worst_sub32 = worst_sub32.max((f64::from(y) - exact).abs() / allowed);
                }
            }
        }
        assert!(
            worst32 < 4.0 * f64::from(f32::EPSILON),
            "f32 exp relative error {worst32:e}"
        );
        assert!(
            worst_sub32 <= 1.0,
            "f32 subnormal exp error {worst_sub32} of allowed"
        );
    }

    /// Just below and above each place where `exp` changes regime: underflow to
    /// zero, the end of the normal range, overflow. The arguments are libm's
    /// (checked here against `f64::exp` / the rounded f64 result), not the
    /// constants of the implementation.
    #[test]
    fn exp_cut_offs_f64() {
        // Smallest argument whose exp rounds to the smallest subnormal.
        let zero_cut = -745.133_219_101_941_1f64;
        assert_eq!(zero_cut.exp(), f64::from_bits(1));
        assert_eq!(next_down(zero_cut).exp(), 0.0);
        assert_eq!(exp_checked(zero_cut), f64::from_bits(1));
        assert_eq!(exp_checked(next_down(zero_cut)), 0.0);
        assert_eq!(exp_checked(-745.2), 0.0);
        assert_eq!(exp_checked(-745.0), (-745.0f64).exp());

        // ln MIN_POSITIVE: normal above, subnormal below.
        let normal_cut = -708.396_418_532_264_1f64;
        let above = exp_checked(normal_cut);
        assert!(above >= f64::MIN_POSITIVE, "{above:e}");
        assert!((above - normal_cut.exp()).abs() <= 4.0 * f64::EPSILON * above);
        let below = exp_checked(next_down(next_down(normal_cut)));
        assert!(below > 0.0 && below < f64::MIN_POSITIVE, "{below:e}");
        let libm = next_down(next_down(normal_cut)).exp();
        assert!(
            (below - libm).abs() <= f64::from_bits(1),
            "{below:e} vs {libm:e}"
        );

        // Largest argument with a finite exp.
        let inf_cut = 709.782_712_893_384f64;
        assert!(inf_cut.exp().is_finite() && next_up(inf_cut).exp().is_infinite());
        let top = exp_checked(inf_cut);
        assert!(top.is_finite(), "{top:e}");
        assert!((top - inf_cut.exp()).abs() <= 4.0 * f64::EPSILON * top);
        assert_eq!(exp_checked(next_up(inf_cut)), f64::INFINITY);
        assert!(exp_checked(709.5).is_finite());
    }

    /// As [`exp_cut_offs_f64`], in f32.
    #[test]
    fn exp_cut_offs_f32() {
        let rounded = |x: f32| f64::from(x).exp() as f32;
        let zero_cut = -103.972_08f32;
        assert_eq!(rounded(zero_cut), f32::from_bits(1));
        assert_eq!(rounded(next_down32(zero_cut)), 0.0);
        assert_eq!(exp_checked(zero_cut), f32::from_bits(1));
        assert_eq!(exp_checked(next_down32(zero_cut)), 0.0);
        assert_eq!(exp_checked(-104.0f32), 0.0);
        assert_eq!(exp_checked(-103.0f32), rounded(-103.0));

        let normal_cut = -87.336_54f32;
        let above = exp_checked(normal_cut);
        assert!(above >= f32::MIN_POSITIVE, "{above:e}");
        let below = exp_checked(next_down32(next_down32(normal_cut)));
        assert!(below > 0.0 && below < f32::MIN_POSITIVE, "{below:e}");
        let libm = f64::from(next_down32(next_down32(normal_cut))).exp();
        assert!((f64::from(below) - libm).abs() <= f64::from(f32::from_bits(1)));

        let inf_cut = 88.722_83f32;
        assert!(rounded(inf_cut).is_finite() && rounded(next_up32(inf_cut)).is_infinite());
        let top = exp_checked(inf_cut);
        assert!(top.is_finite(), "{top:e}");
        let exact = f64::from(inf_cut).exp();
        assert!((f64::from(top) - exact).abs() <= 4.0 * f64::from(f32::EPSILON) * exact);
        assert_eq!(exp_checked(next_up32(inf_cut)), f32::INFINITY);
        assert!(exp_checked(88.5f32).is_finite());
    }

    #[test]
    fn exp_edges() {
        for (x, want) in [
            (f64::NEG_INFINITY, 0.0),
            (-1e6, 0.0),
            (0.0, 1.0),
            (-0.0, 1.0),
            (1e6, f64::INFINITY),
            (f64::INFINITY, f64::INFINITY),
        ] {
            assert_eq!(exp_checked(x), want, "exp({x})");
        }
        assert!(exp_checked(f64::NAN).is_nan());
        for (x, want) in [
            (f32::NEG_INFINITY, 0.0),
            (0.0, 1.0),
            (100.0, f32::INFINITY),
            (f32::INFINITY, f32::INFINITY),
        ] {
            assert_eq!(exp_checked(x), want, "exp({x})");
        }
        assert!(exp_checked(f32::NAN).is_nan());
    }
}
