//! CPU f32 kernels of training-mode batch normalisation over NCHW tensors: per-channel statistics,
//! the fused normalise(+ReLU) pass and the fused backward, all with a fixed summation order.

use rayon::prelude::*;

use super::cpu::{multiversion, output_vec};

/// Lanes of the f32 partial sums inside one contiguous run (then added to f64 accumulators).
const LANES: usize = 16;

/// Shape of an NCHW tensor seen by batch norm: `b` images of `c` planes of `hw` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BnGeom {
    pub b: usize,
    pub c: usize,
    pub hw: usize,
}

impl BnGeom {
    /// Values per channel.
    pub fn count(&self) -> usize {
        self.b * self.hw
    }
    /// The `hw` values of channel `c` in image `b`.
    fn plane<'a>(&self, t: &'a [f32], b: usize, c: usize) -> &'a [f32] {
        let start = (b * self.c + c) * self.hw;
        &t[start..start + self.hw]
    }
}

/// Adds `LANES` f32 lanes into f64, in lane order.
fn lanes_f64(a: &[f32; LANES]) -> f64 {
    a.iter().map(|&v| f64::from(v)).sum()
}

multiversion! {
    /// `(sum (v - shift), sum (v - shift)^2)` over `xs`, in `LANES` f32 lanes then f64:
    /// vectorisable and bit-reproducible (the same sums whatever the vector width).
    fn shifted_sums = shifted_sums_body(xs: &[f32], shift: f32, out: &mut (f64, f64))
}

#[inline(always)]
fn shifted_sums_body(xs: &[f32], shift: f32, out: &mut (f64, f64)) {
    let (mut a, mut q) = ([0f32; LANES], [0f32; LANES]);
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for x in chunks {
        for l in 0..LANES {
            let d = x[l] - shift;
            a[l] += d;
            q[l] += d * d;
        }
    }
    for (l, &v) in tail.iter().enumerate() {
        let d = v - shift;
        a[l] += d;
        q[l] += d * d;
    }
    *out = (lanes_f64(&a), lanes_f64(&q));
}

multiversion! {
    /// `(sum d, sum d * (x - m))` with `d = dy` masked by `y > 0` when `relu`, as
    /// [`shifted_sums`].
    #[allow(clippy::too_many_arguments)] // three planes, the mean, the flag and the result
    fn grad_sums = grad_sums_body(xs: &[f32], ys: &[f32], ds: &[f32], m: f32, relu: bool, out: &mut (f64, f64))
}

#[inline(always)]
fn grad_sums_body(xs: &[f32], ys: &[f32], ds: &[f32], m: f32, relu: bool, out: &mut (f64, f64)) {
    let (mut a, mut q) = ([0f32; LANES], [0f32; LANES]);
    let n = xs.len() / LANES * LANES;
    let mut add = |l: usize, x: f32, y: f32, d: f32| {
        let d = if !relu || y > 0.0 { d } else { 0.0 };
        a[l] += d;
        q[l] += d * (x - m);
    };
    for ((x, y), d) in xs[..n].chunks_exact(LANES).zip(ys[..n].chunks_exact(LANES)).zip(ds[..n].chunks_exact(LANES)) {
        for l in 0..LANES {
            add(l, x[l], y[l], d[l]);
        }
    }
    for (l, ((&x, &y), &d)) in xs[n..].iter().zip(&ys[n..]).zip(&ds[n..]).enumerate() {
        add(l, x, y, d);
    }
    *out = (lanes_f64(&a), lanes_f64(&q));
}

/// Per-channel sums over images: `f(image, channel)` for every image (in parallel, one image's
/// planes being contiguous), then added per channel in image order (bit-reproducible).
fn per_channel_sums(g: &BnGeom, f: impl Fn(usize, usize) -> (f64, f64) + Sync) -> Vec<(f64, f64)> {
    let per_image: Vec<Vec<(f64, f64)>> =
        (0..g.b).into_par_iter().map(|b| (0..g.c).map(|c| f(b, c)).collect()).collect();
    (0..g.c).map(|c| per_image.iter().fold((0.0, 0.0), |(s1, s2), img| (s1 + img[c].0, s2 + img[c].1))).collect()
}

/// Per-channel mean and biased variance of `x`.
pub(crate) fn stats(g: &BnGeom, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let n = g.count() as f64;
    // shift by the channel's first value: sums of squares of centred-ish values cancel less
    let shift: Vec<f32> = (0..g.c).map(|c| if g.count() > 0 { x[c * g.hw] } else { 0.0 }).collect();
    let sums = per_channel_sums(g, |b, c| {
        let mut aq = (0.0, 0.0);
        shifted_sums(g.plane(x, b, c), shift[c], &mut aq);
        aq
    });
    sums.iter()
        .zip(&shift)
        .map(|(&(s1, s2), &sh)| {
            let m = s1 / n;
            let var = (s2 / n - m * m).max(0.0);
            ((m + f64::from(sh)) as f32, var as f32)
        })
        .unzip()
}

