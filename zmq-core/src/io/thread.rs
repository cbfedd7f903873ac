//! I/O threads: a mio reactor running listeners and sessions.
//!
//! libzmq: src/io_thread.cpp, session_base.cpp, tcp_listener.cpp,
//! tcp_connecter.cpp, zmtp_engine.cpp. A session joins one connection to
//! one pipe of its socket: its engine runs the ZMTP handshake, then moves
//! frames between the stream and the pipe. The pipe's HWM is the
//! backpressure: when the socket side is full, the engine stops reading and
//! TCP flow control does the rest. A connecting session keeps its pipe across
//! reconnections (unless `ZMQ_IMMEDIATE`), so messages queue while the peer
//! is away.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use crate::io::direct::DirectGate;
use crate::io::spin::{yield_until, IoSpinner};
use crate::monitor::{event, Monitor};
use crate::msg::{flags, Metadata, Msg};
use crate::pipe::{Pipe, PipeEvent, PipeWaker};
use crate::ypipe::{copy_region, Small, COMPACT_MAX};
use crate::socket::{Command, SocketMailbox, SocketType};
use crate::transport::address::{
    parse_tcp, resolve_host, tcp_endpoint_string, IpcAddr, TcpConnect,
};
use crate::transport::socks::SocksClient;
use crate::zmtp::codec::{encode_frame, frame_flags, DecodeError, Decoder};
use crate::zmtp::command::Command as ZmtpCommand;
use crate::zmtp::curve::Cipher;
use crate::zmtp::handshake::{self, Handshake, HandshakeError, Wire};
use crate::zmtp::v1::{self, V1Decoder};

/// The frame decoder of the connection's ZMTP version.
enum FrameDecoder {
    V3(Decoder),
    V1(V1Decoder),
    /// STREAM: whatever arrived is one message.
    Raw,
}

impl FrameDecoder {
    /// Decodes from the read buffer's bytes `start..end`; with `slice`,
    /// ZMTP 3 frames found whole are sliced out of the buffer, not copied.
    fn decode(
        &mut self,
        buf: &Msg,
        start: usize,
        end: usize,
        slice: bool,
    ) -> Result<(usize, Option<Msg>), DecodeError> {
        if let (FrameDecoder::V3(d), true) = (&mut *self, slice) {
            return d.decode_shared(buf, start, end);
        }
        let data = &buf.filled(end)[start..];
        match self {
            FrameDecoder::V3(d) => d.decode(data),
            FrameDecoder::V1(d) => d.decode(data),
            FrameDecoder::Raw => {
                let msg = Msg::from_slice(data).map_err(|_| DecodeError::TooLarge)?;
                Ok((data.len(), Some(msg)))
            }
        }
    }

    /// Space to read a large body's next bytes into, if in one.
    fn body_space(&mut self) -> Option<(&mut Msg, usize, usize)> {
        match self {
            FrameDecoder::V3(d) => d.body_space(DIRECT_READ, DIRECT_READ_MAX),
            FrameDecoder::V1(_) | FrameDecoder::Raw => None,
        }
    }

    fn commit_body(&mut self, n: usize) -> Option<Msg> {
        match self {
            FrameDecoder::V3(d) => d.commit_body(n),
            FrameDecoder::V1(_) | FrameDecoder::Raw => None,
        }
    }
}

const WAKER: Token = Token(usize::MAX);
/// Bytes read from a stream at a time.
const READ_CHUNK: usize = 64 * 1024;
/// A read of at least this many bytes has its frames sliced out of the read
/// buffer (no copy, no allocation per frame); the buffer is then replaced for
/// the next read. A smaller read's frames are copied, so a trickle of small
/// messages does not pin a buffer each.
const SLICE_MIN: usize = 8 * 1024;
/// Output is written once this much is batched (or the pipe runs dry).
const WRITE_BATCH: usize = 64 * 1024;
/// Below this many bytes of output, a session whose pipe runs dry while
/// frames keep coming yields the CPU and looks again before writing (at
/// most [`GATHER_LOOKS`] times a batch). An I/O thread that drains its pipe
/// faster than the application fills it would otherwise write a few frames
/// per system call: with the application on the other core, tcp 64 B made
/// 100-190k `sendto` calls per 4M messages instead of 5-15k.
const GATHER_BATCH: usize = 16 * 1024;
/// See [`GATHER_BATCH`]: one look costs a lone message a yield.
const GATHER_LOOKS: usize = 4;
/// Timer generations: the bits above this number a session (see
/// `Reactor::first_timer_gen`), the bits below count its timer states.
const SESSION_GEN_SHIFT: u32 = 32;
/// A body with at least this much still to come is read from the stream
/// straight into the message's buffer, not through the read buffer.
const DIRECT_READ: usize = 8 * 1024;
/// A frame at least this large makes the next read into the read buffer
/// ask for [`SMALL_READ`] bytes only: the next frame is likely large too,
/// and its header then comes with a little of its body, the rest going
/// straight into the message (libzmq reads in 8 KiB batches, and large
/// bodies directly). Smaller frames batch up in full-sized reads.
const LARGE_FRAME: usize = 64 * 1024;
const SMALL_READ: usize = 8 * 1024;
/// Bodies at least this large are written from the message itself, after
/// the batch before them and in the same system call, rather than copied
/// into the batch (libzmq's encoder does the same above its 8 KiB batch).
const DIRECT_WRITE: usize = 64 * 1024;
/// The most a direct read asks for at once.
const DIRECT_READ_MAX: usize = 4 * 1024 * 1024;

/// What a session needs to know of its socket's options.
#[derive(Clone, Debug)]
pub(crate) struct SessionOptions {
    pub socket_type: SocketType,
    pub routing_id: Vec<u8>,
    pub maxmsgsize: i64,
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub reconnect_ivl: i32,
    pub reconnect_ivl_max: i32,
    pub handshake_ivl: i32,
    pub stream_notify: bool,
    /// No ZMTP: raw bytes (STREAM, or ROUTER with `ZMQ_ROUTER_RAW`).
    pub raw: bool,
    /// `ZMQ_CONFLATE`: (socket to peer, peer to socket).
    pub conflate: (bool, bool),
    pub heartbeat_ivl: i32,
    pub heartbeat_ttl: i32,
    pub heartbeat_timeout: i32,
    pub connect_timeout: i32,
    pub ipv6: bool,
    pub metadata: Vec<(String, Vec<u8>)>,
    /// `ZMQ_SOCKS_PROXY` (with its credentials): tcp connects go through it.
    pub socks: Option<SocksOptions>,
    pub security: handshake::Security,
    pub zap_domain: Vec<u8>,
    pub zap_enforce_domain: bool,
    /// For the ZAP handler, bound at `inproc://zeromq.zap.01`.
    pub ctx: crate::ctx::WeakCtx,
    pub tcp: crate::sys::TcpTuning,
}

#[derive(Clone, Debug)]
pub(crate) struct SocksOptions {
    /// The proxy's "host:port".
    pub proxy: String,
    pub username: Vec<u8>,
    pub password: Vec<u8>,
}

/// Where a session belongs.
pub(crate) struct SessionSpec {
    pub options: SessionOptions,
    pub socket: Arc<SocketMailbox>,
    pub endpoint_id: u64,
    /// The socket's monitor, for connection events.
    pub monitor: Monitor,
    /// The endpoint as events name it (a listener's resolved address, the
    /// address connected to).
    pub endpoint: String,
}

pub(crate) enum ListenerKind {
    Tcp(TcpListener),
    Unix {
        listener: UnixListener,
        /// The path to unlink (and the wildcard directory to remove) on close.
        path: Option<PathBuf>,
        dir: Option<PathBuf>,
        /// `ZMQ_IPC_FILTER_*`: peers outside it are closed on accept.
        filter: crate::options::IpcFilter,
    },
}

pub(crate) enum Target {
    Tcp(TcpConnect),
    Ipc(IpcAddr),
}

/// Commands for an I/O thread.
pub(crate) enum IoCmd {
    Listen {
        spec: SessionSpec,
        listener: ListenerKind,
    },
    Connect {
        spec: SessionSpec,
        target: Target,
        /// The session's end of the socket's pipe (none with `ZMQ_IMMEDIATE`).
        pipe: Option<Pipe>,
    },
    Pipe {
        token: usize,
        event: PipeEvent,
    },
    /// The socket unbound or disconnected this endpoint (`pipes_closed`:
    /// the socket closes its sessions' pipes itself, with its linger).
    EndEndpoint { id: u64, pipes_closed: bool },
    /// The context is terminating: exit once nothing is left to deliver.
    Stop,
}

/// The half of an I/O thread other threads talk to.
pub(crate) struct IoShared {
    queue: Mutex<CmdQueue>,
    waker: Waker,
}

/// Commands for an I/O thread, and whether it is (about to be) asleep in
/// its poll: only then does a sender write to the waker. A thread busy with
/// what it was woken for looks at the queue again before it sleeps, so a
/// stream of pipe activations while it writes costs no system call each.
#[derive(Default)]
struct CmdQueue {
    cmds: VecDeque<IoCmd>,
    sleeping: bool,
}

