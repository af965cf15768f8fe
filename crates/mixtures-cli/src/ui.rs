//! Where output goes: results on standard output (text, or one JSON object
//! with `--json`), notes and timings on standard error. Writes never panic: a
//! closed pipe stops the command quietly.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::cli::GlobalArgs;
use crate::error::{CliError, stdout_error};

/// The global output settings and the clock of `--timings`.
#[derive(Debug)]
pub struct Ui {
    /// No notes or progress on stderr.
    pub quiet: bool,
    /// Results as JSON.
    pub json: bool,
    /// Model and detector files indented for people.
    pub pretty: bool,
    timings: bool,
    phases: Vec<(&'static str, Duration)>,
}

impl Ui {
    /// The settings of the global flags.
    pub fn new(g: &GlobalArgs) -> Self {
        Self {
            quiet: g.quiet,
            json: g.json,
            pretty: g.pretty,
            timings: g.timings,
            phases: Vec::new(),
        }
    }

    /// A note for the person at the terminal (what was written where).
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            // A failing stderr leaves nowhere to report to.
            let _ = writeln!(std::io::stderr().lock(), "{msg}");
        }
    }

    /// Prints results: `text` normally, `json` with `--json`.
    ///
    /// # Errors
    /// [`CliError::BrokenPipe`] or [`CliError::Output`].
    pub fn result(&self, text: &str, json: &serde_json::Value) -> Result<(), CliError> {
        let mut out = std::io::stdout().lock();
        if self.json {
            let s = serde_json::to_string_pretty(json).map_err(|e| CliError::Output {
                path: "standard output".to_owned(),
                message: e.to_string(),
            })?;
            writeln!(out, "{s}").map_err(|e| stdout_error(&e))?;
        } else {
            write!(out, "{text}").map_err(|e| stdout_error(&e))?;
        }
        out.flush().map_err(|e| stdout_error(&e))
    }

    /// Runs `f` and adds its duration to phase `name` for `--timings` (a
    /// phase timed in several parts, as chunks of a stream are, is one sum).
    pub fn time<R>(&mut self, name: &'static str, f: impl FnOnce() -> R) -> R {
        let t = Instant::now();
        let r = f();
        let spent = t.elapsed();
        match self.phases.iter_mut().find(|(n, _)| *n == name) {
            Some((_, d)) => *d += spent,
            None => self.phases.push((name, spent)),
        }
        r
    }

    /// Prints the recorded phases to stderr when `--timings` was given
    /// (whatever `--quiet` says: they were asked for).
    pub fn print_timings(&self) {
        if !self.timings || self.phases.is_empty() {
            return;
        }
        let parts: Vec<String> = self
            .phases
            .iter()
            .map(|(n, d)| format!("{n} {:.3} s", d.as_secs_f64()))
            .collect();
        let _ = writeln!(std::io::stderr().lock(), "timings: {}", parts.join(", "));
    }
}

/// A number as text in the shortest form that reads back to the same value
/// of its type: plain decimals between 1e-5 and 1e16 in magnitude, the
/// exponent form (`1e-300`) outside, `inf`, `-inf` and `NaN` for the
/// non-finite values (what Rust, Python and pandas read back).
pub fn shortest<T: mixtures_core::Scalar>(v: T) -> String {
    // The f64 whose Display is `v`'s own shortest text (one rule with JSON).
    let x = mixtures_dist::json::shortest(v);
    let a = x.abs();
    if !x.is_finite() || a == 0.0 || (1e-5..1e16).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A number for JSON, in the workspace's one convention
/// ([`mixtures_dist::json`]): finite values as the shortest JSON number that
/// reads back to them, `inf`, `-inf` and `nan` as those strings.
pub fn num(v: f64) -> serde_json::Value {
    mixtures_dist::json::float_to_json(v)
}
