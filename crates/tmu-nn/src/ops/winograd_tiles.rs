//! The tile side of the Winograd F(2x2, 3x3) convolution (see `conv_winograd`): channels-last
//! copies of image groups, the input, output and output-gradient tile transforms over 16-channel
//! blocks (compiled for the widest vector extension at run time), and the weight transforms.

use rayon::prelude::*;

use super::conv_cpu::ConvGeom;
use super::cpu::{multiversion, output_vec};

/// Channels per block of the vectorised tile transforms.
pub(crate) const CB: usize = 16;

/// Tiles of a group of images: `th x tw` 2x2 tiles per `h x w` image, `group` images per group.
#[derive(Clone, Copy)]
pub(crate) struct Tiling {
    pub b: usize,
    pub h: usize,
    pub w: usize,
    pub th: usize,
    pub tw: usize,
    pub group: usize,
}

impl Tiling {
    /// Groups of about `group_floats` floats per transformed group (tiles x widest channels).
    pub(crate) fn new(g: &ConvGeom, group_floats: usize) -> Self {
        let (th, tw) = (g.h.div_ceil(2), g.w.div_ceil(2));
        let per_image = th * tw;
        let tiles = (group_floats / g.ci.max(g.co)).max(64);
        let group = tiles.div_ceil(per_image).clamp(1, g.b.max(1));
        Tiling { b: g.b, h: g.h, w: g.w, th, tw, group }
    }
    pub(crate) fn tiles(&self, images: usize) -> usize {
        images * self.th * self.tw
    }
    /// Rows and columns of the zero-padded channels-last copy of an image.
    pub(crate) fn padded(&self) -> (usize, usize) {
        (2 * self.th + 2, 2 * self.tw + 2)
    }
    pub(crate) fn groups(&self) -> usize {
        self.b.div_ceil(self.group)
    }
}

/// Channels rounded up to whole blocks: the channels-last buffers carry zero (or unused) channels
/// up to this count so that every transform works on full blocks.
pub(crate) fn padded_channels(c: usize) -> usize {
    c.div_ceil(CB) * CB
}

/// Transposes a block of at most `CB x CB`: `nr` rows of `nc` contiguous values at `src[so + r *
/// ss..]` become `nc` rows of `nr` contiguous values at `dst[d0 + c * ds..]`. Each source and
/// destination line is touched once, whatever the strides (row strides of 4 KiB would otherwise
/// make every access of a naive transpose fight for the same cache set).
#[allow(clippy::too_many_arguments)] // two strided views and the block shape
#[inline(always)]
fn transpose_block(src: &[f32], so: usize, ss: usize, dst: &mut [f32], d0: usize, ds: usize, nr: usize, nc: usize) {
    // full channel blocks with the row lengths of the usual image widths, known to the compiler
    // (no memcpy calls); anything else the generic loop
    match (nr, nc) {
        (CB, CB) => transpose_fixed::<CB, CB>(src, so, ss, dst, d0, ds),
        (CB, 8) => transpose_fixed::<CB, 8>(src, so, ss, dst, d0, ds),
        (CB, 4) => transpose_fixed::<CB, 4>(src, so, ss, dst, d0, ds),
        (8, CB) => transpose_fixed::<8, CB>(src, so, ss, dst, d0, ds),
        (4, CB) => transpose_fixed::<4, CB>(src, so, ss, dst, d0, ds),
        _ => {
            let mut blk = [[0f32; CB]; CB];
            for (r, row) in blk.iter_mut().enumerate().take(nr) {
                row[..nc].copy_from_slice(&src[so + r * ss..][..nc]);
            }
            for c in 0..nc {
                let out = &mut dst[d0 + c * ds..][..nr];
                for (r, o) in out.iter_mut().enumerate() {
                    *o = blk[r][c];
                }
            }
        }
    }
}

/// [`transpose_block`] for an `NR x NC` block.
#[inline(always)]
fn transpose_fixed<const NR: usize, const NC: usize>(
    src: &[f32],
    so: usize,
    ss: usize,
    dst: &mut [f32],
    d0: usize,
    ds: usize,
) {
    let mut blk = [[0f32; NC]; NR];
    for (r, row) in blk.iter_mut().enumerate() {
        row.copy_from_slice(&src[so + r * ss..][..NC]);
    }
    #[allow(clippy::needless_range_loop)] // a transpose: column c of every row
    for c in 0..NC {
        let mut col = [0f32; NR];
        for (r, v) in col.iter_mut().enumerate() {
            *v = blk[r][c];
        }
        dst[d0 + c * ds..][..NR].copy_from_slice(&col);
    }
}

