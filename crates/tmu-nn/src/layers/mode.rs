//! Train or eval mode, and in train mode the generator that dropout draws its masks from.

use rand_chacha::ChaCha8Rng;

/// How a forward pass runs: `eval` uses batch-norm running statistics and no dropout; `train`
/// uses batch statistics (and updates the running ones) and draws dropout masks from `rng`.
pub struct Mode<'a> {
    rng: Option<&'a mut ChaCha8Rng>,
}

impl<'a> Mode<'a> {
    pub fn eval() -> Mode<'static> {
        Mode { rng: None }
    }

    pub fn train(rng: &'a mut ChaCha8Rng) -> Mode<'a> {
        Mode { rng: Some(rng) }
    }

    pub fn is_train(&self) -> bool {
        self.rng.is_some()
    }

    /// The generator for random masks; `None` in eval mode.
    pub fn rng(&mut self) -> Option<&mut ChaCha8Rng> {
        self.rng.as_deref_mut()
    }
}
