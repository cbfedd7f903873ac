//! Socket exports: creation, options, endpoints, sending and receiving.

use std::ffi::{c_char, c_int, c_void, CStr};

use zmq_core::{Error, Msg, Result, SockOpt};

use crate::abi::{self, iovec, zmq_msg_t};
use crate::boundary::boundary;
use crate::handle;
use crate::msg::msg_mut;

/// libzmq's number for a socket option.
fn sockopt(option: c_int) -> Result<SockOpt> {
    Ok(match option {
        abi::ZMQ_AFFINITY => SockOpt::Affinity,
        abi::ZMQ_ROUTING_ID => SockOpt::RoutingId,
        abi::ZMQ_SUBSCRIBE => SockOpt::Subscribe,
        abi::ZMQ_UNSUBSCRIBE => SockOpt::Unsubscribe,
        abi::ZMQ_RATE => SockOpt::Rate,
        abi::ZMQ_RECOVERY_IVL => SockOpt::RecoveryIvl,
        abi::ZMQ_SNDBUF => SockOpt::SndBuf,
        abi::ZMQ_RCVBUF => SockOpt::RcvBuf,
        abi::ZMQ_RCVMORE => SockOpt::RcvMore,
        abi::ZMQ_FD => SockOpt::Fd,
        abi::ZMQ_EVENTS => SockOpt::Events,
        abi::ZMQ_TYPE => SockOpt::Type,
        abi::ZMQ_LINGER => SockOpt::Linger,
        abi::ZMQ_RECONNECT_IVL => SockOpt::ReconnectIvl,
        abi::ZMQ_BACKLOG => SockOpt::Backlog,
        abi::ZMQ_RECONNECT_IVL_MAX => SockOpt::ReconnectIvlMax,
        abi::ZMQ_MAXMSGSIZE => SockOpt::MaxMsgSize,
        abi::ZMQ_SNDHWM => SockOpt::SndHwm,
        abi::ZMQ_RCVHWM => SockOpt::RcvHwm,
        abi::ZMQ_MULTICAST_HOPS => SockOpt::MulticastHops,
        abi::ZMQ_RCVTIMEO => SockOpt::RcvTimeo,
        abi::ZMQ_SNDTIMEO => SockOpt::SndTimeo,
        abi::ZMQ_IPV4ONLY => SockOpt::Ipv4Only,
        abi::ZMQ_LAST_ENDPOINT => SockOpt::LastEndpoint,
        abi::ZMQ_ROUTER_MANDATORY => SockOpt::RouterMandatory,
        abi::ZMQ_TCP_KEEPALIVE => SockOpt::TcpKeepalive,
        abi::ZMQ_TCP_KEEPALIVE_CNT => SockOpt::TcpKeepaliveCnt,
        abi::ZMQ_TCP_KEEPALIVE_IDLE => SockOpt::TcpKeepaliveIdle,
        abi::ZMQ_TCP_KEEPALIVE_INTVL => SockOpt::TcpKeepaliveIntvl,
        abi::ZMQ_TCP_ACCEPT_FILTER => SockOpt::TcpAcceptFilter,
        abi::ZMQ_IMMEDIATE => SockOpt::Immediate,
        abi::ZMQ_XPUB_VERBOSE => SockOpt::XpubVerbose,
        abi::ZMQ_ROUTER_RAW => SockOpt::RouterRaw,
        abi::ZMQ_IPV6 => SockOpt::Ipv6,
        abi::ZMQ_MECHANISM => SockOpt::Mechanism,
        abi::ZMQ_PLAIN_SERVER => SockOpt::PlainServer,
        abi::ZMQ_PLAIN_USERNAME => SockOpt::PlainUsername,
        abi::ZMQ_PLAIN_PASSWORD => SockOpt::PlainPassword,
        abi::ZMQ_CURVE_SERVER => SockOpt::CurveServer,
        abi::ZMQ_CURVE_PUBLICKEY => SockOpt::CurvePublicKey,
        abi::ZMQ_CURVE_SECRETKEY => SockOpt::CurveSecretKey,
        abi::ZMQ_CURVE_SERVERKEY => SockOpt::CurveServerKey,
        abi::ZMQ_PROBE_ROUTER => SockOpt::ProbeRouter,
        abi::ZMQ_REQ_CORRELATE => SockOpt::ReqCorrelate,
        abi::ZMQ_REQ_RELAXED => SockOpt::ReqRelaxed,
        abi::ZMQ_CONFLATE => SockOpt::Conflate,
        abi::ZMQ_ZAP_DOMAIN => SockOpt::ZapDomain,
        abi::ZMQ_ROUTER_HANDOVER => SockOpt::RouterHandover,
        abi::ZMQ_TOS => SockOpt::Tos,
        abi::ZMQ_IPC_FILTER_PID => SockOpt::IpcFilterPid,
        abi::ZMQ_IPC_FILTER_UID => SockOpt::IpcFilterUid,
        abi::ZMQ_IPC_FILTER_GID => SockOpt::IpcFilterGid,
        abi::ZMQ_CONNECT_ROUTING_ID => SockOpt::ConnectRoutingId,
        abi::ZMQ_GSSAPI_SERVER => SockOpt::GssapiServer,
        abi::ZMQ_GSSAPI_PRINCIPAL => SockOpt::GssapiPrincipal,
        abi::ZMQ_GSSAPI_SERVICE_PRINCIPAL => SockOpt::GssapiServicePrincipal,
        abi::ZMQ_GSSAPI_PLAINTEXT => SockOpt::GssapiPlaintext,
        abi::ZMQ_HANDSHAKE_IVL => SockOpt::HandshakeIvl,
        abi::ZMQ_SOCKS_PROXY => SockOpt::SocksProxy,
        abi::ZMQ_XPUB_NODROP => SockOpt::XpubNodrop,
        abi::ZMQ_BLOCKY => SockOpt::Blocky,
        abi::ZMQ_XPUB_MANUAL => SockOpt::XpubManual,
        abi::ZMQ_XPUB_WELCOME_MSG => SockOpt::XpubWelcomeMsg,
        abi::ZMQ_STREAM_NOTIFY => SockOpt::StreamNotify,
        abi::ZMQ_INVERT_MATCHING => SockOpt::InvertMatching,
        abi::ZMQ_HEARTBEAT_IVL => SockOpt::HeartbeatIvl,
        abi::ZMQ_HEARTBEAT_TTL => SockOpt::HeartbeatTtl,
        abi::ZMQ_HEARTBEAT_TIMEOUT => SockOpt::HeartbeatTimeout,
        abi::ZMQ_XPUB_VERBOSER => SockOpt::XpubVerboser,
        abi::ZMQ_CONNECT_TIMEOUT => SockOpt::ConnectTimeout,
        abi::ZMQ_TCP_MAXRT => SockOpt::TcpMaxrt,
        abi::ZMQ_THREAD_SAFE => SockOpt::ThreadSafe,
        abi::ZMQ_MULTICAST_MAXTPDU => SockOpt::MulticastMaxtpdu,
        abi::ZMQ_VMCI_BUFFER_SIZE => SockOpt::VmciBufferSize,
        abi::ZMQ_VMCI_BUFFER_MIN_SIZE => SockOpt::VmciBufferMinSize,
        abi::ZMQ_VMCI_BUFFER_MAX_SIZE => SockOpt::VmciBufferMaxSize,
        abi::ZMQ_VMCI_CONNECT_TIMEOUT => SockOpt::VmciConnectTimeout,
        abi::ZMQ_USE_FD => SockOpt::UseFd,
        abi::ZMQ_GSSAPI_PRINCIPAL_NAMETYPE => SockOpt::GssapiPrincipalNametype,
        abi::ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE => SockOpt::GssapiServicePrincipalNametype,
        abi::ZMQ_BINDTODEVICE => SockOpt::BindToDevice,
        #[cfg(feature = "draft")]
        abi::ZMQ_ZAP_ENFORCE_DOMAIN => SockOpt::ZapEnforceDomain,
        #[cfg(feature = "draft")]
        abi::ZMQ_LOOPBACK_FASTPATH => SockOpt::LoopbackFastpath,
        #[cfg(feature = "draft")]
        abi::ZMQ_METADATA => SockOpt::Metadata,
        #[cfg(feature = "draft")]
        abi::ZMQ_MULTICAST_LOOP => SockOpt::MulticastLoop,
        #[cfg(feature = "draft")]
        abi::ZMQ_ROUTER_NOTIFY => SockOpt::RouterNotify,
        #[cfg(feature = "draft")]
        abi::ZMQ_XPUB_MANUAL_LAST_VALUE => SockOpt::XpubManualLastValue,
        #[cfg(feature = "draft")]
        abi::ZMQ_SOCKS_USERNAME => SockOpt::SocksUsername,
        #[cfg(feature = "draft")]
        abi::ZMQ_SOCKS_PASSWORD => SockOpt::SocksPassword,
        #[cfg(feature = "draft")]
        #[cfg(feature = "draft")]
        #[cfg(feature = "draft")]
        abi::ZMQ_ONLY_FIRST_SUBSCRIBE => SockOpt::OnlyFirstSubscribe,
        #[cfg(feature = "draft")]
        abi::ZMQ_RECONNECT_STOP => SockOpt::ReconnectStop,
        #[cfg(feature = "draft")]
        #[cfg(feature = "draft")]
        #[cfg(feature = "draft")]
        // Drafts newer than libzmq 4.3 (ZMQ_IN_BATCH_SIZE, ZMQ_OUT_BATCH_SIZE,
        // ZMQ_HELLO_MSG, ZMQ_DISCONNECT_MSG, ZMQ_PRIORITY) are unknown there,
        // as here.
        _ => return Err(Error::Invalid),
    })
}

