//! A uniform noise component (Banfield & Raftery 1993; mclust's "noise"): a
//! density `1/V` over a box, `0` outside, added to a mixture of any family
//! with its own weight. Points it claims are noise: [`Mixture::predict`]
//! labels them `K`, one past the last component.
//!
//! The box is the training data's bounding box by default (what a fit
//! derives, [`UniformNoise::bounding_box`]), or that box widened about its
//! centre to a volume the user gives ([`UniformNoise::with_volume`]): the
//! density stays a density (it integrates to one over the box), can be
//! sampled, and a new point outside the box gets no noise density, so its
//! score comes from the components alone and keeps growing with distance.

use mixtures_core::{Dataset, Scalar};
use rand::Rng;

use crate::{Components, Mixture, ModelError};

/// The region of a uniform noise component: a box `[lower, upper]` with
/// positive sides, and its log-volume.
#[derive(Debug, Clone, PartialEq)]
pub struct UniformNoise<T: Scalar> {
    lower: Vec<T>,
    upper: Vec<T>,
    log_volume: f64,
}

impl<T: Scalar> UniformNoise<T> {
    /// The box `[lower, upper]`.
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] (`noise`) when the bounds differ in
    /// length, are empty or not finite, or a side is not positive (a zero
    /// side gives a zero volume).
    pub fn new(lower: Vec<T>, upper: Vec<T>) -> Result<Self, ModelError> {
        if lower.len() != upper.len() || lower.is_empty() {
            return Err(ModelError::invalid(
                "noise",
                lower.len(),
                "the box needs one lower and one upper bound per feature",
            ));
        }
        let mut log_volume = 0.0;
        for (j, (&a, &b)) in lower.iter().zip(&upper).enumerate() {
            let side = b.as_f64() - a.as_f64();
            if !(a.is_finite() && b.is_finite() && side > 0.0 && side.is_finite()) {
                return Err(ModelError::invalid(
                    "noise",
                    format!("feature {j}: [{a:?}, {b:?}]"),
                    "every side of the noise box must be finite and positive (a \
                     feature constant on the data gives a box of zero volume: drop \
                     it, or give the noise a volume, which widens that side)",
                ));
            }
            log_volume += side.ln();
        }
        Ok(Self {
            lower,
            upper,
            log_volume,
        })
    }

    /// The bounding box of the rows (of positive weight).
    ///
    /// # Errors
    /// As [`UniformNoise::new`]: a constant feature gives a side of zero
    /// (give a volume instead: [`UniformNoise::bounding_box_with_volume`]).
    pub fn bounding_box(data: &Dataset<T>) -> Result<Self, ModelError> {
        let (lo, hi) = Self::bounds(data);
        Self::new(lo, hi)
    }

    /// The bounding box of the rows (of positive weight) scaled about its
    /// centre to `volume`. A side of zero (a feature constant on the rows)
    /// is first widened, about its value, to the geometric mean of the other
    /// sides (to 1 when every side is zero), so that a volume always makes a
    /// box.
    ///
    /// # Errors
    /// As [`UniformNoise::with_volume`].
    pub fn bounding_box_with_volume(data: &Dataset<T>, volume: f64) -> Result<Self, ModelError> {
        let (mut lo, mut hi) = Self::bounds(data);
        let sides: Vec<f64> = lo
            .iter()
            .zip(&hi)
            .map(|(a, b)| b.as_f64() - a.as_f64())
            .collect();
        let positive: Vec<f64> = sides.iter().copied().filter(|s| *s > 0.0).collect();
        let mean = if positive.is_empty() {
            1.0
        } else {
            (positive.iter().map(|s| s.ln()).sum::<f64>() / positive.len() as f64).exp()
        };
        for (j, side) in sides.iter().enumerate() {
            if !(*side > 0.0) {
                let mid = lo[j].as_f64();
                lo[j] = T::c(mid - 0.5 * mean);
                hi[j] = T::c(mid + 0.5 * mean);
            }
        }
        Self::new(lo, hi)
            .map_err(|_| {
                ModelError::invalid(
                    "noise_volume",
                    volume,
                    "the data's box does not fit the floating-point type",
                )
            })?
            .with_volume(volume)
    }

    /// The smallest and largest value of every feature over the rows of
    /// positive weight.
    fn bounds(data: &Dataset<T>) -> (Vec<T>, Vec<T>) {
        let d = data.n_features();
        let (mut lo, mut hi) = (vec![T::infinity(); d], vec![T::neg_infinity(); d]);
        let x = data.view();
        for i in 0..data.n_samples() {
            if data.weights().is_some_and(|w| w[i] == T::zero()) {
                continue;
            }
            for j in 0..d {
                let v = x[(i, j)];
                if v < lo[j] {
                    lo[j] = v;
                }
                if v > hi[j] {
                    hi[j] = v;
                }
            }
        }
        (lo, hi)
    }

    /// This box scaled about its centre to `volume`, every side by the same
    /// factor `(volume / V)^(1/D)`.
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] (`noise_volume`) for a volume that is
    /// not positive and finite, or one whose box does not fit the
    /// floating-point type.
    pub fn with_volume(&self, volume: f64) -> Result<Self, ModelError> {
        if !(volume > 0.0 && volume.is_finite()) {
            return Err(ModelError::invalid(
                "noise_volume",
                volume,
                "must be positive and finite",
            ));
        }
        let factor = ((volume.ln() - self.log_volume) / self.lower.len() as f64).exp();
        let (lower, upper) = self
            .lower
            .iter()
            .zip(&self.upper)
            .map(|(&a, &b)| {
                let (a, b) = (a.as_f64(), b.as_f64());
                let (mid, half) = (0.5 * a + 0.5 * b, 0.5 * (b - a) * factor);
                (T::c(mid - half), T::c(mid + half))
            })
            .unzip();
        Self::new(lower, upper).map_err(|_| {
            ModelError::invalid(
                "noise_volume",
                volume,
                "the box of this volume does not fit the floating-point type",
            )
        })
    }

    /// Number of features.
    pub fn dim(&self) -> usize {
        self.lower.len()
    }

    /// Lower bounds of the box.
    pub fn lower(&self) -> &[T] {
        &self.lower
    }

    /// Upper bounds of the box.
    pub fn upper(&self) -> &[T] {
        &self.upper
    }

    /// `ln V`, computed in `f64` from the bounds.
    pub fn log_volume(&self) -> f64 {
        self.log_volume
    }

    /// Whether `row` lies in the box (bounds included).
    pub fn contains(&self, row: impl Iterator<Item = T>) -> bool {
        row.zip(self.lower.iter().zip(&self.upper))
            .all(|(v, (&a, &b))| v >= a && v <= b)
    }

    /// One point drawn uniformly from the box.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [T]) {
        for ((o, &a), &b) in out.iter_mut().zip(&self.lower).zip(&self.upper) {
            let u: f64 = rng.random();
            let v = a.as_f64() + u * (b.as_f64() - a.as_f64());
            // Rounding may land on the upper bound; never beyond it.
            *o = T::c(v).min(b);
        }
    }
}