multiversion! {
    /// `y = x * s + t`, then `max(y, 0)` when `relu`, over one plane.
    fn normalize_plane = normalize_plane_body(ys: &mut [f32], xs: &[f32], s: f32, t: f32, relu: bool)
}

#[inline(always)]
fn normalize_plane_body(ys: &mut [f32], xs: &[f32], s: f32, t: f32, relu: bool) {
    if relu {
        for (o, &v) in ys.iter_mut().zip(xs) {
            *o = (v * s + t).max(0.0);
        }
    } else {
        for (o, &v) in ys.iter_mut().zip(xs) {
            *o = v * s + t;
        }
    }
}

/// `y = x * scale[c] + shift[c]`, then `max(y, 0)` when `relu`.
pub(crate) fn normalize(g: &BnGeom, x: &[f32], scale: &[f32], shift: &[f32], relu: bool) -> Vec<f32> {
    let mut y = output_vec(x.len());
    let img = g.c * g.hw;
    y.par_chunks_mut(img.max(1)).zip(x.par_chunks(img.max(1))).for_each(|(yb, xb)| {
        for c in 0..g.c {
            normalize_plane(&mut yb[c * g.hw..(c + 1) * g.hw], &xb[c * g.hw..(c + 1) * g.hw], scale[c], shift[c], relu);
        }
    });
    y
}

multiversion! {
    /// `dx = a * d + b * x + k` over one plane, `d = dy` masked by `y > 0` when `relu`.
    fn backward_plane = backward_plane_body(out: &mut [f32], xs: &[f32], ys: &[f32], ds: &[f32], abk: [f32; 3], relu: bool)
}

#[inline(always)]
fn backward_plane_body(out: &mut [f32], xs: &[f32], ys: &[f32], ds: &[f32], abk: [f32; 3], relu: bool) {
    let [a, bb, k] = abk;
    let it = out.iter_mut().zip(xs).zip(ys).zip(ds);
    if relu {
        for (((o, &x), &y), &d) in it {
            let d = if y > 0.0 { d } else { 0.0 };
            *o = a * d + bb * x + k;
        }
    } else {
        for (((o, &x), _), &d) in it {
            *o = a * d + bb * x + k;
        }
    }
}

/// Gradients of training-mode batch norm (statistics of the batch, so the mean and variance are
/// differentiated too). `y` is the forward output, used as the ReLU mask when `relu`.
/// Returns `(dx, dgamma, dbeta)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    g: &BnGeom,
    x: &[f32],
    y: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    invstd: &[f32],
    relu: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let n = g.count() as f64;
    // per channel: sum of the (masked) output gradient and of its product with x - mean
    let sums = per_channel_sums(g, |b, c| {
        let mut aq = (0.0, 0.0);
        grad_sums(g.plane(x, b, c), g.plane(y, b, c), g.plane(dy, b, c), mean[c], relu, &mut aq);
        aq
    });
    let dbeta: Vec<f32> = sums.iter().map(|&(s1, _)| s1 as f32).collect();
    let dgamma: Vec<f32> = sums.iter().zip(invstd).map(|(&(_, s2), &is)| (s2 * f64::from(is)) as f32).collect();
    // dx = a * dy + b * x + k per channel, see the module docs of `batch_norm`
    let coef: Vec<(f32, f32, f32)> = (0..g.c)
        .map(|c| {
            let (s1, s2) = sums[c];
            let is = f64::from(invstd[c]);
            let a = f64::from(gamma[c]) * is;
            let bb = -a * is * is * s2 / n;
            let k = -a * s1 / n - bb * f64::from(mean[c]);
            (a as f32, bb as f32, k as f32)
        })
        .collect();
    let mut dx = output_vec(x.len());
    let img = (g.c * g.hw).max(1);
    dx.par_chunks_mut(img).enumerate().for_each(|(b, dxb)| {
        for (c, &(a, bb, k)) in coef.iter().enumerate() {
            let (xs, ys, ds) = (g.plane(x, b, c), g.plane(y, b, c), g.plane(dy, b, c));
            backward_plane(&mut dxb[c * g.hw..(c + 1) * g.hw], xs, ys, ds, [a, bb, k], relu);
        }
    });
    (dx, dgamma, dbeta)
}
