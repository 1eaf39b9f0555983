//! Training augmentation on CUDA (`kernels/augment.cu`): gathers a batch's u8 images from the
//! data set on the device and crops (zero padding) and flips each one, as the host's `crop_flip`
//! in `data.rs` does, so that a training step needs no upload.

use candle_core::cuda_backend::WrapErr;
use candle_core::cuda_backend::cudarc::driver::PushKernelArg;
use candle_core::{DType, Result, Tensor};

use super::device::{Kernel, Module, addr, alloc_out, cuda_device, grid_1d, slice_addr, tensor_from, u32_arg};

/// u8 `[B, C, H, W]`: image `index[b]` of `images` (u8 `[N, C, H, W]`) shifted by
/// `params[b] = (dy, dx, flip)` (i32 `[B, 3]`): `out[b, c, y, x] = img[c, y + dy, x' + dx]`, zero
/// outside the image, `x' = W - 1 - x` when `flip` is not 0.
pub(crate) fn crop_flip(images: &Tensor, index: &Tensor, params: &Tensor) -> Result<Tensor> {
    let (_, c, h, w) = images.dims4()?;
    let b = index.dim(0)?;
    if images.dtype() != DType::U8 || index.dtype() != DType::U32 || params.dtype() != DType::I32 {
        candle_core::bail!(
            "crop_flip: expected u8 images, u32 index and i32 params, got {:?}, {:?}, {:?}",
            images.dtype(),
            index.dtype(),
            params.dtype()
        );
    }
    if params.dims() != [b, 3] {
        candle_core::bail!("crop_flip: params has shape {:?}, expected [{b}, 3]", params.dims());
    }
    let dev = cuda_device(images, "crop_flip")?;
    let stream = dev.cuda_stream();
    let total = b * c * h * w;
    let (bb, cc, hh, ww) = (u32_arg(b, "batch")?, u32_arg(c, "channels")?, u32_arg(h, "height")?, u32_arg(w, "width")?);
    let (images, index, params) = (images.contiguous()?, index.contiguous()?, params.contiguous()?);
    let (ia, xa, pa) = (addr(&images, "crop_flip")?, addr(&index, "crop_flip")?, addr(&params, "crop_flip")?);
    let out = alloc_out::<u8>(&dev, total)?;
    let oa = slice_addr(&out, &dev);
    let k = Kernel::new(&dev, Module::Augment, "crop_flip_u8")?;
    let mut a = k.args(&stream);
    a.arg(&ia).arg(&xa).arg(&pa).arg(&oa).arg(&bb).arg(&cc).arg(&hh).arg(&ww);
    // SAFETY: images holds N*C*H*W bytes and every index[b] is a valid image position (the data
    // set checks indices before they reach the device), params holds 3*B i32 and out B*C*H*W
    // bytes, each written once.
    unsafe { a.launch(grid_1d(total)) }.w()?;
    Ok(tensor_from(out, &dev, (b, c, h, w)))
}
