//! Threshold rules by name, with their parameters from a Python dict.

use std::collections::HashMap;

use mixtures_anomaly::{
    AnomalyError, BestF, Contamination, Fixed, Mad, PeaksOverThreshold, PositiveUnlabeled,
    ScoreSet, TargetPrecision, TargetRecall, ThresholdRule,
};
use mixtures_core::Scalar;
use pyo3::prelude::*;

use crate::convert::value_error;

/// The rules' names, as `Detector(threshold=...)` takes them.
pub const RULES: &[&str] = &[
    "contamination",
    "fixed",
    "best_f",
    "target_precision",
    "target_recall",
    "positive_unlabeled",
    "mad",
    "peaks_over_threshold",
];

/// One of the library's rules, chosen at run time.
pub struct Rule<T: Scalar>(Box<dyn ThresholdRule<T>>);

impl<T: Scalar> core::fmt::Debug for Rule<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Scalar> ThresholdRule<T> for Rule<T> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        self.0.parameters()
    }
    fn check(&self) -> Result<(), AnomalyError> {
        self.0.check()
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        self.0.choose(data)
    }
}

impl<T: Scalar> Rule<T> {
    /// The rule `name` with `params` (each rule's keys are listed in
    /// docs/python.md); unknown names and keys are refused, so a typo is
    /// not silently a default.
    pub fn new(name: &str, params: &HashMap<String, f64>) -> PyResult<Self> {
        let allowed: &[&str] = match name {
            "contamination" => &["q"],
            "fixed" => &["value"],
            "best_f" => &["beta"],
            "target_precision" => &["precision"],
            "target_recall" => &["recall"],
            "positive_unlabeled" => &["ranks"],
            "mad" => &["k"],
            "peaks_over_threshold" => &["rate", "level"],
            other => {
                return Err(value_error(format!(
                    "unknown threshold rule {other:?}; the rules are {}",
                    RULES.join(", ")
                )));
            }
        };
        if let Some(k) = params.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(value_error(format!(
                "the {name} rule takes {}; not {k:?}",
                allowed.join(", ")
            )));
        }
        let need = |key: &str| {
            params
                .get(key)
                .copied()
                .ok_or_else(|| value_error(format!("the {name} rule needs {key}")))
        };
        let or = |key: &str, default: f64| params.get(key).copied().unwrap_or(default);
        let rule: Box<dyn ThresholdRule<T>> = match name {
            "contamination" => Box::new(Contamination(need("q")?)),
            "fixed" => Box::new(Fixed(need("value")?)),
            "best_f" => Box::new(BestF {
                beta: or("beta", 1.0),
            }),
            "target_precision" => Box::new(TargetPrecision(need("precision")?)),
            "target_recall" => Box::new(TargetRecall(need("recall")?)),
            "positive_unlabeled" if or("ranks", 0.0) != 0.0 => {
                Box::new(PositiveUnlabeled::on_ranks())
            }
            "positive_unlabeled" => Box::new(PositiveUnlabeled::new()),
            "mad" => Box::new(Mad(need("k")?)),
            _ => {
                let mut p = PeaksOverThreshold::new(need("rate")?);
                p.level = or("level", p.level);
                Box::new(p)
            }
        };
        Ok(Self(rule))
    }
}
