//! Typed access to a safetensors artifact: kind and version checks, dtype and rank checks.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Metadata, TensorInfo, TensorView};
use safetensors::{Dtype, SafeTensorError, SafeTensors};

use super::io::write_atomic_with;
use super::{ArtifactError, FORMAT_VERSION, META_FORMAT, META_KIND};
use crate::stage::ArtifactKind;

/// Largest header we accept (safetensors' own limit is 100 MB; ours are a few KB).
const MAX_HEADER: u64 = 64 << 20;

/// The largest header `safetensors::serialize` writes (its `MAX_HEADER_SIZE`, not exported).
const MAX_SAFETENSORS_HEADER: usize = 100_000_000;

/// A safetensors artifact read into memory.
pub struct Container {
    path: PathBuf,
    bytes: Vec<u8>,
    metadata: HashMap<String, String>,
}

fn format_err(path: &Path, e: impl std::fmt::Display) -> ArtifactError {
    ArtifactError::Format { path: path.to_path_buf(), reason: e.to_string() }
}

/// Reads just the header of a safetensors file: its `tmu.kind` (if any) and all metadata.
pub fn read_header(path: &Path) -> Result<(Option<ArtifactKind>, HashMap<String, String>), ArtifactError> {
    let mut f = std::fs::File::open(path).map_err(|e| ArtifactError::io("open", path, e))?;
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(|e| format_err(path, format!("cannot read the 8-byte header length: {e}")))?;
    let n = u64::from_le_bytes(n);
    if n > MAX_HEADER {
        return Err(format_err(path, format!("header length {n} exceeds {MAX_HEADER} bytes")));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|e| format_err(path, format!("truncated header ({n} bytes expected): {e}")))?;
    let value: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| format_err(path, format!("header is not JSON: {e}")))?;
    let metadata: HashMap<String, String> =
        value.get("__metadata__").and_then(|m| serde_json::from_value(m.clone()).ok()).unwrap_or_default();
    let kind = metadata.get(META_KIND).and_then(|k| ArtifactKind::parse(k));
    Ok((kind, metadata))
}

impl Container {
    /// Reads and validates a file that must be a `kind` artifact of our format version.
    pub fn read(path: &Path, kind: ArtifactKind) -> Result<Self, ArtifactError> {
        let c = Container::read_any(path)?;
        let found = c.metadata.get(META_KIND).cloned().unwrap_or_else(|| "(none)".to_string());
        if found != kind.as_str() {
            return Err(ArtifactError::WrongKind { path: c.path, expected: kind.as_str().to_string(), found });
        }
        let version = c.metadata.get(META_FORMAT).cloned().unwrap_or_else(|| "(none)".to_string());
        if version != FORMAT_VERSION.to_string() {
            return Err(ArtifactError::Version { path: c.path, expected: FORMAT_VERSION, found: version });
        }
        Ok(c)
    }

