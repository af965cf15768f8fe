//! Student-t mixtures by ECM (Liu & Rubin 1995; McLachlan & Peel 2000, §7.5).
//!
//! The E-step gives the responsibilities `rᵢₖ` and the latent precision
//! weights `uᵢₖ = (νₖ + D) / (νₖ + δ²ᵢₖ)` in the same fused pass as a Gaussian
//! E-step (the distances are the Gaussian kernels'), accumulating the
//! statistics weighted by `rᵢₖ uᵢₖ`. The first conditional maximization is
//! the weighted Gaussian update: weights `Σ r / n`, locations
//! `Σ r u x / Σ r u`, scale matrices `Σ r u (x − μ)(x − μ)ᵀ / Σ r` under the
//! covariance structure, plus the ridge. The second solves for each `νₖ`
//!
//! `ln(ν/2) − ψ(ν/2) + 1 + Σᵢ rᵢₖ (ln uᵢₖ − uᵢₖ) / Σᵢ rᵢₖ
//!  + ψ((νₖ + D)/2) − ln((νₖ + D)/2) = 0`
//!
//! (with the current `νₖ` inside `uᵢₖ` and the last two terms), whose left
//! side falls from `+∞` to a limit: bisection on `ln ν` to full precision
//! within [`DOF_RANGE`], the upper end when the limit is not negative (the
//! data are as light-tailed as a Gaussian's). Each step maximizes the
//! expected complete-data log-likelihood over its parameters, so the
//! likelihood never decreases.

use core::marker::PhantomData;

use faer::prelude::ReborrowMut;
use num_traits::Float;

use mixtures_core::source::RowSource;
use mixtures_core::special::digamma;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Mixture, StudentT, StudentTMixtureModel};

use crate::common::{Summary, check_rows, fallback_variance, final_log_likelihood};
use crate::constraint::{CovarianceConstraint, MStepStats};
use crate::engine::{Engine, Restart, run};
use crate::gaussian::ScaleParts;
use crate::noise;
use crate::pass::Stats;
use crate::regularize::Ridge;
use crate::repair::{BuildError, Components as RepairParts, Site, repair};
use crate::rows::{Batched, DEFAULT_SAMPLE_ROWS, Rows, StatsReducer};
use crate::stats::EStep;
use crate::trim;
use crate::{Covariance, EmControl, Family, FitError, Fitted, ModelSpec};

/// The degrees of freedom searched: very heavy tails (below 1, no mean) to
/// practically Gaussian.
pub const DOF_RANGE: (f64, f64) = (1e-2, 1e6);

/// The degrees of freedom every fit starts from unless told otherwise: tails
/// a little heavier than a Gaussian's; the first iterations move them.
pub const DEFAULT_INITIAL_DOF: f64 = 30.0;

/// How the degrees of freedom are fitted.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum DegreesOfFreedom {
    /// One `νₖ` per component, estimated (default).
    #[default]
    PerComponent,
    /// One `ν` shared by all components, estimated.
    Shared,
    /// Fixed at this value for every component (finite, positive).
    Fixed(f64),
}

/// Entry point for fitting Student-t mixtures:
/// `StudentTMixture::params(k).covariance(Covariance::Full).fit(&data)`.
#[derive(Debug, Clone, Copy)]
pub struct StudentTMixture;

impl StudentTMixture {
    /// Parameters for `k` components: full scale matrices, degrees of freedom
    /// per component starting at [`DEFAULT_INITIAL_DOF`], and the EM defaults
    /// of [`EmControl`] (its `reg_covar` is the ridge on the scale matrices).
    pub fn params<T: Scalar>(k: usize) -> StudentTParams<T> {
        StudentTParams {
            k,
            covariance: Covariance::Full,
            dof: DegreesOfFreedom::default(),
            initial_dof: DEFAULT_INITIAL_DOF,
            control: EmControl::default(),
            _t: PhantomData,
        }
    }
}

