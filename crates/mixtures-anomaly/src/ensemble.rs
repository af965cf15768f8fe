//! The default detector's model: several models fitted to the same rows,
//! each one's scores put on the scale of its own training scores, averaged
//! ([`Ensemble`], fitted by [`EnsembleFitter`], behind
//! [`crate::Detector::auto`]).
//!
//! # The rule
//!
//! 1. **Three models of the training rows**: one Gaussian with a full
//!    covariance (EM, ridge `1e-6` of each feature's squared range); the minimum covariance determinant
//!    ([`mixtures_em::Mcd`], [`DEFAULT_MCD_TRIALS`] random starts of each
//!    kind), a single Gaussian that leaves the outlying half of the rows out
//!    of its estimate; and the mixture [`crate::AutoFitter`] chooses (shared
//!    covariance, `k` by BIC, small components dropped). They fail in
//!    different places: one Gaussian is pulled towards clusters of
//!    anomalies, the MCD is blind to structure beyond an ellipsoid, the
//!    mixture misses anomalies that sit between its components.
//! 2. **One scale**: the score of part `j` is `sⱼ(x) = −ln pⱼ(x)`. Its
//!    training scores give a centre `mⱼ` (the median) and a spread `qⱼ` (the
//!    interquartile range), and the part contributes `(sⱼ(x) − mⱼ) / qⱼ`: how
//!    many training "IQRs" above the typical training row `x` scores. Scores
//!    in nats of models of different shape are not comparable; these are.
//! 3. **The average** of the scaled scores is the ensemble's score. Since each
//!    term is affine in `ln pⱼ`, the score is `−Σⱼ ln pⱼ(x) / (J qⱼ)` plus a
//!    constant: the negative log of a tempered product of the parts'
//!    densities, which is what [`DensityModel::log_prob`] returns for an
//!    ensemble (an unnormalized log density).
//! 4. **A part that cannot be fitted is left out** and the ensemble says so
//!    ([`Ensemble::left_out`]): the MCD needs more rows than features in its
//!    half-sample and unweighted rows.
//! 5. **Large data**: each part is estimated from at most
//!    [`MAX_FIT_ROWS`] rows drawn without replacement by the seed (every row
//!    when there are fewer); the scaling uses every training row. A location
//!    and covariance in up to a few hundred dimensions are estimated from
//!    20 000 rows to within their sampling error, and the mixture grid and
//!    the MCD's search cost grows with the rows.
//!
//! # How it was chosen
//!
//! By leave-one-data-set-out over the 25 ADBench sets and arrhythmia under
//! ADBench's protocol, unsupervised and semi-supervised together:
//! `benches/eval/score_cache.py` caches the scores of each candidate model,
//! `benches/eval/lodo.py --joint` chooses among single models and averages
//! of two or three (on this scale or on the training scores' distribution
//! function) without the held-out set; this average of these three was
//! chosen for every held-out set. docs/benchmarks.md has the tables.

use mixtures_core::seed::derive_seed;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{AnyMixture, DensityModel};
use mixtures_em::{Covariance, GaussianMixture, Mcd};

use crate::auto::Scaling;
use crate::explain::{Attribution, Explain, Explanations};
use crate::{AnomalyError, AutoFitter, McdFitter, ModelFit, ModelFitter};

/// Rows each part of the default ensemble is estimated from, at most.
pub const MAX_FIT_ROWS: usize = 20_000;

/// Random starts of each kind of the default ensemble's MCD (measured no
/// worse than 500 on the shared data sets, at a tenth of the cost).
pub const DEFAULT_MCD_TRIALS: usize = 50;

/// One model of an [`Ensemble`] and the scale of its scores.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsemblePart<T: Scalar> {
    /// What the part is (`"gaussian"`, `"mcd"`, `"mixture"`).
    pub name: String,
    /// The model; its score is `−ln p(x)`.
    pub model: AnyMixture<T>,
    /// The median of the part's training scores.
    pub centre: f64,
    /// The interquartile range of the part's training scores (see
    /// [`score_scale`] for the fallbacks).
    pub spread: f64,
}

