//! DAGMM in its paper's protocol (Zong et al., 2018; ../shared/data/MANIFEST.md)
//! on KDDCUP99, Thyroid or Arrhythmia: train on a random half of the label-0
//! rows, test on the other half plus every label-1 row, flag the share of
//! train+test rows with the highest score that the paper flags (20 % on
//! KDDCUP99, 2.5 % on Thyroid, 15 % on Arrhythmia), and report precision,
//! recall and F1 on the test rows (positive = label 1) and ROC AUC, per seed,
//! with the mean and the spread. Each set gets the paper's network: KDDCUP99
//! `d-60-30-10-1`, K = 4, 200 epochs; Thyroid `6-12-4-1`, K = 2, 20 000
//! epochs; Arrhythmia `274-10-2`, K = 2, 10 000 epochs (λ₁ = 0.1, λ₂ = 0.005,
//! Adam at 1e-4, batches of 1024 everywhere). Training is the library's
//! default, decoupled; `--training joint` is the paper's.
//!
//! ```sh
//! cargo run --release -p mixtures-deep --example dagmm_paper -- [--set kdd|thyroid|arrhythmia] \
//!     [--data PATH] [--seeds 0,1,2,3,4] [--epochs N] [--baseline] \
//!     [--compression ae|vae|vqvae] [--family gaussian|laplace] [--labelled FRACTION] \
//!     [--training decoupled|joint] [--clip NORM|none] [--reconstruction row-sum|feature-mean] \
//!     [--scaling min-max|standard|none] [--lr RATE] [--lambda-energy L1] [--lambda-cov L2]
//! ```
//!
//! Every trained model is scored twice: by its energy and by energy plus
//! reconstruction error (the same network; `Dagmm::with_inference`). With
//! `--labelled FRACTION`, that fraction of the label-1 rows (drawn with the
//! seed) is given to training as labelled anomalies (the loss pushes their
//! energy up) and left out of the test rows; the positive-unlabelled
//! threshold (Elkan & Noto) is then reported too, fitted on the labelled
//! anomalies against all train and test rows, on the scores' values and on
//! their ranks.
//!
//! `--baseline` also scores each split with this library's default detector
//! (`Detector::auto()`, seeded by the split's seed) and with one
//! full-covariance Gaussian (EM), the same threshold rule.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use mixtures_anomaly::PositiveUnlabeled;
use mixtures_core::Dataset;
use mixtures_deep::{
    Compression, DagmmConfig, DagmmTrainer, Inference, InputScaling, LatentFamily,
    ReconstructionUnit,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

type Error = Box<dyn std::error::Error>;

/// The rows and the `label` column of a gzipped CSV file.
fn read_csv_gz(path: &str) -> Result<(Vec<Vec<f64>>, Vec<u8>), Error> {
    let f = std::fs::File::open(path)?;
    let r: Box<dyn BufRead> = if path.ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(f)))
    } else {
        Box::new(BufReader::new(f))
    };
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let mut lines = r.lines();
    let header = lines.next().ok_or("empty file")??;
    let label_col = header
        .split(',')
        .position(|h| h == "label")
        .ok_or("no label column")?;
    for line in lines {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let mut row = Vec::new();
        for (j, v) in line.split(',').enumerate() {
            let v: f64 = v.parse()?;
            if j == label_col {
                labels.push(u8::from(v != 0.0));
            } else {
                row.push(v);
            }
        }
        rows.push(row);
    }
    Ok((rows, labels))
}

/// numpy's default percentile (linear interpolation).
fn percentile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let pos = q / 100.0 * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

