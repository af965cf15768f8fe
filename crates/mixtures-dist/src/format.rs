//! The JSON model-file format (documented in `docs/model-format.md`).
//!
//! A file is read in two steps: JSON syntax into [`ModelFile`] (errors carry the
//! line and column), then every field's shape is checked and the model is built
//! through the ordinary validating constructors (errors name the field or the
//! component). Values are written with the shortest representation that reads
//! back to the same bits in the model's precision (`crate::json::shortest`), so
//! a round trip is exact for `f32` and `f64`. Files are compact JSON; the
//! `_pretty` functions indent them for people.

use std::path::Path;

use faer::Mat;
use mixtures_core::Scalar;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::{
    AnyMixture, Components, Covariance, Covariances, Family, Gaussian, Laplace, LaplaceScales,
    Mixture, ModelError, StudentT,
};

/// The model-file format version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The raw contents of a model file, before validation. Shape-polymorphic fields
/// (`means`, `covariances`, `locations`, `scales`) are kept as JSON values so that
/// a wrong shape is reported with the path of the offending element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Format version; this library reads [`FORMAT_VERSION`].
    pub format_version: u64,
    /// `"gaussian"` or `"laplace"`.
    pub family: String,
    /// Gaussian: `"full"`, `"diag"`, `"spherical"` or `"tied"`. Laplace: `"diag"`
    /// (a scale per dimension) or `"spherical"` (a scale per component); optional
    /// for Laplace, where it follows from the shape of `scales`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covariance_type: Option<String>,
    /// Mixing weights, `[K]`.
    pub weights: Vec<f64>,
    /// Gaussian means, `[K][D]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub means: Option<Value>,
    /// Gaussian covariances in scikit-learn's shapes: full `[K][D][D]`, diag
    /// `[K][D]`, spherical `[K]`, tied `[D][D]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covariances: Option<Value>,
    /// Laplace locations, `[K][D]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Value>,
    /// Laplace scales, `[K][D]` or `[K]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scales: Option<Value>,
    /// Student-t degrees of freedom, `[K]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degrees_of_freedom: Option<Vec<f64>>,
    /// A uniform noise component: `{"weight": w, "lower": [D], "upper": [D]}`,
    /// its weight and box; `weights` then sum to `1 − w`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<Value>,
    /// Names of the `D` features, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_names: Option<Vec<String>>,
    /// The floating-point type the model was fitted in (`"f32"`, `"f64"`);
    /// informative only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
}

fn invalid(field: &str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn required<'a>(v: &'a Option<Value>, field: &str) -> Result<&'a Value, ModelError> {
    v.as_ref().ok_or_else(|| invalid(field, "missing"))
}

/// An array of exactly `len` numbers (any length when `None`).
fn numbers(v: &Value, path: &str, len: Option<usize>) -> Result<Vec<f64>, ModelError> {
    let arr = v.as_array().ok_or_else(|| {
        invalid(
            path,
            format!("expected an array of numbers, found {}", kind(v)),
        )
    })?;
    if let Some(len) = len
        && arr.len() != len
    {
        return Err(invalid(
            path,
            format!("expected {len} values, found {}", arr.len()),
        ));
    }
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_f64().ok_or_else(|| {
                invalid(
                    &format!("{path}[{i}]"),
                    format!("expected a number, found {}", kind(x)),
                )
            })
        })
        .collect()
}

/// A `rows x cols` matrix of numbers given as nested rows (`None` = any size,
/// but consistent).
fn matrix<T: Scalar>(
    v: &Value,
    path: &str,
    rows: Option<usize>,
    cols: Option<usize>,
) -> Result<Mat<T>, ModelError> {
    let arr = v.as_array().ok_or_else(|| {
        invalid(
            path,
            format!("expected an array of rows, found {}", kind(v)),
        )
    })?;
    if let Some(r) = rows
        && arr.len() != r
    {
        return Err(invalid(
            path,
            format!("expected {r} rows, found {}", arr.len()),
        ));
    }
    if arr.is_empty() {
        return Err(invalid(path, "empty"));
    }
    let mut cols = cols;
    let mut data = Vec::with_capacity(arr.len());
    for (i, row) in arr.iter().enumerate() {
        let r = numbers(row, &format!("{path}[{i}]"), cols)?;
        cols.get_or_insert(r.len());
        data.push(r);
    }
    let c = cols.unwrap_or(0);
    if c == 0 {
        return Err(invalid(path, "rows are empty"));
    }
    Ok(Mat::from_fn(data.len(), c, |i, j| T::c(data[i][j])))
}

