//! A restricted unpickler: reads plain Python data and numpy arrays, and never runs code.
//!
//! Python's pickle format is a small stack machine whose `REDUCE` opcode calls any function
//! named in the file. This reader implements the data opcodes of protocols 0-5 and answers
//! `REDUCE` only for the handful of constructors that numpy arrays need (`_reconstruct`, `dtype`,
//! `_frombuffer`, `_codecs.encode`); any other callable is an error. Enough for torchvision's
//! CIFAR batches (pickled by Python 2) and for batches re-pickled by Python 3 and numpy 1 or 2.

mod calls;
mod guard;
mod machine;
mod value;

pub use machine::unpickle;
pub use value::{Array, Dtype, PickleError, Value};
