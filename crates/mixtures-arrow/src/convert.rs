//! One column of a record batch at a time: numbers into the rows' matrix,
//! labels into 0/1, kept columns into text. A null, a value that is not
//! finite or out of range for the scalar type, and a label other than 0/1
//! are refused with the row (within the slice) where they are; with missing
//! values asked for, a null or NaN number is NaN instead (a missing value),
//! while an infinity and a null label are still refused.

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use mixtures_core::Scalar;

/// Why a value could not be read: the row within the slice, and what.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bad {
    /// A null (missing value).
    Null(usize),
    /// A NaN or an infinity, with the value.
    NonFinite(usize, f64),
    /// A finite value out of range for the scalar type.
    Range(usize, f64),
    /// Anything else: the message.
    Other(usize, String),
}

/// The first null of `array` in `off..off + len`, as a row of the slice.
fn first_null(array: &dyn Array, off: usize, len: usize) -> Option<usize> {
    if array.null_count() == 0 {
        return None;
    }
    (off..off + len)
        .find(|&i| array.is_null(i))
        .map(|i| i - off)
}

/// Writes `f(v)` of every value of the slice into `out`.
fn fill<V: Copy, T: Scalar>(values: &[V], out: &mut [T], f: impl Fn(V) -> f64) {
    for (o, &v) in out.iter_mut().zip(values) {
        *o = T::c(f(v));
    }
}

/// Rows `off..off + out.len()` of a numeric column, as `T`. With `missing`,
/// a null or a NaN is NaN in `out` (a missing value); without, both are
/// refused.
pub(crate) fn numbers<T: Scalar>(
    array: &dyn Array,
    off: usize,
    out: &mut [T],
    missing: bool,
) -> Result<(), Bad> {
    let len = out.len();
    if !missing && let Some(i) = first_null(array, off, len) {
        return Err(Bad::Null(i));
    }
    macro_rules! prim {
        ($t:ty) => {{
            let v = &array.as_primitive::<$t>().values()[off..off + len];
            fill(v, out, |x| x as f64);
        }};
    }
    match array.data_type() {
        DataType::Float64 => prim!(Float64Type),
        DataType::Float32 => prim!(Float32Type),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        // Half floats and decimals: arrow's cast, on the slice only.
        _ => {
            let wide = cast(&array.slice(off, len), &DataType::Float64)
                .map_err(|e| Bad::Other(0, e.to_string()))?;
            // A null the cast made (not one of the column's own) is a
            // value it could not read.
            if let Some(i) = (0..len).find(|&i| wide.is_null(i) && !array.is_null(off + i)) {
                return Err(Bad::Other(i, "the value cannot be read as a number".into()));
            }
            let v = wide.as_primitive::<Float64Type>().values();
            fill(&v[..len], out, |x| x);
        }
    }
    if missing {
        // A null's slot holds any value: NaN marks it missing.
        if array.null_count() > 0 {
            for (i, o) in out.iter_mut().enumerate() {
                if array.is_null(off + i) {
                    *o = T::nan();
                }
            }
        }
        // NaN is missing; an infinity (or a value out of range) is not.
        let bad = |v: &T| !v.is_finite() && !v.is_nan();
        if let Some(i) = out.iter().position(bad) {
            return Err(out_of_range(array, off, i));
        }
        return Ok(());
    }
    // One branch-free sweep; the slow search runs only on a failure.
    if !out.iter().fold(true, |ok, v| ok & v.is_finite()) {
        let i = out.iter().position(|v| !v.is_finite()).unwrap_or(0);
        return Err(out_of_range(array, off, i));
    }
    Ok(())
}

/// The refusal of row `i` of the slice at `off`, whose value read as `T` is
/// not finite: an infinity or NaN in the file, or a finite value out of
/// range for `T`.
fn out_of_range(array: &dyn Array, off: usize, i: usize) -> Bad {
    let original = original(array, off + i);
    if original.is_finite() {
        Bad::Range(i, original)
    } else {
        Bad::NonFinite(i, original)
    }
}

/// The value at `i` widened to `f64` (for messages).
fn original(array: &dyn Array, i: usize) -> f64 {
    cast(&array.slice(i, 1), &DataType::Float64)
        .ok()
        .and_then(|a| {
            let v = a.as_primitive_opt::<Float64Type>()?;
            v.values().first().copied()
        })
        .unwrap_or(f64::NAN)
}