impl IoShared {
    pub fn send(&self, cmd: IoCmd) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.cmds.push_back(cmd);
        let wake = std::mem::take(&mut q.sleeping);
        drop(q);
        if wake {
            let _ = self.waker.wake();
        }
    }

    /// Before the I/O thread polls: whether it may block (no command is
    /// waiting), in which case it counts as asleep until it takes commands
    /// again.
    fn prepare_sleep(&self) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.sleeping = q.cmds.is_empty();
        q.sleeping
    }

    /// Whether commands are waiting.
    fn has_commands(&self) -> bool {
        !self.queue.lock().unwrap_or_else(|p| p.into_inner()).cmds.is_empty()
    }

    /// Takes the waiting commands; the I/O thread is awake.
    fn take_commands(&self, into: &mut VecDeque<IoCmd>) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.sleeping = false;
        into.append(&mut q.cmds);
    }
}

/// Wakes an I/O thread for a session's pipe.
struct SessionWaker {
    io: Arc<IoShared>,
    token: usize,
}

impl PipeWaker for SessionWaker {
    fn wake(&self, event: PipeEvent) {
        self.io.send(IoCmd::Pipe {
            token: self.token,
            event,
        });
    }
}

/// A running I/O thread.
pub(crate) struct IoThread {
    pub shared: Arc<IoShared>,
    handle: Option<JoinHandle<()>>,
}

impl IoThread {
    pub fn start(name: String) -> io::Result<IoThread> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let shared = Arc::new(IoShared {
            queue: Mutex::new(CmdQueue::default()),
            waker,
        });
        let reactor = Reactor {
            poll,
            shared: shared.clone(),
            objects: Slab::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            sessions_made: 0,
            stopping: false,
            commands: VecDeque::new(),
        };
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || reactor.run())?;
        Ok(IoThread {
            shared,
            handle: Some(handle),
        })
    }

    /// Asks the thread to finish and waits for it.
    pub fn stop(&mut self) {
        self.shared.send(IoCmd::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        self.stop();
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    /// For a connect in progress: `Ok(true)` once connected.
    fn connected(&mut self) -> io::Result<bool> {
        let (err, peer) = match self {
            Stream::Tcp(s) => (s.take_error()?, s.peer_addr().map(|_| ())),
            Stream::Unix(s) => (s.take_error()?, s.peer_addr().map(|_| ())),
        };
        if let Some(e) = err {
            return Err(e);
        }
        match peer {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    /// The local address as monitor events name an accepted connection
    /// (ipc: the listener's endpoint).
    fn local_endpoint(&self, listener: &str) -> String {
        match self {
            Stream::Tcp(s) => match s.local_addr() {
                Ok(a) => tcp_endpoint_string(&a),
                Err(_) => listener.to_owned(),
            },
            Stream::Unix(_) => listener.to_owned(),
        }
    }

    fn peer_address(&self) -> Option<String> {
        match self {
            Stream::Tcp(s) => s.peer_addr().ok().map(|a| a.ip().to_string()),
            // libzmq: the peer process's credentials.
            Stream::Unix(s) => crate::sys::peer_cred(s)
                .ok()
                .map(|(pid, uid, gid)| format!("localhost:{uid}:{gid}:{pid}")),
        }
    }
}

/// The ZMTP engine of one connection.
struct Engine {
    stream: Stream,
    /// Still connecting (connect side): wait for writability.
    connecting: bool,
    /// The stream may have input: set by a readable event, cleared when a
    /// read would block. The stream is registered edge-triggered, so a read
    /// that would block is followed by an event when input arrives; without
    /// the flag every pipe event cost a read(2) that came back EAGAIN.
    readable: bool,
    /// The stream may take output: set by a writable event, cleared when a
    /// write would block or was short (a short write means the send buffer
    /// filled, and the kernel then raises the next writable edge when the
    /// peer has drained it). Retrying at once only earned EAGAIN, or a few
    /// bytes per call: 40k sendto calls for 2M small messages over ipc.
    writable: bool,
    /// The SOCKS proxy's handshake, before ZMTP's (`ZMQ_SOCKS_PROXY`).
    socks: Option<SocksClient>,
    /// CURVE: every frame is boxed both ways.
    cipher: Option<Cipher>,
    /// The errno of the read that ended the connection (EPIPE for an
    /// orderly close), for HANDSHAKE_FAILED_NO_DETAIL.
    errno: i32,
    handshake: Option<Handshake>,
    decoder: FrameDecoder,
    /// The framing negotiated (ZMTP 3 until the handshake says otherwise).
    wire: Wire,
    maxmsgsize: i64,
    /// The read buffer (shared with the frames sliced out of it), the end
    /// of what was read into it, and how far that is decoded.
    inbuf: Msg,
    in_len: usize,
    in_pos: usize,
    out: Vec<u8>,
    out_pos: usize,
    metadata: Option<Arc<Metadata>>,
    /// A frame the pipe had no room for; input is stalled until it fits.
    pending_in: Option<Msg>,
    /// In the middle of a multipart message towards the socket.
    in_more: bool,
    /// In the middle of a multipart message towards the peer.
    out_more: bool,
    /// A large body being written straight from its message (after `out`).
    out_body: Option<(Msg, usize)>,
    /// For REQ sockets: where we are in the expected reply envelope.
    req_state: ReqState,
    /// The peer speaks ZMTP 3.1: our subscriptions go as SUBSCRIBE/CANCEL
    /// commands rather than `\x01`/`\x00` messages.
    sub_commands: bool,
    /// The connection's endpoint in monitor events.
    endpoint: String,
    /// A STREAM connection, not yet reported ready (it has no handshake).
    raw_ready: bool,
    /// Counts reads that brought data (heartbeat timeouts look for any).
    input_seq: u64,
    /// A PING to write at the next frame boundary.
    ping_due: bool,
    /// The heartbeat timeout is running, since input number .0.
    timeout_armed: Option<u64>,
    /// The peer's TTL is running, since input number .0.
    ttl_armed: Option<u64>,
    /// A PING asked for a TTL (ms) not yet armed.
    ttl_pending: Option<u64>,
    /// The last frame received was large (see [`LARGE_FRAME`]).
    large_in: bool,
    /// The session's gate for direct writes, open while this (plain)
    /// connection is up; closed when the engine goes, before its socket.
    gate: Option<Arc<DirectGate>>,
    /// We told the gate we are idle: mark it busy before writing.
    gate_idle: bool,
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.close();
        }
    }
}

/// libzmq's `req_session_t`: a REQ's replies must be `[request id]`, an
/// empty delimiter, then the body; anything else drops the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReqState {
    Bottom,
    RequestId,
    Body,
}

impl ReqState {
    /// The state after `frame`, or `None` if the frame breaks the envelope.
    fn next(self, frame: &Msg) -> Option<ReqState> {
        let more = frame.flags() & flags::MORE != 0;
        match self {
            ReqState::Bottom if more && frame.size() == 4 => Some(ReqState::RequestId),
            ReqState::Bottom | ReqState::RequestId if more && frame.size() == 0 => {
                Some(ReqState::Body)
            }
            ReqState::Body if more => Some(ReqState::Body),
            ReqState::Body => Some(ReqState::Bottom),
            _ => None,
        }
    }
}

impl Engine {
    /// Appends a command frame to the output (boxed under CURVE).
    fn put_command(&mut self, cmd: &ZmtpCommand) {
        match &mut self.cipher {
            Some(c) => c.encrypt(&cmd.to_msg(), &mut self.out),
            None => cmd.encode(&mut self.out),
        }
    }

    /// Appends a message frame to the output in the connection's framing.
    fn put_msg(&mut self, msg: &Msg) {
        match &mut self.cipher {
            Some(c) => c.encrypt(msg, &mut self.out),
            None => encode_wire(self.wire, &mut self.out, msg),
        }
    }

    /// Writes what output it can without waiting: an ERROR command that
    /// explains a failed handshake before the connection closes.
    fn flush_best_effort(&mut self) {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(n) if n > 0 => self.out_pos += n,
                _ => break,
            }
        }
    }

    /// Connected and past the handshake (a STREAM connection: reported
    /// ready).
    fn is_up(&self) -> bool {
        !self.connecting && !self.raw_ready && self.handshake.is_none()
    }

    fn new(
        stream: Stream,
        connecting: bool,
        options: &SessionOptions,
        endpoint: String,
        socks: Option<SocksClient>,
    ) -> Engine {
        let raw = options.raw;
        Engine {
            endpoint,
            socks,
            cipher: None,
            errno: 0,
            stream,
            connecting,
            readable: true,
            writable: true,
            raw_ready: raw,
            input_seq: 0,
            ping_due: false,
            timeout_armed: None,
            ttl_armed: None,
            ttl_pending: None,
            large_in: false,
            handshake: (!raw).then(|| {
                Handshake::new(handshake::Config {
                    socket_type: options.socket_type,
                    identity: options.routing_id.clone(),
                    metadata: options.metadata.clone(),
                    security: options.security.clone(),
                    null_zap: !options.zap_domain.is_empty(),
                })
            }),
            decoder: if raw {
                FrameDecoder::Raw
            } else {
                FrameDecoder::V3(Decoder::new(options.maxmsgsize))
            },
            wire: Wire::V3,
            maxmsgsize: options.maxmsgsize,
            inbuf: Msg::new(),
            in_len: 0,
            in_pos: 0,
            out: Vec::with_capacity(WRITE_BATCH),
            out_pos: 0,
            metadata: None,
            pending_in: None,
            in_more: false,
            out_more: false,
            out_body: None,
            req_state: ReqState::Bottom,
            sub_commands: false,
            gate: None,
            gate_idle: false,
        }
    }
}

