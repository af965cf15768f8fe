//! The coordinate-ascent updates: the posterior's types, the start from responsibilities, one iteration (the E-step through the fused pass under the expected mixture, then the M-step).

use super::*;

/// The variational posterior of the weights.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightConcentration<T: Scalar> {
    /// A Dirichlet distribution with these `K` concentrations.
    Dirichlet(Vec<T>),
    /// Independent `Beta(αₖ, βₖ)` distributions of the `K` stick proportions.
    StickBreaking {
        /// `αₖ = 1 + Nₖ`.
        alpha: Vec<T>,
        /// `βₖ = γ + Σ_{j>k} Nⱼ`.
        beta: Vec<T>,
    },
}

/// The variational posterior of the parameters, in scikit-learn's shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior<T: Scalar> {
    /// Of the weights.
    pub weight_concentration: WeightConcentration<T>,
    /// `βₖ = β₀ + Nₖ` (scikit-learn's `mean_precision_`).
    pub mean_precision: Vec<T>,
    /// The `K x D` posterior means `mₖ` (`means_`).
    pub means: Mat<T>,
    /// `νₖ = ν₀ + Nₖ` (`ν₀ + N / K`, the same for every component, when tied).
    pub degrees_of_freedom: Vec<T>,
    /// The Wishart scale inverses divided by their degrees of freedom
    /// (`covariances_`): the expected precision of component `k` is the inverse
    /// of its covariance here.
    pub covariances: Covariances<T>,
}

impl<T: Scalar> Posterior<T> {
    /// The expected mixing weights (scikit-learn's `weights_`), summing to one.
    pub fn weights(&self) -> Vec<T> {
        let w: Vec<f64> = match &self.weight_concentration {
            WeightConcentration::Dirichlet(a) => a.iter().map(|v| v.as_f64()).collect(),
            WeightConcentration::StickBreaking { alpha, beta } => {
                // E[vₖ] Πⱼ<ₖ E[1 − vⱼ]: the expected stick lengths.
                let mut rest = 1.0;
                alpha
                    .iter()
                    .zip(beta)
                    .map(|(&a, &b)| {
                        let (a, b) = (a.as_f64(), b.as_f64());
                        let wk = rest * a / (a + b);
                        rest *= b / (a + b);
                        wk
                    })
                    .collect()
            }
        };
        let total: f64 = w.iter().sum();
        w.iter().map(|&v| T::c(v / total)).collect()
    }

    /// `E[ln πₖ]` under the posterior of the weights.
    fn expected_log_weights(&self) -> Vec<f64> {
        match &self.weight_concentration {
            WeightConcentration::Dirichlet(a) => {
                let total: f64 = a.iter().map(|v| v.as_f64()).sum();
                let psi_total = digamma(total);
                a.iter().map(|&v| digamma(v.as_f64()) - psi_total).collect()
            }
            WeightConcentration::StickBreaking { alpha, beta } => {
                // E[ln vₖ] + Σⱼ<ₖ E[ln(1 − vⱼ)].
                let mut rest = 0.0;
                alpha
                    .iter()
                    .zip(beta)
                    .map(|(&a, &b)| {
                        let (a, b) = (a.as_f64(), b.as_f64());
                        let psi_sum = digamma(a + b);
                        let e = digamma(a) - psi_sum + rest;
                        rest += digamma(b) - psi_sum;
                        e
                    })
                    .collect()
            }
        }
    }
}

impl<T: Scalar> VariationalParams<T> {
    pub(super) fn start(
        &self,
        data: &Dataset<T>,
        prior: Prior<T>,
        resp: MatRef<'_, T>,
    ) -> Result<VariationalState<T>, FitError> {
        // Scatter is accumulated about the prior mean (the data mean by
        // default): close to every component, so second moments stay accurate.
        let shifts = Mat::from_fn(self.k, data.n_features(), |_, j| prior.mean[j]);
        let st = gaussian_pass(
            data.view(),
            data.weights(),
            Source::Resp(resp),
            &shifts,
            self.full_scatter(),
        );
        let (posterior, components) = self.m_step(&st, &shifts, &prior)?;
        Ok(VariationalState {
            prior,
            posterior,
            components,
            lower_bound: None,
        })
    }

    /// One iteration: the E-step under `state` (one pass over the data) and the
    /// M-step; the returned state carries the lower bound.
    ///
    /// # Errors
    /// [`FitError::Data`] if the data have another dimension than the state,
    /// [`FitError::Degenerate`] if the posterior gives no valid Gaussian.
    pub fn step(
        &self,
        state: &VariationalState<T>,
        data: &Dataset<T>,
    ) -> Result<VariationalState<T>, FitError> {
        data.check_dim(state.prior.mean.len())?;
        if state.posterior.means.nrows() != self.k {
            return Err(FitError::invalid(
                "n_components",
                self.k,
                "differs from the number of components of the state",
            ));
        }
        self.iteration(state, data)
    }

