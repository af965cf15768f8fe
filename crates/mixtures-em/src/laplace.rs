//! Laplace mixtures by EM. The M-step is exact maximum likelihood: each location
//! is a weighted median and each scale the weighted mean absolute deviation
//! about it. The columns are sorted once per fit, so a weighted median costs one
//! pass in sorted order per component and dimension.

use core::marker::PhantomData;

use faer::Mat;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::source::RowSource;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Laplace, LaplaceMixtureModel, LaplaceScales, Mixture, ModelError};
use num_traits::Float;
use rayon::prelude::*;

use crate::EmControl;
use crate::common::{Summary, check_rows_of, final_log_likelihood, row_of, summarize, without_row};
use crate::engine::{Engine, Restart, run};
use crate::init::{initial_centers, initial_responsibilities, nearest_one_hot};
use crate::medians::{laplace_step, medians};
use crate::noise;
use crate::repair::{BuildError, Components as RepairParts, Site, repair};
use crate::report::Fitted;
use crate::rows::{Batched, DEFAULT_SAMPLE_ROWS, Rows};
use crate::trim;
use crate::{Covariance, Family, FitError, ModelSpec};

/// Entry point for fitting Laplace mixtures: `LaplaceMixture::params(k).fit(&data)`.
#[derive(Debug, Clone, Copy)]
pub struct LaplaceMixture;

impl LaplaceMixture {
    /// Parameters for `k` components: a scale per dimension, scale floor 1e-6,
    /// and the same defaults as [`crate::GaussianMixture::params`] otherwise.
    pub fn params<T: Scalar>(k: usize) -> LaplaceParams<T> {
        LaplaceParams {
            k,
            structure: Covariance::Diag,
            scale_floor: 1e-6,
            control: EmControl::default(),
            _t: PhantomData,
        }
    }
}

/// Parameters of a Laplace mixture fit.
#[derive(Debug, Clone)]
pub struct LaplaceParams<T: Scalar> {
    k: usize,
    structure: Covariance,
    scale_floor: f64,
    control: EmControl,
    _t: PhantomData<T>,
}

/// Effective number of points below which a component counts as collapsed,
/// relative to the total weight.
const COLLAPSE_REL: f64 = 1e-8;

impl<T: Scalar> LaplaceParams<T> {
    crate::em_control_builder!();

    /// The scale structure: [`Covariance::Diag`] (a scale per component and
    /// dimension, the default) or [`Covariance::Spherical`] (one scale per
    /// component); others are refused when fitting.
    #[must_use]
    pub fn structure(mut self, s: Covariance) -> Self {
        self.structure = s;
        self
    }

    /// Smallest scale allowed (default 1e-6): duplicated points would otherwise
    /// give a zero mean absolute deviation.
    #[must_use]
    pub fn scale_floor(mut self, f: f64) -> Self {
        self.scale_floor = f;
        self
    }

    /// Checks every parameter: the EM settings, the structure (diag or
    /// spherical) and the scale floor.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] or [`FitError::Model`] naming the first
    /// parameter out of range.
    pub fn check(&self) -> Result<(), FitError> {
        self.control.check()?;
        ModelSpec::new(Family::Laplace, self.structure)?;
        // The log-density takes ln(2b) in T: a floor whose double overflows T
        // would make every log-density −∞.
        if !(self.scale_floor >= 0.0 && T::c(2.0 * self.scale_floor).is_finite()) {
            return Err(FitError::InvalidParameter {
                name: "scale_floor",
                value: self.scale_floor.into(),
                reason: "must be >= 0 and twice it finite in the fit's precision",
            });
        }
        Ok(())
    }

    /// Fits a mixture of `k` Laplace components.
    ///
    /// # Errors
    /// As [`crate::GaussianParams::fit`].
    pub fn fit(&self, data: &Dataset<T>) -> Result<Fitted<LaplaceMixtureModel<T>>, FitError> {
        self.check()?;
        check_rows(data.n_samples())?;
        self.fit_rows(Rows::Memory(data), None)
    }

