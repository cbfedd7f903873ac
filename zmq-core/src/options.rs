//! Socket options: storage, defaults and validation.
//!
//! libzmq: src/options.cpp. Values travel as raw bytes, exactly as through
//! `zmq_setsockopt`/`zmq_getsockopt`, because libzmq's rules are about sizes:
//! an integer option needs exactly `sizeof(int)` bytes, a string option is
//! returned with its terminating NUL, a binary one without.

use crate::ctx::CtxOptions;
use crate::error::{Error, Result};
use crate::socket::SocketType;

/// Every socket option of `zmq_setsockopt(3)`/`zmq_getsockopt(3)` (libzmq 4.3,
/// stable and draft). The C boundary maps libzmq's numbers onto these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SockOpt {
    Affinity,
    RoutingId,
    Subscribe,
    Unsubscribe,
    Rate,
    RecoveryIvl,
    SndBuf,
    RcvBuf,
    RcvMore,
    Fd,
    Events,
    Type,
    Linger,
    ReconnectIvl,
    Backlog,
    ReconnectIvlMax,
    MaxMsgSize,
    SndHwm,
    RcvHwm,
    MulticastHops,
    RcvTimeo,
    SndTimeo,
    Ipv4Only,
    LastEndpoint,
    RouterMandatory,
    TcpKeepalive,
    TcpKeepaliveCnt,
    TcpKeepaliveIdle,
    TcpKeepaliveIntvl,
    TcpAcceptFilter,
    Immediate,
    XpubVerbose,
    RouterRaw,
    Ipv6,
    Mechanism,
    PlainServer,
    PlainUsername,
    PlainPassword,
    CurveServer,
    CurvePublicKey,
    CurveSecretKey,
    CurveServerKey,
    ProbeRouter,
    ReqCorrelate,
    ReqRelaxed,
    Conflate,
    ZapDomain,
    RouterHandover,
    Tos,
    IpcFilterPid,
    IpcFilterUid,
    IpcFilterGid,
    ConnectRoutingId,
    GssapiServer,
    GssapiPrincipal,
    GssapiServicePrincipal,
    GssapiPlaintext,
    HandshakeIvl,
    SocksProxy,
    XpubNodrop,
    Blocky,
    XpubManual,
    XpubWelcomeMsg,
    StreamNotify,
    InvertMatching,
    HeartbeatIvl,
    HeartbeatTtl,
    HeartbeatTimeout,
    XpubVerboser,
    ConnectTimeout,
    TcpMaxrt,
    ThreadSafe,
    MulticastMaxtpdu,
    VmciBufferSize,
    VmciBufferMinSize,
    VmciBufferMaxSize,
    VmciConnectTimeout,
    UseFd,
    GssapiPrincipalNametype,
    GssapiServicePrincipalNametype,
    BindToDevice,
    ZapEnforceDomain,
    LoopbackFastpath,
    Metadata,
    MulticastLoop,
    RouterNotify,
    XpubManualLastValue,
    SocksUsername,
    SocksPassword,
    InBatchSize,
    OutBatchSize,
    OnlyFirstSubscribe,
    ReconnectStop,
    HelloMsg,
    DisconnectMsg,
    Priority,
}

impl SockOpt {
    /// Options that a NULL value of length 0 clears, but for which a
    /// zero-length value from a non-NULL pointer is invalid (libzmq).
    pub fn clears_only_with_null(self) -> bool {
        matches!(
            self,
            SockOpt::TcpAcceptFilter
                | SockOpt::BindToDevice
                | SockOpt::SocksProxy
                | SockOpt::PlainUsername
                | SockOpt::PlainPassword
                | SockOpt::IpcFilterPid
                | SockOpt::IpcFilterUid
                | SockOpt::IpcFilterGid
        )
    }
}