    pub(super) fn iteration(
        &self,
        state: &VariationalState<T>,
        data: &Dataset<T>,
    ) -> Result<VariationalState<T>, FitError> {
        let (st, entropy) = self.e_step(state, data)?;
        let (posterior, components) = self.m_step(&st, &state.posterior.means, &state.prior)?;
        let lb = lower_bound(entropy, &posterior, &components);
        Ok(VariationalState {
            prior: state.prior.clone(),
            posterior,
            components,
            lower_bound: Some(lb),
        })
    }

    /// The E-step: the fused pass under the mixture whose log-weights are the
    /// per-component variational offsets, and the entropy of its
    /// responsibilities.
    pub(super) fn e_step(
        &self,
        state: &VariationalState<T>,
        data: &Dataset<T>,
    ) -> Result<(Stats<T>, f64), FitError> {
        let post = &state.posterior;
        let mix = expected_mixture(post, &state.components)?;
        let shifts = post.means.clone();
        let st = gaussian_pass(
            data.view(),
            data.weights(),
            Source::Model(&mix),
            &shifts,
            self.full_scatter(),
        );
        let h = entropy(&st, &mix)?;
        Ok((st, h))
    }

    /// The M-step from weighted statistics about `shifts`.
    pub(super) fn m_step(
        &self,
        st: &Stats<T>,
        shifts: &Mat<T>,
        prior: &Prior<T>,
    ) -> Result<(Posterior<T>, Gaussian<T>), FitError> {
        let (k, d) = (st.nk.len(), shifts.ncols());
        let kk = T::from_usize(k);
        // As scikit-learn: 10 ε on every count, so an empty component divides
        // by something positive and takes its prior values.
        let guard = T::c(10.0) * T::epsilon();
        let nk: Vec<T> = st.nk.iter().map(|&v| v + guard).collect();
        let xbar = Mat::from_fn(k, d, |c, j| shifts[(c, j)] + st.s[(c, j)] / nk[c]);
        let reg = T::c(self.control.reg_covar);
        let b0 = prior.mean_precision;
        let nu0 = prior.degrees_of_freedom;
        let m0 = &prior.mean;
        let beta: Vec<T> = nk.iter().map(|&n| b0 + n).collect();
        let means = Mat::from_fn(k, d, |c, j| (b0 * m0[j] + nk[c] * xbar[(c, j)]) / beta[c]);
        let diff = |c: usize, j: usize| xbar[(c, j)] - m0[j];
        // Scatter about x̄ₖ from the scatter about the shift: W = S − s sᵀ / N.
        let scatter = |c: usize, i: usize, j: usize| {
            let (a, b) = if i >= j { (i, j) } else { (j, i) };
            st.full[c][(a, b)] - st.s[(c, a)] * st.s[(c, b)] / nk[c]
        };
        let scatter_diag = |c: usize, j: usize| {
            let w = st.diag[(c, j)] - st.s[(c, j)] * st.s[(c, j)] / nk[c];
            if w > T::zero() { w } else { T::zero() }
        };
        let eye = |i: usize, j: usize| if i == j { reg } else { T::zero() };
        let psi_matrix = |i: usize, j: usize| match &prior.covariance {
            CovariancePrior::Matrix(a) => a[(i, j)],
            CovariancePrior::Diagonal(v) => {
                if i == j {
                    v[i]
                } else {
                    T::zero()
                }
            }
            CovariancePrior::Spherical(v) => {
                if i == j {
                    *v
                } else {
                    T::zero()
                }
            }
        };
        let psi_diag = |j: usize| psi_matrix(j, j);
        let psi_scalar = match &prior.covariance {
            CovariancePrior::Spherical(v) => *v,
            CovariancePrior::Diagonal(v) => v.iter().copied().sum::<T>() / T::from_usize(d),
            CovariancePrior::Matrix(a) => (0..d).map(|j| a[(j, j)]).sum::<T>() / T::from_usize(d),
        };
        let (dof, covariances) = match self.covariance {
            Covariance::Tied => {
                let n_total: T = nk.iter().copied().sum();
                let nu = nu0 + n_total / kk;
                let cov = Mat::from_fn(d, d, |i, j| {
                    let w: T = (0..k).map(|c| scatter(c, i, j)).sum();
                    let sk = w / n_total + eye(i, j);
                    let spread: T = (0..k)
                        .map(|c| nk[c] / beta[c] * diff(c, i) * diff(c, j))
                        .sum();
                    (psi_matrix(i, j) + sk * n_total / kk + b0 / kk * spread) / nu
                });
                (vec![nu; k], Covariances::Tied(cov))
            }
            Covariance::Diag => {
                let dof: Vec<T> = nk.iter().map(|&n| nu0 + n).collect();
                let v = Mat::from_fn(k, d, |c, j| {
                    let sk = scatter_diag(c, j) / nk[c] + reg;
                    let dj = diff(c, j);
                    (psi_diag(j) + nk[c] * (sk + b0 / beta[c] * dj * dj)) / dof[c]
                });
                (dof, Covariances::Diag(v))
            }
            Covariance::Spherical => {
                let dof: Vec<T> = nk.iter().map(|&n| nu0 + n).collect();
                let dd = T::from_usize(d);
                let v = (0..k)
                    .map(|c| {
                        let sk = (0..d).map(|j| scatter_diag(c, j) / nk[c] + reg).sum::<T>() / dd;
                        let spread = (0..d).map(|j| diff(c, j) * diff(c, j)).sum::<T>() / dd;
                        (psi_scalar + nk[c] * (sk + b0 / beta[c] * spread)) / dof[c]
                    })
                    .collect();
                (dof, Covariances::Spherical(v))
            }
            // Full, and any type added later, get one full matrix per component.
            _ => {
                let dof: Vec<T> = nk.iter().map(|&n| nu0 + n).collect();
                let covs = (0..k)
                    .map(|c| {
                        let f = nk[c] * b0 / beta[c];
                        Mat::from_fn(d, d, |i, j| {
                            let sk = scatter(c, i, j) / nk[c] + eye(i, j);
                            (psi_matrix(i, j) + nk[c] * sk + f * diff(c, i) * diff(c, j)) / dof[c]
                        })
                    })
                    .collect();
                (dof, Covariances::Full(covs))
            }
        };
        let gamma = prior.weight_concentration;
        let weight_concentration = match prior.weight_prior {
            WeightPrior::DirichletDistribution => {
                WeightConcentration::Dirichlet(nk.iter().map(|&n| gamma + n).collect())
            }
            WeightPrior::DirichletProcess => {
                // βₖ = γ + Σ_{j>k} Nⱼ, a running sum from the last component.
                let mut beta_w = vec![gamma; k];
                let mut tail = T::zero();
                for c in (0..k).rev() {
                    beta_w[c] = gamma + tail;
                    tail += nk[c];
                }
                WeightConcentration::StickBreaking {
                    alpha: nk.iter().map(|&n| T::one() + n).collect(),
                    beta: beta_w,
                }
            }
        };
        let components = Gaussian::new(means.clone(), covariances.clone()).map_err(|e| {
            FitError::Degenerate {
                reason: e.to_string(),
            }
        })?;
        Ok((
            Posterior {
                weight_concentration,
                mean_precision: beta,
                means,
                degrees_of_freedom: dof,
                covariances,
            },
            components,
        ))
    }
}

