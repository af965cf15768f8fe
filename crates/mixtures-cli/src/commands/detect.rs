//! `mixtures detect DATA.csv -o DETECTOR.json [--contamination Q | --threshold
//! T | --best-f1 --label-column NAME] [fit options]`: fit a model and a
//! threshold, and write the detector file (the model file with a threshold).

use mixtures_anomaly::{
    AnyDetector, BestF, Detector, DetectorFit, DetectorParams, Fixed, Mode, ModelFitter,
};
use mixtures_core::Scalar;
use mixtures_dist::AnyMixture;
use serde_json::{Value, json};

use super::evaluate::{describe_evaluation, describe_threshold};
use super::fit::{load_init, load_training};
use super::{by_precision, note_written, plot_scatter, plot_scores, scatter_axes};
use crate::cli::DetectCmd;
use crate::error::CliError;
use crate::fitting::{
    AutoStep, EmSettings, FitPlan, Plan, Progress, check_flags, describe_auto, describe_choice,
    describe_model, plan, selected_to_any, structure_label, uses_default_detector, with_names,
};
use crate::input::Table;
use crate::plot;
use crate::ui::{Ui, num};

/// Runs `detect`.
///
/// # Errors
/// Bad flags or files (exit 2), failed fits or writes (exit 1).
pub fn run(c: &DetectCmd, ui: &mut Ui) -> Result<(), CliError> {
    by_precision!(c.fit.precision, typed(c, ui))
}

/// The detector parameters the flags ask for, around a model fitter.
fn configure<T: Scalar, F: ModelFitter<T>>(c: &DetectCmd, fitter: F) -> DetectorParams<T, F> {
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
    let init = load_init::<T>(c.fit.init.as_deref())?;
    check_flags(&c.fit, init.as_ref())?;
    if uses_default_detector(&c.fit) {
        // Flags are checked before the data are read.
        let params = configure(c, AutoStep::<T>::from_args(&c.fit)?);
        params.check()?;
        let table = load_training::<T>(ui, &c.data, &c.input, None, c.best_f1)?;
        let axes = scatter_axes(&table, c.plot_features.as_deref())?;
        ui.note("fitting the default detector (Detector::auto: a grid over k by BIC)");
        let fit = fit_detector(c, ui, &params, &table)?;
        let choice = params.fitter().last().map(|s| {
            let best = s.selection.best_cell();
            let value = json!({
                "rule": "Detector::auto",
                "criterion": s.selection.criterion.as_str(),
                "value": num(best.criterion(s.selection.criterion).unwrap_or(f64::NAN)),
                "candidates": s.selection.cells.len(),
                "k": best.k,
                "structure": structure_label(best.structure),
                "dropped_weights": s.dropped_weights,
            });
            (describe_auto(&s), value)
        });
        return finish(c, ui, &table, axes, params.mode(), fit, choice);
    }

    let table = load_training::<T>(ui, &c.data, &c.input, init.as_ref(), c.best_f1)?;
    let axes = scatter_axes(&table, c.plot_features.as_deref())?;
    let data = &table.data;
    let em = EmSettings::from_args(&c.fit);
    // The rule's parameters are checked before any fit (a grid takes time).
    let placeholder = FitPlan::<T> {
        k: 1,
        structure: mixtures_select::Structure::Gaussian(mixtures_em::Covariance::Full),
        em,
        init: None,
        progress: None,
    };
    configure(c, placeholder).check()?;

    let progress = Progress::new(ui.quiet, c.fit.n_init);
    let (fitter, selection) = match plan(&c.fit, init, data.n_samples(), progress.clone())? {
        Plan::Fixed(p) => (*p, None),
        Plan::Auto(grid) => {
            // --covariance (or --family laplace) without --components: k by
            // BIC within the structures asked for.
            ui.note(&format!(
                "choosing the model: {} candidate fits (k x structure) by BIC",
                grid.cells().len()
            ));
            let sel = ui.time("select", || grid.fit(data))?;
            let best = sel.best_cell();
            // The detector's fit starts from the chosen model.
            let fitter = FitPlan {
                k: best.k,
                structure: best.structure,
                em,
                init: Some(selected_to_any(sel.model.clone())?),
                progress,
            };
            (fitter, Some(sel))
        }
    };
    let params = configure(c, fitter);
    let fit = fit_detector(c, ui, &params, &table)?;
    if let Some(p) = params.fitter().progress.as_ref() {
        p.finish();
    }
    let choice = selection.map(|sel| {
        let best = sel.best_cell();
        let value = json!({
            "rule": "grid",
            "criterion": sel.criterion.as_str(),
            "value": num(best.criterion(sel.criterion).unwrap_or(f64::NAN)),
            "candidates": sel.cells.len(),
            "k": best.k,
            "structure": structure_label(best.structure),
        });
        (describe_choice(&sel), value)
    });
    finish(c, ui, &table, axes, params.mode(), fit, choice)
}

