//! The 2-d convolution on CUDA through cuDNN: forward, data gradient and filter gradient, each
//! with the cached plan of its shape (see `cudnn`); f32 or bf16 data, f32 arithmetic. A pass for
//! which no cuDNN algorithm launches is computed with candle's convolution instead.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::cudnn::{ConvBackwardData, ConvBackwardFilter, ConvForward, sys};
use candle_core::cuda_backend::cudarc::driver::{CudaSlice, CudaView};
use candle_core::cuda_backend::{CudaDType, CudaStorage};
use candle_core::{CpuStorage, DType, Layout, Result, Shape, Tensor};
use half::bf16;

use super::cudnn::{Algo, ConvElem, Pass, math_type, run_pass};
use super::device::{alloc_out, storage_from};
use crate::ops::conv_cpu::ConvGeom;
use crate::ops::precision::current_precision;

/// `conv(x, w)` on CUDA (no bias), `x: [b, ci, h, w]`, `w: [co, ci, kh, kw]`; the weights are cast
/// to the input's dtype (bf16 under mixed precision, differentiably: their gradient comes back
/// in the weights' own dtype). The math type follows the thread's current [`Precision`].
///
/// [`Precision`]: crate::ops::Precision
pub(crate) fn conv2d(x: &Tensor, w: &Tensor, geom: ConvGeom) -> Result<Tensor> {
    let dtype = x.dtype();
    if !matches!(dtype, DType::F32 | DType::BF16) {
        candle_core::bail!("conv2d: cuda convolutions take f32 or bf16 inputs, got {dtype:?}");
    }
    let w = if w.dtype() == dtype { w.clone() } else { w.to_dtype(dtype)? };
    let math = math_type(current_precision(), dtype);
    let (x, w) = (x.contiguous()?, w.contiguous()?);
    match x.apply_op2(&w, CudnnConv { geom, math }) {
        Err(e) if e.to_string().contains(NO_ALGORITHM) => x.conv2d(&w, geom.pad, geom.stride, 1, 1),
        other => other,
    }
}

/// The error text of a pass that no cuDNN algorithm runs (the caller falls back to candle).
const NO_ALGORITHM: &str = "tmu-cudnn: no working algorithm";

/// `dx` of `conv(x, w)` with candle's transposed convolution (the fallback of the data pass).
fn candle_data_grad(dy: &Tensor, w: &Tensor, g: &ConvGeom) -> Result<Tensor> {
    let full = (g.ho - 1) * g.stride + g.kh - 2 * g.pad;
    dy.conv_transpose2d(w, g.pad, g.h - full, g.stride, 1)
}

/// `dw` of `conv(x, w)` with candle's convolution (the fallback of the filter pass): the
/// correlation of `x` with `dy` over the batch, batch and channels swapped, stride as dilation.
fn candle_filter_grad(x: &Tensor, dy: &Tensor, g: &ConvGeom) -> Result<Tensor> {
    let dw = x.transpose(0, 1)?.conv2d(&dy.transpose(0, 1)?, g.pad, 1, g.stride, 1)?.transpose(0, 1)?;
    dw.narrow(2, 0, g.kh)?.narrow(3, 0, g.kw)?.contiguous()
}

/// The error of a pass with no working algorithm.
fn no_algorithm(pass: Pass) -> candle_core::Error {
    candle_core::Error::Msg(format!("{NO_ALGORITHM} for the {pass:?} pass"))
}

/// The contiguous device view of a storage with `layout`.
fn view<'a, T: CudaDType>(s: &'a CudaStorage, l: &Layout, op: &str) -> Result<CudaView<'a, T>> {
    let Some((start, end)) = l.contiguous_offsets() else {
        candle_core::bail!("{op}: expected a contiguous input, got strides {:?}", l.stride());
    };
    Ok(s.as_cuda_slice::<T>()?.slice(start..end))
}

/// Output of a cuDNN call: a fresh buffer of `n` elements.
fn out<T: ConvElem + candle_core::cuda_backend::cudarc::driver::DeviceRepr>(
    s: &CudaStorage,
    n: usize,
) -> Result<CudaSlice<T>> {
    alloc_out::<T>(&s.device, n)
}

