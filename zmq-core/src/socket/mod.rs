//! Sockets: the application's handle on a messaging pattern.
//!
//! libzmq: src/socket_base.cpp. [`Socket`] holds what every socket type
//! shares: options, pipes, the command mailbox (whose eventfd is `ZMQ_FD`),
//! endpoints, and the blocking rules of `zmq_send`/`zmq_recv` (timeouts,
//! `EAGAIN`, `EINTR`, `ETERM`). The pattern itself (PAIR, REQ, ROUTER, ...)
//! is a [`Pattern`], usually small because the strategies in [`strategy`] do
//! the work.

mod patterns;
mod pubsub;
pub(crate) mod strategy;
pub(crate) mod trie;

use std::collections::{HashMap, VecDeque};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::ctx::{Ctx, CtxOptions};
use crate::error::{Error, Result};
use crate::io::mailbox::Mailbox;
use crate::io::signaler::Wait;
use crate::io::direct;
use crate::io::spin::{yield_until, Spinner};
use crate::monitor::{event, Monitor};
use crate::msg::{flags, Msg};
use crate::options::{put_int, put_int_lenient, put_string, Options, SockOpt};
use crate::pipe::{Pipe, PipeEvent, PipeEventKind, PipeWaker};
use crate::transport::Endpoint;

pub(crate) use patterns::Pattern;

/// The socket types of `zmq_socket(3)`, numbered as libzmq numbers them.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketType {
    Pair = 0,
    Pub = 1,
    Sub = 2,
    Req = 3,
    Rep = 4,
    Dealer = 5,
    Router = 6,
    Pull = 7,
    Push = 8,
    XPub = 9,
    XSub = 10,
    Stream = 11,
}

impl SocketType {
    /// The type with libzmq's number `n`.
    pub fn from_raw(n: i32) -> Option<SocketType> {
        Some(match n {
            0 => SocketType::Pair,
            1 => SocketType::Pub,
            2 => SocketType::Sub,
            3 => SocketType::Req,
            4 => SocketType::Rep,
            5 => SocketType::Dealer,
            6 => SocketType::Router,
            7 => SocketType::Pull,
            8 => SocketType::Push,
            9 => SocketType::XPub,
            10 => SocketType::XSub,
            11 => SocketType::Stream,
            _ => return None,
        })
    }

    /// The name used in the ZMTP `Socket-Type` property.
    pub fn name(self) -> &'static str {
        match self {
            SocketType::Pair => "PAIR",
            SocketType::Pub => "PUB",
            SocketType::Sub => "SUB",
            SocketType::Req => "REQ",
            SocketType::Rep => "REP",
            SocketType::Dealer => "DEALER",
            SocketType::Router => "ROUTER",
            SocketType::Pull => "PULL",
            SocketType::Push => "PUSH",
            SocketType::XPub => "XPUB",
            SocketType::XSub => "XSUB",
            SocketType::Stream => "STREAM",
        }
    }

    /// The type named `name` in a ZMTP `Socket-Type` property.
    pub fn from_name(name: &[u8]) -> Option<SocketType> {
        (0..=11)
            .filter_map(SocketType::from_raw)
            .find(|t| t.name().as_bytes() == name)
    }

    /// Whether the pattern reads a routing-id frame first on each new pipe
    /// (libzmq: `options.recv_routing_id`).
    pub fn recv_routing_id(self) -> bool {
        matches!(
            self,
            SocketType::Router | SocketType::Rep | SocketType::Stream
        )
    }

    /// Whether a peer of type `peer` may talk to this type (RFC 23's table).
    pub fn compatible_with(self, peer: SocketType) -> bool {
        use SocketType::*;
        matches!(
            (self, peer),
            (Pair, Pair)
                | (Pub, Sub | XSub)
                | (XPub, Sub | XSub)
                | (Sub, Pub | XPub)
                | (XSub, Pub | XPub)
                | (Req, Rep | Router)
                | (Rep, Req | Dealer)
                | (Dealer, Rep | Dealer | Router)
                | (Router, Req | Dealer | Router)
                | (Pull, Push)
                | (Push, Pull)
        )
    }

    /// Whether this implementation has the pattern yet.
    pub fn is_implemented(self) -> bool {
        use SocketType::*;
        matches!(
            self,
            Pair | Pub | Sub | XPub | XSub | Req | Rep | Dealer | Router | Pull | Push | Stream
        )
    }
}

