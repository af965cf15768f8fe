//! Fitting detectors on data with missing values: the model steps that fit
//! incomplete data ([`IncompleteFitter`]) and
//! [`DetectorParams::fit_incomplete`].

use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, Family};
use mixtures_em::{
    Fitted, GaussianMixture, GaussianParams, LaplaceMixture, LaplaceParams, ModelParams,
    StudentTMixture, StudentTParams,
};
use mixtures_select::Grid;

use crate::detector::{Round, robust_rounds};
use crate::missing::TailScored;
use crate::{
    AnomalyError, Detector, DetectorFit, DetectorParams, DetectorReport, Label, ModelChoice,
    ModelFit, ModelFitter, ScoreReference, ScoreSet, Threshold,
};

/// A model step that also fits data with missing values: exact EM on the
/// observed-data likelihood (`mixtures_em`'s `fit_incomplete`), or a
/// selection grid over such fits (BIC on the observed data).
pub trait IncompleteFitter<T: Scalar>: ModelFitter<T> {
    /// Fits a model to incomplete data, and says how it was chosen when the
    /// step chooses (`training_scores` stay `None`: the detector computes
    /// the tail scores).
    ///
    /// # Errors
    /// Whatever stops the fit ([`AnomalyError::Fit`], [`AnomalyError::Select`]).
    fn fit_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<ModelFit<T, AnyMixture<T>>, AnomalyError>;

    /// Fits again on a subset of the rows (a robust fit's later rounds),
    /// knowing the previous model; the default fits from scratch.
    ///
    /// # Errors
    /// As [`IncompleteFitter::fit_incomplete`].
    fn refit_incomplete(
        &self,
        data: &IncompleteDataset<T>,
        previous: &AnyMixture<T>,
    ) -> Result<ModelFit<T, AnyMixture<T>>, AnomalyError> {
        let _ = previous;
        self.fit_incomplete(data)
    }
}

/// A step's result without training scores.
fn fit<T: Scalar>(
    fitted: Fitted<AnyMixture<T>>,
    choice: Option<ModelChoice<T>>,
) -> ModelFit<T, AnyMixture<T>> {
    ModelFit {
        fitted,
        choice,
        training_scores: None,
    }
}

/// A family's EM fit on incomplete data, warm-started from the previous
/// model of the same family in a robust fit's later rounds.
macro_rules! incomplete_fitters {
    ($($params:ident: $as_family:ident),*) => {$(
        impl<T: Scalar> IncompleteFitter<T> for $params<T> {
            fn fit_incomplete(
                &self,
                data: &IncompleteDataset<T>,
            ) -> Result<ModelFit<T, AnyMixture<T>>, AnomalyError> {
                Ok(fit($params::fit_incomplete(self, data)?.into_any(), None))
            }
            fn refit_incomplete(
                &self,
                data: &IncompleteDataset<T>,
                previous: &AnyMixture<T>,
            ) -> Result<ModelFit<T, AnyMixture<T>>, AnomalyError> {
                let fitted = match previous.$as_family() {
                    Some(m) => self.fit_incomplete_from(m, data)?,
                    None => $params::fit_incomplete(self, data)?,
                };
                Ok(fit(fitted.into_any(), None))
            }
        }
    )*};
}
incomplete_fitters!(
    GaussianParams: as_gaussian,
    StudentTParams: as_student_t,
    LaplaceParams: as_laplace
);

/// The family's own parameters for `k` components of `spec` (a
/// [`ModelParams`] fits through them).
fn family_params<T: Scalar>(p: &ModelParams<T>) -> FamilyParams<T> {
    let (spec, k, control) = (p.spec(), p.n_components(), p.em_control().clone());
    match spec.family() {
        Family::Gaussian => FamilyParams::Gaussian(
            GaussianMixture::params(k)
                .covariance(spec.covariance())
                .control(control),
        ),
        Family::Laplace => FamilyParams::Laplace(
            LaplaceMixture::params(k)
                .structure(spec.covariance())
                .control(control),
        ),
        Family::StudentT => FamilyParams::StudentT(
            StudentTMixture::params(k)
                .covariance(spec.covariance())
                .control(control),
        ),
    }
}

/// One family's EM parameters.
enum FamilyParams<T: Scalar> {
    Gaussian(GaussianParams<T>),
    Laplace(LaplaceParams<T>),
    StudentT(StudentTParams<T>),
}

/// Fits from the parameters' starting model when they have one (a warm start,
/// as [`ModelParams`] does on complete data).
impl<T: Scalar> IncompleteFitter<T> for ModelParams<T> {
    fn fit_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<ModelFit<T, AnyMixture<T>>, AnomalyError> {
        match self.start() {
            Some(start) => self.refit_incomplete(data, start),
            None => Ok(fit(
                mixtures_em::fit_incomplete(
                    self.spec(),
                    self.n_components(),
                    self.em_control(),
                    data,
                )?,
                None,
            )),
        }
    }
    fn refit_incomplete(
        &self,
        data: &IncompleteDataset<T>,
        previous: &AnyMixture<T>,
    ) -> Result<ModelFit<T, AnyMixture<T>>, AnomalyError> {
        match family_params(self) {
            FamilyParams::Gaussian(p) => p.refit_incomplete(data, previous),
            FamilyParams::Laplace(p) => p.refit_incomplete(data, previous),
            FamilyParams::StudentT(p) => p.refit_incomplete(data, previous),
        }
    }
}

