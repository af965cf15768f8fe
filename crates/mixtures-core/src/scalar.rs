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
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";
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
    #[inline(always)]
    fn c(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

/// ln(2π), used by every Gaussian normalizing constant.
pub const LN_2PI: f64 = 1.837_877_066_409_345_5;