/// Conversion between a component family and the model-file fields. Implemented
/// for [`Gaussian`] and [`Laplace`]; it is what makes `Mixture<T, C>` readable and
/// writable.
pub trait Persist<T: Scalar>: Components<T> + Sized {
    /// The `family` this type reads and writes (what [`Components::family`]
    /// returns), known before any field is read.
    const FAMILY: &'static str;
    /// Writes the family's fields (`covariance_type`, parameters) into `file`.
    fn write_fields(&self, file: &mut ModelFile);
    /// Reads the family's fields for `k` components.
    ///
    /// # Errors
    /// A [`ModelError`] naming the field or component that is wrong.
    fn read_fields(file: &ModelFile, k: usize) -> Result<Self, ModelError>;
}

fn rows_value<T: Scalar>(m: faer::MatRef<'_, T>) -> Value {
    Value::Array(
        (0..m.nrows())
            .map(|i| {
                (0..m.ncols())
                    .map(|j| crate::json::shortest(m[(i, j)]))
                    .collect::<Vec<f64>>()
                    .into()
            })
            .collect(),
    )
}

fn vec_value<T: Scalar>(v: &[T]) -> Value {
    v.iter()
        .map(|&x| crate::json::shortest(x))
        .collect::<Vec<f64>>()
        .into()
}

impl<T: Scalar> Persist<T> for Gaussian<T> {
    const FAMILY: &'static str = "gaussian";

    fn write_fields(&self, file: &mut ModelFile) {
        // The exact structure: a tied diagonal model is stored in the diagonal
        // shape and reads back as tied diagonal.
        file.covariance_type = Some(self.covariance_type().as_str().to_owned());
        file.means = Some(rows_value(self.means()));
        file.covariances = Some(match self.covariances() {
            Covariances::Full(c) => {
                Value::Array(c.iter().map(|m| rows_value(m.as_ref())).collect())
            }
            Covariances::Diag(v) => rows_value(v.as_ref()),
            Covariances::Spherical(v) => vec_value(v),
            Covariances::Tied(c) => rows_value(c.as_ref()),
        });
    }

    fn read_fields(file: &ModelFile, k: usize) -> Result<Self, ModelError> {
        let name = file
            .covariance_type
            .as_deref()
            .ok_or_else(|| invalid("covariance_type", "missing"))?;
        let structure = Covariance::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| ModelError::UnknownCovarianceType {
                family: "gaussian",
                found: name.to_owned(),
                expected: "full, diag, spherical, tied, tied-diag, tied-spherical",
            })?;
        let means = matrix::<T>(required(&file.means, "means")?, "means", Some(k), None)?;
        let d = means.ncols();
        let cv = required(&file.covariances, "covariances")?;
        let covs = match structure.storage() {
            Covariance::Full => {
                let arr = cv.as_array().ok_or_else(|| {
                    invalid(
                        "covariances",
                        format!("expected [K][D][D] arrays, found {}", kind(cv)),
                    )
                })?;
                if arr.len() != k {
                    return Err(invalid(
                        "covariances",
                        format!("expected {k} matrices, found {}", arr.len()),
                    ));
                }
                let mats = arr
                    .iter()
                    .enumerate()
                    .map(|(c, m)| matrix::<T>(m, &format!("covariances[{c}]"), Some(d), Some(d)))
                    .collect::<Result<Vec<_>, _>>()?;
                Covariances::Full(mats)
            }
            Covariance::Diag => {
                Covariances::Diag(matrix::<T>(cv, "covariances", Some(k), Some(d))?)
            }
            Covariance::Spherical => Covariances::Spherical(
                numbers(cv, "covariances", Some(k))?
                    .into_iter()
                    .map(T::c)
                    .collect(),
            ),
            _ => Covariances::Tied(matrix::<T>(cv, "covariances", Some(d), Some(d))?),
        };
        Gaussian::new(means, covs)?
            .with_structure(structure)
            .map_err(|e| invalid("covariances", e.to_string()))
    }
}

impl<T: Scalar> Persist<T> for Laplace<T> {
    const FAMILY: &'static str = "laplace";

    fn write_fields(&self, file: &mut ModelFile) {
        file.locations = Some(rows_value(self.locations()));
        let (ct, scales) = match self.scales() {
            LaplaceScales::PerDimension(b) => ("diag", rows_value(b.as_ref())),
            LaplaceScales::Spherical(b) => ("spherical", vec_value(b)),
        };
        file.covariance_type = Some(ct.to_owned());
        file.scales = Some(scales);
    }

