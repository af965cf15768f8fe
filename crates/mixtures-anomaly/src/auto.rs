//! The default model step of a detector: a Gaussian mixture chosen on the
//! training data without hand tuning ([`AutoFitter`], behind
//! [`crate::Detector::auto`]).
//!
//! # The rule
//!
//! 1. **Units do not matter.** Every feature is centred and divided by its
//!    standard deviation (weighted by the sample weights; a constant feature is
//!    only centred) before fitting, and the chosen model is mapped back to the
//!    data's units at the end. Rescaling or shifting a feature therefore
//!    shifts every score by the same constant and leaves the ranking alone.
//! 2. **Candidates share one covariance.** A [`mixtures_select::Grid`] fits
//!    `k` ∈ [`DEFAULT_COMPONENTS`] = {1, 2, 3, 4, 6, 8, 12, 16, 24} components
//!    under a covariance shared by all components, full (`tied`, mclust's
//!    `EEE`) or diagonal (`tied-diag`, `EEI`), with a ridge of
//!    [`DEFAULT_RELATIVE_RIDGE`] = 0.1, i.e. a tenth of each feature's
//!    variance. A shared covariance is estimated from all rows at once, so a
//!    small group of points cannot shrink it onto themselves: no component can
//!    become the tight, high-density home of a cluster of anomalies, as a
//!    component with a covariance of its own can (with per-component
//!    covariances, scikit-learn's `GaussianMixture(5)` scores many of cardio's
//!    anomalies as normal; docs/benchmarks.md has the figures). The
//!    ridge serves the same end and keeps the density smooth along directions
//!    of tiny variance (discrete features, duplicated rows), where a
//!    likelihood-maximizing fit would spike.
//! 3. **Full covariance needs rows.** The shared full covariance is compared
//!    only with at least [`FULL_COVARIANCE_ROWS_PER_FEATURE`] = 25 rows per
//!    feature. It has `d (d + 1) / 2` parameters; with fewer rows it is mostly
//!    ridge, and its cost, `n d²` per EM iteration against `n d` for the
//!    diagonal one, buys nothing. Arrhythmia (452 rows, 274 features) is
//!    fitted with the diagonal one only.
//! 4. **BIC chooses** the number of components and the structure among the
//!    cells that could be fitted ([`mixtures_select::Criterion::Bic`]; the table
//!    is kept in [`AutoSelection::selection`]). On data of a few thousand rows
//!    it often wants the largest `k`: many narrow components trace the shape
//!    of the data, and step 5 keeps the dense ones.
//! 5. **Small components are dropped.** Components of the chosen model with a
//!    weight below [`DEFAULT_MIN_WEIGHT`] = 0.1 are removed and the remaining
//!    weights renormalized (the heaviest component always stays). A component
//!    that explains less than a tenth of the training data is where a group of
//!    anomalies (commonly 1–10 % of contaminated data) ends up when it is
//!    compact enough to earn a mean of its own; without that component its
//!    points are scored by their distance to the bulk of the data, which is
//!    what makes them anomalous. The price: a genuine small normal cluster, and
//!    the sparse fringes of the data, score as unusual too. Lower the floor
//!    (`min_weight(0.0)` keeps everything) when small clusters are known to be
//!    normal.
//!
//! # How it was chosen, and how well it does
//!
//! The constants were chosen on the ODDS data sets under ADBench's
//! unsupervised protocol, against ADBench's IForest and scikit-learn's
//! `GaussianMixture`, so they are tuned to those data sets to that extent.
//! Rules that compared richer candidates by likelihood (per-component full,
//! diagonal and spherical covariances) chose models that also fitted the
//! anomalies. `cargo run --release --example adbench` at the workspace root
//! prints the comparison; docs/benchmarks.md keeps its figures.
//!
//! The cost is that of one EM fit per cell of the grid (up to 18: nine `k`,
//! two structures), run in parallel. On more than [`DEFAULT_SEARCH_ROWS`]
//! rows the cells are fitted on a seeded sample of that many rows and only
//! the chosen one is refitted on every row, from its fit on the sample
//! ([`AutoFitter::search_rows`], [`mixtures_select::Grid::search_rows`]).

