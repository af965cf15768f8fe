//! `mixtures deep fit` and `mixtures deep score` (the `deep` feature): DAGMM
//! and its variants (`mixtures-deep`).
//!
//! `fit` trains on every row, as `fit` and `detect` do (`--label-column`
//! only keeps the labels out of the features); with `--normal-only` the rows
//! labelled 1 are left out (DAGMM's own protocol), with
//! `--labelled-anomalies` they are given to the loss as labelled anomalies.
//! It writes a model directory: `dagmm.json` (the
//! whole model, docs/model-format.md), `latent_mixture.json` (the mixture on
//! the latent features, a plain model file), `loss.csv` (the loss terms per
//! epoch) and `loss.svg`/`loss.png` (their curves). `score` streams a CSV
//! file and writes one row per input row, in order: kept columns, then
//! `energy,reconstruction_error,anomaly_score,component`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use mixtures_core::Dataset;
use mixtures_deep::{
    Compression, Dagmm, DagmmConfig, DagmmTrainer, EpochReport, Inference, InputScaling,
    LatentFamily, ReconstructionUnit,
};
use serde_json::json;

use crate::cli::{CsvFormat, DataArgs};
use crate::commands::{csv_field, read_data, write_output};
use crate::error::{CliError, source_name};
use crate::files::check_files;
use crate::input::{Chunk, CsvReader, Selection, open};
use crate::plot;
use crate::ui::{Ui, shortest};

/// Rows per scored chunk (as `mixtures score`).
const CHUNK_ROWS: usize = 65_536;
/// The model directory's files.
const MODEL_FILE: &str = "dagmm.json";
const MIXTURE_FILE: &str = "latent_mixture.json";
const LOSS_FILE: &str = "loss.csv";
/// The score output's own columns.
const COLUMNS: [&str; 4] = [
    "energy",
    "reconstruction_error",
    "anomaly_score",
    "component",
];

/// `mixtures deep`.
#[derive(Debug, Subcommand)]
pub enum DeepCmd {
    /// Train a DAGMM (or a variant) on the normal rows of a CSV file and
    /// write a model directory.
    Fit(Box<DeepFitCmd>),
    /// Score every row of a CSV file under a trained DAGMM.
    Score(DeepScoreCmd),
}

/// The compression network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    /// An autoencoder (DAGMM).
    Ae,
    /// A variational autoencoder.
    Vae,
    /// A vector-quantized autoencoder.
    Vqvae,
}

/// The latent mixture's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MixtureArg {
    /// Full-covariance Gaussians.
    Gaussian,
    /// Laplace components.
    Laplace,
}

/// The anomaly score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InferenceArg {
    /// The sample energy.
    Energy,
    /// Energy plus reconstruction error, each on its training scale.
    EnergyAndReconstruction,
}

/// Input scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScalingArg {
    /// To [0, 1] by the training range.
    MinMax,
    /// To mean 0, standard deviation 1.
    Standard,
    /// As given.
    None,
}

/// How the networks share the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrainingArg {
    /// The energy trains the estimation network only (the default).
    Decoupled,
    /// The energy trains both networks (the paper).
    Joint,
}

/// The unit of the reconstruction term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReconstructionArg {
    /// ‖x − x'‖² per row (the paper's formula).
    RowSum,
    /// The same divided by the number of columns (DAGMM's reference code).
    FeatureMean,
}

