//! `mixtures detect DATA.csv -o DETECTOR.json [--contamination Q | --threshold
//! T | --best-f1 --label-column NAME] [fit options]`: fit a model and a
//! threshold, and write the detector file (the model file with a threshold).

use mixtures_anomaly::{
    BestF, Contamination, DensityModel, Detector, DetectorFit, DetectorParams, DetectorReport,
    Ensemble, EnsembleFitter, Fixed, McdFitter, Mode, ModelFitter,
};
use mixtures_core::Scalar;
use mixtures_dist::{AnyMixture, GaussianMixtureModel};
use mixtures_em::Mcd;
use serde_json::json;

use super::detect_missing::run as detect_missing;
use super::evaluate::{describe_evaluation, describe_threshold};
use super::fit::{load_init, load_training};
use super::{by_precision, note_written, plot_scatter, plot_scores, scatter_axes};
use crate::cli::{DetectCmd, Method};
use crate::error::CliError;
use crate::files::check_files;
use crate::fitting::{
    Plan, Progress, auto_fitter, check_flags, describe_auto, describe_choice, describe_model,
    em_control, plan, uses_default_detector,
};
use crate::input::Table;
use crate::model_io::FileDetector;
use crate::plot;
use crate::ui::{Ui, num, shortest};

/// Runs `detect`.
///
/// # Errors
/// Bad flags or files (exit 2), failed fits or writes (exit 1).
pub fn run(c: &DetectCmd, ui: &mut Ui) -> Result<(), CliError> {
    if c.missing.missing {
        let mut inputs = vec![c.data.as_path()];
        inputs.extend(c.fit.init.as_deref());
        check_files(&inputs, &[c.output.as_path()], c.plot.as_deref().as_slice())?;
        return by_precision!(c.fit.precision, detect_missing(c, ui));
    }
    by_precision!(c.fit.precision, typed(c, ui))
}

/// The detector parameters the flags ask for, around a model fitter.
pub(super) fn configure<T: Scalar, F: ModelFitter<T>>(
    c: &DetectCmd,
    fitter: F,
) -> DetectorParams<T, F> {
    let params = DetectorParams::new(fitter);
    match (c.contamination, c.threshold, c.best_f1) {
        // Contaminated training data: the robust fit, and the threshold at
        // the same fraction.
        (Some(q), _, _) => params.outlier(q),
        (_, Some(t), _) => params.threshold(Fixed(t)),
        (_, _, true) => params.threshold(BestF::f1()),
        // Clean training data: the library's default false-alarm rate.
        _ => params,
    }
}

fn typed<T: Scalar>(c: &DetectCmd, ui: &mut Ui) -> Result<(), CliError> {
    let mut inputs = vec![c.data.as_path()];
    inputs.extend(c.fit.init.as_deref());
    check_files(&inputs, &[c.output.as_path()], c.plot.as_deref().as_slice())?;
    if c.method == Method::Mcd {
        return mcd::<T>(c, ui);
    }
    for (flag, given) in [
        ("--support-fraction", c.support_fraction.is_some()),
        ("--mcd-trials", c.mcd_trials.is_some()),
    ] {
        if given {
            return Err(CliError::Usage(format!(
                "{flag} is a setting of --method mcd"
            )));
        }
    }
    let init = match c.fit.init.as_deref() {
        Some(path) => ui.time("read model", || load_init::<T>(Some(path)))?,
        None => None,
    };
    check_flags(&c.fit, init.as_ref())?;
    let progress = Progress::new(ui.quiet, em_control(&c.fit).n_init);
    if uses_default_detector(&c.fit) {
        let params = configure(
            c,
            EnsembleFitter::with_mixture(auto_fitter::<T>(&c.fit, progress.clone())?),
        );
        params.check()?;
        let table = load_training::<T>(ui, &c.data, &c.input, None, c.best_f1)?;
        let axes = scatter_axes(&table, c.plot_features.as_deref())?;
        ui.note(
            "fitting the default detector (Detector::auto: one Gaussian, the MCD and a \
             mixture chosen by BIC, their scores scaled and averaged)",
        );
        let fit = fit_detector(c, ui, &params, &table)?;
        if let Some(p) = &progress {
            p.finish();
        }
        return finish(c, ui, &table, axes, params.mode(), fit, "Detector::auto");
    }

    // A fixed model, or a grid that chooses one (and chooses again in every
    // round of an outlier-mode fit).
    let table = load_training::<T>(ui, &c.data, &c.input, init.as_ref(), c.best_f1)?;
    let axes = scatter_axes(&table, c.plot_features.as_deref())?;
    let (fit, mode, rule) = match plan(&c.fit, init, table.data.n_samples(), progress.clone())? {
        Plan::Fixed(p) => {
            let params = configure(c, *p);
            params.check()?;
            (
                fit_detector(c, ui, &params, &table)?,
                params.mode(),
                "fixed",
            )
        }
        Plan::Auto(grid) => {
            let params = configure(c, grid);
            params.check()?;
            if let Some(p) = &progress {
                p.candidates(Some(params.fitter().cells().len()));
            }
            ui.note(&format!(
                "choosing the model: {} candidate fits (k x structure) by BIC",
                params.fitter().cells().len()
            ));
            (fit_detector(c, ui, &params, &table)?, params.mode(), "grid")
        }
    };
    if let Some(p) = &progress {
        p.finish();
    }
    finish(c, ui, &table, axes, mode, fit, rule)
}