/// A NUL-terminated endpoint string, or `EINVAL`.
unsafe fn endpoint<'a>(addr: *const c_char) -> Result<&'a str> {
    if addr.is_null() {
        return Err(Error::Invalid);
    }
    // SAFETY: the caller passes a NUL-terminated string.
    unsafe { CStr::from_ptr(addr) }
        .to_str()
        .map_err(|_| Error::Invalid)
}

/// Creates a socket of type `type_` in a context.
///
/// Errors: `EFAULT` (not a context), `EINVAL` (unknown type), `ETERM`
/// (context terminating), `EMFILE` (`ZMQ_MAX_SOCKETS` reached).
#[no_mangle]
pub extern "C" fn zmq_socket(context_: *mut c_void, type_: c_int) -> *mut c_void {
    boundary(|| {
        let ctx = handle::ctx(context_)?;
        let socket = ctx.socket(type_)?;
        Ok(handle::new_socket(socket))
    })
}

/// Closes a socket.
///
/// Errors: `ENOTSOCK` (not a live socket).
#[no_mangle]
pub extern "C" fn zmq_close(s_: *mut c_void) -> c_int {
    boundary(|| {
        handle::take_socket(s_)?.close();
        Ok(0)
    })
}

/// Sets a socket option.
///
/// Errors: `ENOTSOCK`, `EINVAL` (unknown option, bad value or size), `ETERM`.
///
/// # Safety
/// `optval_` must be readable for `optvallen_` bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_setsockopt(
    s_: *mut c_void,
    option_: c_int,
    optval_: *const c_void,
    optvallen_: usize,
) -> c_int {
    boundary(|| {
        let socket = handle::socket(s_)?;
        let option = sockopt(option_)?;
        let value = if optvallen_ == 0 {
            if !optval_.is_null() && option.clears_only_with_null() {
                return Err(Error::Invalid);
            }
            &[][..]
        } else if optval_.is_null() {
            return Err(Error::Invalid);
        } else {
            // SAFETY: per this function's contract.
            unsafe { std::slice::from_raw_parts(optval_ as *const u8, optvallen_) }
        };
        socket.setsockopt(option, value)?;
        Ok(0)
    })
}

