//! Training, scoring, saving and refusing: DAGMM and every variant on small
//! data (the full experiments are the examples).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mixtures_anomaly::{Contamination, Detector, ScoreSet, Threshold, roc_auc};
use mixtures_core::Dataset;
use mixtures_deep::{
    Compression, DagmmConfig, DagmmTrainer, DeepError, Inference, LatentFamily, LossTerm,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Normal rows on a 2-D plane in 8-D (plus a little noise), anomalies
/// anywhere in the box: labels 0 and 1. The plane is the same for every
/// call (training and test rows come from one distribution); `seed` draws
/// the rows.
fn plane(n_normal: usize, n_anomalies: usize, seed: u64) -> (Dataset<f64>, Vec<u8>) {
    let mut basis_rng = StdRng::seed_from_u64(0);
    let basis: Vec<[f64; 2]> = (0..8)
        .map(|_| {
            [
                basis_rng.random_range(-1.0..1.0),
                basis_rng.random_range(-1.0..1.0),
            ]
        })
        .collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n_normal + n_anomalies {
        if i < n_normal {
            let s = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
            rows.push(
                basis
                    .iter()
                    .map(|b| b[0] * s[0] + b[1] * s[1] + 0.01 * rng.random_range(-1.0..1.0))
                    .collect::<Vec<f64>>(),
            );
            labels.push(0);
        } else {
            rows.push((0..8).map(|_| rng.random_range(-2.0..2.0)).collect());
            labels.push(1);
        }
    }
    (Dataset::try_from(rows).unwrap(), labels)
}

/// A configuration small enough for a debug build.
fn small() -> DagmmConfig {
    DagmmConfig {
        hidden: vec![16, 8],
        latent_dim: 2,
        components: 2,
        epochs: 40,
        batch_size: 128,
        learning_rate: 1e-2,
        seed: 7,
        ..DagmmConfig::default()
    }
}

/// CI's stated check: trained on the normal rows only, the energy ranks the
/// off-plane rows above the held-out normal ones with ROC AUC above 0.9.
#[test]
fn separates_off_plane_rows() {
    let (train, _) = plane(1000, 0, 1);
    let (test, labels) = plane(300, 60, 2);
    for decoupled in [true, false] {
        let cfg = DagmmConfig {
            decoupled,
            ..small()
        };
        let model = DagmmTrainer::new(cfg).fit(&train).unwrap();
        let auc = roc_auc(&model.score(&test).unwrap(), &labels).unwrap();
        assert!(auc > 0.9, "decoupled {decoupled}: ROC AUC {auc}");
        let h = model.history();
        let (first, last) = (&h[0], &h[h.len() - 1]);
        if decoupled {
            // The compression network minimizes the reconstruction alone;
            // the whole loss is two networks' objectives added, and its
            // penalty grows as the reconstruction features tighten.
            assert!(last.reconstruction < 0.1 * first.reconstruction, "{h:?}");
        } else {
            assert!(last.loss < first.loss, "{h:?}");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_model() {
    let (train, _) = plane(300, 0, 3);
    let cfg = DagmmConfig {
        epochs: 3,
        ..small()
    };
    let a = DagmmTrainer::new(cfg.clone()).fit(&train).unwrap();
    let b = DagmmTrainer::new(cfg.clone()).fit(&train).unwrap();
    assert_eq!(a.score(&train).unwrap(), b.score(&train).unwrap());
    // Everything but the epochs' wall-clock seconds.
    let strip = |m: &mixtures_deep::Dagmm| {
        let mut v: serde_json::Value = serde_json::from_str(&m.to_json().unwrap()).unwrap();
        for e in v["history"].as_array_mut().unwrap() {
            e["seconds"] = 0.into();
        }
        v
    };
    assert_eq!(strip(&a), strip(&b));
    let c = DagmmTrainer::new(DagmmConfig { seed: 8, ..cfg })
        .fit(&train)
        .unwrap();
    assert_ne!(a.score(&train).unwrap(), c.score(&train).unwrap());
}

/// Every variant trains, scores finite values and survives a file round
/// trip bit for bit.
#[test]
fn every_variant_trains_and_round_trips() {
    let (train, _) = plane(300, 0, 4);
    let (test, labels) = plane(100, 20, 5);
    let dir = std::env::temp_dir().join(format!("mixtures-deep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let variants = [
        DagmmConfig {
            compression: Compression::variational(),
            ..small()
        },
        DagmmConfig {
            compression: Compression::vector_quantized(),
            ..small()
        },
        DagmmConfig {
            family: LatentFamily::Laplace,
            ..small()
        },
        DagmmConfig {
            inference: Inference::EnergyAndReconstruction,
            ..small()
        },
        DagmmConfig {
            dropout: 0.0,
            hidden: vec![],
            ..small()
        },
        DagmmConfig {
            decoupled: false,
            compression: Compression::variational(),
            ..small()
        },
    ];
    for (i, cfg) in variants.into_iter().enumerate() {
        let cfg = DagmmConfig { epochs: 4, ..cfg };
        let model = DagmmTrainer::new(cfg.clone()).fit(&train).unwrap();
        let s = model.score(&test).unwrap();
        assert!(s.iter().all(|v| v.is_finite()), "{cfg:?}");
        assert!(roc_auc(&s, &labels).unwrap() > 0.5, "{cfg:?}");
        let path = dir.join(format!("m{i}.json"));
        model.save(&path).unwrap();
        let back = mixtures_deep::Dagmm::load(&path, &mixtures_deep::cpu()).unwrap();
        assert_eq!(back.score(&test).unwrap(), s, "{cfg:?}");
        assert_eq!(back.config(), &cfg);
        assert_eq!(back.history(), model.history());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn labelled_anomalies_raise_their_energy() {
    let (train, _) = plane(400, 0, 6);
    let (anomalies, _) = plane(0, 40, 7);
    let cfg = DagmmConfig {
        epochs: 10,
        anomaly_weight: 5.0,
        ..small()
    };
    let with = DagmmTrainer::new(cfg.clone())
        .fit_with_anomalies(&train, Some(&anomalies))
        .unwrap();
    assert!(with.history().iter().all(|r| r.anomaly > 0.0));
    let without = DagmmTrainer::new(cfg).fit(&train).unwrap();
    assert!(without.history().iter().all(|r| r.anomaly == 0.0));
}

#[test]
fn a_detector_thresholds_its_scores() {
    let (train, _) = plane(400, 0, 8);
    let (test, labels) = plane(200, 40, 9);
    let model = DagmmTrainer::new(DagmmConfig {
        epochs: 10,
        ..small()
    })
    .fit(&train)
    .unwrap();
    let scores = model.score(&train).unwrap();
    let threshold = Threshold::fit(&Contamination(0.05), &ScoreSet::new(&scores).unwrap()).unwrap();
    let det = Detector::from_parts(model, threshold);
    let flags = det.predict(&test).unwrap();
    assert_eq!(flags.len(), labels.len());
    let flagged_anomalies = flags
        .iter()
        .zip(&labels)
        .filter(|(f, l)| **f == 1 && **l == 1)
        .count();
    assert!(flagged_anomalies > 20, "{flagged_anomalies} of 40");
}

#[test]
fn bad_settings_are_refused_before_training() {
    let (train, _) = plane(50, 0, 10);
    let cases = [
        DagmmConfig {
            latent_dim: 0,
            ..small()
        },
        DagmmConfig {
            components: 0,
            ..small()
        },
        DagmmConfig {
            hidden: vec![0],
            ..small()
        },
        DagmmConfig {
            batch_size: 1,
            ..small()
        },
        DagmmConfig {
            epochs: 0,
            ..small()
        },
        DagmmConfig {
            learning_rate: f64::NAN,
            ..small()
        },
        DagmmConfig {
            dropout: 1.0,
            ..small()
        },
        DagmmConfig {
            jitter: 0.0,
            ..small()
        },
        DagmmConfig {
            lambda_cov: -1.0,
            ..small()
        },
        DagmmConfig {
            components: usize::MAX,
            ..small()
        },
        DagmmConfig {
            compression: Compression::VectorQuantized {
                codebook_size: 0,
                commitment: 0.25,
            },
            ..small()
        },
    ];
    for cfg in cases {
        match DagmmTrainer::new(cfg.clone()).fit(&train) {
            Err(DeepError::InvalidConfig { .. }) => {}
            other => panic!("{cfg:?}: {other:?}"),
        }
    }
    let one = Dataset::try_from(vec![vec![1.0, 2.0]]).unwrap();
    assert!(matches!(
        DagmmTrainer::new(small()).fit(&one),
        Err(DeepError::Data(_))
    ));
}

/// A learning rate far too large: training stops with the term that went
/// non-finite and where, instead of returning NaN scores.
#[test]
fn divergence_names_the_term() {
    let (train, _) = plane(300, 0, 11);
    let cfg = DagmmConfig {
        learning_rate: 1e30,
        epochs: 5,
        ..small()
    };
    match DagmmTrainer::new(cfg).fit(&train) {
        Err(DeepError::Diverged {
            term,
            epoch,
            batch,
            value,
        }) => {
            assert!(!value.is_finite());
            assert!(epoch >= 1 && batch >= 1);
            let msg = DeepError::Diverged {
                term,
                epoch,
                batch,
                value,
            }
            .to_string();
            assert!(msg.contains(&term.to_string()), "{msg}");
            let _ = LossTerm::Energy;
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn scoring_refuses_other_widths_and_unscalable_values() {
    let (train, _) = plane(200, 0, 12);
    let model = DagmmTrainer::new(DagmmConfig {
        epochs: 1,
        ..small()
    })
    .fit(&train)
    .unwrap();
    let narrow = Dataset::try_from(vec![vec![0.0; 3]]).unwrap();
    assert!(matches!(model.score(&narrow), Err(DeepError::Data(_))));
    let huge = Dataset::try_from(vec![vec![1e300; 8]]).unwrap();
    assert!(matches!(
        model.score(&huge),
        Err(DeepError::OutOfRange {
            row: 0,
            column: 0,
            ..
        })
    ));
}

#[test]
fn files_that_do_not_fit_are_refused() {
    let (train, _) = plane(200, 0, 13);
    let model = DagmmTrainer::new(DagmmConfig {
        epochs: 1,
        ..small()
    })
    .fit(&train)
    .unwrap();
    let text = model.to_json().unwrap();
    let dev = mixtures_deep::cpu();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["config"]["latent_dim"] = 3.into();
    match mixtures_deep::Dagmm::from_json(&v.to_string(), &dev) {
        Err(DeepError::Incompatible(m)) => assert!(m.contains("code"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["config"]["compression"] = serde_json::json!({"kind": "variational", "kl_weight": 1.0});
    assert!(matches!(
        mixtures_deep::Dagmm::from_json(&v.to_string(), &dev),
        Err(DeepError::Incompatible(_))
    ));
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["format_version"] = 2.into();
    assert!(matches!(
        mixtures_deep::Dagmm::from_json(&v.to_string(), &dev),
        Err(DeepError::Format { .. })
    ));
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["networks"]["code"]["bias"][0] = serde_json::Value::Null;
    assert!(mixtures_deep::Dagmm::from_json(&v.to_string(), &dev).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["config"]["components"] = 0.into();
    assert!(matches!(
        mixtures_deep::Dagmm::from_json(&v.to_string(), &dev),
        Err(DeepError::InvalidConfig { .. })
    ));
    assert!(matches!(
        mixtures_deep::Dagmm::from_json("{}", &dev),
        Err(DeepError::Format { .. })
    ));
    assert!(matches!(
        mixtures_deep::Dagmm::from_json("[1,", &dev),
        Err(DeepError::Format { .. })
    ));
    // A plain model file is not a DAGMM file.
    let plain = model.mixture().to_json();
    assert!(matches!(
        mixtures_deep::Dagmm::from_json(&plain, &dev),
        Err(DeepError::Format { .. })
    ));
    assert!(matches!(
        mixtures_deep::Dagmm::load("/nonexistent/m.json", &dev),
        Err(DeepError::Io { .. })
    ));
}
