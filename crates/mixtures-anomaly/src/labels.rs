//! Binary labels (0 = normal, 1 = anomaly) in whatever type the caller has them.

use crate::AnomalyError;

/// A value that can be a binary label: `0` (normal) or `1` (anomaly).
///
/// Implemented for `bool`, every primitive integer type, and `f32`/`f64` (exactly
/// `0.0` or `1.0`, as read from a CSV file), so that labels can be passed as they
/// come. Any other value is refused with [`AnomalyError::InvalidLabel`].
pub trait Label: Copy + core::fmt::Debug {
    /// `Some(false)` for 0, `Some(true)` for 1, `None` for anything else.
    fn as_binary(self) -> Option<bool>;
}

impl Label for bool {
    #[inline]
    fn as_binary(self) -> Option<bool> {
        Some(self)
    }
}

macro_rules! integer_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline]
            fn as_binary(self) -> Option<bool> {
                match self {
                    0 => Some(false),
                    1 => Some(true),
                    _ => None,
                }
            }
        }
    )*};
}
integer_label!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

macro_rules! float_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline]
            fn as_binary(self) -> Option<bool> {
                if self == 0.0 {
                    Some(false)
                } else if self == 1.0 {
                    Some(true)
                } else {
                    None
                }
            }
        }
    )*};
}
float_label!(f32, f64);

/// Checks that there are `n` labels, each 0 or 1, and returns them as booleans
/// (`true` = anomaly). `what` names the slice in errors.
pub(crate) fn check_binary<L: Label>(
    what: &'static str,
    labels: &[L],
    n: usize,
) -> Result<Vec<bool>, AnomalyError> {
    if labels.len() != n {
        return Err(AnomalyError::LabelsLength {
            expected: n,
            found: labels.len(),
        });
    }
    labels
        .iter()
        .enumerate()
        .map(|(index, &l)| {
            l.as_binary().ok_or_else(|| AnomalyError::InvalidLabel {
                what,
                index,
                value: format!("{l:?}"),
            })
        })
        .collect()
}
