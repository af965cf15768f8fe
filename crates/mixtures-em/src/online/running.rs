//! The running statistics of stepwise EM in a shift-free form.
//!
//! An E-step's [`Stats`] are sums about shifts fixed by the model of that
//! E-step (its means), so statistics of two batches taken under two models
//! cannot be added. Per component, the count, the mean and the scatter about
//! the mean can: two weighted sets of rows with masses `a`, `b`, means
//! `μa`, `μb` and scatters `Sa`, `Sb` have the mass `a + b`, the mean
//! `μa + (b / (a + b)) δ` and the scatter `Sa + Sb + (a b / (a + b)) δ δᵀ`
//! with `δ = μb − μa` (Chan, Golub & LeVeque 1979). The combination is exact
//! and never subtracts two large second moments, so it loses no digits to
//! the data's offset however long the stream. Everything is kept per unit of
//! weight (the masses sum to one) and in `f64`, whatever `T`.

use faer::Mat;
use mixtures_core::Scalar;
use mixtures_dist::GaussianMixtureModel;

use crate::constraint::Scatter;
use crate::mstep::Moments;
use crate::pass::Stats;

/// Per-component mass, mean and scatter about the mean, per unit of weight.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Running {
    k: usize,
    d: usize,
    full: bool,
    /// `K`: the component's share of the weight.
    mass: Vec<f64>,
    /// `K x D`, row-major.
    means: Vec<f64>,
    /// `K x D x D` (full, both triangles) or `K x D` (diagonal), row-major.
    scatter: Vec<f64>,
}

impl Running {
    fn zeros(k: usize, d: usize, full: bool) -> Self {
        Self {
            k,
            d,
            full,
            mass: vec![0.0; k],
            means: vec![0.0; k * d],
            scatter: vec![0.0; if full { k * d * d } else { k * d }],
        }
    }

    fn width(&self) -> usize {
        if self.full { self.d * self.d } else { self.d }
    }

    /// The statistics of one E-step (accumulated about `shifts`, finished)
    /// over rows of total weight `total`.
    pub(crate) fn from_stats<T: Scalar>(
        st: &Stats<T>,
        shifts: &Mat<T>,
        full: bool,
        total: f64,
    ) -> Self {
        let (k, d) = (shifts.nrows(), shifts.ncols());
        let mut r = Self::zeros(k, d, full);
        for c in 0..k {
            let n = st.nk[c].as_f64();
            r.mass[c] = n / total;
            let s: Vec<f64> = (0..d).map(|j| st.s[(c, j)].as_f64()).collect();
            // An empty component keeps the shift as its mean and no scatter:
            // it then adds nothing to a combination.
            let inv = if n > 0.0 { 1.0 / n } else { 0.0 };
            for j in 0..d {
                r.means[c * d + j] = shifts[(c, j)].as_f64() + s[j] * inv;
            }
            if full {
                let g = &st.full[c];
                for i in 0..d {
                    for j in 0..d {
                        let (a, b) = if i >= j { (i, j) } else { (j, i) };
                        r.scatter[(c * d + i) * d + j] =
                            (g[(a, b)].as_f64() - s[i] * s[j] * inv) / total;
                    }
                }
            } else {
                for (j, sj) in s.iter().enumerate() {
                    let v = st.diag[(c, j)].as_f64() - sj * sj * inv;
                    r.scatter[c * d + j] = v.max(0.0) / total;
                }
            }
        }
        r
    }

    /// The moments a model implies: mass = weight, its means, and scatter =
    /// weight × covariance (a start that the M-step maps back onto the
    /// model, up to the ridge and the regularizers).
    pub(crate) fn from_model<T: Scalar>(model: &GaussianMixtureModel<T>, full: bool) -> Self {
        let g = model.components();
        let (k, d) = (model.n_components(), model.dim());
        let mut r = Self::zeros(k, d, full);
        for c in 0..k {
            let w = model.weights()[c].as_f64();
            r.mass[c] = w;
            for (j, v) in g.mean(c).iter().enumerate() {
                r.means[c * d + j] = v.as_f64();
            }
            let cov = g.covariance_matrix(c);
            for i in 0..d {
                if full {
                    for j in 0..d {
                        r.scatter[(c * d + i) * d + j] = w * cov[(i, j)].as_f64();
                    }
                } else {
                    r.scatter[c * d + i] = w * cov[(i, i)].as_f64();
                }
            }
        }
        r
    }

