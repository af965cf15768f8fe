//! `mixtures explain MODEL.json DATA.csv --rows 3,17 | --top N`: per row, the
//! anomaly score, the flag (for a detector file), the component the row is
//! explained under, and the features ranked by their contribution to the
//! score (the library's `Explain`, `mixtures_anomaly::explain`).

use mixtures_anomaly::{Attribution, DensityModel, Explain, Explanations, explain_incomplete};
use mixtures_core::{Dataset, Scalar};
use serde_json::json;

use super::by_precision;
use super::missing::{read_for_model, selection};
use crate::cli::{DataArgs, ExplainCmd, Precision};
use crate::error::CliError;
use crate::input::{IncompleteTable, incomplete_error};
use crate::model_io::{self, FileDetector, Loaded, ModelText};
use crate::ui::{Ui, num};

/// Runs `explain`.
///
/// # Errors
/// Bad flags, rows or files (exit 2).
pub fn run(c: &ExplainCmd, ui: &mut Ui) -> Result<(), CliError> {
    if c.top == Some(0) {
        return Err(CliError::Usage(
            "--top 0 explains nothing; give at least 1".to_owned(),
        ));
    }
    if c.top_features == Some(0) {
        return Err(CliError::Usage(
            "--top-features 0 lists nothing; give at least 1".to_owned(),
        ));
    }
    crate::files::check_files(&[c.model.as_path(), c.data.as_path()], &[], &[])?;
    let text = ui.time("read model", || model_io::read(&c.model))?;
    let precision = c.precision.or(text.dtype).unwrap_or(Precision::F64);
    by_precision!(precision, typed(c, &text, ui))
}

/// The rows to explain: those of `--rows` in the order given (each once),
/// then the `--top` highest scores not already listed, highest first.
///
/// # Errors
/// [`CliError::Usage`] for a row past the end of the data.
fn chosen_rows<T: Scalar>(c: &ExplainCmd, scores: &[T]) -> Result<Vec<usize>, CliError> {
    let n = scores.len();
    let mut rows: Vec<usize> = Vec::new();
    for &r in c.rows.iter().flatten() {
        if r >= n {
            return Err(CliError::Usage(format!(
                "--rows {r}: the data have {n} rows, numbered from 0 (the first row after \
                 the header) to {}",
                n.saturating_sub(1)
            )));
        }
        if !rows.contains(&r) {
            rows.push(r);
        }
    }
    if let Some(top) = c.top {
        let mut order: Vec<usize> = (0..n).filter(|i| !rows.contains(i)).collect();
        // Highest score first; ties by row, so that the choice is stable.
        order.sort_by(|&a, &b| {
            scores[b]
                .as_f64()
                .total_cmp(&scores[a].as_f64())
                .then(a.cmp(&b))
        });
        rows.extend(order.into_iter().take(top));
    }
    Ok(rows)
}

/// What `explain` prints: every row's score (the detector's, or the
/// model's), the rows chosen, their values and their explanations.
struct Explained<T: Scalar> {
    features: Vec<String>,
    scores: Vec<T>,
    rows: Vec<usize>,
    chosen: Vec<Vec<T>>,
    explained: Explanations<T>,
    /// Whether the file's threshold applies to `scores`.
    judged: bool,
}

fn explain_complete<T: Scalar>(
    c: &ExplainCmd,
    args: &DataArgs,
    loaded: &Loaded<T>,
    ui: &mut Ui,
) -> Result<Explained<T>, CliError> {
    let model = &loaded.model;
    let table = super::read_data::<T>(ui, &c.data, args, model.feature_names(), false)?;
    let data_error = |source| CliError::Data {
        path: crate::error::source_name(&c.data),
        source,
    };
    table.data.check_dim(model.dim()).map_err(data_error)?;
    // Every row's score is needed to find the top ones; the contributions
    // only for the rows asked for.
    let scores: Vec<T> = ui.time("score", || {
        match &loaded.detector {
            Some(det) => det.anomaly_scores(&table.data),
            None => model.anomaly_scores(&table.data),
        }
        .map_err(data_error)
    })?;
    let rows = chosen_rows(c, &scores)?;
    let x = table.data.view();
    let chosen: Vec<Vec<T>> = rows
        .iter()
        .map(|&i| (0..x.ncols()).map(|j| x[(i, j)]).collect())
        .collect();
    let subset = Dataset::from_rows(&chosen).map_err(data_error)?;
    let explained = ui.time("explain", || match &loaded.detector {
        Some(det) => det.explain(&subset),
        None => model.explain(&subset),
    })?;
    Ok(Explained {
        features: table.features,
        scores,
        rows,
        chosen,
        explained,
        judged: true,
    })
}

