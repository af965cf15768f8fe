//! The iteration loop, restarts and the report, shared by every family.

use std::sync::atomic::{AtomicBool, Ordering};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use crate::report::{
    Control, DegeneracyEvent, FitReport, Fitted, Iteration, RestartSummary, Termination,
};
use crate::{EmControl, FitError};
use mixtures_core::seed::restart_seed;

/// One family's EM: starting point, one iteration, final score.
pub(crate) trait Engine: Sync {
    type Model: Clone + Send + Sync;
    /// The starting model of a restart.
    fn init(
        &self,
        rng: &mut StdRng,
        log: &mut Vec<DegeneracyEvent>,
        restart: usize,
    ) -> Result<Self::Model, FitError>;
    /// E-step under `model` (returning its mean log-likelihood) then M-step.
    fn step(
        &self,
        model: &Self::Model,
        rng: &mut StdRng,
        log: &mut Vec<DegeneracyEvent>,
        restart: usize,
        iteration: usize,
    ) -> Result<(f64, Self::Model), FitError>;
    /// Mean log-likelihood of a model on the training data.
    fn score(&self, model: &Self::Model) -> f64;
    /// Free parameters of a model.
    fn n_parameters(&self, model: &Self::Model) -> usize;
    /// Name of the structure fitted.
    fn structure(&self) -> String;
    /// Total weight of the training data.
    fn total_weight(&self) -> f64;
}

struct RestartResult<M> {
    model: M,
    trace: Vec<f64>,
    termination: Termination,
    ll: f64,
    events: Vec<DegeneracyEvent>,
}

fn run_one<E: Engine>(
    engine: &E,
    common: &EmControl,
    restart: usize,
    start: Option<&E::Model>,
    stop: &AtomicBool,
) -> Result<RestartResult<E::Model>, FitError> {
    let mut rng = StdRng::seed_from_u64(restart_seed(common.seed, restart));
    let mut events = Vec::new();
    let mut model = match start {
        Some(m) => m.clone(),
        None => engine.init(&mut rng, &mut events, restart)?,
    };
    let mut trace = Vec::new();
    let mut termination = Termination::MaxIterations;
    let mut prev = f64::NEG_INFINITY;
    for it in 1..=common.max_iter {
        if stop.load(Ordering::Relaxed) {
            termination = Termination::Stopped;
            break;
        }
        let seen = events.len();
        let (ll, next) = engine.step(&model, &mut rng, &mut events, restart, it)?;
        // A model whose component was just re-seeded or dropped is a new
        // starting point, not a converged fit.
        let degenerated = events.len() > seen;
        model = next;
        trace.push(ll);
        let change = ll - prev;
        prev = ll;
        if let Some(obs) = &common.observer {
            let event = Iteration {
                restart,
                iteration: it,
                lower_bound: ll,
                change,
            };
            if obs.observe(&event) == Control::Stop {
                stop.store(true, Ordering::Relaxed);
                termination = Termination::Stopped;
                break;
            }
        }
        if change.abs() < common.tol && !degenerated {
            termination = Termination::Converged;
            break;
        }
    }
    let ll = engine.score(&model);
    // The last line of defence: whatever slipped past the range and
    // conditioning checks (a variance rebuilt below the precision's smallest
    // normal number by a floor, an extreme weight with a ridge of 5e-324, ...),
    // a model that gives the data it was fitted on a log-likelihood of ±∞ or
    // NaN is not returned as a fit.
    if !ll.is_finite() {
        return Err(FitError::Degenerate {
            reason: format!(
                "the fitted model gives the data a mean log-likelihood of {ll} \
                 (a variance or scale collapsed or overflowed in this precision)"
            ),
        });
    }
    Ok(RestartResult {
        model,
        trace,
        termination,
        ll,
        events,
    })
}

/// Runs `n_init` restarts in parallel (or one from `start`) and keeps the one
/// with the highest final mean log-likelihood (ties: the lowest index). Each
/// restart's random stream depends only on the seed and its index.
pub(crate) fn run<E: Engine>(
    engine: &E,
    common: &EmControl,
    start: Option<&E::Model>,
) -> Result<Fitted<E::Model>, FitError> {
    let stop = AtomicBool::new(false);
    let n = if start.is_some() { 1 } else { common.n_init };
    let results: Vec<Result<RestartResult<E::Model>, FitError>> = (0..n)
        .into_par_iter()
        .map(|r| run_one(engine, common, r, start, &stop))
        .collect();
    let mut best: Option<(usize, RestartResult<E::Model>)> = None;
    let mut summaries = Vec::with_capacity(n);
    let mut first_err = None;
    for (i, res) in results.into_iter().enumerate() {
        match res {
            Ok(r) => {
                summaries.push(RestartSummary {
                    log_likelihood: r.ll,
                    n_iter: r.trace.len(),
                    converged: r.termination == Termination::Converged,
                });
                if best
                    .as_ref()
                    .is_none_or(|(_, b)| r.ll > b.ll || b.ll.is_nan())
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
        log_likelihood: r.ll,
        best_restart,
        restarts: summaries,
        degeneracies: r.events,
        n_parameters: engine.n_parameters(&r.model),
        structure: engine.structure(),
        total_weight: engine.total_weight(),
    };
    Ok(Fitted {
        model: r.model,
        report,
    })
}