/// The forward pass; its backward is two more cuDNN ops.
struct CudnnConv {
    geom: ConvGeom,
    math: sys::cudnnMathType_t,
}

impl CudnnConv {
    fn fwd<T: ConvElem + CudaDType + candle_core::cuda_backend::cudarc::driver::DeviceRepr>(
        &self,
        xs: &CudaStorage,
        xl: &Layout,
        ws_: &CudaStorage,
        wl: &Layout,
    ) -> Result<CudaStorage> {
        let g = &self.geom;
        let x = view::<T>(xs, xl, "conv2d")?;
        let w = view::<T>(ws_, wl, "conv2d")?;
        let mut y = out::<T>(xs, g.b * g.co * g.ho * g.wo)?;
        let ran = run_pass::<T>(&xs.device, g, self.math, Pass::Forward, |p, algo, ws| {
            let Algo::Forward(algo) = algo else { unreachable!("a forward plan holds forward algorithms") };
            let op = ConvForward { conv: &p.conv[Pass::Forward as usize], x: &p.x, w: &p.w, y: &p.y };
            // SAFETY: the descriptors were made from `g` and `T` (NCHW, packed), `x`, `w` and
            // `y` are contiguous buffers of exactly those shapes and type, and the workspace
            // holds at least the size cuDNN asked for this algorithm.
            unsafe { op.launch(algo, ws, (T::ONE, T::ZERO), &x, &w, &mut y) }?;
            Ok(())
        })?;
        if !ran {
            return Err(no_algorithm(Pass::Forward));
        }
        Ok(storage_from(y, &xs.device))
    }
}

impl candle_core::CustomOp2 for CudnnConv {
    fn name(&self) -> &'static str {
        "tmu-cudnn-conv2d"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        candle_core::bail!("tmu-cudnn-conv2d runs on cuda tensors only")
    }

    fn cuda_fwd(&self, s1: &CudaStorage, l1: &Layout, s2: &CudaStorage, l2: &Layout) -> Result<(CudaStorage, Shape)> {
        let g = &self.geom;
        let y = match s1.dtype() {
            DType::F32 => self.fwd::<f32>(s1, l1, s2, l2)?,
            DType::BF16 => self.fwd::<bf16>(s1, l1, s2, l2)?,
            other => candle_core::bail!("conv2d: unsupported dtype {other:?}"),
        };
        Ok((y, Shape::from((g.b, g.co, g.ho, g.wo))))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let (g, math) = (self.geom, self.math);
        let fallback = |r: Result<Tensor>, candle: &dyn Fn() -> Result<Tensor>| match r {
            Err(e) if e.to_string().contains(NO_ALGORITHM) => candle(),
            other => other,
        };
        let dx = x
            .track_op()
            .then(|| {
                fallback(dy.apply_op2_no_bwd(w, &CudnnConvBwdData { geom: g, math }), &|| candle_data_grad(&dy, w, &g))
            })
            .transpose()?;
        let dw = w
            .track_op()
            .then(|| {
                fallback(x.apply_op2_no_bwd(&dy, &CudnnConvBwdFilter { geom: g, math }), &|| {
                    candle_filter_grad(x, &dy, &g)
                })
            })
            .transpose()?;
        Ok((dx, dw))
    }
}

/// `dx` from `(dy, w)`.
struct CudnnConvBwdData {
    geom: ConvGeom,
    math: sys::cudnnMathType_t,
}