/// `explain --missing`: rows ranked by the tail score, explained on their
/// observed features.
fn explain_missing<T: Scalar>(
    c: &ExplainCmd,
    args: &DataArgs,
    loaded: &Loaded<T>,
    ui: &mut Ui,
) -> Result<Explained<T>, CliError> {
    let model = &loaded.model;
    let judged = matches!(loaded.detector, Some(FileDetector::Tail(_)) | None);
    if !judged {
        ui.note(
            "note: this detector's threshold is on -ln p(x) of complete rows; with --missing \
             the rows are ranked by the tail score and not flagged",
        );
    }
    let sel = selection(
        args,
        model.feature_names(),
        c.missing.tokens().unwrap_or_default(),
    );
    let table: IncompleteTable<T> =
        read_for_model(ui, &c.data, c.csv.delimiter, &sel, model.dim())?;
    let d = table.data.n_features();
    let model_error = |e| CliError::model(&c.model, e);
    let scores = ui
        .time("score", || model.anomaly_scores_incomplete(&table.data))
        .map_err(model_error)?;
    let rows = chosen_rows(c, &scores)?;
    let x = table.data.view();
    let chosen: Vec<Vec<T>> = rows
        .iter()
        .map(|&i| (0..d).map(|j| x[(i, j)]).collect())
        .collect();
    let flat: Vec<T> = chosen.iter().flatten().copied().collect();
    let subset = Dataset::with_missing(&flat, rows.len(), d)
        .map_err(|e| incomplete_error(&c.data, &table.features, 0, e))?;
    let explained = ui.time("explain", || explain_incomplete(model, &subset))?;
    Ok(Explained {
        features: table.features,
        scores,
        rows,
        chosen,
        explained,
        judged,
    })
}

fn typed<T: Scalar>(c: &ExplainCmd, text: &ModelText, ui: &mut Ui) -> Result<(), CliError> {
    let loaded = text.model::<T>(&c.model)?;
    let model = &loaded.model;
    let args = DataArgs {
        columns: None,
        label_column: None,
        csv: c.csv,
    };
    let Explained {
        features,
        scores,
        rows,
        chosen,
        explained,
        judged,
    } = if c.missing.missing {
        explain_missing(c, &args, &loaded, ui)?
    } else {
        explain_complete(c, &args, &loaded, ui)?
    };
    let threshold = loaded
        .detector
        .as_ref()
        .filter(|_| judged)
        .map(|d| d.threshold());
    // The detector's own scores judge the rows (a tail-score detector's
    // explanations are of -ln p).
    let row_scores: Vec<T> = rows.iter().map(|&i| scores[i]).collect();
    let flags = threshold.map(|t| t.predict(&row_scores));
    let shown = c.top_features.unwrap_or(features.len());

    let attribution = match explained.attribution() {
        Attribution::Exact => "exact",
        _ => "conditional",
    };
    let mut out = format!(
        "model: {} ({} components, {} features){}\ncontributions: {}\n",
        c.model.display(),
        model.n_components(),
        features.len(),
        threshold.map_or_else(
            || " - a model file, no threshold: rows are scored, not judged".to_owned(),
            |t| format!(", threshold {}", t.value())
        ),
        match explained.attribution() {
            Attribution::Exact =>
                "exact (score = baseline + the sum of the contributions, in nats)",
            _ =>
                "conditional (each feature given the others, in nats; they rank the \
                 features but do not add up to the score)",
        }
    );
    let name_width = features
        .iter()
        .map(|f| f.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut list = Vec::with_capacity(rows.len());
    for (e, &row) in rows.iter().enumerate() {
        let score = row_scores[e];
        let component = explained.components()[e];
        let flag = flags.as_ref().map(|f| f[e]);
        let contributions = explained.row(e);
        let ranked = explained.ranked_features(e);
        out.push_str(&format!(
            "\nrow {row}: score {score}{}, component {component}\n  {:<name_width$}  {:>12}  {}\n",
            match flag {
                Some(1) => ", flagged",
                Some(_) => ", not flagged",
                None => "",
            },
            "feature",
            "contribution",
            "value"
        ));
        let mut listed = Vec::with_capacity(shown);
        // A missing feature has no contribution to list.
        for &j in ranked
            .iter()
            .filter(|&&j| !chosen[e][j].is_nan())
            .take(shown)
        {
            let value = chosen[e][j];
            // The value last: printed in full, it has no fixed width.
            out.push_str(&format!(
                "  {:<name_width$}  {:>12}  {value}\n",
                features[j],
                format!("{:.4}", contributions[j].as_f64())
            ));
            listed.push(json!({
                "name": features[j],
                "value": num(value.as_f64()),
                "contribution": num(contributions[j].as_f64()),
            }));
        }
        list.push(json!({
            "row": row,
            "score": num(score.as_f64()),
            "is_anomaly": flag,
            "component": component,
            "baseline": num(explained.baseline(e).as_f64()),
            "features": listed,
        }));
    }
    let value = json!({
        "command": "explain",
        "model_file": c.model.display().to_string(),
        "attribution": attribution,
        "threshold": threshold.map(|t| num(t.value().as_f64())),
        "rows": list,
    });
    ui.result(&out, &value)?;
    ui.print_timings();
    Ok(())
}
