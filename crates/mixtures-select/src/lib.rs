//! Model selection for the mixtures of the workspace: how many components, and
//! which covariance structure or family?
//!
//! Three answers:
//! - [`criteria`]: AIC, BIC and ICL of a fitted model (scikit-learn's sign,
//!   lower is better; mclust's opposite sign on request), with parameter counts
//!   equal to scikit-learn's and mclust's;
//! - [`Grid`]: fit every (number of components, structure) cell, in parallel and
//!   deterministically for a seed, and keep the best by a criterion; cells that
//!   cannot be fitted are skipped and reported in the table;
//! - [`VariationalGaussianMixture`]: a variational Bayesian Gaussian mixture
//!   (scikit-learn's `BayesianGaussianMixture`) whose superfluous components
//!   empty out, so that the number of components with weight left estimates
//!   the number of clusters.
//!
//! ```
//! use faer::mat;
//! use mixtures_core::Dataset;
//! use mixtures_dist::{Gaussian, Mixture};
//! use mixtures_dist::ModelSpec;
//! use mixtures_select::{Criterion, Grid, VariationalGaussianMixture};
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! // 600 points from three round clusters.
//! let centres = mat![[0.0_f64, 0.0], [10.0, 0.0], [0.0, 10.0]];
//! let truth = Mixture::new(
//!     vec![0.4, 0.3, 0.3],
//!     Gaussian::spherical(centres, vec![1.0, 1.5, 0.7])?,
//! )?;
//! let (x, _) = truth.sample(600, &mut StdRng::seed_from_u64(5));
//! let data = Dataset::from_mat(x.as_ref())?;
//!
//! // BIC over k = 1..=5 and scikit-learn's four covariance types.
//! let sel = Grid::new(1..=5)
//!     .structures(ModelSpec::SKLEARN)
//!     .criterion(Criterion::Bic)
//!     .seed(1)
//!     .fit(&data)?;
//! assert_eq!(sel.best_cell().k, 3);
//! let bic = sel.best_cell().criterion(Criterion::Bic).ok_or("no BIC")?;
//! assert!(sel.cells.iter().filter_map(|c| c.criterion(Criterion::Bic)).all(|v| v >= bic));
//!
//! // A variational fit with room for 8 components keeps 3.
//! let vb = VariationalGaussianMixture::params(8).seed(1).fit(&data)?;
//! assert_eq!(vb.n_effective_components(), 3);
//! assert!(vb.report.lower_bound_trace.windows(2).all(|w| w[1] >= w[0] - 1e-9 * w[0].abs()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod criteria;
mod error;
mod grid;
mod incomplete;
mod search;

pub use criteria::{Criterion, Scores};
pub use error::SelectError;
pub use grid::{Cell, CellOutcome, Grid, MAX_GRID_KS, Selection, collect_ks};
/// The variational fit lives next to EM, in `mixtures_em::variational`; its
/// names stay importable from here.
pub use mixtures_em::variational::{
    CovariancePrior, Posterior, Prior, VariationalFit, VariationalGaussianMixture,
    VariationalParams, VariationalState, WeightConcentration, WeightPrior,
};
pub use search::{DEFAULT_SEARCH_ROWS, Search};
