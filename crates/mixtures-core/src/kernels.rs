//! Numeric kernels shared by every crate: log-sum-exp, a Cholesky factorization
//! with our own conditioning check, log-determinants and blocked squared
//! Mahalanobis distances.
//!
//! Kernels follow faer's two-layer idiom: they read `MatRef`s and write into
//! caller-owned buffers, never allocate, and run sequentially (`Par::Seq`) so that
//! they can be called from inside rayon tasks without nesting parallelism.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{self as llt_factor, LltRegularization};
use faer::linalg::matmul::matmul;
use faer::linalg::triangular_inverse::invert_lower_triangular;
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use num_traits::Float;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::{LinalgError, Scalar};

/// Rows per block in every chunked, parallel kernel. It is a constant, never
/// derived from the number of threads, so that per-chunk partial results and
/// their reduction in chunk order are the same on any machine: results are
/// bit-identical whatever the size of the rayon pool.
pub const CHUNK_ROWS: usize = 512;

/// A piece of element-wise work that [`vectorize`] compiles for the widest SIMD
/// instruction set of the processor it runs on.
///
/// Implement `run` with `#[inline(always)]`, and mark what it calls the same
/// way: only code inlined into the dispatched function gets the wider
/// instructions (a closure would not be, which is why this is a trait).
pub trait Kernel {
    /// What the work returns.
    type Output;
    /// Does the work.
    fn run(self) -> Self::Output;
}

struct Dispatch<K>(K);

impl<K: Kernel> pulp::WithSimd for Dispatch<K> {
    type Output = K::Output;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> K::Output {
        self.0.run()
    }
}

/// The conditioning verdict shared by both checks of [`Cholesky::new`]: the
/// variable with the smallest ratio, refused when that ratio is not above
/// `limit` (NaN included).
fn refuse_ill_conditioned(worst: Option<(usize, f64)>, limit: f64) -> Result<(), LinalgError> {
    match worst {
        Some((pivot, ratio)) if !(ratio > limit) => Err(LinalgError::IllConditioned {
            pivot,
            ratio,
            limit,
        }),
        _ => Ok(()),
    }
}

/// Whether the kernels use fused multiply-add instructions: on x86-64 where
/// the processor has AVX2 and FMA (pulp's `V3` level, which AVX-512 implies),
/// on every aarch64 processor. Kernels call `mul_add` only where this holds:
/// elsewhere it would be a slow library call.
///
/// It follows the processor, not the level [`vectorize`] compiles for, so that
/// lowering that level ([`set_simd_limit`]) changes the speed and never the
/// result: on one processor every level gives the same bits. Between a
/// processor with FMA and one without, results may differ in the last bits.
pub fn fused_multiply_add() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        pulp::x86::V3::try_new().is_some()
    }
    #[cfg(target_arch = "aarch64")]
    {
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// `acc + a·b`, fused (one rounding) when `FMA`, else a product and a sum.
#[inline(always)]
fn mul_acc<T: Scalar, const FMA: bool>(acc: T, a: T, b: T) -> T {
    if FMA { a.mul_add(b, acc) } else { acc + a * b }
}

/// The instruction sets [`vectorize`] compiles the kernels for, from the
/// narrowest to the widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// What the compilation target guarantees: SSE2 on x86-64, NEON on
    /// aarch64 (there the only level).
    Baseline,
    /// x86-64 with AVX2 and FMA (x86-64-v3): four `f64` per register.
    Avx2,
    /// x86-64 with AVX-512 F, BW, CD, DQ and VL (x86-64-v4): eight `f64` per
    /// register.
    Avx512,
}

impl SimdLevel {
    /// The widest level this processor supports.
    pub fn available() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if pulp::x86::V4::try_new().is_some() {
                return Self::Avx512;
            }
            if pulp::x86::V3::try_new().is_some() {
                return Self::Avx2;
            }
        }
        Self::Baseline
    }

    /// The level [`vectorize`] uses now: the widest available one that the
    /// limit ([`set_simd_limit`], or the `MIXTURES_SIMD` environment
    /// variable) allows.
    pub fn current() -> Self {
        Self::available().min(simd_limit())
    }

    /// The level's name as `MIXTURES_SIMD` and the CLI spell it: `baseline`,
    /// `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// The level named `s` (see [`SimdLevel::name`]; case-insensitive), if any.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Baseline, Self::Avx2, Self::Avx512]
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s.trim()))
    }

    fn code(self) -> u8 {
        self as u8
    }
}

