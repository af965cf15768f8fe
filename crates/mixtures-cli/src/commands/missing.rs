//! `fit --missing` and `score --missing` (issue 22): CSV files whose empty
//! cells and missing tokens are missing values, and Parquet and Arrow IPC
//! files whose nulls (and NaN values) in the feature columns are. `fit`
//! fits a mixture of any family by EM on the observed data (or chooses it by
//! BIC on the observed-data likelihood) and writes the normal model file;
//! `score` writes, per row, the log-density of its observed features, the
//! tail score (comparable across rows with different numbers of observed
//! features), the most likely component, the number of observed features
//! and, for a tail-score detector, the flag. Robust fits and out-of-core
//! reading do not take missing values yet and are refused with a message
//! saying so.

use std::io::Write;
use std::path::{Path, PathBuf};

use mixtures_anomaly::Threshold;
use mixtures_arrow::ArrowFiles;
use mixtures_core::missing::IncompleteDataset;
use mixtures_core::source::SourceError;
use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::json::shortest as json_shortest;
use mixtures_dist::{AnyMixture, GaussianMixtureModel, ModelSpec};
use mixtures_em::GaussianMixture;
use serde_json::json;

use super::fit::{DataInfo, Outcome, describe_fit, load_init};
use super::score::{CHUNK_ROWS, csv_field, fail};
use super::{by_precision, write_output};
use crate::cli::{DataArgs, FitCmd, MissingArgs, Precision, ScoreCmd};
use crate::error::CliError;
use crate::fitting::{Plan, Progress, ProgressObserver, check_flags, em_control, plan};
use crate::input::{
    Chunk, CsvReader, IncompleteTable, Selection, append_rows, format_of, incomplete_error, open,
    open_files, read_incomplete,
};
use crate::model_io::{self, FileDetector, ModelText};
use crate::plot;
use crate::ui::{Ui, num, shortest};

/// The Gaussian mixture of a model file, or a message that other families
/// do not take missing values yet.
///
/// # Errors
/// [`CliError::Usage`] for another family.
pub fn gaussian<'a, T: Scalar>(
    model: &'a AnyMixture<T>,
    command: &str,
) -> Result<&'a GaussianMixtureModel<T>, CliError> {
    match model {
        AnyMixture::Gaussian(g) => Ok(g),
        other => Err(CliError::Usage(format!(
            "{command}: {} mixtures are not supported with missing values yet (Gaussian \
             mixtures only)",
            other.family()
        ))),
    }
}

