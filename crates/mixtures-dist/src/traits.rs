//! Capability traits of a component family. A family is the set of `K` component
//! distributions of a mixture (not a single component), because some families
//! share parameters across components (a tied covariance) and because block
//! evaluation is fastest when a family sees all of its components at once.

use faer::{MatMut, MatRef};
use mixtures_core::{DataError, Dataset, Scalar};
use rand::Rng;

/// Shape of a component family: `K` components over `D` dimensions.
pub trait Components<T: Scalar>: Clone + core::fmt::Debug + Send + Sync {
    /// Number of components `K` (at least 1).
    fn n_components(&self) -> usize;
    /// Dimension `D` of each component (at least 1).
    fn dim(&self) -> usize;
    /// The family and the exact structure of the components.
    fn spec(&self) -> crate::ModelSpec;
    /// Short name of the family, as written in model files (`"gaussian"`, `"laplace"`).
    fn family(&self) -> &'static str {
        self.spec().family().as_str()
    }
}

/// Log-densities of a block of samples under each component.
pub trait LogDensity<T: Scalar>: Components<T> {
    /// Working memory for one block, allocated once per thread and reused, so
    /// that evaluation allocates nothing per sample.
    type Scratch: Send;

    /// Allocates scratch for blocks of up to `max_rows` rows.
    fn scratch(&self, max_rows: usize) -> Self::Scratch;

    /// Writes `ln p_k(xᵢ)` into `out[(i, k)]` for every row `i` of `x` (`m x D`,
    /// `m <= max_rows`) and component `k` (`out` is `m x K`).
    fn log_density_block(&self, x: MatRef<'_, T>, out: MatMut<'_, T>, scratch: &mut Self::Scratch);
}

/// Drawing samples from a component.
pub trait Sample<T: Scalar>: Components<T> {
    /// Writes one draw from component `k` into `out` (length `D`).
    fn sample_component<R: Rng + ?Sized>(&self, k: usize, rng: &mut R, out: &mut [T]);
}

/// Number of free parameters, for information criteria.
pub trait FreeParameters {
    /// Free parameters of the components (means, covariances, scales), not
    /// counting the `K - 1` free mixing weights.
    fn n_free_parameters(&self) -> usize;
}

/// A fitted density model that can score points: any [`crate::Mixture`] (of any
/// component family) and [`crate::AnyMixture`].
pub trait DensityModel<T: Scalar>: Clone + core::fmt::Debug + Send + Sync {
    /// Dimension of the points.
    fn dim(&self) -> usize;

    /// `ln p(x)` of every row.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError>;

    /// The most likely component of every row: the `k` maximizing
    /// `wₖ pₖ(x)` (ties go to the lower index).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError>;

    /// Anomaly scores `−ln p(x)`: higher is more anomalous.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    fn anomaly_scores(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        let mut s = self.log_prob(data)?;
        for v in &mut s {
            *v = -*v;
        }
        Ok(s)
    }
}

impl<T: Scalar, C: LogDensity<T>> DensityModel<T> for crate::Mixture<T, C> {
    fn dim(&self) -> usize {
        crate::Mixture::dim(self)
    }
    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        crate::Mixture::log_prob(self, data)
    }
    fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        self.predict(data)
    }
}

impl<T: Scalar> DensityModel<T> for crate::AnyMixture<T> {
    fn dim(&self) -> usize {
        crate::AnyMixture::dim(self)
    }
    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        crate::AnyMixture::log_prob(self, data)
    }
    fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        self.predict(data)
    }
}