multiversion! {
    /// Copies images `[n, c, h, w]` into channels-last `[n, rows, cols, cp]` at pixel offset
    /// `(off, off)`, with zeros everywhere else (borders and the channels past `c`).
    #[allow(clippy::too_many_arguments)] // source shape, destination shape and offset
    pub(crate) fn to_channels_last = to_channels_last_body(src: &[f32], n: usize, c: usize, h: usize, w: usize, rows: usize, cols: usize, off: usize, dst: &mut Vec<f32>)
}

#[allow(clippy::too_many_arguments)] // source shape, destination shape and offset
#[inline(always)]
fn to_channels_last_body(
    src: &[f32],
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    rows: usize,
    cols: usize,
    off: usize,
    dst: &mut Vec<f32>,
) {
    let cp = padded_channels(c);
    if cp == c {
        // every channel of the image pixels is written below: zero only the border pixels
        dst.resize(n * rows * cols * cp, 0.0);
        for b in 0..n {
            for y in 0..rows {
                let row = &mut dst[(b * rows + y) * cols * cp..][..cols * cp];
                if y < off || y >= off + h {
                    row.fill(0.0);
                } else {
                    row[..off * cp].fill(0.0);
                    row[(off + w) * cp..].fill(0.0);
                }
            }
        }
    } else {
        dst.clear();
        dst.resize(n * rows * cols * cp, 0.0);
    }
    let hw = h * w;
    for b in 0..n {
        for c0 in (0..c).step_by(CB) {
            for y in 0..h {
                for x0 in (0..w).step_by(CB) {
                    let so = (b * c + c0) * hw + y * w + x0;
                    let d0 = ((b * rows + y + off) * cols + off + x0) * cp + c0;
                    transpose_block(src, so, hw, dst, d0, cp, CB.min(c - c0), CB.min(w - x0));
                }
            }
        }
    }
}

/// The `CB` channels at `off` of a channels-last buffer.
#[inline(always)]
fn load(buf: &[f32], off: usize) -> [f32; CB] {
    let mut v = [0f32; CB];
    v.copy_from_slice(&buf[off..off + CB]);
    v
}

/// The 4x4 blocks of `CB` channels at `off(i, j)`.
#[inline(always)]
fn load_4x4(buf: &[f32], off: impl Fn(usize, usize) -> usize) -> [[[f32; CB]; 4]; 4] {
    let mut d = [[[0f32; CB]; 4]; 4];
    for (i, di) in d.iter_mut().enumerate() {
        for (j, dij) in di.iter_mut().enumerate() {
            *dij = load(buf, off(i, j));
        }
    }
    d
}

#[inline(always)]
fn store(buf: &mut [f32], off: usize, v: &[f32; CB]) {
    buf[off..off + CB].copy_from_slice(v);
}

/// `[co, ci, 3, 3]` kernels as `U^T [16, cin, cout]`, `U = G g G^T`; `kernel(o, c)` gives the
/// 3x3 kernel from input channel `c` to output channel `o` (row-major).
pub(crate) fn transform_weights(cin: usize, cout: usize, kernel: impl Fn(usize, usize) -> [f32; 9] + Sync) -> Vec<f32> {
    let mut u = output_vec(16 * cin * cout);
    u.par_chunks_mut(cin * cout).enumerate().for_each(|(xi, plane)| {
        let (r, s) = (xi / 4, xi % 4);
        for c in 0..cin {
            for o in 0..cout {
                let g = kernel(o, c);
                // G g (4x3), then (G g) G^T (4x4): rows and columns by the same 1-d transform
                let col = |k: usize| -> [f32; 4] {
                    let (a, b, d) = (g[k], g[3 + k], g[6 + k]);
                    [a, 0.5 * (a + b + d), 0.5 * (a - b + d), d]
                };
                let (c0, c1, c2) = (col(0)[r], col(1)[r], col(2)[r]);
                plane[c * cout + o] = [c0, 0.5 * (c0 + c1 + c2), 0.5 * (c0 - c1 + c2), c2][s];
            }
        }
    });
    u
}

