//! Information criteria: AIC, BIC and ICL.
//!
//! Signs follow scikit-learn: **lower is better**,
//!
//! - `AIC = −2 ln L + 2 p`,
//! - `BIC = −2 ln L + p ln n`,
//! - `ICL = BIC + 2 EN`, with `EN = −Σᵢ wᵢ Σₖ rᵢₖ ln rᵢₖ` the classification
//!   entropy of the responsibilities (Biernacki, Celeux & Govaert, 2000),
//!
//! where `ln L` is the total (weighted) log-likelihood, `p` the number of free
//! parameters and `n` the number of samples (the total sample weight when the
//! data are weighted). R's mclust reports the same quantities with the opposite
//! sign (higher is better): [`Scores::mclust_bic`] and [`Scores::mclust_icl`] give
//! them. mclust's ICL uses the entropy of the hard (most probable) assignments,
//! `−Σᵢ ln rᵢ,ₘₐₚ₍ᵢ₎`, where this one uses the soft entropy; the two agree when
//! the components are well separated.
//!
//! The number of free parameters is the one the fit reports
//! ([`FitReport::n_parameters`]): `K − 1` weights, `K D` means (locations) and the
//! covariance (scale) parameters of the structure. It equals scikit-learn's
//! `_n_parameters` for its four covariance types and mclust's `nMclustParams`
//! for EII, VII, EEI, VVI, EEE and VVV.

use core::fmt;
use core::str::FromStr;

use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::{AnyMixture, FreeParameters, LogDensity, Mixture};
use mixtures_em::{FitReport, Fitted};

use crate::SelectError;

/// A criterion to rank models by (lower is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Criterion {
    /// Akaike's information criterion, `−2 ln L + 2 p`.
    Aic,
    /// The Bayesian information criterion, `−2 ln L + p ln n` (default).
    #[default]
    Bic,
    /// The integrated completed likelihood, `BIC + 2 EN`: BIC penalized by the
    /// classification entropy, so it prefers well-separated clusters.
    Icl,
}

impl Criterion {
    /// Every criterion.
    pub const ALL: [Self; 3] = [Self::Aic, Self::Bic, Self::Icl];

    /// The name: `"aic"`, `"bic"` or `"icl"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aic => "aic",
            Self::Bic => "bic",
            Self::Icl => "icl",
        }
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Criterion {
    type Err = SelectError;
    /// Accepts `aic`, `bic`, `icl` in any case.
    fn from_str(s: &str) -> Result<Self, SelectError> {
        match s.to_ascii_lowercase().as_str() {
            "aic" => Ok(Self::Aic),
            "bic" => Ok(Self::Bic),
            "icl" => Ok(Self::Icl),
            _ => Err(SelectError::InvalidParameter {
                name: "criterion",
                value: s.into(),
                reason: "expected aic, bic or icl",
            }),
        }
    }
}

/// `−2 ln L + 2 p` (lower is better).
pub fn aic(log_likelihood: f64, n_parameters: usize) -> f64 {
    -2.0 * log_likelihood + 2.0 * n_parameters as f64
}

/// `−2 ln L + p ln n` (lower is better; mclust's BIC is its negative).
pub fn bic(log_likelihood: f64, n_parameters: usize, n_samples: f64) -> f64 {
    -2.0 * log_likelihood + n_parameters as f64 * n_samples.ln()
}

/// `BIC + 2 EN` (lower is better; mclust's ICL is its negative, with the hard
/// entropy).
pub fn icl(bic: f64, entropy: f64) -> f64 {
    bic + 2.0 * entropy
}

/// The classification entropy `EN = −Σᵢ wᵢ Σₖ rᵢₖ ln rᵢₖ` of a model's
/// responsibilities on the data (`wᵢ` the sample weights, 1 when unweighted),
/// accumulated in `f64` in row order. Zero when every point belongs to one
/// component with certainty.
///
/// # Errors
/// [`DataError::DimensionMismatch`].
pub fn classification_entropy<T: Scalar, C: LogDensity<T>>(
    model: &Mixture<T, C>,
    data: &Dataset<T>,
) -> Result<f64, DataError> {
    Ok(entropy_of(&model.responsibilities(data)?, data))
}

/// The classification entropy of responsibilities `resp` (`n x K`) of the
/// data's rows.
fn entropy_of<T: Scalar>(resp: &faer::Mat<T>, data: &Dataset<T>) -> f64 {
    entropy_of_weighted(resp, data.weights())
}

