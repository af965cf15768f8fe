//! A uniform noise component in EM (Banfield & Raftery 1993; mclust's
//! `noise`), for every family: the E-step gives the noise its column of
//! responsibilities (a constant `ln w₀ − ln V` inside its box), the
//! components' statistics use their own columns only, and the M-step sets
//! the noise weight to its share of the weight, `w₀ = Σ wᵢ rᵢ₀ / Σ wᵢ`, with
//! the components' weights `Σ wᵢ rᵢₖ / Σ wᵢ`. The box does not change during
//! a fit; it is not a free parameter (as mclust's volume is not).

use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Components, Mixture, UniformNoise};

use crate::FitError;

/// How a fit adds a uniform noise component: over the training data's
/// bounding box, or that box widened about its centre to a given volume, and
/// the weight it starts from.
///
/// ```
/// use mixtures_em::{EmControl, Noise};
///
/// let control = EmControl::default().noise(Noise::bounding_box().initial_weight(0.1));
/// assert!(control.check().is_ok());
/// assert!(EmControl::default().noise(Noise::volume(0.0)).check().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// The volume of the box (`None`: the data's bounding box).
    pub volume: Option<f64>,
    /// The noise weight of the first model (default
    /// [`Noise::DEFAULT_INITIAL_WEIGHT`]); EM estimates it from there.
    pub initial_weight: f64,
}

impl Noise {
    /// The noise weight a fit starts from unless told otherwise: a small
    /// share, so that the components' initialization is barely disturbed;
    /// the first iterations move it to the data's share of noise.
    pub const DEFAULT_INITIAL_WEIGHT: f64 = 0.05;

    /// Noise over the training data's bounding box.
    pub fn bounding_box() -> Self {
        Self {
            volume: None,
            initial_weight: Self::DEFAULT_INITIAL_WEIGHT,
        }
    }

    /// Noise over the data's bounding box scaled about its centre to this
    /// volume (mclust's `Vinv` is its inverse); a feature constant on the
    /// data gets a side first (see
    /// [`UniformNoise::bounding_box_with_volume`]).
    pub fn volume(volume: f64) -> Self {
        Self {
            volume: Some(volume),
            initial_weight: Self::DEFAULT_INITIAL_WEIGHT,
        }
    }

    /// The noise weight of the first model, in `(0, 1)`.
    #[must_use]
    pub fn initial_weight(mut self, w: f64) -> Self {
        self.initial_weight = w;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] (`noise_volume`, `noise_initial_weight`).
    pub fn check(&self) -> Result<(), FitError> {
        if let Some(v) = self.volume
            && !(v > 0.0 && v.is_finite())
        {
            return Err(FitError::invalid(
                "noise_volume",
                v,
                "must be positive and finite",
            ));
        }
        if !(self.initial_weight > 0.0 && self.initial_weight < 1.0) {
            return Err(FitError::invalid(
                "noise_initial_weight",
                self.initial_weight,
                "must lie in (0, 1)",
            ));
        }
        Ok(())
    }

    /// The box for these data.
    ///
    /// # Errors
    /// [`FitError::Model`] when the box has no volume (a constant feature)
    /// or the volume's box does not fit the floating-point type.
    pub fn region<T: Scalar>(&self, data: &Dataset<T>) -> Result<UniformNoise<T>, FitError> {
        Ok(match self.volume {
            Some(v) => UniformNoise::bounding_box_with_volume(data, v)?,
            None => UniformNoise::bounding_box(data)?,
        })
    }
}

/// A restart's first model: `model` with the noise component of `noise`,
/// if any, at its initial weight.
pub(crate) fn start<T: Scalar, C: Components<T>>(
    model: Mixture<T, C>,
    noise: Option<&Noise>,
    data: &Dataset<T>,
) -> Result<Mixture<T, C>, FitError> {
    match noise {
        None => Ok(model),
        Some(n) => Ok(model.add_noise(T::c(n.initial_weight), n.region(data)?)?),
    }
}

/// The M-step's model with the noise of `previous` (the E-step's model)
/// carried over: its box, and the weight `mass / total` (the noise's share
/// of the weight of the E-step).
pub(crate) fn carry<T: Scalar, C: Components<T>>(
    model: Mixture<T, C>,
    previous: &Mixture<T, C>,
    mass: f64,
    total: f64,
) -> Result<Mixture<T, C>, FitError> {
    match previous.noise() {
        None => Ok(model),
        Some((_, region)) => {
            // Below one by construction; the clamp guards rounding when the
            // noise claims (nearly) every row.
            let w = (mass / total).clamp(0.0, 1.0 - 1e-12);
            Ok(model.add_noise(T::c(w), region.clone())?)
        }
    }
}
