//! Endpoints: parsing `transport://address`, binding and connecting.
//!
//! libzmq: src/socket_base.cpp (`bind`, `connect`, `unbind`, `term_endpoint`)
//! and the `*_address`, `*_listener`, `*_connecter` files. inproc joins two
//! sockets' pipes directly; tcp and ipc go through an I/O thread.

pub mod address;
pub mod socks;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::ctx::{InprocBinding, PendingConnect};
use crate::error::{Error, Result};
use crate::io::thread::{IoCmd, IoShared, ListenerKind, SessionOptions, SessionSpec, Target};
use crate::msg::{flags, Msg};
use crate::options::Mechanism;
use crate::zmtp::handshake::Security;
use crate::pipe::Pipe;
use crate::socket::Socket;
use address::{
    ipc_endpoint_string, parse_ipc, parse_tcp, parse_tcp_connect, resolve_bind,
    tcp_endpoint_string, IpcAddr,
};

/// What a socket remembers of an endpoint it bound or connected.
pub(crate) enum Endpoint {
    InprocBound {
        name: String,
    },
    InprocConnected {
        name: String,
        pipe_end: u64,
    },
    /// A tcp or ipc listener or connection, run by an I/O thread.
    Io {
        id: u64,
        io: Arc<IoShared>,
        bound: bool,
        pipe_end: Option<u64>,
        /// A listener's descriptor (for monitor events), else -1.
        fd: i32,
    },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::InprocBound { name } => write!(f, "InprocBound({name})"),
            Endpoint::InprocConnected { name, .. } => write!(f, "InprocConnected({name})"),
            Endpoint::Io { id, bound, .. } => write!(f, "Io({id}, bound={bound})"),
        }
    }
}

impl Endpoint {
    /// Whether the endpoint came from `bind` (vs. `connect`).
    pub fn is_bound(&self) -> bool {
        match self {
            Endpoint::InprocBound { .. } => true,
            Endpoint::InprocConnected { .. } => false,
            Endpoint::Io { bound, .. } => *bound,
        }
    }

    /// The local end of the connection's pipe, for a connected endpoint.
    pub fn pipe_end(&self) -> Option<u64> {
        match self {
            Endpoint::InprocConnected { pipe_end, .. } => Some(*pipe_end),
            Endpoint::InprocBound { .. } => None,
            Endpoint::Io { pipe_end, .. } => *pipe_end,
        }
    }

    /// A tcp or ipc listener's descriptor.
    pub fn listener_fd(&self) -> Option<i32> {
        match self {
            Endpoint::Io {
                bound: true, fd, ..
            } => Some(*fd),
            _ => None,
        }
    }

    /// Whether closing the socket must end this endpoint explicitly (a
    /// connection with a pipe ends through the pipe, honouring linger).
    pub fn ends_on_close(&self) -> bool {
        self.is_bound() || matches!(self, Endpoint::Io { pipe_end: None, .. })
    }
}

/// The transports of libzmq 4.3 and whether this build has them.
enum Transport {
    Inproc,
    Tcp,
    Ipc,
}

/// Splits `proto://address`. Errors: `Invalid` (no `://`),
/// `ProtocolNotSupported` (unknown or unavailable transport).
fn parse(endpoint: &str) -> Result<(Transport, &str)> {
    let (proto, address) = endpoint.split_once("://").ok_or(Error::Invalid)?;
    let transport = match proto {
        "inproc" => Transport::Inproc,
        "tcp" => Transport::Tcp,
        "ipc" => Transport::Ipc,
        // Known to libzmq, not available in this build.
        _ => return Err(Error::ProtocolNotSupported),
    };
    Ok((transport, address))
}

static NEXT_ENDPOINT_ID: AtomicU64 = AtomicU64::new(1);

