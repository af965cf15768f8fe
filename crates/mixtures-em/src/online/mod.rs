//! Online (stepwise, mini-batch) EM for Gaussian mixtures: the model is
//! updated batch by batch as rows arrive, never holding more than one batch.
//!
//! Stepwise EM (Cappé & Moulines 2009; Liang & Klein 2009) keeps running
//! sufficient statistics `s`. Batch `t` after the start is put through an
//! E-step under the current model; its statistics per unit of weight `s̄`
//! are blended in, `s ← (1 − ηₜ) s + ηₜ s̄`, with the step sizes of a
//! [`StepSize`] schedule, and the M-step of batch EM (the covariance
//! constraint, the ridge, the regularizers and priors, the degeneracy repair)
//! turns `s` into the next model. The running statistics are kept per
//! component as mass, mean and scatter about the mean, combined exactly
//! (`running.rs`), because statistics taken under two models have different
//! shifts and cannot simply be added. docs/online.md has the schedule, what
//! converges, forgetting for drift and measurements.

mod context;
mod running;
mod schedule;

use mixtures_core::source::{Batch, RowSource, SourceError};
use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::GaussianMixtureModel;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::check_scale;
use crate::engine::Restart;
use crate::mstep::gaussian_m_step;
use crate::report::{DegeneracyEvent, FitReport};
use crate::{FitError, GaussianParams};
use context::{Context, Env, batch_dataset, e_step};
use running::Running;
pub use schedule::{DEFAULT_ALPHA, DEFAULT_T0, StepSize};

/// What one [`OnlineGaussianMixture::partial_fit`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineStep {
    /// The batch's index `t` after the start: 0 for the batch the model was
    /// fitted on, then 1, 2, …
    pub t: u64,
    /// The weight `ηₜ` the batch's statistics got in the running statistics
    /// (1 for the batch the model was fitted on).
    pub step_size: f64,
    /// The mean log-likelihood of the batch's rows under the model before
    /// this update (test-then-train: a sudden drop signals drift). For the
    /// batch the model was fitted on, under the fitted model.
    pub log_likelihood: f64,
    /// The total weight the running statistics stand for after the update:
    /// the batch's weight over `ηₜ`. The M-step reads the statistics at
    /// this scale, so a conjugate prior weighs as much against them as
    /// against that many rows in batch EM.
    pub effective_weight: f64,
}

/// A Gaussian mixture fitted by stepwise EM, one batch at a time: from
/// [`GaussianParams::online`] (fitted by batch EM on the first batch, with
/// the parameters' initialization, restarts and seed) or
/// [`GaussianParams::online_from`] (a given model), then
/// [`partial_fit`](Self::partial_fit) on every batch. Every covariance
/// structure, constraint, ridge, regularizer and prior works as in batch
/// EM; trimming and a noise component do not (they need every row).
/// Deterministic for a seed and a sequence of batches, whatever the number
/// of threads.
///
/// ```
/// use mixtures_core::Dataset;
/// use mixtures_em::{Covariance, GaussianMixture, StepSize};
///
/// // A stream of batches from two groups of points.
/// let batch = |b: usize| {
///     let rows: Vec<[f64; 2]> = (0..500)
///         .map(|i| {
///             let t = (b * 500 + i) as f64 * 0.37;
///             if i % 2 == 0 { [t.sin(), t.cos()] } else { [6.0 + t.cos(), 4.0 + t.sin()] }
///         })
///         .collect();
///     Dataset::from_rows(&rows)
/// };
/// let mut online = GaussianMixture::params(2)
///     .covariance(Covariance::Diag)
///     .seed(1)
///     .online()
///     .step_size(StepSize::default());
/// for b in 0..20 {
///     let step = online.partial_fit(&batch(b)?)?;
///     assert!(step.step_size <= 1.0);
/// }
/// let model = online.model().ok_or("no model")?;
/// let w: f64 = model.weights().iter().sum();
/// assert!((w - 1.0).abs() < 1e-12);
/// assert!((model.weights()[0] - 0.5).abs() < 0.01);
/// assert_eq!(online.n_rows(), 10_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OnlineGaussianMixture<T: Scalar> {
    params: GaussianParams<T>,
    step_size: StepSize,
    full: bool,
    state: Option<State<T>>,
    context: Option<Context<T>>,
    /// The random stream of re-seeds and the degeneracy log, across batches.
    cx: Restart,
    /// Averaging of the running statistics from this batch `t` on.
    average_from: Option<u64>,
    /// The averaged model's own re-seeds (rare: it averages valid models).
    average_cx: Restart,
    batches: u64,
    rows: u64,
    start_report: Option<FitReport>,
}

