//! Training-mode batch norm (optionally fused with the following ReLU) on CUDA with tmu-nn's
//! kernels (`kernels/batch_norm.cu`): three launches forward (partial sums, statistics, the
//! normalise pass) and three backward (partial sums, per-channel coefficients, `dx`). Activations
//! in f32 or bf16; gamma, beta, the statistics and their gradients in f32.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::{CudaDevice, CudaStorage, WrapErr};
use candle_core::{CpuStorage, DType, Layout, Result, Shape, Tensor, Var};

use super::device::{
    Kernel, Module, THREADS, addr, alloc_out, cuda_device, grid_1d, slice_addr, storage_addr, storage_from, suffix,
    tensor_from, u32_arg,
};

/// Values of one channel summed by one block of the partial kernels.
const CHUNK_TARGET: usize = 4096;
/// Most blocks per channel.
const MAX_PARTS: usize = 256;

/// Shape of the NCHW input as the kernels see it.
#[derive(Clone, Copy, Debug)]
struct Geom {
    b: u32,
    c: u32,
    hw: u32,
    /// Blocks per channel of the partial kernels, and the values each one sums.
    parts: u32,
    chunk: u32,
}

impl Geom {
    fn new(b: usize, c: usize, hw: usize) -> Result<Self> {
        let n = b * hw;
        u32_arg(b * c * hw, "batch_norm input size")?;
        let parts = n.div_ceil(CHUNK_TARGET).clamp(1, MAX_PARTS);
        let chunk = n.div_ceil(parts);
        Ok(Geom { b: b as u32, c: c as u32, hw: hw as u32, parts: parts as u32, chunk: chunk as u32 })
    }
    fn total(&self) -> usize {
        self.b as usize * self.c as usize * self.hw as usize
    }
    fn count(&self) -> f64 {
        self.b as f64 * self.hw as f64
    }
    fn partial_grid(&self) -> LaunchConfig {
        LaunchConfig { grid_dim: (self.parts, self.c, 1), block_dim: (THREADS, 1, 1), shared_mem_bytes: 0 }
    }
    fn final_grid(&self) -> LaunchConfig {
        LaunchConfig { grid_dim: (self.c, 1, 1), block_dim: (32, 1, 1), shared_mem_bytes: 0 }
    }
}

/// `(y, batch_mean, batch_var_unbiased)` as `ops::batch_norm_train` (`relu`: fused ReLU); `x` is
/// f32 or bf16, `gamma` and `beta` are used in f32 (cast differentiably when they are not).
pub(crate) fn batch_norm_train(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    eps: f64,
    relu: bool,
) -> Result<(Tensor, Tensor, Tensor)> {
    let (b, c, h, w) = x.dims4()?;
    let sfx = suffix(x.dtype(), "batch_norm")?;
    let g = Geom::new(b, c, h * w)?;
    let dev = cuda_device(x, "batch_norm")?;
    let stream = dev.cuda_stream();
    let x = x.contiguous()?;
    let f32_of =
        |t: &Tensor| if t.dtype() == DType::F32 { t.contiguous() } else { t.to_dtype(DType::F32)?.contiguous() };
    let (gamma, beta) = (f32_of(gamma)?, f32_of(beta)?);

    let part = alloc_out::<f64>(&dev, g.c as usize * g.parts as usize * 2)?;
    let (mean, invstd, var_unbiased) =
        (alloc_out::<f32>(&dev, c)?, alloc_out::<f32>(&dev, c)?, alloc_out::<f32>(&dev, c)?);
    let xa = addr(&x, "batch_norm")?;
    let pa = slice_addr(&part, &dev);
    let k = Kernel::new(&dev, Module::BatchNorm, &format!("bn_stats_partial_{sfx}"))?;
    let mut a = k.args(&stream);
    a.arg(&xa).arg(&pa).arg(&g.b).arg(&g.c).arg(&g.hw).arg(&g.chunk);
    // SAFETY: `x` holds b*c*hw contiguous elements of the kernel's type (checked by `suffix`),
    // `part` holds c*parts*2 doubles; the (parts, c) grid of THREADS-thread blocks is the layout
    // the kernel indexes by.
    unsafe { a.launch(g.partial_grid()) }.w()?;
    let (ma, ia, va) = (slice_addr(&mean, &dev), slice_addr(&invstd, &dev), slice_addr(&var_unbiased, &dev));
    let k = Kernel::new(&dev, Module::BatchNorm, &format!("bn_stats_final_{sfx}"))?;
    let mut a = k.args(&stream);
    a.arg(&xa).arg(&pa).arg(&ma).arg(&ia).arg(&va).arg(&g.b).arg(&g.hw).arg(&g.parts).arg(&eps);
    // SAFETY: one 32-thread block per channel reads its `parts` partials and writes element c of
    // the three c-long outputs.
    unsafe { a.launch(g.final_grid()) }.w()?;
    drop(part);

    let mean = tensor_from(mean, &dev, c);
    let invstd = tensor_from(invstd, &dev, c);
    let var_unbiased = tensor_from(var_unbiased, &dev, c);
    let op = BnTrainCuda { g, mean: mean.clone(), invstd, relu };
    let y = x.apply_op3(&gamma, &beta, op)?;
    Ok((y, mean, var_unbiased))
}