/// The mixture under which the E-step's responsibilities are those of the
/// variational posterior: the posterior components, and log-weights
///
/// `cₖ = E[ln πₖ] + ½ E[ln |Λₖ|] − ½ D ln νₖ − D / (2 βₖ)` (up to a constant),
///
/// with `E[ln |Λₖ|] = D ln 2 + Σⱼ ψ((νₖ − j) / 2) − ln |covₖ νₖ|`: the
/// `ln |covₖ|` part is in the Gaussian density already and the stored
/// covariances are normalized by `νₖ`. Responsibilities do not change when
/// every offset moves by the same amount, so the offsets are normalized into
/// weights that sum to one.
pub(super) fn expected_mixture<T: Scalar>(
    post: &Posterior<T>,
    comps: &Gaussian<T>,
) -> Result<GaussianMixtureModel<T>, FitError> {
    let d = comps.means().ncols();
    let dd = d as f64;
    let offsets: Vec<f64> = post
        .expected_log_weights()
        .iter()
        .enumerate()
        .map(|(k, &e)| {
            let nu = post.degrees_of_freedom[k].as_f64();
            let beta = post.mean_precision[k].as_f64();
            let ln_lambda = dd * core::f64::consts::LN_2
                + (0..d).map(|j| digamma(0.5 * (nu - j as f64))).sum::<f64>();
            e - 0.5 * dd * nu.ln() + 0.5 * (ln_lambda - dd / beta)
        })
        .collect();
    let lse = log_sum_exp(&offsets);
    let weights = offsets.iter().map(|&c| T::c((c - lse).exp())).collect();
    Ok(Mixture::new(weights, comps.clone())?)
}