impl CudnnConvBwdData {
    fn run<T: ConvElem + CudaDType + candle_core::cuda_backend::cudarc::driver::DeviceRepr>(
        &self,
        dys: &CudaStorage,
        dyl: &Layout,
        ws_: &CudaStorage,
        wl: &Layout,
    ) -> Result<CudaStorage> {
        let g = &self.geom;
        let dy = view::<T>(dys, dyl, "conv2d backward")?;
        let w = view::<T>(ws_, wl, "conv2d backward")?;
        let mut dx = out::<T>(dys, g.b * g.ci * g.h * g.w)?;
        let ran = run_pass::<T>(&dys.device, g, self.math, Pass::Data, |p, algo, ws| {
            let Algo::Data(algo) = algo else { unreachable!("a data pass holds data algorithms") };
            let op = ConvBackwardData { conv: &p.conv[Pass::Data as usize], dx: &p.x, w: &p.w, dy: &p.y };
            // SAFETY: as in the forward pass: descriptors from `g` and `T`, buffers of those
            // exact shapes, a large enough workspace; beta = 0 so `dx` need not be initialised.
            unsafe { op.launch(algo, ws, (T::ONE, T::ZERO), &mut dx, &w, &dy) }?;
            Ok(())
        })?;
        if !ran {
            return Err(no_algorithm(Pass::Data));
        }
        Ok(storage_from(dx, &dys.device))
    }
}

impl candle_core::CustomOp2 for CudnnConvBwdData {
    fn name(&self) -> &'static str {
        "tmu-cudnn-conv2d-bwd-data"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        candle_core::bail!("tmu-cudnn-conv2d-bwd-data runs on cuda tensors only")
    }

    fn cuda_fwd(&self, s1: &CudaStorage, l1: &Layout, s2: &CudaStorage, l2: &Layout) -> Result<(CudaStorage, Shape)> {
        let g = &self.geom;
        let dx = match s1.dtype() {
            DType::F32 => self.run::<f32>(s1, l1, s2, l2)?,
            DType::BF16 => self.run::<bf16>(s1, l1, s2, l2)?,
            other => candle_core::bail!("conv2d backward: unsupported dtype {other:?}"),
        };
        Ok((dx, Shape::from((g.b, g.ci, g.h, g.w))))
    }
}

/// `dw` from `(x, dy)`.
struct CudnnConvBwdFilter {
    geom: ConvGeom,
    math: sys::cudnnMathType_t,
}

impl CudnnConvBwdFilter {
    fn run<T: ConvElem + CudaDType + candle_core::cuda_backend::cudarc::driver::DeviceRepr>(
        &self,
        xs: &CudaStorage,
        xl: &Layout,
        dys: &CudaStorage,
        dyl: &Layout,
    ) -> Result<CudaStorage> {
        let g = &self.geom;
        let x = view::<T>(xs, xl, "conv2d backward")?;
        let dy = view::<T>(dys, dyl, "conv2d backward")?;
        let mut dw = out::<T>(xs, g.co * g.ci * g.kh * g.kw)?;
        let ran = run_pass::<T>(&xs.device, g, self.math, Pass::Filter, |p, algo, ws| {
            let Algo::Filter(algo) = algo else { unreachable!("a filter pass holds filter algorithms") };
            let op = ConvBackwardFilter { conv: &p.conv[Pass::Filter as usize], x: &p.x, dw: &p.w, dy: &p.y };
            // SAFETY: as in the forward pass; beta = 0 so `dw` need not be initialised.
            unsafe { op.launch(algo, ws, (T::ONE, T::ZERO), &x, &mut dw, &dy) }?;
            Ok(())
        })?;
        if !ran {
            return Err(no_algorithm(Pass::Filter));
        }
        Ok(storage_from(dw, &xs.device))
    }
}

impl candle_core::CustomOp2 for CudnnConvBwdFilter {
    fn name(&self) -> &'static str {
        "tmu-cudnn-conv2d-bwd-filter"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        candle_core::bail!("tmu-cudnn-conv2d-bwd-filter runs on cuda tensors only")
    }

    fn cuda_fwd(&self, s1: &CudaStorage, l1: &Layout, s2: &CudaStorage, l2: &Layout) -> Result<(CudaStorage, Shape)> {
        let g = &self.geom;
        let dw = match s1.dtype() {
            DType::F32 => self.run::<f32>(s1, l1, s2, l2)?,
            DType::BF16 => self.run::<bf16>(s1, l1, s2, l2)?,
            other => candle_core::bail!("conv2d backward: unsupported dtype {other:?}"),
        };
        Ok((dw, Shape::from((g.co, g.ci, g.kh, g.kw))))
    }
}
