//! cuDNN state of the 2-d convolution, per thread and device (cuDNN handles are not thread-safe):
//! the handle, one plan per convolution shape (descriptors, and for each of the forward pass,
//! the data gradient and the filter gradient the candidate algorithms with their math types and
//! the one chosen), and one workspace buffer that grows to the largest size asked for.
//!
//! The candidates are every result of `cudnnGet*Algorithm_v7` (heuristics, no trial runs, best
//! first, as PyTorch with `cudnn.benchmark = False`) that cuDNN marks as supported, needs at most
//! [`WORKSPACE_LIMIT`] bytes and keeps to the tier's math (no TF32 in strict f32). On first use of
//! a shape each pass tries them in order, with the result's math type set on that pass's
//! convolution descriptor, and keeps the first that launches; when none does, the pass reports
//! [`Chosen::None`] and the caller falls back to candle's convolution (warning once per shape).
use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::HashSet;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};

use candle_core::cuda_backend::cudarc::cudnn::{
    ConvBackwardData, ConvBackwardFilter, ConvDescriptor, ConvForward, Cudnn, CudnnDataType, FilterDescriptor,
    TensorDescriptor, result, sys,
};
use candle_core::cuda_backend::cudarc::driver::CudaSlice;
use candle_core::cuda_backend::{CudaDevice, DeviceId};
use candle_core::{DType, Result};
use half::bf16;

use super::super::conv_cpu::ConvGeom;
use crate::ops::Precision;

/// Plans of one element type, by shape.
pub(crate) type Plans<T> = HashMap<PlanKey, Plan<T>>;

/// Element types of the cuDNN convolution (data in `Self`, arithmetic in f32).
pub(crate) trait ConvElem: CudnnDataType + Copy + 'static {
    const NAME: &'static str;
    const ONE: Self;
    const ZERO: Self;
    /// The map of this type among a device's two.
    fn pick<'a>(f32s: &'a mut Plans<f32>, bf16s: &'a mut Plans<bf16>) -> &'a mut Plans<Self>;
}

impl ConvElem for f32 {
    const NAME: &'static str = "f32";
    const ONE: Self = 1.0;
    const ZERO: Self = 0.0;
    fn pick<'a>(f32s: &'a mut Plans<f32>, _: &'a mut Plans<bf16>) -> &'a mut Plans<f32> {
        f32s
    }
}

impl ConvElem for bf16 {
    const NAME: &'static str = "bf16";
    const ONE: Self = bf16::ONE;
    const ZERO: Self = bf16::ZERO;
    fn pick<'a>(_: &'a mut Plans<f32>, bf16s: &'a mut Plans<bf16>) -> &'a mut Plans<bf16> {
        bf16s
    }
}

/// The cuDNN math type of a tier: no TF32 for strict f32 (PyTorch's `CUDNN_FMA_MATH` when
/// `allow_tf32` is off), TF32 allowed for `Tf32`, tensor cores for bf16 data.
pub(crate) fn math_type(p: Precision, dtype: DType) -> sys::cudnnMathType_t {
    match (p, dtype) {
        (_, DType::BF16) => sys::cudnnMathType_t::CUDNN_TENSOR_OP_MATH,
        (Precision::Tf32, _) => sys::cudnnMathType_t::CUDNN_DEFAULT_MATH,
        _ => sys::cudnnMathType_t::CUDNN_FMA_MATH,
    }
}

/// What a plan depends on: the shapes and the math type (the dtype selects the map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PlanKey {
    geom: [usize; 11],
    math: u32,
}

impl PlanKey {
    pub(crate) fn new(g: &ConvGeom, math: sys::cudnnMathType_t) -> Self {
        PlanKey { geom: [g.b, g.ci, g.h, g.w, g.co, g.kh, g.kw, g.stride, g.pad, g.ho, g.wo], math: math as u32 }
    }
}

/// The largest workspace one convolution pass may use (PyTorch bounds it by free memory; a fixed
/// bound keeps the choice independent of what else is allocated).
pub(crate) const WORKSPACE_LIMIT: usize = 1 << 30;

/// The three passes of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Pass {
    Forward = 0,
    Data = 1,
    Filter = 2,
}

/// An algorithm of one pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algo {
    Forward(sys::cudnnConvolutionFwdAlgo_t),
    Data(sys::cudnnConvolutionBwdDataAlgo_t),
    Filter(sys::cudnnConvolutionBwdFilterAlgo_t),
}