    /// Fits to rows read in batches (out-of-core), from `start` when given.
    /// Each iteration reads the rows two or three times: the weighted
    /// medians are found exactly by narrowing brackets (see
    /// `docs/out-of-core.md`). A [`Dataset`] source is fitted in memory.
    ///
    /// # Errors
    /// As [`crate::GaussianParams::fit_source`].
    pub fn fit_source(
        &self,
        source: &dyn RowSource<T>,
        start: Option<&LaplaceMixtureModel<T>>,
    ) -> Result<Fitted<LaplaceMixtureModel<T>>, FitError> {
        if let Some(m) = start {
            FitError::check_warm_start(m.dim(), source.n_features())?;
        }
        self.check()?;
        if let Some(data) = source.as_dataset() {
            check_rows(data.n_samples())?;
            return self.fit_rows(Rows::Memory(data), start);
        }
        let batched = Batched::new(source);
        let rows = Rows::scan(&batched, DEFAULT_SAMPLE_ROWS, self.control.seed)?;
        self.fit_rows(rows, start)
    }

    fn fit_rows(
        &self,
        rows: Rows<'_, T>,
        start: Option<&LaplaceMixtureModel<T>>,
    ) -> Result<Fitted<LaplaceMixtureModel<T>>, FitError> {
        let k = start.map_or(self.k, |m| m.n_components());
        check_rows_of(&rows, k, &self.control, false)?;
        run(&LaplaceEngine::new(self, rows, k)?, &self.control, start)
    }

    /// Fits to data with missing values: exact EM for the observed-data
    /// likelihood (a Laplace component's features are independent, so a
    /// row's density is its observed features' product, and each location
    /// and scale is the weighted median and mean absolute deviation of the
    /// rows where that feature is observed). Without a missing cell, exactly
    /// [`LaplaceParams::fit`].
    ///
    /// # Errors
    /// As [`LaplaceParams::fit`]; [`FitError::MissingValues`] for trimming
    /// or a noise component; [`mixtures_core::DataError::NeverObserved`].
    pub fn fit_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<Fitted<LaplaceMixtureModel<T>>, FitError> {
        self.check()?;
        if data.n_missing() == 0 {
            if let Some((complete, _)) = data.complete_rows() {
                check_rows(complete.n_samples())?;
                return self.fit_rows(Rows::Memory(&complete), None);
            }
        }
        data.check_every_column_observed()?;
        check_rows(data.n_samples())?;
        self.fit_rows(Rows::incomplete(data), None)
    }

    /// Fits starting from `model` (warm start).
    ///
    /// # Errors
    /// [`FitError::WarmStartDimension`], or as [`LaplaceParams::fit`].
    pub fn fit_from(
        &self,
        model: &LaplaceMixtureModel<T>,
        data: &Dataset<T>,
    ) -> Result<Fitted<LaplaceMixtureModel<T>>, FitError> {
        FitError::check_warm_start(model.dim(), data.n_features())?;
        self.check()?;
        check_rows(data.n_samples())?;
        self.fit_rows(Rows::Memory(data), Some(model))
    }

    /// [`LaplaceParams::fit_incomplete`] from `model` (a warm start).
    ///
    /// # Errors
    /// [`FitError::WarmStartDimension`], or as
    /// [`LaplaceParams::fit_incomplete`].
    pub fn fit_incomplete_from(
        &self,
        model: &LaplaceMixtureModel<T>,
        data: &IncompleteDataset<T>,
    ) -> Result<Fitted<LaplaceMixtureModel<T>>, FitError> {
        FitError::check_warm_start(model.dim(), data.n_features())?;
        self.check()?;
        data.check_every_column_observed()?;
        check_rows(data.n_samples())?;
        self.fit_rows(Rows::incomplete(data), Some(model))
    }
}

