//! Grid selection: fit every (number of components, structure) cell and keep the
//! one with the best criterion.

use core::fmt;
use core::marker::PhantomData;

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, Family, ModelSpec};
use mixtures_em::{Control, EmControl, FitError, FitReport, Iteration, check_data, check_scale};
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::search::CellModels;
use crate::{Criterion, Scores, Search, SelectError};
use mixtures_core::seed::derive_seed;

/// The most numbers of components a grid (or the default detector's
/// `components`) takes. Every value is a column of fits and must not exceed
/// the data's rows, so no real grid comes near; the limit exists so that a
/// range such as `1..usize::MAX` is refused (`Grid::check`) instead of being
/// collected into memory.
pub const MAX_GRID_KS: usize = 1 << 16;

/// Collects at most [`MAX_GRID_KS`] numbers of components, ascending and
/// without duplicates; the flag says that the iterator held more (counted
/// before duplicates are removed), which [`Grid::check`] refuses. Only
/// `MAX_GRID_KS + 1` values are ever read, so an unbounded range costs
/// nothing.
pub fn collect_ks(ks: impl IntoIterator<Item = usize>) -> (Vec<usize>, bool) {
    let mut v: Vec<usize> = ks.into_iter().take(MAX_GRID_KS + 1).collect();
    let too_many = v.len() > MAX_GRID_KS;
    v.truncate(MAX_GRID_KS);
    v.sort_unstable();
    v.dedup();
    (v, too_many)
}

/// The error of a list of numbers of components longer than [`MAX_GRID_KS`].
pub(crate) fn too_many_ks() -> SelectError {
    SelectError::invalid(
        "k",
        format!("more than {MAX_GRID_KS} values"),
        "a grid takes at most 65536 numbers of components (mixtures_select::MAX_GRID_KS), and none above the number of rows",
    )
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
    pub structure: ModelSpec,
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
    pub model: AnyMixture<T>,
    /// The report of the best model's fit.
    pub report: FitReport,
    /// When the cells were fitted on a sample of the rows
    /// ([`Grid::search_rows`]): the sample's size and the chosen cell's refit
    /// on every row, whose model and report are [`Selection::model`] and
    /// [`Selection::report`]. `None` when every cell saw every row.
    pub search: Option<Search>,
}

impl<T: Scalar> Selection<T> {
    /// The best cell.
    pub fn best_cell(&self) -> &Cell {
        &self.cells[self.best]
    }

    /// The chosen model's scores on the rows it was fitted to: the refit's on
    /// every row after a search on a sample, otherwise the best cell's.
    pub fn chosen_scores(&self) -> Option<&Scores> {
        match &self.search {
            Some(s) => Some(&s.scores),
            None => self.best_cell().scores(),
        }
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
                    c.structure.describe(),
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
                    c.structure.describe()
                )?,
            }
        }
        if let Some(s) = &self.search {
            writeln!(f, "{s}")?;
        }
        Ok(())
    }
}

/// A grid over numbers of components and structures, fitted by EM.
///
/// Every cell is fitted independently, in parallel (rayon), with its own
/// restarts; its seed is derived from the grid's seed, its `k` and its structure,
/// never from the order in which threads pick cells, so a grid gives the same
/// table and model whatever the number of threads. The EM settings
/// ([`EmControl`]: restarts per cell, iterations, tolerance, ridge,
/// initialization, seed) apply to every cell.
///
/// An observer sees every EM iteration of every cell (cells run in parallel;
/// [`Iteration::restart`] is the restart within its cell). [`Control::Stop`]
/// stops the whole grid: every cell still running, or started later, stops at
/// its next iteration and keeps the model it has
/// ([`mixtures_em::Termination::Stopped`] in its report), and the best cell is
/// chosen among them as usual.
///
/// ```
/// use faer::mat;
/// use mixtures_core::Dataset;
/// use mixtures_dist::{Gaussian, Mixture};
/// use mixtures_dist::{Covariance, ModelSpec};
/// use mixtures_select::{Criterion, Grid};
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let truth = Mixture::new(
///     vec![0.5, 0.5],
///     Gaussian::diag(mat![[0.0_f64, 0.0], [6.0, 6.0]], mat![[1.0, 0.2], [0.3, 2.0]])?,
/// )?;
/// let (x, _) = truth.sample(400, &mut StdRng::seed_from_u64(2));
/// let data = Dataset::from_mat(x.as_ref())?;
/// let sel = Grid::new(1..=4)
///     .structures(ModelSpec::SKLEARN)
///     .criterion(Criterion::Bic)
///     .seed(3)
///     .fit(&data)?;
/// assert_eq!(sel.best_cell().k, 2);
/// assert_eq!(sel.best_cell().structure, ModelSpec::gaussian(Covariance::Diag));
/// println!("{sel}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Grid<T: Scalar> {
    ks: Vec<usize>,
    /// The list given held more than [`MAX_GRID_KS`] values (refused by
    /// [`Grid::check`]).
    too_many_ks: bool,
    structures: Vec<ModelSpec>,
    pub(crate) criterion: Criterion,
    control: EmControl,
    /// Rows the cells are fitted on at most ([`Grid::search_rows`]).
    pub(crate) search_rows: Option<usize>,
    _t: PhantomData<T>,
}