/// The options of one socket, with libzmq's defaults.
#[derive(Clone, Debug)]
pub struct Options {
    pub socket_type: SocketType,
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub affinity: u64,
    pub routing_id: Vec<u8>,
    pub rate: i32,
    pub recovery_ivl: i32,
    pub multicast_hops: i32,
    pub sndbuf: i32,
    pub rcvbuf: i32,
    pub tos: i32,
    pub linger: i32,
    pub connect_timeout: i32,
    pub tcp_maxrt: i32,
    pub reconnect_ivl: i32,
    pub reconnect_ivl_max: i32,
    pub backlog: i32,
    pub maxmsgsize: i64,
    pub rcvtimeo: i32,
    pub sndtimeo: i32,
    pub ipv6: bool,
    pub immediate: bool,
    pub handshake_ivl: i32,
    pub heartbeat_ivl: i32,
    /// `ZMQ_STREAM_NOTIFY`: STREAM sockets get an empty message when a peer
    /// connects or disconnects.
    pub stream_notify: bool,
    /// `ZMQ_ROUTER_RAW` is on: connections carry raw bytes, as STREAM's.
    pub raw_socket: bool,
    pub heartbeat_ttl: i32,
    pub heartbeat_timeout: i32,
    /// The endpoint of the last bind or connect (`ZMQ_LAST_ENDPOINT`).
    pub last_endpoint: String,
    pub multicast_maxtpdu: i32,
    pub tcp_keepalive: i32,
    pub tcp_keepalive_cnt: i32,
    pub tcp_keepalive_idle: i32,
    pub tcp_keepalive_intvl: i32,
    pub conflate: bool,
    pub invert_matching: bool,
    pub use_fd: i32,
    /// Descriptors a listener already owns (`ZMQ_USE_FD`).
    pub use_fd_taken: Vec<i32>,
    pub bindtodevice: Vec<u8>,
    pub socks_proxy: Vec<u8>,
    pub socks_username: Vec<u8>,
    pub socks_password: Vec<u8>,
    pub zap_domain: Vec<u8>,
    pub zap_enforce_domain: bool,
    pub loopback_fastpath: bool,
    pub multicast_loop: bool,
    pub in_batch_size: i32,
    pub out_batch_size: i32,
    pub reconnect_stop: i32,
    pub priority: i32,
    pub hello_msg: Vec<u8>,
    pub disconnect_msg: Vec<u8>,
    /// `ZMQ_METADATA`: application properties sent in READY.
    pub app_metadata: Vec<(String, Vec<u8>)>,
    /// `ZMQ_TCP_ACCEPT_FILTER` (deprecated): accepted as libzmq does.
    pub tcp_accept_filters: Vec<Vec<u8>>,
    /// `ZMQ_IPC_FILTER_PID/UID/GID`: who may connect to an ipc listener.
    pub ipc_filter: IpcFilter,
    /// `ZMQ_MECHANISM`: what the last security option chose.
    pub mechanism: Mechanism,
    /// Whether this side is the security server (`ZMQ_PLAIN_SERVER`,
    /// `ZMQ_CURVE_SERVER`).
    pub as_server: bool,
    pub plain_username: Vec<u8>,
    pub plain_password: Vec<u8>,
    pub curve_public_key: [u8; 32],
    pub curve_secret_key: [u8; 32],
    pub curve_server_key: [u8; 32],
}

/// A ZMTP security mechanism (`ZMQ_MECHANISM`: `ZMQ_NULL` 0, `ZMQ_PLAIN` 1,
/// `ZMQ_CURVE` 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Null = 0,
    Plain = 1,
    Curve = 2,
}

/// The peers an ipc listener accepts (libzmq: `ipc_listener_t::filter`):
/// everyone while all three lists are empty; otherwise a peer whose pid, uid
/// or gid is listed, or whose user is a member of a listed group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpcFilter {
    pub pids: Vec<i32>,
    pub uids: Vec<u32>,
    pub gids: Vec<u32>,
}

impl IpcFilter {
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty() && self.uids.is_empty() && self.gids.is_empty()
    }

    /// Whether the peer of the unix socket `stream` may stay connected.
    pub fn allows(&self, stream: &impl std::os::fd::AsRawFd) -> bool {
        if self.is_empty() {
            return true;
        }
        let Ok((pid, uid, gid)) = crate::sys::peer_cred(stream) else {
            return false;
        };
        self.pids.contains(&pid)
            || self.uids.contains(&uid)
            || self.gids.contains(&gid)
            || self.gids.iter().any(|&g| crate::sys::user_in_group(uid, g))
    }
}