/// What a socket's mailbox carries.
pub enum Command {
    /// Activity on one of the socket's pipes.
    Pipe(PipeEvent),
    /// A new pipe to attach (an inproc peer connected, or a session finished
    /// its handshake).
    Attach(Pipe),
    /// The context is terminating: blocking calls end with `ETERM`.
    Stop,
    /// The connection behind a pipe was re-established (the end's id).
    Hiccup(u64),
}

/// A socket's mailbox; it wakes the socket for its pipes too.
pub struct SocketMailbox(pub Mailbox<Command>, Mutex<Option<i32>>);

impl SocketMailbox {
    pub fn new() -> std::io::Result<SocketMailbox> {
        Ok(SocketMailbox(Mailbox::new()?, Mutex::new(None)))
    }

    /// Hands the socket a new pipe. Once the socket has closed (it reads no
    /// more commands) the pipe is closed here instead, with the socket's
    /// linger, so that the peer or session at its other end ends rather
    /// than waiting for a socket that is gone.
    pub fn attach(&self, pipe: Pipe) {
        let closed = self.1.lock().unwrap_or_else(|p| p.into_inner());
        match *closed {
            Some(linger) => close_pipe(pipe, linger),
            None => self.0.send(Command::Attach(pipe)),
        }
    }

    /// The socket closes (with `linger`): pipes still waiting in the
    /// mailbox, and any attached from now on, are closed.
    fn close(&self, linger: i32) {
        let mut closed = self.1.lock().unwrap_or_else(|p| p.into_inner());
        *closed = Some(linger);
        let mut left = VecDeque::new();
        self.0.drain_into(&mut left);
        for cmd in left {
            if let Command::Attach(pipe) = cmd {
                close_pipe(pipe, linger);
            }
        }
    }
}

/// Closes a socket's end of a pipe as the socket closes, with its linger:
/// the peer gets what was written within it (0: nothing more).
fn close_pipe(mut pipe: Pipe, linger: i32) {
    if linger == 0 {
        pipe.close_write_hard();
    } else {
        pipe.set_close_linger(linger);
        pipe.close_write();
    }
    pipe.close_read();
}

impl PipeWaker for SocketMailbox {
    fn wake(&self, event: PipeEvent) {
        self.0.send(Command::Pipe(event));
    }
}

/// The pipes of a socket, and the lookup of a pipe end's id.
#[derive(Default)]
pub struct Pipes {
    slab: Slab<Pipe>,
    by_end: HashMap<u64, usize>,
}

impl Pipes {
    pub fn get(&mut self, key: usize) -> Option<&mut Pipe> {
        self.slab.get_mut(key)
    }

    fn key_of(&self, end: u64) -> Option<usize> {
        self.by_end.get(&end).copied()
    }

    fn insert(&mut self, pipe: Pipe) -> usize {
        let end = pipe.id();
        let key = self.slab.insert(pipe);
        self.by_end.insert(end, key);
        key
    }

    fn remove(&mut self, key: usize) -> Pipe {
        let pipe = self.slab.remove(key);
        self.by_end.remove(&pipe.id());
        pipe
    }

    pub fn keys(&self) -> Vec<usize> {
        self.slab.iter().map(|(k, _)| k).collect()
    }
}

impl std::ops::Index<usize> for Pipes {
    type Output = Pipe;
    fn index(&self, key: usize) -> &Pipe {
        &self.slab[key]
    }
}

impl std::ops::IndexMut<usize> for Pipes {
    fn index_mut(&mut self, key: usize) -> &mut Pipe {
        &mut self.slab[key]
    }
}

/// How long a thread woken by its answer's arrival on the connection waits,
/// yielding the CPU, for the I/O thread to deliver it (that thread's own
/// wake-up and decode).
const ANSWER_SPIN: Duration = Duration::from_micros(200);

/// Flags of `zmq_send`/`zmq_recv`.
pub mod send_flags {
    pub const DONTWAIT: i32 = 1;
    pub const SNDMORE: i32 = 2;
}

/// Events of `ZMQ_EVENTS`.
pub mod events {
    pub const POLLIN: i32 = 1;
    pub const POLLOUT: i32 = 2;
}

