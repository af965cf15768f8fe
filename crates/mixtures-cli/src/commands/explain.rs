//! `mixtures explain MODEL.json DATA.csv --rows 3,17 | --top N`: per row, the
//! anomaly score, the flag (for a detector file), the component the row is
//! explained under, and the features ranked by their contribution to the
//! score (the library's `Explain`, `mixtures_anomaly::explain`).

use mixtures_anomaly::{Attribution, DensityModel, Explain};
use mixtures_core::{Dataset, Scalar};
use serde_json::json;

use super::by_precision;
use crate::cli::{DataArgs, ExplainCmd, Precision};
use crate::error::CliError;
use crate::model_io::{self, ModelText};
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

fn typed<T: Scalar>(c: &ExplainCmd, text: &ModelText, ui: &mut Ui) -> Result<(), CliError> {
    let loaded = text.model::<T>(&c.model)?;
    let model = &loaded.model;
    let args = DataArgs {
        columns: None,
        label_column: None,
        csv: c.csv,
    };
    let table = super::read_data::<T>(ui, &c.data, &args, model.feature_names(), false)?;
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
    let threshold = loaded.detector.as_ref().map(|d| d.threshold());
    let flags = threshold.map(|t| t.predict(explained.scores()));
    let shown = c.top_features.unwrap_or(table.features.len());

    let attribution = match explained.attribution() {
        Attribution::Exact => "exact",
        _ => "conditional",
    };
    let mut out = format!(
        "model: {} ({} components, {} features){}\ncontributions: {}\n",
        c.model.display(),
        model.n_components(),
        table.features.len(),
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
    let name_width = table
        .features
        .iter()
        .map(|f| f.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut list = Vec::with_capacity(rows.len());
    for (e, &row) in rows.iter().enumerate() {
        let score = explained.scores()[e];
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
        let mut features = Vec::with_capacity(shown);
        for &j in ranked.iter().take(shown) {
            let value = chosen[e][j];
            // The value last: printed in full, it has no fixed width.
            out.push_str(&format!(
                "  {:<name_width$}  {:>12}  {value}\n",
                table.features[j],
                format!("{:.4}", contributions[j].as_f64())
            ));
            features.push(json!({
                "name": table.features[j],
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
            "features": features,
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
