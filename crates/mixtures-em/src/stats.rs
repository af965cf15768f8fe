//! The sufficient statistics of Gaussian and Student-t EM: what one pass over
//! the rows leaves for the M-step. [`GaussianStats`] is the public, mergeable
//! and serializable form: partial statistics of any split of the rows (batches
//! of a file, partitions of a query engine, machines) merge into those of all
//! rows, and the M-step reads only them.

use faer::Mat;
use mixtures_core::Scalar;
use mixtures_core::source::Batch;
use mixtures_dist::{GaussianMixtureModel, StudentTMixtureModel};

use crate::Scatter;
use crate::pass::{Source, product_reference, raw_pass};

/// Weighted sufficient statistics of a block of rows (or of all of them).
#[derive(Clone)]
pub(crate) struct Stats<T: Scalar> {
    /// `Σ wᵢ rᵢₖ`.
    pub nk: Vec<T>,
    /// `K x D`: `Σ wᵢ rᵢₖ (xᵢ − cₖ)`.
    pub s: Mat<T>,
    /// Per component, the lower triangle of `Σ wᵢ rᵢₖ (xᵢ − cₖ)(xᵢ − cₖ)ᵀ` (full
    /// scatter only). During the pass each is the `(D + 1) x (D + 1)` Gram matrix
    /// of the rows `√(wr)·[x − c, 1]`, whose last row holds `s` and `nk`; see
    /// `Stats::finish`.
    pub full: Vec<Mat<T>>,
    /// `K x D`: `Σ wᵢ rᵢₖ (xᵢ − cₖ)²` (diagonal scatter only).
    pub diag: Mat<T>,
    /// `K x 2D`, diagonal moments by products only: `[Σ wᵢ rᵢₖ yᵢ, Σ wᵢ rᵢₖ yᵢ²]`
    /// with `y = x − c` about the common reference, in `f64`; turned into `s`
    /// and `diag` by `Stats::shift_from` after the pass.
    pub axis: Mat<f64>,
    /// `Σ wᵢ ln p(xᵢ)` under the model of the E-step (0 for given responsibilities).
    pub ll: f64,
    /// The least likely row and its log-density (for re-seeding degenerate
    /// components); under given responsibilities, the row farthest from the shift.
    pub worst: (f64, usize),
    /// Student-t E-step only: `Σ wᵢ rᵢₖ` (`nk` is then `Σ wᵢ rᵢₖ uᵢₖ`).
    pub mass: Vec<T>,
    /// Student-t E-step only: `Σ wᵢ rᵢₖ (ln uᵢₖ − uᵢₖ)`, for the update of
    /// the degrees of freedom.
    pub u_term: Vec<f64>,
    /// `Σ wᵢ rᵢ₀`, the weight a noise component claims (0 without one).
    pub noise: f64,
}

impl<T: Scalar> Stats<T> {
    pub(crate) fn zeros(k: usize, d: usize, full: bool, products: bool) -> Self {
        Self {
            axis: if products {
                Mat::zeros(k, 2 * d)
            } else {
                Mat::zeros(0, 0)
            },
            nk: vec![T::zero(); k],
            s: Mat::zeros(k, d),
            full: if full {
                (0..k).map(|_| Mat::zeros(d + 1, d + 1)).collect()
            } else {
                Vec::new()
            },
            diag: if full {
                Mat::zeros(0, 0)
            } else {
                Mat::zeros(k, d)
            },
            ll: 0.0,
            worst: (f64::INFINITY, usize::MAX),
            mass: vec![T::zero(); k],
            u_term: vec![0.0; k],
            noise: 0.0,
        }
    }

    /// Turns the diagonal moments accumulated about the common reference `c`
    /// ([`Stats::axis`]) into `s` and `diag` about each component's shift
    /// `cₖ`: with `m = cₖ − c`, `Σ r (x − cₖ) = s − n m` and
    /// `Σ r (x − cₖ)² = q − m (2 s − n m)`, in `f64`. The terms are of size
    /// `n (σ² + m²)` where the result is of size `n σ²`: the relative error is
    /// about `(2 m²/σ² + 3) ε`, which the model's product-form limit bounds.
    pub(crate) fn shift_from(&mut self, c: &[f64], shifts: &Mat<T>) {
        let d = c.len();
        for (k, &n) in self.nk.iter().enumerate() {
            let n = n.as_f64();
            for (j, &cj) in c.iter().enumerate() {
                let m = shifts[(k, j)].as_f64() - cj;
                let (s, q) = (self.axis[(k, j)], self.axis[(k, d + j)]);
                self.diag[(k, j)] = T::c(q - m * (2.0 * s - n * m));
                self.s[(k, j)] = T::c(s - n * m);
            }
        }
    }

