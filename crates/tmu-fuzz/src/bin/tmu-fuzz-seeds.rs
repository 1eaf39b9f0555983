//! `tmu-fuzz-seeds DIR`: writes each target's seed corpus into `DIR/<target>/` (one file per
//! seed, named by its hash), the starting corpus of `cargo fuzz run <target> DIR/<target>`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: tmu-fuzz-seeds DIR   (writes DIR/<target>/<seed hash> for every fuzz target)");
        return ExitCode::FAILURE;
    };
    for (name, _) in tmu_fuzz::TARGETS {
        let out = dir.join(name);
        let seeds = tmu_fuzz::seeds::seeds(name);
        let written = std::fs::create_dir_all(&out).and_then(|()| {
            seeds.iter().try_for_each(|s| std::fs::write(out.join(blake3::hash(s).to_hex().as_str()), s))
        });
        if let Err(e) = written {
            eprintln!("error: cannot write the seeds of `{name}` into {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
        println!("{name}: {} seeds in {}", seeds.len(), out.display());
    }
    ExitCode::SUCCESS
}
