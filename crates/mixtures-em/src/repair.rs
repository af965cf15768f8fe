//! The one repair of degenerate components, for every family: after an
//! M-step, components whose weight collapsed or whose parameters do not make
//! a valid distribution are re-seeded at a data row (the least likely one
//! first) or dropped, by the fit's [`DegeneracyPolicy`], until the model is
//! valid. A family says only how to drop, re-seed and build its components.

use mixtures_core::{Dataset, Scalar};

use crate::FitError;
use crate::common::{degeneracy_action, random_row, remove_weight, reweight_reseeded};
use crate::engine::Restart;
use crate::report::{DegeneracyAction, DegeneracyPolicy, DegeneracyReason};

/// Why a family's parameters did not build into a model.
pub(crate) enum BuildError {
    /// Component `.0` is invalid (`.1` says why): it can be repaired.
    Component(usize, String),
    /// Nothing can be repaired (a shared covariance is singular, say).
    Fatal(FitError),
}

/// The parameters of a family's components after an M-step, as the repair
/// sees them.
pub(crate) trait Components<T: Scalar> {
    /// The model they build into.
    type Model;
    /// Removes component `c`.
    fn remove(&mut self, c: usize);
    /// Moves component `c` to `row` with a broad spread.
    fn reseed(&mut self, c: usize, row: &[T]);
    /// The model with these weights, or why not.
    fn build(&self, weights: Vec<T>) -> Result<Self::Model, BuildError>;
}

/// Where a repair happens, for the degeneracy log; `data` are the rows later
/// re-seeds are drawn from (every row, or a sample of them).
pub(crate) struct Site<'a, T: Scalar> {
    pub data: &'a Dataset<T>,
    pub policy: DegeneracyPolicy,
    pub cx: &'a mut Restart,
}

/// Builds the model from `parts` and `weights`, repairing the components
/// listed in `collapsed` (index and effective number of points) and any that
/// fail to build. The first re-seed goes to `worst` (the least likely row
/// under the previous model, when known), later ones to random rows of
/// positive weight.
pub(crate) fn repair<T: Scalar, C: Components<T>>(
    mut parts: C,
    mut weights: Vec<T>,
    collapsed: &[(usize, f64)],
    worst: Option<Vec<T>>,
    site: Site<'_, T>,
) -> Result<C::Model, FitError> {
    let k = weights.len();
    let mut pending: Vec<(usize, DegeneracyReason)> = collapsed
        .iter()
        .map(|&(c, weight)| (c, DegeneracyReason::Collapsed { weight }))
        .collect();
    // Original indices of the components still present (for the log).
    let mut alive: Vec<usize> = (0..k).collect();
    let mut worst = worst;
    let d = site.data.n_features();
    let mut row = vec![T::zero(); d];
    for _ in 0..=2 * k + 2 {
        if let Some((c, reason)) = pending.pop() {
            let action = degeneracy_action(
                site.policy,
                &mut site.cx.degeneracies,
                site.cx.restart,
                site.cx.iteration,
                alive[c],
                reason,
            );
            if action == DegeneracyAction::Dropped {
                if weights.len() == 1 {
                    return Err(FitError::Degenerate {
                        reason: "the last component degenerated".into(),
                    });
                }
                parts.remove(c);
                weights = remove_weight(&weights, c);
                alive.remove(c);
                for p in &mut pending {
                    if p.0 > c {
                        p.0 -= 1;
                    }
                }
            } else {
                match worst.take() {
                    Some(w) if w.len() == d => row.copy_from_slice(&w),
                    _ => {
                        let i = random_row(site.data, &mut site.cx.rng);
                        let x = site.data.view();
                        for (j, r) in row.iter_mut().enumerate() {
                            *r = x[(i, j)];
                        }
                    }
                }
                parts.reseed(c, &row);
                reweight_reseeded(&mut weights, c);
            }
            continue;
        }
        match parts.build(weights.clone()) {
            Ok(m) => return Ok(m),
            Err(BuildError::Component(c, message)) if c < weights.len() => {
                pending.push((c, DegeneracyReason::Singular { message }));
            }
            Err(BuildError::Component(_, message)) => {
                return Err(FitError::Degenerate { reason: message });
            }
            Err(BuildError::Fatal(e)) => return Err(e),
        }
    }
    Err(FitError::Degenerate {
        reason: "components kept degenerating after re-seeding".into(),
    })
}
