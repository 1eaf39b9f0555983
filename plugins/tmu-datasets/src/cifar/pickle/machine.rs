//! The pickle stack machine: opcodes of protocols 0-5 over plain data.

use std::collections::HashMap;

use super::guard::{MAX_COPIED_NODES, MAX_DEPTH, MEMO_COPY_LIMIT, count_nodes, too_deep};
use super::value::{PickleError, Value};

pub(super) struct Machine<'a> {
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

pub(super) fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

impl<'a> Machine<'a> {
    pub(super) fn err<T>(&self, message: impl Into<String>) -> Result<T, PickleError> {
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

    pub(super) fn top(&mut self) -> Result<&mut Value, PickleError> {
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