    /// Reads any well-formed safetensors file.
    pub fn read_any(path: &Path) -> Result<Self, ArtifactError> {
        let bytes = std::fs::read(path).map_err(|e| ArtifactError::io("read", path, e))?;
        let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| format_err(path, e))?;
        let metadata = meta.metadata().clone().unwrap_or_default();
        // Full validation (offsets inside the buffer, sizes matching dtypes and shapes).
        SafeTensors::deserialize(&bytes).map_err(|e| format_err(path, e))?;
        Ok(Container { path: path.to_path_buf(), bytes, metadata })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.metadata
    }

    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// A metadata entry that must be present.
    pub fn require_meta(&self, key: &str) -> Result<&str, ArtifactError> {
        self.meta(key).ok_or_else(|| ArtifactError::invalid(&self.path, format!("metadata `{key}` is missing")))
    }

    /// A metadata entry holding JSON, if present.
    pub fn meta_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ArtifactError> {
        match self.meta(key) {
            None => Ok(None),
            Some(s) => serde_json::from_str(s)
                .map(Some)
                .map_err(|e| ArtifactError::invalid(&self.path, format!("metadata `{key}` is not valid: {e}"))),
        }
    }

    fn tensors(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).expect("validated when the container was read")
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tensors().names().into_iter().map(str::to_string).collect();
        names.sort();
        names
    }

    pub fn has(&self, name: &str) -> bool {
        self.tensors().tensor(name).is_ok()
    }

    fn tensor_err(&self, name: &str, problem: impl Into<String>) -> ArtifactError {
        ArtifactError::Tensor { path: self.path.clone(), name: name.to_string(), problem: problem.into() }
    }

    /// The raw view of a tensor with a given dtype and rank.
    pub fn view(&self, name: &str, dtype: Dtype, rank: usize) -> Result<TensorView<'_>, ArtifactError> {
        let view = self.tensors().tensor(name).map_err(|_| self.tensor_err(name, "is missing"))?;
        if view.dtype() != dtype {
            return Err(self.tensor_err(name, format!("has dtype {:?}, expected {dtype:?}", view.dtype())));
        }
        if view.shape().len() != rank {
            return Err(self.tensor_err(name, format!("has shape {:?}, expected rank {rank}", view.shape())));
        }
        Ok(view)
    }

    /// A u8 tensor of the given rank: (shape, data).
    pub fn u8_tensor(&self, name: &str, rank: usize) -> Result<(Vec<usize>, Vec<u8>), ArtifactError> {
        let v = self.view(name, Dtype::U8, rank)?;
        Ok((v.shape().to_vec(), v.data().to_vec()))
    }

    /// A rank-1 u32 tensor (u8 is accepted and widened).
    pub fn u32_vec(&self, name: &str) -> Result<Vec<u32>, ArtifactError> {
        if let Ok(v) = self.view(name, Dtype::U8, 1) {
            return Ok(v.data().iter().map(|&b| u32::from(b)).collect());
        }
        let v = self.view(name, Dtype::U32, 1)?;
        Ok(v.data().chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// A rank-1 u64 tensor.
    pub fn u64_vec(&self, name: &str) -> Result<Vec<u64>, ArtifactError> {
        let v = self.view(name, Dtype::U64, 1)?;
        Ok(v.data().chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }

    /// An f32 tensor of the given rank: (shape, data).
    pub fn f32_tensor(&self, name: &str, rank: usize) -> Result<(Vec<usize>, Vec<f32>), ArtifactError> {
        let v = self.view(name, Dtype::F32, rank)?;
        let data = v.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Ok((v.shape().to_vec(), data))
    }
}

/// Rewrites the JSON header with `__metadata__` in key order: safetensors writes the metadata map
/// in `HashMap` order, which differs between writes, and equal artifacts must be equal bytes (the
/// host's cache compares content hashes). Permuting entries keeps the header's length.
fn sort_metadata(header: &mut [u8]) {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(header) else {
        return;
    };
    if let Some(meta) = value.get_mut("__metadata__").and_then(|m| m.as_object_mut()) {
        let mut entries: Vec<(String, serde_json::Value)> = std::mem::take(meta).into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        meta.extend(entries);
    }
    match serde_json::to_vec(&value) {
        Ok(mut text) if text.len() <= header.len() => {
            text.resize(header.len(), b' ');
            header.copy_from_slice(&text);
        }
        _ => {}
    }
}

/// One tensor waiting to be written: name, dtype, shape, little-endian bytes.
struct PendingTensor<'a> {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
}

/// Builds a safetensors artifact of one kind and writes it atomically.
pub struct ContainerWriter<'a> {
    metadata: HashMap<String, String>,
    tensors: Vec<PendingTensor<'a>>,
}

impl<'a> ContainerWriter<'a> {
    pub fn new(kind: ArtifactKind) -> Self {
        let mut metadata = HashMap::new();
        metadata.insert(META_KIND.to_string(), kind.as_str().to_string());
        metadata.insert(META_FORMAT.to_string(), FORMAT_VERSION.to_string());
        ContainerWriter { metadata, tensors: Vec::new() }
    }

    pub fn meta(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.metadata.insert(key.to_string(), value.into());
        self
    }

