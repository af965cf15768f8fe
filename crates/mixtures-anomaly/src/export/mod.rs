//! A fitted model or detector as the precomputed arrays of the `no_std`
//! scorer ([`mixtures_score`]), and those arrays as a Rust source file
//! ([`Exported::to_rust`]), a C99 header ([`Exported::to_c`]) or compact
//! JSON ([`Exported::to_json_compact`]); `mixtures export` on the command
//! line. docs/embedded.md has the formats and the C contract.
//!
//! Everything is computed in `f64` from the model's parameters (the
//! Cholesky factor of each covariance by the library's own
//! [`Cholesky`](mixtures_core::Cholesky), its inverse, the log-densities at
//! the centres) and then rounded once to the precision asked for. A model
//! that does not fit that precision is refused with the parameter named
//! ([`ExportError`]): one the library itself refuses in `f32` (a covariance
//! whose Cholesky factorization fails once rounded, a variance that rounds
//! to zero), or a derived value that overflows it. No file is ever written
//! with an infinity in it, except the log-weight `−∞` of a component of
//! weight zero, which no point can come from.
//!
//! ```
//! use faer::mat;
//! use mixtures_anomaly::export::{Exported, Precision};
//! use mixtures_core::Dataset;
//! use mixtures_dist::{AnyMixture, Gaussian, Mixture};
//!
//! let g = Gaussian::full(
//!     mat![[0.0_f64, 0.0], [4.0, 4.0]],
//!     vec![mat![[1.0, 0.5], [0.5, 1.0]], mat![[0.5, 0.0], [0.0, 2.0]]],
//! )?;
//! let model = AnyMixture::from(Mixture::new(vec![0.3, 0.7], g)?);
//! let exported = Exported::model(&model, Precision::F64)?;
//!
//! // The no_std scorer gives the library's log-densities.
//! let x = [1.0, 2.0];
//! let lib = model.log_prob(&Dataset::from_rows(&[x])?)?[0];
//! let ours = exported.with_scorer::<f64, _>(|s| s.log_prob(&x))??;
//! assert!((ours - lib).abs() <= 1e-12 * lib.abs());
//!
//! // A C header with the contract of docs/embedded.md.
//! let header = exported.to_c("sensor")?;
//! assert!(header.contains("#define SENSOR_DIM 2"));
//! assert!(header.contains("static inline double sensor_log_prob(const double *x)"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod c;
mod json;
mod parts;
mod rust;

use mixtures_core::Scalar;
use mixtures_dist::{AnyMixture, ModelError};
use mixtures_score::{
    Family, Mixture, MixtureParams, Noise, Part, Real, Scale, ScoreError, Scorer,
};
use thiserror::Error;

use crate::{AnyDetector, Detector, Ensemble};

/// The precision of the exported arrays and of the scorer that reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `f32` (`float` in C).
    F32,
    /// `f64` (`double` in C).
    F64,
}

impl Precision {
    /// `"f32"` or `"f64"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F64 => "f64",
        }
    }
}

/// Why a model could not be exported.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A parameter, or a value derived from one, is not finite in the
    /// precision asked for (an `f32` overflow).
    #[error(
        "{parameter} = {value:e} does not fit {precision}: export in f64, or rescale the features"
    )]
    NotRepresentable {
        /// The parameter, with the part, component and index.
        parameter: String,
        /// Its value in `f64`.
        value: f64,
        /// `"f32"` or `"f64"`.
        precision: &'static str,
    },
    /// The library refuses the model in the precision asked for (a
    /// covariance whose Cholesky factorization fails once rounded to `f32`,
    /// a variance that rounds to zero, ...); the model error names the
    /// component.
    #[error("{part}: not a valid model in {precision}: {source}")]
    Precision {
        /// Which part of the detector (`"model"` for a single model).
        part: String,
        /// `"f32"` or `"f64"`.
        precision: &'static str,
        /// What the library's reader said.
        #[source]
        source: ModelError,
    },
    /// A `--prefix` that is not a C identifier.
    #[error(
        "prefix {0:?}: a C identifier is needed (a letter or `_`, then letters, digits or `_`)"
    )]
    InvalidPrefix(String),
    /// The arrays do not make a scorer (a bug in the exporter if it happens).
    #[error("the exported arrays do not make a scorer: {0}")]
    Score(ScoreError),
}

