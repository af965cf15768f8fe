//! One fitted mixture laid out for scoring: the per-component log-density
//! from precomputed factors, and the log-sum-exp over components.

use crate::{Real, ScoreError};

/// The component family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `ln pₖ(x) = cₖ − ½ δ²`, `δ²` the squared Mahalanobis distance.
    Gaussian,
    /// `ln pₖ(x) = cₖ − Σⱼ |xⱼ − μⱼ| / bⱼ` (diagonal or spherical scales only).
    Laplace,
    /// `ln pₖ(x) = cₖ − ((νₖ + D)/2) ln(1 + δ²/νₖ)`.
    StudentT,
}

/// How the distance of a point from a component's centre is formed: the
/// inverse Cholesky factors `L⁻¹` of the covariances (`Σ = L Lᵀ`, so `L⁻ᵀ`
/// is the Cholesky factor of the precision, scikit-learn's
/// `precisions_cholesky_`), or inverse standard deviations (Gaussian,
/// Student-t) or inverse scales (Laplace).
///
/// A triangle is packed row by row: row `i` holds `L⁻¹[i, 0..=i]`, from
/// offset `i (i + 1) / 2`; `D (D + 1) / 2` values per matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale<'a, T> {
    /// `K` packed triangles, one per component.
    Full(&'a [T]),
    /// One packed triangle shared by every component.
    Tied(&'a [T]),
    /// `K × D` values, row-major (a tied diagonal structure repeats its row).
    Diag(&'a [T]),
    /// `K` values, one per component.
    Spherical(&'a [T]),
}

/// A uniform noise component: `ln w − ln V` inside the box `[lower, upper]`
/// (bounds included), `−∞` outside.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise<'a, T> {
    /// `ln w − ln V`: the noise's weighted log-density inside its box.
    pub log_density: T,
    /// `D` lower bounds.
    pub lower: &'a [T],
    /// `D` upper bounds.
    pub upper: &'a [T],
}

/// The arrays of a [`Mixture`], checked by [`Mixture::new`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MixtureParams<'a, T> {
    /// The dimension `D`.
    pub dim: usize,
    /// The component family.
    pub family: Family,
    /// `K` log mixing weights (`−∞` for a component of weight zero).
    pub log_weights: &'a [T],
    /// `K × D` means (locations), row-major.
    pub means: &'a [T],
    /// `K` log-densities at the centres: `−½ (D ln 2π + ln |Σₖ|)` for a
    /// Gaussian, `−Σⱼ ln(2 bₖⱼ)` for a Laplace, `ln Γ((ν+D)/2) − ln Γ(ν/2)
    /// − (D/2) ln(νπ) − ½ ln |Σₖ|` for a Student-t.
    pub log_norms: &'a [T],
    /// The factors of the distances.
    pub scale: Scale<'a, T>,
    /// `K` degrees of freedom for a Student-t, empty otherwise.
    pub dof: &'a [T],
    /// A uniform noise component, if the model has one.
    pub noise: Option<Noise<'a, T>>,
}

/// A fitted mixture whose arrays have been checked against each other: the
/// density of any point can be evaluated without a failed index.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mixture<'a, T> {
    p: MixtureParams<'a, T>,
    k: usize,
}

/// `Err` unless `found == expected`.
const fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), ScoreError> {
    if expected == found {
        Ok(())
    } else {
        Err(ScoreError::Length {
            what,
            expected,
            found,
        })
    }
}

/// Early return of an error from a `const fn` (where `?` is not allowed).
macro_rules! tri {
    ($e:expr) => {
        if let Err(e) = $e {
            return Err(e);
        }
    };
}

