//! Endpoints: parsing `transport://address`, binding and connecting.
//!
//! libzmq: src/socket_base.cpp (`bind`, `connect`, `unbind`, `term_endpoint`)
//! and the `*_address`, `*_listener`, `*_connecter` files. inproc joins two
//! sockets' pipes directly; tcp and ipc go through an I/O thread.

use crate::ctx::{InprocBinding, PendingConnect};
use crate::error::{Error, Result};
use crate::msg::{flags, Msg};
use crate::pipe::Pipe;
use crate::socket::{Command, Socket};

/// What a socket remembers of an endpoint it bound or connected.
#[derive(Debug)]
pub enum Endpoint {
    InprocBound { name: String },
    InprocConnected { name: String, pipe_end: u64 },
}

impl Endpoint {
    /// Whether the endpoint came from `bind` (vs. `connect`).
    pub fn is_bound(&self) -> bool {
        matches!(self, Endpoint::InprocBound { .. })
    }

    /// The local end of the connection's pipe, for a connected endpoint.
    pub fn pipe_end(&self) -> Option<u64> {
        match self {
            Endpoint::InprocConnected { pipe_end, .. } => Some(*pipe_end),
            Endpoint::InprocBound { .. } => None,
        }
    }
}

/// The transports of libzmq 4.3 and whether this build has them.
enum Transport {
    Inproc,
    /// Known to libzmq but not available here (yet, or on this platform).
    Unavailable,
}

/// Splits `proto://address`. Errors: `Invalid` (no `://`),
/// `ProtocolNotSupported` (unknown or unavailable transport).
fn parse(endpoint: &str) -> Result<(Transport, &str)> {
    let (proto, address) = endpoint.split_once("://").ok_or(Error::Invalid)?;
    let transport = match proto {
        "inproc" => Transport::Inproc,
        "tcp" | "ipc" | "pgm" | "epgm" | "tipc" | "vmci" | "norm" | "ws" | "wss" | "udp" => {
            Transport::Unavailable
        }
        _ => return Err(Error::ProtocolNotSupported),
    };
    if let Transport::Unavailable = transport {
        return Err(Error::ProtocolNotSupported);
    }
    Ok((transport, address))
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
        Transport::Unavailable => Err(Error::ProtocolNotSupported),
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
        Transport::Unavailable => Err(Error::ProtocolNotSupported),
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
    let local_end = socket.pipe_mut(key).id();
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
            p.mailbox.0.send(Command::Attach(remote));
        }
    }
    socket.attach_new_pipe(key);
    Ok(Endpoint::InprocConnected {
        name: name.to_owned(),
        pipe_end: local_end,
    })
}

/// Ends an endpoint: unregisters a bind; returns the pipe end of a
/// connection for the socket to close.
pub(crate) fn end(socket: &mut Socket, ep: Endpoint) -> Option<u64> {
    match ep {
        Endpoint::InprocBound { name } => {
            let _ = socket.ctx().unbind_inproc(&name, socket.id());
            None
        }
        Endpoint::InprocConnected { pipe_end, .. } => Some(pipe_end),
    }
}
