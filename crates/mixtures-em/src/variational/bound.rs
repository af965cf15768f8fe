//! The evidence lower bound and the entropy of the responsibilities it needs, from the fused pass's statistics alone.

use super::*;

/// The entropy `−Σᵢ wᵢ Σₖ rᵢₖ ln rᵢₖ` of the responsibilities of the pass that
/// produced `st` under `mix`, from its statistics alone.
///
/// With `ℓᵢₖ = ln wₖ + ln N(xᵢ | μₖ, Σₖ)` and `Lᵢ = ln Σₖ exp ℓᵢₖ`,
/// `ln rᵢₖ = ℓᵢₖ − Lᵢ` and `Σₖ rᵢₖ = 1`, so the entropy is
/// `Σᵢ wᵢ Lᵢ − Σₖ Σᵢ wᵢ rᵢₖ ℓᵢₖ`. The first sum is the pass's log-likelihood;
/// in the second, `ℓᵢₖ` is a constant minus half a quadratic form in
/// `xᵢ − μₖ`, and the pass accumulated `Σᵢ wᵢ rᵢₖ (xᵢ − μₖ)(xᵢ − μₖ)ᵀ` about
/// the means: `Σᵢ wᵢ rᵢₖ ℓᵢₖ = Nₖ (ln wₖ + cₖ) − ½ tr(Σₖ⁻¹ Sₖ)`.
pub(super) fn entropy<T: Scalar>(
    st: &Stats<T>,
    mix: &GaussianMixtureModel<T>,
) -> Result<f64, FitError> {
    let comps = mix.components();
    let d = comps.means().ncols();
    let ln2pi_d = d as f64 * LN_2PI;
    // Σⱼₗ Pⱼₗ Sⱼₗ for a full precision P and the lower triangle of S.
    let trace_full = |p: &Mat<f64>, s: &Mat<T>| {
        let mut t = 0.0;
        for j in 0..d {
            t += p[(j, j)] * s[(j, j)].as_f64();
            for i in j + 1..d {
                t += 2.0 * p[(i, j)] * s[(i, j)].as_f64();
            }
        }
        t
    };
    let precision = |cov: &Mat<T>| -> Result<Mat<f64>, FitError> {
        let chol = Cholesky::new(cov.as_ref()).map_err(|e| FitError::Degenerate {
            reason: e.to_string(),
        })?;
        let li = chol.l_inv();
        // P = L⁻ᵀ L⁻¹.
        Ok(Mat::from_fn(d, d, |i, j| {
            (i.max(j)..d)
                .map(|r| li[(r, i)].as_f64() * li[(r, j)].as_f64())
                .sum()
        }))
    };
    let tied = match comps.covariances() {
        Covariances::Tied(c) => Some(precision(c)?),
        _ => None,
    };
    let mut expected = 0.0;
    for (k, &w) in mix.weights().iter().enumerate() {
        let nk = st.nk[k].as_f64();
        // A component without responsibility adds nothing (and may have
        // ln w = −∞).
        if nk == 0.0 {
            continue;
        }
        let quad = match comps.covariances() {
            Covariances::Full(c) => trace_full(&precision(&c[k])?, &st.full[k]),
            Covariances::Tied(_) => match &tied {
                Some(p) => trace_full(p, &st.full[k]),
                None => 0.0,
            },
            Covariances::Diag(v) => (0..d)
                .map(|j| st.diag[(k, j)].as_f64() / v[(k, j)].as_f64())
                .sum(),
            Covariances::Spherical(v) => {
                (0..d).map(|j| st.diag[(k, j)].as_f64()).sum::<f64>() / v[k].as_f64()
            }
        };
        let norm = -0.5 * (ln2pi_d + comps.log_det(k).as_f64());
        expected += nk * (Float::ln(w).as_f64() + norm) - 0.5 * quad;
    }
    Ok(st.ll - expected)
}

