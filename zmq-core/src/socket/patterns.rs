//! The messaging patterns: what each socket type does with its pipes.
//!
//! libzmq: src/pair.cpp, push.cpp, pull.cpp, dealer.cpp, router.cpp,
//! req.cpp, rep.cpp (RFC 28, 30, 31). Each type is a [`Pattern`]; REQ is
//! built on DEALER and REP on ROUTER, as in libzmq.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::msg::{flags, Msg};
use crate::options::{int_value, Options, SockOpt};
use crate::socket::pubsub::{XPub, XSub};
use crate::socket::strategy::{Fq, Lb};
use crate::socket::{Pipes, SocketType};

/// What a socket type does; the `x*` methods of libzmq's `socket_base_t`.
pub(crate) trait Pattern: Send {
    /// A new pipe; returns `false` if the pattern refuses it.
    fn attach(&mut self, pipes: &mut Pipes, key: usize, options: &Options) -> bool;
    fn pipe_terminated(&mut self, pipes: &mut Pipes, key: usize);
    fn read_activated(&mut self, pipes: &mut Pipes, key: usize);
    fn write_activated(&mut self, pipes: &mut Pipes, key: usize);
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()>;
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()>;
    fn has_in(&mut self, pipes: &mut Pipes) -> bool;
    fn has_out(&mut self, pipes: &mut Pipes) -> bool;
    /// A type-specific option; `None` if the option is not the type's own.
    fn setsockopt(
        &mut self,
        _pipes: &mut Pipes,
        _option: SockOpt,
        _value: &[u8],
    ) -> Option<Result<()>> {
        None
    }
    fn getsockopt(&mut self, _option: SockOpt, _out: &mut [u8]) -> Option<Result<usize>> {
        None
    }
    /// A connection behind the pipe was re-established (libzmq: `hiccuped`).
    fn hiccuped(&mut self, _pipes: &mut Pipes, _key: usize) {}
    /// A generic option changed (for the patterns that follow one, such as
    /// `ZMQ_INVERT_MATCHING`).
    fn options_changed(&mut self, _options: &Options) {}
}

/// The pattern of a socket type.
pub(crate) fn new(ty: SocketType, options: &Options) -> Box<dyn Pattern> {
    match ty {
        SocketType::Pair => Box::new(Pair::default()),
        SocketType::Push => Box::new(Push::default()),
        SocketType::Pull => Box::new(Pull::default()),
        SocketType::Dealer => Box::new(Dealer::default()),
        SocketType::Router => Box::new(Router::default()),
        SocketType::Req => Box::new(Req::new()),
        SocketType::Rep => Box::new(Rep::default()),
        SocketType::Pub => Box::new(XPub::new(true, options)),
        SocketType::XPub => Box::new(XPub::new(false, options)),
        SocketType::Sub => Box::new(XSub::new(true, options)),
        SocketType::XSub => Box::new(XSub::new(false, options)),
        SocketType::Stream => Box::new(Stream::new()),
    }
}

/// A ROUTER in `ZMQ_ROUTER_RAW` mode: STREAM's behaviour.
pub(super) fn raw_router() -> Box<dyn Pattern> {
    Box::new(Stream::new())
}

/// A boolean socket option: an int, 0 or any other positive value.
pub(super) fn bool_opt(value: &[u8]) -> Result<bool> {
    int_value(value)
        .filter(|&v| v >= 0)
        .map(|v| v != 0)
        .ok_or(Error::Invalid)
}

/// The next generated routing id of a ROUTER or STREAM: a zero byte, then a
/// big-endian counter (libzmq: `_next_integral_routing_id`).
fn integral_id(next: &mut u32) -> Vec<u8> {
    *next = next.wrapping_add(1);
    let mut id = vec![0u8];
    id.extend_from_slice(&next.to_be_bytes());
    id
}

/// `ZMQ_CONNECT_ROUTING_ID`: 1 to 255 bytes.
fn connect_routing_id(value: &[u8]) -> Result<Vec<u8>> {
    // Any non-empty id: it names the connection locally, never on the wire
    // (libzmq takes any length).
    if value.is_empty() {
        return Err(Error::Invalid);
    }
    Ok(value.to_vec())
}

/// Writes one frame to a pipe, flushing at the end of a message; gives the
/// message back if the pipe cannot take it.
fn write_frame(pipes: &mut Pipes, key: usize, msg: &mut Msg) -> Result<()> {
    let more = msg.more();
    match pipes[key].write(std::mem::take(msg)) {
        Ok(()) => {
            if !more {
                pipes[key].flush();
            }
            Ok(())
        }
        Err(back) => {
            *msg = back;
            Err(Error::Again)
        }
    }
}

