//! What a fit reports besides the model, and the observer hook.

use core::fmt;

/// Why the iterations of the winning restart ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Termination {
    /// The change of the mean log-likelihood fell below `tol`.
    Converged,
    /// `max_iter` iterations ran without converging.
    MaxIterations,
    /// An observer asked to stop; the model is the best one so far.
    Stopped,
}

/// What happened to a degenerate component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DegeneracyAction {
    /// Moved to the least likely point, with a broad covariance and weight `1/K`.
    Reseeded,
    /// Removed from the mixture.
    Dropped,
}

/// Why a component was found degenerate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DegeneracyReason {
    /// Its weight collapsed (effective number of points below the limit).
    Collapsed {
        /// Effective number of points `Σ wᵢ rᵢₖ`.
        weight: f64,
    },
    /// Its covariance was singular even after regularization.
    Singular {
        /// What the factorization said.
        message: String,
    },
}

/// A degenerate component and what was done about it.
#[derive(Debug, Clone, PartialEq)]
pub struct DegeneracyEvent {
    /// The restart it happened in.
    pub restart: usize,
    /// The iteration (0 = the M-step after initialization).
    pub iteration: usize,
    /// The component's index at the time.
    pub component: usize,
    /// Why.
    pub reason: DegeneracyReason,
    /// What was done.
    pub action: DegeneracyAction,
}

/// What to do with a component whose weight collapses or whose covariance is
/// singular even after regularization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DegeneracyPolicy {
    /// Move it to the least likely point (default); a component re-seeded more
    /// than [`MAX_RESEEDS`] times in one restart is dropped instead.
    #[default]
    Reseed,
    /// Remove it; the model ends with fewer components.
    Drop,
}

/// Re-seeds of one component in one restart before it is dropped.
pub const MAX_RESEEDS: usize = 5;

/// Summary of one restart.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartSummary {
    /// Final mean log-likelihood of the restart's model.
    pub log_likelihood: f64,
    /// Iterations run.
    pub n_iter: usize,
    /// Whether it converged.
    pub converged: bool,
}

/// The report of a fit. Non-convergence is reported here, not as an error.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// Whether the winning restart converged.
    pub converged: bool,
    /// Iterations of the winning restart.
    pub n_iter: usize,
    /// Why the winning restart stopped.
    pub termination: Termination,
    /// Mean log-likelihood at each iteration of the winning restart, computed in
    /// the E-step before that iteration's M-step (scikit-learn's lower bound).
    pub lower_bound_trace: Vec<f64>,
    /// Mean log-likelihood of the returned model on the training data (weighted
    /// by the sample weights).
    pub log_likelihood: f64,
    /// Index of the winning restart.
    pub best_restart: usize,
    /// Every restart, in order.
    pub restarts: Vec<RestartSummary>,
    /// Components re-seeded or dropped in the winning restart.
    pub degeneracies: Vec<DegeneracyEvent>,
    /// Free parameters of the model under the fitted constraint (for AIC/BIC).
    pub n_parameters: usize,
    /// Name of the covariance constraint (or Laplace scale structure).
    pub structure: String,
    /// Total weight of the training data (the number of rows when unweighted).
    pub total_weight: f64,
}

/// A fitted model with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted<M> {
    /// The model.
    pub model: M,
    /// How the fit went.
    pub report: FitReport,
}

/// One iteration, as seen by an [`Observer`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    /// The restart.
    pub restart: usize,
    /// The iteration, from 1.
    pub iteration: usize,
    /// The mean log-likelihood computed in this iteration's E-step.
    pub lower_bound: f64,
    /// Change from the previous iteration (`inf` at the first).
    pub change: f64,
}

/// The answer of an observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop every restart and return the best model so far.
    Stop,
}

/// Watches the iterations (progress bars, logging, cancellation). Called from
/// the threads that run restarts, so it must be `Sync`.
pub trait Observer: Send + Sync {
    /// Called after every iteration.
    fn observe(&self, it: &Iteration) -> Control;
}

impl<F: Fn(&Iteration) -> Control + Send + Sync> Observer for F {
    fn observe(&self, it: &Iteration) -> Control {
        self(it)
    }
}

impl fmt::Display for FitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} after {} iterations ({:?}), mean log-likelihood {:.6}, restart {} of {}",
            if self.converged {
                "converged"
            } else {
                "not converged"
            },
            self.n_iter,
            self.termination,
            self.log_likelihood,
            self.best_restart + 1,
            self.restarts.len()
        )
    }
}