/// Parameters of a Student-t mixture fit; checked when fitting, before any
/// work.
///
/// The degrees of freedom converge more slowly than the other parameters
/// under ECM, while they change the mean log-likelihood little: with the
/// default `tol` (1e-3) a fit stops with the locations and scales settled but
/// `ν` possibly a quarter off. Give `tol(1e-8)` or smaller, and room in
/// `max_iter`, when `ν` itself matters.
#[derive(Debug, Clone)]
pub struct StudentTParams<T: Scalar> {
    k: usize,
    covariance: Covariance,
    dof: DegreesOfFreedom,
    initial_dof: f64,
    control: EmControl,
    _t: PhantomData<T>,
}

/// Effective number of points below which a component counts as collapsed,
/// relative to the total weight.
const COLLAPSE_REL: f64 = 1e-8;

impl<T: Scalar> StudentTParams<T> {
    crate::em_control_builder!();

    /// Number of components.
    #[must_use]
    pub fn n_components(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// The structure of the scale matrices (default full); every built-in
    /// structure.
    #[must_use]
    pub fn covariance(mut self, c: Covariance) -> Self {
        self.covariance = c;
        self
    }

    /// How the degrees of freedom are fitted (default: one per component).
    #[must_use]
    pub fn degrees_of_freedom(mut self, d: DegreesOfFreedom) -> Self {
        self.dof = d;
        self
    }

    /// The degrees of freedom of a fit's first model (default
    /// [`DEFAULT_INITIAL_DOF`]; ignored when they are fixed).
    #[must_use]
    pub fn initial_dof(mut self, nu: f64) -> Self {
        self.initial_dof = nu;
        self
    }

    /// Checks every parameter.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] or [`FitError::Model`] naming the first
    /// parameter out of range.
    pub fn check(&self) -> Result<(), FitError> {
        self.control.check()?;
        ModelSpec::new(Family::StudentT, self.covariance)?;
        let (lo, hi) = DOF_RANGE;
        if let DegreesOfFreedom::Fixed(nu) = self.dof
            && !(nu > 0.0 && nu.is_finite())
        {
            return Err(FitError::invalid(
                "degrees_of_freedom",
                nu,
                "must be positive and finite",
            ));
        }
        if !(self.initial_dof >= lo && self.initial_dof <= hi) {
            return Err(FitError::invalid(
                "initial_dof",
                self.initial_dof,
                "must lie in DOF_RANGE (0.01 to 1e6)",
            ));
        }
        Ok(())
    }

    /// Fits a mixture of `k` Student-t components to the data.
    ///
    /// # Errors
    /// As [`crate::GaussianParams::fit`].
    pub fn fit(&self, data: &Dataset<T>) -> Result<Fitted<StudentTMixtureModel<T>>, FitError> {
        self.fit_rows(Rows::Memory(data), None)
    }

    /// Fits to rows read in batches, one pass per iteration, as
    /// [`crate::GaussianParams::fit_source`] does (a [`Dataset`] source is
    /// fitted in memory).
    ///
    /// # Errors
    /// As [`crate::GaussianParams::fit_source`].
    pub fn fit_source(
        &self,
        source: &dyn RowSource<T>,
    ) -> Result<Fitted<StudentTMixtureModel<T>>, FitError> {
        match source.as_dataset() {
            Some(data) => self.fit(data),
            None => self.fit_reduced(&Batched::new(source), None),
        }
    }

    /// As [`StudentTParams::fit_source`], with the E-steps' statistics
    /// computed by `reducer`, from `start` when given (a warm start).
    ///
    /// # Errors
    /// As [`crate::GaussianParams::fit_source`].
    pub fn fit_reduced(
        &self,
        reducer: &dyn StatsReducer<T>,
        start: Option<&StudentTMixtureModel<T>>,
    ) -> Result<Fitted<StudentTMixtureModel<T>>, FitError> {
        let d = reducer.rows().n_features();
        if let Some(m) = start {
            FitError::check_warm_start(m.dim(), d)?;
        }
        self.check()?;
        let rows = Rows::scan(reducer, DEFAULT_SAMPLE_ROWS, self.control.seed)?;
        self.fit_rows(rows, start)
    }

    fn fit_rows(
        &self,
        rows: Rows<'_, T>,
        start: Option<&StudentTMixtureModel<T>>,
    ) -> Result<Fitted<StudentTMixtureModel<T>>, FitError> {
        self.check()?;
        let k = start.map_or(self.k, |m| m.n_components());
        check_rows(&rows, k, &self.control)?;
        let engine = StudentEngine::new(self, rows, k)?;
        // Initialization needs the summary: computed here, before the restarts
        // run in parallel, for the reason given in `GaussianParams::fit` (a
        // lazy one inside a restart could deadlock on its `OnceLock`).
        let _ = engine.summary();
        run(&engine, &self.control, start)
    }

    /// Fits starting from `model` (a warm start; its number of components).
    ///
    /// # Errors
    /// [`FitError::WarmStartDimension`], or as [`StudentTParams::fit`].
    pub fn fit_from(
        &self,
        model: &StudentTMixtureModel<T>,
        data: &Dataset<T>,
    ) -> Result<Fitted<StudentTMixtureModel<T>>, FitError> {
        FitError::check_warm_start(model.dim(), data.n_features())?;
        self.fit_rows(Rows::Memory(data), Some(model))
    }

    /// Fits to data with missing values: ECM for the observed-data
    /// likelihood. Given the latent `u` a row's missing features are the
    /// conditional Gaussian of the scale, so the E-step is the Gaussian one
    /// ([`crate::GaussianParams::fit_incomplete`]) with the t's marginal
    /// density, `u = (ν + |o|)/(ν + δ²)` on the `|o|` observed features, the
    /// statistics weighted by `u` and the conditional scale added unweighted
    /// (`E[u · C/u] = C`); the degrees of freedom use `E[ln u]` with each
    /// row's own `|o|`. Without a missing cell, exactly [`StudentTParams::fit`].
    ///
    /// # Errors
    /// As [`StudentTParams::fit`]; [`FitError::MissingValues`] for trimming
    /// or a noise component; [`mixtures_core::DataError::NeverObserved`].
    pub fn fit_incomplete(
        &self,
        data: &mixtures_core::missing::IncompleteDataset<T>,
    ) -> Result<Fitted<StudentTMixtureModel<T>>, FitError> {
        if data.n_missing() == 0 {
            if let Some((complete, _)) = data.complete_rows() {
                return self.fit_rows(Rows::Memory(&complete), None);
            }
        }
        data.check_every_column_observed()?;
        self.fit_rows(Rows::incomplete(data), None)
    }

    /// [`StudentTParams::fit_incomplete`] from `model` (a warm start).
    ///
    /// # Errors
    /// [`FitError::WarmStartDimension`], or as [`StudentTParams::fit_incomplete`].
    pub fn fit_incomplete_from(
        &self,
        model: &StudentTMixtureModel<T>,
        data: &mixtures_core::missing::IncompleteDataset<T>,
    ) -> Result<Fitted<StudentTMixtureModel<T>>, FitError> {
        FitError::check_warm_start(model.dim(), data.n_features())?;
        data.check_every_column_observed()?;
        self.fit_rows(Rows::incomplete(data), Some(model))
    }

    /// One ECM iteration from `model`: the E-step under `model`, then both
    /// conditional maximizations. Returns the mean log-likelihood of the data
    /// under `model` and the updated model. For custom loops and for
    /// measuring the cost of an iteration (as [`crate::GaussianParams::step`]).
    ///
    /// # Errors
    /// As [`StudentTParams::fit_from`].
    pub fn step(
        &self,
        model: &StudentTMixtureModel<T>,
        data: &Dataset<T>,
    ) -> Result<(f64, StudentTMixtureModel<T>), FitError> {
        FitError::check_warm_start(model.dim(), data.n_features())?;
        self.check()?;
        let engine = StudentEngine::new(self, Rows::Memory(data), model.n_components())?;
        let mut cx = Restart {
            rng: <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(self.control.seed),
            restart: 0,
            iteration: 1,
            degeneracies: Vec::new(),
        };
        engine.step(model, &mut cx)
    }
}

struct StudentEngine<'a, T: Scalar> {
    p: &'a StudentTParams<T>,
    rows: Rows<'a, T>,
    k: usize,
    full: bool,
    /// Needed by initialization and by the repair of a degenerate component
    /// only, so a warm start or a single step does not pay its pass.
    summary: std::sync::OnceLock<Summary<T>>,
}

