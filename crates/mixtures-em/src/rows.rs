//! The rows an EM fit reads: a data set in memory, or a [`RowSource`] read in
//! batches once per pass. Every pass of a fit goes through [`Rows`]: the
//! E-step's statistics ([`StatsReducer`], a batched pass by default or an
//! engine's own aggregate), the data summary and the initial assignment. An
//! in-memory data set is one batch, so both kinds of fit run the same code.

use std::sync::OnceLock;

use faer::Mat;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::source::{Batch, Fingerprint, RowSource, SourceError};
use mixtures_core::{Dataset, Scalar};
use rand::rngs::StdRng;

use crate::FitError;
use crate::common::Summary;
use crate::init::{Init, initial_centers, nearest_one_hot};
use crate::pass::Source;
use crate::stats::{EStep, GaussianStats, KIND_GIVEN};

/// Rows kept, at most, for the initialization of a fit that reads its rows
/// in batches (a seeded sample of the rows, the same whatever the batches):
/// 100 000, or fewer so that the sample holds at most 64 MiB.
pub const DEFAULT_SAMPLE_ROWS: usize = 100_000;
const SAMPLE_BYTES: usize = 64 << 20;

/// Computes the statistics of an E-step over every row of a source.
/// [`Batched`] reads the source batch by batch; an engine with its own
/// parallel aggregation (a query engine, a cluster) implements it to run one
/// aggregate per E-step whose partial results are merged
/// [`GaussianStats`].
pub trait StatsReducer<T: Scalar>: Sync {
    /// The rows, read in batches for everything but the E-steps (the data
    /// summary, the initialization sample and assignment).
    fn rows(&self) -> &dyn RowSource<T>;

    /// The statistics of an E-step under `model` over every row.
    ///
    /// # Errors
    /// Why the rows could not be read.
    fn reduce(&self, model: EStep<'_, T>, full: bool) -> Result<GaussianStats<T>, FitError>;

    /// The reducer as a [`Batched`] pass, if it is one: a fit then reads
    /// every pass (the first, the E-steps and the others) through it, so
    /// each is compared with the first.
    fn as_batched(&self) -> Option<&Batched<'_, T>> {
        None
    }
}

/// The default [`StatsReducer`]: one pass over the source's batches per
/// E-step, each batch's statistics merged in order. Every pass is
/// fingerprinted ([`Fingerprint`]) and compared with the first: a source that
/// changed between passes is an error, not a silently different fit.
pub struct Batched<'a, T: Scalar> {
    source: &'a dyn RowSource<T>,
    first: OnceLock<Fingerprint>,
    passes: std::sync::atomic::AtomicUsize,
}

impl<'a, T: Scalar> Batched<'a, T> {
    /// Reads `source` in its batches.
    pub fn new(source: &'a dyn RowSource<T>) -> Self {
        Self {
            source,
            first: OnceLock::new(),
            passes: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// One pass calling `f` on each batch, fingerprinted and checked against
    /// the first pass.
    ///
    /// # Errors
    /// A read error, a value that is not finite (named by its place in the
    /// source), [`SourceError::Empty`], [`SourceError::Changed`], or `f`'s.
    pub fn pass(
        &self,
        f: &mut dyn FnMut(Batch<'_, T>) -> Result<(), FitError>,
    ) -> Result<(), FitError> {
        let mut print = Fingerprint::default();
        let mut failure: Option<FitError> = None;
        let read = self.source.for_each_batch(&mut |b| {
            print.add_located(&b, &|row| self.source.locate(row))?;
            f(b).map_err(|e| {
                let text = e.to_string();
                failure = Some(e);
                SourceError::Consumer(text)
            })
        });
        if let Some(e) = failure {
            return Err(e);
        }
        read?;
        let pass = 1 + self
            .passes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if print.rows == 0 {
            return Err(SourceError::Empty {
                location: self.source.describe(),
            }
            .into());
        }
        let first = *self.first.get_or_init(|| print);
        if first != print {
            return Err(SourceError::Changed {
                location: self.source.describe(),
                pass,
                first_rows: first.rows,
                first_checksum: first.checksum,
                rows: print.rows,
                checksum: print.checksum,
            }
            .into());
        }
        Ok(())
    }
}

impl<T: Scalar> StatsReducer<T> for Batched<'_, T> {
    fn rows(&self) -> &dyn RowSource<T> {
        self.source
    }

    fn reduce(&self, model: EStep<'_, T>, full: bool) -> Result<GaussianStats<T>, FitError> {
        let mut st = GaussianStats::new(model, full);
        self.pass(&mut |b| Ok(st.accumulate(model, b)?))?;
        Ok(st)
    }

    fn as_batched(&self) -> Option<&Batched<'_, T>> {
        Some(self)
    }
}

/// The [`Batched`] pass a fit reads its rows through outside the E-steps:
/// the reducer itself when it is one (so that every pass is compared with
/// the same first pass), else one over the reducer's rows.
pub(crate) enum Passes<'a, T: Scalar> {
    Own(Batched<'a, T>),
    Reducer(&'a Batched<'a, T>),
}

impl<'a, T: Scalar> Passes<'a, T> {
    fn of(reducer: &'a dyn StatsReducer<T>) -> Self {
        match reducer.as_batched() {
            Some(b) => Self::Reducer(b),
            None => Self::Own(Batched::new(reducer.rows())),
        }
    }

