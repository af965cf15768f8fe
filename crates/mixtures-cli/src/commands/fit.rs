//! `mixtures fit DATA -o MODEL.json`: fit a mixture (a given number of
//! components, a warm start, or a model chosen by BIC) and write the model
//! file. One data file is read into memory; several files, or
//! `--chunk-rows`, are read out of core ([`super::out_of_core`]).

use std::path::{Path, PathBuf};

use mixtures_core::Scalar;
use mixtures_dist::AnyMixture;
use mixtures_em::FitReport;
use mixtures_select::Selection;
use serde_json::json;

use super::{by_precision, note_written, plot_scatter, read_data, scatter_axes};
use crate::cli::{FitArgs, FitCmd};
use crate::error::CliError;
use crate::files::check_files;
use crate::fitting::{
    Plan, Progress, check_flags, describe_choice, describe_model, em_control, plan,
};
use crate::input::{Table, expand_data};
use crate::ui::{Ui, num, shortest};
use crate::{model_io, plot};

/// Runs `fit`.
///
/// # Errors
/// Bad flags or files (exit 2), failed fits or writes (exit 1).
pub fn run(c: &FitCmd, ui: &mut Ui) -> Result<(), CliError> {
    let data = expand_data(&c.data)?;
    let mut inputs: Vec<&Path> = data.iter().map(PathBuf::as_path).collect();
    inputs.extend(c.fit.init.as_deref());
    check_files(&inputs, &[c.output.as_path()], c.plot.as_deref().as_slice())?;
    if c.missing.missing {
        return super::missing::fit(c, &data, ui);
    }
    match data.as_slice() {
        [one] if c.chunk_rows.is_none() => {
            if c.variational.variational {
                return super::variational::run(c, one, ui);
            }
            by_precision!(c.fit.precision, typed(c, one, ui))
        }
        _ => by_precision!(c.fit.precision, out_of_core_run(c, &data, ui)),
    }
}

/// [`super::out_of_core::run`] under the name the precision dispatch calls.
fn out_of_core_run<T: Scalar>(c: &FitCmd, data: &[PathBuf], ui: &mut Ui) -> Result<(), CliError> {
    super::out_of_core::run::<T>(c, data, ui)
}

/// The warm-start model of `--init`, in precision `T` (a detector file is a
/// model file too).
///
/// # Errors
/// [`CliError::Input`] or [`CliError::Model`].
pub fn load_init<T: Scalar>(path: Option<&Path>) -> Result<Option<AnyMixture<T>>, CliError> {
    path.map(|p| model_io::read(p)?.model::<T>(p).map(|l| l.model))
        .transpose()
}

/// The data of a fit: by the warm start's feature names when it has them and
/// no `--columns` was given.
///
/// # Errors
/// As [`read_data`].
pub fn load_training<T: Scalar>(
    ui: &mut Ui,
    data: &Path,
    args: &crate::cli::DataArgs,
    init: Option<&AnyMixture<T>>,
    labels_required: bool,
) -> Result<Table<T>, CliError> {
    let names = match (&args.columns, init.and_then(AnyMixture::feature_names)) {
        (None, Some(names)) => Some(names),
        _ => None,
    };
    read_data::<T>(ui, data, args, names, labels_required)
}

/// A fitted model with its report, and the grid's table when it was chosen.
pub struct Outcome<T: Scalar> {
    /// The model, with the feature names of the data.
    pub model: AnyMixture<T>,
    /// How its fit went.
    pub report: FitReport,
    /// The selection, when the model was chosen automatically.
    pub selection: Option<Selection<T>>,
}

/// Fits what the flags ask for on the table's data.
///
/// # Errors
/// Bad flags (exit 2), fit errors.
pub fn fit_model<T: Scalar>(
    args: &FitArgs,
    init: Option<AnyMixture<T>>,
    table: &Table<T>,
    ui: &mut Ui,
) -> Result<Outcome<T>, CliError> {
    let progress = Progress::new(ui.quiet, em_control(args).n_init);
    let (model, report, selection) =
        match plan(args, init, table.data.n_samples(), progress.clone())? {
            Plan::Fixed(p) => {
                let f = ui.time("fit", || mixtures_em::Fit::fit(&*p, &table.data))?;
                (f.model, f.report, None)
            }
            Plan::Auto(grid) => {
                if let Some(p) = &progress {
                    p.candidates(Some(grid.cells().len()));
                }
                ui.note(&format!(
                    "choosing the model: {} candidate fits (k x structure) by BIC",
                    grid.cells().len()
                ));
                let sel = ui.time("fit", || grid.fit(&table.data))?;
                let (model, report) = (sel.model.clone(), sel.report.clone());
                (model, report, Some(sel))
            }
        };
    if let Some(p) = &progress {
        p.finish();
    }
    let model = model
        .with_feature_names(table.features.clone())
        .map_err(|e| CliError::Fit(e.into()))?;
    Ok(Outcome {
        model,
        report,
        selection,
    })
}

