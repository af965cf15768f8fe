//! The commands, and what several of them share: reading the data, the
//! precision dispatch, the plots of a scored data set.

mod demo;
mod detect;
mod detect_missing;
mod evaluate;
mod explain;
mod export;
mod fit;
mod impute;
mod missing;
mod out_of_core;
mod score;
mod select;
mod variational;

use std::path::Path;

#[cfg(feature = "deep")]
pub(crate) use score::csv_field;

use mixtures_anomaly::{OperatingPoints, ScoreSet, Threshold, ThresholdRule};
use mixtures_core::Scalar;
use mixtures_dist::AnyMixture;

use crate::cli::{Command, DataArgs};
use crate::error::CliError;
use crate::input::{Selection, Table, read_file};
use crate::plot;
use crate::ui::Ui;

/// Runs a command.
///
/// # Errors
/// Whatever stops it, with its exit code in [`CliError::exit_code`].
pub fn run(command: Command, ui: &mut Ui) -> Result<(), CliError> {
    match command {
        Command::Fit(c) => fit::run(&c, ui),
        Command::Score(c) => score::run(&c, ui),
        Command::Detect(c) => detect::run(&c, ui),
        Command::Evaluate(c) => evaluate::run(&c, ui),
        Command::Select(c) => select::run(&c, ui),
        Command::Demo(c) => demo::run(&c, ui),
        Command::Explain(c) => explain::run(&c, ui),
        Command::Export(c) => export::run(&c, ui),
        Command::Impute(c) => impute::run(&c, ui),
        #[cfg(feature = "deep")]
        Command::Deep(c) => crate::deep::run(&c, ui),
    }
}

/// Calls `$f::<f32>` or `$f::<f64>` as the precision says.
macro_rules! by_precision {
    ($p:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $p {
            $crate::cli::Precision::F32 => $f::<f32>($($arg),*),
            $crate::cli::Precision::F64 => $f::<f64>($($arg),*),
        }
    };
}
pub(crate) use by_precision;

/// Runs `write` on a temporary file renamed into place at `path` once it
/// succeeds, or on standard output without a path. `write` keeps the error
/// that stopped it, if it was not an I/O error, in its second argument (a
/// writer only carries I/O errors), and that error is the one returned.
///
/// # Errors
/// The kept error, or the write's ([`CliError::Output`] for a file; a closed
/// standard output is [`CliError::BrokenPipe`]).
pub fn write_output<R: Default>(
    path: Option<&Path>,
    mut write: impl FnMut(&mut dyn std::io::Write, &mut Option<CliError>) -> std::io::Result<R>,
) -> Result<R, CliError> {
    let mut failure = None;
    match path {
        Some(path) => {
            let mut out = R::default();
            let written = mixtures_core::io::write_atomic(path, |w| {
                out = write(w, &mut failure)?;
                Ok(())
            });
            if let Some(e) = failure {
                return Err(e);
            }
            written.map_err(|e| CliError::output(path, e))?;
            Ok(out)
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let result = write(&mut out, &mut failure);
            if let Some(e) = failure {
                return Err(e);
            }
            result.map_err(|e| crate::error::stdout_error(&e))
        }
    }
}

/// Reads the data file of a command: Parquet or Arrow IPC by its extension,
/// CSV with its CSV options otherwise. `model_names` (a
/// model's feature names) pick the features instead of `--columns`; without
/// them, a column named `label` is left out of the features with a note
/// (unless `--columns` or `--label-column` say otherwise).
///
/// # Errors
/// As [`read_file`].
pub fn read_data<T: Scalar>(
    ui: &mut Ui,
    path: &Path,
    args: &DataArgs,
    model_names: Option<&[String]>,
    labels_required: bool,
) -> Result<Table<T>, CliError> {
    let sel = Selection {
        columns: model_names
            .map(<[String]>::to_vec)
            .or_else(|| args.columns.clone()),
        columns_from: if model_names.is_some() {
            "the model's feature_names"
        } else {
            "--columns"
        },
        label_column: args.label_column.clone(),
        labels_required,
        label_by_name: model_names.is_none(),
        keep: Vec::new(),
        no_header: args.csv.no_header,
        missing: None,
    };
    let table = ui.time("read data", || read_file(path, args.csv.delimiter, &sel))?;
    if let Some(label) = &table.left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features (pass --label-column {label} to \
             read it as labels, or --columns to choose the features)"
        ));
    }
    Ok(table)
}

/// A closed outline in two features.
pub type Outline = Vec<(f64, f64)>;

