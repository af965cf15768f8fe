//! `Dataset` construction from every input form, and every rejection with the
//! typed error naming the row and column.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop,
    missing_docs
)]

use faer::{Mat, MatRef};
use mixtures_core::{DataError, Dataset, Scalar};

/// A 3 x 2 matrix with distinct entries, row-major.
const RM: [f64; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

fn rows_of<T: Scalar>(raw: &[f64], cols: usize) -> Vec<Vec<T>> {
    raw.chunks(cols)
        .map(|r| r.iter().map(|&v| T::c(v)).collect())
        .collect()
}

fn check_contents<T: Scalar>(ds: &Dataset<T>, raw: &[f64], rows: usize, cols: usize) {
    assert_eq!(ds.n_samples(), rows);
    assert_eq!(ds.n_features(), cols);
    let view = ds.view();
    assert_eq!((view.nrows(), view.ncols()), (rows, cols));
    for i in 0..rows {
        for j in 0..cols {
            assert_eq!(view[(i, j)], T::c(raw[i * cols + j]), "entry ({i}, {j})");
        }
    }
    for j in 0..cols {
        let col: Vec<T> = (0..rows).map(|i| T::c(raw[i * cols + j])).collect();
        assert_eq!(ds.column(j), &col[..], "column {j}");
    }
    let back: Vec<T> = raw.iter().map(|&v| T::c(v)).collect();
    assert_eq!(ds.to_row_major(), back);
    assert!(ds.weights().is_none());
    assert_eq!(ds.total_weight(), rows as f64);
}

fn construct_all_forms<T: Scalar>() {
    let raw: Vec<T> = RM.iter().map(|&v| T::c(v)).collect();

    let a = Dataset::from_row_major(&raw, 3, 2).unwrap();
    check_contents(&a, &RM, 3, 2);

    // The same matrix given column-major.
    let cm: Vec<T> = (0..2)
        .flat_map(|j| (0..3).map(move |i| T::c(RM[i * 2 + j])))
        .collect();
    let b = Dataset::from_col_major(&cm, 3, 2).unwrap();
    check_contents(&b, &RM, 3, 2);

    // A zero-copy row-major view (row stride 2, column stride 1).
    let view = MatRef::from_row_major_slice(&raw, 3, 2);
    let c = Dataset::from_mat(view).unwrap();
    check_contents(&c, &RM, 3, 2);
    let c2 = Dataset::try_from(view).unwrap();
    assert_eq!(c, c2);

    // An owned column-major matrix and a strided sub-view of it.
    let big = Mat::<T>::from_fn(5, 4, |i, j| T::c((10 * i + j) as f64));
    let sub = big.as_ref().submatrix(1, 1, 3, 2);
    let d = Dataset::from_mat(sub).unwrap();
    check_contents(&d, &[11.0, 12.0, 21.0, 22.0, 31.0, 32.0], 3, 2);
    // A transposed view (non-unit row stride).
    let t = Dataset::from_mat(big.as_ref().transpose()).unwrap();
    assert_eq!((t.n_samples(), t.n_features()), (4, 5));
    assert_eq!(t.view()[(3, 2)], T::c(23.0));

    // Nested rows: Vec<Vec<T>>, arrays, TryFrom.
    let nested = rows_of::<T>(&RM, 2);
    let e = Dataset::from_rows(&nested).unwrap();
    check_contents(&e, &RM, 3, 2);
    let f = Dataset::try_from(nested).unwrap();
    check_contents(&f, &RM, 3, 2);
    let arrays: [[T; 2]; 3] = [
        [T::c(1.0), T::c(2.0)],
        [T::c(3.0), T::c(4.0)],
        [T::c(5.0), T::c(6.0)],
    ];
    let g = Dataset::from_rows(&arrays).unwrap();
    check_contents(&g, &RM, 3, 2);

    // Every form yields the same data set.
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a, e);
    assert_eq!(a, g);

    // One row, one column.
    let one = Dataset::from_row_major(&[T::c(7.5)], 1, 1).unwrap();
    check_contents(&one, &[7.5], 1, 1);

    // into_parts gives the column-major matrix back.
    let (m, w) = a.into_parts();
    assert!(w.is_none());
    assert_eq!(m[(2, 1)], T::c(6.0));

    // Large values that are finite are kept.
    let extreme = [
        T::max_value(),
        T::min_value(),
        T::min_positive_value(),
        T::c(-0.0),
    ];
    let h = Dataset::from_row_major(&extreme, 2, 2).unwrap();
    assert_eq!(h.to_row_major(), extreme.to_vec());
}

#[test]
fn construction_f64() {
    construct_all_forms::<f64>();
}

