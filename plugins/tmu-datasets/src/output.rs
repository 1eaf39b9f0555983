//! Writing data-set outputs: statistics from the train split, validation, summary counts.

use anyhow::Context as _;
use tmu_plugin::Context;
use tmu_plugin::artifact::Dataset;

use crate::stats::channel_stats;

/// Sets the mean and std of both splits to those of `train` (a model normalises every input
/// with the statistics of the data it was trained on).
pub fn set_train_stats(train: &mut Dataset, test: &mut Dataset) {
    let (mean, std) = channel_stats(&train.images, train.shape[1], train.image_len());
    train.meta.mean = mean.clone();
    train.meta.std = std.clone();
    test.meta.mean = mean;
    test.meta.std = std;
}

/// Writes `data` to output `port` and records its size in the summary (`<port>_samples`).
pub fn write_output(ctx: &mut Context, port: &str, data: &Dataset) -> anyhow::Result<()> {
    let path = ctx.output_path(port);
    data.write(&path).with_context(|| format!("writing output `{port}` of stage `{}`", ctx.stage_name()))?;
    ctx.summary(&format!("{port}_samples"), data.len());
    Ok(())
}

/// Writes `train` and `test` to the outputs of those names at the same time (the second file's
/// write and fsync overlap the first's), then records their sizes as [`write_output`] does, train
/// first; a failure of `train` is reported before one of `test`.
pub fn write_train_test(ctx: &mut Context, train: &Dataset, test: &Dataset) -> anyhow::Result<()> {
    let (train_path, test_path) = (ctx.output_path("train"), ctx.output_path("test"));
    let (a, b) = rayon::join(|| train.write(&train_path), || test.write(&test_path));
    for (port, result, data) in [("train", a, train), ("test", b, test)] {
        result.with_context(|| format!("writing output `{port}` of stage `{}`", ctx.stage_name()))?;
        ctx.summary(&format!("{port}_samples"), data.len());
    }
    Ok(())
}
