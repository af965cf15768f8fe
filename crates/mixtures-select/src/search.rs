//! A grid searched on a sample of the rows, its chosen cell refitted on every
//! row from the sample's fit ([`Grid::search_rows`]).
//!
//! The cost of a grid is one EM fit per cell, each linear in the rows. On
//! large data the ranking of the cells is settled long before every row has
//! been seen, so the cells are fitted on a seeded sample and only the winner
//! pays for every row; it starts there from the parameters it found on the
//! sample, which are already close, so its refit takes a few iterations.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use mixtures_core::seed::derive_seed;
use mixtures_core::{Dataset, Scalar};
use mixtures_em::FitError;

use crate::grid::distinct_check;
use crate::{Grid, Scores, SelectError, Selection};

/// Rows the automatic choices (the command line's `fit` and the default
/// detector's mixture step) fit their candidates on, at most, before the
/// winner is refitted on every row (see [`Grid::search_rows`]).
pub const DEFAULT_SEARCH_ROWS: usize = 100_000;

/// How a grid searched on a sample ([`Grid::search_rows`]): the sample's
/// size and the chosen cell's refit on every row.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Rows every cell was fitted on (drawn without replacement by the grid's
    /// seed, kept in their order); the table's criteria are on these rows.
    pub rows: usize,
    /// Rows of the data, on which the chosen cell was refitted.
    pub total_rows: usize,
    /// The refit's scores on every row.
    pub scores: Scores,
    /// Cells (indices into [`Selection::cells`]) that ranked above the chosen
    /// one but whose refit on every row failed, with why; normally empty.
    pub failed_refits: Vec<(usize, FitError)>,
}

impl fmt::Display for Search {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cells fitted on {} of {} rows (seeded sample); the chosen cell refitted on every row: \
             aic = {:.3}, bic = {:.3}, icl = {:.3}",
            self.rows,
            self.total_rows,
            self.scores.aic(),
            self.scores.bic(),
            self.scores.icl().unwrap_or(f64::NAN),
        )?;
        for (cell, why) in &self.failed_refits {
            write!(f, "; refit of cell {cell} failed: {why}")?;
        }
        Ok(())
    }
}

impl<T: Scalar> Grid<T> {
    /// Fits the cells on at most `rows` rows of the data, drawn without
    /// replacement by the grid's seed, and refits the chosen cell on every
    /// row starting from its fit on the sample (`None`, the default, fits
    /// every cell on every row).
    ///
    /// The rule: when the data have more than `rows` rows (and the sample
    /// holds at least as many distinct rows as the largest `k`; otherwise
    /// every row is used), the table ([`Selection::cells`]) is the grid on
    /// the sample and the criterion chooses there; the chosen cell is then
    /// refitted on every row by EM from the sample's parameters (one start,
    /// the grid's settings). Should that refit fail, the next cell by the
    /// criterion is refitted instead. [`Selection::model`] and
    /// [`Selection::report`] are the refit's; [`Selection::search`] has the
    /// refit's criteria on every row. The sample depends on the seed and the
    /// number of rows only, so the result is as deterministic as the grid.
    ///
    /// The criteria's penalty grows with the rows (BIC's `p ln n`) more slowly
    /// than the log-likelihood: where every row would support more
    /// components than the sample does, the search on the sample chooses
    /// fewer. [`DEFAULT_SEARCH_ROWS`] is what the automatic choices use.
    #[must_use]
    pub fn search_rows(mut self, rows: Option<usize>) -> Self {
        self.search_rows = rows;
        self
    }

    /// The rows [`Grid::fit`] fits the cells on under
    /// [`Grid::search_rows`]: `None` when it fits them on every row (no
    /// limit, no more rows than the limit, or a sample with fewer distinct
    /// rows than the largest `k`).
    ///
    /// # Errors
    /// [`SelectError::Data`] when the sample cannot be built (it cannot for
    /// valid data).
    pub fn search_sample(&self, data: &Dataset<T>) -> Result<Option<Dataset<T>>, SelectError> {
        let Some(idx) = self.search_indices(data.n_samples()) else {
            return Ok(None);
        };
        let sample = data.select_rows(&idx)?;
        let k_max = self.cells().iter().map(|c| c.0).max().unwrap_or(1);
        // A sample of repeated rows may hold fewer distinct rows than the
        // largest k although the data hold enough: search on every row then.
        Ok(distinct_check(&sample, k_max).is_ok().then_some(sample))
    }

    /// The rows (indices into `0..n`, increasing) whose sample
    /// [`Grid::search_sample`] draws from `n` rows under
    /// [`Grid::search_rows`], before its check of distinct rows; `None` when
    /// the cells are fitted on every row. For rows read in batches: the same
    /// indices give the same sample as in memory.
    pub fn search_indices(&self, n: usize) -> Option<Vec<usize>> {
        let m = self.search_rows.filter(|&m| m < n)?;
        let seed = derive_seed(self.em_control().seed, &[0x7365_6172_6368]);
        mixtures_core::seed::sample_indices(n, m, seed)
    }

    /// The grid on `sample`, the winner refitted on `data`.
    pub(crate) fn fit_searched(
        &self,
        sample: &Dataset<T>,
        data: &Dataset<T>,
    ) -> Result<Selection<T>, SelectError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (table, mut models) = self.fit_cells(sample, &stop);
        // The cells in the criterion's order (ties keep the earlier cell),
        // as the grid would choose them.
        let mut order: Vec<(usize, f64)> = table
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.criterion(self.criterion).map(|v| (i, v)))
            .filter(|(_, v)| !v.is_nan())
            .collect();
        order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        if order.is_empty() {
            return Err(self.all_failed(&table));
        }
        let mut failed_refits = Vec::new();
        for (i, _) in order {
            let Some((start, _)) = models[i].take() else {
                continue;
            };
            let cell = &table[i];
            let control = self.cell_control(cell.seed, &stop);
            let refit = mixtures_em::fit_from(cell.structure, &start, &control, data)
                .and_then(|f| Ok((Scores::of_any_fit(&f, data)?, f)));
            match refit {
                Ok((scores, f)) => {
                    return Ok(Selection {
                        criterion: self.criterion,
                        best: i,
                        model: f.model,
                        report: f.report,
                        search: Some(Search {
                            rows: sample.n_samples(),
                            total_rows: data.n_samples(),
                            scores,
                            failed_refits,
                        }),
                        cells: table,
                    });
                }
                Err(e) => failed_refits.push((i, e)),
            }
        }
        // Every fitted cell failed on every row: the first failure says why.
        match failed_refits.into_iter().next() {
            Some((_, e)) => Err(SelectError::Fit(e)),
            None => Err(self.all_failed(&table)),
        }
    }
}

/// The models of the cells, `None` where a cell was skipped.
pub(crate) type CellModels<T> = Vec<Option<(mixtures_dist::AnyMixture<T>, mixtures_em::FitReport)>>;
