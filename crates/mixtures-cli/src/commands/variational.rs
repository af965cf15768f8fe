//! `mixtures fit DATA.csv -o MODEL.json --variational [-k K] [prior flags]`:
//! a variational Bayesian Gaussian mixture (scikit-learn's
//! `BayesianGaussianMixture`, `mixtures_select::VariationalGaussianMixture`)
//! with room for `K` components. The model file holds the point-estimate
//! mixture (expected weights, posterior means and covariances); components
//! whose expected weight is below the weight threshold are dropped from it,
//! and the weights of the others rescaled, unless --keep-all-components.

use std::path::Path;

use mixtures_core::Scalar;
use mixtures_dist::{AnyMixture, Covariance, Family, GaussianMixtureModel};
use mixtures_select::{VariationalGaussianMixture, WeightPrior};
use serde_json::json;

use super::fit::load_training;
use super::{by_precision, note_written, plot_scatter, scatter_axes};
use crate::cli::{FitCmd, WeightPriorArg};
use crate::error::CliError;
use crate::fitting::{Progress, ProgressObserver, em_control};
use crate::plot;
use crate::ui::{Ui, num};

/// Components of a variational fit when `-k` is not given.
pub const DEFAULT_MAX_COMPONENTS: usize = 8;

/// Runs `fit --variational`.
///
/// # Errors
/// Flags that do not apply to a variational fit, bad priors or files (exit
/// 2); failed fits or writes (exit 1).
pub fn run(c: &FitCmd, data: &Path, ui: &mut Ui) -> Result<(), CliError> {
    check_flags(c)?;
    by_precision!(c.fit.precision, typed(c, data, ui))
}

/// Refuses the fit flags a variational fit does not take, before any work.
fn check_flags(c: &FitCmd) -> Result<(), CliError> {
    let refuse = |flag: &str, why: &str| {
        Err(CliError::Usage(format!(
            "{flag} does not apply to --variational: {why}"
        )))
    };
    if c.fit.family.is_some_and(|f| f != Family::Gaussian) {
        return refuse(
            "--family",
            "the variational fit is a Gaussian mixture (drop --family or give gaussian)",
        );
    }
    if c.fit.init.is_some() {
        return refuse("--init", "it starts from k-means, not from a model file");
    }
    if c.fit.max_components.is_some() {
        return refuse(
            "--max-components",
            "-k gives the largest number of components it may use",
        );
    }
    if c.fit.search_rows.is_some() {
        return refuse(
            "--search-rows",
            "it fits one model on every row; there is no search",
        );
    }
    if let Some(name) = &c.fit.covariance {
        let cov: Covariance = name
            .parse()
            .map_err(|e| CliError::Usage(format!("--covariance {name}: {e}")))?;
        if !Covariance::SKLEARN.contains(&cov) {
            return refuse(
                &format!("--covariance {name}"),
                "it takes full, tied, diag or spherical",
            );
        }
    }
    Ok(())
}

/// The model without the components listed in `drop`, its weights rescaled to
/// sum to one.
///
/// # Errors
/// [`CliError::Fit`] if the rest is not a valid model (not expected).
fn without<T: Scalar>(
    model: &GaussianMixtureModel<T>,
    keep: &[usize],
) -> Result<GaussianMixtureModel<T>, CliError> {
    model
        .keep_components(keep)
        .map_err(|e| CliError::Fit(e.into()))
}

