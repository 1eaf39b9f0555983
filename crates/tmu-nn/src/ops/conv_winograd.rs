//! 3x3, stride-1, padding-1 convolutions on the CPU by Winograd's F(2x2, 3x3) (Lavin & Gray,
//! 2016): every 2x2 output tile is `A^T [(G g G^T) . (B^T d B)] A` for its 4x4 input tile `d`,
//! so the 16 transformed positions are 16 `gemm`s over (tiles x input channels) x (input
//! channels x output channels): 16 multiplications per tile and channel pair instead of 36.
//!
//! - forward: `y = conv(x, w)`;
//! - input gradient: the same forward on `dy` with the kernel flipped and its channel axes
//!   swapped (a stride-1 padding-1 3x3 convolution again);
//! - weight gradient: the transpose of the forward bilinear form,
//!   `dw = G^T [sum over tiles (A dy A^T) . (B^T d B)] G`.
//!
//! Images are processed in fixed groups (channels-last, zero-padded copies local to the group),
//! so each output element is summed in an order that does not depend on the thread count.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::conv_cpu::ConvGeom;
use super::cpu::{MatRef, gemm, output_vec, split_ranges, sum_parts, zeroed_vec};
use super::winograd_tiles::{
    CB, Tiling, from_channels_last, padded_channels, to_channels_last, transform_output_grads, transform_tiles,
    transform_weights, untransform_tiles, untransform_weight_grads,
};

/// Weight-gradient partial sums (each over a fixed range of image groups), summed in order.
const WGRAD_PARTS: usize = 4;
/// Floats of one transformed group (tiles x widest channel count) aimed at: about 256 KiB.
const GROUP_FLOATS: usize = 1 << 16;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Enables (the default) or disables the Winograd path, process-wide: for benchmarks and tests.
pub fn set_winograd_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether the backward pass of this geometry takes the Winograd path.
pub(crate) fn eligible(g: &ConvGeom) -> bool {
    g.kh == 3 && g.kw == 3 && g.stride == 1 && g.pad == 1 && ENABLED.load(Ordering::Relaxed)
}

/// Whether the forward pass takes it: with few input channels (an RGB stem) the transforms
/// cost more than the products they save (measured: 3 -> 64 channels on 32x32, 3.4x slower), and
/// on 4x4 images the channels-last direct kernel, which skips the padding, is as fast or faster.
pub(crate) fn eligible_forward(g: &ConvGeom) -> bool {
    eligible(g) && g.ci >= CB && g.h * g.w >= 64
}

thread_local! {
    /// Per-thread group buffers (padded input, transformed input, products, output).
    static SCRATCH: RefCell<[Vec<f32>; 4]> = const { RefCell::new([Vec::new(), Vec::new(), Vec::new(), Vec::new()]) };
}

/// `y = conv3x3(src, kernels)` with padding 1 for `src: [b, cin, h, w]` and `u` from
/// [`transform_weights`]; returns `[b, cout, h, w]`.
fn convolve(t: &Tiling, src: &[f32], cin: usize, u: &[f32], cout: usize) -> Vec<f32> {
    let hw = t.h * t.w;
    let (cip, cop) = (padded_channels(cin), padded_channels(cout));
    let (hp, wp) = t.padded();
    let mut y = output_vec(t.b * cout * hw);
    y.par_chunks_mut(t.group * cout * hw).enumerate().for_each(|(gi, yg)| {
        SCRATCH.with(|s| {
            let [xp, v, m, yl] = &mut *s.borrow_mut();
            let n = yg.len() / (cout * hw);
            let b0 = gi * t.group;
            to_channels_last(&src[b0 * cin * hw..(b0 + n) * cin * hw], n, cin, t.h, t.w, hp, wp, 1, xp);
            transform_tiles(t, xp, n, cip, v);
            let tiles = t.tiles(n);
            m.resize(16 * tiles * cop, 0.0);
            for (xi, mp) in m.chunks_exact_mut(tiles * cop).enumerate() {
                let lhs = MatRef { data: &v[xi * tiles * cip..], rs: cip, cs: 1 };
                let rhs = MatRef { data: &u[xi * cin * cout..], rs: cout, cs: 1 };
                gemm(tiles, cout, cin, mp, cop, false, lhs, rhs);
            }
            untransform_tiles(t, m, n, cop, yl);
            from_channels_last(yl, n, cout, cop, hw, yg);
        })
    });
    y
}