/// `Σᵢ wᵢ (−Σₖ rᵢₖ ln rᵢₖ)` of responsibilities and optional row weights.
pub(crate) fn entropy_of_weighted<T: Scalar>(resp: &faer::Mat<T>, weights: Option<&[T]>) -> f64 {
    let n = resp.nrows();
    let mut per_row = vec![0.0f64; n];
    for k in 0..resp.ncols() {
        for (e, &r) in per_row.iter_mut().zip(resp.col_as_slice(k)) {
            let r = r.as_f64();
            // 0 ln 0 = 0 (the limit).
            if r > 0.0 {
                *e -= r * r.ln();
            }
        }
    }
    match weights {
        Some(w) => per_row.iter().zip(w).map(|(e, w)| e * w.as_f64()).sum(),
        None => per_row.iter().sum(),
    }
}

/// What the criteria are computed from, and the criteria themselves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Total (weighted) log-likelihood `ln L` of the data.
    pub log_likelihood: f64,
    /// Free parameters `p`.
    pub n_parameters: usize,
    /// Number of samples `n` (total sample weight when weighted).
    pub n_samples: f64,
    /// Classification entropy `EN`, when computed (needed for ICL).
    pub entropy: Option<f64>,
}

impl Scores {
    /// Scores of a fit from its report (log-likelihood, parameter count and total
    /// weight); no ICL, as the report has no entropy.
    pub fn from_report(report: &FitReport) -> Self {
        Self {
            log_likelihood: report.log_likelihood * report.total_weight,
            n_parameters: report.n_parameters,
            n_samples: report.total_weight,
            entropy: None,
        }
    }

    /// Scores of a fit on its training data: the report's log-likelihood and
    /// parameter count (which know the fitted constraint, e.g. a tied diagonal),
    /// plus the classification entropy, so that ICL is available.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn of_fit<T: Scalar, C: LogDensity<T>>(
        fitted: &Fitted<Mixture<T, C>>,
        data: &Dataset<T>,
    ) -> Result<Self, DataError> {
        Ok(Self {
            entropy: Some(classification_entropy(&fitted.model, data)?),
            ..Self::from_report(&fitted.report)
        })
    }

    /// Every criterion of a fit of any family ([`Scores::of_fit`] for
    /// [`AnyMixture`]).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn of_any_fit<T: Scalar>(
        fitted: &Fitted<AnyMixture<T>>,
        data: &Dataset<T>,
    ) -> Result<Self, DataError> {
        Ok(Self {
            entropy: Some(entropy_of(&fitted.model.responsibilities(data)?, data)),
            ..Self::from_report(&fitted.report)
        })
    }

    /// Scores of any model on data, counting its parameters by its components
    /// (scikit-learn's `_n_parameters`; the built-in tied diagonal and tied
    /// spherical structures are counted as such; a custom constraint finer
    /// than its storage is counted by the storage: use [`Scores::of_fit`]
    /// for those). This gives BIC and ICL for variational fits too.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`].
    pub fn of_model<T: Scalar, C: LogDensity<T> + FreeParameters>(
        model: &Mixture<T, C>,
        data: &Dataset<T>,
    ) -> Result<Self, DataError> {
        let lp = model.log_prob(data)?;
        let ll = match data.weights() {
            Some(w) => lp.iter().zip(w).map(|(l, w)| l.as_f64() * w.as_f64()).sum(),
            None => lp.iter().map(|l| l.as_f64()).sum(),
        };
        Ok(Self {
            log_likelihood: ll,
            n_parameters: model.n_parameters(),
            n_samples: data.total_weight(),
            entropy: Some(classification_entropy(model, data)?),
        })
    }

    /// `−2 ln L + 2 p`.
    pub fn aic(&self) -> f64 {
        aic(self.log_likelihood, self.n_parameters)
    }

    /// `−2 ln L + p ln n` (lower is better).
    pub fn bic(&self) -> f64 {
        bic(self.log_likelihood, self.n_parameters, self.n_samples)
    }

    /// `BIC + 2 EN`, when the entropy is known.
    pub fn icl(&self) -> Option<f64> {
        self.entropy.map(|e| icl(self.bic(), e))
    }

    /// mclust's BIC, `2 ln L − p ln n` (higher is better).
    pub fn mclust_bic(&self) -> f64 {
        -self.bic()
    }

    /// mclust's sign of ICL, `2 ln L − p ln n − 2 EN` (higher is better; with
    /// the soft entropy, see the module documentation).
    pub fn mclust_icl(&self) -> Option<f64> {
        self.icl().map(|v| -v)
    }

    /// The value of a criterion (`None` for ICL without the entropy).
    pub fn get(&self, c: Criterion) -> Option<f64> {
        match c {
            Criterion::Aic => Some(self.aic()),
            Criterion::Bic => Some(self.bic()),
            Criterion::Icl => self.icl(),
        }
    }
}
