//! The one entry point from a model specification to a fitted model: every
//! caller that does not know the family at compile time (the selection grid,
//! the default detector, the command line, bindings) fits through here.

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, Family, ModelError, ModelSpec};

use crate::{EmControl, FitError, Fitted, GaussianMixture, LaplaceMixture};

/// Fits `k` components of `spec` to the data by EM under `control`.
///
/// Gaussian structures use `control.reg_covar` as their ridge; Laplace
/// structures their default scale floor. The model keeps its exact
/// structure ([`AnyMixture::spec`] equals `spec`, a tied diagonal model
/// included).
///
/// ```
/// use mixtures_core::Dataset;
/// use mixtures_em::{EmControl, ModelSpec, fit};
///
/// let rows: Vec<[f64; 2]> = (0..200)
///     .map(|i| { let t = i as f64 * 0.3; [t.sin() + 8.0 * (i % 2) as f64, t.cos()] })
///     .collect();
/// let data = Dataset::from_rows(&rows)?;
/// let spec: ModelSpec = "tied-diag".parse()?;
/// let fitted = fit(spec, 2, &EmControl::default().seed(3), &data)?;
/// assert_eq!(fitted.model.spec(), spec);
/// assert_eq!(fitted.report.structure, "tied-diag");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As the family's own fit ([`crate::GaussianParams::fit`],
/// [`crate::LaplaceParams::fit`]).
pub fn fit<T: Scalar>(
    spec: ModelSpec,
    k: usize,
    control: &EmControl,
    data: &Dataset<T>,
) -> Result<Fitted<AnyMixture<T>>, FitError> {
    run(spec, k, control, data, None)
}

/// Fits `spec` starting from `start` (a warm start: no initialization, one
/// restart, the start's number of components). The structure may differ
/// from the start's; the family may not.
///
/// # Errors
/// [`ModelError::FamilyMismatch`] (as [`FitError::Model`]) when `start` is
/// of another family; otherwise as [`fit`] and the families' `fit_from`.
pub fn fit_from<T: Scalar>(
    spec: ModelSpec,
    start: &AnyMixture<T>,
    control: &EmControl,
    data: &Dataset<T>,
) -> Result<Fitted<AnyMixture<T>>, FitError> {
    if start.spec().family() != spec.family() {
        return Err(ModelError::FamilyMismatch {
            expected: spec.family().as_str(),
            found: start.family().to_owned(),
        }
        .into());
    }
    run(spec, start.n_components(), control, data, Some(start))
}

fn run<T: Scalar>(
    spec: ModelSpec,
    k: usize,
    control: &EmControl,
    data: &Dataset<T>,
    start: Option<&AnyMixture<T>>,
) -> Result<Fitted<AnyMixture<T>>, FitError> {
    // Each arm: the family's parameters, then its fit or warm start.
    Ok(match (spec.family(), start) {
        (Family::Gaussian, start) => {
            let p = GaussianMixture::params(k)
                .covariance(spec.covariance())
                .control(control.clone());
            match start.and_then(AnyMixture::as_gaussian) {
                Some(m) => p.fit_from(m, data)?.into_any(),
                None => p.fit(data)?.into_any(),
            }
        }
        (Family::Laplace, start) => {
            let p = LaplaceMixture::params(k)
                .structure(spec.covariance())
                .control(control.clone());
            match start.and_then(AnyMixture::as_laplace) {
                Some(m) => p.fit_from(m, data)?.into_any(),
                None => p.fit(data)?.into_any(),
            }
        }
        (Family::StudentT, start) => {
            let p = crate::StudentTMixture::params(k)
                .covariance(spec.covariance())
                .control(control.clone());
            match start.and_then(AnyMixture::as_student_t) {
                Some(m) => p.fit_from(m, data)?.into_any(),
                None => p.fit(data)?.into_any(),
            }
        }
    })
}

/// [`fit`] on data with missing values: the family's `fit_incomplete`
/// (exact EM for the observed-data likelihood; see
/// [`crate::GaussianParams::fit_incomplete`]). Without a missing cell,
/// exactly [`fit`].
///
/// # Errors
/// As the family's `fit_incomplete`.
pub fn fit_incomplete<T: Scalar>(
    spec: ModelSpec,
    k: usize,
    control: &EmControl,
    data: &mixtures_core::missing::IncompleteDataset<T>,
) -> Result<Fitted<AnyMixture<T>>, FitError> {
    Ok(match spec.family() {
        Family::Gaussian => GaussianMixture::params(k)
            .covariance(spec.covariance())
            .control(control.clone())
            .fit_incomplete(data)?
            .into_any(),
        Family::Laplace => LaplaceMixture::params(k)
            .structure(spec.covariance())
            .control(control.clone())
            .fit_incomplete(data)?
            .into_any(),
        Family::StudentT => crate::StudentTMixture::params(k)
            .covariance(spec.covariance())
            .control(control.clone())
            .fit_incomplete(data)?
            .into_any(),
    })
}

impl<M> Fitted<M> {
    /// The same fit with the model wrapped in [`AnyMixture`].
    pub fn into_any<T: Scalar>(self) -> Fitted<AnyMixture<T>>
    where
        M: Into<AnyMixture<T>>,
    {
        Fitted {
            model: self.model.into(),
            report: self.report,
        }
    }
}