    pub fn meta_json<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: &T) -> &mut Self {
        let s = serde_json::to_string(value).expect("metadata serialises");
        self.meta(key, s)
    }

    /// Adds raw little-endian bytes (borrowed: large image tensors are not copied).
    pub fn raw(&mut self, name: &str, dtype: Dtype, shape: Vec<usize>, data: Cow<'a, [u8]>) -> &mut Self {
        self.tensors.push(PendingTensor { name: name.to_string(), dtype, shape, data });
        self
    }

    pub fn u8(&mut self, name: &str, shape: Vec<usize>, data: &'a [u8]) -> &mut Self {
        self.raw(name, Dtype::U8, shape, Cow::Borrowed(data))
    }

    pub fn u32(&mut self, name: &str, data: &[u32]) -> &mut Self {
        let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        self.raw(name, Dtype::U32, vec![data.len()], Cow::Owned(bytes))
    }

    pub fn u64(&mut self, name: &str, data: &[u64]) -> &mut Self {
        let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        self.raw(name, Dtype::U64, vec![data.len()], Cow::Owned(bytes))
    }

    pub fn f32(&mut self, name: &str, shape: Vec<usize>, data: &[f32]) -> &mut Self {
        let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        self.raw(name, Dtype::F32, shape, Cow::Owned(bytes))
    }

    /// The file's first bytes (the 8-byte header length, then the JSON header with its metadata in
    /// key order) and the order in which the tensors' data follow. The layout is
    /// `safetensors::serialize`'s (tensors by descending dtype alignment, then by name; header
    /// padded with spaces to 8 bytes), built with its own `Metadata`, so the bytes are the same.
    fn header(&self, path_for_errors: &Path) -> Result<(Vec<u8>, Vec<&PendingTensor<'a>>), ArtifactError> {
        let mut order: Vec<&PendingTensor<'a>> = self.tensors.iter().collect();
        order.sort_by(|l, r| r.dtype.cmp(&l.dtype).then(l.name.cmp(&r.name)));
        let mut infos = Vec::with_capacity(order.len());
        let mut offset = 0;
        for t in &order {
            // Checks that the data length matches the dtype and shape, as `serialize` did.
            TensorView::new(t.dtype, t.shape.clone(), &t.data).map_err(|e| ArtifactError::Tensor {
                path: path_for_errors.to_path_buf(),
                name: t.name.clone(),
                problem: e.to_string(),
            })?;
            let n = t.data.len();
            infos.push((
                t.name.clone(),
                TensorInfo { dtype: t.dtype, shape: t.shape.clone(), data_offsets: (offset, offset + n) },
            ));
            offset += n;
        }
        let meta = Metadata::new(Some(self.metadata.clone()), infos).map_err(|e| format_err(path_for_errors, e))?;
        let mut json = serde_json::to_vec(&meta).map_err(|e| format_err(path_for_errors, e))?;
        json.resize(json.len().next_multiple_of(8), b' ');
        if json.len() > MAX_SAFETENSORS_HEADER {
            return Err(format_err(path_for_errors, SafeTensorError::HeaderTooLarge));
        }
        sort_metadata(&mut json);
        let mut bytes = Vec::with_capacity(8 + json.len());
        bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&json);
        Ok((bytes, order))
    }

    /// Serialises to bytes.
    pub fn to_bytes(&self, path_for_errors: &Path) -> Result<Vec<u8>, ArtifactError> {
        let (mut bytes, order) = self.header(path_for_errors)?;
        bytes.reserve_exact(order.iter().map(|t| t.data.len()).sum());
        for t in order {
            bytes.extend_from_slice(&t.data);
        }
        Ok(bytes)
    }

    /// Writes atomically (temp file, fsync, rename), each tensor straight from its buffer: large
    /// image tensors are not first copied into one file-sized buffer.
    pub fn write(&self, path: &Path) -> Result<(), ArtifactError> {
        let (header, order) = self.header(path)?;
        write_atomic_with(path, |f| {
            f.write_all(&header)?;
            order.iter().try_for_each(|t| f.write_all(&t.data))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed layout against the safetensors crate's own `serialize` (metadata sorted
    /// afterwards, as this writer did before it streamed): same bytes.
    #[test]
    fn header_and_order_match_safetensors_serialize() {
        let pixels: Vec<u8> = (0..24).collect();
        let mut w = ContainerWriter::new(ArtifactKind::Dataset);
        w.meta("z.last", "1")
            .meta_json("a.first", &[1.5f32, 2.0])
            .meta("m.middle", "x")
            .u8("images", vec![2, 3, 2, 2], &pixels)
            .u32("labels", &[7, 8])
            .u64("ids", &[10, 11])
            .u32("labels.fine", &[1, 2])
            .f32("weights", vec![3], &[0.25, -1.0, 3.5]);
        let path = Path::new("test.safetensors");
        let ours = w.to_bytes(path).unwrap();

        let views: Vec<(String, TensorView<'_>)> = w
            .tensors
            .iter()
            .map(|t| (t.name.clone(), TensorView::new(t.dtype, t.shape.clone(), &t.data).unwrap()))
            .collect();
        let mut theirs = safetensors::serialize(views, Some(w.metadata.clone())).unwrap();
        let n = u64::from_le_bytes(theirs[..8].try_into().unwrap()) as usize;
        sort_metadata(&mut theirs[8..8 + n]);
        assert_eq!(ours, theirs);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.safetensors");
        w.write(&file).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), theirs, "the streamed file");

        let mut bad = ContainerWriter::new(ArtifactKind::Dataset);
        bad.u8("images", vec![5], &pixels);
        let other = dir.path().join("b.safetensors");
        let e = bad.write(&other).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: tensor `images` ", other.display())), "{e}");
        assert!(!other.exists(), "nothing written for an invalid tensor");
    }
}