/// The limit's code (`SimdLevel as u8`), or `UNSET` until it is first read.
static SIMD_LIMIT: AtomicU8 = AtomicU8::new(UNSET);
const UNSET: u8 = u8::MAX;

/// The limit on [`vectorize`]'s level: [`SimdLevel::Avx512`] (no limit)
/// unless [`set_simd_limit`] was called or, before that, the environment
/// variable `MIXTURES_SIMD` named a level (an unknown name is ignored here;
/// the CLI refuses it).
pub fn simd_limit() -> SimdLevel {
    match SIMD_LIMIT.load(Ordering::Relaxed) {
        0 => SimdLevel::Baseline,
        1 => SimdLevel::Avx2,
        2 => SimdLevel::Avx512,
        _ => {
            let from_env = std::env::var("MIXTURES_SIMD")
                .ok()
                .and_then(|v| SimdLevel::parse(&v))
                .unwrap_or(SimdLevel::Avx512);
            // A concurrent `set_simd_limit` wins over the environment.
            let _ = SIMD_LIMIT.compare_exchange(
                UNSET,
                from_env.code(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            match SIMD_LIMIT.load(Ordering::Relaxed) {
                0 => SimdLevel::Baseline,
                1 => SimdLevel::Avx2,
                _ => SimdLevel::Avx512,
            }
        }
    }
}

/// Caps the instruction set [`vectorize`] compiles for, process-wide: for
/// measuring what a wider one gains, or for running as a narrower machine
/// would. Results do not change (see [`fused_multiply_add`]), only the speed.
pub fn set_simd_limit(level: SimdLevel) {
    SIMD_LIMIT.store(level.code(), Ordering::Relaxed);
}

/// Runs `k` compiled for the widest SIMD instruction set this processor has
/// and the limit allows ([`SimdLevel::current`]), chosen at run time:
/// AVX-512 or AVX2 with FMA on x86-64, NEON on aarch64.
///
/// The element-wise loops of the kernels are plain Rust; compiled for the
/// baseline x86-64 target they would use 2-wide SSE2 only. Nothing is fused
/// (beyond the explicit `mul_add`s of [`fused_multiply_add`]) or reordered by
/// this: every lane does what the scalar loop does, so the results are the
/// same bits at every level.
#[inline]
pub fn vectorize<K: Kernel>(k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        let limit = simd_limit();
        if limit >= SimdLevel::Avx512 {
            if let Some(simd) = pulp::x86::V4::try_new() {
                return pulp::Simd::vectorize(simd, Dispatch(k));
            }
        }
        if limit >= SimdLevel::Avx2 {
            if let Some(simd) = pulp::x86::V3::try_new() {
                return pulp::Simd::vectorize(simd, Dispatch(k));
            }
        }
        pulp::Simd::vectorize(pulp::Scalar::new(), Dispatch(k))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        pulp::Arch::new().dispatch(Dispatch(k))
    }
}

/// The column `j` of `m` as a slice, when the column is contiguous (always the
/// case for views of owned faer matrices and of [`crate::Dataset`]).
#[inline]
pub fn col_slice<T>(m: MatRef<'_, T>, j: usize) -> Option<&[T]> {
    m.col(j).try_as_col_major().map(|c| c.as_slice())
}

/// The column `j` of `m` as a mutable slice, when contiguous.
#[inline]
pub fn col_slice_mut<T>(m: MatMut<'_, T>, j: usize) -> Option<&mut [T]> {
    m.col_mut(j)
        .try_as_col_major_mut()
        .map(|c| c.as_slice_mut())
}

/// `ln Σ exp(vᵢ)`, shifted by the maximum so that it neither overflows nor
/// underflows. Returns `-inf` for an empty slice or when every value is `-inf`.
pub fn log_sum_exp<T: Scalar>(values: &[T]) -> T {
    let max = values.iter().copied().fold(T::neg_infinity(), T::max);
    if max == T::neg_infinity() {
        return max;
    }
    let s: T = values.iter().map(|&v| Float::exp(v - max)).sum();
    max + Float::ln(s)
}

/// Row-wise log-sum-exp of an `m x k` block: `out[i] = ln Σⱼ exp(a[i, j])`.
///
/// Works column by column, so that the inner loops run over contiguous rows, and
/// takes the exponentials through [`Scalar::exp_in_place`] on short stack
/// buffers, so that they vectorize. `max` is scratch of at least `m` values. A
/// row whose entries are all `-inf` gives `-inf`.
pub fn log_sum_exp_rows<T: Scalar>(a: MatRef<'_, T>, out: &mut [T], max: &mut [T]) {
    struct Lse<'a, T> {
        a: MatRef<'a, T>,
        out: &'a mut [T],
        max: &'a mut [T],
    }
    impl<T: Scalar> Kernel for Lse<'_, T> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            log_sum_exp_rows_impl(self.a, self.out, self.max);
        }
    }
    vectorize(Lse { a, out, max });
}

