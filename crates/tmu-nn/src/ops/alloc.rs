//! The process-wide allocator setting that CPU training wants: keep freed memory for reuse.
//!
//! A training step allocates and frees the same activation-sized buffers every step (every candle
//! op returns a new tensor). glibc serves blocks above its mmap threshold (128 KiB, raised
//! dynamically up to 32 MiB; a batch-128 64x32x32 f32 activation is just above) with fresh
//! `mmap`s and unmaps them on free, so every such tensor costs a page fault per 4 KiB and the
//! kernel's zeroing: 12 ms to allocate and fill 32 MiB here, against 0.8 ms when the memory is
//! reused. Reading a fresh zeroed block before writing it (candle's gradient accumulation adds
//! into `zeros_like`) costs a second, copy-on-write fault per page.

/// Makes glibc's malloc keep freed memory for reuse (no `mmap` for large blocks, no trimming of
/// the heap top), process-wide; returns whether the setting was applied (glibc on Linux only,
/// elsewhere a no-op returning false). Call once at the start of a program that trains on the
/// CPU. The cost: the process keeps its peak heap size reserved until it exits.
pub fn keep_freed_memory() -> bool {
    imp::keep_freed_memory()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::ffi::c_int;

    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_MAX: c_int = -4;

    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }

    pub(super) fn keep_freed_memory() -> bool {
        // SAFETY: `mallopt` is glibc's documented, thread-safe tuning call; these two parameters
        // only decide whether future frees return memory to the OS and whether large blocks are
        // mapped separately, never the validity of live allocations.
        unsafe { mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, c_int::MAX) == 1 }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub(super) fn keep_freed_memory() -> bool {
        false
    }
}