/// Reads a socket option; `*optvallen_` is the buffer size on entry and the
/// value's size on return.
///
/// Errors: `ENOTSOCK`, `EINVAL` (unknown option, buffer of the wrong size), `ETERM`.
///
/// # Safety
/// `optvallen_` must point to the size of the writable buffer `optval_`.
#[no_mangle]
pub unsafe extern "C" fn zmq_getsockopt(
    s_: *mut c_void,
    option_: c_int,
    optval_: *mut c_void,
    optvallen_: *mut usize,
) -> c_int {
    boundary(|| {
        let socket = handle::socket(s_)?;
        let option = sockopt(option_)?;
        if optvallen_.is_null() || optval_.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: per this function's contract.
        let out = unsafe { std::slice::from_raw_parts_mut(optval_ as *mut u8, *optvallen_) };
        let len = socket.getsockopt(option, out)?;
        // SAFETY: per this function's contract.
        unsafe { *optvallen_ = len };
        Ok(0)
    })
}

/// Runs an endpoint call with the endpoint string checked.
fn endpoint_call(
    s: *mut c_void,
    addr: *const c_char,
    call: impl FnOnce(&mut zmq_core::Socket, &str) -> Result<()>,
) -> Result<c_int> {
    let socket = handle::socket(s)?;
    // SAFETY: the application passes a NUL-terminated string (or NULL).
    let addr = unsafe { endpoint(addr) }?;
    call(socket, addr)?;
    Ok(0)
}

