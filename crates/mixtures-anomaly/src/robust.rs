//! The minimum covariance determinant as a detector's model step
//! (scikit-learn's `EllipticEnvelope`): one Gaussian with the robust,
//! reweighted location and covariance of [`mixtures_em::Mcd`]. Its anomaly
//! score `−ln p(x) = ½ δ²(x) + ½ ln det Σ + (d/2) ln 2π` orders rows by their
//! robust Mahalanobis distance `δ²`, so every threshold rule applies; a
//! χ² cut-off on `δ²` at probability `q` is the fixed threshold
//! [`McdFitter::chi2_threshold`].
//!
//! The robustness is the estimator's own: the detector's outlier mode (fit,
//! leave out the most anomalous rows, fit again) adds nothing to it, so
//! [`McdFitter`] is meant for the novelty mode with a contamination
//! threshold.
//!
//! ```
//! use mixtures_anomaly::{Contamination, DetectorParams, McdFitter};
//! use mixtures_core::Dataset;
//!
//! let mut rows: Vec<[f64; 2]> = (0..190)
//!     .map(|i| {
//!         let t = i as f64 * 0.37;
//!         [t.sin() + 0.1 * (3.1 * t).cos(), 0.5 * (1.7 * t).cos()]
//!     })
//!     .collect();
//! rows.extend((0..10).map(|i| [30.0 + i as f64, -30.0]));
//! let data = Dataset::from_rows(&rows)?;
//! let fit = DetectorParams::new(McdFitter::new())
//!     .threshold(Contamination(0.05))
//!     .fit(&data)?;
//! let flags = fit.detector.predict(&data)?;
//! assert!(flags[190..].iter().all(|&f| f == 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use mixtures_core::chi2::chi2_quantile;
use mixtures_core::{LN_2PI, Scalar};
use mixtures_dist::{DensityModel, Gaussian, Mixture};
use mixtures_em::{FitReport, Fitted, Mcd, McdFit, RestartSummary, Termination};

use crate::{AnomalyError, ModelFit, ModelFitter};

/// The minimum covariance determinant as a model step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct McdFitter {
    /// The estimator's settings.
    pub mcd: Mcd,
}

impl McdFitter {
    /// The default settings of [`Mcd`].
    pub fn new() -> Self {
        Self::default()
    }

    /// These settings.
    pub fn with(mcd: Mcd) -> Self {
        Self { mcd }
    }

    /// The anomaly score `−ln p(x)` at which the robust squared distance is
    /// the `q`-quantile of χ² with `d` degrees of freedom, under a fitted
    /// MCD model: a cut-off that needs no training scores.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] for `q` outside `(0, 1)`.
    pub fn chi2_threshold<T: Scalar>(
        model: &Mixture<T, Gaussian<T>>,
        q: f64,
    ) -> Result<f64, AnomalyError> {
        if !(q > 0.0 && q < 1.0) {
            return Err(AnomalyError::invalid(
                "chi2 probability",
                q,
                "must be in (0, 1)",
            ));
        }
        let d = model.dim();
        let log_det = model.components().log_det(0).as_f64();
        Ok(0.5 * (chi2_quantile(q, d as f64) + log_det + d as f64 * LN_2PI))
    }
}

/// The report of an MCD fit, in the form every model step gives.
fn report<T: Scalar>(fit: &McdFit<T>, log_likelihood: f64, n: usize) -> FitReport {
    let d = fit.location.len();
    FitReport {
        converged: true,
        n_iter: fit.c_steps,
        termination: Termination::Converged,
        lower_bound_trace: Vec::new(),
        log_likelihood,
        best_restart: 0,
        // One search, reported as one restart.
        restarts: vec![RestartSummary {
            log_likelihood,
            n_iter: fit.c_steps,
            converged: true,
        }],
        degeneracies: Vec::new(),
        n_parameters: d + d * (d + 1) / 2,
        structure: "mcd".to_owned(),
        total_weight: n as f64,
    }
}

impl<T: Scalar> ModelFitter<T> for McdFitter {
    type Model = Mixture<T, Gaussian<T>>;

    fn check(&self) -> Result<(), AnomalyError> {
        Ok(self.mcd.check()?)
    }

    fn fit_model(
        &self,
        data: &mixtures_core::Dataset<T>,
    ) -> Result<ModelFit<T, Self::Model>, AnomalyError> {
        let fit = self.mcd.fit(data)?;
        let model = fit.to_mixture()?;
        let scores = model.anomaly_scores(data)?;
        let mean = -scores.iter().map(|v| v.as_f64()).sum::<f64>() / scores.len() as f64;
        Ok(ModelFit {
            fitted: Fitted {
                report: report(&fit, mean, data.n_samples()),
                model,
            },
            choice: None,
            training_scores: Some(scores),
        })
    }
}
