//! Marginal mixtures: the distribution of a subset of the features. The
//! marginal of a Gaussian, Student-t or Laplace component on some features is
//! a component of the same family with the parameters of those features (the
//! sub-vector of the mean, the sub-matrix of the covariance or scale matrix,
//! the same degrees of freedom), and the mixing weights do not change. Rows
//! with missing features are explained through it (the explanation of a row
//! on its observed features is that of the marginal mixture).
//!
//! ```
//! use mixtures_dist::{Gaussian, Marginal, Mixture};
//! use faer::mat;
//!
//! let g = Gaussian::full(mat![[0.0, 1.0, 2.0]], vec![mat![
//!     [1.0, 0.5, 0.0],
//!     [0.5, 2.0, 0.3],
//!     [0.0, 0.3, 3.0],
//! ]])?;
//! let m = Mixture::new(vec![1.0_f64], g)?;
//! let sub = m.marginal(&[2, 0])?;
//! assert_eq!(sub.components().mean(0), &[2.0, 0.0]);
//! assert_eq!(sub.components().covariance_matrix(0)[(0, 1)], 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use faer::Mat;
use mixtures_core::Scalar;

use crate::{
    AnyMixture, Covariances, Gaussian, Laplace, LaplaceScales, Mixture, ModelError, StudentT,
};

/// Components (or mixtures) whose marginal on a subset of the features is of
/// the same kind.
pub trait Marginal: Sized {
    /// The marginal on `features` (indices, in that order: the result's
    /// feature `j` is `features[j]`).
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] for an empty list, an index out of
    /// range or one given twice; for a mixture, [`ModelError::Unsupported`]
    /// when it has a noise component (a uniform box has no marginal density
    /// on the scale of the others).
    fn marginal(&self, features: &[usize]) -> Result<Self, ModelError>;
}

/// Checks that `features` are distinct indices below `d`, at least one.
fn check_features(features: &[usize], d: usize) -> Result<(), ModelError> {
    let repeated = features
        .iter()
        .enumerate()
        .any(|(i, f)| features[..i].contains(f));
    if features.is_empty() || features.iter().any(|&j| j >= d) || repeated {
        return Err(ModelError::invalid(
            "features",
            features.len(),
            "must name at least one feature, each once and below the dimension",
        ));
    }
    Ok(())
}

/// The columns `features` of `m`.
fn columns<T: Scalar>(m: faer::MatRef<'_, T>, features: &[usize]) -> Mat<T> {
    Mat::from_fn(m.nrows(), features.len(), |i, j| m[(i, features[j])])
}

/// The rows and columns `features` of the square `m`.
fn block<T: Scalar>(m: &Mat<T>, features: &[usize]) -> Mat<T> {
    Mat::from_fn(features.len(), features.len(), |i, j| {
        m[(features[i], features[j])]
    })
}

impl<T: Scalar> Marginal for Gaussian<T> {
    fn marginal(&self, features: &[usize]) -> Result<Self, ModelError> {
        check_features(features, self.means().ncols())?;
        let covariances = match self.covariances() {
            Covariances::Full(cs) => {
                Covariances::Full(cs.iter().map(|c| block(c, features)).collect())
            }
            Covariances::Tied(c) => Covariances::Tied(block(c, features)),
            Covariances::Diag(v) => Covariances::Diag(columns(v.as_ref(), features)),
            Covariances::Spherical(v) => Covariances::Spherical(v.clone()),
        };
        Gaussian::new(columns(self.means(), features), covariances)?
            .with_structure(self.covariance_type())
    }
}

impl<T: Scalar> Marginal for StudentT<T> {
    fn marginal(&self, features: &[usize]) -> Result<Self, ModelError> {
        StudentT::from_scale(self.scale().marginal(features)?, self.dof().to_vec())
    }
}

impl<T: Scalar> Marginal for Laplace<T> {
    fn marginal(&self, features: &[usize]) -> Result<Self, ModelError> {
        check_features(features, self.locations().ncols())?;
        let scales = match self.scales() {
            LaplaceScales::PerDimension(b) => {
                LaplaceScales::PerDimension(columns(b.as_ref(), features))
            }
            LaplaceScales::Spherical(b) => LaplaceScales::Spherical(b.clone()),
        };
        Laplace::new(columns(self.locations(), features), scales)
    }
}

impl<T: Scalar, C: Marginal + crate::LogDensity<T>> Marginal for Mixture<T, C> {
    fn marginal(&self, features: &[usize]) -> Result<Self, ModelError> {
        if self.noise().is_some() {
            return Err(ModelError::Unsupported {
                what: "the marginal of a mixture with a noise component".into(),
            });
        }
        let m = Mixture::new(
            self.weights().to_vec(),
            self.components().marginal(features)?,
        )?;
        match self.feature_names() {
            Some(names) => {
                m.with_feature_names(features.iter().map(|&j| names[j].clone()).collect())
            }
            None => Ok(m),
        }
    }
}

impl<T: Scalar> Marginal for AnyMixture<T> {
    fn marginal(&self, features: &[usize]) -> Result<Self, ModelError> {
        Ok(crate::any::dispatch!(self, m => m.marginal(features)?.into()))
    }
}