/// The 95 % region of every component in features `(a, b)` as a closed
/// outline: an ellipse for a Gaussian component (squared Mahalanobis radius
/// 5.991, the χ² quantile with two degrees of freedom) and for a Student-t
/// one (the bivariate t's quantile), a diamond for a Laplace one (the sum of
/// two unit exponentials below 4.744). Also the centres.
pub fn outlines<T: Scalar>(
    model: &AnyMixture<T>,
    a: usize,
    b: usize,
) -> (Vec<Outline>, Vec<(f64, f64)>) {
    let mut shapes = Vec::new();
    let mut centres = Vec::new();
    match model {
        AnyMixture::Gaussian(m) => {
            let g = m.components();
            for k in 0..m.n_components() {
                let (shape, centre) = ellipse(g, k, a, b, 5.991);
                shapes.push(shape);
                centres.push(centre);
            }
        }
        AnyMixture::StudentT(m) => {
            let t = m.components();
            for k in 0..m.n_components() {
                // A t's two-feature marginal is a bivariate t: 95 % of it
                // lies within δ² = ν (0.05^(−2/ν) − 1).
                let nu = t.dof()[k].as_f64();
                let r2 = nu * (0.05_f64.powf(-2.0 / nu) - 1.0);
                let (shape, centre) = ellipse(t.scale(), k, a, b, r2);
                shapes.push(shape);
                centres.push(centre);
            }
        }
        AnyMixture::Laplace(m) => {
            let l = m.components();
            for k in 0..m.n_components() {
                let mu = l.location(k);
                let (ma, mb) = (mu[a].as_f64(), mu[b].as_f64());
                let c = 4.744;
                let (ra, rb) = (c * l.scale(k, a).as_f64(), c * l.scale(k, b).as_f64());
                shapes.push(vec![
                    (ma + ra, mb),
                    (ma, mb + rb),
                    (ma - ra, mb),
                    (ma, mb - rb),
                    (ma + ra, mb),
                ]);
                centres.push((ma, mb));
            }
        }
    }
    (shapes, centres)
}

/// The outline `δ² = r2` of component `k` of `g` in features `(a, b)`, and
/// its centre.
fn ellipse<T: Scalar>(
    g: &mixtures_dist::Gaussian<T>,
    k: usize,
    a: usize,
    b: usize,
    r2: f64,
) -> (Outline, (f64, f64)) {
    let mu = g.mean(k);
    let (ma, mb) = (mu[a].as_f64(), mu[b].as_f64());
    let s = g.covariance_matrix(k);
    let (saa, sbb, sab) = (s[(a, a)].as_f64(), s[(b, b)].as_f64(), s[(a, b)].as_f64());
    // Eigen-decomposition of the symmetric 2 x 2 block.
    let mean = 0.5 * (saa + sbb);
    let dev = (0.25 * (saa - sbb) * (saa - sbb) + sab * sab).sqrt();
    let (l1, l2) = ((mean + dev).max(0.0), (mean - dev).max(0.0));
    let theta = 0.5 * (2.0 * sab).atan2(saa - sbb);
    let r = r2.sqrt();
    let (c, si) = (theta.cos(), theta.sin());
    let shape = (0..=96)
        .map(|i| {
            let t = i as f64 / 96.0 * std::f64::consts::TAU;
            let (u, v) = (r * l1.sqrt() * t.cos(), r * l2.sqrt() * t.sin());
            (ma + c * u - si * v, mb + si * u + c * v)
        })
        .collect();
    (shape, (ma, mb))
}

/// The two features a scatter plot shows: those `--plot-features` names (by
/// name, in that order), or the first two. `None` for a table with one
/// feature and no names given. Checked right after the data are read, before
/// any fit.
///
/// # Errors
/// [`CliError::Usage`] when the names are not two distinct features of the
/// table, naming the one that is not (and the features there are).
pub fn scatter_axes<T: Scalar>(
    table: &Table<T>,
    names: Option<&[String]>,
) -> Result<Option<(usize, usize)>, CliError> {
    let Some(names) = names else {
        return Ok((table.features.len() >= 2).then_some((0, 1)));
    };
    let [a, b] = names else {
        return Err(CliError::Usage(format!(
            "--plot-features takes two feature names (A,B), not {}",
            names.len()
        )));
    };
    let find =
        |name: &String| {
            table.features.iter().position(|f| f == name).ok_or_else(|| {
            CliError::Usage(format!(
                "--plot-features: {name:?} is not a feature of the data; the features are: {}",
                table.features.join(", ")
            ))
        })
        };
    let (i, j) = (find(a)?, find(b)?);
    if i == j {
        return Err(CliError::Usage(format!(
            "--plot-features names {a:?} twice; give two different features"
        )));
    }
    Ok(Some((i, j)))
}