enum SessionKind {
    /// Accepted by a listener.
    Accepted,
    /// Made by `zmq_connect`; reconnects.
    Connecting {
        target: Target,
        /// The current reconnect interval (grows up to the maximum).
        ivl: i32,
        /// With `ZMQ_IMMEDIATE` the pipe exists only while connected.
        immediate: bool,
    },
}

struct Session {
    spec: SessionSpec,
    kind: SessionKind,
    pipe: Option<Pipe>,
    engine: Option<Engine>,
    /// The socket closed its end: deliver what is left, then go.
    closing: bool,
    /// The linger period has been applied to `closing`.
    linger_started: bool,
    /// Drop the rest of a message half-sent on a dropped connection.
    skip_out_rest: bool,
    /// Invalidates timers set before the last state change.
    timer_gen: u64,
    /// Completed handshakes (a connecter's later ones are reconnections).
    handshakes: u32,
    /// The pipe to the ZAP handler while the handshake asks it, and the
    /// frames of its reply so far.
    zap: Option<Pipe>,
    zap_reply: Vec<Msg>,
    /// Lets the socket write replies straight to the connection.
    gate: Arc<DirectGate>,
}

impl Session {
    /// Drops the pipe to the ZAP handler, if any.
    fn end_zap(&mut self) {
        if let Some(mut pipe) = self.zap.take() {
            pipe.close_write();
            pipe.close_read();
        }
        self.zap_reply.clear();
    }
}

struct ListenerObj {
    spec: SessionSpec,
    kind: ListenerKind,
}

enum Object {
    Listener(Box<ListenerObj>),
    Session(Box<Session>),
}

#[derive(Clone, Copy, Debug)]
enum TimerKind {
    Reconnect,
    Connect,
    Handshake,
    Linger,
    /// Time to send a PING (`ZMQ_HEARTBEAT_IVL`).
    HeartbeatIvl,
    /// No answer to our PING (`ZMQ_HEARTBEAT_TIMEOUT`).
    HeartbeatTimeout,
    /// The peer's PING promised more within its TTL.
    HeartbeatTtl,
}

/// The longest an I/O thread watches for more work before it sleeps
/// (`Reactor::poll_spinning`).
const IO_SPIN_LIMIT: Duration = Duration::from_micros(50);

struct Reactor {
    poll: Poll,
    shared: Arc<IoShared>,
    objects: Slab<Object>,
    /// (deadline, seq) -> (token, generation, kind)
    timers: BTreeMap<(Instant, u64), (usize, u64, TimerKind)>,
    timer_seq: u64,
    /// Sessions created so far: each starts its timer generations in its
    /// own range, so a timer left by a session whose token was reused
    /// cannot fire for its successor.
    sessions_made: u64,
    stopping: bool,
    commands: VecDeque<IoCmd>,
}

/// Why a connection ended.
enum Closed {
    /// The peer went away (a connecting session reconnects).
    Dropped,
    /// The peer broke the protocol: the session ends for good (libzmq's
    /// `protocol_error`; no reconnection).
    Protocol,
    /// The handshake failed: as `Protocol`, reported to the monitor (a
    /// protocol error with libzmq's `ZMQ_PROTOCOL_ERROR_*` code, or an
    /// authentication failure with its ZAP status code).
    Handshake(HandshakeError),
    /// The socket closed and everything was delivered.
    Finished,
}