/// `mixtures deep fit`. Unset settings take DAGMM's KDDCUP99 values.
#[derive(Debug, Clone, Args)]
pub struct DeepFitCmd {
    /// The training data.
    #[arg(value_name = "TRAIN.csv")]
    pub data: PathBuf,
    /// The model directory to write.
    #[arg(short, long, value_name = "MODEL_DIR")]
    pub output: PathBuf,
    /// Which columns, and the labels.
    #[command(flatten)]
    pub data_args: DataArgs,
    /// The compression network.
    #[arg(long, value_enum, default_value = "ae")]
    pub compression: CompressionArg,
    /// The latent mixture's family.
    #[arg(long, value_enum, default_value = "gaussian")]
    pub mixture: MixtureArg,
    /// The anomaly score.
    #[arg(long, value_enum, default_value = "energy")]
    pub inference: InferenceArg,
    /// Input scaling (default: min-max).
    #[arg(long, value_enum)]
    pub scaling: Option<ScalingArg>,
    /// Passes over the training rows (default 200).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Seed of the initialization, batch order, dropout and sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Rows per batch (default 1024).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam's learning rate (default 1e-4).
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Mixture components K (default 4).
    #[arg(short = 'k', long)]
    pub components: Option<usize>,
    /// Dimension of the code (default 1).
    #[arg(long)]
    pub latent_dim: Option<usize>,
    /// Hidden widths of the encoder, comma separated (default 60,30,10).
    #[arg(long, value_delimiter = ',', value_name = "W,W,W")]
    pub hidden: Option<Vec<usize>>,
    /// Width of the estimation network's hidden layer (default 10).
    #[arg(long)]
    pub estimation_hidden: Option<usize>,
    /// Dropout in the estimation network (default 0.5).
    #[arg(long)]
    pub dropout: Option<f64>,
    /// λ₁, the weight of the mean energy (default 0.1).
    #[arg(long)]
    pub lambda_energy: Option<f64>,
    /// λ₂, the weight of the covariance penalty (default 0.005).
    #[arg(long)]
    pub lambda_cov: Option<f64>,
    /// The VAE's KL weight (default 1).
    #[arg(long)]
    pub kl_weight: Option<f64>,
    /// The VQ-VAE's number of codes (default 32).
    #[arg(long)]
    pub codebook_size: Option<usize>,
    /// The VQ-VAE's commitment weight β (default 0.25).
    #[arg(long)]
    pub commitment: Option<f64>,
    /// Leave the rows labelled 1 out of training (needs --label-column).
    #[arg(long)]
    pub normal_only: bool,
    /// Train on the rows labelled 0 and give the rows labelled 1 to the loss
    /// as labelled anomalies, whose energy it pushes up (needs
    /// --label-column).
    #[arg(long, conflicts_with = "normal_only")]
    pub labelled_anomalies: bool,
    /// Weight of the labelled anomalies' term (default 1).
    #[arg(long)]
    pub anomaly_weight: Option<f64>,
    /// `decoupled` (the default) keeps the energy out of the compression
    /// network's gradient, so the codes are shaped by the reconstruction
    /// alone; `joint` is the paper's training, where some seeds collapse.
    #[arg(long, value_enum)]
    pub training: Option<TrainingArg>,
    /// Scale each batch's gradient down to this global norm when it is
    /// longer (default: never; DAGMM's reference code clips at 5); `none`
    /// never does.
    #[arg(long, value_name = "NORM|none", value_parser = parse_norm)]
    pub max_grad_norm: Option<MaxNorm>,
    /// The unit of the reconstruction term (default row-sum).
    #[arg(long, value_enum)]
    pub reconstruction: Option<ReconstructionArg>,
    /// Where to train: cpu, or cuda / wgpu in a build with that feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// A bound on the gradient's norm, or none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxNorm(pub Option<f64>);

fn parse_norm(s: &str) -> Result<MaxNorm, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(MaxNorm(None));
    }
    s.parse::<f64>()
        .map(|v| MaxNorm(Some(v)))
        .map_err(|_| format!("expected a positive number or `none`, got `{s}`"))
}

