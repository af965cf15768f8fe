//! Gaussian mixtures by EM.

use std::sync::Arc;

use faer::Mat;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::source::RowSource;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Covariances, Gaussian, GaussianMixtureModel, Mixture, ModelError};
use rand::rngs::StdRng;

use crate::Covariance;
use crate::EmControl;
use crate::FitError;
use crate::common::{
    Summary, check_precision, check_rows, fallback_variance, final_log_likelihood, without_row,
};
use crate::constraint::CovarianceConstraint;
use crate::engine::{Engine, Restart, run};
use crate::mstep::{MStepEnv, Moments, ResolvedPrior, gaussian_m_step};
use crate::noise;
use crate::pass::Stats;
use crate::regularize::{ConjugatePrior, RegContext, Regularizer};
use crate::repair::{BuildError, Components as RepairParts};
use crate::report::Fitted;
use crate::rows::{Batched, DEFAULT_SAMPLE_ROWS, Rows, StatsReducer};
use crate::stats::EStep;
use crate::trim;

/// Entry point for fitting Gaussian mixtures:
/// `GaussianMixture::params(k).covariance(Covariance::Full).fit(&data)`.
#[derive(Debug, Clone, Copy)]
pub struct GaussianMixture;

impl GaussianMixture {
    /// Parameters for `k` components with scikit-learn's defaults: full
    /// covariance, `reg_covar = 1e-6`, k-means initialization, one restart,
    /// `tol = 1e-3`, `max_iter = 100`.
    pub fn params<T: Scalar>(k: usize) -> GaussianParams<T> {
        GaussianParams {
            k,
            constraint: Arc::new(Covariance::Full),
            regularizers: Vec::new(),
            control: EmControl::default(),
        }
    }
}

/// Parameters of a Gaussian mixture fit; checked when fitting, before any work.
#[derive(Clone)]
pub struct GaussianParams<T: Scalar> {
    pub(crate) k: usize,
    pub(crate) constraint: Arc<dyn CovarianceConstraint<T>>,
    pub(crate) regularizers: Vec<Arc<dyn Regularizer<T>>>,
    pub(crate) control: EmControl,
}

impl<T: Scalar> core::fmt::Debug for GaussianParams<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GaussianParams")
            .field("k", &self.k)
            .field("constraint", &self.constraint.name())
            .field("regularizers", &self.regularizers)
            .field("control", &self.control)
            .finish()
    }
}

impl<T: Scalar> GaussianParams<T> {
    crate::em_control_builder!();

    /// Number of components.
    #[must_use]
    pub fn n_components(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// A built-in covariance structure (default [`Covariance::Full`]).
    #[must_use]
    pub fn covariance(mut self, c: Covariance) -> Self {
        self.constraint = Arc::new(c);
        self
    }

    /// A covariance constraint of your own.
    #[must_use]
    pub fn constraint(mut self, c: impl CovarianceConstraint<T> + 'static) -> Self {
        self.constraint = Arc::new(c);
        self
    }

    /// Adds a regularizer, applied after the ridge in the order added.
    #[must_use]
    pub fn regularizer(mut self, r: impl Regularizer<T> + 'static) -> Self {
        self.regularizers.push(Arc::new(r));
        self
    }

    /// Maximum a posteriori estimation under a conjugate prior (mclust's
    /// defaults with `ConjugatePrior::default()`).
    #[must_use]
    pub fn prior(self, p: ConjugatePrior) -> Self {
        self.regularizer(p)
    }

    /// Checks every parameter that needs no data: the EM settings and the
    /// regularizers' own settings (a prior's mean is checked against the
    /// data's dimension when fitting).
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), FitError> {
        self.control.check()?;
        self.regularizers.iter().try_for_each(|r| r.check())
    }

    pub(crate) fn check_for(&self, d: usize) -> Result<(), FitError> {
        self.check()?;
        for p in self.regularizers.iter().filter_map(|r| r.prior()) {
            p.check(d)?;
        }
        Ok(())
    }

