//! One mixture's parameters to the scorer's arrays, in `f64`, rounded once
//! to the export's precision.

use faer::Mat;
use mixtures_core::{Cholesky, LN_2PI, Scalar};
use mixtures_dist::{AnyMixture, Covariances, Gaussian, LaplaceScales};
use mixtures_score::Family;

use super::{ExportError, ExportedMixture, Precision, ScaleKind};

/// `v` rounded to `precision`; an error naming the parameter when it is
/// not finite there (`−∞` passes: the log-weight of a weight of zero).
pub(super) fn round(
    what: impl FnOnce() -> String,
    v: f64,
    precision: Precision,
) -> Result<f64, ExportError> {
    let r = match precision {
        Precision::F64 => v,
        Precision::F32 => f64::from(v as f32),
    };
    if r.is_finite() || r == f64::NEG_INFINITY && v == f64::NEG_INFINITY {
        Ok(r)
    } else {
        Err(ExportError::NotRepresentable {
            parameter: what(),
            value: v,
            precision: precision.as_str(),
        })
    }
}

/// Rounds every value of an array, naming the first that does not fit.
fn round_all(
    part: &str,
    array: &str,
    values: Vec<f64>,
    precision: Precision,
) -> Result<Vec<f64>, ExportError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| round(|| format!("{part}: {array}[{i}]"), v, precision))
        .collect()
}

/// `L⁻¹` of `Σ` packed row by row, and `ln |Σ|`, by the library's
/// factorization in `f64`.
fn packed_inverse_factor(
    part: &str,
    component: Option<usize>,
    cov: &Mat<f64>,
) -> Result<(Vec<f64>, f64), ExportError> {
    let chol = Cholesky::new(cov.as_ref()).map_err(|source| ExportError::Precision {
        part: part.to_owned(),
        precision: "f64",
        source: mixtures_dist::ModelError::NotPositiveDefinite { component, source },
    })?;
    let (l_inv, d) = (chol.l_inv(), cov.nrows());
    let mut packed = Vec::with_capacity(d * (d + 1) / 2);
    for i in 0..d {
        for j in 0..=i {
            packed.push(l_inv[(i, j)]);
        }
    }
    Ok((packed, chol.log_det()))
}

/// The Gaussian (or Student-t scale) arrays: the scale kind, the scale
/// array and `ln |Σₖ|` per component.
fn gaussian_scale<T: Scalar>(
    part: &str,
    g: &Gaussian<T>,
) -> Result<(ScaleKind, Vec<f64>, Vec<f64>), ExportError> {
    let (k, d) = (g.means().nrows(), g.means().ncols());
    let widen = |m: &Mat<T>| Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].as_f64());
    Ok(match g.covariances() {
        Covariances::Full(covs) => {
            let (mut scale, mut log_dets) = (Vec::new(), Vec::new());
            for (c, cov) in covs.iter().enumerate() {
                let (packed, ld) = packed_inverse_factor(part, Some(c), &widen(cov))?;
                scale.extend(packed);
                log_dets.push(ld);
            }
            (ScaleKind::Full, scale, log_dets)
        }
        Covariances::Tied(cov) => {
            let (packed, ld) = packed_inverse_factor(part, None, &widen(cov))?;
            (ScaleKind::Tied, packed, vec![ld; k])
        }
        // As the library: sd = √v, its inverse, ln |Σ| = Σⱼ ln vⱼ.
        Covariances::Diag(v) => {
            let mut inv = Vec::with_capacity(k * d);
            let mut log_dets = Vec::with_capacity(k);
            for c in 0..k {
                let mut ld = 0.0;
                for j in 0..d {
                    let x = v[(c, j)].as_f64();
                    inv.push(1.0 / x.sqrt());
                    ld += x.ln();
                }
                log_dets.push(ld);
            }
            (ScaleKind::Diag, inv, log_dets)
        }
        Covariances::Spherical(v) => {
            let inv = v.iter().map(|x| 1.0 / x.as_f64().sqrt()).collect();
            let log_dets = v.iter().map(|x| d as f64 * x.as_f64().ln()).collect();
            (ScaleKind::Spherical, inv, log_dets)
        }
    })
}

/// A model checked in `f32` by the library's own reader (every check a
/// model file gets), so that an `f32` export is refused exactly when the
/// library would refuse the model in `f32`.
fn check_precision<T: Scalar>(
    part: &str,
    model: &AnyMixture<T>,
    precision: Precision,
) -> Result<(), ExportError> {
    if precision == Precision::F32 {
        AnyMixture::<f32>::from_model_file(&model.to_model_file()).map_err(|source| {
            ExportError::Precision {
                part: part.to_owned(),
                precision: "f32",
                source,
            }
        })?;
    }
    Ok(())
}

