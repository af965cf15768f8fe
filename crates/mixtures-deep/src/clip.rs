//! Clipping of the whole gradient by its global norm, as DAGMM's reference
//! implementation does after every backward pass (`clip_grad_norm_` at 5).
//!
//! burn's own `GradientClipping::Norm` scales each parameter tensor by its
//! own norm, which changes the gradient's direction; the global rule scales
//! every tensor by one factor, so the step keeps its direction and only its
//! length is capped. The energy's gradient grows without bound as a batch's
//! covariance approaches singular, and one such step can throw the codes far
//! from where the reconstruction wants them.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::DeepError;
use crate::error::read;

/// Sums the squares of every parameter's gradient into one scalar tensor.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = g.square().sum();
            self.sum = Some(match self.sum.take() {
                Some(acc) => acc + s,
                None => s,
            });
        }
    }
}

/// Multiplies every parameter's gradient by `factor`.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f32,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// Scales the gradient of `module` so its global L2 norm is at most
/// `max_norm`, and returns the norm before scaling.
///
/// # Errors
/// A backend failure while reading the norm back.
pub(crate) fn clip_global_norm<M: Module>(
    grads: &mut GradientsParams,
    module: &M,
    max_norm: f64,
) -> Result<f64, DeepError> {
    let mut norm = SquaredNorm { grads, sum: None };
    module.visit(&mut norm);
    let Some(sum) = norm.sum else {
        return Ok(0.0);
    };
    let norm = f64::from(read(sum)?.first().copied().unwrap_or(0.0)).sqrt();
    // A non-finite norm is left alone: the loss terms were finite, so it can
    // only come from a gradient that overflowed, and scaling by 0 would hide
    // it; the next batch's loss reports the divergence with its term.
    if norm.is_finite() && norm > max_norm {
        let factor = (max_norm / (norm + 1e-6)) as f32;
        module.visit(&mut Scale { grads, factor });
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;
    use burn::tensor::{Device, Tensor};

    use super::clip_global_norm;

    #[derive(Module, Debug)]
    struct Two {
        a: Linear,
        b: Linear,
    }

    fn grads_of(scale: f32) -> (Two, GradientsParams) {
        let device = Device::flex().autodiff();
        let net = Two {
            a: LinearConfig::new(3, 2).init(&device),
            b: LinearConfig::new(2, 1).init(&device),
        };
        let x = Tensor::<2>::from_floats([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]], &device);
        let y = net.b.forward(net.a.forward(x)).sum().mul_scalar(scale);
        let grads = GradientsParams::from_grads(y.backward(), &net);
        (net, grads)
    }

    fn flat(net: &Two, grads: &GradientsParams) -> Vec<f32> {
        let mut out = Vec::new();
        for id in [net.a.weight.id, net.b.weight.id] {
            let g: Tensor<2> = grads.get(id).unwrap();
            out.extend(g.into_data().iter::<f32>());
        }
        for b in [&net.a.bias, &net.b.bias] {
            let g: Tensor<1> = grads.get(b.as_ref().unwrap().id).unwrap();
            out.extend(g.into_data().iter::<f32>());
        }
        out
    }

    #[test]
    fn a_long_gradient_is_shortened_to_the_bound_keeping_its_direction() {
        let (net, mut grads) = grads_of(100.0);
        let before = flat(&net, &grads);
        let norm = clip_global_norm(&mut grads, &net, 5.0).unwrap();
        let expected = before
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((norm - expected).abs() < 1e-3 * expected);
        assert!(norm > 5.0);
        let after = flat(&net, &grads);
        let after_norm = after
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((after_norm - 5.0).abs() < 1e-3, "{after_norm}");
        let ratio = f64::from(after[0]) / f64::from(before[0]);
        for (a, b) in after.iter().zip(&before) {
            assert!((f64::from(*a) - ratio * f64::from(*b)).abs() < 1e-5);
        }
    }

    #[test]
    fn a_short_gradient_is_left_alone() {
        let (net, mut grads) = grads_of(1e-3);
        let before = flat(&net, &grads);
        let norm = clip_global_norm(&mut grads, &net, 5.0).unwrap();
        assert!(norm < 5.0);
        assert_eq!(flat(&net, &grads), before);
    }
}