    /// Fits a mixture of `k` components to the data.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`], [`FitError::TooFewDistinctPoints`],
    /// [`FitError::DataScale`] before any work; [`FitError::Degenerate`] if
    /// nothing can be fitted; [`FitError::Precision`] when the fitted covariance
    /// is too ill-conditioned for `T` ([`check_precision`](crate::check_precision)).
    pub fn fit(&self, data: &Dataset<T>) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        self.fit_rows(Rows::Memory(data), None)
    }

    /// Fits a mixture of `k` components to rows read in batches, one pass
    /// per iteration (out-of-core: the rows are never all in memory). The
    /// restarts start from a seeded sample of [`DEFAULT_SAMPLE_ROWS`] rows,
    /// the same whatever the batches (k-means++ and k-means on the sample,
    /// then every row assigned to its nearest centre); from the same start
    /// the fit is the in-memory fit's up to rounding. A source that is a
    /// [`Dataset`] is fitted in memory.
    ///
    /// # Errors
    /// As [`GaussianParams::fit`]; [`FitError::Source`] when the rows cannot
    /// be read or change between passes; [`FitError::NeedsRowsInMemory`] for
    /// trimming, a noise component and random initial responsibilities.
    pub fn fit_source(
        &self,
        source: &dyn RowSource<T>,
    ) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        match source.as_dataset() {
            Some(data) => self.fit(data),
            None => self.fit_reduced(&Batched::new(source)),
        }
    }

    /// As [`GaussianParams::fit_source`], with the E-steps' statistics
    /// computed by `reducer` (a query engine's aggregate, say).
    ///
    /// # Errors
    /// As [`GaussianParams::fit_source`].
    pub fn fit_reduced(
        &self,
        reducer: &dyn StatsReducer<T>,
    ) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        self.check_for(reducer.rows().n_features())?;
        let rows = Rows::scan(reducer, DEFAULT_SAMPLE_ROWS, self.control.seed)?;
        self.fit_rows(rows, None)
    }

    /// As [`GaussianParams::fit_from`], reading the rows through `reducer`.
    ///
    /// # Errors
    /// As [`GaussianParams::fit_source`].
    pub fn fit_reduced_from(
        &self,
        model: &GaussianMixtureModel<T>,
        reducer: &dyn StatsReducer<T>,
    ) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        FitError::check_warm_start(model.dim(), reducer.rows().n_features())?;
        self.check_for(reducer.rows().n_features())?;
        let rows = Rows::scan(reducer, DEFAULT_SAMPLE_ROWS, self.control.seed)?;
        self.fit_rows(rows, Some(model))
    }

    fn fit_rows(
        &self,
        rows: Rows<'_, T>,
        start: Option<&GaussianMixtureModel<T>>,
    ) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        let k = start.map_or(self.k, |m| m.n_components());
        self.check_for(rows.n_features())?;
        check_rows(&rows, k, &self.control)?;
        let total = rows.total_weight();
        let engine = GaussianEngine::new(self, rows, k)?;
        // Initialization needs the data summary. Computing it here, before the
        // restarts run in parallel, matters: a restart that initialized it
        // lazily would wait in rayon (the summary pass is parallel), steal
        // another restart, and that one would block on the same `OnceLock`,
        // a deadlock.
        let _ = engine.summary();
        let fitted = run(&engine, &self.control, start)?;
        check_precision(&fitted.model, total)?;
        Ok(fitted)
    }

    /// Fits the mixture to data with missing values by EM on the observed
    /// data (module `missing`): each row's responsibilities from its
    /// marginal density, the M-step from the conditional expectations of
    /// the missing features. Without a missing cell, exactly
    /// [`GaussianParams::fit`].
    ///
    /// # Errors
    /// As [`GaussianParams::fit`]; [`FitError::MissingValues`] for trimming
    /// or a noise component.
    pub fn fit_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        self.fit_incomplete_rows(data, None)
    }

    /// [`GaussianParams::fit_incomplete`] from `model` (a warm start).
    ///
    /// # Errors
    /// [`FitError::WarmStartDimension`], or as [`GaussianParams::fit_incomplete`].
    pub fn fit_incomplete_from(
        &self,
        model: &GaussianMixtureModel<T>,
        data: &IncompleteDataset<T>,
    ) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        FitError::check_warm_start(model.dim(), data.n_features())?;
        self.fit_incomplete_rows(data, Some(model))
    }

    fn fit_incomplete_rows(
        &self,
        data: &IncompleteDataset<T>,
        start: Option<&GaussianMixtureModel<T>>,
    ) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        if data.n_missing() == 0 {
            if let Some((complete, _)) = data.complete_rows() {
                return self.fit_rows(Rows::Memory(&complete), start);
            }
        }
        data.check_every_column_observed()?;
        self.check_for(data.n_features())?;
        self.fit_rows(Rows::incomplete(data), start)
    }

    /// Fits starting from `model` (warm start, or continuing an earlier fit): no
    /// initialization and a single restart; the number of components is the
    /// model's.
    ///
    /// # Errors
    /// [`FitError::WarmStartDimension`], or as [`GaussianParams::fit`].
    pub fn fit_from(
        &self,
        model: &GaussianMixtureModel<T>,
        data: &Dataset<T>,
    ) -> Result<Fitted<GaussianMixtureModel<T>>, FitError> {
        FitError::check_warm_start(model.dim(), data.n_features())?;
        self.fit_rows(Rows::Memory(data), Some(model))
    }
}