    fn get(&self) -> &Batched<'a, T> {
        match self {
            Self::Own(b) => b,
            Self::Reducer(b) => b,
        }
    }
}

/// What the first pass over a source learns: the rows' count and total
/// weight, per-feature sums and ranges, and a seeded sample of rows.
pub(crate) struct Scan<T: Scalar> {
    pub n: u64,
    pub total: f64,
    pub mean: Vec<f64>,
    pub range: Vec<(f64, f64)>,
    /// The initialization sample, with its rows' weights.
    pub sample: Dataset<T>,
}

/// The rows of a fit.
pub(crate) enum Rows<'a, T: Scalar> {
    /// Every row in memory.
    Memory(&'a Dataset<T>),
    /// Rows read in batches, once per pass.
    Source {
        reducer: &'a dyn StatsReducer<T>,
        passes: Passes<'a, T>,
        scan: Scan<T>,
    },
    /// Every row in memory, some with missing features.
    Incomplete {
        data: &'a IncompleteDataset<T>,
        /// The complete rows (they take the complete-data pass).
        complete: Option<Dataset<T>>,
        /// The rows with missing cells filled by the columns' observed
        /// means: for the start and re-seeds only.
        filled: Dataset<T>,
    },
}

impl<'a, T: Scalar> Rows<'a, T> {
    /// Rows read through `reducer`: the first pass (count, sums, ranges, the
    /// initialization sample of `sample_rows` rows drawn with `seed`).
    ///
    /// # Errors
    /// As [`Batched::pass`].
    pub fn scan(
        reducer: &'a dyn StatsReducer<T>,
        sample_rows: usize,
        seed: u64,
    ) -> Result<Self, FitError> {
        let passes = Passes::of(reducer);
        let batched = passes.get();
        let d = reducer.rows().n_features();
        let m = sample_rows.min(SAMPLE_BYTES / (8 * (d + 1))).max(1);
        let mut sums = vec![0.0f64; d];
        let mut range = vec![(f64::INFINITY, f64::NEG_INFINITY); d];
        let (mut n, mut total) = (0u64, 0.0f64);
        let mut reservoir = mixtures_core::seed::BottomK::new(m, seed);
        batched.pass(&mut |b| {
            let x = b.rows;
            for j in 0..d {
                let mut s = 0.0;
                let (mut lo, mut hi) = range[j];
                for (i, v) in x.col(j).iter().enumerate() {
                    let v = v.as_f64();
                    s += b.weights.map_or(v, |w| w[i].as_f64() * v);
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                sums[j] += s;
                range[j] = (lo, hi);
            }
            for i in 0..x.nrows() {
                let w = b.weights.map_or(1.0, |w| w[i].as_f64());
                total += w;
                if w > 0.0 {
                    reservoir.offer(b.first + i as u64, || {
                        (x.row(i).iter().copied().collect::<Vec<T>>(), w)
                    });
                }
            }
            n += x.nrows() as u64;
            Ok(())
        })?;
        let mean = sums.iter().map(|s| s / total).collect();
        let (rows, weights): (Vec<Vec<T>>, Vec<T>) = reservoir
            .into_sorted()
            .into_iter()
            .map(|(r, w)| (r, T::c(w)))
            .unzip();
        let mut sample = Dataset::from_rows(&rows)?;
        if weights.iter().any(|&w| w != T::one()) {
            sample = sample.with_weights(weights)?;
        }
        Ok(Self::Source {
            reducer,
            passes,
            scan: Scan {
                n,
                total,
                mean,
                range,
                sample,
            },
        })
    }

    /// Rows with missing cells (none complete-only: see
    /// [`IncompleteDataset::complete_rows`]).
    pub fn incomplete(data: &'a IncompleteDataset<T>) -> Self {
        Self::Incomplete {
            data,
            complete: data.complete_rows().map(|(c, _)| c),
            filled: data.mean_filled(),
        }
    }

    pub fn n_features(&self) -> usize {
        match self {
            Self::Memory(d) => d.n_features(),
            Self::Source { scan, .. } => scan.mean.len(),
            Self::Incomplete { data, .. } => data.n_features(),
        }
    }

    pub fn total_weight(&self) -> f64 {
        match self {
            Self::Memory(d) => d.total_weight(),
            Self::Source { scan, .. } => scan.total,
            Self::Incomplete { data, .. } => data.total_weight(),
        }
    }

    pub fn n_rows(&self) -> u64 {
        match self {
            Self::Memory(d) => d.n_samples() as u64,
            Self::Source { scan, .. } => scan.n,
            Self::Incomplete { data, .. } => data.n_samples() as u64,
        }
    }

    /// The data in memory, if they are (and complete).
    pub fn memory(&self) -> Option<&'a Dataset<T>> {
        match self {
            Self::Memory(d) => Some(d),
            Self::Source { .. } | Self::Incomplete { .. } => None,
        }
    }

