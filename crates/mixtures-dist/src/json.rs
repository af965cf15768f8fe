//! How the workspace writes numbers in JSON: the one convention for values
//! JSON cannot hold, and the shortest text for `f32` values
//! (`docs/model-format.md`, "Numbers").
//!
//! JSON has no infinity and no NaN, and serde_json turns them into `null`,
//! which reads back as a missing value. Files and reports of this workspace
//! write them as the strings `"inf"`, `"-inf"` and `"nan"` instead, and read
//! those strings (and plain numbers) back; finite numbers are plain JSON
//! numbers in the shortest form that reads back to the same value.
//!
//! ```
//! use mixtures_dist::json::{float_from_json, float_to_json};
//!
//! assert_eq!(float_to_json(f64::NEG_INFINITY).to_string(), r#""-inf""#);
//! assert_eq!(float_to_json(0.25).to_string(), "0.25");
//! let back = float_from_json(&float_to_json(f64::INFINITY));
//! assert_eq!(back, Some(f64::INFINITY));
//! ```

use mixtures_core::Scalar;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// The text of `+∞` in the workspace's JSON.
pub const INF: &str = "inf";
/// The text of `−∞` in the workspace's JSON.
pub const NEG_INF: &str = "-inf";
/// The text of NaN in the workspace's JSON.
pub const NAN: &str = "nan";

/// `x` as a JSON value: a number when finite (serde_json writes the shortest
/// text that reads back to the same `f64`), otherwise the string
/// [`INF`], [`NEG_INF`] or [`NAN`].
pub fn float_to_json(x: f64) -> Value {
    match serde_json::Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => Value::String(NAN.to_owned()),
        None if x > 0.0 => Value::String(INF.to_owned()),
        None => Value::String(NEG_INF.to_owned()),
    }
}

/// The number a JSON value holds under this convention: a JSON number, or one
/// of the strings [`INF`], [`NEG_INF`], [`NAN`]; `None` for anything else
/// (`null` included, which this convention never writes).
pub fn float_from_json(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            INF => Some(f64::INFINITY),
            NEG_INF => Some(f64::NEG_INFINITY),
            NAN => Some(f64::NAN),
            _ => None,
        },
        _ => None,
    }
}

/// The `f64` whose shortest decimal text is the shortest text of `x` in its
/// own precision. An `f32` widened to `f64` prints with up to 17 digits
/// (`0.1f32` as `0.10000000149011612`); this value prints as `0.1`, and
/// reading that text as `f64` and rounding to `f32` gives `x` back, bit for
/// bit (tested over millions of values). For `f64` it is `x` itself.
pub fn shortest<T: Scalar>(x: T) -> f64 {
    let wide = x.as_f64();
    if T::NAME == "f64" || !wide.is_finite() {
        return wide;
    }
    // Exact: `T` is `f32` here. `{:e}` of an f32 prints its shortest
    // round-trip digits.
    format!("{:e}", wide as f32).parse::<f64>().unwrap_or(wide)
}

/// `#[serde(with = "mixtures_dist::json::float")]` for an `f64` field under
/// this convention.
pub mod float {
    use super::*;

    /// Writes a number or `"inf"`, `"-inf"`, `"nan"`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        match float_to_json(*x) {
            Value::Number(_) => s.serialize_f64(*x),
            Value::String(t) => s.serialize_str(&t),
            _ => s.serialize_none(),
        }
    }

    /// Reads a number or `"inf"`, `"-inf"`, `"nan"`.
    ///
    /// # Errors
    /// Anything else.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let v = Value::deserialize(d)?;
        float_from_json(&v).ok_or_else(|| {
            D::Error::custom(format!(
                "expected a number or \"inf\", \"-inf\", \"nan\", found {v}"
            ))
        })
    }
}

/// `#[serde(with = "mixtures_dist::json::floats")]` for a `Vec<f64>` field
/// under this convention.
pub mod floats {
    use super::*;
    use serde::ser::SerializeSeq;

    struct One(f64);
    impl serde::Serialize for One {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::float::serialize(&self.0, s)
        }
    }

    /// Writes an array of numbers or `"inf"`, `"-inf"`, `"nan"`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for &x in v {
            seq.serialize_element(&One(x))?;
        }
        seq.end()
    }

    /// Reads an array of numbers or `"inf"`, `"-inf"`, `"nan"`.
    ///
    /// # Errors
    /// Anything else, naming the index.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let v = Vec::<Value>::deserialize(d)?;
        v.iter()
            .enumerate()
            .map(|(i, x)| {
                float_from_json(x).ok_or_else(|| {
                    D::Error::custom(format!(
                        "[{i}]: expected a number or \"inf\", \"-inf\", \"nan\", found {x}"
                    ))
                })
            })
            .collect()
    }
}