// ---- PAIR -----------------------------------------------------------------

/// One peer at a time; further pipes are refused.
#[derive(Default)]
struct Pair {
    pipe: Option<usize>,
}

impl Pattern for Pair {
    fn attach(&mut self, _: &mut Pipes, key: usize, _: &Options) -> bool {
        if self.pipe.is_some() {
            return false;
        }
        self.pipe = Some(key);
        true
    }
    fn pipe_terminated(&mut self, _: &mut Pipes, key: usize) {
        if self.pipe == Some(key) {
            self.pipe = None;
        }
    }
    fn read_activated(&mut self, _: &mut Pipes, _: usize) {}
    fn write_activated(&mut self, _: &mut Pipes, _: usize) {}
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let key = self.pipe.ok_or(Error::Again)?;
        if !pipes[key].check_write() {
            return Err(Error::Again);
        }
        write_frame(pipes, key, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let key = self.pipe.ok_or(Error::Again)?;
        *msg = pipes[key].read().ok_or(Error::Again)?;
        Ok(())
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pipe.is_some_and(|k| pipes[k].check_read())
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pipe.is_some_and(|k| pipes[k].check_write())
    }
}

// ---- PUSH / PULL ----------------------------------------------------------

#[derive(Default)]
struct Push {
    lb: Lb,
}

impl Pattern for Push {
    fn attach(&mut self, _: &mut Pipes, key: usize, _: &Options) -> bool {
        self.lb.attach(key);
        true
    }
    fn pipe_terminated(&mut self, _: &mut Pipes, key: usize) {
        self.lb.terminated(key);
    }
    fn read_activated(&mut self, _: &mut Pipes, _: usize) {}
    fn write_activated(&mut self, _: &mut Pipes, key: usize) {
        self.lb.activated(key);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.lb.send(pipes, msg)
    }
    fn recv(&mut self, _: &mut Pipes, _: &mut Msg) -> Result<()> {
        Err(Error::NotSupported)
    }
    fn has_in(&mut self, _: &mut Pipes) -> bool {
        false
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
}

#[derive(Default)]
struct Pull {
    fq: Fq,
}

impl Pattern for Pull {
    fn attach(&mut self, _: &mut Pipes, key: usize, _: &Options) -> bool {
        self.fq.attach(key);
        true
    }
    fn pipe_terminated(&mut self, _: &mut Pipes, key: usize) {
        self.fq.terminated(key);
    }
    fn read_activated(&mut self, _: &mut Pipes, key: usize) {
        self.fq.activated(key);
    }
    fn write_activated(&mut self, _: &mut Pipes, _: usize) {}
    fn send(&mut self, _: &mut Pipes, _: &mut Msg) -> Result<()> {
        Err(Error::NotSupported)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, _: &mut Pipes) -> bool {
        false
    }
}

// ---- DEALER ---------------------------------------------------------------

#[derive(Default)]
struct Dealer {
    fq: Fq,
    lb: Lb,
    probe_router: bool,
}

impl Dealer {
    fn send_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<Option<usize>> {
        self.lb.send_pipe(pipes, msg)
    }
    fn recv_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        self.fq.recv_pipe(pipes, msg)
    }
}

