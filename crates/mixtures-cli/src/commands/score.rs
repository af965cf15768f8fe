//! `mixtures score MODEL.json DATA.csv [-o SCORES.csv]`: one output row per
//! input row, in order: `log_likelihood,anomaly_score,component`, and
//! `is_anomaly` when the model file is a detector.

use std::io::{BufWriter, Write};

use mixtures_core::Scalar;
use serde_json::json;

use super::by_precision;
use crate::cli::{DataArgs, Precision, ScoreCmd};
use crate::error::{CliError, stdout_error};
use crate::model_io::{self, ModelText};
use crate::ui::Ui;

/// Runs `score`.
///
/// # Errors
/// Bad files (exit 2), failed writes (exit 1).
pub fn run(c: &ScoreCmd, ui: &mut Ui) -> Result<(), CliError> {
    let text = ui.time("load", || model_io::read(&c.model))?;
    let precision = c.precision.or(text.dtype).unwrap_or(Precision::F64);
    by_precision!(precision, typed(c, &text, ui))
}

/// The scores of every row.
struct Scored<T> {
    log_likelihood: Vec<T>,
    component: Vec<usize>,
    flags: Option<Vec<u8>>,
}

fn write_rows<T: Scalar>(out: &mut (impl Write + ?Sized), s: &Scored<T>) -> std::io::Result<()> {
    let header = if s.flags.is_some() {
        "log_likelihood,anomaly_score,component,is_anomaly"
    } else {
        "log_likelihood,anomaly_score,component"
    };
    writeln!(out, "{header}")?;
    for (i, (&ll, &k)) in s.log_likelihood.iter().zip(&s.component).enumerate() {
        write!(out, "{ll},{},{k}", -ll)?;
        if let Some(f) = &s.flags {
            write!(out, ",{}", f[i])?;
        }
        writeln!(out)?;
    }
    out.flush()
}

fn typed<T: Scalar>(c: &ScoreCmd, text: &ModelText, ui: &mut Ui) -> Result<(), CliError> {
    let loaded = text.model::<T>(&c.model)?;
    let model = &loaded.model;
    // The model's feature names pick the columns; other columns (ids, labels)
    // are ignored. A model without names reads every column.
    let args = DataArgs {
        columns: None,
        label_column: None,
        delimiter: c.delimiter,
    };
    let table = ui.time("load", || {
        super::read_data::<T>(&c.data, &args, model.feature_names(), false)
    })?;
    let data_error = |source| CliError::Data {
        path: c.data.display().to_string(),
        source,
    };
    table.data.check_dim(model.dim()).map_err(data_error)?;
    let scored = ui.time("score", || -> Result<Scored<T>, CliError> {
        let log_likelihood = model.log_prob(&table.data).map_err(data_error)?;
        let component = model.predict(&table.data).map_err(data_error)?;
        let flags = loaded.detector.as_ref().map(|d| {
            let scores: Vec<T> = log_likelihood.iter().map(|&l| -l).collect();
            d.threshold().predict(&scores)
        });
        Ok(Scored {
            log_likelihood,
            component,
            flags,
        })
    })?;
    let rows = scored.log_likelihood.len();
    let flagged = scored
        .flags
        .as_ref()
        .map(|f| f.iter().filter(|&&v| v == 1).count());
    match &c.output {
        Some(path) => {
            mixtures_core::io::write_atomic(path, |w| write_rows(w, &scored))
                .map_err(|e| CliError::output(path, e))?;
            let summary = match flagged {
                Some(f) => format!("scored {rows} rows, {f} flagged as anomalies\n"),
                None => format!("scored {rows} rows\n"),
            };
            let value = json!({
                "command": "score",
                "rows": rows,
                "flagged": flagged,
                "output": path.display().to_string(),
            });
            ui.result(&summary, &value)?;
            ui.note(&format!("wrote {}", path.display()));
        }
        None if ui.json => {
            let list: Vec<serde_json::Value> = (0..rows)
                .map(|i| {
                    let ll = scored.log_likelihood[i].as_f64();
                    let mut row = json!({
                        "log_likelihood": crate::ui::num(ll),
                        "anomaly_score": crate::ui::num(-ll),
                        "component": scored.component[i],
                    });
                    if let Some(f) = &scored.flags {
                        row["is_anomaly"] = json!(f[i]);
                    }
                    row
                })
                .collect();
            let value = json!({"command": "score", "rows": list, "flagged": flagged});
            ui.result("", &value)?;
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            write_rows(&mut out, &scored).map_err(|e| stdout_error(&e))?;
        }
    }
    ui.print_timings();
    Ok(())
}
