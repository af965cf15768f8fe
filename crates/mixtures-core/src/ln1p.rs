//! `ln(1 + x)` over a slice, in a form the compiler vectorizes: the Student-t
//! log-density needs one per entry of a block, and libm's `log1p` is a call
//! per element that no loop around it can vectorize.
//!
//! The method is fdlibm's (as in musl's `log1p` and `log1pf`): `u = 1 + x`
//! rounded, its exact rounding error `c` recovered by Fast2Sum, `u = 2ᵏ m`
//! with `m` in `[√2/2, √2)`, `ln m = 2 atanh(s)` with `s = (m − 1)/(m + 1)` by
//! a polynomial in `s²`, and `ln(1 + x) = k ln 2 + ln m + c/u`. Where musl
//! branches, this selects: every element takes the same instructions, and
//! the results are the same bits on every instruction set (nothing is fused).

use crate::kernels::Kernel;

/// `ln(1 + x)` over a slice, as a [`Kernel`] so that [`crate::kernels::vectorize`]
/// compiles it for the processor's SIMD width.
pub(crate) struct Ln1pSlice<'a, T>(pub(crate) &'a mut [T]);

impl Kernel for Ln1pSlice<'_, f64> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for x in self.0 {
            *x = ln_1p_f64(*x);
        }
    }
}

impl Kernel for Ln1pSlice<'_, f32> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for x in self.0 {
            *x = ln_1p_f32(*x);
        }
    }
}

/// `ln 2` split so that `k · LN2_HI` is exact for every exponent `k`.
const LN2_HI_F64: f64 = 0.693_147_180_369_123_8;
const LN2_LO_F64: f64 = 1.908_214_929_270_587_7e-10;
/// fdlibm's coefficients of `R(z) = Lg₁ z + … + Lg₇ z⁷`, `z = s²`, with
/// `ln m = 2s + s R(z)`: the series `2/3, 2/5, 2/7, …` adjusted to a minimax
/// fit on `|s| ≤ 0.1716` (`m` in `[√2/2, √2)`), error below 2⁻⁵⁸·⁴⁵.
const LG_F64: [f64; 7] = [
    0.666_666_666_666_673_5,
    0.399_999_999_994_094_2,
    0.285_714_287_436_623_9,
    0.222_221_984_321_497_84,
    0.181_835_721_616_180_5,
    0.153_138_376_992_093_73,
    0.147_981_986_051_165_86,
];

/// The high bits of `√2/2`. Adding `1.0`'s bits minus these to `u`'s makes
/// the exponent field step at `√2` instead of 2; the mantissa put back under
/// these bits is then `m` in `[√2/2, √2)`.
const SQRT_HALF_BITS_F64: u64 = 0x3fe6_a09e_0000_0000;

/// `ln(1 + x)` in f64, within about one unit in the last place.
#[inline(always)]
pub(crate) fn ln_1p_f64(x: f64) -> f64 {
    let u = 1.0 + x;
    // The rounding error of `u` (Fast2Sum, the larger operand first): exact.
    let err = if x >= 1.0 {
        1.0 - (u - x)
    } else {
        x - (u - 1.0)
    };
    let bits = u
        .to_bits()
        .wrapping_add(0x3ff0_0000_0000_0000 - SQRT_HALF_BITS_F64);
    // k = exponent field − bias, through a float with the field as its low
    // mantissa bits: AVX2 has no vector conversion from 64-bit integers.
    let k =
        f64::from_bits((bits >> 52) | 0x4330_0000_0000_0000) - (4_503_599_627_370_496.0 + 1023.0);
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) + SQRT_HALF_BITS_F64);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let a = &LG_F64;
    let t1 = w * (a[1] + w * (a[3] + w * a[5]));
    let t2 = z * (a[0] + w * (a[2] + w * (a[4] + w * a[6])));
    let r = t2 + t1;
    let c = err / u;
    let y = s * (hfsq + r) + (k * LN2_LO_F64 + c) - hfsq + f + k * LN2_HI_F64;
    finish(x, y, -1.0, f64::NAN, f64::INFINITY)
}

const LN2_HI_F32: f32 = 0.693_138_1;
const LN2_LO_F32: f32 = 9.058_001e-6;
/// musl's `log1pf` coefficients (0xaaaaaa.0p-24, 0xccce13.0p-25,
/// 0x91e9ee.0p-25, 0xf89e26.0p-26).
const LG_F32: [f32; 4] = [0.666_666_6, 0.400_009_72, 0.284_987_87, 0.242_790_79];
const SQRT_HALF_BITS_F32: u32 = 0x3f35_04f3;

/// `ln(1 + x)` in f32, as [`ln_1p_f64`] with a shorter polynomial.
#[inline(always)]
pub(crate) fn ln_1p_f32(x: f32) -> f32 {
    let u = 1.0 + x;
    let err = if x >= 1.0 {
        1.0 - (u - x)
    } else {
        x - (u - 1.0)
    };
    let bits = u.to_bits().wrapping_add(0x3f80_0000 - SQRT_HALF_BITS_F32);
    // The exponent field is at most 0xff: an i32 conversion, which vectorizes.
    let k = ((bits >> 23) as i32 - 0x7f) as f32;
    let m = f32::from_bits((bits & 0x007f_ffff) + SQRT_HALF_BITS_F32);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let a = &LG_F32;
    let t1 = w * (a[1] + w * a[3]);
    let t2 = z * (a[0] + w * a[2]);
    let r = t2 + t1;
    let c = err / u;
    let y = s * (hfsq + r) + (k * LN2_LO_F32 + c) - hfsq + f + k * LN2_HI_F32;
    finish(x, y, -1.0, f32::NAN, f32::INFINITY)
}