#[inline(always)]
fn log_sum_exp_rows_impl<T: Scalar>(a: MatRef<'_, T>, out: &mut [T], max: &mut [T]) {
    let m = a.nrows();
    let (out, max) = (&mut out[..m], &mut max[..m]);
    max.fill(T::neg_infinity());
    for j in 0..a.ncols() {
        match col_slice(a, j) {
            Some(c) => {
                for (mx, &v) in max.iter_mut().zip(c) {
                    *mx = mx.max(v);
                }
            }
            None => {
                for (mx, &v) in max.iter_mut().zip(a.col(j).iter()) {
                    *mx = mx.max(v);
                }
            }
        }
    }
    // A row of -inf is shifted by 0 instead, so that exp(-inf - 0) = 0 rather than
    // exp(NaN); its sum is then 0 and its result ln 0 = -inf.
    for mx in max.iter_mut() {
        if *mx == T::neg_infinity() {
            *mx = T::zero();
        }
    }
    out.fill(T::zero());
    let mut tmp = [T::zero(); LSE_STRIP];
    let mut lo = 0;
    while lo < m {
        let len = LSE_STRIP.min(m - lo);
        let (o, mx, t) = (&mut out[lo..lo + len], &max[lo..lo + len], &mut tmp[..len]);
        for j in 0..a.ncols() {
            match col_slice(a, j) {
                Some(c) => {
                    for ((t, &v), &mx) in t.iter_mut().zip(&c[lo..lo + len]).zip(mx) {
                        *t = v - mx;
                    }
                }
                None => {
                    for (i, (t, &mx)) in t.iter_mut().zip(mx).enumerate() {
                        *t = a[(lo + i, j)] - mx;
                    }
                }
            }
            T::exp_in_place(t);
            for (o, &t) in o.iter_mut().zip(t.iter()) {
                *o += t;
            }
        }
        lo += len;
    }
    // ln s = ln(1 + (s − 1)) through the vectorized ln_1p (libm's ln is a call
    // per row); s − 1 is exact for s ≥ 1, and a row of −∞ (s = 0) gives −∞.
    for o in out.iter_mut() {
        *o -= T::one();
    }
    T::ln_1p_in_place(out);
    for (o, &mx) in out.iter_mut().zip(max.iter()) {
        *o += mx;
    }
}

/// Turns a block of log-weights into row-normalized weights in place and
/// returns their row-wise log-sum-exp: with `mᵢ = maxⱼ a[i, j]` and
/// `sᵢ = Σⱼ exp(a[i, j] − mᵢ)`, writes `a[i, j] ← exp(a[i, j] − mᵢ) / sᵢ` and
/// `lse[i] = mᵢ + ln sᵢ`. This is the E-step's responsibilities and
/// log-likelihood with one exponential per entry.
///
/// Dividing by the sum, rather than taking `exp(a − lse)`, keeps rows summing to
/// one far from the data, where `mᵢ + ln sᵢ` rounds `ln sᵢ` away (an `f32`
/// log-density of −10⁷ has an ulp of 1). A row whose entries are all `−∞` (its
/// distances overflowed) gets `fallback` (the mixing weights) and `lse = −∞`,
/// never NaN. `max` and `sum` are scratch of at least `m` values; `fallback`
/// has one value per column.
pub fn softmax_rows<T: Scalar>(
    a: MatMut<'_, T>,
    lse: &mut [T],
    max: &mut [T],
    sum: &mut [T],
    fallback: &[T],
) {
    struct Softmax<'a, T> {
        a: MatMut<'a, T>,
        lse: &'a mut [T],
        max: &'a mut [T],
        sum: &'a mut [T],
        fallback: &'a [T],
    }
    impl<T: Scalar> Kernel for Softmax<'_, T> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            softmax_rows_impl(self.a, self.lse, self.max, self.sum, self.fallback);
        }
    }
    vectorize(Softmax {
        a,
        lse,
        max,
        sum,
        fallback,
    });
}