/// One mixture's arrays.
pub(super) fn mixture<T: Scalar>(
    name: &str,
    model: &AnyMixture<T>,
    precision: Precision,
    centre: f64,
    weight: f64,
) -> Result<ExportedMixture, ExportError> {
    check_precision(name, model, precision)?;
    let (k, d) = (model.n_components(), model.dim());
    let spec = model.spec();
    let rows = |m: faer::MatRef<'_, T>| {
        let mut v = Vec::with_capacity(k * d);
        for c in 0..k {
            v.extend((0..d).map(|j| m[(c, j)].as_f64()));
        }
        v
    };
    let dd = d as f64;
    let gauss_norm = |ld: f64| -0.5 * (dd * LN_2PI + ld);
    let (family, means, scale_kind, scale, log_norms, dof) = match model {
        AnyMixture::Gaussian(m) => {
            let g = m.components();
            let (kind, scale, log_dets) = gaussian_scale(name, g)?;
            let norms = log_dets.into_iter().map(gauss_norm).collect();
            (
                Family::Gaussian,
                rows(g.means()),
                kind,
                scale,
                norms,
                Vec::new(),
            )
        }
        AnyMixture::StudentT(m) => {
            let t = m.components();
            let (kind, scale, _) = gaussian_scale(name, t.scale())?;
            let norms = t.log_norms().iter().map(|v| v.as_f64()).collect();
            let dof = t.dof().iter().map(|v| v.as_f64()).collect();
            (Family::StudentT, rows(t.means()), kind, scale, norms, dof)
        }
        AnyMixture::Laplace(m) => {
            let l = m.components();
            // As the library: 1 / b, and −Σⱼ ln(2 bⱼ) (−D ln(2b) spherical).
            let (kind, scale, norms) = match l.scales() {
                LaplaceScales::PerDimension(b) => {
                    let mut inv = Vec::with_capacity(k * d);
                    let mut norms = Vec::with_capacity(k);
                    for c in 0..k {
                        let mut n = 0.0;
                        for j in 0..d {
                            let s = b[(c, j)].as_f64();
                            inv.push(1.0 / s);
                            n -= (2.0 * s).ln();
                        }
                        norms.push(n);
                    }
                    (ScaleKind::Diag, inv, norms)
                }
                LaplaceScales::Spherical(b) => (
                    ScaleKind::Spherical,
                    b.iter().map(|s| 1.0 / s.as_f64()).collect(),
                    b.iter().map(|s| -dd * (2.0 * s.as_f64()).ln()).collect(),
                ),
            };
            (
                Family::Laplace,
                rows(l.locations()),
                kind,
                scale,
                norms,
                Vec::new(),
            )
        }
    };
    let log_weights: Vec<f64> = model.weights().iter().map(|w| w.as_f64().ln()).collect();
    let noise = match model.noise() {
        Some((w, region)) => {
            let ld = w.as_f64().ln() - region.log_volume();
            let lower = region.lower().iter().map(|v| v.as_f64()).collect();
            let upper = region.upper().iter().map(|v| v.as_f64()).collect();
            Some((
                round(|| format!("{name}: noise log-density"), ld, precision)?,
                round_all(name, "noise.lower", lower, precision)?,
                round_all(name, "noise.upper", upper, precision)?,
            ))
        }
        None => None,
    };
    let structure = format!("{} {}", spec.family().as_str(), spec.covariance().as_str());
    Ok(ExportedMixture {
        name: name.to_owned(),
        structure,
        family,
        dim: d,
        log_weights: round_all(name, "log_weights", log_weights, precision)?,
        means: round_all(name, "means", means, precision)?,
        log_norms: round_all(name, "log_norms", log_norms, precision)?,
        scale_kind,
        scale: round_all(name, scale_name(scale_kind, family), scale, precision)?,
        dof: round_all(name, "dof", dof, precision)?,
        noise,
        centre,
        weight,
    })
}

/// What the scale array holds, for messages and comments.
pub(super) fn scale_name(kind: ScaleKind, family: Family) -> &'static str {
    match (kind, family) {
        (ScaleKind::Full | ScaleKind::Tied, _) => "inverse_cholesky",
        (_, Family::Laplace) => "inverse_scales",
        _ => "inverse_sd",
    }
}
