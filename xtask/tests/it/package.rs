//! The crates a third-party plugin depends on can be published: `cargo package` accepts
//! tmu-plugin, tmu-nn and tmu-test-support together (manifests, versions of their dependencies on
//! each other, file lists). Building the packages (`cargo package` without `--no-verify`)
//! compiles candle once more and is left to a release.

use std::process::Command;

use crate::root;

#[test]
fn the_sdk_crates_package() {
    let target = tempfile::tempdir().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args(["package", "--no-verify", "--offline", "--allow-dirty", "--quiet", "--target-dir"])
        .arg(target.path())
        .args(["-p", "tmu-plugin", "-p", "tmu-nn", "-p", "tmu-test-support"])
        .output()
        .expect("running cargo package");
    assert!(out.status.success(), "cargo package failed:\n{}", String::from_utf8_lossy(&out.stderr));
    for krate in ["tmu-plugin", "tmu-nn", "tmu-test-support"] {
        let file = target.path().join("package").join(format!("{krate}-0.1.0.crate"));
        assert!(file.is_file(), "{} was not written", file.display());
    }
}
