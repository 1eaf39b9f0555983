//! Gaussian input noise drawn from a seeded host generator (candle's CPU generator cannot be
//! seeded), uploaded as one tensor per batch.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use tmu_nn::candle::{Result, Tensor};

/// `x + std · ε · mask` with ε ~ N(0, 1) drawn fresh from `rng` for every element of `x`
/// (`[B, ...]`); `mask` (f32 `[B]`, 0 or 1) picks the rows that get noise.
pub fn add_row_noise(x: &Tensor, mask: &Tensor, std: f64, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    if std == 0.0 {
        return Ok(x.clone());
    }
    let dims = x.dims().to_vec();
    let eps: Vec<f32> = (0..x.elem_count()).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
    let eps = Tensor::from_vec(eps, dims.as_slice(), x.device())?;
    let mut row_shape = vec![1usize; dims.len()];
    row_shape[0] = dims[0];
    let scale = mask.reshape(row_shape)?.affine(std, 0.0)?;
    x + eps.broadcast_mul(&scale)?
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use tmu_nn::candle::{Device, Tensor};

    use super::add_row_noise;

    #[test]
    fn noise_only_on_masked_rows_with_the_given_spread_and_seeded() {
        let x = Tensor::zeros((4, 1, 50, 50), tmu_nn::candle::DType::F32, &Device::Cpu).unwrap();
        let mask = Tensor::new(&[1f32, 0.0, 1.0, 0.0], &Device::Cpu).unwrap();
        let draw = |seed| add_row_noise(&x, &mask, 0.1, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        let y = draw(3);
        let rows: Vec<Vec<f32>> = y.flatten_from(1).unwrap().to_vec2().unwrap();
        assert!(rows[1].iter().chain(&rows[3]).all(|v| *v == 0.0));
        for r in [&rows[0], &rows[2]] {
            let n = r.len() as f64;
            let mean = r.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let sd = (r.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n).sqrt();
            // 2,500 draws: the sample mean's sd is 0.002, the sample sd's is 0.0014.
            assert!(mean.abs() < 0.01 && (sd - 0.1).abs() < 0.007, "mean {mean}, sd {sd}");
        }
        assert_ne!(rows[0], rows[2], "fresh noise per row");
        assert_eq!(
            y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            draw(3).flatten_all().unwrap().to_vec1::<f32>().unwrap()
        );
    }
}
