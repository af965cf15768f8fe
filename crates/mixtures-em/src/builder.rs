//! Builder methods every family's parameters share (one definition, expanded
//! into each parameter type).

/// Expands to the shared builder methods of a parameter type with a
/// `common: Common` field.
macro_rules! common_builder {
    () => {
        /// Initialization of each restart (default: k-means).
        #[must_use]
        pub fn init(mut self, init: $crate::Init) -> Self {
            self.common.init = init;
            self
        }

        /// Number of restarts (default 1); they run in parallel and the best
        /// final log-likelihood wins.
        #[must_use]
        pub fn n_init(mut self, n: usize) -> Self {
            self.common.n_init = n;
            self
        }

        /// Most EM iterations per restart (default 100).
        #[must_use]
        pub fn max_iter(mut self, n: usize) -> Self {
            self.common.max_iter = n;
            self
        }

        /// Convergence threshold on the change of the mean log-likelihood
        /// (default 1e-3, as scikit-learn); 0 runs exactly `max_iter` iterations.
        #[must_use]
        pub fn tol(mut self, tol: f64) -> Self {
            self.common.tol = tol;
            self
        }

        /// Seed of every random choice (default 0). The same seed gives the same
        /// model whatever the number of threads.
        #[must_use]
        pub fn seed(mut self, seed: u64) -> Self {
            self.common.seed = seed;
            self
        }

        /// What to do with degenerate components (default: re-seed).
        #[must_use]
        pub fn on_degenerate(mut self, policy: $crate::DegeneracyPolicy) -> Self {
            self.common.policy = policy;
            self
        }

        /// An observer called after every iteration (progress, cancellation).
        #[must_use]
        pub fn observer(mut self, observer: impl $crate::Observer + 'static) -> Self {
            self.common.observer = Some(std::sync::Arc::new(observer));
            self
        }
    };
}

pub(crate) use common_builder;
