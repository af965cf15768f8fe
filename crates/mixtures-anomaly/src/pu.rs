//! Thresholds from a few labelled anomalies among unlabelled data (learning
//! from positive and unlabelled examples, Elkan & Noto, KDD 2008).
//!
//! Elkan and Noto assume the labelled anomalies are a random sample of all
//! anomalies ("selected completely at random"), with probability
//! `c = P(labelled | anomaly)`. Then a model `g(s) = P(labelled | s)` of the
//! labelled-versus-unlabelled split gives `P(anomaly | s) = g(s) / c`, and `c`
//! is estimated by the mean of `g` over the labelled anomalies. A point is
//! flagged when `P(anomaly | s) > 1/2`, that is `g(s) > c / 2`.

use mixtures_core::Scalar;

use crate::{AnomalyError, ScoreSet, ThresholdRule};

const RULE: &str = "positive_unlabeled";

/// Ridge on the slope, per point, on standardized scores. It only matters when
/// the labelled anomalies are perfectly separated from the unlabelled points:
/// the unpenalized likelihood then has no maximum (the slope grows without
/// bound), and the ridge makes the fit finite and deterministic; otherwise it
/// changes the slope in about the sixth digit.
const RIDGE_PER_POINT: f64 = 1e-6;
const MAX_NEWTON: usize = 100;

/// Elkan & Noto's rule on anomaly scores: labels 1 mark the known (labelled)
/// anomalies and 0 the unlabelled points, which may contain more anomalies.
///
/// A one-dimensional logistic model `g(s) = σ(a + b·s)` of "labelled" against
/// the score is fitted by maximum likelihood (Newton's method with a backtracking
/// line search, on standardized scores, with a tiny ridge on the slope so that
/// perfectly separated labels still give a finite fit); `c` is the mean of `g`
/// over the labelled anomalies; the threshold is the score where
/// `g(s) = c / 2`. The fit is on the same scores the rule is given (Elkan and
/// Noto estimate `c` on held-out data; pass validation scores for that).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PositiveUnlabeled;

/// What [`PositiveUnlabeled`] estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PuEstimate {
    /// Intercept `a` of `g(s) = σ(a + b·s)`, on the scores' own scale.
    pub intercept: f64,
    /// Slope `b` (positive when labelled anomalies score higher).
    pub slope: f64,
    /// `c`: the estimated probability that an anomaly is labelled.
    pub c: f64,
    /// The score where `g(s) = c / 2`.
    pub threshold: f64,
    /// Newton iterations taken.
    pub iterations: usize,
}

/// `ln(1 + eˣ)` without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `1 / (1 + e⁻ˣ)` without overflow.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Penalized log-likelihood of the logistic model on standardized scores `z`.
fn objective(z: &[f64], y: &[bool], alpha: f64, beta: f64, ridge: f64) -> f64 {
    let ll: f64 = z
        .iter()
        .zip(y)
        .map(|(&zi, &yi)| {
            let eta = alpha + beta * zi;
            if yi {
                eta - softplus(eta)
            } else {
                -softplus(eta)
            }
        })
        .sum();
    ll - 0.5 * ridge * beta * beta
}