impl<'a, T: Scalar> StudentEngine<'a, T> {
    fn new(p: &'a StudentTParams<T>, rows: Rows<'a, T>, k: usize) -> Result<Self, FitError> {
        let summary = std::sync::OnceLock::new();
        // Out of core the summary is a pass that may fail: taken now.
        if rows.memory().is_none() {
            let _ = summary.set(rows.summary(false)?);
        }
        Ok(Self {
            p,
            rows,
            k,
            full: p.covariance.is_full(),
            summary,
        })
    }

    fn summary(&self) -> &Summary<T> {
        self.summary.get_or_init(|| self.rows.fallback_summary())
    }

    /// The M-step from statistics weighted by `r u` (`st.nk = Σ r u`), the
    /// masses `Σ r` and the new degrees of freedom.
    #[allow(clippy::too_many_arguments)]
    fn m_step(
        &self,
        st: &Stats<T>,
        worst: Option<Vec<T>>,
        mass: &[T],
        shifts: &faer::Mat<T>,
        dof: Vec<T>,
        cx: &mut Restart,
    ) -> Result<StudentTMixtureModel<T>, FitError> {
        let (_, means, scatter) = st.moments(shifts, self.full);
        let guard = T::c(10.0) * T::epsilon();
        let nk: Vec<T> = mass.iter().map(|&v| v + guard).collect();
        let stats = MStepStats {
            nk: nk.clone(),
            means,
            scatter,
            prior: None,
        };
        let mut cov = CovarianceConstraint::<T>::estimate(&self.p.covariance, &stats)?;
        Ridge(self.p.control.reg_covar).apply(&mut cov);
        let total: T = nk.iter().copied().sum();
        let weights: Vec<T> = nk.iter().map(|&v| v / total).collect();
        let collapsed: Vec<(usize, f64)> = (0..nk.len())
            .filter(|&c| mass[c].as_f64() < COLLAPSE_REL * self.rows.total_weight())
            .map(|c| (c, mass[c].as_f64()))
            .collect();
        let parts = StudentParts {
            scale: ScaleParts {
                means: stats.means,
                cov,
                fallback: &|j| {
                    fallback_variance(self.summary(), self.k, self.p.control.reg_covar, j)
                },
                structure: Some(self.p.covariance),
            },
            dof,
        };
        let site = Site {
            data: self.rows.reseed_rows(),
            policy: self.p.control.policy,
            cx,
        };
        repair(parts, weights, &collapsed, worst, site)
    }

