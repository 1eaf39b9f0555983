//! Shared CPU plumbing of the fast ops: f32 slices out of candle storage, tensors out of vectors,
//! a bounds-checked wrapper around the `gemm` crate and deterministic parallel loops.

use candle_core::{CpuStorage, DType, Device, Layout, Result, Shape, Storage, Tensor};
use rayon::prelude::*;

/// Defines `$name` as `$body` compiled for the best vector extension found at run time
/// (AVX-512F, else AVX2, else the baseline x86-64's SSE2, 4 lanes wide): for element-wise
/// kernels written as plain loops over fixed-size blocks, which LLVM then vectorises.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident = $body:ident($($arg:ident: $ty:ty),* $(,)?)) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F, checked on the line above.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports AVX2 and FMA, checked on the line above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// True when the fast CPU kernels apply: every tensor is an f32 tensor on the CPU.
pub(crate) fn is_cpu_f32(ts: &[&Tensor]) -> bool {
    ts.iter().all(|t| t.device().is_cpu() && t.dtype() == DType::F32)
}

/// The contiguous f32 slice that `layout` selects in `storage`, or an error naming `op`.
pub(crate) fn slice_f32<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    let data = storage.as_slice::<f32>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op}: expected a contiguous input, got strides {:?}", layout.stride()),
    }
}

/// Runs `f` on the contiguous f32 data of a CPU tensor (made contiguous first if it is not).
pub(crate) fn with_f32<R>(t: &Tensor, op: &str, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => f(slice_f32(cpu, layout, op)?),
        _ => candle_core::bail!("{op}: the fast kernel runs on cpu tensors only"),
    }
}

/// A CPU f32 tensor owning `data`, without any autograd history.
pub(crate) fn tensor_from_vec(data: Vec<f32>, shape: impl Into<Shape>) -> Result<Tensor> {
    Tensor::from_vec(data, shape.into(), &Device::Cpu)
}

/// A vector of `n` f32 whose every element the caller overwrites before reading it.
///
/// Large outputs are fully written by the kernels, so zero-filling them first would be a wasted
/// pass over memory; this returns zeros anyway (cheap for fresh pages) to stay in safe Rust.
pub(crate) fn output_vec(n: usize) -> Vec<f32> {
    vec![0f32; n]
}

/// A vector of `n` zeros written explicitly (for accumulators read before they are written:
/// written first, fresh pages fault once instead of twice with a copy-on-write).
pub(crate) fn zeroed_vec(n: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, 0f32);
    v
}

/// Element-wise sum of equally long partial sums, added in their given order (deterministic).
pub(crate) fn sum_parts(mut parts: Vec<Vec<f32>>, len: usize) -> Vec<f32> {
    if parts.is_empty() {
        return zeroed_vec(len);
    }
    let mut acc = parts.remove(0);
    const CHUNK: usize = 1 << 14;
    acc.par_chunks_mut(CHUNK).enumerate().for_each(|(i, a)| {
        for p in &parts {
            for (x, y) in a.iter_mut().zip(&p[i * CHUNK..]) {
                *x += y;
            }
        }
    });
    acc
}

/// A read-only strided view of a matrix for [`gemm`]: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

/// `dst[m x n] (row stride ldd) = (if accumulate { dst } else { 0 }) + lhs[m x k] * rhs[k x n]`,
/// single-threaded (callers parallelise over images or channels).
#[allow(clippy::too_many_arguments)] // the shape and the three operands of a product
pub(crate) fn gemm(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    ldd: usize,
    accumulate: bool,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(ldd >= n && last(m, n, ldd, 1) < dst.len(), "gemm: dst too small");
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(ldd).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    assert!(last(m, k, lhs.rs, lhs.cs) < lhs.data.len(), "gemm: lhs too small");
    assert!(last(k, n, rhs.rs, rhs.cs) < rhs.data.len(), "gemm: rhs too small");
    // SAFETY: the asserts above prove that every element the product reads (lhs, rhs) or writes
    // (dst, m x n with row stride ldd) lies inside its slice; dst is borrowed mutably so it does
    // not alias lhs or rhs; the strides fit in isize because they index existing allocations.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            ldd as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// Splits `0..n` into `parts` contiguous ranges of near-equal length (the first ones longer);
/// the split depends only on `n` and `parts`, never on the thread count, so reductions done
/// per range and then summed in range order are bit-reproducible.
pub(crate) fn split_ranges(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, n.max(1));
    let (q, r) = (n / parts, n % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = q + usize::from(i < r);
            let range = start..start + len;
            start += len;
            range
        })
        .collect()
}
