//! Handing freed heap pages back to the operating system during a long run.
//!
//! Each Parquet row group the twins write allocates and frees a few megabytes of encode
//! buffers. glibc keeps freed memory in its heap, and over tens of millions of bars the
//! heap fragments: the resident size then grows with the run's length although live data
//! does not. [`release_free_pages`] is called after each row group, so peak RSS stays near
//! the live set however long the run is.

/// Returns the heap's free pages to the OS (glibc's `malloc_trim`). Only memory that is
/// already free is released: no allocation is touched. A no-op on other C libraries.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_pages() {
    // SAFETY: malloc_trim has no preconditions; it only madvises pages glibc holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns the heap's free pages to the OS (glibc's `malloc_trim`). Only memory that is
/// already free is released: no allocation is touched. A no-op on other C libraries.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_pages() {}
