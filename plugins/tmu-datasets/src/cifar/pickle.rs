//! A restricted unpickler: reads plain Python data and numpy arrays, and never runs code.
//!
//! Python's pickle format is a small stack machine whose `REDUCE` opcode calls any function
//! named in the file. This reader implements the data opcodes of protocols 0-5 and answers
//! `REDUCE` only for the handful of constructors that numpy arrays need (`_reconstruct`, `dtype`,
//! `_frombuffer`, `_codecs.encode`); any other callable is an error. Enough for torchvision's
//! CIFAR batches (pickled by Python 2) and for batches re-pickled by Python 3 and numpy 1 or 2.

use std::collections::HashMap;
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

/// Objects larger than this are not copied into the memo (nothing re-reads them in CIFAR files).
const MEMO_COPY_LIMIT: usize = 1 << 16;
/// Deepest nesting of containers accepted (a CIFAR batch nests 3 deep); deeper values could
/// overflow the stack when dropped.
const MAX_DEPTH: usize = 32;
/// Most value nodes that memo and DUP copies may create in all: Python shares memoised objects
/// where this reader copies them, so a pickle that re-reads its memo in a loop would otherwise
/// grow exponentially (a "billion laughs").
const MAX_COPIED_NODES: usize = 1 << 18;

/// Calls `f` on each value directly inside `v`.
fn for_children<'v>(v: &'v Value, mut f: impl FnMut(&'v Value)) {
    match v {
        Value::List(items) | Value::Tuple(items) => items.iter().for_each(f),
        Value::Dict(pairs) => pairs.iter().for_each(|(k, v)| {
            f(k);
            f(v);
        }),
        _ => {}
    }
}

/// The number of values in `v` (itself included), counted up to `limit + 1`; iterative.
fn count_nodes(v: &Value, limit: usize) -> usize {
    let (mut n, mut todo) = (0, vec![v]);
    while let Some(x) = todo.pop() {
        n += 1;
        if n > limit {
            break;
        }
        for_children(x, |c| todo.push(c));
    }
    n
}

/// Whether `v` nests containers more than `max` levels deep; iterative, stops early.
fn too_deep(v: &Value, max: usize) -> bool {
    let mut todo = vec![(v, 0usize)];
    while let Some((x, depth)) = todo.pop() {
        if depth > max {
            return true;
        }
        for_children(x, |c| todo.push((c, depth + 1)));
    }
    false
}

struct Machine<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of the opcode being run (for messages).
    at: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    /// Nodes created by copies so far (see `MAX_COPIED_NODES`).
    copied: usize,
}

/// Reads one pickled object from `bytes`.
pub fn unpickle(bytes: &[u8]) -> Result<Value, PickleError> {
    let mut m = Machine { bytes, pos: 0, at: 0, stack: Vec::new(), marks: Vec::new(), memo: HashMap::new(), copied: 0 };
    loop {
        m.at = m.pos;
        let op = m.take(1)?[0];
        if op == b'.' {
            return m.pop();
        }
        m.step(op)?;
    }
}

fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

impl<'a> Machine<'a> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, PickleError> {
        Err(PickleError { offset: self.at, message: message.into() })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        if n > self.bytes.len() - self.pos {
            return self.err(format!("truncated: {n} bytes needed, {} left", self.bytes.len() - self.pos));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> Result<u64, PickleError> {
        let b = self.take(n)?;
        Ok(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    fn len(&mut self, n: usize) -> Result<usize, PickleError> {
        let v = self.uint(n)?;
        usize::try_from(v).or_else(|_| self.err("length does not fit in memory"))
    }

    fn line(&mut self) -> Result<&'a str, PickleError> {
        let rest = &self.bytes[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return self.err("truncated: unterminated text argument");
        };
        self.pos += end + 1;
        std::str::from_utf8(&rest[..end]).or_else(|_| self.err("text argument is not UTF-8"))
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return self.err("stack underflow (a mark is on top)");
        }
        match self.stack.pop() {
            Some(v) => Ok(v),
            None => self.err("stack underflow"),
        }
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let Some(mark) = self.marks.pop() else { return self.err("no mark on the stack") };
        Ok(self.stack.split_off(mark))
    }

    fn top(&mut self) -> Result<&mut Value, PickleError> {
        if self.stack.is_empty() {
            return self.err("stack underflow");
        }
        Ok(self.stack.last_mut().expect("checked"))
    }

    fn text(&mut self, n: usize) -> Result<Value, PickleError> {
        let b = self.take(n)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(Value::Str(s.to_string())),
            Err(_) => self.err("unicode string is not UTF-8"),
        }
    }