impl Reactor {
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let mut spinner = IoSpinner::default();
        let mut worked = false;
        loop {
            let spun = worked && spinner.spin(|| self.poll_spinning(&mut events));
            if !spun {
                let timeout = if self.shared.prepare_sleep() {
                    self.timers
                        .keys()
                        .next()
                        .map(|(d, _)| d.saturating_duration_since(Instant::now()))
                } else {
                    Some(Duration::ZERO)
                };
                self.poll_once(&mut events, timeout);
            }
            // Commands before the events the same poll brought: an
            // application thread may cause an event itself, with a direct
            // write (see `io::direct`), after it queued a command (a
            // socket unbound, say) that must take effect first; events for
            // what the commands removed are then ignored.
            worked = self.process_commands() | !events.is_empty();
            for ev in events.iter() {
                if ev.token() == WAKER {
                    continue;
                }
                let token = ev.token().0;
                let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                let writable = ev.is_writable() || ev.is_write_closed() || ev.is_error();
                self.ready(token, readable, writable);
            }
            self.fire_timers();
            if self.stopping && self.objects.is_empty() {
                return;
            }
        }
    }

    fn poll_once(&mut self, events: &mut Events, timeout: Option<Duration>) {
        if let Err(e) = self.poll.poll(events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                panic!("I/O thread poll failed: {e}");
            }
        }
    }

    /// After a turn that did work: watches for more (ready sockets,
    /// commands) until `IO_SPIN_LIMIT` or the first timer's deadline,
    /// yielding the CPU between looks, rather than sleeping at once.
    /// Whether anything came (a timer that falls due is not counted).
    ///
    /// A thread that blocks lets its CPU go idle, and waking it again (the
    /// application's next message, the peer's next bytes) costs a system
    /// call on the waking side and, on a virtual machine, tens of
    /// microseconds to bring the idle CPU back. A stream of messages comes
    /// back well within the limit. Meanwhile `sleeping` stays false, so
    /// whoever queues a command does not write to the waker; yielding lets
    /// a thread that shares this CPU (the application writing the very
    /// stream) run first.
    fn poll_spinning(&mut self, events: &mut Events) -> bool {
        let first_timer = self.timers.keys().next().map(|(d, _)| *d);
        yield_until(IO_SPIN_LIMIT, first_timer, || {
            self.poll_once(events, Some(Duration::ZERO));
            !events.is_empty() || self.shared.has_commands()
        })
    }

    /// Takes and carries out the waiting commands; whether there were any.
    fn process_commands(&mut self) -> bool {
        self.shared.take_commands(&mut self.commands);
        let any = !self.commands.is_empty();
        while let Some(cmd) = self.commands.pop_front() {
            match cmd {
                IoCmd::Listen { spec, listener } => self.add_listener(spec, listener),
                IoCmd::Connect { spec, target, pipe } => self.add_connecter(spec, target, pipe),
                IoCmd::Pipe { token, event } => self.pipe_event(token, event),
                IoCmd::EndEndpoint { id, pipes_closed } => self.end_endpoint(id, pipes_closed),
                IoCmd::Stop => self.stopping = true,
            }
        }
        any
    }

    /// The first timer generation of a new session: each session's
    /// generations share their bits above `SESSION_GEN_SHIFT`.
    fn first_timer_gen(&mut self) -> u64 {
        self.sessions_made += 1;
        self.sessions_made << SESSION_GEN_SHIFT
    }

    fn add_timer(&mut self, token: usize, gen: u64, after: Duration, kind: TimerKind) {
        self.timer_seq += 1;
        self.timers
            .insert((Instant::now() + after, self.timer_seq), (token, gen, kind));
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (token, gen, kind) = entry.remove();
            let Some(Object::Session(s)) = self.objects.get_mut(token) else {
                continue;
            };
            // A timer dies with the session it was set for (a later session
            // may have taken its slot: the generations of each session are
            // a range of their own, see `first_timer_gen`). A linger
            // deadline is absolute; other timers also die with the state
            // they were set for.
            if s.timer_gen >> SESSION_GEN_SHIFT != gen >> SESSION_GEN_SHIFT
                || (s.timer_gen != gen && !matches!(kind, TimerKind::Linger))
            {
                continue;
            }
            match kind {
                TimerKind::Reconnect => self.start_connect(token),
                TimerKind::Handshake => {
                    if s.engine.as_ref().is_some_and(|e| e.handshake.is_some()) {
                        self.engine_closed(token, Closed::Dropped);
                    }
                }
                TimerKind::Connect => {
                    if s.engine.as_ref().is_some_and(|e| e.connecting) {
                        self.engine_closed(token, Closed::Dropped);
                    }
                }
                TimerKind::Linger => self.remove_session(token),
                TimerKind::HeartbeatIvl => self.heartbeat(token),
                TimerKind::HeartbeatTimeout | TimerKind::HeartbeatTtl => {
                    let Some(engine) = s.engine.as_mut() else {
                        continue;
                    };
                    let armed = match kind {
                        TimerKind::HeartbeatTimeout => &mut engine.timeout_armed,
                        _ => &mut engine.ttl_armed,
                    };
                    if *armed == Some(engine.input_seq) {
                        // Silence since it was armed: the peer is gone.
                        self.engine_closed(token, Closed::Dropped);
                    } else {
                        *armed = None;
                    }
                }
            }
        }
    }

    // ---- listeners -----------------------------------------------------

    fn add_listener(&mut self, spec: SessionSpec, mut kind: ListenerKind) {
        let entry = self.objects.vacant_entry();
        let token = Token(entry.key());
        let registered = match &mut kind {
            ListenerKind::Tcp(l) => self.poll.registry().register(l, token, Interest::READABLE),
            ListenerKind::Unix { listener, .. } => {
                self.poll
                    .registry()
                    .register(listener, token, Interest::READABLE)
            }
        };
        if registered.is_ok() {
            entry.insert(Object::Listener(Box::new(ListenerObj { spec, kind })));
            self.accept(token.0);
        }
    }

    fn accept(&mut self, token: usize) {
        loop {
            let first_gen = self.first_timer_gen();
            let Some(Object::Listener(l)) = self.objects.get_mut(token) else {
                return;
            };
            let stream = match &mut l.kind {
                ListenerKind::Tcp(listener) => listener.accept().map(|(s, _)| {
                    let _ = s.set_nodelay(true);
                    crate::sys::tune_tcp(&s, &l.spec.options.tcp);
                    Stream::Tcp(s)
                }),
                ListenerKind::Unix {
                    listener, filter, ..
                } => match listener.accept() {
                    // Refused by ZMQ_IPC_FILTER_*: closed at once, reported
                    // as a failed accept (libzmq; its value is a stale
                    // errno, ours 0).
                    Ok((s, _)) if !filter.allows(&s) => {
                        drop(s);
                        l.spec
                            .monitor
                            .event(event::ACCEPT_FAILED, 0, &l.spec.endpoint);
                        continue;
                    }
                    other => other.map(|(s, _)| Stream::Unix(s)),
                },
            };
            match stream {
                Ok(stream) => {
                    let spec = SessionSpec {
                        options: l.spec.options.clone(),
                        socket: l.spec.socket.clone(),
                        endpoint_id: l.spec.endpoint_id,
                        monitor: l.spec.monitor.clone(),
                        endpoint: l.spec.endpoint.clone(),
                    };
                    let endpoint = stream.local_endpoint(&l.spec.endpoint);
                    spec.monitor
                        .event(event::ACCEPTED, stream.raw_fd() as u64, &endpoint);
                    let session = Session {
                        spec,
                        kind: SessionKind::Accepted,
                        pipe: None,
                        engine: None,
                        closing: false,
                        linger_started: false,
                        skip_out_rest: false,
                        timer_gen: first_gen,
                        handshakes: 0,
                        zap: None,
                        zap_reply: Vec::new(),
                        gate: Arc::new(DirectGate::new()),
                    };
                    let key = self.objects.insert(Object::Session(Box::new(session)));
                    self.attach_engine(key, stream, false, endpoint, None);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // EMFILE, ECONNABORTED, ...: try again on the next event.
                Err(e) => {
                    let errno = e.raw_os_error().unwrap_or(0) as u64;
                    l.spec
                        .monitor
                        .event(event::ACCEPT_FAILED, errno, &l.spec.endpoint);
                    return;
                }
            }
        }
    }

    fn close_listener(&mut self, l: ListenerObj) {
        match l.kind {
            ListenerKind::Tcp(mut listener) => {
                let _ = self.poll.registry().deregister(&mut listener);
            }
            ListenerKind::Unix {
                mut listener,
                path,
                dir,
                ..
            } => {
                let _ = self.poll.registry().deregister(&mut listener);
                if let Some(path) = path {
                    let _ = std::fs::remove_file(path);
                }
                if let Some(dir) = dir {
                    let _ = std::fs::remove_dir(dir);
                }
            }
        }
    }

    // ---- sessions ------------------------------------------------------

    fn add_connecter(&mut self, spec: SessionSpec, target: Target, pipe: Option<Pipe>) {
        let immediate = pipe.is_none();
        let ivl = spec.options.reconnect_ivl;
        let session = Session {
            spec,
            kind: SessionKind::Connecting {
                target,
                ivl,
                immediate,
            },
            pipe,
            engine: None,
            closing: false,
            linger_started: false,
            skip_out_rest: false,
            timer_gen: self.first_timer_gen(),
            handshakes: 0,
            zap: None,
            zap_reply: Vec::new(),
            gate: Arc::new(DirectGate::new()),
        };
        let token = self.objects.insert(Object::Session(Box::new(session)));
        if let Some(Object::Session(s)) = self.objects.get_mut(token) {
            if let Some(p) = &s.pipe {
                p.set_waker(Arc::new(SessionWaker {
                    io: self.shared.clone(),
                    token,
                }));
                p.set_direct(s.gate.clone());
            }
        }
        self.start_connect(token);
    }

    fn session(&mut self, token: usize) -> Option<&mut Session> {
        match self.objects.get_mut(token) {
            Some(Object::Session(s)) => Some(s),
            _ => None,
        }
    }

    fn start_connect(&mut self, token: usize) {
        let Some(s) = self.session(token) else {
            return;
        };
        let SessionKind::Connecting { target, .. } = &s.kind else {
            return;
        };
        let ipv6 = s.spec.options.ipv6;
        let mut endpoint = s.spec.endpoint.clone();
        let mut socks = None;
        let stream = match target {
            Target::Tcp(tc) => {
                // Through a SOCKS proxy: connect to it, and let it resolve
                // and reach the endpoint (libzmq: socks_connecter).
                let dest = match &s.spec.options.socks {
                    Some(proxy) => parse_tcp(&proxy.proxy).ok().map(|spec| {
                        socks = Some(SocksClient::new(
                            &tc.dest.host,
                            tc.dest.port,
                            &proxy.username,
                            &proxy.password,
                        ));
                        (spec.host, spec.port)
                    }),
                    None => Some((tc.dest.host.clone(), tc.dest.port)),
                };
                match dest.and_then(|(host, port)| resolve_host(&host, port, ipv6)) {
                    Some(addr) => {
                        // Events name the address connected to: the proxy's,
                        // through one.
                        endpoint = tcp_endpoint_string(&addr);
                        connect_tcp(
                            addr,
                            tc.source
                                .as_ref()
                                .and_then(|src| resolve_host(&src.host, src.port, ipv6)),
                        )
                        .map(Stream::Tcp)
                    }
                    None => Err(io::Error::from(io::ErrorKind::NotFound)),
                }
            }
            Target::Ipc(addr) => connect_ipc(addr).map(Stream::Unix),
        };
        match stream {
            Ok(stream) => {
                if matches!(stream, Stream::Tcp(_)) {
                    // A non-blocking tcp connect is in progress.
                    let einprogress = libc::EINPROGRESS as u64;
                    s.spec
                        .monitor
                        .event(event::CONNECT_DELAYED, einprogress, &endpoint);
                }
                self.attach_engine(token, stream, true, endpoint, socks)
            }
            Err(_) => self.engine_closed(token, Closed::Dropped),
        }
    }

    fn schedule_reconnect(&mut self, token: usize) {
        let Some(s) = self.session(token) else {
            return;
        };
        let max = s.spec.options.reconnect_ivl_max;
        let SessionKind::Connecting { ivl, .. } = &mut s.kind else {
            return;
        };
        if *ivl < 0 {
            // ZMQ_RECONNECT_IVL -1: no reconnection.
            return;
        }
        let wait = *ivl;
        if max > 0 && *ivl < max {
            *ivl = (*ivl * 2).min(max);
        }
        // Through a proxy, reconnection is to the proxy (libzmq).
        let endpoint = match &s.spec.options.socks {
            Some(socks) => format!("tcp://{}", socks.proxy),
            None => s.spec.endpoint.clone(),
        };
        s.spec
            .monitor
            .event(event::CONNECT_RETRIED, wait as u64, &endpoint);
        s.timer_gen += 1;
        let gen = s.timer_gen;
        self.add_timer(
            token,
            gen,
            Duration::from_millis(wait as u64),
            TimerKind::Reconnect,
        );
    }

    fn attach_engine(
        &mut self,
        token: usize,
        mut stream: Stream,
        connecting: bool,
        endpoint: String,
        socks: Option<SocksClient>,
    ) {
        let registered = self.poll.registry().register(
            stream.source(),
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        );
        let Some(s) = self.session(token) else {
            return;
        };
        if registered.is_err() {
            return self.engine_closed(token, Closed::Dropped);
        }
        let engine = Engine::new(stream, connecting, &s.spec.options, endpoint, socks);
        s.engine = Some(engine);
        s.timer_gen += 1;
        let gen = s.timer_gen;
        let ivl = s.spec.options.handshake_ivl;
        let connect_timeout = s.spec.options.connect_timeout;
        if ivl > 0 {
            let after = Duration::from_millis(ivl as u64);
            self.add_timer(token, gen, after, TimerKind::Handshake);
        }
        if connecting && connect_timeout > 0 {
            let after = Duration::from_millis(connect_timeout as u64);
            self.add_timer(token, gen, after, TimerKind::Connect);
        }
        if !connecting {
            self.drive(token);
        }
    }

    fn ready(&mut self, token: usize, readable: bool, writable: bool) {
        match self.objects.get_mut(token) {
            Some(Object::Listener(_)) if readable => self.accept(token),
            Some(Object::Listener(_)) => {}
            Some(Object::Session(s)) => {
                let Some(engine) = s.engine.as_mut() else {
                    return;
                };
                engine.readable |= readable;
                engine.writable |= writable;
                if engine.connecting {
                    if !(writable || readable) {
                        return;
                    }
                    match engine.stream.connected() {
                        Ok(true) => {
                            engine.connecting = false;
                            let fd = engine.stream.raw_fd() as u64;
                            // Through a proxy, CONNECTED waits for its yes.
                            if engine.socks.is_none() {
                                s.spec.monitor.event(event::CONNECTED, fd, &engine.endpoint);
                            }
                            // A connection resets the backoff.
                            let base = s.spec.options.reconnect_ivl;
                            if let SessionKind::Connecting { ivl, .. } = &mut s.kind {
                                *ivl = base;
                            }
                        }
                        Ok(false) => return,
                        Err(_) => return self.engine_closed(token, Closed::Dropped),
                    }
                }
                self.drive(token);
            }
            None => {}
        }
    }

    fn pipe_event(&mut self, token: usize, event: PipeEvent) {
        let Some(s) = self.session(token) else {
            return;
        };
        if s.zap.as_ref().is_some_and(|z| z.id() == event.end) {
            return self.zap_event(token, event);
        }
        let delivering = s.delivering();
        let Some(pipe) = s.pipe.as_mut() else {
            return;
        };
        if pipe.id() != event.end {
            return;
        }
        pipe.activate(event.kind);
        if !delivering {
            // Not connected (yet): the socket may have closed meanwhile.
            if pipe.is_peer_closed() {
                let linger = pipe.peer_close_linger();
                self.start_closing(token, linger);
            }
            return;
        }
        self.drive(token);
    }

    /// Moves everything that can move: input to the pipe, pipe to output.
    fn drive(&mut self, token: usize) {
        let result = {
            let Some(s) = self.session(token) else {
                return;
            };
            s.pump()
        };
        match result {
            Ok(Progress::Running) => {
                match self.start_zap(token) {
                    Ok(true) => return self.drive(token),
                    Ok(false) => {}
                    Err(e) => return self.handshake_failed(token, e),
                }
                let Some(s) = self.session(token) else {
                    return;
                };
                let gen = s.timer_gen;
                let ttl = s.engine.as_mut().and_then(|e| {
                    let ttl = e.ttl_pending.take()?;
                    e.ttl_armed = Some(e.input_seq);
                    Some(ttl)
                });
                if let Some(ttl) = ttl {
                    let after = Duration::from_millis(ttl);
                    self.add_timer(token, gen, after, TimerKind::HeartbeatTtl);
                }
                let Some(s) = self.session(token) else {
                    return;
                };
                if s.closing && !s.linger_started {
                    let linger = s.pipe.as_ref().map_or(0, |p| p.peer_close_linger());
                    self.start_closing(token, linger);
                }
            }
            Ok(Progress::HandshakeDone(peer)) => {
                self.handshake_done(token, peer);
                self.drive(token);
            }
            // A failed handshake may have an ERROR to say first.
            Err(Closed::Handshake(e)) => self.handshake_failed(token, e),
            Err(closed) => self.engine_closed(token, closed),
        }
    }

    /// `ZMQ_HEARTBEAT_IVL` is up: a PING goes out at the next frame
    /// boundary, and unless input arrives within the heartbeat timeout
    /// (`ZMQ_HEARTBEAT_TIMEOUT`, else the interval) the connection is dropped.
    fn heartbeat(&mut self, token: usize) {
        let Some(s) = self.session(token) else {
            return;
        };
        let o = &s.spec.options;
        let ivl = o.heartbeat_ivl;
        let timeout = if o.heartbeat_timeout >= 0 {
            o.heartbeat_timeout
        } else {
            ivl
        };
        let gen = s.timer_gen;
        let Some(engine) = s.engine.as_mut() else {
            return;
        };
        engine.ping_due = true;
        let arm = timeout > 0 && engine.timeout_armed.is_none();
        if arm {
            engine.timeout_armed = Some(engine.input_seq);
        }
        let ivl = Duration::from_millis(ivl as u64);
        self.add_timer(token, gen, ivl, TimerKind::HeartbeatIvl);
        if arm {
            let after = Duration::from_millis(timeout as u64);
            self.add_timer(token, gen, after, TimerKind::HeartbeatTimeout);
        }
        self.drive(token);
    }

    // ---- ZAP (RFC 27) ---------------------------------------------------

    /// Sends the handshake's ZAP request, if it has one, to the handler
    /// bound at `inproc://zeromq.zap.01` over a pipe of this session's own.
    /// Returns whether the handshake moved on without a handler.
    fn start_zap(&mut self, token: usize) -> Result<bool, HandshakeError> {
        let io = self.shared.clone();
        let Some(s) = self.session(token) else {
            return Ok(false);
        };
        let Some(engine) = s.engine.as_mut() else {
            return Ok(false);
        };
        let Some(req) = engine.handshake.as_mut().and_then(Handshake::take_zap_request) else {
            return Ok(false);
        };
        let o = &s.spec.options;
        if req.mechanism == b"CURVE" && o.zap_enforce_domain && o.zap_domain.is_empty() {
            // libzmq's CURVE skips ZAP when enforcing with no domain.
            let hs = engine.handshake.as_mut().expect("asked above");
            hs.zap_unavailable(false)?;
            return Ok(true);
        }
        let Some(handler) = o.ctx.find_inproc("zeromq.zap.01") else {
            let hs = engine.handshake.as_mut().expect("asked above");
            hs.zap_unavailable(o.zap_enforce_domain)?;
            return Ok(true);
        };
        let (mut mine, theirs) = Pipe::pair([0, 0]);
        mine.set_waker(Arc::new(SessionWaker { io, token }));
        if handler.socket_type.recv_routing_id() {
            let mut id = Msg::new();
            id.set_flags(flags::ROUTING_ID);
            let _ = mine.write(id);
        }
        let address = engine.stream.peer_address().unwrap_or_default();
        for frame in handshake::zap_request_frames(&req, &o.zap_domain, &address, &o.routing_id) {
            let _ = mine.write(frame);
        }
        mine.flush();
        // A read that finds nothing arms the reply's wake-up; nothing can be
        // there yet, as the handler does not have the pipe before the next
        // line.
        let early = mine.read();
        debug_assert!(early.is_none());
        handler.mailbox.attach(theirs);
        s.zap = Some(mine);
        s.zap_reply.clear();
        Ok(false)
    }

    /// The ZAP handler's pipe moved: once its whole reply is in, the
    /// handshake goes on or fails.
    fn zap_event(&mut self, token: usize, event: PipeEvent) {
        let Some(s) = self.session(token) else {
            return;
        };
        let Some(zap) = s.zap.as_mut() else {
            return;
        };
        zap.activate(event.kind);
        let mut complete = false;
        while let Some(frame) = zap.read() {
            let more = frame.more();
            if frame.flags() & flags::ROUTING_ID == 0 {
                s.zap_reply.push(frame);
            }
            if !more {
                complete = true;
                break;
            }
        }
        if !complete {
            if zap.is_peer_closed() {
                // The handler went away without answering.
                s.end_zap();
                return self.handshake_failed(token, HandshakeError::Zap(0x2000_0000));
            }
            return;
        }
        let frames = std::mem::take(&mut s.zap_reply);
        s.end_zap();
        let Some(hs) = s.engine.as_mut().and_then(|e| e.handshake.as_mut()) else {
            return;
        };
        match handshake::parse_zap_reply(&frames).and_then(|reply| hs.zap_reply(reply)) {
            Ok(()) => self.drive(token),
            Err(e) => self.handshake_failed(token, e),
        }
    }

    /// A NULL handshake held by ZAP: reported now; the connection stays
    /// until the handshake timer ends it (libzmq).
    fn handshake_stalled(&mut self, token: usize, auth: Option<u32>) {
        let Some(s) = self.session(token) else {
            return;
        };
        let Some(engine) = s.engine.as_ref() else {
            return;
        };
        let (ev, value) = match auth {
            Some(code) => (event::HANDSHAKE_FAILED_AUTH, u64::from(code)),
            None => (event::HANDSHAKE_FAILED_NO_DETAIL, libc::EFAULT as u64),
        };
        s.spec.monitor.event(ev, value, &engine.endpoint);
    }

    /// Ends a connection whose handshake failed, after a last try at
    /// sending what the handshake had to say (an ERROR command).
    fn handshake_failed(&mut self, token: usize, e: HandshakeError) {
        if let HandshakeError::Stalled { auth } = e {
            return self.handshake_stalled(token, auth);
        }
        let Some(s) = self.session(token) else {
            return;
        };
        if let Some(engine) = s.engine.as_mut() {
            if let Some(hs) = engine.handshake.as_mut() {
                hs.take_output(&mut engine.out);
            }
            engine.flush_best_effort();
        }
        self.engine_closed(token, Closed::Handshake(e));
    }

    fn handshake_done(&mut self, token: usize, mut peer: handshake::PeerInfo) {
        let io = self.shared.clone();
        let Some(s) = self.session(token) else {
            return;
        };
        s.timer_gen += 1; // cancels the handshake timer
        let engine = s.engine.as_mut().expect("handshaking engine");
        s.spec
            .monitor
            .event(event::HANDSHAKE_SUCCEEDED, 0, &engine.endpoint);
        engine.wire = peer.wire;
        engine.cipher = peer.cipher.take();
        engine.sub_commands = peer.wire == Wire::V3 && peer.minor >= 1;
        let heartbeat_ivl = s.spec.options.heartbeat_ivl;
        if peer.wire == Wire::V3 && heartbeat_ivl > 0 {
            let after = Duration::from_millis(heartbeat_ivl as u64);
            let gen = s.timer_gen;
            self.add_timer(token, gen, after, TimerKind::HeartbeatIvl);
        }
        let Some(s) = self.session(token) else {
            return;
        };
        let engine = s.engine.as_mut().expect("handshaking engine");
        if peer.wire == Wire::V1 {
            engine.decoder = FrameDecoder::V1(V1Decoder::new(engine.maxmsgsize));
        }
        let mut md = Metadata::new();
        for (k, v) in &peer.properties {
            md.insert(k, v);
        }
        if let Some(addr) = engine.stream.peer_address() {
            md.insert("Peer-Address", addr.as_bytes());
        }
        // libzmq's private property behind ZMQ_SRCFD.
        md.insert("__fd", engine.stream.raw_fd().to_string().as_bytes());
        engine.metadata = Some(Arc::new(md));
        if engine.cipher.is_none() && engine.wire != Wire::Raw {
            s.gate.open(engine.stream.raw_fd(), engine.wire);
            engine.gate = Some(s.gate.clone());
        }
        if let Some(pipe) = &s.pipe {
            if s.handshakes > 0 {
                // A reconnection on a pipe that outlived the last one: the
                // socket re-sends what the new peer must know (subscriptions).
                s.spec.socket.0.send(Command::Hiccup(pipe.peer_id()));
            }
        } else {
            // Accepted (or immediate) connections get their pipe now.
            let o = &s.spec.options;
            let (mine, theirs) = Pipe::pair([o.rcvhwm.max(0) as u64, o.sndhwm.max(0) as u64]);
            theirs.set_conflate(o.conflate.0, o.conflate.1);
            mine.set_waker(Arc::new(SessionWaker { io, token }));
            mine.set_direct(s.gate.clone());
            s.pipe = Some(mine);
            s.spec.socket.attach(theirs);
        }
        // Every frame this connection delivers, from the first (a STREAM
        // connect notification, a routing id) on, carries its metadata, not
        // a previous connection's: the pipe attaches it from now on.
        if let Some(pipe) = s.pipe.as_mut() {
            pipe.set_write_metadata(engine.metadata.as_ref());
        }
        let publisher = matches!(
            s.spec.options.socket_type,
            SocketType::Pub | SocketType::XPub
        );
        if peer.wire == Wire::V1 && publisher {
            // ZMTP 1.0 subscribers filter for themselves and send nothing:
            // they get everything (libzmq does the same).
            let pipe = s.pipe.as_mut().expect("pipe attached above");
            let _ = pipe.write(Msg::subscription(true, b""));
            pipe.flush();
        }
        s.handshakes += 1;
        let socket_type = s.spec.options.socket_type;
        if s.spec.options.raw {
            if s.spec.options.stream_notify {
                // An empty message tells the application a peer connected.
                let pipe = s.pipe.as_mut().expect("pipe attached above");
                let _ = pipe.write(Msg::new());
                pipe.flush();
            }
        } else if socket_type.recv_routing_id() {
            let mut id = Msg::from_vec(peer.identity.clone());
            id.set_flags(flags::ROUTING_ID);
            let pipe = s.pipe.as_mut().expect("pipe attached above");
            let _ = pipe.write(id);
            pipe.flush();
        }
    }

    fn engine_closed(&mut self, token: usize, how: Closed) {
        let Some(Object::Session(s)) = self.objects.get_mut(token) else {
            return;
        };
        s.end_zap();
        let mut was_up = false;
        if let Some(mut engine) = s.engine.take() {
            was_up = engine.is_up();
            let _ = self.poll.registry().deregister(engine.stream.source());
            if engine.socks.is_some() {
                // The proxy failed us: libzmq's socks connecter reports the
                // descriptor closed, not a disconnection.
                let fd = engine.stream.raw_fd() as u64;
                s.spec.monitor.event(event::CLOSED, fd, &engine.endpoint);
            } else if !engine.connecting && !matches!(how, Closed::Finished) {
                let monitor = &s.spec.monitor;
                let ep = &engine.endpoint;
                // A MESSAGE that fails to open is reported as a handshake
                // failure too, as libzmq does.
                if engine.handshake.is_some() || matches!(how, Closed::Handshake(_)) {
                    match &how {
                        Closed::Handshake(HandshakeError::Framing) => {}
                        Closed::Handshake(HandshakeError::Auth(code)) => {
                            monitor.event(event::HANDSHAKE_FAILED_AUTH, u64::from(*code), ep)
                        }
                        Closed::Handshake(HandshakeError::NoZapHandler) => monitor.event(
                            event::HANDSHAKE_FAILED_NO_DETAIL,
                            libc::EFAULT as u64,
                            ep,
                        ),
                        Closed::Handshake(e) => monitor.event(
                            event::HANDSHAKE_FAILED_PROTOCOL,
                            u64::from(e.protocol_error_code()),
                            ep,
                        ),
                        Closed::Protocol => {}
                        _ if engine.handshake.as_ref().is_some_and(Handshake::refused) => {}
                        _ => monitor.event(
                            event::HANDSHAKE_FAILED_NO_DETAIL,
                            engine.errno as u64,
                            ep,
                        ),
                    }
                }
                let fd = engine.stream.raw_fd() as u64;
                monitor.event(event::DISCONNECTED, fd, ep);
            }
            if engine.out_more {
                // The rest of a half-sent message must not start the next
                // connection's stream.
                s.skip_out_rest = true;
            }
        }
        let raw_notify = s.spec.options.raw
            && s.spec.options.stream_notify
            && was_up
            && !matches!(how, Closed::Finished);
        if let Some(pipe) = s.pipe.as_mut() {
            pipe.rollback();
            if raw_notify {
                // An empty message tells the application the peer left.
                let _ = pipe.write(Msg::new());
            }
            pipe.flush();
        }
        s.timer_gen += 1;
        let finished = matches!(
            how,
            Closed::Finished | Closed::Protocol | Closed::Handshake(_)
        ) || (s.closing && matches!(s.kind, SessionKind::Accepted));
        if s.closing && !finished {
            // Lingering: keep trying to deliver until the linger expires.
            self.schedule_reconnect(token);
            return;
        }
        if !finished && s.pipe.as_ref().is_some_and(|p| p.is_peer_closed()) {
            // The socket closed while this connection was failing.
            let linger = s.pipe.as_ref().map_or(0, |p| p.peer_close_linger());
            if !matches!(s.kind, SessionKind::Accepted) {
                self.start_closing(token, linger);
                if self.session(token).is_some() {
                    self.schedule_reconnect(token);
                }
                return;
            }
        }
        match &s.kind {
            SessionKind::Accepted => self.remove_session(token),
            SessionKind::Connecting { immediate, .. } => {
                if finished {
                    return self.remove_session(token);
                }
                if *immediate {
                    if let Some(mut pipe) = s.pipe.take() {
                        pipe.close_write();
                        pipe.close_read();
                    }
                }
                self.schedule_reconnect(token);
            }
        }
    }

    /// The socket closed its end of the pipe: deliver for `linger` ms at
    /// most (-1: until done), then go.
    fn start_closing(&mut self, token: usize, linger: i32) {
        let Some(s) = self.session(token) else {
            return;
        };
        s.closing = true;
        if s.linger_started {
            return;
        }
        s.linger_started = true;
        let idle = !s.delivering() && s.pipe.as_mut().is_none_or(|p| !p.check_read());
        if linger == 0 || idle {
            return self.remove_session(token);
        }
        if linger > 0 {
            // The session's current generation: a linger deadline is checked
            // only against the session it belongs to (see `fire_timers`),
            // and the timers already set (a reconnection the session waits
            // for, say) stay alive, so that it goes on trying to deliver.
            let gen = s.timer_gen;
            self.add_timer(
                token,
                gen,
                Duration::from_millis(linger as u64),
                TimerKind::Linger,
            );
        }
    }

    fn remove_session(&mut self, token: usize) {
        if !matches!(self.objects.get(token), Some(Object::Session(_))) {
            return;
        }
        let Object::Session(mut s) = self.objects.remove(token) else {
            unreachable!("checked above")
        };
        if let Some(mut engine) = s.engine.take() {
            let _ = self.poll.registry().deregister(engine.stream.source());
        }
        if let Some(mut pipe) = s.pipe.take() {
            pipe.close_write();
            pipe.close_read();
        }
        s.end_zap();
    }

    /// Ends the listener or connecter of an endpoint and its sessions. When
    /// the socket closes the pipes itself (it is closing, or disconnecting),
    /// a session with a pipe stays: the close reaches it through that pipe,
    /// after the messages queued before it, which it delivers within the
    /// socket's linger (as libzmq's sessions do when their owner terminates
    /// them).
    fn end_endpoint(&mut self, id: u64, pipes_closed: bool) {
        let tokens: Vec<usize> = self
            .objects
            .iter()
            .filter(|(_, o)| match o {
                Object::Listener(l) => l.spec.endpoint_id == id,
                Object::Session(s) => {
                    s.spec.endpoint_id == id && !(pipes_closed && s.pipe.is_some())
                }
            })
            .map(|(k, _)| k)
            .collect();
        for token in tokens {
            match self.objects.remove(token) {
                Object::Listener(l) => self.close_listener(*l),
                Object::Session(s) => {
                    self.objects.insert_at(token, Object::Session(s));
                    self.remove_session(token);
                }
            }
        }
    }
}

