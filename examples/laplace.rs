//! A Laplace mixture for heavy-tailed data.
//!
//! `cargo run --release --example laplace`
//!
//! Laplace components have exponential rather than Gaussian tails: the density
//! of a point falls with its distance, not its squared distance. On data with
//! heavier tails than a Gaussian (here, drawn from a Laplace mixture), a Gaussian
//! mixture must inflate its variances to cover the tails and so loses
//! likelihood both in the centre and far out; the Laplace mixture with the same
//! number of components fits better, which held-out log-likelihood and BIC show.

use std::error::Error;

use mixtures::faer::mat;
use mixtures::mixtures_em::{Covariance, LaplaceMixture};
use mixtures::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn main() -> Result<(), Box<dyn Error>> {
    // Two components with a scale per dimension: density ∏ⱼ exp(−|xⱼ − μⱼ|/bⱼ)/(2bⱼ).
    let truth = Mixture::new(
        vec![0.6, 0.4],
        Laplace::per_dimension(
            mat![[0.0, 0.0, 0.0], [6.0, -3.0, 2.0]],
            mat![[1.0, 0.5, 2.0], [0.7, 1.5, 0.4]],
        )?,
    )?;
    let mut rng = StdRng::seed_from_u64(17);
    let (train, _) = truth.sample(8000, &mut rng);
    let (test, _) = truth.sample(8000, &mut rng);
    let (train, test) = (
        Dataset::from_mat(train.as_ref())?,
        Dataset::from_mat(test.as_ref())?,
    );

    // The same number of components and the same number of free parameters per
    // component (a location and a scale or variance per dimension).
    let gauss = GaussianMixture::params(2)
        .covariance(Covariance::Diag)
        .n_init(3)
        .seed(1)
        .fit(&train)?;
    let laplace = LaplaceMixture::params(2)
        .structure(Covariance::Diag)
        .n_init(3)
        .seed(1)
        .fit(&train)?;

    let bic = |r: &FitReport| Scores::from_report(r).bic();
    println!(
        "{:<10} {:>16} {:>16} {:>12}",
        "family", "train mean ll", "test mean ll", "BIC"
    );
    println!(
        "{:<10} {:>16.4} {:>16.4} {:>12.1}",
        "gaussian",
        gauss.report.log_likelihood,
        gauss.model.score(&test)?,
        bic(&gauss.report)
    );
    println!(
        "{:<10} {:>16.4} {:>16.4} {:>12.1}",
        "laplace",
        laplace.report.log_likelihood,
        laplace.model.score(&test)?,
        bic(&laplace.report)
    );
    println!("true model on test: {:.4}", truth.score(&test)?);

    // What the Laplace fit found: medians as locations, scales close to the truth.
    let comps = laplace.model.components();
    for k in 0..laplace.model.n_components() {
        println!(
            "component {k}: weight {:.3}, location {:.2?}, scales [{:.2}, {:.2}, {:.2}]",
            laplace.model.weights()[k],
            comps.location(k),
            comps.scale(k, 0),
            comps.scale(k, 1),
            comps.scale(k, 2)
        );
    }

    if laplace.model.score(&test)? <= gauss.model.score(&test)? {
        return Err("expected the Laplace mixture to fit heavy-tailed data better".into());
    }
    Ok(())
}
