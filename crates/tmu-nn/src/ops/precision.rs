//! [`Precision`]: the numeric tier of GPU training (strict f32, TF32 tensor cores, bf16 mixed
//! precision), and the thread's current tier that the convolution op reads when it is built.

use std::cell::Cell;

use candle_core::DType;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a GPU computes a training step. CPU ops always compute in f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 everywhere; convolutions without TF32 (PyTorch with `allow_tf32 = False`).
    #[default]
    F32,
    /// f32 tensors; convolutions may use TF32 tensor cores (10-bit mantissa products, f32 sums).
    Tf32,
    /// Mixed precision: bf16 activations and bf16 copies of the weights for the convolutions;
    /// batch-norm statistics and parameters, the loss and the master weights stay in f32
    /// (PyTorch's `autocast(dtype=bfloat16)`).
    Bf16,
}

impl Precision {
    /// The dtype of activations under this tier.
    pub fn activation_dtype(self) -> DType {
        match self {
            Precision::Bf16 => DType::BF16,
            Precision::F32 | Precision::Tf32 => DType::F32,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Tf32 => "tf32",
            Precision::Bf16 => "bf16",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f32" | "fp32" => Ok(Precision::F32),
            "tf32" => Ok(Precision::Tf32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            other => Err(format!("unknown precision `{other}`: expected f32, tf32 or bf16")),
        }
    }
}

thread_local! {
    static CURRENT: Cell<Precision> = const { Cell::new(Precision::F32) };
}

/// The current thread's tier (f32 unless inside [`with_precision`]).
pub fn current_precision() -> Precision {
    CURRENT.with(Cell::get)
}

/// Runs `f` with `p` as the current thread's tier (restored afterwards, even on panic). The
/// CUDA convolution reads it when it is built, so it holds for that convolution's backward too.
pub fn with_precision<R>(p: Precision, f: impl FnOnce() -> R) -> R {
    struct Restore(Precision);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(p)));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_scopes() {
        for p in [Precision::F32, Precision::Tf32, Precision::Bf16] {
            assert_eq!(p.to_string().parse::<Precision>(), Ok(p));
        }
        assert!("f16".parse::<Precision>().unwrap_err().contains("f16"));
        assert_eq!(current_precision(), Precision::F32);
        let inner = with_precision(Precision::Bf16, || {
            assert_eq!(current_precision(), Precision::Bf16);
            with_precision(Precision::Tf32, current_precision)
        });
        assert_eq!(inner, Precision::Tf32);
        assert_eq!(current_precision(), Precision::F32);
        assert_eq!(Precision::Bf16.activation_dtype(), DType::BF16);
    }
}
