//! From command-line fit options to what the library fits: the family and
//! structure, a fixed model ([`ModelParams`]) or a choice by the selection
//! grid, the default detector's flags, and the progress bar. The fitting is
//! the library's; this module only reads the flags.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use mixtures_anomaly::{AutoFitter, DEFAULT_COMPONENTS, ModelChoice};
use mixtures_core::Scalar;
use mixtures_dist::{AnyMixture, Covariance, Family, ModelSpec};
use mixtures_em::{Control, EmControl, FitReport, Iteration, ModelParams, Observer};
use mixtures_select::{Criterion, DEFAULT_SEARCH_ROWS, Grid, Selection};

use crate::cli::FitArgs;
use crate::error::CliError;

/// The spec a `--covariance` name means for a family.
///
/// # Errors
/// [`CliError::Usage`] for a name that is no structure, or one the family
/// does not have.
pub fn spec_named(family: Family, name: &str) -> Result<ModelSpec, CliError> {
    name.parse()
        .and_then(|c| ModelSpec::new(family, c))
        .map_err(|e| CliError::Usage(format!("--covariance {name}: {e}")))
}

/// The EM settings of `fit`/`detect` flags, the library's defaults for those
/// not given (the flags are optional so that the default detector, which does
/// not take them, can refuse them).
pub fn em_control(a: &FitArgs) -> EmControl {
    let d = EmControl::default();
    a.robust.apply(EmControl {
        n_init: a.n_init.unwrap_or(d.n_init),
        max_iter: a.max_iter.unwrap_or(d.max_iter),
        tol: a.tol.unwrap_or(d.tol),
        reg_covar: a.reg_covar.unwrap_or(d.reg_covar),
        seed: a.seed,
        ..d
    })
}

fn family_mismatch(found: Family) -> CliError {
    CliError::Usage(format!(
        "the --init model is a {found} mixture; drop --family or give the same family"
    ))
}

/// What `fit` and `detect` decided from their flags.
pub enum Plan<T: Scalar> {
    /// One model, fixed by `--components` or by `--init`.
    Fixed(Box<ModelParams<T>>),
    /// The model is chosen by the grid.
    Auto(Grid<T>),
}

/// The family, and the spec `--covariance` names, checked against each
/// other and against the warm start. Called before the data are read, so that
/// a wrong flag is reported at once.
///
/// # Errors
/// [`CliError::Usage`] for flags that contradict each other or the warm start.
pub fn check_flags<T: Scalar>(
    args: &FitArgs,
    init: Option<&AnyMixture<T>>,
) -> Result<(Family, Option<ModelSpec>), CliError> {
    let from_init = init.map(|m| m.spec().family());
    let family = match (args.family, from_init) {
        (Some(f), Some(g)) if f != g => return Err(family_mismatch(g)),
        (Some(f), _) | (None, Some(f)) => f,
        (None, None) => Family::Gaussian,
    };
    let named = args
        .covariance
        .as_deref()
        .map(|c| spec_named(family, c))
        .transpose()?;
    // A flag that would change nothing is refused rather than ignored.
    let unused = [
        (
            args.n_init.is_some() && init.is_some(),
            "--n-init does nothing with --init: a warm start is one start",
        ),
        (
            args.max_components.is_some() && (args.components.is_some() || init.is_some()),
            "--max-components bounds the automatic choice of k; it does nothing when \
             --components or --init fixes the model",
        ),
        (
            args.search_rows.is_some() && (args.components.is_some() || init.is_some()),
            "--search-rows bounds the rows of the automatic choice's candidates; it does \
             nothing when --components or --init fixes the model",
        ),
        (
            (args.robust.noise || args.robust.noise_volume.is_some()) && init.is_some(),
            "--noise does nothing with --init: a warm start keeps the start's noise \
             component, or its absence",
        ),
        (
            args.reg_covar.is_some() && family == Family::Laplace,
            "--reg-covar does nothing for Laplace components (they have no covariance)",
        ),
    ];
    if let Some((_, why)) = unused.iter().find(|(given, _)| *given) {
        return Err(CliError::Usage((*why).to_owned()));
    }
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
    let mut control = em_control(args);
    if let Some(p) = progress {
        control = control.observer(ProgressObserver(p));
    }
    let (family, named) = check_flags(args, init.as_ref())?;
    if let Some(model) = init {
        let spec = named.unwrap_or(model.spec());
        return Ok(Plan::Fixed(Box::new(
            ModelParams::from_start(spec, model).control(control),
        )));
    }
    if let Some(k) = args.components {
        let spec = named.unwrap_or(ModelSpec::default_for(family));
        return Ok(Plan::Fixed(Box::new(
            ModelParams::new(spec, k).control(control),
        )));
    }
    let max_components = args.max_components.unwrap_or(8);
    if max_components == 0 {
        return Err(CliError::Usage(
            "--max-components must be at least 1".to_owned(),
        ));
    }
    let specs: Vec<ModelSpec> = match (named, family) {
        (Some(s), _) => vec![s],
        (None, Family::Gaussian) => ModelSpec::SKLEARN.to_vec(),
        (None, Family::Laplace) => ModelSpec::LAPLACE.to_vec(),
        (None, Family::StudentT) => Covariance::SKLEARN.map(ModelSpec::student_t).to_vec(),
    };
    // More components than rows cannot be fitted; the grid's own check then
    // counts distinct rows.
    let k_max = max_components.min(n_samples).max(1);
    Ok(Plan::Auto(
        Grid::new(1..=k_max)
            .structures(specs)
            .criterion(Criterion::Bic)
            .control(control)
            .search_rows(search_rows(args)),
    ))
}