/// The model and the running statistics it was computed from.
#[derive(Debug, Clone)]
struct State<T: Scalar> {
    model: GaussianMixtureModel<T>,
    running: Running,
    /// Batches blended in since the start.
    t: u64,
    average: Option<Average<T>>,
}

/// Polyak–Ruppert averaging: the mean of the running statistics since
/// averaging began, and the model of that mean.
#[derive(Debug, Clone)]
struct Average<T: Scalar> {
    stats: Running,
    /// Batches averaged.
    batches: u64,
    /// Their total weight: what the averaged statistics stand for.
    weight: f64,
    model: GaussianMixtureModel<T>,
}

impl<T: Scalar> GaussianParams<T> {
    /// Online EM with these parameters ([`OnlineGaussianMixture`]): the
    /// first batch is fitted by batch EM (this initialization, restarts and
    /// seed), later batches update the model by stepwise EM with the
    /// default [`StepSize`].
    pub fn online(&self) -> OnlineGaussianMixture<T> {
        OnlineGaussianMixture::new(self.clone(), None)
    }

    /// Online EM from `model`: its moments (weights, means, weighted
    /// covariances) are the running statistics before the first batch,
    /// worth what the schedule's `t0` makes of them; the number of
    /// components is the model's.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] for a model with a noise component.
    pub fn online_from(
        &self,
        model: GaussianMixtureModel<T>,
    ) -> Result<OnlineGaussianMixture<T>, FitError> {
        if model.n_columns() != model.n_components() {
            return Err(FitError::invalid(
                "noise",
                "a noise component",
                "online EM fits Gaussian components only",
            ));
        }
        Ok(OnlineGaussianMixture::new(self.clone(), Some(model)))
    }
}

impl<T: Scalar> OnlineGaussianMixture<T> {
    fn new(params: GaussianParams<T>, start: Option<GaussianMixtureModel<T>>) -> Self {
        let full = params.constraint.needs_full_scatter();
        let restart = |seed: u64| Restart {
            rng: StdRng::seed_from_u64(seed),
            restart: 0,
            iteration: 0,
            degeneracies: Vec::new(),
        };
        let cx = restart(params.control.seed);
        let average_cx = restart(mixtures_core::seed::restart_seed(params.control.seed, 1));
        let state = start.map(|model| State {
            running: Running::from_model(&model, full),
            model,
            t: 0,
            average: None,
        });
        Self {
            params,
            step_size: StepSize::default(),
            full,
            state,
            context: None,
            cx,
            average_from: None,
            average_cx,
            batches: 0,
            rows: 0,
            start_report: None,
        }
    }

    /// The step-size schedule (default [`StepSize::default`]).
    #[must_use]
    pub fn step_size(mut self, s: StepSize) -> Self {
        self.step_size = s;
        self
    }

    /// Polyak–Ruppert averaging from batch `t = start` on (from 1; off by
    /// default): [`averaged_model`](Self::averaged_model) is then the
    /// M-step of the mean of the running statistics over the batches since,
    /// while the E-steps keep using [`model`](Self::model). With a
    /// decaying step of `α < 1`, averaging removes most of the iterates'
    /// noise: the averaged model approaches the batch fit at the rate of
    /// the batch fit itself (Cappé & Moulines 2009, §2.3; docs/online.md).
    /// Start it once the start is forgotten; a repair restarts it.
    #[must_use]
    pub fn averaging(mut self, start: u64) -> Self {
        self.average_from = Some(start.max(1));
        self
    }

