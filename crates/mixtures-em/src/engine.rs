//! The iterative fit split as argmin splits it: an [`Engine`] says how one
//! restart starts and what one iteration does (EM of a family, the
//! variational updates); [`run`] does everything else, the same for every
//! engine: restarts in parallel with seeds derived from their index, the
//! convergence test, observers and cancellation, the termination reason, the
//! choice of the best restart and the [`FitReport`]. Results do not depend on
//! the number of threads.
//!
//! ```
//! use mixtures_em::engine::{Engine, Restart, run};
//! use mixtures_em::{EmControl, FitError};
//!
//! /// Halves the distance to a target: converges geometrically.
//! struct Halve(f64);
//!
//! impl Engine for Halve {
//!     type State = f64;
//!     fn init(&self, _: &mut Restart) -> Result<f64, FitError> {
//!         Ok(0.0)
//!     }
//!     fn step(&self, x: &f64, _: &mut Restart) -> Result<(f64, f64), FitError> {
//!         Ok((-(x - self.0).abs(), x + 0.5 * (self.0 - x)))
//!     }
//!     fn objective(&self, x: &f64) -> Result<f64, FitError> {
//!         Ok(-(x - self.0).abs())
//!     }
//!     fn n_parameters(&self, _: &f64) -> usize {
//!         1
//!     }
//!     fn structure(&self) -> String {
//!         "halving".into()
//!     }
//!     fn total_weight(&self) -> f64 {
//!         1.0
//!     }
//! }
//!
//! let fitted = run(&Halve(1.0), &EmControl::default().tol(1e-9).max_iter(100), None)?;
//! assert!(fitted.report.converged);
//! assert!((fitted.model - 1.0).abs() < 1e-8);
//! # Ok::<(), FitError>(())
//! ```

use std::sync::atomic::{AtomicBool, Ordering};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use crate::report::{
    Control, DegeneracyEvent, FitReport, Fitted, Iteration, RestartSummary, Termination,
};
use crate::{EmControl, FitError};

/// What one restart has while it runs: its random stream, its index, the
/// iteration under way (0 while initializing) and its degeneracy log.
#[derive(Debug)]
pub struct Restart {
    /// The restart's random stream, seeded from the fit's seed and the index.
    pub rng: StdRng,
    /// The restart's index.
    pub restart: usize,
    /// The iteration under way, from 1; 0 during initialization.
    pub iteration: usize,
    /// Components re-seeded or dropped so far.
    pub degeneracies: Vec<DegeneracyEvent>,
}

/// One iterative method: how a restart starts and what one iteration does.
pub trait Engine: Sync {
    /// What a restart iterates on (a model, a variational posterior).
    type State: Clone + Send + Sync;

    /// The starting state of a restart.
    ///
    /// # Errors
    /// Why the restart cannot start.
    fn init(&self, cx: &mut Restart) -> Result<Self::State, FitError>;

    /// One iteration from `state`: its objective value (what the
    /// convergence test and the observers see: EM's mean log-likelihood
    /// under `state`, the variational lower bound after the update) and the
    /// next state.
    ///
    /// # Errors
    /// Why no next state exists.
    fn step(&self, state: &Self::State, cx: &mut Restart) -> Result<(f64, Self::State), FitError>;

    /// The final objective of a restart's last state; the highest wins.
    ///
    /// # Errors
    /// Why the state is no usable result (a log-likelihood that is not
    /// finite, say).
    fn objective(&self, state: &Self::State) -> Result<f64, FitError>;

    /// The mean log-likelihood reported for a final state whose objective is
    /// `objective` (by default the objective itself).
    ///
    /// # Errors
    /// Why it cannot be computed.
    fn log_likelihood(&self, state: &Self::State, objective: f64) -> Result<f64, FitError> {
        let _ = state;
        Ok(objective)
    }

    /// Free parameters of a state's model.
    fn n_parameters(&self, state: &Self::State) -> usize;

    /// Name of the structure fitted, for the report.
    fn structure(&self) -> String;

    /// Total weight of the training data.
    fn total_weight(&self) -> f64;

    /// The seed of restart `restart` under the fit's seed (by default
    /// [`mixtures_core::seed::restart_seed`]).
    fn restart_seed(&self, seed: u64, restart: usize) -> u64 {
        mixtures_core::seed::restart_seed(seed, restart)
    }
}

struct RestartResult<S> {
    state: S,
    trace: Vec<f64>,
    termination: Termination,
    objective: f64,
    log_likelihood: f64,
    events: Vec<DegeneracyEvent>,
}