    /// Moves `s` and `nk` out of the augmented Gram matrices of a full-scatter
    /// pass and leaves the `D x D` scatter.
    pub(crate) fn finish(mut self) -> Self {
        for (c, g) in self.full.iter_mut().enumerate() {
            let d = g.nrows() - 1;
            for j in 0..d {
                self.s[(c, j)] = g[(d, j)];
            }
            self.nk[c] = g[(d, d)];
            *g = g.as_ref().submatrix(0, 0, d, d).to_owned();
        }
        self
    }

    /// The counts (with `10 ε` added, so that an empty component never divides
    /// by zero, as in scikit-learn), the weighted means and the scatter about
    /// them (full or diagonal), from statistics accumulated about `shifts`.
    pub fn moments(&self, shifts: &Mat<T>, full: bool) -> (Vec<T>, Mat<T>, Scatter<T>) {
        let (k, d) = (self.nk.len(), shifts.ncols());
        let guard = T::c(10.0) * T::epsilon();
        let nk: Vec<T> = self.nk.iter().map(|&v| v + guard).collect();
        let means = Mat::from_fn(k, d, |c, j| shifts[(c, j)] + self.s[(c, j)] / nk[c]);
        let scatter = if full {
            Scatter::Full(
                (0..k)
                    .map(|c| {
                        Mat::from_fn(d, d, |i, j| {
                            let (a, b) = if i >= j { (i, j) } else { (j, i) };
                            self.full[c][(a, b)] - self.s[(c, a)] * self.s[(c, b)] / nk[c]
                        })
                    })
                    .collect(),
            )
        } else {
            Scatter::Diagonal(Mat::from_fn(k, d, |c, j| {
                let v = self.diag[(c, j)] - self.s[(c, j)] * self.s[(c, j)] / nk[c];
                if v > T::zero() { v } else { T::zero() }
            }))
        };
        (nk, means, scatter)
    }

    pub(crate) fn merge(&mut self, o: &Self) {
        for (a, b) in self.nk.iter_mut().zip(&o.nk) {
            *a += *b;
        }
        self.s += &o.s;
        for (a, b) in self.full.iter_mut().zip(&o.full) {
            *a += b;
        }
        self.diag += &o.diag;
        self.axis += &o.axis;
        self.ll += o.ll;
        for (a, b) in self.mass.iter_mut().zip(&o.mass) {
            *a += *b;
        }
        for (a, b) in self.u_term.iter_mut().zip(&o.u_term) {
            *a += *b;
        }
        self.noise += o.noise;
        // Lowest value wins; ties go to the earlier row.
        if o.worst.0 < self.worst.0 || (o.worst.0 == self.worst.0 && o.worst.1 < self.worst.1) {
            self.worst = o.worst;
        }
    }
}

/// The model of the E-step a [`GaussianStats`] is accumulated under.
#[derive(Clone, Copy, Debug)]
pub enum EStep<'a, T: Scalar> {
    /// A Gaussian mixture (every covariance structure).
    Gaussian(&'a GaussianMixtureModel<T>),
    /// A Student-t mixture: the statistics are weighted by the latent
    /// precisions `uᵢₖ`, with the mass `Σ rᵢₖ` and `Σ rᵢₖ (ln uᵢₖ − uᵢₖ)` for
    /// the degrees of freedom.
    StudentT(&'a StudentTMixtureModel<T>),
}

impl<'a, T: Scalar> EStep<'a, T> {
    fn means(self) -> faer::MatRef<'a, T> {
        match self {
            Self::Gaussian(m) => m.components().means(),
            Self::StudentT(m) => m.components().means(),
        }
    }

    fn kind(self) -> u8 {
        match self {
            Self::Gaussian(_) => KIND_GAUSSIAN,
            Self::StudentT(_) => KIND_STUDENT_T,
        }
    }

    fn columns(self) -> usize {
        match self {
            Self::Gaussian(m) => m.n_columns(),
            Self::StudentT(m) => m.n_columns(),
        }
    }

    pub(crate) fn source(self) -> Source<'a, T> {
        match self {
            Self::Gaussian(m) => Source::Model(m),
            Self::StudentT(m) => Source::StudentT(m),
        }
    }
}