/// Binds the socket to an endpoint.
///
/// Errors: `ENOTSOCK`, `EINVAL` (malformed endpoint), `EPROTONOSUPPORT`
/// (transport not available), `EADDRINUSE`, `ETERM`.
#[no_mangle]
pub extern "C" fn zmq_bind(s_: *mut c_void, addr_: *const c_char) -> c_int {
    boundary(|| endpoint_call(s_, addr_, |s, a| s.bind(a)))
}

/// Connects the socket to an endpoint.
///
/// Errors: `ENOTSOCK`, `EINVAL`, `EPROTONOSUPPORT`, `ETERM`.
#[no_mangle]
pub extern "C" fn zmq_connect(s_: *mut c_void, addr_: *const c_char) -> c_int {
    boundary(|| endpoint_call(s_, addr_, |s, a| s.connect(a)))
}

/// Stops listening on an endpoint.
///
/// Errors: `ENOTSOCK`, `EINVAL`, `ENOENT` (not bound), `ETERM`.
#[no_mangle]
pub extern "C" fn zmq_unbind(s_: *mut c_void, addr_: *const c_char) -> c_int {
    boundary(|| endpoint_call(s_, addr_, |s, a| s.unbind(a)))
}

/// Disconnects from an endpoint.
///
/// Errors: `ENOTSOCK`, `EINVAL`, `ENOENT` (not connected), `ETERM`.
#[no_mangle]
pub extern "C" fn zmq_disconnect(s_: *mut c_void, addr_: *const c_char) -> c_int {
    boundary(|| endpoint_call(s_, addr_, |s, a| s.disconnect(a)))
}

/// A message size as the send/recv calls report it (capped at `INT_MAX`).
fn size_result(size: usize) -> c_int {
    size.min(c_int::MAX as usize) as c_int
}

/// Sends a message and reports its size; on failure the message is kept.
fn send_msg(socket: &mut zmq_core::Socket, msg: &mut Msg, flags: c_int) -> Result<c_int> {
    let size = msg.size();
    socket.send(msg, flags)?;
    Ok(size_result(size))
}

