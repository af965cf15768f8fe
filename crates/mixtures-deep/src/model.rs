//! A trained DAGMM: scaling, networks and the latent mixture estimated on
//! all training rows, exported as this project's [`AnyMixture`].

use burn::tensor::{Device, Tensor, TensorData};
use faer::Mat;
use mixtures_core::{DataError, Dataset, Scalar};
use mixtures_dist::{
    AnyMixture, Covariances, DensityModel, Gaussian, Laplace, LaplaceScales, Mixture,
};

use crate::DeepError;
use crate::config::{DagmmConfig, Inference, LatentFamily};
use crate::error::read;
use crate::nets::{Networks, latent_features};
use crate::scaling::Scaler;
use crate::train::{EpochReport, Rows, train};

/// Rows per forward pass when scoring.
const SCORE_CHUNK: usize = 8192;

/// What is called after every epoch.
type Progress<'a> = Box<dyn FnMut(&EpochReport) + 'a>;

/// Trains a [`Dagmm`]: the configuration, the device, optional labelled
/// anomalies and a progress callback.
pub struct DagmmTrainer<'a> {
    config: DagmmConfig,
    device: Device,
    progress: Option<Progress<'a>>,
}

impl<'a> DagmmTrainer<'a> {
    /// A trainer on the CPU (burn's flex backend, all cores).
    pub fn new(config: DagmmConfig) -> Self {
        DagmmTrainer {
            config,
            device: crate::cpu(),
            progress: None,
        }
    }

    /// Trains on `device` instead (a GPU with the `cuda` or `wgpu` feature).
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// Calls `f` after every epoch with its loss terms.
    pub fn on_epoch(mut self, f: impl FnMut(&EpochReport) + 'a) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Trains on `data` (normal rows).
    ///
    /// # Errors
    /// [`DeepError::InvalidConfig`] before anything is allocated,
    /// [`DeepError::Data`] for fewer than two rows, [`DeepError::Diverged`]
    /// when a loss term stops being finite, [`DeepError::Model`] when the
    /// latent mixture cannot be built.
    pub fn fit<T: Scalar>(self, data: &Dataset<T>) -> Result<Dagmm, DeepError> {
        self.fit_with_anomalies(data, None)
    }

    /// Trains on `data` with labelled anomalies whose energy the loss pushes
    /// up (`anomaly_weight · mean 1/softplus(E)`); they take no part in the
    /// reconstruction, the mixture's statistics or the scaling.
    ///
    /// # Errors
    /// As [`DagmmTrainer::fit`]; anomalies of another width are
    /// [`DeepError::Data`].
    pub fn fit_with_anomalies<T: Scalar>(
        mut self,
        data: &Dataset<T>,
        anomalies: Option<&Dataset<T>>,
    ) -> Result<Dagmm, DeepError> {
        let cfg = self.config.clone();
        cfg.validate()?;
        let (n, d) = (data.n_samples(), data.n_features());
        if n < 2 {
            return Err(DataError::Empty { rows: n, cols: d }.into());
        }
        let scaler = Scaler::fit(cfg.scaling, data);
        let x = scaler.apply(data)?;
        let xa = anomalies.map(|a| scaler.apply(a)).transpose()?;
        let rows = Rows {
            values: &x,
            cols: d,
        };
        let arows = xa.as_ref().map(|v| Rows { values: v, cols: d });
        let mut none = |_: &EpochReport| {};
        let progress: &mut dyn FnMut(&EpochReport) = match self.progress.as_mut() {
            Some(p) => p.as_mut(),
            None => &mut none,
        };
        let (nets, history) = train(&cfg, &rows, arows.as_ref(), &self.device, progress)?;
        let mut model = Dagmm {
            config: cfg,
            scaler,
            nets,
            device: self.device,
            mixture: placeholder_mixture()?,
            energy_scale: (0.0, 1.0),
            reconstruction_scale: (0.0, 1.0),
            history,
            feature_names: None,
        };
        let pass = model.forward(&x)?;
        model.mixture = latent_mixture(&pass, &model.config)?;
        let energy = model.energy_of(&pass)?;
        model.energy_scale = mixtures_anomaly::score_scale(&energy)?;
        model.reconstruction_scale = mixtures_anomaly::score_scale(&pass.reconstruction)?;
        Ok(model)
    }
}

/// A stand-in until the real mixture is estimated (never seen outside).
fn placeholder_mixture() -> Result<AnyMixture<f64>, DeepError> {
    let g = Gaussian::new(Mat::zeros(1, 1), Covariances::Spherical(vec![1.0]))?;
    Ok(AnyMixture::Gaussian(Mixture::new(vec![1.0], g)?))
}

/// The networks' outputs for a set of rows.
pub(crate) struct Pass {
    /// Latent features, row-major `n x D`.
    pub(crate) features: Vec<f64>,
    /// Memberships, row-major `n x K`.
    pub(crate) gamma: Vec<f64>,
    /// Squared reconstruction error per row.
    pub(crate) reconstruction: Vec<f64>,
    pub(crate) dim: usize,
}

/// A trained DAGMM (or variant).
#[derive(Debug, Clone)]
pub struct Dagmm {
    pub(crate) config: DagmmConfig,
    pub(crate) scaler: Scaler,
    pub(crate) nets: Networks,
    pub(crate) device: Device,
    pub(crate) mixture: AnyMixture<f64>,
    pub(crate) energy_scale: (f64, f64),
    pub(crate) reconstruction_scale: (f64, f64),
    pub(crate) history: Vec<EpochReport>,
    pub(crate) feature_names: Option<Vec<String>>,
}

/// Latent features and reconstruction errors of a set of rows.
#[derive(Debug, Clone)]
pub struct Latent {
    /// `[z_c, relative distance, cosine similarity]` of every row.
    pub features: Dataset<f64>,
    /// `‖x − x'‖²` of every (scaled) row.
    pub reconstruction_error: Vec<f64>,
}

/// Everything a scorer reports of a set of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The sample energy `−ln p(z)` under the latent mixture.
    pub energy: Vec<f64>,
    /// `‖x − x'‖²` of the scaled row.
    pub reconstruction_error: Vec<f64>,
    /// The model's anomaly score (see [`Inference`]).
    pub score: Vec<f64>,
    /// The latent mixture's most likely component.
    pub component: Vec<usize>,
}

