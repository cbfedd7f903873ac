//! `zmq_poll` and the draft `zmq_poller_*` API.
//!
//! Sockets are polled through their `ZMQ_FD` and `ZMQ_EVENTS`, plain file
//! descriptors directly, all in one poll(2).

use std::ffi::{c_int, c_long, c_short, c_void};
use std::time::{Duration, Instant};

use zmq_core::{Error, Result};

use crate::abi::{self, zmq_fd_t, zmq_pollitem_t};
use crate::boundary::boundary;
use crate::handle;

/// Polls `items` for up to `timeout` ms (-1: forever); returns the number of
/// items with events. libzmq's algorithm (src/zmq.cpp): a first pass that
/// does not wait, then waits on the sockets' `ZMQ_FD`s and plain descriptors,
/// with each socket's readiness taken from `ZMQ_EVENTS` (which is exact).
fn poll(items: &mut [zmq_pollitem_t], timeout: c_long) -> Result<c_int> {
    let mut fds = Vec::with_capacity(items.len());
    for item in items.iter() {
        if !item.socket.is_null() {
            let socket = handle::socket(item.socket)?;
            fds.push(libc::pollfd {
                fd: socket.fd(),
                events: if item.events != 0 { libc::POLLIN } else { 0 },
                revents: 0,
            });
            continue;
        }
        let mut events = 0;
        if item.events & abi::ZMQ_POLLIN as c_short != 0 {
            events |= libc::POLLIN;
        }
        if item.events & abi::ZMQ_POLLOUT as c_short != 0 {
            events |= libc::POLLOUT;
        }
        if item.events & abi::ZMQ_POLLPRI as c_short != 0 {
            events |= libc::POLLPRI;
        }
        fds.push(libc::pollfd {
            fd: item.fd,
            events,
            revents: 0,
        });
    }
    let mut first_pass = true;
    let mut deadline: Option<Instant> = None;
    loop {
        let wait_ms: c_int = if first_pass {
            0
        } else if timeout < 0 {
            -1
        } else {
            let d = deadline.expect("set after the first pass");
            let left = d.saturating_duration_since(Instant::now());
            (left + Duration::from_nanos(999_999))
                .as_millis()
                .min(c_int::MAX as u128) as c_int
        };
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd entries.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
        if rc < 0 {
            return Err(Error::from(std::io::Error::last_os_error()));
        }
        let mut ready = 0;
        for (item, fd) in items.iter_mut().zip(&fds) {
            let mut revents: c_int = 0;
            if !item.socket.is_null() {
                let socket = handle::socket(item.socket)?;
                let events = socket.ready_events()?;
                let wanted = c_int::from(item.events);
                revents = events & wanted & (abi::ZMQ_POLLIN | abi::ZMQ_POLLOUT);
            } else {
                if fd.revents & libc::POLLIN != 0 {
                    revents |= abi::ZMQ_POLLIN;
                }
                if fd.revents & libc::POLLOUT != 0 {
                    revents |= abi::ZMQ_POLLOUT;
                }
                if fd.revents & libc::POLLPRI != 0 {
                    revents |= abi::ZMQ_POLLPRI;
                }
                if fd.revents & !(libc::POLLIN | libc::POLLOUT | libc::POLLPRI) != 0 {
                    revents |= abi::ZMQ_POLLERR;
                }
            }
            item.revents = revents as c_short;
            ready += (revents != 0) as c_int;
        }
        if timeout == 0 || ready > 0 {
            return Ok(ready);
        }
        if timeout < 0 {
            first_pass = false;
            continue;
        }
        if first_pass {
            deadline = Some(Instant::now() + Duration::from_millis(timeout as u64));
            first_pass = false;
            continue;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(0);
        }
    }
}