fn typed<T: Scalar>(c: &FitCmd, data: &Path, ui: &mut Ui) -> Result<(), CliError> {
    let v = &c.variational;
    let k = c.fit.components.unwrap_or(DEFAULT_MAX_COMPONENTS);
    let covariance: Covariance = match &c.fit.covariance {
        Some(name) => name
            .parse()
            .map_err(|e| CliError::Usage(format!("--covariance {name}: {e}")))?,
        None => Covariance::Full,
    };
    let progress = Progress::new(ui.quiet, em_control(&c.fit).n_init);
    let mut control = em_control(&c.fit);
    if let Some(p) = &progress {
        control = control.observer(ProgressObserver(p.clone()));
    }
    let mut params = VariationalGaussianMixture::params::<T>(k)
        .covariance(covariance)
        .control(control);
    if let Some(p) = v.weight_concentration_prior_type {
        params = params.weight_prior(match p {
            WeightPriorArg::DirichletProcess => WeightPrior::DirichletProcess,
            WeightPriorArg::DirichletDistribution => WeightPrior::DirichletDistribution,
        });
    }
    if let Some(a) = v.weight_concentration_prior {
        params = params.weight_concentration(a);
    }
    if let Some(b) = v.mean_precision_prior {
        params = params.mean_precision(b);
    }
    if let Some(m) = &v.mean_prior {
        params = params.mean_prior(m.iter().map(|&x| T::c(x)).collect());
    }
    if let Some(nu) = v.degrees_of_freedom_prior {
        params = params.degrees_of_freedom(nu);
    }
    if let Some(t) = v.weight_threshold {
        params = params.weight_threshold(t);
    }
    // Parameters out of range are reported before the data are read.
    params.check()?;
    let table = load_training::<T>(ui, data, &c.input, None, false)?;
    let axes = scatter_axes(&table, c.plot_features.as_deref())?;
    if let Some(m) = &v.mean_prior
        && m.len() != table.features.len()
    {
        return Err(CliError::Usage(format!(
            "--mean-prior has {} values but the data have {} features ({})",
            m.len(),
            table.features.len(),
            table.features.join(", ")
        )));
    }
    // Checked here, before the fit allocates K components' worth of
    // statistics: an absurd -k must not end in an allocation failure.
    let n = table.data.n_samples();
    if k > n {
        return Err(CliError::Usage(format!(
            "-k {k}: more components than the {n} rows of the data; use at most {n}"
        )));
    }
    let fit = ui.time("fit", || params.fit(&table.data))?;
    if let Some(p) = &progress {
        p.finish();
    }
    let threshold = v.weight_threshold.unwrap_or(0.01);
    let weights: Vec<f64> = fit.model.weights().iter().map(|w| w.as_f64()).collect();
    let kept: Vec<usize> = if v.keep_all_components || fit.effective_components.is_empty() {
        (0..weights.len()).collect()
    } else {
        fit.effective_components.clone()
    };
    let dropped: Vec<usize> = (0..weights.len()).filter(|k| !kept.contains(k)).collect();
    let model = if dropped.is_empty() {
        fit.model.clone()
    } else {
        without(&fit.model, &kept)?
    };
    let model = AnyMixture::Gaussian(model)
        .with_feature_names(table.features.clone())
        .map_err(|e| CliError::Fit(e.into()))?;
    crate::model_io::save(ui, &model, &c.output)?;

    let fmt_weights = |ks: &[usize]| -> String {
        ks.iter()
            .map(|&k| format!("{k} ({:.4})", weights[k]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let effective = fit.n_effective_components();
    let mut text = format!(
        "data: {}, {} rows x {} features ({})\n\
         variational fit: {} prior, at most {k} components, {covariance}; {effective} with \
         expected weight above {threshold}\n",
        data.display(),
        table.data.n_samples(),
        table.features.len(),
        table.features.join(", "),
        fit.prior.weight_prior.as_str(),
    );
    text.push_str(&format!("kept: {}\n", fmt_weights(&kept)));
    if dropped.is_empty() {
        if v.keep_all_components && effective < weights.len() {
            text.push_str("dropped: none (--keep-all-components)\n");
        } else {
            text.push_str("dropped: none\n");
        }
    } else {
        text.push_str(&format!(
            "dropped: {} (their weight spread over the kept components)\n",
            fmt_weights(&dropped)
        ));
    }
    text.push_str(&format!(
        "model: gaussian {covariance}, {} component{}, {}\nfit: lower bound {}, {}\n",
        model.n_components(),
        if model.n_components() == 1 { "" } else { "s" },
        T::NAME,
        fit.lower_bound,
        fit.report
    ));
    let value = json!({
        "command": "fit",
        "variational": true,
        "model_file": c.output.display().to_string(),
        "data": data.display().to_string(),
        "rows": table.data.n_samples(),
        "features": table.features,
        "family": "gaussian",
        "structure": covariance.as_str(),
        "precision": T::NAME,
        "max_components": k,
        "weight_prior": fit.prior.weight_prior.as_str(),
        "weight_concentration_prior": num(fit.prior.weight_concentration.as_f64()),
        "mean_precision_prior": num(fit.prior.mean_precision.as_f64()),
        "degrees_of_freedom_prior": num(fit.prior.degrees_of_freedom.as_f64()),
        "weight_threshold": num(threshold),
        "weights": weights.iter().map(|&w| num(w)).collect::<Vec<_>>(),
        "effective_components": fit.effective_components,
        "kept_components": kept,
        "dropped_components": dropped,
        "components": model.n_components(),
        "lower_bound": num(fit.lower_bound),
        "converged": fit.report.converged,
        "n_iter": fit.report.n_iter,
        "mean_log_likelihood": num(fit.report.log_likelihood),
    });
    ui.result(&text, &value)?;
    ui.note(&format!("wrote {}", c.output.display()));
    if let Some(dir) = &c.plot {
        plot::ensure_dir(dir)?;
        let mut files = plot::trace(
            dir,
            &fit.report.lower_bound_trace,
            "Variational fit: lower bound (ELBO) per iteration",
            "lower bound",
        )?;
        files.extend(plot_scatter(dir, &model, &table, axes, None)?);
        note_written(ui, &files);
    }
    ui.print_timings();
    Ok(())
}
