//! `mixtures export MODEL.json --to rust|c|json-compact [-o FILE]`: a model
//! or detector as code for devices (`mixtures_anomaly::export`;
//! docs/embedded.md). The model is read in f64 whatever `--precision`: the
//! arrays are computed in f64 and rounded once.

use std::io::Write;

use mixtures_anomaly::export::{ExportError, Exported, Precision as ExportPrecision};
use serde_json::json;

use crate::cli::{ExportCmd, ExportFormat, Precision};
use crate::error::{CliError, source_name};
use crate::files::check_files;
use crate::model_io::{self, FileDetector};
use crate::ui::Ui;

/// Runs `export`.
///
/// # Errors
/// Bad files, a prefix that is not a C identifier, or a model that does not
/// fit the precision (exit 2); failed writes (exit 1).
pub fn run(c: &ExportCmd, ui: &mut Ui) -> Result<(), CliError> {
    check_files(&[c.model.as_path()], c.output.as_deref().as_slice(), &[])?;
    let text = ui.time("read model", || model_io::read(&c.model))?;
    let precision = match c.precision.or(text.dtype).unwrap_or(Precision::F64) {
        Precision::F32 => ExportPrecision::F32,
        Precision::F64 => ExportPrecision::F64,
    };
    let loaded = text.model::<f64>(&c.model)?;
    let failed = |e: ExportError| match e {
        ExportError::InvalidPrefix(_) => CliError::Usage(format!("--prefix: {e}")),
        source => CliError::Export {
            path: source_name(&c.model),
            source: Box::new(source),
        },
    };
    let exported = match &loaded.detector {
        None => Exported::model(&loaded.model, precision),
        Some(FileDetector::Single(d)) => Exported::detector(d, precision),
        Some(FileDetector::Ensemble(d)) => Exported::ensemble(d, precision),
        Some(FileDetector::Tail(_)) => {
            return Err(CliError::Usage(format!(
                "{}: a detector on tail scores (detect --missing) cannot be exported yet: the \
                 exported scorer computes -ln p(x) of complete rows; export a model file instead",
                c.model.display()
            )));
        }
    }
    .map_err(failed)?;
    let body = match c.to {
        ExportFormat::Rust => exported.to_rust(),
        ExportFormat::C => exported.to_c(&c.prefix).map_err(failed)?,
        ExportFormat::JsonCompact => exported.to_json_compact() + "\n",
    };
    super::write_output(c.output.as_deref(), |out: &mut dyn Write, _| {
        out.write_all(body.as_bytes())?;
        out.flush()
    })?;
    if let Some(path) = &c.output {
        let format = match c.to {
            ExportFormat::Rust => "rust",
            ExportFormat::C => "c",
            ExportFormat::JsonCompact => "json-compact",
        };
        let summary = format!(
            "exported {} features, {} part(s), {} as {format}\n",
            exported.dim(),
            exported.parts.len(),
            precision.as_str()
        );
        let value = json!({
            "command": "export",
            "to": format,
            "precision": precision.as_str(),
            "dim": exported.dim(),
            "parts": exported.parts.len(),
            "threshold": exported.threshold,
            "output": path.display().to_string(),
        });
        ui.result(&summary, &value)?;
        ui.note(&format!("wrote {}", path.display()));
    }
    Ok(())
}