impl Options {
    /// Defaults for a new socket of type `ty` in a context with `ctx`.
    pub fn new(ty: SocketType, ctx: &CtxOptions) -> Options {
        Options {
            socket_type: ty,
            sndhwm: 1000,
            rcvhwm: 1000,
            affinity: 0,
            routing_id: Vec::new(),
            rate: 100,
            recovery_ivl: 10000,
            multicast_hops: 1,
            sndbuf: -1,
            rcvbuf: -1,
            tos: 0,
            // ZMQ_BLOCKY off makes new sockets linger 0 (zmq_ctx_set(3));
            // SUB and XSUB never wait to send pending subscriptions
            // (libzmq: src/xsub.cpp).
            linger: if !ctx.blocky || matches!(ty, SocketType::Sub | SocketType::XSub) {
                0
            } else {
                -1
            },
            connect_timeout: 0,
            tcp_maxrt: 0,
            reconnect_ivl: 100,
            reconnect_ivl_max: 0,
            backlog: 100,
            maxmsgsize: -1,
            rcvtimeo: -1,
            sndtimeo: -1,
            ipv6: ctx.ipv6,
            immediate: false,
            handshake_ivl: 30000,
            heartbeat_ivl: 0,
            stream_notify: true,
            raw_socket: false,
            heartbeat_ttl: 0,
            heartbeat_timeout: -1,
            last_endpoint: String::new(),
            multicast_maxtpdu: 1500,
            tcp_keepalive: -1,
            tcp_keepalive_cnt: -1,
            tcp_keepalive_idle: -1,
            tcp_keepalive_intvl: -1,
            conflate: false,
            invert_matching: false,
            use_fd: -1,
            use_fd_taken: Vec::new(),
            bindtodevice: Vec::new(),
            socks_proxy: Vec::new(),
            socks_username: Vec::new(),
            socks_password: Vec::new(),
            zap_domain: Vec::new(),
            zap_enforce_domain: false,
            loopback_fastpath: false,
            multicast_loop: true,
            in_batch_size: 8192,
            out_batch_size: 8192,
            reconnect_stop: 0,
            priority: 0,
            hello_msg: Vec::new(),
            disconnect_msg: Vec::new(),
            app_metadata: Vec::new(),
            tcp_accept_filters: Vec::new(),
            ipc_filter: IpcFilter::default(),
            mechanism: Mechanism::Null,
            as_server: false,
            plain_username: Vec::new(),
            plain_password: Vec::new(),
            curve_public_key: [0; 32],
            curve_secret_key: [0; 32],
            curve_server_key: [0; 32],
        }
    }

    /// Which directions of a connection's pipe keep only the newest message
    /// (`ZMQ_CONFLATE`, for the types libzmq applies it to): (outbound,
    /// inbound). Each type conflates the directions it uses for data, so a
    /// SUB's subscriptions are never conflated away.
    pub fn conflate_dirs(&self) -> (bool, bool) {
        use SocketType::*;
        if !self.conflate {
            return (false, false);
        }
        (
            matches!(self.socket_type, Push | Dealer | Pub),
            matches!(self.socket_type, Pull | Dealer | Sub),
        )
    }

