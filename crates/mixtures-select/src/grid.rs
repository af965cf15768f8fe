//! Grid selection: fit every (number of components, structure) cell and keep the
//! one with the best criterion.

use core::fmt;
use core::marker::PhantomData;

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{GaussianMixtureModel, LaplaceMixtureModel};
use mixtures_em::shared::{check_data, check_scale};
use mixtures_em::{
    Control, Covariance, FitError, FitReport, Fitted, GaussianMixture, Init, Iteration,
    LaplaceMixture, LaplaceStructure, Observer,
};
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::seed::derive_seed;
use crate::variational::ObserverSlot;
use crate::{Criterion, Scores, SelectError};

/// A component family with its covariance constraint or scale structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Structure {
    /// Gaussian components under a covariance constraint (mclust's names are
    /// constants of [`Covariance`]: `Covariance::VVV`, ...).
    Gaussian(Covariance),
    /// Laplace components with the given scale structure.
    Laplace(LaplaceStructure),
}

impl Structure {
    /// scikit-learn's four Gaussian covariance types: full, tied, diag, spherical.
    pub const SKLEARN: [Self; 4] = [
        Self::Gaussian(Covariance::Full),
        Self::Gaussian(Covariance::Tied),
        Self::Gaussian(Covariance::Diag),
        Self::Gaussian(Covariance::Spherical),
    ];

    /// The six mclust models this workspace fits: EII, VII, EEI, VVI, EEE, VVV.
    pub const MCLUST: [Self; 6] = [
        Self::Gaussian(Covariance::EII),
        Self::Gaussian(Covariance::VII),
        Self::Gaussian(Covariance::EEI),
        Self::Gaussian(Covariance::VVI),
        Self::Gaussian(Covariance::EEE),
        Self::Gaussian(Covariance::VVV),
    ];

    /// Both Laplace scale structures.
    pub const LAPLACE: [Self; 2] = [
        Self::Laplace(LaplaceStructure::PerDimension),
        Self::Laplace(LaplaceStructure::Spherical),
    ];

    /// `"gaussian"` or `"laplace"`.
    pub fn family(self) -> &'static str {
        match self {
            Self::Gaussian(_) => "gaussian",
            Self::Laplace(_) => "laplace",
        }
    }

    /// A small number that identifies the structure in derived seeds; it never
    /// changes, so adding structures to a grid leaves the other cells' seeds
    /// (and fits) as they were.
    fn code(self) -> u64 {
        match self {
            Self::Gaussian(c) => match c {
                Covariance::Full => 1,
                Covariance::Tied => 2,
                Covariance::Diag => 3,
                Covariance::Spherical => 4,
                Covariance::TiedDiag => 5,
                Covariance::TiedSpherical => 6,
                // Constraints added later get codes by their name.
                _ => 0x100 | name_hash(c.as_str()),
            },
            Self::Laplace(s) => match s {
                LaplaceStructure::PerDimension => 17,
                LaplaceStructure::Spherical => 18,
                _ => 0x200,
            },
        }
    }
}

/// FNV-1a of a name, for seeds of structures without a fixed code.
fn name_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) & 0xff
}

impl fmt::Display for Structure {
    /// `gaussian full (VVV)`, `laplace spherical`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gaussian(c) => write!(f, "gaussian {} ({})", c.as_str(), c.mclust_name()),
            Self::Laplace(LaplaceStructure::Spherical) => f.write_str("laplace spherical"),
            Self::Laplace(_) => f.write_str("laplace per-dimension"),
        }
    }
}

impl From<Covariance> for Structure {
    fn from(c: Covariance) -> Self {
        Self::Gaussian(c)
    }
}

impl From<LaplaceStructure> for Structure {
    fn from(s: LaplaceStructure) -> Self {
        Self::Laplace(s)
    }
}

/// A fitted model of either family.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SelectedModel<T: Scalar> {
    /// A Gaussian mixture.
    Gaussian(GaussianMixtureModel<T>),
    /// A Laplace mixture.
    Laplace(LaplaceMixtureModel<T>),
}