/// A socket. Owned by one application thread at a time.
pub struct Socket {
    ctx: Ctx,
    id: u64,
    ty: SocketType,
    options: Options,
    mailbox: Arc<SocketMailbox>,
    pipes: Pipes,
    pattern: Box<dyn Pattern>,
    /// The last frame received had `MORE` set (`ZMQ_RCVMORE`).
    rcvmore: bool,
    /// A Stop command was processed.
    ctx_terminated: bool,
    commands: VecDeque<Command>,
    /// Endpoints bound or connected, for unbind/disconnect and close.
    endpoints: Vec<(String, Endpoint)>,
    /// `zmq_socket_monitor`, shared with the connections' sessions.
    monitor: Monitor,
    /// Spins briefly for a command before a blocking call sleeps.
    spinner: Spinner,
    /// A message was received since the last one sent: the next is likely
    /// a reply, which may be written straight to an idle connection
    /// ([`flags::DIRECT`]) instead of waking its I/O thread. A socket that
    /// only sends (a PUSH, a PUB) never does: its messages batch up in the
    /// pipe, where one system call carries many.
    ///
    /// It also says which blocking waits spin before they sleep: a send
    /// held up by the high-water mark while a reply is due (the peer is
    /// answering), and a recv while none is (a reply to what we sent may be
    /// on its way). A socket that only receives (a PULL, a SUB) thus sleeps
    /// at once after its first message and lets its input batch up.
    reply_due: bool,
    /// The connection the last message went to directly (-1: none): a
    /// blocking recv also watches it, see [`Socket::wait_commands_or`].
    answer_fd: RawFd,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("type", &self.ty)
            .field("id", &self.id)
            .finish()
    }
}

impl Socket {
    pub(crate) fn new(
        ctx: Ctx,
        id: u64,
        ty: SocketType,
        ctx_options: &CtxOptions,
        mailbox: Arc<SocketMailbox>,
    ) -> Socket {
        let options = Options::new(ty, ctx_options);
        Socket {
            ctx,
            id,
            ty,
            pattern: patterns::new(ty, &options),
            options,
            mailbox,
            pipes: Pipes::default(),
            rcvmore: false,
            ctx_terminated: false,
            commands: VecDeque::new(),
            endpoints: Vec::new(),
            monitor: Monitor::default(),
            spinner: Spinner::default(),
            reply_due: false,
            answer_fd: -1,
        }
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.ty
    }

