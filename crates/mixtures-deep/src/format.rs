//! The model file: one JSON object with the configuration, the input
//! scaling, every weight, the latent mixture (as this project's model-file
//! object) and the training history. docs/model-format.md describes it.

use std::path::Path;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use mixtures_dist::AnyMixture;
use serde::{Deserialize, Serialize};

use crate::DeepError;
use crate::config::{Compression, DagmmConfig};
use crate::error::read;
use crate::model::Dagmm;
use crate::nets::{Compressor, Estimator, Networks, TanhStack};
use crate::scaling::Scaler;
use crate::train::EpochReport;

/// The version this crate writes and reads.
pub const DAGMM_FORMAT_VERSION: u32 = 1;

/// A dense layer: `weight[i][o]` maps input `i` to output `o`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LayerRecord {
    weight: Vec<Vec<f32>>,
    bias: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct NetworksRecord {
    encoder: Vec<LayerRecord>,
    code: LayerRecord,
    log_var: Option<LayerRecord>,
    codebook: Option<Vec<Vec<f32>>>,
    decoder: Vec<LayerRecord>,
    output: LayerRecord,
    estimation_hidden: LayerRecord,
    estimation_output: LayerRecord,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DagmmFile {
    format_version: u32,
    kind: String,
    config: DagmmConfig,
    scaling: Scaler,
    networks: NetworksRecord,
    latent_mixture: AnyMixture<f64>,
    energy_scale: [f64; 2],
    reconstruction_scale: [f64; 2],
    history: Vec<EpochReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feature_names: Option<Vec<String>>,
}

fn matrix(t: Tensor<2>) -> Result<Vec<Vec<f32>>, DeepError> {
    let [_, c] = t.dims();
    let v = read(t)?;
    Ok(v.chunks(c.max(1)).map(<[f32]>::to_vec).collect())
}

fn layer(l: &Linear) -> Result<LayerRecord, DeepError> {
    let bias = match &l.bias {
        Some(b) => read(b.val())?,
        None => Vec::new(),
    };
    Ok(LayerRecord {
        weight: matrix(l.weight.val())?,
        bias,
    })
}

/// What was read, checked against the shapes the configuration asks for.
struct Shapes {
    errors: Vec<String>,
}

impl Shapes {
    fn layer(&mut self, name: &str, r: &LayerRecord, rows: usize, cols: usize) {
        self.matrix(name, &r.weight, rows, cols);
        if r.bias.len() != cols {
            self.errors.push(format!(
                "{name}: bias has {} values, the configuration needs {cols}",
                r.bias.len()
            ));
        }
        if r.bias.iter().any(|v| !v.is_finite()) {
            self.errors.push(format!("{name}: a bias is not finite"));
        }
    }

    fn matrix(&mut self, name: &str, m: &[Vec<f32>], rows: usize, cols: usize) {
        if m.len() != rows || m.iter().any(|r| r.len() != cols) {
            self.errors.push(format!(
                "{name}: weight is {} x {}, the configuration needs {rows} x {cols}",
                m.len(),
                m.first().map_or(0, Vec::len)
            ));
        } else if m.iter().flatten().any(|v| !v.is_finite()) {
            self.errors.push(format!("{name}: a weight is not finite"));
        }
    }

    fn stack(&mut self, name: &str, rs: &[LayerRecord], widths: &[usize]) {
        if rs.len() + 1 != widths.len() {
            self.errors.push(format!(
                "{name}: {} layers, the configuration needs {}",
                rs.len(),
                widths.len() - 1
            ));
            return;
        }
        for (i, r) in rs.iter().enumerate() {
            self.layer(
                &format!("{name} layer {}", i + 1),
                r,
                widths[i],
                widths[i + 1],
            );
        }
    }
}

fn check(file: &DagmmFile) -> Result<(), DeepError> {
    let cfg = &file.config;
    cfg.validate()?;
    file.scaling.check().map_err(DeepError::Incompatible)?;
    let d = file.scaling.dim();
    let net = &file.networks;
    let mut s = Shapes { errors: Vec::new() };
    let mut enc = vec![d];
    enc.extend(&cfg.hidden);
    s.stack("encoder", &net.encoder, &enc);
    let last = *enc.last().unwrap_or(&d);
    s.layer("code", &net.code, last, cfg.latent_dim);
    match (cfg.compression, &net.log_var, &net.codebook) {
        (Compression::Autoencoder, None, None) => {}
        (Compression::Variational { .. }, Some(lv), None) => {
            s.layer("log_var", lv, last, cfg.latent_dim);
        }
        (Compression::VectorQuantized { codebook_size, .. }, None, Some(cb)) => {
            s.matrix("codebook", cb, codebook_size, cfg.latent_dim);
        }
        _ => s.errors.push(format!(
            "the networks do not match the configuration's compression ({})",
            cfg.compression.name()
        )),
    }
    let mut dec = vec![cfg.latent_dim];
    dec.extend(cfg.hidden.iter().rev());
    s.stack("decoder", &net.decoder, &dec);
    s.layer(
        "output",
        &net.output,
        *dec.last().unwrap_or(&cfg.latent_dim),
        d,
    );
    s.layer(
        "estimation hidden",
        &net.estimation_hidden,
        cfg.feature_dim(),
        cfg.estimation_hidden,
    );
    s.layer(
        "estimation output",
        &net.estimation_output,
        cfg.estimation_hidden,
        cfg.components,
    );
    if file.latent_mixture.dim() != cfg.feature_dim() {
        s.errors.push(format!(
            "the latent mixture has dimension {}, the configuration's features {}",
            file.latent_mixture.dim(),
            cfg.feature_dim()
        ));
    }
    if file.latent_mixture.n_components() > cfg.components {
        s.errors.push(format!(
            "the latent mixture has {} components, the configuration {}",
            file.latent_mixture.n_components(),
            cfg.components
        ));
    }
    for (name, [m, q]) in [
        ("energy_scale", file.energy_scale),
        ("reconstruction_scale", file.reconstruction_scale),
    ] {
        if !m.is_finite() || !(q > 0.0) || !q.is_finite() {
            s.errors.push(format!(
                "{name}: needs a finite centre and a positive spread"
            ));
        }
    }
    if let Some(names) = &file.feature_names
        && names.len() != d
    {
        s.errors
            .push(format!("{} feature names for {d} inputs", names.len()));
    }
    if s.errors.is_empty() {
        Ok(())
    } else {
        Err(DeepError::Incompatible(s.errors.join("; ")))
    }
}

fn to_linear(r: &LayerRecord, device: &Device) -> Linear {
    let rows = r.weight.len();
    let cols = r.bias.len();
    let w: Vec<f32> = r.weight.iter().flatten().copied().collect();
    Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w, [rows, cols]), device)),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(r.bias.clone(), [cols]),
            device,
        ))),
    }
}

