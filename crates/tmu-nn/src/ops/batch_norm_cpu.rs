//! CPU f32 kernels of training-mode batch normalisation over NCHW tensors: per-channel statistics,
//! the fused normalise(+ReLU) pass and the fused backward, all with a fixed summation order.

use rayon::prelude::*;

use super::cpu::output_vec;

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

/// `(sum (v - shift), sum (v - shift)^2)` over `xs`, in `LANES` f32 lanes then f64: vectorisable
/// and bit-reproducible.
fn shifted_sums(xs: &[f32], shift: f32) -> (f64, f64) {
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
    (lanes_f64(&a), lanes_f64(&q))
}

/// `(sum d, sum d * (x - m))` with `d = dy` masked by `y > 0` when `relu`, as [`shifted_sums`].
fn grad_sums(xs: &[f32], ys: &[f32], ds: &[f32], m: f32, relu: bool) -> (f64, f64) {
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
    (lanes_f64(&a), lanes_f64(&q))
}

/// Per-channel mean and biased variance of `x`.
pub(crate) fn stats(g: &BnGeom, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let n = g.count() as f64;
    let (mean, var): (Vec<f32>, Vec<f32>) = (0..g.c)
        .into_par_iter()
        .map(|c| {
            // shift by the channel's first value: sums of squares of centred-ish values cancel less
            let shift = if g.count() > 0 { x[c * g.hw] } else { 0.0 };
            let (mut s1, mut s2) = (0f64, 0f64);
            for b in 0..g.b {
                let (a, q) = shifted_sums(g.plane(x, b, c), shift);
                s1 += a;
                s2 += q;
            }
            let m = s1 / n;
            let var = (s2 / n - m * m).max(0.0);
            ((m + f64::from(shift)) as f32, var as f32)
        })
        .unzip();
    (mean, var)
}

/// `y = x * scale[c] + shift[c]`, then `max(y, 0)` when `relu`.
pub(crate) fn normalize(g: &BnGeom, x: &[f32], scale: &[f32], shift: &[f32], relu: bool) -> Vec<f32> {
    let mut y = output_vec(x.len());
    let img = g.c * g.hw;
    y.par_chunks_mut(img.max(1)).zip(x.par_chunks(img.max(1))).for_each(|(yb, xb)| {
        for c in 0..g.c {
            let (s, t) = (scale[c], shift[c]);
            let ys = &mut yb[c * g.hw..(c + 1) * g.hw];
            let xs = &xb[c * g.hw..(c + 1) * g.hw];
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
    });
    y
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
    let sums: Vec<(f64, f64)> = (0..g.c)
        .into_par_iter()
        .map(|c| {
            let m = mean[c];
            let (mut s1, mut s2) = (0f64, 0f64);
            for b in 0..g.b {
                let (a, q) = grad_sums(g.plane(x, b, c), g.plane(y, b, c), g.plane(dy, b, c), m, relu);
                s1 += a;
                s2 += q;
            }
            (s1, s2)
        })
        .collect();
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
            let out = &mut dxb[c * g.hw..(c + 1) * g.hw];
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
    });
    (dx, dgamma, dbeta)
}