/// The mixture estimated from all rows' memberships: `φₖ = mean γ`, `μₖ`
/// and `Σₖ` (or the Laplace scales) as `γ`-weighted moments in double
/// precision, plus the jitter. Components without mass are left out.
pub(crate) fn latent_mixture(pass: &Pass, cfg: &DagmmConfig) -> Result<AnyMixture<f64>, DeepError> {
    let d = pass.dim;
    let k = cfg.components;
    let n = pass.reconstruction.len();
    let mut mass = vec![0.0; k];
    let mut sum = vec![0.0; k * d];
    for i in 0..n {
        let z = &pass.features[i * d..(i + 1) * d];
        for c in 0..k {
            let g = pass.gamma[i * k + c];
            mass[c] += g;
            for j in 0..d {
                sum[c * d + j] += g * z[j];
            }
        }
    }
    let kept: Vec<usize> = (0..k).filter(|&c| mass[c] > 0.0).collect();
    if kept.is_empty() {
        return Err(DeepError::Incompatible(
            "no component has any membership".into(),
        ));
    }
    let mean = Mat::from_fn(kept.len(), d, |r, j| sum[kept[r] * d + j] / mass[kept[r]]);
    let weights: Vec<f64> = kept.iter().map(|&c| mass[c] / n as f64).collect();
    let total: f64 = weights.iter().sum();
    let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let jitter = cfg.jitter;
    match cfg.family {
        LatentFamily::Gaussian => {
            let mut cov: Vec<Mat<f64>> = vec![Mat::zeros(d, d); kept.len()];
            for i in 0..n {
                let z = &pass.features[i * d..(i + 1) * d];
                for (r, &c) in kept.iter().enumerate() {
                    let g = pass.gamma[i * k + c];
                    for a in 0..d {
                        let ca = z[a] - mean[(r, a)];
                        for b in 0..=a {
                            cov[r][(a, b)] += g * ca * (z[b] - mean[(r, b)]);
                        }
                    }
                }
            }
            for (r, &c) in kept.iter().enumerate() {
                for a in 0..d {
                    for b in 0..=a {
                        let v = cov[r][(a, b)] / mass[c] + if a == b { jitter } else { 0.0 };
                        cov[r][(a, b)] = v;
                        cov[r][(b, a)] = v;
                    }
                }
            }
            let g = Gaussian::new(mean, Covariances::Full(cov))?;
            Ok(AnyMixture::Gaussian(Mixture::new(weights, g)?))
        }
        LatentFamily::Laplace => {
            let mut scale = Mat::<f64>::zeros(kept.len(), d);
            for i in 0..n {
                let z = &pass.features[i * d..(i + 1) * d];
                for (r, &c) in kept.iter().enumerate() {
                    let g = pass.gamma[i * k + c];
                    for j in 0..d {
                        scale[(r, j)] += g * (z[j] - mean[(r, j)]).abs();
                    }
                }
            }
            for (r, &c) in kept.iter().enumerate() {
                for j in 0..d {
                    scale[(r, j)] = scale[(r, j)] / mass[c] + jitter;
                }
            }
            let l = Laplace::new(mean, LaplaceScales::PerDimension(scale))?;
            Ok(AnyMixture::Laplace(Mixture::new(weights, l)?))
        }
    }
}

