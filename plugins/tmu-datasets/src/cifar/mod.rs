//! CIFAR-10 and CIFAR-100 from the official binary files or torchvision's python pickles.

mod binary;
mod layout;
mod pickle;
mod python;
mod stages;

pub use binary::{LabelByte, read_binary};
pub use pickle::{Array, Dtype, PickleError, Value, unpickle};
pub use python::read_python;
pub use stages::{Cifar10, Cifar10Config, Cifar100, Cifar100Config, Cifar100Labels, CifarFormat};

/// Pixels of one CIFAR image: 3 planes (R, G, B) of 32x32, row-major, the layout of both the
/// binary records and the pickled arrays, and of our NCHW artifacts.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;

/// Images and label columns read from one split, in file order.
#[derive(Debug, Default)]
pub struct Records {
    pub images: Vec<u8>,
    /// One column per label byte: CIFAR-10 `[label]`, CIFAR-100 `[coarse, fine]`.
    pub columns: Vec<Vec<u32>>,
}

impl Records {
    pub fn len(&self) -> usize {
        self.images.len() / IMAGE_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
}