/// Runs `fit --missing` on the data files `data` (one file).
///
/// # Errors
/// Unsupported flags and bad files (exit 2), failed fits or writes.
pub fn fit(c: &FitCmd, data: &[PathBuf], ui: &mut Ui) -> Result<(), CliError> {
    let [one] = data else {
        return Err(CliError::Usage(
            "--missing reads one data file into memory; several files (out of core) do not \
             take missing values yet"
                .to_owned(),
        ));
    };
    let refused = [
        (c.chunk_rows.is_some(), "--chunk-rows (out of core)"),
        (c.variational.variational, "--variational"),
        (c.fit.robust.trim.is_some(), "--trim"),
        (
            c.fit.robust.noise || c.fit.robust.noise_volume.is_some(),
            "--noise",
        ),
        (c.plot_features.is_some(), "--plot-features"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
        return Err(CliError::Usage(format!(
            "{flag} is not supported with missing values (--missing) yet"
        )));
    }
    by_precision!(c.fit.precision, fit_typed(c, one, ui))
}

/// The selection of a data file read with missing values.
pub(super) fn selection(
    args: &DataArgs,
    model_names: Option<&[String]>,
    tokens: Vec<String>,
) -> Selection {
    Selection {
        columns: model_names
            .map(<[String]>::to_vec)
            .or_else(|| args.columns.clone()),
        columns_from: if model_names.is_some() {
            "the model's feature_names"
        } else {
            "--columns"
        },
        label_column: args.label_column.clone(),
        label_by_name: model_names.is_none(),
        no_header: args.csv.no_header,
        missing: Some(tokens),
        ..Selection::default()
    }
}

/// Reads a data file with missing values for a model of dimension `dim`
/// (timed as `read data`).
///
/// # Errors
/// As [`read_incomplete`]; [`CliError::Data`] for another number of
/// features.
pub(super) fn read_for_model<T: Scalar>(
    ui: &mut Ui,
    path: &Path,
    delimiter: u8,
    sel: &Selection,
    dim: usize,
) -> Result<IncompleteTable<T>, CliError> {
    let table: IncompleteTable<T> =
        ui.time("read data", || read_incomplete(path, delimiter, sel))?;
    if table.data.n_features() != dim {
        return Err(CliError::Data {
            path: crate::error::source_name(path),
            source: DataError::DimensionMismatch {
                expected: dim,
                found: table.data.n_features(),
            },
        });
    }
    Ok(table)
}

/// A line on the missing cells of a data set.
pub fn describe_missing<T: Scalar>(data: &IncompleteDataset<T>) -> String {
    let cells = data.n_samples() * data.n_features();
    let complete = data.complete_rows().map_or(0, |(c, _)| c.n_samples());
    format!(
        "missing: {} of {cells} cells ({:.1} %), {} patterns, {complete} of {} rows complete",
        data.n_missing(),
        100.0 * data.n_missing() as f64 / cells.max(1) as f64,
        data.patterns().len(),
        data.n_samples()
    )
}

fn fit_typed<T: Scalar>(c: &FitCmd, path: &Path, ui: &mut Ui) -> Result<(), CliError> {
    let init = match c.fit.init.as_deref() {
        Some(p) => ui.time("read model", || load_init::<T>(Some(p)))?,
        None => None,
    };
    let (family, named) = check_flags(&c.fit, init.as_ref())?;
    // A warm start with missing values: Gaussian mixtures.
    let start = init
        .as_ref()
        .map(|m| gaussian(m, "fit --missing --init"))
        .transpose()?;
    let names = match (
        &c.input.columns,
        init.as_ref().and_then(AnyMixture::feature_names),
    ) {
        (None, Some(names)) => Some(names),
        _ => None,
    };
    let sel = selection(&c.input, names, tokens(&c.missing));
    let table: IncompleteTable<T> = ui.time("read data", || {
        read_incomplete(path, c.input.csv.delimiter, &sel)
    })?;
    if let Some(label) = &table.left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features (pass --label-column {label} to \
             read it as labels, or --columns to choose the features)"
        ));
    }
    table
        .data
        .check_every_column_observed()
        .map_err(|e| incomplete_error(path, &table.features, 0, e))?;
    let spec = named.unwrap_or(
        init.as_ref()
            .map_or(ModelSpec::default_for(family), AnyMixture::spec),
    );
    let mut control = em_control(&c.fit);
    let progress = Progress::new(ui.quiet, control.n_init);
    if let Some(p) = &progress {
        control = control.observer(ProgressObserver(p.clone()));
    }
    // A warm start, a fixed number of components of any family, or the
    // automatic choice (BIC over the grid `fit` uses, on the observed-data
    // likelihood).
    let fitted = match (start, c.fit.components) {
        (Some(m), _) => {
            let params = GaussianMixture::params::<T>(m.n_components())
                .covariance(spec.covariance())
                .control(control);
            ui.time("fit", || params.fit_incomplete_from(m, &table.data))
                .map(|f| (AnyMixture::Gaussian(f.model), f.report, None))
                .map_err(CliError::from)
        }
        (None, Some(k)) => ui
            .time("fit", || {
                mixtures_em::fit_incomplete(spec, k, &control, &table.data)
            })
            .map(|f| (f.model, f.report, None))
            .map_err(CliError::from),
        (None, None) => match plan::<T>(&c.fit, None, table.data.n_samples(), progress.clone())? {
            Plan::Auto(grid) => {
                ui.note(&format!(
                    "choosing the model: {} candidate fits (k x structure) by BIC on the observed data",
                    grid.cells().len()
                ));
                ui.time("fit", || grid.fit_incomplete(&table.data))
                    .map(|sel| (sel.model.clone(), sel.report.clone(), Some(sel)))
                    .map_err(CliError::from)
            }
            Plan::Fixed(_) => Err(CliError::Usage(
                "fit --missing: no number of components and no automatic choice".to_owned(),
            )),
        },
    };
    if let Some(p) = &progress {
        p.finish();
    }
    let (model, report, selection) = fitted?;
    let model = model
        .with_feature_names(table.features.clone())
        .map_err(|e| CliError::Fit(e.into()))?;
    let outcome = Outcome {
        model,
        report,
        selection,
    };
    model_io::save(ui, &outcome.model, &c.output)?;
    let info = DataInfo {
        name: path.display().to_string(),
        rows: table.data.n_samples(),
        features: &table.features,
        total_weight: table.data.total_weight(),
    };
    let (mut text, mut value) = describe_fit(&info, &outcome);
    text.push_str(&describe_missing(&table.data));
    text.push('\n');
    value["command"] = json!("fit");
    value["model_file"] = json!(c.output.display().to_string());
    value["missing_cells"] = json!(table.data.n_missing());
    value["missing_patterns"] = json!(table.data.patterns().len());
    ui.result(&text, &value)?;
    ui.note(&format!("wrote {}", c.output.display()));
    if let Some(dir) = &c.plot {
        plot::ensure_dir(dir)?;
        let files = plot::lower_bound(dir, &outcome.report.lower_bound_trace)?;
        super::note_written(ui, &files);
        ui.note("note: the scatter plot is not drawn for data with missing values");
    }
    ui.print_timings();
    Ok(())
}