struct LaplaceEngine<'a, T: Scalar> {
    p: &'a LaplaceParams<T>,
    rows: Rows<'a, T>,
    k: usize,
    /// Row indices of each column in increasing order of value (in memory;
    /// empty for rows read in batches); with missing values, of the rows
    /// where the column is observed.
    order: Vec<Vec<u32>>,
    summary: Summary<T>,
}

/// The engine sorts each column once and keeps the order as 32-bit row
/// indices (half the memory of `usize`): more rows than that cannot be
/// indexed, and are refused rather than wrapped around.
fn check_rows(n_samples: usize) -> Result<(), FitError> {
    if u32::try_from(n_samples).is_err() {
        return Err(FitError::InvalidParameter {
            name: "rows",
            value: n_samples.into(),
            reason: "a Laplace fit indexes rows with 32 bits: at most 4294967295 rows",
        });
    }
    Ok(())
}

impl<'a, T: Scalar> LaplaceEngine<'a, T> {
    fn new(p: &'a LaplaceParams<T>, rows: Rows<'a, T>, k: usize) -> Result<Self, FitError> {
        if let Some(inc) = rows.incomplete_data() {
            let filled = rows.reseed_rows();
            let order = (0..inc.n_features())
                .into_par_iter()
                .map(|j| {
                    let col = filled.column(j);
                    let mut idx: Vec<u32> = (0..col.len() as u32)
                        .filter(|&i| inc.value(i as usize, j).is_some())
                        .collect();
                    idx.sort_by(|&a, &b| {
                        col[a as usize]
                            .partial_cmp(&col[b as usize])
                            .unwrap_or(core::cmp::Ordering::Equal)
                    });
                    idx
                })
                .collect();
            let summary = summarize(filled, false);
            return Ok(Self {
                p,
                rows,
                k,
                order,
                summary,
            });
        }
        let Some(data) = rows.memory() else {
            let summary = rows.summary(false)?;
            return Ok(Self {
                p,
                rows,
                k,
                order: Vec::new(),
                summary,
            });
        };
        let order = (0..data.n_features())
            .into_par_iter()
            .map(|j| {
                let col = data.column(j);
                let mut idx: Vec<u32> = (0..col.len() as u32).collect();
                idx.sort_by(|&a, &b| {
                    col[a as usize]
                        .partial_cmp(&col[b as usize])
                        .unwrap_or(core::cmp::Ordering::Equal)
                });
                idx
            })
            .collect();
        Ok(Self {
            p,
            rows,
            k,
            order,
            summary: summarize(data, false),
        })
    }

    /// M-step from weighted responsibilities (`n x K`, already multiplied by the
    /// sample weights) of the rows in memory.
    fn m_step(
        &self,
        data: &Dataset<T>,
        r: &Mat<T>,
        worst: usize,
        cx: &mut Restart,
    ) -> Result<LaplaceMixtureModel<T>, FitError> {
        let (k, d) = (r.ncols(), data.n_features());
        let observed_only = self.rows.incomplete_data().is_some();
        let nk: Vec<T> = (0..k)
            .map(|c| r.col_as_slice(c).iter().copied().sum())
            .collect();
        // (median, Σ r |x − median|) for every (component, dimension).
        let cells: Vec<(T, T)> = (0..k * d)
            .into_par_iter()
            .map(|cj| {
                let (c, j) = (cj / d, cj % d);
                let (rc, col) = (r.col_as_slice(c), data.column(j));
                let half = if observed_only {
                    self.order[j].iter().map(|&i| rc[i as usize]).sum::<T>() * T::c(0.5)
                } else {
                    nk[c] * T::c(0.5)
                };
                let mut acc = T::zero();
                let mut med = col[self.order[j][0] as usize];
                for &i in &self.order[j] {
                    acc += rc[i as usize];
                    med = col[i as usize];
                    if acc >= half && acc > T::zero() {
                        break;
                    }
                }
                let dev = if observed_only {
                    self.order[j]
                        .iter()
                        .map(|&i| rc[i as usize] * Float::abs(col[i as usize] - med))
                        .sum()
                } else {
                    rc.iter()
                        .zip(col)
                        .map(|(&ri, &x)| ri * Float::abs(x - med))
                        .sum()
                };
                (med, dev)
            })
            .collect();
        // With missing values each (component, feature) has its own mass:
        // the responsibilities of the rows where the feature is observed.
        let masses: Option<Vec<T>> = observed_only.then(|| {
            (0..k * d)
                .map(|cj| {
                    let rc = r.col_as_slice(cj / d);
                    self.order[cj % d].iter().map(|&i| rc[i as usize]).sum()
                })
                .collect()
        });
        self.m_step_cells(nk, &cells, masses.as_deref(), row_of(data, worst), cx)
    }