/// Rows `off..off + len` of a label column as 0/1: booleans, numbers 0 and
/// 1, or text that reads as either (`0`, `1`, `true`, `false`, as in CSV).
pub(crate) fn labels(
    array: &dyn Array,
    off: usize,
    len: usize,
    out: &mut Vec<u8>,
) -> Result<(), Bad> {
    if let Some(i) = first_null(array, off, len) {
        return Err(Bad::Null(i));
    }
    let bad = |i: usize, shown: String| {
        Bad::Other(
            i,
            format!("label {shown} is not 0 (normal) or 1 (anomaly) (true/false are accepted too)"),
        )
    };
    match array.data_type() {
        DataType::Boolean => {
            let b = array.as_boolean();
            out.extend((off..off + len).map(|i| u8::from(b.value(i))));
        }
        t if t.is_numeric() => {
            let wide = cast(&array.slice(off, len), &DataType::Float64)
                .map_err(|e| Bad::Other(0, e.to_string()))?;
            let v = wide
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(|| Bad::Other(0, "the labels cannot be read as numbers".into()))?;
            for (i, &x) in v.values().iter().take(len).enumerate() {
                match x {
                    0.0 => out.push(0),
                    1.0 => out.push(1),
                    _ => return Err(bad(i, x.to_string())),
                }
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast(&array.slice(off, len), &DataType::Utf8)
                .map_err(|e| Bad::Other(0, e.to_string()))?;
            let s = text
                .as_string_opt::<i32>()
                .ok_or_else(|| Bad::Other(0, "the labels cannot be read as text".into()))?;
            for i in 0..len {
                let cell = s.value(i).trim();
                let v = if cell.eq_ignore_ascii_case("true") {
                    1
                } else if cell.eq_ignore_ascii_case("false") {
                    0
                } else {
                    match cell.parse::<f64>() {
                        Ok(0.0) => 0,
                        Ok(1.0) => 1,
                        _ => return Err(bad(i, format!("{cell:?}"))),
                    }
                };
                out.push(v);
            }
        }
        t => {
            return Err(Bad::Other(
                0,
                format!("the label column holds {t} values, not 0/1 labels"),
            ));
        }
    }
    Ok(())
}

/// Rows `off..off + len` of any column as text (a null is empty text).
pub(crate) fn text(
    array: &dyn Array,
    off: usize,
    len: usize,
    out: &mut Vec<String>,
) -> Result<(), Bad> {
    let format = ArrayFormatter::try_new(array, &FormatOptions::default())
        .map_err(|e| Bad::Other(0, e.to_string()))?;
    for i in off..off + len {
        out.push(format.value(i).to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow::array::{BooleanArray, Float64Array, Int32Array, StringArray};

    #[test]
    fn numbers_of_every_kind() {
        let mut out = [0.0f64; 2];
        numbers(&Int32Array::from(vec![1, -2, 3]), 1, &mut out, false).unwrap();
        assert_eq!(out, [-2.0, 3.0]);
        let a = Float64Array::from(vec![Some(1.0), None, Some(f64::NAN)]);
        assert_eq!(numbers(&a, 0, &mut out, false), Err(Bad::Null(1)));
        let mut one = [0.0f64];
        assert!(matches!(numbers(&a, 2, &mut one, false), Err(Bad::NonFinite(0, v)) if v.is_nan()));
        let big = Float64Array::from(vec![1e300]);
        let mut f = [0.0f32];
        assert_eq!(numbers(&big, 0, &mut f, false), Err(Bad::Range(0, 1e300)));
    }

    #[test]
    fn decimals_are_cast() {
        use arrow::array::Decimal128Array;
        let d = Decimal128Array::from(vec![12345i128, -5])
            .with_precision_and_scale(10, 2)
            .unwrap();
        let mut out = [0.0f64; 2];
        numbers(&d, 0, &mut out, false).unwrap();
        assert_eq!(out, [123.45, -0.05]);
    }

    #[test]
    fn nulls_and_nan_are_missing_when_asked() {
        // A null's slot holds a value (here 7): it must not come through.
        let values = Float64Array::from(vec![1.0, 7.0, f64::NAN, 4.0]);
        let nulls = arrow::buffer::NullBuffer::from(vec![true, false, true, true]);
        let a = Float64Array::new(values.values().clone(), Some(nulls));
        let mut out = [0.0f64; 4];
        numbers(&a, 0, &mut out, true).unwrap();
        assert_eq!(out[0].to_bits(), 1.0f64.to_bits());
        assert!(out[1].is_nan() && out[2].is_nan());
        assert_eq!(out[3], 4.0);
        // From an offset, and in f32.
        let mut two = [0.0f32; 2];
        numbers(&a, 1, &mut two, true).unwrap();
        assert!(two[0].is_nan() && two[1].is_nan());
        // Without the option, the same column is refused as before.
        assert_eq!(numbers(&a, 0, &mut out, false), Err(Bad::Null(1)));
        // Integers with nulls, and decimals (cast) with nulls.
        let ints = Int32Array::from(vec![Some(3), None]);
        let mut o2 = [0.0f64; 2];
        numbers(&ints, 0, &mut o2, true).unwrap();
        assert!(o2[0] == 3.0 && o2[1].is_nan());
        use arrow::array::Decimal128Array;
        let d = Decimal128Array::from(vec![None, Some(250i128)])
            .with_precision_and_scale(10, 2)
            .unwrap();
        numbers(&d, 0, &mut o2, true).unwrap();
        assert!(o2[0].is_nan() && o2[1] == 2.5);
        assert_eq!(numbers(&d, 0, &mut o2, false), Err(Bad::Null(0)));
    }

    #[test]
    fn infinities_and_overflow_are_refused_with_missing_values_too() {
        let a = Float64Array::from(vec![None, Some(f64::NEG_INFINITY)]);
        let mut out = [0.0f64; 2];
        assert_eq!(
            numbers(&a, 0, &mut out, true),
            Err(Bad::NonFinite(1, f64::NEG_INFINITY))
        );
        let big = Float64Array::from(vec![Some(f64::NAN), Some(1e300)]);
        let mut f = [0.0f32; 2];
        assert_eq!(numbers(&big, 0, &mut f, true), Err(Bad::Range(1, 1e300)));
    }

    #[test]
    fn labels_of_every_kind() {
        let mut out = Vec::new();
        labels(&BooleanArray::from(vec![true, false]), 0, 2, &mut out).unwrap();
        labels(&Int32Array::from(vec![0, 1]), 0, 2, &mut out).unwrap();
        labels(&StringArray::from(vec!["1", " false"]), 0, 2, &mut out).unwrap();
        assert_eq!(out, [1, 0, 0, 1, 1, 0]);
        assert!(matches!(
            labels(&Int32Array::from(vec![0, 2]), 0, 2, &mut out),
            Err(Bad::Other(1, _))
        ));
    }
}