    fn read_fields(file: &ModelFile, k: usize) -> Result<Self, ModelError> {
        let locations = matrix::<T>(
            required(&file.locations, "locations")?,
            "locations",
            Some(k),
            None,
        )?;
        let d = locations.ncols();
        let sv = required(&file.scales, "scales")?;
        // Without a covariance_type the shape decides: [K] numbers or [K][D] rows.
        let spherical = match file.covariance_type.as_deref() {
            Some("diag") => false,
            Some("spherical") => true,
            Some(other) => {
                return Err(ModelError::UnknownCovarianceType {
                    family: "laplace",
                    found: other.to_owned(),
                    expected: "diag, spherical",
                });
            }
            None => sv
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_number)),
        };
        let scales = if spherical {
            LaplaceScales::Spherical(
                numbers(sv, "scales", Some(k))?
                    .into_iter()
                    .map(T::c)
                    .collect(),
            )
        } else {
            LaplaceScales::PerDimension(matrix::<T>(sv, "scales", Some(k), Some(d))?)
        };
        Laplace::new(locations, scales)
    }
}

impl<T: Scalar> Persist<T> for StudentT<T> {
    const FAMILY: &'static str = "student-t";

    /// The locations and scale matrices in the Gaussian fields (`means`,
    /// `covariance_type`, `covariances`), and `degrees_of_freedom`.
    fn write_fields(&self, file: &mut ModelFile) {
        self.scale().write_fields(file);
        file.degrees_of_freedom = Some(
            self.dof()
                .iter()
                .map(|&v| crate::json::shortest(v))
                .collect(),
        );
    }

    fn read_fields(file: &ModelFile, k: usize) -> Result<Self, ModelError> {
        let scale = Gaussian::read_fields(file, k)?;
        let dof = file
            .degrees_of_freedom
            .as_ref()
            .ok_or_else(|| invalid("degrees_of_freedom", "missing"))?;
        if dof.len() != k {
            return Err(invalid(
                "degrees_of_freedom",
                format!("expected {k} values, found {}", dof.len()),
            ));
        }
        StudentT::from_scale(scale, dof.iter().map(|&v| T::c(v)).collect())
            .map_err(|e| invalid("degrees_of_freedom", e.to_string()))
    }
}

fn json_error(e: &serde_json::Error) -> ModelError {
    ModelError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

/// Field `name` of the `noise` object.
fn noise_field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, ModelError> {
    v.as_object()
        .ok_or_else(|| invalid("noise", format!("expected an object, found {}", kind(v))))?
        .get(name)
        .ok_or_else(|| invalid(&format!("noise.{name}"), "missing"))
}

fn check_header(file: &ModelFile) -> Result<usize, ModelError> {
    if file.format_version != u64::from(FORMAT_VERSION) {
        return Err(ModelError::UnsupportedVersion {
            found: file.format_version,
            supported: FORMAT_VERSION,
        });
    }
    if file.weights.is_empty() {
        return Err(ModelError::NoComponents);
    }
    Ok(file.weights.len())
}

impl<T: Scalar, C: Persist<T>> Mixture<T, C> {
    /// The model-file contents of this mixture.
    pub fn to_model_file(&self) -> ModelFile {
        let mut file = ModelFile {
            format_version: u64::from(FORMAT_VERSION),
            family: self.components().family().to_owned(),
            covariance_type: None,
            weights: self
                .weights()
                .iter()
                .map(|&w| crate::json::shortest(w))
                .collect(),
            means: None,
            covariances: None,
            locations: None,
            scales: None,
            degrees_of_freedom: None,
            noise: self.noise().map(|(w, region)| {
                serde_json::json!({
                    "weight": crate::json::shortest(w),
                    "lower": vec_value(region.lower()),
                    "upper": vec_value(region.upper()),
                })
            }),
            feature_names: self.feature_names().map(<[String]>::to_vec),
            dtype: Some(T::NAME.to_owned()),
        };
        self.components().write_fields(&mut file);
        file
    }

    /// Validates model-file contents and builds the mixture.
    ///
    /// # Errors
    /// [`ModelError::UnsupportedVersion`], [`ModelError::FamilyMismatch`],
    /// [`ModelError::InvalidField`], or any construction error.
    pub fn from_model_file(file: &ModelFile) -> Result<Self, ModelError> {
        let k = check_header(file)?;
        // Before the fields: a file of the other family lacks them, and
        // "field missing" would hide the real mistake.
        if file.family != C::FAMILY {
            return Err(ModelError::FamilyMismatch {
                expected: C::FAMILY,
                found: file.family.clone(),
            });
        }
        let comps = C::read_fields(file, k)?;
        let weights = file.weights.iter().map(|&w| T::c(w)).collect();
        let m = match &file.noise {
            None => Mixture::new(weights, comps)?,
            Some(v) => {
                let d = comps.dim();
                let w = noise_field(v, "weight")?;
                let weight = w.as_f64().ok_or_else(|| {
                    invalid(
                        "noise.weight",
                        format!("expected a number, found {}", kind(w)),
                    )
                })?;
                let lower = numbers(noise_field(v, "lower")?, "noise.lower", Some(d))?;
                let upper = numbers(noise_field(v, "upper")?, "noise.upper", Some(d))?;
                let cast = |v: Vec<f64>| v.into_iter().map(T::c).collect();
                let region = crate::UniformNoise::new(cast(lower), cast(upper))?;
                Mixture::with_noise(weights, T::c(weight), comps, region)?
            }
        };
        match &file.feature_names {
            Some(names) => m.with_feature_names(names.clone()),
            None => Ok(m),
        }
    }

    /// The model as compact JSON (what [`Mixture::save`] writes).
    pub fn to_json(&self) -> String {
        // Serializing plain numbers, strings and arrays cannot fail.
        serde_json::to_string(&self.to_model_file()).unwrap_or_default()
    }

    /// The model as indented JSON, for people (what [`Mixture::save_pretty`]
    /// writes); the same values as [`Mixture::to_json`].
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_model_file()).unwrap_or_default()
    }

    /// Reads a model from JSON text.
    ///
    /// # Errors
    /// [`ModelError::Json`] with line and column for malformed or truncated
    /// text; otherwise as [`Mixture::from_model_file`].
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let file: ModelFile = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        file.family.parse::<Family>()?;
        Self::from_model_file(&file)
    }

    /// Writes the model to a compact JSON file (atomically: a temporary file
    /// renamed over `path`).
    ///
    /// # Errors
    /// [`ModelError::Io`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        write_file(path.as_ref(), &self.to_json())
    }

    /// [`Mixture::save`] with indented JSON, for people.
    ///
    /// # Errors
    /// [`ModelError::Io`].
    pub fn save_pretty(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        write_file(path.as_ref(), &self.to_json_pretty())
    }

    /// Reads a model from a JSON file.
    ///
    /// # Errors
    /// [`ModelError::Io`], or as [`Mixture::from_json`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        Self::from_json(&read_file(path.as_ref())?)
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), ModelError> {
    mixtures_core::io::write_bytes_atomic(path, text.as_bytes()).map_err(|e| ModelError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn read_file(path: &Path) -> Result<String, ModelError> {
    std::fs::read_to_string(path).map_err(|e| ModelError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

impl<T: Scalar, C: Persist<T>> Serialize for Mixture<T, C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_model_file().serialize(s)
    }
}

impl<'de, T: Scalar, C: Persist<T>> Deserialize<'de> for Mixture<T, C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let file = ModelFile::deserialize(d)?;
        Self::from_model_file(&file).map_err(D::Error::custom)
    }
}

