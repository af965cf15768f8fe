//! The compact binary form of [`GaussianStats`] (docs/formats.md, "Partial
//! statistics"): a fixed header, then every number as a little-endian `f64`
//! (exact for `f32` statistics too). Reading checks the header, every length
//! against the header and every count against the bytes present, before
//! allocating anything.

use faer::Mat;
use mixtures_core::Scalar;

use crate::stats::{GaussianStats, KIND_GAUSSIAN, KIND_GIVEN, KIND_STUDENT_T, Stats, StatsError};

const MAGIC: &[u8; 4] = b"MXGS";
const VERSION: u8 = 1;
/// Magic, version, kind, flags, scalar size, then k, d, columns (u32) and
/// rows (u64).
const HEADER: usize = 4 + 4 + 3 * 4 + 8;

struct Writer(Vec<u8>);

impl Writer {
    fn f(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn all<T: Scalar>(&mut self, v: impl IntoIterator<Item = T>) {
        for x in v {
            self.f(x.as_f64());
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], StatsError> {
        if self.0.len() < n {
            return Err(StatsError::Format("the bytes end early".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<usize, StatsError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn u64(&mut self) -> Result<u64, StatsError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn f(&mut self) -> Result<f64, StatsError> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn vec<T: Scalar>(&mut self, n: usize) -> Result<Vec<T>, StatsError> {
        (0..n).map(|_| self.f().map(T::c)).collect()
    }
    fn mat<T: Scalar>(&mut self, r: usize, c: usize) -> Result<Mat<T>, StatsError> {
        let v: Vec<T> = self.vec(r * c)?;
        Ok(Mat::from_fn(r, c, |i, j| v[i * c + j]))
    }
}

const FULL: u8 = 1;
const REFERENCE: u8 = 2;
const WORST_ROW: u8 = 4;

impl<T: Scalar> GaussianStats<T> {
    /// The statistics as bytes (docs/formats.md, "Partial statistics").
    pub fn to_bytes(&self) -> Vec<u8> {
        let (k, d) = (self.shifts.nrows(), self.shifts.ncols());
        let mut w = Writer(Vec::with_capacity(HEADER + 8 * self.n_numbers(k, d)));
        w.0.extend_from_slice(MAGIC);
        let flags = u8::from(self.full) * FULL
            + u8::from(self.reference.is_some()) * REFERENCE
            + u8::from(!self.worst_row.is_empty()) * WORST_ROW;
        w.0.extend_from_slice(&[VERSION, self.kind, flags, size_of::<T>() as u8]);
        for v in [k, d, self.columns] {
            w.0.extend_from_slice(&(v as u32).to_le_bytes());
        }
        w.0.extend_from_slice(&self.rows.to_le_bytes());
        let st = &self.raw;
        w.f(st.ll);
        w.f(st.worst.0);
        w.0.extend_from_slice(&(st.worst.1 as u64).to_le_bytes());
        w.f(st.noise);
        w.all(
            self.shifts
                .as_ref()
                .row_iter()
                .flat_map(|r| r.iter().copied()),
        );
        if let Some(c) = &self.reference {
            for &v in c {
                w.f(v);
            }
        }
        w.all(st.nk.iter().copied());
        w.all(st.mass.iter().copied());
        w.all(st.u_term.iter().copied());
        w.all(st.s.as_ref().row_iter().flat_map(|r| r.iter().copied()));
        for g in &st.full {
            // The lower triangle is all the pass writes.
            for a in 0..g.nrows() {
                for b in 0..=a {
                    w.f(g[(a, b)].as_f64());
                }
            }
        }
        w.all(st.diag.as_ref().row_iter().flat_map(|r| r.iter().copied()));
        for r in st.axis.as_ref().row_iter() {
            for &v in r.iter() {
                w.f(v);
            }
        }
        w.all(self.worst_row.iter().copied());
        w.0
    }

    /// Numbers after the header, for the capacity.
    fn n_numbers(&self, k: usize, d: usize) -> usize {
        let worst = !self.worst_row.is_empty();
        expected_numbers(k, d, self.full, self.reference.is_some(), worst).unwrap_or(0)
    }

    /// Reads statistics written by [`GaussianStats::to_bytes`] for the same
    /// scalar type.
    ///
    /// # Errors
    /// [`StatsError::Format`] for bytes of another format, version or scalar
    /// type, or whose length does not match their header.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StatsError> {
        let mut r = Reader(bytes);
        if r.take(4)? != MAGIC {
            return Err(StatsError::Format("no MXGS header".into()));
        }
        let h = r.take(4)?;
        let (version, kind, flags, size) = (h[0], h[1], h[2], h[3]);
        if version != VERSION {
            return Err(StatsError::Format(format!(
                "version {version}, expected {VERSION}"
            )));
        }
        if ![KIND_GAUSSIAN, KIND_STUDENT_T, KIND_GIVEN].contains(&kind) {
            return Err(StatsError::Format(format!("unknown kind {kind}")));
        }
        if usize::from(size) != size_of::<T>() {
            return Err(StatsError::Format(format!(
                "statistics of {}-byte numbers read as {}-byte ones",
                size,
                size_of::<T>()
            )));
        }
        let (k, d, columns) = (r.u32()?, r.u32()?, r.u32()?);
        let rows = r.u64()?;
        let full = flags & FULL != 0;
        let products = flags & REFERENCE != 0;
        // Every count is checked against the bytes present before anything
        // of that size is allocated.
        let numbers = expected_numbers(k, d, full, products, flags & WORST_ROW != 0);
        if numbers.and_then(|n| n.checked_mul(8)) != Some(r.0.len()) {
            return Err(StatsError::Format(
                "the header's sizes do not match the bytes".into(),
            ));
        }
        if columns < k || columns > k + 1 {
            return Err(StatsError::Format(format!(
                "{columns} columns for {k} components"
            )));
        }
        let ll = r.f()?;
        let worst_lp = r.f()?;
        let worst_i = r.u64()?;
        let noise = r.f()?;
        let shifts = r.mat(k, d)?;
        let reference = if products {
            Some(r.vec::<f64>(d)?)
        } else {
            None
        };
        let mut st = Stats::zeros(k, d, full, products);
        st.ll = ll;
        st.worst = (worst_lp, usize::try_from(worst_i).unwrap_or(usize::MAX));
        st.noise = noise;
        st.nk = r.vec(k)?;
        st.mass = r.vec(k)?;
        st.u_term = r.vec(k)?;
        st.s = r.mat(k, d)?;
        for g in &mut st.full {
            for a in 0..=d {
                for b in 0..=a {
                    g[(a, b)] = T::c(r.f()?);
                }
            }
        }
        if !full {
            st.diag = r.mat(k, d)?;
        }
        if products {
            st.axis = r.mat(k, 2 * d)?;
        }
        let worst_row = if flags & WORST_ROW != 0 {
            r.vec(d)?
        } else {
            Vec::new()
        };
        if !r.0.is_empty() {
            return Err(StatsError::Format(format!("{} bytes left over", r.0.len())));
        }
        let mut out = Self::with_layout(kind, full, shifts, reference, columns);
        out.raw = st;
        out.worst_row = worst_row;
        out.rows = rows;
        Ok(out)
    }
}

/// Numbers (8 bytes each) after the header: the four scalars, the shifts, the
/// reference, three per-component vectors, `s`, the second moments (lower
/// triangles of `(D + 1)²` or the diagonal), the products' moments and the
/// least likely row; `None` on overflow.
fn expected_numbers(k: usize, d: usize, full: bool, products: bool, worst: bool) -> Option<usize> {
    let kd = k.checked_mul(d)?;
    let second = if full {
        k.checked_mul((d + 1).checked_mul(d + 2)? / 2)?
    } else {
        kd
    };
    let mut n = 4usize.checked_add(kd.checked_mul(2)?)?;
    n = n.checked_add(k.checked_mul(3)?)?.checked_add(second)?;
    if products {
        n = n.checked_add(d)?.checked_add(kd.checked_mul(2)?)?;
    }
    if worst {
        n = n.checked_add(d)?;
    }
    Some(n)
}