    /// The averaged model (with [`averaging`](Self::averaging), once a
    /// batch has been averaged).
    pub fn averaged_model(&self) -> Option<&GaussianMixtureModel<T>> {
        self.state
            .as_ref()
            .and_then(|s| s.average.as_ref())
            .map(|a| &a.model)
    }

    /// The schedule.
    pub fn schedule(&self) -> StepSize {
        self.step_size
    }

    /// The fit's parameters.
    pub fn params(&self) -> &GaussianParams<T> {
        &self.params
    }

    /// The current model (none before the first batch of
    /// [`GaussianParams::online`]).
    pub fn model(&self) -> Option<&GaussianMixtureModel<T>> {
        self.state.as_ref().map(|s| &s.model)
    }

    /// Batches read so far.
    pub fn n_batches(&self) -> u64 {
        self.batches
    }

    /// Rows read so far.
    pub fn n_rows(&self) -> u64 {
        self.rows
    }

    /// The report of the batch-EM fit of the first batch (for
    /// [`GaussianParams::online`], once it has run).
    pub fn start_report(&self) -> Option<&FitReport> {
        self.start_report.as_ref()
    }

    /// Components re-seeded or dropped so far (`iteration` is the batch's
    /// `t`). A repaired component's running statistics restart from the
    /// repaired model.
    pub fn degeneracies(&self) -> &[DegeneracyEvent] {
        &self.cx.degeneracies
    }

