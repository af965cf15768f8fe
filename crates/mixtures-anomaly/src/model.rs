//! What a detector needs of a model (densities) and of a fitting procedure, and
//! the training-score reference behind normalized scores.

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, DensityModel};
use mixtures_em::{Fit, Fitted, GaussianParams, LaplaceParams, ModelParams, StudentTParams};
use mixtures_select::{Grid, Selection};

use crate::AnomalyError;

/// Anomaly scores `−ln p(x)` of every row under `model` (higher is more
/// anomalous).
///
/// # Errors
/// [`AnomalyError::Data`] if the data's dimension differs from the model's.
pub fn anomaly_scores<T: Scalar, M: DensityModel<T>>(
    model: &M,
    data: &Dataset<T>,
) -> Result<Vec<T>, AnomalyError> {
    Ok(model.anomaly_scores(data)?)
}

/// How a model step chose its model, when it chooses one (a selection grid,
/// the default detector).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChoice<T: Scalar> {
    /// The grid's table of every candidate and the one chosen (in the units
    /// the grid was fitted in: standardized for the default detector).
    pub selection: Selection<T>,
    /// Weights, in the chosen fit, of the components dropped after the
    /// choice (the default detector's weight floor); empty otherwise.
    pub dropped_weights: Vec<f64>,
}

/// What a detector's model step returns: the fit and, for a step that
/// chooses its model, how it chose.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFit<T: Scalar, M> {
    /// The model and its fit report.
    pub fitted: Fitted<M>,
    /// How the model was chosen, if it was.
    pub choice: Option<ModelChoice<T>>,
    /// The model's anomaly scores of the rows it was fitted on, when the
    /// step computed them on its way (the detector then does not score those
    /// rows again); `None` otherwise.
    pub training_scores: Option<Vec<T>>,
}

/// A way of fitting a density model to data: the model step of a detector.
///
/// Implemented for every EM fit of `mixtures-em` ([`GaussianParams`],
/// [`LaplaceParams`], [`ModelParams`]: one fixed model, through
/// [`mixtures_em::Fit`]), for a selection [`Grid`] and for the default
/// detector's [`crate::AutoFitter`], which report how they chose.
pub trait ModelFitter<T: Scalar>: Send + Sync {
    /// The model it produces.
    type Model: DensityModel<T>;

    /// Checks the step's own parameters, before any data is read (the
    /// detector calls it first).
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] or the fit's parameter errors.
    fn check(&self) -> Result<(), AnomalyError> {
        Ok(())
    }

    /// Fits a model to the data.
    ///
    /// # Errors
    /// Whatever stops the fit, as [`AnomalyError::Fit`] for EM errors.
    fn fit_model(&self, data: &Dataset<T>) -> Result<ModelFit<T, Self::Model>, AnomalyError>;

    /// Fits again on a subset of the data (a robust fit's later rounds),
    /// knowing the previous model. The default fits from scratch; EM fitters
    /// warm-start from `previous`, which makes the rounds converge faster and
    /// keeps the components in place.
    ///
    /// # Errors
    /// As [`ModelFitter::fit_model`].
    fn refit_model(
        &self,
        data: &Dataset<T>,
        previous: &Self::Model,
    ) -> Result<ModelFit<T, Self::Model>, AnomalyError> {
        let _ = previous;
        self.fit_model(data)
    }
}

/// A fixed EM fit as a model step: `mixtures_em::Fit`'s fit and warm start.
macro_rules! em_fitters {
    ($($params:ident),*) => {$(
        impl<T: Scalar> ModelFitter<T> for $params<T> {
            type Model = <$params<T> as Fit<T>>::Model;
            fn check(&self) -> Result<(), AnomalyError> {
                Ok($params::check(self)?)
            }
            fn fit_model(
                &self,
                data: &Dataset<T>,
            ) -> Result<ModelFit<T, Self::Model>, AnomalyError> {
                Ok(ModelFit {
                    fitted: Fit::fit(self, data)?,
                    choice: None,
                    training_scores: None,
                })
            }
            fn refit_model(
                &self,
                data: &Dataset<T>,
                previous: &Self::Model,
            ) -> Result<ModelFit<T, Self::Model>, AnomalyError> {
                Ok(ModelFit {
                    fitted: Fit::refit(self, data, previous)?,
                    choice: None,
                    training_scores: None,
                })
            }
        }
    )*};
}
em_fitters!(GaussianParams, LaplaceParams, StudentTParams, ModelParams);

/// A selection grid as a model step: every round chooses again on the rows
/// it is given (the number of components that suits the data without the
/// left-out rows may differ).
impl<T: Scalar> ModelFitter<T> for Grid<T> {
    type Model = AnyMixture<T>;
    fn check(&self) -> Result<(), AnomalyError> {
        Ok(Grid::check(self)?)
    }
    fn fit_model(&self, data: &Dataset<T>) -> Result<ModelFit<T, AnyMixture<T>>, AnomalyError> {
        let selection = self.fit(data)?;
        Ok(ModelFit {
            fitted: Fitted {
                model: selection.model.clone(),
                report: selection.report.clone(),
            },
            choice: Some(ModelChoice {
                selection,
                dropped_weights: Vec::new(),
            }),
            training_scores: None,
        })
    }
}