    /// M-step from the components' weights `Σ r`, and the `(median,
    /// Σ r |x − median|)` of every (component, feature).
    /// `masses` (`K x D`, row-major) when each (component, feature) has its
    /// own mass (missing values); the components' weights otherwise.
    fn m_step_cells(
        &self,
        nk: Vec<T>,
        cells: &[(T, T)],
        masses: Option<&[T]>,
        worst: Option<Vec<T>>,
        cx: &mut Restart,
    ) -> Result<LaplaceMixtureModel<T>, FitError> {
        let (k, d) = (nk.len(), self.rows.n_features());
        let guard = T::c(10.0) * T::epsilon();
        let floor = T::c(self.p.scale_floor);
        let loc = Mat::from_fn(k, d, |c, j| cells[c * d + j].0);
        let scales = match self.p.structure {
            Covariance::Diag => LaplaceScales::PerDimension(Mat::from_fn(k, d, |c, j| {
                let mass = masses.map_or(nk[c], |m| m[c * d + j]);
                Float::max(cells[c * d + j].1 / (mass + guard), floor)
            })),
            _ => LaplaceScales::Spherical(
                (0..k)
                    .map(|c| {
                        let s: T = (0..d).map(|j| cells[c * d + j].1).sum();
                        let mass = match masses {
                            Some(m) => m[c * d..(c + 1) * d].iter().copied().sum(),
                            None => nk[c] * T::from_usize(d),
                        };
                        Float::max(s / (mass + guard), floor)
                    })
                    .collect(),
            ),
        };
        let total: T = nk.iter().map(|&v| v + guard).sum();
        let weights: Vec<T> = nk.iter().map(|&v| (v + guard) / total).collect();
        let collapsed: Vec<(usize, f64)> = (0..k)
            .filter(|&c| nk[c].as_f64() < COLLAPSE_REL * self.rows.total_weight())
            .map(|c| (c, nk[c].as_f64()))
            .collect();
        let parts = LaplaceParts {
            loc,
            scales,
            engine: self,
        };
        let site = Site {
            data: self.rows.reseed_rows(),
            policy: self.p.control.policy,
            cx,
        };
        repair(parts, weights, &collapsed, worst, site)
    }

    /// The scale of a re-seeded component along feature `j`: a broad
    /// Laplace, of variance `2b²` equal to the data variance shrunk by
    /// `K^(2/D)`.
    fn fallback_scale(&self, j: usize) -> T {
        let d = self.rows.n_features() as f64;
        let fac = (1.0 / self.k as f64).powf(2.0 / d);
        T::c(
            (self.summary.var[j].as_f64() * fac / 2.0)
                .sqrt()
                .max(self.p.scale_floor.max(1e-300)),
        )
    }
}

