//! `mixtures impute MODEL.json DATA.csv [-o FILLED.csv] [--draws N --seed S]`:
//! the missing cells of a data file (CSV, Parquet or Arrow IPC, read as
//! `--missing` reads it) filled under a mixture, written as CSV, by their
//! conditional mean `E[x_m | x_o]`, or (`--draws`) by draws from their
//! conditional distribution, stacked in one file with a `draw` column
//! (multiple imputation). Observed cells are written as the numbers read, in
//! the shortest text that reads back to the same value, as every number the
//! command line writes: the file read again gives the observed values bit
//! for bit.

use std::io::Write;

use mixtures_core::{Dataset, Scalar};
use serde_json::json;

use super::by_precision;
use super::missing::{describe_missing, read_for_model};
use super::score::csv_field;
use crate::cli::{ImputeCmd, Precision};
use crate::error::CliError;
use crate::files::check_files;
use crate::input::{IncompleteTable, Selection};
use crate::missing_args::tokens_or_default;
use crate::model_io::{self, ModelText};
use crate::ui::{Ui, shortest};

/// Runs `impute`.
///
/// # Errors
/// Bad flags or files (exit 2), failed writes (exit 1).
pub fn run(c: &ImputeCmd, ui: &mut Ui) -> Result<(), CliError> {
    check_files(
        &[c.model.as_path(), c.data.as_path()],
        c.output.as_deref().as_slice(),
        &[],
    )?;
    if c.draws == Some(0) {
        return Err(CliError::Usage("--draws must be at least 1".to_owned()));
    }
    let text = ui.time("read model", || model_io::read(&c.model))?;
    let precision = c.precision.or(text.dtype).unwrap_or(Precision::F64);
    by_precision!(precision, typed(c, &text, ui))
}

/// Writes the filled data sets, one after the other.
fn write_filled<T: Scalar>(
    out: &mut dyn Write,
    table: &IncompleteTable<T>,
    filled: &[Dataset<T>],
    draws: bool,
) -> std::io::Result<()> {
    let mut header: Vec<&str> = Vec::new();
    if draws {
        header.push("draw");
    }
    header.extend(table.kept_names.iter().map(String::as_str));
    header.extend(table.features.iter().map(String::as_str));
    for (j, h) in header.iter().enumerate() {
        if j > 0 {
            out.write_all(b",")?;
        }
        csv_field(out, h)?;
    }
    writeln!(out)?;
    let (n, d, nk) = (
        table.data.n_samples(),
        table.data.n_features(),
        table.kept_names.len(),
    );
    let mut line = String::new();
    for (draw, x) in filled.iter().enumerate() {
        let x = x.view();
        for i in 0..n {
            line.clear();
            if draws {
                line.push_str(&format!("{draw},"));
            }
            out.write_all(line.as_bytes())?;
            for t in &table.kept[i * nk..(i + 1) * nk] {
                csv_field(out, t)?;
                out.write_all(b",")?;
            }
            line.clear();
            for j in 0..d {
                if j > 0 {
                    line.push(',');
                }
                // The observed value itself, not the library's copy of it.
                let v = table.data.value(i, j).unwrap_or(x[(i, j)]);
                line.push_str(&shortest(v));
            }
            writeln!(out, "{line}")?;
        }
    }
    out.flush()
}

fn typed<T: Scalar>(c: &ImputeCmd, text: &ModelText, ui: &mut Ui) -> Result<(), CliError> {
    let loaded = text.model::<T>(&c.model)?;
    let model = &loaded.model;
    let mut sel = Selection::for_model(
        loaded.model.feature_names(),
        c.keep_columns.clone(),
        c.csv.no_header,
    );
    sel.missing = Some(tokens_or_default(c.missing_tokens.as_deref()));
    let table: IncompleteTable<T> =
        read_for_model(ui, &c.data, c.csv.delimiter, &sel, model.dim())?;
    if let Some(label) = &table.left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features"
        ));
    }
    if let Some(k) = table
        .kept_names
        .iter()
        .find(|k| table.features.contains(k) || (c.draws.is_some() && *k == "draw"))
    {
        return Err(CliError::Usage(format!(
            "--keep-columns {k}: the output has a column of that name already"
        )));
    }
    let model_error = |e| CliError::model(&c.model, e);
    let filled = ui.time("impute", || match c.draws {
        None => model.impute(&table.data).map(|x| vec![x]),
        Some(n) => model.impute_draws(&table.data, n, c.seed),
    });
    let filled = filled.map_err(model_error)?;
    super::write_output(c.output.as_deref(), |out, _| {
        write_filled(out, &table, &filled, c.draws.is_some())
    })?;
    if let Some(path) = &c.output {
        let summary = format!(
            "imputed {} missing cells of {} rows{}\n{}\n",
            table.data.n_missing(),
            table.data.n_samples(),
            c.draws
                .map_or_else(String::new, |n| format!(", {n} draws (seed {})", c.seed)),
            describe_missing(&table.data)
        );
        let value = json!({
            "command": "impute",
            "rows": table.data.n_samples(),
            "missing_cells": table.data.n_missing(),
            "patterns": table.data.patterns().len(),
            "draws": c.draws,
            "seed": c.draws.map(|_| c.seed),
            "output": path.display().to_string(),
        });
        ui.result(&summary, &value)?;
        ui.note(&format!("wrote {}", path.display()));
    }
    ui.print_timings();
    Ok(())
}