    /// The degrees of freedom after an E-step under `model`.
    fn update_dof(&self, model: &StudentTMixtureModel<T>, st: &Stats<T>) -> Vec<T> {
        let old = model.components().dof();
        let d = self.rows.n_features() as f64;
        // ψ((ν + D)/2) − ln((ν + D)/2) of the E-step's ν.
        let tail = |nu: f64| digamma(0.5 * (nu + d)) - (0.5 * (nu + d)).ln();
        match self.p.dof {
            DegreesOfFreedom::Fixed(nu) => vec![T::c(nu); old.len()],
            DegreesOfFreedom::PerComponent => (0..old.len())
                .map(|c| {
                    let mass = st.mass[c].as_f64();
                    if !(mass > 0.0) {
                        return old[c];
                    }
                    T::c(solve_dof(1.0 + st.u_term[c] / mass + tail(old[c].as_f64())))
                })
                .collect(),
            DegreesOfFreedom::Shared => {
                let mass: f64 = st.mass.iter().map(|m| m.as_f64()).sum();
                let term: f64 = st.u_term.iter().sum();
                let nu = solve_dof(1.0 + term / mass + tail(old[0].as_f64()));
                vec![T::c(nu); old.len()]
            }
        }
    }

    fn initial_dof(&self) -> Vec<T> {
        let nu = match self.p.dof {
            DegreesOfFreedom::Fixed(nu) => nu,
            _ => self.p.initial_dof,
        };
        vec![T::c(nu); self.k]
    }
}