/// `mixtures deep score`.
#[derive(Debug, Clone, Args)]
pub struct DeepScoreCmd {
    /// A model directory written by `deep fit` (or its dagmm.json).
    #[arg(value_name = "MODEL_DIR")]
    pub model: PathBuf,
    /// The data to score; the model's feature columns are read by name.
    #[arg(value_name = "DATA.csv")]
    pub data: PathBuf,
    /// Where to write the scores (default: standard output).
    #[arg(short, long, value_name = "SCORES.csv")]
    pub output: Option<PathBuf>,
    /// The data file's format.
    #[command(flatten)]
    pub csv: CsvFormat,
    /// Input columns copied, as text, to the front of every output row.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub keep_columns: Vec<String>,
    /// Where to run: cpu, or cuda / wgpu in a build with that feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// Runs `mixtures deep`.
///
/// # Errors
/// Bad files and settings (exit 2), failed writes and diverged training
/// (exit 1).
pub fn run(c: &DeepCmd, ui: &mut Ui) -> Result<(), CliError> {
    match c {
        DeepCmd::Fit(f) => fit(f, ui),
        DeepCmd::Score(s) => score(s, ui),
    }
}

/// The configuration the flags ask for, on DAGMM's defaults.
fn config(c: &DeepFitCmd) -> DagmmConfig {
    let d = DagmmConfig::default();
    let compression = match c.compression {
        CompressionArg::Ae => Compression::Autoencoder,
        CompressionArg::Vae => match Compression::variational() {
            Compression::Variational { kl_weight } => Compression::Variational {
                kl_weight: c.kl_weight.unwrap_or(kl_weight),
            },
            other => other,
        },
        CompressionArg::Vqvae => match Compression::vector_quantized() {
            Compression::VectorQuantized {
                codebook_size,
                commitment,
            } => Compression::VectorQuantized {
                codebook_size: c.codebook_size.unwrap_or(codebook_size),
                commitment: c.commitment.unwrap_or(commitment),
            },
            other => other,
        },
    };
    DagmmConfig {
        hidden: c.hidden.clone().unwrap_or(d.hidden),
        latent_dim: c.latent_dim.unwrap_or(d.latent_dim),
        estimation_hidden: c.estimation_hidden.unwrap_or(d.estimation_hidden),
        dropout: c.dropout.unwrap_or(d.dropout),
        components: c.components.unwrap_or(d.components),
        compression,
        family: match c.mixture {
            MixtureArg::Gaussian => LatentFamily::Gaussian,
            MixtureArg::Laplace => LatentFamily::Laplace,
        },
        inference: match c.inference {
            InferenceArg::Energy => Inference::Energy,
            InferenceArg::EnergyAndReconstruction => Inference::EnergyAndReconstruction,
        },
        lambda_energy: c.lambda_energy.unwrap_or(d.lambda_energy),
        lambda_cov: c.lambda_cov.unwrap_or(d.lambda_cov),
        anomaly_weight: c.anomaly_weight.unwrap_or(d.anomaly_weight),
        learning_rate: c.learning_rate.unwrap_or(d.learning_rate),
        batch_size: c.batch_size.unwrap_or(d.batch_size),
        epochs: c.epochs.unwrap_or(d.epochs),
        seed: c.seed,
        jitter: d.jitter,
        decoupled: match c.training {
            None => d.decoupled,
            Some(TrainingArg::Decoupled) => true,
            Some(TrainingArg::Joint) => false,
        },
        max_grad_norm: c.max_grad_norm.map_or(d.max_grad_norm, |m| m.0),
        reconstruction: match c.reconstruction {
            None => d.reconstruction,
            Some(ReconstructionArg::RowSum) => ReconstructionUnit::RowSum,
            Some(ReconstructionArg::FeatureMean) => ReconstructionUnit::FeatureMean,
        },
        scaling: match c.scaling {
            None | Some(ScalingArg::MinMax) => InputScaling::MinMax,
            Some(ScalingArg::Standard) => InputScaling::Standard,
            Some(ScalingArg::None) => InputScaling::None,
        },
    }
}

/// The rows of `data` whose label is `want` (all rows without labels).
fn rows_labelled(
    data: &Dataset<f64>,
    labels: Option<&[u8]>,
    want: u8,
) -> Result<Dataset<f64>, CliError> {
    let d = data.n_features();
    let all = data.to_row_major();
    let mut v = Vec::new();
    for i in 0..data.n_samples() {
        if labels.is_none_or(|l| l[i] == want) {
            v.extend_from_slice(&all[i * d..(i + 1) * d]);
        }
    }
    let n = v.len() / d.max(1);
    Dataset::from_row_major(&v, n, d).map_err(|source| CliError::Data {
        path: "the training rows".into(),
        source,
    })
}

fn loss_csv(history: &[EpochReport]) -> String {
    let mut s = String::from(
        "epoch,loss,reconstruction,energy,covariance_penalty,compression,anomaly,seconds\n",
    );
    for r in history {
        s += &format!(
            "{},{},{},{},{},{},{},{}\n",
            r.epoch,
            shortest(r.loss),
            shortest(r.reconstruction),
            shortest(r.energy),
            shortest(r.covariance_penalty),
            shortest(r.compression),
            shortest(r.anomaly),
            shortest(r.seconds)
        );
    }
    s
}

fn fit(c: &DeepFitCmd, ui: &mut Ui) -> Result<(), CliError> {
    let dir = &c.output;
    let (model_path, mixture_path, loss_path) = (
        dir.join(MODEL_FILE),
        dir.join(MIXTURE_FILE),
        dir.join(LOSS_FILE),
    );
    check_files(&[c.data.as_path()], &[], &[dir.as_path()])?;
    for (set, flag) in [
        (c.labelled_anomalies, "--labelled-anomalies"),
        (c.normal_only, "--normal-only"),
    ] {
        if set && c.data_args.label_column.is_none() {
            return Err(CliError::Usage(format!("{flag} needs --label-column NAME")));
        }
    }
    let cfg = config(c);
    cfg.validate().map_err(CliError::from)?;
    let device = mixtures_deep::device(&c.device).map_err(CliError::from)?;
    // The directory exists from here on, so the files in it can be checked
    // against the input (a symbolic link named dagmm.json, say).
    plot::ensure_dir(dir)?;
    check_files(
        &[c.data.as_path()],
        &[&model_path, &mixture_path, &loss_path],
        &[],
    )?;
    let table = read_data::<f64>(ui, &c.data, &c.data_args, None, false)?;
    let split = c.normal_only || c.labelled_anomalies;
    let labels = table.labels.as_deref().filter(|_| split);
    let normal = rows_labelled(&table.data, labels, 0)?;
    let anomalies = match labels {
        Some(_) => Some(rows_labelled(&table.data, labels, 1)?),
        None => None,
    };
    if c.normal_only {
        let n = anomalies.as_ref().map_or(0, Dataset::n_samples);
        ui.note(&format!(
            "note: {n} rows labelled 1 are left out of training"
        ));
    }
    let epochs = cfg.epochs;
    let trainer = DagmmTrainer::new(cfg).device(device).on_epoch(|r| {
        ui.note(&format!(
            "epoch {}/{epochs}: loss {:.5} (reconstruction {:.5}, energy {:.5}, covariance penalty {:.5}{}{}) {:.2} s",
            r.epoch,
            r.loss,
            r.reconstruction,
            r.energy,
            r.covariance_penalty,
            if r.compression != 0.0 { format!(", compression {:.5}", r.compression) } else { String::new() },
            if r.anomaly != 0.0 { format!(", anomaly {:.5}", r.anomaly) } else { String::new() },
            r.seconds
        ));
    });
    let given = anomalies.as_ref().filter(|_| c.labelled_anomalies);
    let model = trainer
        .fit_with_anomalies(&normal, given)
        .map_err(CliError::from)?
        .with_feature_names(table.features.clone())
        .map_err(CliError::from)?;
    model.save(&model_path).map_err(CliError::from)?;
    model
        .mixture()
        .save(&mixture_path)
        .map_err(|e| CliError::save(&mixture_path, e))?;
    let history = model.history();
    mixtures_core::io::write_bytes_atomic(&loss_path, loss_csv(history).as_bytes())
        .map_err(|e| CliError::output(&loss_path, e))?;
    let mut series: Vec<(&str, Vec<f64>)> = vec![
        ("loss", history.iter().map(|r| r.loss).collect()),
        (
            "reconstruction",
            history.iter().map(|r| r.reconstruction).collect(),
        ),
        ("energy", history.iter().map(|r| r.energy).collect()),
        (
            "covariance penalty",
            history.iter().map(|r| r.covariance_penalty).collect(),
        ),
    ];
    if history.iter().any(|r| r.compression != 0.0) {
        series.push((
            "compression term",
            history.iter().map(|r| r.compression).collect(),
        ));
    }
    if history.iter().any(|r| r.anomaly != 0.0) {
        series.push(("anomaly term", history.iter().map(|r| r.anomaly).collect()));
    }
    let plots = plot::epoch_panels(dir, "loss", "DAGMM training: loss terms per epoch", &series)?;
    let last = history.last().map_or(f64::NAN, |r| r.loss);
    let per_epoch = history.iter().map(|r| r.seconds).sum::<f64>() / history.len().max(1) as f64;
    let summary = format!(
        "trained on {} rows ({} epochs, final loss {}, {:.3} s per epoch); wrote {}\n",
        normal.n_samples(),
        history.len(),
        shortest(last),
        per_epoch,
        dir.display()
    );
    let files: Vec<String> = [&model_path, &mixture_path, &loss_path]
        .into_iter()
        .chain(&plots)
        .map(|p| p.display().to_string())
        .collect();
    let value = json!({
        "command": "deep fit",
        "rows": normal.n_samples(),
        "labelled_anomalies": given.map_or(0, Dataset::n_samples),
        "epochs": history.len(),
        "final_loss": last,
        "seconds_per_epoch": per_epoch,
        "files": files,
    });
    ui.result(&summary, &value)
}

/// `MODEL_DIR/dagmm.json`, or the path itself when it is a file.
fn model_file(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join(MODEL_FILE)
    } else {
        p.to_path_buf()
    }
}

