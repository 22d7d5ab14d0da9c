//! A cache hint for the merge: a merge of many files takes one bar from each file in turn,
//! so each file's next bar has left the cache by the time it is taken. Asking for it when
//! the bar before it is taken lets the memory system fetch it meanwhile.

/// Asks the CPU to bring the cache line of `value` in ahead of its use. A hint only: it
/// changes no result, and does nothing on targets other than x86-64.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing into the program and cannot fault; the pointer comes
    // from a live reference.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