/// Several models whose scores, each centred and divided by the spread of
/// its training scores, are averaged (see the [module documentation](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble<T: Scalar> {
    parts: Vec<EnsemblePart<T>>,
    main: usize,
    left_out: Vec<(String, String)>,
}

impl<T: Scalar> Ensemble<T> {
    /// An ensemble of these parts; `main` is the part whose components name a
    /// row's cluster ([`DensityModel::most_likely_component`]) and that
    /// plots and summaries show.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] for no parts, a `main` out of range,
    /// parts of different dimensions, and a centre or spread that is not
    /// finite (or a spread that is not positive).
    pub fn new(parts: Vec<EnsemblePart<T>>, main: usize) -> Result<Self, AnomalyError> {
        let Some(first) = parts.first() else {
            return Err(AnomalyError::invalid(
                "parts",
                0.0,
                "an ensemble needs at least one part",
            ));
        };
        if main >= parts.len() {
            return Err(AnomalyError::invalid(
                "main",
                main as f64,
                "must name one of the parts",
            ));
        }
        let d = first.model.dim();
        for p in &parts {
            if p.model.dim() != d {
                return Err(AnomalyError::invalid(
                    "parts",
                    p.model.dim() as f64,
                    "every part must have the dimension of the first",
                ));
            }
            if !p.centre.is_finite() {
                return Err(AnomalyError::invalid("centre", p.centre, "must be finite"));
            }
            if !(p.spread > 0.0 && p.spread.is_finite()) {
                return Err(AnomalyError::invalid(
                    "spread",
                    p.spread,
                    "must be finite and > 0",
                ));
            }
        }
        Ok(Self {
            parts,
            main,
            left_out: Vec::new(),
        })
    }

    /// The same ensemble, recording parts that were not fitted and why
    /// (informative: they take no part in the score).
    #[must_use]
    pub fn with_left_out(mut self, left_out: Vec<(String, String)>) -> Self {
        self.left_out = left_out;
        self
    }

    /// The parts.
    pub fn parts(&self) -> &[EnsemblePart<T>] {
        &self.parts
    }

    /// The index of the main part.
    pub fn main_index(&self) -> usize {
        self.main
    }

    /// The main part's model (the mixture of the default detector).
    pub fn main(&self) -> &AnyMixture<T> {
        &self.parts[self.main].model
    }

    /// Parts that were not fitted, with the reason.
    pub fn left_out(&self) -> &[(String, String)] {
        &self.left_out
    }

    /// Number of components of the main part.
    pub fn n_components(&self) -> usize {
        self.main().n_components()
    }

    /// The main part's feature names, if it has them.
    pub fn feature_names(&self) -> Option<&[String]> {
        self.main().feature_names()
    }

    /// The ensemble with these feature names on every part.
    ///
    /// # Errors
    /// As [`AnyMixture::with_feature_names`].
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self, AnomalyError> {
        for p in &mut self.parts {
            p.model = p.model.clone().with_feature_names(names.clone())?;
        }
        Ok(self)
    }

    /// The weight of part `j` in the average: `1 / (J qⱼ)`.
    fn weight(&self, j: usize) -> f64 {
        1.0 / (self.parts.len() as f64 * self.parts[j].spread)
    }

    /// Adds part `j`'s term of the score, `(sⱼ − mⱼ) / (J qⱼ)`, to `out`.
    fn add_part(&self, j: usize, out: &mut [f64], scores: impl Iterator<Item = f64>) {
        let (w, centre) = (self.weight(j), self.parts[j].centre);
        for (o, s) in out.iter_mut().zip(scores) {
            *o += w * (s - centre);
        }
    }

