//! Loading one plugin library: version handshake first, then the symbols, then `describe`.

use std::path::{Path, PathBuf};

use libloading::Library;
use tmu_plugin::HostSink;
use tmu_plugin::abi::{
    self, AbiVersionFn, Buffer, DescribeFn, RunFn, STATUS_ERROR, STATUS_OK, SYM_ABI_VERSION, SYM_DESCRIBE, SYM_RUN,
    SYM_SDK_VERSION, SdkVersionFn,
};
use tmu_plugin::protocol::{ErrorKind, PluginDescription, RunRequest, RunResponse, StageDescription, WireError};

use crate::callbacks::with_callbacks;
use crate::error::PluginError;

/// A loaded plugin library. The library itself is never unloaded: its code may still be on some
/// thread's stack, and its allocations may still be referenced.
#[derive(Debug)]
pub struct LoadedPlugin {
    /// The file it was loaded from, as found.
    pub path: PathBuf,
    /// blake3 (hex) of the library file.
    pub binary_hash: String,
    /// What `tmu_plugin_sdk_version` says (`tmu-plugin 0.1.0`).
    pub sdk: String,
    pub description: PluginDescription,
    run: RunFn,
}

/// `major.minor` of the tmu-plugin this host was built with.
pub fn host_sdk_minor() -> String {
    let v = env!("CARGO_PKG_VERSION");
    let sdk = abi::SDK_VERSION_CSTR.to_string_lossy();
    let sdk = sdk.strip_prefix("tmu-plugin ").unwrap_or(v);
    sdk.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The name of the shared library the system loader could not find, from its message
/// (glibc: `libcudart.so.13: cannot open shared object file`; macOS: `Library not loaded: X`).
pub fn missing_library(reason: &str, plugin: &Path) -> Option<String> {
    let name = if let Some(i) = reason.find(": cannot open shared object file") {
        reason[..i].rsplit(": ").next()?.trim()
    } else if let Some(i) = reason.find("Library not loaded: ") {
        reason[i + "Library not loaded: ".len()..].split_whitespace().next()?
    } else {
        return None;
    };
    // The plugin file itself is not a missing dependency.
    let is_plugin = Path::new(name) == plugin || plugin.file_name().is_some_and(|f| f == name);
    (!name.is_empty() && !is_plugin).then(|| name.to_string())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

/// Loads the library at `path`, checks its ABI version before anything else, checks that it
/// exports every symbol, and asks it to describe itself.
pub fn load(path: &Path) -> Result<LoadedPlugin, PluginError> {
    let (binary_hash, _) =
        crate::hash::hash_file(path).map_err(|source| PluginError::Read { path: path.to_path_buf(), source })?;

    // SAFETY: loading a library runs its initialisers: plugins are trusted code, named by the
    // user (ARCHITECTURE.md, "Cross-cutting rules").
    let library = unsafe { Library::new(path) }.map_err(|e| {
        let reason = error_chain(&e);
        PluginError::Open { path: path.to_path_buf(), missing: missing_library(&reason, path), reason }
    })?;
    let missing = |symbol: &[u8]| PluginError::MissingSymbol {
        path: path.to_path_buf(),
        symbol: String::from_utf8_lossy(symbol).into_owned(),
    };

    // SAFETY: `tmu_plugin_abi_version` has had this signature in every ABI version.
    let abi_version: AbiVersionFn =
        *unsafe { library.get::<AbiVersionFn>(SYM_ABI_VERSION) }.map_err(|_| missing(SYM_ABI_VERSION))?;
    // SAFETY: as above, for `tmu_plugin_sdk_version`.
    let sdk_version: Option<SdkVersionFn> = unsafe { library.get::<SdkVersionFn>(SYM_SDK_VERSION) }.ok().map(|s| *s);
    let sdk = sdk_version.and_then(|f| {
        // SAFETY: the symbol returns a static NUL-terminated string (or null).
        let p = unsafe { f() };
        // SAFETY: non-null pointers from `tmu_plugin_sdk_version` point to a static C string.
        (!p.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned())
    });
    // SAFETY: a plain function returning an integer.
    let found = unsafe { abi_version() };
    if found != abi::ABI_VERSION {
        return Err(PluginError::AbiMismatch {
            path: path.to_path_buf(),
            found,
            expected: abi::ABI_VERSION,
            sdk,
            host_sdk: host_sdk_minor(),
        });
    }
    let sdk = sdk.ok_or_else(|| missing(SYM_SDK_VERSION))?;
    // SAFETY: the ABI version matched, so these symbols have the types of this ABI version.
    let describe: DescribeFn =
        *unsafe { library.get::<DescribeFn>(SYM_DESCRIBE) }.map_err(|_| missing(SYM_DESCRIBE))?;
    // SAFETY: as above.
    let run: RunFn = *unsafe { library.get::<RunFn>(SYM_RUN) }.map_err(|_| missing(SYM_RUN))?;

    let mut out = Buffer::empty();
    // SAFETY: `out` is a valid, writable Buffer for the duration of the call.
    let status = unsafe { describe(&mut out) };
    // SAFETY: the plugin filled `out` through `Buffer::from_vec` (or left it empty).
    let payload = unsafe { out.take() };
    let description = match status {
        STATUS_OK => serde_json::from_slice::<PluginDescription>(&payload)
            .map_err(|e| PluginError::BadDescription { path: path.to_path_buf(), reason: e.to_string() })?,
        _ => return Err(PluginError::Describe { path: path.to_path_buf(), source: decode_error(status, &payload) }),
    };

    // Never unloaded: the function pointers above stay valid for the life of the process.
    std::mem::forget(library);
    Ok(LoadedPlugin { path: path.to_path_buf(), binary_hash, sdk, description, run })
}

/// The wire error in an error payload, or one describing why there is none.
fn decode_error(status: i32, payload: &[u8]) -> WireError {
    if status != STATUS_ERROR {
        return WireError::new(ErrorKind::Request, format!("the plugin returned unknown status {status}"));
    }
    serde_json::from_slice(payload)
        .unwrap_or_else(|e| WireError::new(ErrorKind::Failed, format!("the plugin returned an unreadable error ({e})")))
}

impl LoadedPlugin {
    /// The file name, for short messages.
    pub fn file_name(&self) -> String {
        self.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// The description of one of this plugin's stage kinds.
    pub fn stage(&self, kind: &str) -> Option<&StageDescription> {
        self.description.stages.iter().find(|s| s.kind == kind)
    }

    /// Runs one stage through `tmu_plugin_run`, with `host` behind the callback table.
    pub fn run(&self, request: &RunRequest, host: &(dyn HostSink + Sync)) -> Result<RunResponse, WireError> {
        let body = serde_json::to_vec(request)
            .map_err(|e| WireError::new(ErrorKind::Request, format!("cannot serialise the run request: {e}")))?;
        let kind = request.kind.as_bytes();
        let (status, payload) = with_callbacks(host, |table| {
            let mut out = Buffer::empty();
            // SAFETY: the byte ranges live for the call, `table` outlives it (see
            // `with_callbacks`), and `out` is a writable Buffer.
            let status = unsafe { (self.run)(kind.as_ptr(), kind.len(), body.as_ptr(), body.len(), table, &mut out) };
            // SAFETY: the plugin filled `out` through `Buffer::from_vec` (or left it empty).
            (status, unsafe { out.take() })
        });
        match status {
            STATUS_OK => serde_json::from_slice(&payload).map_err(|e| {
                WireError::new(ErrorKind::Failed, format!("the plugin returned an unreadable response ({e})"))
            }),
            _ => Err(decode_error(status, &payload)),
        }
    }
}
