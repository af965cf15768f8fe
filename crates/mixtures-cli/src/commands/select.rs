//! `mixtures select DATA.csv --components 1..10 [--covariance all]
//! [--criterion bic|aic|icl] [-o MODEL.json]`: the table of the grid and the
//! chosen model.

use std::sync::Arc;

use mixtures_core::missing::IncompleteDataset;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Covariance, Family, ModelSpec};
use mixtures_select::{CellOutcome, Criterion, Grid};
use serde_json::json;

use super::missing::{describe_missing, selection};
use super::{by_precision, note_written, read_data};
use crate::cli::{CriterionArg, SelectCmd};
use crate::error::CliError;
use crate::files::check_files;
use crate::fitting::{Progress, ProgressObserver, describe_choice, spec_named};
use crate::input::{IncompleteTable, incomplete_error, read_incomplete};
use crate::plot::{self, CriterionLine};
use crate::ui::{Ui, num};

/// Runs `select`.
///
/// # Errors
/// Bad flags or files (exit 2), a grid in which nothing could be fitted or a
/// failed write (exit 1).
pub fn run(c: &SelectCmd, ui: &mut Ui) -> Result<(), CliError> {
    by_precision!(c.precision, typed(c, ui))
}

/// The structures of `--covariance` for a family.
///
/// # Errors
/// [`CliError::Usage`] for a name the family does not have.
fn structures(family: Family, spec: &str) -> Result<Vec<ModelSpec>, CliError> {
    match (family, spec) {
        (Family::Gaussian, "sklearn") => Ok(ModelSpec::SKLEARN.to_vec()),
        (Family::Gaussian, "all" | "mclust") => Ok(ModelSpec::MCLUST.to_vec()),
        (Family::Laplace, "sklearn" | "all") => Ok(ModelSpec::LAPLACE.to_vec()),
        (Family::StudentT, "sklearn") => Ok(Covariance::SKLEARN.map(ModelSpec::student_t).to_vec()),
        (Family::StudentT, "all" | "mclust") => {
            Ok(Covariance::ALL.map(ModelSpec::student_t).to_vec())
        }
        _ => {
            let mut out = Vec::new();
            for name in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let s = spec_named(family, name)?;
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            if out.is_empty() {
                return Err(CliError::Usage(
                    "--covariance names no structure".to_owned(),
                ));
            }
            Ok(out)
        }
    }
}

fn criterion(c: CriterionArg) -> Criterion {
    match c {
        CriterionArg::Bic => Criterion::Bic,
        CriterionArg::Aic => Criterion::Aic,
        CriterionArg::Icl => Criterion::Icl,
    }
}

/// The data of `select`, with or without missing values.
enum Data<T: Scalar> {
    Complete(Dataset<T>),
    Incomplete(IncompleteDataset<T>),
}

impl<T: Scalar> Data<T> {
    fn n_samples(&self) -> usize {
        match self {
            Self::Complete(d) => d.n_samples(),
            Self::Incomplete(d) => d.n_samples(),
        }
    }
}

/// Reads the feature names and the data (`--missing`: a data file with
/// missing values, every column observed somewhere).
fn read<T: Scalar>(c: &SelectCmd, ui: &mut Ui) -> Result<(Vec<String>, Data<T>), CliError> {
    if !c.missing.missing {
        let table = read_data::<T>(ui, &c.data, &c.input, None, false)?;
        return Ok((table.features, Data::Complete(table.data)));
    }
    if let Some((flag, _)) = c.robust.flags().iter().find(|(_, given)| *given) {
        return Err(CliError::Usage(format!(
            "{flag} is not supported with missing values (--missing) yet"
        )));
    }
    let sel = selection(&c.input, None, c.missing.tokens().unwrap_or_default());
    let table: IncompleteTable<T> = ui.time("read data", || {
        read_incomplete(&c.data, c.input.csv.delimiter, &sel)
    })?;
    if let Some(label) = &table.left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features (pass --columns to choose them)"
        ));
    }
    table
        .data
        .check_every_column_observed()
        .map_err(|e| incomplete_error(&c.data, &table.features, 0, e))?;
    Ok((table.features, Data::Incomplete(table.data)))
}