    /// The ensemble's score of every row (higher is more anomalous).
    fn combined(&self, data: &Dataset<T>) -> Result<Vec<f64>, mixtures_core::DataError> {
        let mut out = vec![0.0; data.n_samples()];
        for (j, p) in self.parts.iter().enumerate() {
            let l = p.model.log_prob(data)?;
            self.add_part(j, &mut out, l.iter().map(|l| -l.as_f64()));
        }
        Ok(out)
    }
}

impl<T: Scalar> DensityModel<T> for Ensemble<T> {
    fn dim(&self) -> usize {
        self.main().dim()
    }

    /// Minus the ensemble's score: `Σⱼ (ln pⱼ(x) + mⱼ) / (J qⱼ)`, an
    /// unnormalized log density (a tempered product of the parts').
    fn log_prob(&self, data: &Dataset<T>) -> Result<Vec<T>, mixtures_core::DataError> {
        Ok(self.combined(data)?.into_iter().map(|s| T::c(-s)).collect())
    }

    fn most_likely_component(
        &self,
        data: &Dataset<T>,
    ) -> Result<Vec<usize>, mixtures_core::DataError> {
        self.main().predict(data)
    }

    fn anomaly_scores(&self, data: &Dataset<T>) -> Result<Vec<T>, mixtures_core::DataError> {
        Ok(self.combined(data)?.into_iter().map(T::c).collect())
    }
}

/// The parts' contributions, each weighted as in the score: when every part's
/// are exact, the ensemble's are (its score is a weighted sum of theirs plus
/// a constant); the components are the main part's.
impl<T: Scalar> Explain<T> for Ensemble<T> {
    fn explain(&self, data: &Dataset<T>) -> Result<Explanations<T>, AnomalyError> {
        let (n, d) = (data.n_samples(), data.n_features());
        let mut contributions = faer::Mat::<f64>::zeros(n, d);
        let mut exact = true;
        let mut components = Vec::new();
        let mut scores = vec![0.0; n];
        for (j, p) in self.parts.iter().enumerate() {
            let e = p.model.explain(data)?;
            // The part's scores come with its explanation.
            self.add_part(j, &mut scores, e.scores().iter().map(|s| s.as_f64()));
            let w = self.weight(j);
            exact &= e.attribution() == Attribution::Exact;
            let c = e.contributions();
            for i in 0..n {
                for f in 0..d {
                    contributions[(i, f)] += w * c[(i, f)].as_f64();
                }
            }
            if j == self.main {
                components = e.components().to_vec();
            }
        }
        Ok(Explanations::new(
            scores.into_iter().map(T::c).collect(),
            components,
            faer::Mat::from_fn(n, d, |i, f| T::c(contributions[(i, f)])),
            if exact {
                Attribution::Exact
            } else {
                Attribution::Conditional
            },
        ))
    }
}

/// The centre and spread of training scores: the median and the
/// interquartile range (quantiles interpolated linearly between order
/// statistics, as NumPy's default). Infinite scores (a row outside a noise
/// component's box) count as the largest. When the interquartile range is
/// zero (more than half of the scores equal, as on data of many duplicated
/// rows) or infinite, the mean absolute deviation of the finite scores from
/// the median stands in, times [`MEAN_DEVIATION_TO_IQR`] (the two agree on
/// normal scores): a row then scores by how far it lies from the typical row
/// in units of the average deviation, which stays small when few rows
/// deviate. When every finite score is the median, 1.
///
/// # Errors
/// [`AnomalyError::InvalidParameter`] for no scores, a NaN score, or no finite
/// score.
pub fn score_scale(scores: &[f64]) -> Result<(f64, f64), AnomalyError> {
    if scores.is_empty() || scores.iter().any(|s| s.is_nan()) {
        return Err(AnomalyError::invalid(
            "training scores",
            scores.len() as f64,
            "need at least one score and no NaN",
        ));
    }
    let mut s = scores.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (s.len() - 1) as f64;
        let (lo, frac) = (pos.floor() as usize, pos.fract());
        let hi = (lo + 1).min(s.len() - 1);
        if frac == 0.0 {
            s[lo]
        } else {
            s[lo] + frac * (s[hi] - s[lo])
        }
    };
    let centre = q(0.5);
    if !centre.is_finite() {
        return Err(AnomalyError::invalid(
            "training scores",
            centre,
            "the median training score is not finite",
        ));
    }
    let iqr = q(0.75) - q(0.25);
    if iqr > 0.0 && iqr.is_finite() {
        return Ok((centre, iqr));
    }
    let (sum, count) = s
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(sum, count), v| {
            (sum + (v - centre).abs(), count + 1)
        });
    let mean_deviation = sum / count as f64;
    let spread = if mean_deviation > 0.0 && mean_deviation.is_finite() {
        MEAN_DEVIATION_TO_IQR * mean_deviation
    } else {
        1.0
    };
    Ok((centre, spread))
}