impl PositiveUnlabeled {
    /// Fits the model and returns everything it estimated.
    ///
    /// # Errors
    /// [`AnomalyError::LabelsRequired`], [`AnomalyError::NoAnomalies`] (nothing
    /// labelled), [`AnomalyError::NoNormals`] (nothing unlabelled),
    /// [`AnomalyError::NonFiniteScore`], and [`AnomalyError::NoThreshold`] when
    /// all scores are equal or the labelled anomalies do not score higher than
    /// the unlabelled points (slope `<= 0`).
    pub fn estimate<T: Scalar>(&self, data: &ScoreSet<'_, T>) -> Result<PuEstimate, AnomalyError> {
        let y = data.require_labels(RULE)?;
        data.check_finite(RULE)?;
        let n_lab = y.iter().filter(|&&l| l).count();
        if n_lab == 0 {
            return Err(AnomalyError::NoAnomalies {
                needed_by: RULE.into(),
            });
        }
        if n_lab == y.len() {
            return Err(AnomalyError::NoNormals {
                needed_by: format!("{RULE} (it needs unlabelled points, label 0)"),
            });
        }
        let n = y.len() as f64;
        let s: Vec<f64> = data.scores().iter().map(|v| v.as_f64()).collect();
        let mean = s.iter().sum::<f64>() / n;
        let sd = (s.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        if !(sd > 0.0) || !sd.is_finite() {
            return Err(AnomalyError::NoThreshold {
                rule: RULE.into(),
                reason: "all scores are equal".into(),
            });
        }
        // Standardized scores keep Newton's 2x2 system well conditioned
        // whatever the scale of the scores.
        let z: Vec<f64> = s.iter().map(|v| (v - mean) / sd).collect();
        let ridge = RIDGE_PER_POINT * n;
        let frac = n_lab as f64 / n;
        // Start at the intercept-only maximum: σ(α) = fraction labelled.
        let (mut alpha, mut beta) = ((frac / (1.0 - frac)).ln(), 0.0);
        let mut obj = objective(&z, y, alpha, beta, ridge);
        let mut iterations = 0;
        for it in 1..=MAX_NEWTON {
            iterations = it;
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, -ridge * beta, 0.0, 0.0, ridge);
            for (&zi, &yi) in z.iter().zip(y) {
                let p = sigmoid(alpha + beta * zi);
                let r = f64::from(u8::from(yi)) - p;
                let w = p * (1.0 - p);
                ga += r;
                gb += r * zi;
                haa += w;
                hab += w * zi;
                hbb += w * zi * zi;
            }
            let det = haa * hbb - hab * hab;
            if !(det > 0.0 && det.is_finite()) {
                // Weights underflowed (an extreme separation): the current
                // point is as good as the arithmetic allows.
                break;
            }
            let da = (hbb * ga - hab * gb) / det;
            let db = (haa * gb - hab * ga) / det;
            // Backtracking: the objective is concave, so a short enough Newton
            // step always increases it unless we are at the maximum.
            let mut step = 1.0;
            let mut accepted = false;
            while step > 1e-12 {
                let (a1, b1) = (alpha + step * da, beta + step * db);
                let o1 = objective(&z, y, a1, b1, ridge);
                if o1 >= obj {
                    (alpha, beta, obj) = (a1, b1, o1);
                    accepted = true;
                    break;
                }
                step *= 0.5;
            }
            let moved = step * (da.abs() + db.abs());
            if !accepted || moved <= 1e-12 * (1.0 + alpha.abs() + beta.abs()) {
                break;
            }
        }
        if !(beta > 0.0) {
            return Err(AnomalyError::NoThreshold {
                rule: RULE.into(),
                reason: format!(
                    "the labelled anomalies do not score higher than the unlabelled points (fitted slope {beta:e} on standardized scores)"
                ),
            });
        }
        let c = z
            .iter()
            .zip(y)
            .filter(|&(_, &l)| l)
            .map(|(&zi, _)| sigmoid(alpha + beta * zi))
            .sum::<f64>()
            / n_lab as f64;
        // g(z) = c/2  ⇔  α + β z = logit(c/2).
        let half = 0.5 * c;
        let z_star = ((half / (1.0 - half)).ln() - alpha) / beta;
        Ok(PuEstimate {
            intercept: alpha - beta * mean / sd,
            slope: beta / sd,
            c,
            threshold: mean + sd * z_star,
            iterations,
        })
    }
}

impl<T: Scalar> ThresholdRule<T> for PositiveUnlabeled {
    fn name(&self) -> &str {
        RULE
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        Ok(T::c(self.estimate(data)?.threshold))
    }
}
