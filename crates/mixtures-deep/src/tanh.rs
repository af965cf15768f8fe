//! tanh for the CPU backend, vectorizable, with its derivative attached to
//! the autodiff graph by hand.
//!
//! burn's CPU backend evaluates tanh element by element through the C
//! library (`tanhf`), which took half of a DAGMM training epoch on
//! KDDCUP99. Here the values come from a branch-free kernel the compiler
//! vectorizes, and the graph gets `t + (x − sg(x)) · sg(1 − t²)`: its value
//! is `t` (the difference is exactly zero) and its derivative in `x` is
//! `1 − t²`, tanh's.
//!
//! The kernel: for `|x| < 0.55` the odd Taylor polynomial to `x¹⁵` (the next
//! term is below 5e-8 relative there); above, `(1 − e)/(1 + e)` with
//! `e = exp(−2|x|) ≤ e^{-1.1}` (no cancellation), `exp` by range reduction
//! to `|r| ≤ ln2/2` and a degree-7 polynomial; `|x| ≥ 9` gives ±1 (tanh(9)
//! rounds to 1 in single precision). Largest error against `f64::tanh`
//! over the tested grid: below 4 ulp (`tests`).

use burn::tensor::{Tensor, TensorData};

use crate::DeepError;

const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// Adding and subtracting 1.5·2²³ rounds an f32 of magnitude below 2²² to
/// the nearest integer with plain additions (which vectorize, unlike
/// `round`).
const ROUNDER: f32 = 12_582_912.0;

/// `exp(y)` for `y` in `[−18.1, 0]`.
#[inline(always)]
fn exp_neg(y: f32) -> f32 {
    let k = (y * LOG2E + ROUNDER) - ROUNDER;
    let r = (y - k * LN2_HI) - k * LN2_LO;
    // Horner, degree 7: Σ rⁱ / i!
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let scale = f32::from_bits((((k as i32) + 127) as u32) << 23);
    p * scale
}

/// tanh of one value (the kernel's body).
#[inline(always)]
pub(crate) fn tanh1(x: f32) -> f32 {
    // Not `min`, which would turn NaN into 9 and hide a diverged network.
    let a = x.abs();
    let a = if a > 9.0 { 9.0 } else { a };
    let s = a * a;
    let small = a
        * (1.0
            + s * (-1.0 / 3.0
                + s * (2.0 / 15.0
                    + s * (-17.0 / 315.0
                        + s * (62.0 / 2835.0
                            + s * (-1382.0 / 155_925.0
                                + s * (21_844.0 / 6_081_075.0
                                    + s * (-929_569.0 / 638_512_875.0))))))));
    let e = exp_neg(-2.0 * a);
    let large = (1.0 - e) / (1.0 + e);
    let t = if a < 0.55 { small } else { large };
    t.copysign(x)
}

/// tanh of every value in place, and `1 − tanh²` beside it.
fn tanh_and_slope(v: &mut [f32], slope: &mut [f32]) {
    for (x, d) in v.iter_mut().zip(slope.iter_mut()) {
        let t = tanh1(*x);
        *x = t;
        *d = 1.0 - t * t;
    }
}

/// `tanh(x)`: on the CPU backend by the kernel here, with the graph's
/// derivative attached; elsewhere (a GPU) the backend's own.
pub(crate) fn tanh(x: Tensor<2>) -> Result<Tensor<2>, DeepError> {
    let device = x.device();
    if device.clone().inner() != crate::cpu() {
        return Ok(x.tanh());
    }
    let dims = x.dims();
    let fixed = x.clone().detach();
    let mut v = crate::error::read(fixed.clone())?;
    let mut slope = vec![0.0f32; v.len()];
    tanh_and_slope(&mut v, &mut slope);
    let t = Tensor::<2>::from_data(TensorData::new(v, dims), &device);
    // Tracked, not `is_require_grad` (which only leaves answer yes to):
    // every layer's output is tracked while training.
    if !x.is_tracked() {
        return Ok(t);
    }
    let slope = Tensor::<2>::from_data(TensorData::new(slope, dims), &device);
    Ok(t + (x - fixed) * slope)
}

#[cfg(test)]
mod tests {
    use super::tanh1;

    fn ulps(a: f32, b: f64) -> f64 {
        let b32 = b as f32;
        let ulp = (f32::from_bits(b32.abs().to_bits() + 1) - b32.abs()) as f64;
        (a as f64 - b).abs() / ulp
    }

    #[test]
    fn within_four_ulp_of_double_precision_tanh() {
        let mut worst: f64 = 0.0;
        let mut x = -12.0f32;
        while x <= 12.0 {
            worst = worst.max(ulps(tanh1(x), (x as f64).tanh()));
            x += 1.0 / 1024.0;
        }
        for x in [
            1e-30f32, -1e-20, 1e-7, 0.549_999, 0.55, 0.550_001, 8.99, 9.0, 1e30,
        ] {
            worst = worst.max(ulps(tanh1(x), (x as f64).tanh()));
        }
        assert!(worst < 4.0, "{worst} ulp");
        assert_eq!(tanh1(0.0), 0.0);
        assert_eq!(tanh1(f32::INFINITY), 1.0);
        assert_eq!(tanh1(f32::NEG_INFINITY), -1.0);
        assert!(tanh1(f32::NAN).is_nan());
    }
}
