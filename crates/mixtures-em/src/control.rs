//! The settings every iterative fit of the workspace shares — EM of every
//! family, the selection grid, the variational fit, the default detector and
//! the command line — with their defaults named once.

use std::sync::Arc;

use crate::{DegeneracyPolicy, FitError, Init, Noise, Observer};

/// Default number of restarts.
pub const DEFAULT_N_INIT: usize = 1;
/// Default most iterations per restart (scikit-learn's).
pub const DEFAULT_MAX_ITER: usize = 100;
/// Default convergence threshold on the change of the mean log-likelihood
/// (scikit-learn's).
pub const DEFAULT_TOL: f64 = 1e-3;
/// Default ridge added to Gaussian variances after every M-step
/// (scikit-learn's `reg_covar`).
pub const DEFAULT_REG_COVAR: f64 = 1e-6;
/// Default seed.
pub const DEFAULT_SEED: u64 = 0;
/// The most restarts a fit accepts. The report keeps a summary of every
/// restart (24 bytes each: 24 MB at this limit), and restarts run one after
/// another in batches, so a larger number could only be honoured by running
/// for days; it is refused up front instead of growing memory without bound.
pub const MAX_N_INIT: usize = 1_000_000;

/// Settings of an iterative fit: restarts, iterations, convergence,
/// regularization, initialization, seed, degeneracy policy and observer.
///
/// Every parameter type of the workspace holds one (`GaussianParams`,
/// `LaplaceParams`, `Grid`, `VariationalParams`, `AutoFitter`), sets it with
/// the same builder methods, and checks it with [`EmControl::check`].
///
/// ```
/// use mixtures_em::{EmControl, GaussianMixture};
///
/// let control = EmControl::default().n_init(4).tol(1e-6).seed(9);
/// control.check()?;
/// let params = GaussianMixture::params::<f64>(3).control(control.clone());
/// assert_eq!(params.em_control().n_init, 4);
/// assert!(EmControl::default().max_iter(0).check().is_err());
/// # Ok::<(), mixtures_em::FitError>(())
/// ```
#[derive(Clone)]
pub struct EmControl {
    /// Restarts; they run in parallel and the best final objective wins
    /// (default [`DEFAULT_N_INIT`]).
    pub n_init: usize,
    /// Most iterations per restart (default [`DEFAULT_MAX_ITER`]).
    pub max_iter: usize,
    /// Convergence threshold on the change of the objective between
    /// iterations (default [`DEFAULT_TOL`]); 0 runs exactly `max_iter`
    /// iterations.
    pub tol: f64,
    /// Ridge added to every Gaussian variance after each M-step (default
    /// [`DEFAULT_REG_COVAR`]; 0 turns it off). Families without covariances
    /// (Laplace) have their own floor and do not read it.
    pub reg_covar: f64,
    /// How each restart starts (default k-means).
    pub init: Init,
    /// Seed of every random choice (default [`DEFAULT_SEED`]); the same seed
    /// gives the same result whatever the number of threads.
    pub seed: u64,
    /// What to do with degenerate components (default: re-seed).
    pub policy: DegeneracyPolicy,
    /// Called after every iteration (progress, cancellation).
    pub observer: Option<Arc<dyn Observer>>,
    /// Trimmed likelihood EM: the fraction of the total weight, taken from
    /// the least likely rows, left out of every iteration (default 0: no
    /// trimming; at most [`crate::MAX_TRIM`], exclusive). See
    /// [`crate::trim`].
    pub trim: f64,
    /// A uniform noise component added to the mixture (default none); see
    /// [`crate::Noise`].
    pub noise: Option<Noise>,
}

impl Default for EmControl {
    fn default() -> Self {
        Self {
            n_init: DEFAULT_N_INIT,
            max_iter: DEFAULT_MAX_ITER,
            tol: DEFAULT_TOL,
            reg_covar: DEFAULT_REG_COVAR,
            init: Init::default(),
            seed: DEFAULT_SEED,
            policy: DegeneracyPolicy::default(),
            observer: None,
            trim: 0.0,
            noise: None,
        }
    }
}

impl core::fmt::Debug for EmControl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EmControl")
            .field("n_init", &self.n_init)
            .field("max_iter", &self.max_iter)
            .field("tol", &self.tol)
            .field("reg_covar", &self.reg_covar)
            .field("init", &self.init)
            .field("seed", &self.seed)
            .field("policy", &self.policy)
            .field("observer", &self.observer.is_some())
            .field("trim", &self.trim)
            .field("noise", &self.noise)
            .finish()
    }
}

impl PartialEq for EmControl {
    /// Equal settings; observers are equal when both are absent or both are
    /// the same object.
    fn eq(&self, o: &Self) -> bool {
        let same_observer = match (&self.observer, &o.observer) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        self.n_init == o.n_init
            && self.max_iter == o.max_iter
            && self.tol.to_bits() == o.tol.to_bits()
            && self.reg_covar.to_bits() == o.reg_covar.to_bits()
            && self.init == o.init
            && self.seed == o.seed
            && self.policy == o.policy
            && self.trim.to_bits() == o.trim.to_bits()
            && self.noise == o.noise
            && same_observer
    }
}

