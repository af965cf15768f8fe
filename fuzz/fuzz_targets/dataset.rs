//! `Dataset` construction from arbitrary floats, shapes and weights: a valid
//! dataset whose values are all finite, or a typed `DataError`; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixtures::prelude::*;

fuzz_target!(|input: (u8, Vec<f64>, Vec<f64>)| {
    let (cols, values, weights) = input;
    let cols = usize::from(cols % 8);
    let rows = if cols == 0 { 0 } else { values.len() / cols };
    if let Ok(ds) = Dataset::from_row_major(&values[..rows * cols], rows, cols) {
        assert!(
            ds.view()
                .col_iter()
                .all(|c| c.iter().all(|v| v.is_finite()))
        );
        if let Ok(w) = ds.with_weights(weights) {
            assert!(w.total_weight() > 0.0 && w.total_weight().is_finite());
        }
    }
    let rows_f32: Vec<Vec<f32>> = values
        .chunks(cols.max(1))
        .map(|r| r.iter().map(|&v| v as f32).collect())
        .collect();
    let _ = Dataset::from_rows(&rows_f32);
});