    /// The data with missing cells, if they are.
    pub fn incomplete_data(&self) -> Option<&'a IncompleteDataset<T>> {
        match self {
            Self::Incomplete { data, .. } => Some(data),
            Self::Memory(_) | Self::Source { .. } => None,
        }
    }

    /// Rows re-seeds may be drawn from: every row, the sample, or the rows
    /// with missing cells filled.
    pub fn reseed_rows(&self) -> &Dataset<T> {
        match self {
            Self::Memory(d) => d,
            Self::Source { scan, .. } => &scan.sample,
            Self::Incomplete { filled, .. } => filled,
        }
    }

    /// The statistics of an E-step under `model`: in memory with the row
    /// weights `kept` (the data's, or a trimmed fit's), otherwise through
    /// the reducer (`kept` is not read).
    pub fn e_step(
        &self,
        model: EStep<'_, T>,
        full: bool,
        kept: Option<&[T]>,
    ) -> Result<GaussianStats<T>, FitError> {
        match self {
            Self::Memory(d) => {
                let mut st = GaussianStats::new(model, full);
                st.accumulate(
                    model,
                    Batch {
                        rows: d.view(),
                        weights: kept,
                        first: 0,
                    },
                )?;
                Ok(st)
            }
            Self::Source { reducer, .. } => reducer.reduce(model, full),
            Self::Incomplete { data, complete, .. } => {
                let mut st = GaussianStats::new(model, full);
                if let Some(c) = complete {
                    st.accumulate(
                        model,
                        Batch {
                            rows: c.view(),
                            weights: c.weights(),
                            first: 0,
                        },
                    )?;
                }
                crate::missing::add_incomplete(&mut st, model, data)?;
                Ok(st)
            }
        }
    }

    /// The statistics under given responsibilities, every component shifted
    /// to `shift`: `resp(batch)` gives a batch's rows' responsibilities.
    pub fn given(
        &self,
        k: usize,
        shift: &[T],
        full: bool,
        resp: &dyn Fn(Batch<'_, T>) -> Mat<T>,
    ) -> Result<GaussianStats<T>, FitError> {
        let mut st = given_layout(k, shift, full);
        let mut add = |b: Batch<'_, T>| -> Result<(), FitError> {
            let r = resp(b);
            Ok(st.add_pass(b, Source::Resp(r.as_ref()))?)
        };
        match self {
            Self::Memory(data) => add(Batch {
                rows: data.view(),
                weights: data.weights(),
                first: 0,
            })?,
            Self::Source { passes, .. } => passes.get().pass(&mut add)?,
            Self::Incomplete { filled, .. } => add(Batch {
                rows: filled.view(),
                weights: filled.weights(),
                first: 0,
            })?,
        }
        Ok(st)
    }

    /// The summary of the rows (as [`crate::common::summarize`]): means from
    /// the first pass, the variances (and covariance when `full`) from a
    /// pass under one component shifted to the mean.
    pub fn summary(&self, full: bool) -> Result<Summary<T>, FitError> {
        match self {
            Self::Memory(d) => Ok(crate::common::summarize(d, full)),
            // The filled rows' summary: it only scales the start, priors and
            // re-seeds (mean filling shrinks the variances a little).
            Self::Incomplete { filled, .. } => Ok(crate::common::summarize(filled, full)),
            Self::Source { scan, .. } => {
                let mean: Vec<T> = scan.mean.iter().map(|&m| T::c(m)).collect();
                let st = self.given(1, &mean, full, &|b| {
                    Mat::from_fn(b.rows.nrows(), 1, |_, _| T::one())
                })?;
                let (st, _) = st.finished();
                Ok(crate::common::summary_from(mean, &st, scan.total, full))
            }
        }
    }

    /// The initial responsibilities' statistics of one restart: in memory,
    /// the initialization on every row; otherwise the centres of `init` on
    /// the sample, every row assigned to the nearest.
    pub fn initial(
        &self,
        init: Init,
        k: usize,
        shift: &[T],
        full: bool,
        rng: &mut StdRng,
    ) -> Result<GaussianStats<T>, FitError> {
        let in_memory = match self {
            Self::Memory(d) => Some(*d),
            // The start only: k-means on the rows with their gaps filled.
            Self::Incomplete { filled, .. } => Some(filled),
            Self::Source { .. } => None,
        };
        match (in_memory, self) {
            (Some(d), _) => {
                let resp = crate::init::initial_responsibilities(init, d, k, rng);
                let mut st = given_layout(k, shift, full);
                let rows = Batch {
                    rows: d.view(),
                    weights: d.weights(),
                    first: 0,
                };
                st.add_pass(rows, Source::Resp(resp.as_ref()))?;
                Ok(st)
            }
            (None, Self::Source { scan, .. }) => {
                let centers = initial_centers(init, &scan.sample, k, rng).ok_or(
                    FitError::NeedsRowsInMemory {
                        what: "random initial responsibilities",
                    },
                )?;
                self.given(k, shift, full, &|b| nearest_one_hot(b.rows, &centers))
            }
            // Not reached: rows in memory are matched above.
            (None, _) => Ok(given_layout(k, shift, full)),
        }
    }

    /// The summary of every row in memory, or of the sample (never needed
    /// out of core, where the fit takes [`Rows::summary`] first).
    pub fn fallback_summary(&self) -> Summary<T> {
        crate::common::summarize(self.reseed_rows(), false)
    }

    /// One pass over the rows (one batch in memory).
    ///
    /// # Errors
    /// As [`Batched::pass`], or `f`'s.
    pub fn for_each_batch(
        &self,
        f: &mut dyn FnMut(Batch<'_, T>) -> Result<(), FitError>,
    ) -> Result<(), FitError> {
        match self {
            Self::Memory(d) => f(Batch {
                rows: d.view(),
                weights: d.weights(),
                first: 0,
            }),
            Self::Source { passes, .. } => passes.get().pass(f),
            Self::Incomplete { .. } => Err(FitError::MissingValues {
                what: "a pass over complete rows",
            }),
        }
    }

    /// The per-feature ranges, for the scale check.
    pub fn ranges(&self) -> Vec<(f64, f64)> {
        match self {
            Self::Memory(d) => (0..d.n_features()).map(|j| d.column_range(j)).collect(),
            Self::Source { scan, .. } => scan.range.clone(),
            Self::Incomplete { filled, .. } => (0..filled.n_features())
                .map(|j| filled.column_range(j))
                .collect(),
        }
    }
}

/// Empty statistics under given responsibilities, every component shifted
/// to `shift`.
fn given_layout<T: Scalar>(k: usize, shift: &[T], full: bool) -> GaussianStats<T> {
    let shifts = Mat::from_fn(k, shift.len(), |_, j| shift[j]);
    let reference = (!full).then(|| shift.iter().map(|v| v.as_f64()).collect());
    GaussianStats::with_layout(KIND_GIVEN, full, shifts, reference, k)
}