use core::marker::PhantomData;

use faer::Mat;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::ModelSpec;
use mixtures_dist::{Covariances, Gaussian, GaussianMixtureModel, Mixture};
use mixtures_em::{Covariance, EmControl, FitError, Fitted};
use mixtures_select::{Criterion, DEFAULT_SEARCH_ROWS, Grid, SelectError, Selection};

use crate::{AnomalyError, ModelChoice, ModelFit, ModelFitter};

/// Components below this weight are dropped from the chosen model.
pub const DEFAULT_MIN_WEIGHT: f64 = 0.1;

/// Ridge added to the covariance in standardized units (a fraction of each
/// feature's variance).
pub const DEFAULT_RELATIVE_RIDGE: f64 = 0.1;

/// Rows per feature below which structures with a full `d × d` covariance
/// matrix (shared or not) are left out of the comparison.
pub const FULL_COVARIANCE_ROWS_PER_FEATURE: usize = 25;

/// Numbers of components tried.
pub const DEFAULT_COMPONENTS: [usize; 9] = [1, 2, 3, 4, 6, 8, 12, 16, 24];

/// The default model step: a grid of Gaussian mixtures on standardized data,
/// chosen by a criterion, with its small components dropped (see the [module
/// documentation](self) for the rule and why).
///
/// ```
/// use mixtures_anomaly::{AutoFitter, Detector, roc_auc};
/// use mixtures_core::Dataset;
///
/// // Two elongated clusters of normal points, and a tight group of 12
/// // anomalies between them.
/// let mut rows = Vec::new();
/// let mut labels = Vec::new();
/// for i in 0..600 {
///     let t = (i as f64 * 0.618).fract() - 0.5;
///     let u = (i as f64 * 0.377).fract() - 0.5;
///     let centre = if i % 2 == 0 { -10.0 } else { 10.0 };
///     rows.push([centre + 6.0 * t, 2.0 * u]);
///     labels.push(0u8);
/// }
/// for i in 0..12 {
///     rows.push([0.01 * i as f64, 8.0 + 0.01 * i as f64]);
///     labels.push(1);
/// }
/// let data = Dataset::from_rows(&rows)?;
///
/// let selection = AutoFitter::new().select(&data)?;
/// println!("{}", selection.selection); // the grid's table
/// let fit = Detector::auto().fit(&data)?;
/// let scores = fit.detector.score(&data)?;
/// assert!(roc_auc(&scores, &labels)? > 0.99);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AutoFitter<T: Scalar> {
    ks: Vec<usize>,
    /// `components` was given more than `MAX_GRID_KS` values (refused by
    /// `check`).
    too_many_ks: bool,
    structures: Vec<Covariance>,
    criterion: Criterion,
    min_weight: f64,
    /// The EM settings of every cell; `reg_covar` is the relative ridge.
    control: EmControl,
    /// Rows the grid's cells are fitted on at most
    /// ([`mixtures_select::Grid::search_rows`]).
    search_rows: Option<usize>,
    _t: PhantomData<T>,
}

impl<T: Scalar> Default for AutoFitter<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`AutoFitter::select`] chose, and from what.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoSelection<T: Scalar> {
    /// The model in the data's units, small components dropped.
    pub model: GaussianMixtureModel<T>,
    /// The grid on the standardized data: every cell and its criteria, and the
    /// chosen one (its model is in standardized units and still has every
    /// component).
    pub selection: Selection<T>,
    /// Weights (in the chosen fit) of the components that were dropped.
    pub dropped_weights: Vec<f64>,
}

impl<T: Scalar> AutoSelection<T> {
    /// Number of components chosen by the criterion, before dropping.
    pub fn chosen_components(&self) -> usize {
        self.selection.best_cell().k
    }

    /// The covariance structure chosen.
    pub fn chosen_structure(&self) -> ModelSpec {
        self.selection.best_cell().structure
    }
}