#[inline(always)]
fn softmax_rows_impl<T: Scalar>(
    mut a: MatMut<'_, T>,
    lse: &mut [T],
    max: &mut [T],
    sum: &mut [T],
    fallback: &[T],
) {
    let m = a.nrows();
    let (lse, max, sum) = (&mut lse[..m], &mut max[..m], &mut sum[..m]);
    max.fill(T::neg_infinity());
    for j in 0..a.ncols() {
        for (mx, &v) in max.iter_mut().zip(a.rb().col(j).iter()) {
            *mx = mx.max(v);
        }
    }
    // A row of −∞ is shifted by 0 instead, so that its exponentials are 0 (not
    // NaN) and its sum 0; every other row has a sum of at least exp(0) = 1.
    for mx in max.iter_mut() {
        if *mx == T::neg_infinity() {
            *mx = T::zero();
        }
    }
    sum.fill(T::zero());
    for j in 0..a.ncols() {
        match col_slice_mut(a.rb_mut(), j) {
            Some(col) => {
                for (o, &mx) in col.iter_mut().zip(max.iter()) {
                    *o -= mx;
                }
                T::exp_in_place(col);
                for (s, &o) in sum.iter_mut().zip(col.iter()) {
                    *s += o;
                }
            }
            None => {
                for ((o, &mx), s) in a
                    .rb_mut()
                    .col_mut(j)
                    .iter_mut()
                    .zip(max.iter())
                    .zip(sum.iter_mut())
                {
                    *o = Float::exp(*o - mx);
                    *s += *o;
                }
            }
        }
    }
    for (j, &f) in fallback.iter().enumerate().take(a.ncols()) {
        for (o, &s) in a.rb_mut().col_mut(j).iter_mut().zip(sum.iter()) {
            *o = if s > T::zero() { *o / s } else { f };
        }
    }
    // As in `log_sum_exp_rows`: ln s by the vectorized ln_1p of s − 1.
    for (l, &s) in lse.iter_mut().zip(sum.iter()) {
        *l = s - T::one();
    }
    T::ln_1p_in_place(lse);
    for (l, &mx) in lse.iter_mut().zip(max.iter()) {
        *l += mx;
    }
}

/// Rows per strip of [`log_sum_exp_rows`]' exponentials: long enough to
/// vectorize, short enough to stay on the stack and in L1.
const LSE_STRIP: usize = 128;

/// A Cholesky factorization `A = L Lᵀ` of a symmetric positive-definite matrix,
/// with the cached log-determinant and the inverse factor `L⁻¹` that the density
/// kernels multiply by.
#[derive(Debug, Clone, PartialEq)]
pub struct Cholesky<T: Scalar> {
    l: Mat<T>,
    l_inv: Mat<T>,
    log_det: T,
}