impl<T: Scalar, C: Components<T>> Mixture<T, C> {
    /// Adds a uniform noise component of weight `weight` over `region`,
    /// scaling the components' weights by `1 − weight` (a mixture that has
    /// noise already has it replaced, its components' weights rescaled from
    /// their sum).
    ///
    /// # Errors
    /// [`ModelError::InvalidWeight`] for a weight outside `[0, 1)`;
    /// [`ModelError::InvalidParameter`] for a region of another dimension.
    pub fn add_noise(self, weight: T, region: UniformNoise<T>) -> Result<Self, ModelError> {
        if !(weight >= T::zero() && weight < T::one()) {
            return Err(ModelError::InvalidWeight {
                component: self.n_components(),
                value: weight.as_f64(),
            });
        }
        let kept: f64 = self.weights().iter().map(|w| w.as_f64()).sum();
        let scale = (1.0 - weight.as_f64()) / kept;
        let mut weights: Vec<T> = self
            .weights()
            .iter()
            .map(|&w| T::c(w.as_f64() * scale))
            .collect();
        weights.push(weight);
        let mut m = Self::assemble(weights, self.components, Some(region))?;
        m.feature_names = self.feature_names;
        Ok(m)
    }

    /// A mixture with a noise component, from all its weights: those of the
    /// `K` components and the noise's, summing to one (as
    /// [`Mixture::new`] checks them; what a model file holds).
    ///
    /// # Errors
    /// As [`Mixture::new`], and [`ModelError::InvalidParameter`] for a region
    /// of another dimension.
    pub fn with_noise(
        mut weights: Vec<T>,
        noise_weight: T,
        components: C,
        region: UniformNoise<T>,
    ) -> Result<Self, ModelError> {
        weights.push(noise_weight);
        Self::assemble(weights, components, Some(region))
    }

    /// The same mixture without its noise component, the components'
    /// weights rescaled to sum to one (itself when it has none).
    pub fn without_noise(&self) -> Self {
        let k = self.n_components();
        if self.noise.is_none() {
            return self.clone();
        }
        let total: f64 = self.weights[..k].iter().map(|w| w.as_f64()).sum();
        let weights: Vec<T> = self.weights[..k]
            .iter()
            .map(|&w| T::c(w.as_f64() / total))
            .collect();
        Self {
            log_weights: weights.iter().map(|&w| num_traits::Float::ln(w)).collect(),
            weights,
            components: self.components.clone(),
            noise: None,
            feature_names: self.feature_names.clone(),
        }
    }

    /// The noise component's weight and region, if the mixture has one.
    pub fn noise(&self) -> Option<(T, &UniformNoise<T>)> {
        self.noise
            .as_ref()
            .map(|r| (self.weights[self.n_components()], r))
    }

    /// The weights of the [`Mixture::n_columns`] columns: the components',
    /// then the noise's. They sum to one.
    pub fn column_weights(&self) -> &[T] {
        &self.weights
    }

    /// Columns of [`Mixture::weighted_log_prob`] and of the
    /// responsibilities: `K`, plus one (the last) for a noise component.
    pub fn n_columns(&self) -> usize {
        self.weights.len()
    }
}