impl<T: Scalar> AutoFitter<T> {
    /// The default rule: `k` in [`DEFAULT_COMPONENTS`] under a shared
    /// covariance, ridge 0.1 of each feature's variance, BIC, components
    /// below weight 0.1 dropped, one k-means start per cell, seed 0, the grid
    /// searched on at most [`DEFAULT_SEARCH_ROWS`] rows.
    pub fn new() -> Self {
        Self {
            ks: DEFAULT_COMPONENTS.to_vec(),
            too_many_ks: false,
            structures: vec![Covariance::Tied, Covariance::TiedDiag],
            criterion: Criterion::Bic,
            min_weight: DEFAULT_MIN_WEIGHT,
            control: EmControl::default().reg_covar(DEFAULT_RELATIVE_RIDGE),
            search_rows: Some(DEFAULT_SEARCH_ROWS),
            _t: PhantomData,
        }
    }

    /// The numbers of components tried (replacing the default; each at least
    /// 1; those above the number of distinct rows are left out).
    #[must_use]
    ///
    /// At most [`mixtures_select::MAX_GRID_KS`] values are read; a longer
    /// list (an unbounded range) is refused by [`AutoFitter::check`].
    pub fn components(mut self, ks: impl IntoIterator<Item = usize>) -> Self {
        let (ks, too_many) = mixtures_select::collect_ks(ks);
        self.ks = ks;
        self.too_many_ks = too_many;
        self
    }

    /// The covariance structures compared (replacing the shared covariance).
    #[must_use]
    pub fn structures(mut self, s: impl IntoIterator<Item = Covariance>) -> Self {
        self.structures = s.into_iter().collect();
        self
    }

    /// The criterion that ranks the cells (default BIC).
    #[must_use]
    pub fn criterion(mut self, c: Criterion) -> Self {
        self.criterion = c;
        self
    }

    /// Ridge added to the covariances of the standardized data, i.e. as a
    /// fraction of each feature's variance (default 0.1; must be finite and
    /// `>= 0`).
    /// The same setting as `reg_covar`, named for what it means here.
    #[must_use]
    pub fn relative_ridge(mut self, r: f64) -> Self {
        self.control.reg_covar = r;
        self
    }

    /// Rows the grid's cells are fitted on at most before the chosen cell is
    /// refitted on every row from its fit there
    /// ([`mixtures_select::Grid::search_rows`]; default
    /// [`DEFAULT_SEARCH_ROWS`]; `None` fits every cell on every row; must
    /// not be `Some(0)`). The default detector fits its parts on at most
    /// [`crate::MAX_FIT_ROWS`] rows, fewer than the default, so this changes
    /// its mixture only when set below that.
    #[must_use]
    pub fn search_rows(mut self, rows: Option<usize>) -> Self {
        self.search_rows = rows;
        self
    }

    /// Components of the chosen model with a smaller weight are dropped
    /// (default 0.1; 0 keeps every component; must lie in `[0, 1)`).
    #[must_use]
    pub fn min_weight(mut self, w: f64) -> Self {
        self.min_weight = w;
        self
    }

