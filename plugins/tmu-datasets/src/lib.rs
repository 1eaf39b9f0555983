//! tmu-datasets: stages that read data sets (CIFAR-10/100, VGGFace2, image folders), make them
//! (embedded digits, synthetic CIFAR-shaped data) and carve the forget problem out of one.
//!
//! Nothing is ever downloaded: a missing data set is an error saying what to put where.
//! `datasets/README.md` (at the repository root) describes every layout.

pub mod cifar;
pub mod digits;
pub mod forget;
pub mod image_folder;
mod imaging;
mod output;
mod paths;
pub mod readers;
mod rng;
pub mod shadow;
mod split;
mod stats;
pub mod synthetic;
pub mod vggface2;

pub use cifar::{Cifar10, Cifar100};
pub use digits::Digits;
pub use forget::SplitForget;
pub use image_folder::ImageFolder;
pub use shadow::SplitShadow;
pub use synthetic::Synthetic;
pub use vggface2::VggFace2;

tmu_plugin::export_plugin!(Digits, Synthetic, Cifar10, Cifar100, VggFace2, ImageFolder, SplitForget, SplitShadow);
