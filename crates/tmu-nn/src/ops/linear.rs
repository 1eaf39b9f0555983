//! `linear`: `y = x w^T + b` as one op whose CPU f32 forward and backward call `gemm` directly,
//! single-threaded below [`PARALLEL_MIN`] multiply-adds.
//!
//! Through candle (`x.matmul(&w.t())?.broadcast_add(&b)?`) a small layer (the MLPs of the digits
//! pipelines: 64 x 64 x 256 per product) spent more time around its products than in them:
//! every candle matmul asks for the thread count, which reads `/proc/cpuinfo` (candle 0.11's
//! `get_num_threads`, through `num_cpus::get_physical`), and hands products this small to the
//! rayon pool, whose idle workers then spin in `sched_yield`; the backward also builds the input
//! gradient of the first layer, which nothing reads, and transposes through extra nodes. Here
//! the products are the same `gemm` calls candle makes (the same shapes, strides and operand
//! order, so the same rounding: checked bit for bit in `tests/it/ops_vs_candle.rs`), the bias
//! gradient sums the rows in order as candle's `sum_keepdim(0)` does, and the input gradient is
//! computed only when the input tracks gradients.

use candle_core::{CpuStorage, Layout, Result, Shape, Tensor};

use super::cpu::{is_cpu_f32, slice_f32, tensor_from_vec, with_f32};
use super::profile::timed;

/// Products with at least this many multiply-adds (m n k) run on the rayon pool (gemm's own
/// split over output tiles, which leaves every element's sum in the same order); smaller ones on
/// the calling thread.
pub const PARALLEL_MIN: usize = 1 << 23;

/// `x [rows, d_in] @ w^T + b` with `w: [d_out, d_in]`, `b: [d_out]`: PyTorch's `F.linear` on a
/// matrix. Differentiable with respect to all three. CPU f32 tensors run the op here; others
/// (cuda, bf16 under mixed precision) go through candle's matmul and broadcast add.
pub fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (rows, d_in) = x.dims2()?;
    let (d_out, w_in) = w.dims2()?;
    if w_in != d_in || b.dims1()? != d_out {
        candle_core::bail!("linear: input [{rows}, {d_in}], weight {:?}, bias {:?}", w.dims(), b.dims());
    }
    if is_cpu_f32(&[x, w, b]) && rows > 0 && d_in > 0 && d_out > 0 {
        x.contiguous()?.apply_op3(&w.contiguous()?, &b.contiguous()?, LinearOp { rows, d_in, d_out })
    } else {
        x.matmul(&w.t()?)?.broadcast_add(b)
    }
}

struct LinearOp {
    rows: usize,
    d_in: usize,
    d_out: usize,
}

fn parallelism(m: usize, n: usize, k: usize) -> gemm::Parallelism {
    if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    }
}

/// `dst [m x n] = lhs [m x k] * rhs [k x n]` (dst contiguous, not read), the operands given by
/// (row stride, column stride): candle's `MatMul` call for f32.
#[allow(clippy::too_many_arguments)] // the shape and the two strided operands of a product
fn product(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(m > 0 && n > 0 && k > 0, "linear: empty product");
    assert!(dst.len() >= m * n, "linear: dst too small");
    assert!(last(m, k, lhs_rs, lhs_cs) < lhs.len(), "linear: lhs too small");
    assert!(last(k, n, rhs_rs, rhs_cs) < rhs.len(), "linear: rhs too small");
    // SAFETY: the asserts above prove that every element read (lhs, rhs) or written (dst, m x n
    // contiguous) lies inside its slice; dst is borrowed mutably so it aliases neither operand;
    // the strides index existing allocations, so they fit in isize.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism(m, n, k),
        )
    }
}

impl candle_core::CustomOp3 for LinearOp {
    fn name(&self) -> &'static str {
        "tmu-linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, i, o) = (self.rows, self.d_in, self.d_out);
        let x = slice_f32(s1, l1, "linear")?;
        let w = slice_f32(s2, l2, "linear")?;
        let b = slice_f32(s3, l3, "linear")?;
        let y = timed("linear.forward", || {
            let mut y = vec![0f32; n * o];
            // x [n, i] @ w^T: w^T's element (k, j) is w[j i + k], strides (1, i).
            product(n, o, i, &mut y, x, (i, 1), w, (1, i));
            for row in y.chunks_exact_mut(o) {
                for (v, bias) in row.iter_mut().zip(b) {
                    *v += bias;
                }
            }
            y
        });
        Ok((CpuStorage::F32(y), Shape::from((n, o))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (n, i, o) = (self.rows, self.d_in, self.d_out);
        let (need_dx, need_dw, need_db) = (x.track_op(), w.track_op(), b.track_op());
        let (dx, dw, db) = timed("linear.backward", || {
            with_f32(x, "linear backward", |xs| {
                with_f32(w, "linear backward", |ws| {
                    with_f32(dy, "linear backward", |dys| {
                        // dx = dy [n, o] @ w [o, i] (candle: grad.matmul(&rhs.t()) with rhs = w^T).
                        let dx = need_dx.then(|| {
                            let mut dx = vec![0f32; n * i];
                            product(n, i, o, &mut dx, dys, (o, 1), ws, (i, 1));
                            dx
                        });
                        // dw^T = x^T [i, n] @ dy [n, o] (candle: lhs.t().matmul(&grad)), then
                        // transposed into w's layout.
                        let dw = need_dw.then(|| {
                            let mut dwt = vec![0f32; i * o];
                            product(i, o, n, &mut dwt, xs, (1, i), dys, (o, 1));
                            let mut dw = vec![0f32; o * i];
                            for (k, row) in dwt.chunks_exact(o).enumerate() {
                                for (j, v) in row.iter().enumerate() {
                                    dw[j * i + k] = *v;
                                }
                            }
                            dw
                        });
                        // db = the rows of dy summed in order, from zero.
                        let db = need_db.then(|| {
                            let mut db = vec![0f32; o];
                            for row in dys.chunks_exact(o) {
                                for (acc, v) in db.iter_mut().zip(row) {
                                    *acc += v;
                                }
                            }
                            db
                        });
                        Ok((dx, dw, db))
                    })
                })
            })
        })?;
        Ok((
            dx.map(|d| tensor_from_vec(d, (n, i))).transpose()?,
            dw.map(|d| tensor_from_vec(d, (o, i))).transpose()?,
            db.map(|d| tensor_from_vec(d, o)).transpose()?,
        ))
    }
}