pub(crate) const KIND_GAUSSIAN: u8 = 1;
pub(crate) const KIND_STUDENT_T: u8 = 2;
/// Given responsibilities (the M-step after initialization).
pub(crate) const KIND_GIVEN: u8 = 3;

/// Why statistics could not be accumulated, merged or read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// Statistics of another model, structure or shape.
    #[error("statistics do not match: {0}")]
    Mismatch(String),
    /// Bytes that are not statistics written by [`GaussianStats::to_bytes`].
    #[error("not mixture statistics: {0}")]
    Format(String),
}

/// The sufficient statistics of one E-step of Gaussian (every structure) or
/// Student-t EM over some rows, mergeable across any split of the rows.
///
/// Per component `k`: `Σ wᵢ rᵢₖ`, `Σ wᵢ rᵢₖ (xᵢ − cₖ)` and the second moments
/// `Σ wᵢ rᵢₖ (xᵢ − cₖ)(xᵢ − cₖ)ᵀ` (full structures) or their diagonal, about
/// shifts `cₖ` fixed by the model (its means, so that the scatter about the
/// new means loses no digits to the data's offset); the log-likelihood; the
/// least likely row (a re-seed for a collapsed component). Statistics of two
/// sets of rows under the same model [`merge`](GaussianStats::merge) into
/// those of both; [`to_bytes`](GaussianStats::to_bytes) writes them compactly
/// (docs/formats.md) for engines that move partial results between
/// processes. The in-memory fits accumulate the same type.
///
/// ```
/// use mixtures_core::Dataset;
/// use mixtures_core::source::Batch;
/// use mixtures_em::{Covariance, EStep, GaussianMixture, GaussianStats};
///
/// let rows: Vec<[f64; 2]> = (0..400)
///     .map(|i| { let t = i as f64 * 0.37; [t.sin() + 5.0 * (i % 2) as f64, t.cos()] })
///     .collect();
/// let data = Dataset::from_rows(&rows)?;
/// let model = GaussianMixture::params(2).seed(3).fit(&data)?.model;
/// let full = true;
/// // Two halves accumulated apart, the second sent as bytes, then merged.
/// let x = data.view();
/// let mut a = GaussianStats::new(EStep::Gaussian(&model), full);
/// a.accumulate(EStep::Gaussian(&model), Batch { rows: x.subrows(0, 150), weights: None, first: 0 })?;
/// let mut b = GaussianStats::new(EStep::Gaussian(&model), full);
/// b.accumulate(EStep::Gaussian(&model), Batch { rows: x.subrows(150, 250), weights: None, first: 150 })?;
/// a.merge(&GaussianStats::from_bytes(&b.to_bytes())?)?;
/// let mut all = GaussianStats::new(EStep::Gaussian(&model), full);
/// all.accumulate(EStep::Gaussian(&model), Batch { rows: x, weights: None, first: 0 })?;
/// assert_eq!(a.n_rows(), 400);
/// assert!((a.log_likelihood() - all.log_likelihood()).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct GaussianStats<T: Scalar> {
    pub(crate) kind: u8,
    pub(crate) full: bool,
    pub(crate) shifts: Mat<T>,
    pub(crate) reference: Option<Vec<f64>>,
    pub(crate) columns: usize,
    pub(crate) raw: Stats<T>,
    /// The values of the least likely row (`raw.worst`), empty before any.
    pub(crate) worst_row: Vec<T>,
    pub(crate) rows: u64,
}

impl<T: Scalar> core::fmt::Debug for GaussianStats<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GaussianStats")
            .field("components", &self.shifts.nrows())
            .field("features", &self.shifts.ncols())
            .field("rows", &self.rows)
            .field("log_likelihood", &self.raw.ll)
            .finish_non_exhaustive()
    }
}

