//! The host side of the callback table: `extern "C"` trampolines into a [`HostSink`].

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use tmu_plugin::abi::HostCallbacks;
use tmu_plugin::{HostSink, LogLevel};

/// What `ctx` points to: a thin pointer to a fat one.
struct Ctx<'a> {
    sink: &'a (dyn HostSink + Sync),
}

/// Calls `f` with a callback table whose `ctx` points to `sink`; the table lives until `f` returns.
pub(crate) fn with_callbacks<R>(sink: &(dyn HostSink + Sync), f: impl FnOnce(&HostCallbacks) -> R) -> R {
    let ctx = Ctx { sink };
    let table = HostCallbacks {
        ctx: &ctx as *const Ctx<'_> as *mut c_void,
        progress: progress_cb,
        log: log_cb,
        is_cancelled: is_cancelled_cb,
    };
    f(&table)
}

/// # Safety
/// `ctx` must come from [`with_callbacks`] (still running); `msg` must point to `len` bytes.
unsafe fn parts<'a>(ctx: *mut c_void, msg: *const u8, len: usize) -> (&'a Ctx<'a>, String) {
    // SAFETY: per this function's contract, `ctx` points to a live `Ctx`.
    let ctx = unsafe { &*(ctx as *const Ctx<'a>) };
    let text = if msg.is_null() || len == 0 {
        String::new()
    } else {
        // SAFETY: per this function's contract, `msg` points to `len` readable bytes.
        String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(msg, len) }).into_owned()
    };
    (ctx, text)
}

unsafe extern "C" fn progress_cb(ctx: *mut c_void, done: u64, total: u64, msg: *const u8, len: usize) {
    // A panic must not unwind into the plugin's frames: catch and drop it.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes back the ctx of the table it was given and a valid range.
        let (ctx, text) = unsafe { parts(ctx, msg, len) };
        ctx.sink.progress(done, total, &text);
    }));
}

unsafe extern "C" fn log_cb(ctx: *mut c_void, level: u32, msg: *const u8, len: usize) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in `progress_cb`.
        let (ctx, text) = unsafe { parts(ctx, msg, len) };
        ctx.sink.log(LogLevel::from_abi(level), &text);
    }));
}

unsafe extern "C" fn is_cancelled_cb(ctx: *mut c_void) -> u8 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in `progress_cb`; no message.
        let (ctx, _) = unsafe { parts(ctx, std::ptr::null(), 0) };
        u8::from(ctx.sink.is_cancelled())
    }))
    .unwrap_or(1)
}