fn to_stack(rs: &[LayerRecord], device: &Device) -> TanhStack {
    TanhStack {
        layers: rs.iter().map(|r| to_linear(r, device)).collect(),
    }
}

impl Dagmm {
    fn to_file(&self) -> Result<DagmmFile, DeepError> {
        let c = &self.nets.compressor;
        let e = &self.nets.estimator;
        let stack = |s: &TanhStack| s.layers.iter().map(layer).collect::<Result<Vec<_>, _>>();
        Ok(DagmmFile {
            format_version: DAGMM_FORMAT_VERSION,
            kind: "dagmm".into(),
            config: self.config.clone(),
            scaling: self.scaler.clone(),
            networks: NetworksRecord {
                encoder: stack(&c.encoder)?,
                code: layer(&c.code)?,
                log_var: c.log_var.as_ref().map(layer).transpose()?,
                codebook: c.codebook.as_ref().map(|b| matrix(b.val())).transpose()?,
                decoder: stack(&c.decoder)?,
                output: layer(&c.output)?,
                estimation_hidden: layer(&e.hidden)?,
                estimation_output: layer(&e.output)?,
            },
            latent_mixture: self.mixture.clone(),
            energy_scale: [self.energy_scale.0, self.energy_scale.1],
            reconstruction_scale: [self.reconstruction_scale.0, self.reconstruction_scale.1],
            history: self.history.clone(),
            feature_names: self.feature_names.clone(),
        })
    }