impl Pattern for Dealer {
    fn attach(&mut self, pipes: &mut Pipes, key: usize, _: &Options) -> bool {
        if self.probe_router {
            // An empty message announces us to a ROUTER peer.
            let _ = pipes[key].write(Msg::new());
            pipes[key].flush();
        }
        self.fq.attach(key);
        self.lb.attach(key);
        true
    }
    fn pipe_terminated(&mut self, _: &mut Pipes, key: usize) {
        self.fq.terminated(key);
        self.lb.terminated(key);
    }
    fn read_activated(&mut self, _: &mut Pipes, key: usize) {
        self.fq.activated(key);
    }
    fn write_activated(&mut self, _: &mut Pipes, key: usize) {
        self.lb.activated(key);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.lb.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.fq.recv(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
    fn setsockopt(
        &mut self,
        _pipes: &mut Pipes,
        option: SockOpt,
        value: &[u8],
    ) -> Option<Result<()>> {
        match option {
            SockOpt::ProbeRouter => Some(bool_opt(value).map(|v| self.probe_router = v)),
            _ => None,
        }
    }
}

// ---- ROUTER ---------------------------------------------------------------

#[derive(Default)]
struct Router {
    fq: Fq,
    /// Routing id -> pipe, for sending.
    out: HashMap<Vec<u8>, usize>,
    /// Pipes whose routing id has not arrived yet.
    anonymous: HashSet<usize>,
    // Receiving.
    prefetched: Option<Msg>,
    prefetched_id: Option<Msg>,
    more_in: bool,
    current_in: Option<usize>,
    // Sending.
    current_out: Option<usize>,
    more_out: bool,
    next_integral_id: u32,
    mandatory: bool,
    handover: bool,
    probe_router: bool,
    /// `ZMQ_CONNECT_ROUTING_ID` for the next connect.
    pub(crate) connect_routing_id: Option<Vec<u8>>,
}

impl Router {
    /// Learns the routing id of a new pipe (libzmq: `identify_peer`): the
    /// one set for our own connect, else the first message the peer sent
    /// (its identity), else a generated one.
    fn identify_peer(&mut self, pipes: &mut Pipes, key: usize) -> bool {
        let id = if pipes[key].locally_initiated && !pipes[key].routing_id.is_empty() {
            pipes[key].routing_id.clone()
        } else {
            let Some(msg) = pipes[key].read() else {
                return false;
            };
            if msg.size() == 0 {
                integral_id(&mut self.next_integral_id)
            } else {
                let id = msg.data().to_vec();
                if let Some(&old) = self.out.get(&id) {
                    if !self.handover {
                        // A peer with a duplicate id is ignored.
                        return false;
                    }
                    // The new connection takes the id; the old one is renamed
                    // and ended.
                    let renamed = integral_id(&mut self.next_integral_id);
                    self.out.remove(&id);
                    pipes[old].routing_id = renamed.clone();
                    self.out.insert(renamed, old);
                    pipes[old].close_write();
                    pipes[old].close_read();
                }
                id
            }
        };
        pipes[key].routing_id = id.clone();
        self.out.insert(id, key);
        true
    }

    fn rollback(&mut self, pipes: &mut Pipes) {
        if let Some(key) = self.current_out.take() {
            pipes[key].rollback();
            self.more_out = false;
        }
    }

    /// Reads the next frame from any peer, skipping late routing-id frames.
    fn fq_recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        loop {
            let key = self.fq.recv_pipe(pipes, msg)?;
            if msg.flags() & flags::ROUTING_ID == 0 {
                return Ok(key);
            }
        }
    }

    fn id_frame(pipes: &Pipes, key: usize, body: &Msg) -> Msg {
        let mut id = Msg::from_vec(pipes[key].routing_id.clone());
        id.set_flags(flags::MORE);
        if let Some(md) = body.metadata() {
            id.set_metadata(md.clone());
        }
        id
    }
}

impl Pattern for Router {
    fn attach(&mut self, pipes: &mut Pipes, key: usize, _: &Options) -> bool {
        if self.probe_router {
            let _ = pipes[key].write(Msg::new());
            pipes[key].flush();
        }
        if pipes[key].locally_initiated {
            if let Some(id) = self.connect_routing_id.take() {
                pipes[key].routing_id = id;
            }
        }
        if self.identify_peer(pipes, key) {
            self.fq.attach(key);
        } else {
            self.anonymous.insert(key);
        }
        true
    }

    fn pipe_terminated(&mut self, pipes: &mut Pipes, key: usize) {
        if !self.anonymous.remove(&key) {
            let id = &pipes[key].routing_id;
            if self.out.get(id) == Some(&key) {
                self.out.remove(id);
            }
            self.fq.terminated(key);
        }
        if self.current_out == Some(key) {
            self.current_out = None;
        }
        if self.current_in == Some(key) {
            self.current_in = None;
        }
    }

    fn read_activated(&mut self, pipes: &mut Pipes, key: usize) {
        if self.anonymous.contains(&key) {
            if self.identify_peer(pipes, key) {
                self.anonymous.remove(&key);
                self.fq.attach(key);
            }
        } else {
            self.fq.activated(key);
        }
    }