fn typed<T: Scalar>(c: &SelectCmd, ui: &mut Ui) -> Result<(), CliError> {
    let structures = structures(c.family, &c.covariance)?;
    if c.family == Family::Laplace && c.reg_covar.is_some() {
        return Err(CliError::Usage(
            "--reg-covar applies to Gaussian and Student-t components; a Laplace mixture \
             has no covariance to regularize"
                .to_owned(),
        ));
    }
    check_files(
        &[c.data.as_path()],
        c.output.as_deref().as_slice(),
        c.plot.as_deref().as_slice(),
    )?;
    let (features, data) = read::<T>(c, ui)?;
    let ks = c
        .components
        .values(data.n_samples())
        .map_err(CliError::Usage)?;
    let criterion = criterion(c.criterion);
    let progress = Progress::new(ui.quiet, c.n_init);
    let mut control = c.robust.apply(mixtures_em::EmControl {
        n_init: c.n_init,
        max_iter: c.max_iter,
        tol: c.tol,
        reg_covar: c.reg_covar.unwrap_or(mixtures_em::DEFAULT_REG_COVAR),
        seed: c.seed,
        ..Default::default()
    });
    if let Some(p) = &progress {
        control = control.observer(ProgressObserver(Arc::clone(p)));
    }
    let grid = Grid::<T>::new(ks)
        .structures(structures.iter().copied())
        .criterion(criterion)
        .control(control);
    if let Some(p) = &progress {
        p.candidates(Some(grid.cells().len()));
    }
    ui.note(&format!(
        "fitting {} candidates (k x structure)",
        grid.cells().len()
    ));
    let sel = ui.time("fit", || match &data {
        Data::Complete(d) => grid.fit(d),
        Data::Incomplete(d) => grid.fit_incomplete(d),
    });
    if let Some(p) = &progress {
        p.finish();
    }
    let sel = sel?;
    let mut text = format!("{sel}{}\n", describe_choice(&sel));
    if let Data::Incomplete(d) = &data {
        text.push_str(&format!(
            "{}; the criteria are on the observed-data likelihood\n",
            describe_missing(d)
        ));
    }
    let cells: Vec<serde_json::Value> = sel
        .cells
        .iter()
        .map(|cell| {
            let mut v = json!({
                "k": cell.k,
                "family": cell.structure.family().as_str(),
                "structure": cell.structure.to_string(),
                "seed": cell.seed,
            });
            match &cell.outcome {
                CellOutcome::Fitted {
                    scores,
                    converged,
                    n_iter,
                } => {
                    v["log_likelihood"] = num(scores.log_likelihood);
                    v["n_parameters"] = json!(scores.n_parameters);
                    v["aic"] = num(scores.aic());
                    v["bic"] = num(scores.bic());
                    v["icl"] = scores.icl().map_or(serde_json::Value::Null, num);
                    v["converged"] = json!(converged);
                    v["n_iter"] = json!(n_iter);
                }
                CellOutcome::Skipped { reason } => v["skipped"] = json!(reason.to_string()),
                _ => v["skipped"] = json!("unknown outcome"),
            }
            v
        })
        .collect();
    let best = sel.best_cell();
    let mut value = json!({
        "command": "select",
        "criterion": criterion.as_str(),
        "best": {
            "k": best.k,
            "family": best.structure.family().as_str(),
            "structure": best.structure.to_string(),
            "value": num(best.criterion(criterion).unwrap_or(f64::NAN)),
        },
        "cells": cells,
    });
    if let Some(path) = &c.output {
        let model = sel
            .model
            .clone()
            .with_feature_names(features.clone())
            .map_err(|e| CliError::Fit(e.into()))?;
        crate::model_io::save(ui, &model, path)?;
        value["model_file"] = json!(path.display().to_string());
    }
    ui.result(&text, &value)?;
    if let Some(path) = &c.output {
        ui.note(&format!("wrote {}", path.display()));
    }
    if let Some(dir) = &c.plot {
        plot::ensure_dir(dir)?;
        let lines = CriterionLine::per_spec(&sel, &structures, criterion);
        let best_point = (best.k as f64, best.criterion(criterion).unwrap_or(f64::NAN));
        let files = plot::criterion(dir, criterion.as_str(), &lines, best_point)?;
        note_written(ui, &files);
    }
    ui.print_timings();
    Ok(())
}
