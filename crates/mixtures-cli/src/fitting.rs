//! From command-line fit options to a fitted model: the family and structure,
//! a fixed number of components or a choice by the selection grid, warm
//! starts, and the progress bar. The fitting itself is the library's
//! (`mixtures-em`, `mixtures-select`); this module only connects the flags.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use mixtures_anomaly::{AnomalyError, AutoFitter, AutoSelection, DEFAULT_COMPONENTS, ModelFitter};
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, CovarianceType, LaplaceScales, ModelError};
use mixtures_em::{
    Control, Covariance, FitReport, Fitted, GaussianMixture, Iteration, LaplaceMixture,
    LaplaceStructure, Observer,
};
use mixtures_select::{Criterion, Grid, SelectedModel, Selection, Structure};

use crate::cli::{Family, FitArgs};
use crate::error::CliError;

/// The structure a `--covariance` name means for a family.
///
/// # Errors
/// [`CliError::Usage`] for a name the family does not have.
pub fn structure_named(family: Family, name: &str) -> Result<Structure, CliError> {
    let cov: Covariance = name
        .parse()
        .map_err(|e: mixtures_em::FitError| CliError::Usage(format!("--covariance: {e}")))?;
    match family {
        Family::Gaussian => Ok(Structure::Gaussian(cov)),
        Family::Laplace => match cov {
            Covariance::Diag => Ok(Structure::Laplace(LaplaceStructure::PerDimension)),
            Covariance::Spherical => Ok(Structure::Laplace(LaplaceStructure::Spherical)),
            _ => Err(CliError::Usage(format!(
                "--covariance {name}: Laplace mixtures have diag (a scale per feature) or \
                 spherical (one scale per component) scales"
            ))),
        },
    }
}

/// The family and structure of a model file (the starting point of a warm
/// start).
pub fn structure_of<T: Scalar>(model: &AnyMixture<T>) -> Structure {
    match model {
        AnyMixture::Gaussian(m) => Structure::Gaussian(match m.components().covariance_type() {
            CovarianceType::Diag => Covariance::Diag,
            CovarianceType::Spherical => Covariance::Spherical,
            CovarianceType::Tied => Covariance::Tied,
            _ => Covariance::Full,
        }),
        AnyMixture::Laplace(m) => Structure::Laplace(match m.components().scales() {
            LaplaceScales::Spherical(_) => LaplaceStructure::Spherical,
            LaplaceScales::PerDimension(_) => LaplaceStructure::PerDimension,
        }),
    }
}

/// A short name of a structure for tables and file names: `full`, `diag`,
/// `laplace-diag`, ...
pub fn structure_label(s: Structure) -> String {
    match s {
        Structure::Gaussian(c) => c.as_str().to_owned(),
        Structure::Laplace(LaplaceStructure::Spherical) => "laplace-spherical".to_owned(),
        Structure::Laplace(_) => "laplace-diag".to_owned(),
        other => other.to_string(),
    }
}

fn family_of(s: Structure) -> Family {
    match s {
        Structure::Laplace(_) => Family::Laplace,
        _ => Family::Gaussian,
    }
}

/// EM settings shared by every fit of a command.
#[derive(Debug, Clone, Copy)]
pub struct EmSettings {
    /// Restarts.
    pub n_init: usize,
    /// Most iterations per restart.
    pub max_iter: usize,
    /// Convergence threshold.
    pub tol: f64,
    /// Ridge on the variances (Gaussian).
    pub reg_covar: f64,
    /// Seed.
    pub seed: u64,
}

impl EmSettings {
    /// The settings of `fit`/`detect` flags, with the defaults for those not
    /// given (the flags are optional so that the default detector, which does
    /// not take them, can refuse them).
    pub fn from_args(a: &FitArgs) -> Self {
        Self {
            n_init: a.n_init,
            max_iter: a.max_iter.unwrap_or(100),
            tol: a.tol.unwrap_or(1e-3),
            reg_covar: a.reg_covar.unwrap_or(1e-6),
            seed: a.seed,
        }
    }
}