/// A fitting procedure: data in, a fitted model and its report out (as
/// linfa's `Fit`). The model step of a detector is any `Fit` (through
/// `mixtures_anomaly::ModelFitter`), so a procedure of your own plugs in
/// where the built-in ones do.
pub trait Fit<T: Scalar>: Send + Sync {
    /// The fitted model.
    type Model: Clone + core::fmt::Debug + Send + Sync;

    /// Fits a model to the data.
    ///
    /// # Errors
    /// Why no model could be fitted.
    fn fit(&self, data: &Dataset<T>) -> Result<Fitted<Self::Model>, FitError>;

    /// Fits again on other rows of the same data, starting from `previous`
    /// when the procedure can (EM's warm start); by default, fits anew.
    ///
    /// # Errors
    /// As [`Fit::fit`].
    fn refit(
        &self,
        data: &Dataset<T>,
        previous: &Self::Model,
    ) -> Result<Fitted<Self::Model>, FitError> {
        let _ = previous;
        self.fit(data)
    }
}

/// A family's params as a [`Fit`]: its `fit`, and its `fit_from` as the
/// warm-started refit.
macro_rules! family_fit {
    ($($params:ident => $model:ident),*) => {$(
        impl<T: Scalar> Fit<T> for crate::$params<T> {
            type Model = mixtures_dist::$model<T>;
            fn fit(&self, data: &Dataset<T>) -> Result<Fitted<Self::Model>, FitError> {
                crate::$params::fit(self, data)
            }
            fn refit(
                &self,
                data: &Dataset<T>,
                prev: &Self::Model,
            ) -> Result<Fitted<Self::Model>, FitError> {
                self.fit_from(prev, data)
            }
        }
    )*};
}
family_fit!(
    GaussianParams => GaussianMixtureModel,
    LaplaceParams => LaplaceMixtureModel,
    StudentTParams => StudentTMixtureModel
);

/// `k` components of a [`ModelSpec`] under an [`EmControl`], from scratch or
/// from a starting model: [`fit`] and [`fit_from`] as a [`Fit`], for code that
/// chooses the family at run time (the command line, bindings).
///
/// ```
/// use mixtures_core::Dataset;
/// use mixtures_em::{EmControl, Fit, ModelParams, ModelSpec};
///
/// let data = Dataset::from_rows(&[[0.0_f64], [0.2], [0.1], [5.0], [5.3], [5.1]])?;
/// let params = ModelParams::new(ModelSpec::LAPLACE_DIAG, 2).control(EmControl::default().seed(1));
/// let first = params.fit(&data)?;
/// assert_eq!(first.model.n_components(), 2);
/// // A warm start from the first fit: same family, any structure it has.
/// let again = ModelParams::from_start(ModelSpec::LAPLACE_SPHERICAL, first.model.clone()).fit(&data)?;
/// assert_eq!(again.model.spec(), ModelSpec::LAPLACE_SPHERICAL);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ModelParams<T: Scalar> {
    spec: ModelSpec,
    k: usize,
    control: EmControl,
    start: Option<AnyMixture<T>>,
}

impl<T: Scalar> ModelParams<T> {
    /// `k` components of `spec`, the default EM settings.
    pub fn new(spec: ModelSpec, k: usize) -> Self {
        Self {
            spec,
            k,
            control: EmControl::default(),
            start: None,
        }
    }

    /// `spec` fitted from `start` (its number of components; the family must
    /// be the same, checked when fitting).
    pub fn from_start(spec: ModelSpec, start: AnyMixture<T>) -> Self {
        Self {
            spec,
            k: start.n_components(),
            control: EmControl::default(),
            start: Some(start),
        }
    }

    crate::em_control_builder!();

    /// The model specification.
    pub fn spec(&self) -> ModelSpec {
        self.spec
    }

    /// The number of components.
    pub fn n_components(&self) -> usize {
        self.k
    }

    /// The starting model, if any.
    pub fn start(&self) -> Option<&AnyMixture<T>> {
        self.start.as_ref()
    }

    /// Checks the settings and that a starting model is of the spec's family,
    /// before any data is read.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`], [`FitError::Model`] with
    /// [`ModelError::FamilyMismatch`] or an unknown structure of the family.
    pub fn check(&self) -> Result<(), FitError> {
        self.control.check()?;
        ModelSpec::new(self.spec.family(), self.spec.covariance())?;
        if self.k == 0 {
            return Err(FitError::invalid(
                "n_components",
                0usize,
                "must be at least 1",
            ));
        }
        if let Some(s) = &self.start
            && s.spec().family() != self.spec.family()
        {
            return Err(ModelError::FamilyMismatch {
                expected: self.spec.family().as_str(),
                found: s.family().to_owned(),
            }
            .into());
        }
        Ok(())
    }
}

impl<T: Scalar> Fit<T> for ModelParams<T> {
    type Model = AnyMixture<T>;

    fn fit(&self, data: &Dataset<T>) -> Result<Fitted<AnyMixture<T>>, FitError> {
        match &self.start {
            Some(s) => fit_from(self.spec, s, &self.control, data),
            None => fit(self.spec, self.k, &self.control, data),
        }
    }

    fn refit(
        &self,
        data: &Dataset<T>,
        previous: &AnyMixture<T>,
    ) -> Result<Fitted<AnyMixture<T>>, FitError> {
        fit_from(self.spec, previous, &self.control, data)
    }
}