    /// Sets an option (`zmq_setsockopt`).
    pub fn set(&mut self, option: SockOpt, value: &[u8]) -> Result<()> {
        let int = int_value(value);
        let at_least = |min: i32| int.filter(|&v| v >= min).ok_or(Error::Invalid);
        match option {
            SockOpt::SndHwm => self.sndhwm = at_least(0)?,
            SockOpt::RcvHwm => self.rcvhwm = at_least(0)?,
            SockOpt::Affinity => {
                self.affinity = u64::from_ne_bytes(value.try_into().map_err(|_| Error::Invalid)?)
            }
            SockOpt::RoutingId => {
                if value.is_empty() || value.len() > 255 {
                    return Err(Error::Invalid);
                }
                self.routing_id = value.to_vec();
            }
            SockOpt::Rate => self.rate = at_least(1)?,
            SockOpt::RecoveryIvl => self.recovery_ivl = at_least(0)?,
            SockOpt::SndBuf => self.sndbuf = at_least(-1)?,
            SockOpt::RcvBuf => self.rcvbuf = at_least(-1)?,
            SockOpt::Tos => self.tos = at_least(0)?,
            SockOpt::Linger => self.linger = at_least(-1)?,
            SockOpt::ConnectTimeout => self.connect_timeout = at_least(0)?,
            SockOpt::TcpMaxrt => self.tcp_maxrt = at_least(0)?,
            SockOpt::ReconnectIvl => self.reconnect_ivl = at_least(-1)?,
            SockOpt::ReconnectIvlMax => self.reconnect_ivl_max = at_least(0)?,
            SockOpt::Backlog => self.backlog = at_least(0)?,
            SockOpt::MaxMsgSize => {
                self.maxmsgsize = i64::from_ne_bytes(value.try_into().map_err(|_| Error::Invalid)?)
            }
            SockOpt::MulticastHops => self.multicast_hops = at_least(1)?,
            SockOpt::RcvTimeo => self.rcvtimeo = at_least(-1)?,
            SockOpt::SndTimeo => self.sndtimeo = at_least(-1)?,
            SockOpt::Ipv6 => self.ipv6 = strict_bool(int)?,
            SockOpt::Ipv4Only => self.ipv6 = !strict_bool(int)?,
            SockOpt::Immediate => self.immediate = strict_bool(int)?,
            SockOpt::HandshakeIvl => self.handshake_ivl = at_least(0)?,
            SockOpt::HeartbeatIvl => self.heartbeat_ivl = at_least(0)?,
            // Carried on the wire in deciseconds in a 16-bit field; libzmq
            // truncates towards zero, so -99..-1 mean 0.
            SockOpt::HeartbeatTtl => {
                let deci = int.ok_or(Error::Invalid)? / 100;
                if !(0..=i32::from(u16::MAX)).contains(&deci) {
                    return Err(Error::Invalid);
                }
                self.heartbeat_ttl = deci * 100;
            }
            SockOpt::HeartbeatTimeout => self.heartbeat_timeout = at_least(0)?,
            SockOpt::MulticastMaxtpdu => self.multicast_maxtpdu = at_least(1)?,
            SockOpt::TcpKeepalive => {
                self.tcp_keepalive = int.filter(|v| (-1..=1).contains(v)).ok_or(Error::Invalid)?
            }
            SockOpt::TcpKeepaliveCnt => self.tcp_keepalive_cnt = at_least(-1)?,
            SockOpt::TcpKeepaliveIdle => self.tcp_keepalive_idle = at_least(-1)?,
            SockOpt::TcpKeepaliveIntvl => self.tcp_keepalive_intvl = at_least(-1)?,
            SockOpt::Conflate => self.conflate = strict_bool(int)?,
            SockOpt::InvertMatching => self.invert_matching = relaxed_bool(int)?,
            // STREAM only; write-only (libzmq).
            SockOpt::StreamNotify if self.socket_type == SocketType::Stream => {
                self.stream_notify = strict_bool(int)?
            }
            // -1 (the default) means none; libzmq does not check the
            // descriptor until bind.
            SockOpt::UseFd => self.use_fd = at_least(-1)?,
            SockOpt::BindToDevice => self.bindtodevice = string_strict(value, 16)?,
            // "host:port" of a SOCKS5 proxy for tcp connects; empty for none.
            SockOpt::SocksProxy => self.socks_proxy = value.to_vec(),
            // The security options (libzmq: options.cpp): each one picks
            // the mechanism it belongs to.
            // Being the server picks the mechanism; 0 goes back to NULL.
            SockOpt::PlainServer | SockOpt::CurveServer => {
                self.as_server = strict_bool(int)?;
                self.mechanism = match (self.as_server, option) {
                    (false, _) => Mechanism::Null,
                    (true, SockOpt::PlainServer) => Mechanism::Plain,
                    (true, _) => Mechanism::Curve,
                };
            }
            SockOpt::PlainUsername | SockOpt::PlainPassword => {
                if value.is_empty() {
                    self.mechanism = Mechanism::Null;
                    return Ok(());
                }
                if value.len() > 255 {
                    return Err(Error::Invalid);
                }
                if option == SockOpt::PlainUsername {
                    self.plain_username = value.to_vec();
                } else {
                    self.plain_password = value.to_vec();
                }
                self.as_server = false;
                self.mechanism = Mechanism::Plain;
            }
            SockOpt::CurvePublicKey => self.curve_public_key = self.curve_key(value)?,
            SockOpt::CurveSecretKey => self.curve_secret_key = self.curve_key(value)?,
            SockOpt::CurveServerKey => {
                self.curve_server_key = self.curve_key(value)?;
                self.as_server = false;
            }
            // Each call adds one id; an empty value clears the list.
            SockOpt::IpcFilterPid => push_filter(&mut self.ipc_filter.pids, value)?,
            SockOpt::IpcFilterUid => push_filter(&mut self.ipc_filter.uids, value)?,
            SockOpt::IpcFilterGid => push_filter(&mut self.ipc_filter.gids, value)?,
            SockOpt::SocksUsername => self.socks_username = string_strict(value, 255)?,
            SockOpt::SocksPassword => self.socks_password = string_strict(value, 255)?,
            SockOpt::ZapDomain => {
                if value.is_empty() {
                    return Err(Error::Invalid);
                }
                self.zap_domain = string_strict(value, 255)?
            }
            SockOpt::ZapEnforceDomain => self.zap_enforce_domain = relaxed_bool(int)?,
            SockOpt::LoopbackFastpath => self.loopback_fastpath = relaxed_bool(int)?,
            SockOpt::MulticastLoop => self.multicast_loop = relaxed_bool(int)?,
            SockOpt::InBatchSize => self.in_batch_size = at_least(1)?,
            SockOpt::OutBatchSize => self.out_batch_size = at_least(1)?,
            SockOpt::ReconnectStop => self.reconnect_stop = int.ok_or(Error::Invalid)?,
            SockOpt::Priority => self.priority = at_least(0)?,
            SockOpt::HelloMsg | SockOpt::DisconnectMsg if !value.is_empty() => {
                return Err(Error::Invalid)
            }
            SockOpt::HelloMsg => self.hello_msg.clear(),
            SockOpt::DisconnectMsg => self.disconnect_msg.clear(),
            SockOpt::Metadata => {
                // "X-key:value", the key at most 255 bytes.
                let text = std::str::from_utf8(value).map_err(|_| Error::Invalid)?;
                let (key, val) = text.split_once(':').ok_or(Error::Invalid)?;
                if int.is_some()
                    || key.is_empty()
                    || val.is_empty()
                    || !key.starts_with("X-")
                    || key.len() > 255
                {
                    return Err(Error::Invalid);
                }
                self.app_metadata.retain(|(k, _)| k != key);
                self.app_metadata
                    .push((key.to_owned(), val.as_bytes().to_vec()));
            }
            SockOpt::TcpAcceptFilter => {
                let filter = string_strict(value, 255)?;
                if filter.is_empty() {
                    self.tcp_accept_filters.clear();
                } else {
                    std::str::from_utf8(&filter)
                        .ok()
                        .and_then(|f| f.split('/').next()?.parse::<std::net::IpAddr>().ok())
                        .ok_or(Error::Invalid)?;
                    self.tcp_accept_filters.push(filter);
                }
            }
            _ => return Err(Error::Invalid),
        }
        Ok(())
    }

