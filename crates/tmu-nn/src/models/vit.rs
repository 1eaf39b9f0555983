//! A small vision transformer in timm's layout (`patch_embed.proj`, `cls_token`, `pos_embed`,
//! `blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}`, `norm`, `head`): pre-norm
//! blocks, exact (erf) GELU, layer-norm eps 1e-6, class-token pooling.

use candle_core::{D, Result, Tensor};
use candle_nn::{Init, VarBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Model;
use crate::layers::{Conv2d, Conv2dConfig, Dropout, LayerNorm, Linear, Mode, conv2d, layer_norm, linear};
use crate::loss::softmax;

/// Options of the ViT (defaults: ViT-Tiny with 4x4 patches, for 32x32 images).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VitConfig {
    /// Side of a square patch in pixels; the image side must be a multiple of it.
    #[serde(default = "default_patch")]
    #[schemars(range(min = 1, max = 64))]
    pub patch: usize,
    /// Embedding width.
    #[serde(default = "default_dim")]
    #[schemars(range(min = 1, max = 4096))]
    pub dim: usize,
    /// Number of transformer blocks.
    #[serde(default = "default_depth")]
    #[schemars(range(min = 1, max = 64))]
    pub depth: usize,
    /// Attention heads; `dim` must be a multiple of it.
    #[serde(default = "default_heads")]
    #[schemars(range(min = 1, max = 64))]
    pub heads: usize,
    /// Hidden width of each block's MLP.
    #[serde(default = "default_mlp_dim")]
    #[schemars(range(min = 1, max = 16384))]
    pub mlp_dim: usize,
    /// Dropout after the embedding, the attention weights, and each projection (0 = none).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 0.95))]
    pub dropout: f32,
}

fn default_patch() -> usize {
    4
}
fn default_dim() -> usize {
    192
}
fn default_depth() -> usize {
    12
}
fn default_heads() -> usize {
    3
}
fn default_mlp_dim() -> usize {
    768
}

impl Default for VitConfig {
    fn default() -> Self {
        VitConfig {
            patch: default_patch(),
            dim: default_dim(),
            depth: default_depth(),
            heads: default_heads(),
            mlp_dim: default_mlp_dim(),
            dropout: 0.0,
        }
    }
}

struct Block {
    norm1: LayerNorm,
    qkv: Linear,
    proj: Linear,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    heads: usize,
    dropout: Dropout,
}

impl Block {
    fn new(cfg: &VitConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.dim;
        Ok(Block {
            norm1: layer_norm(d, 1e-6, vb.pp("norm1"))?,
            qkv: linear(d, 3 * d, vb.pp("attn").pp("qkv"))?,
            proj: linear(d, d, vb.pp("attn").pp("proj"))?,
            norm2: layer_norm(d, 1e-6, vb.pp("norm2"))?,
            fc1: linear(d, cfg.mlp_dim, vb.pp("mlp").pp("fc1"))?,
            fc2: linear(cfg.mlp_dim, d, vb.pp("mlp").pp("fc2"))?,
            heads: cfg.heads,
            dropout: Dropout::new(cfg.dropout),
        })
    }

    fn attention(&self, x: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let h = self.heads;
        let dh = d / h;
        // [B, T, 3, H, Dh] -> [3, B, H, T, Dh]
        let qkv = self.qkv.forward(x)?.reshape((b, t, 3, h, dh))?.permute((2, 0, 3, 1, 4))?;
        let q = qkv.get(0)?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let scores = (q.matmul(&k.t()?.contiguous()?)? * (1.0 / (dh as f64).sqrt()))?;
        let attn = self.dropout.forward(&softmax(&scores, D::Minus1)?, mode)?;
        let out = attn.matmul(&v)?.transpose(1, 2)?.reshape((b, t, d))?;
        self.dropout.forward(&self.proj.forward(&out)?, mode)
    }

    fn forward(&self, x: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let x = (x + self.attention(&self.norm1.forward(x)?, mode)?)?;
        let hidden = self.fc1.forward(&self.norm2.forward(&x)?)?.gelu_erf()?;
        let hidden = self.dropout.forward(&hidden, mode)?;
        let out = self.dropout.forward(&self.fc2.forward(&hidden)?, mode)?;
        x + out
    }
}

/// The vision transformer; the penultimate feature is the normalised class token.
pub struct Vit {
    patch_embed: Conv2d,
    cls_token: Tensor,
    pos_embed: Tensor,
    blocks: Vec<Block>,
    norm: LayerNorm,
    head: Linear,
    dropout: Dropout,
    dim: usize,
}

impl Vit {
    pub fn new(cfg: &VitConfig, input: [usize; 3], classes: usize, vb: VarBuilder) -> Result<Self> {
        let [c, h, w] = input;
        if cfg.patch == 0 || !h.is_multiple_of(cfg.patch) || !w.is_multiple_of(cfg.patch) {
            candle_core::bail!("vit-tiny: image size {h}x{w} is not a multiple of the patch size {}", cfg.patch);
        }
        if cfg.heads == 0 || !cfg.dim.is_multiple_of(cfg.heads) {
            candle_core::bail!("vit-tiny: dim {} is not a multiple of heads {}", cfg.dim, cfg.heads);
        }
        let tokens = (h / cfg.patch) * (w / cfg.patch) + 1;
        let conv_cfg = Conv2dConfig { stride: cfg.patch, padding: 0, bias: true };
        let patch_embed = conv2d(c, cfg.dim, cfg.patch, conv_cfg, vb.pp("patch_embed").pp("proj"))?;
        let cls_token = vb.get_with_hints((1, 1, cfg.dim), "cls_token", Init::Randn { mean: 0.0, stdev: 1e-6 })?;
        let pos_embed = vb.get_with_hints((1, tokens, cfg.dim), "pos_embed", Init::Randn { mean: 0.0, stdev: 0.02 })?;
        let blocks = (0..cfg.depth).map(|i| Block::new(cfg, vb.pp("blocks").pp(i))).collect::<Result<Vec<_>>>()?;
        let norm = layer_norm(cfg.dim, 1e-6, vb.pp("norm"))?;
        let head = linear(cfg.dim, classes, vb.pp("head"))?;
        Ok(Vit {
            patch_embed,
            cls_token,
            pos_embed,
            blocks,
            norm,
            head,
            dropout: Dropout::new(cfg.dropout),
            dim: cfg.dim,
        })
    }
}

impl Model for Vit {
    fn forward(&self, x: &Tensor, mode: &mut Mode) -> Result<(Tensor, Tensor)> {
        let b = x.dim(0)?;
        // [B, D, h, w] -> [B, h*w, D]
        let patches = self.patch_embed.forward(x)?.flatten_from(2)?.transpose(1, 2)?;
        let cls = self.cls_token.broadcast_as((b, 1, self.dim))?;
        let mut y = Tensor::cat(&[&cls, &patches], 1)?.broadcast_add(&self.pos_embed)?;
        y = self.dropout.forward(&y, mode)?;
        for block in &self.blocks {
            y = block.forward(&y, mode)?;
        }
        let features = self.norm.forward(&y)?.narrow(1, 0, 1)?.squeeze(1)?;
        let logits = self.head.forward(&features)?;
        Ok((features, logits))
    }

    fn feature_dim(&self) -> usize {
        self.dim
    }
}
