//! Scores points with the generated f32 detector, forever: everything the
//! linker keeps is the scorer, the model and the libm functions it calls.
#![no_std]
#![no_main]

// Generated: formatted by the generator, not rustfmt.
#[rustfmt::skip]
#[path = "../model_f32.rs"]
mod model;

use core::hint::black_box;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// The entry point (no runtime: the size is the scorer's alone).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let mut x = [0.0 as f32; model::DIM];
    loop {
        // An input the optimizer cannot see, like a sensor's.
        x = black_box(x);
        if let Ok(s) = model::SCORER.evaluate(&x) {
            black_box((s.score, s.component, s.is_anomaly));
        }
    }
}
