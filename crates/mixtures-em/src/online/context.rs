//! What an online M-step reads besides the running statistics, and the
//! E-step of one batch.

use mixtures_core::source::Batch;
use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::GaussianMixtureModel;

use crate::common::{Summary, fallback_variance, summarize};
use crate::mstep::{MStepEnv, ResolvedPrior};
use crate::regularize::RegContext;
use crate::stats::{EStep, GaussianStats};
use crate::{FitError, GaussianParams};

/// What the M-step reads besides the statistics, taken from the first batch
/// (so that a prior or a regularizer does not move with each batch).
pub(super) struct Context<T: Scalar> {
    summary: Summary<T>,
    ctx: RegContext<T>,
    pub(super) prior: Option<ResolvedPrior<T>>,
    k: usize,
}

impl<T: Scalar> core::fmt::Debug for Context<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("k", &self.k)
            .finish_non_exhaustive()
    }
}

impl<T: Scalar> Context<T> {
    pub(super) fn new(
        params: &GaussianParams<T>,
        batch: &Dataset<T>,
        k: usize,
        full: bool,
    ) -> Self {
        let spec = params.regularizers.iter().find_map(|r| r.prior().cloned());
        let summary = summarize(batch, spec.is_some() && full);
        let prior = spec.map(|ps| ResolvedPrior::resolve(&ps, &summary, k, batch.n_samples()));
        let ctx = RegContext {
            data_variance: summary.var.clone(),
            n_components: k,
        };
        Self {
            summary,
            ctx,
            prior,
            k,
        }
    }
}

/// The M-step's view of one online update.
pub(super) struct Env<'a, T: Scalar> {
    pub context: &'a Context<T>,
    pub reg_covar: f64,
    pub total: f64,
    pub rows: &'a Dataset<T>,
}

impl<T: Scalar> MStepEnv<T> for Env<'_, T> {
    fn ctx(&self) -> &RegContext<T> {
        &self.context.ctx
    }

    fn fallback(&self, j: usize) -> T {
        fallback_variance(&self.context.summary, self.context.k, self.reg_covar, j)
    }

    fn total_weight(&self) -> f64 {
        self.total
    }

    fn reseed_rows(&self) -> &Dataset<T> {
        self.rows
    }
}

/// The statistics of one E-step of `batch` under `model`.
pub(super) fn e_step<T: Scalar>(
    model: &GaussianMixtureModel<T>,
    batch: &Dataset<T>,
    full: bool,
) -> Result<GaussianStats<T>, FitError> {
    let mut st = GaussianStats::new(EStep::Gaussian(model), full);
    st.accumulate(
        EStep::Gaussian(model),
        Batch {
            rows: batch.view(),
            weights: batch.weights(),
            first: 0,
        },
    )?;
    Ok(st)
}

/// A source's batch as a checked data set (one copy of the batch).
pub(super) fn batch_dataset<T: Scalar>(b: Batch<'_, T>) -> Result<Dataset<T>, DataError> {
    let data = Dataset::from_mat(b.rows)?;
    match b.weights {
        Some(w) => data.with_weights(w.to_vec()),
        None => Ok(data),
    }
}