/// One heuristic result: an algorithm and the math type it was ranked with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Candidate {
    pub algo: Algo,
    pub math: sys::cudnnMathType_t,
}

/// What a pass of a plan runs with.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Chosen {
    /// Not tried yet.
    Untried,
    /// The candidate that launched, and its workspace size.
    Algo(Candidate, usize),
    /// No candidate launched: the caller uses candle's convolution.
    None,
}

/// Descriptors, candidates and choices of one convolution shape; one convolution descriptor per
/// pass, since each pass's chosen algorithm sets its own math type.
pub(crate) struct Plan<T: CudnnDataType> {
    pub conv: [ConvDescriptor<f32>; 3],
    pub x: TensorDescriptor<T>,
    pub w: FilterDescriptor<T>,
    pub y: TensorDescriptor<T>,
    candidates: [Vec<Candidate>; 3],
    chosen: [Chosen; 3],
}

impl<T: CudnnDataType> Plan<T> {
    fn new(handle: &Arc<Cudnn>, g: &ConvGeom, math: sys::cudnnMathType_t) -> Result<Self> {
        let i = |v: usize| v as i32;
        let nchw = sys::cudnnTensorFormat_t::CUDNN_TENSOR_NCHW;
        let conv = || -> Result<ConvDescriptor<f32>> {
            let mut c = handle.create_conv2d::<f32>(
                [i(g.pad), i(g.pad)],
                [i(g.stride), i(g.stride)],
                [1, 1],
                sys::cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
            )?;
            c.set_math_type(math)?;
            Ok(c)
        };
        let x = handle.create_4d_tensor::<T>(nchw, [i(g.b), i(g.ci), i(g.h), i(g.w)])?;
        let w = handle.create_4d_filter::<T>(nchw, [i(g.co), i(g.ci), i(g.kh), i(g.kw)])?;
        let y = handle.create_4d_tensor::<T>(nchw, [i(g.b), i(g.co), i(g.ho), i(g.wo)])?;
        let candidates = heuristics(g, T::DATA_TYPE, math)?;
        Ok(Plan { conv: [conv()?, conv()?, conv()?], x, w, y, candidates, chosen: [Chosen::Untried; 3] })
    }

    /// The workspace `c` needs in `pass` (with `c`'s math type already set on its descriptor).
    fn workspace(&self, pass: Pass, algo: Algo) -> Result<usize> {
        let conv = &self.conv[pass as usize];
        Ok(match algo {
            Algo::Forward(a) => ConvForward { conv, x: &self.x, w: &self.w, y: &self.y }.get_workspace_size(a)?,
            Algo::Data(a) => ConvBackwardData { conv, dx: &self.x, w: &self.w, dy: &self.y }.get_workspace_size(a)?,
            Algo::Filter(a) => {
                ConvBackwardFilter { conv, x: &self.x, dw: &self.w, dy: &self.y }.get_workspace_size(a)?
            }
        })
    }
}

/// Whether a heuristic result of math type `got` keeps to the tier asked for: strict f32
/// (`CUDNN_FMA_MATH`) takes only FMA results, the other tiers any.
fn keeps_to_tier(tier: sys::cudnnMathType_t, got: sys::cudnnMathType_t) -> bool {
    tier != sys::cudnnMathType_t::CUDNN_FMA_MATH || got == sys::cudnnMathType_t::CUDNN_FMA_MATH
}

/// Raw cuDNN objects for the heuristic queries (the safe descriptors do not expose theirs),
/// destroyed on drop.
struct Query {
    handle: sys::cudnnHandle_t,
    x: sys::cudnnTensorDescriptor_t,
    w: sys::cudnnFilterDescriptor_t,
    y: sys::cudnnTensorDescriptor_t,
    conv: sys::cudnnConvolutionDescriptor_t,
}

impl Drop for Query {
    fn drop(&mut self) {
        // SAFETY: each object was created by `Query::new` and is destroyed once, here.
        unsafe {
            let _ = result::destroy_convolution_descriptor(self.conv);
            let _ = result::destroy_tensor_descriptor(self.y);
            let _ = result::destroy_filter_descriptor(self.w);
            let _ = result::destroy_tensor_descriptor(self.x);
            let _ = result::destroy_handle(self.handle);
        }
    }
}

