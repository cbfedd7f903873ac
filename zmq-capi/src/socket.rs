//! Socket exports: creation, options, endpoints, sending and receiving.
//!
//! The messaging engine arrives with the next milestone: until then the calls
//! that need it check their arguments exactly as libzmq does and then fail
//! with `ENOTSUP` (listed in the README's status table).

use std::ffi::{c_char, c_int, c_void, CStr};

use zmq_core::{Error, Result, SockOpt};

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
        abi::ZMQ_IN_BATCH_SIZE => SockOpt::InBatchSize,
        #[cfg(feature = "draft")]
        abi::ZMQ_OUT_BATCH_SIZE => SockOpt::OutBatchSize,
        #[cfg(feature = "draft")]
        abi::ZMQ_ONLY_FIRST_SUBSCRIBE => SockOpt::OnlyFirstSubscribe,
        #[cfg(feature = "draft")]
        abi::ZMQ_RECONNECT_STOP => SockOpt::ReconnectStop,
        #[cfg(feature = "draft")]
        abi::ZMQ_HELLO_MSG => SockOpt::HelloMsg,
        #[cfg(feature = "draft")]
        abi::ZMQ_DISCONNECT_MSG => SockOpt::DisconnectMsg,
        #[cfg(feature = "draft")]
        abi::ZMQ_PRIORITY => SockOpt::Priority,
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

/// The checks every endpoint call makes before the engine takes over.
fn endpoint_call(s: *mut c_void, addr: *const c_char) -> Result<c_int> {
    handle::socket(s)?;
    // SAFETY: the application passes a NUL-terminated string (or NULL).
    unsafe { endpoint(addr) }?;
    Err(Error::NotSupported)
}

/// Binds the socket to an endpoint.
///
/// Errors: `ENOTSOCK`, `EINVAL`; `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_bind(s_: *mut c_void, addr_: *const c_char) -> c_int {
    boundary(|| endpoint_call(s_, addr_))
}

/// Connects the socket to an endpoint.
///
/// Errors: `ENOTSOCK`, `EINVAL`; `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_connect(s_: *mut c_void, addr_: *const c_char) -> c_int {
    boundary(|| endpoint_call(s_, addr_))
}

/// Stops listening on an endpoint.
///
/// Errors: `ENOTSOCK`, `EINVAL`; `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_unbind(s_: *mut c_void, addr_: *const c_char) -> c_int {
    boundary(|| endpoint_call(s_, addr_))
}

/// Disconnects from an endpoint.
///
/// Errors: `ENOTSOCK`, `EINVAL`; `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_disconnect(s_: *mut c_void, addr_: *const c_char) -> c_int {
    boundary(|| endpoint_call(s_, addr_))
}

/// The checks every buffer send/receive makes before the engine takes over.
fn buffer_call(s: *mut c_void, buf: *const c_void, len: usize) -> Result<c_int> {
    handle::socket(s)?;
    if buf.is_null() && len != 0 {
        return Err(Error::Fault);
    }
    Err(Error::NotSupported)
}

/// Sends a frame copied from `buf_`.
///
/// Errors: `ENOTSOCK`, `EFAULT` (NULL buffer); `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_send(
    s_: *mut c_void,
    buf_: *const c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let _ = flags_;
        buffer_call(s_, buf_, len_)
    })
}

/// Sends a frame over constant memory, without copying.
///
/// Errors: `ENOTSOCK`, `EFAULT` (NULL buffer); `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_send_const(
    s_: *mut c_void,
    buf_: *const c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let _ = flags_;
        buffer_call(s_, buf_, len_)
    })
}

/// Receives a frame into `buf_` (truncated to `len_`).
///
/// Errors: `ENOTSOCK`, `EFAULT` (NULL buffer); `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_recv(
    s_: *mut c_void,
    buf_: *mut c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let _ = flags_;
        buffer_call(s_, buf_, len_)
    })
}

/// The checks every message send/receive makes before the engine takes over.
fn msg_call(s: *mut c_void, msg: *mut zmq_msg_t) -> Result<c_int> {
    handle::socket(s)?;
    msg_mut(msg)?;
    Err(Error::NotSupported)
}

/// Sends a message; on success the message is emptied.
///
/// Errors: `ENOTSOCK`, `EFAULT` (not a message); `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_msg_send(msg_: *mut zmq_msg_t, s_: *mut c_void, flags_: c_int) -> c_int {
    boundary(|| {
        let _ = flags_;
        msg_call(s_, msg_)
    })
}

/// Receives a message.
///
/// Errors: `ENOTSOCK`, `EFAULT` (not a message); `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_msg_recv(msg_: *mut zmq_msg_t, s_: *mut c_void, flags_: c_int) -> c_int {
    boundary(|| {
        let _ = flags_;
        msg_call(s_, msg_)
    })
}

/// Legacy form of `zmq_msg_send`.
#[no_mangle]
pub extern "C" fn zmq_sendmsg(s_: *mut c_void, msg_: *mut zmq_msg_t, flags_: c_int) -> c_int {
    boundary(|| {
        let _ = flags_;
        msg_call(s_, msg_)
    })
}

/// Legacy form of `zmq_msg_recv`.
#[no_mangle]
pub extern "C" fn zmq_recvmsg(s_: *mut c_void, msg_: *mut zmq_msg_t, flags_: c_int) -> c_int {
    boundary(|| {
        let _ = flags_;
        msg_call(s_, msg_)
    })
}

/// Sends `count_` buffers as one multipart message.
///
/// Errors: `ENOTSOCK`, `EINVAL` (no buffers); `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_sendiov(
    s_: *mut c_void,
    iov_: *mut iovec,
    count_: usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let _ = flags_;
        handle::socket(s_)?;
        if count_ == 0 || iov_.is_null() {
            return Err(Error::Invalid);
        }
        Err(Error::NotSupported)
    })
}

/// Receives up to `*count_` parts of a multipart message into new buffers.
///
/// Errors: `ENOTSOCK`, `EINVAL` (no buffers); `ENOTSUP` until the engine lands.
#[no_mangle]
pub extern "C" fn zmq_recviov(
    s_: *mut c_void,
    iov_: *mut iovec,
    count_: *mut usize,
    flags_: c_int,
) -> c_int {
    boundary(|| {
        let _ = flags_;
        handle::socket(s_)?;
        // SAFETY: a non-NULL count points to the number of buffers.
        if iov_.is_null() || count_.is_null() || unsafe { *count_ } == 0 {
            return Err(Error::Invalid);
        }
        Err(Error::NotSupported)
    })
}

/// Starts publishing the socket's events on an inproc PAIR endpoint.
///
/// Errors: `ENOTSOCK`; `ENOTSUP` until monitoring lands.
#[no_mangle]
pub extern "C" fn zmq_socket_monitor(
    s_: *mut c_void,
    addr_: *const c_char,
    events_: c_int,
) -> c_int {
    boundary(|| {
        let _ = (addr_, events_);
        handle::socket(s_)?;
        Err(Error::NotSupported)
    })
}