impl<T: Scalar> GaussianParams<T> {
    /// One EM iteration from `model`: the E-step under `model` and the M-step.
    /// Returns the mean log-likelihood of the data under `model` and the updated
    /// model. For custom loops and for measuring the cost of an iteration.
    ///
    /// # Errors
    /// As [`GaussianParams::fit_from`].
    pub fn step(
        &self,
        model: &GaussianMixtureModel<T>,
        data: &Dataset<T>,
    ) -> Result<(f64, GaussianMixtureModel<T>), FitError> {
        FitError::check_warm_start(model.dim(), data.n_features())?;
        self.check_for(data.n_features())?;
        let engine = GaussianEngine::new(self, Rows::Memory(data), model.n_components())?;
        let mut cx = Restart {
            rng: <StdRng as rand::SeedableRng>::seed_from_u64(self.control.seed),
            restart: 0,
            iteration: 1,
            degeneracies: Vec::new(),
        };
        engine.step(model, &mut cx)
    }
}

struct GaussianEngine<'a, T: Scalar> {
    p: &'a GaussianParams<T>,
    rows: Rows<'a, T>,
    k: usize,
    full: bool,
    /// Data mean and variances, computed on first use (initialization, priors,
    /// re-seeding, regularizers), so a plain iteration costs no extra pass.
    summary: std::sync::OnceLock<Summary<T>>,
    ctx: std::sync::OnceLock<RegContext<T>>,
    prior: Option<ResolvedPrior<T>>,
}

impl<'a, T: Scalar> GaussianEngine<'a, T> {
    fn new(p: &'a GaussianParams<T>, rows: Rows<'a, T>, k: usize) -> Result<Self, FitError> {
        let full = p.constraint.needs_full_scatter();
        let prior_spec = p.regularizers.iter().find_map(|r| r.prior().cloned());
        let summary = std::sync::OnceLock::new();
        // Out of core the summary is a pass that may fail: taken now.
        if prior_spec.is_some() || rows.memory().is_none() {
            let _ = summary.set(rows.summary(prior_spec.is_some() && full)?);
        }
        let n_rows = rows.n_rows() as usize;
        let prior = prior_spec.map(|ps| {
            let summary = summary.get_or_init(|| rows.fallback_summary());
            ResolvedPrior::resolve(&ps, summary, k, n_rows)
        });
        Ok(Self {
            p,
            rows,
            k,
            full,
            summary,
            ctx: std::sync::OnceLock::new(),
            prior,
        })
    }

