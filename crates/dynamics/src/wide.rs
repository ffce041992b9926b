//! Run-time choice of AVX2 builds for plain vector loops on x86-64.

/// Proof that this processor has AVX2 and FMA: it exists only where they were detected, so
/// code holding one may run loops compiled for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Avx2(());

#[cfg(target_arch = "x86_64")]
cpufeatures::new!(avx2_fma, "avx2", "fma");

impl Avx2 {
    /// The proof, when the processor has AVX2 and FMA.
    pub(crate) fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma::init().get() {
            return Some(Self(()));
        }
        None
    }

    /// Runs `f` compiled for AVX2 + FMA: the plain vector loops inlined into it (mark the
    /// closure `#[inline(always)]`) use 256-bit registers. Their results are bit-identical to
    /// the baseline build: the same operations on each element, and Rust never fuses a
    /// multiplication and an addition on its own.
    #[inline(always)]
    pub(crate) fn run<R>(self, f: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        {
            #[allow(unsafe_code)]
            // SAFETY: `self` exists only where `detect` found AVX2 and FMA.
            unsafe {
                with_avx2(f)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        f()
    }
}

/// `f()` in a function compiled for AVX2 + FMA.
///
/// # Safety
/// The processor must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