impl<T: Scalar> Cholesky<T> {
    /// Factorizes the symmetric matrix `a`, reading its lower triangle.
    ///
    /// faer alone accepts some numerically singular matrices (rounding can leave a
    /// tiny positive pivot where the exact one is zero), so the factorization is
    /// also refused when some variable `i` is a linear combination of the others
    /// to within rounding: when `1 − R²ᵢ = 1 / (Aᵢᵢ (A⁻¹)ᵢᵢ)`, the variance of
    /// variable `i` left after regressing it on all the others, relative to its
    /// own, is at most [`conditioning_limit`] `= 5 ε`: the rounding of the
    /// matrix's entries and of the factorization leaves residuals up to about
    /// `3.5 ε` on exactly singular matrices, so a smaller residual variance is
    /// indistinguishable from zero. `(A⁻¹)ᵢᵢ` is the squared norm of column `i`
    /// of `L⁻¹`, which is computed anyway: the check costs `O(d²)` next to the
    /// `O(d³)` factorization. It is invariant to scaling the variables, so
    /// features of very different magnitudes are not mistaken for a singular
    /// matrix, and it does not depend on the order of the variables.
    ///
    /// # Errors
    /// [`LinalgError::NotSquare`], [`LinalgError::NonFinite`],
    /// [`LinalgError::NotPositiveDefinite`] or [`LinalgError::IllConditioned`].
    pub fn new(a: MatRef<'_, T>) -> Result<Self, LinalgError> {
        let d = a.nrows();
        if a.ncols() != d {
            return Err(LinalgError::NotSquare {
                rows: d,
                cols: a.ncols(),
            });
        }
        for j in 0..d {
            for i in j..d {
                if !a[(i, j)].is_finite() {
                    return Err(LinalgError::NonFinite { row: i, col: j });
                }
            }
        }
        let mut l = Mat::<T>::zeros(d, d);
        for j in 0..d {
            for i in j..d {
                l[(i, j)] = a[(i, j)];
            }
        }
        let mut mem = MemBuffer::new(llt_factor::cholesky_in_place_scratch::<T>(
            d,
            Par::Seq,
            Default::default(),
        ));
        llt_factor::cholesky_in_place(
            l.as_mut(),
            LltRegularization::default(),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        )
        .map_err(|e| match e {
            llt_factor::LltError::NonPositivePivot { index } => {
                LinalgError::NotPositiveDefinite { pivot: index }
            }
        })?;
        // faer leaves the strict upper triangle untouched: clear it so `l` is L.
        for j in 1..d {
            for i in 0..j {
                l[(i, j)] = T::zero();
            }
        }
        let limit = conditioning_limit::<T>();
        // A cheap first screen before inverting: `Lᵢᵢ² / Aᵢᵢ` is `1 − R²` of
        // variable `i` regressed on the earlier ones only, never below the
        // residual on all the others, so a pivot at the limit already fails the
        // full test (and inverting it could overflow).
        let mut worst: Option<(usize, f64)> = None;
        for i in 0..d {
            let p = l[(i, i)];
            if !(p.is_finite() && p > T::zero()) {
                return Err(LinalgError::NotPositiveDefinite { pivot: i });
            }
            let p = p.as_f64();
            let ratio = p * p / a[(i, i)].as_f64();
            if worst.is_none_or(|(_, r)| ratio <= r) {
                worst = Some((i, ratio));
            }
        }
        refuse_ill_conditioned(worst, limit)?;
        let log_det = log_det_from_factor(l.as_ref());
        let mut l_inv = Mat::<T>::zeros(d, d);
        invert_lower_triangular(l_inv.as_mut(), l.as_ref(), Par::Seq);
        for j in 1..d {
            for i in 0..j {
                l_inv[(i, j)] = T::zero();
            }
        }
        if let Some((row, col)) = first_non_finite(l_inv.as_ref()) {
            return Err(LinalgError::NonFinite { row, col });
        }
        // The full test: Aᵢᵢ (A⁻¹)ᵢᵢ = Σⱼ (L⁻¹[j, i] √Aᵢᵢ)², in f64 and scaled
        // entry by entry, so that neither the product nor the sum overflows
        // before the ratio is formed. Ties go to the later variable, the one
        // that is the combination of the earlier ones.
        let mut worst: Option<(usize, f64)> = None;
        for i in 0..d {
            let s = a[(i, i)].as_f64().sqrt();
            let inv_ratio: f64 = (i..d)
                .map(|j| {
                    let v = l_inv[(j, i)].as_f64() * s;
                    v * v
                })
                .sum();
            let ratio = 1.0 / inv_ratio;
            if worst.is_none_or(|(_, r)| ratio <= r) {
                worst = Some((i, ratio));
            }
        }
        refuse_ill_conditioned(worst, limit)?;
        Ok(Self { l, l_inv, log_det })
    }

    /// The lower-triangular factor `L` (strict upper triangle zero).
    #[inline]
    pub fn l(&self) -> MatRef<'_, T> {
        self.l.as_ref()
    }

    /// `L⁻¹` (lower triangular). Its transpose `L⁻ᵀ` is scikit-learn's
    /// `precisions_cholesky_`.
    #[inline]
    pub fn l_inv(&self) -> MatRef<'_, T> {
        self.l_inv.as_ref()
    }

    /// `ln det A = 2 Σ ln Lᵢᵢ`.
    #[inline]
    pub fn log_det(&self) -> T {
        self.log_det
    }

    /// Dimension of the factored matrix.
    #[inline]
    pub fn dim(&self) -> usize {
        self.l.nrows()
    }
}

