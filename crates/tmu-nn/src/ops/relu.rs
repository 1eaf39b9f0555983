//! `relu` and the residual join `add_relu(a, b) = relu(a + b)`: one parallel pass forward and one
//! backward on CPU f32 (candle's own ReLU backward is several single-threaded ops) and on cuda
//! (feature `cuda`), candle ops elsewhere.

use candle_core::{CpuStorage, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu::{is_cpu_f32, output_vec, slice_f32, tensor_from_vec, with_f32};
use super::profile::timed;

/// Elements per parallel task of the element-wise passes.
const CHUNK: usize = 1 << 15;

/// `max(x, 0)`; the gradient is passed where the output is positive.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if super::cuda::handles(x) {
        return super::cuda::relu(x);
    }
    if is_cpu_f32(&[x]) { x.contiguous()?.apply_op1(ReluOp) } else { x.relu() }
}

/// `max(a + b, 0)` for two tensors of the same shape (the end of a residual block).
pub fn add_relu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.shape() != b.shape() {
        candle_core::bail!("add_relu: shapes differ, {:?} and {:?}", a.dims(), b.dims());
    }
    #[cfg(feature = "cuda")]
    if super::cuda::handles(a) && a.dtype() == b.dtype() {
        return super::cuda::add_relu(a, b);
    }
    if is_cpu_f32(&[a, b]) { a.contiguous()?.apply_op2(&b.contiguous()?, AddReluOp) } else { (a + b)?.relu() }
}

/// `dy` where `y > 0`, else 0.
fn masked_grad(y: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let d = timed("relu.backward", || {
        with_f32(y, "relu backward", |ys| {
            with_f32(dy, "relu backward", |ds| {
                let mut out = output_vec(ys.len());
                out.par_chunks_mut(CHUNK).zip(ys.par_chunks(CHUNK)).zip(ds.par_chunks(CHUNK)).for_each(
                    |((o, yc), dc)| {
                        for ((v, &y), &d) in o.iter_mut().zip(yc).zip(dc) {
                            *v = if y > 0.0 { d } else { 0.0 };
                        }
                    },
                );
                Ok(out)
            })
        })
    })?;
    tensor_from_vec(d, y.shape().clone())
}

struct ReluOp;

impl candle_core::CustomOp1 for ReluOp {
    fn name(&self) -> &'static str {
        "tmu-relu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice_f32(s, l, "relu")?;
        let mut y = output_vec(x.len());
        timed("relu.forward", || {
            y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(o, i)| {
                for (o, &v) in o.iter_mut().zip(i) {
                    *o = v.max(0.0);
                }
            })
        });
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        masked_grad(y, dy).map(Some)
    }
}

struct AddReluOp;

impl candle_core::CustomOp2 for AddReluOp {
    fn name(&self) -> &'static str {
        "tmu-add-relu"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let a = slice_f32(s1, l1, "add_relu")?;
        let b = slice_f32(s2, l2, "add_relu")?;
        let mut y = output_vec(a.len());
        timed("add_relu.forward", || {
            y.par_chunks_mut(CHUNK).zip(a.par_chunks(CHUNK)).zip(b.par_chunks(CHUNK)).for_each(|((o, ac), bc)| {
                for ((v, &x), &y) in o.iter_mut().zip(ac).zip(bc) {
                    *v = (x + y).max(0.0);
                }
            })
        });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(&self, a: &Tensor, b: &Tensor, y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let d = masked_grad(y, dy)?;
        Ok((a.track_op().then(|| d.clone()), b.track_op().then_some(d)))
    }
}