/// Every supported heuristic result of the three passes of `g` for data type `dt` under the tier's
/// math type `math`, best first, that keeps to the tier and to [`WORKSPACE_LIMIT`].
fn heuristics(g: &ConvGeom, dt: sys::cudnnDataType_t, math: sys::cudnnMathType_t) -> Result<[Vec<Candidate>; 3]> {
    let i = |v: usize| v as i32;
    let nchw = sys::cudnnTensorFormat_t::CUDNN_TENSOR_NCHW;
    let q = Query {
        handle: result::create_handle()?,
        x: result::create_tensor_descriptor()?,
        w: result::create_filter_descriptor()?,
        y: result::create_tensor_descriptor()?,
        conv: result::create_convolution_descriptor()?,
    };
    let ok = |status: sys::cudnnStatus_t, memory: usize, got: sys::cudnnMathType_t| {
        status == sys::cudnnStatus_t::CUDNN_STATUS_SUCCESS && memory <= WORKSPACE_LIMIT && keeps_to_tier(math, got)
    };
    // SAFETY: the descriptors were just created and are set to one consistent NCHW shape; the
    // result arrays hold as many entries as requested, and only `n` returned ones are read.
    unsafe {
        result::set_tensor4d_descriptor(q.x, nchw, dt, [i(g.b), i(g.ci), i(g.h), i(g.w)])?;
        result::set_filter4d_descriptor(q.w, dt, nchw, [i(g.co), i(g.ci), i(g.kh), i(g.kw)])?;
        result::set_tensor4d_descriptor(q.y, nchw, dt, [i(g.b), i(g.co), i(g.ho), i(g.wo)])?;
        result::set_convolution2d_descriptor(
            q.conv,
            i(g.pad),
            i(g.pad),
            i(g.stride),
            i(g.stride),
            1,
            1,
            sys::cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
            sys::cudnnDataType_t::CUDNN_DATA_FLOAT,
        )?;
        result::set_convolution_math_type(q.conv, math)?;

        const N: usize = 16;
        let mut n = 0;
        let mut fwd = [std::mem::zeroed::<sys::cudnnConvolutionFwdAlgoPerf_t>(); N];
        result::get_convolution_forward_algorithm(q.handle, q.x, q.w, q.conv, q.y, N as i32, &mut n, fwd.as_mut_ptr())?;
        let fwd = fwd[..n.max(0) as usize]
            .iter()
            .filter(|r| ok(r.status, r.memory, r.mathType))
            .map(|r| Candidate { algo: Algo::Forward(r.algo), math: r.mathType })
            .collect();
        let mut data = [std::mem::zeroed::<sys::cudnnConvolutionBwdDataAlgoPerf_t>(); N];
        result::get_convolution_backward_data_algorithm(
            q.handle,
            q.w,
            q.y,
            q.conv,
            q.x,
            N as i32,
            &mut n,
            data.as_mut_ptr(),
        )?;
        let data = data[..n.max(0) as usize]
            .iter()
            .filter(|r| ok(r.status, r.memory, r.mathType))
            .map(|r| Candidate { algo: Algo::Data(r.algo), math: r.mathType })
            .collect();
        let mut filter = [std::mem::zeroed::<sys::cudnnConvolutionBwdFilterAlgoPerf_t>(); N];
        result::get_convolution_backward_filter_algorithm(
            q.handle,
            q.x,
            q.y,
            q.conv,
            q.w,
            N as i32,
            &mut n,
            filter.as_mut_ptr(),
        )?;
        let filter = filter[..n.max(0) as usize]
            .iter()
            .filter(|r| ok(r.status, r.memory, r.mathType))
            .map(|r| Candidate { algo: Algo::Filter(r.algo), math: r.mathType })
            .collect();
        Ok([fwd, data, filter])
    }
}

/// cuDNN state of one device on one thread.
struct DeviceState {
    handle: Arc<Cudnn>,
    plans_f32: HashMap<PlanKey, Plan<f32>>,
    plans_bf16: HashMap<PlanKey, Plan<bf16>>,
    workspace: Option<CudaSlice<u8>>,
}

thread_local! {
    static STATE: RefCell<HashMap<DeviceId, DeviceState>> = RefCell::new(HashMap::new());
}

