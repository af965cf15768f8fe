//! `mixtures fit` out of core (`--chunk-rows N`, or several files): the
//! rows are read in batches once per EM iteration through
//! `GaussianParams::fit_source` and never all held, so the data can be
//! larger than memory. Gaussian mixtures: a given number of components, a
//! warm start, or the automatic choice, whose candidates are fitted on the
//! rows that the in-memory search would sample (`Grid::search_indices`,
//! gathered in one pass) and whose winner is then refitted out of core from
//! there, so that the choice and the model are the in-memory fit's. The
//! other families and the robust options need the rows in memory and are
//! refused with the reason.

use std::path::PathBuf;
use std::sync::Arc;

use mixtures_arrow::DEFAULT_BATCH_ROWS;
use mixtures_core::source::RowSource;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Family, ModelSpec};
use mixtures_em::{Batched, EmControl, FitReport, GaussianMixture};
use mixtures_select::{Scores, Search, Selection};
use serde_json::json;

use super::fit::{DataInfo, Outcome, describe_fit, load_init};
use crate::cli::FitCmd;
use crate::error::CliError;
use crate::fitting::{Plan, Progress, ProgressObserver, check_flags, em_control, plan};
use crate::input::{CsvSource, format_of, open_files};
use crate::ui::Ui;
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
    if c.fit.components.is_none() && !has_init && c.fit.search_rows == Some(0) {
        return Err(CliError::Usage(format!(
            "--search-rows 0 fits every candidate on every row, which needs the rows in \
             memory; {why} fits the candidates on a sample: give --search-rows N or -k K"
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
    let sel = crate::input::Selection {
        columns: names.clone().or_else(|| c.input.columns.clone()),
        columns_from: if names.is_some() {
            "the model's feature_names"
        } else {
            "--columns"
        },
        label_column: c.input.label_column.clone(),
        label_by_name: names.is_none(),
        no_header: c.input.csv.no_header,
        ..crate::input::Selection::default()
    };
    let (source, features, left_out, known_rows): (Box<dyn RowSource<T>>, _, _, _) =
        match format_of(&paths[0]) {
            Some(format) => {
                let files = open_files(paths, format, &sel)?.batch_rows(batch_rows);
                let layout = files.layout().clone();
                let rows = files.n_rows();
                (Box::new(files), layout.features, layout.left_out, rows)
            }
            None => {
                let csv = CsvSource::open(paths, c.input.csv.delimiter, &sel, batch_rows)?;
                let (f, l) = (csv.features().to_vec(), csv.left_out().map(str::to_owned));
                (Box::new(csv), f, l, None)
            }
        };
    if let Some(label) = &left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features (pass --label-column {label} \
             to read it as labels, or --columns to choose the features)"
        ));
    }
    let progress = Progress::new(ui.quiet, em_control(&c.fit).n_init);
    let outcome = if init.is_some() || c.fit.components.is_some() {
        let start = init.as_ref().and_then(|m| m.as_gaussian());
        let spec = named
            .or(init.as_ref().map(|m| m.spec()))
            .unwrap_or(ModelSpec::default_for(Family::Gaussian));
        let k = start.map_or(c.fit.components.unwrap_or(1), |m| m.n_components());
        let params = GaussianMixture::params::<T>(k)
            .covariance(spec.covariance())
            .control(observed(em_control(&c.fit), progress.as_ref()));
        ui.time("fit", || match start {
            Some(m) => params.fit_reduced_from(m, &Batched::new(source.as_ref())),
            None => params.fit_source(source.as_ref()),
        })
        .map_err(CliError::from)
        .map(|f| {
            let f = f.into_any();
            Outcome {
                model: f.model,
                report: f.report,
                selection: None,
            }
        })
    } else {
        choose(c, source.as_ref(), known_rows, progress.clone(), ui)
    };
    if let Some(p) = &progress {
        p.finish();
    }
    let mut outcome = outcome?;
    outcome.model = outcome
        .model
        .with_feature_names(features.clone())
        .map_err(|e| CliError::Fit(e.into()))?;
    model_io::save(ui, &outcome.model, &c.output)?;
    let total = outcome.report.total_weight;
    let data = DataInfo {
        name: source.describe(),
        rows: total as usize,
        features: &features,
        total_weight: total,
    };
    let (mut text, mut value) = describe_fit(&data, &outcome);
    // After the data line: how the rows were read.
    let at = text.find('\n').map_or(text.len(), |i| i + 1);
    text.insert_str(
        at,
        &format!("read out of core, in batches of {batch_rows} rows, once per iteration\n"),
    );
    value["command"] = json!("fit");
    value["model_file"] = json!(c.output.display().to_string());
    value["out_of_core"] = json!(true);
    value["chunk_rows"] = json!(batch_rows);
    value["files"] = json!(
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
    );
    ui.result(&text, &value)?;
    ui.note(&format!("wrote {}", c.output.display()));
    plots(c, ui, &outcome.report)?;
    ui.print_timings();
    Ok(())
}