/// The conditioning limit of [`Cholesky::new`] for matrices of `T`: `5 ε`. A
/// matrix is refused when some variable's variance left after regressing it on
/// all the others is at most this fraction of its own variance.
///
/// Rounding alone leaves such a residual on exactly singular matrices: on the
/// scatter matrices of exactly collinear data (n from 30 to 10⁵ rows, d from 3
/// to 24 columns, offsets and scales up to 10³, `f32` and `f64`; 1,700
/// matrices) it never exceeded `3.5 ε`, whatever `d`. A ridge keeps a
/// legitimate fit above the limit: the residual is then at least
/// `reg_covar / Aᵢᵢ`, which for `f32` data of unit variance and the default
/// `reg_covar = 1e-6` is `8.4 ε` (even when columns are equal). The limit
/// does not grow with `d` because a larger one would refuse exactly those
/// fits (wide standardized data in `f32`, where most directions carry only
/// the ridge).
pub fn conditioning_limit<T: Scalar>() -> f64 {
    5.0 * T::epsilon().as_f64()
}

/// `2 Σ ln Lᵢᵢ`: the log-determinant of `L Lᵀ` from its Cholesky factor.
pub fn log_det_from_factor<T: Scalar>(l: MatRef<'_, T>) -> T {
    let two = T::c(2.0);
    (0..l.nrows().min(l.ncols())).fold(T::zero(), |s, i| s + Float::ln(l[(i, i)])) * two
}

/// Position of the first non-finite entry (column-major scan), if any.
pub fn first_non_finite<T: Scalar>(m: MatRef<'_, T>) -> Option<(usize, usize)> {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            if !m[(i, j)].is_finite() {
                return Some((i, j));
            }
        }
    }
    None
}

/// Whitens a block of rows: `y[i, :] = (xᵢ − c)ᵀ L⁻ᵀ`, so that `‖y[i, :]‖²` is the
/// squared Mahalanobis distance of `xᵢ` from `c` under `Σ = L Lᵀ`.
///
/// One matrix product per block: the rows are centred into `centered` (`m x d`)
/// and multiplied by `L⁻ᵀ` into `y`. Centring first keeps the result accurate when
/// the data sit far from the origin. `centered` and `y` must have at least `m`
/// rows and `d` columns; only their leading `m` rows are written.
#[inline(always)]
pub fn whiten_block<T: Scalar>(
    x: MatRef<'_, T>,
    center: &[T],
    l_inv: MatRef<'_, T>,
    centered: MatMut<'_, T>,
    y: MatMut<'_, T>,
) {
    let (m, d) = (x.nrows(), x.ncols());
    let mut centered = centered.subrows_mut(0, m).subcols_mut(0, d);
    for (j, &mu) in center.iter().enumerate().take(d) {
        let src = x.col(j);
        let mut dst = centered.rb_mut().col_mut(j);
        match (col_slice(x, j), dst.rb_mut().try_as_col_major_mut()) {
            (Some(s), Some(dd)) => {
                for (o, &v) in dd.as_slice_mut().iter_mut().zip(s) {
                    *o = v - mu;
                }
            }
            _ => {
                for i in 0..m {
                    dst[i] = src[i] - mu;
                }
            }
        }
    }
    let mut y = y.subrows_mut(0, m).subcols_mut(0, d);
    if d <= SMALL_DIM {
        // A matrix product's fixed cost outweighs its work at small d:
        // yⱼ = Σ_{l ≤ j} L⁻¹[j, l] cₗ as column updates, in a fixed order.
        for j in 0..d {
            for l in 0..=j {
                let a = l_inv[(j, l)];
                let (Some(c), Some(o)) =
                    (col_slice(centered.rb(), l), col_slice_mut(y.rb_mut(), j))
                else {
                    continue;
                };
                if l == 0 {
                    for (o, &c) in o.iter_mut().zip(c) {
                        *o = c * a;
                    }
                } else {
                    for (o, &c) in o.iter_mut().zip(c) {
                        *o += c * a;
                    }
                }
            }
        }
        return;
    }
    // A dense product: faer's triangular kernel was slower at these sizes.
    matmul(
        y,
        Accum::Replace,
        centered.rb(),
        l_inv.transpose(),
        T::one(),
        Par::Seq,
    );
}