/// Waits for events on sockets and file descriptors.
///
/// Errors: `EINVAL` (negative count), `EFAULT` (NULL items), `ENOTSOCK`,
/// `EINTR` (a signal arrived), `ETERM`.
///
/// # Safety
/// `items_` must point to `nitems_` entries.
#[no_mangle]
pub unsafe extern "C" fn zmq_poll(
    items_: *mut zmq_pollitem_t,
    nitems_: c_int,
    timeout_: c_long,
) -> c_int {
    boundary(|| {
        if nitems_ < 0 {
            return Err(Error::Invalid);
        }
        if nitems_ == 0 {
            if timeout_ > 0 {
                std::thread::sleep(Duration::from_millis(timeout_ as u64));
            }
            return Ok(0);
        }
        if items_.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: per this function's contract.
        let items = unsafe { std::slice::from_raw_parts_mut(items_, nitems_ as usize) };
        poll(items, timeout_)
    })
}

/// Draft poller API: not available until the messaging engine lands, so no
/// poller handle can exist and every call on one is `EFAULT`.
#[cfg(feature = "draft")]
mod poller {
    use super::*;
    use crate::abi::zmq_poller_event_t;

    /// Creates a poller. Errors: `ENOTSUP` (not yet available).
    #[no_mangle]
    pub extern "C" fn zmq_poller_new() -> *mut c_void {
        boundary(|| Err(Error::NotSupported))
    }

    /// Destroys a poller. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_destroy(poller_p: *mut *mut c_void) -> c_int {
        boundary(|| {
            let _ = poller_p;
            Err(Error::Fault)
        })
    }

    /// Number of registered items. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_size(poller: *mut c_void) -> c_int {
        boundary(|| {
            let _ = poller;
            Err(Error::Fault)
        })
    }

    /// Registers a socket. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_add(
        poller: *mut c_void,
        socket: *mut c_void,
        user_data: *mut c_void,
        events: c_short,
    ) -> c_int {
        boundary(|| {
            let _ = (poller, socket, user_data, events);
            Err(Error::Fault)
        })
    }

    /// Changes a socket's events. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_modify(
        poller: *mut c_void,
        socket: *mut c_void,
        events: c_short,
    ) -> c_int {
        boundary(|| {
            let _ = (poller, socket, events);
            Err(Error::Fault)
        })
    }

    /// Unregisters a socket. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_remove(poller: *mut c_void, socket: *mut c_void) -> c_int {
        boundary(|| {
            let _ = (poller, socket);
            Err(Error::Fault)
        })
    }

    /// Waits for one event. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_wait(
        poller: *mut c_void,
        event: *mut zmq_poller_event_t,
        timeout: c_long,
    ) -> c_int {
        boundary(|| {
            let _ = (poller, event, timeout);
            Err(Error::Fault)
        })
    }

    /// Waits for events. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_wait_all(
        poller: *mut c_void,
        events: *mut zmq_poller_event_t,
        n_events: c_int,
        timeout: c_long,
    ) -> c_int {
        boundary(|| {
            let _ = (poller, events, n_events, timeout);
            Err(Error::Fault)
        })
    }

    /// The poller's own descriptor. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_fd(poller: *mut c_void, fd: *mut zmq_fd_t) -> c_int {
        boundary(|| {
            let _ = (poller, fd);
            Err(Error::Fault)
        })
    }

    /// Registers a file descriptor. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_add_fd(
        poller: *mut c_void,
        fd: zmq_fd_t,
        user_data: *mut c_void,
        events: c_short,
    ) -> c_int {
        boundary(|| {
            let _ = (poller, fd, user_data, events);
            Err(Error::Fault)
        })
    }

    /// Changes a descriptor's events. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_modify_fd(
        poller: *mut c_void,
        fd: zmq_fd_t,
        events: c_short,
    ) -> c_int {
        boundary(|| {
            let _ = (poller, fd, events);
            Err(Error::Fault)
        })
    }

    /// Unregisters a descriptor. Errors: `EFAULT` (not a poller).
    #[no_mangle]
    pub extern "C" fn zmq_poller_remove_fd(poller: *mut c_void, fd: zmq_fd_t) -> c_int {
        boundary(|| {
            let _ = (poller, fd);
            Err(Error::Fault)
        })
    }
}
