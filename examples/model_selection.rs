//! Model selection: fit a grid of Gaussian mixtures over the number of
//! components and scikit-learn's four covariance types, print the table of
//! information criteria, and keep the model with the lowest BIC.
//!
//! `cargo run --release --example model_selection`
//!
//! The data come from three axis-aligned (diagonal-covariance) clusters, so BIC
//! should choose `k = 3` with `diag`: the full and tied structures fit as well
//! but pay for parameters they do not need, and fewer components fit worse.

use mixtures::ModelSpec;
use std::error::Error;

use mixtures::faer::mat;
use mixtures::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn main() -> Result<(), Box<dyn Error>> {
    let truth = Mixture::new(
        vec![0.4, 0.35, 0.25],
        Gaussian::diag(
            mat![[0.0, 0.0, 0.0], [5.0, 5.0, 0.0], [-4.0, 6.0, 3.0]],
            mat![[1.0, 0.2, 0.5], [0.3, 2.0, 1.0], [0.6, 0.6, 0.1]],
        )?,
    )?;
    let (x, _) = truth.sample(1500, &mut StdRng::seed_from_u64(11));
    let data = Dataset::from_mat(x.as_ref())?;

    // 5 values of k x 4 structures = 20 cells, fitted in parallel. Each cell's
    // seed depends only on the grid's seed, k and the structure, so the table is
    // the same on any number of threads.
    let selection = Grid::new(1..=5)
        .structures(ModelSpec::SKLEARN)
        .criterion(Criterion::Bic)
        .n_init(2)
        .seed(5)
        .fit(&data)?;

    // Display prints one row per cell; the chosen one is marked with `*`.
    println!("{selection}");
    let best = selection.best_cell();
    println!(
        "chosen by {}: k = {}, {} (BIC {:.1}, {} iterations)",
        selection.criterion.as_str(),
        best.k,
        best.structure,
        best.criterion(Criterion::Bic).unwrap_or(f64::NAN),
        selection.report.n_iter
    );

    // The chosen model is ready to use; `as_gaussian` gives the concrete type.
    if let Some(model) = selection.model.as_gaussian() {
        println!(
            "weights {:.3?}, mean log-likelihood {:.4}",
            model.weights(),
            model.score(&data)?
        );
    }
    Ok(())
}
