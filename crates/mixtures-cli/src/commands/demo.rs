//! `mixtures demo`: the whole path on built-in data. A deterministic synthetic
//! set (three elliptical clusters; a test set with anomalies scattered around
//! them) is written as CSV; the model is chosen by BIC on the training set, a
//! detector's threshold is set at the false-alarm rate it should have on normal
//! data, the test set is scored and judged against its labels, and the plots
//! are written. The library's default detector (what `mixtures detect` fits
//! without `--components`) is judged on the same test set for comparison, and
//! the commands that repeat each step from the written files are printed.

use std::fmt::Write as _;
use std::path::Path;

use faer::{Mat, mat};
use mixtures_anomaly::{Contamination, DetectorParams};
use mixtures_core::Dataset;
use mixtures_dist::ModelSpec;
use mixtures_dist::{Gaussian, GaussianMixtureModel, Mixture};
use mixtures_select::{Criterion, Grid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::evaluate::{describe_evaluation, describe_threshold};
use super::{note_written, plot_scatter, plot_scores, scatter_axes};
use crate::cli::{DemoCmd, FitArgs, Precision};
use crate::error::CliError;
use crate::fitting::{auto_fitter, describe_choice, describe_model};
use crate::input::Table;
use crate::plot::{self, CriterionLine};
use crate::ui::Ui;

/// Fraction of training rows above the threshold: the false-alarm rate the
/// detector is set for.
const FALSE_ALARM_RATE: f64 = 0.01;
/// Fraction of anomalies in the test set.
const TEST_CONTAMINATION: f64 = 0.05;

/// The mixture behind the normal data: three elliptical clusters.
fn truth() -> Result<GaussianMixtureModel<f64>, CliError> {
    let comps = Gaussian::full(
        mat![[0.0, 0.0], [7.0, 3.0], [1.5, 8.0]],
        vec![
            mat![[2.0, 1.2], [1.2, 1.0]],
            mat![[0.6, -0.3], [-0.3, 1.5]],
            mat![[1.8, 0.0], [0.0, 0.3]],
        ],
    )
    .map_err(|e| CliError::Fit(e.into()))?;
    Mixture::new(vec![0.45, 0.35, 0.2], comps).map_err(|e| CliError::Fit(e.into()))
}

/// `n` rows, a fraction `contamination` of them anomalies at random positions:
/// points uniform on a box around the clusters, kept only where the true
/// density is below that of 99.5 % of normal points (so every label 1 is a
/// point that really is unusual).
fn make_set(
    model: &GaussianMixtureModel<f64>,
    n: usize,
    contamination: f64,
    cut: f64,
    rng: &mut StdRng,
) -> Result<(Mat<f64>, Vec<u8>), CliError> {
    let n_bad = ((n as f64 * contamination).round() as usize).min(n);
    let (normal, _) = model.sample(n - n_bad, rng);
    let mut labels = vec![0u8; n];
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..n_bad {
        let j = rng.random_range(i..n);
        order.swap(i, j);
        labels[order[i]] = 1;
    }
    let mut x = Mat::zeros(n, 2);
    let mut next = 0;
    for (i, &label) in labels.iter().enumerate() {
        if label == 1 {
            loop {
                let p = [rng.random_range(-9.0..16.0), rng.random_range(-7.0..14.0)];
                let d = Dataset::from_rows(&[p]).map_err(|e| CliError::Fit(e.into()))?;
                let lp = model.log_prob(&d).map_err(|e| CliError::Fit(e.into()))?;
                if -lp[0] > cut {
                    x[(i, 0)] = p[0];
                    x[(i, 1)] = p[1];
                    break;
                }
            }
        } else {
            x[(i, 0)] = normal[(next, 0)];
            x[(i, 1)] = normal[(next, 1)];
            next += 1;
        }
    }
    Ok((x, labels))
}

fn write_csv(path: &Path, x: &Mat<f64>, labels: &[u8]) -> Result<(), CliError> {
    let mut s = String::from("x,y,label\n");
    for (i, l) in labels.iter().enumerate() {
        let _ = writeln!(s, "{},{},{l}", x[(i, 0)], x[(i, 1)]);
    }
    mixtures_core::io::write_bytes_atomic(path, s.as_bytes()).map_err(|e| CliError::output(path, e))
}

fn table(x: &Mat<f64>, labels: Vec<u8>) -> Result<Table<f64>, CliError> {
    Ok(Table {
        features: vec!["x".to_owned(), "y".to_owned()],
        data: Dataset::from_mat(x.as_ref()).map_err(|e| CliError::Fit(e.into()))?,
        labels: Some(labels),
        left_out: None,
    })
}

/// Fewest training rows the demo's fits and plots make sense with.
const MIN_SAMPLES: usize = 100;
/// Most training rows: the demo's data, fits and plots stay within a few
/// hundred megabytes and a minute.
const MAX_SAMPLES: usize = 10_000_000;

/// Runs `demo`.
///
/// # Errors
/// A directory or file that cannot be written (exit 1); `--samples` out of range
/// (exit 2).
pub fn run(c: &DemoCmd, ui: &mut Ui) -> Result<(), CliError> {
    if !(MIN_SAMPLES..=MAX_SAMPLES).contains(&c.samples) {
        return Err(CliError::Usage(format!(
            "--samples must be from {MIN_SAMPLES} to {MAX_SAMPLES} (the demo holds its data, \
             plots and fits in memory), not {}",
            c.samples
        )));
    }
    let dir = &c.output;
    plot::ensure_dir(dir)?;
    let mut out = String::new();
    let mut files = Vec::new();

    // 1. Data.
    let truth = truth()?;
    let mut rng = StdRng::seed_from_u64(c.seed);
    let (reference, _) = truth.sample(4000, &mut rng);
    let reference = Dataset::from_mat(reference.as_ref()).map_err(|e| CliError::Fit(e.into()))?;
    let mut normal_scores: Vec<f64> = truth
        .log_prob(&reference)
        .map_err(|e| CliError::Fit(e.into()))?
        .iter()
        .map(|l| -l)
        .collect();
    normal_scores.sort_by(f64::total_cmp);
    let cut = normal_scores[(normal_scores.len() as f64 * 0.995) as usize];
    let (train_x, train_labels) = make_set(&truth, c.samples, 0.0, cut, &mut rng)?;
    let (test_x, test_labels) = make_set(&truth, c.samples / 2, TEST_CONTAMINATION, cut, &mut rng)?;
    for (name, x, l) in [
        ("train.csv", &train_x, &train_labels),
        ("test.csv", &test_x, &test_labels),
    ] {
        let p = dir.join(name);
        write_csv(&p, x, l)?;
        files.push(p);
    }
    let train = table(&train_x, train_labels)?;
    let test = table(&test_x, test_labels)?;
    let count = |l: &[u8]| l.iter().filter(|&&v| v == 1).count();
    let _ = writeln!(
        out,
        "1. data: three elliptical clusters in 2 features (x, y)\n   \
         train.csv: {} rows of normal behaviour\n   \
         test.csv:  {} rows, {} of them anomalies scattered around the clusters (label 1)",
        train.data.n_samples(),
        test.data.n_samples(),
        count(test.labels.as_deref().unwrap_or(&[]))
    );

    // 2. Model selection on the (unlabelled) training data.
    // The grid is the detector's model step (3.): the model it chooses is
    // the detector's model, and the table comes back in the fit's report.
    let grid = Grid::<f64>::new(1..=6)
        .structures(ModelSpec::SKLEARN)
        .criterion(Criterion::Bic)
        .n_init(2)
        .max_iter(200)
        .tol(1e-4)
        .seed(c.seed);
    let params = DetectorParams::new(grid).threshold(Contamination(FALSE_ALARM_RATE));
    // Nearly all of the time is the grid's; the threshold is one quantile.
    let fit = ui.time("select", || params.fit(&train.data))?;
    let report = fit.report;
    let Some(choice) = &report.choice else {
        return Err(CliError::Usage("the grid reported no choice".to_owned()));
    };
    let sel = &choice.selection;
    let _ = writeln!(
        out,
        "2. model selection over k = 1..6 x (full, tied, diag, spherical):\n   {}",
        describe_choice(sel)
    );
    let lines = CriterionLine::per_spec(sel, &ModelSpec::SKLEARN, Criterion::Bic);
    let best = sel.best_cell();
    files.extend(plot::criterion(
        dir,
        "bic",
        &lines,
        (
            best.k as f64,
            best.criterion(Criterion::Bic).unwrap_or(f64::NAN),
        ),
    )?);

    // 3. Detector: the chosen model, and the threshold that 1 % of the
    // training rows reach.
    let (model, threshold, reference) = fit.detector.into_parts();
    let model = model
        .with_feature_names(train.features.clone())
        .map_err(|e| CliError::Fit(e.into()))?;
    let mut detector = mixtures_anomaly::Detector::from_parts(model, threshold);
    if let Some(r) = reference {
        detector = detector.with_reference(r);
    }
    let detector_path = dir.join("detector.json");
    crate::model_io::save(ui, &detector, &detector_path)?;
    files.push(detector_path.clone());
    let _ = writeln!(
        out,
        "3. detector: {}; model fit {}\n   threshold {:.4} ({}: {} % of the training rows score above it)",
        describe_model(detector.model(), Some(&report.fit)),
        sel.report,
        detector.threshold().value(),
        describe_threshold(detector.threshold()),
        FALSE_ALARM_RATE * 100.0
    );
    // The chosen fit's iterations (the detector's warm start adds a few).
    files.extend(plot::lower_bound(dir, &sel.report.lower_bound_trace)?);

    // 4. Score the test set and judge against its labels.
    let scores = ui.time("score", || detector.score(&test.data))?;
    let flags = detector.threshold().predict(&scores);
    let labels = test.labels.as_deref().unwrap_or(&[]);
    let eval = mixtures_anomaly::evaluate(&scores, labels, detector.threshold().value())?;
    let (etext, evalue) = describe_evaluation(
        &eval,
        detector.threshold().value(),
        &describe_threshold(detector.threshold()),
    );
    let _ = writeln!(out, "4. test set scored and judged against its labels:");
    for line in etext.lines() {
        let _ = writeln!(out, "   {line}");
    }
    files.extend(plot_scores(
        dir,
        &scores,
        Some(labels),
        Some(detector.threshold().value()),
    )?);
    files.extend(plot_scatter(
        dir,
        detector.model(),
        &test,
        scatter_axes(&test, None)?,
        Some(&flags),
    )?);
    // 5. The default detector on the same data, for comparison.
    let auto = auto_fitter::<f64>(
        &FitArgs {
            components: None,
            covariance: None,
            family: None,
            seed: c.seed,
            n_init: None,
            max_iter: None,
            tol: None,
            reg_covar: None,
            robust: Default::default(),
            init: None,
            max_components: None,
            search_rows: None,
            precision: Precision::F64,
        },
        None,
    )?;
    let auto_params = DetectorParams::new(auto).threshold(Contamination(FALSE_ALARM_RATE));
    let auto_fit = ui.time("fit (default detector)", || auto_params.fit(&train.data))?;
    let auto_scores = ui.time("score (default detector)", || {
        auto_fit.detector.score(&test.data)
    })?;
    let auto_eval =
        mixtures_anomaly::evaluate(&auto_scores, labels, auto_fit.detector.threshold().value())?;
    let auto_choice = auto_fit
        .report
        .choice
        .as_ref()
        .map_or_else(String::new, |s| {
            format!(
                "k = {} {} by BIC, {} kept",
                s.selection.best_cell().k,
                s.selection.best_cell().structure,
                auto_fit.detector.model().n_components()
            )
        });
    let _ = writeln!(
        out,
        "5. the default detector (Detector::auto, what `mixtures detect` fits without \
         --components: {auto_choice}) on the same test set:\n   \
         precision {:.4}  recall {:.4}  F1 {:.4}  ROC AUC {:.4}\n   \
         (its shared covariance keeps a group of anomalies in the training data from \
         earning a component; these training data are clean and the clusters differ in \
         shape, so the full covariances chosen in step 2 fit them better)",
        auto_eval.confusion.precision(),
        auto_eval.confusion.recall(),
        auto_eval.confusion.f1(),
        auto_eval.roc_auc
    );

    let train_csv = dir.join("train.csv");
    let test_csv = dir.join("test.csv");
    let _ = writeln!(
        out,
        "6. written to {}: the data (train.csv, test.csv), detector.json, and plots \
         (scatter, scores, roc, precision_recall, selection, lower_bound; each .svg and .png)\n   \
         the same steps from the files (the label column is never a feature):\n   \
         mixtures select {train} --label-column label --components 1..6\n   \
         mixtures detect {train} -o {detector} --label-column label --components {k} \
         --covariance {cov}\n   \
         mixtures evaluate {detector} {test} --label-column label\n   \
         mixtures detect {train} -o {auto} --label-column label   (the default detector)",
        dir.display(),
        train = train_csv.display(),
        test = test_csv.display(),
        detector = detector_path.display(),
        auto = dir.join("auto.json").display(),
        k = best.k,
        cov = best.structure,
    );
    let value = json!({
        "command": "demo",
        "directory": dir.display().to_string(),
        "train_rows": train.data.n_samples(),
        "test_rows": test.data.n_samples(),
        "components": detector.model().n_components(),
        "structure": report.fit.structure,
        "evaluation": evalue,
        "default_detector": {
            "components": auto_fit.detector.model().n_components(),
            "precision": auto_eval.confusion.precision(),
            "recall": auto_eval.confusion.recall(),
            "f1": auto_eval.confusion.f1(),
            "roc_auc": auto_eval.roc_auc,
        },
        "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
    });
    ui.result(&out, &value)?;
    note_written(ui, &files);
    ui.print_timings();
    Ok(())
}
