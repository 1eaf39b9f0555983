//! The few callables a pickle may name (numpy array and dtype reconstruction, Latin-1 bytes),
//! and `BUILD` of the objects they make. Anything else is refused: no pickled code ever runs.

use super::machine::{Machine, latin1_bytes};
use super::value::{Array, Dtype, PickleError, Value};

impl Machine<'_> {
    /// The only calls a pickle may make here.
    pub(super) fn reduce(&self, callable: Value, args: Value) -> Result<Value, PickleError> {
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
    pub(super) fn build(&mut self, state: Value) -> Result<(), PickleError> {
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