impl<T: Scalar> Grid<T> {
    /// A grid over the given numbers of components (a range such as `1..=8`, or
    /// any list; duplicates are ignored and the order is ascending), with
    /// scikit-learn's four Gaussian covariance types, BIC, one restart per cell
    /// and the EM defaults (`tol` 1e-3, `max_iter` 100, `reg_covar` 1e-6,
    /// k-means initialization, seed 0).
    ///
    /// At most [`MAX_GRID_KS`] values are read; a longer list (an unbounded
    /// range, say) is refused by [`Grid::check`] and [`Grid::fit`].
    pub fn new(ks: impl IntoIterator<Item = usize>) -> Self {
        let (ks, too_many_ks) = collect_ks(ks);
        Self {
            ks,
            too_many_ks,
            structures: ModelSpec::SKLEARN.to_vec(),
            criterion: Criterion::default(),
            control: EmControl::default(),
            search_rows: None,
            _t: PhantomData,
        }
    }

    /// The structures to try (replacing the default).
    #[must_use]
    pub fn structures(mut self, s: impl IntoIterator<Item = impl Into<ModelSpec>>) -> Self {
        self.structures = s.into_iter().map(Into::into).collect();
        self
    }

    /// The criterion that picks the best cell (default BIC).
    #[must_use]
    pub fn criterion(mut self, c: Criterion) -> Self {
        self.criterion = c;
        self
    }

    mixtures_em::em_control_builder!();

    /// The cells of the grid in order: `(k, structure, seed)`.
    pub fn cells(&self) -> Vec<(usize, ModelSpec, u64)> {
        self.ks
            .iter()
            .flat_map(|&k| {
                self.structures.iter().map(move |&s| {
                    (
                        k,
                        s,
                        derive_seed(self.control.seed, &[k as u64, s.seed_code()]),
                    )
                })
            })
            .collect()
    }

    /// Checks every parameter that needs no data: the numbers of components,
    /// the structures and the EM settings.
    ///
    /// # Errors
    /// [`SelectError::EmptyKRange`], [`SelectError::NoStructures`],
    /// [`SelectError::InvalidParameter`] (also for more than [`MAX_GRID_KS`]
    /// numbers of components).
    pub fn check(&self) -> Result<(), SelectError> {
        if self.too_many_ks {
            return Err(too_many_ks());
        }
        if self.ks.is_empty() {
            return Err(SelectError::EmptyKRange);
        }
        if self.ks[0] == 0 {
            return Err(SelectError::InvalidParameter {
                name: "k",
                value: 0usize.into(),
                reason: "every number of components must be at least 1",
            });
        }
        if self.structures.is_empty() {
            return Err(SelectError::NoStructures);
        }
        if self.search_rows == Some(0) {
            return Err(SelectError::invalid(
                "search_rows",
                0usize,
                "must be at least 1 (None searches on every row)",
            ));
        }
        self.control
            .check()
            .map_err(|e| e.into_own(SelectError::invalid))
    }

    /// [`Grid::check`], then the data against the grid: enough distinct rows
    /// for the largest `k`, a range the fits' sums can hold.
    fn check_with(&self, data: &Dataset<T>) -> Result<(), SelectError> {
        self.check_filled(data)
    }

