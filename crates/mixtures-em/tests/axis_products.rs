//! Diagonal and spherical Gaussians evaluated by matrix products about a
//! common reference (`mixtures_dist`'s `axis.rs`) on data far from the origin:
//! an offset of 10⁶ with unit spread, where expanding the square about the
//! origin (`E[x²] − μ²`) would leave about four correct digits in `f64` and
//! none in `f32`. Log-densities and one EM step are checked against a
//! reference computed in double-double arithmetic (about 32 digits), within
//! the error bound of the product form; a component beyond
//! `product_form_limit` takes the exact tile path and must agree as well.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faer::Mat;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::{Gaussian, GaussianMixtureModel, Mixture, product_form_limit};
use mixtures_em::{Covariance, GaussianMixture};

const OFFSET: f64 = 1e6;
const D: usize = 9;

/// A double-double number `hi + lo`.
#[derive(Clone, Copy)]
struct Dd(f64, f64);

impl Dd {
    fn add(self, b: f64) -> Dd {
        let s = self.0 + b;
        let bb = s - self.0;
        let e = (self.0 - (s - bb)) + (b - bb);
        let lo = self.1 + e;
        let hi = s + lo;
        Dd(hi, lo - (hi - s))
    }
    fn add_dd(self, b: Dd) -> Dd {
        self.add(b.0).add(b.1)
    }
    /// `a · b` exactly.
    fn prod(a: f64, b: f64) -> Dd {
        let p = a * b;
        Dd(p, a.mul_add(b, -p))
    }
    /// `self / v` to double-double precision.
    fn div(self, v: f64) -> Dd {
        let q = self.0 / v;
        let r = Dd::prod(q, v);
        let rem = (self.0 - r.0) - r.1 + self.1;
        Dd(q, 0.0).add(rem / v)
    }
    fn value(self) -> f64 {
        self.0 + self.1
    }
}

/// Deterministic pseudo-random values in [−½, ½).
fn noise(i: usize, j: usize) -> f64 {
    let t = (i * D + j) as f64;
    (t * 0.618_033_988_749_895 + (t * t) * 0.414_213_562_373_095e-3).fract() - 0.5
}

/// 3 components whose means lie a few units apart, 10⁶ from the origin.
fn model<T: Scalar>(far: bool, spherical: bool) -> GaussianMixtureModel<T> {
    let shift = |c: usize, j: usize| match (c, far) {
        // A tight component 10⁴ units away: Bₖ far beyond the limit.
        (2, true) => 1e4 + j as f64,
        _ => [0.0, 2.0, -1.5][c] + 0.25 * j as f64 * (c as f64 - 1.0),
    };
    let means = Mat::from_fn(3, D, |c, j| T::c(OFFSET + shift(c, j)));
    let comps = if spherical {
        Gaussian::spherical(means, vec![T::c(1.0), T::c(0.7), T::c(1.6)])
    } else {
        let var = Mat::from_fn(3, D, |c, j| T::c(0.5 + 0.1 * ((c * 5 + j * 3) % 11) as f64));
        Gaussian::diag(means, var)
    }
    .unwrap();
    Mixture::new(vec![T::c(0.5), T::c(0.3), T::c(0.2)], comps).unwrap()
}