    fn int_from_le(&mut self, n: usize) -> Result<Value, PickleError> {
        let b = self.take(n)?;
        if n == 0 {
            return Ok(Value::Int(0));
        }
        if n > 8 {
            return self.err(format!("integer of {n} bytes is too large"));
        }
        let mut buf = if b[n - 1] & 0x80 != 0 { [0xffu8; 8] } else { [0u8; 8] };
        buf[..n].copy_from_slice(b);
        Ok(Value::Int(i64::from_le_bytes(buf)))
    }

    fn memo_put(&mut self, key: u64) -> Result<(), PickleError> {
        let top = self.top()?;
        let stored = match top {
            Value::Bytes(b) if b.len() > MEMO_COPY_LIMIT => Value::Shared,
            Value::Str(t) if t.len() > MEMO_COPY_LIMIT => Value::Shared,
            Value::Array(a) if a.data.len() > MEMO_COPY_LIMIT => Value::Shared,
            Value::List(l) if l.len() > MEMO_COPY_LIMIT => Value::Shared,
            other => other.clone(),
        };
        self.count_copy(&stored)?;
        self.memo.insert(key, stored);
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Result<(), PickleError> {
        match self.memo.get(&key) {
            Some(Value::Shared) => self.err(format!("memo entry {key} refers to a large shared object")),
            Some(v) => {
                let v = v.clone();
                self.count_copy(&v)?;
                self.stack.push(v);
                Ok(())
            }
            None => self.err(format!("memo entry {key} is undefined")),
        }
    }

    fn step(&mut self, op: u8) -> Result<(), PickleError> {
        match op {
            0x80 => {
                let proto = self.uint(1)?;
                if proto > 5 {
                    return self.err(format!("pickle protocol {proto} is not supported (0-5 are)"));
                }
            }
            0x95 => {
                self.take(8)?; // FRAME: a length hint only
            }
            b'(' => self.marks.push(self.stack.len()),
            b'0' => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let v = self.top()?.clone();
                self.count_copy(&v)?;
                self.stack.push(v);
            }
            b'N' => self.stack.push(Value::None),
            0x88 => self.stack.push(Value::Bool(true)),
            0x89 => self.stack.push(Value::Bool(false)),
            b'I' => {
                let v = match self.line()? {
                    "00" => Value::Bool(false),
                    "01" => Value::Bool(true),
                    s => Value::Int(s.trim().parse().or_else(|_| self.err(format!("bad INT `{s}`")))?),
                };
                self.stack.push(v);
            }
            b'L' => {
                let s = self.line()?;
                let v = s.trim().trim_end_matches('L').parse().or_else(|_| self.err(format!("bad LONG `{s}`")))?;
                self.stack.push(Value::Int(v));
            }
            b'J' => {
                let v = self.uint(4)? as u32 as i32;
                self.stack.push(Value::Int(i64::from(v)));
            }
            b'K' => {
                let v = self.uint(1)?;
                self.stack.push(Value::Int(v as i64));
            }
            b'M' => {
                let v = self.uint(2)?;
                self.stack.push(Value::Int(v as i64));
            }
            0x8a => {
                let n = self.len(1)?;
                let v = self.int_from_le(n)?;
                self.stack.push(v);
            }
            0x8b => {
                let n = self.len(4)?;
                let v = self.int_from_le(n)?;
                self.stack.push(v);
            }
            b'F' => {
                let s = self.line()?;
                let v = s.trim().parse().or_else(|_| self.err(format!("bad FLOAT `{s}`")))?;
                self.stack.push(Value::Float(v));
            }
            b'G' => {
                let b = self.take(8)?;
                self.stack.push(Value::Float(f64::from_be_bytes(b.try_into().expect("8 bytes"))));
            }
            b'T' | b'B' => {
                let n = self.len(4)?;
                let b = self.take(n)?.to_vec();
                self.stack.push(Value::Bytes(b));
            }
            b'U' | b'C' => {
                let n = self.len(1)?;
                let b = self.take(n)?.to_vec();
                self.stack.push(Value::Bytes(b));
            }
            0x8e | 0x96 => {
                let n = self.len(8)?;
                let b = self.take(n)?.to_vec();
                self.stack.push(Value::Bytes(b));
            }
            b'X' => {
                let n = self.len(4)?;
                let v = self.text(n)?;
                self.stack.push(v);
            }
            0x8c => {
                let n = self.len(1)?;
                let v = self.text(n)?;
                self.stack.push(v);
            }
            0x8d => {
                let n = self.len(8)?;
                let v = self.text(n)?;
                self.stack.push(v);
            }
            b']' => self.stack.push(Value::List(Vec::new())),
            b'l' => {
                let items = self.pop_mark()?;
                self.check_depth(&items)?;
                self.stack.push(Value::List(items));
            }
            b'a' => {
                let v = self.pop()?;
                self.extend_list(vec![v])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.extend_list(items)?;
            }
            b')' => self.stack.push(Value::Tuple(Vec::new())),
            b't' => {
                let items = self.pop_mark()?;
                self.check_depth(&items)?;
                self.stack.push(Value::Tuple(items));
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                if self.stack.len() < n || self.marks.last().is_some_and(|&m| m > self.stack.len() - n) {
                    return self.err("stack underflow");
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.check_depth(&items)?;
                self.stack.push(Value::Tuple(items));
            }
            b'}' => self.stack.push(Value::Dict(Vec::new())),
            b'd' => {
                let items = self.pop_mark()?;
                self.check_depth(&items)?;
                let pairs = self.pairs(items)?;
                self.stack.push(Value::Dict(pairs));
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                self.extend_dict(vec![(k, v)])?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                let pairs = self.pairs(items)?;
                self.extend_dict(pairs)?;
            }
            b'p' => {
                let s = self.line()?;
                let k = s.trim().parse().or_else(|_| self.err(format!("bad PUT `{s}`")))?;
                self.memo_put(k)?;
            }
            b'q' => {
                let k = self.uint(1)?;
                self.memo_put(k)?;
            }
            b'r' => {
                let k = self.uint(4)?;
                self.memo_put(k)?;
            }
            0x94 => {
                let k = self.memo.len() as u64;
                self.memo_put(k)?;
            }
            b'g' => {
                let s = self.line()?;
                let k = s.trim().parse().or_else(|_| self.err(format!("bad GET `{s}`")))?;
                self.memo_get(k)?;
            }
            b'h' => {
                let k = self.uint(1)?;
                self.memo_get(k)?;
            }
            b'j' => {
                let k = self.uint(4)?;
                self.memo_get(k)?;
            }
            b'c' => {
                let module = self.line()?.to_string();
                let name = self.line()?.to_string();
                self.stack.push(Value::Global(module, name));
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                match (module, name) {
                    (Value::Str(m), Value::Str(n)) => self.stack.push(Value::Global(m, n)),
                    _ => return self.err("STACK_GLOBAL needs two strings"),
                }
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.reduce(callable, args)?;
                self.stack.push(v);
            }
            b'b' => {
                let state = self.pop()?;
                self.build(state)?;
            }
            _ => {
                return self.err(format!(
                    "opcode 0x{op:02x} is not supported (this reader takes plain data and numpy arrays only)"
                ));
            }
        }
        Ok(())
    }

    fn pairs(&self, items: Vec<Value>) -> Result<Vec<(Value, Value)>, PickleError> {
        if !items.len().is_multiple_of(2) {
            return self.err("odd number of items for a dict");
        }
        let mut it = items.into_iter();
        let mut pairs = Vec::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            pairs.push((k, v));
        }
        Ok(pairs)
    }

