//! Model selection on data with missing values: every cell of the grid is
//! fitted by EM on the observed data ([`mixtures_em::fit_incomplete`]), and
//! the criteria count the observed-data likelihood (`ln L = Σ ln p(x_o)`,
//! `n` the total weight).

use mixtures_core::Scalar;
use mixtures_core::missing::IncompleteDataset;
use mixtures_dist::AnyMixture;

use crate::{Grid, Scores, SelectError, Selection};

impl<T: Scalar> Grid<T> {
    /// [`Grid::fit`] on data with missing values. Every cell sees every row
    /// ([`Grid::search_rows`] is not used). ICL's classification entropy is
    /// that of the responsibilities given the observed features (Gaussian
    /// and Laplace cells; Student-t cells have no ICL here).
    ///
    /// ```
    /// use mixtures_core::Dataset;
    /// use mixtures_select::{Criterion, Grid};
    ///
    /// let mut v = Vec::new();
    /// for i in 0..300 {
    ///     let t = i as f64 * 0.37;
    ///     let c = 8.0 * (i % 2) as f64;
    ///     v.extend([c + t.sin(), c + t.cos(), if i % 5 == 0 { f64::NAN } else { c + (2.0 * t).sin() }]);
    /// }
    /// let data = Dataset::with_missing(&v, 300, 3)?;
    /// let sel = Grid::new(1..=4).criterion(Criterion::Bic).fit_incomplete(&data)?;
    /// assert_eq!(sel.best_cell().k, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Grid::fit`] (the data checks are made on the rows with their
    /// gaps filled by the columns' observed means); a column never observed
    /// ([`mixtures_core::DataError::NeverObserved`], as [`SelectError::Data`]).
    pub fn fit_incomplete(&self, data: &IncompleteDataset<T>) -> Result<Selection<T>, SelectError> {
        data.check_every_column_observed()?;
        self.check_filled(&data.mean_filled())?;
        self.select_with(&|k, s, control| {
            let f = mixtures_em::fit_incomplete(s, k, control, data)?;
            let entropy = match &f.model {
                AnyMixture::Gaussian(m) => m.predict_proba_incomplete(data).ok(),
                AnyMixture::Laplace(m) => m.predict_proba_incomplete(data).ok(),
                AnyMixture::StudentT(_) => None,
            }
            .map(|r| crate::criteria::entropy_of_weighted(&r, data.weights()));
            let scores = Scores {
                entropy,
                ..Scores::from_report(&f.report)
            };
            Ok((scores, f.model, f.report))
        })
    }
}