/// `control` reporting to the progress bar, if one is shown.
fn observed(control: EmControl, progress: Option<&Arc<Progress>>) -> EmControl {
    match progress {
        Some(p) => control.observer(ProgressObserver(p.clone())),
        None => control,
    }
}

/// The automatic choice out of core, as in memory: the grid's candidates on
/// the rows its search would sample (every row when there are no more than
/// `--search-rows`, then the in-memory choice itself), the winner refitted
/// on every row from its fit on the sample.
///
/// # Errors
/// Bad flags, unreadable rows, failed fits.
fn choose<T: Scalar>(
    c: &FitCmd,
    source: &dyn RowSource<T>,
    known_rows: Option<u64>,
    progress: Option<Arc<Progress>>,
    ui: &mut Ui,
) -> Result<Outcome<T>, CliError> {
    let batched = Batched::new(source);
    let n = match known_rows {
        Some(n) => n,
        None => {
            let mut n = 0u64;
            ui.time("count rows", || {
                batched.pass(&mut |b| {
                    n += b.rows.nrows() as u64;
                    Ok(())
                })
            })?;
            n
        }
    };
    let n = usize::try_from(n)
        .map_err(|_| CliError::Usage(format!("{n} rows are more than this machine can count")))?;
    let Plan::Auto(grid) = plan(&c.fit, None, n, progress.clone())? else {
        return Err(CliError::Usage(
            "the automatic choice needs neither --components nor --init".to_owned(),
        ));
    };
    if let Some(p) = &progress {
        p.candidates(Some(grid.cells().len()));
    }
    ui.note(&format!(
        "choosing the model: {} candidate fits (k x structure) by BIC",
        grid.cells().len()
    ));
    let idx = grid.search_indices(n);
    let sample = ui.time("sample rows", || {
        gather(&batched, idx.as_deref(), source.n_features())
    })?;
    let sel = ui.time("fit", || grid.fit(&sample))?;
    let Some(idx) = idx else {
        // Every row was in the sample: this is the in-memory choice.
        return Ok(Outcome {
            model: sel.model.clone(),
            report: sel.report.clone(),
            selection: Some(sel),
        });
    };
    let cell = sel.best_cell();
    let start = sel.model.as_gaussian().ok_or_else(|| {
        CliError::Usage("the automatic choice out of core fits Gaussian mixtures only".to_owned())
    })?;
    let params = GaussianMixture::params::<T>(start.n_components())
        .covariance(cell.structure.covariance())
        .control(observed(
            em_control(&c.fit).seed(cell.seed),
            progress.as_ref(),
        ));
    let refit = ui
        .time("fit", || params.fit_reduced_from(start, &batched))?
        .into_any();
    let search = Search {
        rows: idx.len(),
        total_rows: n,
        scores: Scores::from_report(&refit.report),
        failed_refits: Vec::new(),
    };
    Ok(Outcome {
        model: refit.model.clone(),
        report: refit.report.clone(),
        selection: Some(Selection {
            model: refit.model,
            report: refit.report,
            search: Some(search),
            ..sel
        }),
    })
}

/// The rows `idx` (increasing), or every row, gathered in one pass.
fn gather<T: Scalar>(
    batched: &Batched<'_, T>,
    idx: Option<&[usize]>,
    d: usize,
) -> Result<Dataset<T>, CliError> {
    let mut values = Vec::with_capacity(idx.map_or(0, <[usize]>::len) * d);
    let (mut next, mut rows) = (0, 0);
    batched.pass(&mut |b| {
        for i in 0..b.rows.nrows() {
            let take = match idx {
                None => true,
                Some(idx) => {
                    let hit = idx.get(next) == Some(&(b.first as usize + i));
                    next += usize::from(hit);
                    hit
                }
            };
            if take {
                values.extend((0..d).map(|j| b.rows[(i, j)]));
                rows += 1;
            }
        }
        Ok(())
    })?;
    Dataset::from_row_major(&values, rows, d).map_err(|e| CliError::Fit(e.into()))
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