/// The autograd node of the normalise pass; holds the batch statistics for the backward.
struct BnTrainCuda {
    g: Geom,
    mean: Tensor,
    invstd: Tensor,
    relu: bool,
}

impl candle_core::CustomOp3 for BnTrainCuda {
    fn name(&self) -> &'static str {
        "tmu-batch-norm-train-cuda"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        candle_core::bail!("tmu-batch-norm-train-cuda runs on cuda tensors only")
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
        s3: &CudaStorage,
        l3: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let dev = s1.device.clone();
        let g = &self.g;
        let total = g.total() as u64;
        let relu = i32::from(self.relu);
        let (xa, ga, ba) = (
            storage_addr(s1, l1, "batch_norm")?,
            storage_addr(s2, l2, "batch_norm")?,
            storage_addr(s3, l3, "batch_norm")?,
        );
        let (ma, ia) = (addr(&self.mean, "batch_norm")?, addr(&self.invstd, "batch_norm")?);
        let y = match s1.dtype() {
            DType::F32 => {
                let y = alloc_out::<f32>(&dev, g.total())?;
                launch_apply(&dev, "f32", [xa, ga, ba, ma, ia, slice_addr(&y, &dev)], total, g, relu)?;
                storage_from(y, &dev)
            }
            DType::BF16 => {
                let y = alloc_out::<half::bf16>(&dev, g.total())?;
                launch_apply(&dev, "bf16", [xa, ga, ba, ma, ia, slice_addr(&y, &dev)], total, g, relu)?;
                storage_from(y, &dev)
            }
            other => candle_core::bail!("batch_norm: unsupported dtype {other:?}"),
        };
        Ok((y, l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        beta: &Tensor,
        y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = &self.g;
        let sfx = suffix(x.dtype(), "batch_norm backward")?;
        let dev = cuda_device(x, "batch_norm backward")?;
        let stream = dev.cuda_stream();
        let dy = dy.contiguous()?;
        let c = g.c as usize;
        let relu = i32::from(self.relu);
        let (xa, ya, da) = (addr(x, "batch_norm")?, addr(y, "batch_norm")?, addr(&dy, "batch_norm")?);
        let (ma, ia, ga) =
            (addr(&self.mean, "batch_norm")?, addr(&self.invstd, "batch_norm")?, addr(gamma, "batch_norm")?);

        let part = alloc_out::<f64>(&dev, c * g.parts as usize * 2)?;
        let pa = slice_addr(&part, &dev);
        let k = Kernel::new(&dev, Module::BatchNorm, &format!("bn_bwd_partial_{sfx}"))?;
        let mut a = k.args(&stream);
        a.arg(&xa).arg(&ya).arg(&da).arg(&ma).arg(&pa).arg(&g.b).arg(&g.c).arg(&g.hw).arg(&g.chunk).arg(&relu);
        // SAFETY: x, y and dy are contiguous b*c*hw tensors of the kernel's type, mean is c
        // floats, part holds c*parts*2 doubles, on the (parts, c) grid the kernel indexes by.
        unsafe { a.launch(g.partial_grid()) }.w()?;

        let (dgamma, dbeta, coef) =
            (alloc_out::<f32>(&dev, c)?, alloc_out::<f32>(&dev, c)?, alloc_out::<f32>(&dev, 2 * c)?);
        let (dga, dba, ca) = (slice_addr(&dgamma, &dev), slice_addr(&dbeta, &dev), slice_addr(&coef, &dev));
        let n = g.count();
        let k = Kernel::new(&dev, Module::BatchNorm, "bn_bwd_final")?;
        let mut a = k.args(&stream);
        a.arg(&pa).arg(&ia).arg(&dga).arg(&dba).arg(&ca).arg(&g.parts).arg(&n);
        // SAFETY: one 32-thread block per channel reads its partials and writes element c of
        // dgamma and dbeta and elements 2c, 2c+1 of coef.
        unsafe { a.launch(g.final_grid()) }.w()?;

        let dx = if x.track_op() {
            let total = g.total() as u64;
            let run = |dxa: u64| -> Result<()> {
                let k = Kernel::new(&dev, Module::BatchNorm, &format!("bn_bwd_apply_{sfx}"))?;
                let mut a = k.args(&stream);
                a.arg(&xa).arg(&ya).arg(&da).arg(&ga).arg(&ma).arg(&ia).arg(&ca).arg(&dxa);
                a.arg(&total).arg(&g.c).arg(&g.hw).arg(&relu);
                // SAFETY: element-wise over the b*c*hw contiguous tensors, reading the c-long
                // channel vectors and writing every element of dx once.
                unsafe { a.launch(grid_1d(g.total())) }.w()?;
                Ok(())
            };
            Some(match x.dtype() {
                DType::BF16 => {
                    let dx = alloc_out::<half::bf16>(&dev, g.total())?;
                    run(slice_addr(&dx, &dev))?;
                    tensor_from(dx, &dev, x.shape().clone())
                }
                _ => {
                    let dx = alloc_out::<f32>(&dev, g.total())?;
                    run(slice_addr(&dx, &dev))?;
                    tensor_from(dx, &dev, x.shape().clone())
                }
            })
        } else {
            None
        };
        drop(part);
        let dgamma = gamma.track_op().then(|| tensor_from(dgamma, &dev, c));
        let dbeta = beta.track_op().then(|| tensor_from(dbeta, &dev, c));
        Ok((dx, dgamma, dbeta))
    }
}

/// True when [`update_running_stats`] applies: f32 contiguous cuda running statistics.
pub(crate) fn running_stats_apply(running_mean: &Var, running_var: &Var) -> bool {
    [running_mean, running_var].iter().all(|v| v.device().is_cuda() && v.dtype() == DType::F32 && v.is_contiguous())
}

/// `ops::update_running_stats` in one kernel, in place on the two running vectors (which the
/// layer owns; the batch statistics are f32 vectors of the same length).
pub(crate) fn update_running_stats(
    running_mean: &Var,
    running_var: &Var,
    batch_mean: &Tensor,
    batch_var_unbiased: &Tensor,
    momentum: f64,
) -> Result<()> {
    let c = running_mean.elem_count();
    for (name, t) in
        [("running_var", running_var.as_tensor()), ("batch_mean", batch_mean), ("batch_var", batch_var_unbiased)]
    {
        if t.elem_count() != c || t.dtype() != DType::F32 {
            candle_core::bail!("update_running_stats: {name} is {:?} {:?}, expected {c} f32", t.dims(), t.dtype());
        }
    }
    let dev = cuda_device(running_mean.as_tensor(), "update_running_stats")?;
    let stream = dev.cuda_stream();
    let (bm, bv) = (batch_mean.contiguous()?, batch_var_unbiased.contiguous()?);
    let (rma, rva) = (
        addr(running_mean.as_tensor(), "update_running_stats")?,
        addr(running_var.as_tensor(), "update_running_stats")?,
    );
    let (ma, va) = (addr(&bm, "update_running_stats")?, addr(&bv, "update_running_stats")?);
    if rma == rva || [ma, va].contains(&rma) || [ma, va].contains(&rva) {
        candle_core::bail!("update_running_stats: the running statistics must be distinct buffers");
    }
    let (c32, m) = (u32_arg(c, "channels")?, momentum as f32);
    let k = Kernel::new(&dev, Module::BatchNorm, "bn_running_update")?;
    let mut a = k.args(&stream);
    a.arg(&rma).arg(&rva).arg(&ma).arg(&va).arg(&c32).arg(&m);
    // SAFETY: four distinct (checked above for the two written) contiguous f32 vectors of c
    // elements; thread i reads and writes element i only.
    unsafe { a.launch(grid_1d(c)) }.w()?;
    Ok(())
}

/// The normalise(+ReLU) kernel: `addrs` are x, gamma, beta, mean, invstd, y.
fn launch_apply(dev: &CudaDevice, sfx: &str, addrs: [u64; 6], total: u64, g: &Geom, relu: i32) -> Result<()> {
    let stream = dev.cuda_stream();
    let k = Kernel::new(dev, Module::BatchNorm, &format!("bn_apply_{sfx}"))?;
    let mut a = k.args(&stream);
    for p in &addrs {
        a.arg(p);
    }
    a.arg(&total).arg(&g.c).arg(&g.hw).arg(&relu);
    // SAFETY: element-wise over b*c*hw contiguous values of the kernel's type, reading the
    // c-long f32 channel vectors and writing every element of y once.
    unsafe { a.launch(grid_1d(g.total())) }.w()?;
    Ok(())
}