    fn summary(&self) -> &Summary<T> {
        self.summary.get_or_init(|| self.rows.fallback_summary())
    }

    fn ctx(&self) -> &RegContext<T> {
        self.ctx.get_or_init(|| RegContext {
            data_variance: self.summary().var.clone(),
            n_components: self.k,
        })
    }

    fn m_step(
        &self,
        st: &Stats<T>,
        worst: Option<Vec<T>>,
        shifts: &Mat<T>,
        cx: &mut Restart,
    ) -> Result<GaussianMixtureModel<T>, FitError> {
        let moments = Moments::from_stats(st, shifts, self.full);
        gaussian_m_step(self.p, self.prior.as_ref(), moments, self, worst, cx)
    }
}

impl<T: Scalar> MStepEnv<T> for GaussianEngine<'_, T> {
    fn ctx(&self) -> &RegContext<T> {
        GaussianEngine::ctx(self)
    }

    fn fallback(&self, j: usize) -> T {
        fallback_variance(self.summary(), self.k, self.p.control.reg_covar, j)
    }

    fn total_weight(&self) -> f64 {
        self.rows.total_weight()
    }

    fn reseed_rows(&self) -> &Dataset<T> {
        self.rows.reseed_rows()
    }
}

/// Means and covariances after an M-step, as the degeneracy repair sees
/// them (of a Gaussian family, or of the scale of a Student-t one).
pub(crate) struct ScaleParts<'e, T: Scalar> {
    pub means: Mat<T>,
    pub cov: Covariances<T>,
    /// The variance of a re-seeded component along a feature (computed only
    /// when a component is re-seeded: it needs the data's variances).
    pub fallback: &'e dyn Fn(usize) -> T,
    /// The built-in structure the constraint imposes, if any.
    pub structure: Option<Covariance>,
}

impl<T: Scalar> ScaleParts<'_, T> {
    pub(crate) fn remove(&mut self, c: usize) {
        self.means = without_row(&self.means, c);
        match &mut self.cov {
            Covariances::Full(v) => {
                v.remove(c);
            }
            Covariances::Diag(v) => *v = without_row(v, c),
            Covariances::Spherical(v) => {
                v.remove(c);
            }
            Covariances::Tied(_) => {}
        }
    }

    /// Moves component `c` to `row` with a broad covariance: the data's
    /// variances shrunk by `K^(2/D)` (mclust's prior scale) plus the ridge.
    pub(crate) fn reseed(&mut self, c: usize, row: &[T]) {
        for (j, v) in row.iter().enumerate() {
            self.means[(c, j)] = *v;
        }
        let (d, f) = (row.len(), self.fallback);
        match &mut self.cov {
            Covariances::Full(m) => {
                m[c] = Mat::from_fn(d, d, |i, j| if i == j { f(i) } else { T::zero() });
            }
            Covariances::Diag(v) => {
                for j in 0..d {
                    v[(c, j)] = f(j);
                }
            }
            Covariances::Spherical(v) => v[c] = (0..d).map(f).sum::<T>() / T::from_usize(d),
            // A shared covariance belongs to no single component.
            Covariances::Tied(_) => {}
        }
    }

    /// The Gaussian family, with the constraint's exact structure when the
    /// covariances still have it (a re-seeded component of a tied diagonal
    /// model has a covariance of its own: the model is then diagonal).
    pub(crate) fn gaussian(&self) -> Result<Gaussian<T>, BuildError> {
        match Gaussian::new(self.means.clone(), self.cov.clone()) {
            Ok(g) => Ok(match self.structure {
                Some(s) if s != g.covariance_type() => {
                    let fallback = g.clone();
                    g.with_structure(s).unwrap_or(fallback)
                }
                _ => g,
            }),
            Err(e) => {
                let comp = match &e {
                    ModelError::NotPositiveDefinite {
                        component: Some(c), ..
                    }
                    | ModelError::NotSymmetric {
                        component: Some(c), ..
                    } => Some(*c),
                    ModelError::InvalidVariance { component, .. }
                    | ModelError::NonFiniteParameter { component, .. } => Some(*component),
                    _ => None,
                };
                match comp {
                    // A shared covariance belongs to no single component.
                    Some(c) if !matches!(self.cov, Covariances::Tied(_)) => {
                        Err(BuildError::Component(c, e.to_string()))
                    }
                    _ => Err(BuildError::Fatal(FitError::Degenerate {
                        reason: e.to_string(),
                    })),
                }
            }
        }
    }
}