/// The special cases, as selects: NaN stays NaN, below −1 is NaN, −1 is
/// `−∞`, `+∞` is `+∞` (where `err` above is NaN).
#[inline(always)]
fn finish<T: num_traits::Float>(x: T, y: T, minus_one: T, nan: T, inf: T) -> T {
    if x.is_nan() || x < minus_one {
        nan
    } else if x == minus_one {
        -inf
    } else if x == inf {
        inf
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use crate::Scalar;

    /// Odd, and long enough for the vector body and a scalar tail.
    const STRIP: usize = 67;

    /// `ln_1p` of every `x` through the vectorized path: at every position of
    /// a strip it must give the bits of a call on `x` alone.
    fn checked<T: Scalar>(x: T) -> T {
        let mut one = [x];
        T::ln_1p_in_place(&mut one);
        for at in 0..STRIP {
            let mut v = [T::zero(); STRIP];
            v[at] = x;
            T::ln_1p_in_place(&mut v);
            assert!(
                v[at] == one[0] || (v[at].is_nan() && one[0].is_nan()),
                "ln_1p({x:?}) at {at}: {:?}, alone: {:?}",
                v[at],
                one[0]
            );
        }
        one[0]
    }

    /// Arguments from just above −1 to 1e300, dense near 0 and −1 where the
    /// rounding of `1 + x` matters, against libm's `ln_1p`: within 2 ulp.
    #[test]
    fn ln_1p_matches_libm_f64() {
        let mut xs: Vec<f64> = Vec::new();
        for e in -320..=300 {
            for m in [1.0, 1.234_567_890_123, 2.5, 3.999_999, 7.777] {
                let v = m * 10f64.powi(e);
                xs.extend([v, -v.min(1.0 - f64::EPSILON / 2.0)]);
            }
        }
        xs.extend((1..200_000).map(|i| -1.0 + i as f64 * 1e-5));
        xs.extend((0..200_000).map(|i| i as f64 * 3.3e-4));
        xs.extend([
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::MAX,
            -1.0 + f64::EPSILON / 2.0,
            1.0,
            1.0 - f64::EPSILON / 2.0,
            std::f64::consts::SQRT_2 - 1.0,
        ]);
        let mut worst = 0.0f64;
        for chunk in xs.chunks(256) {
            let mut v = chunk.to_vec();
            f64::ln_1p_in_place(&mut v);
            for (&x, &y) in chunk.iter().zip(&v) {
                let want = x.ln_1p();
                let ulp = f64::EPSILON * want.abs().max(f64::MIN_POSITIVE);
                worst = worst.max((y - want).abs() / ulp);
                assert!(y.is_finite(), "ln_1p({x:e}) = {y}");
            }
        }
        assert!(worst <= 2.0, "f64 ln_1p error {worst} ulp");
    }

    /// As [`ln_1p_matches_libm_f64`] in f32, against the f64 result rounded.
    #[test]
    fn ln_1p_matches_libm_f32() {
        let mut xs: Vec<f32> = Vec::new();
        for e in -44..=38 {
            for m in [1.0f32, 1.234_567, 2.5, 3.999_9, 7.777] {
                let v = m * 10f32.powi(e);
                if v.is_finite() {
                    xs.extend([v, -v.min(1.0 - f32::EPSILON / 2.0)]);
                }
            }
        }
        xs.extend((1..200_000).map(|i| -1.0 + i as f32 * 1e-5));
        xs.extend((0..200_000).map(|i| i as f32 * 3.3e-3));
        xs.extend([f32::MIN_POSITIVE, f32::from_bits(1), f32::MAX, 1.0]);
        let mut worst = 0.0f64;
        for chunk in xs.chunks(256) {
            let mut v = chunk.to_vec();
            f32::ln_1p_in_place(&mut v);
            for (&x, &y) in chunk.iter().zip(&v) {
                let exact = f64::from(x).ln_1p();
                let ulp = f64::from(f32::EPSILON) * exact.abs().max(f64::from(f32::MIN_POSITIVE));
                worst = worst.max((f64::from(y) - exact).abs() / ulp);
                assert!(y.is_finite(), "ln_1p({x:e}) = {y}");
            }
        }
        assert!(worst <= 2.0, "f32 ln_1p error {worst} ulp");
    }

    #[test]
    fn ln_1p_edges() {
        assert_eq!(checked(0.0f64), 0.0);
        assert_eq!(checked(-1.0f64), f64::NEG_INFINITY);
        assert_eq!(checked(f64::INFINITY), f64::INFINITY);
        assert!(checked(f64::NAN).is_nan());
        assert!(checked(-1.5f64).is_nan());
        assert!(checked(f64::NEG_INFINITY).is_nan());
        assert_eq!(checked(1e-300f64), 1e-300);
        assert_eq!(checked(0.0f32), 0.0);
        assert_eq!(checked(-1.0f32), f32::NEG_INFINITY);
        assert_eq!(checked(f32::INFINITY), f32::INFINITY);
        assert!(checked(f32::NAN).is_nan());
        assert!(checked(-2.0f32).is_nan());
        assert_eq!(checked(1e-30f32), 1e-30);
        for x in [1e-3f64, 0.5, 1.0, 7.0, 1e10] {
            assert!((checked(x) - x.ln_1p()).abs() <= 2.0 * f64::EPSILON * x.ln_1p());
        }
    }
}