/// `--method mcd`: the robust single Gaussian, with a novelty threshold
/// (the estimator is robust itself; the outlier mode's refits add nothing).
fn mcd<T: Scalar>(c: &DetectCmd, ui: &mut Ui) -> Result<(), CliError> {
    let a = &c.fit;
    for (flag, given) in [
        ("--components", a.components.is_some()),
        ("--covariance", a.covariance.is_some()),
        ("--family", a.family.is_some()),
        ("--n-init", a.n_init.is_some()),
        ("--max-iter", a.max_iter.is_some()),
        ("--tol", a.tol.is_some()),
        ("--reg-covar", a.reg_covar.is_some()),
        ("--init", a.init.is_some()),
        ("--max-components", a.max_components.is_some()),
        ("--search-rows", a.search_rows.is_some()),
    ]
    .into_iter()
    .chain(a.robust.flags())
    {
        if given {
            return Err(CliError::Usage(format!(
                "{flag} is a setting of the EM fit; --method mcd takes --seed, \
                 --support-fraction and --mcd-trials"
            )));
        }
    }
    let mut estimator = Mcd::new().seed(a.seed);
    if let Some(f) = c.support_fraction {
        estimator = estimator.support_fraction(f);
    }
    if let Some(n) = c.mcd_trials {
        estimator = estimator.n_trials(n);
    }
    let params = DetectorParams::new(McdFitter::with(estimator));
    let params = match (c.contamination, c.threshold, c.best_f1) {
        (Some(q), _, _) => params.threshold(Contamination(q)),
        (_, Some(t), _) => params.threshold(Fixed(t)),
        (_, _, true) => params.threshold(BestF::f1()),
        _ => params,
    };
    params.check()?;
    let table = load_training::<T>(ui, &c.data, &c.input, None, c.best_f1)?;
    let axes = scatter_axes(&table, c.plot_features.as_deref())?;
    ui.note("fitting the minimum covariance determinant (FastMCD)");
    let fit = fit_detector(c, ui, &params, &table)?;
    finish(c, ui, &table, axes, params.mode(), fit, "mcd")
}

fn fit_detector<T: Scalar, F: ModelFitter<T>>(
    c: &DetectCmd,
    ui: &mut Ui,
    params: &DetectorParams<T, F>,
    table: &Table<T>,
) -> Result<DetectorFit<T, F::Model>, CliError> {
    let data = &table.data;
    Ok(ui.time("fit", || match (c.best_f1, &table.labels) {
        (true, Some(labels)) => params.fit_validated(data, data, labels),
        _ => params.fit(data),
    })?)
}

/// A fitted detector's model as the detector file holds it.
trait IntoFile<T: Scalar>: DensityModel<T> + Sized {
    /// The detector file's detector, the feature names on every model.
    fn into_file(
        detector: Detector<T, Self>,
        names: Vec<String>,
    ) -> Result<FileDetector<T>, CliError>;

    /// The ensemble, when the model is one (for the summary).
    fn ensemble(&self) -> Option<&Ensemble<T>> {
        None
    }
}

