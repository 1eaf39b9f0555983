//! CPU f32 kernels of the 2-d convolution: im2col/col2im plus `gemm`, parallel over image groups
//! with a fixed split, so that every result is bit-reproducible whatever the thread count.

use std::cell::RefCell;

use rayon::prelude::*;

use super::cpu::{MatRef, gemm, output_vec, split_ranges, sum_parts};

/// Columns (output pixels) one product should at least have: images with few output pixels are
/// grouped so that `gemm` sees a wide enough matrix.
const TARGET_COLS: usize = 256;
/// Number of weight-gradient partial sums (each over a fixed range of image groups), summed in
/// order at the end: bounds the parallelism of the weight gradient, not its result.
const WGRAD_PARTS: usize = 4;

/// Shapes of one NCHW convolution (no dilation, one group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvGeom {
    pub b: usize,
    pub ci: usize,
    pub h: usize,
    pub w: usize,
    pub co: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
    pub ho: usize,
    pub wo: usize,
}

impl ConvGeom {
    /// Rows of the im2col matrix: one per (input channel, kernel row, kernel column).
    fn k(&self) -> usize {
        self.ci * self.kh * self.kw
    }
    fn hw(&self) -> usize {
        self.h * self.w
    }
    fn hwo(&self) -> usize {
        self.ho * self.wo
    }
    /// A 1x1 kernel at stride 1 without padding: the input already is the im2col matrix.
    fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == 1 && self.pad == 0
    }
    /// Images per product.
    fn group(&self) -> usize {
        TARGET_COLS.div_ceil(self.hwo().max(1)).clamp(1, self.b.max(1))
    }
    /// For kernel column `kx`, the output columns `ox0..ox1` whose input column is inside the image.
    fn valid_cols(&self, kx: usize) -> (usize, usize) {
        let (s, p) = (self.stride, self.pad);
        let ox0 = if kx >= p { 0 } else { (p - kx).div_ceil(s) };
        let ox1 = if self.w + p > kx { ((self.w - 1 + p - kx) / s + 1).min(self.wo) } else { 0 };
        (ox0.min(self.wo), ox1.max(ox0.min(self.wo)))
    }
    /// The input row of output row `oy` under kernel row `ky`, if inside the image.
    fn input_row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.stride + ky).checked_sub(self.pad).filter(|&iy| iy < self.h)
    }
}