/// The E-step on rows with missing values: `Σ w ln p(x_o)`, the
/// responsibilities times the row weights, and the least likely row.
fn incomplete_e_step<T: Scalar>(
    model: &LaplaceMixtureModel<T>,
    data: &IncompleteDataset<T>,
) -> Result<(f64, Mat<T>, usize), FitError> {
    let w = model
        .weighted_log_prob_incomplete(data)
        .map_err(|e| FitError::Degenerate {
            reason: e.to_string(),
        })?;
    let n = data.n_samples();
    // Responsibilities through the kernel of every E-step (the mixing weights
    // where every density underflows).
    let mut r = w;
    let (mut lse, mut mx, mut sum) = (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
    mixtures_core::kernels::softmax_rows(r.as_mut(), &mut lse, &mut mx, &mut sum, model.weights());
    let weight = |i: usize| data.weights().map_or(1.0, |w| w[i].as_f64());
    let mut ll = 0.0;
    let mut worst = (f64::INFINITY, usize::MAX);
    for (i, l) in lse.iter().enumerate() {
        if weight(i) > 0.0 {
            ll += weight(i) * l.as_f64();
            if l.as_f64() < worst.0 {
                worst = (l.as_f64(), i);
            }
        }
    }
    Ok((ll, weighted(r, data.weights()), worst.1))
}

/// Responsibilities multiplied by the row weights.
fn weighted<T: Scalar>(mut r: Mat<T>, weights: Option<&[T]>) -> Mat<T> {
    if let Some(w) = weights {
        for c in 0..r.ncols() {
            for (o, &wi) in r.col_as_slice_mut(c).iter_mut().zip(w) {
                *o *= wi;
            }
        }
    }
    r
}

/// A Laplace M-step's components, for the degeneracy repair.
struct LaplaceParts<'e, 'a, T: Scalar> {
    loc: Mat<T>,
    scales: LaplaceScales<T>,
    engine: &'e LaplaceEngine<'a, T>,
}

impl<T: Scalar> RepairParts<T> for LaplaceParts<'_, '_, T> {
    type Model = LaplaceMixtureModel<T>;

    fn remove(&mut self, c: usize) {
        self.loc = without_row(&self.loc, c);
        match &mut self.scales {
            LaplaceScales::PerDimension(b) => *b = without_row(b, c),
            LaplaceScales::Spherical(b) => {
                b.remove(c);
            }
        }
    }

    fn reseed(&mut self, c: usize, row: &[T]) {
        let d = row.len();
        for (j, v) in row.iter().enumerate() {
            self.loc[(c, j)] = *v;
        }
        match &mut self.scales {
            LaplaceScales::PerDimension(s) => {
                for j in 0..d {
                    s[(c, j)] = self.engine.fallback_scale(j);
                }
            }
            LaplaceScales::Spherical(s) => {
                s[c] = (0..d).map(|j| self.engine.fallback_scale(j)).sum::<T>() / T::from_usize(d);
            }
        }
    }

    fn build(&self, weights: Vec<T>) -> Result<Self::Model, BuildError> {
        match Laplace::new(self.loc.clone(), self.scales.clone()) {
            Ok(l) => Mixture::new(weights, l).map_err(|e| BuildError::Fatal(e.into())),
            Err(ModelError::InvalidScale { component, .. }) => {
                Err(BuildError::Component(component, "scale is zero".into()))
            }
            Err(e) => Err(BuildError::Fatal(e.into())),
        }
    }
}

impl<T: Scalar> Engine for LaplaceEngine<'_, T> {
    type State = LaplaceMixtureModel<T>;

    fn init(&self, cx: &mut Restart) -> Result<Self::State, FitError> {
        if self.rows.incomplete_data().is_some() {
            // The start only: k-means on the rows with their gaps filled.
            let filled = self.rows.reseed_rows();
            let r = weighted(
                initial_responsibilities(self.p.control.init, filled, self.k, &mut cx.rng),
                filled.weights(),
            );
            return self.m_step(filled, &r, usize::MAX, cx);
        }
        let Some(data) = self.rows.memory() else {
            // Out of core: the centres of the sample's start, every row
            // assigned to the nearest, and the medians of those groups.
            let sample = self.rows.reseed_rows();
            let centers = initial_centers(self.p.control.init, sample, self.k, &mut cx.rng).ok_or(
                FitError::NeedsRowsInMemory {
                    what: "random initial responsibilities",
                },
            )?;
            let centre = Mat::from_fn(centers.len(), sample.n_features(), |c, j| centers[c][j]);
            let st = medians(&self.rows, &centre, &|b| {
                Ok((
                    vec![T::zero(); b.rows.nrows()],
                    nearest_one_hot(b.rows, &centers),
                ))
            })?;
            return self.m_step_cells(st.nk, &st.cells, None, None, cx);
        };
        let r = weighted(
            initial_responsibilities(self.p.control.init, data, self.k, &mut cx.rng),
            data.weights(),
        );
        let model = self.m_step(data, &r, usize::MAX, cx)?;
        noise::start(model, self.p.control.noise.as_ref(), data)
    }

    fn step(&self, model: &Self::State, cx: &mut Restart) -> Result<(f64, Self::State), FitError> {
        if let Some(inc) = self.rows.incomplete_data() {
            let (ll, r, worst) = incomplete_e_step(model, inc)?;
            let next = self.m_step(self.rows.reseed_rows(), &r, worst, cx)?;
            return Ok((ll / inc.total_weight(), next));
        }
        let Some(data) = self.rows.memory() else {
            let st = laplace_step(&self.rows, model)?;
            let total = self.rows.total_weight();
            let next = self.m_step_cells(st.nk, &st.cells, None, st.worst, cx)?;
            let next = noise::carry(next, model, st.noise, total)?;
            return Ok((st.ll / total, next));
        };
        let kept = trim::step_weights(model, data, self.p.control.trim)?;
        let (lp, r) = model.log_prob_and_responsibilities(data)?;
        let weights = kept.as_deref();
        let w = |i: usize| weights.map_or(1.0, |w| w[i].as_f64());
        let mut ll = 0.0;
        let mut worst = (f64::INFINITY, usize::MAX);
        for (i, l) in lp.iter().enumerate() {
            if w(i) > 0.0 {
                ll += w(i) * l.as_f64();
                if l.as_f64() < worst.0 {
                    worst = (l.as_f64(), i);
                }
            }
        }
        let mut r = weighted(r, weights);
        // A noise component's column is last: its sum is its weight's share.
        let k = model.n_components();
        let noise_mass: f64 = if r.ncols() > k {
            r.col(k).iter().map(|v| v.as_f64()).sum()
        } else {
            0.0
        };
        r.truncate(r.nrows(), k);
        let next = self.m_step(data, &r, worst.1, cx)?;
        let next = noise::carry(next, model, noise_mass, kept.total)?;
        Ok((ll / kept.total, next))
    }

    fn objective(&self, model: &Self::State) -> Result<f64, FitError> {
        if let Some(inc) = self.rows.incomplete_data() {
            let (ll, _, _) = incomplete_e_step(model, inc)?;
            return final_log_likelihood(ll / inc.total_weight());
        }
        let Some(data) = self.rows.memory() else {
            let mut ll = 0.0;
            self.rows.for_each_batch(&mut |b| {
                let lp = model.log_prob(&Dataset::from_mat(b.rows)?)?;
                ll += lp
                    .iter()
                    .enumerate()
                    .map(|(i, l)| b.weights.map_or(1.0, |w| w[i].as_f64()) * l.as_f64())
                    .sum::<f64>();
                Ok(())
            })?;
            return final_log_likelihood(ll / self.rows.total_weight());
        };
        trim::objective(model, data, self.p.control.trim)
    }

    fn n_parameters(&self, model: &Self::State) -> usize {
        let (k, d) = (model.n_components(), model.dim());
        k * d + self.p.structure.n_free_parameters(k, d) + model.n_columns() - 1
    }

    fn structure(&self) -> String {
        ModelSpec::new(Family::Laplace, self.p.structure)
            .map_or_else(|_| self.p.structure.to_string(), |s| s.to_string())
    }

    fn total_weight(&self) -> f64 {
        match self.rows.memory() {
            Some(data) => trim::kept_total(data, self.p.control.trim),
            None => self.rows.total_weight(),
        }
    }
}
