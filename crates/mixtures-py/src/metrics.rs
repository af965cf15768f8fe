//! The metrics (scikit-learn's conventions) and the threshold rules on
//! scores the caller already has.

use std::collections::HashMap;

use mixtures_anomaly::{ConfusionMatrix, ScoreSet, Threshold};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{value_error, vector};
use crate::model::array;
use crate::rules::Rule;

fn confusion<'py>(py: Python<'py>, c: &ConfusionMatrix) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("true_positives", c.true_positives)?;
    d.set_item("false_positives", c.false_positives)?;
    d.set_item("true_negatives", c.true_negatives)?;
    d.set_item("false_negatives", c.false_negatives)?;
    d.set_item("precision", c.precision())?;
    d.set_item("recall", c.recall())?;
    d.set_item("f1", c.f1())?;
    d.set_item("false_positive_rate", c.false_positive_rate())?;
    d.set_item("accuracy", c.accuracy())?;
    Ok(d)
}

/// ROC AUC of scores (higher: more anomalous) against 0/1 labels.
#[pyfunction]
pub fn roc_auc(
    scores: PyReadonlyArray1<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    mixtures_anomaly::roc_auc(&vector(&scores), &vector(&labels)).map_err(value_error)
}

/// Average precision (scikit-learn's `average_precision_score`).
#[pyfunction]
pub fn average_precision(
    scores: PyReadonlyArray1<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    mixtures_anomaly::average_precision(&vector(&scores), &vector(&labels)).map_err(value_error)
}

/// `(false_positive_rate, true_positive_rate, thresholds)`.
#[pyfunction]
pub fn roc_curve<'py>(
    py: Python<'py>,
    scores: PyReadonlyArray1<'py, f64>,
    labels: PyReadonlyArray1<'py, i64>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let c = mixtures_anomaly::metrics::roc_curve(&vector(&scores), &vector(&labels))
        .map_err(value_error)?;
    let n = c.thresholds.len();
    Ok((
        array(py, &[c.false_positive_rate.len()], c.false_positive_rate)?,
        array(py, &[c.true_positive_rate.len()], c.true_positive_rate)?,
        array(py, &[n], c.thresholds)?,
    ))
}

/// `(precision, recall, thresholds)`.
#[pyfunction]
pub fn precision_recall_curve<'py>(
    py: Python<'py>,
    scores: PyReadonlyArray1<'py, f64>,
    labels: PyReadonlyArray1<'py, i64>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let c = mixtures_anomaly::metrics::precision_recall_curve(&vector(&scores), &vector(&labels))
        .map_err(value_error)?;
    let n = c.thresholds.len();
    Ok((
        array(py, &[c.precision.len()], c.precision)?,
        array(py, &[c.recall.len()], c.recall)?,
        array(py, &[n], c.thresholds)?,
    ))
}

/// ROC AUC, average precision and the confusion matrix at `threshold`
/// (`score >= threshold` flagged).
#[pyfunction]
pub fn evaluate<'py>(
    py: Python<'py>,
    scores: PyReadonlyArray1<'py, f64>,
    labels: PyReadonlyArray1<'py, i64>,
    threshold: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let e = mixtures_anomaly::metrics::evaluate(&vector(&scores), &vector(&labels), threshold)
        .map_err(value_error)?;
    let d = confusion(py, &e.confusion)?;
    d.set_item("roc_auc", e.roc_auc)?;
    d.set_item("average_precision", e.average_precision)?;
    d.set_item("threshold", threshold)?;
    Ok(d)
}

/// A threshold rule fitted on scores (and labels, for the rules that need
/// them): `(value, rule name, parameters)`.
#[pyfunction]
#[pyo3(signature = (scores, rule, params, labels = None))]
pub fn fit_threshold(
    scores: PyReadonlyArray1<'_, f64>,
    rule: &str,
    params: HashMap<String, f64>,
    labels: Option<PyReadonlyArray1<'_, i64>>,
) -> PyResult<(f64, String, HashMap<String, f64>)> {
    let r = Rule::<f64>::new(rule, &params)?;
    let s = vector(&scores);
    let set = match &labels {
        Some(l) => ScoreSet::labelled(&s, &vector(l)),
        None => ScoreSet::new(&s),
    }
    .map_err(value_error)?;
    let t = Threshold::fit(&r, &set).map_err(value_error)?;
    Ok((
        t.value(),
        t.rule().to_owned(),
        t.parameters().clone().into_iter().collect(),
    ))
}