    fn write_activated(&mut self, _: &mut Pipes, _: usize) {}

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.more_out {
            // The first frame names the peer. Without MORE it is ignored.
            if msg.more() {
                self.more_out = true;
                if let Some(&key) = self.out.get(msg.data()) {
                    self.current_out = Some(key);
                    if !pipes[key].check_write() {
                        let gone = pipes[key].is_peer_gone();
                        self.current_out = None;
                        if self.mandatory {
                            self.more_out = false;
                            return Err(if gone {
                                Error::HostUnreachable
                            } else {
                                Error::Again
                            });
                        }
                    }
                } else if self.mandatory {
                    self.more_out = false;
                    return Err(Error::HostUnreachable);
                }
            }
            *msg = Msg::new();
            return Ok(());
        }
        self.more_out = msg.more();
        match self.current_out {
            Some(key) => {
                let more = self.more_out;
                match pipes[key].write(std::mem::take(msg)) {
                    Ok(()) => {
                        if !more {
                            pipes[key].flush();
                            self.current_out = None;
                        }
                    }
                    Err(_) => {
                        pipes[key].rollback();
                        self.current_out = None;
                    }
                }
            }
            None => *msg = Msg::new(),
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if let Some(id) = self.prefetched_id.take() {
            *msg = id;
            self.more_in = true;
            return Ok(());
        }
        if let Some(body) = self.prefetched.take() {
            *msg = body;
            self.more_in = msg.more();
            if !self.more_in {
                self.current_in = None;
            }
            return Ok(());
        }
        let key = self.fq_recv(pipes, msg)?;
        if self.more_in {
            self.more_in = msg.more();
            if !self.more_in {
                self.current_in = None;
            }
        } else {
            // A new message: return the peer's routing id first.
            let body = std::mem::take(msg);
            *msg = Self::id_frame(pipes, key, &body);
            self.prefetched = Some(body);
            self.current_in = Some(key);
            self.more_in = true;
        }
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more_in || self.prefetched.is_some() || self.prefetched_id.is_some() {
            return true;
        }
        let mut body = Msg::new();
        let Ok(key) = self.fq_recv(pipes, &mut body) else {
            return false;
        };
        self.prefetched_id = Some(Self::id_frame(pipes, key, &body));
        self.prefetched = Some(body);
        self.current_in = Some(key);
        true
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        // Without MANDATORY a ROUTER can always send (unroutable messages are
        // dropped); with it, only if some peer has room.
        if !self.mandatory {
            return true;
        }
        let keys: Vec<usize> = self.out.values().copied().collect();
        keys.into_iter().any(|k| pipes[k].check_write())
    }

    fn setsockopt(
        &mut self,
        _pipes: &mut Pipes,
        option: SockOpt,
        value: &[u8],
    ) -> Option<Result<()>> {
        Some(match option {
            SockOpt::RouterMandatory => bool_opt(value).map(|v| self.mandatory = v),
            SockOpt::RouterHandover => bool_opt(value).map(|v| self.handover = v),
            SockOpt::ProbeRouter => bool_opt(value).map(|v| self.probe_router = v),
            SockOpt::ConnectRoutingId => {
                connect_routing_id(value).map(|id| self.connect_routing_id = Some(id))
            }
            _ => return None,
        })
    }
}

// ---- REQ ------------------------------------------------------------------

struct Req {
    dealer: Dealer,
    receiving_reply: bool,
    message_begins: bool,
    reply_pipe: Option<usize>,
    request_id_frames: bool,
    request_id: u32,
    strict: bool,
}

impl Req {
    fn new() -> Req {
        Req {
            dealer: Dealer::default(),
            receiving_reply: false,
            message_begins: true,
            reply_pipe: None,
            request_id_frames: false,
            request_id: u32::from_ne_bytes(crate::sys::random_bytes()),
            strict: true,
        }
    }

    /// Receives a frame from the pipe the request went to; others are
    /// dropped.
    fn recv_reply_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        loop {
            let key = self.dealer.recv_pipe(pipes, msg)?;
            if self.reply_pipe.is_none() || self.reply_pipe == Some(key) {
                return Ok(());
            }
        }
    }

    fn skip_rest(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        while msg.more() {
            self.recv_reply_pipe(pipes, msg)?;
        }
        Ok(())
    }
}