/// Dimension up to which the block kernels use hand-written column loops
/// instead of faer's matrix products, whose fixed cost per call dominates there.
pub const SMALL_DIM: usize = 6;

/// Squared Mahalanobis distances of a block of rows: `out[i] = ‖L⁻¹(xᵢ − μ)‖²`.
///
/// The rows are centred into `work` in tiles of [`MAHA_TILE`] rows (tile after
/// tile, each holding its `d` columns one after the other, the last tile padded
/// with zeros), then a register-tiled kernel forms each
/// `yⱼ = Σ_{l ≤ j} L⁻¹[j, l] cₗ` for a whole tile and adds `yⱼ²` without
/// storing `y`. Only the lower triangle of `L⁻¹` is read (half the work of a
/// dense product); at the block sizes of the EM pass this beats a general matrix
/// product, whose packing and edge tiles dominate for small `d`. Every row goes
/// through the same operations in the same order wherever it sits in a block,
/// so the result does not depend on how rows are split into blocks. In `f32`
/// it is [`whiten_block`] (one faer product, which measured faster there:
/// eight lanes per register and faer's own register blocking) and
/// [`sum_sq_cols`].
///
/// `work` must hold at least [`maha_work_len`]`(m, d)` values.
pub fn sq_mahalanobis_block<T: Scalar>(
    x: MatRef<'_, T>,
    mean: &[T],
    l_inv: MatRef<'_, T>,
    work: &mut [T],
    out: &mut [T],
) {
    struct Maha<'a, T> {
        x: MatRef<'a, T>,
        mean: &'a [T],
        l_inv: MatRef<'a, T>,
        work: &'a mut [T],
        out: &'a mut [T],
    }
    impl<T: Scalar> Kernel for Maha<'_, T> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            let (x, mean, l_inv, work, out) = (self.x, self.mean, self.l_inv, self.work, self.out);
            if size_of::<T>() == 4 {
                // In f32 faer's product (eight lanes per register, its own
                // register blocking) measured faster than the tiles below.
                let (m, d) = (x.nrows(), x.ncols());
                let (c, y) = work.split_at_mut(m * d);
                let c = MatMut::from_column_major_slice_mut(c, m, d);
                let y = MatMut::from_column_major_slice_mut(&mut y[..m * d], m, d);
                whiten_block(x, mean, l_inv, c, y);
                let y = MatRef::from_column_major_slice(&work[m * d..2 * m * d], m, d);
                sum_sq_cols(y, out);
            } else if fused_multiply_add() {
                maha_tiles::<T, MAHA_TILE, true>(x, mean, l_inv, work, out);
            } else {
                maha_tiles::<T, MAHA_TILE, false>(x, mean, l_inv, work, out);
            }
        }
    }
    vectorize(Maha {
        x,
        mean,
        l_inv,
        work,
        out,
    });
}

/// Rows per register tile of [`sq_mahalanobis_block`] (f64): 16 independent
/// sums fill 4 AVX2 registers, two output columns at a time 8, and leave room
/// for the operands.
pub const MAHA_TILE: usize = 16;

/// The length of the `work` buffer [`sq_mahalanobis_block`] needs for `m` rows
/// in `d` dimensions: the centred rows in whole tiles and the packed lower
/// triangle of `L⁻¹`.
pub fn maha_work_len(m: usize, d: usize) -> usize {
    // Tiles and the triangle (f64), or the centred rows and their image (f32).
    (m.div_ceil(MAHA_TILE) * MAHA_TILE * d + d * (d + 1) / 2).max(2 * m * d)
}