/// The rows the automatic choice fits its candidates on (`--search-rows`,
/// 0 for every row).
pub fn search_rows(args: &FitArgs) -> Option<usize> {
    match args.search_rows {
        None => Some(DEFAULT_SEARCH_ROWS),
        Some(0) => None,
        Some(n) => Some(n),
    }
}

/// Whether `detect` fits the library's default detector: no flag fixes the
/// model (no `--components`, `--covariance` or `--init`) and no family other
/// than Gaussian is asked for (the default detector has Gaussian components
/// only).
pub fn uses_default_detector(args: &FitArgs) -> bool {
    args.components.is_none()
        && args.covariance.is_none()
        && args.init.is_none()
        && args.family.is_none_or(|f| f == Family::Gaussian)
}

/// The default detector's model step with the flags it takes (`--seed`,
/// `--n-init`, `--max-components`).
///
/// # Errors
/// [`CliError::Usage`] for an EM flag the default detector does not take
/// (it would be silently ignored otherwise) and for `--max-components 0`.
pub fn auto_fitter<T: Scalar>(
    args: &FitArgs,
    progress: Option<Arc<Progress>>,
) -> Result<AutoFitter<T>, CliError> {
    for (flag, given) in [
        ("--max-iter", args.max_iter.is_some()),
        ("--tol", args.tol.is_some()),
        ("--reg-covar", args.reg_covar.is_some()),
    ]
    .into_iter()
    .chain(args.robust.flags())
    {
        if given {
            return Err(CliError::Usage(format!(
                "{flag} applies to a model fixed by --components or --covariance; \
                 the default detector (no --components) sets its own (see docs/cli.md)"
            )));
        }
    }
    let mut fitter = AutoFitter::new()
        .seed(args.seed)
        .search_rows(search_rows(args));
    if let Some(p) = progress {
        p.candidates(None);
        fitter = fitter.observer(ProgressObserver(p));
    }
    if let Some(n) = args.n_init {
        fitter = fitter.n_init(n);
    }
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
    Ok(fitter)
}