/// Slab insertion at a given key (used to put back a just-removed object).
trait InsertAt<T> {
    fn insert_at(&mut self, key: usize, value: T);
}

impl<T> InsertAt<T> for Slab<T> {
    fn insert_at(&mut self, key: usize, value: T) {
        let entry = self.vacant_entry();
        debug_assert_eq!(entry.key(), key);
        entry.insert(value);
    }
}

enum Progress {
    Running,
    HandshakeDone(handshake::PeerInfo),
}

impl Session {
    /// Whether messages can flow now (connected and past the handshake).
    fn delivering(&self) -> bool {
        self.engine.as_ref().is_some_and(Engine::is_up)
    }

    /// Runs the engine as far as it can go without blocking.
    fn pump(&mut self) -> Result<Progress, Closed> {
        let engine = self.engine.as_mut().ok_or(Closed::Dropped)?;
        if engine.connecting {
            return Ok(Progress::Running);
        }
        if engine.raw_ready {
            // A STREAM connection is ready as soon as it is connected.
            engine.raw_ready = false;
            return Ok(Progress::HandshakeDone(handshake::PeerInfo {
                socket_type: None,
                identity: Vec::new(),
                properties: Vec::new(),
                minor: 0,
                wire: Wire::Raw,
                cipher: None,
            }));
        }
        // Input first: the handshake may complete.
        if let Some(done) = self.read_input()? {
            return Ok(Progress::HandshakeDone(done));
        }
        self.write_output()?;
        Ok(Progress::Running)
    }

