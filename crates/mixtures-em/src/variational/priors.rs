//! The priors of a variational fit: their types, their checks against the data, and their defaults resolved on the data (scikit-learn's `*_prior_` values).

use super::*;

/// The prior on the mixing weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WeightPrior {
    /// A symmetric Dirichlet distribution on the `K` weights (scikit-learn's
    /// `"dirichlet_distribution"`).
    DirichletDistribution,
    /// A Dirichlet process truncated at `K` components, in its stick-breaking
    /// form: each stick proportion has a `Beta(1, γ)` prior (scikit-learn's
    /// `"dirichlet_process"`, its default). Later components get geometrically
    /// less prior weight, so unneeded components empty out faster.
    #[default]
    DirichletProcess,
}

impl WeightPrior {
    /// scikit-learn's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DirichletDistribution => "dirichlet_distribution",
            Self::DirichletProcess => "dirichlet_process",
        }
    }
}

/// The prior scale of the Wishart distribution, as a covariance (scikit-learn's
/// `covariance_prior`): its shape follows the covariance type.
#[derive(Debug, Clone, PartialEq)]
pub enum CovariancePrior<T: Scalar> {
    /// A symmetric positive-definite `D x D` matrix (full and tied types).
    Matrix(Mat<T>),
    /// `D` positive variances (diag type).
    Diagonal(Vec<T>),
    /// One positive variance (spherical type).
    Spherical(T),
}

/// The resolved prior of a variational fit: every default replaced by its value
/// on the data (scikit-learn's trailing-underscore `*_prior_` attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct Prior<T: Scalar> {
    /// Dirichlet distribution or process.
    pub weight_prior: WeightPrior,
    /// The concentration `α₀` of the Dirichlet distribution, or `γ` of the
    /// process.
    pub weight_concentration: T,
    /// The precision `β₀` of the mean prior (in units of the component
    /// precision).
    pub mean_precision: T,
    /// The mean prior `m₀` (`D` values).
    pub mean: Vec<T>,
    /// The degrees of freedom `ν₀` of the Wishart prior.
    pub degrees_of_freedom: T,
    /// The covariance prior (`Ψ₀`, the inverse of the Wishart scale).
    pub covariance: CovariancePrior<T>,
}

pub(super) fn invalid_prior(
    name: &'static str,
    value: impl Into<mixtures_core::ParamValue>,
    reason: impl ToString,
) -> FitError {
    FitError::InvalidPrior {
        name,
        value: value.into(),
        reason: reason.to_string(),
    }
}

pub(super) fn positive(name: &'static str, v: Option<f64>) -> Result<(), FitError> {
    match v {
        Some(v) if !(v > 0.0 && v.is_finite()) => {
            Err(invalid_prior(name, v, "must be positive and finite"))
        }
        _ => Ok(()),
    }
}