impl<'a, T: Copy> Mixture<'a, T> {
    /// Checks that every array has the length `D` and `K = log_weights.len()`
    /// call for, and that a Laplace mixture has diagonal or spherical
    /// scales. The values themselves are taken as given (the exporter checks
    /// that they are finite in `T`). A `const fn`, so that generated code
    /// checks its arrays when it compiles.
    ///
    /// # Errors
    /// [`ScoreError::Empty`] for `D = 0` or `K = 0`, [`ScoreError::Length`]
    /// naming the array, [`ScoreError::Unsupported`] for a Laplace family
    /// with full or tied scales.
    pub const fn new(p: MixtureParams<'a, T>) -> Result<Self, ScoreError> {
        let (d, k) = (p.dim, p.log_weights.len());
        if d == 0 {
            return Err(ScoreError::Empty { what: "dim" });
        }
        if k == 0 {
            return Err(ScoreError::Empty {
                what: "log_weights",
            });
        }
        let Some(kd) = k.checked_mul(d) else {
            return Err(ScoreError::Empty { what: "dim" });
        };
        tri!(check_len("means", kd, p.means.len()));
        tri!(check_len("log_norms", k, p.log_norms.len()));
        let tri = d * (d + 1) / 2;
        tri!(match p.scale {
            Scale::Full(f) => match (k.checked_mul(tri), p.family) {
                (_, Family::Laplace) => Err(ScoreError::Unsupported {
                    what: "a Laplace mixture with full scales",
                }),
                (Some(n), _) => check_len("scale (full)", n, f.len()),
                (None, _) => Err(ScoreError::Empty { what: "dim" }),
            },
            Scale::Tied(f) => match p.family {
                Family::Laplace => Err(ScoreError::Unsupported {
                    what: "a Laplace mixture with a tied scale",
                }),
                _ => check_len("scale (tied)", tri, f.len()),
            },
            Scale::Diag(s) => check_len("scale (diag)", kd, s.len()),
            Scale::Spherical(s) => check_len("scale (spherical)", k, s.len()),
        });
        let dof = match p.family {
            Family::StudentT => k,
            Family::Gaussian | Family::Laplace => 0,
        };
        tri!(check_len("dof", dof, p.dof.len()));
        if let Some(n) = &p.noise {
            tri!(check_len("noise.lower", d, n.lower.len()));
            tri!(check_len("noise.upper", d, n.upper.len()));
        }
        Ok(Self { p, k })
    }

    /// The dimension `D`.
    pub const fn dim(&self) -> usize {
        self.p.dim
    }

    /// The number of components `K` (without the noise).
    pub const fn n_components(&self) -> usize {
        self.k
    }

    /// The arrays.
    pub const fn params(&self) -> &MixtureParams<'a, T> {
        &self.p
    }
}

impl<T: Real> Mixture<'_, T> {
    /// `ln wₖ + ln pₖ(x)` of component `k < K`; `x` has `D` values (both
    /// checked by the caller). NaN (`∞ − ∞` from a distance that overflowed)
    /// is `−∞`, as in the library: the point is infinitely far.
    #[inline]
    fn weighted_log_density(&self, k: usize, x: &[T]) -> T {
        let p = &self.p;
        let d = p.dim;
        let mean = &p.means[k * d..(k + 1) * d];
        let tri = d * (d + 1) / 2;
        let dist = match p.scale {
            Scale::Full(f) => triangular(&f[k * tri..(k + 1) * tri], x, mean),
            Scale::Tied(f) => triangular(f, x, mean),
            Scale::Diag(s) => axis(p.family, &s[k * d..(k + 1) * d], x, mean),
            Scale::Spherical(s) => axis(p.family, core::slice::from_ref(&s[k]), x, mean),
        };
        let norm = p.log_norms[k];
        let v = match p.family {
            Family::Gaussian => norm - T::HALF * dist,
            Family::Laplace => norm - dist,
            Family::StudentT => {
                let nu = p.dof[k];
                let e = T::HALF * (nu + T::from_usize(d));
                norm - e * (dist / nu).ln_1p()
            }
        } + p.log_weights[k];
        if v.is_nan() { T::NEG_INFINITY } else { v }
    }

    /// `ln p(x)` and the most likely component (the largest `ln wₖ pₖ(x)`,
    /// ties to the lower index; `K` for the noise), in one pass with a
    /// running log-sum-exp. `x` must have `D` values.
    pub(crate) fn evaluate(&self, x: &[T]) -> (T, usize) {
        let mut lse = LogSumExp::new();
        for k in 0..self.k {
            lse.push(self.weighted_log_density(k, x), k);
        }
        if let Some(n) = &self.p.noise {
            let inside = x
                .iter()
                .zip(n.lower.iter().zip(n.upper))
                .all(|(&v, (&a, &b))| v >= a && v <= b);
            if inside {
                lse.push(n.log_density, self.k);
            }
        }
        lse.finish()
    }
}