fn run_one<E: Engine>(
    engine: &E,
    control: &EmControl,
    restart: usize,
    start: Option<&E::State>,
    stop: &AtomicBool,
) -> Result<RestartResult<E::State>, FitError> {
    let mut cx = Restart {
        rng: StdRng::seed_from_u64(engine.restart_seed(control.seed, restart)),
        restart,
        iteration: 0,
        degeneracies: Vec::new(),
    };
    let mut state = match start {
        Some(s) => s.clone(),
        None => engine.init(&mut cx)?,
    };
    let mut trace = Vec::with_capacity(control.max_iter.min(1024));
    let mut termination = Termination::MaxIterations;
    let mut prev = f64::NEG_INFINITY;
    for it in 1..=control.max_iter {
        if stop.load(Ordering::Relaxed) {
            termination = Termination::Stopped;
            break;
        }
        cx.iteration = it;
        let seen = cx.degeneracies.len();
        let (value, next) = engine.step(&state, &mut cx)?;
        // A state whose component was just re-seeded or dropped is a new
        // starting point, not a converged fit.
        let degenerated = cx.degeneracies.len() > seen;
        state = next;
        trace.push(value);
        let change = value - prev;
        prev = value;
        if let Some(obs) = &control.observer {
            let event = Iteration {
                restart,
                iteration: it,
                lower_bound: value,
                change,
            };
            if obs.observe(&event) == Control::Stop {
                stop.store(true, Ordering::Relaxed);
                termination = Termination::Stopped;
                break;
            }
        }
        if change.abs() < control.tol && !degenerated {
            termination = Termination::Converged;
            break;
        }
    }
    let objective = engine.objective(&state)?;
    let log_likelihood = engine.log_likelihood(&state, objective)?;
    Ok(RestartResult {
        state,
        trace,
        termination,
        objective,
        log_likelihood,
        events: cx.degeneracies,
    })
}

/// Restarts run in batches of this many (or the number of threads, if
/// larger): the batch's results are folded into the best so far before the
/// next batch starts, so memory holds one batch of states, not one state per
/// restart (`n_init` is the user's number).
const RESTART_BATCH: usize = 64;

/// Runs `control.n_init` restarts in parallel (or one from `start`) and
/// keeps the one with the highest final objective (ties: the lowest index).
/// Each restart's random stream depends only on the seed and its index.
///
/// # Errors
/// The first restart's error when no restart produced a state.
pub fn run<E: Engine>(
    engine: &E,
    control: &EmControl,
    start: Option<&E::State>,
) -> Result<Fitted<E::State>, FitError> {
    let stop = AtomicBool::new(false);
    let n = if start.is_some() { 1 } else { control.n_init };
    let batch = RESTART_BATCH.max(rayon::current_num_threads());
    let mut best: Option<(usize, RestartResult<E::State>)> = None;
    // One summary per restart is what the report promises; `n_init` is
    // bounded by `EmControl::check` (`MAX_N_INIT`), so this stays small.
    let mut summaries = Vec::new();
    let mut first_err = None;
    for lo in (0..n).step_by(batch) {
        let hi = n.min(lo.saturating_add(batch));
        let results: Vec<Result<RestartResult<E::State>, FitError>> = (lo..hi)
            .into_par_iter()
            .map(|r| run_one(engine, control, r, start, &stop))
            .collect();
        // In index order, so the choice (ties to the lowest index) is the
        // one a single pass over all restarts would make.
        for (i, res) in (lo..hi).zip(results) {
            match res {
                Ok(r) => {
                    summaries.push(RestartSummary {
                        log_likelihood: r.log_likelihood,
                        n_iter: r.trace.len(),
                        converged: r.termination == Termination::Converged,
                    });
                    if best
                        .as_ref()
                        .is_none_or(|(_, b)| r.objective > b.objective || b.objective.is_nan())
                    {
                        best = Some((i, r));
                    }
                }
                Err(e) => {
                    summaries.push(RestartSummary {
                        log_likelihood: f64::NEG_INFINITY,
                        n_iter: 0,
                        converged: false,
                    });
                    first_err.get_or_insert(e);
                }
            }
        }
    }
    let Some((best_restart, r)) = best else {
        return Err(first_err.unwrap_or(FitError::Degenerate {
            reason: "no restart produced a model".into(),
        }));
    };
    let report = FitReport {
        converged: r.termination == Termination::Converged,
        n_iter: r.trace.len(),
        termination: r.termination,
        lower_bound_trace: r.trace,
        log_likelihood: r.log_likelihood,
        best_restart,
        restarts: summaries,
        degeneracies: r.events,
        n_parameters: engine.n_parameters(&r.state),
        structure: engine.structure(),
        total_weight: engine.total_weight(),
    };
    Ok(Fitted {
        model: r.state,
        report,
    })
}
