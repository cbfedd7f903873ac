//! Devices: `zmq_proxy`, `zmq_proxy_steerable`, `zmq_device`.
//!
//! The steerable proxy's control socket (PAUSE/RESUME/TERMINATE/STATISTICS)
//! arrives with the devices milestone.

use std::ffi::{c_int, c_void};

use zmq_core::{Error, Result};

use crate::boundary::boundary;
use crate::handle;

/// Runs a proxy between the sockets behind the handles (libzmq's checks:
/// NULL frontend or backend is `EFAULT`).
fn run(frontend: *mut c_void, backend: *mut c_void, capture: *mut c_void) -> Result<c_int> {
    if frontend.is_null() || backend.is_null() {
        return Err(Error::Fault);
    }
    let capture = if capture.is_null() {
        None
    } else {
        Some(handle::socket(capture)?)
    };
    if frontend == backend {
        zmq_core::proxy::proxy_self(handle::socket(frontend)?, capture)?;
    } else {
        let f = handle::socket(frontend)?;
        let b = handle::socket(backend)?;
        zmq_core::proxy::proxy(f, b, capture)?;
    }
    // The proxy only ever ends with an error.
    Err(Error::Term)
}

/// Forwards messages between two sockets, copying them to `capture_`, until
/// the context terminates.
///
/// Errors: `EFAULT` (NULL frontend or backend), `ENOTSOCK`, `ETERM` (the
/// normal end), `EINTR`.
#[no_mangle]
pub extern "C" fn zmq_proxy(
    frontend_: *mut c_void,
    backend_: *mut c_void,
    capture_: *mut c_void,
) -> c_int {
    boundary(|| run(frontend_, backend_, capture_))
}

/// `zmq_proxy` controlled by PAIR commands on `control_` (not yet: with a
/// control socket this fails with `ENOTSUP`).
///
/// Errors: as `zmq_proxy`; `ENOTSUP` with a control socket.
#[no_mangle]
pub extern "C" fn zmq_proxy_steerable(
    frontend_: *mut c_void,
    backend_: *mut c_void,
    capture_: *mut c_void,
    control_: *mut c_void,
) -> c_int {
    boundary(|| {
        if frontend_.is_null() || backend_.is_null() {
            return Err(Error::Fault);
        }
        if !control_.is_null() {
            handle::socket(control_)?;
            return Err(Error::NotSupported);
        }
        run(frontend_, backend_, capture_)
    })
}

/// Legacy device: QUEUE, FORWARDER or STREAMER, all run as `zmq_proxy` (libzmq
/// ignores the type).
///
/// Errors: as `zmq_proxy`.
#[no_mangle]
pub extern "C" fn zmq_device(type_: c_int, frontend_: *mut c_void, backend_: *mut c_void) -> c_int {
    boundary(|| {
        let _ = type_;
        run(frontend_, backend_, std::ptr::null_mut())
    })
}