/// A one-line account of the default detector's choice.
pub fn describe_auto<T: Scalar>(c: &ModelChoice<T>, kept: usize) -> String {
    let mut text = format!(
        "default detector (Detector::auto, features standardized): {}",
        describe_choice(&c.selection)
    );
    if !c.dropped_weights.is_empty() {
        let weights: Vec<String> = c
            .dropped_weights
            .iter()
            .map(|w| format!("{w:.3}"))
            .collect();
        text.push_str(&format!(
            "; dropped {} component{} below weight {} (weights {}), {kept} kept",
            c.dropped_weights.len(),
            if c.dropped_weights.len() == 1 {
                ""
            } else {
                "s"
            },
            mixtures_anomaly::DEFAULT_MIN_WEIGHT,
            weights.join(", "),
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
        let l = c.structure.to_string();
        if !structures.contains(&l) {
            structures.push(l);
        }
    }
    let mut text = format!(
        "chose k = {}, {} by {} = {value:.3} (lowest of {} candidates: k {lo}..{hi} x {})",
        best.k,
        best.structure.describe(),
        sel.criterion,
        sel.cells.len(),
        structures.join(", ")
    );
    if let Some(s) = &sel.search {
        let full = s.scores.get(sel.criterion).unwrap_or(f64::NAN);
        text.push_str(&format!(
            "; candidates fitted on {} of {} rows, the chosen one refitted on every row ({} = {full:.3})",
            s.rows, s.total_rows, sel.criterion
        ));
    }
    text
}

/// The `search` object of `--json` summaries: the rows the candidates were
/// fitted on and the chosen one's criterion after its refit on every row
/// (`null` when every candidate saw every row).
pub fn search_json<T: Scalar>(sel: &Selection<T>) -> serde_json::Value {
    match &sel.search {
        Some(s) => serde_json::json!({
            "rows": s.rows,
            "total_rows": s.total_rows,
            "value": crate::ui::num(s.scores.get(sel.criterion).unwrap_or(f64::NAN)),
        }),
        None => serde_json::Value::Null,
    }
}

/// A progress bar over EM iterations, on standard error, shown only when
/// standard error is a terminal and the fit has run for a second: short fits
/// and pipelines stay quiet. For an automatic choice it counts the candidate
/// fits as they start (cells run in parallel, so started, not finished).
#[derive(Debug)]
pub struct Progress {
    start: Instant,
    delay: Duration,
    n_init: usize,
    /// Candidate fits of one grid (0: a single fit; `usize::MAX`: unknown).
    cells: AtomicUsize,
    started: AtomicUsize,
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
            cells: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            bar: OnceLock::new(),
        }))
    }

    /// Shows the fit as one of `cells` candidates of a grid (`None`: a
    /// grid of unknown size, such as the default detector's).
    pub fn candidates(&self, cells: Option<usize>) {
        self.cells
            .store(cells.unwrap_or(usize::MAX), Ordering::Relaxed);
    }

    fn update(&self, it: &Iteration) {
        // Every EM run has one first iteration of its first restart.
        if it.restart == 0 && it.iteration == 1 {
            self.started.fetch_add(1, Ordering::Relaxed);
        }
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
        bar.set_message(self.message(it));
    }

    /// The line shown for iteration `it`.
    fn message(&self, it: &Iteration) -> String {
        let started = self.started.load(Ordering::Relaxed);
        let cell = match self.cells.load(Ordering::Relaxed) {
            0 => String::new(),
            usize::MAX => format!("candidate fits started: {started}, "),
            n => format!("candidate {}/{n}, ", started.min(n)),
        };
        format!(
            "{cell}restart {}/{}, iteration {}, lower bound {:.6}",
            it.restart + 1,
            self.n_init,
            it.iteration,
            it.lower_bound
        )
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

/// A short description of a fitted model: `gaussian full, 3 components`,
/// `student-t tied, 2 components`.
pub fn describe_model<T: Scalar>(model: &AnyMixture<T>, report: Option<&FitReport>) -> String {
    let structure = report.map_or_else(|| model.spec().to_string(), |r| r.structure.clone());
    // Report names of other families carry the family (`laplace-diag`).
    let prefix = format!("{}-", model.family());
    let structure = structure.strip_prefix(&prefix).unwrap_or(&structure);
    let noise = model.noise().map_or(String::new(), |(w, region)| {
        format!(
            " and uniform noise of weight {} (ln volume {})",
            crate::ui::shortest(T::c(w.as_f64())),
            crate::ui::shortest(region.log_volume())
        )
    });
    format!(
        "{} {structure}, {} component{}{noise}",
        model.family(),
        model.n_components(),
        if model.n_components() == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(n_init: usize) -> Progress {
        Progress {
            start: Instant::now(),
            delay: Duration::from_secs(3600),
            n_init,
            cells: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            bar: OnceLock::new(),
        }
    }

    fn it(restart: usize, iteration: usize) -> Iteration {
        Iteration {
            restart,
            iteration,
            lower_bound: -1.5,
            change: 0.1,
        }
    }

    #[test]
    fn progress_counts_the_candidates_of_a_grid() {
        let p = progress(2);
        p.update(&it(0, 1));
        assert_eq!(
            p.message(&it(1, 4)),
            "restart 2/2, iteration 4, lower bound -1.500000"
        );
        p.candidates(Some(6));
        // A second cell starts; restarts after the first do not count.
        p.update(&it(0, 1));
        p.update(&it(1, 1));
        assert!(
            p.message(&it(0, 2))
                .starts_with("candidate 2/6, restart 1/2")
        );
        p.candidates(None);
        assert!(
            p.message(&it(0, 2))
                .starts_with("candidate fits started: 2, ")
        );
    }
}
