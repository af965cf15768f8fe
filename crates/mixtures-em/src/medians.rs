//! The Laplace M-step over rows read in batches: every component's weighted
//! median and mean absolute deviation along every feature, exactly, without
//! the rows in memory.
//!
//! A weighted median is not a sum, so it has no fixed-size statistic. It is
//! found by narrowing a bracket: each pass (under the same E-step model, so
//! the responsibilities are the same every pass) adds, per (component,
//! feature) cell, the weight and the weighted sum of the rows below and
//! above the cell's bracket and a histogram of [`BINS`] bins inside it; the
//! bin where the cumulative weight reaches half the total becomes the next
//! bracket. Once the bin holds at most [`COLLECT`] rows, the next pass
//! collects those rows' values and weights, and the median is read off them
//! in sorted order as in memory (the first value at which the cumulative
//! weight reaches half). The deviation `Σ v |x − m|` follows from the sums
//! below and above (taken about the E-step's location, so a data offset
//! does not cancel) and the collected rows. Every partial result adds up, so
//! batches may come in any split. With 2048 bins, 20 M rows need three passes
//! per iteration (two histograms, one collection), 100 000 rows two.

use faer::Mat;
use mixtures_core::source::Batch;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::LaplaceMixtureModel;
use rayon::prelude::*;

use crate::FitError;
use crate::rows::Rows;

/// Bins of a cell's histogram per pass.
pub(crate) const BINS: usize = 2048;
/// Rows of a bracket collected one by one.
pub(crate) const COLLECT: u64 = 4096;

/// One (component, feature) cell during the search.
#[derive(Clone)]
struct Cell {
    lo: f64,
    hi: f64,
    collect: bool,
    /// The E-step's location: sums are about it.
    c: f64,
    below: (f64, f64),
    above: (f64, f64),
    /// Weight, weighted sum about `c`, count.
    bins: Vec<(f64, f64, u64)>,
    values: Vec<(f64, f64)>,
    done: Option<(f64, f64)>,
}

impl Cell {
    fn clear(&mut self) {
        self.below = (0.0, 0.0);
        self.above = (0.0, 0.0);
        self.bins.iter_mut().for_each(|b| *b = (0.0, 0.0, 0));
        self.values.clear();
    }

    fn add(&mut self, x: f64, v: f64) {
        if x < self.lo {
            self.below.0 += v;
            self.below.1 += v * (x - self.c);
        } else if x >= self.hi {
            self.above.0 += v;
            self.above.1 += v * (x - self.c);
        } else if self.collect {
            self.values.push((x, v));
        } else {
            let t = (x - self.lo) / (self.hi - self.lo) * BINS as f64;
            let b = (t as usize).min(BINS - 1);
            let bin = &mut self.bins[b];
            bin.0 += v;
            bin.1 += v * (x - self.c);
            bin.2 += 1;
        }
    }

    /// After a pass whose total weight is `w`: the median and deviation when
    /// the values were collected, or the next bracket.
    fn next(&mut self, w: f64) {
        let half = 0.5 * w;
        if self.collect {
            self.values
                .sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(core::cmp::Ordering::Equal));
            let mut acc = self.below.0;
            let mut med = self.values.first().map_or(self.lo, |v| v.0);
            for &(x, v) in &self.values {
                acc += v;
                med = x;
                if acc >= half && acc > 0.0 {
                    break;
                }
            }
            let m = med - self.c;
            let inside: f64 = self.values.iter().map(|&(x, v)| v * (x - med).abs()).sum();
            let dev = self.below.0 * m - self.below.1 + self.above.1 - self.above.0 * m + inside;
            self.done = Some((med, dev.max(0.0)));
            return;
        }
        let width = (self.hi - self.lo) / BINS as f64;
        let mut acc = self.below.0;
        let mut pick = BINS - 1;
        for (b, bin) in self.bins.iter().enumerate() {
            acc += bin.0;
            if acc >= half && acc > 0.0 {
                pick = b;
                break;
            }
        }
        let lo = self.lo + pick as f64 * width;
        let hi = if pick + 1 == BINS {
            self.hi
        } else {
            self.lo + (pick + 1) as f64 * width
        };
        // A bin that no longer narrows (a width at the spacing of f64) or
        // that few rows fall in is collected next.
        self.collect = self.bins[pick].2 <= COLLECT || !(lo > self.lo || hi < self.hi);
        (self.lo, self.hi) = (lo.max(self.lo), hi.min(self.hi));
    }
}

/// What an E-step under a Laplace model leaves for its M-step.
pub(crate) struct LaplaceStep<T: Scalar> {
    /// `Σ wᵢ ln p(xᵢ)`.
    pub ll: f64,
    /// The least likely row.
    pub worst: Option<Vec<T>>,
    /// `Σ wᵢ rᵢₖ` per component.
    pub nk: Vec<T>,
    /// The noise component's share of the weight (0 without one).
    pub noise: f64,
    /// `(median, Σ wᵢ rᵢₖ |xᵢⱼ − median|)` per cell, component-major.
    pub cells: Vec<(T, T)>,
}