impl Pattern for Req {
    fn attach(&mut self, pipes: &mut Pipes, key: usize, options: &Options) -> bool {
        self.dealer.attach(pipes, key, options)
    }
    fn pipe_terminated(&mut self, pipes: &mut Pipes, key: usize) {
        if self.reply_pipe == Some(key) {
            self.reply_pipe = None;
        }
        self.dealer.pipe_terminated(pipes, key);
    }
    fn read_activated(&mut self, pipes: &mut Pipes, key: usize) {
        self.dealer.read_activated(pipes, key);
    }
    fn write_activated(&mut self, pipes: &mut Pipes, key: usize) {
        self.dealer.write_activated(pipes, key);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if self.receiving_reply {
            if self.strict {
                return Err(Error::Fsm);
            }
            self.receiving_reply = false;
            self.message_begins = true;
        }
        if self.message_begins {
            self.reply_pipe = None;
            if self.request_id_frames {
                self.request_id = self.request_id.wrapping_add(1);
                let mut id = Msg::from_slice(&self.request_id.to_ne_bytes())?;
                id.set_flags(flags::MORE);
                self.reply_pipe = self.dealer.send_pipe(pipes, &mut id)?;
            }
            let mut bottom = Msg::new();
            bottom.set_flags(flags::MORE);
            let pipe = self.dealer.send_pipe(pipes, &mut bottom)?;
            self.reply_pipe = self.reply_pipe.or(pipe);
            self.message_begins = false;
            // Drop replies still queued from earlier requests.
            let mut drop = Msg::new();
            while self.dealer.recv(pipes, &mut drop).is_ok() {}
        }
        let more = msg.more();
        self.dealer.send(pipes, msg)?;
        if !more {
            self.receiving_reply = true;
            self.message_begins = true;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.receiving_reply {
            return Err(Error::Fsm);
        }
        while self.message_begins {
            if self.request_id_frames {
                self.recv_reply_pipe(pipes, msg)?;
                if !msg.more() || msg.data() != self.request_id.to_ne_bytes() {
                    self.skip_rest(pipes, msg)?;
                    continue;
                }
            }
            self.recv_reply_pipe(pipes, msg)?;
            if !msg.more() || msg.size() != 0 {
                self.skip_rest(pipes, msg)?;
                continue;
            }
            self.message_begins = false;
        }
        self.recv_reply_pipe(pipes, msg)?;
        if !msg.more() {
            self.receiving_reply = false;
            self.message_begins = true;
        }
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.receiving_reply && self.dealer.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if self.receiving_reply && self.strict {
            return false;
        }
        self.dealer.has_out(pipes)
    }

    fn setsockopt(
        &mut self,
        pipes: &mut Pipes,
        option: SockOpt,
        value: &[u8],
    ) -> Option<Result<()>> {
        match option {
            SockOpt::ReqCorrelate => Some(bool_opt(value).map(|v| self.request_id_frames = v)),
            SockOpt::ReqRelaxed => Some(bool_opt(value).map(|v| self.strict = !v)),
            _ => self.dealer.setsockopt(pipes, option, value),
        }
    }
}

// ---- REP ------------------------------------------------------------------

#[derive(Default)]
struct Rep {
    router: Router,
    sending_reply: bool,
    /// At the start of a request: its envelope comes first.
    in_request: bool,
}

impl Pattern for Rep {
    fn attach(&mut self, pipes: &mut Pipes, key: usize, options: &Options) -> bool {
        self.router.attach(pipes, key, options)
    }
    fn pipe_terminated(&mut self, pipes: &mut Pipes, key: usize) {
        self.router.pipe_terminated(pipes, key);
    }
    fn read_activated(&mut self, pipes: &mut Pipes, key: usize) {
        self.router.read_activated(pipes, key);
    }
    fn write_activated(&mut self, pipes: &mut Pipes, key: usize) {
        self.router.write_activated(pipes, key);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.sending_reply {
            return Err(Error::Fsm);
        }
        let more = msg.more();
        self.router.send(pipes, msg)?;
        if !more {
            self.sending_reply = false;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if self.sending_reply {
            return Err(Error::Fsm);
        }
        if !self.in_request {
            // Copy the envelope (routing ids up to the empty delimiter) to the
            // reply pipe now; the reply follows it.
            loop {
                self.router.recv(pipes, msg)?;
                if msg.more() {
                    let bottom = msg.size() == 0;
                    self.router.send(pipes, msg)?;
                    if bottom {
                        break;
                    }
                } else {
                    // A malformed envelope: discard what was copied.
                    self.router.rollback(pipes);
                }
            }
            self.in_request = true;
        }
        self.router.recv(pipes, msg)?;
        if !msg.more() {
            self.sending_reply = true;
            self.in_request = false;
        }
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        !self.sending_reply && self.router.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.sending_reply && self.router.has_out(pipes)
    }
    fn setsockopt(
        &mut self,
        pipes: &mut Pipes,
        option: SockOpt,
        value: &[u8],
    ) -> Option<Result<()>> {
        self.router.setsockopt(pipes, option, value)
    }
}

// ---- STREAM ---------------------------------------------------------------

/// STREAM: raw TCP peers, each named by a generated routing id (libzmq:
/// src/stream.cpp). Received data comes as [id, bytes]; [id, bytes] sends
/// them; [id, ""] closes that connection once what was sent before it is
/// written. With `ZMQ_STREAM_NOTIFY` (the default) an empty message marks
/// each connect and disconnect.
struct Stream {
    fq: Fq,
    /// Routing id -> pipe.
    out: HashMap<Vec<u8>, usize>,
    /// The data of a message whose id frame was just delivered.
    prefetched: Option<Msg>,
    // Sending.
    more_out: bool,
    current_out: Option<usize>,
    next_integral_id: u32,
    connect_routing_id: Option<Vec<u8>>,
}

impl Stream {
    fn new() -> Stream {
        // Ids count up from a random start, as libzmq's do.
        Stream {
            fq: Fq::default(),
            out: HashMap::new(),
            prefetched: None,
            more_out: false,
            current_out: None,
            next_integral_id: u32::from_ne_bytes(crate::sys::random_bytes()),
            connect_routing_id: None,
        }
    }

