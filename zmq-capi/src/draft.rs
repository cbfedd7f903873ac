//! Draft socket calls (declared behind `ZMQ_BUILD_DRAFT_API`): groups, peer
//! connections, versioned monitoring. They belong to draft socket types and
//! to monitoring, which later milestones bring; until then they check the
//! socket and fail with `ENOTSUP`.

use std::ffi::{c_char, c_int, c_void};

use zmq_core::Error;

use crate::boundary::boundary;
use crate::handle;

/// Joins a group (DISH). Errors: `ENOTSOCK`; `ENOTSUP` (no DISH sockets yet).
#[no_mangle]
pub extern "C" fn zmq_join(s: *mut c_void, group: *const c_char) -> c_int {
    boundary(|| {
        let _ = group;
        handle::socket(s)?;
        Err(Error::NotSupported)
    })
}

/// Leaves a group (DISH). Errors: `ENOTSOCK`; `ENOTSUP` (no DISH sockets yet).
#[no_mangle]
pub extern "C" fn zmq_leave(s: *mut c_void, group: *const c_char) -> c_int {
    boundary(|| {
        let _ = group;
        handle::socket(s)?;
        Err(Error::NotSupported)
    })
}

/// Connects a PEER socket, returning the peer's routing id (0 on failure).
/// Errors: `ENOTSOCK`; `ENOTSUP` (no PEER sockets yet).
#[no_mangle]
pub extern "C" fn zmq_connect_peer(s_: *mut c_void, addr_: *const c_char) -> u32 {
    boundary(|| {
        let _ = addr_;
        handle::socket(s_)?;
        Err(Error::NotSupported)
    })
}

/// Whether a ROUTER peer can take a message.
/// Errors: `ENOTSOCK`; `ENOTSUP` until ROUTER sockets land.
#[no_mangle]
pub extern "C" fn zmq_socket_get_peer_state(
    socket: *mut c_void,
    routing_id: *const c_void,
    routing_id_size: usize,
) -> c_int {
    boundary(|| {
        let _ = (routing_id, routing_id_size);
        handle::socket(socket)?;
        Err(Error::NotSupported)
    })
}

/// Versioned socket monitoring: version 1 (two frames) or 2 (event, value
/// count, values, local and remote endpoint), on a PAIR, PUB or PUSH socket.
/// Errors: `ENOTSOCK`, `ETERM`, `EINVAL` (bad version or type, malformed
/// endpoint), `EPROTONOSUPPORT` (not inproc), `EADDRINUSE`.
#[no_mangle]
pub extern "C" fn zmq_socket_monitor_versioned(
    s_: *mut c_void,
    addr_: *const c_char,
    events_: u64,
    event_version_: c_int,
    type_: c_int,
) -> c_int {
    boundary(|| crate::socket::monitor(s_, addr_, events_, event_version_, type_))
}

/// Asks for pipe statistics events.
/// Errors: `ENOTSOCK`; `ENOTSUP` until monitoring lands.
#[no_mangle]
pub extern "C" fn zmq_socket_monitor_pipes_stats(s: *mut c_void) -> c_int {
    boundary(|| {
        handle::socket(s)?;
        Err(Error::NotSupported)
    })
}