/// How one part's distances are formed (see [`mixtures_score::Scale`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleKind {
    /// `K` packed inverse Cholesky factors.
    Full,
    /// One packed inverse Cholesky factor.
    Tied,
    /// `K × D` inverse standard deviations or scales.
    Diag,
    /// `K` inverse standard deviations or scales.
    Spherical,
}

impl ScaleKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Tied => "tied",
            Self::Diag => "diag",
            Self::Spherical => "spherical",
        }
    }
}

/// One mixture's precomputed arrays, already rounded to the export's
/// precision (held as `f64`; in `f32` every value is an `f32`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedMixture {
    /// What the part is (`"model"`, or an ensemble part's name).
    pub name: String,
    /// The model's family and exact structure, e.g. `"gaussian tied-diag"`.
    pub structure: String,
    /// The family the scorer evaluates.
    pub family: Family,
    /// Dimension `D`.
    pub dim: usize,
    /// `K` log-weights (`−∞` for a weight of zero).
    pub log_weights: Vec<f64>,
    /// `K × D` means (locations), row-major.
    pub means: Vec<f64>,
    /// `K` log-densities at the centres.
    pub log_norms: Vec<f64>,
    /// How `scale` is laid out.
    pub scale_kind: ScaleKind,
    /// Inverse Cholesky factors (packed rows), inverse standard deviations
    /// or inverse scales.
    pub scale: Vec<f64>,
    /// `K` degrees of freedom (Student-t), else empty.
    pub dof: Vec<f64>,
    /// A noise component: `ln w − ln V`, lower and upper bounds.
    pub noise: Option<(f64, Vec<f64>, Vec<f64>)>,
    /// An ensemble part's centre (0 for a single model).
    pub centre: f64,
    /// An ensemble part's weight `1 / (J · spread)` (1 for a single model).
    pub weight: f64,
}

/// What the score of an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A model: the score is `−ln p(x)`, no threshold.
    Model,
    /// A detector of one model: `−ln p(x)` against a threshold.
    Detector,
    /// An ensemble detector (the default detector): the mean scaled score.
    Ensemble,
}

/// A model or detector as the scorer's arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// Model, detector or ensemble.
    pub kind: ExportKind,
    /// The precision every value is rounded to.
    pub precision: Precision,
    /// The parts: one, or an ensemble's in order.
    pub parts: Vec<ExportedMixture>,
    /// The index of the main part (whose components are reported).
    pub main: usize,
    /// The threshold of a detector (rounded to the precision).
    pub threshold: Option<f64>,
    /// The feature names, in order, if the model has them.
    pub feature_names: Option<Vec<String>>,
}

impl Exported {
    /// A plain model: the score is `−ln p(x)`.
    ///
    /// # Errors
    /// [`ExportError::Precision`] or [`ExportError::NotRepresentable`].
    pub fn model<T: Scalar>(
        model: &AnyMixture<T>,
        precision: Precision,
    ) -> Result<Self, ExportError> {
        Ok(Self {
            kind: ExportKind::Model,
            precision,
            parts: vec![parts::mixture("model", model, precision, 0.0, 1.0)?],
            main: 0,
            threshold: None,
            feature_names: names(model),
        })
    }

    /// A detector of one model.
    ///
    /// # Errors
    /// As [`Exported::model`], and [`ExportError::NotRepresentable`] for the
    /// threshold.
    pub fn detector<T: Scalar>(
        detector: &AnyDetector<T>,
        precision: Precision,
    ) -> Result<Self, ExportError> {
        let mut out = Self::model(detector.model(), precision)?;
        out.kind = ExportKind::Detector;
        out.threshold = Some(parts::round(
            || "threshold".to_owned(),
            detector.threshold().value().as_f64(),
            precision,
        )?);
        Ok(out)
    }