    /// Refuses children nested too deep to become part of a container.
    fn check_depth(&self, items: &[Value]) -> Result<(), PickleError> {
        if items.iter().any(|v| too_deep(v, MAX_DEPTH)) {
            return self.err(format!("containers nested more than {MAX_DEPTH} levels deep"));
        }
        Ok(())
    }

    /// Counts the nodes of a copy against `MAX_COPIED_NODES`.
    fn count_copy(&mut self, v: &Value) -> Result<(), PickleError> {
        self.copied += count_nodes(v, MAX_COPIED_NODES);
        if self.copied > MAX_COPIED_NODES {
            return self.err(format!("the pickle copies more than {MAX_COPIED_NODES} shared values"));
        }
        Ok(())
    }

    fn extend_list(&mut self, items: Vec<Value>) -> Result<(), PickleError> {
        self.check_depth(&items)?;
        match self.top()? {
            Value::List(l) => {
                l.extend(items);
                Ok(())
            }
            _ => self.err("APPEND to something that is not a list"),
        }
    }

    fn extend_dict(&mut self, pairs: Vec<(Value, Value)>) -> Result<(), PickleError> {
        if pairs.iter().any(|(k, v)| too_deep(k, MAX_DEPTH) || too_deep(v, MAX_DEPTH)) {
            return self.err(format!("containers nested more than {MAX_DEPTH} levels deep"));
        }
        match self.top()? {
            Value::Dict(d) => {
                for (k, v) in pairs {
                    match d.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => slot.1 = v,
                        None => d.push((k, v)),
                    }
                }
                Ok(())
            }
            _ => self.err("SETITEM on something that is not a dict"),
        }
    }

    /// The only calls a pickle may make here.
    fn reduce(&self, callable: Value, args: Value) -> Result<Value, PickleError> {
        let Value::Global(module, name) = callable else { return self.err("REDUCE of a non-global") };
        let Value::Tuple(args) = args else { return self.err("REDUCE arguments are not a tuple") };
        let numpy = |m: &str, sub: &str| m == format!("numpy.core.{sub}") || m == format!("numpy._core.{sub}");
        match (module.as_str(), name.as_str()) {
            (m, "_reconstruct") if numpy(m, "multiarray") => Ok(Value::Array(Array {
                shape: vec![0],
                dtype: Dtype { descr: "u1".into(), order: '|' },
                fortran: false,
                data: Vec::new(),
            })),
            ("numpy", "dtype") => match args.first().and_then(Value::as_text) {
                Some(descr) => Ok(Value::Dtype(Dtype { descr, order: '=' })),
                None => self.err("numpy.dtype without a descriptor"),
            },
            ("_codecs", "encode") => match args.as_slice() {
                [Value::Str(s), Value::Str(enc)] if enc == "latin1" || enc == "latin-1" => match latin1_bytes(s) {
                    Some(b) => Ok(Value::Bytes(b)),
                    None => self.err("_codecs.encode of a string outside Latin-1"),
                },
                _ => self.err("_codecs.encode with unexpected arguments"),
            },
            (m, "_frombuffer") if numpy(m, "numeric") => match <[Value; 4]>::try_from(args) {
                Ok([Value::Bytes(data), Value::Dtype(dtype), Value::Tuple(shape), order]) => {
                    let fortran = order.as_text().as_deref() == Some("F");
                    let shape = self.shape(&shape)?;
                    self.array(shape, dtype, fortran, data)
                }
                _ => self.err("numpy _frombuffer with unexpected arguments"),
            },
            _ => self.err(format!(
                "the pickle calls `{module}.{name}`, which this reader does not run \
                 (it reads plain data and numpy arrays only, and never runs pickled code)"
            )),
        }
    }

    fn shape(&self, dims: &[Value]) -> Result<Vec<usize>, PickleError> {
        dims.iter()
            .map(|d| match d {
                Value::Int(n) if *n >= 0 => Ok(*n as usize),
                _ => self.err("array shape holds a non-integer"),
            })
            .collect()
    }

    fn array(&self, shape: Vec<usize>, dtype: Dtype, fortran: bool, data: Vec<u8>) -> Result<Value, PickleError> {
        let Some(itemsize) = dtype.itemsize() else {
            return self.err(format!("numpy dtype `{}` is not supported", dtype.descr));
        };
        let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if count.and_then(|c| c.checked_mul(itemsize)) != Some(data.len()) {
            return self.err(format!(
                "numpy array of shape {shape:?} and dtype {} needs {} bytes, the pickle holds {}",
                dtype.descr,
                count.map_or("too many".to_string(), |c| (c * itemsize).to_string()),
                data.len()
            ));
        }
        Ok(Value::Array(Array { shape, dtype, fortran, data }))
    }

    /// `BUILD`: `ndarray.__setstate__` and `dtype.__setstate__`.
    fn build(&mut self, state: Value) -> Result<(), PickleError> {
        let Value::Tuple(mut state) = state else { return self.err("BUILD state is not a tuple") };
        match self.top()? {
            Value::Dtype(_) => {
                let order = state.get(1).and_then(Value::as_text).and_then(|s| s.chars().next());
                let Some(order) = order else { return self.err("dtype state without a byte order") };
                if let Value::Dtype(d) = self.top()? {
                    d.order = order;
                }
                Ok(())
            }
            Value::Array(_) => {
                // (version, shape, dtype, is_fortran, data) or, before numpy 1.0, without version.
                if state.len() == 5 {
                    state.remove(0);
                }
                let [Value::Tuple(shape), Value::Dtype(dtype), fortran, data] =
                    <[Value; 4]>::try_from(state).or_else(|_| self.err("unexpected numpy array state"))?
                else {
                    return self.err("unexpected numpy array state");
                };
                let fortran = matches!(fortran, Value::Bool(true) | Value::Int(1));
                let data = match data {
                    Value::Bytes(b) => b,
                    Value::Str(s) => match latin1_bytes(&s) {
                        Some(b) => b,
                        None => return self.err("array data string is not Latin-1"),
                    },
                    _ => return self.err("numpy arrays of Python objects are not supported"),
                };
                let shape = self.shape(&shape)?;
                let array = self.array(shape, dtype, fortran, data)?;
                *self.top()? = array;
                Ok(())
            }
            _ => self.err("BUILD of an object this reader does not construct"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused() {
        // 100 EMPTY_LISTs, then 99 APPENDs: a list nested 100 deep.
        let mut p = vec![0x80, 2];
        p.extend(std::iter::repeat_n(b']', 100));
        p.extend(std::iter::repeat_n(b'a', 99));
        p.push(b'.');
        let e = unpickle(&p).unwrap_err();
        assert_eq!(e.message, "containers nested more than 32 levels deep");
        // APPEND k (from 1, at offset 101 + k) inserts a child nested k - 1 deep: k = 34 is refused.
        assert_eq!(e.offset, 101 + 34);
    }

    #[test]
    fn memo_copies_cannot_grow_exponentially() {
        // list = [] ; repeat: list.append(copy of memo 0); memo 0 = list  -> doubles each round.
        let mut p = vec![0x80, 2, b']', b'q', 0];
        for _ in 0..40 {
            p.extend_from_slice(&[b'h', 0, b'a', b'q', 0]);
        }
        p.push(b'.');
        let e = unpickle(&p).unwrap_err();
        assert_eq!(e.message, format!("the pickle copies more than {MAX_COPIED_NODES} shared values"));
    }

    #[test]
    fn plain_values_read() {
        // pickle.dumps({"a": [1, -2, 3.5, None, True], "b": (b"xy", "z")}, protocol=2)
        let p = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01J\xfe\xff\xff\xffG@\x0c\x00\x00\x00\x00\x00\x00N\x88eX\x01\x00\x00\x00bq\x03c_codecs\nencode\nq\x04X\x02\x00\x00\x00xyq\x05X\x06\x00\x00\x00latin1q\x06\x86q\x07Rq\x08X\x01\x00\x00\x00zq\t\x86q\nu.";
        let v = unpickle(p).unwrap();
        assert_eq!(
            v.get("a"),
            Some(&Value::List(vec![Value::Int(1), Value::Int(-2), Value::Float(3.5), Value::None, Value::Bool(true)]))
        );
        assert_eq!(v.get("b"), Some(&Value::Tuple(vec![Value::Bytes(b"xy".to_vec()), Value::Str("z".into())])));
    }
}