    /// The context the socket belongs to.
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// The socket's options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    pub(crate) fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    pub(crate) fn monitor_handle(&self) -> &Monitor {
        &self.monitor
    }

    /// Starts (or with `None`, stops) publishing the socket's events on an
    /// inproc PAIR endpoint (`zmq_socket_monitor`). Errors: `Term`,
    /// `Invalid`, `ProtocolNotSupported`, the bind's errors.
    pub fn monitor(
        &mut self,
        endpoint: Option<&str>,
        events: u64,
        version: i32,
        socket_type: i32,
    ) -> Result<()> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        match endpoint {
            None => {
                self.monitor.stop(true);
                Ok(())
            }
            Some(ep) => self
                .monitor
                .start(&self.ctx, ep, events, version, socket_type),
        }
    }

    pub(crate) fn mailbox(&self) -> &Arc<SocketMailbox> {
        &self.mailbox
    }

    /// The descriptor that becomes readable when the socket may have
    /// something to do (`ZMQ_FD`).
    pub fn fd(&self) -> RawFd {
        self.mailbox.0.fd()
    }

    // ---- options -------------------------------------------------------

    /// Sets an option from its raw value bytes (`zmq_setsockopt`).
    pub fn setsockopt(&mut self, option: SockOpt, value: &[u8]) -> Result<()> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        if option == SockOpt::RouterRaw {
            return self.set_router_raw(value);
        }
        if let Some(result) = self.pattern.setsockopt(&mut self.pipes, option, value) {
            return result;
        }
        self.options.set(option, value)?;
        if matches!(option, SockOpt::SndHwm | SockOpt::RcvHwm) {
            self.update_hwms();
        }
        self.pattern.options_changed(&self.options);
        Ok(())
    }

    /// `ZMQ_ROUTER_RAW` (deprecated): a ROUTER becomes a STREAM socket in
    /// all but its type: raw bytes on the wire, [id, data] messages, empty
    /// messages for connects and disconnects. REP takes it as libzmq does
    /// (REP is a ROUTER there) to no effect. Switching needs a ROUTER with
    /// no connections yet (EINVAL after).
    fn set_router_raw(&mut self, value: &[u8]) -> Result<()> {
        let on = crate::options::int_value(value)
            .filter(|&v| v >= 0 && matches!(self.ty, SocketType::Router | SocketType::Rep))
            .ok_or(Error::Invalid)?
            != 0;
        if on && self.ty == SocketType::Router && !self.options.raw_socket {
            if !self.pipes.keys().is_empty() {
                return Err(Error::Invalid);
            }
            self.pattern = patterns::raw_router();
            self.options.raw_socket = true;
        }
        Ok(())
    }

    /// Reads an option into `out`, returning the length of the value
    /// (`zmq_getsockopt`).
    pub fn getsockopt(&mut self, option: SockOpt, out: &mut [u8]) -> Result<usize> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        match option {
            SockOpt::Type => put_int(out, self.ty as i32),
            // The values libzmq's socket keeps itself take any buffer of
            // at least `sizeof(int)`.
            SockOpt::RcvMore => put_int_lenient(out, self.rcvmore as i32),
            SockOpt::Fd => put_int_lenient(out, self.fd()),
            SockOpt::ThreadSafe => put_int_lenient(out, 0),
            SockOpt::Events => {
                let events = self.ready_events()?;
                put_int_lenient(out, events)
            }
            SockOpt::LastEndpoint => put_string(out, self.options.last_endpoint.as_bytes()),
            _ => match self.pattern.getsockopt(option, out) {
                Some(result) => result,
                None => self.options.get(option, out),
            },
        }
    }

    /// `ZMQ_EVENTS`: processes pending commands, then reports whether a recv
    /// and a send would succeed now. Errors: `Term`.
    pub fn ready_events(&mut self) -> Result<i32> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        self.process_commands()?;
        Ok(self.events())
    }

    fn events(&mut self) -> i32 {
        let mut ev = 0;
        if self.pattern.has_in(&mut self.pipes) {
            ev |= events::POLLIN;
        }
        if self.pattern.has_out(&mut self.pipes) {
            ev |= events::POLLOUT;
        }
        ev
    }

    fn update_hwms(&mut self) {
        for key in self.pipes.keys() {
            self.pipes[key].set_sndhwm(self.options.sndhwm);
        }
    }

    // ---- commands ------------------------------------------------------

    /// Waits for a command until `deadline` (`None`: forever), spinning
    /// first when `spin` says a reply is likely soon, then handles what came.
    /// Returns `Term` once the context has stopped the socket and
    /// `Interrupted` when a signal interrupts the wait.
    fn wait_commands(&mut self, deadline: Option<Instant>, spin: bool) -> Result<()> {
        self.wait_commands_or(deadline, spin, -1)
    }

    /// As `wait_commands`, also watching `answer_fd` (if not negative), the
    /// connection a request just went to directly: when the answer arrives
    /// there, this thread wakes together with the I/O thread that reads it,
    /// and spins the few microseconds until that thread has delivered it,
    /// rather than waking only when told (one thread wake-up after another).
    fn wait_commands_or(
        &mut self,
        deadline: Option<Instant>,
        spin: bool,
        answer_fd: RawFd,
    ) -> Result<()> {
        // A command that comes while spinning saves a sleep and a wake.
        let mailbox = &self.mailbox.0;
        if spin && self.spinner.spin(deadline, || mailbox.has_pending()) {
            return self.handle_commands();
        }
        if answer_fd >= 0 {
            match mailbox.wait_or(answer_fd, deadline) {
                (Wait::Interrupted, _) => return Err(Error::Interrupted),
                (Wait::TimedOut, true) => {
                    if yield_until(ANSWER_SPIN, deadline, || mailbox.has_pending()) {
                        return self.handle_commands();
                    }
                }
                _ => return self.handle_commands(),
            }
        }
        if mailbox.wait(deadline) == Wait::Interrupted {
            return Err(Error::Interrupted);
        }
        self.handle_commands()
    }

    /// Handles pending commands without waiting.
    pub(crate) fn process_commands(&mut self) -> Result<()> {
        if !self.mailbox.0.has_pending() {
            return if self.ctx_terminated {
                Err(Error::Term)
            } else {
                Ok(())
            };
        }
        self.handle_commands()
    }

    fn handle_commands(&mut self) -> Result<()> {
        self.mailbox.0.drain_into(&mut self.commands);
        while let Some(cmd) = self.commands.pop_front() {
            match cmd {
                Command::Pipe(event) => self.pipe_event(event),
                Command::Attach(pipe) => self.attach_pipe(pipe, false),
                Command::Stop => self.ctx_terminated = true,
                Command::Hiccup(end) => {
                    if let Some(key) = self.pipes.key_of(end) {
                        self.pattern.hiccuped(&mut self.pipes, key);
                    }
                }
            }
        }
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        Ok(())
    }

    fn pipe_event(&mut self, event: PipeEvent) {
        let Some(key) = self.pipes.key_of(event.end) else {
            return;
        };
        match event.kind {
            PipeEventKind::ActivateRead => {
                self.pipes[key].activate_read();
                // A delimiter may be all that arrived: check for the end.
                if self.pipes[key].check_read() {
                    self.pattern.read_activated(&mut self.pipes, key);
                } else {
                    self.check_pipe_end(key);
                }
            }
            PipeEventKind::ActivateWrite => {
                if self.pipes[key].activate_write() {
                    self.pattern.write_activated(&mut self.pipes, key);
                } else {
                    self.check_pipe_end(key);
                }
            }
        }
    }

    /// Forgets a pipe once the peer's delimiter has been read: everything it
    /// sent before closing is delivered first (a peer that only stopped
    /// reading makes the pipe unwritable, not unreadable).
    pub(crate) fn check_pipe_end(&mut self, key: usize) {
        let pipe = &mut self.pipes[key];
        // Reading past the end pops the delimiter and marks the pipe closed.
        if !pipe.is_in_closed() && !pipe.check_read() {
            let _ = pipe.read();
        }
        if pipe.is_in_closed() {
            self.pattern.pipe_terminated(&mut self.pipes, key);
            let mut pipe = self.pipes.remove(key);
            pipe.close_write();
            pipe.close_read();
            self.endpoints_forget_pipe(pipe.id());
        }
    }

    /// Attaches a new pipe (libzmq: `attach_pipe`).
    pub(crate) fn attach_pipe(&mut self, pipe: Pipe, locally_initiated: bool) {
        let mut pipe = pipe;
        pipe.locally_initiated = locally_initiated;
        pipe.set_waker(self.mailbox.clone());
        let key = self.pipes.insert(pipe);
        self.attach_new_pipe(key);
    }

    // ---- sending and receiving -----------------------------------------

    fn deadline(timeout_ms: i32) -> Option<Instant> {
        (timeout_ms >= 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64))
    }

    /// Sends one frame (`zmq_msg_send`). On success the message is taken
    /// (left empty); on failure it is left to the caller.
    pub fn send(&mut self, msg: &mut Msg, flags_: i32) -> Result<()> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        self.process_commands()?;
        let more = flags_ & send_flags::SNDMORE != 0;
        let direct = !more && self.reply_due;
        msg.reset_flags(flags::MORE | flags::DIRECT);
        if more {
            msg.set_flags(flags::MORE);
        } else if direct {
            msg.set_flags(flags::DIRECT);
        }
        let result = self.send_frame(msg, flags_);
        match result {
            Ok(()) => {
                // A message sent whole is no longer a reply due.
                self.reply_due &= more;
                if !more {
                    self.answer_fd = if direct { direct::take_last_fd() } else { -1 };
                }
            }
            Err(_) => msg.reset_flags(flags::DIRECT),
        }
        result
    }

    /// `send` once the frame's flags are set: tries, then waits for room.
    #[inline]
    fn send_frame(&mut self, msg: &mut Msg, flags_: i32) -> Result<()> {
        match self.pattern.send(&mut self.pipes, msg) {
            Err(Error::Again) => self.send_wait(msg, flags_),
            other => other,
        }
    }

    /// `send_frame` when there was no room at first: waits for it, as the
    /// flags and `ZMQ_SNDTIMEO` allow. Out of line, so that the sending
    /// path stays short.
    #[cold]
    #[inline(never)]
    fn send_wait(&mut self, msg: &mut Msg, flags_: i32) -> Result<()> {
        let dontwait = flags_ & send_flags::DONTWAIT != 0;
        if dontwait || self.options.sndtimeo == 0 {
            return Err(Error::Again);
        }
        let deadline = Self::deadline(self.options.sndtimeo);
        let spin = self.reply_due;
        loop {
            self.wait_commands(deadline, spin)?;
            match self.pattern.send(&mut self.pipes, msg) {
                Err(Error::Again) => {}
                other => return other,
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Again);
            }
        }
    }

    /// Receives one frame (`zmq_msg_recv`).
    pub fn recv(&mut self, msg: &mut Msg, flags_: i32) -> Result<()> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        self.process_commands()?;
        match self.recv_once(msg) {
            Err(Error::Again) => {}
            other => return other,
        }
        let dontwait = flags_ & send_flags::DONTWAIT != 0;
        if dontwait || self.options.rcvtimeo == 0 {
            return Err(Error::Again);
        }
        let deadline = Self::deadline(self.options.rcvtimeo);
        let spin = !self.reply_due;
        let mut answer_fd = std::mem::replace(&mut self.answer_fd, -1);
        loop {
            // The connection is watched for one wake-up only: input that
            // the I/O thread does not deliver (a partial frame, a stalled
            // pipe) must not keep waking us.
            self.wait_commands_or(deadline, spin, std::mem::replace(&mut answer_fd, -1))?;
            match self.recv_once(msg) {
                Err(Error::Again) => {}
                other => return other,
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Again);
            }
        }
    }

    fn recv_once(&mut self, msg: &mut Msg) -> Result<()> {
        self.pattern.recv(&mut self.pipes, msg)?;
        self.rcvmore = msg.more();
        self.reply_due = true;
        Ok(())
    }

    /// Whether the socket has been stopped by its context.
    pub fn is_terminated(&self) -> bool {
        self.ctx_terminated
    }

    // ---- endpoints -----------------------------------------------------

    /// Binds to an endpoint (`zmq_bind`).
    pub fn bind(&mut self, endpoint: &str) -> Result<()> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        self.process_commands()?;
        let (resolved, ep) = match crate::transport::bind(self, endpoint) {
            Ok(bound) => bound,
            Err(e) => {
                self.bind_failed(endpoint, e);
                return Err(e);
            }
        };
        if let Some(fd) = ep.listener_fd() {
            self.monitor.event(event::LISTENING, fd as u64, &resolved);
        }
        self.options.last_endpoint = resolved.clone();
        self.endpoints.push((resolved, ep));
        Ok(())
    }

    /// Reports a failed tcp or ipc bind as libzmq does: the listener's
    /// socket is closed (CLOSED, no endpoint yet), then BIND_FAILED with the
    /// errno and the address without its scheme.
    fn bind_failed(&self, endpoint: &str, e: Error) {
        let Some(("tcp" | "ipc", address)) = endpoint.split_once("://") else {
            return;
        };
        if matches!(
            e,
            Error::Invalid | Error::Term | Error::ProtocolNotSupported
        ) {
            return;
        }
        let errno = e.os_errno().unwrap_or(0) as u64;
        self.monitor.event(event::CLOSED, 0, "");
        self.monitor.event(event::BIND_FAILED, errno, address);
    }

    /// Connects to an endpoint (`zmq_connect`).
    pub fn connect(&mut self, endpoint: &str) -> Result<()> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        self.process_commands()?;
        let ep = crate::transport::connect(self, endpoint)?;
        self.options.last_endpoint = endpoint.to_owned();
        self.endpoints.push((endpoint.to_owned(), ep));
        Ok(())
    }

    /// Stops listening on an endpoint (`zmq_unbind`).
    pub fn unbind(&mut self, endpoint: &str) -> Result<()> {
        self.drop_endpoint(endpoint, true)
    }

    /// Disconnects from an endpoint (`zmq_disconnect`).
    pub fn disconnect(&mut self, endpoint: &str) -> Result<()> {
        self.drop_endpoint(endpoint, false)
    }

    fn drop_endpoint(&mut self, endpoint: &str, bound: bool) -> Result<()> {
        if self.ctx_terminated {
            return Err(Error::Term);
        }
        self.process_commands()?;
        crate::transport::check_endpoint_syntax(endpoint)?;
        // Every endpoint made with this string goes (libzmq: the whole range).
        let (matching, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.endpoints)
            .into_iter()
            .partition(|(name, ep)| name == endpoint && ep.is_bound() == bound);
        self.endpoints = rest;
        if matching.is_empty() {
            return Err(Error::NoEntry);
        }
        for (name, ep) in matching {
            self.end_endpoint(&name, ep);
        }
        Ok(())
    }

    /// Ends an endpoint in its transport (a listener's close is a CLOSED
    /// event); returns the pipe end of a connection. `pipes_closed`: the
    /// socket closes the pipes of its connections itself (see
    /// `transport::end`).
    fn end_transport(&mut self, name: &str, ep: Endpoint, pipes_closed: bool) -> Option<u64> {
        if let Some(fd) = ep.listener_fd() {
            self.monitor.event(event::CLOSED, fd as u64, name);
        }
        crate::transport::end(self, ep, pipes_closed)
    }

    /// Undoes an endpoint: unregisters a bind, closes a connection's pipe.
    fn end_endpoint(&mut self, name: &str, ep: Endpoint) {
        // A connection's pipe is ours to close, after what is queued in it,
        // which its session then delivers within our linger (libzmq's
        // disconnect); a bind's sessions are ended by the I/O thread.
        let ours = ep.pipe_end().is_some();
        let pipe_end = self.end_transport(name, ep, ours);
        if let Some(end) = pipe_end {
            if let Some(key) = self.pipes.key_of(end) {
                self.pattern.pipe_terminated(&mut self.pipes, key);
                close_pipe(self.pipes.remove(key), self.options.linger);
            }
        }
    }

    fn endpoints_forget_pipe(&mut self, end: u64) {
        self.endpoints
            .retain(|(_, ep)| ep.pipe_end() != Some(end) || ep.is_bound());
    }

    /// Adds a pipe for a new connection of this socket and returns the
    /// peer's end, with routing ids exchanged as libzmq does for inproc.
    pub(crate) fn new_pipe(&mut self, hwms: [u64; 2]) -> (usize, Pipe) {
        let (local, remote) = Pipe::pair(hwms);
        let mut local = local;
        local.locally_initiated = true;
        local.set_waker(self.mailbox.clone());
        let key = self.pipes.insert(local);
        (key, remote)
    }

    /// Runs the pattern's attach for a pipe in the slab; a refused pipe (a
    /// second PAIR peer) is closed.
    pub(crate) fn attach_new_pipe(&mut self, key: usize) {
        if !self.pattern.attach(&mut self.pipes, key, &self.options) {
            let mut pipe = self.pipes.remove(key);
            pipe.close_write();
            pipe.close_read();
            return;
        }
        // Messages may have arrived before the waker was set.
        self.pattern.read_activated(&mut self.pipes, key);
    }

    pub(crate) fn pipe_mut(&mut self, key: usize) -> &mut Pipe {
        &mut self.pipes[key]
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    // ---- closing -------------------------------------------------------

    /// Closes the socket (`zmq_close`): with linger, what was sent stays
    /// queued for the peers; with linger 0 it is dropped.
    pub fn close(mut self) {
        let endpoints = std::mem::take(&mut self.endpoints);
        for (name, ep) in endpoints {
            if ep.ends_on_close() {
                self.end_transport(&name, ep, true);
            }
        }
        self.monitor.stop(true);
        let linger = self.options.linger;
        for key in self.pipes.keys() {
            close_pipe(self.pipes.remove(key), linger);
        }
        // Pipes on their way (a connection that completed its handshake, an
        // inproc peer that connected) are closed too.
        self.mailbox.close(linger);
        self.ctx.socket_closed(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inproc_disconnect_ends_the_peers_pipe() {
        let ctx = Ctx::new();
        let mut a = ctx.socket(SocketType::Push as i32).unwrap();
        let mut b = ctx.socket(SocketType::Pull as i32).unwrap();
        a.bind("inproc://d").unwrap();
        b.connect("inproc://d").unwrap();
        let mut m = Msg::from_slice(b"hi").unwrap();
        a.send(&mut m, 0).unwrap();
        b.recv(&mut m, 0).unwrap();
        b.disconnect("inproc://d").unwrap();
        assert!(a.mailbox.0.has_pending(), "the writer was not told");
        assert_eq!(a.ready_events().unwrap() & events::POLLOUT, 0);
        let mut m = Msg::from_slice(b"x").unwrap();
        assert_eq!(a.send(&mut m, send_flags::DONTWAIT), Err(Error::Again));
        a.close();
        b.close();
        ctx.terminate().unwrap();
    }
}