fn session_spec(socket: &Socket, endpoint_id: u64, endpoint: String) -> SessionSpec {
    let o = socket.options();
    SessionSpec {
        options: SessionOptions {
            socket_type: socket.socket_type(),
            routing_id: o.routing_id.clone(),
            maxmsgsize: o.maxmsgsize,
            sndhwm: o.sndhwm,
            rcvhwm: o.rcvhwm,
            reconnect_ivl: o.reconnect_ivl,
            reconnect_ivl_max: o.reconnect_ivl_max,
            handshake_ivl: o.handshake_ivl,
            stream_notify: o.stream_notify,
            raw: socket.socket_type() == crate::socket::SocketType::Stream || o.raw_socket,
            conflate: o.conflate_dirs(),
            heartbeat_ivl: o.heartbeat_ivl,
            heartbeat_ttl: o.heartbeat_ttl,
            heartbeat_timeout: o.heartbeat_timeout,
            connect_timeout: o.connect_timeout,
            ipv6: o.ipv6,
            metadata: o.app_metadata.clone(),
            security: match o.mechanism {
                Mechanism::Null => Security::Null,
                Mechanism::Plain => Security::Plain {
                    server: o.as_server,
                    username: o.plain_username.clone(),
                    password: o.plain_password.clone(),
                },
                Mechanism::Curve => Security::Curve {
                    server: o.as_server,
                    public: o.curve_public_key,
                    secret: o.curve_secret_key,
                    server_key: o.curve_server_key,
                },
            },
            zap_domain: o.zap_domain.clone(),
            zap_enforce_domain: o.zap_enforce_domain,
            ctx: socket.ctx().downgrade(),
            socks: (!o.socks_proxy.is_empty()).then(|| crate::io::thread::SocksOptions {
                proxy: String::from_utf8_lossy(&o.socks_proxy).into_owned(),
                username: o.socks_username.clone(),
                password: o.socks_password.clone(),
            }),
            tcp: crate::sys::TcpTuning {
                keepalive: o.tcp_keepalive,
                keepalive_cnt: o.tcp_keepalive_cnt,
                keepalive_idle: o.tcp_keepalive_idle,
                keepalive_intvl: o.tcp_keepalive_intvl,
                tos: o.tos,
                sndbuf: o.sndbuf,
                rcvbuf: o.rcvbuf,
                maxrt: o.tcp_maxrt,
                device: o.bindtodevice.clone(),
            },
        },
        socket: socket.mailbox().clone(),
        endpoint_id,
        monitor: socket.monitor_handle().clone(),
        endpoint,
    }
}

/// The listening socket `ZMQ_USE_FD` names, if any.
fn take_use_fd(socket: &mut Socket) -> Result<Option<std::os::fd::OwnedFd>> {
    let o = socket.options_mut();
    let fd = crate::sys::listening_fd(o.use_fd, o.use_fd_taken.contains(&o.use_fd))?;
    if fd.is_some() {
        o.use_fd_taken.push(o.use_fd);
    }
    Ok(fd)
}

fn bind_tcp(socket: &mut Socket, address: &str) -> Result<(String, Endpoint)> {
    let listener = match take_use_fd(socket)? {
        // ZMQ_USE_FD: the application's listening socket; the address is
        // not used (libzmq).
        Some(fd) => std::net::TcpListener::from(fd),
        None => {
            let spec = parse_tcp(address)?;
            let addr = resolve_bind(&spec, socket.options().ipv6)?;
            let listener = std::net::TcpListener::bind(addr)?;
            crate::sys::set_backlog(&listener, socket.options().backlog)?;
            listener
        }
    };
    let io = socket.ctx().io_thread()?;
    listener.set_nonblocking(true)?;
    let resolved = tcp_endpoint_string(&listener.local_addr()?);
    let id = NEXT_ENDPOINT_ID.fetch_add(1, Ordering::Relaxed);
    let fd = std::os::fd::AsRawFd::as_raw_fd(&listener);
    io.send(IoCmd::Listen {
        spec: session_spec(socket, id, resolved.clone()),
        listener: ListenerKind::Tcp(mio::net::TcpListener::from_std(listener)),
    });
    Ok((
        resolved,
        Endpoint::Io {
            id,
            io,
            bound: true,
            pipe_end: None,
            fd,
        },
    ))
}