/// Shapes (and passes) already warned about, so that the fallback warns once per shape.
static WARNED: Mutex<Option<HashSet<(PlanKey, Pass)>>> = Mutex::new(None);

/// Runs `pass` of the convolution `(g, math)` for element type `T` on `dev`: `launch` gets the
/// plan (made on first use), the algorithm and a workspace of the size the algorithm needs
/// (`None` when zero). On a shape's first use the candidates are tried in order and the first
/// that launches is kept. Returns `false` (after a one-time warning naming the shape) when no
/// candidate launches, and then on every later call: the caller computes the pass with candle.
pub(crate) fn run_pass<T: ConvElem>(
    dev: &CudaDevice,
    g: &ConvGeom,
    math: sys::cudnnMathType_t,
    pass: Pass,
    mut launch: impl FnMut(&Plan<T>, Algo, Option<&mut CudaSlice<u8>>) -> Result<()>,
) -> Result<bool> {
    STATE.with(|cell| {
        let mut states = cell.borrow_mut();
        let state = match states.entry(dev.id()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(DeviceState {
                handle: Cudnn::new(dev.cuda_stream())?,
                plans_f32: HashMap::new(),
                plans_bf16: HashMap::new(),
                workspace: None,
            }),
        };
        let DeviceState { handle, plans_f32, plans_bf16, workspace } = state;
        let plans = T::pick(plans_f32, plans_bf16);
        let key = PlanKey::new(g, math);
        let plan = match plans.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(Plan::new(handle, g, math)?),
        };
        let p = pass as usize;
        match plan.chosen[p] {
            Chosen::Algo(c, need) => {
                grow(workspace, dev, need)?;
                let ws = if need == 0 { None } else { workspace.as_mut() };
                launch(plan, c.algo, ws)?;
                return Ok(true);
            }
            Chosen::None => return Ok(false),
            Chosen::Untried => {}
        }
        let mut errors = Vec::new();
        for c in plan.candidates[p].clone() {
            if let Err(e) = plan.conv[p].set_math_type(c.math) {
                errors.push(format!("{:?}/{:?}: {e}", c.algo, c.math));
                continue;
            }
            let need = match plan.workspace(pass, c.algo) {
                Ok(n) if n <= WORKSPACE_LIMIT => n,
                Ok(n) => {
                    errors.push(format!("{:?}/{:?}: workspace {n} bytes", c.algo, c.math));
                    continue;
                }
                Err(e) => {
                    errors.push(format!("{:?}/{:?}: {e}", c.algo, c.math));
                    continue;
                }
            };
            if let Err(e) = grow(workspace, dev, need) {
                errors.push(format!("{:?}/{:?}: workspace of {need} bytes: {e}", c.algo, c.math));
                continue;
            }
            let ws = if need == 0 { None } else { workspace.as_mut() };
            match launch(plan, c.algo, ws) {
                Ok(()) => {
                    plan.chosen[p] = Chosen::Algo(c, need);
                    return Ok(true);
                }
                Err(e) => errors.push(format!("{:?}/{:?}: {e}", c.algo, c.math)),
            }
        }
        plan.chosen[p] = Chosen::None;
        let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        if warned.get_or_insert_with(HashSet::new).insert((key, pass)) {
            eprintln!(
                "warning: cuDNN has no working {pass:?} algorithm for the {} convolution x [{}, {}, {}, {}] * w [{}, {}, {}, {}], \
                 stride {}, padding {} (math {math:?}; {} candidates: {}); using candle's convolution for this shape",
                T::NAME,
                g.b,
                g.ci,
                g.h,
                g.w,
                g.co,
                g.ci,
                g.kh,
                g.kw,
                g.stride,
                g.pad,
                plan.candidates[p].len(),
                if errors.is_empty() { "none".to_string() } else { errors.join("; ") },
            );
        }
        Ok(false)
    })
}

/// Makes `workspace` hold at least `need` bytes.
fn grow(workspace: &mut Option<CudaSlice<u8>>, dev: &CudaDevice, need: usize) -> Result<()> {
    if need > workspace.as_ref().map_or(0, |w| w.len()) {
        // The old buffer is freed (in stream order, after the kernels that used it) before the
        // larger one is allocated.
        *workspace = None;
        *workspace = Some(dev.alloc_zeros::<u8>(need)?);
    }
    Ok(())
}