fn main() -> Result<(), Error> {
    let mut data = None;
    let mut seeds = vec![0u64, 1, 2, 3, 4];
    let mut cfg = DagmmConfig::default();
    let mut flagged = 20.0;
    // The set comes first: its paper settings, then the flags that change them.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let set = args
        .iter()
        .position(|a| a == "--set")
        .and_then(|i| args.get(i + 1))
        .map_or("kdd", String::as_str);
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/");
    let default_path = match set {
        "kdd" => format!("{shared}kddcup99_dagmm.csv.gz"),
        "thyroid" => {
            cfg.hidden = vec![12, 4];
            cfg.components = 2;
            cfg.epochs = 20_000;
            flagged = 2.5;
            format!("{shared}thyroid.csv")
        }
        "arrhythmia" => {
            cfg.hidden = vec![10];
            cfg.latent_dim = 2;
            cfg.components = 2;
            cfg.epochs = 10_000;
            flagged = 15.0;
            format!("{shared}arrhythmia.csv")
        }
        other => return Err(format!("unknown set {other}").into()),
    };
    let mut labelled = 0.0f64;
    let mut baseline = false;
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--data" => data = Some(v),
            "--set" => {}
            "--seeds" => seeds = v.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--epochs" => cfg.epochs = v.parse()?,
            "--lr" => cfg.learning_rate = v.parse()?,
            "--lambda-energy" => cfg.lambda_energy = v.parse()?,
            "--lambda-cov" => cfg.lambda_cov = v.parse()?,
            "--compression" => {
                cfg.compression = match v.as_str() {
                    "ae" => Compression::Autoencoder,
                    "vae" => Compression::variational(),
                    "vqvae" => Compression::vector_quantized(),
                    _ => return Err(format!("unknown compression {v}").into()),
                }
            }
            "--family" => {
                cfg.family = match v.as_str() {
                    "gaussian" => LatentFamily::Gaussian,
                    "laplace" => LatentFamily::Laplace,
                    _ => return Err(format!("unknown family {v}").into()),
                }
            }
            "--labelled" => labelled = v.parse()?,
            "--training" => {
                cfg.decoupled = match v.as_str() {
                    "decoupled" => true,
                    "joint" => false,
                    _ => return Err(format!("unknown training {v}").into()),
                }
            }
            "--clip" => {
                cfg.max_grad_norm = match v.as_str() {
                    "none" => None,
                    n => Some(n.parse()?),
                }
            }
            "--reconstruction" => {
                cfg.reconstruction = match v.as_str() {
                    "row-sum" => ReconstructionUnit::RowSum,
                    "feature-mean" => ReconstructionUnit::FeatureMean,
                    _ => return Err(format!("unknown reconstruction unit {v}").into()),
                }
            }
            "--baseline" => {
                baseline = true;
                i -= 1;
            }
            "--scaling" => {
                cfg.scaling = match v.as_str() {
                    "min-max" => InputScaling::MinMax,
                    "standard" => InputScaling::Standard,
                    "none" => InputScaling::None,
                    _ => return Err(format!("unknown scaling {v}").into()),
                }
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 2;
    }
    let (rows, labels) = read_csv_gz(&data.unwrap_or(default_path))?;
    let top = format!("top {flagged} %");
    eprintln!("{} rows x {} features", rows.len(), rows[0].len());
    let pick =
        |idx: &[usize]| Dataset::try_from(idx.iter().map(|&i| rows[i].clone()).collect::<Vec<_>>());
    // Per seed and score kind: precision, recall, F1, ROC AUC.
    let mut table: Vec<(String, Vec<[f64; 4]>)> = Vec::new();
    let mut record = |name: &str, r: [f64; 4]| match table.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => v.push(r),
        None => table.push((name.to_string(), vec![r])),
    };
    let mut per_epoch = Vec::new();
    for &seed in &seeds {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut normal: Vec<usize> = (0..rows.len()).filter(|&i| labels[i] == 0).collect();
        normal.shuffle(&mut rng);
        let mut anomalous: Vec<usize> = (0..rows.len()).filter(|&i| labels[i] == 1).collect();
        anomalous.shuffle(&mut rng);
        let n_lab = (labelled * anomalous.len() as f64).round() as usize;
        let known: Vec<usize> = anomalous[..n_lab].to_vec();
        let half = normal.len() / 2;
        let train: Vec<usize> = normal[..half].to_vec();
        let mut test: Vec<usize> = normal[half..].to_vec();
        test.extend(&anomalous[n_lab..]);
        let (xtr, xte) = (pick(&train)?, pick(&test)?);
        let y: Vec<u8> = test.iter().map(|&i| labels[i]).collect();
        if baseline {
            let mut report = |name: &str, s_tr: Vec<f64>, s_te: Vec<f64>| -> Result<(), Error> {
                let all: Vec<f64> = s_tr.iter().chain(&s_te).copied().collect();
                let [p, r, f1] = prf(&s_te, &y, percentile(&all, 100.0 - flagged));
                let auc = mixtures_anomaly::roc_auc(&s_te, &y)?;
                println!(
                    "seed {seed} {name} {top}: precision {p:.4} recall {r:.4} F1 {f1:.4} AUCROC {auc:.4}"
                );
                record(&format!("{name}, {top}"), [p, r, f1, auc]);
                Ok(())
            };
            let fitter = mixtures_anomaly::EnsembleFitter::with_mixture(
                mixtures_anomaly::AutoFitter::new().seed(seed),
            );
            let det = mixtures_anomaly::Detector::params(fitter)
                .fit(&xtr)?
                .detector;
            report("default detector", det.score(&xtr)?, det.score(&xte)?)?;
            let g = mixtures_em::GaussianMixture::params(1)
                .seed(seed)
                .fit(&xtr)?
                .model;
            let neg = |v: Vec<f64>| v.into_iter().map(|x| -x).collect::<Vec<_>>();
            report(
                "one Gaussian",
                neg(g.log_prob(&xtr)?),
                neg(g.log_prob(&xte)?),
            )?;
        }
        let c = DagmmConfig {
            seed,
            ..cfg.clone()
        };
        let t = Instant::now();
        let trainer = DagmmTrainer::new(c).on_epoch(|r| {
            if r.epoch == 1 || r.epoch % (cfg.epochs / 10).max(1) == 0 {
                eprintln!(
                    "  seed {seed} epoch {:>3}: loss {:.4} rec {:.4} energy {:.4} cov {:.4} extra {:.4} anomaly {:.4} ({:.2} s)",
                    r.epoch, r.loss, r.reconstruction, r.energy, r.covariance_penalty, r.compression, r.anomaly, r.seconds
                )
            }
        });
        let model = if n_lab > 0 {
            trainer.fit_with_anomalies(&xtr, Some(&pick(&known)?))?
        } else {
            trainer.fit(&xtr)?
        };
        let train_s = t.elapsed().as_secs_f64();
        let h = model.history();
        per_epoch.push(h.iter().map(|r| r.seconds).sum::<f64>() / h.len() as f64);
        for inference in [Inference::Energy, Inference::EnergyAndReconstruction] {
            let m = model.clone().with_inference(inference);
            let s_tr = m.score(&xtr)?;
            let s_te = m.score(&xte)?;
            let all: Vec<f64> = s_tr.iter().chain(&s_te).copied().collect();
            let auc = mixtures_anomaly::roc_auc(&s_te, &y)?;
            let kind = match inference {
                Inference::Energy => "energy",
                Inference::EnergyAndReconstruction => "energy+reconstruction",
            };
            let mut report = |rule: &str, th: f64| {
                let [p, r, f1] = prf(&s_te, &y, th);
                println!(
                    "seed {seed} {kind} {rule}: precision {p:.4} recall {r:.4} F1 {f1:.4} AUCROC {auc:.4} (train {train_s:.1} s)"
                );
                record(&format!("{kind}, {rule}"), [p, r, f1, auc]);
            };
            report(&top, percentile(&all, 100.0 - flagged));
            if n_lab > 0 {
                // Labelled anomalies (1) against every train and test row (0).
                let s_known = m.score(&pick(&known)?)?;
                let scores: Vec<f64> = s_known.iter().chain(&all).copied().collect();
                let lab: Vec<u8> = (0..scores.len())
                    .map(|i| u8::from(i < s_known.len()))
                    .collect();
                let set = mixtures_anomaly::ScoreSet::labelled(&scores, &lab)?;
                for (rule, name) in [
                    (PositiveUnlabeled::new(), "positive-unlabelled"),
                    (
                        PositiveUnlabeled::on_ranks(),
                        "positive-unlabelled on ranks",
                    ),
                ] {
                    report(name, rule.estimate(&set)?.threshold);
                }
            }
        }
    }
    for (name, rs) in &table {
        let n = rs.len() as f64;
        let mut line = format!("{name}:");
        for (j, what) in ["precision", "recall", "F1", "AUCROC"].iter().enumerate() {
            let v: Vec<f64> = rs.iter().map(|r| r[j]).collect();
            let mean = v.iter().sum::<f64>() / n;
            let spread = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                - v.iter().cloned().fold(f64::INFINITY, f64::min);
            line += &format!(" {what} {mean:.4} (spread {spread:.4})");
        }
        println!("{line}");
    }
    let n = per_epoch.len() as f64;
    println!(
        "seconds per epoch: {:.3}",
        per_epoch.iter().sum::<f64>() / n
    );
    Ok(())
}

/// Precision, recall and F1 of `score > th` on the test rows.
fn prf(scores: &[f64], y: &[u8], th: f64) -> [f64; 3] {
    let (mut tp, mut fp, mut fnn) = (0.0, 0.0, 0.0);
    for (s, &l) in scores.iter().zip(y) {
        match (*s > th, l == 1) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fnn += 1.0,
            _ => {}
        }
    }
    let p = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let r = if tp + fnn > 0.0 { tp / (tp + fnn) } else { 0.0 };
    let f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    [p, r, f1]
}