multiversion! {
    /// `V[xi, tile, :] = (B^T d B)[xi]` for every tile of the padded channels-last group `xp`
    /// (`cp` channels, see [`padded_channels`]).
    pub(crate) fn transform_tiles = transform_tiles_body(t: &Tiling, xp: &[f32], n: usize, cp: usize, v: &mut Vec<f32>)
}

#[inline(always)]
fn transform_tiles_body(t: &Tiling, xp: &[f32], n: usize, cp: usize, v: &mut Vec<f32>) {
    let (hp, wp) = t.padded();
    let tiles = t.tiles(n);
    v.resize(16 * tiles * cp, 0.0);
    for b in 0..n {
        for ty in 0..t.th {
            for tx in 0..t.tw {
                let tile = (b * t.th + ty) * t.tw + tx;
                let base = ((b * hp + 2 * ty) * wp + 2 * tx) * cp;
                for c0 in (0..cp).step_by(CB) {
                    let d: [[[f32; CB]; 4]; 4] = load_4x4(xp, |i, j| base + (i * wp + j) * cp + c0);
                    // B^T d: rows; then (B^T d) B: columns
                    let mut r = [[[0f32; CB]; 4]; 4];
                    for j in 0..4 {
                        for k in 0..CB {
                            r[0][j][k] = d[0][j][k] - d[2][j][k];
                            r[1][j][k] = d[1][j][k] + d[2][j][k];
                            r[2][j][k] = d[2][j][k] - d[1][j][k];
                            r[3][j][k] = d[1][j][k] - d[3][j][k];
                        }
                    }
                    for (i, ri) in r.iter().enumerate() {
                        let mut o = [[0f32; CB]; 4];
                        for k in 0..CB {
                            o[0][k] = ri[0][k] - ri[2][k];
                            o[1][k] = ri[1][k] + ri[2][k];
                            o[2][k] = ri[2][k] - ri[1][k];
                            o[3][k] = ri[1][k] - ri[3][k];
                        }
                        for (j, oj) in o.iter().enumerate() {
                            store(v, ((i * 4 + j) * tiles + tile) * cp + c0, oj);
                        }
                    }
                }
            }
        }
    }
}

multiversion! {
    /// Channels-last `[n, hw, cp]` (first `c` channels) to `[n, c, hw]`.
    pub(crate) fn from_channels_last = from_channels_last_body(src: &[f32], n: usize, c: usize, cp: usize, hw: usize, dst: &mut [f32])
}

#[inline(always)]
fn from_channels_last_body(src: &[f32], n: usize, c: usize, cp: usize, hw: usize, dst: &mut [f32]) {
    for b in 0..n {
        for p0 in (0..hw).step_by(CB) {
            for c0 in (0..c).step_by(CB) {
                let so = (b * hw + p0) * cp + c0;
                let d0 = (b * c + c0) * hw + p0;
                transpose_block(src, so, cp, dst, d0, hw, CB.min(hw - p0), CB.min(c - c0));
            }
        }
    }
}

multiversion! {
    /// `Y = A^T M A` for every tile, written channels-last `[n, h, w, cp]` (pixels past the image
    /// edge dropped).
    pub(crate) fn untransform_tiles = untransform_tiles_body(t: &Tiling, m: &[f32], n: usize, cp: usize, yl: &mut Vec<f32>)
}

#[inline(always)]
fn untransform_tiles_body(t: &Tiling, m: &[f32], n: usize, cp: usize, yl: &mut Vec<f32>) {
    let tiles = t.tiles(n);
    yl.resize(n * t.h * t.w * cp, 0.0);
    for b in 0..n {
        for ty in 0..t.th {
            for tx in 0..t.tw {
                let tile = (b * t.th + ty) * t.tw + tx;
                for c0 in (0..cp).step_by(CB) {
                    let mm: [[[f32; CB]; 4]; 4] = load_4x4(m, |i, j| ((i * 4 + j) * tiles + tile) * cp + c0);
                    // A^T M: 2 rows; then (A^T M) A: 2 columns
                    let mut r = [[[0f32; CB]; 4]; 2];
                    for j in 0..4 {
                        for k in 0..CB {
                            r[0][j][k] = mm[0][j][k] + mm[1][j][k] + mm[2][j][k];
                            r[1][j][k] = mm[1][j][k] - mm[2][j][k] - mm[3][j][k];
                        }
                    }
                    for (i, ri) in r.iter().enumerate() {
                        let oy = 2 * ty + i;
                        if oy >= t.h {
                            continue;
                        }
                        let mut o = [[0f32; CB]; 2];
                        for k in 0..CB {
                            o[0][k] = ri[0][k] + ri[1][k] + ri[2][k];
                            o[1][k] = ri[1][k] - ri[2][k] - ri[3][k];
                        }
                        for (j, oj) in o.iter().enumerate() {
                            let ox = 2 * tx + j;
                            if ox < t.w {
                                store(yl, ((b * t.h + oy) * t.w + ox) * cp + c0, oj);
                            }
                        }
                    }
                }
            }
        }
    }
}