/// A batch's log-densities and responsibilities (`m x K`, or `K + 1`
/// columns with a noise component).
pub(crate) type Responsibilities<'f, T> =
    dyn Fn(Batch<'_, T>) -> Result<(Vec<T>, Mat<T>), FitError> + Sync + 'f;

/// The E-step under `model` and the medians of its responsibilities, over
/// the rows read in batches (see the module's documentation).
pub(crate) fn laplace_step<T: Scalar>(
    rows: &Rows<'_, T>,
    model: &LaplaceMixtureModel<T>,
) -> Result<LaplaceStep<T>, FitError> {
    let loc = model.components().locations();
    let centre = Mat::from_fn(loc.nrows(), loc.ncols(), |c, j| loc[(c, j)].as_f64());
    medians(rows, &centre, &|b| {
        let part = Dataset::from_mat(b.rows)?;
        Ok(model.log_prob_and_responsibilities(&part)?)
    })
}

/// The medians and deviations of the responsibilities `resp` gives, every
/// sum taken about `centre` (`K x D`, the E-step's locations).
pub(crate) fn medians<T: Scalar>(
    rows: &Rows<'_, T>,
    centre: &Mat<f64>,
    resp: &Responsibilities<'_, T>,
) -> Result<LaplaceStep<T>, FitError> {
    let (k, d) = (centre.nrows(), centre.ncols());
    let ranges = rows.ranges();
    let mut cells: Vec<Cell> = (0..k * d)
        .map(|cj| {
            let (lo, hi) = ranges[cj % d];
            Cell {
                lo,
                hi: next_up(hi),
                collect: false,
                c: centre[(cj / d, cj % d)],
                below: (0.0, 0.0),
                above: (0.0, 0.0),
                bins: vec![(0.0, 0.0, 0); BINS],
                values: Vec::new(),
                done: None,
            }
        })
        .collect();
    // The E-step's own results, from the first pass (the later ones repeat it).
    let mut first: Option<FirstPass<T>> = None;
    while cells.iter().any(|c| c.done.is_none()) {
        cells.iter_mut().for_each(Cell::clear);
        let mut ll = 0.0;
        let mut worst = (f64::INFINITY, Vec::new());
        let mut nk = vec![0.0f64; k];
        let mut noise = 0.0;
        rows.for_each_batch(&mut |b: Batch<'_, T>| {
            let (lp, r) = resp(b)?;
            let w = |i: usize| b.weights.map_or(1.0, |w| w[i].as_f64());
            for (i, l) in lp.iter().enumerate() {
                let l = l.as_f64();
                if w(i) > 0.0 {
                    ll += w(i) * l;
                    if l < worst.0 {
                        worst = (l, b.rows.row(i).iter().copied().collect());
                    }
                }
            }
            for (c, n) in nk.iter_mut().enumerate() {
                *n += r
                    .col(c)
                    .iter()
                    .enumerate()
                    .map(|(i, v)| w(i) * v.as_f64())
                    .sum::<f64>();
            }
            if r.ncols() > k {
                noise += r
                    .col(k)
                    .iter()
                    .enumerate()
                    .map(|(i, v)| w(i) * v.as_f64())
                    .sum::<f64>();
            }
            add_batch(&mut cells, b, &r, d);
            Ok(())
        })?;
        for (cj, cell) in cells.iter_mut().enumerate() {
            if cell.done.is_none() {
                cell.next(nk[cj / d]);
            }
        }
        first.get_or_insert(FirstPass {
            ll,
            worst: worst.1,
            nk,
            noise,
        });
    }
    let FirstPass {
        ll,
        worst,
        nk,
        noise,
    } = first.unwrap_or(FirstPass {
        ll: 0.0,
        worst: Vec::new(),
        nk: vec![0.0; k],
        noise: 0.0,
    });
    Ok(LaplaceStep {
        ll,
        worst: (!worst.is_empty()).then_some(worst),
        nk: nk.into_iter().map(T::c).collect(),
        noise,
        cells: cells
            .into_iter()
            .map(|c| {
                let (m, dev) = c.done.unwrap_or((c.lo, 0.0));
                (T::c(m), T::c(dev))
            })
            .collect(),
    })
}

struct FirstPass<T> {
    ll: f64,
    worst: Vec<T>,
    nk: Vec<f64>,
    noise: f64,
}

/// The next `f64` above `x` (finite `x`), so that a bracket `[lo, hi)`
/// holds the largest value.
fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        f64::from_bits(1)
    } else if x > 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

/// Adds a batch's rows to every unfinished cell, the cells in parallel (each
/// cell's sums in row order, so the result does not depend on the threads).
fn add_batch<T: Scalar>(cells: &mut [Cell], b: Batch<'_, T>, r: &Mat<T>, d: usize) {
    cells.par_iter_mut().enumerate().for_each(|(cj, cell)| {
        if cell.done.is_some() {
            return;
        }
        let (c, j) = (cj / d, cj % d);
        let (x, rc) = (b.rows.col(j), r.col(c));
        for i in 0..x.nrows() {
            let v = b.weights.map_or(1.0, |w| w[i].as_f64()) * rc[i].as_f64();
            if v > 0.0 {
                cell.add(x[i].as_f64(), v);
            }
        }
    });
}