/// Sends a frame copied from `buf_`.
///
/// Errors: `ENOTSOCK`, `EFAULT` (NULL buffer with a length), `EAGAIN`,
/// `ENOTSUP` (the type cannot send), `EFSM`, `EHOSTUNREACH`, `ETERM`, `EINTR`.
///
/// # Safety
/// `buf_` must be readable for `len_` bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_send(
    s_: *mut c_void,
    buf_: *const c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let socket = handle::socket(s_)?;
        if buf_.is_null() && len_ != 0 {
            return Err(Error::Fault);
        }
        let mut msg = if len_ == 0 {
            Msg::new()
        } else {
            // SAFETY: per this function's contract.
            Msg::from_slice(unsafe { std::slice::from_raw_parts(buf_ as *const u8, len_) })?
        };
        send_msg(socket, &mut msg, flags_)
    })
}

/// Sends a frame over constant memory, without copying.
///
/// Errors: as `zmq_send`.
///
/// # Safety
/// `buf_` must stay valid and unchanged until the message is delivered.
#[no_mangle]
pub unsafe extern "C" fn zmq_send_const(
    s_: *mut c_void,
    buf_: *const c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let socket = handle::socket(s_)?;
        if buf_.is_null() && len_ != 0 {
            return Err(Error::Fault);
        }
        // SAFETY: per this function's contract.
        let mut msg = unsafe { Msg::from_static(buf_ as *const u8, len_) };
        send_msg(socket, &mut msg, flags_)
    })
}

/// Receives a frame into `buf_`: copies at most `len_` bytes and returns the
/// frame's full size (a longer frame is truncated).
///
/// Errors: `ENOTSOCK`, `EFAULT` (NULL buffer with a length), `EAGAIN`,
/// `ENOTSUP`, `EFSM`, `ETERM`, `EINTR`.
///
/// # Safety
/// `buf_` must be writable for `len_` bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_recv(
    s_: *mut c_void,
    buf_: *mut c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let socket = handle::socket(s_)?;
        if buf_.is_null() && len_ != 0 {
            return Err(Error::Fault);
        }
        let mut msg = Msg::new();
        socket.recv(&mut msg, flags_)?;
        let n = msg.size().min(len_);
        if n > 0 {
            // SAFETY: per this function's contract; `n <= len_`.
            unsafe { std::ptr::copy_nonoverlapping(msg.data().as_ptr(), buf_ as *mut u8, n) };
        }
        Ok(size_result(msg.size()))
    })
}

/// Sends a message frame; on success the message is left empty.
///
/// Errors: as `zmq_send`; `EFAULT` (not a message).
#[no_mangle]
pub extern "C" fn zmq_msg_send(msg_: *mut zmq_msg_t, s_: *mut c_void, flags_: c_int) -> c_int {
    boundary(|| send_msg(handle::socket(s_)?, msg_mut(msg_)?, flags_))
}

/// Receives a message frame into `msg_` (its old content is released).
///
/// Errors: as `zmq_recv`; `EFAULT` (not a message).
#[no_mangle]
pub extern "C" fn zmq_msg_recv(msg_: *mut zmq_msg_t, s_: *mut c_void, flags_: c_int) -> c_int {
    boundary(|| recv_msg(s_, msg_, flags_))
}

fn recv_msg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> Result<c_int> {
    let socket = handle::socket(s)?;
    let msg = msg_mut(msg)?;
    socket.recv(msg, flags)?;
    Ok(size_result(msg.size()))
}

/// Legacy form of `zmq_msg_send`.
#[no_mangle]
pub extern "C" fn zmq_sendmsg(s_: *mut c_void, msg_: *mut zmq_msg_t, flags_: c_int) -> c_int {
    boundary(|| send_msg(handle::socket(s_)?, msg_mut(msg_)?, flags_))
}

/// Legacy form of `zmq_msg_recv`.
#[no_mangle]
pub extern "C" fn zmq_recvmsg(s_: *mut c_void, msg_: *mut zmq_msg_t, flags_: c_int) -> c_int {
    boundary(|| recv_msg(s_, msg_, flags_))
}