/// `‖L⁻¹ (x − μ)‖²` from the packed rows of `L⁻¹`, without storing
/// `x − μ`: the scorer needs no buffer whatever `D`.
#[inline]
fn triangular<T: Real>(packed: &[T], x: &[T], mean: &[T]) -> T {
    let mut sum = T::ZERO;
    let mut start = 0;
    for i in 1..=x.len() {
        let row = &packed[start..start + i];
        start += i;
        // Four partial sums: one chain of dependent additions per row was
        // bound by the adder's latency (1.6x slower in f64, 1.1x in f32, at d = 16).
        let mut acc = [T::ZERO; 4];
        let (xs, ms) = (&x[..i], &mean[..i]);
        let (rc, xc, mc) = (row.chunks_exact(4), xs.chunks_exact(4), ms.chunks_exact(4));
        let tail = rc
            .remainder()
            .iter()
            .zip(xc.remainder())
            .zip(mc.remainder());
        for ((l, v), m) in rc.zip(xc).zip(mc) {
            acc[0] += l[0] * (v[0] - m[0]);
            acc[1] += l[1] * (v[1] - m[1]);
            acc[2] += l[2] * (v[2] - m[2]);
            acc[3] += l[3] * (v[3] - m[3]);
        }
        for ((&l, &v), &m) in tail {
            acc[0] += l * (v - m);
        }
        let z = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        sum += z * z;
    }
    sum
}

/// The squared (Gaussian, Student-t) or absolute (Laplace) scaled distance
/// with one inverse scale per feature, or one for all (`inv.len() == 1`).
#[inline]
fn axis<T: Real>(family: Family, inv: &[T], x: &[T], mean: &[T]) -> T {
    let mut sum = T::ZERO;
    for (j, (&v, &m)) in x.iter().zip(mean).enumerate() {
        let s = if inv.len() == 1 { inv[0] } else { inv[j] };
        let z = (v - m) * s;
        sum += match family {
            Family::Laplace => z.abs(),
            Family::Gaussian | Family::StudentT => z * z,
        };
    }
    sum
}

/// A running `ln Σ exp(vₖ)` shifted by the largest value so far (one `exp`
/// per value, two when the largest changes), and the index of the largest.
struct LogSumExp<T> {
    max: T,
    sum: T,
    arg: usize,
}

impl<T: Real> LogSumExp<T> {
    fn new() -> Self {
        Self {
            max: T::NEG_INFINITY,
            sum: T::ZERO,
            arg: 0,
        }
    }

    #[inline]
    fn push(&mut self, v: T, index: usize) {
        if v > self.max {
            // The sum so far, rescaled to the new maximum (exp(−∞) = 0 on the
            // first finite value).
            self.sum = self.sum * (self.max - v).exp() + T::ONE;
            self.max = v;
            self.arg = index;
        } else if v > T::NEG_INFINITY {
            self.sum += (v - self.max).exp();
        }
    }

    fn finish(self) -> (T, usize) {
        if self.max > T::NEG_INFINITY {
            (self.max + self.sum.ln(), self.arg)
        } else {
            (T::NEG_INFINITY, self.arg)
        }
    }
}