    // The EM settings of every cell of the grid (restarts, iterations,
    // tolerance, seed, observer); `reg_covar` is the relative ridge.
    mixtures_em::em_control_builder!();

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] naming the parameter.
    pub fn check(&self) -> Result<(), AnomalyError> {
        let invalid = |name, value: f64, reason| Err(AnomalyError::invalid(name, value, reason));
        if self.too_many_ks {
            return Err(AnomalyError::invalid(
                "components",
                format!("more than {} values", mixtures_select::MAX_GRID_KS),
                "at most 65536 numbers of components (mixtures_select::MAX_GRID_KS), none above the number of rows",
            ));
        }
        if self.ks.is_empty() {
            return invalid("components", 0.0, "give at least one number of components");
        }
        if self.ks.contains(&0) {
            return invalid(
                "components",
                0.0,
                "every number of components must be at least 1",
            );
        }
        if self.structures.is_empty() {
            return invalid("structures", 0.0, "give at least one covariance structure");
        }
        if !(self.control.reg_covar >= 0.0 && self.control.reg_covar.is_finite()) {
            return invalid(
                "relative_ridge",
                self.control.reg_covar,
                "must be finite and >= 0",
            );
        }
        if !(self.min_weight >= 0.0 && self.min_weight < 1.0) {
            return invalid("min_weight", self.min_weight, "must lie in [0, 1)");
        }
        if self.search_rows == Some(0) {
            return invalid(
                "search_rows",
                0.0,
                "must be at least 1 (None fits every cell on every row)",
            );
        }
        self.control
            .check()
            .map_err(|e| e.into_own(AnomalyError::invalid))
    }

    /// Runs the rule on the data: standardize, fit the grid, choose, drop
    /// small components, map back to the data's units.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] before any work;
    /// [`AnomalyError::Select`] when no cell of the grid could be fitted.
    pub fn select(&self, data: &Dataset<T>) -> Result<AutoSelection<T>, AnomalyError> {
        self.check()?;
        let scaling = Scaling::of(data)?;
        let z = scaling.standardize(data)?;
        let structures = self.structures_for(data);
        let selection = self.fit_grid(&z, &self.ks, &structures)?;
        let Some(chosen) = selection.model.as_gaussian() else {
            // Only Gaussian structures are in the grid.
            return Err(AnomalyError::Select(SelectError::NoStructures));
        };
        let (kept, dropped_weights) = drop_small_components(chosen, self.min_weight)?;
        let model = scaling.unstandardize(&kept)?;
        Ok(AutoSelection {
            model,
            selection,
            dropped_weights,
        })
    }

    /// The structures compared on these data: those with a full `d × d`
    /// covariance matrix only when there are at least
    /// [`FULL_COVARIANCE_ROWS_PER_FEATURE`] rows per feature (a covariance
    /// matrix has `d (d + 1) / 2` parameters; with fewer rows it is mostly
    /// ridge, and its cost, `n d²` per EM iteration, buys nothing), unless no
    /// other structure was asked for.
    fn structures_for(&self, data: &Dataset<T>) -> Vec<Covariance> {
        let enough = data.n_samples() >= FULL_COVARIANCE_ROWS_PER_FEATURE * data.n_features();
        let kept: Vec<Covariance> = self
            .structures
            .iter()
            .copied()
            .filter(|c| enough || !matches!(c, Covariance::Full | Covariance::Tied))
            .collect();
        if kept.is_empty() {
            self.structures.clone()
        } else {
            kept
        }
    }

    /// The grid over `ks`, retried without the numbers of components above
    /// the number of distinct rows when there are too few.
    fn fit_grid(
        &self,
        z: &Dataset<T>,
        ks: &[usize],
        structures: &[Covariance],
    ) -> Result<Selection<T>, AnomalyError> {
        let grid = Grid::new(ks.iter().copied())
            .structures(structures.iter().map(|&c| ModelSpec::gaussian(c)))
            .criterion(self.criterion)
            .control(self.control.clone())
            .search_rows(self.search_rows);
        match grid.fit(z) {
            Err(SelectError::TooFewDistinctPoints { distinct, .. })
                if ks.iter().any(|&k| k <= distinct) && ks.iter().any(|&k| k > distinct) =>
            {
                let fewer: Vec<usize> = ks.iter().copied().filter(|&k| k <= distinct).collect();
                self.fit_grid(z, &fewer, structures)
            }
            other => Ok(other?),
        }
    }
}

impl<T: Scalar> ModelFitter<T> for AutoFitter<T> {
    type Model = GaussianMixtureModel<T>;

    fn check(&self) -> Result<(), AnomalyError> {
        AutoFitter::check(self)
    }

