//! Robust fits of contaminated data: two clusters with 10 % of the rows
//! scattered far away, fitted by a plain Gaussian mixture, a Student-t
//! mixture, a Gaussian mixture with a uniform noise component, a trimmed
//! Gaussian mixture, and (one cluster) the minimum covariance determinant.
//! Each prints its estimate of the variance of the cluster at the origin
//! along the first feature (truth 1; for the Student-t, the scale matrix's
//! entry, whose variance is `ν / (ν − 2)` times it).
//!
//! `cargo run --release --example robust`

use mixtures::prelude::*;
use mixtures::{Mcd, Noise, fit};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = StdRng::seed_from_u64(1);
    let mut normal = move || {
        // Box-Muller: one standard normal value.
        let (u, v): (f64, f64) = (rng.random(), rng.random());
        (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let mut rows: Vec<[f64; 2]> = Vec::new();
    for i in 0..1800 {
        let c = if i % 2 == 0 { 0.0 } else { 8.0 };
        rows.push([c + normal(), normal()]);
    }
    for i in 0..200 {
        let t = i as f64 * 0.618_033_988_749_895;
        rows.push([60.0 * (t.fract() - 0.5), 60.0 * ((3.0 * t).fract() - 0.5)]);
    }
    let data = Dataset::from_rows(&rows)?;

    let spec: ModelSpec = "full".parse()?;
    let control = EmControl::default().seed(3).n_init(3);
    let fits = [
        ("Gaussian", fit(spec, 2, &control, &data)?),
        (
            "Student-t",
            fit("student-t-full".parse()?, 2, &control, &data)?,
        ),
        (
            "Gaussian + noise",
            fit(
                spec,
                2,
                &control.clone().noise(Noise::bounding_box()),
                &data,
            )?,
        ),
        (
            "Gaussian, trim 0.1",
            fit(spec, 2, &control.clone().trim(0.1), &data)?,
        ),
    ];
    println!("model                variance of the cluster at 0 (truth 1)   noise weight");
    for (name, f) in &fits {
        let (means, cov) = match &f.model {
            AnyMixture::Gaussian(m) => (m.components().means().to_owned(), m.components()),
            AnyMixture::StudentT(m) => (m.components().means().to_owned(), m.components().scale()),
            AnyMixture::Laplace(_) => unreachable!("no Laplace fit here"),
        };
        let c = (0..means.nrows())
            .min_by(|&a, &b| means[(a, 0)].abs().total_cmp(&means[(b, 0)].abs()))
            .unwrap_or(0);
        let v = cov.covariance_matrix(c)[(0, 0)];
        let noise = f
            .model
            .noise()
            .map_or("-".to_owned(), |(w, _)| format!("{w:.3}"));
        println!("{name:20} {v:>12.3}                             {noise}");
    }
    // One cluster only: the MCD's subset leaves the far rows out.
    let left: Vec<[f64; 2]> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| *i >= 1800 || (i % 2 == 0 && r[0] < 4.0))
        .map(|(_, r)| *r)
        .collect();
    let mcd = Mcd::new().seed(3).fit(&Dataset::from_rows(&left)?)?;
    println!("MCD (one cluster)    {:>12.3}", mcd.covariance[(0, 0)]);
    Ok(())
}