impl<T: Scalar> AnyMixture<T> {
    /// Builds the mixture the file describes, whichever its family.
    ///
    /// # Errors
    /// [`ModelError::UnknownFamily`], or as [`Mixture::from_model_file`].
    pub fn from_model_file(file: &ModelFile) -> Result<Self, ModelError> {
        match file.family.parse::<Family>()? {
            Family::Gaussian => Mixture::from_model_file(file).map(Self::Gaussian),
            Family::Laplace => Mixture::from_model_file(file).map(Self::Laplace),
            Family::StudentT => Mixture::from_model_file(file).map(Self::StudentT),
        }
    }

    /// Reads a model of either family from JSON text.
    ///
    /// # Errors
    /// As [`Mixture::from_json`].
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let file: ModelFile = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        Self::from_model_file(&file)
    }

    /// Reads a model of either family from a JSON file.
    ///
    /// # Errors
    /// As [`Mixture::load`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        Self::from_json(&read_file(path.as_ref())?)
    }

    /// The model-file contents.
    pub fn to_model_file(&self) -> ModelFile {
        crate::any::dispatch!(self, m => m.to_model_file())
    }

    /// The model as compact JSON.
    pub fn to_json(&self) -> String {
        crate::any::dispatch!(self, m => m.to_json())
    }

    /// The model as indented JSON, for people.
    pub fn to_json_pretty(&self) -> String {
        crate::any::dispatch!(self, m => m.to_json_pretty())
    }

    /// Writes the model to a compact JSON file.
    ///
    /// # Errors
    /// [`ModelError::Io`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        crate::any::dispatch!(self, m => m.save(path))
    }

    /// Writes the model to an indented JSON file, for people.
    ///
    /// # Errors
    /// [`ModelError::Io`].
    pub fn save_pretty(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        crate::any::dispatch!(self, m => m.save_pretty(path))
    }
}

impl<T: Scalar> Serialize for AnyMixture<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_model_file().serialize(s)
    }
}

impl<'de, T: Scalar> Deserialize<'de> for AnyMixture<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let file = ModelFile::deserialize(d)?;
        Self::from_model_file(&file).map_err(D::Error::custom)
    }
}