macro_rules! single_model_files {
    ($($model:ty),*) => {$(
        impl<T: Scalar> IntoFile<T> for $model {
            fn into_file(
                detector: Detector<T, Self>,
                names: Vec<String>,
            ) -> Result<FileDetector<T>, CliError> {
                let detector = detector
                    .map_model(|m| AnyMixture::from(m).with_feature_names(names))
                    .map_err(|e| CliError::Fit(e.into()))?;
                Ok(FileDetector::Single(Box::new(detector)))
            }
        }
    )*};
}
single_model_files!(AnyMixture<T>, GaussianMixtureModel<T>);

impl<T: Scalar> IntoFile<T> for Ensemble<T> {
    fn into_file(
        detector: Detector<T, Self>,
        names: Vec<String>,
    ) -> Result<FileDetector<T>, CliError> {
        Ok(FileDetector::Ensemble(
            detector.map_model(|e| e.with_feature_names(names))?,
        ))
    }

    fn ensemble(&self) -> Option<&Ensemble<T>> {
        Some(self)
    }
}

/// The ensemble's parts, as text and JSON.
fn describe_ensemble<T: Scalar>(e: &Ensemble<T>) -> (String, serde_json::Value) {
    let mut text = format!(
        "ensemble: the mean of {} scores, each centred on the median of its training scores and \
         divided by their interquartile range:",
        e.parts().len()
    );
    for p in e.parts() {
        text.push_str(&format!(
            "\n  {}: {} ({} components), median {}, IQR {}",
            p.name,
            p.model.family(),
            p.model.n_components(),
            shortest(p.centre),
            shortest(p.spread)
        ));
    }
    for (name, why) in e.left_out() {
        text.push_str(&format!("\n  {name}: left out ({why})"));
    }
    let value = json!({
        "parts": e.parts().iter().map(|p| json!({
            "name": p.name,
            "family": p.model.family(),
            "components": p.model.n_components(),
            "median": num(p.centre),
            "iqr": num(p.spread),
        })).collect::<Vec<_>>(),
        "left_out": e.left_out().iter().map(|(n, w)| json!({"name": n, "reason": w})).collect::<Vec<_>>(),
    });
    (text, value)
}

/// Writes the detector file, and prints and plots what was fitted. `choice`
/// is the automatic choice of the model, as text and JSON, when there was one.
fn finish<T: Scalar, M: IntoFile<T>>(
    c: &DetectCmd,
    ui: &mut Ui,
    table: &Table<T>,
    axes: Option<(usize, usize)>,
    mode: Mode,
    fit: DetectorFit<T, M>,
    rule: &str,
) -> Result<(), CliError> {
    let data = &table.data;
    let report = fit.report;
    let ensemble = fit.detector.model().ensemble().map(describe_ensemble);
    let detector = M::into_file(fit.detector, table.features.clone())?;
    let model = detector.main();
    let choice = report.choice.as_ref().map(|choice| {
        let sel = &choice.selection;
        let mut value = choice_json(sel, rule);
        let text = if rule == "Detector::auto" {
            value["dropped_weights"] = json!(choice.dropped_weights);
            describe_auto(choice, model.n_components())
        } else {
            describe_choice(sel)
        };
        (text, value)
    });
    crate::model_io::save(ui, &detector, &c.output)?;

    // The training rows' scores under the final model, as the fit computed them.
    let scores = &report.training_scores;
    let flags = detector.threshold().predict(scores);
    let t = detector.threshold();
    let mut text = format!(
        "data: {}, {} rows x {} features ({})\n",
        c.data.display(),
        data.n_samples(),
        table.features.len(),
        table.features.join(", ")
    );
    let (choice_text, choice_value) = choice.unzip();
    if let Some(t) = choice_text {
        text.push_str(&t);
        text.push('\n');
    }
    let (ensemble_text, ensemble_value) = ensemble.unzip();
    if let Some(t) = ensemble_text {
        text.push_str(&t);
        text.push('\n');
    }
    let (summary, mut value) = describe_detector(
        c,
        &detector,
        &report,
        (mode, rule),
        &table.features,
        table.labels.as_deref(),
    )?;
    text.push_str(&summary);
    value["selection"] = json!(choice_value);
    value["ensemble"] = json!(ensemble_value);
    ui.result(&text, &value)?;
    ui.note(&format!("wrote {}", c.output.display()));
    if let Some(dir) = &c.plot {
        plot::ensure_dir(dir)?;
        let mut files = plot_scores(dir, scores, table.labels.as_deref(), Some(t.value()))?;
        files.extend(plot_scatter(
            dir,
            detector.main(),
            table,
            axes,
            Some(&flags),
        )?);
        note_written(ui, &files);
    }
    ui.print_timings();
    Ok(())
}

