//! `conv2d`: a 2-d convolution whose CPU f32 forward and backward run through im2col + `gemm`
//! (see `conv_cpu`), through cuDNN for cuda tensors (feature `cuda`, see `cuda::conv`), and which
//! falls back to candle's own convolution on other devices and dtypes.

use candle_core::{CpuStorage, Layout, Result, Shape, Tensor};

use super::conv_cpu::{self, ConvGeom};
use super::cpu::{is_cpu_f32, slice_f32, tensor_from_vec, with_f32};
use super::profile::timed;
use super::{conv_nhwc, conv_winograd};

/// Stride and zero padding of a square 2-d convolution (same value for both spatial axes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dCfg {
    /// Step between two output pixels, in input pixels; at least 1.
    pub stride: usize,
    /// Zeros added on each side of both spatial axes.
    pub padding: usize,
}

impl Default for Conv2dCfg {
    fn default() -> Self {
        Self { stride: 1, padding: 0 }
    }
}

/// `y = conv(x, w) + bias` with `x: [b, ci, h, w]`, `w: [co, ci, kh, kw]`, `bias: [co]`, giving
/// `[b, co, (h + 2p - kh) / s + 1, (w + 2p - kw) / s + 1]` (PyTorch's `F.conv2d`, no dilation,
/// one group). Differentiable with respect to `x`, `w` and `bias` through candle's autograd.
pub fn conv2d(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, cfg: Conv2dCfg) -> Result<Tensor> {
    let geom = geometry(x, w, cfg)?;
    // empty tensors: nothing for the kernels to split, candle handles (or rejects) them
    let y = if is_cpu_f32(&[x, w]) && x.elem_count() > 0 && w.elem_count() > 0 {
        x.contiguous()?.apply_op2(&w.contiguous()?, Conv2dOp { geom })?
    } else {
        other_device(x, w, cfg, geom)?
    };
    match bias {
        None => Ok(y),
        Some(b) => y.broadcast_add(&b.to_dtype(y.dtype())?.reshape((1, geom.co, 1, 1))?),
    }
}

/// cuDNN for cuda tensors (feature `cuda`), candle's own convolution elsewhere.
fn other_device(x: &Tensor, w: &Tensor, cfg: Conv2dCfg, geom: ConvGeom) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if super::cuda::handles(x) {
        return super::cuda::conv2d(x, w, geom);
    }
    let _ = geom;
    x.conv2d(w, cfg.padding, cfg.stride, 1, 1)
}

/// Checks the shapes and computes the output size.
fn geometry(x: &Tensor, w: &Tensor, cfg: Conv2dCfg) -> Result<ConvGeom> {
    let (b, ci, h, wd) = x.dims4()?;
    let (co, wci, kh, kw) = w.dims4()?;
    if wci != ci {
        candle_core::bail!("conv2d: input has {ci} channels but the kernel expects {wci}");
    }
    if cfg.stride == 0 {
        candle_core::bail!("conv2d: stride must be at least 1");
    }
    if h + 2 * cfg.padding < kh || wd + 2 * cfg.padding < kw {
        candle_core::bail!("conv2d: kernel {kh}x{kw} larger than the padded input {h}x{wd} (padding {})", cfg.padding);
    }
    let ho = (h + 2 * cfg.padding - kh) / cfg.stride + 1;
    let wo = (wd + 2 * cfg.padding - kw) / cfg.stride + 1;
    Ok(ConvGeom { b, ci, h, w: wd, co, kh, kw, stride: cfg.stride, pad: cfg.padding, ho, wo })
}

/// The candle custom op: forward on contiguous CPU f32 storage, backward returning both gradients.
struct Conv2dOp {
    geom: ConvGeom,
}

impl candle_core::CustomOp2 for Conv2dOp {
    fn name(&self) -> &'static str {
        "tmu-conv2d"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let g = &self.geom;
        let x = slice_f32(s1, l1, "conv2d")?;
        let w = slice_f32(s2, l2, "conv2d")?;
        let y = timed("conv2d.forward", || {
            if conv_winograd::eligible_forward(g) {
                conv_winograd::forward(g, x, w)
            } else if conv_nhwc::eligible(g) {
                conv_nhwc::forward(g, x, w)
            } else {
                conv_cpu::forward(g, x, w)
            }
        });
        Ok((CpuStorage::F32(y), Shape::from((g.b, g.co, g.ho, g.wo))))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = &self.geom;
        let (need_dx, need_dw) = (x.track_op(), w.track_op());
        let (dx, dw) = timed("conv2d.backward", || {
            with_f32(x, "conv2d backward", |xs| {
                with_f32(w, "conv2d backward", |ws| {
                    with_f32(dy, "conv2d backward", |dys| {
                        Ok(if conv_winograd::eligible(g) {
                            conv_winograd::backward(g, xs, ws, dys, need_dx, need_dw)
                        } else if conv_nhwc::eligible(g) {
                            conv_nhwc::backward(g, xs, ws, dys, need_dx, need_dw)
                        } else {
                            conv_cpu::backward(g, xs, ws, dys, need_dx, need_dw)
                        })
                    })
                })
            })
        })?;
        let dx = dx.map(|d| tensor_from_vec(d, (g.b, g.ci, g.h, g.w))).transpose()?;
        let dw = dw.map(|d| tensor_from_vec(d, (g.co, g.ci, g.kh, g.kw))).transpose()?;
        Ok((dx, dw))
    }
}