    /// Reads and decodes until the stream is drained or the pipe is full.
    fn read_input(&mut self) -> Result<Option<handshake::PeerInfo>, Closed> {
        loop {
            if let Some(done) = self.process_input()? {
                return Ok(Some(done));
            }
            let engine = self.engine.as_mut().expect("checked by pump");
            if engine.pending_in.is_some() {
                return Ok(None); // stalled until the socket reads
            }
            if engine
                .handshake
                .as_ref()
                .is_some_and(Handshake::waiting_for_zap)
            {
                return Ok(None); // the rest waits for the ZAP handler
            }
            if !engine.readable {
                return Ok(None); // nothing new until the next readable event
            }
            let fd = engine.stream.raw_fd();
            let pipe = self.pipe.as_mut().filter(|_| engine.handshake.is_none());
            if let Some(pipe) = pipe {
                // In a large body: read straight into it, no bounce buffer.
                if let Some((body, at, room)) = engine.decoder.body_space() {
                    // Into the body's buffer, unwritten so far: no zeroing
                    // pass over it first.
                    // SAFETY: the decoder's buffer is ours alone and has
                    // `room` bytes from `at`.
                    let result = unsafe { crate::sys::read_raw(fd, body.data_ptr().add(at), room) };
                    let frame = engine.decoder.commit_body(*result.as_ref().unwrap_or(&0));
                    match result {
                        Ok(0) => return Err(Closed::Dropped),
                        Ok(_) => engine.input_seq += 1,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            engine.readable = false;
                            return Ok(None);
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return Err(Closed::Dropped),
                    }
                    if let Some(frame) = frame {
                        deliver(engine, pipe, self.spec.options.socket_type, frame)?;
                        pipe.flush();
                    }
                    continue;
                }
            }
            engine.in_pos = 0;
            engine.in_len = 0;
            if engine.inbuf.size() < READ_CHUNK || !engine.inbuf.is_unique() {
                // Frames still share the old buffer: read into a new one.
                engine.inbuf = Msg::read_buffer(READ_CHUNK).map_err(|_| Closed::Dropped)?;
            }
            let want = if engine.large_in { SMALL_READ } else { READ_CHUNK };
            // SAFETY: the buffer is ours alone (checked above) and holds
            // READ_CHUNK bytes.
            let result = unsafe { crate::sys::read_raw(fd, engine.inbuf.data_ptr(), want) };
            match result {
                Ok(0) => {
                    engine.errno = libc::EPIPE;
                    return Err(Closed::Dropped);
                }
                Ok(n) => {
                    engine.in_len = n;
                    engine.input_seq += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    engine.readable = false;
                    return Ok(None);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    engine.errno = e.raw_os_error().unwrap_or(0);
                    return Err(Closed::Dropped);
                }
            }
        }
    }

