//! The glue behind `export_plugin!`: the `extern "C"` entry points over a [`Plugin`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::abi::{Buffer, HostCallbacks, STATUS_ERROR, STATUS_OK};
use crate::context::{HostSink, LogLevel};
use crate::plugin::Plugin;
use crate::protocol::{ErrorKind, RunRequest, WireError};

/// Exports the C entry points of a plugin library made of the listed stages, and a
/// `pub fn tmu_plugin() -> &'static tmu_plugin::Plugin` for in-process use (tests, the rlib form).
///
/// ```text
/// tmu_plugin::export_plugin!(DistanceFeature, AdversarialFeature);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($($stage:ty),+ $(,)?) => {
        /// This library's stages, for in-process use.
        pub fn tmu_plugin() -> &'static $crate::Plugin {
            static PLUGIN: ::std::sync::OnceLock<$crate::Plugin> = ::std::sync::OnceLock::new();
            PLUGIN.get_or_init(|| {
                $crate::Plugin::new(
                    env!("CARGO_PKG_NAME"),
                    env!("CARGO_PKG_VERSION"),
                    vec![$($crate::plugin::entry::<$stage>()),+],
                )
            })
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn tmu_plugin_abi_version() -> u32 {
            $crate::abi::ABI_VERSION
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn tmu_plugin_sdk_version() -> *const ::std::ffi::c_char {
            $crate::abi::SDK_VERSION_CSTR.as_ptr()
        }

        /// # Safety
        /// `out` must point to a writable `Buffer`.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn tmu_plugin_describe(out: *mut $crate::abi::Buffer) -> i32 {
            // SAFETY: forwarded from our caller's contract.
            unsafe { $crate::export::describe_entry(tmu_plugin, out) }
        }

        /// # Safety
        /// `kind`/`request` must point to `*_len` readable bytes, `host` to a live callback table
        /// for the duration of the call, `out` to a writable `Buffer`.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn tmu_plugin_run(
            kind: *const u8,
            kind_len: usize,
            request: *const u8,
            request_len: usize,
            host: *const $crate::abi::HostCallbacks,
            out: *mut $crate::abi::Buffer,
        ) -> i32 {
            // SAFETY: forwarded from our caller's contract.
            unsafe { $crate::export::run_entry(tmu_plugin, kind, kind_len, request, request_len, host, out) }
        }
    };
}

fn write_out(out: *mut Buffer, status: i32, bytes: Vec<u8>) -> i32 {
    if out.is_null() {
        return STATUS_ERROR;
    }
    // SAFETY: the caller guarantees `out` points to a writable Buffer; we overwrite it whole.
    unsafe { out.write(Buffer::from_vec(bytes)) };
    status
}

fn write_error(out: *mut Buffer, err: &WireError) -> i32 {
    let bytes =
        serde_json::to_vec(err).unwrap_or_else(|_| br#"{"kind":"failed","message":"unserialisable error"}"#.to_vec());
    write_out(out, STATUS_ERROR, bytes)
}

/// Body of `tmu_plugin_describe`.
///
/// # Safety
/// `out` must point to a writable [`Buffer`].
pub unsafe fn describe_entry(plugin: fn() -> &'static Plugin, out: *mut Buffer) -> i32 {
    match catch_unwind(|| serde_json::to_vec(&plugin().describe())) {
        Ok(Ok(bytes)) => write_out(out, STATUS_OK, bytes),
        Ok(Err(e)) => {
            write_error(out, &WireError::new(ErrorKind::Request, format!("cannot serialise description: {e}")))
        }
        Err(_) => write_error(out, &WireError::new(ErrorKind::Panic, "the plugin panicked while describing itself")),
    }
}

/// Body of `tmu_plugin_run`.
///
/// # Safety
/// See the generated `tmu_plugin_run`.
pub unsafe fn run_entry(
    plugin: fn() -> &'static Plugin,
    kind: *const u8,
    kind_len: usize,
    request: *const u8,
    request_len: usize,
    host: *const HostCallbacks,
    out: *mut Buffer,
) -> i32 {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if kind.is_null() || request.is_null() || host.is_null() {
            return Err(WireError::new(ErrorKind::Request, "null pointer passed to tmu_plugin_run"));
        }
        // SAFETY: the caller guarantees both ranges are readable for the call's duration.
        let kind = unsafe { std::slice::from_raw_parts(kind, kind_len) };
        // SAFETY: as above.
        let request = unsafe { std::slice::from_raw_parts(request, request_len) };
        let kind =
            std::str::from_utf8(kind).map_err(|_| WireError::new(ErrorKind::Request, "stage kind is not UTF-8"))?;
        let request: RunRequest = serde_json::from_slice(request)
            .map_err(|e| WireError::new(ErrorKind::Request, format!("malformed run request: {e}")))?;
        if request.kind != kind {
            return Err(WireError::new(
                ErrorKind::Request,
                format!("run request names kind `{}` but was sent to `{kind}`", request.kind),
            ));
        }
        // SAFETY: the caller keeps the callback table alive for the whole call.
        let host = CallbackHost { table: unsafe { &*host } };
        let response = plugin().run(&request, &host)?;
        serde_json::to_vec(&response)
            .map_err(|e| WireError::new(ErrorKind::Failed, format!("cannot serialise run response: {e}")))
    }));
    match outcome {
        Ok(Ok(bytes)) => write_out(out, STATUS_OK, bytes),
        Ok(Err(err)) => write_error(out, &err),
        Err(_) => write_error(out, &WireError::new(ErrorKind::Panic, "the plugin panicked outside any stage")),
    }
}

/// [`HostSink`] over the host's C callback table.
struct CallbackHost<'a> {
    table: &'a HostCallbacks,
}

impl HostSink for CallbackHost<'_> {
    fn progress(&self, done: u64, total: u64, message: &str) {
        // SAFETY: the table's functions accept any ctx it came with and a valid UTF-8 range.
        unsafe { (self.table.progress)(self.table.ctx, done, total, message.as_ptr(), message.len()) }
    }

    fn log(&self, level: LogLevel, message: &str) {
        // SAFETY: as above.
        unsafe { (self.table.log)(self.table.ctx, level.to_abi(), message.as_ptr(), message.len()) }
    }

    fn is_cancelled(&self) -> bool {
        // SAFETY: as above.
        unsafe { (self.table.is_cancelled)(self.table.ctx) != 0 }
    }
}
