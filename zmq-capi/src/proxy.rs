//! Devices: `zmq_proxy`, `zmq_proxy_steerable`, `zmq_device`.
//!
//! They need the messaging engine; until it lands they check their handles as
//! libzmq does and fail with `ENOTSUP`.

use std::ffi::{c_int, c_void};

use zmq_core::{Error, Result};

use crate::boundary::boundary;
use crate::handle;

/// Checks the handles of a proxy: frontend and backend required (NULL is
/// `EFAULT`, as in libzmq), capture and control optional.
fn check(sockets: [*mut c_void; 2], optional: [*mut c_void; 2]) -> Result<c_int> {
    if sockets.iter().any(|s| s.is_null()) {
        return Err(Error::Fault);
    }
    for s in sockets {
        handle::socket(s)?;
    }
    for s in optional.into_iter().filter(|s| !s.is_null()) {
        handle::socket(s)?;
    }
    Err(Error::NotSupported)
}

/// Forwards messages between two sockets, copying them to `capture_`.
///
/// Errors: `EFAULT` (NULL frontend or backend), `ENOTSOCK` (bad socket);
/// `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_proxy(
    frontend_: *mut c_void,
    backend_: *mut c_void,
    capture_: *mut c_void,
) -> c_int {
    boundary(|| check([frontend_, backend_], [capture_, std::ptr::null_mut()]))
}

/// `zmq_proxy` controlled by PAUSE/RESUME/TERMINATE/STATISTICS on `control_`.
///
/// Errors: as `zmq_proxy`.
#[no_mangle]
pub extern "C" fn zmq_proxy_steerable(
    frontend_: *mut c_void,
    backend_: *mut c_void,
    capture_: *mut c_void,
    control_: *mut c_void,
) -> c_int {
    boundary(|| check([frontend_, backend_], [capture_, control_]))
}

/// Legacy device: QUEUE, FORWARDER or STREAMER, all run as `zmq_proxy` (libzmq
/// ignores the type).
///
/// Errors: as `zmq_proxy`.
#[no_mangle]
pub extern "C" fn zmq_device(type_: c_int, frontend_: *mut c_void, backend_: *mut c_void) -> c_int {
    boundary(|| {
        let _ = type_;
        check([frontend_, backend_], [std::ptr::null_mut(); 2])
    })
}
