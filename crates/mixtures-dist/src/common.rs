//! Validation helpers shared by the component families.

use faer::Mat;
use mixtures_core::Scalar;

use crate::ModelError;

/// Checks a `K x D` location matrix (means, Laplace locations) and returns it
/// row-major, the layout per-component evaluation reads.
pub(crate) fn check_locations<T: Scalar>(
    what: &'static str,
    m: &Mat<T>,
) -> Result<Vec<T>, ModelError> {
    if m.nrows() == 0 {
        return Err(ModelError::NoComponents);
    }
    if m.ncols() == 0 {
        return Err(ModelError::NoDimensions);
    }
    check_finite(what, m)?;
    Ok(row_major(m))
}

/// Refuses a matrix with a non-finite entry, naming the row as the component.
pub(crate) fn check_finite<T: Scalar>(what: &'static str, m: &Mat<T>) -> Result<(), ModelError> {
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            let v = m[(i, j)];
            if !v.is_finite() {
                return Err(ModelError::NonFiniteParameter {
                    what,
                    component: i,
                    index: j,
                    value: v.as_f64(),
                });
            }
        }
    }
    Ok(())
}

/// Checks that a parameter matrix is `rows x cols`.
pub(crate) fn check_shape<T>(
    what: &'static str,
    component: Option<usize>,
    m: &Mat<T>,
    rows: usize,
    cols: usize,
) -> Result<(), ModelError> {
    if (m.nrows(), m.ncols()) != (rows, cols) {
        return Err(ModelError::WrongShape {
            what,
            component,
            expected: (rows, cols),
            found: (m.nrows(), m.ncols()),
        });
    }
    Ok(())
}

/// Checks a per-component list length.
pub(crate) fn check_count(
    what: &'static str,
    expected: usize,
    found: usize,
) -> Result<(), ModelError> {
    if expected != found {
        return Err(ModelError::WrongCount {
            what,
            expected,
            found,
        });
    }
    Ok(())
}

/// A matrix copied out row-major.
pub(crate) fn row_major<T: Scalar>(m: &Mat<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            out.push(m[(i, j)]);
        }
    }
    out
}

/// A standard normal draw (Box-Muller through rand_distr), as `T`.
#[inline]
pub(crate) fn std_normal<T: Scalar, R: rand::Rng + ?Sized>(rng: &mut R) -> T {
    T::c(rand::Rng::sample(rng, rand_distr::StandardNormal))
}
