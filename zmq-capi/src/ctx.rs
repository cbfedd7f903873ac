//! Context exports: `zmq_ctx_*`, `zmq_init`, `zmq_term`.

use std::ffi::{c_int, c_void};

use zmq_core::{Ctx, CtxOption, Error, Result};

use crate::abi;
use crate::boundary::boundary;
use crate::handle;

/// libzmq's number for a context option.
fn ctx_option(option: c_int) -> Result<CtxOption> {
    Ok(match option {
        abi::ZMQ_IO_THREADS => CtxOption::IoThreads,
        abi::ZMQ_MAX_SOCKETS => CtxOption::MaxSockets,
        // ZMQ_SOCKET_LIMIT and ZMQ_THREAD_PRIORITY share the number 3: the
        // first is read-only, the second write-only, so the direction decides.
        abi::ZMQ_SOCKET_LIMIT => CtxOption::SocketLimit,
        abi::ZMQ_THREAD_SCHED_POLICY => CtxOption::ThreadSchedPolicy,
        abi::ZMQ_MAX_MSGSZ => CtxOption::MaxMsgSz,
        abi::ZMQ_MSG_T_SIZE => CtxOption::MsgTSize,
        abi::ZMQ_THREAD_AFFINITY_CPU_ADD => CtxOption::ThreadAffinityCpuAdd,
        abi::ZMQ_THREAD_AFFINITY_CPU_REMOVE => CtxOption::ThreadAffinityCpuRemove,
        abi::ZMQ_THREAD_NAME_PREFIX => CtxOption::ThreadNamePrefix,
        #[cfg(feature = "draft")]
        abi::ZMQ_ZERO_COPY_RECV => CtxOption::ZeroCopyRecv,
        abi::ZMQ_IPV6 => CtxOption::Ipv6,
        abi::ZMQ_BLOCKY => CtxOption::Blocky,
        _ => return Err(Error::Invalid),
    })
}

/// For `zmq_ctx_set`: option 3 is `ZMQ_THREAD_PRIORITY`.
fn ctx_set_option(option: c_int) -> Result<CtxOption> {
    match option {
        abi::ZMQ_THREAD_PRIORITY => Ok(CtxOption::ThreadPriority),
        other => ctx_option(other),
    }
}

/// Waits for the context's sockets to close, then retires the handle.
fn terminate(context: *mut c_void) -> Result<c_int> {
    handle::ctx(context)?.terminate()?;
    handle::drop_ctx(context);
    Ok(0)
}

/// Creates a context.
#[no_mangle]
pub extern "C" fn zmq_ctx_new() -> *mut c_void {
    boundary(|| Ok(handle::new_ctx(Ctx::new())))
}

/// Terminates a context: waits until all its sockets are closed, then frees it.
///
/// Errors: `EFAULT` (not a context), `EINTR` (interrupted; call again).
#[no_mangle]
pub extern "C" fn zmq_ctx_term(context_: *mut c_void) -> c_int {
    boundary(|| terminate(context_))
}

/// Shuts a context down without waiting: blocking calls end with `ETERM`.
///
/// Errors: `EFAULT` (not a context).
#[no_mangle]
pub extern "C" fn zmq_ctx_shutdown(context_: *mut c_void) -> c_int {
    boundary(|| {
        handle::ctx(context_)?.shutdown();
        Ok(0)
    })
}

/// Sets an integer context option.
///
/// Errors: `EFAULT` (not a context), `EINVAL` (unknown option or bad value).
#[no_mangle]
pub extern "C" fn zmq_ctx_set(context_: *mut c_void, option_: c_int, optval_: c_int) -> c_int {
    boundary(|| {
        let ctx = handle::ctx(context_)?;
        ctx.set(ctx_set_option(option_)?, optval_)?;
        Ok(0)
    })
}

/// Reads an integer context option.
///
/// Errors: `EFAULT` (not a context), `EINVAL` (unknown or write-only option).
#[no_mangle]
pub extern "C" fn zmq_ctx_get(context_: *mut c_void, option_: c_int) -> c_int {
    boundary(|| handle::ctx(context_)?.get(ctx_option(option_)?))
}

/// Sets a context option of any size (draft).
///
/// An `int`-sized value is an integer option; `ZMQ_THREAD_NAME_PREFIX` also
/// takes 1 to 16 bytes of text.
///
/// # Safety
/// `optval_` must be readable for `optvallen_` bytes.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_set_ext(
    context_: *mut c_void,
    option_: c_int,
    optval_: *const c_void,
    optvallen_: usize,
) -> c_int {
    boundary(|| {
        let ctx = handle::ctx(context_)?;
        let option = ctx_set_option(option_)?;
        if optval_.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        let value = unsafe { std::slice::from_raw_parts(optval_ as *const u8, optvallen_) };
        match zmq_core::options::int_value(value) {
            Some(int) => ctx.set(option, int)?,
            None => ctx.set_bytes(option, value)?,
        }
        Ok(0)
    })
}

/// Reads a context option of any size (draft).
///
/// # Safety
/// `optvallen_` must point to the size of the writable buffer `optval_`.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_get_ext(
    context_: *mut c_void,
    option_: c_int,
    optval_: *mut c_void,
    optvallen_: *mut usize,
) -> c_int {
    boundary(|| {
        let ctx = handle::ctx(context_)?;
        let option = ctx_option(option_)?;
        if optval_.is_null() || optvallen_.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        let len = unsafe { *optvallen_ };
        // SAFETY: per this function's contract.
        let out = unsafe { std::slice::from_raw_parts_mut(optval_ as *mut u8, len) };
        if len == std::mem::size_of::<c_int>() {
            out.copy_from_slice(&ctx.get(option)?.to_ne_bytes());
        } else {
            // libzmq copies the text without a NUL and leaves the length as is.
            let text = ctx.get_bytes(option)?;
            out.get_mut(..text.len())
                .ok_or(Error::Invalid)?
                .copy_from_slice(&text);
        }
        Ok(0)
    })
}

/// Legacy: a context with `io_threads_` I/O threads.
///
/// Errors: `EINVAL` (negative count).
#[no_mangle]
pub extern "C" fn zmq_init(io_threads_: c_int) -> *mut c_void {
    boundary(|| {
        if io_threads_ < 0 {
            return Err(Error::Invalid);
        }
        let ctx = Ctx::new();
        ctx.set(CtxOption::IoThreads, io_threads_)?;
        Ok(handle::new_ctx(ctx))
    })
}

/// Legacy name of `zmq_ctx_term`.
#[no_mangle]
pub extern "C" fn zmq_term(context_: *mut c_void) -> c_int {
    boundary(|| terminate(context_))
}

/// Legacy name of `zmq_ctx_term`.
#[no_mangle]
pub extern "C" fn zmq_ctx_destroy(context_: *mut c_void) -> c_int {
    boundary(|| terminate(context_))
}