    /// An ensemble detector (the default detector).
    ///
    /// # Errors
    /// As [`Exported::detector`], naming the part.
    pub fn ensemble<T: Scalar>(
        detector: &Detector<T, Ensemble<T>>,
        precision: Precision,
    ) -> Result<Self, ExportError> {
        let e = detector.model();
        let j_count = e.parts().len() as f64;
        let mut out = Vec::with_capacity(e.parts().len());
        for p in e.parts() {
            // As `Ensemble::weight`.
            let weight = 1.0 / (j_count * p.spread);
            let round = |what: &str, v| parts::round(|| format!("{}.{what}", p.name), v, precision);
            let (centre, weight) = (round("centre", p.centre)?, round("weight", weight)?);
            out.push(parts::mixture(
                &p.name, &p.model, precision, centre, weight,
            )?);
        }
        Ok(Self {
            kind: ExportKind::Ensemble,
            precision,
            parts: out,
            main: e.main_index(),
            threshold: Some(parts::round(
                || "threshold".to_owned(),
                detector.threshold().value().as_f64(),
                precision,
            )?),
            feature_names: names(e.main()),
        })
    }

    /// The dimension of a point.
    pub fn dim(&self) -> usize {
        self.parts.first().map_or(0, |p| p.dim)
    }

    /// Runs `f` on a [`Scorer`] in `T` over these arrays (built from
    /// vectors: what generated code holds as `static` arrays).
    ///
    /// # Errors
    /// [`ExportError::Score`] if the arrays do not fit together (a bug).
    pub fn with_scorer<T: Scalar + Real, R>(
        &self,
        f: impl FnOnce(&Scorer<'_, T>) -> R,
    ) -> Result<R, ExportError> {
        let cast = |v: &[f64]| v.iter().map(|&x| T::c(x)).collect::<Vec<T>>();
        struct Arrays<T> {
            log_weights: Vec<T>,
            means: Vec<T>,
            log_norms: Vec<T>,
            scale: Vec<T>,
            dof: Vec<T>,
            noise: Option<(T, Vec<T>, Vec<T>)>,
        }
        let arrays: Vec<Arrays<T>> = self
            .parts
            .iter()
            .map(|p| Arrays {
                log_weights: cast(&p.log_weights),
                means: cast(&p.means),
                log_norms: cast(&p.log_norms),
                scale: cast(&p.scale),
                dof: cast(&p.dof),
                noise: p
                    .noise
                    .as_ref()
                    .map(|(l, lo, hi)| (T::c(*l), cast(lo), cast(hi))),
            })
            .collect();
        let mut mixtures = Vec::with_capacity(arrays.len());
        for (p, a) in self.parts.iter().zip(&arrays) {
            let scale = match p.scale_kind {
                ScaleKind::Full => Scale::Full(&a.scale),
                ScaleKind::Tied => Scale::Tied(&a.scale),
                ScaleKind::Diag => Scale::Diag(&a.scale),
                ScaleKind::Spherical => Scale::Spherical(&a.scale),
            };
            let params = MixtureParams {
                dim: p.dim,
                family: p.family,
                log_weights: &a.log_weights,
                means: &a.means,
                log_norms: &a.log_norms,
                scale,
                dof: &a.dof,
                noise: a.noise.as_ref().map(|(l, lo, hi)| Noise {
                    log_density: *l,
                    lower: lo,
                    upper: hi,
                }),
            };
            mixtures.push(Mixture::new(params).map_err(ExportError::Score)?);
        }
        let threshold = self.threshold.map(T::c);
        let scorer = match (self.kind, threshold, mixtures.first()) {
            (ExportKind::Ensemble, Some(t), _) => {
                let parts: Vec<Part<'_, T>> = self
                    .parts
                    .iter()
                    .zip(&mixtures)
                    .map(|(p, m)| Part {
                        mixture: *m,
                        centre: T::c(p.centre),
                        weight: T::c(p.weight),
                    })
                    .collect();
                let s = Scorer::ensemble(&parts, self.main, t).map_err(ExportError::Score)?;
                return Ok(f(&s));
            }
            (ExportKind::Detector, Some(t), Some(m)) => Scorer::detector(*m, t),
            (ExportKind::Model, None, Some(m)) => Scorer::model(*m),
            _ => return Err(ExportError::Score(ScoreError::Empty { what: "parts" })),
        };
        Ok(f(&scorer))
    }
}

fn names<T: Scalar>(model: &AnyMixture<T>) -> Option<Vec<String>> {
    model.feature_names().map(<[String]>::to_vec)
}