fn write_rows(
    out: &mut dyn Write,
    reader: &mut CsvReader<Box<dyn std::io::Read>>,
    model: &Dagmm,
    failure: &mut Option<CliError>,
) -> std::io::Result<usize> {
    let mut fail = |e: CliError| {
        *failure = Some(e);
        std::io::Error::other("stopped")
    };
    for k in &reader.kept {
        csv_field(out, k)?;
        out.write_all(b",")?;
    }
    writeln!(out, "{}", COLUMNS.join(","))?;
    let mut chunk = Chunk::<f64>::default();
    let mut rows = 0;
    let d = reader.features.len();
    let keep = reader.kept.len();
    while reader
        .next_chunk(CHUNK_ROWS, &mut chunk)
        .map_err(&mut fail)?
    {
        let data = Dataset::from_row_major(&chunk.values, chunk.rows, d).map_err(|source| {
            fail(CliError::Data {
                path: source_name(reader.path()),
                source,
            })
        })?;
        let s = model
            .score_details(&data)
            .map_err(|e| fail(CliError::from(e)))?;
        for i in 0..chunk.rows {
            for k in &chunk.kept[i * keep..(i + 1) * keep] {
                csv_field(out, k)?;
                out.write_all(b",")?;
            }
            writeln!(
                out,
                "{},{},{},{}",
                shortest(s.energy[i]),
                shortest(s.reconstruction_error[i]),
                shortest(s.score[i]),
                s.component[i]
            )?;
        }
        rows += chunk.rows;
    }
    if rows == 0 {
        return Err(fail(CliError::input(
            reader.path(),
            "no data rows after the header",
        )));
    }
    out.flush()?;
    Ok(rows)
}