fn data<T: Scalar>(far: bool) -> Dataset<T> {
    let rows: Vec<[T; D]> = (0..1500)
        .map(|i| {
            let c = i % 3;
            let base = match (c, far) {
                (2, true) => 1e4,
                _ => [0.0, 2.0, -1.5][c],
            };
            core::array::from_fn(|j| T::c(OFFSET + base + 2.0 * noise(i, j)))
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

/// `ln pₖ(xᵢ)` per component in double-double: `x − μ` is exact (Sterbenz),
/// its square and quotient by the variance are carried in two words.
fn reference_log_densities<T: Scalar>(
    m: &GaussianMixtureModel<T>,
    x: &Dataset<T>,
) -> Vec<Vec<f64>> {
    let g = m.components();
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    (0..x.n_samples())
        .map(|i| {
            (0..g.means().nrows())
                .map(|k| {
                    let cov = g.covariance_matrix(k);
                    let mut q = Dd(0.0, 0.0);
                    let mut log_det = 0.0;
                    for j in 0..D {
                        let diff = x.view()[(i, j)].as_f64() - g.means()[(k, j)].as_f64();
                        let v = cov[(j, j)].as_f64();
                        q = q.add_dd(Dd::prod(diff, diff).div(v));
                        log_det += v.ln();
                    }
                    -0.5 * (D as f64 * ln2pi + log_det) - 0.5 * q.value()
                })
                .collect()
        })
        .collect()
}

fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|a| (a - m).exp()).sum::<f64>().ln()
}

/// Checks `log_prob` and one EM step against the double-double reference.
fn check<T: Scalar>(far: bool, spherical: bool, tol_lp: f64, tol_moments: f64) {
    let what = format!("{} far={far} spherical={spherical}", T::NAME);
    let m = model::<T>(far, spherical);
    let x = data::<T>(far);
    assert_eq!(
        m.components().product_reference().is_some(),
        !far,
        "{what}: products are used exactly when every Bₖ is below {}",
        product_form_limit()
    );
    let lw: Vec<f64> = m.weights().iter().map(|w| w.as_f64().ln()).collect();
    let dens = reference_log_densities(&m, &x);
    let lp = m.log_prob(&x).unwrap();
    for (i, (row, got)) in dens.iter().zip(&lp).enumerate() {
        let joint: Vec<f64> = row.iter().zip(&lw).map(|(a, b)| a + b).collect();
        let want = log_sum_exp(&joint);
        let err = (got.as_f64() - want).abs();
        assert!(
            err <= tol_lp * (1.0 + want.abs()),
            "{what}: row {i}: {got:?} vs {want} (error {err:e})"
        );
    }
    // One EM step without a ridge: responsibilities from the reference, then
    // the weighted means and variances about them in double-double.
    let cov = if spherical {
        Covariance::Spherical
    } else {
        Covariance::Diag
    };
    let next = GaussianMixture::params::<T>(3)
        .covariance(cov)
        .reg_covar(0.0)
        .max_iter(1)
        .tol(0.0)
        .fit_from(&m, &x)
        .unwrap()
        .model;
    let resp: Vec<Vec<f64>> = dens
        .iter()
        .map(|row| {
            let joint: Vec<f64> = row.iter().zip(&lw).map(|(a, b)| a + b).collect();
            let l = log_sum_exp(&joint);
            joint.iter().map(|a| (a - l).exp()).collect()
        })
        .collect();
    for k in 0..3 {
        let nk: f64 = resp.iter().map(|r| r[k]).sum();
        let mut var_sum = Dd(0.0, 0.0);
        for j in 0..D {
            let mu_old = m.components().means()[(k, j)].as_f64();
            let mut s = Dd(0.0, 0.0);
            for (i, r) in resp.iter().enumerate() {
                s = s.add_dd(Dd::prod(r[k], x.view()[(i, j)].as_f64() - mu_old));
            }
            let mu = Dd(mu_old, 0.0).add_dd(s.div(nk));
            let mut q = Dd(0.0, 0.0);
            for (i, r) in resp.iter().enumerate() {
                let diff = Dd(x.view()[(i, j)].as_f64(), 0.0)
                    .add_dd(Dd(-mu.0, -mu.1))
                    .value();
                q = q.add_dd(Dd::prod(r[k], diff * diff));
            }
            let got_mu = next.components().means()[(k, j)].as_f64();
            // Half a unit in the last place of T at 10⁶ is unavoidable.
            let ulp = T::epsilon().as_f64() * mu.value().abs();
            assert!(
                (got_mu - mu.value()).abs()
                    <= ulp + tol_moments * (1.0 + (mu.value() - OFFSET).abs()),
                "{what}: mean ({k}, {j}): {got_mu} vs {}",
                mu.value()
            );
            let var = q.div(nk).value();
            if spherical {
                var_sum = var_sum.add(var);
            } else {
                let got = next.components().covariance_matrix(k)[(j, j)].as_f64();
                assert!(
                    (got - var).abs() <= tol_moments * var,
                    "{what}: variance ({k}, {j}): {got} vs {var}"
                );
            }
        }
        if spherical {
            let var = var_sum.value() / D as f64;
            let got = next.components().covariance_matrix(k)[(0, 0)].as_f64();
            assert!(
                (got - var).abs() <= tol_moments * var,
                "{what}: variance {k}: {got} vs {var}"
            );
        }
    }
}

#[test]
fn products_about_the_reference_keep_full_accuracy_far_from_the_origin_f64() {
    for spherical in [false, true] {
        // Products (Bₖ of a few units): the bound (2D + 2) u (Bₖ + D²) is ~1e-13.
        check::<f64>(false, spherical, 1e-12, 1e-10);
        // A component beyond the limit: every component takes the exact tiles.
        check::<f64>(true, spherical, 1e-12, 1e-10);
    }
}

#[test]
fn products_about_the_reference_keep_full_accuracy_far_from_the_origin_f32() {
    // The data are f32 (a spacing of 1/16 at 10⁶) and the reference takes them
    // as they are: what remains is rounding the results to f32.
    for spherical in [false, true] {
        check::<f32>(false, spherical, 2e-6, 1e-5);
        check::<f32>(true, spherical, 2e-6, 1e-5);
    }
}
