//! `cargo xtask`: tmu's build tasks (run, check, bench, codegen, ci); never links candle.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("xtask: no tasks yet")
}
