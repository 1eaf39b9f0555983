//! Where the CIFAR files are: the folder names of the official archives, and what to say
//! when they are missing.

use std::path::{Path, PathBuf};

use super::stages::CifarFormat;

/// CIFAR-10 or CIFAR-100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Cifar10,
    Cifar100,
}

/// The on-disk format found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Binary,
    Python,
}

/// The files of one data set, all known to exist.
#[derive(Clone, Debug)]
pub struct Layout {
    pub format: Format,
    pub dir: PathBuf,
    pub train: Vec<PathBuf>,
    pub test: Vec<PathBuf>,
    /// Binary: the class-name text files (CIFAR-10: one; CIFAR-100: coarse, then fine).
    /// Python: the `meta` pickle.
    pub names: Vec<PathBuf>,
}

impl Variant {
    pub fn title(self) -> &'static str {
        match self {
            Variant::Cifar10 => "CIFAR-10",
            Variant::Cifar100 => "CIFAR-100",
        }
    }

    fn folder(self, format: Format) -> &'static str {
        match (self, format) {
            (Variant::Cifar10, Format::Binary) => "cifar-10-batches-bin",
            (Variant::Cifar10, Format::Python) => "cifar-10-batches-py",
            (Variant::Cifar100, Format::Binary) => "cifar-100-binary",
            (Variant::Cifar100, Format::Python) => "cifar-100-python",
        }
    }

    /// (train files, test files, name files) of a format.
    fn files(self, format: Format) -> (Vec<String>, Vec<String>, Vec<String>) {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        match (self, format) {
            (Variant::Cifar10, Format::Binary) => (
                (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
                s(&["test_batch.bin"]),
                s(&["batches.meta.txt"]),
            ),
            (Variant::Cifar10, Format::Python) => {
                ((1..=5).map(|i| format!("data_batch_{i}")).collect(), s(&["test_batch"]), s(&["batches.meta"]))
            }
            (Variant::Cifar100, Format::Binary) => {
                (s(&["train.bin"]), s(&["test.bin"]), s(&["coarse_label_names.txt", "fine_label_names.txt"]))
            }
            (Variant::Cifar100, Format::Python) => (s(&["train"]), s(&["test"]), s(&["meta"])),
        }
    }

    /// The expected layout, as shown to a user whose data is missing.
    pub fn expected_layout(self, root: &Path) -> String {
        let (archive, bin, py) = match self {
            Variant::Cifar10 => (
                "cifar-10-binary.tar.gz",
                "data_batch_1.bin ... data_batch_5.bin, test_batch.bin, batches.meta.txt",
                "data_batch_1 ... data_batch_5, test_batch, batches.meta",
            ),
            Variant::Cifar100 => (
                "cifar-100-binary.tar.gz",
                "train.bin, test.bin, coarse_label_names.txt, fine_label_names.txt",
                "train, test, meta",
            ),
        };
        format!(
            "put the {title} binary version ({archive} from https://www.cs.toronto.edu/~kriz/cifar.html, \
             extracted) so that {root}/{bin_dir}/ holds {bin}; or torchvision's python version so that \
             {root}/{py_dir}/ holds {py}. `root` may also name that folder itself; a relative `root` is \
             resolved against the current directory. tmu never downloads data (see datasets/README.md)",
            title = self.title(),
            root = root.display(),
            bin_dir = self.folder(Format::Binary),
            py_dir = self.folder(Format::Python),
        )
    }
}

/// Finds the files of `variant` under `root` (or in `root` itself) in the requested format.
pub fn locate(root: &Path, variant: Variant, choice: CifarFormat) -> anyhow::Result<Layout> {
    let formats: &[Format] = match choice {
        CifarFormat::Auto => &[Format::Binary, Format::Python],
        CifarFormat::Binary => &[Format::Binary],
        CifarFormat::Python => &[Format::Python],
    };
    for &format in formats {
        let (train, test, names) = variant.files(format);
        // The folder of the archive, or `root` itself when it is that folder.
        for dir in [root.join(variant.folder(format)), root.to_path_buf()] {
            if !dir.join(&train[0]).is_file() {
                continue;
            }
            let join = |v: &[String]| v.iter().map(|f| dir.join(f)).collect::<Vec<_>>();
            let layout = Layout { format, train: join(&train), test: join(&test), names: join(&names), dir };
            let missing: Vec<String> = layout
                .train
                .iter()
                .chain(&layout.test)
                .chain(&layout.names)
                .filter(|p| !p.is_file())
                .map(|p| p.display().to_string())
                .collect();
            if !missing.is_empty() {
                return Err(tmu_plugin::with_help(
                    format!(
                        "{} in {} is incomplete: missing {}",
                        variant.title(),
                        layout.dir.display(),
                        missing.join(", ")
                    ),
                    variant.expected_layout(root),
                ));
            }
            return Ok(layout);
        }
    }
    let wanted = match choice {
        CifarFormat::Auto => "",
        CifarFormat::Binary => " (binary version)",
        CifarFormat::Python => " (python version)",
    };
    Err(tmu_plugin::with_help(
        format!("no {} data{wanted} found under {}", variant.title(), root.display()),
        variant.expected_layout(root),
    ))
}