impl<T: Scalar> SelectedModel<T> {
    /// Number of components.
    pub fn n_components(&self) -> usize {
        match self {
            Self::Gaussian(m) => m.n_components(),
            Self::Laplace(m) => m.n_components(),
        }
    }

    /// The Gaussian mixture, if that family won.
    pub fn as_gaussian(&self) -> Option<&GaussianMixtureModel<T>> {
        match self {
            Self::Gaussian(m) => Some(m),
            Self::Laplace(_) => None,
        }
    }

    /// The Laplace mixture, if that family won.
    pub fn as_laplace(&self) -> Option<&LaplaceMixtureModel<T>> {
        match self {
            Self::Laplace(m) => Some(m),
            Self::Gaussian(_) => None,
        }
    }

    /// `ln p(xᵢ)` for every row.
    ///
    /// # Errors
    /// [`mixtures_core::DataError::DimensionMismatch`].
    pub fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, mixtures_core::DataError> {
        match self {
            Self::Gaussian(m) => m.log_prob(data),
            Self::Laplace(m) => m.log_prob(data),
        }
    }

    /// The most probable component of every row.
    ///
    /// # Errors
    /// [`mixtures_core::DataError::DimensionMismatch`].
    pub fn predict(&self, data: &Dataset<T>) -> Result<Vec<usize>, mixtures_core::DataError> {
        match self {
            Self::Gaussian(m) => m.predict(data),
            Self::Laplace(m) => m.predict(data),
        }
    }
}

/// How one cell of the grid went.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CellOutcome {
    /// The cell was fitted.
    Fitted {
        /// Log-likelihood, parameter count, entropy: every criterion.
        scores: Scores,
        /// Whether the winning restart converged.
        converged: bool,
        /// Its iterations.
        n_iter: usize,
    },
    /// The cell could not be fitted (e.g. every restart degenerated); it is
    /// left out of the selection.
    Skipped {
        /// Why.
        reason: FitError,
    },
}

/// One row of the selection table.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Number of components asked for (a fit may end with fewer when its
    /// degeneracy policy drops components; the scores count what was fitted).
    pub k: usize,
    /// Family and structure.
    pub structure: Structure,
    /// The seed the cell was fitted with, derived from the grid's seed, `k` and
    /// the structure only.
    pub seed: u64,
    /// Scores or the reason it was skipped.
    pub outcome: CellOutcome,
}

impl Cell {
    /// The value of a criterion, when the cell was fitted.
    pub fn criterion(&self, c: Criterion) -> Option<f64> {
        match &self.outcome {
            CellOutcome::Fitted { scores, .. } => scores.get(c),
            CellOutcome::Skipped { .. } => None,
        }
    }

    /// The scores, when the cell was fitted.
    pub fn scores(&self) -> Option<&Scores> {
        match &self.outcome {
            CellOutcome::Fitted { scores, .. } => Some(scores),
            CellOutcome::Skipped { .. } => None,
        }
    }
}

/// The result of a grid selection: the table of every cell and the best model.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection<T: Scalar> {
    /// Every cell, in grid order (`k` ascending, then the structures in the order
    /// given).
    pub cells: Vec<Cell>,
    /// The criterion the best cell was chosen by.
    pub criterion: Criterion,
    /// Index of the best cell in [`Selection::cells`].
    pub best: usize,
    /// The best model.
    pub model: SelectedModel<T>,
    /// The report of the best model's fit.
    pub report: FitReport,
}

impl<T: Scalar> Selection<T> {
    /// The best cell.
    pub fn best_cell(&self) -> &Cell {
        &self.cells[self.best]
    }
}

impl<T: Scalar> fmt::Display for Selection<T> {
    /// The table, one cell per line, the best marked with `*`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>3} {:<30} {:>14} {:>14} {:>14} {:>6}  note",
            "k", "structure", "aic", "bic", "icl", "params"
        )?;
        for (i, c) in self.cells.iter().enumerate() {
            let mark = if i == self.best { "*" } else { "" };
            match &c.outcome {
                CellOutcome::Fitted {
                    scores, converged, ..
                } => writeln!(
                    f,
                    "{:>3} {:<30} {:>14.3} {:>14.3} {:>14.3} {:>6}  {}{}",
                    c.k,
                    c.structure.to_string(),
                    scores.aic(),
                    scores.bic(),
                    scores.icl().unwrap_or(f64::NAN),
                    scores.n_parameters,
                    if *converged { "" } else { "not converged " },
                    mark
                )?,
                CellOutcome::Skipped { reason } => writeln!(
                    f,
                    "{:>3} {:<30} skipped: {reason}",
                    c.k,
                    c.structure.to_string()
                )?,
            }
        }
        Ok(())
    }
}

