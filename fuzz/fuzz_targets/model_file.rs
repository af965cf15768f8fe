//! Model-file parsing: arbitrary bytes are either a valid model, whose
//! evaluation is finite on finite points, or a typed `ModelError`; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixtures::prelude::*;

fn check<T: Scalar>(text: &str) {
    let Ok(model) = AnyMixture::<T>::from_json(text) else {
        return;
    };
    let d = model.dim();
    // The model's own locations and a far point must give finite log-densities.
    let rows: Vec<Vec<T>> = vec![vec![T::zero(); d], vec![T::c(1e3); d]];
    let data = Dataset::from_rows(&rows).expect("finite rows");
    if let Ok(lp) = model.log_prob(&data) {
        assert!(
            lp.iter().all(|v| !v.is_nan()),
            "NaN log-density from {text}"
        );
    }
    // What was read must write and read back to the same model.
    let again = AnyMixture::<T>::from_json(&model.to_json()).expect("round trip");
    assert_eq!(again.to_json(), model.to_json());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check::<f64>(text);
        check::<f32>(text);
    }
});