/// The root in `ν` of `ln(ν/2) − ψ(ν/2) + c = 0` within [`DOF_RANGE`]: the
/// left side decreases in `ν`, so bisection on `ln ν` brackets it; the upper
/// end when it stays positive (`c >= 0`: Gaussian tails), the lower end when
/// it is negative already there.
fn solve_dof(c: f64) -> f64 {
    let f = |ln_nu: f64| {
        let half = 0.5 * ln_nu.exp();
        half.ln() - digamma(half) + c
    };
    let (mut lo, mut hi) = (DOF_RANGE.0.ln(), DOF_RANGE.1.ln());
    if !(c < 0.0) || f(hi) >= 0.0 {
        return DOF_RANGE.1;
    }
    if f(lo) <= 0.0 {
        return DOF_RANGE.0;
    }
    // 100 halvings of a bracket 18.4 wide reach the spacing of f64.
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Independent partial sums in [`weigh_by_u`], combined in a fixed order: a
/// single running sum is a serial chain the compiler must not reorder, and
/// fixed lanes give the same bits on every machine and thread count.
const LANES: usize = 8;

/// One column of a block's responsibilities `r` (already times the row
/// weights) and the E-step's `u` and `ln u`: returns `(Σ r, Σ r (ln u − u))`
/// (the latter over `r > 0` only, since `ln u` is `−∞` where `u` is 0) and
/// leaves `r u` in `r`. Sums in [`LANES`] lanes, so that the loop vectorizes.
///
/// A subnormal `r` or `r u` is taken as 0. A t's responsibilities fall off
/// polynomially, so in f32 many land between 1e-45 and 1e-38 where a
/// Gaussian's underflow to 0 (`examples/compare_student_t.rs` reports the
/// shares), and arithmetic on subnormals is slow (microcode assists). Such a
/// term is below the smallest normal number, so it changes a sum only where
/// the whole sum is that small: a component with no mass, which counts as
/// collapsed either way.
#[inline(always)]
pub(crate) fn weigh_by_u<T: Scalar>(
    mut r: faer::ColMut<'_, T>,
    u: faer::ColRef<'_, T>,
    ln_u: faer::ColRef<'_, T>,
) -> (T, f64) {
    let (mut mass, mut term) = ([T::zero(); LANES], [0.0f64; LANES]);
    match (
        r.rb_mut().try_as_col_major_mut(),
        u.try_as_col_major(),
        ln_u.try_as_col_major(),
    ) {
        (Some(r), Some(u), Some(ln_u)) => {
            let (r, u, ln_u) = (r.as_slice_mut(), u.as_slice(), ln_u.as_slice());
            // The sums first, read-only, then `r u` in a plain map: two
            // simple loops vectorize where one that does both did not.
            let (rc, uc, lc) = (
                r.chunks_exact(LANES),
                u.chunks_exact(LANES),
                ln_u.chunks_exact(LANES),
            );
            let n_full = rc.len() * LANES;
            for ((rl, ul), ll) in rc.zip(uc).zip(lc) {
                for l in 0..LANES {
                    add_one(&mut mass[l], &mut term[l], rl[l], ul[l], ll[l]);
                }
            }
            for (l, ((&ri, &ui), &li)) in r[n_full..]
                .iter()
                .zip(&u[n_full..])
                .zip(&ln_u[n_full..])
                .enumerate()
            {
                add_one(&mut mass[l], &mut term[l], ri, ui, li);
            }
            for (o, &ui) in r.iter_mut().zip(u) {
                *o = flush(flush(*o) * ui);
            }
        }
        // Strided columns: the same lanes in the same order.
        _ => {
            for (i, ((o, &ui), &li)) in r.iter_mut().zip(u.iter()).zip(ln_u.iter()).enumerate() {
                let l = i % LANES;
                add_one(&mut mass[l], &mut term[l], *o, ui, li);
                *o = flush(flush(*o) * ui);
            }
        }
    }
    let sum_t = |a: &[T; LANES]| ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    let sum_f =
        |a: &[f64; LANES]| ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    (sum_t(&mass), sum_f(&term))
}

/// 0 in place of a subnormal (or negative) value: below the smallest normal
/// number (`min_positive_value`, which is not the smallest subnormal).
#[inline(always)]
fn flush<T: Scalar>(v: T) -> T {
    if v < T::min_positive_value() {
        T::zero()
    } else {
        v
    }
}

/// One entry of [`weigh_by_u`]'s sums: `r` into `mass`, `r (ln u − u)` into
/// `term`, a subnormal `r` counting as 0.
#[inline(always)]
fn add_one<T: Scalar>(mass: &mut T, term: &mut f64, r: T, u: T, ln_u: T) {
    let r = flush(r);
    *mass += r;
    // `ln u` is −∞ where `u` is 0 (a row infinitely far): the lowest finite
    // value instead keeps `0 · (ln u − u)` at 0 without a branch, which would
    // keep this loop from vectorizing.
    let g = Float::max(ln_u - u, T::min_value());
    *term += r.as_f64() * g.as_f64();
}

/// A Student-t M-step's components, for the degeneracy repair: the scale
/// part as a Gaussian's, and the degrees of freedom.
struct StudentParts<'e, T: Scalar> {
    scale: ScaleParts<'e, T>,
    dof: Vec<T>,
}

