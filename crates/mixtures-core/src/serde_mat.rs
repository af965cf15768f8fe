//! serde helpers for faer matrices (faer 0.24 has no serde support).
//!
//! Matrices are written as nested row arrays (`[[a00, a01], [a10, a11]]`), the shape
//! numpy's `tolist()` gives, so files written by Python read back directly. Values
//! travel as `f64`, which is exact for both `f32` and `f64`.

use faer::Mat;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Scalar;

/// A matrix as a vector of rows of `f64`.
pub fn to_rows<T: Scalar>(m: &Mat<T>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)].as_f64()).collect())
        .collect()
}

/// Rebuilds a matrix from rows, or says which row is ragged.
///
/// # Errors
/// A message naming the first row whose length differs from row 0's.
pub fn from_rows<T: Scalar>(rows: &[Vec<f64>]) -> Result<Mat<T>, String> {
    let d = rows.first().map_or(0, Vec::len);
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != d) {
        return Err(format!("row {i} has {} values, row 0 has {d}", r.len()));
    }
    Ok(Mat::from_fn(rows.len(), d, |i, j| T::c(rows[i][j])))
}

/// `#[serde(with = "mixtures_core::serde_mat::rows")]` for a `Mat<T>` field.
pub mod rows {
    use super::*;

    /// Writes the matrix as nested rows.
    ///
    /// # Errors
    /// Those of the serializer.
    pub fn serialize<T: Scalar, S: Serializer>(m: &Mat<T>, s: S) -> Result<S::Ok, S::Error> {
        to_rows(m).serialize(s)
    }

    /// Reads nested rows, refusing ragged ones.
    ///
    /// # Errors
    /// Those of the deserializer, or a message naming the ragged row.
    pub fn deserialize<'de, T: Scalar, D: Deserializer<'de>>(d: D) -> Result<Mat<T>, D::Error> {
        let rows = Vec::<Vec<f64>>::deserialize(d)?;
        from_rows(&rows).map_err(D::Error::custom)
    }
}