/// scikit-learn's lower bound, from the E-step's entropy and the posterior
/// after the M-step: `H − Σₖ ln B(Wₖ, νₖ) − ln C(weights) − ½ D Σₖ ln βₖ`
/// (constants dropped), with `B` the Wishart normalizer and `C` the Dirichlet
/// (or product of Beta) normalizer. Tied covariances count the shared Wishart
/// once per component, as scikit-learn does.
pub(super) fn lower_bound<T: Scalar>(
    entropy: f64,
    post: &Posterior<T>,
    comps: &Gaussian<T>,
) -> f64 {
    let d = comps.means().ncols();
    let dd = d as f64;
    let mut log_wishart = 0.0;
    for (k, nu) in post.degrees_of_freedom.iter().enumerate() {
        let nu = nu.as_f64();
        // ln |L_Λ| of the expected-precision Cholesky factor, where the stored
        // covariances are normalized by ν: −½ ln |covₖ| − ½ D ln νₖ.
        let ln_det_chol = -0.5 * comps.log_det(k).as_f64() - 0.5 * dd * nu.ln();
        let lg: f64 = (0..d).map(|j| ln_gamma(0.5 * (nu - j as f64))).sum();
        log_wishart -= nu * ln_det_chol + nu * dd * 0.5 * core::f64::consts::LN_2 + lg;
    }
    let log_norm_weight = match &post.weight_concentration {
        WeightConcentration::Dirichlet(a) => {
            let total: f64 = a.iter().map(|v| v.as_f64()).sum();
            ln_gamma(total) - a.iter().map(|v| ln_gamma(v.as_f64())).sum::<f64>()
        }
        WeightConcentration::StickBreaking { alpha, beta } => -alpha
            .iter()
            .zip(beta)
            .map(|(a, b)| ln_beta(a.as_f64(), b.as_f64()))
            .sum::<f64>(),
    };
    let ln_beta_sum: f64 = post.mean_precision.iter().map(|b| b.as_f64().ln()).sum();
    entropy - log_wishart - log_norm_weight - 0.5 * dd * ln_beta_sum
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Overlapping clusters (so that responsibilities are far from 0 and 1),
    /// optionally weighted.
    fn data(weighted: bool) -> Dataset<f64> {
        let rows: Vec<[f64; 3]> = (0..700)
            .map(|i| {
                let t = i as f64;
                let c = (i % 3) as f64 * 1.5;
                [
                    c + (t * 0.37).sin(),
                    -c + (t * 0.11).cos() * 1.3,
                    (t * 0.73).sin() * (t * 0.05).cos(),
                ]
            })
            .collect();
        let d = Dataset::from_rows(&rows).unwrap();
        if weighted {
            d.with_weights((0..700).map(|i| (i % 4) as f64 * 0.5).collect())
                .unwrap()
        } else {
            d
        }
    }

    /// The entropy from the pass's statistics equals the entropy of the
    /// responsibilities computed row by row.
    #[test]
    fn entropy_from_statistics_is_exact() {
        for weighted in [false, true] {
            let x = data(weighted);
            for ct in Covariance::SKLEARN {
                for wp in [
                    WeightPrior::DirichletProcess,
                    WeightPrior::DirichletDistribution,
                ] {
                    let p = VariationalGaussianMixture::params::<f64>(4)
                        .covariance(ct)
                        .weight_prior(wp);
                    let resp = Mat::from_fn(700, 4, |i, c| {
                        let v = [(i % 5) as f64 + 1.0, 2.0, (i % 3) as f64 + 0.5, 1.0];
                        v[c] / v.iter().sum::<f64>()
                    });
                    let mut s = p.init_from_responsibilities(&x, resp.as_ref()).unwrap();
                    for _ in 0..3 {
                        s = p.step(&s, &x).unwrap();
                    }
                    let (_, h) = p.e_step(&s, &x).unwrap();
                    let mix = expected_mixture(&s.posterior, &s.components).unwrap();
                    let r = mix.responsibilities(&x).unwrap();
                    let mut direct = 0.0;
                    for i in 0..700 {
                        let w = x.weights().map_or(1.0, |w| w[i]);
                        for c in 0..4 {
                            let v = r[(i, c)];
                            if v > 0.0 {
                                direct -= w * v * v.ln();
                            }
                        }
                    }
                    assert!(direct > 1.0, "{ct}: responsibilities too certain to test");
                    assert!(
                        ((h - direct) / direct).abs() < 1e-10,
                        "{ct} {wp:?} weighted {weighted}: {h} vs {direct}"
                    );
                }
            }
        }
    }
}
