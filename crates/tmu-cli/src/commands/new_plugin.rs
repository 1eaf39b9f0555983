//! `tmu new-plugin NAME`: writes an out-of-tree plugin project (one feature stage, its test, a
//! pipeline that uses it) from the templates in `crates/tmu-cli/templates/plugin/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::args::NewPluginArgs;

/// The template files, as `(path in the project, text)`.
const TEMPLATES: [(&str, &str); 5] = [
    ("Cargo.toml", include_str!("../../templates/plugin/Cargo.toml.in")),
    ("src/lib.rs", include_str!("../../templates/plugin/src/lib.rs.in")),
    ("tests/stage.rs", include_str!("../../templates/plugin/tests/stage.rs.in")),
    ("pipeline.toml", include_str!("../../templates/plugin/pipeline.toml.in")),
    ("README.md", include_str!("../../templates/plugin/README.md.in")),
];

/// The tmu checkout this binary was built from (`crates/tmu-cli/../..`).
const BUILT_FROM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

pub fn new_plugin(args: &NewPluginArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.as_str();
    check_name(name)?;
    let crate_name = format!("tmu-{name}");
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from(&crate_name));
    if dir.exists() {
        bail!("{} exists already: name a new folder with --path", dir.display());
    }
    let (deps, dev_deps) = match (&args.git, &args.tmu) {
        (Some(url), _) => git_deps(url),
        (None, tmu) => path_deps(tmu.as_deref().unwrap_or(Path::new(BUILT_FROM)))?,
    };
    let ident = name.replace('-', "_");
    let fill = |text: &str| {
        text.replace("{{crate}}", &crate_name)
            .replace("{{crate_ident}}", &crate_name.replace('-', "_"))
            .replace("{{name_ident}}", &ident)
            .replace("{{name}}", name)
            .replace("{{kind}}", &format!("features.{name}"))
            .replace("{{deps}}", &deps)
            .replace("{{dev_deps}}", &dev_deps)
    };
    for (path, text) in TEMPLATES {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("template paths have a folder"))
            .with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(&file, fill(text)).with_context(|| format!("writing {}", file.display()))?;
    }
    println!("created {} with the stage `features.{name}`:", dir.display());
    println!("  cd {} && cargo test && cargo build --release && tmu run pipeline.toml", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Plugin names become crate names, library names and stage kinds: keep them plain.
fn check_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && name.len() <= 40;
    if !ok {
        bail!(
            "`{name}` is not a usable plugin name: use lowercase letters, digits and `-`, starting with a letter \
             (at most 40 characters), e.g. `entropy`"
        );
    }
    Ok(())
}

/// Path dependencies on a tmu checkout at `root`.
fn path_deps(root: &Path) -> anyhow::Result<(String, String)> {
    let root = root.canonicalize().map_err(|_| {
        anyhow::anyhow!(
            "{} is not a tmu checkout: name one with --tmu DIR, or depend on the repository with --git URL",
            root.display()
        )
    })?;
    if !root.join("crates/tmu-plugin/Cargo.toml").is_file() {
        bail!("{} has no crates/tmu-plugin: name a tmu checkout with --tmu DIR, or use --git URL", root.display());
    }
    let dep = |krate: &str, extra: &str| {
        format!("{krate} = {{ path = {:?}{extra} }}", root.join("crates").join(krate).display().to_string())
    };
    Ok((
        format!("{}\n{}", dep("tmu-plugin", ", features = [\"candle\"]"), dep("tmu-nn", "")),
        dep("tmu-test-support", ""),
    ))
}

/// Git dependencies on `url` (`URL#REV` pins a revision).
fn git_deps(url: &str) -> (String, String) {
    let (url, rev) = url.split_once('#').map_or((url, None), |(u, r)| (u, Some(r)));
    let source = match rev {
        Some(rev) => format!("git = {url:?}, rev = {rev:?}"),
        None => format!("git = {url:?}"),
    };
    (
        format!("tmu-plugin = {{ {source}, features = [\"candle\"] }}\ntmu-nn = {{ {source} }}"),
        format!("tmu-test-support = {{ {source} }}"),
    )
}