impl<T: Scalar> RepairParts<T> for ScaleParts<'_, T> {
    type Model = GaussianMixtureModel<T>;

    fn remove(&mut self, c: usize) {
        ScaleParts::remove(self, c);
    }

    fn reseed(&mut self, c: usize, row: &[T]) {
        ScaleParts::reseed(self, c, row);
    }

    fn build(&self, weights: Vec<T>) -> Result<Self::Model, BuildError> {
        Mixture::new(weights, self.gaussian()?).map_err(|e| BuildError::Fatal(e.into()))
    }
}

impl<T: Scalar> Engine for GaussianEngine<'_, T> {
    type State = GaussianMixtureModel<T>;

    fn init(&self, cx: &mut Restart) -> Result<Self::State, FitError> {
        let mean = &self.summary().mean;
        let (k, d) = (self.k, mean.len());
        let st = self
            .rows
            .initial(self.p.control.init, k, mean, self.full, &mut cx.rng)?;
        let shifts = Mat::from_fn(k, d, |_, j| mean[j]);
        let (st, worst) = st.finished();
        let model = self.m_step(&st, worst, &shifts, cx)?;
        match self.rows.memory() {
            Some(data) => noise::start(model, self.p.control.noise.as_ref(), data),
            None => Ok(model),
        }
    }

    fn step(&self, model: &Self::State, cx: &mut Restart) -> Result<(f64, Self::State), FitError> {
        let shifts = model.components().means().to_owned();
        let (st, total) = match self.rows.memory() {
            Some(data) => {
                let kept = trim::step_weights(model, data, self.p.control.trim)?;
                let st = self
                    .rows
                    .e_step(EStep::Gaussian(model), self.full, kept.as_deref())?;
                (st, kept.total)
            }
            None => {
                let st = self.rows.e_step(EStep::Gaussian(model), self.full, None)?;
                (st, self.rows.total_weight())
            }
        };
        let ll = st.log_likelihood() / total;
        let (st, worst) = st.finished();
        let next = self.m_step(&st, worst, &shifts, cx)?;
        let next = noise::carry(next, model, st.noise, total)?;
        Ok((ll, next))
    }

    fn objective(&self, model: &Self::State) -> Result<f64, FitError> {
        match self.rows.memory() {
            Some(data) => trim::objective(model, data, self.p.control.trim),
            None => {
                let st = self.rows.e_step(EStep::Gaussian(model), false, None)?;
                final_log_likelihood(st.log_likelihood() / self.rows.total_weight())
            }
        }
    }

    fn n_parameters(&self, model: &Self::State) -> usize {
        let (k, d) = (model.n_components(), model.dim());
        self.p.constraint.n_free_parameters(k, d) + k * d + model.n_columns() - 1
    }

    fn structure(&self) -> String {
        self.p.constraint.name()
    }

    fn total_weight(&self) -> f64 {
        match self.rows.memory() {
            Some(data) => trim::kept_total(data, self.p.control.trim),
            None => self.rows.total_weight(),
        }
    }
}