#[inline(always)]
fn maha_tiles<T: Scalar, const R: usize, const FMA: bool>(
    x: MatRef<'_, T>,
    mean: &[T],
    l_inv: MatRef<'_, T>,
    work: &mut [T],
    out: &mut [T],
) {
    let (m, d) = (x.nrows(), x.ncols());
    let tiles = m.div_ceil(R);
    let (c, rest) = work.split_at_mut(tiles * R * d);
    // Row j of the lower triangle at j(j+1)/2, so the kernel reads it in order.
    let tri = &mut rest[..d * (d + 1) / 2];
    let mut at = 0;
    for j in 0..d {
        for l in 0..=j {
            tri[at] = l_inv[(j, l)];
            at += 1;
        }
    }
    let tri = &*tri;
    for (t, tile) in c.chunks_exact_mut(R * d).enumerate() {
        let i0 = t * R;
        let rows = R.min(m - i0);
        for (j, dst) in tile.chunks_exact_mut(R).enumerate() {
            let mu = mean[j];
            match col_slice(x, j) {
                Some(s) => {
                    for (o, &v) in dst.iter_mut().zip(&s[i0..i0 + rows]) {
                        *o = v - mu;
                    }
                }
                None => {
                    for (r, o) in dst.iter_mut().enumerate().take(rows) {
                        *o = x[(i0 + r, j)] - mu;
                    }
                }
            }
            dst[rows..].fill(T::zero());
        }
    }
    let c = &*c;
    for (t, tile) in c.chunks_exact(R * d).enumerate() {
        let i0 = t * R;
        let rows = R.min(m - i0);
        let dist = maha_tile::<T, R, FMA>(tile, tri, d);
        out[i0..i0 + rows].copy_from_slice(&dist[..rows]);
    }
}

/// `Σⱼ yⱼ²` for one tile of `R` centred rows (`d` columns of `R`), two output
/// columns `j, j + 1` at a time: eight independent running sums hide the
/// latency of the additions, and each column of the tile is loaded once for
/// both. The sums of `yⱼ` run over `l` in increasing order and the squares are
/// added in increasing `j`, whatever the pairing.
#[inline(always)]
fn maha_tile<T: Scalar, const R: usize, const FMA: bool>(
    tile: &[T],
    tri: &[T],
    d: usize,
) -> [T; R] {
    let mut dist = [T::zero(); R];
    let mut j = 0;
    while j < d {
        let start = j * (j + 1) / 2;
        if j + 1 < d {
            let wa = &tri[start..start + j + 1];
            let wb = &tri[start + j + 1..start + 2 * j + 3];
            let (mut a0, mut a1) = ([T::zero(); R], [T::zero(); R]);
            for ((cl, &x), &y) in tile.chunks_exact(R).zip(wa).zip(wb) {
                let Ok(cl) = <&[T; R]>::try_from(cl) else {
                    continue;
                };
                for r in 0..R {
                    a0[r] = mul_acc::<T, FMA>(a0[r], cl[r], x);
                    a1[r] = mul_acc::<T, FMA>(a1[r], cl[r], y);
                }
            }
            if let (Some(cl), Some(&y)) = (tile.chunks_exact(R).nth(j + 1), wb.last()) {
                for r in 0..R {
                    a1[r] = mul_acc::<T, FMA>(a1[r], cl[r], y);
                }
            }
            for r in 0..R {
                dist[r] = mul_acc::<T, FMA>(dist[r], a0[r], a0[r]);
            }
            for r in 0..R {
                dist[r] = mul_acc::<T, FMA>(dist[r], a1[r], a1[r]);
            }
            j += 2;
        } else {
            let w = &tri[start..start + j + 1];
            let mut a0 = [T::zero(); R];
            for (cl, &x) in tile.chunks_exact(R).zip(w) {
                let Ok(cl) = <&[T; R]>::try_from(cl) else {
                    continue;
                };
                for r in 0..R {
                    a0[r] = mul_acc::<T, FMA>(a0[r], cl[r], x);
                }
            }
            for r in 0..R {
                dist[r] = mul_acc::<T, FMA>(dist[r], a0[r], a0[r]);
            }
            j += 1;
        }
    }
    dist
}

/// `out[i] = Σⱼ a[i, j]²`, accumulated column by column.
#[inline(always)]
pub fn sum_sq_cols<T: Scalar>(a: MatRef<'_, T>, out: &mut [T]) {
    let m = a.nrows();
    let out = &mut out[..m];
    out.fill(T::zero());
    for j in 0..a.ncols() {
        match col_slice(a, j) {
            Some(c) => {
                for (o, &v) in out.iter_mut().zip(c) {
                    *o += v * v;
                }
            }
            None => {
                let c = a.col(j);
                for (i, o) in out.iter_mut().enumerate() {
                    *o += c[i] * c[i];
                }
            }
        }
    }
}
