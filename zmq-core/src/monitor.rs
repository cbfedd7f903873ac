//! Socket monitoring (`zmq_socket_monitor(3)`).
//!
//! libzmq: `socket_base_t::monitor` and `event_*`. A monitored socket owns a
//! PAIR socket bound to the inproc endpoint the application names; events
//! are sent on it from whichever thread sees them (the application's for
//! binds and closes, the I/O thread's for connections) under a lock, as
//! libzmq does. Version 1 events are two frames: 16-bit event and 32-bit
//! value in host order, then the endpoint. An event that cannot be queued
//! (nobody connected yet, or the monitor's HWM reached) is dropped rather
//! than blocking the thread that saw it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::{send_flags, Socket, SocketType};

/// The event numbers of `zmq.h` (`ZMQ_EVENT_*`).
pub mod event {
    pub const CONNECTED: u64 = 0x0001;
    pub const CONNECT_DELAYED: u64 = 0x0002;
    pub const CONNECT_RETRIED: u64 = 0x0004;
    pub const LISTENING: u64 = 0x0008;
    pub const BIND_FAILED: u64 = 0x0010;
    pub const ACCEPTED: u64 = 0x0020;
    pub const ACCEPT_FAILED: u64 = 0x0040;
    pub const CLOSED: u64 = 0x0080;
    pub const CLOSE_FAILED: u64 = 0x0100;
    pub const DISCONNECTED: u64 = 0x0200;
    pub const MONITOR_STOPPED: u64 = 0x0400;
    pub const HANDSHAKE_FAILED_NO_DETAIL: u64 = 0x0800;
    pub const HANDSHAKE_SUCCEEDED: u64 = 0x1000;
    pub const HANDSHAKE_FAILED_PROTOCOL: u64 = 0x2000;
    pub const HANDSHAKE_FAILED_AUTH: u64 = 0x4000;
}

struct Sink {
    socket: Socket,
    events: u64,
    version: i32,
}

#[derive(Default)]
struct Shared {
    /// The events asked for (0 when not monitoring): checked without the
    /// lock so unmonitored sockets pay one atomic load per event.
    mask: AtomicU64,
    sink: Mutex<Option<Sink>>,
}

/// A socket's monitor, shared with the sessions of its connections.
#[derive(Clone, Default)]
pub struct Monitor(Arc<Shared>);

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Monitor({:#x})", self.0.mask.load(Ordering::Relaxed))
    }
}

impl Monitor {
    /// Starts monitoring on `endpoint` (an inproc address the monitor binds)
    /// for the events in `events`, on a socket of `socket_type` (PAIR, PUB
    /// or PUSH). A monitor already running is replaced without a
    /// `MONITOR_STOPPED` event. Errors: `Invalid` (not an endpoint, a
    /// version other than 1 and 2, another type), `ProtocolNotSupported`
    /// (not inproc), the bind's errors (`AddrInUse`).
    pub fn start(
        &self,
        ctx: &Ctx,
        endpoint: &str,
        events: u64,
        version: i32,
        socket_type: i32,
    ) -> Result<()> {
        let publisher = [SocketType::Pair, SocketType::Pub, SocketType::Push]
            .into_iter()
            .any(|t| t as i32 == socket_type);
        // Version 1 has the 16 events of `ZMQ_EVENT_ALL`; version 2 adds
        // `ZMQ_EVENT_PIPES_STATS`.
        let known = if version == 1 { 0xffff } else { 0x1_ffff };
        if version != 1 && version != 2 || !publisher || events & !known != 0 {
            return Err(Error::Invalid);
        }
        let (proto, _) = endpoint.split_once("://").ok_or(Error::Invalid)?;
        if proto != "inproc" {
            return Err(Error::ProtocolNotSupported);
        }
        self.stop(false);
        // Its linger stays the default: the events it queued (the last one
        // being MONITOR_STOPPED) stay readable after it closes, and an inproc
        // pipe never holds up the context's termination.
        let mut socket = ctx.socket(socket_type)?;
        if let Err(e) = socket.bind(endpoint) {
            socket.close();
            return Err(e);
        }
        let mut sink = self.0.sink.lock().unwrap_or_else(|p| p.into_inner());
        *sink = Some(Sink {
            socket,
            events,
            version,
        });
        self.0.mask.store(events, Ordering::Release);
        Ok(())
    }

    /// Stops monitoring; with `notify`, a `MONITOR_STOPPED` event goes first
    /// (if asked for).
    pub fn stop(&self, notify: bool) {
        if notify {
            self.event(event::MONITOR_STOPPED, 0, "");
        }
        let sink = {
            let mut sink = self.0.sink.lock().unwrap_or_else(|p| p.into_inner());
            self.0.mask.store(0, Ordering::Release);
            sink.take()
        };
        if let Some(sink) = sink {
            sink.socket.close();
        }
    }

    /// Whether any of `events` is being monitored.
    pub fn wants(&self, events: u64) -> bool {
        self.0.mask.load(Ordering::Acquire) & events != 0
    }

    /// Publishes an event about `endpoint`: the address libzmq names for it
    /// in version 1 (a listener's or accepted connection's local address,
    /// the address a connection goes to). Version 2 carries it as the local
    /// endpoint, with an empty remote one.
    pub fn event(&self, ev: u64, value: u64, endpoint: &str) {
        if !self.wants(ev) {
            return;
        }
        let mut guard = self.0.sink.lock().unwrap_or_else(|p| p.into_inner());
        let Some(sink) = guard.as_mut() else {
            return;
        };
        if sink.events & ev == 0 {
            return;
        }
        let frames: Vec<Vec<u8>> = if sink.version == 1 {
            let mut head = Vec::with_capacity(6);
            head.extend_from_slice(&(ev as u16).to_ne_bytes());
            head.extend_from_slice(&(value as u32).to_ne_bytes());
            vec![head, endpoint.as_bytes().to_vec()]
        } else {
            vec![
                ev.to_ne_bytes().to_vec(),
                1u64.to_ne_bytes().to_vec(),
                value.to_ne_bytes().to_vec(),
                endpoint.as_bytes().to_vec(),
                Vec::new(),
            ]
        };
        let last = frames.len() - 1;
        for (i, frame) in frames.into_iter().enumerate() {
            let mut msg = Msg::from_vec(frame);
            let more = if i < last { send_flags::SNDMORE } else { 0 };
            if sink
                .socket
                .send(&mut msg, more | send_flags::DONTWAIT)
                .is_err()
            {
                // Nobody to take it (a later frame cannot fail once the
                // first is in: PAIR checks room at message starts only).
                return;
            }
        }
    }
}