/// Every round chooses again on the rows it is given, by the grid's
/// criterion on the observed-data likelihood.
impl<T: Scalar> IncompleteFitter<T> for Grid<T> {
    fn fit_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<ModelFit<T, AnyMixture<T>>, AnomalyError> {
        let selection = Grid::fit_incomplete(self, data)?;
        let fitted = Fitted {
            model: selection.model.clone(),
            report: selection.report.clone(),
        };
        Ok(fit(
            fitted,
            Some(ModelChoice {
                selection,
                dropped_weights: Vec::new(),
            }),
        ))
    }
}

/// The rows of `data` where `keep` is true, with their weights.
fn subset<T: Scalar>(
    data: &IncompleteDataset<T>,
    keep: &[bool],
) -> Result<IncompleteDataset<T>, AnomalyError> {
    let d = data.n_features();
    let x = data.view();
    let rows: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    let mut values = Vec::with_capacity(rows.len() * d);
    for &i in &rows {
        values.extend((0..d).map(|j| x[(i, j)]));
    }
    let out = Dataset::with_missing(&values, rows.len(), d)?;
    Ok(match data.weights() {
        Some(w) => out.with_weights(rows.iter().map(|&i| w[i]).collect())?,
        None => out,
    })
}

impl<T: Scalar, F: IncompleteFitter<T>> DetectorParams<T, F> {
    /// Fits the model on data with missing values (robustly in outlier mode:
    /// the rounds leave out the rows with the highest tail scores) and the
    /// threshold on the training rows' tail scores (see
    /// [`crate::missing`]). Without a missing cell the model is the one
    /// [`DetectorParams::fit`] fits; the scores are tail scores all the same.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] before any work; fit errors
    /// (a column never observed: [`mixtures_core::DataError::NeverObserved`]);
    /// the threshold rule's errors ([`AnomalyError::LabelsRequired`] for a
    /// rule that needs labels: use
    /// [`DetectorParams::fit_validated_incomplete`]).
    pub fn fit_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<DetectorFit<T, TailScored<T>>, AnomalyError> {
        self.check()?;
        let (model, report) = self.fit_model_incomplete(data)?;
        let scores = &report.training_scores;
        let threshold = Threshold::fit(self.rule().as_ref(), &ScoreSet::new(scores)?)?;
        Ok(DetectorFit {
            detector: Detector {
                model,
                threshold,
                reference: Some(ScoreReference::new(scores)?),
            },
            report,
        })
    }

    /// Fits the model on `train` and the threshold on the tail scores of
    /// labelled `validation` data (for [`crate::BestF`] and the other
    /// label-based rules), as [`DetectorParams::fit_validated`] does on
    /// complete data.
    ///
    /// # Errors
    /// As [`DetectorParams::fit_incomplete`], and the label errors of
    /// [`ScoreSet::labelled`].
    pub fn fit_validated_incomplete<L: Label>(
        &self,
        train: &IncompleteDataset<T>,
        validation: &IncompleteDataset<T>,
        labels: &[L],
    ) -> Result<DetectorFit<T, TailScored<T>>, AnomalyError> {
        self.check()?;
        let (model, report) = self.fit_model_incomplete(train)?;
        let val = model.anomaly_scores_incomplete(validation)?;
        let threshold = Threshold::fit(self.rule().as_ref(), &ScoreSet::labelled(&val, labels)?)?;
        Ok(DetectorFit {
            detector: Detector {
                model,
                threshold,
                reference: Some(ScoreReference::new(&report.training_scores)?),
            },
            report,
        })
    }

    /// The model (robust in outlier mode) and the report with the tail
    /// scores of every training row.
    fn fit_model_incomplete(
        &self,
        data: &IncompleteDataset<T>,
    ) -> Result<(TailScored<T>, DetectorReport<T>), AnomalyError> {
        let ModelFit { fitted, choice, .. } = self.fitter().fit_incomplete(data)?;
        let first = tail_round(fitted, choice, data)?;
        let (model, report) = robust_rounds(self.mode(), first, |kept, previous| {
            let refit = self
                .fitter()
                .refit_incomplete(&subset(data, kept)?, previous)?;
            tail_round(refit.fitted, refit.choice, data)
        })?;
        Ok((TailScored::new(model)?, report))
    }
}

/// A round of an incomplete-data fit with the tail scores of every row.
fn tail_round<T: Scalar>(
    fitted: Fitted<AnyMixture<T>>,
    choice: Option<ModelChoice<T>>,
    data: &IncompleteDataset<T>,
) -> Result<Round<T, AnyMixture<T>>, AnomalyError> {
    let model = TailScored::new(fitted.model)?;
    let scores = model.anomaly_scores_incomplete(data)?;
    let fitted = Fitted {
        model: model.into_inner(),
        report: fitted.report,
    };
    Ok((fitted, choice, scores))
}