#[test]
fn construction_f32() {
    construct_all_forms::<f32>();
}

#[test]
fn empty_is_rejected() {
    let e = Dataset::<f64>::from_row_major(&[], 0, 3).unwrap_err();
    assert_eq!(e, DataError::Empty { rows: 0, cols: 3 });
    let e = Dataset::<f64>::from_row_major(&[], 4, 0).unwrap_err();
    assert_eq!(e, DataError::Empty { rows: 4, cols: 0 });
    let e = Dataset::<f64>::from_col_major(&[], 0, 0).unwrap_err();
    assert_eq!(e, DataError::Empty { rows: 0, cols: 0 });
    let m = Mat::<f32>::zeros(0, 2);
    assert_eq!(
        Dataset::from_mat(m.as_ref()).unwrap_err(),
        DataError::Empty { rows: 0, cols: 2 }
    );
    let m = Mat::<f32>::zeros(3, 0);
    assert_eq!(
        Dataset::from_mat(m.as_ref()).unwrap_err(),
        DataError::Empty { rows: 3, cols: 0 }
    );
    let none: Vec<Vec<f64>> = vec![];
    assert_eq!(
        Dataset::from_rows(&none).unwrap_err(),
        DataError::Empty { rows: 0, cols: 0 }
    );
    let empty_rows: Vec<Vec<f64>> = vec![vec![], vec![]];
    assert_eq!(
        Dataset::from_rows(&empty_rows).unwrap_err(),
        DataError::Empty { rows: 2, cols: 0 }
    );
    assert_eq!(
        Dataset::<f64>::try_from(Vec::<Vec<f64>>::new()).unwrap_err(),
        DataError::Empty { rows: 0, cols: 0 }
    );
}

#[test]
fn length_mismatch_is_rejected() {
    let e = Dataset::from_row_major(&RM, 4, 2).unwrap_err();
    assert_eq!(
        e,
        DataError::LengthMismatch {
            len: 6,
            rows: 4,
            cols: 2
        }
    );
    let e = Dataset::from_row_major(&RM[..5], 3, 2).unwrap_err();
    assert_eq!(
        e,
        DataError::LengthMismatch {
            len: 5,
            rows: 3,
            cols: 2
        }
    );
    let e = Dataset::from_col_major(&RM, 2, 2).unwrap_err();
    assert_eq!(
        e,
        DataError::LengthMismatch {
            len: 6,
            rows: 2,
            cols: 2
        }
    );
    // rows * cols overflowing usize is a mismatch, not a panic.
    let e = Dataset::from_row_major(&RM, usize::MAX, 2).unwrap_err();
    assert!(
        matches!(e, DataError::LengthMismatch { len: 6, .. }),
        "{e:?}"
    );
    // The message does not panic on overflow either.
    assert!(!e.to_string().is_empty());
}

#[test]
fn ragged_rows_are_rejected() {
    let rows = vec![
        vec![1.0_f64, 2.0],
        vec![3.0, 4.0],
        vec![5.0],
        vec![6.0, 7.0],
    ];
    assert_eq!(
        Dataset::from_rows(&rows).unwrap_err(),
        DataError::RaggedRow {
            row: 2,
            expected: 2,
            found: 1
        }
    );
    let rows = vec![vec![1.0_f32], vec![3.0, 4.0]];
    assert_eq!(
        Dataset::try_from(rows).unwrap_err(),
        DataError::RaggedRow {
            row: 1,
            expected: 1,
            found: 2
        }
    );
    let rows = vec![vec![1.0_f64, 2.0], vec![]];
    assert_eq!(
        Dataset::from_rows(&rows).unwrap_err(),
        DataError::RaggedRow {
            row: 1,
            expected: 2,
            found: 0
        }
    );
}

fn assert_non_finite(e: DataError, row: usize, col: usize, is: fn(f64) -> bool) {
    match e {
        DataError::NonFinite {
            row: r,
            col: c,
            value,
        } => {
            assert_eq!((r, c), (row, col), "position");
            assert!(is(value), "value {value}");
        }
        other => panic!("expected NonFinite at ({row}, {col}), got {other:?}"),
    }
}

/// A special value and the test that recognizes it after widening to f64.
type Special<T> = (T, fn(f64) -> bool);

