//! `detect --missing`: a detector fitted on a data file with missing values.
//! The model is fitted by EM on the observed data: a fixed model with
//! `--components` or `--init`, a choice by BIC on the observed-data
//! likelihood with `--max-components`, and otherwise one component of the
//! family (the default detector's ensemble does not take missing values).
//! Every row is scored by the mixture's tail score, which one threshold
//! can judge whatever features a row observes (`mixtures_anomaly::missing`).
//! The detector file says so (`"score": "negative_log_tail_probability"`);
//! `score`, `evaluate` and `explain` use its tail scores.

use std::sync::Arc;

use mixtures_anomaly::{DetectorFit, DetectorParams, IncompleteFitter, Mode, TailScored};
use mixtures_core::Scalar;
use mixtures_dist::{AnyMixture, ModelSpec};
use mixtures_em::ModelParams;
use serde_json::json;

use super::detect::{choice_json, configure, describe_detector};
use super::fit::load_init;
use super::missing::{describe_missing, selection};
use super::{note_written, plot_scores};
use crate::cli::{DetectCmd, Method};
use crate::error::CliError;
use crate::fitting::{
    Plan, Progress, ProgressObserver, check_flags, describe_choice, em_control, plan,
};
use crate::input::{IncompleteTable, incomplete_error, read_incomplete};
use crate::model_io::FileDetector;
use crate::plot;
use crate::ui::Ui;

/// Refuses what `detect --missing` does not take.
fn refuse_flags(c: &DetectCmd) -> Result<(), CliError> {
    let mut refused = vec![
        (c.method == Method::Mcd, "--method mcd"),
        (c.plot_features.is_some(), "--plot-features"),
    ];
    refused.extend(c.fit.robust.flags().map(|(flag, given)| (given, flag)));
    match refused.iter().find(|(given, _)| *given) {
        Some((_, flag)) => Err(CliError::Usage(format!(
            "{flag} is not supported with missing values (--missing) yet"
        ))),
        None => Ok(()),
    }
}

/// Runs `detect --missing` (the files are checked).
///
/// # Errors
/// Unsupported flags and bad files (exit 2), failed fits or writes.
pub fn run<T: Scalar>(c: &DetectCmd, ui: &mut Ui) -> Result<(), CliError> {
    refuse_flags(c)?;
    let init = match c.fit.init.as_deref() {
        Some(path) => ui.time("read model", || load_init::<T>(Some(path)))?,
        None => None,
    };
    let (family, named) = check_flags(&c.fit, init.as_ref())?;
    let names = match (
        &c.input.columns,
        init.as_ref().and_then(AnyMixture::feature_names),
    ) {
        (None, Some(names)) => Some(names),
        _ => None,
    };
    let sel = selection(&c.input, names, c.missing.tokens().unwrap_or_default());
    let table: IncompleteTable<T> = ui.time("read data", || {
        read_incomplete(&c.data, c.input.csv.delimiter, &sel)
    })?;
    if let Some(label) = &table.left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features (pass --label-column {label} to \
             read it as labels, or --columns to choose the features)"
        ));
    }
    if c.best_f1 && table.labels.is_none() {
        return Err(CliError::Usage(
            "--best-f1 needs labels: name their column with --label-column".to_owned(),
        ));
    }
    table
        .data
        .check_every_column_observed()
        .map_err(|e| incomplete_error(&c.data, &table.features, 0, e))?;
    let progress = Progress::new(ui.quiet, em_control(&c.fit).n_init);
    // Without a model fixed by flags or asked to be chosen (--max-components),
    // one component of the family: on the ODDS sets with cells removed it
    // beat BIC's choice on 6 of 8 (docs/missing.md, "The default model").
    let plan = if c.fit.components.is_none() && c.fit.max_components.is_none() && init.is_none() {
        let mut control = em_control(&c.fit);
        if let Some(p) = &progress {
            control = control.observer(ProgressObserver(Arc::clone(p)));
        }
        let spec = named.unwrap_or(ModelSpec::default_for(family));
        ui.note(&format!(
            "fitting one {spec} component (the default with missing values; --max-components N \
             chooses among up to N components by BIC)"
        ));
        Plan::Fixed(Box::new(ModelParams::new(spec, 1).control(control)))
    } else {
        plan(&c.fit, init, table.data.n_samples(), progress.clone())?
    };
    let (fit, mode, rule) = match plan {
        Plan::Fixed(p) => {
            let params = configure(c, *p);
            (
                fit_detector(c, ui, &params, &table)?,
                params.mode(),
                "fixed",
            )
        }
        Plan::Auto(grid) => {
            let params = configure(c, grid);
            ui.note(&format!(
                "choosing the model: {} candidate fits (k x structure) by BIC on the observed \
                 data",
                params.fitter().cells().len()
            ));
            (fit_detector(c, ui, &params, &table)?, params.mode(), "grid")
        }
    };
    if let Some(p) = &progress {
        p.finish();
    }
    finish(c, ui, &table, mode, fit, rule)
}

fn fit_detector<T: Scalar, F: IncompleteFitter<T>>(
    c: &DetectCmd,
    ui: &mut Ui,
    params: &DetectorParams<T, F>,
    table: &IncompleteTable<T>,
) -> Result<DetectorFit<T, TailScored<T>>, CliError> {
    params.check()?;
    let data = &table.data;
    Ok(ui.time("fit", || match (c.best_f1, &table.labels) {
        (true, Some(labels)) => params.fit_validated_incomplete(data, data, labels),
        _ => params.fit_incomplete(data),
    })?)
}

/// Writes the detector file and prints what was fitted.
fn finish<T: Scalar>(
    c: &DetectCmd,
    ui: &mut Ui,
    table: &IncompleteTable<T>,
    mode: Mode,
    fit: DetectorFit<T, TailScored<T>>,
    rule: &str,
) -> Result<(), CliError> {
    let data = &table.data;
    let report = fit.report;
    let detector = fit.detector.map_model(|m| {
        m.into_inner()
            .with_feature_names(table.features.clone())
            .map_err(|e| CliError::Fit(e.into()))
            .and_then(|m| TailScored::new(m).map_err(CliError::from))
    })?;
    let file = FileDetector::Tail(Box::new(detector));
    crate::model_io::save(ui, &file, &c.output)?;
    let t = file.threshold();
    let scores = &report.training_scores;
    let mut text = format!(
        "data: {}, {} rows x {} features ({})\n{}\n",
        c.data.display(),
        data.n_samples(),
        table.features.len(),
        table.features.join(", "),
        describe_missing(data)
    );
    let selection = report.choice.as_ref().map(|choice| {
        text.push_str(&describe_choice(&choice.selection));
        text.push('\n');
        choice_json(&choice.selection, rule)
    });
    let (summary, mut value) = describe_detector(
        c,
        &file,
        &report,
        (mode, rule),
        &table.features,
        table.labels.as_deref(),
    )?;
    text.push_str(&summary);
    value["selection"] = json!(selection);
    value["missing_cells"] = json!(data.n_missing());
    value["missing_patterns"] = json!(data.patterns().len());
    ui.result(&text, &value)?;
    ui.note(&format!("wrote {}", c.output.display()));
    if let Some(dir) = &c.plot {
        plot::ensure_dir(dir)?;
        let files = plot_scores(dir, scores, table.labels.as_deref(), Some(t.value()))?;
        note_written(ui, &files);
        ui.note("note: the scatter plot is not drawn for data with missing values");
    }
    ui.print_timings();
    Ok(())
}