    /// [`Grid::check_with`], by name for the incomplete data's filled rows.
    pub(crate) fn check_filled(&self, data: &Dataset<T>) -> Result<(), SelectError> {
        self.check()?;
        let k_max = self.ks.last().copied().unwrap_or(1);
        distinct_check(data, k_max)?;
        // The EM crate's range check, once for the grid rather than once per
        // cell (squares in T when any structure is Gaussian).
        let gaussian = self
            .structures
            .iter()
            .any(|s| s.family() != Family::Laplace);
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
    /// fail are otherwise skipped and reported in the table). With
    /// [`Grid::search_rows`], [`SelectError::Fit`] when the chosen cell, and
    /// every other fitted cell tried after it, fails to refit on every row.
    pub fn fit(&self, data: &Dataset<T>) -> Result<Selection<T>, SelectError> {
        self.check_with(data)?;
        if let Some(sample) = self.search_sample(data)? {
            return self.fit_searched(&sample, data);
        }
        self.fit_all(data)
    }

    /// Every cell on every row of `data` (already checked), and the best.
    pub(crate) fn fit_all(&self, data: &Dataset<T>) -> Result<Selection<T>, SelectError> {
        self.select_with(&|k, s, control| dataset_cell(data, k, s, control))
    }

    /// Every cell fitted by `fit_cell` (`k`, structure, the cell's EM
    /// settings), and the best by the criterion.
    pub(crate) fn select_with(
        &self,
        fit_cell: &CellFit<'_, T>,
    ) -> Result<Selection<T>, SelectError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (table, mut models) = self.fit_cells_with(fit_cell, &stop);
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
            return Err(self.all_failed(&table));
        };
        let Some((model, report)) = models.swap_remove(best) else {
            return Err(SelectError::AllCellsFailed {
                cells: table.len(),
                k: table[best].k,
                structure: table[best].structure.describe(),
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
            search: None,
        })
    }

    /// Fits every cell on `data`, in parallel: the table and each cell's
    /// model (`None` where it was skipped), in grid order.
    pub(crate) fn fit_cells(
        &self,
        data: &Dataset<T>,
        stop: &Arc<AtomicBool>,
    ) -> (Vec<Cell>, CellModels<T>) {
        self.fit_cells_with(&|k, s, control| dataset_cell(data, k, s, control), stop)
    }

    /// [`Grid::fit_cells`] with the cells fitted by `fit_cell`.
    pub(crate) fn fit_cells_with(
        &self,
        fit_cell: &CellFit<'_, T>,
        stop: &Arc<AtomicBool>,
    ) -> (Vec<Cell>, CellModels<T>) {
        let cells = self.cells();
        let results: Vec<CellResult<T>> = cells
            .par_iter()
            .map(|&(k, s, seed)| self.fit_cell(fit_cell, k, s, seed, stop))
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
        (table, models)
    }

    /// [`SelectError::AllCellsFailed`], with the first cell's reason.
    pub(crate) fn all_failed(&self, table: &[Cell]) -> SelectError {
        let Some(first) = table.first() else {
            return SelectError::EmptyKRange;
        };
        let reason = match &first.outcome {
            CellOutcome::Skipped { reason } => reason.clone(),
            CellOutcome::Fitted { .. } => FitError::Degenerate {
                reason: "the criterion could not be computed".into(),
            },
        };
        SelectError::AllCellsFailed {
            cells: table.len(),
            k: first.k,
            structure: first.structure.describe(),
            reason,
        }
    }

    /// The EM settings of one cell: the grid's, with the cell's seed and the
    /// user's observer behind the flag that stops every cell once it says
    /// stop.
    pub(crate) fn cell_control(&self, seed: u64, stop: &Arc<AtomicBool>) -> EmControl {
        let watch = self.control.observer.clone().map(|obs| {
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
        let mut control = self.control.clone().seed(seed);
        control.observer = watch.map(|w| Arc::new(w) as Arc<dyn mixtures_em::Observer>);
        control
    }

    fn fit_cell(
        &self,
        fit_cell: &CellFit<'_, T>,
        k: usize,
        structure: ModelSpec,
        seed: u64,
        stop: &Arc<AtomicBool>,
    ) -> CellResult<T> {
        let control = self.cell_control(seed, stop);
        let fitted = fit_cell(k, structure, &control);
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

/// How a cell is fitted: `k`, the structure and the cell's EM settings in;
/// its scores, model and report out.
pub(crate) type CellFit<'a, T> = dyn Fn(usize, ModelSpec, &EmControl) -> Result<(Scores, AnyMixture<T>, FitReport), FitError>
    + Sync
    + 'a;

/// A cell fitted to complete data.
fn dataset_cell<T: Scalar>(
    data: &Dataset<T>,
    k: usize,
    structure: ModelSpec,
    control: &EmControl,
) -> Result<(Scores, AnyMixture<T>, FitReport), FitError> {
    let f = mixtures_em::fit(structure, k, control, data)?;
    let scores = Scores::of_any_fit(&f, data)?;
    Ok((scores, f.model, f.report))
}

/// A cell's outcome and, when fitted, its model and report.
pub(crate) type CellResult<T> = (CellOutcome, Option<(AnyMixture<T>, FitReport)>);

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