    /// `self ← (1 − η) self + η other`, component by component, exactly.
    pub(crate) fn blend(&mut self, eta: f64, other: &Self) {
        let (d, w) = (self.d, self.width());
        for c in 0..self.k {
            let a = (1.0 - eta) * self.mass[c];
            let b = eta * other.mass[c];
            let m = a + b;
            let (fa, fb, cross) = if m > 0.0 {
                (a / m, b / m, a * b / m)
            } else {
                (1.0, 0.0, 0.0)
            };
            let delta: Vec<f64> = (0..d)
                .map(|j| other.means[c * d + j] - self.means[c * d + j])
                .collect();
            for (j, dj) in delta.iter().enumerate() {
                self.means[c * d + j] = fa * self.means[c * d + j] + fb * other.means[c * d + j];
                if !self.full {
                    let s = &mut self.scatter[c * w + j];
                    *s = (1.0 - eta) * *s + eta * other.scatter[c * w + j] + cross * dj * dj;
                }
            }
            if self.full {
                for i in 0..d {
                    for j in 0..d {
                        let at = c * w + i * d + j;
                        self.scatter[at] = (1.0 - eta) * self.scatter[at]
                            + eta * other.scatter[at]
                            + cross * delta[i] * delta[j];
                    }
                }
            }
            self.mass[c] = m;
        }
    }

    /// The moments for an M-step, scaled to the total weight `scale` the
    /// running statistics stand for.
    pub(crate) fn moments<T: Scalar>(&self, scale: f64) -> Moments<T> {
        let (k, d, w) = (self.k, self.d, self.width());
        let guard = T::c(10.0) * T::epsilon();
        let raw_nk: Vec<T> = self.mass.iter().map(|&m| T::c(m * scale)).collect();
        let nk = raw_nk.iter().map(|&n| n + guard).collect();
        let means = Mat::from_fn(k, d, |c, j| T::c(self.means[c * d + j]));
        let scatter = if self.full {
            Scatter::Full(
                (0..k)
                    .map(|c| {
                        Mat::from_fn(d, d, |i, j| T::c(scale * self.scatter[c * w + i * d + j]))
                    })
                    .collect(),
            )
        } else {
            Scatter::Diagonal(Mat::from_fn(k, d, |c, j| {
                T::c(scale * self.scatter[c * w + j])
            }))
        };
        Moments {
            raw_nk,
            nk,
            means,
            scatter,
        }
    }

    /// Number of components.
    pub(crate) fn n_components(&self) -> usize {
        self.k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with weights as a `Running` of one component, directly.
    fn direct(rows: &[[f64; 2]], w: &[f64], full: bool) -> Running {
        let total: f64 = w.iter().sum();
        let mut r = Running::zeros(1, 2, full);
        r.mass[0] = 1.0;
        for j in 0..2 {
            r.means[j] = rows.iter().zip(w).map(|(x, w)| w * x[j]).sum::<f64>() / total;
        }
        for i in 0..2 {
            for j in 0..2 {
                let s: f64 = rows
                    .iter()
                    .zip(w)
                    .map(|(x, w)| w * (x[i] - r.means[i]) * (x[j] - r.means[j]))
                    .sum::<f64>()
                    / total;
                if full {
                    r.scatter[i * 2 + j] = s;
                } else if i == j {
                    r.scatter[i] = s;
                }
            }
        }
        r
    }

    #[test]
    fn blending_is_the_statistics_of_the_union() {
        let a: Vec<[f64; 2]> = (0..7).map(|i| [1e6 + i as f64, (i * i) as f64]).collect();
        let b: Vec<[f64; 2]> = (0..5)
            .map(|i| [1e6 - 3.0 * i as f64, 2.0 - i as f64])
            .collect();
        for full in [true, false] {
            let mut ra = direct(&a, &[1.0; 7], full);
            let rb = direct(&b, &[1.0; 5], full);
            // The union with each row of `a` weighted (1 − η)/7 and of `b` η/5.
            let eta = 0.3;
            let all: Vec<[f64; 2]> = a.iter().chain(&b).copied().collect();
            let w: Vec<f64> = (0..12)
                .map(|i| if i < 7 { (1.0 - eta) / 7.0 } else { eta / 5.0 })
                .collect();
            let want = direct(&all, &w, full);
            ra.blend(eta, &rb);
            assert!((ra.mass[0] - 1.0).abs() < 1e-15);
            for (x, y) in ra.means.iter().zip(&want.means) {
                assert!((x - y).abs() < 1e-9 * y.abs().max(1.0), "{x} {y}");
            }
            for (x, y) in ra.scatter.iter().zip(&want.scatter) {
                assert!((x - y).abs() < 1e-9 * y.abs().max(1.0), "{x} {y}");
            }
        }
    }

    #[test]
    fn an_empty_side_changes_nothing() {
        let a = direct(&[[1.0, 2.0], [3.0, 5.0]], &[1.0, 1.0], true);
        let mut empty = Running::zeros(1, 2, true);
        empty.blend(0.4, &a);
        assert_eq!(empty.means, a.means);
        let mut b = a.clone();
        b.blend(0.0, &Running::zeros(1, 2, true));
        assert_eq!(b, a);
    }
}
