//! The Python values the restricted unpickler builds, and its error.

use std::fmt;

/// A Python value as far as this reader understands it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Python 2 `str` (read as bytes, like `encoding="bytes"`), `bytes` and `bytearray`.
    Bytes(Vec<u8>),
    Str(String),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Key-value pairs in file order.
    Dict(Vec<(Value, Value)>),
    /// A module attribute named by `GLOBAL`; only a few are ever called.
    Global(String, String),
    Dtype(Dtype),
    Array(Array),
    /// A memo entry for an object too large to copy (see `MEMO_COPY_LIMIT`).
    Shared,
}

/// A numpy dtype: its descriptor (`u1`, `i8`, `f4`) and byte order (`<`, `>`, `|`, `=`).
#[derive(Clone, Debug, PartialEq)]
pub struct Dtype {
    pub descr: String,
    pub order: char,
}

impl Dtype {
    /// Bytes per element, from the descriptor's number (`i8` -> 8).
    pub fn itemsize(&self) -> Option<usize> {
        self.descr.get(1..).and_then(|n| n.parse().ok())
    }
}

/// A numpy array: shape, dtype, memory order and raw element bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    pub fortran: bool,
    pub data: Vec<u8>,
}

impl Value {
    /// The value of `key` in a dict whose keys are `str` or `bytes`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(items) => items.iter().find(|(k, _)| k.as_text().as_deref() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `str` or `bytes` (as Latin-1) as text.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Bytes(b) => Some(b.iter().map(|&c| char::from(c)).collect()),
            _ => None,
        }
    }

    /// The dict's keys as text, for messages.
    pub fn keys(&self) -> Vec<String> {
        match self {
            Value::Dict(items) => items.iter().map(|(k, _)| k.as_text().unwrap_or_else(|| format!("{k:?}"))).collect(),
            _ => Vec::new(),
        }
    }
}

/// Why a pickle could not be read, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct PickleError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for PickleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pickle byte offset {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for PickleError {}