impl<T: Scalar> VariationalParams<T> {
    /// Checks the user-given priors against the dimension `d`; returns the
    /// checked covariance prior (made exactly symmetric).
    pub(super) fn check_priors(&self, d: usize) -> Result<Option<CovariancePrior<T>>, FitError> {
        if let Some(nu) = self.degrees_of_freedom
            && !(nu > d as f64 - 1.0 && nu.is_finite())
        {
            return Err(invalid_prior(
                "degrees_of_freedom",
                nu,
                format!("must be finite and greater than D - 1 = {}", d as f64 - 1.0),
            ));
        }
        if let Some(m) = &self.mean_prior {
            if m.len() != d {
                return Err(invalid_prior(
                    "mean",
                    format!("{} values", m.len()),
                    format!("needs one value per feature ({d})"),
                ));
            }
            if let Some(j) = m.iter().position(|v| !v.is_finite()) {
                return Err(invalid_prior(
                    "mean",
                    m[j].as_f64(),
                    format!("value {j} is not finite"),
                ));
            }
        }
        let Some(cp) = &self.covariance_prior else {
            return Ok(None);
        };
        let ct = self.covariance;
        let checked = match (ct, cp) {
            (Covariance::Full | Covariance::Tied, CovariancePrior::Matrix(a)) => {
                if (a.nrows(), a.ncols()) != (d, d) {
                    return Err(invalid_prior(
                        "covariance",
                        format!("{} x {} matrix", a.nrows(), a.ncols()),
                        format!("needs a {d} x {d} matrix"),
                    ));
                }
                let tol = Float::sqrt(T::epsilon());
                for j in 0..d {
                    for i in j + 1..d {
                        let scale = Float::sqrt(Float::abs(a[(i, i)] * a[(j, j)]));
                        if !(Float::abs(a[(i, j)] - a[(j, i)]) <= tol * scale) {
                            return Err(invalid_prior(
                                "covariance",
                                format!(
                                    "entries ({i}, {j}) = {} and ({j}, {i}) = {}",
                                    a[(i, j)],
                                    a[(j, i)]
                                ),
                                "must be symmetric",
                            ));
                        }
                    }
                }
                Cholesky::new(a.as_ref())
                    .map_err(|source| FitError::CovariancePriorNotPositiveDefinite { source })?;
                let sym = Mat::from_fn(d, d, |i, j| if i >= j { a[(i, j)] } else { a[(j, i)] });
                CovariancePrior::Matrix(sym)
            }
            (Covariance::Diag, CovariancePrior::Diagonal(v)) => {
                if v.len() != d {
                    return Err(invalid_prior(
                        "covariance",
                        format!("{} variances", v.len()),
                        format!("needs one variance per feature ({d})"),
                    ));
                }
                if let Some(j) = v.iter().position(|x| !(x.is_finite() && *x > T::zero())) {
                    return Err(invalid_prior(
                        "covariance",
                        v[j].as_f64(),
                        format!("variance {j} must be positive and finite"),
                    ));
                }
                cp.clone()
            }
            (Covariance::Spherical, CovariancePrior::Spherical(v)) => {
                if !(v.is_finite() && *v > T::zero()) {
                    return Err(invalid_prior(
                        "covariance",
                        v.as_f64(),
                        "the variance must be positive and finite",
                    ));
                }
                cp.clone()
            }
            _ => {
                let given = match cp {
                    CovariancePrior::Matrix(_) => "a matrix",
                    CovariancePrior::Diagonal(_) => "a diagonal",
                    CovariancePrior::Spherical(_) => "a single variance",
                };
                return Err(invalid_prior(
                    "covariance",
                    given,
                    format!(
                        "covariance type {ct} needs {}",
                        match ct {
                            Covariance::Diag => "a diagonal (D variances)",
                            Covariance::Spherical => "a single variance",
                            _ => "a D x D matrix",
                        }
                    ),
                ));
            }
        };
        Ok(Some(checked))
    }

    /// Checks every setting and prior against the data and resolves the
    /// defaults: scikit-learn's `*_prior_` values for this data set. Sample
    /// weights weight the data mean and covariance (denominator `W − 1` for a
    /// total weight `W > 1`, which is NumPy's `ddof = 1` when unweighted).
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`], [`FitError::InvalidPrior`],
    /// [`FitError::CovariancePriorNotPositiveDefinite`] and
    /// [`FitError::TooFewDistinctPoints`] (more components than distinct
    /// points), all before any fitting work.
    pub fn resolve_prior(&self, data: &Dataset<T>) -> Result<Prior<T>, FitError> {
        self.check()?;
        let d = data.n_features();
        let user_cov = self.check_priors(d)?;
        check_data(data, self.k)?;
        // Squared deviations are summed in T, as in EM.
        check_scale(data, true)?;
        let need_summary = self.mean_prior.is_none() || user_cov.is_none();
        let summary =
            need_summary.then(|| summarize(data, user_cov.is_none() && self.full_scatter()));
        let mean = match (&self.mean_prior, &summary) {
            (Some(m), _) => m.clone(),
            (None, Some(s)) => s.mean.clone(),
            (None, None) => vec![T::zero(); d],
        };
        let covariance = match (user_cov, &summary) {
            (Some(c), _) => c,
            (None, Some(s)) => match self.covariance {
                Covariance::Diag => CovariancePrior::Diagonal(s.var.clone()),
                Covariance::Spherical => {
                    CovariancePrior::Spherical(s.var.iter().copied().sum::<T>() / T::from_usize(d))
                }
                _ => CovariancePrior::Matrix(s.cov.clone().unwrap_or_else(|| {
                    Mat::from_fn(d, d, |i, j| if i == j { s.var[i] } else { T::zero() })
                })),
            },
            (None, None) => CovariancePrior::Spherical(T::one()),
        };
        Ok(Prior {
            weight_prior: self.weight_prior,
            weight_concentration: T::c(self.weight_concentration.unwrap_or(1.0 / self.k as f64)),
            mean_precision: T::c(self.mean_precision.unwrap_or(1.0)),
            mean,
            degrees_of_freedom: T::c(self.degrees_of_freedom.unwrap_or(d as f64)),
            covariance,
        })
    }
}