    /// [`AutoFitter::select`]; the report is the chosen cell's fit (on the
    /// standardized data; its log-likelihood is in those units), and the
    /// choice is the grid's table with the dropped weights. A robust fit's
    /// later rounds choose again on the rows kept: the number of components
    /// that suits the data without the left-out rows may differ.
    fn fit_model(
        &self,
        data: &Dataset<T>,
    ) -> Result<ModelFit<T, GaussianMixtureModel<T>>, AnomalyError> {
        let s = self.select(data)?;
        Ok(ModelFit {
            fitted: Fitted {
                model: s.model,
                report: s.selection.report.clone(),
            },
            choice: Some(ModelChoice {
                selection: s.selection,
                dropped_weights: s.dropped_weights,
            }),
            training_scores: None,
        })
    }
}

/// Per-feature centring and scaling of the training data.
pub(crate) struct Scaling {
    mean: Vec<f64>,
    sd: Vec<f64>,
}

impl Scaling {
    /// Each feature shifted by its smallest value and divided by its range
    /// (a constant feature only shifted): the units in which the ensemble's
    /// Gaussian is fitted, so that its ridge is a fraction of each feature's
    /// squared range whatever the data's units.
    pub(crate) fn by_range<T: Scalar>(data: &Dataset<T>) -> Result<Self, AnomalyError> {
        let d = data.n_features();
        let smallest_var = 1024.0 * T::min_positive_value().as_f64();
        let mut mean = vec![0.0; d];
        let mut sd = vec![1.0; d];
        for j in 0..d {
            let (lo, hi) = data.column_range(j);
            let range = hi - lo;
            if !range.is_finite() {
                return Err(AnomalyError::invalid(
                    "data",
                    range,
                    "a feature's range overflows f64",
                ));
            }
            mean[j] = lo;
            // The model's variances in the data's units are at least the
            // ridge (1e-6 of the squared range): a range whose ridge `T`
            // cannot hold as a normal number is left unscaled.
            if range * range * mixtures_em::DEFAULT_REG_COVAR > smallest_var {
                sd[j] = range;
            }
        }
        Ok(Self { mean, sd })
    }

    /// Weighted means and standard deviations (1 for a constant feature, so it
    /// is only centred).
    ///
    /// When the plain sums overflow (values near the top of `f64`'s range),
    /// both are computed relative to the column's smallest value and spread
    /// (largest minus smallest) instead. The model mapped back to the data's units holds variances of
    /// the order of the squared spread in `T`: a spread whose square would
    /// overflow `T` is refused ([`FitError::DataScale`], before any fit), and
    /// one whose variance would underflow `T`'s normal range is treated as
    /// constant (its variation cannot be represented in a model of `T`).
    pub(crate) fn of<T: Scalar>(data: &Dataset<T>) -> Result<Self, AnomalyError> {
        let x = data.view();
        let (n, d) = (data.n_samples(), data.n_features());
        let w = |i: usize| data.weights().map_or(1.0, |w| w[i].as_f64());
        let total = data.total_weight();
        let limit = (T::max_value().as_f64() / 64.0).sqrt();
        // The model's variances in the data's units are at least the ridge
        // (a tenth) of the variance: keep them normal numbers of `T`.
        let smallest_var = 1024.0 * T::min_positive_value().as_f64();
        let mut mean = vec![0.0; d];
        let mut sd = vec![1.0; d];
        for j in 0..d {
            let (lo, hi) = data.column_range(j);
            let spread = hi - lo;
            if !(spread <= limit) {
                return Err(AnomalyError::Fit(FitError::DataScale {
                    column: j,
                    spread,
                    limit,
                    precision: T::NAME,
                    hint: if T::NAME == "f32" {
                        ", or fit in f64"
                    } else {
                        ""
                    },
                }));
            }
            let mut m = (0..n).map(|i| w(i) * x[(i, j)].as_f64()).sum::<f64>() / total;
            let var = (0..n)
                .map(|i| w(i) * (x[(i, j)].as_f64() - m).powi(2))
                .sum::<f64>()
                / total;
            let mut s = var.sqrt();
            if spread == 0.0 && !m.is_finite() {
                (m, s) = (lo, 0.0);
            } else if !(m.is_finite() && s.is_finite()) {
                // The sums overflowed (values near the top of f64's range):
                // the same moments of u = (x − lo) / spread, which lies in
                // [0, 1], scaled back.
                let u = |i: usize| (x[(i, j)].as_f64() - lo) / spread;
                let mu = (0..n).map(|i| w(i) * u(i)).sum::<f64>() / total;
                let var_u = (0..n).map(|i| w(i) * (u(i) - mu).powi(2)).sum::<f64>() / total;
                m = lo + spread * mu;
                s = spread * var_u.sqrt();
            }
            mean[j] = m;
            // A spread below rounding noise relative to the mean is constant,
            // and so is one whose variance `T` cannot hold as a normal number.
            if s > 1e-12 * m.abs().max(f64::MIN_POSITIVE) && s * s > smallest_var {
                sd[j] = s;
            }
        }
        Ok(Self { mean, sd })
    }

