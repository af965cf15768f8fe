//! The precomputed arrays as compact JSON, for a scorer in another
//! language.

use mixtures_dist::json::float_to_json;
use mixtures_score::Family;
use serde_json::{Value, json};

use super::{ExportKind, Exported, Precision, parts::scale_name};

/// Numbers of an array: `f64` values as they are, `f32` values as the
/// shortest text of the `f32` (`0.1`, not `0.10000000149011612`); `−∞` as
/// `"-inf"` (the workspace's JSON convention).
fn numbers(values: &[f64], precision: Precision) -> Value {
    Value::Array(values.iter().map(|&v| number(v, precision)).collect())
}

fn number(v: f64, precision: Precision) -> Value {
    match precision {
        Precision::F64 => float_to_json(v),
        Precision::F32 => float_to_json(mixtures_dist::json::shortest(v as f32)),
    }
}

impl Exported {
    /// The arrays as one compact JSON object (docs/embedded.md):
    /// `format` (`"mixtures-score"`), `version` (1), `precision`, `kind`
    /// (`"model"`, `"detector"`, `"ensemble"`), `dim`, `threshold` (a
    /// detector), `main`, `feature_names` (if any) and `parts`, each with
    /// `name`, `structure`, `family`, `scale_kind`, `log_weights`, `means`,
    /// `log_norms`, `scale`, `dof`, `noise` (or `null`), `centre` and
    /// `weight`.
    pub fn to_json_compact(&self) -> String {
        let p = self.precision;
        let parts: Vec<Value> = self
            .parts
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "structure": m.structure,
                    "family": match m.family {
                        Family::Gaussian => "gaussian",
                        Family::Laplace => "laplace",
                        Family::StudentT => "student-t",
                    },
                    "scale_kind": m.scale_kind.as_str(),
                    "scale_holds": scale_name(m.scale_kind, m.family),
                    "dim": m.dim,
                    "log_weights": numbers(&m.log_weights, p),
                    "means": numbers(&m.means, p),
                    "log_norms": numbers(&m.log_norms, p),
                    "scale": numbers(&m.scale, p),
                    "dof": numbers(&m.dof, p),
                    "noise": m.noise.as_ref().map(|(ld, lo, hi)| json!({
                        "log_density": number(*ld, p),
                        "lower": numbers(lo, p),
                        "upper": numbers(hi, p),
                    })),
                    "centre": number(m.centre, p),
                    "weight": number(m.weight, p),
                })
            })
            .collect();
        let doc = json!({
            "format": "mixtures-score",
            "version": 1,
            "precision": p.as_str(),
            "kind": match self.kind {
                ExportKind::Model => "model",
                ExportKind::Detector => "detector",
                ExportKind::Ensemble => "ensemble",
            },
            "dim": self.dim(),
            "threshold": self.threshold.map(|t| number(t, p)),
            "main": self.main,
            "feature_names": self.feature_names,
            "parts": parts,
        });
        doc.to_string()
    }
}
