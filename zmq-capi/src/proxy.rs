//! Devices: `zmq_proxy`, `zmq_proxy_steerable`, `zmq_device`.

use std::ffi::{c_int, c_void};

use zmq_core::{Error, Result};

use crate::boundary::boundary;
use crate::handle;

/// Runs a proxy between the sockets behind the handles (libzmq's checks:
/// NULL frontend or backend is `EFAULT`). Returns 0 after `TERMINATE`.
fn run(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> Result<c_int> {
    if frontend.is_null() || backend.is_null() {
        return Err(Error::Fault);
    }
    let optional = |h: *mut c_void| -> Result<Option<&mut zmq_core::Socket>> {
        if h.is_null() {
            Ok(None)
        } else {
            handle::socket(h).map(Some)
        }
    };
    let sockets = zmq_core::proxy::Sockets {
        frontend: handle::socket(frontend)?,
        backend: if frontend == backend {
            None
        } else {
            Some(handle::socket(backend)?)
        },
        capture: optional(capture)?,
        control: optional(control)?,
    };
    zmq_core::proxy::run(sockets)?;
    Ok(0)
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
    boundary(|| run(frontend_, backend_, capture_, std::ptr::null_mut()))
}

/// `zmq_proxy` steered by commands on `control_` (PAUSE, RESUME, TERMINATE,
/// STATISTICS); returns 0 after TERMINATE.
///
/// Errors: as `zmq_proxy`.
#[no_mangle]
pub extern "C" fn zmq_proxy_steerable(
    frontend_: *mut c_void,
    backend_: *mut c_void,
    capture_: *mut c_void,
    control_: *mut c_void,
) -> c_int {
    boundary(|| run(frontend_, backend_, capture_, control_))
}

/// Legacy device: QUEUE, FORWARDER or STREAMER, all run as `zmq_proxy` (libzmq
/// ignores the type).
///
/// Errors: as `zmq_proxy`.
#[no_mangle]
pub extern "C" fn zmq_device(type_: c_int, frontend_: *mut c_void, backend_: *mut c_void) -> c_int {
    boundary(|| {
        let _ = type_;
        run(
            frontend_,
            backend_,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    })
}
