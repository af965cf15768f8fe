//! The scalar types the scorer runs in: `f32` and `f64`, with the few
//! functions it needs from libm (core has no `exp` or `ln` without std).

use core::fmt::Debug;
use core::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`: what a [`crate::Scorer`] computes in.
pub trait Real:
    sealed::Sealed
    + Copy
    + Debug
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `1/2`.
    const HALF: Self;
    /// `−∞`.
    const NEG_INFINITY: Self;
    /// `eˣ`.
    fn exp(self) -> Self;
    /// `ln x`.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate for small `x`.
    fn ln_1p(self) -> Self;
    /// `|x|`.
    fn abs(self) -> Self;
    /// Whether `x` is NaN.
    fn is_nan(self) -> bool;
    /// `n` rounded to this type.
    fn from_usize(n: usize) -> Self;
}

macro_rules! real {
    ($t:ty, $exp:path, $ln:path, $ln_1p:path, $abs:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const HALF: Self = 0.5;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            #[inline]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline]
            fn ln_1p(self) -> Self {
                $ln_1p(self)
            }
            #[inline]
            fn abs(self) -> Self {
                $abs(self)
            }
            #[inline]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
        }
    };
}

real!(f32, libm::expf, libm::logf, libm::log1pf, libm::fabsf);
real!(f64, libm::exp, libm::log, libm::log1p, libm::fabs);