/// One model to fit: `k` components of a structure, from scratch or from a
/// starting model. It is also the model step of a detector.
#[derive(Clone)]
pub struct FitPlan<T: Scalar> {
    /// Number of components.
    pub k: usize,
    /// Family and structure.
    pub structure: Structure,
    /// EM settings.
    pub em: EmSettings,
    /// The warm start, if any.
    pub init: Option<AnyMixture<T>>,
    /// Progress display, if any.
    pub progress: Option<Arc<Progress>>,
}

impl<T: Scalar> std::fmt::Debug for FitPlan<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitPlan")
            .field("k", &self.k)
            .field("structure", &self.structure)
            .field("em", &self.em)
            .field("init", &self.init.is_some())
            .finish()
    }
}

/// Sets the EM settings and the observer shared by both families' parameters.
macro_rules! em_settings {
    ($params:expr, $em:expr, $observer:expr) => {{
        let p = $params
            .n_init($em.n_init)
            .max_iter($em.max_iter)
            .tol($em.tol)
            .seed($em.seed);
        match $observer {
            Some(o) => p.observer(o),
            None => p,
        }
    }};
}

/// One EM fit of either family: from `start` when given (a warm start),
/// else from scratch; the model wrapped by `wrap`.
fn fit_em<T: Scalar, F: ModelFitter<T>>(
    params: &F,
    start: Option<&F::Model>,
    data: &Dataset<T>,
    wrap: fn(F::Model) -> AnyMixture<T>,
) -> Result<Fitted<AnyMixture<T>>, CliError> {
    let f = match start {
        Some(m) => params.refit(data, m),
        None => params.fit(data),
    }
    .map_err(|e| match e {
        AnomalyError::Fit(f) => CliError::Fit(f),
        other => CliError::Anomaly(other),
    })?;
    Ok(Fitted {
        model: wrap(f.model),
        report: f.report,
    })
}

impl<T: Scalar> FitPlan<T> {
    /// Fits the model, starting from `start` when given (else from the plan's
    /// warm start, else from scratch). The families differ only in their
    /// parameters; the fit itself is [`fit_em`].
    fn run(
        &self,
        data: &Dataset<T>,
        start: Option<&AnyMixture<T>>,
    ) -> Result<Fitted<AnyMixture<T>>, CliError> {
        let start = start.or(self.init.as_ref());
        let observer = self.progress.clone().map(ProgressObserver);
        let em = &self.em;
        match (self.structure, start) {
            (Structure::Gaussian(_), Some(AnyMixture::Laplace(_))) => {
                Err(family_mismatch("laplace"))
            }
            (Structure::Laplace(_), Some(AnyMixture::Gaussian(_))) => {
                Err(family_mismatch("gaussian"))
            }
            (Structure::Gaussian(c), start) => {
                let params = em_settings!(
                    GaussianMixture::params::<T>(self.k)
                        .covariance(c)
                        .reg_covar(em.reg_covar),
                    em,
                    observer
                );
                let start = match start {
                    Some(AnyMixture::Gaussian(m)) => Some(m),
                    _ => None,
                };
                fit_em(&params, start, data, AnyMixture::Gaussian)
            }
            (Structure::Laplace(s), start) => {
                let params = em_settings!(
                    LaplaceMixture::params::<T>(self.k).structure(s),
                    em,
                    observer
                );
                let start = match start {
                    Some(AnyMixture::Laplace(m)) => Some(m),
                    _ => None,
                };
                fit_em(&params, start, data, AnyMixture::Laplace)
            }
            _ => Err(CliError::Usage(format!(
                "structure {} is not supported here",
                self.structure
            ))),
        }
    }

    /// Fits the model.
    ///
    /// # Errors
    /// The library's fit errors.
    pub fn fit(&self, data: &Dataset<T>) -> Result<Fitted<AnyMixture<T>>, CliError> {
        let out = self.run(data, None);
        if let Some(p) = &self.progress {
            p.finish();
        }
        out
    }
}

fn family_mismatch(found: &str) -> CliError {
    CliError::Usage(format!(
        "the --init model is a {found} mixture; drop --family or give the same family"
    ))
}