/// The interquartile range of a normal distribution over its mean absolute
/// deviation, `2 Φ⁻¹(3/4) / √(2/π)`: puts [`score_scale`]'s fallback on the
/// scale of the interquartile range.
pub const MEAN_DEVIATION_TO_IQR: f64 = 1.690_695_078_790_299;

/// The default detector's model step: a Gaussian, the MCD and the chosen
/// mixture, scaled and averaged (see the [module documentation](self)).
///
/// ```
/// use mixtures_anomaly::{Detector, roc_auc};
/// use mixtures_core::Dataset;
///
/// // Two clusters of normal points and a few anomalies between them.
/// let mut rows = Vec::new();
/// let mut labels = Vec::new();
/// for i in 0..400 {
///     let t = (i as f64 * 0.618).fract() - 0.5;
///     let u = (i as f64 * 0.377).fract() - 0.5;
///     let centre = if i % 2 == 0 { -6.0 } else { 6.0 };
///     rows.push([centre + 2.0 * t, 2.0 * u]);
///     labels.push(0u8);
/// }
/// for i in 0..8 {
///     rows.push([0.1 * i as f64, 6.0]);
///     labels.push(1);
/// }
/// let data = Dataset::from_rows(&rows)?;
/// let fit = Detector::auto().fit(&data)?;
/// let ensemble = fit.detector.model();
/// assert_eq!(ensemble.parts().len(), 3);
/// assert!(roc_auc(&fit.detector.score(&data)?, &labels)? > 0.99);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct EnsembleFitter<T: Scalar> {
    /// The mixture part's fitter; its seed seeds every part.
    pub mixture: AutoFitter<T>,
    /// Random starts of each kind of the MCD part.
    pub mcd_trials: usize,
    /// Rows each part is estimated from, at most.
    pub max_fit_rows: usize,
}

impl<T: Scalar> Default for EnsembleFitter<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar> EnsembleFitter<T> {
    /// The default ensemble: [`AutoFitter::new`], [`DEFAULT_MCD_TRIALS`],
    /// [`MAX_FIT_ROWS`].
    pub fn new() -> Self {
        Self::with_mixture(AutoFitter::new())
    }

    /// The default ensemble around this mixture step (its seed, restarts and
    /// observer; its seed seeds the other parts too).
    pub fn with_mixture(mixture: AutoFitter<T>) -> Self {
        Self {
            mixture,
            mcd_trials: DEFAULT_MCD_TRIALS,
            max_fit_rows: MAX_FIT_ROWS,
        }
    }

    fn seed(&self) -> u64 {
        self.mixture.em_control().seed
    }

    /// At most `max_fit_rows` rows, drawn without replacement by the seed and
    /// kept in their order.
    fn fit_rows(&self, data: &Dataset<T>) -> Result<Option<Dataset<T>>, AnomalyError> {
        let seed = derive_seed(self.seed(), &[0x656e_7365]);
        Ok(data.sample_rows(self.max_fit_rows, seed)?)
    }