/// A grid over numbers of components and structures, fitted by EM.
///
/// Every cell is fitted independently, in parallel (rayon), with its own
/// restarts; its seed is derived from the grid's seed, its `k` and its structure,
/// never from the order in which threads pick cells, so a grid gives the same
/// table and model whatever the number of threads.
///
/// ```
/// use faer::mat;
/// use mixtures_core::Dataset;
/// use mixtures_dist::{Gaussian, Mixture};
/// use mixtures_select::{Criterion, Grid, Structure};
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let truth = Mixture::new(
///     vec![0.5, 0.5],
///     Gaussian::diag(mat![[0.0_f64, 0.0], [6.0, 6.0]], mat![[1.0, 0.2], [0.3, 2.0]])?,
/// )?;
/// let (x, _) = truth.sample(400, &mut StdRng::seed_from_u64(2));
/// let data = Dataset::from_mat(x.as_ref())?;
/// let sel = Grid::new(1..=4)
///     .structures(Structure::SKLEARN)
///     .criterion(Criterion::Bic)
///     .seed(3)
///     .fit(&data)?;
/// assert_eq!(sel.best_cell().k, 2);
/// assert_eq!(sel.best_cell().structure, Structure::Gaussian(mixtures_em::Covariance::Diag));
/// println!("{sel}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Grid<T: Scalar> {
    ks: Vec<usize>,
    structures: Vec<Structure>,
    criterion: Criterion,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    reg_covar: f64,
    init: Init,
    seed: u64,
    observer: ObserverSlot,
    _t: PhantomData<T>,
}

impl<T: Scalar> Grid<T> {
    /// A grid over the given numbers of components (a range such as `1..=8`, or
    /// any list; duplicates are ignored and the order is ascending), with
    /// scikit-learn's four Gaussian covariance types, BIC, one restart per cell
    /// and the EM defaults (`tol` 1e-3, `max_iter` 100, `reg_covar` 1e-6,
    /// k-means initialization, seed 0).
    pub fn new(ks: impl IntoIterator<Item = usize>) -> Self {
        let mut ks: Vec<usize> = ks.into_iter().collect();
        ks.sort_unstable();
        ks.dedup();
        Self {
            ks,
            structures: Structure::SKLEARN.to_vec(),
            criterion: Criterion::default(),
            n_init: 1,
            max_iter: 100,
            tol: 1e-3,
            reg_covar: 1e-6,
            init: Init::default(),
            seed: 0,
            observer: ObserverSlot::default(),
            _t: PhantomData,
        }
    }

    /// The structures to try (replacing the default).
    #[must_use]
    pub fn structures(mut self, s: impl IntoIterator<Item = impl Into<Structure>>) -> Self {
        self.structures = s.into_iter().map(Into::into).collect();
        self
    }

    /// The criterion that picks the best cell (default BIC).
    #[must_use]
    pub fn criterion(mut self, c: Criterion) -> Self {
        self.criterion = c;
        self
    }