fn bind_ipc(socket: &mut Socket, address: &str) -> Result<(String, Endpoint)> {
    let (addr, dir) = if address == "*" && socket.options().use_fd == -1 {
        let dir = crate::sys::make_temp_dir()?;
        (IpcAddr::Path(dir.join("socket")), Some(dir))
    } else {
        (parse_ipc(address)?, None)
    };
    let io = socket.ctx().io_thread()?;
    let (listener, path) = match (take_use_fd(socket)?, &addr) {
        // ZMQ_USE_FD: the application's listening socket, whose file is
        // the application's to remove (libzmq).
        (Some(fd), _) => (std::os::unix::net::UnixListener::from(fd), None),
        (None, IpcAddr::Path(p)) => {
            // As libzmq: a file left by an earlier run (or another socket)
            // is removed first. Only a wildcard's file is removed at the end.
            let _ = std::fs::remove_file(p);
            let l = std::os::unix::net::UnixListener::bind(p)?;
            (l, dir.as_ref().map(|_| p.clone()))
        }
        (None, IpcAddr::Abstract(name)) => {
            use std::os::linux::net::SocketAddrExt;
            let sa = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            (std::os::unix::net::UnixListener::bind_addr(&sa)?, None)
        }
    };
    listener.set_nonblocking(true)?;
    let id = NEXT_ENDPOINT_ID.fetch_add(1, Ordering::Relaxed);
    let fd = std::os::fd::AsRawFd::as_raw_fd(&listener);
    let mut addr = addr;
    if socket.options().use_fd != -1 {
        // An adopted socket is named by its own address (libzmq).
        use std::os::linux::net::SocketAddrExt;
        let local = listener.local_addr()?;
        if let Some(p) = local.as_pathname() {
            addr = IpcAddr::Path(p.to_path_buf());
        } else if let Some(name) = local.as_abstract_name() {
            addr = IpcAddr::Abstract(name.to_vec());
        }
    }
    let resolved = ipc_endpoint_string(&addr);
    io.send(IoCmd::Listen {
        spec: session_spec(socket, id, resolved.clone()),
        listener: ListenerKind::Unix {
            listener: mio::net::UnixListener::from_std(listener),
            path,
            dir,
            filter: socket.options().ipc_filter.clone(),
        },
    });
    Ok((
        resolved,
        Endpoint::Io {
            id,
            io,
            bound: true,
            pipe_end: None,
            fd,
        },
    ))
}

fn connect_io(socket: &mut Socket, target: Target, endpoint: &str) -> Result<Endpoint> {
    let io = socket.ctx().io_thread()?;
    let id = NEXT_ENDPOINT_ID.fetch_add(1, Ordering::Relaxed);
    let spec = session_spec(socket, id, endpoint.to_owned());
    let (pipe, pipe_end) = if socket.options().immediate {
        (None, None)
    } else {
        let o = socket.options();
        let conflate = o.conflate_dirs();
        let (key, remote) = socket.new_pipe([o.sndhwm.max(0) as u64, o.rcvhwm.max(0) as u64]);
        socket.pipe_mut(key).set_conflate(conflate.0, conflate.1);
        let end = socket.pipe_mut(key).id();
        socket.attach_new_pipe(key);
        (Some(remote), Some(end))
    };
    io.send(IoCmd::Connect { spec, target, pipe });
    Ok(Endpoint::Io {
        id,
        io,
        bound: false,
        pipe_end,
        fd: -1,
    })
}

/// Checks an endpoint's form without acting on it (unbind/disconnect).
pub fn check_endpoint_syntax(endpoint: &str) -> Result<()> {
    parse(endpoint).map(|_| ())
}

fn binding_of(socket: &Socket) -> InprocBinding {
    let o = socket.options();
    InprocBinding {
        socket_id: socket.id(),
        mailbox: socket.mailbox().clone(),
        socket_type: socket.socket_type(),
        sndhwm: o.sndhwm,
        rcvhwm: o.rcvhwm,
        routing_id: o.routing_id.clone(),
    }
}

/// The routing-id message a peer that wants one reads first.
fn routing_id_msg(id: &[u8]) -> Msg {
    let mut msg = Msg::from_vec(id.to_vec());
    msg.set_flags(flags::ROUTING_ID);
    msg
}

/// The HWM of one direction of an inproc pipe: the sum of the writer's send
/// and the reader's receive HWM, unlimited if either is (libzmq).
fn sum_hwm(snd: i32, rcv: i32) -> u64 {
    if snd == 0 || rcv == 0 {
        0
    } else {
        (snd.max(0) as u64) + (rcv.max(0) as u64)
    }
}

/// Binds a socket; returns the resolved endpoint (`ZMQ_LAST_ENDPOINT`).
pub(crate) fn bind(socket: &mut Socket, endpoint: &str) -> Result<(String, Endpoint)> {
    let (transport, address) = parse(endpoint)?;
    match transport {
        Transport::Inproc => bind_inproc(socket, address),
        Transport::Tcp => bind_tcp(socket, address),
        Transport::Ipc => bind_ipc(socket, address),
    }
}