/// Forward pass.
pub(crate) fn forward(g: &ConvGeom, x: &[f32], w: &[f32]) -> Vec<f32> {
    let t = Tiling::new(g, GROUP_FLOATS);
    let (ci, co) = (g.ci, g.co);
    let u = transform_weights(ci, co, |o, c| std::array::from_fn(|k| w[(o * ci + c) * 9 + k]));
    convolve(&t, x, ci, &u, co)
}

/// Gradients with respect to `x` (if `need_dx`) and `w` (if `need_dw`).
pub(crate) fn backward(
    g: &ConvGeom,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    need_dx: bool,
    need_dw: bool,
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let t = Tiling::new(g, GROUP_FLOATS);
    let (ci, co) = (g.ci, g.co);
    let dx = need_dx.then(|| {
        // dx = conv(dy, w') with w'[c, o, ky, kx] = w[o, c, 2 - ky, 2 - kx]
        let u = transform_weights(co, ci, |c, o| std::array::from_fn(|k| w[(o * ci + c) * 9 + 8 - k]));
        convolve(&t, dy, co, &u, ci)
    });
    let dw = need_dw.then(|| weight_grad(&t, x, ci, dy, co));
    (dx, dw)
}

/// `dw = G^T [sum over tiles (A dy A^T) . (B^T d B)] G`, accumulated per fixed range of image
/// groups as `[16, ci, co]`, the ranges then summed in order.
fn weight_grad(t: &Tiling, x: &[f32], ci: usize, dy: &[f32], co: usize) -> Vec<f32> {
    let hw = t.h * t.w;
    let (cip, cop) = (padded_channels(ci), padded_channels(co));
    let (hp, wp) = t.padded();
    let parts: Vec<Vec<f32>> = split_ranges(t.groups(), WGRAD_PARTS)
        .into_par_iter()
        .map(|range| {
            let mut acc = zeroed_vec(16 * ci * co);
            SCRATCH.with(|s| {
                let [xp, v, dyp, dyt] = &mut *s.borrow_mut();
                for gi in range {
                    let b0 = gi * t.group;
                    let n = t.group.min(t.b - b0);
                    let tiles = t.tiles(n);
                    to_channels_last(&x[b0 * ci * hw..(b0 + n) * ci * hw], n, ci, t.h, t.w, hp, wp, 1, xp);
                    transform_tiles(t, xp, n, cip, v);
                    let (hh, ww) = (2 * t.th, 2 * t.tw);
                    to_channels_last(&dy[b0 * co * hw..(b0 + n) * co * hw], n, co, t.h, t.w, hh, ww, 0, dyp);
                    transform_output_grads(t, dyp, n, cop, dyt);
                    for (xi, ap) in acc.chunks_exact_mut(ci * co).enumerate() {
                        // [ci, co] += V[xi]^T [ci, tiles] * DY[xi] [tiles, co]
                        let lhs = MatRef { data: &v[xi * tiles * cip..], rs: 1, cs: cip };
                        let rhs = MatRef { data: &dyt[xi * tiles * cop..], rs: cop, cs: 1 };
                        gemm(ci, co, tiles, ap, co, true, lhs, rhs);
                    }
                }
            });
            acc
        })
        .collect();
    let s = sum_parts(parts, 16 * ci * co);
    untransform_weight_grads(&s, ci, co)
}