/// A fit error inside a detector's fit, in the detector's error type. Only
/// fit errors reach it in practice: the family of a warm start is checked
/// before any fit ([`check_flags`]), and a refit starts from the previous
/// round's model, of the same family; anything else is kept as its message.
fn to_anomaly(e: CliError) -> AnomalyError {
    match e {
        CliError::Fit(f) => AnomalyError::Fit(f),
        other => AnomalyError::Model(ModelError::InvalidField {
            field: "init".to_owned(),
            reason: other.to_string(),
        }),
    }
}

impl<T: Scalar> ModelFitter<T> for FitPlan<T> {
    type Model = AnyMixture<T>;

    fn fit(&self, data: &Dataset<T>) -> Result<Fitted<Self::Model>, AnomalyError> {
        self.run(data, None).map_err(to_anomaly)
    }

    fn refit(
        &self,
        data: &Dataset<T>,
        previous: &Self::Model,
    ) -> Result<Fitted<Self::Model>, AnomalyError> {
        self.run(data, Some(previous)).map_err(to_anomaly)
    }
}

/// A model of the selection grid as a model of either family.
///
/// # Errors
/// [`CliError::Usage`] for a family this command line does not know yet.
pub fn selected_to_any<T: Scalar>(m: SelectedModel<T>) -> Result<AnyMixture<T>, CliError> {
    match m {
        SelectedModel::Gaussian(g) => Ok(AnyMixture::Gaussian(g)),
        SelectedModel::Laplace(l) => Ok(AnyMixture::Laplace(l)),
        _ => Err(CliError::Usage(
            "the selected model's family is not supported by this command line".to_owned(),
        )),
    }
}

/// What `fit` and `detect` decided from their flags.
pub enum Plan<T: Scalar> {
    /// One model, fixed by `--components` or by `--init`.
    Fixed(Box<FitPlan<T>>),
    /// The model is chosen by the grid.
    Auto(Grid<T>),
}

/// The family, and the structure `--covariance` names, checked against each
/// other and against the warm start. Called before the data are read, so that
/// a wrong flag is reported at once.
///
/// # Errors
/// [`CliError::Usage`] for flags that contradict each other or the warm start.
pub fn check_flags<T: Scalar>(
    args: &FitArgs,
    init: Option<&AnyMixture<T>>,
) -> Result<(Family, Option<Structure>), CliError> {
    let from_init = init.map(structure_of);
    let family = match (args.family, from_init) {
        (Some(f), Some(s)) if f != family_of(s) => {
            return Err(family_mismatch(s.family()));
        }
        (Some(f), _) => f,
        (None, Some(s)) => family_of(s),
        (None, None) => Family::Gaussian,
    };
    let named = args
        .covariance
        .as_deref()
        .map(|c| structure_named(family, c))
        .transpose()?;
    if let (Some(model), Some(asked)) = (init, args.components)
        && asked != model.n_components()
    {
        return Err(CliError::Usage(format!(
            "--components {asked} but the --init model has {} components",
            model.n_components()
        )));
    }
    Ok((family, named))
}

/// Decides, from the flags and the optional warm start, what to fit.
///
/// # Errors
/// [`CliError::Usage`] for flags that contradict each other or the warm start.
pub fn plan<T: Scalar>(
    args: &FitArgs,
    init: Option<AnyMixture<T>>,
    n_samples: usize,
    progress: Option<Arc<Progress>>,
) -> Result<Plan<T>, CliError> {
    let em = EmSettings::from_args(args);
    let from_init = init.as_ref().map(structure_of);
    let (family, named) = check_flags(args, init.as_ref())?;
    if let Some(model) = init {
        let k = model.n_components();
        let structure = named
            .or(from_init)
            .unwrap_or(Structure::Gaussian(Covariance::Full));
        return Ok(Plan::Fixed(Box::new(FitPlan {
            k,
            structure,
            em,
            init: Some(model),
            progress,
        })));
    }
    if let Some(k) = args.components {
        let structure = named.unwrap_or(match family {
            Family::Gaussian => Structure::Gaussian(Covariance::Full),
            Family::Laplace => Structure::Laplace(LaplaceStructure::PerDimension),
        });
        return Ok(Plan::Fixed(Box::new(FitPlan {
            k,
            structure,
            em,
            init: None,
            progress,
        })));
    }
    let max_components = args.max_components.unwrap_or(8);
    if max_components == 0 {
        return Err(CliError::Usage(
            "--max-components must be at least 1".to_owned(),
        ));
    }
    let structures: Vec<Structure> = match (named, family) {
        (Some(s), _) => vec![s],
        (None, Family::Gaussian) => Structure::SKLEARN.to_vec(),
        (None, Family::Laplace) => Structure::LAPLACE.to_vec(),
    };
    // More components than rows cannot be fitted; the grid's own check then
    // counts distinct rows.
    let k_max = max_components.min(n_samples).max(1);
    Ok(Plan::Auto(
        Grid::new(1..=k_max)
            .structures(structures)
            .criterion(Criterion::Bic)
            .n_init(em.n_init)
            .max_iter(em.max_iter)
            .tol(em.tol)
            .reg_covar(em.reg_covar)
            .seed(em.seed),
    ))
}