impl Dagmm {
    /// Runs both networks over scaled rows in chunks.
    pub(crate) fn forward(&self, x: &[f32]) -> Result<Pass, DeepError> {
        let d_in = self.scaler.dim();
        let n = x.len() / d_in.max(1);
        let dim = self.config.feature_dim();
        let k = self.config.components;
        let mut pass = Pass {
            features: Vec::with_capacity(n * dim),
            gamma: Vec::with_capacity(n * k),
            reconstruction: Vec::with_capacity(n),
            dim,
        };
        for start in (0..n).step_by(SCORE_CHUNK) {
            let m = SCORE_CHUNK.min(n - start);
            let xs = x[start * d_in..(start + m) * d_in].to_vec();
            let xt = Tensor::<2>::from_data(TensorData::new(xs, [m, d_in]), &self.device);
            let comp = self
                .nets
                .compressor
                .forward(xt.clone(), &self.config.compression, None)?;
            let (z, rec) = latent_features(xt, &comp);
            let gamma = self.nets.estimator.forward(z.clone(), None)?;
            pass.features.extend(read(z)?.into_iter().map(f64::from));
            pass.gamma.extend(read(gamma)?.into_iter().map(f64::from));
            pass.reconstruction
                .extend(read(rec)?.into_iter().map(f64::from));
        }
        Ok(pass)
    }

    fn energy_of(&self, pass: &Pass) -> Result<Vec<f64>, DeepError> {
        let n = pass.reconstruction.len();
        let z = Dataset::from_row_major(&pass.features, n, pass.dim)?;
        Ok(self.mixture.log_prob(&z)?.into_iter().map(|v| -v).collect())
    }

    fn score_of(&self, pass: &Pass) -> Result<Vec<f64>, DeepError> {
        let e = self.energy_of(pass)?;
        Ok(self.combine(&e, &pass.reconstruction))
    }

    /// The score from energies and reconstruction errors.
    fn combine(&self, energy: &[f64], reconstruction: &[f64]) -> Vec<f64> {
        match self.config.inference {
            Inference::Energy => energy.to_vec(),
            Inference::EnergyAndReconstruction => {
                let (me, se) = self.energy_scale;
                let (mr, sr) = self.reconstruction_scale;
                energy
                    .iter()
                    .zip(reconstruction)
                    .map(|(e, r)| (e - me) / se + (r - mr) / sr)
                    .collect()
            }
        }
    }

    /// The same model scoring by `inference` (both scores' training
    /// centres and spreads are kept, so no retraining is needed).
    pub fn with_inference(mut self, inference: Inference) -> Self {
        self.config.inference = inference;
        self
    }

    /// Names the input columns (kept in the model file, so a command-line
    /// scorer can pick them from a CSV header by name).
    ///
    /// # Errors
    /// [`DeepError::Incompatible`] for a count other than the model's
    /// inputs.
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self, DeepError> {
        if names.len() != self.n_features() {
            return Err(DeepError::Incompatible(format!(
                "{} feature names for {} inputs",
                names.len(),
                self.n_features()
            )));
        }
        self.feature_names = Some(names);
        Ok(self)
    }