    /// A CURVE key given as 32 bytes, or as 40 characters of Z85 (with or
    /// without a terminating NUL); a key chooses CURVE (libzmq's
    /// `set_curve_key`).
    fn curve_key(&mut self, value: &[u8]) -> Result<[u8; 32]> {
        let mut key = [0u8; 32];
        match value.len() {
            32 => key.copy_from_slice(value),
            40 => crate::z85::decode_into(value, &mut key)?,
            41 if value[40] == 0 => crate::z85::decode_into(&value[..40], &mut key)?,
            _ => return Err(Error::Invalid),
        }
        self.mechanism = Mechanism::Curve;
        Ok(key)
    }

    /// Reads an option into `out` (`zmq_getsockopt`); returns the value's length.
    pub fn get(&self, option: SockOpt, out: &mut [u8]) -> Result<usize> {
        let int = match option {
            SockOpt::SndHwm => self.sndhwm,
            SockOpt::RcvHwm => self.rcvhwm,
            SockOpt::Rate => self.rate,
            SockOpt::RecoveryIvl => self.recovery_ivl,
            SockOpt::SndBuf => self.sndbuf,
            SockOpt::RcvBuf => self.rcvbuf,
            SockOpt::Tos => self.tos,
            SockOpt::Linger => self.linger,
            SockOpt::ConnectTimeout => self.connect_timeout,
            SockOpt::TcpMaxrt => self.tcp_maxrt,
            SockOpt::ReconnectIvl => self.reconnect_ivl,
            SockOpt::ReconnectIvlMax => self.reconnect_ivl_max,
            SockOpt::Backlog => self.backlog,
            SockOpt::MulticastHops => self.multicast_hops,
            SockOpt::RcvTimeo => self.rcvtimeo,
            SockOpt::SndTimeo => self.sndtimeo,
            SockOpt::Ipv6 => self.ipv6 as i32,
            SockOpt::Ipv4Only => !self.ipv6 as i32,
            SockOpt::Immediate => self.immediate as i32,
            SockOpt::HandshakeIvl => self.handshake_ivl,
            SockOpt::HeartbeatIvl => self.heartbeat_ivl,
            SockOpt::HeartbeatTtl => self.heartbeat_ttl,
            SockOpt::HeartbeatTimeout => self.heartbeat_timeout,
            SockOpt::MulticastMaxtpdu => self.multicast_maxtpdu,
            SockOpt::TcpKeepalive => self.tcp_keepalive,
            SockOpt::TcpKeepaliveCnt => self.tcp_keepalive_cnt,
            SockOpt::TcpKeepaliveIdle => self.tcp_keepalive_idle,
            SockOpt::TcpKeepaliveIntvl => self.tcp_keepalive_intvl,
            SockOpt::Conflate => self.conflate as i32,
            SockOpt::InvertMatching => self.invert_matching as i32,
            SockOpt::UseFd => self.use_fd,
            SockOpt::ZapEnforceDomain => self.zap_enforce_domain as i32,
            SockOpt::LoopbackFastpath => self.loopback_fastpath as i32,
            SockOpt::MulticastLoop => self.multicast_loop as i32,
            SockOpt::InBatchSize => self.in_batch_size,
            SockOpt::OutBatchSize => self.out_batch_size,
            SockOpt::ReconnectStop => self.reconnect_stop,
            SockOpt::Priority => self.priority,
            SockOpt::Mechanism => self.mechanism as i32,
            SockOpt::PlainServer => (self.as_server && self.mechanism == Mechanism::Plain) as i32,
            SockOpt::CurveServer => (self.as_server && self.mechanism == Mechanism::Curve) as i32,
            SockOpt::PlainUsername => return put_string(out, &self.plain_username),
            SockOpt::PlainPassword => return put_string(out, &self.plain_password),
            SockOpt::CurvePublicKey => return put_curve_key(out, &self.curve_public_key),
            SockOpt::CurveSecretKey => return put_curve_key(out, &self.curve_secret_key),
            SockOpt::CurveServerKey => return put_curve_key(out, &self.curve_server_key),
            SockOpt::BindToDevice => return put_string(out, &self.bindtodevice),
            SockOpt::SocksProxy => return put_string(out, &self.socks_proxy),
            SockOpt::SocksUsername => return put_string(out, &self.socks_username),
            SockOpt::SocksPassword => return put_string(out, &self.socks_password),
            SockOpt::ZapDomain => return put_string(out, &self.zap_domain),
            SockOpt::Affinity => return put_exact(out, &self.affinity.to_ne_bytes()),
            SockOpt::MaxMsgSize => return put_exact(out, &self.maxmsgsize.to_ne_bytes()),
            SockOpt::RoutingId => return put_binary(out, &self.routing_id),
            _ => return Err(Error::Invalid),
        };
        put_int(out, int)
    }
}