fn score(c: &DeepScoreCmd, ui: &mut Ui) -> Result<(), CliError> {
    let path = model_file(&c.model);
    check_files(
        &[path.as_path(), c.data.as_path()],
        c.output.as_deref().as_slice(),
        &[],
    )?;
    let device = mixtures_deep::device(&c.device).map_err(CliError::from)?;
    let model = Dagmm::load(&path, &device).map_err(CliError::from)?;
    let names = model.feature_names();
    let sel = Selection::for_model(names, c.keep_columns.clone(), c.csv.no_header);
    let source: Box<dyn std::io::Read> = Box::new(open(&c.data)?);
    let mut reader = CsvReader::new(source, &c.data, c.csv.delimiter, &sel)?;
    if let Some(k) = reader.kept.iter().find(|k| COLUMNS.contains(&k.as_str())) {
        return Err(CliError::Usage(format!(
            "--keep-columns {k}: the output has a column of that name already"
        )));
    }
    let rows = write_output(c.output.as_deref(), |out, failure| {
        write_rows(out, &mut reader, &model, failure)
    })?;
    if let Some(out) = &c.output {
        ui.result(
            &format!("scored {rows} rows\n"),
            &json!({"command": "deep score", "rows": rows, "output": out.display().to_string()}),
        )?;
    }
    Ok(())
}