/// Whether `detect` fits the library's default detector: no flag fixes the
/// model (no `--components`, `--covariance` or `--init`) and the family is
/// Gaussian (the default detector has Gaussian components only).
pub fn uses_default_detector(args: &FitArgs) -> bool {
    args.components.is_none()
        && args.covariance.is_none()
        && args.init.is_none()
        && args.family != Some(Family::Laplace)
}

/// The default detector's model step with the flags it takes (`--seed`,
/// `--n-init`, `--max-components`), remembering its last choice so that the
/// command can print it.
#[derive(Debug)]
pub struct AutoStep<T: Scalar> {
    fitter: AutoFitter<T>,
    last: Mutex<Option<AutoSelection<T>>>,
}

impl<T: Scalar> AutoStep<T> {
    /// The step for `detect`'s flags.
    ///
    /// # Errors
    /// [`CliError::Usage`] for an EM flag the default detector does not take
    /// (it would be silently ignored otherwise) and for `--max-components 0`.
    pub fn from_args(args: &FitArgs) -> Result<Self, CliError> {
        for (flag, given) in [
            ("--max-iter", args.max_iter.is_some()),
            ("--tol", args.tol.is_some()),
            ("--reg-covar", args.reg_covar.is_some()),
        ] {
            if given {
                return Err(CliError::Usage(format!(
                    "{flag} applies to a model fixed by --components or --covariance; \
                     the default detector (no --components) sets its own (see docs/cli.md)"
                )));
            }
        }
        let mut fitter = AutoFitter::new().seed(args.seed).n_init(args.n_init);
        if let Some(m) = args.max_components {
            if m == 0 {
                return Err(CliError::Usage(
                    "--max-components must be at least 1".to_owned(),
                ));
            }
            let mut ks: Vec<usize> = DEFAULT_COMPONENTS
                .iter()
                .copied()
                .filter(|&k| k <= m)
                .collect();
            // The largest asked for is always tried.
            if ks.last() != Some(&m) {
                ks.push(m);
            }
            fitter = fitter.components(ks);
        }
        fitter.check()?;
        Ok(Self {
            fitter,
            last: Mutex::new(None),
        })
    }

    /// The choice of the last fit (the final round's, for a robust fit).
    pub fn last(&self) -> Option<AutoSelection<T>> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}

impl<T: Scalar> ModelFitter<T> for AutoStep<T> {
    type Model = AnyMixture<T>;

    fn fit(&self, data: &Dataset<T>) -> Result<Fitted<Self::Model>, AnomalyError> {
        let s = self.fitter.select(data)?;
        let fitted = Fitted {
            model: AnyMixture::Gaussian(s.model.clone()),
            report: s.selection.report.clone(),
        };
        if let Ok(mut last) = self.last.lock() {
            *last = Some(s);
        }
        Ok(fitted)
    }
}