/// The integer in `value` if it is exactly `sizeof(int)` bytes.
pub fn int_value(value: &[u8]) -> Option<i32> {
    value.try_into().ok().map(i32::from_ne_bytes)
}

/// Adds the id in `value` to an ipc filter list, or clears the list when
/// `value` is empty.
fn push_filter<T: TryFrom<i32>>(list: &mut Vec<T>, value: &[u8]) -> Result<()> {
    if value.is_empty() {
        list.clear();
        return Ok(());
    }
    let id = int_value(value).ok_or(Error::Invalid)?;
    // Negative ids are accepted and never match (libzmq stores them).
    if let Ok(id) = T::try_from(id) {
        list.push(id);
    }
    Ok(())
}

/// libzmq's `do_setsockopt_int_as_bool_strict`: only 0 and 1 are accepted.
fn strict_bool(int: Option<i32>) -> Result<bool> {
    match int {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(Error::Invalid),
    }
}

/// libzmq's `do_setsockopt_int_as_bool_relaxed`: any int, non-zero is true.
fn relaxed_bool(int: Option<i32>) -> Result<bool> {
    int.map(|v| v != 0).ok_or(Error::Invalid)
}

/// libzmq's `do_setsockopt_string_allow_empty_strict`: a string of at most
/// `max` bytes (empty clears it).
fn string_strict(value: &[u8], max: usize) -> Result<Vec<u8>> {
    if value.len() > max {
        return Err(Error::Invalid);
    }
    Ok(value.to_vec())
}