    /// Updates the model with one batch of rows (the rows' weights, if any,
    /// weigh them within the batch).
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] for a schedule out of range, trimming
    /// or a noise component; [`FitError::Data`] for a batch with another
    /// number of features; [`FitError::DataScale`] for values whose squares
    /// overflow; for the first batch of [`GaussianParams::online`], the
    /// errors of [`GaussianParams::fit`] ([`FitError::TooFewDistinctPoints`]
    /// for a batch with fewer distinct rows than components);
    /// [`FitError::Degenerate`] when no valid model can be formed. A failed
    /// update leaves the model and the statistics as they were.
    pub fn partial_fit(&mut self, batch: &Dataset<T>) -> Result<OnlineStep, FitError> {
        self.step_size.check()?;
        if self.params.control.trim > 0.0 {
            return Err(FitError::invalid(
                "trim",
                self.params.control.trim,
                "online EM does not trim",
            ));
        }
        if self.params.control.noise.is_some() {
            return Err(FitError::invalid(
                "noise",
                "a noise component",
                "online EM fits Gaussian components only",
            ));
        }
        self.params.check_for(batch.n_features())?;
        if let Some(s) = &self.state {
            batch.check_dim(s.model.dim())?;
        }
        check_scale(batch, true)?;
        let step = match self.state.take() {
            None => self.start(batch),
            Some(state) => {
                let next = self.update(&state, batch);
                match next {
                    Ok((next, step)) => {
                        self.state = Some(next);
                        Ok(step)
                    }
                    Err(e) => {
                        self.state = Some(state);
                        Err(e)
                    }
                }
            }
        }?;
        self.batches += 1;
        self.rows += batch.n_samples() as u64;
        Ok(step)
    }

    /// [`partial_fit`](Self::partial_fit) on every batch of `source` in
    /// order (empty batches carry nothing and are passed over); returns
    /// what each did.
    ///
    /// # Errors
    /// As [`partial_fit`](Self::partial_fit), stopping at the first batch
    /// that fails (the batches before it stay applied); a value that is not
    /// finite as [`SourceError::NonFinite`] naming its place in the source;
    /// [`SourceError::Empty`] for a source without rows.
    pub fn partial_fit_source(
        &mut self,
        source: &dyn RowSource<T>,
    ) -> Result<Vec<OnlineStep>, FitError> {
        let mut steps = Vec::new();
        let mut failure: Option<FitError> = None;
        let read = source.for_each_batch(&mut |b: Batch<'_, T>| {
            if b.rows.nrows() == 0 {
                return Ok(());
            }
            let data = batch_dataset(b).map_err(|e| match e {
                DataError::NonFinite { row, col, value } => SourceError::NonFinite {
                    location: source.locate(b.first + row as u64),
                    column: col.to_string(),
                    value,
                },
                other => SourceError::Read {
                    location: source.locate(b.first),
                    message: other.to_string(),
                },
            })?;
            match self.partial_fit(&data) {
                Ok(s) => {
                    steps.push(s);
                    Ok(())
                }
                Err(e) => {
                    let text = e.to_string();
                    failure = Some(e);
                    Err(SourceError::Consumer(text))
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        read?;
        if steps.is_empty() {
            return Err(SourceError::Empty {
                location: source.describe(),
            }
            .into());
        }
        Ok(steps)
    }

    /// The first batch: batch EM on it, and its statistics under the fitted
    /// model as the running statistics.
    fn start(&mut self, batch: &Dataset<T>) -> Result<OnlineStep, FitError> {
        let fitted = self.params.fit(batch)?;
        let model = fitted.model;
        let total = batch.total_weight();
        let st = e_step(&model, batch, self.full)?;
        let log_likelihood = st.log_likelihood() / total;
        let (stats, _) = st.finished();
        let shifts = model.components().means().to_owned();
        let running = Running::from_stats(&stats, &shifts, self.full, total);
        self.context = Some(Context::new(
            &self.params,
            batch,
            model.n_components(),
            self.full,
        ));
        self.start_report = Some(fitted.report);
        self.state = Some(State {
            model,
            running,
            t: 0,
            average: None,
        });
        Ok(OnlineStep {
            t: 0,
            step_size: 1.0,
            log_likelihood,
            effective_weight: total,
        })
    }

    /// One stepwise-EM update from `state` with `batch`.
    fn update(
        &mut self,
        state: &State<T>,
        batch: &Dataset<T>,
    ) -> Result<(State<T>, OnlineStep), FitError> {
        let model = &state.model;
        let context = self.context.get_or_insert_with(|| {
            Context::new(&self.params, batch, model.n_components(), self.full)
        });
        let total = batch.total_weight();
        let st = e_step(model, batch, self.full)?;
        let log_likelihood = st.log_likelihood() / total;
        let (stats, worst) = st.finished();
        let shifts = model.components().means().to_owned();
        let part = Running::from_stats(&stats, &shifts, self.full, total);
        let t = state.t + 1;
        let eta = self.step_size.at(t);
        let mut running = state.running.clone();
        running.blend(eta, &part);
        let scale = total / eta;
        let env = Env {
            context,
            reg_covar: self.params.control.reg_covar,
            total: scale,
            rows: batch,
        };
        self.cx.iteration = usize::try_from(t).unwrap_or(usize::MAX);
        let repairs = self.cx.degeneracies.len();
        let prior = context.prior.as_ref();
        let next = gaussian_m_step(
            &self.params,
            prior,
            running.moments(scale),
            &env,
            worst,
            &mut self.cx,
        )?;
        let repaired =
            self.cx.degeneracies.len() > repairs || next.n_components() != running.n_components();
        if repaired {
            // A re-seeded component's statistics describe where it collapsed,
            // not where it was moved: the running statistics restart from
            // the repaired model, which would otherwise undo the repair.
            running = Running::from_model(&next, self.full);
        }
        let average = match self.average_from {
            Some(from) if t >= from => {
                // After a repair the earlier statistics belong to other
                // components: the average starts again.
                let previous = state.average.as_ref().filter(|_| !repaired);
                let (stats, batches, weight) = match previous {
                    Some(a) => {
                        let mut s = a.stats.clone();
                        s.blend(1.0 / (a.batches + 1) as f64, &running);
                        (s, a.batches + 1, a.weight + total)
                    }
                    None => (running.clone(), 1, total),
                };
                let env = Env {
                    total: weight,
                    ..env
                };
                self.average_cx.iteration = self.cx.iteration;
                let model = gaussian_m_step(
                    &self.params,
                    prior,
                    stats.moments(weight),
                    &env,
                    None,
                    &mut self.average_cx,
                )?;
                Some(Average {
                    stats,
                    batches,
                    weight,
                    model,
                })
            }
            _ => None,
        };
        let step = OnlineStep {
            t,
            step_size: eta,
            log_likelihood,
            effective_weight: scale,
        };
        Ok((
            State {
                model: next,
                running,
                t,
                average,
            },
            step,
        ))
    }
}