    /// Restarts per cell (default 1); the best log-likelihood wins within a cell.
    #[must_use]
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }

    /// Most EM iterations per restart (default 100).
    #[must_use]
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Convergence threshold on the change of the mean log-likelihood (default
    /// 1e-3).
    #[must_use]
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Ridge added to Gaussian variances (default 1e-6); Laplace cells use
    /// their scale floor (1e-6) instead.
    #[must_use]
    pub fn reg_covar(mut self, r: f64) -> Self {
        self.reg_covar = r;
        self
    }

    /// Initialization of every restart (default k-means).
    #[must_use]
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// The grid's seed (default 0); each cell's seed is derived from it.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// An observer called after every EM iteration of every cell (cells run
    /// in parallel; [`Iteration::restart`] is the restart within its cell).
    /// [`Control::Stop`] stops the whole grid: every cell still running, or
    /// started later, stops at its next iteration and keeps the model it has
    /// ([`mixtures_em::Termination::Stopped`] in its report), and the best cell
    /// is chosen among them as usual.
    #[must_use]
    pub fn observer(mut self, observer: impl Observer + 'static) -> Self {
        self.observer = ObserverSlot(Some(Arc::new(observer)));
        self
    }

    /// The cells of the grid in order: `(k, structure, seed)`.
    pub fn cells(&self) -> Vec<(usize, Structure, u64)> {
        self.ks
            .iter()
            .flat_map(|&k| {
                self.structures
                    .iter()
                    .map(move |&s| (k, s, derive_seed(self.seed, &[k as u64, s.code()])))
            })
            .collect()
    }

    fn check(&self, data: &Dataset<T>) -> Result<(), SelectError> {
        let Some(&k_max) = self.ks.last() else {
            return Err(SelectError::EmptyKRange);
        };
        if self.ks[0] == 0 {
            return Err(SelectError::InvalidParameter {
                name: "k",
                value: "0".into(),
                reason: "every number of components must be at least 1",
            });
        }
        if self.structures.is_empty() {
            return Err(SelectError::NoStructures);
        }
        if self.n_init == 0 {
            return Err(SelectError::InvalidParameter {
                name: "n_init",
                value: "0".into(),
                reason: "must be at least 1",
            });
        }
        if self.max_iter == 0 {
            return Err(SelectError::InvalidParameter {
                name: "max_iter",
                value: "0".into(),
                reason: "must be at least 1",
            });
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(SelectError::InvalidParameter {
                name: "tol",
                value: self.tol.to_string(),
                reason: "must be finite and >= 0",
            });
        }
        if !(self.reg_covar >= 0.0 && self.reg_covar.is_finite()) {
            return Err(SelectError::InvalidParameter {
                name: "reg_covar",
                value: self.reg_covar.to_string(),
                reason: "must be finite and >= 0",
            });
        }
        distinct_check(data, k_max)?;
        // The EM crate's range check, once for the grid rather than once per
        // cell (squares in T when any structure is Gaussian).
        let gaussian = self
            .structures
            .iter()
            .any(|s| matches!(s, Structure::Gaussian(_)));
        check_scale(data, gaussian)?;
        Ok(())
    }

    /// Fits every cell and returns the table and the best model.
    ///
    /// # Errors
    /// Before any work: [`SelectError::EmptyKRange`],
    /// [`SelectError::NoStructures`], [`SelectError::InvalidParameter`] (a `k` of
    /// 0, `n_init`, `max_iter`, `tol`, `reg_covar`),
    /// [`SelectError::TooFewDistinctPoints`] when the largest `k` exceeds the
    /// number of distinct points, [`SelectError::Fit`] with
    /// [`FitError::DataScale`] when the data's spread would overflow the fits'
    /// sums. After fitting:
    /// [`SelectError::AllCellsFailed`] when no cell could be fitted (cells that
    /// fail are otherwise skipped and reported in the table).
    pub fn fit(&self, data: &Dataset<T>) -> Result<Selection<T>, SelectError> {
        self.check(data)?;
        let cells = self.cells();
        let stop = Arc::new(AtomicBool::new(false));
        let results: Vec<CellResult<T>> = cells
            .par_iter()
            .map(|&(k, s, seed)| self.fit_cell(data, k, s, seed, &stop))
            .collect();
        let mut table = Vec::with_capacity(cells.len());
        let mut models = Vec::with_capacity(cells.len());
        for (&(k, structure, seed), (outcome, model)) in cells.iter().zip(results) {
            table.push(Cell {
                k,
                structure,
                seed,
                outcome,
            });
            models.push(model);
        }
        // Lowest criterion wins; ties (and NaN, never chosen) keep the earlier
        // cell, so the choice depends on the table alone.
        let mut best: Option<(usize, f64)> = None;
        for (i, c) in table.iter().enumerate() {
            if let Some(v) = c.criterion(self.criterion)
                && !v.is_nan()
                && best.is_none_or(|(_, b)| v < b)
            {
                best = Some((i, v));
            }
        }
        let Some((best, _)) = best else {
            let first = &table[0];
            let reason = match &first.outcome {
                CellOutcome::Skipped { reason } => reason.clone(),
                CellOutcome::Fitted { .. } => FitError::Degenerate {
                    reason: "the criterion could not be computed".into(),
                },
            };
            return Err(SelectError::AllCellsFailed {
                cells: table.len(),
                k: first.k,
                structure: first.structure.to_string(),
                reason,
            });
        };
        let Some((model, report)) = models.swap_remove(best) else {
            return Err(SelectError::AllCellsFailed {
                cells: table.len(),
                k: table[best].k,
                structure: table[best].structure.to_string(),
                reason: FitError::Degenerate {
                    reason: "internal: the best cell kept no model".into(),
                },
            });
        };
        Ok(Selection {
            cells: table,
            criterion: self.criterion,
            best,
            model,
            report,
        })
    }

    fn fit_cell(
        &self,
        data: &Dataset<T>,
        k: usize,
        structure: Structure,
        seed: u64,
        stop: &Arc<AtomicBool>,
    ) -> CellResult<T> {
        // The user's observer, behind a flag shared by every cell: once it
        // says stop, every other cell is told to stop too.
        let watch = self.observer.0.clone().map(|obs| {
            let stop = Arc::clone(stop);
            move |it: &Iteration| {
                if stop.load(Ordering::Relaxed) {
                    return Control::Stop;
                }
                let c = obs.observe(it);
                if c == Control::Stop {
                    stop.store(true, Ordering::Relaxed);
                }
                c
            }
        });
        let fitted = match structure {
            Structure::Gaussian(c) => {
                let mut p = GaussianMixture::params::<T>(k)
                    .covariance(c)
                    .reg_covar(self.reg_covar)
                    .n_init(self.n_init)
                    .max_iter(self.max_iter)
                    .tol(self.tol)
                    .init(self.init)
                    .seed(seed);
                if let Some(w) = watch {
                    p = p.observer(w);
                }
                p.fit(data)
                    .and_then(|f| finish(f, data, SelectedModel::Gaussian))
            }
            Structure::Laplace(s) => {
                let mut p = LaplaceMixture::params::<T>(k)
                    .structure(s)
                    .n_init(self.n_init)
                    .max_iter(self.max_iter)
                    .tol(self.tol)
                    .init(self.init)
                    .seed(seed);
                if let Some(w) = watch {
                    p = p.observer(w);
                }
                p.fit(data)
                    .and_then(|f| finish(f, data, SelectedModel::Laplace))
            }
        };
        match fitted {
            Ok((scores, model, report)) => (
                CellOutcome::Fitted {
                    scores,
                    converged: report.converged,
                    n_iter: report.n_iter,
                },
                Some((model, report)),
            ),
            Err(reason) => (CellOutcome::Skipped { reason }, None),
        }
    }
}

type Finished<T> = (Scores, SelectedModel<T>, FitReport);

/// A cell's outcome and, when fitted, its model and report.
type CellResult<T> = (CellOutcome, Option<(SelectedModel<T>, FitReport)>);

fn finish<T: Scalar, C: mixtures_dist::LogDensity<T>>(
    f: Fitted<mixtures_dist::Mixture<T, C>>,
    data: &Dataset<T>,
    wrap: fn(mixtures_dist::Mixture<T, C>) -> SelectedModel<T>,
) -> Result<Finished<T>, FitError> {
    let scores = Scores::of_fit(&f, data)?;
    Ok((scores, wrap(f.model), f.report))
}

/// [`SelectError::TooFewDistinctPoints`] when fewer than `k` distinct rows (of
/// positive weight) exist, through the EM crate's own check.
pub(crate) fn distinct_check<T: Scalar>(data: &Dataset<T>, k: usize) -> Result<(), SelectError> {
    match check_data(data, k) {
        Ok(()) => Ok(()),
        Err(FitError::TooFewDistinctPoints { distinct, k }) => {
            Err(SelectError::TooFewDistinctPoints { distinct, k })
        }
        Err(e) => Err(e.into()),
    }
}