fn non_finite_everywhere<T: Scalar>() {
    let (n, d) = (4, 3);
    let specials: [Special<T>; 3] = [
        (T::nan(), f64::is_nan),
        (T::infinity(), |v| v == f64::INFINITY),
        (T::neg_infinity(), |v| v == f64::NEG_INFINITY),
    ];
    for (bad, is) in specials {
        for row in 0..n {
            for col in 0..d {
                let mut raw: Vec<T> = (0..n * d).map(|v| T::c(v as f64 * 0.5 - 2.0)).collect();
                raw[row * d + col] = bad;
                let e = Dataset::from_row_major(&raw, n, d).unwrap_err();
                assert_non_finite(e, row, col, is);

                let view = MatRef::from_row_major_slice(&raw, n, d);
                assert_non_finite(Dataset::from_mat(view).unwrap_err(), row, col, is);
                let owned = view.to_owned();
                assert_non_finite(Dataset::from_mat(owned.as_ref()).unwrap_err(), row, col, is);

                let cm: Vec<T> = (0..d)
                    .flat_map(|j| (0..n).map(move |i| (i, j)))
                    .map(|(i, j)| raw[i * d + j])
                    .collect();
                assert_non_finite(
                    Dataset::from_col_major(&cm, n, d).unwrap_err(),
                    row,
                    col,
                    is,
                );

                let nested: Vec<Vec<T>> = raw.chunks(d).map(<[T]>::to_vec).collect();
                assert_non_finite(Dataset::from_rows(&nested).unwrap_err(), row, col, is);
            }
        }
    }
}

#[test]
fn non_finite_values_name_row_and_column_f64() {
    non_finite_everywhere::<f64>();
}

#[test]
fn non_finite_values_name_row_and_column_f32() {
    non_finite_everywhere::<f32>();
}

#[test]
fn first_non_finite_in_row_major_order_is_reported() {
    // Bad values at (2, 0) and (1, 2): (1, 2) comes first in row-major order,
    // although (2, 0) comes first column by column.
    let mut raw = vec![0.0_f64; 12];
    raw[2 * 3] = f64::NAN;
    raw[3 + 2] = f64::INFINITY;
    let want = |e: DataError| assert_non_finite(e, 1, 2, |v| v == f64::INFINITY);
    want(Dataset::from_row_major(&raw, 4, 3).unwrap_err());
    want(Dataset::from_mat(MatRef::from_row_major_slice(&raw, 4, 3)).unwrap_err());
    let owned = MatRef::from_row_major_slice(&raw, 4, 3).to_owned();
    want(Dataset::from_mat(owned.as_ref()).unwrap_err());
    let nested: Vec<Vec<f64>> = raw.chunks(3).map(<[f64]>::to_vec).collect();
    want(Dataset::from_rows(&nested).unwrap_err());
    // Two bad values in the same row: the lower column wins.
    let mut raw = vec![0.0_f64; 12];
    raw[3 + 2] = f64::NAN;
    raw[3 + 1] = f64::NEG_INFINITY;
    let owned = MatRef::from_row_major_slice(&raw, 4, 3).to_owned();
    assert_non_finite(Dataset::from_mat(owned.as_ref()).unwrap_err(), 1, 1, |v| {
        v == f64::NEG_INFINITY
    });
    assert_non_finite(
        Dataset::from_row_major(&raw, 4, 3).unwrap_err(),
        1,
        1,
        |v| v == f64::NEG_INFINITY,
    );
}

#[test]
fn ragged_row_is_reported_before_a_later_non_finite_value() {
    let rows = vec![vec![1.0_f64, f64::NAN], vec![1.0]];
    // Row 0 is checked first: its NaN is reported.
    assert_non_finite(Dataset::from_rows(&rows).unwrap_err(), 0, 1, f64::is_nan);
    let rows = vec![vec![1.0_f64, 2.0], vec![1.0], vec![f64::NAN, 0.0]];
    assert!(matches!(
        Dataset::from_rows(&rows).unwrap_err(),
        DataError::RaggedRow { row: 1, .. }
    ));
}