/// Writes the im2col matrix of one image `xb` (`ci x h x w`) into columns `off..off + hwo` of
/// `col` (row stride `ld`): row `(c, ky, kx)`, column `oy * wo + ox` holds
/// `x[c, oy * s + ky - p, ox * s + kx - p]` or zero outside the image.
fn im2col(g: &ConvGeom, xb: &[f32], col: &mut [f32], ld: usize, off: usize) {
    let (hw, wo) = (g.hw(), g.wo);
    for c in 0..g.ci {
        let xc = &xb[c * hw..(c + 1) * hw];
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let r = (c * g.kh + ky) * g.kw + kx;
                let row = &mut col[r * ld + off..r * ld + off + g.hwo()];
                let (ox0, ox1) = g.valid_cols(kx);
                for oy in 0..g.ho {
                    let dst = &mut row[oy * wo..(oy + 1) * wo];
                    let Some(iy) = g.input_row(oy, ky) else {
                        dst.fill(0.0);
                        continue;
                    };
                    let src = &xc[iy * g.w..(iy + 1) * g.w];
                    dst[..ox0].fill(0.0);
                    dst[ox1..].fill(0.0);
                    if g.stride == 1 {
                        let ix0 = ox0 + kx - g.pad;
                        dst[ox0..ox1].copy_from_slice(&src[ix0..ix0 + (ox1 - ox0)]);
                    } else {
                        for (ox, d) in dst.iter_mut().enumerate().take(ox1).skip(ox0) {
                            *d = src[ox * g.stride + kx - g.pad];
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds columns `off..off + hwo` of `col` into the image gradient `dxb`.
fn col2im(g: &ConvGeom, col: &[f32], ld: usize, off: usize, dxb: &mut [f32]) {
    let (hw, wo) = (g.hw(), g.wo);
    for c in 0..g.ci {
        let dxc = &mut dxb[c * hw..(c + 1) * hw];
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let r = (c * g.kh + ky) * g.kw + kx;
                let row = &col[r * ld + off..r * ld + off + g.hwo()];
                let (ox0, ox1) = g.valid_cols(kx);
                for oy in 0..g.ho {
                    let Some(iy) = g.input_row(oy, ky) else { continue };
                    let src = &row[oy * wo..(oy + 1) * wo];
                    let dst = &mut dxc[iy * g.w..(iy + 1) * g.w];
                    if g.stride == 1 {
                        let ix0 = ox0 + kx - g.pad;
                        for (d, s) in dst[ix0..ix0 + (ox1 - ox0)].iter_mut().zip(&src[ox0..ox1]) {
                            *d += s;
                        }
                    } else {
                        for (ox, s) in src.iter().enumerate().take(ox1).skip(ox0) {
                            dst[ox * g.stride + kx - g.pad] += s;
                        }
                    }
                }
            }
        }
    }
}

thread_local! {
    /// Per-thread scratch matrices (im2col columns, gathered gradients), kept between calls so
    /// that the hot loop neither allocates nor page-faults.
    static SCRATCH: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Runs `f` with this thread's two scratch vectors.
fn with_scratch<R>(f: impl FnOnce(&mut Vec<f32>, &mut Vec<f32>) -> R) -> R {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let [a, b] = &mut *s;
        f(a, b)
    })
}

/// Splits `data` into consecutive pieces of the given lengths.
fn split_lens(mut data: &mut [f32], lens: impl Iterator<Item = usize>) -> Vec<&mut [f32]> {
    lens.map(|len| {
        let (head, tail) = std::mem::take(&mut data).split_at_mut(len);
        data = tail;
        head
    })
    .collect()
}

/// `y[b, co, ho, wo] = sum_{ci, ky, kx} w[co, ci, ky, kx] * x[b, ci, oy*s+ky-p, ox*s+kx-p]`.
pub(crate) fn forward(g: &ConvGeom, x: &[f32], w: &[f32]) -> Vec<f32> {
    let (k, hw, hwo, co) = (g.k(), g.hw(), g.hwo(), g.co);
    let gs = g.group();
    let mut y = output_vec(g.b * co * hwo);
    let wmat = MatRef { data: w, rs: k, cs: 1 };
    y.par_chunks_mut(gs * co * hwo).enumerate().for_each(|(gi, yg)| {
        with_scratch(|col, tmp| {
            let nb = yg.len() / (co * hwo);
            let n = nb * hwo;
            let xg = &x[gi * gs * g.ci * hw..(gi * gs + nb) * g.ci * hw];
            if nb == 1 {
                if g.is_pointwise() {
                    gemm(co, n, k, yg, n, false, wmat, MatRef { data: xg, rs: n, cs: 1 });
                    return;
                }
                col.resize(k * n, 0.0);
                im2col(g, xg, col, n, 0);
                gemm(co, n, k, yg, n, false, wmat, MatRef { data: col, rs: n, cs: 1 });
                return;
            }
            col.resize(k * n, 0.0);
            tmp.resize(co * n, 0.0);
            for j in 0..nb {
                im2col(g, &xg[j * g.ci * hw..(j + 1) * g.ci * hw], col, n, j * hwo);
            }
            gemm(co, n, k, tmp, n, false, wmat, MatRef { data: col, rs: n, cs: 1 });
            for j in 0..nb {
                for c in 0..co {
                    yg[(j * co + c) * hwo..(j * co + c + 1) * hwo]
                        .copy_from_slice(&tmp[c * n + j * hwo..c * n + (j + 1) * hwo]);
                }
            }
        })
    });
    y
}

/// Gradients of [`forward`] with respect to `x` (if `need_dx`) and `w` (if `need_dw`) given the
/// output gradient `dy`.
pub(crate) fn backward(
    g: &ConvGeom,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    need_dx: bool,
    need_dw: bool,
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let (k, hw, ci) = (g.k(), g.hw(), g.ci);
    let gs = g.group();
    let ngroups = g.b.div_ceil(gs);
    let parts = split_ranges(ngroups, if need_dw { WGRAD_PARTS } else { ngroups });
    let images = |r: &std::ops::Range<usize>| (r.start * gs).min(g.b)..(r.end * gs).min(g.b);
    let mut dx = need_dx.then(|| output_vec(g.b * ci * hw));
    let mut dx_parts: Vec<Option<&mut [f32]>> = match dx.as_mut() {
        Some(d) => split_lens(d, parts.iter().map(|r| images(r).len() * ci * hw)).into_iter().map(Some).collect(),
        None => parts.iter().map(|_| None).collect(),
    };
    let dwt_parts: Vec<Option<Vec<f32>>> = parts
        .par_iter()
        .zip(dx_parts.par_iter_mut())
        .map(|(range, dx_part)| {
            let imgs = images(range);
            let mut dwt = need_dw.then(|| output_vec(k * g.co));
            with_scratch(|col, dyg| {
                for (t, b0) in imgs.clone().step_by(gs).enumerate() {
                    let nb = gs.min(imgs.end - b0);
                    let dxg = dx_part.as_deref_mut().map(|d| {
                        let off = (b0 - imgs.start) * ci * hw;
                        &mut d[off..off + nb * ci * hw]
                    });
                    backward_group(g, x, w, dy, b0, nb, dwt.as_deref_mut().map(|d| (d, t > 0)), dxg, col, dyg);
                }
            });
            dwt
        })
        .collect();
    let dw = need_dw.then(|| {
        let dwt = sum_parts(dwt_parts.into_iter().flatten().collect(), k * g.co);
        transpose(&dwt, k, g.co)
    });
    (dx, dw)
}

/// The backward pass of the `nb` images starting at `b0`: accumulates `dw^T [k, co]` (`dwt`,
/// overwritten instead when its flag is false) and writes their input gradient `dxg`.
#[allow(clippy::too_many_arguments)]
fn backward_group(
    g: &ConvGeom,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    b0: usize,
    nb: usize,
    dwt: Option<(&mut [f32], bool)>,
    dxg: Option<&mut [f32]>,
    col: &mut Vec<f32>,
    dyg: &mut Vec<f32>,
) {
    let (k, hw, hwo, co, ci) = (g.k(), g.hw(), g.hwo(), g.co, g.ci);
    let n = nb * hwo;
    let xg = &x[b0 * ci * hw..(b0 + nb) * ci * hw];
    let dy_src = &dy[b0 * co * hwo..(b0 + nb) * co * hwo];
    // the output gradient of the group as a [co, n] matrix
    let dyg: &[f32] = if nb == 1 {
        dy_src
    } else {
        dyg.resize(co * n, 0.0);
        for j in 0..nb {
            for c in 0..co {
                dyg[c * n + j * hwo..c * n + (j + 1) * hwo]
                    .copy_from_slice(&dy_src[(j * co + c) * hwo..(j * co + c + 1) * hwo]);
            }
        }
        dyg
    };
    let dym = MatRef { data: dyg, rs: n, cs: 1 };
    let direct = g.is_pointwise() && nb == 1;
    if let Some((dwt, accumulate)) = dwt {
        let colm: &[f32] = if direct {
            xg
        } else {
            col.resize(k * n, 0.0);
            for j in 0..nb {
                im2col(g, &xg[j * ci * hw..(j + 1) * ci * hw], col, n, j * hwo);
            }
            col
        };
        // dw^T[k, co] += col[k, n] * dy[co, n]^T (this orientation keeps `gemm` fast)
        let dyt = MatRef { data: dyg, rs: 1, cs: n };
        gemm(k, co, n, dwt, co, accumulate, MatRef { data: colm, rs: n, cs: 1 }, dyt);
    }
    if let Some(dxg) = dxg {
        let wt = MatRef { data: w, rs: 1, cs: k };
        if direct {
            gemm(k, n, co, dxg, n, false, wt, dym);
            return;
        }
        // dcol[k, n] = w^T[k, co] * dy[co, n], then scattered back onto the images
        col.resize(k * n, 0.0);
        gemm(k, n, co, col, n, false, wt, dym);
        for j in 0..nb {
            let dxb = &mut dxg[j * ci * hw..(j + 1) * ci * hw];
            // written before being read: fresh pages then fault once, without copy-on-write
            dxb.fill(0.0);
            col2im(g, col, n, j * hwo, dxb);
        }
    }
}

/// The transpose of a row-major `rows x cols` matrix.
fn transpose(a: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = output_vec(rows * cols);
    t.par_chunks_mut(rows).enumerate().for_each(|(c, out)| {
        for (r, o) in out.iter_mut().enumerate() {
            *o = a[r * cols + c];
        }
    });
    t
}
