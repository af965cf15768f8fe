//! The threads the functions compute on. DataFusion calls the functions from
//! its tokio workers; the E-step and the scores run in parallel with rayon.
//! They run in a pool of their own rather than rayon's global pool: an EM
//! fit runs its restarts on the global pool, and a restart waiting there for
//! a query whose aggregate needed the global pool could wait forever once
//! every global thread waited the same way.

use std::sync::OnceLock;

static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();

/// Runs `f` in the functions' pool (as many threads as the machine has
/// cores), or on the caller's thread if the pool could not be started.
pub(crate) fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("mixtures-datafusion-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}