/// The scatter of two features of a table (`axes`, from [`scatter_axes`]),
/// with the model's components, the flagged rows and the labels; nothing
/// without axes.
///
/// # Errors
/// [`CliError::Output`].
pub fn plot_scatter<T: Scalar>(
    dir: &Path,
    model: &AnyMixture<T>,
    table: &Table<T>,
    axes: Option<(usize, usize)>,
    flagged: Option<&[u8]>,
) -> Result<Vec<std::path::PathBuf>, CliError> {
    let Some((a, b)) = axes else {
        return Ok(Vec::new());
    };
    let (outlines, centres) = outlines(model, a, b);
    let (xa, xb) = (table.data.column(a), table.data.column(b));
    let scatter = plot::Scatter {
        axes: (&table.features[a], &table.features[b]),
        points: xa
            .iter()
            .zip(xb)
            .map(|(a, b)| (a.as_f64(), b.as_f64()))
            .collect(),
        flagged,
        labels: table.labels.as_deref(),
        outlines,
        centres,
        n_features: table.features.len(),
    };
    plot::scatter(dir, &scatter)
}

/// The histogram of scores, and with labels the ROC and precision-recall
/// curves.
///
/// # Errors
/// [`CliError::Output`], or the metrics' errors on bad labels.
pub fn plot_scores<T: Scalar>(
    dir: &Path,
    scores: &[T],
    labels: Option<&[u8]>,
    threshold: Option<T>,
) -> Result<Vec<std::path::PathBuf>, CliError> {
    let wide: Vec<f64> = scores.iter().map(|s| s.as_f64()).collect();
    let mut written = plot::score_histogram(dir, &wide, labels, threshold.map(Scalar::as_f64))?;
    if let Some(labels) = labels {
        let points = OperatingPoints::new(scores, labels)?;
        if points.positives() > 0 && points.negatives() > 0 {
            // Where the threshold sits on both curves, from the same
            // confusion matrix `evaluate` reports (score >= threshold
            // flagged).
            let at = threshold
                .map(|t| mixtures_anomaly::evaluate(scores, labels, t).map(|e| (t, e.confusion)))
                .transpose()?;
            let rate = |a: usize, b: usize| {
                if a + b == 0 {
                    0.0
                } else {
                    a as f64 / (a + b) as f64
                }
            };
            let roc_at = at.map(|(t, c)| plot::OperatingPoint {
                threshold: t.as_f64(),
                at: (
                    rate(c.false_positives, c.true_negatives),
                    rate(c.true_positives, c.false_negatives),
                ),
            });
            // With nothing flagged, precision is 1 by the curve's convention.
            let pr_at = at.map(|(t, c)| plot::OperatingPoint {
                threshold: t.as_f64(),
                at: (
                    rate(c.true_positives, c.false_negatives),
                    if c.true_positives + c.false_positives == 0 {
                        1.0
                    } else {
                        rate(c.true_positives, c.false_positives)
                    },
                ),
            });
            let roc = points.roc_curve()?;
            let auc = points.roc_auc()?;
            let xy: Vec<(f64, f64)> = roc
                .false_positive_rate
                .iter()
                .copied()
                .zip(roc.true_positive_rate.iter().copied())
                .collect();
            written.extend(plot::unit_curve(
                dir,
                "roc",
                &format!("ROC curve (AUC {auc:.4})"),
                ("false positive rate", "true positive rate (recall)"),
                &xy,
                true,
                roc_at,
            )?);
            let pr = points.precision_recall_curve()?;
            let ap = points.average_precision()?;
            let xy: Vec<(f64, f64)> = pr
                .recall
                .iter()
                .copied()
                .zip(pr.precision.iter().copied())
                .collect();
            written.extend(plot::unit_curve(
                dir,
                "precision_recall",
                &format!("Precision-recall curve (average precision {ap:.4})"),
                ("recall", "precision"),
                &xy,
                false,
                pr_at,
            )?);
        }
    }
    Ok(written)
}

/// Fits a threshold rule to labelled scores (for a model without a threshold).
///
/// # Errors
/// The rule's errors.
pub fn labelled_threshold<T: Scalar>(
    rule: &dyn ThresholdRule<T>,
    scores: &[T],
    labels: &[u8],
) -> Result<Threshold<T>, CliError> {
    Ok(Threshold::fit(rule, &ScoreSet::labelled(scores, labels)?)?)
}

/// Notes the files written, one per line.
pub fn note_written(ui: &Ui, files: &[std::path::PathBuf]) {
    for f in files {
        ui.note(&format!("wrote {}", f.display()));
    }
}