impl<T: Scalar> RepairParts<T> for StudentParts<'_, T> {
    type Model = StudentTMixtureModel<T>;

    fn remove(&mut self, c: usize) {
        self.scale.remove(c);
        self.dof.remove(c);
    }

    fn reseed(&mut self, c: usize, row: &[T]) {
        self.scale.reseed(c, row);
    }

    fn build(&self, weights: Vec<T>) -> Result<Self::Model, BuildError> {
        let t = StudentT::from_scale(self.scale.gaussian()?, self.dof.clone())
            .map_err(|e| BuildError::Fatal(e.into()))?;
        Mixture::new(weights, t).map_err(|e| BuildError::Fatal(e.into()))
    }
}

impl<T: Scalar> Engine for StudentEngine<'_, T> {
    type State = StudentTMixtureModel<T>;

    /// The weighted Gaussian update from the initialization's
    /// responsibilities (every `u = 1`), with the initial degrees of freedom.
    fn init(&self, cx: &mut Restart) -> Result<Self::State, FitError> {
        let mean = &self.summary().mean;
        let (k, d) = (self.k, mean.len());
        let st = self
            .rows
            .initial(self.p.control.init, k, mean, self.full, &mut cx.rng)?;
        let shifts = faer::Mat::from_fn(k, d, |_, j| mean[j]);
        let (st, worst) = st.finished();
        let mass = st.nk.clone();
        let model = self.m_step(&st, worst, &mass, &shifts, self.initial_dof(), cx)?;
        match self.rows.memory() {
            Some(data) => noise::start(model, self.p.control.noise.as_ref(), data),
            None => Ok(model),
        }
    }

    fn step(&self, model: &Self::State, cx: &mut Restart) -> Result<(f64, Self::State), FitError> {
        let shifts = model.components().means().to_owned();
        let e = EStep::StudentT(model);
        let (st, total) = match self.rows.memory() {
            Some(data) => {
                let kept = trim::step_weights(model, data, self.p.control.trim)?;
                (self.rows.e_step(e, self.full, kept.as_deref())?, kept.total)
            }
            None => (
                self.rows.e_step(e, self.full, None)?,
                self.rows.total_weight(),
            ),
        };
        let ll = st.log_likelihood() / total;
        let (st, worst) = st.finished();
        let dof = self.update_dof(model, &st);
        let next = self.m_step(&st, worst, &st.mass, &shifts, dof, cx)?;
        let next = noise::carry(next, model, st.noise, total)?;
        Ok((ll, next))
    }

    fn objective(&self, model: &Self::State) -> Result<f64, FitError> {
        match self.rows.memory() {
            Some(data) => trim::objective(model, data, self.p.control.trim),
            None => {
                let st = self.rows.e_step(EStep::StudentT(model), false, None)?;
                final_log_likelihood(st.log_likelihood() / self.rows.total_weight())
            }
        }
    }

    fn n_parameters(&self, model: &Self::State) -> usize {
        let (k, d) = (model.n_components(), model.dim());
        let dof = match self.p.dof {
            DegreesOfFreedom::PerComponent => k,
            DegreesOfFreedom::Shared => 1,
            DegreesOfFreedom::Fixed(_) => 0,
        };
        CovarianceConstraint::<T>::n_free_parameters(&self.p.covariance, k, d)
            + k * d
            + model.n_columns()
            - 1
            + dof
    }

    fn structure(&self) -> String {
        ModelSpec::student_t(self.p.covariance).to_string()
    }

    fn total_weight(&self) -> f64 {
        match self.rows.memory() {
            Some(data) => trim::kept_total(data, self.p.control.trim),
            None => self.rows.total_weight(),
        }
    }
}
