//! The input scaling fitted on the training rows and the conversion to the
//! network's single precision.

use mixtures_core::{Dataset, Scalar};
use serde::{Deserialize, Serialize};

use crate::DeepError;
use crate::config::InputScaling;

/// `(x − offset) / scale` per column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Subtracted from each column.
    pub offset: Vec<f64>,
    /// Then divided by (positive).
    pub scale: Vec<f64>,
}

impl Scaler {
    /// Fits `kind` on `data`'s columns. A constant column gets scale 1 and
    /// maps to 0.
    pub fn fit<T: Scalar>(kind: InputScaling, data: &Dataset<T>) -> Self {
        let d = data.n_features();
        let mut offset = vec![0.0; d];
        let mut scale = vec![1.0; d];
        for j in 0..d {
            let col = data.column(j);
            match kind {
                InputScaling::MinMax => {
                    let (lo, hi) =
                        col.iter()
                            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                                let v = v.as_f64();
                                (lo.min(v), hi.max(v))
                            });
                    offset[j] = lo;
                    let r = hi - lo;
                    scale[j] = if r > 0.0 && r.is_finite() { r } else { 1.0 };
                }
                InputScaling::Standard => {
                    let n = col.len().max(1) as f64;
                    let mean = col.iter().map(|v| v.as_f64()).sum::<f64>() / n;
                    let var = col.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n;
                    offset[j] = mean;
                    let sd = var.sqrt();
                    scale[j] = if sd > 0.0 && sd.is_finite() { sd } else { 1.0 };
                }
                InputScaling::None => {}
            }
        }
        Scaler { offset, scale }
    }

    /// Number of columns.
    pub fn dim(&self) -> usize {
        self.offset.len()
    }

    /// The scaled rows in row-major single precision.
    ///
    /// # Errors
    /// [`DeepError::Data`] for a width other than the scaler's;
    /// [`DeepError::OutOfRange`] for a value whose scaled form does not fit
    /// in `f32`.
    pub fn apply<T: Scalar>(&self, data: &Dataset<T>) -> Result<Vec<f32>, DeepError> {
        data.check_dim(self.dim())?;
        let (n, d) = (data.n_samples(), data.n_features());
        let mut out = vec![0.0f32; n * d];
        for j in 0..d {
            for (i, v) in data.column(j).iter().enumerate() {
                let s = (v.as_f64() - self.offset[j]) / self.scale[j];
                let f = s as f32;
                if !f.is_finite() {
                    return Err(DeepError::OutOfRange {
                        row: i,
                        column: j,
                        value: v.as_f64(),
                    });
                }
                out[i * d + j] = f;
            }
        }
        Ok(out)
    }

    /// Checks a stored scaler.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.offset.len() != self.scale.len() || self.offset.is_empty() {
            return Err("scaling: offset and scale need one value per column".into());
        }
        if self.offset.iter().any(|v| !v.is_finite())
            || self.scale.iter().any(|v| !(*v > 0.0) || !v.is_finite())
        {
            return Err("scaling: offsets must be finite and scales positive".into());
        }
        Ok(())
    }
}