/// Writes an integer into the first `sizeof(int)` bytes of `out`, which
/// may be longer (libzmq's `ZMQ_RCVMORE`, `ZMQ_FD`, `ZMQ_EVENTS`,
/// `ZMQ_THREAD_SAFE`).
pub fn put_int_lenient(out: &mut [u8], value: i32) -> Result<usize> {
    let bytes = value.to_ne_bytes();
    let slot = out.get_mut(..bytes.len()).ok_or(Error::Invalid)?;
    slot.copy_from_slice(&bytes);
    Ok(bytes.len())
}

/// Writes an integer option; `out` must be exactly `sizeof(int)`.
pub fn put_int(out: &mut [u8], value: i32) -> Result<usize> {
    put_exact(out, &value.to_ne_bytes())
}

fn put_exact(out: &mut [u8], bytes: &[u8]) -> Result<usize> {
    if out.len() != bytes.len() {
        return Err(Error::Invalid);
    }
    out.copy_from_slice(bytes);
    Ok(bytes.len())
}

/// Writes a binary option; `out` must be at least as long (the rest is
/// zeroed, as libzmq does).
pub fn put_binary(out: &mut [u8], bytes: &[u8]) -> Result<usize> {
    if out.len() < bytes.len() {
        return Err(Error::Invalid);
    }
    out[..bytes.len()].copy_from_slice(bytes);
    out[bytes.len()..].fill(0);
    Ok(bytes.len())
}

/// Writes a CURVE key: 32 bytes into a 32-byte buffer, Z85 text with its
/// NUL into a 41-byte one.
fn put_curve_key(out: &mut [u8], key: &[u8; 32]) -> Result<usize> {
    match out.len() {
        32 => put_exact(out, key),
        41 => {
            crate::z85::encode_into(key, &mut out[..40])?;
            out[40] = 0;
            Ok(41)
        }
        _ => Err(Error::Invalid),
    }
}

/// Writes a string option with its terminating NUL.
pub fn put_string(out: &mut [u8], s: &[u8]) -> Result<usize> {
    let mut with_nul = Vec::with_capacity(s.len() + 1);
    with_nul.extend_from_slice(s);
    with_nul.push(0);
    put_binary(out, &with_nul)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options::new(SocketType::Dealer, &CtxOptions::default())
    }

    #[test]
    fn int_options_need_exact_size() {
        let mut o = opts();
        assert_eq!(o.set(SockOpt::Linger, &[0u8; 2]), Err(Error::Invalid));
        o.set(SockOpt::Linger, &5i32.to_ne_bytes()).unwrap();
        let mut out = [0u8; 4];
        assert_eq!(o.get(SockOpt::Linger, &mut out), Ok(4));
        assert_eq!(i32::from_ne_bytes(out), 5);
        assert_eq!(o.get(SockOpt::Linger, &mut [0u8; 8]), Err(Error::Invalid));
    }

    #[test]
    fn defaults_follow_context() {
        let ctx = CtxOptions {
            blocky: false,
            ipv6: true,
            ..CtxOptions::default()
        };
        let o = Options::new(SocketType::Pair, &ctx);
        assert_eq!((o.linger, o.ipv6), (0, true));
        assert_eq!(opts().linger, -1);
    }

    #[test]
    fn routing_id_bounds() {
        let mut o = opts();
        assert_eq!(o.set(SockOpt::RoutingId, b""), Err(Error::Invalid));
        assert_eq!(o.set(SockOpt::RoutingId, &[1u8; 256]), Err(Error::Invalid));
        o.set(SockOpt::RoutingId, b"abc").unwrap();
        let mut out = [0u8; 10];
        assert_eq!(o.get(SockOpt::RoutingId, &mut out), Ok(3));
        assert_eq!(
            o.get(SockOpt::RoutingId, &mut [0u8; 2]),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn strict_booleans() {
        let mut o = opts();
        assert_eq!(
            o.set(SockOpt::Ipv6, &2i32.to_ne_bytes()),
            Err(Error::Invalid)
        );
        o.set(SockOpt::Ipv4Only, &0i32.to_ne_bytes()).unwrap();
        assert!(o.ipv6);
    }
}