/// The tokens of `--missing`.
fn tokens(m: &MissingArgs) -> Vec<String> {
    m.tokens().unwrap_or_default()
}

/// The output columns of `score --missing`.
const SCORE_COLUMNS: [&str; 4] = ["log_likelihood", "anomaly_score", "component", "n_observed"];

/// Runs `score --missing` (the files are checked).
///
/// # Errors
/// As `score`; other families are refused.
pub fn score(
    c: &ScoreCmd,
    text: &ModelText,
    precision: Precision,
    ui: &mut Ui,
) -> Result<(), CliError> {
    by_precision!(precision, score_typed(c, text, ui))
}

/// One chunk's scores.
struct Scored<T> {
    ll: Vec<T>,
    tail: Vec<T>,
    component: Vec<usize>,
    observed: Vec<usize>,
}

/// Scores one chunk of rows (`rows_before` rows were read before it).
fn score_chunk<T: Scalar>(
    model: &AnyMixture<T>,
    chunk: &Chunk<T>,
    d: usize,
    model_path: &Path,
    at: (&Path, &[String], usize),
) -> Result<Scored<T>, CliError> {
    let data = Dataset::with_missing(&chunk.values, chunk.rows, d)
        .map_err(|e| incomplete_error(at.0, at.1, at.2, e))?;
    let model_error = |e| CliError::model(model_path, e);
    let ll = model.log_prob_incomplete(&data).map_err(model_error)?;
    let tail = model
        .anomaly_scores_incomplete(&data)
        .map_err(model_error)?;
    let component = model.predict_incomplete(&data).map_err(model_error)?;
    let observed = chunk
        .values
        .chunks(d)
        .map(|row| row.iter().filter(|v| !v.is_nan()).count())
        .collect();
    Ok(Scored {
        ll,
        tail,
        component,
        observed,
    })
}

/// Where `score --missing` reads its rows: a CSV reader, read chunk by
/// chunk, or Parquet or Arrow IPC files, read batch by batch.
enum Input<R: std::io::Read> {
    Csv(CsvReader<R>),
    Files(ArrowFiles),
}

/// Writes scored rows: CSV lines, or JSON objects on standard output.
struct RowWriter<'a, T: Scalar> {
    kept_names: &'a [String],
    json: bool,
    threshold: Option<&'a Threshold<T>>,
}

impl<T: Scalar> RowWriter<'_, T> {
    /// The rows of `chunk` with their scores; `first`: the first rows
    /// written.
    fn rows(
        &self,
        out: &mut dyn Write,
        chunk: &Chunk<T>,
        s: &Scored<T>,
        first: bool,
    ) -> std::io::Result<()> {
        let flags = self.threshold.map(|t| t.predict(&s.tail));
        let nk = self.kept_names.len();
        for i in 0..chunk.rows {
            let kept = &chunk.kept[i * nk..(i + 1) * nk];
            if self.json {
                let mut row = serde_json::Map::new();
                for (name, t) in self.kept_names.iter().zip(kept) {
                    row.insert(name.clone(), json!(t));
                }
                row.insert("log_likelihood".into(), num(json_shortest(s.ll[i])));
                row.insert("anomaly_score".into(), num(json_shortest(s.tail[i])));
                row.insert("component".into(), json!(s.component[i]));
                row.insert("n_observed".into(), json!(s.observed[i]));
                if let Some(f) = &flags {
                    row.insert("is_anomaly".into(), json!(f[i]));
                }
                let sep = if first && i == 0 { "\n" } else { ",\n" };
                write!(out, "{sep}{}", serde_json::Value::Object(row))?;
            } else {
                for t in kept {
                    csv_field(out, t)?;
                    out.write_all(b",")?;
                }
                write!(
                    out,
                    "{},{},{},{}",
                    shortest(s.ll[i]),
                    shortest(s.tail[i]),
                    s.component[i],
                    s.observed[i]
                )?;
                match &flags {
                    Some(f) => writeln!(out, ",{}", f[i])?,
                    None => writeln!(out)?,
                }
            }
        }
        Ok(())
    }
}