/// A one-line account of the default detector's choice.
pub fn describe_auto<T: Scalar>(s: &AutoSelection<T>) -> String {
    let mut text = format!(
        "default detector (Detector::auto, features standardized): {}",
        describe_choice(&s.selection)
    );
    if !s.dropped_weights.is_empty() {
        let weights: Vec<String> = s
            .dropped_weights
            .iter()
            .map(|w| format!("{w:.3}"))
            .collect();
        text.push_str(&format!(
            "; dropped {} component{} below weight {} (weights {}), {} kept",
            s.dropped_weights.len(),
            if s.dropped_weights.len() == 1 {
                ""
            } else {
                "s"
            },
            mixtures_anomaly::DEFAULT_MIN_WEIGHT,
            weights.join(", "),
            s.model.n_components()
        ));
    }
    text
}

/// A one-line account of a grid's choice.
pub fn describe_choice<T: Scalar>(sel: &Selection<T>) -> String {
    let best = sel.best_cell();
    let value = best.criterion(sel.criterion).unwrap_or(f64::NAN);
    let ks: Vec<usize> = sel.cells.iter().map(|c| c.k).collect();
    let (lo, hi) = (
        ks.iter().min().copied().unwrap_or(0),
        ks.iter().max().copied().unwrap_or(0),
    );
    let mut structures: Vec<String> = Vec::new();
    for c in &sel.cells {
        let l = structure_label(c.structure);
        if !structures.contains(&l) {
            structures.push(l);
        }
    }
    format!(
        "chose k = {}, {} by {} = {value:.3} (lowest of {} candidates: k {lo}..{hi} x {})",
        best.k,
        best.structure,
        sel.criterion,
        sel.cells.len(),
        structures.join(", ")
    )
}

/// A progress bar over EM iterations, on standard error, shown only when
/// standard error is a terminal and the fit has run for a second: short fits
/// and pipelines stay quiet.
#[derive(Debug)]
pub struct Progress {
    start: Instant,
    delay: Duration,
    n_init: usize,
    bar: OnceLock<ProgressBar>,
}

impl Progress {
    /// A progress display for a fit with `n_init` restarts, or `None` when it
    /// should stay hidden (`--quiet`, or standard error is not a terminal).
    pub fn new(quiet: bool, n_init: usize) -> Option<Arc<Self>> {
        use std::io::IsTerminal;
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        Some(Arc::new(Self {
            start: Instant::now(),
            delay: Duration::from_secs(1),
            n_init,
            bar: OnceLock::new(),
        }))
    }

    fn update(&self, it: &Iteration) {
        if self.start.elapsed() < self.delay {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            // The clock counts from the start of the fit, not from when the
            // bar appears.
            let bar = ProgressBar::new_spinner().with_elapsed(self.start.elapsed());
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(format!(
            "restart {}/{}, iteration {}, lower bound {:.6}",
            it.restart + 1,
            self.n_init,
            it.iteration,
            it.lower_bound
        ));
    }

    /// Removes the bar, if it was shown.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// The EM observer that feeds a [`Progress`].
#[derive(Debug, Clone)]
pub struct ProgressObserver(pub Arc<Progress>);

impl Observer for ProgressObserver {
    fn observe(&self, it: &Iteration) -> Control {
        self.0.update(it);
        Control::Continue
    }
}

/// A short description of a fitted model: `gaussian full, 3 components`.
pub fn describe_model<T: Scalar>(model: &AnyMixture<T>, report: Option<&FitReport>) -> String {
    let structure = report.map_or_else(
        || structure_label(structure_of(model)),
        |r| r.structure.clone(),
    );
    format!(
        "{} {structure}, {} component{}",
        model.family(),
        model.n_components(),
        if model.n_components() == 1 { "" } else { "s" }
    )
}

/// Attaches feature names to a model of either family.
///
/// # Errors
/// [`ModelError::FeatureNames`] if the count differs from the dimension.
pub fn with_names<T: Scalar>(
    model: AnyMixture<T>,
    names: &[String],
) -> Result<AnyMixture<T>, ModelError> {
    Ok(match model {
        AnyMixture::Gaussian(m) => AnyMixture::Gaussian(m.with_feature_names(names.to_vec())?),
        AnyMixture::Laplace(m) => AnyMixture::Laplace(m.with_feature_names(names.to_vec())?),
    })
}