impl<T: Scalar> GaussianStats<T> {
    /// Zero statistics for an E-step under `model`; `full` asks for the full
    /// second moments (what [`crate::CovarianceConstraint::needs_full_scatter`]
    /// says), otherwise their diagonal.
    pub fn new(model: EStep<'_, T>, full: bool) -> Self {
        let shifts = model.means().to_owned();
        let reference = product_reference(model.source(), &shifts, full)
            .map(|c| c.iter().map(|v| v.as_f64()).collect::<Vec<_>>());
        Self::with_layout(model.kind(), full, shifts, reference, model.columns())
    }

    pub(crate) fn with_layout(
        kind: u8,
        full: bool,
        shifts: Mat<T>,
        reference: Option<Vec<f64>>,
        columns: usize,
    ) -> Self {
        let (k, d) = (shifts.nrows(), shifts.ncols());
        Self {
            kind,
            full,
            raw: Stats::zeros(k, d, full, reference.is_some()),
            shifts,
            reference,
            columns,
            worst_row: Vec::new(),
            rows: 0,
        }
    }

    /// Adds the statistics of a batch of rows under `model` (the model these
    /// statistics were created for).
    ///
    /// # Errors
    /// [`StatsError::Mismatch`] if `model` is another model (other means or
    /// another family) or the batch has another number of features.
    pub fn accumulate(
        &mut self,
        model: EStep<'_, T>,
        batch: Batch<'_, T>,
    ) -> Result<(), StatsError> {
        if model.kind() != self.kind || model.means() != self.shifts.as_ref() {
            return Err(StatsError::Mismatch(
                "accumulated under another model than the statistics were made for".into(),
            ));
        }
        self.add_pass(batch, model.source())
    }

    /// Adds a batch under any source of responsibilities (`Source::Resp`
    /// rows are the batch's own).
    pub(crate) fn add_pass(
        &mut self,
        batch: Batch<'_, T>,
        src: Source<'_, T>,
    ) -> Result<(), StatsError> {
        let d = self.shifts.ncols();
        if batch.rows.ncols() != d {
            return Err(StatsError::Mismatch(format!(
                "a batch of {} features for statistics of {d}",
                batch.rows.ncols()
            )));
        }
        if batch.rows.nrows() == 0 {
            return Ok(());
        }
        let part = raw_pass(
            batch.rows,
            batch.weights,
            src,
            &self.shifts,
            self.full,
            self.reference.as_deref(),
        );
        let mut part = part;
        let (lp, local) = part.worst;
        let before = self.raw.worst;
        part.worst = (lp, local.saturating_add(batch.first as usize));
        self.raw.merge(&part);
        if self.raw.worst != before && local < batch.rows.nrows() {
            self.worst_row = batch.rows.row(local).iter().copied().collect();
        }
        self.rows += batch.rows.nrows() as u64;
        Ok(())
    }

    /// Adds the statistics of other rows under the same model.
    ///
    /// # Errors
    /// [`StatsError::Mismatch`] if they were accumulated under another model
    /// or structure.
    pub fn merge(&mut self, other: &Self) -> Result<(), StatsError> {
        if other.kind != self.kind
            || other.full != self.full
            || other.columns != self.columns
            || other.shifts != self.shifts
            || other.reference != self.reference
        {
            return Err(StatsError::Mismatch(
                "statistics of another model or structure".into(),
            ));
        }
        let before = self.raw.worst;
        self.raw.merge(&other.raw);
        if self.raw.worst != before {
            self.worst_row.clone_from(&other.worst_row);
        }
        self.rows += other.rows;
        Ok(())
    }

    /// Rows accumulated.
    pub fn n_rows(&self) -> u64 {
        self.rows
    }

    /// `Σ wᵢ ln p(xᵢ)` under the model of the E-step.
    pub fn log_likelihood(&self) -> f64 {
        self.raw.ll
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        self.shifts.nrows()
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.shifts.ncols()
    }

    /// The statistics in the form the M-step reads ([`Stats::finish`] and
    /// [`Stats::shift_from`] applied), and the least likely row.
    pub(crate) fn finished(&self) -> (Stats<T>, Option<Vec<T>>) {
        let mut st = self.raw.clone().finish();
        if let Some(c) = self.reference.as_deref() {
            st.shift_from(c, &self.shifts);
        }
        let worst = (!self.worst_row.is_empty()).then(|| self.worst_row.clone());
        (st, worst)
    }
}