    fn forget(&mut self, pipes: &mut Pipes, key: usize) {
        let id = &pipes[key].routing_id;
        if self.out.get(id) == Some(&key) {
            self.out.remove(id);
        }
        self.fq.terminated(key);
        if self.current_out == Some(key) {
            self.current_out = None;
        }
    }
}

impl Pattern for Stream {
    fn attach(&mut self, pipes: &mut Pipes, key: usize, _: &Options) -> bool {
        // ZMQ_CONNECT_ROUTING_ID names our next connection, not an accepted one.
        let named = if pipes[key].locally_initiated {
            self.connect_routing_id.take()
        } else {
            None
        };
        let id = named.unwrap_or_else(|| integral_id(&mut self.next_integral_id));
        pipes[key].routing_id = id.clone();
        self.out.insert(id, key);
        self.fq.attach(key);
        true
    }

    fn pipe_terminated(&mut self, pipes: &mut Pipes, key: usize) {
        self.forget(pipes, key);
    }

    fn read_activated(&mut self, _: &mut Pipes, key: usize) {
        self.fq.activated(key);
    }

    fn write_activated(&mut self, _: &mut Pipes, _: usize) {}

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if !self.more_out {
            // The id frame; without MORE it is taken and ignored.
            if msg.more() {
                let key = *self.out.get(msg.data()).ok_or(Error::HostUnreachable)?;
                if !pipes[key].check_write() {
                    return Err(Error::Again);
                }
                self.current_out = Some(key);
            }
            self.more_out = true;
            *msg = Msg::new();
            return Ok(());
        }
        // The data frame: MORE is ignored, it always ends the message.
        self.more_out = false;
        let mut body = std::mem::take(msg);
        body.reset_flags(flags::MORE);
        let Some(key) = self.current_out.take() else {
            return Ok(());
        };
        if body.size() == 0 {
            // Close the connection once what was sent before is written.
            self.forget(pipes, key);
            let mut pipe = pipes.remove(key);
            pipe.close_write();
            pipe.close_read();
            return Ok(());
        }
        if pipes[key].write(body).is_ok() {
            pipes[key].flush();
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if let Some(body) = self.prefetched.take() {
            *msg = body;
            return Ok(());
        }
        let mut body = Msg::new();
        let key = self.fq.recv_pipe(pipes, &mut body)?;
        body.reset_flags(flags::MORE);
        let mut id = Msg::from_vec(pipes[key].routing_id.clone());
        id.set_flags(flags::MORE);
        if let Some(md) = body.metadata() {
            id.set_metadata(md.clone());
        }
        *msg = id;
        self.prefetched = Some(body);
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.prefetched.is_some() || self.fq.has_in(pipes)
    }

    fn has_out(&mut self, _: &mut Pipes) -> bool {
        true
    }

    fn setsockopt(
        &mut self,
        _pipes: &mut Pipes,
        option: SockOpt,
        value: &[u8],
    ) -> Option<Result<()>> {
        match option {
            SockOpt::ConnectRoutingId => {
                Some(connect_routing_id(value).map(|id| self.connect_routing_id = Some(id)))
            }
            _ => None,
        }
    }
}