/// Fits the detector: on the labels of the training data for `--best-f1`.
fn fit_detector<T: Scalar, F: ModelFitter<T, Model = AnyMixture<T>>>(
    c: &DetectCmd,
    ui: &mut Ui,
    params: &DetectorParams<T, F>,
    table: &Table<T>,
) -> Result<DetectorFit<T, AnyMixture<T>>, CliError> {
    let data = &table.data;
    Ok(ui.time("fit", || match (c.best_f1, &table.labels) {
        (true, Some(labels)) => params.fit_validated(data, data, labels),
        _ => params.fit(data),
    })?)
}

/// Writes the detector file, and prints and plots what was fitted. `choice`
/// is the automatic choice of the model, as text and JSON, when there was one.
fn finish<T: Scalar>(
    c: &DetectCmd,
    ui: &mut Ui,
    table: &Table<T>,
    axes: Option<(usize, usize)>,
    mode: Mode,
    fit: DetectorFit<T, AnyMixture<T>>,
    choice: Option<(String, Value)>,
) -> Result<(), CliError> {
    let data = &table.data;
    let report = fit.report;
    let (model, threshold, reference) = fit.detector.into_parts();
    let model = with_names(model, &table.features).map_err(|e| CliError::Fit(e.into()))?;
    let mut detector: AnyDetector<T> = Detector::from_parts(model, threshold);
    if let Some(r) = reference {
        detector = detector.with_reference(r);
    }
    detector
        .save(&c.output)
        .map_err(|e| CliError::save(&c.output, e))?;

    let scores = ui.time("score", || detector.score(data))?;
    let flags = detector.threshold().predict(&scores);
    let flagged = flags.iter().filter(|&&f| f == 1).count();
    let t = detector.threshold();
    let mode = match mode {
        Mode::Outlier { contamination, .. } => format!(
            "outlier (contamination {contamination}: a robust fit that left out {} rows, {} fits{})",
            report.excluded.len(),
            report.rounds,
            if report.converged {
                ""
            } else {
                ", stopped before the left-out rows settled"
            }
        ),
        _ => "novelty (training data taken as normal)".to_owned(),
    };
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
    text.push_str(&format!(
        "model: {}, {}\nfit: {}\nmode: {mode}\nthreshold: {} ({})\nflagged: {flagged} of {} training rows\n",
        describe_model(detector.model(), Some(&report.fit)),
        T::NAME,
        report.fit,
        t.value(),
        describe_threshold(t),
        data.n_samples()
    ));
    let mut value = json!({
        "command": "detect",
        "detector_file": c.output.display().to_string(),
        "rows": data.n_samples(),
        "features": table.features,
        "family": detector.model().family(),
        "structure": report.fit.structure,
        "components": detector.model().n_components(),
        "precision": T::NAME,
        "threshold": num(t.value().as_f64()),
        "rule": t.rule(),
        "parameters": t.parameters(),
        "flagged": flagged,
        "rounds": report.rounds,
        "excluded": report.excluded.len(),
        "converged": report.fit.converged,
        "selection": choice_value,
    });
    // Metrics need both classes; training labels of normal rows only give none.
    if let Some(labels) = table
        .labels
        .as_ref()
        .filter(|l| l.contains(&0) && l.contains(&1))
    {
        let eval = mixtures_anomaly::evaluate(&scores, labels, t.value())?;
        let (etext, evalue) =
            describe_evaluation(&eval, t.value().as_f64(), &describe_threshold(t));
        text.push_str("on the training labels:\n");
        text.push_str(&etext);
        value["evaluation"] = evalue;
    }
    ui.result(&text, &value)?;
    ui.note(&format!("wrote {}", c.output.display()));
    if let Some(dir) = &c.plot {
        plot::ensure_dir(dir)?;
        let mut files = plot_scores(dir, &scores, table.labels.as_deref(), Some(t.value()))?;
        files.extend(plot_scatter(
            dir,
            detector.model(),
            table,
            axes,
            Some(&flags),
        )?);
        note_written(ui, &files);
    }
    ui.print_timings();
    Ok(())
}