/// What `detect` prints after the data and the model choice, as text and
/// JSON: the model, the fit, the score (for a tail-score detector), the
/// mode, the threshold, the training rows flagged and, with labels of both
/// classes, the evaluation on the training rows. `method` is the model
/// step (`"mcd"` for a robust estimator).
///
/// # Errors
/// The label errors of the evaluation.
pub(super) fn describe_detector<T: Scalar>(
    c: &DetectCmd,
    detector: &FileDetector<T>,
    report: &DetectorReport<T>,
    (mode, method): (Mode, &str),
    features: &[String],
    labels: Option<&[u8]>,
) -> Result<(String, serde_json::Value), CliError> {
    let scores = &report.training_scores;
    let t = detector.threshold();
    let flagged = t.predict(scores).iter().filter(|&&f| f == 1).count();
    let mode = match mode {
        Mode::Outlier { contamination, .. } => format!(
            "outlier (contamination {}: a robust fit that left out {} rows, {} fits{})",
            shortest(contamination),
            report.excluded.len(),
            report.rounds,
            if report.converged {
                ""
            } else {
                ", stopped before the left-out rows settled"
            }
        ),
        _ if method == "mcd" => "robust (the minimum covariance determinant leaves out the \
                                 rows far from the bulk by itself)"
            .to_owned(),
        _ => "novelty (training data taken as normal)".to_owned(),
    };
    let tail = matches!(detector, FileDetector::Tail(_));
    let mut text = format!(
        "model: {}, {}\nfit: {}\n{}mode: {mode}\nthreshold: {} ({})\nflagged: {flagged} of {} \
         training rows\n",
        describe_model(detector.main(), Some(&report.fit)),
        T::NAME,
        report.fit,
        if tail {
            "score: the tail score -ln P, P the mixture's mass at lower density than the row on \
             its observed features: one scale for rows with any observed features\n"
        } else {
            ""
        },
        shortest(t.value()),
        describe_threshold(t),
        scores.len()
    );
    let mut value = json!({
        "command": "detect",
        "detector_file": c.output.display().to_string(),
        "rows": scores.len(),
        "features": features,
        "family": detector.main().family(),
        "structure": report.fit.structure,
        "components": detector.main().n_components(),
        "precision": T::NAME,
        "threshold": num(t.value().as_f64()),
        "rule": t.rule(),
        "parameters": t.parameters(),
        "flagged": flagged,
        "rounds": report.rounds,
        "excluded": report.excluded.len(),
        "converged": report.fit.converged,
    });
    if tail {
        value["score"] = json!(mixtures_anomaly::SCORE_TAIL);
    }
    // Metrics need both classes; training labels of normal rows only give none.
    if let Some(labels) = labels.filter(|l| l.contains(&0) && l.contains(&1)) {
        let eval = mixtures_anomaly::evaluate(scores, labels, t.value())?;
        let (etext, evalue) =
            describe_evaluation(&eval, t.value().as_f64(), &describe_threshold(t));
        text.push_str("on the training labels:\n");
        text.push_str(&etext);
        value["evaluation"] = evalue;
    }
    Ok((text, value))
}

/// The `selection` object of `detect`'s JSON: how the model was chosen.
pub(super) fn choice_json<T: Scalar>(
    sel: &mixtures_select::Selection<T>,
    rule: &str,
) -> serde_json::Value {
    let best = sel.best_cell();
    json!({
        "rule": rule,
        "criterion": sel.criterion.as_str(),
        "value": num(best.criterion(sel.criterion).unwrap_or(f64::NAN)),
        "candidates": sel.cells.len(),
        "k": best.k,
        "structure": best.structure.to_string(),
        "search": crate::fitting::search_json(sel),
    })
}