/// Sends `count_` buffers, each a frame sent with `flags_` (so pass
/// `ZMQ_SNDMORE` for a multipart message; the last frame drops it).
///
/// Errors: `ENOTSOCK`, `EINVAL` (no buffers), and as `zmq_send`.
///
/// # Safety
/// `iov_` must point to `count_` entries describing readable buffers.
#[no_mangle]
pub unsafe extern "C" fn zmq_sendiov(
    s_: *mut c_void,
    iov_: *mut iovec,
    count_: usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let socket = handle::socket(s_)?;
        if count_ == 0 || iov_.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        let iov = unsafe { std::slice::from_raw_parts(iov_, count_) };
        let mut flags = flags_;
        let mut rc = 0;
        for (i, v) in iov.iter().enumerate() {
            if v.iov_base.is_null() && v.iov_len != 0 {
                return Err(Error::Fault);
            }
            let mut msg = if v.iov_len == 0 {
                Msg::new()
            } else {
                // SAFETY: per this function's contract.
                Msg::from_slice(unsafe {
                    std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len)
                })?
            };
            if i == count_ - 1 {
                flags &= !abi::ZMQ_SNDMORE;
            }
            rc = send_msg(socket, &mut msg, flags)?;
        }
        Ok(rc)
    })
}

/// Receives up to `*count_` frames of a multipart message into buffers it
/// allocates with `malloc` (the caller frees them); `*count_` becomes the
/// number received.
///
/// Errors: `ENOTSOCK`, `EINVAL` (no buffers), `ENOMEM`, and as `zmq_recv`.
///
/// # Safety
/// `count_` must point to the number of writable entries at `iov_`.
#[no_mangle]
pub unsafe extern "C" fn zmq_recviov(
    s_: *mut c_void,
    iov_: *mut iovec,
    count_: *mut usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let socket = handle::socket(s_)?;
        // SAFETY: a non-NULL count points to the number of buffers.
        if iov_.is_null() || count_.is_null() || unsafe { *count_ } == 0 {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        let (count, iov) = unsafe {
            let count = *count_;
            *count_ = 0;
            (count, std::slice::from_raw_parts_mut(iov_, count))
        };
        let mut nread = 0;
        for slot in iov.iter_mut().take(count) {
            let mut msg = Msg::new();
            socket.recv(&mut msg, flags_)?;
            let len = msg.size();
            // SAFETY: malloc of at least one byte; the caller frees it.
            let buf = unsafe { libc::malloc(len.max(1)) } as *mut u8;
            if buf.is_null() {
                return Err(Error::NoMemory);
            }
            // SAFETY: `buf` holds `len` bytes.
            unsafe { std::ptr::copy_nonoverlapping(msg.data().as_ptr(), buf, len) };
            slot.iov_base = buf as *mut c_void;
            slot.iov_len = len;
            // SAFETY: per this function's contract.
            unsafe { *count_ += 1 };
            nread += 1;
            if !msg.more() {
                break;
            }
        }
        Ok(nread)
    })
}

/// Starts publishing the socket's events on an inproc PAIR endpoint (NULL
/// stops it, with a `ZMQ_EVENT_MONITOR_STOPPED` event).
///
/// Errors: `ENOTSOCK`, `ETERM`, `EINVAL` (malformed endpoint),
/// `EPROTONOSUPPORT` (not inproc), `EADDRINUSE`.
#[no_mangle]
pub extern "C" fn zmq_socket_monitor(
    s_: *mut c_void,
    addr_: *const c_char,
    events_: c_int,
) -> c_int {
    boundary(|| monitor(s_, addr_, events_ as i64 as u64, 1, abi::ZMQ_PAIR))
}

/// `zmq_socket_monitor` and its versioned form.
pub(crate) fn monitor(
    s: *mut c_void,
    addr: *const c_char,
    events: u64,
    version: c_int,
    ty: c_int,
) -> Result<c_int> {
    let socket = handle::socket(s)?;
    let addr = if addr.is_null() {
        None
    } else {
        // SAFETY: the application passes a NUL-terminated string.
        Some(unsafe { endpoint(addr) }?)
    };
    socket.monitor(addr, events, version, ty)?;
    Ok(0)
}