    /// Consumes buffered input: handshake bytes, then frames into the pipe.
    fn process_input(&mut self) -> Result<Option<handshake::PeerInfo>, Closed> {
        let engine = self.engine.as_mut().expect("checked by pump");
        if let Some(socks) = engine.socks.as_mut() {
            // The proxy first; ZMTP starts once it has connected us.
            let used = socks
                .handle_input(&engine.inbuf.filled(engine.in_len)[engine.in_pos..])
                .map_err(|_| Closed::Dropped)?;
            engine.in_pos += used;
            socks.take_output(&mut engine.out);
            if !socks.is_done() {
                return Ok(None);
            }
            engine.socks = None;
            let fd = engine.stream.raw_fd() as u64;
            self.spec
                .monitor
                .event(event::CONNECTED, fd, &engine.endpoint);
        }
        if let Some(hs) = engine.handshake.as_mut() {
            let result = hs.handle_input(&engine.inbuf.filled(engine.in_len)[engine.in_pos..]);
            hs.take_output(&mut engine.out);
            engine.in_pos += result.map_err(Closed::Handshake)?;
            if let Some(peer) = hs.take_peer() {
                engine.handshake = None;
                return Ok(Some(peer));
            }
            return Ok(None);
        }
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(None);
        };
        // A frame parked by a full pipe goes first, and is flushed with what
        // follows (or alone, if the buffer holds nothing more).
        let mut pushed = false;
        if let Some(frame) = engine.pending_in.take() {
            if !push_frame(pipe, engine, frame) {
                return Ok(None);
            }
            pushed = true;
        }
        let slice = engine.in_len >= SLICE_MIN;
        // Short single frames go from the input to the pipe's queue as
        // bytes, with no message built and dropped on the way; commands,
        // CURVE and REQ's envelope checks take the way through `deliver`.
        let short = engine.cipher.is_none() && self.spec.options.socket_type != SocketType::Req;
        while engine.in_pos < engine.in_len {
            if let (true, FrameDecoder::V3(d)) = (short, &engine.decoder) {
                let data = &engine.inbuf.filled(engine.in_len)[engine.in_pos..];
                if let Some((frame_flags, len)) = d.short_frame(data, COMPACT_MAX) {
                    if engine.in_more || pipe.check_write() {
                        if pipe.write_bytes(frame_flags, &data[2..], len) {
                            engine.in_more = false;
                            engine.large_in = false;
                            engine.in_pos += 2 + len;
                            pushed = true;
                            continue;
                        }
                    }
                }
            }
            let (n, frame) = engine
                .decoder
                .decode(&engine.inbuf, engine.in_pos, engine.in_len, slice)
                .map_err(|_| Closed::Protocol)?;
            engine.in_pos += n;
            let Some(frame) = frame else {
                continue;
            };
            pushed = true;
            if !deliver(engine, pipe, self.spec.options.socket_type, frame)? {
                break;
            }
        }
        if pushed {
            pipe.flush();
        }
        Ok(None)
    }

    /// Moves messages from the pipe into the output buffer, up to a batch.
    fn fill_output(&mut self) {
        let engine = self.engine.as_mut().expect("checked by pump");
        let Some(pipe) = self.pipe.as_mut() else {
            return;
        };
        if engine.handshake.is_some() || engine.out_body.is_some() {
            return;
        }
        if engine.ping_due {
            // Between frames, never inside one.
            engine.ping_due = false;
            let ttl = (self.spec.options.heartbeat_ttl / 100) as u16;
            engine.put_command(&ZmtpCommand::Ping {
                ttl,
                context: Vec::new(),
            });
        }
        // Small frames go from the pipe's queue to the output as bytes, with
        // no message built and dropped on the way.
        let short = engine.cipher.is_none() && matches!(engine.wire, Wire::V2 | Wire::V3);
        let refused = if engine.sub_commands { flags::SUBSCRIPTION } else { 0 };
        let mut gathers = 0;
        while engine.out.len() - engine.out_pos < WRITE_BATCH {
            if short && !self.skip_out_rest {
                let out = &mut engine.out;
                if let Some(more) = pipe.read_small(refused, |small| put_short(out, &small)) {
                    engine.out_more = more;
                    continue;
                }
                if pipe.is_dry() {
                    let pending = engine.out.len() - engine.out_pos;
                    if pending > 0 && pending < GATHER_BATCH && gathers < GATHER_LOOKS {
                        gathers += 1;
                        std::thread::yield_now();
                        if pipe.look_again() {
                            continue;
                        }
                    }
                    if pipe.refill_in_place() {
                        continue;
                    }
                }
            }
            let Some(msg) = pipe.read() else {
                break;
            };
            if self.skip_out_rest {
                self.skip_out_rest = msg.more();
                continue;
            }
            engine.out_more = msg.more();
            if engine.sub_commands && msg.flags() & flags::SUBSCRIPTION != 0 {
                if let Some((&kind, topic)) = msg.data().split_first() {
                    let topic = topic.to_vec();
                    let cmd = if kind == 1 {
                        ZmtpCommand::Subscribe(topic)
                    } else {
                        ZmtpCommand::Cancel(topic)
                    };
                    engine.put_command(&cmd);
                    continue;
                }
            }
            if msg.size() >= DIRECT_WRITE && engine.cipher.is_none() {
                // Header now; the body goes out from the message itself.
                encode_header_wire(engine.wire, &mut engine.out, &msg);
                engine.out_body = Some((msg, 0));
                break;
            }
            engine.put_msg(&msg);
        }
        if pipe.is_in_closed() {
            self.closing = true;
        }
    }

    /// Fills the output from the pipe and writes it out, refilling as the
    /// stream takes it.
    fn write_output(&mut self) -> Result<(), Closed> {
        let engine = self.engine.as_mut().expect("checked by pump");
        if engine.gate_idle {
            // Application threads may have written: stop them, and send
            // what a short direct write left first.
            engine.gate_idle = false;
            if let Some(gate) = &engine.gate {
                gate.busy(&mut engine.out, &mut engine.out_pos);
            }
        }
        self.fill_output();
        loop {
            let engine = self.engine.as_mut().expect("checked by pump");
            let head = &engine.out[engine.out_pos..];
            let body = match &engine.out_body {
                Some((msg, off)) => &msg.data()[*off..],
                None => &[][..],
            };
            if head.is_empty() && engine.out_body.is_none() {
                engine.out.clear();
                engine.out_pos = 0;
                self.fill_output();
                let engine = self.engine.as_mut().expect("checked by pump");
                if engine.out.is_empty() && engine.out_body.is_none() {
                    break;
                }
                continue;
            }
            if !engine.writable {
                return Ok(()); // the rest waits for the next writable event
            }
            // The batch and a large body after it go in one system call
            // (sendmsg, with MSG_NOSIGNAL as every write here: writev(2)
            // would raise SIGPIPE in the application for a vanished peer).
            let total = head.len() + body.len();
            let result = if body.is_empty() {
                engine.stream.write(head)
            } else {
                crate::sys::send_parts_nonblocking(engine.stream.raw_fd(), &[head, body])
            };
            match result {
                Ok(0) => return Err(Closed::Dropped),
                Ok(n) => {
                    engine.writable = n == total;
                    let from_head = n.min(head.len());
                    engine.out_pos += from_head;
                    if let Some((msg, off)) = &mut engine.out_body {
                        *off += n - from_head;
                        if *off == msg.size() {
                            engine.out_body = None;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    engine.writable = false;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Closed::Dropped),
            }
        }
        let engine = self.engine.as_mut().expect("checked by pump");
        // Done only when the handshake is over, the socket's delimiter has
        // been read and everything before it written.
        let drained = self.pipe.as_ref().is_some_and(|p| p.is_in_closed());
        if engine.handshake.is_none() && drained && engine.out.is_empty() {
            return Err(Closed::Finished);
        }
        // All written (the loop ends only so), and the pipe empty: replies
        // may go out directly.
        let idle = !engine.ping_due
            && !self.skip_out_rest
            && !self.closing
            && self.pipe.as_ref().is_some_and(Pipe::is_read_asleep);
        if idle {
            if let Some(gate) = &engine.gate {
                gate.idle();
                engine.gate_idle = true;
            }
        }
        Ok(())
    }
}

/// Hands a decoded frame on: commands are answered or refused, data goes to
/// the pipe with the connection's metadata. Returns `false` when the pipe is
/// full (input stalls).
#[inline]
fn deliver(
    engine: &mut Engine,
    pipe: &mut Pipe,
    socket_type: SocketType,
    mut frame: Msg,
) -> Result<bool, Closed> {
    if let Some(cipher) = engine.cipher.as_mut() {
        frame = cipher.decrypt(&frame).map_err(Closed::Handshake)?;
    }
    if frame.flags() & flags::COMMAND != 0 {
        if engine.wire != Wire::V3 {
            return Err(Closed::Protocol);
        }
        match ZmtpCommand::load(frame.data()) {
            Ok(ZmtpCommand::Ping { ttl, context }) => {
                if ttl > 0 && engine.ttl_armed.is_none() {
                    engine.ttl_pending = Some(u64::from(ttl) * 100);
                }
                engine.put_command(&ZmtpCommand::Pong(context));
            }
            Ok(ZmtpCommand::Error(_)) | Err(_) => return Err(Closed::Protocol),
            // ZMTP 3.1 subscriptions reach the socket as RFC 29 messages.
            Ok(ZmtpCommand::Subscribe(topic)) => {
                return Ok(push_frame(pipe, engine, Msg::subscription(true, &topic)));
            }
            Ok(ZmtpCommand::Cancel(topic)) => {
                return Ok(push_frame(pipe, engine, Msg::subscription(false, &topic)));
            }
            Ok(_) => {}
        }
        return Ok(true);
    }
    if socket_type == SocketType::Req {
        engine.req_state = engine.req_state.next(&frame).ok_or(Closed::Protocol)?;
    }
    engine.large_in = frame.size() >= LARGE_FRAME;
    Ok(push_frame(pipe, engine, frame))
}

/// Encodes a message frame's header in the connection's framing.
pub(crate) fn encode_header_wire(wire: Wire, out: &mut Vec<u8>, msg: &Msg) {
    match wire {
        Wire::V1 => v1::encode_header(out, msg.size(), msg.more()),
        Wire::Raw => {}
        Wire::V2 | Wire::V3 => {
            crate::zmtp::codec::encode_header(out, msg.size(), msg.more(), false)
        }
    }
}

/// Appends a small frame from a pipe's queue to `out` in ZMTP 2/3 framing
/// (it is at most [`crate::ypipe::COMPACT_MAX`] bytes: a 2-byte header),
/// its body copied with the queue's fixed-size copies. Whether more frames
/// follow.
#[inline]
fn put_short(out: &mut Vec<u8>, small: &Small<'_>) -> bool {
    let len = small.body.len();
    debug_assert!(len <= 255 && small.padded >= len);
    let n = out.len();
    out.reserve(2 + small.padded);
    // SAFETY: `2 + padded` bytes are reserved past `n`; `padded` bytes from
    // the body's start are readable (`Small`); only the header and the
    // body's `len` bytes are counted in.
    unsafe {
        let dst = out.as_mut_ptr().add(n);
        *dst = frame_flags(small.flags);
        *dst.add(1) = len as u8;
        copy_region(small.body.as_ptr(), dst.add(2), small.padded);
        out.set_len(n + 2 + len);
    }
    small.flags & flags::MORE != 0
}

/// Encodes a message frame in the connection's framing.
fn encode_wire(wire: Wire, out: &mut Vec<u8>, msg: &Msg) {
    match wire {
        Wire::V1 => v1::encode_frame(out, msg),
        Wire::Raw => out.extend_from_slice(msg.data()),
        Wire::V2 | Wire::V3 => encode_frame(out, msg),
    }
}

/// Writes a frame to the pipe, checking the HWM at message starts; parks it
/// (stalling input) if the pipe is full.
#[inline]
fn push_frame(pipe: &mut Pipe, engine: &mut Engine, frame: Msg) -> bool {
    if !engine.in_more && !pipe.check_write() {
        if pipe.is_peer_gone() {
            // The socket is gone: nothing more will be read.
            return true;
        }
        engine.pending_in = Some(frame);
        return false;
    }
    engine.in_more = frame.more();
    if let Err(frame) = pipe.write(frame) {
        drop(frame);
    }
    true
}

/// Starts a non-blocking tcp connect, from `source` if given.
fn connect_tcp(dest: SocketAddr, source: Option<SocketAddr>) -> io::Result<TcpStream> {
    let Some(source) = source else {
        let s = TcpStream::connect(dest)?;
        let _ = s.set_nodelay(true);
        return Ok(s);
    };
    let s = crate::sys::tcp_connect_from(source, dest)?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

fn connect_ipc(addr: &IpcAddr) -> io::Result<UnixStream> {
    match addr {
        IpcAddr::Path(p) => UnixStream::connect(p),
        IpcAddr::Abstract(name) => {
            use std::os::linux::net::SocketAddrExt;
            let sa = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            UnixStream::connect_addr(&sa)
        }
    }
}
