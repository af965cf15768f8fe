//! serde helpers for faer matrices: exact round trips through JSON as nested
//! rows, and refusal of ragged or non-numeric input.
#![cfg(feature = "serde")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

use faer::Mat;
use mixtures_core::Scalar;
use mixtures_core::serde_mat::{from_rows, to_rows};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
struct Holder<T: Scalar> {
    name: String,
    #[serde(with = "mixtures_core::serde_mat::rows")]
    m: Mat<T>,
}

fn awkward<T: Scalar>(rows: usize, cols: usize) -> Mat<T> {
    // Values that need every digit: thirds, tiny and huge magnitudes, -0.
    Mat::from_fn(rows, cols, |i, j| {
        let base = T::c((i as f64 * 7.0 + j as f64 + 1.0) / 3.0);
        match (i + j) % 4 {
            0 => base,
            1 => -base * T::c(1e-30),
            2 => base * T::c(1e30),
            _ => {
                if i == 0 {
                    T::c(-0.0)
                } else {
                    T::min_positive_value() * base
                }
            }
        }
    })
}

fn bits<T: Scalar>(m: &Mat<T>) -> Vec<u64> {
    (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| m[(i, j)].as_f64().to_bits())
        .collect()
}

fn round_trip<T: Scalar>() {
    for (r, c) in [(1, 1), (1, 5), (4, 1), (3, 3), (7, 2)] {
        let h = Holder {
            name: format!("{r}x{c}"),
            m: awkward::<T>(r, c),
        };
        let json = serde_json::to_string(&h).unwrap();
        let back: Holder<T> = serde_json::from_str(&json).unwrap();
        assert_eq!((back.m.nrows(), back.m.ncols()), (r, c));
        assert_eq!(bits(&back.m), bits(&h.m), "{json}");
        assert_eq!(back.name, h.name);
        // Written as nested rows, numpy's tolist() layout.
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let rows = v["m"].as_array().unwrap();
        assert_eq!(rows.len(), r);
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_array().unwrap();
            assert_eq!(row.len(), c);
            for (j, x) in row.iter().enumerate() {
                assert_eq!(
                    x.as_f64().unwrap().to_bits(),
                    h.m[(i, j)].as_f64().to_bits()
                );
            }
        }
    }
}

#[test]
fn round_trip_is_exact_f64() {
    round_trip::<f64>();
}

#[test]
fn round_trip_is_exact_f32() {
    round_trip::<f32>();
}

#[test]
fn to_rows_and_from_rows() {
    let m = Mat::<f64>::from_fn(2, 3, |i, j| (i * 3 + j) as f64);
    let rows = to_rows(&m);
    assert_eq!(rows, vec![vec![0.0, 1.0, 2.0], vec![3.0, 4.0, 5.0]]);
    let back: Mat<f64> = from_rows(&rows).unwrap();
    assert_eq!(back, m);
    // A column-major matrix with padded columns still reads row by row.
    let tall = Mat::<f32>::from_fn(13, 2, |i, j| (i * 2 + j) as f32);
    let rows = to_rows(&tall);
    assert_eq!(rows.len(), 13);
    assert_eq!(rows[12], vec![24.0, 25.0]);
    assert_eq!(from_rows::<f32>(&rows).unwrap(), tall);
    // f64 values are rounded to f32 on the way in.
    let m: Mat<f32> = from_rows(&[vec![0.1]]).unwrap();
    assert_eq!(m[(0, 0)], 0.1_f32);
}

#[test]
fn ragged_rows_are_refused() {
    let err = from_rows::<f64>(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0]]).unwrap_err();
    assert!(err.contains("row 2"), "{err}");
    let err = from_rows::<f64>(&[vec![1.0], vec![3.0, 4.0]]).unwrap_err();
    assert!(err.contains("row 1"), "{err}");

    let bad = r#"{"name": "x", "m": [[1.0, 2.0], [3.0]]}"#;
    let e = serde_json::from_str::<Holder<f64>>(bad).unwrap_err();
    assert!(e.to_string().contains("row 1"), "{e}");
}

#[test]
fn non_numeric_and_wrongly_nested_input_is_refused() {
    for bad in [
        r#"{"name": "x", "m": [[1.0, "2"]]}"#,
        r#"{"name": "x", "m": [1.0, 2.0]}"#,
        r#"{"name": "x", "m": [[[1.0]]]}"#,
        r#"{"name": "x", "m": {"rows": 1}}"#,
        r#"{"name": "x", "m": [[1.0, null]]}"#,
        r#"{"name": "x", "m": "[[1.0]]"}"#,
        r#"{"name": "x"}"#,
        r#"{"name": "x", "m": [[1.0, 2.0], [3.0, 4.0]"#,
    ] {
        assert!(serde_json::from_str::<Holder<f64>>(bad).is_err(), "{bad}");
        assert!(serde_json::from_str::<Holder<f32>>(bad).is_err(), "{bad}");
    }
}

#[test]
fn empty_matrices() {
    // No rows: reads back as an empty matrix.
    let h: Holder<f64> = serde_json::from_str(r#"{"name": "e", "m": []}"#).unwrap();
    assert_eq!(h.m.nrows(), 0);
    // Rows without columns keep their count.
    let h: Holder<f64> = serde_json::from_str(r#"{"name": "e", "m": [[], []]}"#).unwrap();
    assert_eq!((h.m.nrows(), h.m.ncols()), (2, 0));
}
