//! The fit: restarts, observers, cancellation and the report through the EM crate's driver, with the coordinate ascent as its engine.

use super::*;

impl<T: Scalar> VariationalParams<T> {
    /// Fits with `n_init` restarts (in parallel) and keeps the highest final
    /// lower bound (ties: the lowest restart), through the EM crate's driver
    /// ([`crate::engine::run`]): the same restarts, observers, cancellation
    /// and termination as EM.
    ///
    /// # Errors
    /// As [`VariationalParams::resolve_prior`] before any work;
    /// [`FitError::Degenerate`] if every restart degenerated.
    pub fn fit(&self, data: &Dataset<T>) -> Result<VariationalFit<T>, FitError> {
        let prior = self.resolve_prior(data)?;
        let engine = VariationalEngine {
            p: self,
            data,
            prior,
        };
        self.finish(run(&engine, &self.control, None)?)
    }

    /// One run from given starting responsibilities (`n x K`), no restarts:
    /// scikit-learn's fit after `_initialize(X, resp)`.
    ///
    /// # Errors
    /// As [`VariationalParams::init_from_responsibilities`].
    pub fn fit_from_responsibilities(
        &self,
        data: &Dataset<T>,
        resp: MatRef<'_, T>,
    ) -> Result<VariationalFit<T>, FitError> {
        let state = self.init_from_responsibilities(data, resp)?;
        let engine = VariationalEngine {
            p: self,
            data,
            prior: state.prior.clone(),
        };
        self.finish(run(&engine, &self.control, Some(&state))?)
    }

    fn finish(
        &self,
        fitted: crate::Fitted<VariationalState<T>>,
    ) -> Result<VariationalFit<T>, FitError> {
        let crate::Fitted {
            model: state,
            report,
        } = fitted;
        let lower_bound = state.lower_bound.unwrap_or(f64::NEG_INFINITY);
        let model = state.model()?;
        let expected = expected_mixture(&state.posterior, &state.components)?;
        let threshold = T::c(self.weight_threshold);
        let effective_components = model
            .weights()
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > threshold)
            .map(|(k, _)| k)
            .collect();
        let VariationalState {
            prior, posterior, ..
        } = state;
        Ok(VariationalFit {
            model,
            posterior,
            prior,
            lower_bound,
            effective_components,
            report,
            expected,
        })
    }
}

/// The coordinate ascent as an [`Engine`]: a restart starts from the
/// initialization's responsibilities, an iteration is one E-step and one
/// M-step, and its value is the lower bound after the update.
struct VariationalEngine<'a, T: Scalar> {
    p: &'a VariationalParams<T>,
    data: &'a Dataset<T>,
    prior: Prior<T>,
}

impl<T: Scalar> Engine for VariationalEngine<'_, T> {
    type State = VariationalState<T>;

    fn init(&self, cx: &mut Restart) -> Result<Self::State, FitError> {
        let resp = initial_responsibilities(self.p.control.init, self.data, self.p.k, &mut cx.rng);
        self.p.start(self.data, self.prior.clone(), resp.as_ref())
    }

    fn step(&self, state: &Self::State, _: &mut Restart) -> Result<(f64, Self::State), FitError> {
        let next = self.p.iteration(state, self.data)?;
        Ok((next.lower_bound.unwrap_or(f64::NAN), next))
    }

    /// The lower bound of the last iteration (`−∞` before the first: a
    /// restart stopped before it ran is never preferred).
    fn objective(&self, state: &Self::State) -> Result<f64, FitError> {
        Ok(state.lower_bound.unwrap_or(f64::NEG_INFINITY))
    }

    fn log_likelihood(&self, state: &Self::State, _: f64) -> Result<f64, FitError> {
        Ok(state.model()?.score(self.data)?)
    }

    fn n_parameters(&self, state: &Self::State) -> usize {
        state
            .model()
            .map_or(0, |m| mixtures_dist::Mixture::n_parameters(&m))
    }

    fn structure(&self) -> String {
        self.p.covariance.as_str().to_owned()
    }

    fn total_weight(&self) -> f64 {
        self.data.total_weight()
    }

    /// Restart `r` draws from `derive_seed(seed, [r])`, as variational fits
    /// always have.
    fn restart_seed(&self, seed: u64, restart: usize) -> u64 {
        derive_seed(seed, &[restart as u64])
    }
}