    pub(crate) fn standardize<T: Scalar>(
        &self,
        data: &Dataset<T>,
    ) -> Result<Dataset<T>, AnomalyError> {
        let x = data.view();
        let z = Mat::from_fn(data.n_samples(), data.n_features(), |i, j| {
            T::c((x[(i, j)].as_f64() - self.mean[j]) / self.sd[j])
        });
        let mut out = Dataset::from_mat(z.as_ref())?;
        if let Some(w) = data.weights() {
            out = out.with_weights(w.to_vec())?;
        }
        Ok(out)
    }

    /// The model of `x = mean + sd ⊙ z` when `z` follows `model`: means
    /// scaled and shifted, covariances `S Σ S` (a spherical covariance becomes
    /// diagonal).
    pub(crate) fn unstandardize<T: Scalar>(
        &self,
        model: &GaussianMixtureModel<T>,
    ) -> Result<GaussianMixtureModel<T>, AnomalyError> {
        let g = model.components();
        let s = |j: usize| T::c(self.sd[j]);
        let means = Mat::from_fn(model.n_components(), self.mean.len(), |k, j| {
            T::c(self.mean[j]) + s(j) * g.means()[(k, j)]
        });
        let scale_full =
            |c: &Mat<T>| Mat::from_fn(c.nrows(), c.ncols(), |i, j| s(i) * c[(i, j)] * s(j));
        let cov = match g.covariances() {
            Covariances::Full(cs) => Covariances::Full(cs.iter().map(scale_full).collect()),
            Covariances::Tied(c) => Covariances::Tied(scale_full(c)),
            Covariances::Diag(v) => {
                Covariances::Diag(Mat::from_fn(v.nrows(), v.ncols(), |k, j| {
                    v[(k, j)] * s(j) * s(j)
                }))
            }
            Covariances::Spherical(v) => {
                Covariances::Diag(Mat::from_fn(v.len(), self.mean.len(), |k, j| {
                    v[k] * s(j) * s(j)
                }))
            }
        };
        Ok(Mixture::new(
            model.weights().to_vec(),
            Gaussian::new(means, cov)?,
        )?)
    }
}

/// The model without its components of weight below `min_weight` (the
/// heaviest always stays), weights renormalized; and the dropped weights.
fn drop_small_components<T: Scalar>(
    model: &GaussianMixtureModel<T>,
    min_weight: f64,
) -> Result<(GaussianMixtureModel<T>, Vec<f64>), AnomalyError> {
    let w = model.weights();
    let heaviest = (0..w.len())
        .max_by(|&a, &b| w[a].as_f64().total_cmp(&w[b].as_f64()).then(b.cmp(&a)))
        .unwrap_or(0);
    let keep: Vec<usize> = (0..w.len())
        .filter(|&k| k == heaviest || w[k].as_f64() >= min_weight)
        .collect();
    let dropped = (0..w.len())
        .filter(|k| !keep.contains(k))
        .map(|k| w[k].as_f64())
        .collect::<Vec<_>>();
    if dropped.is_empty() {
        return Ok((model.clone(), dropped));
    }
    Ok((model.keep_components(&keep)?, dropped))
}