multiversion! {
    /// `DY[xi, tile, :] = (A e A^T)[xi]` for the 2x2 output-gradient tile `e` of every tile, from
    /// the channels-last copy `dyp` (`[n, 2 th, 2 tw, cp]`, zeros past the image edge).
    pub(crate) fn transform_output_grads = transform_output_grads_body(t: &Tiling, dyp: &[f32], n: usize, cp: usize, dyt: &mut Vec<f32>)
}

#[inline(always)]
fn transform_output_grads_body(t: &Tiling, dyp: &[f32], n: usize, cp: usize, dyt: &mut Vec<f32>) {
    let ww = 2 * t.tw;
    let tiles = t.tiles(n);
    dyt.resize(16 * tiles * cp, 0.0);
    for b in 0..n {
        for ty in 0..t.th {
            for tx in 0..t.tw {
                let tile = (b * t.th + ty) * t.tw + tx;
                for c0 in (0..cp).step_by(CB) {
                    let e: [[[f32; CB]; 2]; 2] = {
                        let mut e = [[[0f32; CB]; 2]; 2];
                        for (i, ei) in e.iter_mut().enumerate() {
                            for (j, eij) in ei.iter_mut().enumerate() {
                                *eij = load(dyp, (((b * t.th + ty) * 2 + i) * ww + 2 * tx + j) * cp + c0);
                            }
                        }
                        e
                    };
                    // A e: 4 rows of 2; then (A e) A^T: 4 columns
                    let mut r = [[[0f32; CB]; 2]; 4];
                    for j in 0..2 {
                        for k in 0..CB {
                            r[0][j][k] = e[0][j][k];
                            r[1][j][k] = e[0][j][k] + e[1][j][k];
                            r[2][j][k] = e[0][j][k] - e[1][j][k];
                            r[3][j][k] = -e[1][j][k];
                        }
                    }
                    for (i, ri) in r.iter().enumerate() {
                        let mut o = [[0f32; CB]; 4];
                        for k in 0..CB {
                            o[0][k] = ri[0][k];
                            o[1][k] = ri[0][k] + ri[1][k];
                            o[2][k] = ri[0][k] - ri[1][k];
                            o[3][k] = -ri[1][k];
                        }
                        for (j, oj) in o.iter().enumerate() {
                            store(dyt, ((i * 4 + j) * tiles + tile) * cp + c0, oj);
                        }
                    }
                }
            }
        }
    }
}

/// The weight gradient `[co, ci, 3, 3]` from its transformed sums `s: [16, ci, co]`:
/// `dw = G^T S G` per channel pair.
pub(crate) fn untransform_weight_grads(s: &[f32], ci: usize, co: usize) -> Vec<f32> {
    let mut dw = output_vec(co * ci * 9);
    dw.par_chunks_mut(ci * 9).enumerate().for_each(|(o, dwo)| {
        for c in 0..ci {
            let e = |xi: usize| s[(xi * ci + c) * co + o];
            // G^T S: 3 rows of 4, then (G^T S) G: 3 columns
            let r: [[f32; 4]; 3] = std::array::from_fn(|row| {
                std::array::from_fn(|j| {
                    let (s0, s1, s2, s3) = (e(j), e(4 + j), e(8 + j), e(12 + j));
                    [s0 + 0.5 * (s1 + s2), 0.5 * (s1 - s2), 0.5 * (s1 + s2) + s3][row]
                })
            });
            for (ky, ri) in r.iter().enumerate() {
                dwo[c * 9 + ky * 3] = ri[0] + 0.5 * (ri[1] + ri[2]);
                dwo[c * 9 + ky * 3 + 1] = 0.5 * (ri[1] - ri[2]);
                dwo[c * 9 + ky * 3 + 2] = 0.5 * (ri[1] + ri[2]) + ri[3];
            }
        }
    });
    dw
}