    /// The model as JSON text.
    ///
    /// # Errors
    /// [`DeepError::Backend`] if a weight cannot be read from the device.
    pub fn to_json(&self) -> Result<String, DeepError> {
        serde_json::to_string(&self.to_file()?).map_err(|e| DeepError::Format {
            path: String::new(),
            reason: e.to_string(),
        })
    }

    /// Reads a model from JSON text onto `device`.
    ///
    /// # Errors
    /// [`DeepError::Format`] for text that is not a DAGMM file (or of
    /// another format version); [`DeepError::Incompatible`] when its weights,
    /// mixture or scaling do not fit its configuration;
    /// [`DeepError::InvalidConfig`] for a configuration no trainer accepts.
    pub fn from_json(text: &str, device: &Device) -> Result<Self, DeepError> {
        Self::parse(text, "", device)
    }

    fn parse(text: &str, path: &str, device: &Device) -> Result<Self, DeepError> {
        let format = |reason: String| DeepError::Format {
            path: path.into(),
            reason,
        };
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format(e.to_string()))?;
        match v.get("format_version").and_then(serde_json::Value::as_u64) {
            Some(x) if x == u64::from(DAGMM_FORMAT_VERSION) => {}
            Some(x) => {
                return Err(format(format!(
                    "format_version {x}; this build reads {DAGMM_FORMAT_VERSION}"
                )));
            }
            None => return Err(format("no format_version: not a DAGMM model file".into())),
        }
        if v.get("kind").and_then(serde_json::Value::as_str) != Some("dagmm") {
            return Err(format("kind is not \"dagmm\"".into()));
        }
        let file: DagmmFile = serde_json::from_value(v).map_err(|e| format(e.to_string()))?;
        check(&file)?;
        let n = &file.networks;
        let nets = Networks {
            compressor: Compressor {
                encoder: to_stack(&n.encoder, device),
                code: to_linear(&n.code, device),
                log_var: n.log_var.as_ref().map(|r| to_linear(r, device)),
                codebook: n.codebook.as_ref().map(|cb| {
                    let rows = cb.len();
                    let cols = file.config.latent_dim;
                    let v: Vec<f32> = cb.iter().flatten().copied().collect();
                    Param::from_tensor(Tensor::from_data(TensorData::new(v, [rows, cols]), device))
                }),
                decoder: to_stack(&n.decoder, device),
                output: to_linear(&n.output, device),
            },
            estimator: Estimator {
                hidden: to_linear(&n.estimation_hidden, device),
                output: to_linear(&n.estimation_output, device),
            },
        };
        Ok(Dagmm {
            config: file.config,
            scaler: file.scaling,
            nets,
            device: device.clone(),
            mixture: file.latent_mixture,
            energy_scale: (file.energy_scale[0], file.energy_scale[1]),
            reconstruction_scale: (file.reconstruction_scale[0], file.reconstruction_scale[1]),
            history: file.history,
            feature_names: file.feature_names,
        })
    }

    /// Writes the model to `path` (a temporary file renamed into place).
    ///
    /// # Errors
    /// [`DeepError::Io`], [`DeepError::Backend`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), DeepError> {
        let path = path.as_ref();
        let text = self.to_json()?;
        mixtures_core::io::write_bytes_atomic(path, text.as_bytes()).map_err(|source| {
            DeepError::Io {
                path: path.display().to_string(),
                source,
            }
        })
    }

    /// Reads a model written by [`Dagmm::save`] onto `device`.
    ///
    /// # Errors
    /// [`DeepError::Io`] and those of [`Dagmm::from_json`].
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self, DeepError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| DeepError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), device)
    }
}