#[test]
fn weights_are_attached_and_checked() {
    let ds = Dataset::from_row_major(&RM, 3, 2).unwrap();
    let w = ds.clone().with_weights(vec![1.0, 0.0, 2.5]).unwrap();
    assert_eq!(w.weights(), Some(&[1.0, 0.0, 2.5][..]));
    assert_eq!(w.total_weight(), 3.5);
    assert_eq!(w.clone().without_weights(), ds);
    let (_, parts) = w.into_parts();
    assert_eq!(parts, Some(vec![1.0, 0.0, 2.5]));

    assert_eq!(
        ds.clone().with_weights(vec![1.0, 1.0]).unwrap_err(),
        DataError::WeightsLength {
            expected: 3,
            found: 2
        }
    );
    assert_eq!(
        ds.clone().with_weights(vec![1.0; 4]).unwrap_err(),
        DataError::WeightsLength {
            expected: 3,
            found: 4
        }
    );
    assert_eq!(
        ds.clone().with_weights(vec![]).unwrap_err(),
        DataError::WeightsLength {
            expected: 3,
            found: 0
        }
    );
    for row in 0..3 {
        for bad in [-1.0, -f64::MIN_POSITIVE, f64::INFINITY, f64::NEG_INFINITY] {
            let mut w = vec![1.0; 3];
            w[row] = bad;
            assert_eq!(
                ds.clone().with_weights(w).unwrap_err(),
                DataError::InvalidWeight { row, value: bad },
                "weight {bad} at row {row}"
            );
        }
        let mut w = vec![1.0; 3];
        w[row] = f64::NAN;
        match ds.clone().with_weights(w).unwrap_err() {
            DataError::InvalidWeight { row: r, value } => {
                assert_eq!(r, row);
                assert!(value.is_nan());
            }
            other => panic!("expected InvalidWeight, got {other:?}"),
        }
    }
    // The first bad weight is named.
    assert_eq!(
        ds.clone()
            .with_weights(vec![1.0, -2.0, f64::NAN])
            .unwrap_err(),
        DataError::InvalidWeight {
            row: 1,
            value: -2.0
        }
    );
    assert_eq!(
        ds.clone().with_weights(vec![0.0; 3]).unwrap_err(),
        DataError::BadWeightSum { sum: 0.0 }
    );
    // -0.0 is not negative, but the sum is still zero.
    assert_eq!(
        ds.clone().with_weights(vec![-0.0, 0.0, 0.0]).unwrap_err(),
        DataError::BadWeightSum { sum: 0.0 }
    );
    // A sum that overflows is refused, not carried as infinity.
    assert!(matches!(
        ds.clone()
            .with_weights(vec![f64::MAX, f64::MAX, 1.0])
            .unwrap_err(),
        DataError::BadWeightSum { .. }
    ));
}

#[test]
fn f32_weights_whose_sum_overflows_f32_are_refused() {
    let ds = Dataset::from_row_major(&[1.0_f32, 2.0], 2, 1).unwrap();
    // Each weight is a finite f32, but their sum is not.
    let e = ds.with_weights(vec![f32::MAX, f32::MAX]).unwrap_err();
    assert!(matches!(e, DataError::BadWeightSum { .. }), "{e:?}");
}

#[test]
fn check_dim_names_both_dimensions() {
    let ds = Dataset::from_row_major(&RM, 3, 2).unwrap();
    assert!(ds.check_dim(2).is_ok());
    assert_eq!(
        ds.check_dim(3).unwrap_err(),
        DataError::DimensionMismatch {
            expected: 3,
            found: 2
        }
    );
}

#[test]
fn error_messages_name_the_place() {
    let e = Dataset::from_row_major(&[0.0, f64::NAN, 0.0, 0.0], 2, 2).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("row 0") && msg.contains("column 1"), "{msg}");
    let ds = Dataset::from_row_major(&RM, 3, 2).unwrap();
    let msg = ds
        .with_weights(vec![1.0, 1.0, -3.0])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("row 2") && msg.contains("-3"), "{msg}");
}

#[test]
fn selected_and_sampled_rows_keep_their_values_weights_and_order() {
    let rows: Vec<[f64; 2]> = (0..10).map(|i| [i as f64, -(i as f64)]).collect();
    let w: Vec<f64> = (0..10).map(|i| 1.0 + i as f64).collect();
    let x = Dataset::from_rows(&rows).unwrap().with_weights(w).unwrap();
    let s = x.select_rows(&[7, 2]).unwrap();
    assert_eq!(s.n_samples(), 2);
    assert_eq!((s.view()[(0, 0)], s.view()[(1, 1)]), (7.0, -2.0));
    assert_eq!(s.weights().unwrap(), [8.0, 3.0]);
    assert!(matches!(
        x.select_rows(&[3, 10]),
        Err(DataError::RowOutOfRange { row: 10, rows: 10 })
    ));
    assert!(matches!(x.select_rows(&[]), Err(DataError::Empty { .. })));
    assert!(x.sample_rows(10, 1).unwrap().is_none());
    let a = x.sample_rows(4, 1).unwrap().unwrap();
    assert_eq!(
        a,
        x.sample_rows(4, 1).unwrap().unwrap(),
        "the draw follows the seed"
    );
    let firsts: Vec<f64> = (0..4).map(|i| a.view()[(i, 0)]).collect();
    assert!(
        firsts.windows(2).all(|p| p[0] < p[1]),
        "rows keep their order: {firsts:?}"
    );
    for (i, &f) in firsts.iter().enumerate() {
        assert_eq!(a.weights().unwrap()[i], 1.0 + f);
    }
}
