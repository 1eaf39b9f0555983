//! cuDNN state of the 2-d convolution, per thread and device (cuDNN handles are not thread-safe):
//! the handle, one plan per convolution shape (descriptors, the algorithms that cuDNN's
//! heuristics pick for the forward pass, the data gradient and the filter gradient, and their
//! workspace sizes), and one workspace buffer that grows to the largest size asked for.
//!
//! The algorithms come from `cudnnGet*Algorithm_v7` (heuristics, no trial runs), as PyTorch does
//! with `cudnn.benchmark = False`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use candle_core::cuda_backend::cudarc::cudnn::{
    ConvBackwardData, ConvBackwardFilter, ConvDescriptor, ConvForward, Cudnn, CudnnDataType, FilterDescriptor,
    TensorDescriptor, sys,
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
    const ONE: Self;
    const ZERO: Self;
    /// The map of this type among a device's two.
    fn pick<'a>(f32s: &'a mut Plans<f32>, bf16s: &'a mut Plans<bf16>) -> &'a mut Plans<Self>;
}

impl ConvElem for f32 {
    const ONE: Self = 1.0;
    const ZERO: Self = 0.0;
    fn pick<'a>(f32s: &'a mut Plans<f32>, _: &'a mut Plans<bf16>) -> &'a mut Plans<f32> {
        f32s
    }
}

impl ConvElem for bf16 {
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

/// Descriptors and algorithms of one convolution shape.
pub(crate) struct Plan<T: CudnnDataType> {
    pub conv: ConvDescriptor<f32>,
    pub x: TensorDescriptor<T>,
    pub w: FilterDescriptor<T>,
    pub y: TensorDescriptor<T>,
    pub fwd: sys::cudnnConvolutionFwdAlgo_t,
    pub fwd_ws: usize,
    pub bwd_data: sys::cudnnConvolutionBwdDataAlgo_t,
    pub bwd_data_ws: usize,
    pub bwd_filter: sys::cudnnConvolutionBwdFilterAlgo_t,
    pub bwd_filter_ws: usize,
}

impl<T: CudnnDataType> Plan<T> {
    fn new(handle: &Arc<Cudnn>, g: &ConvGeom, math: sys::cudnnMathType_t) -> Result<Self> {
        let i = |v: usize| v as i32;
        let nchw = sys::cudnnTensorFormat_t::CUDNN_TENSOR_NCHW;
        let mut conv = handle.create_conv2d::<f32>(
            [i(g.pad), i(g.pad)],
            [i(g.stride), i(g.stride)],
            [1, 1],
            sys::cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
        )?;
        conv.set_math_type(math)?;
        let x = handle.create_4d_tensor::<T>(nchw, [i(g.b), i(g.ci), i(g.h), i(g.w)])?;
        let w = handle.create_4d_filter::<T>(nchw, [i(g.co), i(g.ci), i(g.kh), i(g.kw)])?;
        let y = handle.create_4d_tensor::<T>(nchw, [i(g.b), i(g.co), i(g.ho), i(g.wo)])?;
        let f = ConvForward { conv: &conv, x: &x, w: &w, y: &y };
        let fwd = f.pick_algorithm()?;
        let fwd_ws = f.get_workspace_size(fwd)?;
        let d = ConvBackwardData { conv: &conv, dx: &x, w: &w, dy: &y };
        let bwd_data = d.pick_algorithm()?;
        let bwd_data_ws = d.get_workspace_size(bwd_data)?;
        let k = ConvBackwardFilter { conv: &conv, x: &x, dw: &w, dy: &y };
        let bwd_filter = k.pick_algorithm()?;
        let bwd_filter_ws = k.get_workspace_size(bwd_filter)?;
        Ok(Plan { conv, x, w, y, fwd, fwd_ws, bwd_data, bwd_data_ws, bwd_filter, bwd_filter_ws })
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

/// Runs `f` with the plan of `(g, math)` for element type `T` on `dev` (made on first use) and a
/// workspace of at least `ws_bytes(plan)` bytes (`None` when zero).
pub(crate) fn with_plan<T: ConvElem, R>(
    dev: &CudaDevice,
    g: &ConvGeom,
    math: sys::cudnnMathType_t,
    ws_bytes: impl Fn(&Plan<T>) -> usize,
    f: impl FnOnce(&Plan<T>, Option<&mut CudaSlice<u8>>) -> Result<R>,
) -> Result<R> {
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
        let need = ws_bytes(plan);
        if need > workspace.as_ref().map_or(0, |w| w.len()) {
            // The old buffer is freed in stream order, after the kernels that used it.
            *workspace = Some(dev.alloc_zeros::<u8>(need)?);
        }
        let ws = if need == 0 { None } else { workspace.as_mut() };
        f(plan, ws)
    })
}