    /// The input columns' names, when given.
    pub fn feature_names(&self) -> Option<&[String]> {
        self.feature_names.as_deref()
    }

    /// The configuration it was trained with.
    pub fn config(&self) -> &DagmmConfig {
        &self.config
    }

    /// The input scaling fitted on the training rows.
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }

    /// The mixture on the latent features, estimated on all training rows:
    /// score, threshold, explain or save it as any other model of this
    /// project, on [`Dagmm::latent`]'s features.
    pub fn mixture(&self) -> &AnyMixture<f64> {
        &self.mixture
    }

    /// The loss terms of every epoch.
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }

    /// Number of input columns.
    pub fn n_features(&self) -> usize {
        self.scaler.dim()
    }

    /// Latent features and reconstruction errors of `data`'s rows.
    ///
    /// # Errors
    /// [`DeepError::Data`] for another width, [`DeepError::OutOfRange`].
    pub fn latent<T: Scalar>(&self, data: &Dataset<T>) -> Result<Latent, DeepError> {
        let pass = self.forward(&self.scaler.apply(data)?)?;
        let n = pass.reconstruction.len();
        Ok(Latent {
            features: Dataset::from_row_major(&pass.features, n, pass.dim)?,
            reconstruction_error: pass.reconstruction,
        })
    }

    /// The sample energy `−ln p(z)` of every row under the latent mixture.
    ///
    /// # Errors
    /// As [`Dagmm::latent`].
    pub fn energy<T: Scalar>(&self, data: &Dataset<T>) -> Result<Vec<f64>, DeepError> {
        self.energy_of(&self.forward(&self.scaler.apply(data)?)?)
    }

    /// Energy, reconstruction error, score and most likely component of
    /// every row, from one pass through the networks.
    ///
    /// # Errors
    /// As [`Dagmm::latent`].
    pub fn score_details<T: Scalar>(&self, data: &Dataset<T>) -> Result<Scored, DeepError> {
        let pass = self.forward(&self.scaler.apply(data)?)?;
        let n = pass.reconstruction.len();
        let z = Dataset::from_row_major(&pass.features, n, pass.dim)?;
        let (ll, component) = self.mixture.log_prob_and_predict(&z)?;
        let energy: Vec<f64> = ll.into_iter().map(|v| -v).collect();
        let score = self.combine(&energy, &pass.reconstruction);
        Ok(Scored {
            energy,
            reconstruction_error: pass.reconstruction,
            score,
            component,
        })
    }

    /// The anomaly score of every row (higher is more anomalous): the energy,
    /// or energy and reconstruction error combined (see [`Inference`]).
    ///
    /// # Errors
    /// As [`Dagmm::latent`].
    pub fn score<T: Scalar>(&self, data: &Dataset<T>) -> Result<Vec<f64>, DeepError> {
        self.score_of(&self.forward(&self.scaler.apply(data)?)?)
    }
}

fn data_error(e: DeepError) -> DataError {
    match e {
        DeepError::Data(d) => d,
        DeepError::OutOfRange { row, column, value } => DataError::NonFinite {
            row,
            col: column,
            value,
        },
        // The networks and mixture are fixed once trained: what is left is a
        // failure of the backend, not of the data.
        other => DataError::Evaluation {
            message: other.to_string(),
        },
    }
}

/// A DAGMM is a density model of its inputs: `ln p` is minus its score, so
/// the detectors, thresholds and metrics of `mixtures-anomaly` apply.
impl<T: Scalar> DensityModel<T> for Dagmm {
    fn dim(&self) -> usize {
        self.n_features()
    }

    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, DataError> {
        let s = self.score(data).map_err(data_error)?;
        Ok(s.into_iter().map(|v| T::c(-v)).collect())
    }

    fn most_likely_component(&self, data: &Dataset<T>) -> Result<Vec<usize>, DataError> {
        let l = self.latent(data).map_err(data_error)?;
        self.mixture.predict(&l.features)
    }
}