fn bind_inproc(socket: &mut Socket, name: &str) -> Result<(String, Endpoint)> {
    if name.is_empty() {
        return Err(Error::Invalid);
    }
    let me = binding_of(socket);
    let pending = socket.ctx().clone().bind_inproc(name, me.clone())?;
    for PendingConnect { connector, pipe } in pending {
        let mut pipe: Pipe = pipe;
        // The connector always announced its routing id, not knowing who
        // would bind; drop it if we do not want it.
        if !me.socket_type.recv_routing_id() {
            let _ = pipe.read();
        }
        if connector.socket_type.recv_routing_id() {
            let _ = pipe.write(routing_id_msg(&me.routing_id));
            pipe.flush();
        }
        pipe.set_hwm(sum_hwm(me.sndhwm, connector.rcvhwm));
        pipe.set_peer_hwm(sum_hwm(connector.sndhwm, me.rcvhwm));
        pipe.set_boosts(connector.rcvhwm, me.rcvhwm);
        socket.attach_pipe(pipe, false);
    }
    Ok((
        format!("inproc://{name}"),
        Endpoint::InprocBound {
            name: name.to_owned(),
        },
    ))
}

/// Connects a socket.
pub(crate) fn connect(socket: &mut Socket, endpoint: &str) -> Result<Endpoint> {
    let (transport, address) = parse(endpoint)?;
    match transport {
        Transport::Inproc => connect_inproc(socket, address),
        Transport::Tcp => {
            let target = parse_tcp_connect(address)?;
            connect_io(socket, Target::Tcp(target), endpoint)
        }
        Transport::Ipc => {
            let addr = parse_ipc(address)?;
            if address == "*" {
                return Err(Error::Invalid);
            }
            connect_io(socket, Target::Ipc(addr), endpoint)
        }
    }
}

fn connect_inproc(socket: &mut Socket, name: &str) -> Result<Endpoint> {
    if name.is_empty() {
        return Err(Error::Invalid);
    }
    let me = binding_of(socket);
    let peer = socket.ctx().find_inproc(name);
    let hwms = match &peer {
        None => [me.sndhwm.max(0) as u64, me.rcvhwm.max(0) as u64],
        Some(p) => [sum_hwm(me.sndhwm, p.rcvhwm), sum_hwm(p.sndhwm, me.rcvhwm)],
    };
    let (key, mut remote) = socket.new_pipe(hwms);
    // Only the connecting side's ZMQ_CONFLATE counts (libzmq).
    let conflate = socket.options().conflate_dirs();
    socket.pipe_mut(key).set_conflate(conflate.0, conflate.1);
    let local_end = socket.pipe_mut(key).id();
    if let Some(p) = &peer {
        socket.pipe_mut(key).set_boosts(p.rcvhwm, me.rcvhwm);
    }
    match peer {
        None => {
            let local = socket.pipe_mut(key);
            let _ = local.write(routing_id_msg(&me.routing_id));
            local.flush();
            socket.ctx().clone().pend_inproc(
                name,
                PendingConnect {
                    connector: me,
                    pipe: remote,
                },
            );
        }
        Some(p) => {
            if p.socket_type.recv_routing_id() {
                let local = socket.pipe_mut(key);
                let _ = local.write(routing_id_msg(&me.routing_id));
                local.flush();
            }
            if me.socket_type.recv_routing_id() {
                let _ = remote.write(routing_id_msg(&p.routing_id));
                remote.flush();
            }
            p.mailbox.attach(remote);
        }
    }
    socket.attach_new_pipe(key);
    Ok(Endpoint::InprocConnected {
        name: name.to_owned(),
        pipe_end: local_end,
    })
}

/// Ends an endpoint: unregisters a bind; returns the pipe end of a
/// connection for the socket to close. `pipes_closed`: the socket closes
/// the pipes of the endpoint's connections itself (it is closing, or
/// disconnecting a connection), so their sessions end through them, with
/// its linger.
pub(crate) fn end(socket: &mut Socket, ep: Endpoint, pipes_closed: bool) -> Option<u64> {
    match ep {
        Endpoint::InprocBound { name } => {
            let _ = socket.ctx().unbind_inproc(&name, socket.id());
            None
        }
        Endpoint::InprocConnected { pipe_end, .. } => Some(pipe_end),
        Endpoint::Io {
            id, io, pipe_end, ..
        } => {
            io.send(IoCmd::EndEndpoint {
                id,
                pipes_closed,
            });
            pipe_end
        }
    }
}
