//! `mixtures evaluate MODEL_OR_DETECTOR.json DATA.csv --label-column NAME`:
//! precision, recall, F1, ROC AUC, average precision and the confusion matrix.

use mixtures_anomaly::{BestF, DensityModel, Evaluation, Fixed, Threshold, ThresholdRule};
use mixtures_core::Scalar;
use mixtures_dist::AnyMixture;
use serde_json::json;

use super::missing::{describe_missing, read_for_model, selection};
use super::{by_precision, labelled_threshold, note_written, plot_scores};
use crate::cli::{DataArgs, EvaluateCmd, Precision};
use crate::error::CliError;
use crate::files::check_files;
use crate::input::IncompleteTable;
use crate::model_io::{self, FileDetector, ModelText};
use crate::plot;
use crate::ui::{Ui, num, shortest};

/// Runs `evaluate`.
///
/// # Errors
/// Bad files or labels (exit 2), failed writes (exit 1).
pub fn run(c: &EvaluateCmd, ui: &mut Ui) -> Result<(), CliError> {
    check_files(
        &[c.model.as_path(), c.data.as_path()],
        &[],
        c.plot.as_deref().as_slice(),
    )?;
    let text = ui.time("read model", || model_io::read(&c.model))?;
    let precision = c.precision.or(text.dtype).unwrap_or(Precision::F64);
    by_precision!(precision, typed(c, &text, ui))
}

/// How a threshold was chosen, in words.
pub fn describe_threshold<T: Scalar>(t: &Threshold<T>) -> String {
    let params: Vec<String> = t
        .parameters()
        .iter()
        .map(|(k, v)| format!("{k} = {}", shortest(*v)))
        .collect();
    if params.is_empty() {
        t.rule().to_owned()
    } else {
        format!("{}, {}", t.rule(), params.join(", "))
    }
}

/// The text and JSON of an evaluation at a threshold.
pub fn describe_evaluation(
    e: &Evaluation,
    threshold: f64,
    source: &str,
) -> (String, serde_json::Value) {
    let cm = &e.confusion;
    let text = format!(
        "rows: {} ({} anomalies, {} normal)\n\
         threshold: {} ({source})\n\
         precision {:.4}  recall {:.4}  F1 {:.4}\n\
         ROC AUC {:.4}  average precision {:.4}\n\
         confusion matrix:      flagged  not flagged\n\
         \x20 anomaly (label 1) {:>9} {:>12}\n\
         \x20 normal (label 0)  {:>9} {:>12}\n",
        cm.positives() + cm.negatives(),
        cm.positives(),
        cm.negatives(),
        shortest(threshold),
        cm.precision(),
        cm.recall(),
        cm.f1(),
        e.roc_auc,
        e.average_precision,
        cm.true_positives,
        cm.false_negatives,
        cm.false_positives,
        cm.true_negatives,
    );
    let value = json!({
        "rows": cm.positives() + cm.negatives(),
        "anomalies": cm.positives(),
        "threshold": num(threshold),
        "threshold_source": source,
        "precision": num(cm.precision()),
        "recall": num(cm.recall()),
        "f1": num(cm.f1()),
        "roc_auc": num(e.roc_auc),
        "average_precision": num(e.average_precision),
        "confusion": {
            "true_positives": cm.true_positives,
            "false_positives": cm.false_positives,
            "true_negatives": cm.true_negatives,
            "false_negatives": cm.false_negatives,
        },
    });
    (text, value)
}

/// The tail scores and labels of a data file with missing values.
fn missing_scores<T: Scalar>(
    c: &EvaluateCmd,
    args: &DataArgs,
    model: &AnyMixture<T>,
    ui: &mut Ui,
) -> Result<(Vec<T>, Vec<u8>), CliError> {
    let sel = selection(
        args,
        model.feature_names(),
        c.missing.tokens().unwrap_or_default(),
    );
    let table: IncompleteTable<T> =
        read_for_model(ui, &c.data, c.csv.delimiter, &sel, model.dim())?;
    let labels = table
        .labels
        .ok_or_else(|| CliError::Usage("evaluate needs --label-column NAME".to_owned()))?;
    ui.note(&describe_missing(&table.data));
    let scores = ui
        .time("score", || model.anomaly_scores_incomplete(&table.data))
        .map_err(|e| CliError::model(&c.model, e))?;
    Ok((scores, labels))
}

fn typed<T: Scalar>(c: &EvaluateCmd, text: &ModelText, ui: &mut Ui) -> Result<(), CliError> {
    let loaded = text.model::<T>(&c.model)?;
    let model = &loaded.model;
    let args = DataArgs {
        columns: None,
        label_column: Some(c.label_column.clone()),
        csv: c.csv,
    };
    let (scores, labels) = if c.missing.missing {
        missing_scores(c, &args, model, ui)?
    } else {
        let table = super::read_data::<T>(ui, &c.data, &args, model.feature_names(), true)?;
        let labels = table.require_labels("evaluate")?.to_vec();
        let data_error = |source| CliError::Data {
            path: c.data.display().to_string(),
            source,
        };
        table.data.check_dim(model.dim()).map_err(data_error)?;
        let scores = ui
            .time("score", || match &loaded.detector {
                Some(det) => det.anomaly_scores(&table.data),
                None => model.anomaly_scores(&table.data),
            })
            .map_err(data_error)?;
        (scores, labels)
    };
    let labels = labels.as_slice();
    // With missing values the scores are tail scores: a threshold on −ln p(x)
    // does not apply to them.
    let detector = loaded
        .detector
        .as_ref()
        .filter(|d| !c.missing.missing || matches!(d, FileDetector::Tail(_)));
    let (threshold, source) = match (c.threshold, detector) {
        (Some(t), _) => {
            let rule: &dyn ThresholdRule<T> = &Fixed(t);
            (
                labelled_threshold(rule, &scores, labels)?,
                "given by --threshold".to_owned(),
            )
        }
        (None, Some(d)) => (
            d.threshold().clone(),
            format!(
                "from the detector file: {}",
                describe_threshold(d.threshold())
            ),
        ),
        (None, None) => {
            let rule: &dyn ThresholdRule<T> = &BestF::f1();
            let why = if loaded.detector.is_some() {
                "the detector's threshold is on -ln p(x), not on the tail score of rows with \
                 missing features (fit it with `detect --missing`)"
            } else {
                "the model file has no threshold"
            };
            (
                labelled_threshold(rule, &scores, labels)?,
                format!("best F1 on these labels: {why}"),
            )
        }
    };
    let eval = mixtures_anomaly::evaluate(&scores, labels, threshold.value())?;
    let (out, mut value) = describe_evaluation(&eval, threshold.value().as_f64(), &source);
    value["command"] = json!("evaluate");
    ui.result(&out, &value)?;
    if let Some(dir) = &c.plot {
        plot::ensure_dir(dir)?;
        let files = plot_scores(dir, &scores, Some(labels), Some(threshold.value()))?;
        note_written(ui, &files);
    }
    ui.print_timings();
    Ok(())
}