/// What a fit's summary says about its data.
pub struct DataInfo<'a> {
    /// The data's name (a file, or a description of several).
    pub name: String,
    /// Their rows.
    pub rows: usize,
    /// The feature names.
    pub features: &'a [String],
    /// The rows' total weight.
    pub total_weight: f64,
}

impl<'a> DataInfo<'a> {
    /// The data of a table read from `path`.
    pub fn of<T: Scalar>(path: &Path, table: &'a Table<T>) -> Self {
        Self {
            name: path.display().to_string(),
            rows: table.data.n_samples(),
            features: &table.features,
            total_weight: table.data.total_weight(),
        }
    }
}

/// The text and JSON lines that describe a fit.
pub fn describe_fit<T: Scalar>(data: &DataInfo<'_>, o: &Outcome<T>) -> (String, serde_json::Value) {
    let mut text = format!(
        "data: {}, {} rows x {} features ({})\n",
        data.name,
        data.rows,
        data.features.len(),
        data.features.join(", ")
    );
    let selection = o.selection.as_ref().map(|sel| {
        text.push_str(&describe_choice(sel));
        text.push('\n');
        let best = sel.best_cell();
        json!({
            "criterion": sel.criterion.as_str(),
            "value": num(best.criterion(sel.criterion).unwrap_or(f64::NAN)),
            "candidates": sel.cells.len(),
            "k": best.k,
            "structure": best.structure.to_string(),
        "search": crate::fitting::search_json(sel),
        })
    });
    text.push_str(&format!(
        "model: {}, {}\nfit: {}\n",
        describe_model(&o.model, Some(&o.report)),
        T::NAME,
        o.report
    ));
    // A trimmed fit keeps less than the data's weight: say what its
    // log-likelihood is a mean over.
    let total = data.total_weight;
    let kept = o.report.total_weight;
    if kept < total {
        text.push_str(&format!(
            "trimmed: the least likely rows are left out of every iteration; the \
             log-likelihood is the mean over the weight kept, {} of {}\n",
            shortest(kept),
            shortest(total)
        ));
    }
    let value = json!({
        "data": data.name,
        "rows": data.rows,
        "features": data.features,
        "family": o.model.family(),
        "structure": o.report.structure,
        "components": o.model.n_components(),
        "precision": T::NAME,
        "converged": o.report.converged,
        "n_iter": o.report.n_iter,
        "mean_log_likelihood": num(o.report.log_likelihood),
        "weight_kept": num(kept),
        "n_parameters": o.report.n_parameters,
        "selection": selection,
    });
    (text, value)
}

fn typed<T: Scalar>(c: &FitCmd, data: &Path, ui: &mut Ui) -> Result<(), CliError> {
    let init = match c.fit.init.as_deref() {
        Some(path) => ui.time("read model", || load_init::<T>(Some(path)))?,
        None => None,
    };
    check_flags(&c.fit, init.as_ref())?;
    let table = load_training::<T>(ui, data, &c.input, init.as_ref(), false)?;
    let axes = scatter_axes(&table, c.plot_features.as_deref())?;
    let outcome = fit_model(&c.fit, init, &table, ui)?;
    model_io::save(ui, &outcome.model, &c.output)?;
    let (text, mut value) = describe_fit(&DataInfo::of(data, &table), &outcome);
    value["command"] = json!("fit");
    value["model_file"] = json!(c.output.display().to_string());
    ui.result(&text, &value)?;
    ui.note(&format!("wrote {}", c.output.display()));
    if let Some(dir) = &c.plot {
        plot::ensure_dir(dir)?;
        let mut files = plot::lower_bound(dir, &outcome.report.lower_bound_trace)?;
        files.extend(plot_scatter(dir, &outcome.model, &table, axes, None)?);
        note_written(ui, &files);
    }
    ui.print_timings();
    Ok(())
}
