//! `mixtures`: mixture models and anomaly detection on CSV, Parquet and Arrow
//! IPC files.
//!
//! ```text
//! mixtures fit DATA... -o MODEL.json [--components K] [--covariance full|...] [--chunk-rows N]
//! mixtures score MODEL.json DATA.csv [-o SCORES.csv]
//! mixtures detect DATA.csv -o DETECTOR.json [--contamination Q | --threshold T | --best-f1]
//! mixtures evaluate MODEL_OR_DETECTOR.json DATA.csv --label-column NAME
//! mixtures select DATA.csv --components 1..10 [--covariance all] [--criterion bic]
//! mixtures impute MODEL.json DATA.csv [-o FILLED.csv] [--draws N --seed S]
//! mixtures demo [-o DIR]
//! ```
//!
//! Exit codes: 0 success, 2 bad usage or bad input (the message names the file,
//! and for a CSV cell the line and column), 1 anything else. A panic is caught
//! and reported in one line, never as a backtrace. See `docs/cli.md`.

mod cli;
mod commands;
#[cfg(feature = "deep")]
mod deep;
mod fitting;
mod missing_args;
mod model_io;
mod plot;
mod ui;

// The data readers and the error type live in the library target (so that the
// fuzz targets reach them); imported here so `crate::input` and
// `crate::error` name them throughout the binary.
use mixtures_cli::{error, files, input};

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::{CliError, EXIT_FAILURE, EXIT_USAGE};
use crate::ui::Ui;

fn main() -> ExitCode {
    // A bug must not show users a backtrace: one line, exit code 1.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("mixtures: internal error: {what}{at} (please report it)");
    }));
    match std::panic::catch_unwind(run) {
        Ok(code) => code,
        Err(_) => ExitCode::from(EXIT_FAILURE),
    }
}

fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with
            // 2 (clap's own convention, and ours).
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut ui = Ui::new(&cli.global);
    match simd_limit_from_env().and_then(|()| commands::run(cli.command, &mut ui)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            if code != 0 {
                eprintln!("mixtures: error: {e}");
                // The cause chain, when the message does not already hold it.
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    let text = s.to_string();
                    if !e.to_string().contains(&text) {
                        eprintln!("  caused by: {text}");
                    }
                    source = s.source();
                }
            }
            ExitCode::from(code)
        }
    }
}

/// Refuses an unknown `MIXTURES_SIMD` (the library would ignore it, and a
/// benchmark would silently measure the wrong level) and applies a known one.
fn simd_limit_from_env() -> Result<(), CliError> {
    use mixtures_core::kernels::{SimdLevel, set_simd_limit};
    match std::env::var("MIXTURES_SIMD") {
        Err(std::env::VarError::NotPresent) => Ok(()),
        Ok(v) if v.trim().is_empty() => Ok(()),
        Ok(v) => match SimdLevel::parse(&v) {
            Some(level) => {
                set_simd_limit(level);
                Ok(())
            }
            None => Err(CliError::Usage(format!(
                "MIXTURES_SIMD={v:?} is not an instruction set level: use baseline, avx2 or avx512"
            ))),
        },
        Err(std::env::VarError::NotUnicode(_)) => Err(CliError::Usage(
            "MIXTURES_SIMD is not valid UTF-8: use baseline, avx2 or avx512".to_owned(),
        )),
    }
}