    /// Fits the ensemble.
    ///
    /// # Errors
    /// The mixture's and the Gaussian's fit errors; the MCD's are recorded in
    /// [`Ensemble::left_out`] instead.
    pub fn fit_ensemble(
        &self,
        data: &Dataset<T>,
    ) -> Result<ModelFit<T, Ensemble<T>>, AnomalyError> {
        self.check()?;
        let sample = self.fit_rows(data)?;
        let rows = sample.as_ref().unwrap_or(data);
        let seed = self.seed();
        // The mixture first: its standardization refuses data whose spread a
        // model in `T` cannot hold, with the error that says so.
        let mixture = self.mixture.fit_model(rows)?;
        let scaling = Scaling::by_range(rows)?;
        let gaussian = GaussianMixture::params::<T>(1)
            .covariance(Covariance::Full)
            .seed(seed)
            .fit_model(&scaling.standardize(rows)?)?;
        let gaussian = scaling.unstandardize(&gaussian.fitted.model)?;
        // Each part with its scores of every training row when its fit
        // computed them (the MCD's, when it saw every row).
        let mut fitted = vec![("gaussian", AnyMixture::from(gaussian), None)];
        let mut left_out = Vec::new();
        let mcd = McdFitter::with(Mcd::new().n_trials(self.mcd_trials).seed(seed));
        match mcd.fit_model(rows) {
            Ok(m) => fitted.push((
                "mcd",
                AnyMixture::from(m.fitted.model),
                m.training_scores.filter(|_| sample.is_none()),
            )),
            Err(e) => left_out.push(("mcd".to_owned(), e.to_string())),
        }
        let main = fitted.len();
        fitted.push(("mixture", AnyMixture::from(mixture.fitted.model), None));
        let mut parts = Vec::with_capacity(fitted.len());
        let mut part_scores = Vec::with_capacity(fitted.len());
        for (name, model, known) in fitted {
            let scores: Vec<f64> = match known {
                Some(s) => s.iter().map(|v| v.as_f64()).collect(),
                None => model
                    .anomaly_scores(data)?
                    .iter()
                    .map(|v| v.as_f64())
                    .collect(),
            };
            let (centre, spread) = score_scale(&scores)?;
            parts.push(EnsemblePart {
                name: name.to_owned(),
                model,
                centre,
                spread,
            });
            part_scores.push(scores);
        }
        let ensemble = Ensemble::new(parts, main)?.with_left_out(left_out);
        // The detector's training scores, from the parts' scores at hand.
        let mut training = vec![0.0; data.n_samples()];
        for (j, scores) in part_scores.into_iter().enumerate() {
            ensemble.add_part(j, &mut training, scores.into_iter());
        }
        let mut report = mixture.fitted.report;
        report.structure = "ensemble".to_owned();
        Ok(ModelFit {
            fitted: mixtures_em::Fitted {
                model: ensemble,
                report,
            },
            choice: mixture.choice,
            training_scores: Some(training.into_iter().map(T::c).collect()),
        })
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`AnomalyError::InvalidParameter`] naming the parameter.
    pub fn check(&self) -> Result<(), AnomalyError> {
        self.mixture.check()?;
        Mcd::new().n_trials(self.mcd_trials).check()?;
        if self.max_fit_rows < 2 {
            return Err(AnomalyError::invalid(
                "max_fit_rows",
                self.max_fit_rows as f64,
                "must be at least 2",
            ));
        }
        Ok(())
    }
}

impl<T: Scalar> ModelFitter<T> for EnsembleFitter<T> {
    type Model = Ensemble<T>;

    fn check(&self) -> Result<(), AnomalyError> {
        EnsembleFitter::check(self)
    }

    /// [`EnsembleFitter::fit_ensemble`]; the report is the mixture's fit with
    /// the structure `"ensemble"`, the choice the mixture's grid.
    fn fit_model(&self, data: &Dataset<T>) -> Result<ModelFit<T, Ensemble<T>>, AnomalyError> {
        self.fit_ensemble(data)
    }
}