fn score_typed<T: Scalar>(c: &ScoreCmd, text: &ModelText, ui: &mut Ui) -> Result<(), CliError> {
    let loaded = text.model::<T>(&c.model)?;
    let model = &loaded.model;
    // A threshold judges rows with missing features only when it is on the
    // tail score (`detect --missing`).
    let threshold = match &loaded.detector {
        Some(FileDetector::Tail(d)) => Some(d.threshold().clone()),
        Some(_) => {
            ui.note(
                "note: this detector's threshold is on -ln p(x) of complete rows, which rows with \
                 missing features cannot be judged by: the rows are scored by its model and no \
                 is_anomaly column is written (fit the detector with `detect --missing`)",
            );
            None
        }
        None => None,
    };
    let mut columns = SCORE_COLUMNS.to_vec();
    if threshold.is_some() {
        columns.push("is_anomaly");
    }
    let mut sel = Selection::for_model(
        loaded.model.feature_names(),
        c.keep_columns.clone(),
        c.csv.no_header,
    );
    sel.missing = Some(tokens(&c.missing));
    // CSV read chunk by chunk, or Parquet and Arrow IPC batch by batch (their
    // nulls and NaN values being the missing ones), as plain `score` reads.
    let (mut input, features, kept_names, left_out) = match format_of(&c.data) {
        Some(format) => {
            let files =
                open_files(std::slice::from_ref(&c.data), format, &sel)?.batch_rows(CHUNK_ROWS);
            let layout = files.layout().clone();
            (
                Input::Files(files),
                layout.features,
                layout.kept,
                layout.left_out,
            )
        }
        None => {
            let reader = CsvReader::new(open(&c.data)?, &c.data, c.csv.delimiter, &sel)?;
            let (features, kept, left_out) = (
                reader.features.clone(),
                reader.kept.clone(),
                reader.left_out.clone(),
            );
            (Input::Csv(reader), features, kept, left_out)
        }
    };
    if let Some(k) = kept_names.iter().find(|k| columns.contains(&k.as_str())) {
        return Err(CliError::Usage(format!(
            "--keep-columns {k}: the output has a column of that name already"
        )));
    }
    let d = features.len();
    if d != model.dim() {
        return Err(CliError::Data {
            path: crate::error::source_name(&c.data),
            source: DataError::DimensionMismatch {
                expected: model.dim(),
                found: d,
            },
        });
    }
    if let Some(label) = &left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features"
        ));
    }
    let writer = RowWriter {
        kept_names: &kept_names,
        json: c.output.is_none() && ui.json,
        threshold: threshold.as_ref(),
    };
    let rows = write_output(c.output.as_deref(), |out, failure| {
        if writer.json {
            write!(out, "{{\"command\": \"score\", \"rows\": [")?;
        } else {
            for k in &kept_names {
                csv_field(out, k)?;
                out.write_all(b",")?;
            }
            writeln!(out, "{}", columns.join(","))?;
        }
        let mut chunk = Chunk::<T>::default();
        let mut rows = 0usize;
        // Scores and writes the rows in `chunk`.
        let scored = |ui: &mut Ui,
                      out: &mut dyn Write,
                      chunk: &Chunk<T>,
                      rows: &mut usize,
                      failure: &mut Option<CliError>|
         -> std::io::Result<()> {
            let s = ui
                .time("score", || {
                    score_chunk(model, chunk, d, &c.model, (&c.data, &features, *rows))
                })
                .map_err(|e| fail(e, failure))?;
            writer.rows(out, chunk, &s, *rows == 0)?;
            *rows += chunk.rows;
            Ok(())
        };
        match &mut input {
            Input::Csv(reader) => loop {
                match ui.time("read data", || reader.next_chunk(CHUNK_ROWS, &mut chunk)) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(fail(e, failure)),
                }
                scored(ui, out, &chunk, &mut rows, failure)?;
            },
            Input::Files(files) => {
                // The files' batches come to a callback: an error is kept
                // and the pass stopped.
                let mut io_error = None;
                let read = files.for_each_chunk::<T>(true, &mut |batch| {
                    chunk.clear();
                    append_rows(&mut chunk, &batch);
                    scored(ui, out, &chunk, &mut rows, failure).map_err(|e| {
                        io_error = Some(e);
                        SourceError::Consumer("stopped".to_owned())
                    })
                });
                if let Some(e) = io_error {
                    return Err(e);
                }
                read.map_err(|e| fail(e.into(), failure))?;
            }
        }
        if rows == 0 {
            return Err(fail(CliError::input(&c.data, "no data rows"), failure));
        }
        if writer.json {
            writeln!(out, "\n], \"rows_scored\": {rows}}}")?;
        }
        out.flush()?;
        Ok(rows)
    })?;
    if let Some(path) = &c.output {
        let value = json!({
            "command": "score",
            "rows": rows,
            "output": path.display().to_string(),
        });
        ui.result(&format!("scored {rows} rows\n"), &value)?;
        ui.note(&format!("wrote {}", path.display()));
    }
    ui.print_timings();
    Ok(())
}
