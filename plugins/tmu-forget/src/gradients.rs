//! Gradients taken for statistics, not for training: per batch, the gradient of a loss with
//! respect to every trainable weight, in eval mode (batch norm on its running statistics, which
//! stay untouched). SalUn's saliency, SSD's Fisher diagonal and MSG's small-gradient mask are
//! sums of these over batches.

use anyhow::Result;
use tmu_nn::candle::{Tensor, Var};
use tmu_nn::{DeviceData, Network};

/// The trainable weights of `net` by name, in creation order.
pub fn weights(net: &Network) -> Vec<(String, Var)> {
    net.trainable_vars()
}

/// For each batch of `positions` of `data` (in that order, `batch_size` at a time, the last
/// batch smaller), the gradient of `loss(logits, labels)` with respect to every trainable
/// weight (zero where the loss does not reach one), handed to `visit` in [`weights`] order.
/// Returns the number of samples that went through forward and backward.
pub fn batch_gradients(
    net: &Network,
    data: &DeviceData,
    positions: &[u32],
    batch_size: usize,
    loss: &dyn Fn(&Tensor, &Tensor) -> tmu_nn::candle::Result<Tensor>,
    visit: &mut dyn FnMut(&[Tensor]) -> Result<()>,
) -> Result<u64> {
    let vars = weights(net);
    let mut samples = 0;
    for chunk in positions.chunks(batch_size.max(1)) {
        let index = data.index_tensor(chunk)?;
        let (images, labels) = data.gather(&index)?;
        let x = net.normalise_u8(&images)?;
        let logits = net.forward_t(&x, false)?;
        let grads = loss(&logits, &labels)?.backward()?;
        let per_weight = vars
            .iter()
            .map(|(_, v)| match grads.get(v.as_tensor()) {
                Some(g) => Ok(g.clone()),
                None => v.as_tensor().zeros_like(),
            })
            .collect::<tmu_nn::candle::Result<Vec<Tensor>>>()?;
        visit(&per_weight)?;
        samples += chunk.len() as u64;
    }
    Ok(samples)
}

/// The sum over batches of [`batch_gradients`] (what PyTorch's `.grad` holds after `backward()`
/// on every batch without zeroing in between), in [`weights`] order.
pub fn summed_gradients(
    net: &Network,
    data: &DeviceData,
    positions: &[u32],
    batch_size: usize,
    loss: &dyn Fn(&Tensor, &Tensor) -> tmu_nn::candle::Result<Tensor>,
) -> Result<(Vec<Tensor>, u64)> {
    let mut sum: Vec<Tensor> =
        weights(net).iter().map(|(_, v)| v.as_tensor().zeros_like()).collect::<tmu_nn::candle::Result<_>>()?;
    let samples = batch_gradients(net, data, positions, batch_size, loss, &mut |g| {
        for (s, g) in sum.iter_mut().zip(g) {
            *s = (&*s + g)?;
        }
        Ok(())
    })?;
    Ok((sum, samples))
}

/// `0..n` as positions.
pub fn all_positions(n: usize) -> Vec<u32> {
    (0..n as u32).collect()
}
