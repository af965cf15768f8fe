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
///
/// [`PositiveUnlabeled::on_ranks`] fits the same model on the scores' ranks
/// (mid-ranks scaled to (0, 1)) instead of their values, and returns the
/// score halfway between the last point below the fitted rank and the first
/// at or above it. Its flagged set depends only on the order of the scores.
/// Use it for heavy-tailed scores (energies, `−ln p(x)` of far outliers):
/// on values, a few enormous scores dominate the standardization, every other
/// point lands on nearly the same standardized value, the logistic model sees
/// no slope there, `c` falls to the labelled fraction and `c / 2` lies below
/// every score, so everything is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PositiveUnlabeled {
    ranks: bool,
}

/// What [`PositiveUnlabeled`] estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PuEstimate {
    /// Intercept `a` of `g(s) = σ(a + b·s)`, on the scores' own scale (on the
    /// rank scale, (0, 1), for [`PositiveUnlabeled::on_ranks`]).
    pub intercept: f64,
    /// Slope `b` (positive when labelled anomalies score higher).
    pub slope: f64,
    /// `c`: the estimated probability that an anomaly is labelled.
    pub c: f64,
    /// The score where `g(s) = c / 2` (for [`PositiveUnlabeled::on_ranks`],
    /// halfway between the scores on either side of that rank).
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

/// Mid-ranks of `s` scaled to (0, 1): `(i + 0.5) / n` for the `i`-th
/// smallest, averaged over ties, and the order that sorts `s`.
fn mid_ranks(s: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let n = s.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    let mut r = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && s[order[j + 1]] == s[order[i]] {
            j += 1;
        }
        let rank = ((i + j) as f64 / 2.0 + 0.5) / n as f64;
        for &k in &order[i..=j] {
            r[k] = rank;
        }
        i = j + 1;
    }
    (r, order)
}

impl PositiveUnlabeled {
    /// The rule on the scores' values (the default).
    pub fn new() -> Self {
        PositiveUnlabeled { ranks: false }
    }

    /// The rule on the scores' ranks, for heavy-tailed scores (see the type's
    /// documentation).
    pub fn on_ranks() -> Self {
        PositiveUnlabeled { ranks: true }
    }

    /// Whether the model is fitted on ranks.
    pub fn uses_ranks(&self) -> bool {
        self.ranks
    }

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
        let raw: Vec<f64> = data.scores().iter().map(|v| v.as_f64()).collect();
        // On ranks the model sees the mid-ranks and `raw` maps the fitted
        // rank back to a score; on values it sees `raw` itself.
        let ranked = self.ranks.then(|| mid_ranks(&raw));
        let s: &[f64] = ranked.as_ref().map_or(&raw, |(r, _)| r);
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
        let at = mean + sd * z_star;
        let threshold = match &ranked {
            None => at,
            Some((_, order)) => {
                // The first point (in score order) whose rank reaches `at`;
                // tied scores share a rank, so they fall on one side.
                let first = order.partition_point(|&k| s[k] < at);
                match first {
                    0 => raw[order[0]],
                    f if f >= order.len() => raw[order[order.len() - 1]],
                    f => raw[order[f - 1]] / 2.0 + raw[order[f]] / 2.0,
                }
            }
        };
        Ok(PuEstimate {
            intercept: alpha - beta * mean / sd,
            slope: beta / sd,
            c,
            threshold,
            iterations,
        })
    }
}

impl<T: Scalar> ThresholdRule<T> for PositiveUnlabeled {
    fn name(&self) -> &str {
        if self.ranks {
            "positive_unlabeled_ranks"
        } else {
            RULE
        }
    }
    fn choose(&self, data: &ScoreSet<'_, T>) -> Result<T, AnomalyError> {
        Ok(T::c(self.estimate(data)?.threshold))
    }
}
