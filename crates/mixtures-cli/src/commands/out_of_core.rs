//! `mixtures fit` out of core (`--chunk-rows N`, or several files): the
//! rows are read in batches once per EM iteration through
//! `GaussianParams::fit_source` and never all held, so the data can be
//! larger than memory. A Gaussian mixture of a given number of components
//! (or a warm start); the automatic choice, the other families and the
//! robust options need the rows in memory and are refused with the reason.

use std::path::PathBuf;

use mixtures_arrow::DEFAULT_BATCH_ROWS;
use mixtures_core::Scalar;
use mixtures_core::source::RowSource;
use mixtures_dist::{Family, ModelSpec};
use mixtures_em::{Batched, FitReport, GaussianMixture};
use serde_json::json;

use super::fit::load_init;
use crate::cli::FitCmd;
use crate::error::CliError;
use crate::fitting::{Progress, ProgressObserver, check_flags, describe_model, em_control};
use crate::input::{CsvSource, Selection, format_of, open_files};
use crate::ui::{Ui, num};
use crate::{model_io, plot};

/// The flags an out-of-core fit cannot honour, refused before any data are
/// read.
fn refuse(c: &FitCmd, family: Family, has_init: bool) -> Result<(), CliError> {
    let why = "an out-of-core fit (--chunk-rows, or several data files)";
    if c.variational.variational {
        return Err(CliError::Usage(format!(
            "--variational needs the rows in memory; {why} reads them in batches: give one \
             file and no --chunk-rows"
        )));
    }
    if family != Family::Gaussian {
        return Err(CliError::Usage(format!(
            "{why} fits Gaussian mixtures only; the {family} family needs the rows in memory"
        )));
    }
    if c.fit.components.is_none() && !has_init {
        return Err(CliError::Usage(format!(
            "{why} needs --components K (or --init MODEL.json): the automatic choice of the \
             model fits many candidates and needs the rows in memory"
        )));
    }
    for (flag, given) in c.fit.robust.flags() {
        if given {
            return Err(CliError::Usage(format!(
                "{flag} needs the rows in memory; {why} reads them in batches"
            )));
        }
    }
    if c.chunk_rows == Some(0) {
        return Err(CliError::Usage(
            "--chunk-rows must be at least 1".to_owned(),
        ));
    }
    Ok(())
}

/// Runs `fit` out of core on `paths` (of one format).
///
/// # Errors
/// Bad flags or files (exit 2), failed fits or writes (exit 1).
pub fn run<T: Scalar>(c: &FitCmd, paths: &[PathBuf], ui: &mut Ui) -> Result<(), CliError> {
    let init = match c.fit.init.as_deref() {
        Some(path) => ui.time("read model", || load_init::<T>(Some(path)))?,
        None => None,
    };
    let (family, named) = check_flags(&c.fit, init.as_ref())?;
    refuse(c, family, init.is_some())?;
    let batch_rows = c.chunk_rows.unwrap_or(DEFAULT_BATCH_ROWS);
    // The warm start's feature names pick the columns unless --columns does.
    let names = match (
        &c.input.columns,
        init.as_ref().and_then(|m| m.feature_names()),
    ) {
        (None, Some(names)) => Some(names.to_vec()),
        _ => None,
    };
    let sel = Selection {
        columns: names.clone().or_else(|| c.input.columns.clone()),
        columns_from: if names.is_some() {
            "the model's feature_names"
        } else {
            "--columns"
        },
        label_column: c.input.label_column.clone(),
        label_by_name: names.is_none(),
        no_header: c.input.csv.no_header,
        ..Selection::default()
    };
    let (source, features, left_out): (Box<dyn RowSource<T>>, Vec<String>, Option<String>) =
        match format_of(&paths[0]) {
            Some(format) => {
                let files = open_files(paths, format, &sel)?.batch_rows(batch_rows);
                let layout = files.layout().clone();
                (Box::new(files), layout.features, layout.left_out)
            }
            None => {
                let csv = CsvSource::open(paths, c.input.csv.delimiter, &sel, batch_rows)?;
                let (f, l) = (csv.features().to_vec(), csv.left_out().map(str::to_owned));
                (Box::new(csv), f, l)
            }
        };
    if let Some(label) = &left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features (pass --label-column {label} \
             to read it as labels, or --columns to choose the features)"
        ));
    }
    let progress = Progress::new(ui.quiet, em_control(&c.fit).n_init);
    let mut control = em_control(&c.fit);
    if let Some(p) = &progress {
        control = control.observer(ProgressObserver(p.clone()));
    }
    let start = init.as_ref().and_then(|m| m.as_gaussian());
    let spec = named
        .or(init.as_ref().map(|m| m.spec()))
        .unwrap_or(ModelSpec::default_for(Family::Gaussian));
    let k = start.map_or(c.fit.components.unwrap_or(1), |m| m.n_components());
    let params = GaussianMixture::params::<T>(k)
        .covariance(spec.covariance())
        .control(control);
    let fitted = ui.time("fit", || match start {
        Some(m) => params.fit_reduced_from(m, &Batched::new(source.as_ref())),
        None => params.fit_source(source.as_ref()),
    });
    if let Some(p) = &progress {
        p.finish();
    }
    let fitted = fitted?.into_any();
    let model = fitted
        .model
        .with_feature_names(features.clone())
        .map_err(|e| CliError::Fit(e.into()))?;
    model_io::save(ui, &model, &c.output)?;
    let report = &fitted.report;
    let what = source.describe();
    let rows = report.total_weight;
    let text = format!(
        "data: {what}, {} rows x {} features ({}), read out of core in batches of {batch_rows} \
         rows\nmodel: {}, {}\nfit: {}\n",
        crate::ui::shortest(rows),
        features.len(),
        features.join(", "),
        describe_model(&model, Some(report)),
        T::NAME,
        report
    );
    let value = json!({
        "command": "fit",
        "data": what,
        "files": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "out_of_core": true,
        "chunk_rows": batch_rows,
        "rows": rows as u64,
        "features": features,
        "family": model.family(),
        "structure": report.structure,
        "components": model.n_components(),
        "precision": T::NAME,
        "converged": report.converged,
        "n_iter": report.n_iter,
        "mean_log_likelihood": num(report.log_likelihood),
        "n_parameters": report.n_parameters,
        "model_file": c.output.display().to_string(),
    });
    ui.result(&text, &value)?;
    ui.note(&format!("wrote {}", c.output.display()));
    plots(c, ui, report)?;
    ui.print_timings();
    Ok(())
}

/// The lower bound per iteration; the scatter needs every row in memory.
fn plots(c: &FitCmd, ui: &Ui, report: &FitReport) -> Result<(), CliError> {
    let Some(dir) = &c.plot else {
        return Ok(());
    };
    plot::ensure_dir(dir)?;
    let files = plot::lower_bound(dir, &report.lower_bound_trace)?;
    super::note_written(ui, &files);
    ui.note("note: the scatter plot needs the rows in memory; it is not drawn out of core");
    Ok(())
}