macro_rules! control_setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        impl EmControl {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, v: $ty) -> Self {
                    self.$name = v;
                    self
                }
            )*

            /// An observer called after every iteration (progress,
            /// cancellation).
            #[must_use]
            pub fn observer(mut self, observer: impl Observer + 'static) -> Self {
                self.observer = Some(Arc::new(observer));
                self
            }

            /// A uniform noise component added to the mixture.
            #[must_use]
            pub fn noise(mut self, noise: Noise) -> Self {
                self.noise = Some(noise);
                self
            }
        }
    };
}

control_setters! {
    /// Number of restarts.
    n_init: usize;
    /// Most iterations per restart.
    max_iter: usize;
    /// Convergence threshold.
    tol: f64;
    /// Ridge on Gaussian variances.
    reg_covar: f64;
    /// Initialization of each restart.
    init: Init;
    /// Seed of every random choice.
    seed: u64;
    /// Policy for degenerate components.
    policy: DegeneracyPolicy;
    /// Fraction of the weight trimmed from every iteration.
    trim: f64;
}

impl EmControl {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] naming the first setting out of range:
    /// `n_init` or `max_iter` of 0, `n_init` above [`MAX_N_INIT`], a negative or non-finite `tol` or
    /// `reg_covar`, a `trim` outside `[0, 0.5)`, a noise volume that is not
    /// positive and finite.
    pub fn check(&self) -> Result<(), FitError> {
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(FitError::invalid(
                "tol",
                self.tol,
                "must be finite and >= 0 (0 runs exactly max_iter iterations)",
            ));
        }
        if self.n_init == 0 {
            return Err(FitError::invalid("n_init", 0, "must be at least 1"));
        }
        if self.n_init > MAX_N_INIT {
            return Err(FitError::invalid(
                "n_init",
                self.n_init,
                "must be at most 1000000 (mixtures_em::MAX_N_INIT)",
            ));
        }
        if self.max_iter == 0 {
            return Err(FitError::invalid("max_iter", 0, "must be at least 1"));
        }
        if !(self.reg_covar >= 0.0 && self.reg_covar.is_finite()) {
            return Err(FitError::invalid(
                "reg_covar",
                self.reg_covar,
                "must be finite and >= 0",
            ));
        }
        crate::trim::check_trim(self.trim)?;
        if let Some(n) = &self.noise {
            n.check()?;
        }
        Ok(())
    }
}

/// Expands to the builder methods of a parameter type with a
/// `control: EmControl` field: one setter per setting, forwarding to
/// [`EmControl`], plus `control` and `em_control`.
#[macro_export]
#[doc(hidden)]
macro_rules! em_control_builder {
    () => {
        /// Replaces every EM setting at once.
        #[must_use]
        pub fn control(mut self, control: $crate::EmControl) -> Self {
            self.control = control;
            self
        }

        /// The EM settings.
        pub fn em_control(&self) -> &$crate::EmControl {
            &self.control
        }

        /// Initialization of each restart (default: k-means).
        #[must_use]
        pub fn init(mut self, init: $crate::Init) -> Self {
            self.control.init = init;
            self
        }

        /// Number of restarts (default 1); they run in parallel and the best
        /// final objective wins.
        #[must_use]
        pub fn n_init(mut self, n: usize) -> Self {
            self.control.n_init = n;
            self
        }

        /// Most iterations per restart (default 100).
        #[must_use]
        pub fn max_iter(mut self, n: usize) -> Self {
            self.control.max_iter = n;
            self
        }

        /// Convergence threshold on the change of the objective (default
        /// 1e-3, as scikit-learn); 0 runs exactly `max_iter` iterations.
        #[must_use]
        pub fn tol(mut self, tol: f64) -> Self {
            self.control.tol = tol;
            self
        }

        /// Added to every Gaussian variance after each M-step (default 1e-6,
        /// as scikit-learn; 0 turns it off).
        #[must_use]
        pub fn reg_covar(mut self, r: f64) -> Self {
            self.control.reg_covar = r;
            self
        }

        /// Seed of every random choice (default 0). The same seed gives the
        /// same model whatever the number of threads.
        #[must_use]
        pub fn seed(mut self, seed: u64) -> Self {
            self.control.seed = seed;
            self
        }

        /// Trimmed likelihood EM: leave the least likely rows, up to this
        /// fraction of the total weight, out of every iteration (default 0;
        /// `[0, 0.5)`).
        #[must_use]
        pub fn trim(mut self, alpha: f64) -> Self {
            self.control.trim = alpha;
            self
        }

        /// A uniform noise component added to the mixture (see
        /// `mixtures_em::Noise`).
        #[must_use]
        pub fn noise(mut self, noise: $crate::Noise) -> Self {
            self.control.noise = Some(noise);
            self
        }

        /// What to do with degenerate components (default: re-seed).
        #[must_use]
        pub fn on_degenerate(mut self, policy: $crate::DegeneracyPolicy) -> Self {
            self.control.policy = policy;
            self
        }

        /// An observer called after every iteration (progress, cancellation).
        #[must_use]
        pub fn observer(mut self, observer: impl $crate::Observer + 'static) -> Self {
            self.control.observer = Some(std::sync::Arc::new(observer));
            self
        }
    };
}
