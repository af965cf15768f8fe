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
    /// [`crate::kernels::vectorize`]). Accurate to a few units in the last place.
    /// Arguments below −708 (f64) or −87 (f32) give 0 (where libm would give a
    /// subnormal), above 709 or 88 give `+inf`; NaN stays NaN. The same bits come
    /// out on every instruction set.
    fn exp_in_place(v: &mut [Self]);
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
    let (r, t) = exp_reduce(x);
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
    exp_finish(x, u0 + u1 * r8, t)
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
    let (r, t) = exp_reduce(x);
    let a = &EXP_F32_COEFFS;
    let r2 = r * r;
    let r4 = r2 * r2;
    let q0 = a[0] + a[1] * r;
    let q1 = a[2] + a[3] * r;
    let q2 = a[4] + a[5] * r;
    let q3 = a[6] + a[7] * r;
    let s0 = q0 + q1 * r2;
    let s1 = q2 + q3 * r2;
    exp_finish(x, s0 + s1 * r4, t)
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
    /// 1.5 · 2^(mantissa bits): adding it rounds to an integer held in the low
    /// mantissa bits.
    const MAGIC: Self;
    /// Below this, `exp` is 0 (where libm would give a subnormal).
    const LO: Self;
    /// Above this, `exp` is `+inf`.
    const HI: Self;
    /// `2ᵏ` from `t = k + MAGIC`, by writing `k` into the exponent bits.
    fn two_to(t: Self) -> Self;
}

impl ExpParts for f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    const LO: f64 = -708.0;
    const HI: f64 = 709.0;
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
    const MAGIC: f32 = 12_582_912.0;
    const LO: f32 = -87.0;
    const HI: f32 = 88.0;
    #[inline(always)]
    fn two_to(t: f32) -> f32 {
        let ki = (t.to_bits() as i32).wrapping_sub(Self::MAGIC.to_bits() as i32);
        f32::from_bits(((ki + 127) as u32) << 23)
    }
}

/// Range reduction: `(r, t)` with `x = k ln 2 + r`, `|r| ≤ ln 2 / 2` and
/// `t = k + MAGIC`.
#[inline(always)]
fn exp_reduce<T: ExpParts>(x: T) -> (T, T) {
    let xc = x.max(T::LO).min(T::HI);
    let t = xc * T::LOG2E + T::MAGIC;
    let k = t - T::MAGIC;
    let r = (xc - k * T::LN2_HI) - k * T::LN2_LO;
    (r, t)
}

/// `p · 2ᵏ`, with the out-of-range and NaN cases.
#[inline(always)]
fn exp_finish<T: ExpParts>(x: T, p: T, t: T) -> T {
    let y = p * T::two_to(t);
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

    #[test]
    fn exp_matches_libm() {
        let mut worst64 = 0.0f64;
        let mut worst32 = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f64 * 3.5e-3;
            let mut v = [x];
            f64::exp_in_place(&mut v);
            let want = x.exp();
            if want > f64::MIN_POSITIVE {
                worst64 = worst64.max(((v[0] - want) / want).abs());
            }
            let xf = (i as f32) * 4.3e-4;
            let mut w = [xf];
            f32::exp_in_place(&mut w);
            let wantf = f64::from(xf).exp();
            if wantf > f64::from(f32::MIN_POSITIVE) && wantf < f64::from(f32::MAX) {
                worst32 = worst32.max(((f64::from(w[0]) - wantf) / wantf).abs());
            }
        }
        assert!(
            worst64 < 4.0 * f64::EPSILON,
            "f64 exp relative error {worst64:e}"
        );
        assert!(
            worst32 < 4.0 * f64::from(f32::EPSILON),
            "f32 exp relative error {worst32:e}"
        );
    }

    #[test]
    fn exp_edges() {
        let mut v = [f64::NEG_INFINITY, -1e6, 0.0, 1e6, f64::NAN, f64::INFINITY];
        f64::exp_in_place(&mut v);
        assert_eq!(v[0], 0.0);
        assert_eq!(v[1], 0.0);
        assert_eq!(v[2], 1.0);
        assert_eq!(v[3], f64::INFINITY);
        assert!(v[4].is_nan());
        assert_eq!(v[5], f64::INFINITY);
        let mut w = [f32::NEG_INFINITY, 0.0, 100.0, f32::NAN];
        f32::exp_in_place(&mut w);
        assert_eq!(w[..3], [0.0, 1.0, f32::INFINITY]);
        assert!(w[3].is_nan());
    }
}
